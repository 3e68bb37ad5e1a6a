import EarshotWire
import Foundation

// The alert engine (DESIGN §6, docs/alerts.md): observations in, alert transitions out. Pure:
// the time of every observation is an argument, ids come from an injected generator.
//
// Contract (lead); the implementation is the engine task's.

/// An agent as the roster sees it now.
public struct AgentSnapshot: Sendable, Equatable {
    public var id: String
    public var name: String
    public var site: String
    public var online: Bool
    public var revoked: Bool
    /// Its last heartbeat (or hello); nil when never seen.
    public var lastSeenAt: Date?
    /// When it went offline (the roster's state change), when it is offline.
    public var offlineSince: Date?
    /// Why ("no heartbeat for 3s (3 missed)").
    public var offlineReason: String?

    public init(id: String, name: String, site: String, online: Bool, revoked: Bool = false, lastSeenAt: Date? = nil,
                offlineSince: Date? = nil, offlineReason: String? = nil) {
        self.id = id
        self.name = name
        self.site = site
        self.online = online
        self.revoked = revoked
        self.lastSeenAt = lastSeenAt
        self.offlineSince = offlineSince
        self.offlineReason = offlineReason
    }
}

/// A run's verdict as the run-based rules see it.
public struct RunObservation: Sendable, Equatable {
    public struct Participant: Sendable, Equatable {
        public var agentID: String
        public var name: String
        public var site: String
        public var role: ParticipantRole

        public init(agentID: String, name: String, site: String, role: ParticipantRole) {
            self.agentID = agentID
            self.name = name
            self.site = site
            self.role = role
        }
    }

    public var runID: String
    public var suite: String
    public var testType: TestType
    public var status: RunStatus
    public var cause: RunCause?
    public var endedAt: Date
    /// The merged per-direction metrics of the verdict.
    public var directions: [StreamMetrics]
    public var call: CallSummary?
    /// Caller first.
    public var participants: [Participant]

    public init(runID: String, suite: String, testType: TestType, status: RunStatus, cause: RunCause? = nil,
                endedAt: Date, directions: [StreamMetrics] = [], call: CallSummary? = nil, participants: [Participant]) {
        self.runID = runID
        self.suite = suite
        self.testType = testType
        self.status = status
        self.cause = cause
        self.endedAt = endedAt
        self.directions = directions
        self.call = call
        self.participants = participants
    }
}

/// Coverage of one suite (pair nil) or one pair of it, for `coverage_stale`.
public struct CoverageObservation: Sendable, Equatable {
    public var suite: String
    /// The suite's planned interval between rounds.
    public var intervalS: Double
    /// The last passed or degraded run (of the pair, when given); nil when none yet.
    public var lastSuccessAt: Date?
    /// Since when the suite (or the pair) is expected to have results: its creation or resume,
    /// or the organizer's start, whichever is latest. Staleness is counted from
    /// max(lastSuccessAt, expectedSince).
    public var expectedSince: Date
    public var caller: (name: String, site: String)?
    public var callee: (name: String, site: String)?

    public init(suite: String, intervalS: Double, lastSuccessAt: Date?, expectedSince: Date,
                caller: (name: String, site: String)? = nil, callee: (name: String, site: String)? = nil) {
        self.suite = suite
        self.intervalS = intervalS
        self.lastSuccessAt = lastSuccessAt
        self.expectedSince = expectedSince
        self.caller = caller
        self.callee = callee
    }

    public static func == (a: CoverageObservation, b: CoverageObservation) -> Bool {
        a.suite == b.suite && a.intervalS == b.intervalS && a.lastSuccessAt == b.lastSuccessAt
            && a.expectedSince == b.expectedSince && a.caller?.name == b.caller?.name && a.callee?.name == b.callee?.name
    }
}

/// The identity of an alert.
public struct AlertKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var rule: AlertRuleName
    public var scopeKey: String

    public init(rule: AlertRuleName, scopeKey: String) {
        self.rule = rule
        self.scopeKey = scopeKey
    }

    public var description: String { "\(rule.rawValue)|\(scopeKey)" }
    public static func < (a: AlertKey, b: AlertKey) -> Bool { a.description < b.description }
}

