import EarshotWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OrganizerKit
import ServiceLifecycle
import Synchronization
import Testing

@testable import EarshotCLI

/// `earshot alerts …` and `earshot webhooks …` (the binary) against a real organizer in this
/// process, and a webhook receiver on loopback.
@Suite struct AlertsOrganizerTests {
    static func earshot(_ arguments: [String], _ organizer: RunningOrganizer) async throws -> ConsoleProcess.Outcome {
        try await ConsoleProcess.runAsync(arguments,
                                          environment: ["EARSHOT_ORGANIZER": organizer.baseURL, "EARSHOT_TOKEN": organizer.adminToken])
    }

    static func withOrganizer(_ body: (RunningOrganizer) async throws -> Void) async throws {
        try await ConsoleOrganizerTests.withOrganizer(body)
    }

    @Test func rulesAreSetListedRefusedAndReset() async throws {
        try await Self.withOrganizer { organizer in
            let set = try await Self.earshot(["alerts", "rules", "set", "mos_low", "--fire", "3.5", "--clear", "3.7", "--fire-after", "3",
                                              "--format", "json"], organizer)
            #expect(set.status == 0, "\(set.stderr)")
            let rule = try WireJSON.decoder().decode(AlertRule.self, from: Data(set.stdout.utf8))
            #expect(rule == AlertRule(name: .mosLow, severity: .warning, scope: .pair, fire: 3.5, clear: 3.7, fireAfter: 3, clearAfter: 3))

            let listed = try await Self.earshot(["alerts", "rules"], organizer)
            #expect(listed.status == 0, "\(listed.stderr)")
            let lines = listed.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "NAME                    ON   SEVERITY  SCOPE  FIRE  CLEAR  AFTER  FLAP      EXTRA")
            #expect(lines.contains("mos_low                 yes  warning   pair    3.5    3.7  3/3    4 in 30m"))
            #expect(lines.count == AlertRuleName.allCases.count + 1)

            // The organizer checks the whole rule: clear below fire is the wrong side for MOS.
            let wrong = try await Self.earshot(["alerts", "rules", "set", "mos_low", "--fire", "4"], organizer)
            #expect(wrong.status == 1)
            #expect(wrong.stderr.hasPrefix("error: the organizer answered PUT /v1/alert-rules/mos_low with 400"))

            let reset = try await Self.earshot(["alerts", "rules", "reset", "mos_low", "--format", "json"], organizer)
            #expect(reset.status == 0, "\(reset.stderr)")
            #expect(try WireJSON.decoder().decode(AlertRule.self, from: Data(reset.stdout.utf8)) == AlertRule.defaultRule(.mosLow))
        }
    }

    @Test func silencesAreCreatedListedAndEnded() async throws {
        try await Self.withOrganizer { organizer in
            let none = try await Self.earshot(["alerts", "list"], organizer)
            #expect(none.status == 0, "\(none.stderr)")
            #expect(none.stdout == "no alerts match (resolved ones too: earshot alerts list --state all)\n")

            let made = try await Self.earshot(["alerts", "silence", "--agent", "alice", "--rule", "mos_low", "--for", "2h",
                                               "--comment", "router swap", "--format", "json"], organizer)
            #expect(made.status == 0, "\(made.stderr)")
            let silence = try WireJSON.decoder().decode(Silence.self, from: Data(made.stdout.utf8))
            #expect(silence.matchers == SilenceMatchers(rule: .mosLow, agent: "alice"))
            #expect(silence.comment == "router swap")
            #expect(abs(silence.endsAt.timeIntervalSince(silence.createdAt) - 7_200) < 1)

            let active = try await Self.earshot(["alerts", "silences", "--format", "json"], organizer)
            #expect(try WireJSON.decoder().decode([Silence].self, from: Data(active.stdout.utf8)).map(\.id) == [silence.id])
            let ended = try await Self.earshot(["alerts", "unsilence", silence.id], organizer)
            #expect(ended.status == 0, "\(ended.stderr)")
            #expect(ended.stdout == "unsilenced \(silence.id)\n")
            let after = try await Self.earshot(["alerts", "silences", "--format", "json"], organizer)
            #expect(try WireJSON.decoder().decode([Silence].self, from: Data(after.stdout.utf8)).isEmpty)
        }
    }

    @Test func webhookAddedListedTestedVerifiedAndDeleted() async throws {
        let receiver = try await TestReceiver.start()
        do {
            try await exercise(receiver)
        } catch {
            await receiver.shutdown()
            throw error
        }
        await receiver.shutdown()
    }

    func exercise(_ receiver: TestReceiver) async throws {
        try await Self.withOrganizer { organizer in
            let added = try await Self.earshot(["webhooks", "add", "ops", "--url", receiver.url], organizer)
            #expect(added.status == 0, "\(added.stderr)")
            let lines = added.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines[0].hasPrefix("added webhook ops (wh_"))
            #expect(lines[0].hasSuffix("): native to \(receiver.url)"))
            #expect(lines[1] == "signing secret (shown once; store it with the receiver):")
            let secret = lines[2]
            #expect(secret.hasPrefix("whsec_") && secret.count > 20)

            // --format is the output's (JSON for scripts: the secret once), --payload what the receiver gets.
            let second = try await Self.earshot(["webhooks", "add", "am", "--url", receiver.url, "--payload", "alertmanager",
                                                 "--format", "json"], organizer)
            #expect(second.status == 0, "\(second.stderr)")
            let am = try WireJSON.decoder().decode(WebhookEndpointInfo.self, from: Data(second.stdout.utf8))
            #expect(am.name == "am")
            #expect(am.format == .alertmanager)
            #expect(am.secret?.hasPrefix("whsec_") == true)
            #expect(try await Self.earshot(["webhooks", "delete", "am"], organizer).status == 0)

            let listed = try await Self.earshot(["webhooks", "list", "--format", "json"], organizer)
            let endpoints = try WireJSON.decoder().decode([WebhookEndpointInfo].self, from: Data(listed.stdout.utf8))
            #expect(endpoints.map(\.name) == ["ops"])
            #expect(endpoints.first?.secret == nil)
            let table = try await Self.earshot(["webhooks", "list"], organizer)
            #expect(table.stdout.hasPrefix("NAME  FORMAT  URL"))

            let tested = try await Self.earshot(["webhooks", "test", "ops", "--wait"], organizer)
            #expect(tested.status == 0, "\(tested.stdout) \(tested.stderr)")
            let out = tested.stdout.split(separator: "\n").map(String.init)
            #expect(out.first?.hasPrefix("queued earshot.test delivery msg_") == true)
            #expect(out.last?.hasPrefix("delivered ") == true)
            #expect(out.last?.hasSuffix(" after 1 attempt") == true)

            // What the receiver got verifies with the secret `add` printed.
            let received = try #require(receiver.received.first)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-hook-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let headers = directory.appendingPathComponent("headers"), body = directory.appendingPathComponent("body")
            try Data(received.head.utf8).write(to: headers)
            try Data(received.body).write(to: body)
            let verified = try await ConsoleProcess.runAsync(["webhooks", "verify", "--secret", secret, "--headers", headers.path,
                                                              "--body", body.path, "--format", "json"])
            #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
            let result = try WireJSON.decoder().decode(WebhookVerify.Result.self, from: Data(verified.stdout.utf8))
            #expect(result.valid)
            #expect(out.first?.contains(result.id ?? "none") == true)
            let wrong = try await ConsoleProcess.runAsync(["webhooks", "verify", "--secret", WebhookVerifyTests.Own.secret,
                                                           "--headers", headers.path, "--body", body.path])
            #expect(wrong.status == 1)

            let deliveries = try await Self.earshot(["webhooks", "deliveries", "--endpoint", "ops", "--format", "json"], organizer)
            let list = try WireJSON.decoder().decode([WebhookDelivery].self, from: Data(deliveries.stdout.utf8))
            #expect(list.map(\.status) == [.delivered])
            #expect(list.first?.event == "earshot.test")

            let deleted = try await Self.earshot(["webhooks", "delete", "ops"], organizer)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(deleted.stdout == "deleted webhook ops\n")
            let gone = try await Self.earshot(["webhooks", "test", "ops"], organizer)
            #expect(gone.status == 1)
        }
    }

    @Test func waitGivesUpOnAReceiverThatIsNotThere() async throws {
        try await Self.withOrganizer { organizer in
            // Port 9 (discard) on loopback: nothing listens, every attempt is refused.
            let added = try await Self.earshot(["webhooks", "add", "nowhere", "--url", "http://127.0.0.1:9/hook"], organizer)
            #expect(added.status == 0, "\(added.stderr)")
            let tested = try await Self.earshot(["webhooks", "test", "nowhere", "--wait", "--timeout", "2s"], organizer)
            #expect(tested.status == 1)
            #expect(tested.stdout.split(separator: "\n").last?.hasPrefix("timed out after 2s: msg_") == true)
        }
    }
}

