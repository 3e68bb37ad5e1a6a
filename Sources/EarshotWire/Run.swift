import Foundation

/// DESIGN §2: every run ends in one of these, never silently absent.
public enum RunStatus: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    /// Planned and assigned, not finished yet.
    case scheduled
    case running
    case passed
    /// Completed, but below a quality threshold.
    case degraded
    case failed
    /// Could not be run: a participant offline, no capacity, the organizer restarted.
    case notRun = "not_run"

    public var isFinal: Bool { self != .scheduled && self != .running }
}

/// Why a run ended as it did. `code` is stable snake_case (the engine's `CallEnding` causes,
/// plus the organizer's own); `detail` is a sentence for people.
///
/// Codes: `normal`, `rejected` (with `status_code`), `no_answer`, `cancelled`,
/// `session_expired`, `transport_error`, `ack_timeout`, `protocol_error`, `media_error`,
/// `audio_missing`, `dtmf_mismatch`, `registration_failed`, `options_failed`, `timeout`
/// (a participant never reported), `agent_offline`, `agent_lost` (went offline mid-run),
/// `capacity`, `assignment_rejected`, `organizer_restart`, `quality` (degraded: which
/// threshold in `detail`), `cancelled_by_operator`.
public struct RunCause: Codable, Sendable, Equatable, Hashable {
    public var code: String
    public var detail: String?
    public var statusCode: Int?
    /// The participant the cause was found at.
    public var agentID: String?

    enum CodingKeys: String, CodingKey { case code, detail, statusCode = "status_code", agentID = "agent_id" }

    public init(code: String, detail: String? = nil, statusCode: Int? = nil, agentID: String? = nil) {
        self.code = code
        self.detail = detail
        self.statusCode = statusCode
        self.agentID = agentID
    }
}

public enum ParticipantRole: String, Codable, Sendable, Equatable, Hashable {
    case caller, callee, registrant, pinger, participant, bridge
}

/// A participant named in an assignment.
public struct Peer: Codable, Sendable, Equatable, Hashable {
    public var agentID: String
    public var name: String
    public var role: ParticipantRole
    /// Where to reach it directly (its first SIP contact of the wanted transport).
    public var contact: String?
    /// Its address of record at the registrar, when the suite goes through one.
    public var aor: String?
    /// Its identifying tone, Hz.
    public var toneHz: Int?

    enum CodingKeys: String, CodingKey { case agentID = "agent_id", name, role, contact, aor, toneHz = "tone_hz" }

    public init(agentID: String, name: String, role: ParticipantRole, contact: String? = nil, aor: String? = nil,
                toneHz: Int? = nil) {
        self.agentID = agentID
        self.name = name
        self.role = role
        self.contact = contact
        self.aor = aor
        self.toneHz = toneHz
    }
}

/// What the caller does.
public struct CallSpec: Codable, Sendable, Equatable, Hashable {
    /// The Request-URI: the callee's contact, or its address of record through a proxy.
    public var target: String
    /// `host:port` to send to when it is not the target's host (an outbound proxy).
    public var proxy: String?
    public var transport: String
    public var codec: String
    public var durationS: Double
    public var dtmf: String?
    public var sessionExpires: Int?
    public var credentials: SIPCredentials?
    public var toneHz: Int
    public var expectedRemoteToneHz: Int?
    public var noAnswerTimeoutS: Double

    enum CodingKeys: String, CodingKey {
        case target, proxy, transport, codec, durationS = "duration_s", dtmf, sessionExpires = "session_expires"
        case credentials, toneHz = "tone_hz", expectedRemoteToneHz = "expected_remote_tone_hz"
        case noAnswerTimeoutS = "no_answer_timeout_s"
    }

    public init(target: String, proxy: String? = nil, transport: String = "udp", codec: String = "PCMU",
                durationS: Double, dtmf: String? = nil, sessionExpires: Int? = nil, credentials: SIPCredentials? = nil,
                toneHz: Int = 1750, expectedRemoteToneHz: Int? = 1850, noAnswerTimeoutS: Double = 15) {
        self.target = target
        self.proxy = proxy
        self.transport = transport
        self.codec = codec
        self.durationS = durationS
        self.dtmf = dtmf
        self.sessionExpires = sessionExpires
        self.credentials = credentials
        self.toneHz = toneHz
        self.expectedRemoteToneHz = expectedRemoteToneHz
        self.noAnswerTimeoutS = noAnswerTimeoutS
    }
}