/// The engine's memory of one key: what it shows (`state`), what the measurements say
/// (`rawFiring`), the streaks and the recent flips. Persisted (EarshotStore) so that a
/// restarted organizer continues the same streaks.
public struct AlertTrack: Codable, Sendable, Equatable {
    public var alertID: String
    public var rule: AlertRuleName
    public var scope: AlertScope
    public var severity: AlertSeverity
    /// nil until it first fires.
    public var state: AlertState?
    /// Firing by the measurements (hysteresis applied), whatever flapping shows.
    public var rawFiring: Bool
    /// Consecutive breaching / clearing observations.
    public var breaches: Int
    public var clears: Int
    /// When `rawFiring` flipped, within the flap window (oldest first).
    public var flips: [Date]
    public var startedAt: Date?
    public var updatedAt: Date
    public var resolvedAt: Date?
    public var measurement: AlertMeasurement?
    public var summary: String
    public var transitions: Int

    enum CodingKeys: String, CodingKey {
        case alertID = "alert_id", rule, scope, severity, state, rawFiring = "raw_firing", breaches, clears, flips
        case startedAt = "started_at", updatedAt = "updated_at", resolvedAt = "resolved_at", measurement, summary
        case transitions
    }

    public init(alertID: String, rule: AlertRuleName, scope: AlertScope, severity: AlertSeverity,
                state: AlertState? = nil, rawFiring: Bool = false, breaches: Int = 0, clears: Int = 0, flips: [Date] = [],
                startedAt: Date? = nil, updatedAt: Date, resolvedAt: Date? = nil, measurement: AlertMeasurement? = nil,
                summary: String = "", transitions: Int = 0) {
        self.alertID = alertID
        self.rule = rule
        self.scope = scope
        self.severity = severity
        self.state = state
        self.rawFiring = rawFiring
        self.breaches = breaches
        self.clears = clears
        self.flips = flips
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.resolvedAt = resolvedAt
        self.measurement = measurement
        self.summary = summary
        self.transitions = transitions
    }

    public var key: AlertKey { AlertKey(rule: rule, scopeKey: scope.key) }

    /// The API's view (nil until it has fired once).
    public func info(silencedBy: String? = nil) -> AlertInfo? {
        guard let state, let startedAt else { return nil }
        return AlertInfo(id: alertID, rule: rule, scope: scope, severity: severity, state: state, startedAt: startedAt,
                         updatedAt: updatedAt, resolvedAt: resolvedAt, summary: summary, measurement: measurement,
                         silencedBy: silencedBy, transitions: transitions)
    }
}

/// A transition the engine decided; the service gives it an id, stores it with its track and
/// the deliveries in one transaction.
public struct AlertTransitionEvent: Sendable, Equatable {
    public var track: AlertTrack
    public var from: AlertState?
    public var to: AlertState
    public var at: Date
    public var summary: String
    public var measurement: AlertMeasurement?

    public init(track: AlertTrack, from: AlertState?, to: AlertState, at: Date, summary: String,
                measurement: AlertMeasurement?) {
        self.track = track
        self.from = from
        self.to = to
        self.at = at
        self.summary = summary
        self.measurement = measurement
    }

    /// The stored form, with its id and whether a silence held it back.
    public func info(id: String, silenced: Bool) -> AlertTransitionInfo {
        AlertTransitionInfo(id: id, alertID: track.alertID, rule: track.rule, scope: track.scope, severity: track.severity,
                            from: from, to: to, at: at, summary: summary, measurement: measurement, silenced: silenced)
    }
}

/// What one evaluation changed: tracks to store (their new state), tracks to forget (quiet
/// and never fired: no state, no streak), and the transitions. A track that fired once is
/// kept (its alert id stays the key's for good).
public struct AlertChanges: Sendable, Equatable {
    public var transitions: [AlertTransitionEvent]
    public var updated: [AlertTrack]
    public var removed: [AlertKey]

    public init(transitions: [AlertTransitionEvent] = [], updated: [AlertTrack] = [], removed: [AlertKey] = []) {
        self.transitions = transitions
        self.updated = updated
        self.removed = removed
    }

    public var isEmpty: Bool { transitions.isEmpty && updated.isEmpty && removed.isEmpty }

    public mutating func merge(_ other: AlertChanges) {
        transitions += other.transitions
        // The later state of a key wins.
        let keys = Set(other.updated.map(\.key) + other.removed)
        updated.removeAll { keys.contains($0.key) }
        removed.removeAll { keys.contains($0) }
        updated += other.updated
        removed += other.removed
    }
}

