import Foundation

// The HTTP API's resources (organizer/openapi.yaml). Paths, all JSON, bearer tokens:
//
//   GET  /v1/status                         StatusInfo                         (read)
//   GET  /v1/agents                         [AgentInfo]                        (read)
//   GET  /v1/agents/{id|name}               AgentInfo                          (read)
//   POST /v1/agents/tokens                  EnrollmentTokenRequest → EnrollmentToken (admin)
//   POST /v1/agents/{id|name}/revoke        AgentInfo                          (admin)
//   POST /v1/agents/{id|name}/labels        LabelChange → AgentInfo            (admin)
//   GET  /v1/suites                         [SuiteInfo]                        (read)
//   GET  /v1/suites/{name}                  SuiteInfo                          (read)
//   PUT  /v1/suites/{name}                  SuiteSpec → SuiteInfo (create or replace) (admin)
//   DELETE /v1/suites/{name}                                                   (admin)
//   POST /v1/suites/{name}/run              → RoundInfo (runs created now)     (admin)
//   POST /v1/suites/{name}/pause|resume     → SuiteInfo                        (admin)
//   POST /v1/suites/default                 → [SuiteInfo] (restore to default: the mesh and the conference)   (admin)
//   GET  /v1/runs?suite=&status=&agent=&since=&until=&round=&limit=   [RunSummary] (read)
//   GET  /v1/runs/{id}                      RunDetail                          (read)
//   GET  /v1/report?since=&until=&suite=    Report                             (read)
//   GET  /v1/agent                          the agent WebSocket (its own auth: enroll/hello)
//
// Errors: 4xx/5xx with APIError.

public struct APIError: Codable, Sendable, Equatable, Error {
    /// Stable: `unauthorized`, `forbidden`, `not_found`, `bad_request`, `conflict`,
    /// `payload_too_large`, `unsupported_media_type`, `internal`.
    public var error: String
    public var message: String

    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}

public struct EnrollmentTokenRequest: Codable, Sendable, Equatable {
    public var site: String
    /// How long the token can be used; default 24 h.
    public var ttl: WireDuration?
    public var labels: [String: String]?

    public init(site: String, ttl: WireDuration? = nil, labels: [String: String]? = nil) {
        self.site = site
        self.ttl = ttl
        self.labels = labels
    }
}

public struct EnrollmentToken: Codable, Sendable, Equatable {
    /// Shown once; the organizer keeps its hash.
    public var token: String
    public var site: String
    public var expiresAt: Date

    enum CodingKeys: String, CodingKey { case token, site, expiresAt = "expires_at" }

    public init(token: String, site: String, expiresAt: Date) {
        self.token = token
        self.site = site
        self.expiresAt = expiresAt
    }
}

public struct LabelChange: Codable, Sendable, Equatable {
    public var set: [String: String]
    public var remove: [String]

    public init(set: [String: String] = [:], remove: [String] = []) {
        self.set = set
        self.remove = remove
    }
}

public struct StatusInfo: Codable, Sendable, Equatable {
    public struct Counts: Codable, Sendable, Equatable {
        public var total: Int
        public var online: Int
        public var offline: Int
        public var revoked: Int

        public init(total: Int, online: Int, offline: Int, revoked: Int) {
            self.total = total
            self.online = online
            self.offline = offline
            self.revoked = revoked
        }
    }

