import EarshotWire
import Foundation
import OrganizerCore

/// Everything the organizer keeps (DESIGN §5), behind one protocol so that a PostgreSQL
/// backend can be added without touching the rest. `SQLiteStorage` (GRDB) is the embedded
/// default.
///
/// Every method that changes data has committed (WAL, `synchronous=FULL`) when it returns.
/// Methods throw `StorageError`.
public protocol Storage: Sendable {
    // MARK: enrollment and agents
    /// Stores the hash of a one-time enrollment token.
    func addEnrollmentToken(hash: String, site: String, labels: [String: String], expiresAt: Date, createdAt: Date) async throws
    /// Uses up a token: returns its site and labels, or nil when the hash is unknown, used or
    /// expired at `now`. One call succeeds per token, however many race.
    func consumeEnrollmentToken(hash: String, now: Date) async throws -> (site: String, labels: [String: String])?
    /// A new agent with a fresh id. A name already taken by a live agent gets `conflict`.
    func createAgent(_ agent: NewAgent) async throws -> AgentInfo
    /// By id or by name.
    func agent(_ idOrName: String) async throws -> AgentRecord?
    func agents() async throws -> [AgentInfo]
    /// A hello arrived: store what the agent advertised, mark it online (an `online` event
    /// when it was not), `last_seen_at = at`.
    func agentConnected(id: String, hello: AgentHello, remoteAddress: String?, at: Date) async throws
    /// A heartbeat: `last_seen_at`, active run count, spool size.
    func agentSeen(id: String, at: Date, activeRuns: Int, spooled: Int) async throws
    /// online → offline (an `offline` event with the reason); no-op when already offline.
    func agentOffline(id: String, at: Date, reason: String) async throws
    func revokeAgent(id: String, at: Date) async throws -> AgentInfo
    func changeLabels(id: String, change: LabelChange, at: Date) async throws -> AgentInfo
    func agentEvents(agentID: String?, since: Date?, limit: Int) async throws -> [AgentEvent]

    // MARK: suites
    func putSuite(_ spec: SuiteSpec, at: Date) async throws -> SuiteInfo
    func suites() async throws -> [SuiteInfo]
    func suite(_ name: String) async throws -> SuiteInfo?
    /// False when there was no such suite.
    func deleteSuite(_ name: String) async throws -> Bool
    func setSuitePaused(_ name: String, paused: Bool, at: Date) async throws -> SuiteInfo
    /// The planner's view of a suite after a round: when it ran, when the next is due, its
    /// coverage warning.
    func suiteRoundPlanned(_ name: String, at: Date, nextRoundAt: Date?, warning: String?, achievablePeriodS: Double?) async throws

    // MARK: runs
    /// Creates runs (status `scheduled`, or `not_run` with a cause) and their participants.
    func createRuns(_ runs: [NewRun]) async throws
    /// Stores one participant's result. Idempotent by (run, agent): a second copy is
    /// `.duplicate` and changes nothing. Committed when it returns: only then may the
    /// organizer acknowledge.
    func ingest(_ result: RunResult, receivedAt: Date) async throws -> IngestOutcome
    /// Many results in one transaction (the ingest path under load). Same rules, one outcome
    /// per result, in order.
    func ingest(_ results: [RunResult], receivedAt: Date) async throws -> [IngestOutcome]
    /// Runs not yet final (scheduled/running) with the results that arrived for them.
    func openRuns() async throws -> [OpenRun]
    /// These runs, whatever their status, with the results stored for them (to judge a run
    /// again when a result arrives after its verdict). Unknown ids are left out.
    func runsForJudging(ids: [String]) async throws -> [OpenRun]
    /// Sets a run's final status, cause and merged per-direction metrics (replacing any).
    func finishRun(_ completion: RunCompletion) async throws
    func markRunning(id: String, at: Date) async throws
    /// Many `finishRun`s in one transaction (one fsync: the organizer judges runs in batches
    /// under load). A completion naming no run is skipped, not an error: its id is returned.
    /// Throws (and changes nothing) on any other failure.
    func finishRuns(_ completions: [RunCompletion]) async throws -> [String]
    /// Many `markRunning`s in one transaction; ids of unknown runs are skipped.
    func markRunning(ids: [String], at: Date) async throws
    func runs(_ query: RunQuery) async throws -> [RunSummary]
    func run(_ id: String) async throws -> RunDetail?
    /// Run ids of this agent whose result is stored, among `candidates` (for the welcome's
    /// acknowledged list after a reconnect).
    func storedResults(agentID: String, among candidates: [String]) async throws -> [String]
    /// When each unit (suite, caller, callee) last had a final result other than not_run.
    func lastTested(suite: String) async throws -> [UnitKey: Date]
    /// When each unit (suite, caller, callee) last had a passed or degraded run (coverage_stale).
    func lastSucceeded(suite: String) async throws -> [UnitKey: Date]

