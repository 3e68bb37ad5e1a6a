import Foundation

// Alerts and webhooks (DESIGN §6, docs/alerts.md): the API's resources. Paths, all JSON, bearer tokens:
//
//   GET    /v1/alerts?state=&rule=&scope=&limit=   [AlertInfo]   (read; default: firing and flapping;
//                                                   state=all for every alert, resolved included)
//   GET    /v1/alerts/{id}                       AlertDetail                               (read)
//   GET    /v1/alert-rules                       [AlertRule] (the effective rules)         (read)
//   PUT    /v1/alert-rules/{name}                AlertRulePatch → AlertRule (stored, survives restarts) (admin)
//   DELETE /v1/alert-rules/{name}                → AlertRule (back to YAML/defaults)       (admin)
//   GET    /v1/silences?all=true                 [Silence] (default: active only)          (read)
//   POST   /v1/silences                          SilenceRequest → Silence                  (admin)
//   DELETE /v1/silences/{id}                     (expires it now)                          (admin)
//   GET    /v1/webhooks                          [WebhookEndpointInfo]                     (read)
//   POST   /v1/webhooks                          WebhookEndpointRequest → WebhookEndpointInfo (secret shown once) (admin)
//   GET    /v1/webhooks/{id|name}                WebhookEndpointInfo                       (read)
//   DELETE /v1/webhooks/{id|name}                                                          (admin)
//   POST   /v1/webhooks/{id|name}/enable         WebhookEndpointInfo (after a 410)         (admin)
//   POST   /v1/webhooks/{id|name}/test           → WebhookDelivery (an `earshot.test` event queued now) (admin)
//   GET    /v1/deliveries?endpoint=&status=&alert=&limit=   [WebhookDelivery]              (read)
//   GET    /v1/deliveries/{id}                   WebhookDelivery with its attempts         (read)
//   POST   /v1/deliveries/retry                  DeliveryRetryRequest → DeliveryRetryResult (admin)

/// The rules (DESIGN §6). Stable snake_case names.
public enum AlertRuleName: String, Codable, Sendable, Equatable, Hashable, CaseIterable, Comparable {
    /// An agent missed its heartbeats (offline). Scope: agent.
    case agentOffline = "agent_offline"
    /// Runs failed (status `failed`). Scope: pair by default.
    case testFailed = "test_failed"
    /// The worst direction's MOS-CQ (MOS-LQ when no RTT was measured) below `fire`. Scope: pair.
    case mosLow = "mos_low"
    /// The worst direction's loss % above `fire`. Scope: pair.
    case lossHigh = "loss_high"
    /// The worst direction's mean jitter (ms) above `fire`. Scope: pair.
    case jitterHigh = "jitter_high"
    /// The round-trip time (ms) above `fire`. Scope: pair.
    case rttHigh = "rtt_high"
    /// A register run failed, or a call could not register first. Scope: agent.
    case registrationFailed = "registration_failed"
    /// A call dropped because a session refresh (RFC 4028) failed or went unanswered. Scope: pair.
    case sessionRefreshFailed = "session_refresh_failed"
    /// No successful (passed or degraded) result for `stale_intervals` × the suite's interval. Scope: suite (or pair).
    case coverageStale = "coverage_stale"
    /// Every agent of a site offline: one alert that suppresses the site's `agent_offline`s. Scope: site.
    case siteDown = "site_down"

