import ArgumentParser
import EarshotStore
import Foundation
import Logging
import OrganizerKit
import ServiceLifecycle
import UnixSignals

struct OrganizerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "earshot-organizer",
        abstract: "The Earshot organizer: agents, suites, schedules, results, HTTP API.",
        version: Organizer.version,
        subcommands: [Run.self],
        defaultSubcommand: Run.self)
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the organizer until SIGTERM or SIGINT.",
        discussion: """
            Serves the HTTP API (/v1/..., organizer/openapi.yaml) and the agent WebSocket (/v1/agent) on one \
            port, plans the suites' rounds, assigns runs to agents and stores their results in SQLite.

            Settings come from --config (YAML; organizer/organizer.example.yaml lists every key); flags \
            override the file. The admin token is taken from --admin-token, else EARSHOT_ADMIN_TOKEN, else \
            the file; when none is configured, one is generated once and kept in <database directory>/admin-token \
            (mode 0600) for the earshot CLI on this machine. Read-only tokens (--read-token, read_tokens) can \
            only GET.

            SIGTERM/SIGINT shut down gracefully: planning stops, pending results are stored and acknowledged, \
            the agents' connections are closed, the database is closed.
            """)

    @Option(name: .long, help: "YAML configuration file.")
    var config: String?

    @Option(name: .long, help: "SQLite database file (default earshot.sqlite, or the file's database:).")
    var db: String?

    @Option(name: .long, help: "Address to listen on, host:port (default 127.0.0.1:8760).")
    var listen: String?

    @Option(name: .customLong("admin-token"), help: "An admin bearer token (or set EARSHOT_ADMIN_TOKEN).")
    var adminToken: String?

    @Option(name: .customLong("read-token"), help: "A read-only bearer token (repeatable).")
    var readTokens: [String] = []

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    func run() async throws {
        var configuration = OrganizerConfiguration()
        if let config {
            do {
                configuration = try OrganizerConfiguration.load(yamlFile: config)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        if let listen {
            guard let (host, port) = OrganizerConfiguration.parseListen(listen) else {
                throw ValidationError("--listen: \"\(listen)\" is not host:port (e.g. 127.0.0.1:8760)")
            }
            configuration.host = host
            configuration.port = port
        }
        if let db { configuration.database = db }
        let database = configuration.database ?? "earshot.sqlite"
        configuration.database = database
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
                throw ValidationError("--log-level: one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = level
        }
        let envToken = ProcessInfo.processInfo.environment["EARSHOT_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let token = adminToken ?? envToken { configuration.adminTokens = [token] }
        configuration.readTokens += readTokens
        if let problem = configuration.problems().first { throw ValidationError(problem) }

        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "earshot.organizer")

        if configuration.adminTokens.isEmpty {
            let path = AdminTokenFile.defaultPath(database: database)
            let (token, created) = try AdminTokenFile.loadOrCreate(at: path)
            configuration.adminTokens = [token]
            logger.notice(created ? "admin token generated" : "admin token read from file",
                          metadata: ["file": .string(path)])
        }

        let storage: SQLiteStorage
        do {
            storage = try SQLiteStorage(path: database)
        } catch {
            throw ValidationError("--db: \(error)")
        }
        logger.info("database open", metadata: ["path": .string(database)])
        let organizer = Organizer(configuration: configuration, storage: storage, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [organizer], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        try await group.run()
    }
}

/// The root is an `AsyncParsableCommand`; its `main()` called from top-level code picks the
/// synchronous overload, so parse and dispatch here.
func runOrganizerCommand() async {
    do {
        var command = try OrganizerCommand.parseAsRoot()
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    } catch {
        OrganizerCommand.exit(withError: error)
    }
}

await runOrganizerCommand()