/// Rules, hysteresis, flapping, site correlation and coverage, over injected observations.
///
/// * agent_offline: an offline agent breaches, an online one clears. Site correlation: while
///   another agent of the same site has also gone silent (last heard more than 1.5 heartbeat
///   intervals ago) but is not yet offline, the firing waits for it (at most one more
///   heartbeat interval + 1 s), so that a site cut off as a whole gives one `site_down` and no
///   `agent_offline`s. An agent killed alone fires at once.
/// * site_down: every non-revoked agent of a site with at least `min_agents` agents is
///   offline. While it is firing, the site's agents' `agent_offline` alerts do not fire (those
///   already firing stay as they are).
/// * run rules: see `AlertRuleName`; a not_run run is no observation; a run without the
///   metric (no media) is no observation for the value rules.
/// * coverage_stale: breaches when now − max(last success, expected since) > k × interval.
///
/// docs/alerts.md describes every rule, the hysteresis and the flapping state.
public struct AlertEngine: Sendable {
    public private(set) var rules: [AlertRuleName: AlertRule]
    public private(set) var tracks: [AlertKey: AlertTrack]
    private let makeID: @Sendable (String) -> String

    /// After a `site_down` resolves, the agents of the site that were offline with it get this
    /// long (plus one heartbeat interval) to come back before their own `agent_offline` may
    /// fire: agents reconnect with a jittered backoff capped at 60 s (docs/agent.md), so a site
    /// that comes back does not raise one alert per agent still on its way.
    public static let siteRecoveryGraceS: Double = 60

    /// `makeID("al_")` names a new alert.
    public init(rules: [AlertRule], tracks: [AlertTrack], makeID: @escaping @Sendable (String) -> String) {
        var byName: [AlertRuleName: AlertRule] = [:]
        for r in AlertRule.defaults { byName[r.name] = r }
        for r in rules { byName[r.name] = r }
        self.rules = byName
        self.tracks = Dictionary(tracks.map { ($0.key, $0) }, uniquingKeysWith: { _, b in b })
        self.makeID = makeID
    }

    /// The effective rule of a name.
    public func rule(_ name: AlertRuleName) -> AlertRule { rules[name] ?? AlertRule.defaultRule(name) }

    /// The alerts that fired at least once, in key order.
    public var alerts: [AlertTrack] { tracks.values.filter { $0.state != nil }.sorted { $0.key < $1.key } }

    /// New rules (a disabled rule's firing alerts resolve: "rule disabled"). A rule whose scope
    /// changed resolves its alerts of the old scope kind; a new severity is carried to the
    /// rule's alerts at once.
    public mutating func setRules(_ rules: [AlertRule], now: Date) -> AlertChanges {
        var changes = AlertChanges()
        for r in rules {
            self.rules[r.name] = r
            for key in tracks.keys.sorted() where key.rule == r.name {
                guard var t = tracks[key] else { continue }
                if !r.enabled {
                    forceResolve(key, reason: "rule disabled", at: now, into: &changes)
                } else if !Self.scopeFits(t.scope.kind, rule: r) {
                    forceResolve(key, reason: "rule scope changed to \(r.scope.rawValue)", at: now, into: &changes)
                } else if t.severity != r.severity {
                    let old = t
                    t.severity = r.severity
                    store(old: old, new: t, into: &changes)
                }
            }
        }
        return changes
    }

