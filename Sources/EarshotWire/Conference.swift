// Conference tests (DESIGN §2 `conference`, issue 6): the suite's settings, what each agent is
// assigned, what it reports, and the organizer's judged summary with the hearing matrix.
//
// A conference run has one participant per member agent (role `participant`) and, for the
// built-in bridge, one agent hosting it (role `bridge`). Participants call the conference
// URI at staggered join times, each sending its own identifying tone; each listens for the
// tones of all the others and for its own (a bridge that does not subtract a participant
// sends its tone back). The bridge reports what it received from every participant and
// what it did with their DTMF. The organizer merges both sides into `ConferenceSummary`.
import Foundation

/// Where the conference takes place.
public enum ConferenceBridgeMode: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    /// The built-in bridge, hosted by one agent with the `bridge` capability
    /// (`bridge_agent`, else the organizer picks one: the first bridge-capable member, else
    /// the first bridge-capable agent).
    case agent
    /// The built-in bridge, hosted by a different bridge-capable agent every round.
    case rotate
    /// An external conference URI (a PBX room): no bridge agent; the participants call `uri`
    /// (through `via.proxy` when set) and send `pin` as DTMF after answer.
    case uri
}

/// What a bridge does with RFC 4733 digits one participant sends.
public enum DTMFRelayMode: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    /// Forward each telephone-event packet to the other participants (re-stamped with each
    /// leg's SSRC, sequence and timestamp).
    case relay
    /// Detect the digit and generate a fresh RFC 4733 event of the same length toward the others.
    case regenerate
    /// Do not pass digits on (the OCS A/V MCU's behaviour); the bridge still reports them.
    case drop
}

/// The `conference:` section of a conference suite.
public struct ConferenceSettings: Codable, Sendable, Equatable, Hashable {
    public var bridge: ConferenceBridgeMode
    /// For `agent`: the hosting agent (name or id). Nil: the organizer picks.
    public var bridgeAgent: String?
    /// For `uri`: the conference URI (`sip:room100@pbx.example.com`).
    public var uri: String?
    /// Digits sent (RFC 4733) right after the bridge answers, before the tone and the test
    /// digits: a PBX room's PIN. For the built-in bridge, the bridge then demands it too.
    public var pin: String?
    /// The most participants in one conference; more members are not invited (the default
    /// suite: all agents up to this cap).
    public var maxParticipants: Int
    /// Joins are staggered evenly over this span from the run's start.
    public var joinSpread: WireDuration
    /// What the built-in bridge does with DTMF.
    public var dtmfMode: DTMFRelayMode
    /// The participant that sends the suite's `dtmf` digits (name or id); nil: the first.
    public var dtmfFrom: String?

    enum CodingKeys: String, CodingKey {
        case bridge, bridgeAgent = "bridge_agent", uri, pin, maxParticipants = "max_participants"
        case joinSpread = "join_spread", dtmfMode = "dtmf_mode", dtmfFrom = "dtmf_from"
    }

    public static let defaultMaxParticipants = 10

    public init(bridge: ConferenceBridgeMode = .agent, bridgeAgent: String? = nil, uri: String? = nil, pin: String? = nil,
                maxParticipants: Int = ConferenceSettings.defaultMaxParticipants, joinSpread: WireDuration = .seconds(2),
                dtmfMode: DTMFRelayMode = .relay, dtmfFrom: String? = nil) {
        self.bridge = bridge
        self.bridgeAgent = bridgeAgent
        self.uri = uri
        self.pin = pin
        self.maxParticipants = maxParticipants
        self.joinSpread = joinSpread
        self.dtmfMode = dtmfMode
        self.dtmfFrom = dtmfFrom
    }

