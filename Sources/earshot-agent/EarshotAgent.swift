// earshot-agent: the agent daemon (DESIGN §3, §7). Thin: arguments → AgentConfiguration →
// a ServiceGroup running the Agent with graceful shutdown on SIGTERM/SIGINT.
import AgentKit
import ArgumentParser
import Foundation

@main
struct EarshotAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "earshot-agent",
        abstract: "The Earshot agent: places and answers test calls for an Earshot organizer.",
        subcommands: [Run.self],
        defaultSubcommand: Run.self
    )
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Connect to an organizer and run the tests it assigns.",
        discussion: """
            The agent dials out to the organizer's WebSocket (ws://HOST:PORT/v1/agent, or wss:// \
            with --tls-ca), so it works behind firewalls and NAT. The first start needs an \
            enrollment token (earshot agents token --site S): the agent exchanges it for its \
            own credential, stored in the state directory as credential.json (mode 0600). \
            Later starts need only --state.

            Results are written to STATE/spool/ before they are sent and deleted when the \
            organizer has stored them: nothing is lost while the organizer is unreachable.

            Environment: EARSHOT_ENROLL_TOKEN (instead of --enroll), EARSHOT_ORGANIZER \
            (instead of --organizer), EARSHOT_STATE (instead of --state).

            Examples:
              earshot-agent run --organizer ws://10.0.0.5:8760/v1/agent --enroll est_3kq… \\
                  --state /var/lib/earshot-agent --name branch-12 --site branch --labels floor=2,rack=b
              earshot-agent run --organizer wss://organizer.example.net:8760/v1/agent \\
                  --state /var/lib/earshot-agent --tls-ca /etc/earshot/ca.pem

            Conference bridges: the agent hosts them by default (--no-bridge turns that off). \
            --room NAME[:PIN] keeps a standing room open for the agent's lifetime (a stand-in for \
            a PBX conference room): it answers INVITEs for sip:NAME@… onto one bridge, demands the \
            PIN as RFC 4733 digits when given, and with --room-registrar registers sip:NAME@DOMAIN \
            there. Room calls are logged, not reported to the organizer.
              earshot-agent run … --room room100:4321 --room-registrar 10.0.0.9:5060 --room-domain pbx.example.net

            Exit status: 0 stopped by SIGTERM/SIGINT; 1 the organizer revoked the agent, or it \
            could not start (the message says why); 2 bad usage.
            """
    )

    @Option(help: ArgumentHelp("The organizer's agent endpoint (ws://HOST:PORT/v1/agent or wss://…). Env: EARSHOT_ORGANIZER.", valueName: "url"))
    var organizer: String?

    @Option(help: ArgumentHelp("One-time enrollment token, needed only on the first start. Env: EARSHOT_ENROLL_TOKEN.", valueName: "token"))
    var enroll: String?

    @Option(help: ArgumentHelp("State directory: credential.json and the result spool. Env: EARSHOT_STATE.", valueName: "dir"))
    var state: String?

    @Option(help: ArgumentHelp("The agent's name in the roster (default: the name it enrolled with, else the host name).", valueName: "name"))
    var name: String?

    @Option(help: ArgumentHelp("Site (default: the one the enrollment token names).", valueName: "site"))
    var site: String?

    @Option(help: ArgumentHelp("The agent's subnet as shown in the roster, e.g. 10.1.0.0/24.", valueName: "cidr"))
    var subnet: String?

    @Option(help: ArgumentHelp("Labels for suite membership: k=v,k2=v2.", valueName: "labels"))
    var labels: String?

    @Option(name: .customLong("sip-listen"), help: ArgumentHelp("SIP address and port (UDP and TCP); port 0 picks a free one.", valueName: "addr:port"))
    var sipListen: String = "0.0.0.0:5060"

    @Option(help: ArgumentHelp("The address other agents reach this one at (default: the source address toward the organizer).", valueName: "addr"))
    var advertise: String?

    @Option(name: .customLong("rtp-ports"), help: ArgumentHelp("RTP port range (even RTP, odd RTCP; one pair per call).", valueName: "lo-hi"))
    var rtpPorts: String = "40000-40999"

    @Option(name: .customLong("max-calls"), help: ArgumentHelp("Calls run at once (each leg one); assignments beyond are refused.", valueName: "n"))
    var maxCalls: Int = 20

    @Option(name: .customLong("heartbeat"), help: ArgumentHelp("Heartbeat interval in seconds (default: the organizer's).", valueName: "s"))
    var heartbeat: Double?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("PEM file of the CA that signed the organizer's certificate (wss://).", valueName: "file"))
    var tlsCA: String?

    @Option(name: .customLong("spool-limit"), help: ArgumentHelp("Results kept while the organizer is unreachable (oldest dropped beyond).", valueName: "n"))
    var spoolLimit: Int = 10_000

    @Flag(name: .customLong("no-bridge"), help: "Do not host conference bridges (the bridge capability is announced by default).")
    var noBridge = false

    @Option(name: .customLong("room"), help: ArgumentHelp("A standing conference room answering sip:NAME@…, optionally demanding PIN as DTMF (repeatable).", valueName: "name[:pin]"))
    var rooms: [String] = []

    @Option(name: .customLong("room-registrar"), help: ArgumentHelp("Register every --room at this registrar (refreshed before it expires).", valueName: "host:port"))
    var roomRegistrar: String?

    @Option(name: .customLong("room-domain"), help: ArgumentHelp("Domain of the rooms' addresses of record, sip:NAME@DOMAIN (default: the registrar's host).", valueName: "domain"))
    var roomDomain: String?

    @Option(name: .customLong("room-auth"), help: ArgumentHelp("Digest credentials for the room registrations (default: none; user = the room name).", valueName: "user:password"))
    var roomAuth: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: String = "info"

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment.filter { !$0.value.isEmpty }
        guard AgentDaemon.logLevels.contains(logLevel.lowercased()) else {
            throw Self.usage("--log-level must be one of trace, debug, info, notice, warning, error, critical; got \(logLevel)")
        }
        guard let organizer = organizer ?? environment["EARSHOT_ORGANIZER"] else {
            throw Self.usage("--organizer URL is required (or EARSHOT_ORGANIZER), e.g. ws://10.0.0.5:8760/v1/agent")
        }
        guard let state = state ?? environment["EARSHOT_STATE"] else {
            throw Self.usage("--state DIR is required (or EARSHOT_STATE): it keeps the agent's credential and result spool")
        }
        let token = enroll ?? environment["EARSHOT_ENROLL_TOKEN"]
        var configuration: AgentConfiguration
        do {
            let listen = try AgentConfiguration.parseListen(sipListen)
            configuration = AgentConfiguration(
                organizerURL: organizer, enrollmentToken: token, stateDirectory: state,
                site: site, subnet: subnet, labels: try labels.map(AgentConfiguration.parseLabels) ?? [:],
                sipHost: listen.host, sipPort: listen.port, advertisedHost: advertise,
                rtpPorts: try AgentConfiguration.parsePortRange(rtpPorts), maxConcurrentCalls: maxCalls,
                heartbeatInterval: heartbeat.map { .nanoseconds(Int64($0 * 1e9)) }, tlsCAFile: tlsCA, spoolLimit: spoolLimit)
            if let name { configuration.name = name }
            configuration.bridge = !noBridge
            configuration.rooms = try Self.rooms(rooms, registrar: roomRegistrar, domain: roomDomain, auth: roomAuth)
            try configuration.validate()
        } catch {
            throw Self.usage(error.description)
        }

        do {
            try await AgentDaemon.run(configuration: configuration, logLevel: logLevel)
        } catch {
            FileHandle.standardError.write(Data("earshot-agent: \(Self.describe(error))\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `--room NAME[:PIN]` with the shared registrar, domain and credentials.
    static func rooms(_ specs: [String], registrar: String?, domain: String?, auth: String?) throws(AgentConfigurationError) -> [RoomConfiguration] {
        if specs.isEmpty, registrar != nil || domain != nil || auth != nil {
            throw .invalid("--room-registrar, --room-domain and --room-auth need at least one --room")
        }
        if domain != nil || auth != nil, registrar == nil { throw .invalid("--room-domain and --room-auth need --room-registrar") }
        var credentials: (user: String, password: String)?
        if let auth {
            let parts = auth.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw .invalid("--room-auth must be USER:PASSWORD") }
            credentials = (parts[0], parts[1])
        }
        return try specs.map { (spec) throws(AgentConfigurationError) -> RoomConfiguration in
            var room = try RoomConfiguration.parse(spec)
            room.registrar = registrar
            if let domain { room.aor = "sip:\(room.name)@\(domain)" }
            room.username = credentials?.user
            room.password = credentials?.password
            return room
        }
    }

    /// Bad usage: the message on stderr, exit status 2.
    static func usage(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("earshot-agent: \(message)\n".utf8))
        return ExitCode(2)
    }

    /// The underlying reason of a service failure, as one line.
    static func describe(_ error: any Error) -> String {
        if let error = error as? AgentFatalError { return error.description }
        if let error = error as? AgentStartError { return error.description }
        return "\(error)"
    }
}