/// What the callee expects: an INVITE carrying `X-Earshot-Run: <run id>` within the
/// assignment's deadline.
public struct AnswerSpec: Codable, Sendable, Equatable, Hashable {
    public var toneHz: Int
    public var expectedRemoteToneHz: Int?
    public var expectedDTMF: String?
    public var durationS: Double

    enum CodingKeys: String, CodingKey {
        case toneHz = "tone_hz", expectedRemoteToneHz = "expected_remote_tone_hz", expectedDTMF = "expected_dtmf"
        case durationS = "duration_s"
    }

    public init(toneHz: Int = 1850, expectedRemoteToneHz: Int? = 1750, expectedDTMF: String? = nil, durationS: Double) {
        self.toneHz = toneHz
        self.expectedRemoteToneHz = expectedRemoteToneHz
        self.expectedDTMF = expectedDTMF
        self.durationS = durationS
    }
}

public struct RegisterSpec: Codable, Sendable, Equatable, Hashable {
    /// `host:port`.
    public var registrar: String
    public var aor: String
    public var credentials: SIPCredentials?
    public var transport: String
    public var expiresS: Int

    enum CodingKeys: String, CodingKey { case registrar, aor, credentials, transport, expiresS = "expires_s" }

    public init(registrar: String, aor: String, credentials: SIPCredentials? = nil, transport: String = "udp",
                expiresS: Int = 300) {
        self.registrar = registrar
        self.aor = aor
        self.credentials = credentials
        self.transport = transport
        self.expiresS = expiresS
    }
}

public struct OptionsSpec: Codable, Sendable, Equatable, Hashable {
    public var target: String
    public var transport: String
    public var timeoutS: Double

    enum CodingKeys: String, CodingKey { case target, transport, timeoutS = "timeout_s" }

    public init(target: String, transport: String = "udp", timeoutS: Double = 5) {
        self.target = target
        self.transport = transport
        self.timeoutS = timeoutS
    }
}

/// Everything an agent needs to run its part of a test without asking again.
public struct Assignment: Codable, Sendable, Equatable {
    public var runID: String
    public var suite: String
    public var testType: TestType
    public var role: ParticipantRole
    /// Wall-clock start (the callee's part starts at once: it waits for the INVITE).
    public var startAt: Date
    /// The result must be reported by then; the organizer fails the run with `timeout` after.
    public var deadline: Date
    public var peers: [Peer]
    public var call: CallSpec?
    public var answer: AnswerSpec?
    public var register: RegisterSpec?
    public var options: OptionsSpec?
    /// For `conference` (roles participant and bridge).
    public var conference: ConferenceAssignment?
    /// Attach the evidence (ladder, per-second counters) even when the run passes.
    public var alwaysEvidence: Bool

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", suite, testType = "test_type", role, startAt = "start_at", deadline, peers
        case call, answer, register, options, conference, alwaysEvidence = "always_evidence"
    }

    public init(runID: String, suite: String, testType: TestType, role: ParticipantRole, startAt: Date, deadline: Date,
                peers: [Peer] = [], call: CallSpec? = nil, answer: AnswerSpec? = nil, register: RegisterSpec? = nil,
                options: OptionsSpec? = nil, conference: ConferenceAssignment? = nil, alwaysEvidence: Bool = false) {
        self.runID = runID
        self.suite = suite
        self.testType = testType
        self.role = role
        self.startAt = startAt
        self.deadline = deadline
        self.peers = peers
        self.call = call
        self.answer = answer
        self.register = register
        self.options = options
        self.conference = conference
        self.alwaysEvidence = alwaysEvidence
    }
}

/// The SIP header that ties an INVITE to its run (the callee reports under that run id).
public let runHeaderName = "X-Earshot-Run"

/// The calling agent's id, on conference INVITEs: the bridge attributes each leg by it.
public let agentHeaderName = "X-Earshot-Agent"

// MARK: - results

/// One direction of one stream (DESIGN §2 "Metrics of one direction of one stream"), as
/// measured by its receiver (`measured_by: receiver`) or known only from the receiver's RTCP
/// reports (`measured_by: rtcp`, for a peer that is not an Earshot agent).
public struct StreamMetrics: Codable, Sendable, Equatable, Hashable {
    public struct Impairments: Codable, Sendable, Equatable, Hashable {
        public var iS: Double
        public var iD: Double
        public var ieEff: Double
        public var a: Double