    /// Missing keys take the defaults above.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bridge = try c.decodeIfPresent(ConferenceBridgeMode.self, forKey: .bridge) ?? .agent
        bridgeAgent = try c.decodeIfPresent(String.self, forKey: .bridgeAgent)
        uri = try c.decodeIfPresent(String.self, forKey: .uri)
        pin = try c.decodeIfPresent(String.self, forKey: .pin)
        maxParticipants = try c.decodeIfPresent(Int.self, forKey: .maxParticipants) ?? Self.defaultMaxParticipants
        joinSpread = try c.decodeIfPresent(WireDuration.self, forKey: .joinSpread) ?? .seconds(2)
        dtmfMode = try c.decodeIfPresent(DTMFRelayMode.self, forKey: .dtmfMode) ?? .relay
        dtmfFrom = try c.decodeIfPresent(String.self, forKey: .dtmfFrom)
    }

    /// Problems naming the field (`conference.uri: …`); empty when valid. `duration` is the
    /// suite's (the join spread must leave time in the conference).
    public func problems(duration: WireDuration) -> [String] {
        var out: [String] = []
        if bridge == .uri, (uri ?? "").isEmpty { out.append("conference.uri: bridge uri needs the conference URI") }
        if let uri, !uri.isEmpty, !(uri.hasPrefix("sip:") || uri.hasPrefix("sips:")) || !uri.contains("@") {
            out.append("conference.uri: a SIP URI such as sip:room100@pbx.example.com")
        }
        if bridge != .uri, uri != nil { out.append("conference.uri: only with bridge: uri") }
        if bridge != .agent, bridgeAgent != nil { out.append("conference.bridge_agent: only with bridge: agent") }
        if let pin, pin.isEmpty || !pin.allSatisfy({ "0123456789*#ABCD".contains($0) }) {
            out.append("conference.pin: digits 0-9, *, #, A-D")
        }
        if !(2...500).contains(maxParticipants) { out.append("conference.max_participants: between 2 and 500") }
        if joinSpread.seconds < 0 || joinSpread.seconds > duration.seconds / 2 {
            out.append("conference.join_spread: between 0 and half the duration")
        }
        return out
    }
}

/// One member as the others should hear it.
public struct ConferenceMember: Codable, Sendable, Equatable, Hashable {
    public var agentID: String
    public var name: String
    public var toneHz: Int
    /// When it joins, seconds after the run's `start_at`.
    public var joinOffsetS: Double

    enum CodingKeys: String, CodingKey { case agentID = "agent_id", name, toneHz = "tone_hz", joinOffsetS = "join_offset_s" }

    public init(agentID: String, name: String, toneHz: Int, joinOffsetS: Double) {
        self.agentID = agentID
        self.name = name
        self.toneHz = toneHz
        self.joinOffsetS = joinOffsetS
    }
}

/// The conference part of an assignment (role `participant` or `bridge`).
public struct ConferenceAssignment: Codable, Sendable, Equatable, Hashable {
    /// `conf-<run id>` for the built-in bridge: the user part participants call.
    public var conferenceID: String
    public var mode: ConferenceBridgeMode
    /// What participants call: `sip:conf-<id>@<bridge contact host:port>;transport=…`, the
    /// registered AOR `sip:conf-<id>@<domain>` when `via.registrar` is set, or the external URI.
    public var uri: String
    /// Outbound proxy HOST:PORT for participants (the suite's `via.proxy`).
    public var proxy: String?
    public var transport: String
    public var codec: String
    /// Every participant, in join order (the bridge expects these; a participant listens for
    /// every other one's tone).
    public var members: [ConferenceMember]
    /// The conference lasts this long from `start_at`: every participant leaves at
    /// `start_at + duration_s` (one that joins at offset t is in for duration_s − t).
    public var durationS: Double
    public var pin: String?
    /// Digits the `dtmf_sender` sends (after its PIN and once every member has joined).
    public var dtmf: String?
    public var dtmfSender: String?
    public var dtmfMode: DTMFRelayMode
    public var maxParticipants: Int
    /// The bridge: register `uri` here (HOST:PORT) so that participants reach it through the
    /// registrar/proxy under test; nil: participants call the bridge's contact directly.
    public var registrar: String?
    public var credentials: SIPCredentials?

    enum CodingKeys: String, CodingKey {
        case conferenceID = "conference_id", mode, uri, proxy, transport, codec, members, durationS = "duration_s", pin
        case dtmf, dtmfSender = "dtmf_sender", dtmfMode = "dtmf_mode", maxParticipants = "max_participants"
        case registrar, credentials
    }