    /// The roster now (every tick): agent_offline and site_down.
    public mutating func observeAgents(_ agents: [AgentSnapshot], heartbeatIntervalS: Double, now: Date) -> AlertChanges {
        var changes = AlertChanges()
        let live = agents.filter { !$0.revoked }
        let liveNames = Set(live.map(\.name))
        var bySite: [String: [AgentSnapshot]] = [:]
        for a in live { bySite[a.site, default: []].append(a) }

        // site_down first: its state (after this call) decides whether agent_offline may fire.
        let siteRule = rule(.siteDown)
        let minAgents = siteRule.minAgents ?? 2
        var siteDown = Set<String>()
        var siteEligible = Set<String>()
        if siteRule.enabled {
            for (site, members) in bySite.sorted(by: { $0.key < $1.key }) where members.count >= minAgents {
                siteEligible.insert(site)
                let offline = members.filter { !$0.online }
                let names = offline.map(\.name).joined(separator: ", ")
                let all = offline.count == members.count
                let detail = all ? "all \(members.count) agents offline: \(names)"
                    : "\(members.count - offline.count) of \(members.count) agents online"
                        + (offline.isEmpty ? "" : " (offline: \(names))")
                let m = AlertMeasurement(metric: "agents_offline", value: Double(offline.count),
                                         threshold: Double(members.count), unit: "agents", detail: detail, at: now)
                apply(siteRule, .site(site), Observation(all ? .breach : .clear, m), at: now, into: &changes)
                // Breaching now (even before fire_after is reached) or still firing by the measurements.
                if all || tracks[AlertKey(rule: .siteDown, scopeKey: AlertScope.site(site).key)]?.rawFiring == true {
                    siteDown.insert(site)
                }
            }
            // Sites that can no longer be down (too few agents, or none left) resolve.
            for key in tracks.keys.sorted() where key.rule == .siteDown {
                guard let site = tracks[key]?.scope.site, !siteEligible.contains(site) else { continue }
                forceResolve(key, reason: "site \(site) has fewer than \(minAgents) agents", at: now, into: &changes)
            }
        }

        let offlineRule = rule(.agentOffline)
        guard offlineRule.enabled else { return changes }
        for a in live {
            let scope = AlertScope.agent(a.name, site: a.site)
            if a.online {
                let m = AlertMeasurement(metric: "offline_s", unit: "s", detail: "online again", at: now)
                apply(offlineRule, scope, Observation(.clear, m), at: now, into: &changes)
                continue
            }
            if siteDown.contains(a.site) { continue }  // the site's alert speaks for it
            if siteEligible.contains(a.site),
               waitsForSite(a, siblings: bySite[a.site] ?? [], heartbeatIntervalS: heartbeatIntervalS, now: now) {
                continue
            }
            let offlineS = a.offlineSince.map { max(0, now.timeIntervalSince($0)) }
            let m = AlertMeasurement(metric: "offline_s", value: offlineS, unit: "s",
                                     detail: "offline: \(a.offlineReason ?? "no heartbeat")", at: now)
            apply(offlineRule, scope, Observation(.breach, m), at: now, into: &changes)
        }
        // Revoked or deleted agents are not watched any more.
        for key in tracks.keys.sorted() where key.rule == .agentOffline {
            guard let name = tracks[key]?.scope.agent, !liveNames.contains(name) else { continue }
            let revoked = agents.contains { $0.name == name && $0.revoked }
            forceResolve(key, reason: revoked ? "agent revoked" : "agent removed", at: now, into: &changes)
        }
        return changes
    }

    /// A run's verdict: test_failed, mos_low, loss_high, jitter_high, rtt_high, registration_failed,
    /// session_refresh_failed.
    public mutating func observeRun(_ run: RunObservation) -> AlertChanges {
        var changes = AlertChanges()
        guard run.status.isFinal, run.status != .notRun, !run.participants.isEmpty else { return changes }
        let at = run.endedAt
        for name in [AlertRuleName.testFailed, .mosLow, .lossHigh, .jitterHigh, .rttHigh, .sessionRefreshFailed] {
            let r = rule(name)
            guard r.enabled, r.suites.map({ $0.contains(run.suite) }) ?? true else { continue }
            for (scope, members) in Self.runScopes(run, kind: r.scope) {
                let obs: Observation?
                switch name {
                case .testFailed: obs = Self.failedObservation(run)
                case .sessionRefreshFailed: obs = Self.sessionObservation(run)
                default:
                    let dirs = members.map { ids in run.directions.filter { ids.contains($0.from) || ids.contains($0.to) } }
                    obs = Self.valueObservation(r, directions: dirs ?? run.directions, run: run)
                }
                if let obs { apply(r, scope, obs, at: at, unit: "runs", into: &changes) }
            }
        }
        let reg = rule(.registrationFailed)
        if reg.enabled, reg.suites.map({ $0.contains(run.suite) }) ?? true {
            for (p, obs) in Self.registrationObservations(run) {
                apply(reg, .agent(p.name, site: p.site), obs, at: at, unit: "runs", into: &changes)
            }
        }
        return changes
    }