        enum CodingKeys: String, CodingKey { case iS = "is", iD = "id", ieEff = "ie_eff", a }

        public init(iS: Double, iD: Double, ieEff: Double, a: Double) {
            self.iS = iS
            self.iD = iD
            self.ieEff = ieEff
            self.a = a
        }
    }

    /// Agent ids (or a URI for a foreign peer).
    public var from: String
    public var to: String
    public var measuredBy: String
    public var codec: String?
    public var ptime: Int?
    public var packetsSent: Int?
    public var packetsExpected: Int
    public var packetsReceived: Int
    public var packetsLost: Int
    public var duplicates: Int
    public var reordered: Int
    public var lossPct: Double
    public var burstRatio: Double?
    public var maxBurst: Int
    public var jitterMeanMs: Double?
    public var jitterMaxMs: Double?
    public var rttMs: Double?
    public var oneWayMs: Double?
    /// `measured` or `estimated_rtt_half`.
    public var oneWaySource: String?
    public var jbDiscards: Int
    public var effectiveLossPct: Double?
    public var rFactor: Double?
    public var mosCQ: Double?
    public var mosLQ: Double?
    public var impairments: Impairments?
    public var dscpSent: Int?
    public var dscpReceived: Int?
    public var audioOK: Bool?
    public var firstPacketMs: Double?

    enum CodingKeys: String, CodingKey {
        case from, to, measuredBy = "measured_by", codec, ptime, packetsSent = "packets_sent"
        case packetsExpected = "packets_expected", packetsReceived = "packets_received", packetsLost = "packets_lost"
        case duplicates, reordered, lossPct = "loss_pct", burstRatio = "burst_ratio", maxBurst = "max_burst"
        case jitterMeanMs = "jitter_mean_ms", jitterMaxMs = "jitter_max_ms", rttMs = "rtt_ms", oneWayMs = "one_way_ms"
        case oneWaySource = "one_way_source", jbDiscards = "jb_discards", effectiveLossPct = "effective_loss_pct"
        case rFactor = "r_factor", mosCQ = "mos_cq", mosLQ = "mos_lq", impairments, dscpSent = "dscp_sent"
        case dscpReceived = "dscp_received", audioOK = "audio_ok", firstPacketMs = "first_packet_ms"
    }

    public init(from: String, to: String, measuredBy: String = "receiver", codec: String? = nil, ptime: Int? = nil,
                packetsSent: Int? = nil, packetsExpected: Int, packetsReceived: Int, packetsLost: Int,
                duplicates: Int = 0, reordered: Int = 0, lossPct: Double, burstRatio: Double? = nil, maxBurst: Int = 0,
                jitterMeanMs: Double? = nil, jitterMaxMs: Double? = nil, rttMs: Double? = nil, oneWayMs: Double? = nil,
                oneWaySource: String? = nil, jbDiscards: Int = 0, effectiveLossPct: Double? = nil,
                rFactor: Double? = nil, mosCQ: Double? = nil, mosLQ: Double? = nil, impairments: Impairments? = nil,
                dscpSent: Int? = nil, dscpReceived: Int? = nil, audioOK: Bool? = nil, firstPacketMs: Double? = nil) {
        self.from = from
        self.to = to
        self.measuredBy = measuredBy
        self.codec = codec
        self.ptime = ptime
        self.packetsSent = packetsSent
        self.packetsExpected = packetsExpected
        self.packetsReceived = packetsReceived
        self.packetsLost = packetsLost
        self.duplicates = duplicates
        self.reordered = reordered
        self.lossPct = lossPct
        self.burstRatio = burstRatio
        self.maxBurst = maxBurst
        self.jitterMeanMs = jitterMeanMs
        self.jitterMaxMs = jitterMaxMs
        self.rttMs = rttMs
        self.oneWayMs = oneWayMs
        self.oneWaySource = oneWaySource
        self.jbDiscards = jbDiscards
        self.effectiveLossPct = effectiveLossPct
        self.rFactor = rFactor
        self.mosCQ = mosCQ
        self.mosLQ = mosLQ
        self.impairments = impairments
        self.dscpSent = dscpSent
        self.dscpReceived = dscpReceived
        self.audioOK = audioOK
        self.firstPacketMs = firstPacketMs
    }
}

/// The signalling side of a call, from one participant.
public struct CallSummary: Codable, Sendable, Equatable, Hashable {
    public struct Refresh: Codable, Sendable, Equatable, Hashable {
        public var atS: Double
        public var method: String
        public var statusCode: Int?
        public var outcome: String

