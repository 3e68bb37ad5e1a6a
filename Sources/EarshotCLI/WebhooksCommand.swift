import ArgumentParser
import EarshotWire
import Foundation
import OrganizerCore

/// `earshot webhooks …`: endpoints, their deliveries, and a receiver's signature check
/// (DESIGN §6, docs/cli.md "earshot webhooks").
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Manage webhook endpoints, follow deliveries, and verify signatures.",
        subcommands: [List.self, Add.self, Delete.self, Enable.self, Test.self, Deliveries.self, Delivery.self, Retry.self,
                      Verify.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the webhook endpoints.")

        @OptionGroup var connection: ConnectionOptions

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.webhooks() }) {
                ConsoleRender.terminal().webhooks($0)
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add an endpoint; prints its signing secret once.",
            discussion: "Receivers check `webhook-signature` with the secret (Standard Webhooks); earshot webhooks verify checks a captured request."
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: ArgumentHelp("A unique name: letters, digits, -_.", valueName: "name"))
        var name: String

        @Option(help: ArgumentHelp("http(s) URL; for alertmanager_api the Alertmanager's base URL.", valueName: "url"))
        var url: String

        @Option(help: ArgumentHelp("What the endpoint receives: native, alertmanager, slack, teams or alertmanager_api.",
                                   valueName: "format"))
        var payload: String = WebhookFormat.native.rawValue

        @OptionGroup var output: FormatOption

        @Option(help: ArgumentHelp("The signing secret (default: a new random one).", valueName: "whsec_…"))
        var secret: String?

        @Option(help: ArgumentHelp("Only this rule's alerts (repeatable; default all).", valueName: "rule"))
        var rule: [String] = []

        @Option(help: ArgumentHelp("Only alerts of at least this severity: info, warning, critical.", valueName: "severity"))
        var minSeverity: String?

        func endpointRequest() throws -> WebhookEndpointRequest {
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw CommandFailure.usage("the name must be letters, digits, - _ or . (got \(name.isEmpty ? "nothing" : name))")
            }
            guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  let host = parsed.host, !host.isEmpty else {
                throw CommandFailure.usage("--url must be an http:// or https:// URL with a host, got \(url)")
            }
            if let secret, !secret.hasPrefix(StandardWebhooks.secretPrefix) {
                throw CommandFailure.usage("--secret must start with \(StandardWebhooks.secretPrefix) (followed by base64), or leave it out for a new one")
            }
            let rules = try rule.map { try ConsoleArguments.ruleName($0, option: "--rule") }
            return WebhookEndpointRequest(
                name: name, url: url, format: try ConsoleArguments.choice(payload, option: "--payload", as: WebhookFormat.self),
                secret: secret, rules: rules.isEmpty ? nil : rules,
                minSeverity: try minSeverity.map { try ConsoleArguments.choice($0, option: "--min-severity", as: AlertSeverity.self) })
        }

        func run() async throws {
            try await reportingConsoleFailures {
                let request = try endpointRequest()
                let endpoint = try await connection.withClient { try await $0.addWebhook(request) }
                try printConsole(endpoint, format: output.format) { ConsoleRender.terminal().webhookAdded(endpoint) }
            }
        }
    }

    /// The organizer and one endpoint.
    struct EndpointTarget: ParsableArguments {
        @OptionGroup var connection: ConnectionOptions

        @Argument(help: ArgumentHelp("The endpoint's name or id.", valueName: "name"))
        var name: String
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete", abstract: "Delete an endpoint (its pending deliveries are cancelled).")

        @OptionGroup var target: EndpointTarget

        func run() async throws {
            try await reportingConsoleFailures {
                try await target.connection.withClient { try await $0.deleteWebhook(target.name) }
                CallOutput.write("deleted webhook \(target.name)")
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enable", abstract: "Enable an endpoint again (after its receiver answered 410 Gone).")

        @OptionGroup var target: EndpointTarget

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await request(target.connection, format: output.format, { try await $0.enableWebhook(target.name) }) {
                "enabled webhook \($0.name) (\($0.url))"
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Queue an earshot.test delivery to an endpoint; --wait follows it.",
            discussion: "With --wait: exit 0 when delivered, 1 when it went dead or cancelled, or --timeout passed first."
        )

        @OptionGroup var target: EndpointTarget

        @Flag(help: "Follow the delivery until it is delivered or dead.")
        var wait = false

        @Option(help: ArgumentHelp("How long --wait follows it.", valueName: "duration"))
        var timeout: String = "60s"

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await reportingConsoleFailures {
                let limit = try ConsoleArguments.duration(timeout, option: "--timeout")
                guard limit.seconds > 0 else { throw CommandFailure.usage("--timeout must be longer than 0") }
                let delivered = try await target.connection.withClient { client in try await queue(client, limit: limit) }
                if !delivered { throw ExitCode(1) }
            }
        }

        /// Queues the test delivery and, with --wait, follows it; true unless it ended badly.
        func queue(_ client: OrganizerClient, limit: WireDuration) async throws -> Bool {
            let queued = try await client.testWebhook(target.name)
            guard wait else {
                try printConsole(queued, format: output.format) {
                    "queued \(queued.event) delivery \(queued.id) to \(queued.endpointName) (follow it: earshot webhooks delivery \(queued.id))"
                }
                return true
            }
            let json = output.format == .json
            // With --format json the progress goes to stderr, the delivery's JSON to stdout.
            func say(_ line: String) { if json { Output.stderr(line) } else { CallOutput.write(line) } }
            say("queued \(queued.event) delivery \(queued.id) to \(queued.endpointName)")
            let follower = DeliveryFollower(timeout: limit.seconds)
            let followed = try await follower.follow(queued, fetch: { id in try await client.delivery(id) }, say: say)
            let render = ConsoleRender.terminal()
            if json {
                CallOutput.write(try ConsoleJSON.string(followed.delivery))
            } else if followed.timedOut {
                CallOutput.write("timed out after \(limit): \(followed.delivery.id) is still \(render.deliveryStatus(followed.delivery))")
            } else {
                CallOutput.write(render.deliveryStatus(followed.delivery))
            }
            return followed.delivery.status == .delivered
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deliveries", abstract: "List deliveries, newest first.")

        @OptionGroup var connection: ConnectionOptions

        @Option(help: ArgumentHelp("Only this endpoint's.", valueName: "name"))
        var endpoint: String?

        @Option(help: ArgumentHelp("pending, delivered, dead or cancelled.", valueName: "status"))
        var status: String?

        @Option(help: ArgumentHelp("Only this alert's.", valueName: "id"))
        var alert: String?

        @Option(help: ArgumentHelp("At most this many.", valueName: "n"))
        var limit: Int?

        @OptionGroup var output: FormatOption

        func query() throws -> DeliveryListQuery {
            if let limit, limit < 1 { throw CommandFailure.usage("--limit must be at least 1, got \(limit)") }
            return DeliveryListQuery(endpoint: endpoint,
                                     status: try status.map { try ConsoleArguments.choice($0, option: "--status", as: DeliveryStatus.self) },
                                     alert: alert, limit: limit)
        }

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.deliveries(try query()) }) {
                ConsoleRender.terminal().deliveries($0)
            }
        }
    }

    struct Delivery: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delivery", abstract: "Show one delivery with its attempts.")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: ArgumentHelp("The delivery's id (msg_…, its webhook-id).", valueName: "id"))
        var id: String

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.delivery(id) }) {
                ConsoleRender.terminal().delivery($0)
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry",
            abstract: "Send deliveries again (same webhook-id and body): by id, or an endpoint's dead ones.")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: ArgumentHelp("Delivery ids.", valueName: "id"))
        var ids: [String] = []

        @Option(help: ArgumentHelp("Every delivery of this endpoint in --status (default dead).", valueName: "name"))
        var endpoint: String?

        @Option(help: ArgumentHelp("With --endpoint: dead, cancelled or pending (repeatable).", valueName: "status"))
        var status: [String] = []

        @OptionGroup var output: FormatOption

        func retryRequest() throws -> DeliveryRetryRequest {
            guard !ids.isEmpty || endpoint != nil else {
                throw CommandFailure.usage("say what to retry: delivery ids, or --endpoint NAME [--status dead]")
            }
            guard status.isEmpty || endpoint != nil else { throw CommandFailure.usage("--status goes with --endpoint") }
            let statuses = try status.map { try ConsoleArguments.choice($0, option: "--status", as: DeliveryStatus.self) }
            if statuses.contains(.delivered) { throw CommandFailure.usage("--status delivered: a delivered message is not sent again") }
            return DeliveryRetryRequest(ids: ids.isEmpty ? nil : ids, endpoint: endpoint, statuses: statuses.isEmpty ? nil : statuses)
        }

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.retryDeliveries(try retryRequest()) }) {
                ConsoleRender.terminal().retried($0)
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check a captured webhook request's signature with the endpoint's secret (no organizer needed).",
            discussion: """
                --headers reads "Name: value" lines (a raw HTTP request head is fine); or give --id, \
                --timestamp and --signature. The body is read byte for byte. Exit 0 valid, 1 invalid \
                (with the reason), 2 usage error.
                """
        )

        @Option(help: ArgumentHelp("The endpoint's signing secret.", valueName: "whsec_…"))
        var secret: String

        @Option(help: ArgumentHelp("A file with the request's header lines.", valueName: "file"))
        var headers: String?

        @Option(help: ArgumentHelp("The webhook-id header.", valueName: "id"))
        var id: String?

        @Option(help: ArgumentHelp("The webhook-timestamp header (Unix seconds).", valueName: "t"))
        var timestamp: String?

        @Option(help: ArgumentHelp("The webhook-signature header (v1,…).", valueName: "sig"))
        var signature: String?

        @Option(help: ArgumentHelp("The body, exactly as received; - for stdin (the default when stdin is not a terminal).", valueName: "file|-"))
        var body: String?

        @Option(help: ArgumentHelp("The clock to check the timestamp against, Unix seconds (default now).", valueName: "unix"))
        var now: Double?

        @Option(help: ArgumentHelp("How far the timestamp may be from the clock, seconds.", valueName: "s"))
        var tolerance: Double = StandardWebhooks.defaultTolerance

        @Option(help: "table (one line) or json")
        var format: ConsoleFormat = .table

        /// The three headers: the flags, else the file's.
        func message(readFile: (String) throws -> Data) throws -> (id: String?, timestamp: String?, signature: String?) {
            var fields: [String: String] = [:]
            if let headers {
                fields = WebhookVerify.headers(String(decoding: try readFile(headers), as: UTF8.self))
            } else if id == nil || timestamp == nil || signature == nil {
                throw CommandFailure.usage("give --headers FILE, or all of --id, --timestamp and --signature")
            }
            return (id ?? fields["webhook-id"], timestamp ?? fields["webhook-timestamp"], signature ?? fields["webhook-signature"])
        }

        func validate(secret: String) throws {
            guard tolerance >= 0, tolerance.isFinite else { throw CommandFailure.usage("--tolerance must be 0 or more seconds") }
            if let now, !now.isFinite || now < 0 { throw CommandFailure.usage("--now must be Unix seconds") }
            do {
                _ = try StandardWebhooks.key(fromSecret: secret)
            } catch {
                throw CommandFailure.usage("--secret: \(error)")
            }
        }

        static func read(_ path: String) throws -> Data {
            if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure.usage("cannot read \(path)")
            }
            return data
        }

        /// The result for these options, files read with `readFile`.
        func result(clock: Date, readFile: (String) throws -> Data) throws -> WebhookVerify.Result {
            try validate(secret: secret)
            let message = try message(readFile: readFile)
            let bodyPath: String
            if let body {
                bodyPath = body
            } else if !Terminal.isTTY(STDIN_FILENO) {
                bodyPath = "-"
            } else {
                throw CommandFailure.usage("give the body: --body FILE, or --body - to read it from stdin")
            }
            let bytes = [UInt8](try readFile(bodyPath))
            return WebhookVerify.check(secret: secret, id: message.id, timestamp: message.timestamp, signature: message.signature,
                                       body: bytes, now: receiverClock(clock), tolerance: tolerance)
        }

        /// `--now`, else `clock`.
        func receiverClock(_ clock: Date) -> Date { now.map { Date(timeIntervalSince1970: $0) } ?? clock }

        func run() throws {
            try reportingFailures {
                let clock = Date()
                let outcome = try result(clock: clock, readFile: Self.read)
                try printConsole(outcome, format: format) { WebhookVerify.text(outcome, now: receiverClock(clock)) }
                if !outcome.valid { throw ExitCode(1) }
            }
        }
    }
}