    public static func < (a: AlertRuleName, b: AlertRuleName) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public enum AlertSeverity: String, Codable, Sendable, Equatable, Hashable, CaseIterable, Comparable {
    case info, warning, critical

    public static func < (a: AlertSeverity, b: AlertSeverity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public enum AlertScopeKind: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    case agent, pair, site, suite
}

/// What an alert is about. Agents are named by their (unique) names; sites of the agents are
/// carried so that silences and receivers can match on them.
public struct AlertScope: Codable, Sendable, Equatable, Hashable {
    public var kind: AlertScopeKind
    /// kind agent.
    public var agent: String?
    /// kind pair: the calling and the called agent (ordered).
    public var caller: String?
    public var callee: String?
    /// kind site; for agent and pair scopes, the sites of the agents involved (informative).
    public var site: String?
    public var callerSite: String?
    public var calleeSite: String?
    /// kind suite; for pair scopes the suite is not part of the key (a pair is a pair in any suite).
    public var suite: String?

    enum CodingKeys: String, CodingKey {
        case kind, agent, caller, callee, site, callerSite = "caller_site", calleeSite = "callee_site", suite
    }

    public init(kind: AlertScopeKind, agent: String? = nil, caller: String? = nil, callee: String? = nil,
                site: String? = nil, callerSite: String? = nil, calleeSite: String? = nil, suite: String? = nil) {
        self.kind = kind
        self.agent = agent
        self.caller = caller
        self.callee = callee
        self.site = site
        self.callerSite = callerSite
        self.calleeSite = calleeSite
        self.suite = suite
    }

    public static func agent(_ name: String, site: String?) -> AlertScope { AlertScope(kind: .agent, agent: name, site: site) }
    public static func pair(_ caller: String, _ callee: String, callerSite: String?, calleeSite: String?) -> AlertScope {
        AlertScope(kind: .pair, caller: caller, callee: callee, callerSite: callerSite, calleeSite: calleeSite)
    }
    public static func site(_ name: String) -> AlertScope { AlertScope(kind: .site, site: name) }
    public static func suite(_ name: String) -> AlertScope { AlertScope(kind: .suite, suite: name) }

    /// The identity within a rule: `agent=alice`, `pair=alice>bob`, `site=branch-2`, `suite=mesh`.
    public var key: String {
        switch kind {
        case .agent: "agent=\(agent ?? "")"
        case .pair: "pair=\(caller ?? "")>\(callee ?? "")"
        case .site: "site=\(site ?? "")"
        case .suite: "suite=\(suite ?? "")"
        }
    }

    /// Every site this scope touches (a pair touches both of its agents' sites).
    public var sites: [String] {
        var out: [String] = []
        for s in [site, callerSite, calleeSite] { if let s, !out.contains(s) { out.append(s) } }
        return out
    }
}

/// `firing → resolved`, and `flapping` when it changed too often in the flap window.
public enum AlertState: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    case firing, resolved, flapping
}

/// The figure that caused a transition. `value`/`threshold` are nil for yes/no rules
/// (offline, failed), which say what happened in `detail`.
public struct AlertMeasurement: Codable, Sendable, Equatable, Hashable {
    /// `mos_cq`, `mos_lq`, `loss_pct`, `jitter_mean_ms`, `rtt_ms`, `status`, `offline_s`, `agents_offline`,
    /// `since_success_s`.
    public var metric: String
    public var value: Double?
    /// The threshold compared with (the fire threshold on firing, the clear one on resolving).
    public var threshold: Double?
    public var unit: String?
    /// The direction measured, `alice→bob`, when the metric is one direction's.
    public var direction: String?
    /// Human text: "MOS-CQ 3.21 < 3.60 (bob→alice)", "offline: no heartbeat for 3s (3 missed)".
    public var detail: String
    /// The run that gave the figure.
    public var runID: String?
    public var at: Date

    enum CodingKeys: String, CodingKey { case metric, value, threshold, unit, direction, detail, runID = "run_id", at }

    public init(metric: String, value: Double? = nil, threshold: Double? = nil, unit: String? = nil,
                direction: String? = nil, detail: String, runID: String? = nil, at: Date) {
        self.metric = metric
        self.value = value
        self.threshold = threshold
        self.unit = unit
        self.direction = direction
        self.detail = detail
        self.runID = runID
        self.at = at
    }
}

/// One rule as it is applied: defaults ⊕ the configuration file's `alerts.rules` ⊕ what the API
/// stored (`PUT /v1/alert-rules/{name}`).
///
/// A value rule breaches when the measurement is beyond `fire` (below it for `mos_low`, above it
/// for the others) and counts as clear when it is back on the good side of `clear`; a value in
/// between is neither and breaks both streaks (the hysteresis band). Yes/no rules (offline,
/// failed) have no thresholds. `fire_after` consecutive breaches fire; `clear_after`
/// consecutive clears resolve. `flap_transitions` firing/resolved changes within `flap_window`
/// put the alert in `flapping` (one transition, then quiet) until it has stayed in one raw
/// state for a whole `flap_window`.
public struct AlertRule: Codable, Sendable, Equatable, Hashable {
    public var name: AlertRuleName
    public var enabled: Bool
    public var severity: AlertSeverity
    public var scope: AlertScopeKind
    public var fire: Double?
    public var clear: Double?
    public var fireAfter: Int
    public var clearAfter: Int
    public var flapWindow: WireDuration
    public var flapTransitions: Int
    /// coverage_stale: intervals without a success before it fires.
    public var staleIntervals: Int?
    /// site_down: the fewest agents a site needs for a site alert (smaller sites get agent_offline).
    public var minAgents: Int?
    /// Only these suites (run-based rules and coverage_stale); nil = all.
    public var suites: [String]?