        enum CodingKeys: String, CodingKey { case atS = "at_s", method, statusCode = "status_code", outcome }

        public init(atS: Double, method: String, statusCode: Int? = nil, outcome: String) {
            self.atS = atS
            self.method = method
            self.statusCode = statusCode
            self.outcome = outcome
        }
    }

    public var callID: String?
    public var inviteTo180Ms: Double?
    public var inviteTo200Ms: Double?
    public var answerToFirstRTPMs: Double?
    public var plannedDurationS: Double?
    public var actualDurationS: Double?
    /// The engine's CallEnding cause (`normal`, `session_expired`, ...), and its detail.
    public var ending: String
    public var endingDetail: String?
    public var endingStatusCode: Int?
    public var sessionIntervalS: Int?
    public var refreshMethod: String?
    public var refreshes: [Refresh]

    enum CodingKeys: String, CodingKey {
        case callID = "call_id", inviteTo180Ms = "invite_to_180_ms", inviteTo200Ms = "invite_to_200_ms"
        case answerToFirstRTPMs = "answer_to_first_rtp_ms", plannedDurationS = "planned_duration_s"
        case actualDurationS = "actual_duration_s", ending, endingDetail = "ending_detail"
        case endingStatusCode = "ending_status_code", sessionIntervalS = "session_interval_s"
        case refreshMethod = "refresh_method", refreshes
    }

    public init(callID: String? = nil, inviteTo180Ms: Double? = nil, inviteTo200Ms: Double? = nil,
                answerToFirstRTPMs: Double? = nil, plannedDurationS: Double? = nil, actualDurationS: Double? = nil,
                ending: String, endingDetail: String? = nil, endingStatusCode: Int? = nil,
                sessionIntervalS: Int? = nil, refreshMethod: String? = nil, refreshes: [Refresh] = []) {
        self.callID = callID
        self.inviteTo180Ms = inviteTo180Ms
        self.inviteTo200Ms = inviteTo200Ms
        self.answerToFirstRTPMs = answerToFirstRTPMs
        self.plannedDurationS = plannedDurationS
        self.actualDurationS = actualDurationS
        self.ending = ending
        self.endingDetail = endingDetail
        self.endingStatusCode = endingStatusCode
        self.sessionIntervalS = sessionIntervalS
        self.refreshMethod = refreshMethod
        self.refreshes = refreshes
    }
}

public struct DTMFDigit: Codable, Sendable, Equatable, Hashable {
    public var digit: String
    /// From the start of the media to the digit's first packet, at its sender or receiver.
    public var offsetMs: Double

    enum CodingKeys: String, CodingKey { case digit, offsetMs = "offset_ms" }

    public init(digit: String, offsetMs: Double) {
        self.digit = digit
        self.offsetMs = offsetMs
    }
}

public struct DTMFSummary: Codable, Sendable, Equatable, Hashable {
    public var sent: String
    public var received: String
    public var sentDigits: [DTMFDigit]
    public var receivedDigits: [DTMFDigit]

    enum CodingKeys: String, CodingKey { case sent, received, sentDigits = "sent_digits", receivedDigits = "received_digits" }

    public init(sent: String = "", received: String = "", sentDigits: [DTMFDigit] = [], receivedDigits: [DTMFDigit] = []) {
        self.sent = sent
        self.received = received
        self.sentDigits = sentDigits
        self.receivedDigits = receivedDigits
    }
}

public struct RegisterSummary: Codable, Sendable, Equatable, Hashable {
    public var statusCode: Int?
    public var timeMs: Double?
    public var authRoundTrips: Int
    public var expiresGrantedS: Int?

    enum CodingKeys: String, CodingKey {
        case statusCode = "status_code", timeMs = "time_ms", authRoundTrips = "auth_round_trips"
        case expiresGrantedS = "expires_granted_s"
    }

    public init(statusCode: Int?, timeMs: Double?, authRoundTrips: Int, expiresGrantedS: Int?) {
        self.statusCode = statusCode
        self.timeMs = timeMs
        self.authRoundTrips = authRoundTrips
        self.expiresGrantedS = expiresGrantedS
    }
}

public struct OptionsSummary: Codable, Sendable, Equatable, Hashable {
    public var statusCode: Int?
    public var rttMs: Double?
    public var allow: [String]
    public var supported: [String]