/// Polls a delivery until it is no longer pending (`webhooks test --wait`): every `interval`
/// seconds, at most `timeout` seconds; each new attempt and status change is said.
struct DeliveryFollower: Sendable {
    var timeout: Double
    var interval: Double = 0.5

    struct Followed: Sendable {
        var delivery: WebhookDelivery
        var timedOut: Bool
    }

    /// `sleep` waits that many seconds (tests pass one that does not).
    func follow(_ first: WebhookDelivery, fetch: (String) async throws -> WebhookDelivery, say: (String) -> Void,
                sleep: (Double) async throws -> Void = { try await Task.sleep(for: .milliseconds(Int($0 * 1000))) })
        async throws -> Followed {
        var current = first
        var saidAttempts = 0
        var polls = Int((timeout / interval).rounded(.up))
        func report(_ delivery: WebhookDelivery, previous: DeliveryStatus?) {
            for attempt in delivery.attempts where attempt.number > saidAttempts {
                say("attempt \(attempt.number): \(ConsoleRender.attempt(attempt))")
                saidAttempts = attempt.number
            }
            if let previous, previous != delivery.status { say("\(previous.rawValue) → \(delivery.status.rawValue)") }
        }
        report(current, previous: nil)
        while current.status == .pending {
            guard polls > 0 else { return Followed(delivery: current, timedOut: true) }
            polls -= 1
            try await sleep(interval)
            let next = try await fetch(current.id)
            report(next, previous: current.status)
            current = next
        }
        return Followed(delivery: current, timedOut: false)
    }
}