    /// Coverage of the suites (and pairs) now: coverage_stale. The list is the whole picture:
    /// an alert whose suite or pair is not in it any more (deleted, paused) resolves. A rule
    /// scoped `suite` looks at the observations without a pair, one scoped `pair` at those with.
    public mutating func observeCoverage(_ coverage: [CoverageObservation], now: Date) -> AlertChanges {
        var changes = AlertChanges()
        let r = rule(.coverageStale)
        guard r.enabled else { return changes }
        var seen = Set<AlertKey>()
        let k = Double(r.staleIntervals ?? 3)
        for c in coverage {
            if let suites = r.suites, !suites.contains(c.suite) { continue }
            let scope: AlertScope
            if let caller = c.caller, let callee = c.callee {
                guard r.scope == .pair else { continue }
                scope = .pair(caller.name, callee.name, callerSite: caller.site, calleeSite: callee.site)
            } else {
                guard r.scope != .pair else { continue }
                scope = .suite(c.suite)
            }
            seen.insert(AlertKey(rule: .coverageStale, scopeKey: scope.key))
            let since = max(c.lastSuccessAt ?? c.expectedSince, c.expectedSince)
            let age = now.timeIntervalSince(since)
            let limit = k * c.intervalS
            let stale = age > limit
            let what = c.lastSuccessAt.map { $0 >= c.expectedSince ? "last success \(Self.duration(age)) ago" : "no success since expected \(Self.duration(age)) ago" }
                ?? "no success yet, expected for \(Self.duration(age))"
            let detail = "\(what) \(stale ? ">" : "≤") \(Self.number(k)) × \(Self.duration(c.intervalS)) interval (suite \(c.suite))"
            let m = AlertMeasurement(metric: "since_success_s", value: age, threshold: limit, unit: "s", detail: detail, at: now)
            apply(r, scope, Observation(stale ? .breach : .clear, m), at: now, into: &changes)
        }
        for key in tracks.keys.sorted() where key.rule == .coverageStale && !seen.contains(key) {
            forceResolve(key, reason: "no longer expected to run (suite deleted or paused)", at: now, into: &changes)
        }
        return changes
    }

    /// Time passing: flapping alerts quiet for their window settle (to firing or resolved);
    /// flips older than the window are dropped.
    public mutating func tick(now: Date) -> AlertChanges {
        var changes = AlertChanges()
        for key in tracks.keys.sorted() {
            guard var t = tracks[key] else { continue }
            let old = t
            let r = rule(key.rule)
            let window = r.flapWindow.seconds
            t.flips.removeAll { now.timeIntervalSince($0) > window }
            // Flapping and no raw change left in the window: settle.
            if t.state == .flapping, t.flips.isEmpty {
                let to: AlertState = t.rawFiring ? .firing : .resolved
                var m = t.measurement ?? AlertMeasurement(metric: "status", detail: "", at: now)
                m.detail = "stable for \(Self.duration(window)): \(m.detail)"
                m.at = now
                transition(&t, rule: r, to: to, at: now, measurement: m, streak: nil, into: &changes)
            }
            store(old: old, new: t, into: &changes)
        }
        return changes
    }

    // MARK: - the state machine

    enum Verdict: Sendable { case breach, clear, band }

    struct Observation: Sendable {
        var verdict: Verdict
        var measurement: AlertMeasurement

        init(_ verdict: Verdict, _ measurement: AlertMeasurement) {
            self.verdict = verdict
            self.measurement = measurement
        }
    }

    /// One observation of one key: streaks (hysteresis), the raw state, flips and transitions.
    private mutating func apply(_ r: AlertRule, _ scope: AlertScope, _ obs: Observation, at now: Date,
                                unit: String? = nil, into changes: inout AlertChanges) {
        let key = AlertKey(rule: r.name, scopeKey: scope.key)
        let old = tracks[key]
        if old == nil, obs.verdict != .breach { return }  // nothing to remember
        var t = old ?? AlertTrack(alertID: makeID("al_"), rule: r.name, scope: scope, severity: r.severity, updatedAt: now)
        t.scope = scope
        // Streaks are capped at their counts: further observations of the same kind change nothing.
        switch obs.verdict {
        case .breach:
            t.breaches = min(t.breaches + 1, max(r.fireAfter, 1))
            t.clears = 0
        case .clear:
            t.clears = min(t.clears + 1, max(r.clearAfter, 1))
            t.breaches = 0
        case .band:
            t.breaches = 0
            t.clears = 0
        }
        var streak: Int?
        if !t.rawFiring, t.breaches >= r.fireAfter {
            t.rawFiring = true
            streak = t.breaches
        } else if t.rawFiring, t.clears >= r.clearAfter {
            t.rawFiring = false
            streak = t.clears
        }
        if let streak {
            t.flips.removeAll { now.timeIntervalSince($0) > r.flapWindow.seconds }
            t.flips.append(now)
            if t.state == .flapping {
                t.measurement = obs.measurement  // what the alert settles on
            } else if t.state != nil || t.rawFiring {
                let to: AlertState = t.flips.count >= r.flapTransitions ? .flapping : (t.rawFiring ? .firing : .resolved)
                transition(&t, rule: r, to: to, at: now, measurement: obs.measurement,
                           streak: unit.map { (streak, $0) }, into: &changes)
            }
        }
        store(old: old, new: t, into: &changes)
    }