    public var version: String
    public var protocolVersion: Int
    public var startedAt: Date
    public var now: Date
    public var agents: Counts
    public var suites: Int
    public var suitesPaused: Int
    /// Runs that ended in the last hour, by status.
    public var runsLastHour: [String: Int]
    public var runsInFlight: Int
    public var database: String?
    public var warnings: [String]
    /// Alerts by state now (`firing`, `flapping`); nil from organizers before alerts.
    public var alerts: [String: Int]?
    /// Webhook deliveries by status (`pending`, `dead`); nil from organizers before webhooks.
    public var deliveries: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case version, protocolVersion = "protocol_version", startedAt = "started_at", now, agents, suites
        case suitesPaused = "suites_paused", runsLastHour = "runs_last_hour", runsInFlight = "runs_in_flight"
        case database, warnings, alerts, deliveries
    }

    public init(version: String, protocolVersion: Int = WireProtocol.version, startedAt: Date, now: Date,
                agents: Counts, suites: Int, suitesPaused: Int, runsLastHour: [String: Int], runsInFlight: Int,
                database: String?, warnings: [String] = [], alerts: [String: Int]? = nil,
                deliveries: [String: Int]? = nil) {
        self.alerts = alerts
        self.deliveries = deliveries
        self.version = version
        self.protocolVersion = protocolVersion
        self.startedAt = startedAt
        self.now = now
        self.agents = agents
        self.suites = suites
        self.suitesPaused = suitesPaused
        self.runsLastHour = runsLastHour
        self.runsInFlight = runsInFlight
        self.database = database
        self.warnings = warnings
    }
}

/// A round: the runs one suite started together.
public struct RoundInfo: Codable, Sendable, Equatable {
    public var roundID: String
    public var suite: String
    public var runIDs: [String]
    /// Units (pairs or members) that could not be planned in this round, with why.
    public var notRun: [RunSummary]
    public var warning: String?

    enum CodingKeys: String, CodingKey { case roundID = "round_id", suite, runIDs = "run_ids", notRun = "not_run", warning }

    public init(roundID: String, suite: String, runIDs: [String], notRun: [RunSummary] = [], warning: String? = nil) {
        self.roundID = roundID
        self.suite = suite
        self.runIDs = runIDs
        self.notRun = notRun
        self.warning = warning
    }
}

public struct ParticipantInfo: Codable, Sendable, Equatable {
    public var agentID: String
    public var name: String
    public var site: String?
    public var role: ParticipantRole
    /// This participant's own view, once it reported.
    public var status: RunStatus?
    public var cause: RunCause?
    public var reportedAt: Date?

    enum CodingKeys: String, CodingKey { case agentID = "agent_id", name, site, role, status, cause, reportedAt = "reported_at" }

    public init(agentID: String, name: String, site: String? = nil, role: ParticipantRole, status: RunStatus? = nil,
                cause: RunCause? = nil, reportedAt: Date? = nil) {
        self.agentID = agentID
        self.name = name
        self.site = site
        self.role = role
        self.status = status
        self.cause = cause
        self.reportedAt = reportedAt
    }
}

public struct RunSummary: Codable, Sendable, Equatable {
    public var id: String
    public var suite: String
    public var roundID: String?
    public var testType: TestType
    public var status: RunStatus
    public var cause: RunCause?
    public var plannedAt: Date
    public var startAt: Date
    public var endedAt: Date?
    public var plannedDurationS: Double
    /// Agent names: caller first.
    public var participants: [String]
    /// The worst direction's MOS-CQ and loss (nil when nothing was measured).
    public var mosMin: Double?
    public var lossPctMax: Double?

    enum CodingKeys: String, CodingKey {
        case id, suite, roundID = "round_id", testType = "test_type", status, cause, plannedAt = "planned_at"
        case startAt = "start_at", endedAt = "ended_at", plannedDurationS = "planned_duration_s", participants
        case mosMin = "mos_min", lossPctMax = "loss_pct_max"
    }

    public init(id: String, suite: String, roundID: String? = nil, testType: TestType, status: RunStatus,
                cause: RunCause? = nil, plannedAt: Date, startAt: Date, endedAt: Date? = nil, plannedDurationS: Double,
                participants: [String], mosMin: Double? = nil, lossPctMax: Double? = nil) {
        self.id = id
        self.suite = suite
        self.roundID = roundID
        self.testType = testType
        self.status = status
        self.cause = cause
        self.plannedAt = plannedAt
        self.startAt = startAt
        self.endedAt = endedAt
        self.plannedDurationS = plannedDurationS
        self.participants = participants
        self.mosMin = mosMin
        self.lossPctMax = lossPctMax
    }
}