    enum CodingKeys: String, CodingKey {
        case name, enabled, severity, scope, fire, clear, fireAfter = "fire_after", clearAfter = "clear_after"
        case flapWindow = "flap_window", flapTransitions = "flap_transitions", staleIntervals = "stale_intervals"
        case minAgents = "min_agents", suites
    }

    public init(name: AlertRuleName, enabled: Bool = true, severity: AlertSeverity, scope: AlertScopeKind,
                fire: Double? = nil, clear: Double? = nil, fireAfter: Int = 1, clearAfter: Int = 1,
                flapWindow: WireDuration = .minutes(30), flapTransitions: Int = 4, staleIntervals: Int? = nil,
                minAgents: Int? = nil, suites: [String]? = nil) {
        self.name = name
        self.enabled = enabled
        self.severity = severity
        self.scope = scope
        self.fire = fire
        self.clear = clear
        self.fireAfter = fireAfter
        self.clearAfter = clearAfter
        self.flapWindow = flapWindow
        self.flapTransitions = flapTransitions
        self.staleIntervals = staleIntervals
        self.minAgents = minAgents
        self.suites = suites
    }

    /// True for rules compared with a number (`mos_low`, `loss_high`, `jitter_high`, `rtt_high`).
    public var hasThresholds: Bool { [.mosLow, .lossHigh, .jitterHigh, .rttHigh].contains(name) }
    /// True when lower is worse (`mos_low`).
    public var lowerIsWorse: Bool { name == .mosLow }

    /// Out of the box (docs/alerts.md has the table and the reasons).
    public static let defaults: [AlertRule] = [
        AlertRule(name: .agentOffline, severity: .critical, scope: .agent),
        AlertRule(name: .testFailed, severity: .warning, scope: .pair, fireAfter: 2, clearAfter: 2),
        AlertRule(name: .mosLow, severity: .warning, scope: .pair, fire: 3.6, clear: 3.8, fireAfter: 2, clearAfter: 3),
        AlertRule(name: .lossHigh, severity: .warning, scope: .pair, fire: 3, clear: 1, fireAfter: 2, clearAfter: 3),
        AlertRule(name: .jitterHigh, severity: .warning, scope: .pair, fire: 30, clear: 20, fireAfter: 2, clearAfter: 3),
        AlertRule(name: .rttHigh, severity: .warning, scope: .pair, fire: 300, clear: 250, fireAfter: 2, clearAfter: 3),
        AlertRule(name: .registrationFailed, severity: .critical, scope: .agent, fireAfter: 1, clearAfter: 1),
        AlertRule(name: .sessionRefreshFailed, severity: .critical, scope: .pair, fireAfter: 1, clearAfter: 2),
        AlertRule(name: .coverageStale, severity: .warning, scope: .suite, staleIntervals: 3),
        AlertRule(name: .siteDown, severity: .critical, scope: .site, minAgents: 2),
    ]

    public static func defaultRule(_ name: AlertRuleName) -> AlertRule { defaults.first { $0.name == name }! }

    /// Field names a person can fix, empty when valid.
    public func problems() -> [String] {
        var out: [String] = []
        let n = name.rawValue
        if fireAfter < 1 { out.append("\(n).fire_after: must be at least 1") }
        if clearAfter < 1 { out.append("\(n).clear_after: must be at least 1") }
        if flapTransitions < 2 { out.append("\(n).flap_transitions: must be at least 2") }
        if flapWindow.seconds <= 0 { out.append("\(n).flap_window: must be longer than 0") }
        if hasThresholds {
            if let fire, let clear {
                if lowerIsWorse ? clear < fire : clear > fire {
                    out.append("\(n).clear: \(clear) is on the wrong side of fire (\(fire)); "
                               + (lowerIsWorse ? "clear must be ≥ fire" : "clear must be ≤ fire"))
                }
            } else {
                out.append("\(n): fire and clear thresholds are both needed")
            }
        } else if fire != nil || clear != nil {
            out.append("\(n): takes no fire/clear thresholds")
        }
        if let k = staleIntervals, k < 1 { out.append("\(n).stale_intervals: must be at least 1") }
        if let m = minAgents, m < 1 { out.append("\(n).min_agents: must be at least 1") }
        if name == .siteDown, scope != .site { out.append("\(n).scope: site_down is scoped by site") }
        if name == .agentOffline || name == .registrationFailed, scope != .agent {
            out.append("\(n).scope: \(n) is scoped by agent")
        }
        if name == .coverageStale, scope != .suite, scope != .pair { out.append("\(n).scope: suite or pair") }
        return out
    }