    // MARK: alerts (DESIGN §6, docs/alerts.md)
    /// The engine's tracks to restore at start (every stored alert key).
    func alertTracks() async throws -> [AlertTrack]
    /// One transaction: tracks upserted (by key; the alert row carries the track), keys
    /// forgotten, transitions appended, and their deliveries queued (the outbox). Either all
    /// of it is committed or none.
    func recordAlerts(_ batch: AlertBatch) async throws
    func alerts(_ query: AlertQuery) async throws -> [AlertInfo]
    /// With its transitions and their deliveries (newest first), nil when unknown.
    func alert(_ id: String) async throws -> AlertDetail?
    /// Rule changes stored through the API, by rule.
    func alertRulePatches() async throws -> [AlertRuleName: AlertRulePatch]
    /// Stores (replaces) the API's patch of a rule; nil removes it.
    func setAlertRulePatch(_ rule: AlertRuleName, _ patch: AlertRulePatch?, at: Date) async throws
    func addSilence(_ silence: Silence) async throws
    /// Active at `now`, or all (expired included, newest first) when `now` is nil.
    func silences(activeAt now: Date?) async throws -> [Silence]
    /// Ends it at `at`; false when unknown.
    func expireSilence(id: String, at: Date) async throws -> Bool

    // MARK: webhooks
    /// A name already taken is `conflict`.
    func addWebhookEndpoint(_ endpoint: WebhookEndpointRecord) async throws
    /// With delivery counts, without secrets.
    func webhookEndpoints() async throws -> [WebhookEndpointRecord]
    /// By id or name.
    func webhookEndpoint(_ idOrName: String) async throws -> WebhookEndpointRecord?
    /// Its pending deliveries become `cancelled`; false when unknown.
    func deleteWebhookEndpoint(id: String, at: Date) async throws -> Bool
    /// Disabling cancels its pending deliveries (reason kept as their last error).
    func setWebhookEndpointEnabled(id: String, enabled: Bool, reason: String?, at: Date) async throws -> WebhookEndpointRecord
    /// Deliveries not tied to a transition (test events).
    func enqueueDeliveries(_ deliveries: [NewDelivery]) async throws
    /// Pending deliveries due at `now` (oldest due first) of enabled endpoints, with what
    /// sending needs.
    func dueDeliveries(now: Date, limit: Int) async throws -> [DueDelivery]
    /// When the next pending delivery is due (nil when none).
    func nextDeliveryDue() async throws -> Date?
    /// One transaction: the attempt appended, the delivery's status/next attempt updated, and
    /// for `.disableEndpoint` the endpoint disabled and its other pending deliveries cancelled.
    func recordAttempt(deliveryID: String, attempt: DeliveryAttempt, outcome: DeliveryPolicy.Outcome) async throws
    func deliveries(_ query: DeliveryQuery) async throws -> [WebhookDelivery]
    /// With every attempt.
    func delivery(_ id: String) async throws -> WebhookDelivery?
    /// Makes them pending, due at `at`; returns their ids.
    func retryDeliveries(_ request: DeliveryRetryRequest, at: Date) async throws -> [String]

    // MARK: reports, rollups, retention
    func report(since: Date, until: Date, suite: String?) async throws -> Report
    /// Folds finished runs into hourly and daily rollups per pair (idempotent per hour).
    func rollUp(now: Date) async throws
    /// Deletes raw runs (and their participants, metrics, evidence) that ended before
    /// `before`; rollups stay. Returns the number of runs deleted.
    func prune(rawBefore: Date) async throws -> Int
    /// `PRAGMA integrity_check`'s answer ("ok" when clean).
    func integrityCheck() async throws -> String
    /// Where the data lives (a file path), for `status` and `demo`.
    var location: String? { get }
}

extension Storage {
    /// One transaction per run; a backend overrides this with one transaction for all.
    public func finishRuns(_ completions: [RunCompletion]) async throws -> [String] {
        var missing: [String] = []
        for completion in completions {
            do {
                try await finishRun(completion)
            } catch let error as StorageError where error.kind == .notFound {
                missing.append(completion.runID)
            }
        }
        return missing
    }

    public func markRunning(ids: [String], at: Date) async throws {
        for id in ids {
            do {
                try await markRunning(id: id, at: at)
            } catch let error as StorageError where error.kind == .notFound {
                continue
            }
        }
    }
}

