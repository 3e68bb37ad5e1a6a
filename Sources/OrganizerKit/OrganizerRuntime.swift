import EarshotStore
import EarshotWire
import Foundation
import Logging
import NIOWebSocket
import OrganizerCore

/// The organizer's parts wired together: storage, the agent hub, the run coordinator, the
/// result ingest and the scheduler. The HTTP routes and the agent connections call into it.
final class OrganizerRuntime: Sendable {
    let configuration: OrganizerConfiguration
    let storage: any Storage
    let logger: Logger
    let hub: AgentHub
    let coordinator: RunCoordinator
    let ingest: ResultIngest
    let scheduler: Scheduler
    let startedAt: Date
    let adminTokenHashes: [String]
    let readTokenHashes: [String]
    let alerts: AlertService
    /// Wakes the delivery worker (deliveries were queued or an endpoint enabled).
    let deliveryWake: WakeSignal
    /// Verdicts the coordinator committed, for the alert service.
    let finishedRuns: AsyncStream<[FinishedRun]>
    let finishedRunsInput: AsyncStream<[FinishedRun]>.Continuation
    /// The port the server bound (the configuration may say 0).
    let boundPort = LockedValue<Int?>(nil)

    init(configuration: OrganizerConfiguration, storage: any Storage, logger: Logger) {
        self.configuration = configuration
        self.storage = storage
        self.logger = logger
        self.startedAt = Date()
        let offlineAfter = Duration.seconds(configuration.heartbeatInterval.seconds * Double(configuration.offlineAfterMissed))
        hub = AgentHub(offlineAfter: offlineAfter)
        (finishedRuns, finishedRunsInput) = AsyncStream.makeStream(of: [FinishedRun].self)
        let input = finishedRunsInput
        coordinator = RunCoordinator(storage: storage, hub: hub, logger: logger, onFinished: { runs in
            if !runs.isEmpty { input.yield(runs) }
        })
        deliveryWake = WakeSignal()
        ingest = ResultIngest(storage: storage, hub: hub, coordinator: coordinator,
                              window: .seconds(configuration.resultAckWindow.seconds), logger: logger)
        scheduler = Scheduler(configuration: configuration, storage: storage, hub: hub, coordinator: coordinator,
                              logger: logger)
        adminTokenHashes = configuration.adminTokens.map(Secrets.hash)
        readTokenHashes = configuration.readTokens.map(Secrets.hash)
        let bound = boundPort
        let publicURL: @Sendable () -> String = { configuration.publicBaseURL(boundPort: bound.value) }
        self.publicURL = publicURL
        alerts = AlertService(storage: storage, configuration: configuration, hub: hub, logger: logger, startedAt: startedAt,
                              wake: deliveryWake, baseURL: publicURL)
    }

    /// The base of links in webhook payloads.
    let publicURL: @Sendable () -> String

    /// The delivery worker of the outbox.
    func deliveryWorker() -> DeliveryWorker {
        let alerts = self.alerts
        let storage = self.storage
        return DeliveryWorker(storage: storage, configuration: configuration.webhooks, wake: deliveryWake, logger: logger,
                              baseURL: publicURL, activeAlerts: {
                                  await alerts.annotate(try await storage.alerts(AlertQuery(limit: 10_000)))
                                      .filter { $0.silencedBy == nil }
                              })
    }

    // MARK: agents

    static func validAgentName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    /// Exchanges a one-time enrollment token for a new agent id and credential. Throws a
    /// `WireError` the agent is told.
    func enroll(_ request: EnrollRequest, logger: Logger) async throws -> Enrolled {
        guard Self.validAgentName(request.name) else {
            throw WireError(code: .enrollmentRefused, message: "name: use 1–64 letters, digits, '-', '_' or '.'", fatal: true)
        }
        if let existing = try await storage.agent(request.name), existing.info.state != .revoked {
            throw WireError(code: .enrollmentRefused,
                            message: "an agent named \(request.name) is already enrolled; pick another name or revoke it",
                            fatal: true)
        }
        let now = Date()
        guard let grant = try await storage.consumeEnrollmentToken(hash: Secrets.hash(request.token), now: now) else {
            logger.notice("enrollment refused: unknown, used or expired token", metadata: ["name": .string(request.name)])
            throw WireError(code: .enrollmentRefused,
                            message: "the enrollment token is unknown, already used or expired; create a new one (earshot agents token --site S)",
                            fatal: true)
        }
        let credential = Secrets.generate(prefix: "esc_")
        let agent: AgentInfo
        do {
            agent = try await storage.createAgent(NewAgent(id: Secrets.identifier(prefix: "ag_"), name: request.name,
                                                           site: grant.site, labels: grant.labels,
                                                           credentialHash: Secrets.hash(credential), enrolledAt: now))
        } catch let error as StorageError where error.kind == .conflict {
            throw WireError(code: .enrollmentRefused, message: error.message, fatal: true)
        }
        logger.info("agent enrolled", metadata: ["agent": .string(agent.id), "name": .string(agent.name), "site": .string(agent.site)])
        return Enrolled(agentID: agent.id, credential: credential, site: agent.site)
    }