    /// This rule with the patch's fields set.
    public func applying(_ patch: AlertRulePatch) -> AlertRule {
        var r = self
        if let v = patch.enabled { r.enabled = v }
        if let v = patch.severity { r.severity = v }
        if let v = patch.scope { r.scope = v }
        if let v = patch.fire { r.fire = v }
        if let v = patch.clear { r.clear = v }
        if let v = patch.fireAfter { r.fireAfter = v }
        if let v = patch.clearAfter { r.clearAfter = v }
        if let v = patch.flapWindow { r.flapWindow = v }
        if let v = patch.flapTransitions { r.flapTransitions = v }
        if let v = patch.staleIntervals { r.staleIntervals = v }
        if let v = patch.minAgents { r.minAgents = v }
        if let v = patch.suites { r.suites = v.isEmpty ? nil : v }
        return r
    }
}

/// A change of one rule: only the fields given change (YAML `alerts.rules.<name>` and
/// `PUT /v1/alert-rules/{name}` use this shape).
public struct AlertRulePatch: Codable, Sendable, Equatable, Hashable {
    public var enabled: Bool?
    public var severity: AlertSeverity?
    public var scope: AlertScopeKind?
    public var fire: Double?
    public var clear: Double?
    public var fireAfter: Int?
    public var clearAfter: Int?
    public var flapWindow: WireDuration?
    public var flapTransitions: Int?
    public var staleIntervals: Int?
    public var minAgents: Int?
    /// An empty list means all suites.
    public var suites: [String]?

    enum CodingKeys: String, CodingKey {
        case enabled, severity, scope, fire, clear, fireAfter = "fire_after", clearAfter = "clear_after"
        case flapWindow = "flap_window", flapTransitions = "flap_transitions", staleIntervals = "stale_intervals"
        case minAgents = "min_agents", suites
    }

    public init(enabled: Bool? = nil, severity: AlertSeverity? = nil, scope: AlertScopeKind? = nil, fire: Double? = nil,
                clear: Double? = nil, fireAfter: Int? = nil, clearAfter: Int? = nil, flapWindow: WireDuration? = nil,
                flapTransitions: Int? = nil, staleIntervals: Int? = nil, minAgents: Int? = nil, suites: [String]? = nil) {
        self.enabled = enabled
        self.severity = severity
        self.scope = scope
        self.fire = fire
        self.clear = clear
        self.fireAfter = fireAfter
        self.clearAfter = clearAfter
        self.flapWindow = flapWindow
        self.flapTransitions = flapTransitions
        self.staleIntervals = staleIntervals
        self.minAgents = minAgents
        self.suites = suites
    }
}

/// An alert: one per rule + scope, for as long as the organizer keeps it.
public struct AlertInfo: Codable, Sendable, Equatable {
    /// `al_…`, stable for the key.
    public var id: String
    public var rule: AlertRuleName
    public var scope: AlertScope
    public var severity: AlertSeverity
    public var state: AlertState
    /// When the current episode began (its first firing).
    public var startedAt: Date
    /// The last transition.
    public var updatedAt: Date
    public var resolvedAt: Date?
    /// One line: "MOS-CQ 3.21 < 3.60 on alice→bob (2 runs in a row)".
    public var summary: String
    public var measurement: AlertMeasurement?
    /// The id of an active silence that matches, if any.
    public var silencedBy: String?
    public var transitions: Int

    enum CodingKeys: String, CodingKey {
        case id, rule, scope, severity, state, startedAt = "started_at", updatedAt = "updated_at"
        case resolvedAt = "resolved_at", summary, measurement, silencedBy = "silenced_by", transitions
    }