    public init(conferenceID: String, mode: ConferenceBridgeMode, uri: String, proxy: String? = nil, transport: String = "udp",
                codec: String = "PCMU", members: [ConferenceMember], durationS: Double, pin: String? = nil,
                dtmf: String? = nil, dtmfSender: String? = nil, dtmfMode: DTMFRelayMode = .relay,
                maxParticipants: Int = ConferenceSettings.defaultMaxParticipants, registrar: String? = nil,
                credentials: SIPCredentials? = nil) {
        self.conferenceID = conferenceID
        self.mode = mode
        self.uri = uri
        self.proxy = proxy
        self.transport = transport
        self.codec = codec
        self.members = members
        self.durationS = durationS
        self.pin = pin
        self.dtmf = dtmf
        self.dtmfSender = dtmfSender
        self.dtmfMode = dtmfMode
        self.maxParticipants = maxParticipants
        self.registrar = registrar
        self.credentials = credentials
    }

    /// The member entry of `agentID`.
    public func member(_ agentID: String) -> ConferenceMember? { members.first { $0.agentID == agentID } }
}

/// How well one tone came through in what a participant received.
public struct ToneHeard: Codable, Sendable, Equatable, Hashable {
    /// The speaker (agent id; `bridge`/the URI for tones not of a member).
    public var agentID: String
    public var toneHz: Int
    /// Share of the 20 ms frames (from the speaker's join to the listener's leave) with the tone.
    public var fraction: Double
    /// Mean tone level in the frames that had it, dBov (the test signal sends −20 dBov).
    public var levelDb: Double?
    /// `continuous`, `intermittent` or `absent` (ToneTracker's verdict).
    public var verdict: String
    /// The longest run of frames without the tone, ms.
    public var longestGapMs: Double

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", toneHz = "tone_hz", fraction, levelDb = "level_db", verdict, longestGapMs = "longest_gap_ms"
    }

    public init(agentID: String, toneHz: Int, fraction: Double, levelDb: Double?, verdict: String, longestGapMs: Double = 0) {
        self.agentID = agentID
        self.toneHz = toneHz
        self.fraction = fraction
        self.levelDb = levelDb
        self.verdict = verdict
        self.longestGapMs = longestGapMs
    }

    public var isHeard: Bool { verdict != "absent" }
}

/// A participant's own view of its conference leg (`RunResult.conference`, role participant).
public struct ParticipantConferenceReport: Codable, Sendable, Equatable, Hashable {
    /// INVITE → 200, ms.
    public var joinMs: Double?
    /// When the 200 came, ms after the run's `start_at`.
    public var joinedAtMs: Double?
    public var leftAtMs: Double?
    /// Digits sent as the PIN.
    public var pinSent: String?
    /// Every other member's tone in what this participant received.
    public var heard: [ToneHeard]
    /// This participant's own tone in what it received (an echo: the bridge did not subtract it).
    public var ownTone: ToneHeard?

    enum CodingKeys: String, CodingKey {
        case joinMs = "join_ms", joinedAtMs = "joined_at_ms", leftAtMs = "left_at_ms", pinSent = "pin_sent", heard
        case ownTone = "own_tone"
    }

    public init(joinMs: Double? = nil, joinedAtMs: Double? = nil, leftAtMs: Double? = nil, pinSent: String? = nil,
                heard: [ToneHeard] = [], ownTone: ToneHeard? = nil) {
        self.joinMs = joinMs
        self.joinedAtMs = joinedAtMs
        self.leftAtMs = leftAtMs
        self.pinSent = pinSent
        self.heard = heard
        self.ownTone = ownTone
    }
}