    private func transition(_ t: inout AlertTrack, rule r: AlertRule, to: AlertState, at now: Date,
                            measurement: AlertMeasurement, streak: (Int, String)?, into changes: inout AlertChanges) {
        let from = t.state
        t.state = to
        t.updatedAt = now
        t.transitions += 1
        t.measurement = measurement
        t.severity = r.severity
        switch to {
        case .firing:
            if from == nil || from == .resolved || t.startedAt == nil { t.startedAt = now }
            t.resolvedAt = nil
        case .resolved:
            t.resolvedAt = now
        case .flapping:
            if t.startedAt == nil { t.startedAt = now }
            t.resolvedAt = nil
        }
        var summary = "\(r.name.rawValue) \(to.rawValue): \(measurement.detail) on \(Self.describe(t.scope))"
        if to == .flapping {
            summary += " (\(t.flips.count) changes in \(Self.duration(r.flapWindow.seconds)))"
        } else if let (n, unit) = streak, n > 1 {
            summary += " (\(n) \(unit) in a row)"
        }
        t.summary = summary
        changes.transitions.append(AlertTransitionEvent(track: t, from: from, to: to, at: now, summary: summary,
                                                        measurement: measurement))
    }

    /// Stops watching a key: a firing or flapping alert resolves with the reason, streaks reset;
    /// a key that never fired is forgotten.
    private mutating func forceResolve(_ key: AlertKey, reason: String, at now: Date, into changes: inout AlertChanges) {
        guard var t = tracks[key] else { return }
        let old = t
        t.rawFiring = false
        t.breaches = 0
        t.clears = 0
        if t.state == .firing || t.state == .flapping {
            let m = AlertMeasurement(metric: t.measurement?.metric ?? "status", detail: reason, at: now)
            transition(&t, rule: rule(key.rule), to: .resolved, at: now, measurement: m, streak: nil, into: &changes)
        }
        store(old: old, new: t, into: &changes)
    }

    /// Records a track's new state: stored when it changed, forgotten when quiet and never fired.
    private mutating func store(old: AlertTrack?, new t: AlertTrack, into changes: inout AlertChanges) {
        let key = t.key
        if t.state == nil, !t.rawFiring, t.breaches == 0, t.flips.isEmpty {
            if old != nil {
                tracks[key] = nil
                changes.merge(AlertChanges(removed: [key]))
            }
            return
        }
        guard t != old else { return }
        tracks[key] = t
        changes.merge(AlertChanges(updated: [t]))
    }

    /// True when the rule can still produce alerts of this scope kind.
    static func scopeFits(_ kind: AlertScopeKind, rule r: AlertRule) -> Bool {
        switch r.name {
        case .agentOffline: kind == .agent
        case .siteDown: kind == .site
        case .registrationFailed: kind == .agent
        case .coverageStale: r.scope == .pair ? kind == .pair : kind == .suite
        default:
            // A pair rule falls back to the agent scope for one-participant runs (register, options).
            kind == r.scope || (r.scope == .pair && kind == .agent)
        }
    }

    // MARK: - agents

    /// Site correlation: an offline agent waits while a sibling of its site is online but
    /// silent (on its way offline too), at most one heartbeat interval + 1 s past its own
    /// offline time; and, after the site's `site_down` resolved, while the agents that were
    /// down with the site reconnect (`siteRecoveryGraceS` + one heartbeat interval).
    private func waitsForSite(_ a: AgentSnapshot, siblings: [AgentSnapshot], heartbeatIntervalS h: Double,
                              now: Date) -> Bool {
        guard let since = a.offlineSince else { return false }
        let silentSibling = siblings.contains { s in
            s.id != a.id && s.online && s.lastSeenAt.map { now.timeIntervalSince($0) > 1.5 * h } == true
        }
        if silentSibling, now.timeIntervalSince(since) <= h + 1 { return true }
        let siteKey = AlertKey(rule: .siteDown, scopeKey: AlertScope.site(a.site).key)
        if let site = tracks[siteKey], site.state == .resolved, let resolvedAt = site.resolvedAt, since <= resolvedAt,
           now.timeIntervalSince(resolvedAt) <= Self.siteRecoveryGraceS + h {
            return true
        }
        return false
    }