    /// Checks a hello's credential and records the connection. Throws a `WireError` the agent
    /// is told.
    func authenticate(_ hello: AgentHello, remoteAddress: String?, logger: Logger) async throws -> Welcome {
        guard let record = try await storage.agent(hello.agentID), record.info.id == hello.agentID else {
            throw WireError(code: .unauthorized, message: "unknown agent id; enroll again with a new token", fatal: true)
        }
        guard Secrets.matches(hello.credential, hash: record.credentialHash) else {
            throw WireError(code: .unauthorized, message: "wrong credential for this agent id", fatal: true)
        }
        guard record.info.state != .revoked else {
            throw WireError(code: .revoked, message: "this agent was revoked; enroll again with a new token", fatal: true)
        }
        let now = Date()
        try await storage.agentConnected(id: hello.agentID, hello: hello, remoteAddress: remoteAddress, at: now)
        let acknowledged = hello.activeRuns.isEmpty
            ? [] : try await storage.storedResults(agentID: hello.agentID, among: hello.activeRuns)
        return Welcome(agentID: hello.agentID, heartbeatIntervalS: configuration.heartbeatInterval.seconds,
                       offlineAfterMissed: configuration.offlineAfterMissed, serverTime: now, acknowledgedRuns: acknowledged)
    }

    func heartbeat(agentID: String, heartbeat: Heartbeat, logger: Logger) async {
        guard await hub.shouldPersistHeartbeat(agentID: agentID, activeRuns: heartbeat.activeRuns.count,
                                               spooled: heartbeat.spooled) else { return }
        do {
            try await storage.agentSeen(id: agentID, at: Date(), activeRuns: heartbeat.activeRuns.count,
                                        spooled: heartbeat.spooled)
        } catch {
            logger.warning("could not record a heartbeat", metadata: ["agent": .string(agentID), "error": .string("\(error)")])
        }
    }

    /// Revokes an agent: stored, its socket told and closed, its open runs judged without it.
    func revoke(_ idOrName: String) async throws -> AgentInfo {
        guard let record = try await storage.agent(idOrName) else { throw APIFailure.notFound("no agent \(idOrName)") }
        let info = try await storage.revokeAgent(id: record.info.id, at: Date())
        await hub.disconnect(agentID: info.id,
                             error: WireError(code: .revoked, message: "this agent was revoked by an operator", fatal: true),
                             code: .policyViolation)
        await coordinator.agentLost(info.id, reason: "revoked")
        logger.notice("agent revoked", metadata: ["agent": .string(info.id), "name": .string(info.name)])
        return info
    }

    /// Marks silent agents offline (the liveness loop).
    func expireSilentAgents() async {
        let expired = await hub.expire()
        guard !expired.isEmpty else { return }
        let window = configuration.heartbeatInterval.seconds * Double(configuration.offlineAfterMissed)
        let reason = "no heartbeat for \(WireDuration(seconds: window)) (\(configuration.offlineAfterMissed) missed)"
        for id in expired {
            do {
                try await storage.agentOffline(id: id, at: Date(), reason: reason)
            } catch {
                logger.error("could not record an agent going offline", metadata: ["agent": .string(id), "error": .string("\(error)")])
            }
            logger.notice("agent offline", metadata: ["agent": .string(id), "reason": .string(reason)])
            await coordinator.agentLost(id, reason: reason)
        }
    }
}