/// One leg as the bridge saw it.
public struct BridgeLegReport: Codable, Sendable, Equatable, Hashable {
    /// The member's agent id (from `X-Earshot-Agent` / the member list); nil for a caller the
    /// bridge could not attribute (reported with `from`).
    public var agentID: String?
    public var from: String
    public var callID: String
    public var joinedAtMs: Double
    public var leftAtMs: Double?
    /// Whether it sent the PIN (or none was required) and was mixed.
    public var admitted: Bool
    /// Digits the bridge received from this member (PIN included), and what it did with the
    /// non-PIN ones (relayed to n others / regenerated / dropped).
    public var dtmfReceived: String
    public var dtmfForwarded: Int
    /// Frames of this member's audio the mixer had to conceal (late or lost), of all mixed.
    public var framesMixed: Int
    public var framesConcealed: Int

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", from, callID = "call_id", joinedAtMs = "joined_at_ms", leftAtMs = "left_at_ms", admitted
        case dtmfReceived = "dtmf_received", dtmfForwarded = "dtmf_forwarded", framesMixed = "frames_mixed"
        case framesConcealed = "frames_concealed"
    }

    public init(agentID: String?, from: String, callID: String, joinedAtMs: Double, leftAtMs: Double? = nil,
                admitted: Bool = true, dtmfReceived: String = "", dtmfForwarded: Int = 0, framesMixed: Int = 0,
                framesConcealed: Int = 0) {
        self.agentID = agentID
        self.from = from
        self.callID = callID
        self.joinedAtMs = joinedAtMs
        self.leftAtMs = leftAtMs
        self.admitted = admitted
        self.dtmfReceived = dtmfReceived
        self.dtmfForwarded = dtmfForwarded
        self.framesMixed = framesMixed
        self.framesConcealed = framesConcealed
    }
}

/// The bridge agent's report (`RunResult.conference_bridge`, role bridge).
public struct BridgeRunReport: Codable, Sendable, Equatable, Hashable {
    public var conferenceID: String
    public var dtmfMode: DTMFRelayMode
    public var maxParticipants: Int
    public var peakParticipants: Int
    /// INVITEs refused because the conference was full (486).
    public var refused: Int
    public var legs: [BridgeLegReport]
    /// Mixer ticks run, and how late they ran (µs after their 20 ms grid time).
    public var ticks: Int
    public var tickLatenessP99Us: Double?
    /// Output samples the mixer had to clip (sum beyond the 16-bit range).
    public var clippedSamples: Int

    enum CodingKeys: String, CodingKey {
        case conferenceID = "conference_id", dtmfMode = "dtmf_mode", maxParticipants = "max_participants"
        case peakParticipants = "peak_participants", refused, legs, ticks, tickLatenessP99Us = "tick_lateness_p99_us"
        case clippedSamples = "clipped_samples"
    }

    public init(conferenceID: String, dtmfMode: DTMFRelayMode, maxParticipants: Int, peakParticipants: Int = 0,
                refused: Int = 0, legs: [BridgeLegReport] = [], ticks: Int = 0, tickLatenessP99Us: Double? = nil,
                clippedSamples: Int = 0) {
        self.conferenceID = conferenceID
        self.dtmfMode = dtmfMode
        self.maxParticipants = maxParticipants
        self.peakParticipants = peakParticipants
        self.refused = refused
        self.legs = legs
        self.ticks = ticks
        self.tickLatenessP99Us = tickLatenessP99Us
        self.clippedSamples = clippedSamples
    }
}

// MARK: - judged

/// One participant's leg, both directions, as judged.
public struct ConferenceLeg: Codable, Sendable, Equatable, Hashable {
    public var agentID: String
    public var name: String
    public var site: String?
    public var toneHz: Int
    public var joinMs: Double?
    public var joinedAtMs: Double?
    /// passed / degraded / failed / not_run for this leg alone.
    public var status: RunStatus
    public var cause: RunCause?
    /// participant → bridge (measured by the bridge; the participant's RTCP view for an external room).
    public var up: StreamMetrics?
    /// bridge → participant (measured by the participant).
    public var down: StreamMetrics?

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", name, site, toneHz = "tone_hz", joinMs = "join_ms", joinedAtMs = "joined_at_ms", status
        case cause, up, down
    }

    public init(agentID: String, name: String, site: String? = nil, toneHz: Int, joinMs: Double? = nil,
                joinedAtMs: Double? = nil, status: RunStatus, cause: RunCause? = nil, up: StreamMetrics? = nil,
                down: StreamMetrics? = nil) {
        self.agentID = agentID
        self.name = name
        self.site = site
        self.toneHz = toneHz
        self.joinMs = joinMs
        self.joinedAtMs = joinedAtMs
        self.status = status
        self.cause = cause
        self.up = up
        self.down = down
    }
}