    public init(id: String, rule: AlertRuleName, scope: AlertScope, severity: AlertSeverity, state: AlertState,
                startedAt: Date, updatedAt: Date, resolvedAt: Date? = nil, summary: String,
                measurement: AlertMeasurement? = nil, silencedBy: String? = nil, transitions: Int = 0) {
        self.id = id
        self.rule = rule
        self.scope = scope
        self.severity = severity
        self.state = state
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.resolvedAt = resolvedAt
        self.summary = summary
        self.measurement = measurement
        self.silencedBy = silencedBy
        self.transitions = transitions
    }
}

/// One stored state change of an alert.
public struct AlertTransitionInfo: Codable, Sendable, Equatable {
    /// `tr_…`.
    public var id: String
    public var alertID: String
    public var rule: AlertRuleName
    public var scope: AlertScope
    public var severity: AlertSeverity
    /// nil for an alert's first firing.
    public var from: AlertState?
    public var to: AlertState
    public var at: Date
    public var summary: String
    public var measurement: AlertMeasurement?
    /// A silence matched: stored, not delivered.
    public var silenced: Bool

    enum CodingKeys: String, CodingKey {
        case id, alertID = "alert_id", rule, scope, severity, from, to, at, summary, measurement, silenced
    }

    public init(id: String, alertID: String, rule: AlertRuleName, scope: AlertScope, severity: AlertSeverity,
                from: AlertState?, to: AlertState, at: Date, summary: String, measurement: AlertMeasurement? = nil,
                silenced: Bool = false) {
        self.id = id
        self.alertID = alertID
        self.rule = rule
        self.scope = scope
        self.severity = severity
        self.from = from
        self.to = to
        self.at = at
        self.summary = summary
        self.measurement = measurement
        self.silenced = silenced
    }
}

public struct AlertDetail: Codable, Sendable, Equatable {
    public var alert: AlertInfo
    /// Newest first.
    public var transitions: [AlertTransitionInfo]
    /// The deliveries of its transitions, newest first.
    public var deliveries: [WebhookDelivery]

    public init(alert: AlertInfo, transitions: [AlertTransitionInfo], deliveries: [WebhookDelivery]) {
        self.alert = alert
        self.transitions = transitions
        self.deliveries = deliveries
    }
}

// MARK: silences

/// Matches alerts by rule and by scope fields; every given matcher must hold. `site` matches
/// any scope that touches the site (an agent of it, a pair with one end in it, the site).
public struct SilenceMatchers: Codable, Sendable, Equatable, Hashable {
    public var rule: AlertRuleName?
    public var agent: String?
    public var site: String?
    public var suite: String?
    /// `alice>bob`.
    public var pair: String?

    public init(rule: AlertRuleName? = nil, agent: String? = nil, site: String? = nil, suite: String? = nil,
                pair: String? = nil) {
        self.rule = rule
        self.agent = agent
        self.site = site
        self.suite = suite
        self.pair = pair
    }

    public var isEmpty: Bool { rule == nil && agent == nil && site == nil && suite == nil && pair == nil }

    /// True when every given matcher holds for this rule and scope. An agent matcher matches
    /// the agent scope and either end of a pair.
    public func matches(rule r: AlertRuleName, scope s: AlertScope) -> Bool {
        if let rule, rule != r { return false }
        if let agent, s.agent != agent, s.caller != agent, s.callee != agent { return false }
        if let site, !s.sites.contains(site) { return false }
        if let suite, s.suite != suite { return false }
        if let pair, s.kind != .pair || "\(s.caller ?? "")>\(s.callee ?? "")" != pair { return false }
        return true
    }
}

public struct SilenceRequest: Codable, Sendable, Equatable {
    public var matchers: SilenceMatchers
    /// How long from now (default 1 h); or `until`.
    public var duration: WireDuration?
    public var until: Date?
    public var comment: String?

    public init(matchers: SilenceMatchers, duration: WireDuration? = nil, until: Date? = nil, comment: String? = nil) {
        self.matchers = matchers
        self.duration = duration
        self.until = until
        self.comment = comment
    }
}

public struct Silence: Codable, Sendable, Equatable {
    /// `si_…`.
    public var id: String
    public var matchers: SilenceMatchers
    public var comment: String?
    public var createdAt: Date
    public var endsAt: Date

    enum CodingKeys: String, CodingKey { case id, matchers, comment, createdAt = "created_at", endsAt = "ends_at" }

    public init(id: String, matchers: SilenceMatchers, comment: String?, createdAt: Date, endsAt: Date) {
        self.id = id
        self.matchers = matchers
        self.comment = comment
        self.createdAt = createdAt
        self.endsAt = endsAt
    }