/// One run with everything: both sides merged (DESIGN §2).
public struct RunDetail: Codable, Sendable, Equatable {
    public var run: RunSummary
    public var participants: [ParticipantInfo]
    /// Per direction, each measured by its receiver (RTCP-only views where no receiver of
    /// ours exists).
    public var directions: [StreamMetrics]
    /// The caller's signalling view (setup times, ending, refreshes).
    public var call: CallSummary?
    public var dtmf: DTMFSummary?
    public var register: RegisterSummary?
    public var options: OptionsSummary?
    /// Per agent id, for failed and degraded runs (and when asked).
    public var evidence: [String: Evidence]
    public var thresholds: Thresholds?
    /// Conference runs: legs, the hearing matrix, DTMF through the bridge.
    public var conference: ConferenceSummary?

    enum CodingKeys: String, CodingKey {
        case run, participants, directions, call, dtmf, register, options, evidence, thresholds, conference
    }

    public init(run: RunSummary, participants: [ParticipantInfo], directions: [StreamMetrics] = [],
                call: CallSummary? = nil, dtmf: DTMFSummary? = nil, register: RegisterSummary? = nil,
                options: OptionsSummary? = nil, evidence: [String: Evidence] = [:], thresholds: Thresholds? = nil,
                conference: ConferenceSummary? = nil) {
        self.run = run
        self.participants = participants
        self.directions = directions
        self.call = call
        self.dtmf = dtmf
        self.register = register
        self.options = options
        self.evidence = evidence
        self.thresholds = thresholds
        self.conference = conference
    }
}

/// The pair matrix of `earshot report` (and GET /v1/report): one cell per ordered pair
/// (from → to, by agent name) over the period.
public struct Report: Codable, Sendable, Equatable {
    public struct Cell: Codable, Sendable, Equatable {
        public var from: String
        public var to: String
        public var runs: Int
        public var passed: Int
        public var degraded: Int
        public var failed: Int
        public var notRun: Int
        /// passed ÷ (runs − not_run), percent; nil when nothing ran.
        public var passRatePct: Double?
        public var mosMean: Double?
        public var mosMin: Double?
        public var lossPctMean: Double?
        public var jitterMsMean: Double?
        public var rttMsMean: Double?
        public var lastRunAt: Date?

        enum CodingKeys: String, CodingKey {
            case from, to, runs, passed, degraded, failed, notRun = "not_run", passRatePct = "pass_rate_pct"
            case mosMean = "mos_mean", mosMin = "mos_min", lossPctMean = "loss_pct_mean", jitterMsMean = "jitter_ms_mean"
            case rttMsMean = "rtt_ms_mean", lastRunAt = "last_run_at"
        }

        public init(from: String, to: String, runs: Int = 0, passed: Int = 0, degraded: Int = 0, failed: Int = 0,
                    notRun: Int = 0, passRatePct: Double? = nil, mosMean: Double? = nil, mosMin: Double? = nil,
                    lossPctMean: Double? = nil, jitterMsMean: Double? = nil, rttMsMean: Double? = nil,
                    lastRunAt: Date? = nil) {
            self.from = from
            self.to = to
            self.runs = runs
            self.passed = passed
            self.degraded = degraded
            self.failed = failed
            self.notRun = notRun
            self.passRatePct = passRatePct
            self.mosMean = mosMean
            self.mosMin = mosMin
            self.lossPctMean = lossPctMean
            self.jitterMsMean = jitterMsMean
            self.rttMsMean = rttMsMean
            self.lastRunAt = lastRunAt
        }
    }

    public var since: Date
    public var until: Date
    public var suite: String?
    /// Agent names in matrix order.
    public var agents: [String]
    public var cells: [Cell]
    /// Runs by status over the period (all test types).
    public var totals: [String: Int]

    public init(since: Date, until: Date, suite: String? = nil, agents: [String], cells: [Cell], totals: [String: Int]) {
        self.since = since
        self.until = until
        self.suite = suite
        self.agents = agents
        self.cells = cells
        self.totals = totals
    }
}