/// One cell of the hearing matrix: does `listener` hear `speaker`?
public struct HearingCell: Codable, Sendable, Equatable, Hashable {
    public enum State: String, Codable, Sendable, Equatable, Hashable {
        /// Heard throughout (`continuous`).
        case heard
        /// Heard in part (`intermittent`).
        case partial
        /// Not heard although both were in the conference.
        case missing
        /// Own tone came back (listener == speaker): the bridge did not subtract it.
        case echo
        /// Own tone absent, as it should be (listener == speaker).
        case clean
        /// No verdict: the speaker or the listener was not in the conference (leg failed, not
        /// joined, left early) or sent no report.
        case unknown
    }

    public var listener: String
    public var speaker: String
    public var state: State
    public var fraction: Double?
    public var levelDb: Double?

    enum CodingKeys: String, CodingKey { case listener, speaker, state, fraction, levelDb = "level_db" }

    public init(listener: String, speaker: String, state: State, fraction: Double? = nil, levelDb: Double? = nil) {
        self.listener = listener
        self.speaker = speaker
        self.state = state
        self.fraction = fraction
        self.levelDb = levelDb
    }
}

/// DTMF through the bridge: what the sender sent and what each other participant got.
public struct ConferenceDTMF: Codable, Sendable, Equatable, Hashable {
    public var sender: String
    public var sent: String
    /// Per receiving participant (agent id): the digits it received.
    public var received: [String: String]
    /// The bridge's mode (nil for an external room).
    public var mode: DTMFRelayMode?
    /// What the bridge received from the sender (nil for an external room).
    public var bridgeReceived: String?

    enum CodingKeys: String, CodingKey { case sender, sent, received, mode, bridgeReceived = "bridge_received" }

    public init(sender: String, sent: String, received: [String: String], mode: DTMFRelayMode? = nil,
                bridgeReceived: String? = nil) {
        self.sender = sender
        self.sent = sent
        self.received = received
        self.mode = mode
        self.bridgeReceived = bridgeReceived
    }
}

/// The organizer's merged view of a conference run (`RunDetail.conference`).
public struct ConferenceSummary: Codable, Sendable, Equatable, Hashable {
    public var conferenceID: String
    public var mode: ConferenceBridgeMode
    /// The bridge agent (built-in) or nil (external room).
    public var bridgeAgentID: String?
    public var uri: String
    public var legs: [ConferenceLeg]
    /// listener × speaker, listeners and speakers in join order; the diagonal is the echo check.
    public var hearing: [HearingCell]
    public var dtmf: ConferenceDTMF?
    public var peakParticipants: Int?
    public var refused: Int?

    enum CodingKeys: String, CodingKey {
        case conferenceID = "conference_id", mode, bridgeAgentID = "bridge_agent_id", uri, legs, hearing, dtmf
        case peakParticipants = "peak_participants", refused
    }

    public init(conferenceID: String, mode: ConferenceBridgeMode, bridgeAgentID: String? = nil, uri: String,
                legs: [ConferenceLeg] = [], hearing: [HearingCell] = [], dtmf: ConferenceDTMF? = nil,
                peakParticipants: Int? = nil, refused: Int? = nil) {
        self.conferenceID = conferenceID
        self.mode = mode
        self.bridgeAgentID = bridgeAgentID
        self.uri = uri
        self.legs = legs
        self.hearing = hearing
        self.dtmf = dtmf
        self.peakParticipants = peakParticipants
        self.refused = refused
    }

    public func cell(listener: String, speaker: String) -> HearingCell? {
        hearing.first { $0.listener == listener && $0.speaker == speaker }
    }
}

/// The stream label for the far end of a leg to an external room (its `from`/`to` in
/// `StreamMetrics` instead of a bridge agent id).
public let externalRoomLabel = "room"
