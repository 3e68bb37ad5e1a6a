import Logging
import ServiceLifecycle
import UnixSignals

/// The `earshot-agent run` process: logging to stderr at `logLevel`, and a `ServiceGroup`
/// running the agent with graceful shutdown on SIGTERM and SIGINT.
public enum AgentDaemon {
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Runs until a signal (returns) or until the organizer revokes the agent or it cannot start
    /// (throws `AgentFatalError` / `AgentStartError`, whose descriptions say what to do).
    public static func run(configuration: AgentConfiguration, logLevel: String = "info") async throws {
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "earshot.agent")
        let agent = Agent(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: agent)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