    // MARK: - runs

    /// The scopes a run touches for a rule's scope kind, each with the agent ids whose
    /// directions count (nil: all of the run's).
    static func runScopes(_ run: RunObservation, kind: AlertScopeKind) -> [(AlertScope, Set<String>?)] {
        let ps = run.participants
        switch kind {
        case .pair:
            let caller = ps.first { $0.role == .caller } ?? ps[0]
            let others = ps.filter { $0.agentID != caller.agentID }
            let callee = others.first { $0.role == .callee } ?? others.first { $0.role == .bridge } ?? others.first
            guard let callee else {
                return [(.agent(caller.name, site: caller.site), [caller.agentID])]
            }
            return [(.pair(caller.name, callee.name, callerSite: caller.site, calleeSite: callee.site), nil)]
        case .agent:
            var seen = Set<String>()
            return ps.filter { seen.insert($0.agentID).inserted }.map { (.agent($0.name, site: $0.site), [$0.agentID]) }
        case .site:
            var order: [String] = []
            for p in ps where !order.contains(p.site) { order.append(p.site) }
            return order.map { site in (.site(site), Set(ps.filter { $0.site == site }.map(\.agentID))) }
        case .suite:
            return [(.suite(run.suite), nil)]
        }
    }

    static func failedObservation(_ run: RunObservation) -> Observation? {
        switch run.status {
        case .failed:
            var detail = "failed"
            if let c = run.cause {
                detail += ": \(c.code)"
                if let s = c.statusCode { detail += " \(s)" }
                if let d = c.detail, !d.isEmpty { detail += " (\(d))" }
            }
            return Observation(.breach, AlertMeasurement(metric: "status", detail: detail, runID: run.runID, at: run.endedAt))
        case .passed, .degraded:
            return Observation(.clear, AlertMeasurement(metric: "status", detail: run.status.rawValue, runID: run.runID,
                                                        at: run.endedAt))
        default:
            return nil
        }
    }

    static func sessionObservation(_ run: RunObservation) -> Observation? {
        let failedRefresh = run.call?.refreshes.first { $0.outcome == "failed" || $0.outcome == "timeout" }
        if run.cause?.code == "session_expired" || failedRefresh != nil {
            var detail: String
            if let f = failedRefresh {
                detail = "session refresh \(f.method) at \(number(f.atS)) s: \(f.outcome)"
                if let s = f.statusCode { detail += " (\(s))" }
            } else {
                detail = "session expired"
                if let d = run.cause?.detail, !d.isEmpty { detail += ": \(d)" }
            }
            return Observation(.breach, AlertMeasurement(metric: "session_refresh", detail: detail, runID: run.runID,
                                                         at: run.endedAt))
        }
        guard let interval = run.call?.sessionIntervalS else { return nil }
        let n = run.call?.refreshes.count ?? 0
        let detail = "session timer \(interval) s held (\(n) refresh\(n == 1 ? "" : "es"))"
        return Observation(.clear, AlertMeasurement(metric: "session_refresh", detail: detail, runID: run.runID,
                                                    at: run.endedAt))
    }

    /// registration_failed: a register run breaches (failed) or clears (passed, degraded) for
    /// its registrant; a call that could not register breaches for the agent that could not
    /// (the cause's agent, else the caller); a call that passed or degraded clears for its
    /// participants (they got through whatever registration the suite needs).
    static func registrationObservations(_ run: RunObservation) -> [(RunObservation.Participant, Observation)] {
        let ps = run.participants
        func m(_ detail: String) -> AlertMeasurement {
            AlertMeasurement(metric: "status", detail: detail, runID: run.runID, at: run.endedAt)
        }
        var reason = "registration failed"
        if let c = run.cause, c.code != "registration_failed" || c.statusCode != nil || c.detail != nil {
            if c.code != "registration_failed" { reason += ": \(c.code)" }
            if let s = c.statusCode { reason += " \(s)" }
            if let d = c.detail, !d.isEmpty { reason += " (\(d))" }
        }
        if run.testType == .register {
            let registrant = ps.first { $0.role == .registrant } ?? ps[0]
            switch run.status {
            case .failed: return [(registrant, Observation(.breach, m(reason)))]
            case .passed, .degraded: return [(registrant, Observation(.clear, m("registered")))]
            default: return []
            }
        }
        if run.cause?.code == "registration_failed" {
            let at = run.cause?.agentID.flatMap { id in ps.first { $0.agentID == id } }
                ?? ps.first { $0.role == .caller } ?? ps[0]
            return [(at, Observation(.breach, m(reason)))]
        }
        if run.status == .passed || run.status == .degraded {
            return ps.map { ($0, Observation(.clear, m("\(run.testType.rawValue) run \(run.status.rawValue)"))) }
        }
        return []
    }

