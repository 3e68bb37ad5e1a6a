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
public struct AlertEngine: Sendable {
    public private(set) var rules: [AlertRuleName: AlertRule]
    public private(set) var tracks: [AlertKey: AlertTrack]
    private let makeID: @Sendable (String) -> String

    /// `makeID("al_")` names a new alert.
    public init(rules: [AlertRule], tracks: [AlertTrack], makeID: @escaping @Sendable (String) -> String) {
        var byName: [AlertRuleName: AlertRule] = [:]
        for r in AlertRule.defaults { byName[r.name] = r }
        for r in rules { byName[r.name] = r }
        self.rules = byName
        self.tracks = Dictionary(tracks.map { ($0.key, $0) }, uniquingKeysWith: { _, b in b })
        self.makeID = makeID
    }

    /// New rules (a disabled rule's firing alerts resolve: "rule disabled").
    public mutating func setRules(_ rules: [AlertRule], now: Date) -> AlertChanges {
        for r in rules { self.rules[r.name] = r }
        return AlertChanges()
    }

    /// The roster now (every tick): agent_offline and site_down.
    public mutating func observeAgents(_ agents: [AgentSnapshot], heartbeatIntervalS: Double, now: Date) -> AlertChanges {
        AlertChanges()
    }

    /// A run's verdict: test_failed, mos_low, loss_high, jitter_high, rtt_high, registration_failed,
    /// session_refresh_failed.
    public mutating func observeRun(_ run: RunObservation) -> AlertChanges {
        AlertChanges()
    }

    /// Coverage of the suites (and pairs) now: coverage_stale.
    public mutating func observeCoverage(_ coverage: [CoverageObservation], now: Date) -> AlertChanges {
        AlertChanges()
    }

    /// Time passing: flapping alerts quiet for their window settle (to firing or resolved);
    /// flips older than the window are dropped.
    public mutating func tick(now: Date) -> AlertChanges {
        AlertChanges()
    }
}