    public func isActive(at now: Date) -> Bool { createdAt <= now && now < endsAt }
}

// MARK: webhooks

/// What an endpoint receives (docs/webhooks.md has each body).
public enum WebhookFormat: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    /// Earshot's JSON: `{type, timestamp, data: {alert, transition, measurement, run}}`.
    case native
    /// The Alertmanager webhook body, version 4: receivers built for Alertmanager work unchanged.
    case alertmanager
    /// A Slack incoming webhook (`text` + blocks).
    case slack
    /// A Microsoft Teams incoming webhook (MessageCard).
    case teams
    /// A real Alertmanager's `POST /api/v2/alerts` (the URL is the Alertmanager's base URL):
    /// labels, annotations, startsAt, endsAt on resolve; firing alerts are re-sent while firing.
    case alertmanagerAPI = "alertmanager_api"
}

public struct WebhookEndpointRequest: Codable, Sendable, Equatable {
    /// Unique; letters, digits, `-_.`.
    public var name: String
    /// http or https.
    public var url: String
    public var format: WebhookFormat
    /// `whsec_` + base64 of 24–64 random bytes; generated when absent.
    public var secret: String?
    /// Only these rules; nil = all.
    public var rules: [AlertRuleName]?
    /// Only transitions of at least this severity; nil = all.
    public var minSeverity: AlertSeverity?

    enum CodingKeys: String, CodingKey { case name, url, format, secret, rules, minSeverity = "min_severity" }

    public init(name: String, url: String, format: WebhookFormat = .native, secret: String? = nil,
                rules: [AlertRuleName]? = nil, minSeverity: AlertSeverity? = nil) {
        self.name = name
        self.url = url
        self.format = format
        self.secret = secret
        self.rules = rules
        self.minSeverity = minSeverity
    }

    /// True when a transition of this rule and severity goes to the endpoint.
    public static func matches(rules: [AlertRuleName]?, minSeverity: AlertSeverity?, rule: AlertRuleName,
                               severity: AlertSeverity) -> Bool {
        if let rules, !rules.contains(rule) { return false }
        if let minSeverity, severity < minSeverity { return false }
        return true
    }
}

public struct WebhookEndpointInfo: Codable, Sendable, Equatable {
    /// `wh_…`.
    public var id: String
    public var name: String
    public var url: String
    public var format: WebhookFormat
    public var rules: [AlertRuleName]?
    public var minSeverity: AlertSeverity?
    public var enabled: Bool
    /// Why it was disabled ("410 Gone from the receiver").
    public var disabledReason: String?
    public var createdAt: Date
    /// Only in the answer to `POST /v1/webhooks`.
    public var secret: String?
    /// Deliveries by status (`pending`, `delivered`, `dead`, `cancelled`).
    public var deliveries: [String: Int]

    enum CodingKeys: String, CodingKey {
        case id, name, url, format, rules, minSeverity = "min_severity", enabled, disabledReason = "disabled_reason"
        case createdAt = "created_at", secret, deliveries
    }

    public init(id: String, name: String, url: String, format: WebhookFormat, rules: [AlertRuleName]? = nil,
                minSeverity: AlertSeverity? = nil, enabled: Bool = true, disabledReason: String? = nil,
                createdAt: Date, secret: String? = nil, deliveries: [String: Int] = [:]) {
        self.id = id
        self.name = name
        self.url = url
        self.format = format
        self.rules = rules
        self.minSeverity = minSeverity
        self.enabled = enabled
        self.disabledReason = disabledReason
        self.createdAt = createdAt
        self.secret = secret
        self.deliveries = deliveries
    }
}

public enum DeliveryStatus: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    /// Waiting for its next attempt (the first, or a retry).
    case pending
    case delivered
    /// Gave up: the horizon passed (dead letter). `POST /v1/deliveries/retry` sends it again.
    case dead
    /// Its endpoint was disabled (410) or deleted before it was delivered.
    case cancelled
}

public struct DeliveryAttempt: Codable, Sendable, Equatable {
    /// 1-based.
    public var number: Int
    public var at: Date
    /// nil when no HTTP answer came (connection refused, timeout).
    public var statusCode: Int?
    public var error: String?
    public var durationMs: Double
    /// The receiver's `Retry-After`, in seconds, when it sent one.
    public var retryAfterS: Double?

    enum CodingKeys: String, CodingKey {
        case number, at, statusCode = "status_code", error, durationMs = "duration_ms", retryAfterS = "retry_after_s"
    }