    /// The worst direction of the directions given, compared with the rule's thresholds; nil
    /// when none of them carries the metric.
    static func valueObservation(_ r: AlertRule, directions: [StreamMetrics], run: RunObservation) -> Observation? {
        guard let fire = r.fire, let clear = r.clear else { return nil }
        var worst: (metric: String, value: Double, dir: StreamMetrics)?
        for d in directions {
            let candidate: (String, Double)?
            switch r.name {
            case .mosLow: candidate = d.mosCQ.map { ("mos_cq", $0) } ?? d.mosLQ.map { ("mos_lq", $0) }
            case .lossHigh: candidate = ("loss_pct", d.lossPct)
            case .jitterHigh: candidate = d.jitterMeanMs.map { ("jitter_mean_ms", $0) }
            case .rttHigh: candidate = d.rttMs.map { ("rtt_ms", $0) }
            default: candidate = nil
            }
            guard let (metric, value) = candidate, value.isFinite else { continue }
            if let w = worst, r.lowerIsWorse ? value >= w.value : value <= w.value { continue }
            worst = (metric, value, d)
        }
        guard let worst else { return nil }
        let v = worst.value
        let verdict: Verdict
        let op: String
        let threshold: Double?
        if r.lowerIsWorse ? v < fire : v > fire {
            (verdict, op, threshold) = (.breach, r.lowerIsWorse ? "<" : ">", fire)
        } else if r.lowerIsWorse ? v >= clear : v <= clear {
            (verdict, op, threshold) = (.clear, r.lowerIsWorse ? "≥" : "≤", clear)
        } else {
            (verdict, op, threshold) = (.band, "", nil)
        }
        let (label, unit, decimals): (String, String?, Int) = switch worst.metric {
        case "mos_cq": ("MOS-CQ", nil, 2)
        case "mos_lq": ("MOS-LQ", nil, 2)
        case "loss_pct": ("loss", "%", 2)
        case "jitter_mean_ms": ("jitter", "ms", 1)
        default: ("RTT", "ms", 0)
        }
        func show(_ x: Double) -> String {
            let n = decimals == 2 && unit == nil ? String(format: "%.2f", x) : number(x, decimals: max(decimals, 1))
            return unit.map { $0 == "%" ? n + "%" : "\(n) \($0)" } ?? n
        }
        let names = Dictionary(run.participants.map { ($0.agentID, $0.name) }, uniquingKeysWith: { a, _ in a })
        let direction = "\(names[worst.dir.from] ?? worst.dir.from)→\(names[worst.dir.to] ?? worst.dir.to)"
        let figure = threshold.map { "\(label) \(show(v)) \(op) \(show($0))" }
            ?? "\(label) \(show(v)), between \(show(fire)) and \(show(clear))"
        return Observation(verdict, AlertMeasurement(metric: worst.metric, value: v, threshold: threshold, unit: unit,
                                                     direction: direction, detail: "\(figure) (\(direction))",
                                                     runID: run.runID, at: run.endedAt))
    }

    // MARK: - text

    /// A scope for people: `alice→bob`, `agent alice (site hq)`, `site branch-2`, `suite mesh`.
    public static func describe(_ scope: AlertScope) -> String {
        switch scope.kind {
        case .pair: "\(scope.caller ?? "?")→\(scope.callee ?? "?")"
        case .agent: "agent \(scope.agent ?? "?")" + (scope.site.map { " (site \($0))" } ?? "")
        case .site: "site \(scope.site ?? "?")"
        case .suite: "suite \(scope.suite ?? "?")"
        }
    }

    /// `3`, `4.2`, `3.25`: at most `decimals` decimals, no trailing zeros.
    static func number(_ x: Double, decimals: Int = 2) -> String {
        var s = String(format: "%.\(decimals)f", x)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// `45s`, `12m`, `2.5h`.
    static func duration(_ s: Double) -> String {
        if s < 120 { return "\(number(s, decimals: 1))s" }
        if s < 7200 { return "\(number(s / 60, decimals: 1))m" }
        return "\(number(s / 3600, decimals: 1))h"
    }
}
