import EarshotStore
import EarshotWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The organizer daemon (DESIGN §§3–5): the HTTP API and the agent WebSocket hub on one port,
/// the scheduler, the orchestration of runs, and the periodic roll-up and pruning.
///
/// Run it in a `ServiceGroup` (`earshot-organizer run` does, with SIGTERM/SIGINT as graceful
/// shutdown), or in-process with `Organizer.start(...)`. Graceful shutdown: planning stops,
/// pending results are stored and acknowledged, the agents' sockets are closed (1001), the
/// server stops, and the storage is released.
public final class Organizer: Service {
    /// The organizer's version (reported in `GET /v1/status`).
    public static let version = "0.1.0"

    public let configuration: OrganizerConfiguration
    let runtime: OrganizerRuntime
    private let logger: Logger
    private let onListening: Mutex<(@Sendable (Int) -> Void)?>

    public init(configuration: OrganizerConfiguration, storage: any Storage, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        runtime = OrganizerRuntime(configuration: configuration, storage: storage, logger: logger)
        onListening = Mutex(nil)
    }

    public func run() async throws {
        let problems = configuration.problems()
        guard problems.isEmpty else {
            throw ConfigurationError(file: "configuration", message: problems.joined(separator: "; "))
        }
        try await recover()
        let app = try makeApplication()
        let loops = OrganizerLoops(runtime: runtime, logger: logger)
        // Shut down in reverse: the loops first (planning stops, results are flushed and acked
        // while the sockets are still open, then the sockets close), then the alert service
        // (the last verdicts are evaluated), the webhook deliveries (those in flight finish),
        // then the HTTP server.
        let group = ServiceGroup(configuration: .init(
            services: [app, runtime.deliveryWorker(), AlertLoop(runtime: runtime), loops], logger: logger))
        try await group.run()
        logger.info("organizer stopped")
    }

    /// What a previous process left: open runs are kept until their deadline, agents it had
    /// online get the offline window to come back.
    private func recover() async throws {
        let open = try await runtime.storage.openRuns()
        await runtime.coordinator.adopt(open)
        let online = try await runtime.storage.agents().filter { $0.state == .online }.map(\.id)
        await runtime.hub.seedOnline(online)
        try await runtime.alerts.start()
    }

    private func makeApplication() throws -> some Service {
        let router = Router()
        router.add(middleware: APIErrorMiddleware(logger: logger))
        router.add(middleware: BearerAuthMiddleware(adminHashes: runtime.adminTokenHashes,
                                                    readHashes: runtime.readTokenHashes))
        APIRoutes(runtime: runtime).register(on: router)

        let runtime = self.runtime
        let ws = WebSocketServerConfiguration(maxFrameSize: WireProtocol.maximumFrameBytes,
                                              autoPing: .enabled(timePeriod: .seconds(30)))
        let plain = HTTPServerBuilder.http1WebSocketUpgrade(configuration: .init(ws: ws)) { head, channel, _ in
            let path = head.path.map { $0.split(separator: "?", maxSplits: 1).first.map(String.init) ?? $0 } ?? ""
            guard path == "/v1/agent" else { return .dontUpgrade }
            let connection = AgentConnection(runtime: runtime, remoteAddress: channel.remoteAddress?.ipAddress)
            return .upgrade([:]) { inbound, outbound, context in
                await connection.handle(inbound: inbound, outbound: outbound, logger: context.logger)
            }
        }
        let server: HTTPServerBuilder
        if let tls = configuration.tls {
            server = try .tls(plain, tlsConfiguration: Self.tlsConfiguration(tls))
        } else {
            server = plain
        }
        let logger = self.logger
        let scheme = configuration.tls == nil ? "http" : "https"
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? 0
                runtime.boundPort.withLock { $0 = port }
                logger.info("organizer listening", metadata: ["address": .string("\(scheme)://\(channel.localAddress?.ipAddress ?? "?"):\(port)")])
                self.onListening.withLock { $0 }?(port)
            },
            logger: logger)
    }

    static func tlsConfiguration(_ tls: OrganizerConfiguration.TLS) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        } catch {
            throw ConfigurationError(file: tls.certificate, message: "tls: cannot load the certificate or key: \(error)")
        }
    }

    // MARK: in-process

    /// Starts an organizer inside this process (tests, `earshot demo`) and returns once it
    /// listens. Without an admin token in the configuration, one is generated (in memory).
    public static func start(configuration: OrganizerConfiguration, storage: any Storage,
                             logger: Logger = Logger(label: "earshot.organizer")) async throws -> RunningOrganizer {
        var configuration = configuration
        if configuration.adminTokens.isEmpty {
            configuration.adminTokens = [Secrets.generate(prefix: "esa_")]
        }
        let organizer = Organizer(configuration: configuration, storage: storage, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [organizer], logger: logger))
        let port = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            let flag = OnceFlag()
            let once: @Sendable (Result<Int, any Error>) -> Void = { result in
                if flag.claim() { continuation.resume(with: result) }
            }
            organizer.onListening.withLock { $0 = { once(.success($0)) } }
            let task = Task {
                do {
                    try await group.run()
                    once(.failure(ConfigurationError(file: "organizer", message: "the organizer stopped before it listened")))
                } catch {
                    once(.failure(error))
                }
            }
            organizer.runTask.withLock { $0 = task }
        }
        let scheme = configuration.tls == nil ? "http" : "https"
        let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host == "::" ? "::1" : configuration.host
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return RunningOrganizer(organizer: organizer, group: group, port: port,
                                baseURL: "\(scheme)://\(hostPart):\(port)", adminToken: configuration.adminTokens[0])
    }

    /// `start` with the configuration's SQLite file (`database`), or a temporary one (removed
    /// when the organizer is released) when it names none.
    public static func start(configuration: OrganizerConfiguration,
                             logger: Logger = Logger(label: "earshot.organizer")) async throws -> RunningOrganizer {
        let storage = try configuration.database.map { try SQLiteStorage(path: $0) } ?? SQLiteStorage.temporary()
        return try await start(configuration: configuration, storage: storage, logger: logger)
    }

    let runTask = Mutex<Task<Void, Never>?>(nil)
}

