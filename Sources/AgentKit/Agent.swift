import EarshotWire
import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import ServiceLifecycle
import SIPStack
import Synchronization
import WSClient
#if canImport(Glibc)
import Glibc
#endif

/// The agent daemon (DESIGN §3) as a swift-service-lifecycle `Service`: one SIP user agent and
/// media engine, an outbound WebSocket to the organizer (enroll once, then hello, heartbeats,
/// assignments, results), and the on-disk result spool.
public final class Agent: Service {
    public let configuration: AgentConfiguration
    private let logger: Logger

    public init(configuration: AgentConfiguration, logger: Logger = Logger(label: "earshot.agent")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until a graceful shutdown (SIGTERM/SIGINT through a `ServiceGroup`), or until the
    /// organizer revokes the agent (`AgentFatalError.revoked`).
    public func run() async throws {
        let running = try await Self.launch(configuration, logger: logger)
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await running.wait()
            } onGracefulShutdown: {
                Task { await running.shutdown() }
            }
        } onCancel: {
            Task { await running.shutdown() }
        }
    }

    /// Starts an agent in this process (`earshot demo`): returns once it has an agent id (from
    /// its state directory, or enrolled with its token). Throws when enrollment is refused.
    public static func start(_ configuration: AgentConfiguration,
                             logger: Logger = Logger(label: "earshot.agent")) async throws -> RunningAgent {
        let running = try await launch(configuration, logger: logger)
        do {
            try await running.runtime.identified()
        } catch {
            await running.shutdown()
            throw error
        }
        return running
    }

    static func launch(_ configuration: AgentConfiguration, logger: Logger) async throws -> RunningAgent {
        do {
            try configuration.validate()
        } catch {
            throw AgentStartError.configuration(error.description)
        }
        let store = CredentialStore(stateDirectory: configuration.stateDirectory)
        let credential: StoredCredential?
        let spool: ResultSpool
        do {
            credential = try store.load()
            if credential == nil, configuration.enrollmentToken?.isEmpty ?? true {
                throw AgentStartError.state("no credential in \(store.path): start once with an enrollment token (--enroll TOKEN or EARSHOT_ENROLL_TOKEN; create one with `earshot agents token`)")
            }
            spool = try ResultSpool(directory: (configuration.stateDirectory as NSString).appendingPathComponent("spool"),
                                    limit: configuration.spoolLimit, logger: logger)
        } catch let error as AgentStateError {
            throw AgentStartError.state(error.description)
        }
        let tls: TLSConfiguration?
        do {
            tls = try configuration.tlsCAFile.map { file in
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
                return tls
            }
        } catch {
            throw AgentStartError.configuration("cannot read the TLS CA file \(configuration.tlsCAFile ?? ""): \(error)")
        }
        let executor = try await AssignmentExecutor.start(ExecutorConfiguration(
            sipHost: configuration.sipHost, sipPort: configuration.sipPort, advertisedHost: configuration.advertisedHost,
            routeProbeHost: URL(string: configuration.organizerURL)?.host, rtpPorts: configuration.rtpPorts,
            maxConcurrentCalls: configuration.maxConcurrentCalls, bridge: configuration.bridge, rooms: configuration.rooms),
            agentID: credential?.agentID ?? "", logger: logger)
        let runtime = AgentRuntime(configuration: configuration, logger: logger, store: store, credential: credential, spool: spool,
                                   executor: executor, tls: tls)
        await executor.setResultSink { [weak runtime] result in await runtime?.deliver(result) }
        await runtime.begin()
        let port = await executor.listeners.first { $0.kind == .udp }?.port ?? 0
        return RunningAgent(runtime: runtime, sipPort: port)
    }
}

/// An agent started in-process (`Agent.start`).
public final class RunningAgent: Sendable {
    let runtime: AgentRuntime
    /// The SIP port (UDP) it listens on.
    public let sipPort: UInt16

    init(runtime: AgentRuntime, sipPort: UInt16) {
        self.runtime = runtime
        self.sipPort = sipPort
    }

    /// The id the organizer gave it (empty until enrolled; `Agent.start` waits for it).
    public var agentID: String { get async { await runtime.agentID } }
    /// Connected and welcomed by the organizer.
    public var isConnected: Bool { get async { await runtime.isWelcomed } }
    /// Results waiting for the organizer's acknowledgement.
    public var spooled: Int { runtime.spool.count }
    public var activeRuns: [String] { get async { await runtime.executor.activeRunIDs } }

