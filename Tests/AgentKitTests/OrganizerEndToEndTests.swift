@testable import AgentKit
import EarshotWire
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import InteropTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real organizer (the `earshot-organizer` binary `swift build --build-tests` builds next
/// to the test bundle, on loopback with a scratch SQLite file) and two agents of this process
/// (`Agent.start`): enrollment, a suite round through the engine, results stored and
/// acknowledged, a restart from the state directory, revocation.
///
/// The organizer runs as a process because AgentKitTests does not depend on OrganizerKit;
/// with that dependency the same test could use `Organizer.start` in-process.
@Suite("Agents against the organizer", .serialized)
struct OrganizerEndToEndTests {
    final class OrganizerUnderTest {
        let scratch: ScratchDirectory
        private(set) var process: SpawnedProcess
        private(set) var port: Int
        let admin = "admin-\(UUID().uuidString)"
        private var starts = 0

        init() async throws {
            scratch = try ScratchDirectory(prefix: "agent-e2e")
            try "heartbeat_interval: 1s\noffline_after_missed: 3\ndeadline_margin: 15s\nlog_level: info\n"
                .write(toFile: scratch.path("organizer.yaml"), atomically: true, encoding: .utf8)
            (process, port) = try await Self.spawn(scratch: scratch, admin: admin, port: 0, start: 1)
            starts = 1
        }

        /// Starts the organizer again on the same database and port (after `stop`).
        func restart() async throws {
            starts += 1
            (process, port) = try await Self.spawn(scratch: scratch, admin: admin, port: port, start: starts)
        }

        private static func spawn(scratch: ScratchDirectory, admin: String, port: Int, start: Int) async throws -> (SpawnedProcess, Int) {
            let process = try SpawnedProcess(
                try binary("earshot-organizer"),
                ["run", "--config", scratch.path("organizer.yaml"), "--db", scratch.path("earshot.sqlite"),
                 "--listen", "127.0.0.1:\(port)", "--admin-token", admin],
                outputPath: scratch.path("organizer-\(start).out"), errorPath: scratch.path("organizer-\(start).err"))
            // The log says where it listens ("…address=http://127.0.0.1:PORT").
            // Polled with Task.sleep: a blocking wait would hold one of Swift Testing's two
            // cooperative threads while the organizer starts.
            var found: Int?
            let deadline = ContinuousClock.now + .seconds(60)
            while found == nil, !process.hasExited, ContinuousClock.now < deadline {
                let text = process.errors + process.output
                if let range = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                    found = Int(text[range].split(separator: ":").last ?? "")
                } else {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            guard let found, !process.hasExited else {
                throw TestFailure("the organizer did not start: \(process.errors)")
            }
            return (process, found)
        }

        var agentURL: String { "ws://127.0.0.1:\(port)/v1/agent" }

        static func binary(_ name: String) throws -> String {
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let candidate = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
            guard FileManager.default.isExecutableFile(atPath: candidate) else {
                throw TestFailure("\(candidate) is missing: build with `swift build --build-tests` first")
            }
            return candidate
        }

        func request(_ method: String, _ path: String, body: Data? = nil) async throws -> (status: Int, body: Data) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
            if let body {
                request.httpBody = body
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        }

        func decode<T: Decodable>(_ type: T.Type, _ method: String, _ path: String, body: Data? = nil,
                                  expect status: Int = 200) async throws -> T {
            let reply = try await request(method, path, body: body)
            guard reply.status == status else {
                throw TestFailure("\(method) \(path): \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
            }
            return try WireJSON.decoder().decode(T.self, from: reply.body)
        }

        func token(site: String) async throws -> String {
            try await decode(EnrollmentToken.self, "POST", "/v1/agents/tokens",
                             body: WireJSON.encoder().encode(EnrollmentTokenRequest(site: site)), expect: 201).token
        }

        func stop() {
            process.signal(SIGTERM)
            _ = process.wait(seconds: 10)
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func eventually(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
        let end = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < end {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    static func agentConfiguration(_ organizer: OrganizerUnderTest, name: String, token: String?, ports: ClosedRange<UInt16>) -> AgentConfiguration {
        AgentConfiguration(organizerURL: organizer.agentURL, enrollmentToken: token, stateDirectory: organizer.scratch.path("agent-\(name)"),
                           name: name, labels: ["role": name], sipHost: "127.0.0.1", sipPort: 0, rtpPorts: ports,
                           reconnectBase: .milliseconds(100), reconnectCap: .seconds(2))
    }

    @Test func twoAgentsEnrollRunARoundAndAreRevoked() async throws {
        let organizer = try await OrganizerUnderTest()
        defer { organizer.stop() }
        let alpha = try await Agent.start(Self.agentConfiguration(organizer, name: "alpha", token: try await organizer.token(site: "lab"),
                                                                 ports: 27000...27099))
        let beta = try await Agent.start(Self.agentConfiguration(organizer, name: "beta", token: try await organizer.token(site: "lab"),
                                                                ports: 27100...27199))
        let alphaID = await alpha.agentID
        let betaID = await beta.agentID
        #expect(!alphaID.isEmpty && !betaID.isEmpty && alphaID != betaID)
        // The credential is on disk, readable by the owner only.
        let stored = CredentialStore(stateDirectory: organizer.scratch.path("agent-alpha"))
        #expect(stored.mode() == 0o600)
        #expect(try stored.load()?.agentID == alphaID)
        #expect(try stored.load()?.site == "lab")

        try await Self.eventually("both agents online") {
            let agents = try await organizer.decode([AgentInfo].self, "GET", "/v1/agents")
            return agents.filter { $0.state == .online }.count == 2
        }
        let roster = try await organizer.decode([AgentInfo].self, "GET", "/v1/agents")
        let alphaInfo = try #require(roster.first { $0.id == alphaID })
        #expect(alphaInfo.name == "alpha")
        #expect(alphaInfo.labels == ["role": "alpha"])
        #expect(alphaInfo.sipContacts.map(\.transport).sorted() == ["tcp", "udp"])
        #expect(alphaInfo.sipContacts.first { $0.transport == "udp" }?.uri == "sip:earshot@127.0.0.1:\(alpha.sipPort);transport=udp")

        // A suite of one pair, run now.
        let suite = SuiteSpec(name: "pair", type: .p2p, topology: Topology(kind: .pairs, pairs: [["alpha", "beta"]]),
                              interval: .minutes(60), duration: .seconds(3), paused: true)
        let put = try await organizer.request("PUT", "/v1/suites/pair", body: WireJSON.encoder().encode(suite))
        #expect(put.status == 201 || put.status == 200)
        let round = try await organizer.decode(RoundInfo.self, "POST", "/v1/suites/pair/run", expect: 201)
        #expect(round.runIDs.count == 1)
        let runID = try #require(round.runIDs.first)

        var detail: RunDetail?
        try await Self.eventually("run \(runID) judged", seconds: 60) {
            detail = try await organizer.decode(RunDetail.self, "GET", "/v1/runs/\(runID)")
            return detail?.run.status.isFinal == true
        }
        let run = try #require(detail)
        #expect(run.run.status == .passed, "\(String(describing: run.run.cause)) \(run.participants)")
        #expect(Set(run.participants.map(\.agentID)) == [alphaID, betaID])
        #expect(run.participants.allSatisfy { $0.status == .passed && $0.reportedAt != nil })
        #expect(run.participants.first { $0.agentID == alphaID }?.role == .caller)
        let received = run.directions.filter { $0.measuredBy == "receiver" }
        #expect(Set(received.map(\.to)) == [alphaID, betaID])
        #expect(received.allSatisfy { $0.packetsLost == 0 && $0.packetsReceived >= 100 && $0.audioOK == true })
        #expect(run.call?.ending == "normal")
        // Acknowledged results leave the spools.
        try await Self.eventually("spools emptied") { alpha.spooled == 0 && beta.spooled == 0 }

        // A restart from the state directory: no token, no name given — the same identity and
        // the name it enrolled with.
        await beta.shutdown()
        var restart = Self.agentConfiguration(organizer, name: "beta", token: nil, ports: 27100...27199)
        restart.name = nil
        let betaAgain = try await Agent.start(restart)
        #expect(await betaAgain.agentID == betaID)
        try await Self.eventually("beta back online") { await betaAgain.isConnected }
        let betaInfo = try await organizer.decode(AgentInfo.self, "GET", "/v1/agents/\(betaID)")
        #expect(betaInfo.name == "beta")

        // Revoked: the organizer closes the connection and the agent stops with a clear error.
        let revoke = try await organizer.request("POST", "/v1/agents/\(betaID)/revoke")
        #expect(revoke.status == 200 || revoke.status == 204)
        await #expect(throws: AgentFatalError.self) { try await betaAgain.wait() }
        await alpha.shutdown()
    }

    @Test func resultsSpooledWhileTheOrganizerIsAwayAreDeliveredOnReconnect() async throws {
        let organizer = try await OrganizerUnderTest()
        defer { organizer.stop() }
        let gamma = try await Agent.start(Self.agentConfiguration(organizer, name: "gamma", token: try await organizer.token(site: "lab"),
                                                                 ports: 27200...27299))
        let gammaID = await gamma.agentID
        try await Self.eventually("gamma online") { await gamma.isConnected }
        // A result for a run the organizer does not know: spooled, sent, refused for good
        // (`stored: false`) and deleted — never resent.
        await gamma.runtime.deliver(RunResult(runID: "run-unknown-1", agentID: gammaID, role: .caller, testType: .p2p, status: .passed))
        try await Self.eventually("the refused result deleted") { gamma.spooled == 0 }

        // The organizer goes away: a result waits in the spool, on disk.
        organizer.stop()
        try await Self.eventually("gamma disconnected") { await !gamma.isConnected }
        await gamma.runtime.deliver(RunResult(runID: "run-unknown-2", agentID: gammaID, role: .caller, testType: .p2p, status: .failed,
                                              cause: RunCause(code: "timeout")))
        #expect(gamma.spooled == 1)
        #expect(FileManager.default.fileExists(atPath: organizer.scratch.path("agent-gamma/spool/run-unknown-2.json")))
        // Back on the same port: the agent reconnects (backoff capped at 2 s here), says hello
        // with the same credential, and replays its spool, which the organizer answers.
        try await organizer.restart()
        try await Self.eventually("gamma reconnected") { await gamma.isConnected }
        try await Self.eventually("the spooled result delivered and answered") { gamma.spooled == 0 }
        await gamma.shutdown()
    }
}