/// True for the first caller of `claim()` only.
final class OnceFlag: Sendable {
    private let claimed = Mutex(false)

    func claim() -> Bool {
        claimed.withLock { c in
            defer { c = true }
            return !c
        }
    }
}

/// An organizer started in-process by `Organizer.start`.
public struct RunningOrganizer: Sendable {
    public let organizer: Organizer
    let group: ServiceGroup
    /// The port it listens on (the ephemeral one when the configuration said 0).
    public let port: Int
    /// `http://127.0.0.1:PORT` (https with TLS).
    public let baseURL: String
    /// An admin token of this organizer (the configured one, or the generated one).
    public let adminToken: String

    /// Graceful shutdown; returns when everything stopped.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        let task = organizer.runTask.withLock { $0 }
        await task?.value
    }
}

/// The organizer's periodic work: scheduler ticks, the deadline sweep, offline detection
/// (every second), roll-up and pruning (hourly). Its graceful shutdown stops planning and
/// flushes the result path.
struct OrganizerLoops: Service {
    let runtime: OrganizerRuntime
    let logger: Logger

    func run() async throws {
        let tick: Duration = .milliseconds(Int64(min(1000, max(50, runtime.configuration.heartbeatInterval.seconds * 250))))
        var lastMaintenance = ContinuousClock.now - .seconds(3600)
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                await runtime.scheduler.tick()
                await runtime.coordinator.sweep()
                await runtime.expireSilentAgents()
                if ContinuousClock.now - lastMaintenance >= .seconds(3600) {
                    lastMaintenance = .now
                    await maintain()
                }
                try? await Task.sleep(for: tick)
            }
        } onGracefulShutdown: {
            logger.info("organizer shutting down")
        }
        await runtime.coordinator.stop()
        await runtime.ingest.stop()
        await runtime.hub.closeAll(reason: "organizer shutting down")
    }

    /// Hourly: fold finished runs into rollups, delete raw runs past retention.
    func maintain() async {
        let now = Date()
        do {
            try await runtime.storage.rollUp(now: now)
            let cutoff = now.addingTimeInterval(-Double(runtime.configuration.retention.rawDays) * 86400)
            let deleted = try await runtime.storage.prune(rawBefore: cutoff)
            logger.info("maintenance done", metadata: ["pruned_runs": .stringConvertible(deleted)])
        } catch {
            logger.error("maintenance failed", metadata: ["error": .string("\(error)")])
        }
    }
}
