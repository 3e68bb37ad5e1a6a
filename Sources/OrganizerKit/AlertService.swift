import EarshotStore
import EarshotWire
import Foundation
import Logging
import OrganizerCore
import ServiceLifecycle

/// The alert engine inside the organizer (DESIGN §6, docs/alerts.md): feeds it the roster,
/// the coverage of the suites and every committed run verdict; stores what it decides (tracks,
/// transitions, and one delivery per matching webhook endpoint, in one transaction) and wakes
/// the delivery worker.
///
/// Rules are the defaults ⊕ the configuration's `alerts.rules` ⊕ the patches stored through
/// the API. The engine's tracks are restored from storage at start, so streaks continue
/// across restarts.
actor AlertService {
    private let storage: any Storage
    private let configuration: OrganizerConfiguration
    private let hub: AgentHub
    private let logger: Logger
    private let startedAt: Date
    private let baseURL: @Sendable () -> String
    private let wake: WakeSignal
    private var engine: AlertEngine
    /// The API's stored rule changes.
    private var apiPatches: [AlertRuleName: AlertRulePatch] = [:]
    /// Active silences (refreshed when the API changes them; expired ones dropped each tick).
    private var silences: [Silence] = []
    private var endpoints: [WebhookEndpointRecord] = []
    /// Agents by id (names and sites for run observations).
    private var roster: [String: AgentInfo] = [:]
    private var lastCoverage: Date?
    /// The last store of a batch: batches are committed in the order the engine made them.
    private var storing: Task<Void, Never>?

    static let makeID: @Sendable (String) -> String = { Secrets.identifier(prefix: $0) }

    init(storage: any Storage, configuration: OrganizerConfiguration, hub: AgentHub, logger: Logger, startedAt: Date,
         wake: WakeSignal, baseURL: @escaping @Sendable () -> String) {
        self.storage = storage
        self.configuration = configuration
        self.hub = hub
        self.logger = logger
        self.startedAt = startedAt
        self.wake = wake
        self.baseURL = baseURL
        engine = AlertEngine(rules: configuration.alerts.effectiveRules, tracks: [], makeID: Self.makeID)
    }

    /// Restores the stored tracks, rule changes, silences and endpoints.
    func start() async throws {
        apiPatches = try await storage.alertRulePatches()
        for (name, patch) in apiPatches {
            let problems = effectiveRule(name, api: patch).problems()
            if !problems.isEmpty {
                logger.warning("a stored alert rule change no longer fits the configuration; ignored until it is set again",
                               metadata: ["rule": .string(name.rawValue), "problems": .string(problems.joined(separator: "; "))])
                apiPatches[name] = nil
            }
        }
        engine = AlertEngine(rules: rules(), tracks: try await storage.alertTracks(), makeID: Self.makeID)
        try await silencesChanged()
        try await endpointsChanged()
        roster = Dictionary(try await storage.agents().map { ($0.id, $0) }, uniquingKeysWith: { _, b in b })
    }

    // MARK: rules

    /// The rules the engine applies now.
    var engineRules: [AlertRuleName: AlertRule] { engine.rules }

    /// The effective rules, in rule order.
    func rules() -> [AlertRule] {
        AlertRuleName.allCases.map { effectiveRule($0, api: apiPatches[$0]) }
    }

    private func effectiveRule(_ name: AlertRuleName, api: AlertRulePatch?) -> AlertRule {
        var rule = AlertRule.defaultRule(name)
        if let yaml = configuration.alerts.rules[name] { rule = rule.applying(yaml) }
        if let api { rule = rule.applying(api) }
        return rule
    }

    /// Stores a change of a rule (merged into the API's earlier change of it; nil: back to the
    /// configuration and the defaults) and applies it to the engine at once. Throws a 400
    /// naming the fields when the result is not a valid rule.
    func setRulePatch(_ name: AlertRuleName, _ patch: AlertRulePatch?, now: Date = Date()) async throws -> AlertRule {
        let stored = patch.map { Self.merge(apiPatches[name], $0) }
        let rule = effectiveRule(name, api: stored)
        let problems = rule.problems()
        guard problems.isEmpty else { throw APIFailure.badRequest(problems.joined(separator: "; ")) }
        try await storage.setAlertRulePatch(name, stored, at: now)
        apiPatches[name] = stored
        logger.notice(stored == nil ? "alert rule reset" : "alert rule changed", metadata: ["rule": .string(name.rawValue)])
        await record(engine.setRules([rule], now: now), now: now)
        return rule
    }

    /// `new`'s fields over `base`'s.
    static func merge(_ base: AlertRulePatch?, _ new: AlertRulePatch) -> AlertRulePatch {
        guard var out = base else { return new }
        if let v = new.enabled { out.enabled = v }
        if let v = new.severity { out.severity = v }
        if let v = new.scope { out.scope = v }
        if let v = new.fire { out.fire = v }
        if let v = new.clear { out.clear = v }
        if let v = new.fireAfter { out.fireAfter = v }
        if let v = new.clearAfter { out.clearAfter = v }
        if let v = new.flapWindow { out.flapWindow = v }
        if let v = new.flapTransitions { out.flapTransitions = v }
        if let v = new.staleIntervals { out.staleIntervals = v }
        if let v = new.minAgents { out.minAgents = v }
        if let v = new.suites { out.suites = v }
        return out
    }

    // MARK: silences and endpoints

    func silencesChanged() async throws {
        silences = try await storage.silences(activeAt: Date())
    }

    func endpointsChanged() async throws {
        endpoints = try await storage.webhookEndpoints()
    }

    /// The id of an active silence that matches, if any.
    func silence(rule: AlertRuleName, scope: AlertScope, at now: Date = Date()) -> String? {
        silences.first { $0.isActive(at: now) && $0.matchers.matches(rule: rule, scope: scope) }?.id
    }

    /// The alerts with `silencedBy` set from the active silences.
    func annotate(_ alerts: [AlertInfo], now: Date = Date()) -> [AlertInfo] {
        alerts.map { a in
            var a = a
            a.silencedBy = silence(rule: a.rule, scope: a.scope, at: now)
            return a
        }
    }

    // MARK: inputs

    /// The roster and coverage now, then time passing (every `alerts.evaluate_interval`).
    func evaluate(now: Date = Date()) async {
        silences.removeAll { !$0.isActive(at: now) }
        var changes = AlertChanges()
        do {
            let agents = try await storage.agents()
            roster = Dictionary(agents.map { ($0.id, $0) }, uniquingKeysWith: { _, b in b })
            // An agent enrolled but never connected was never online: it is not watched yet
            // (enrolling and the first hello are moments apart).
            let watched = agents.filter { $0.state != .enrolled }
            let seen = await hub.lastSeenDates(now: now)
            let window = configuration.heartbeatInterval.seconds * Double(configuration.offlineAfterMissed)
            let reason = "no heartbeat for \(WireDuration(seconds: window)) (\(configuration.offlineAfterMissed) missed)"
            let snapshots = watched.map { a in
                AgentSnapshot(id: a.id, name: a.name, site: a.site, online: a.state == .online, revoked: a.state == .revoked,
                              lastSeenAt: seen[a.id] ?? a.lastSeenAt,
                              offlineSince: a.state == .offline ? a.stateSince : nil,
                              offlineReason: a.state == .offline ? reason : nil)
            }
            changes.merge(engine.observeAgents(snapshots, heartbeatIntervalS: configuration.heartbeatInterval.seconds, now: now))
        } catch {
            logger.warning("alerts: could not read the roster", metadata: ["error": .string("\(error)")])
        }
        // Coverage is counted in suite intervals (seconds to minutes): every 5 s is enough.
        if lastCoverage.map({ now.timeIntervalSince($0) >= max(5, configuration.alerts.evaluateInterval.seconds) }) ?? true {
            lastCoverage = now
            do {
                changes.merge(engine.observeCoverage(try await coverage(now: now), now: now))
            } catch {
                logger.warning("alerts: could not read the coverage", metadata: ["error": .string("\(error)")])
            }
        }
        changes.merge(engine.tick(now: now))
        await record(changes, now: now)
    }

    /// One observation per non-paused suite (or per pair of it, when coverage_stale is scoped by pair).
    private func coverage(now: Date) async throws -> [CoverageObservation] {
        guard let rule = engine.rules[.coverageStale], rule.enabled else { return [] }
        var out: [CoverageObservation] = []
        for suite in try await storage.suites() where !suite.spec.paused {
            let name = suite.spec.name
            if let only = rule.suites, !only.contains(name) { continue }
            let succeeded = try await storage.lastSucceeded(suite: name)
            let expectedSince = max(startedAt, suite.updatedAt)
            let interval = suite.spec.interval.seconds
            guard rule.scope == .pair else {
                out.append(CoverageObservation(suite: name, intervalS: interval, lastSuccessAt: succeeded.values.max(),
                                               expectedSince: expectedSince))
                continue
            }
            let tested = try await storage.lastTested(suite: name)
            for key in Set(tested.keys).union(succeeded.keys) {
                guard let calleeID = key.callee, let caller = roster[key.caller], let callee = roster[calleeID] else { continue }
                out.append(CoverageObservation(suite: name, intervalS: interval, lastSuccessAt: succeeded[key],
                                               expectedSince: expectedSince, caller: (caller.name, caller.site),
                                               callee: (callee.name, callee.site)))
            }
        }
        return out
    }

    /// Verdicts just committed by the run coordinator.
    func observeRuns(_ runs: [FinishedRun]) async {
        guard !runs.isEmpty else { return }
        if runs.contains(where: { $0.participants.contains { roster[$0.agentID] == nil } }) {
            if let agents = try? await storage.agents() {
                roster = Dictionary(agents.map { ($0.id, $0) }, uniquingKeysWith: { _, b in b })
            }
        }
        var changes = AlertChanges()
        for run in runs {
            let ordered = run.participants.filter { $0.role == .caller } + run.participants.filter { $0.role != .caller }
            let participants = ordered.map { p in
                RunObservation.Participant(agentID: p.agentID, name: roster[p.agentID]?.name ?? p.agentID,
                                           site: roster[p.agentID]?.site ?? "", role: p.role)
            }
            let c = run.completion
            changes.merge(engine.observeRun(RunObservation(
                runID: c.runID, suite: run.suite, testType: run.testType, status: c.status, cause: c.cause, endedAt: c.endedAt,
                directions: c.directions, call: c.call, participants: participants)))
        }
        await record(changes, now: Date())
    }

    // MARK: output

    /// The batch of these changes: transitions with ids, silenced or with one delivery per
    /// matching enabled endpoint.
    func batch(_ changes: AlertChanges, now: Date) -> AlertBatch {
        var batch = AlertBatch(tracks: changes.updated, removed: changes.removed)
        let renderer = WebhookRenderer(baseURL: baseURL())
        for event in changes.transitions {
            let track = event.track
            let silencedBy = silence(rule: track.rule, scope: track.scope, at: now)
            let transition = event.info(id: Self.makeID("tr_"), silenced: silencedBy != nil)
            batch.transitions.append(transition)
            logger.notice("alert \(event.to.rawValue)", metadata: [
                "rule": .string(track.rule.rawValue), "scope": .string(track.scope.key), "to": .string(event.to.rawValue),
                "alert": .string(track.alertID), "summary": .string(event.summary),
                "silenced_by": .string(silencedBy ?? "-"),
            ])
            guard silencedBy == nil, let alert = track.info() else { continue }
            for endpoint in endpoints where endpoint.info.enabled
                && WebhookEndpointRequest.matches(rules: endpoint.info.rules, minSeverity: endpoint.info.minSeverity,
                                                  rule: track.rule, severity: track.severity) {
                let payload = renderer.render(transition, alert: alert, format: endpoint.info.format,
                                              endpointName: endpoint.info.name)
                batch.deliveries.append(NewDelivery(
                    id: Self.makeID("msg_"), endpointID: endpoint.info.id, event: payload.event, alertID: track.alertID,
                    transitionID: transition.id, payload: payload, createdAt: now, dueAt: now))
            }
        }
        return batch
    }

    /// Stores the changes (after any batch still being stored) and wakes the delivery worker.
    private func record(_ changes: AlertChanges, now: Date) async {
        guard !changes.isEmpty else { return }
        let batch = batch(changes, now: now)
        let previous = storing
        let task = Task {
            await previous?.value
            await self.store(batch)
        }
        storing = task
        await task.value
    }

    private func store(_ batch: AlertBatch) async {
        do {
            try await storage.recordAlerts(batch)
            if !batch.deliveries.isEmpty { wake.signal() }
        } catch {
            logger.error("alerts: could not store an evaluation; the engine goes back to what is stored", metadata: [
                "transitions": .stringConvertible(batch.transitions.count), "error": .string("\(error)"),
            ])
            do {
                engine = AlertEngine(rules: rules(), tracks: try await storage.alertTracks(), makeID: Self.makeID)
            } catch {
                logger.error("alerts: could not reload the stored tracks", metadata: ["error": .string("\(error)")])
            }
        }
    }
}

/// Drives the alert service: the evaluation tick and the finished-run queue. At shutdown the
/// queue is drained after the run coordinator stopped (it is shut down before this).
struct AlertLoop: Service {
    let runtime: OrganizerRuntime

    func run() async throws {
        let service = runtime.alerts
        let interval = Duration.seconds(runtime.configuration.alerts.evaluateInterval.seconds)
        let finished = runtime.finishedRuns
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await runs in finished { await service.observeRuns(runs) }
            }
            await withGracefulShutdownHandler {
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    await service.evaluate()
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                }
            } onGracefulShutdown: {}
            runtime.finishedRunsInput.finish()
            await group.waitForAll()
        }
    }
}