    public init(number: Int, at: Date, statusCode: Int?, error: String?, durationMs: Double, retryAfterS: Double? = nil) {
        self.number = number
        self.at = at
        self.statusCode = statusCode
        self.error = error
        self.durationMs = durationMs
        self.retryAfterS = retryAfterS
    }
}

public struct WebhookDelivery: Codable, Sendable, Equatable {
    /// `msg_…`: the `webhook-id` header, the same on every attempt.
    public var id: String
    public var endpointID: String
    public var endpointName: String
    /// `alert.firing`, `alert.resolved`, `alert.flapping`, `earshot.test`.
    public var event: String
    public var alertID: String?
    public var transitionID: String?
    public var status: DeliveryStatus
    public var createdAt: Date
    public var nextAttemptAt: Date?
    public var deliveredAt: Date?
    public var attemptCount: Int
    public var lastStatusCode: Int?
    public var lastError: String?
    /// Every attempt, oldest first (in `GET /v1/deliveries/{id}` and `AlertDetail`; empty in lists).
    public var attempts: [DeliveryAttempt]

    enum CodingKeys: String, CodingKey {
        case id, endpointID = "endpoint_id", endpointName = "endpoint_name", event, alertID = "alert_id"
        case transitionID = "transition_id", status, createdAt = "created_at", nextAttemptAt = "next_attempt_at"
        case deliveredAt = "delivered_at", attemptCount = "attempt_count", lastStatusCode = "last_status_code"
        case lastError = "last_error", attempts
    }

    public init(id: String, endpointID: String, endpointName: String, event: String, alertID: String? = nil,
                transitionID: String? = nil, status: DeliveryStatus, createdAt: Date, nextAttemptAt: Date? = nil,
                deliveredAt: Date? = nil, attemptCount: Int = 0, lastStatusCode: Int? = nil, lastError: String? = nil,
                attempts: [DeliveryAttempt] = []) {
        self.id = id
        self.endpointID = endpointID
        self.endpointName = endpointName
        self.event = event
        self.alertID = alertID
        self.transitionID = transitionID
        self.status = status
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.deliveredAt = deliveredAt
        self.attemptCount = attemptCount
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.attempts = attempts
    }
}

/// Sends deliveries again: by id, or every one of an endpoint in the given statuses (default
/// `dead`). They become `pending` with an attempt due now (same `webhook-id`, same body).
public struct DeliveryRetryRequest: Codable, Sendable, Equatable {
    public var ids: [String]?
    public var endpoint: String?
    public var statuses: [DeliveryStatus]?

    public init(ids: [String]? = nil, endpoint: String? = nil, statuses: [DeliveryStatus]? = nil) {
        self.ids = ids
        self.endpoint = endpoint
        self.statuses = statuses
    }
}

public struct DeliveryRetryResult: Codable, Sendable, Equatable {
    public var retried: Int
    public var ids: [String]

    public init(retried: Int, ids: [String]) {
        self.retried = retried
        self.ids = ids
    }
}

// MARK: the native payload (docs/webhooks.md)

/// The body of a `native` delivery, after Standard Webhooks' `{type, timestamp, data}`.
public struct NativeWebhookPayload: Codable, Sendable, Equatable {
    public struct Data: Codable, Sendable, Equatable {
        public var alert: AlertInfo?
        public var transition: AlertTransitionInfo?
        /// `{base_url}/v1/runs/{id}` of the run behind the measurement.
        public var runURL: String?
        /// `{base_url}/v1/alerts/{id}`.
        public var alertURL: String?
        /// For `earshot.test`: "a test delivery from earshot".
        public var message: String?

        enum CodingKeys: String, CodingKey { case alert, transition, runURL = "run_url", alertURL = "alert_url", message }

        public init(alert: AlertInfo? = nil, transition: AlertTransitionInfo? = nil, runURL: String? = nil,
                    alertURL: String? = nil, message: String? = nil) {
            self.alert = alert
            self.transition = transition
            self.runURL = runURL
            self.alertURL = alertURL
            self.message = message
        }
    }

    /// `alert.firing`, `alert.resolved`, `alert.flapping`, `earshot.test`.
    public var type: String
    public var timestamp: Date
    public var data: Data

    public init(type: String, timestamp: Date, data: Data) {
        self.type = type
        self.timestamp = timestamp
        self.data = data
    }
}