/// A webhook receiver on 127.0.0.1:0 that answers 204 and keeps what it got: the header lines
/// as a raw head (for `webhooks verify --headers`) and the body bytes.
final class TestReceiver: Sendable {
    struct Received: Sendable {
        var head: String
        var body: [UInt8]
    }

    final class Recorder: Sendable {
        let items = Mutex<[Received]>([])
    }

    private let recorder: Recorder
    private let group: ServiceGroup
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var received: [Received] { recorder.items.withLock { $0 } }

    private init(recorder: Recorder, group: ServiceGroup, port: Int) {
        self.recorder = recorder
        self.group = group
        self.port = port
    }

    static func start() async throws -> TestReceiver {
        let recorder = Recorder()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let fields = request.headers.map { "\($0.name.rawName): \($0.value)" }.joined(separator: "\r\n")
            let received = Received(head: "POST /hook HTTP/1.1\r\n" + fields + "\r\n\r\n", body: Array(body.readableBytesView))
            recorder.items.withLock { $0.append(received) }
            return Response(status: .noContent)
        }
        var logger = Logger(label: "test.receiver")
        logger.logLevel = .critical
        let (ports, portInput) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  portInput.yield(channel.localAddress?.port ?? 0)
                                  portInput.finish()
                              }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        Task { try? await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw CommandFailure.input("the test receiver did not start") }
        return TestReceiver(recorder: recorder, group: group, port: port)
    }

    func shutdown() async { await group.triggerGracefulShutdown() }
}