public struct StorageError: Error, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case notFound = "not_found", conflict, invalid, io }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// An agent with the secret's hash, for authentication. Never serialized to the API.
public struct AgentRecord: Sendable, Equatable {
    public var info: AgentInfo
    public var credentialHash: String

    public init(info: AgentInfo, credentialHash: String) {
        self.info = info
        self.credentialHash = credentialHash
    }
}

public struct NewAgent: Sendable, Equatable {
    public var id: String
    public var name: String
    public var site: String
    public var labels: [String: String]
    public var credentialHash: String
    public var enrolledAt: Date

    public init(id: String, name: String, site: String, labels: [String: String], credentialHash: String, enrolledAt: Date) {
        self.id = id
        self.name = name
        self.site = site
        self.labels = labels
        self.credentialHash = credentialHash
        self.enrolledAt = enrolledAt
    }
}

public struct NewRun: Sendable, Equatable {
    public var id: String
    public var suite: String
    public var roundID: String?
    public var testType: TestType
    public var status: RunStatus
    public var cause: RunCause?
    public var plannedAt: Date
    public var startAt: Date
    public var deadline: Date
    public var plannedDurationS: Double
    public var thresholds: Thresholds
    /// In order: caller first.
    public var participants: [(agentID: String, role: ParticipantRole)]
    /// A conference run's plan (what its participants were assigned), kept for judging it
    /// after an organizer restart.
    public var conferencePlan: ConferenceAssignment?

    public init(id: String, suite: String, roundID: String?, testType: TestType, status: RunStatus = .scheduled,
                cause: RunCause? = nil, plannedAt: Date, startAt: Date, deadline: Date, plannedDurationS: Double,
                thresholds: Thresholds, participants: [(agentID: String, role: ParticipantRole)],
                conferencePlan: ConferenceAssignment? = nil) {
        self.id = id
        self.suite = suite
        self.roundID = roundID
        self.testType = testType
        self.status = status
        self.cause = cause
        self.plannedAt = plannedAt
        self.startAt = startAt
        self.deadline = deadline
        self.plannedDurationS = plannedDurationS
        self.thresholds = thresholds
        self.participants = participants
        self.conferencePlan = conferencePlan
    }

    public static func == (a: NewRun, b: NewRun) -> Bool {
        a.id == b.id && a.suite == b.suite && a.roundID == b.roundID && a.testType == b.testType && a.status == b.status
            && a.cause == b.cause && a.plannedAt == b.plannedAt && a.startAt == b.startAt && a.deadline == b.deadline
            && a.plannedDurationS == b.plannedDurationS && a.thresholds == b.thresholds
            && a.participants.map(\.agentID) == b.participants.map(\.agentID)
            && a.participants.map(\.role) == b.participants.map(\.role)
    }
}

public enum IngestOutcome: String, Sendable, Equatable {
    /// Committed now.
    case stored
    /// Already stored before: nothing changed (acknowledge again).
    case duplicate
    /// No such run (e.g. pruned): acknowledge with stored=false so the agent drops it.
    case unknownRun = "unknown_run"
    /// The agent is not a participant of the run.
    case notParticipant = "not_participant"
}

public struct OpenRun: Sendable, Equatable {
    public var summary: RunSummary
    public var deadline: Date
    public var thresholds: Thresholds
    public var participants: [ParticipantInfo]
    /// By agent id.
    public var results: [String: RunResult]
    /// A conference run's plan (`NewRun.conferencePlan`).
    public var conferencePlan: ConferenceAssignment?

    public init(summary: RunSummary, deadline: Date, thresholds: Thresholds, participants: [ParticipantInfo],
                results: [String: RunResult], conferencePlan: ConferenceAssignment? = nil) {
        self.summary = summary
        self.deadline = deadline
        self.thresholds = thresholds
        self.participants = participants
        self.results = results
        self.conferencePlan = conferencePlan
    }
}

public struct RunCompletion: Sendable, Equatable {
    public var runID: String
    public var status: RunStatus
    public var cause: RunCause?
    public var endedAt: Date
    public var directions: [StreamMetrics]
    public var call: CallSummary?
    public var dtmf: DTMFSummary?
    /// Conference runs: the verdict's `conference` (legs, hearing matrix, DTMF), read back as
    /// `RunDetail.conference`.
    public var conference: ConferenceSummary?