    /// Ends the runs in progress (their results are spooled and, while connected, sent), closes
    /// the connection, stops listening. Idempotent.
    public func shutdown() async { await runtime.shutdown() }

    /// Returns when the agent has stopped; throws `AgentFatalError.revoked` when the organizer
    /// revoked it.
    public func wait() async throws { try await runtime.waitUntilStopped() }
}

/// The organizer refused this agent for good.
public enum AgentFatalError: Error, Equatable, CustomStringConvertible {
    case revoked(String)
    case enrollmentRefused(String)

    public var description: String {
        switch self {
        case .revoked(let message):
            "the organizer revoked this agent: \(message). Enroll it again with a new token (remove credential.json from the state directory first)."
        case .enrollmentRefused(let message):
            "the organizer refused the enrollment token: \(message). Create a new one with `earshot agents token`."
        }
    }
}

/// The agent's state: its credential, its connection to the organizer, the spool.
actor AgentRuntime {
    let configuration: AgentConfiguration
    let logger: Logger
    let store: CredentialStore
    let spool: ResultSpool
    let executor: AssignmentExecutor
    let tls: TLSConfiguration?
    private var credential: StoredCredential?
    private var outbound: WebSocketOutboundWriter?
    private var welcomed = false
    private var stopping = false
    private var stopped = false
    private var fatal: AgentFatalError?
    private var loop: Task<Void, Never>?
    private var sleeper: Task<Void, Never>?
    private var identityWaiters: [CheckedContinuation<Void, any Error>] = []
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private var heartbeatSeq: UInt64 = 0
    private var backoff: ReconnectBackoff
    private var random = SystemRandomNumberGenerator()

    init(configuration: AgentConfiguration, logger: Logger, store: CredentialStore, credential: StoredCredential?, spool: ResultSpool,
         executor: AssignmentExecutor, tls: TLSConfiguration?) {
        self.configuration = configuration
        self.logger = logger
        self.store = store
        self.credential = credential
        self.spool = spool
        self.executor = executor
        self.tls = tls
        self.backoff = ReconnectBackoff(base: configuration.reconnectBase, cap: configuration.reconnectCap)
    }

    var agentID: String { credential?.agentID ?? "" }
    /// The configured name, else the one it enrolled with, else the host name.
    var name: String { configuration.name ?? credential?.name ?? ProcessInfo.processInfo.hostName }
    var isWelcomed: Bool { welcomed }

    func begin() {
        loop = Task { await self.connectionLoop() }
    }

    func identified() async throws {
        if credential != nil { return }
        if let fatal { throw fatal }
        try await withCheckedThrowingContinuation { identityWaiters.append($0) }
    }

    func waitUntilStopped() async throws {
        if !stopped { await withCheckedContinuation { stopWaiters.append($0) } }
        if let fatal, case .revoked = fatal { throw fatal }
    }

    func shutdown() async {
        guard !stopping else {
            if !stopped { await withCheckedContinuation { stopWaiters.append($0) } }
            return
        }
        stopping = true
        logger.info("agent stopping: ending runs in progress")
        await executor.shutdown()
        try? await outbound?.close(.normalClosure, reason: "agent shutting down")
        sleeper?.cancel()
        loop?.cancel()
        await loop?.value
        finishStopping()
    }

    private func finishStopping() {
        stopped = true
        for waiter in identityWaiters { waiter.resume(throwing: fatal ?? CancellationError()) }
        identityWaiters.removeAll()
        for waiter in stopWaiters { waiter.resume() }
        stopWaiters.removeAll()
    }

    // MARK: connection

    private func connectionLoop() async {
        while !stopping {
            var fatalDelay = false
            do {
                let outcome = try await connectOnce()
                fatalDelay = outcome == .fatal
            } catch {
                if !stopping { logger.warning("organizer \(configuration.organizerURL) unreachable or connection lost: \(error)") }
            }
            setDisconnected()
            if stopping { break }
            if case .revoked? = fatal {
                logger.critical("\(fatal!.description) The agent exits.")
                Task { await self.shutdownAfterRevocation() }
                return
            }
            let delay = fatalDelay ? backoff.fatal() : backoff.next(using: &random)
            logger.info("reconnecting to the organizer in \(String(format: "%.1f", delay.seconds)) s")
            let sleeper = Task { _ = try? await Task.sleep(for: delay) }
            self.sleeper = sleeper
            await sleeper.value
        }
    }

    private func shutdownAfterRevocation() async {
        await shutdown()
    }

    private func setDisconnected() {
        outbound = nil
        welcomed = false
    }

    enum SessionOutcome { case closed, fatal }

    private func connectOnce() async throws -> SessionOutcome {
        let outcome = SessionOutcomeBox()
        let client = WebSocketClient(
            url: configuration.organizerURL,
            configuration: WebSocketClientConfiguration(maxFrameSize: WireProtocol.maximumFrameBytes),
            tlsConfiguration: tls, logger: logger
        ) { [weak self] inbound, outbound, _ in
            guard let self else { return }
            let result = try await self.session(inbound: inbound, outbound: outbound)
            outcome.set(result)
        }
        try await client.run()
        return outcome.value
    }

    /// One connection: enroll (first time), hello, welcome, then assignments until it closes.
    /// Not isolated: it owns the frame iterator; the agent's state is reached through the actor.
    private nonisolated func session(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws -> SessionOutcome {
        guard await beginSession(outbound) else { return .closed }
        let logger = self.logger
        var messages = inbound.messages(maxSize: WireProtocol.maximumFrameBytes).makeAsyncIterator()
        func next() async throws -> OrganizerMessage? {
            while let message = try await messages.next() {
                let data: Data = switch message {
                case .text(let text): Data(text.utf8)
                case .binary(let buffer): Data(buffer.readableBytesView)
                }
                do {
                    return try OrganizerMessage(decoding: data)
                } catch {
                    logger.warning("the organizer sent a frame this agent cannot read: \(error.description)")
                }
            }
            return nil
        }

        // Enrollment: exchange the one-time token for a credential, stored before anything else.
        if await credential == nil {
            let token = configuration.enrollmentToken ?? ""
            try await Self.send(.enroll(EnrollRequest(token: token, name: await name, site: configuration.site)), on: outbound)
            switch try await next() {
            case .enrolled(let enrolled)?:
                try await storeCredential(enrolled)
            case .error(let error)?:
                return await handle(error)
            case let other?:
                logger.error("the organizer answered enroll with \(other.type); expected enrolled")
                return .closed
            case nil:
                return .closed
            }
        }
        guard let hello = await makeHello() else { return .closed }
        try await Self.send(.hello(hello), on: outbound)
        let welcome: Welcome
        switch try await next() {
        case .welcome(let w)?:
            welcome = w
        case .error(let error)?:
            return await handle(error)
        case let other?:
            logger.error("the organizer answered hello with \(other.type); expected welcome")
            return .closed
        case nil:
            return .closed
        }
        await welcomed(welcome, agentID: hello.agentID)
        // Replay the spool: what the organizer already holds is deleted, the rest is sent.
        let acknowledged = Set(welcome.acknowledgedRuns)
        for runID in spool.runIDs() where acknowledged.contains(runID) {
            logger.info("result acknowledged run=\(runID) stored=true (already held by the organizer)")
            spool.remove(runID: runID)
        }
        for result in spool.pending() {
            try await Self.send(.result(result), on: outbound)
        }
        let interval = configuration.heartbeatInterval ?? .nanoseconds(Int64(max(0.05, welcome.heartbeatIntervalS) * 1e9))
        let heartbeat = Task { [weak self] in
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                    try await self?.sendHeartbeat(on: outbound)
                } catch {
                    return
                }
            }
        }
        defer { heartbeat.cancel() }
        while let message = try await next() {
            switch message {
            case .assign(let assignment):
                let answer = await executor.offer(assignment)
                try await Self.send(.accepted(answer), on: outbound)
            case .cancel(let cancel):
                await executor.cancel(runID: cancel.runID, reason: cancel.reason)
            case .resultAck(let ack):
                if ack.stored {
                    // One line per acknowledgement: the system tests compare these with the database.
                    logger.info("result acknowledged run=\(ack.runID) stored=true")
                } else {
                    logger.warning("the organizer refused the result of run \(ack.runID) for good: \(ack.reason ?? "no reason given"); deleting it")
                }
                spool.remove(runID: ack.runID)
            case .heartbeatAck:
                break
            case .error(let error):
                let outcome = await handle(error)
                if error.fatal { return outcome }
            case .enrolled, .welcome:
                logger.warning("unexpected \(message.type) from the organizer mid-session; ignored")
            }
        }
        return .closed
    }

    private func beginSession(_ outbound: WebSocketOutboundWriter) -> Bool {
        guard !stopping else { return false }
        self.outbound = outbound
        return true
    }

    private func welcomed(_ welcome: Welcome, agentID: String) {
        welcomed = true
        backoff.reset()
        logger.info("connected to \(configuration.organizerURL) as \(agentID) (\(name)); heartbeat every \(welcome.heartbeatIntervalS) s")
    }

    private static func send(_ message: AgentMessage, on outbound: WebSocketOutboundWriter) async throws {
        let data = try message.encoded()
        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
    }

    private func sendHeartbeat(on outbound: WebSocketOutboundWriter) async throws {
        heartbeatSeq += 1
        let beat = Heartbeat(seq: heartbeatSeq, sentAt: Date(), activeRuns: await executor.activeRunIDs, spooled: spool.count)
        try await Self.send(.heartbeat(beat), on: outbound)
    }

    private func storeCredential(_ enrolled: Enrolled) throws {
        let stored = StoredCredential(agentID: enrolled.agentID, credential: enrolled.credential, site: enrolled.site,
                                      organizer: configuration.organizerURL, enrolledAt: Date(), name: name)
        try store.save(stored)
        credential = stored
        logger.notice("enrolled as \(enrolled.agentID) at site \(enrolled.site); credential stored in \(store.path)")
        let executor = self.executor
        Task { await executor.setAgentID(enrolled.agentID) }
        for waiter in identityWaiters { waiter.resume() }
        identityWaiters.removeAll()
    }

    private func makeHello() async -> AgentHello? {
        guard let credential else { return nil }
        return AgentHello(
            agentID: credential.agentID, credential: credential.credential, name: name,
            version: configuration.version, site: configuration.site ?? credential.site, subnet: configuration.subnet,
            labels: configuration.labels, sipContacts: await executor.contacts(),
            capabilities: Self.capabilities(configuration),
            activeRuns: await executor.activeRunIDs, spooled: spool.count)
    }

    /// What `hello` announces: PCMU/PCMA over UDP/TCP, the call budget, every test type
    /// (conference included: every agent can be a participant) and whether it hosts bridges.
    static func capabilities(_ configuration: AgentConfiguration) -> AgentCapabilities {
        AgentCapabilities(maxConcurrentCalls: configuration.maxConcurrentCalls,
                          tests: AgentCapabilities().tests.filter { $0 != .conference } + [.conference], bridge: configuration.bridge)
    }

    /// What the organizer says when it refuses us: logged plainly, and whether to wait the
    /// full backoff cap (nothing a quick retry could fix).
    private func handle(_ error: WireError) -> SessionOutcome {
        switch error.code {
        case .revoked:
            fatal = .revoked(error.message)
            return .fatal
        case .versionMismatch:
            let versions = error.supportedVersions.map { $0.map(String.init).joined(separator: ", ") } ?? "?"
            logger.critical("the organizer does not speak this agent's protocol version \(WireProtocol.version) (it accepts \(versions)): \(error.message). Upgrade the agent or the organizer.")
            return .fatal
        case .enrollmentRefused:
            logger.critical("\(AgentFatalError.enrollmentRefused(error.message).description)")
            for waiter in identityWaiters { waiter.resume(throwing: AgentFatalError.enrollmentRefused(error.message)) }
            identityWaiters.removeAll()
            return .fatal
        case .unauthorized:
            logger.critical("the organizer does not accept this agent's credential (\(error.message)). If the organizer's database was replaced, remove \(store.path) and enroll again with a new token.")
            return .fatal
        case .duplicateSession:
            logger.error("the organizer already has a session for this agent (\(error.message)): is another process using the same state directory?")
            return .fatal
        default:
            if error.fatal {
                logger.error("the organizer closed the session: \(error.code.rawValue): \(error.message)")
            } else {
                logger.warning("the organizer reported \(error.code.rawValue): \(error.message)")
            }
            return .closed
        }
    }

    // MARK: results

    /// Spooled first (durably), then sent when connected; deleted on `result_ack`.
    func deliver(_ result: RunResult) async {
        do {
            try spool.store(result)
        } catch {
            logger.error("cannot spool the result of run \(result.runID): \(error.description); sending it without a copy on disk")
        }
        guard welcomed, let outbound else { return }
        do {
            try await Self.send(.result(result), on: outbound)
        } catch {
            logger.warning("could not send the result of run \(result.runID) (\(error)); it stays in the spool")
        }
    }
}

/// The outcome of a session, set from the WebSocket handler.
private final class SessionOutcomeBox: Sendable {
    private let outcome = Mutex(AgentRuntime.SessionOutcome.closed)
    func set(_ value: AgentRuntime.SessionOutcome) { outcome.withLock { $0 = value } }
    var value: AgentRuntime.SessionOutcome { outcome.withLock { $0 } }
}