    enum CodingKeys: String, CodingKey { case statusCode = "status_code", rttMs = "rtt_ms", allow, supported }

    public init(statusCode: Int?, rttMs: Double?, allow: [String] = [], supported: [String] = []) {
        self.statusCode = statusCode
        self.rttMs = rttMs
        self.allow = allow
        self.supported = supported
    }
}

/// One message of the SIP ladder.
public struct LadderEntry: Codable, Sendable, Equatable, Hashable {
    /// Milliseconds from the first message.
    public var atMs: Double
    /// `sent` or `received`.
    public var direction: String
    /// `INVITE`, `200 OK`, ...
    public var summary: String
    public var peer: String?
    /// The message, its body truncated.
    public var text: String

    enum CodingKeys: String, CodingKey { case atMs = "at_ms", direction, summary, peer, text }

    public init(atMs: Double, direction: String, summary: String, peer: String? = nil, text: String) {
        self.atMs = atMs
        self.direction = direction
        self.summary = summary
        self.peer = peer
        self.text = text
    }
}

/// Media counters of one second of a call, one participant's view.
public struct MediaSecond: Codable, Sendable, Equatable, Hashable {
    public var second: Int
    public var sent: Int
    public var received: Int
    /// Sequence numbers first missing in this second (unique loss so far minus before).
    public var lost: Int
    public var jitterMs: Double?

    enum CodingKeys: String, CodingKey { case second, sent, received, lost, jitterMs = "jitter_ms" }

    public init(second: Int, sent: Int, received: Int, lost: Int, jitterMs: Double? = nil) {
        self.second = second
        self.sent = sent
        self.received = received
        self.lost = lost
        self.jitterMs = jitterMs
    }
}

public struct Evidence: Codable, Sendable, Equatable, Hashable {
    public var ladder: [LadderEntry]
    public var mediaSeconds: [MediaSecond]
    /// Notes of the engine (problems it saw).
    public var notes: [String]

    enum CodingKeys: String, CodingKey { case ladder, mediaSeconds = "media_seconds", notes }

    public init(ladder: [LadderEntry] = [], mediaSeconds: [MediaSecond] = [], notes: [String] = []) {
        self.ladder = ladder
        self.mediaSeconds = mediaSeconds
        self.notes = notes
    }
}

/// One participant's result of one run. Idempotent by (run id, agent id).
public struct RunResult: Codable, Sendable, Equatable {
    public var runID: String
    public var agentID: String
    public var role: ParticipantRole
    public var testType: TestType
    /// The participant's own view: passed / degraded / failed / not_run.
    public var status: RunStatus
    public var cause: RunCause?
    public var startedAt: Date?
    public var endedAt: Date?
    public var call: CallSummary?
    /// Directions this participant measured (received) or learned from RTCP (sent).
    public var streams: [StreamMetrics]
    public var dtmf: DTMFSummary?
    public var register: RegisterSummary?
    public var options: OptionsSummary?
    /// A conference participant's view of its leg: join time, the tones it heard.
    public var conference: ParticipantConferenceReport?
    /// A conference bridge's report.
    public var bridge: BridgeRunReport?
    public var evidence: Evidence?
    /// The engine's full report (earshot call's JSON), kept so every figure can be recomputed.
    public var raw: JSONValue?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", agentID = "agent_id", role, testType = "test_type", status, cause
        case startedAt = "started_at", endedAt = "ended_at", call, streams, dtmf, register, options, conference
        case bridge = "conference_bridge", evidence, raw
    }

    public init(runID: String, agentID: String, role: ParticipantRole, testType: TestType, status: RunStatus,
                cause: RunCause? = nil, startedAt: Date? = nil, endedAt: Date? = nil, call: CallSummary? = nil,
                streams: [StreamMetrics] = [], dtmf: DTMFSummary? = nil, register: RegisterSummary? = nil,
                options: OptionsSummary? = nil, conference: ParticipantConferenceReport? = nil,
                bridge: BridgeRunReport? = nil, evidence: Evidence? = nil, raw: JSONValue? = nil) {
        self.runID = runID
        self.agentID = agentID
        self.role = role
        self.testType = testType
        self.status = status
        self.cause = cause
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.call = call
        self.streams = streams
        self.dtmf = dtmf
        self.register = register
        self.options = options
        self.conference = conference
        self.bridge = bridge
        self.evidence = evidence
        self.raw = raw
    }
}

/// Any JSON value, for raw reports kept as they came.
public indirect enum JSONValue: Codable, Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}