    public init(runID: String, status: RunStatus, cause: RunCause?, endedAt: Date, directions: [StreamMetrics] = [],
                call: CallSummary? = nil, dtmf: DTMFSummary? = nil, conference: ConferenceSummary? = nil) {
        self.runID = runID
        self.status = status
        self.cause = cause
        self.endedAt = endedAt
        self.directions = directions
        self.call = call
        self.dtmf = dtmf
        self.conference = conference
    }
}

public struct RunQuery: Sendable, Equatable {
    public var suite: String?
    public var status: RunStatus?
    /// Agent id or name among the participants.
    public var agent: String?
    public var roundID: String?
    public var since: Date?
    public var until: Date?
    public var limit: Int

    public init(suite: String? = nil, status: RunStatus? = nil, agent: String? = nil, roundID: String? = nil,
                since: Date? = nil, until: Date? = nil, limit: Int = 100) {
        self.suite = suite
        self.status = status
        self.agent = agent
        self.roundID = roundID
        self.since = since
        self.until = until
        self.limit = limit
    }
}

// MARK: alerts and webhooks

/// What one alert evaluation writes (`recordAlerts`).
public struct AlertBatch: Sendable, Equatable {
    public var tracks: [AlertTrack]
    public var removed: [AlertKey]
    public var transitions: [AlertTransitionInfo]
    public var deliveries: [NewDelivery]

    public init(tracks: [AlertTrack] = [], removed: [AlertKey] = [], transitions: [AlertTransitionInfo] = [],
                deliveries: [NewDelivery] = []) {
        self.tracks = tracks
        self.removed = removed
        self.transitions = transitions
        self.deliveries = deliveries
    }

    public var isEmpty: Bool { tracks.isEmpty && removed.isEmpty && transitions.isEmpty && deliveries.isEmpty }
}

public struct AlertQuery: Sendable, Equatable {
    /// nil: firing and flapping.
    public var states: [AlertState]?
    public var rule: AlertRuleName?
    /// Matches when the alert's scope touches this agent, site, suite or is this key.
    public var scope: String?
    public var limit: Int

    public init(states: [AlertState]? = nil, rule: AlertRuleName? = nil, scope: String? = nil, limit: Int = 200) {
        self.states = states
        self.rule = rule
        self.scope = scope
        self.limit = limit
    }
}

/// An endpoint with its secret (for signing). Never serialized to the API with the secret
/// except in the answer to its creation.
public struct WebhookEndpointRecord: Sendable, Equatable {
    public var info: WebhookEndpointInfo
    public var secret: String

    public init(info: WebhookEndpointInfo, secret: String) {
        self.info = info
        self.secret = secret
    }
}

public struct NewDelivery: Sendable, Equatable {
    /// `msg_…`, the `webhook-id`.
    public var id: String
    public var endpointID: String
    public var event: String
    public var alertID: String?
    public var transitionID: String?
    public var payload: RenderedPayload
    public var createdAt: Date
    /// Usually `createdAt`.
    public var dueAt: Date

    public init(id: String, endpointID: String, event: String, alertID: String? = nil, transitionID: String? = nil,
                payload: RenderedPayload, createdAt: Date, dueAt: Date) {
        self.id = id
        self.endpointID = endpointID
        self.event = event
        self.alertID = alertID
        self.transitionID = transitionID
        self.payload = payload
        self.createdAt = createdAt
        self.dueAt = dueAt
    }
}

/// A delivery to send now.
public struct DueDelivery: Sendable, Equatable {
    public var id: String
    public var endpointID: String
    public var url: String
    public var format: WebhookFormat
    public var secret: String
    public var payload: RenderedPayload
    /// Where the dead-letter horizon counts from: the delivery's creation, or its last manual
    /// retry (`retryDeliveries`), so that a retried dead letter gets a whole horizon again.
    public var createdAt: Date
    /// Attempts made so far.
    public var attempts: Int

    public init(id: String, endpointID: String, url: String, format: WebhookFormat, secret: String, payload: RenderedPayload,
                createdAt: Date, attempts: Int) {
        self.id = id
        self.endpointID = endpointID
        self.url = url
        self.format = format
        self.secret = secret
        self.payload = payload
        self.createdAt = createdAt
        self.attempts = attempts
    }
}

public struct DeliveryQuery: Sendable, Equatable {
    /// Endpoint id or name.
    public var endpoint: String?
    public var status: DeliveryStatus?
    public var alertID: String?
    public var limit: Int

    public init(endpoint: String? = nil, status: DeliveryStatus? = nil, alertID: String? = nil, limit: Int = 100) {
        self.endpoint = endpoint
        self.status = status
        self.alertID = alertID
        self.limit = limit
    }
}
