import Foundation

public enum TestType: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    case p2p, register, options, soak, dtmf, conference
}

/// A length of time written as seconds (`90`, `2.5`) or with a unit (`500ms`, `20s`, `5m`,
/// `1h`, `1d`, `1h30m`). Encoded as seconds.
public struct WireDuration: Codable, Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }
    public static func seconds(_ s: Double) -> WireDuration { WireDuration(seconds: s) }
    public static func minutes(_ m: Double) -> WireDuration { WireDuration(seconds: m * 60) }
    public static func < (a: WireDuration, b: WireDuration) -> Bool { a.seconds < b.seconds }

    /// Parses `90`, `2.5`, `500ms`, `20s`, `5m`, `1h`, `1d`, `1h30m`. Nil for anything else,
    /// negatives included.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.isEmpty { return nil }
        if let plain = Double(t) {
            guard plain >= 0, plain.isFinite else { return nil }
            seconds = plain
            return
        }
        var total = 0.0
        var number = ""
        var i = t.startIndex
        var sawUnit = false
        while i < t.endIndex {
            let c = t[i]
            if c.isNumber || c == "." {
                number.append(c)
                i = t.index(after: i)
                continue
            }
            var unit = ""
            while i < t.endIndex, t[i].isLetter {
                unit.append(t[i])
                i = t.index(after: i)
            }
            guard let value = Double(number), value >= 0 else { return nil }
            let factor: Double
            switch unit {
            case "ms": factor = 0.001
            case "s": factor = 1
            case "m", "min": factor = 60
            case "h": factor = 3600
            case "d": factor = 86400
            default: return nil
            }
            total += value * factor
            number = ""
            sawUnit = true
        }
        guard sawUnit, number.isEmpty, total.isFinite else { return nil }
        seconds = total
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(Double.self) {
            guard s >= 0, s.isFinite else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "a duration cannot be negative")
            }
            seconds = s
            return
        }
        let text = try c.decode(String.self)
        guard let d = WireDuration(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "\"\(text)\" is not a duration (write e.g. 90, 500ms, 20s, 5m, 1h)")
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(seconds)
    }

    /// `1h30m`, `45s`, `500ms`.
    public var description: String {
        if seconds < 1, seconds > 0 { return "\(Int((seconds * 1000).rounded()))ms" }
        var rest = Int(seconds.rounded())
        var out = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        if rest > 0 || out.isEmpty { out += "\(rest)s" }
        return out
    }
}

/// Which agents a suite uses. Empty selectors (no names, sites or labels) mean every agent.
/// An agent is a member when it matches any listed name, or any listed site, or all listed
/// labels.
public struct MemberSelector: Codable, Sendable, Equatable, Hashable {
    public var agents: [String]?
    public var sites: [String]?
    public var labels: [String: String]?

    public init(agents: [String]? = nil, sites: [String]? = nil, labels: [String: String]? = nil) {
        self.agents = agents
        self.sites = sites
        self.labels = labels
    }

    public static let all = MemberSelector()

    public var selectsAll: Bool {
        (agents ?? []).isEmpty && (sites ?? []).isEmpty && (labels ?? [:]).isEmpty
    }

    public func matches(name: String, id: String, site: String, labels agentLabels: [String: String]) -> Bool {
        if selectsAll { return true }
        if let agents, agents.contains(name) || agents.contains(id) { return true }
        if let sites, sites.contains(site) { return true }
        if let labels, !labels.isEmpty, labels.allSatisfy({ agentLabels[$0.key] == $0.value }) { return true }
        return false
    }
}

public enum TopologyKind: String, Codable, Sendable, Equatable, Hashable {
    /// Every ordered pair of members.
    case mesh
    /// Every member with the hub, both ways.
    case star
    /// The listed pairs.
    case pairs
    /// k pairs of the mesh per round, rotating so every pair comes up.
    case sample
    /// Each member alone (register, options).
    case each
}

public struct Topology: Codable, Sendable, Equatable, Hashable {
    public var kind: TopologyKind
    public var hub: String?
    /// For `pairs`: [caller, callee] by agent name.
    public var pairs: [[String]]?
    /// For `sample`: pairs per round.
    public var k: Int?

    public init(kind: TopologyKind, hub: String? = nil, pairs: [[String]]? = nil, k: Int? = nil) {
        self.kind = kind
        self.hub = hub
        self.pairs = pairs
        self.k = k
    }

    public static let mesh = Topology(kind: .mesh)
    public static let each = Topology(kind: .each)
}

/// Quality limits. A run that completes but breaks one is `degraded`; `failed` is for runs
/// that did not complete (or lost their audio, or their DTMF).
public struct Thresholds: Codable, Sendable, Equatable, Hashable {
    public var mosMin: Double?
    public var lossPctMax: Double?
    public var jitterMsMax: Double?
    public var rttMsMax: Double?
    public var setupMsMax: Double?

    enum CodingKeys: String, CodingKey {
        case mosMin = "mos_min", lossPctMax = "loss_pct_max", jitterMsMax = "jitter_ms_max"
        case rttMsMax = "rtt_ms_max", setupMsMax = "setup_ms_max"
    }

    public init(mosMin: Double? = 3.6, lossPctMax: Double? = 3, jitterMsMax: Double? = 30, rttMsMax: Double? = 300,
                setupMsMax: Double? = 5000) {
        self.mosMin = mosMin
        self.lossPctMax = lossPctMax
        self.jitterMsMax = jitterMsMax
        self.rttMsMax = rttMsMax
        self.setupMsMax = setupMsMax
    }

    public static let defaults = Thresholds()

    /// A missing key takes its default (writing only `mos_min` keeps the other limits); an
    /// explicit null switches that check off.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func limit(_ key: CodingKeys, _ fallback: Double?) throws -> Double? {
            guard c.contains(key) else { return fallback }
            return try c.decodeNil(forKey: key) ? nil : c.decode(Double.self, forKey: key)
        }
        let d = Thresholds.defaults
        mosMin = try limit(.mosMin, d.mosMin)
        lossPctMax = try limit(.lossPctMax, d.lossPctMax)
        jitterMsMax = try limit(.jitterMsMax, d.jitterMsMax)
        rttMsMax = try limit(.rttMsMax, d.rttMsMax)
        setupMsMax = try limit(.setupMsMax, d.setupMsMax)
    }

    /// Every key, null for a check that is off (so that decoding gives the same value back).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mosMin, forKey: .mosMin)
        try c.encode(lossPctMax, forKey: .lossPctMax)
        try c.encode(jitterMsMax, forKey: .jitterMsMax)
        try c.encode(rttMsMax, forKey: .rttMsMax)
        try c.encode(setupMsMax, forKey: .setupMsMax)
    }
}

public struct SIPCredentials: Codable, Sendable, Equatable, Hashable {
    public var username: String
    public var password: String
    /// The address of record, e.g. `sip:alice@example.com`; default `sip:<username>@<domain>`.
    public var aor: String?

    public init(username: String, password: String, aor: String? = nil) {
        self.username = username
        self.password = password
        self.aor = aor
    }
}

/// The SIP infrastructure a suite goes through instead of calling agents directly.
public struct SIPInfrastructure: Codable, Sendable, Equatable, Hashable {
    /// `host:port` of the registrar (REGISTER goes here).
    public var registrar: String?
    /// `host:port` of the outbound proxy (INVITEs go here).
    public var proxy: String?
    /// The domain of the addresses of record.
    public var domain: String?
    public var transport: String?
    /// Per agent name.
    public var credentials: [String: SIPCredentials]?

    public init(registrar: String? = nil, proxy: String? = nil, domain: String? = nil, transport: String? = nil,
                credentials: [String: SIPCredentials]? = nil) {
        self.registrar = registrar
        self.proxy = proxy
        self.domain = domain
        self.transport = transport
        self.credentials = credentials
    }
}

/// A suite as written in YAML, the API and the CLI (organizer/suites/*.yaml).
public struct SuiteSpec: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var type: TestType
    public var description: String?
    public var members: MemberSelector
    public var topology: Topology
    /// Rounds start every interval, each at a random offset inside it.
    public var interval: WireDuration
    /// Every pair must be tested at least this often; default the interval. The planner
    /// warns with the period it can achieve when the budgets make this impossible.
    public var period: WireDuration?
    public var duration: WireDuration
    public var codec: String
    public var transport: String
    /// Digits for `dtmf` suites (and optionally in any call).
    public var dtmf: String?
    /// RFC 4028 Session-Expires for `soak` (and optionally any call), seconds.
    public var sessionExpires: Int?
    public var via: SIPInfrastructure?
    /// For `options`: the SIP URI pinged (a server, SBC or trunk); register uses `via.registrar`.
    public var target: String?
    public var thresholds: Thresholds
    public var paused: Bool
    /// For `conference`: the bridge, cap, join spread, PIN, DTMF handling (defaults when absent).
    public var conference: ConferenceSettings?

    enum CodingKeys: String, CodingKey {
        case name, type, description, members, topology, interval, period, duration, codec, transport, dtmf
        case sessionExpires = "session_expires", via, target, thresholds, paused, conference
    }

    public init(name: String, type: TestType, description: String? = nil, members: MemberSelector = .all,
                topology: Topology = .mesh, interval: WireDuration = .minutes(5), period: WireDuration? = nil,
                duration: WireDuration = .seconds(10), codec: String = "PCMU", transport: String = "udp",
                dtmf: String? = nil, sessionExpires: Int? = nil, via: SIPInfrastructure? = nil,
                target: String? = nil, thresholds: Thresholds = .defaults, paused: Bool = false,
                conference: ConferenceSettings? = nil) {
        self.name = name
        self.type = type
        self.description = description
        self.members = members
        self.topology = topology
        self.interval = interval
        self.period = period
        self.duration = duration
        self.codec = codec
        self.transport = transport
        self.dtmf = dtmf
        self.sessionExpires = sessionExpires
        self.via = via
        self.target = target
        self.thresholds = thresholds
        self.paused = paused
        self.conference = conference ?? (type == .conference ? ConferenceSettings() : nil)
    }

    /// Missing keys take the defaults above; `type` and `name` are required.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(TestType.self, forKey: .type)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        members = try c.decodeIfPresent(MemberSelector.self, forKey: .members) ?? .all
        let defaultTopology: Topology = switch type {
        case .register, .options: .each
        default: .mesh
        }
        topology = try c.decodeIfPresent(Topology.self, forKey: .topology) ?? defaultTopology
        interval = try c.decodeIfPresent(WireDuration.self, forKey: .interval) ?? .minutes(5)
        period = try c.decodeIfPresent(WireDuration.self, forKey: .period)
        let defaultDuration: WireDuration = type == .soak ? .seconds(200) : .seconds(10)
        duration = try c.decodeIfPresent(WireDuration.self, forKey: .duration) ?? defaultDuration
        codec = try c.decodeIfPresent(String.self, forKey: .codec) ?? "PCMU"
        transport = try c.decodeIfPresent(String.self, forKey: .transport) ?? "udp"
        dtmf = try c.decodeIfPresent(String.self, forKey: .dtmf) ?? (type == .dtmf ? "123#" : nil)
        sessionExpires = try c.decodeIfPresent(Int.self, forKey: .sessionExpires) ?? (type == .soak ? 90 : nil)
        via = try c.decodeIfPresent(SIPInfrastructure.self, forKey: .via)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        thresholds = try c.decodeIfPresent(Thresholds.self, forKey: .thresholds) ?? .defaults
        paused = try c.decodeIfPresent(Bool.self, forKey: .paused) ?? false
        conference = try c.decodeIfPresent(ConferenceSettings.self, forKey: .conference)
            ?? (type == .conference ? ConferenceSettings() : nil)
    }

    /// Problems that make the suite unusable, as sentences naming the field. Empty when valid.
    public func problems() -> [String] {
        var out: [String] = []
        let nameOK = !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
        if !nameOK { out.append("name: use 1–64 letters, digits, '-', '_' or '.'") }
        if interval.seconds < 1 { out.append("interval: must be at least 1s") }
        if let period, period < interval { out.append("period: must not be shorter than the interval") }
        if duration.seconds < 1 || duration.seconds > 86400 { out.append("duration: must be between 1s and 1d") }
        if !["PCMU", "PCMA"].contains(codec) { out.append("codec: PCMU or PCMA") }
        if !["udp", "tcp", "tls"].contains(transport) { out.append("transport: udp, tcp or tls") }
        if let dtmf, dtmf.isEmpty || !dtmf.allSatisfy({ "0123456789*#ABCD".contains($0) }) {
            out.append("dtmf: digits 0-9, *, #, A-D")
        }
        if type == .dtmf, dtmf == nil { out.append("dtmf: a dtmf suite needs digits") }
        if let se = sessionExpires, se < 90 { out.append("session_expires: at least 90 (RFC 4028 Min-SE)") }
        switch topology.kind {
        case .star where (topology.hub ?? "").isEmpty: out.append("topology.hub: a star needs a hub agent")
        case .pairs:
            let pairs = topology.pairs ?? []
            if pairs.isEmpty || pairs.contains(where: { $0.count != 2 || $0[0] == $0[1] }) {
                out.append("topology.pairs: a list of [caller, callee] pairs of two different agents")
            }
        case .sample where (topology.k ?? 0) < 1: out.append("topology.k: sample needs k ≥ 1")
        default: break
        }
        switch type {
        case .options where (target ?? "").isEmpty: out.append("target: an options suite needs a SIP URI to ping")
        case .register where (via?.registrar ?? "").isEmpty: out.append("via.registrar: a register suite needs a registrar")
        case .conference:
            out += (conference ?? ConferenceSettings()).problems(duration: duration)
            if conference?.dtmfFrom != nil, dtmf == nil { out.append("conference.dtmf_from: the suite sends no dtmf") }
        default: break
        }
        if type != .conference, conference != nil { out.append("conference: only for type conference") }
        return out
    }

    /// The default suite of "restore to default" (DESIGN §4): a full p2p mesh of all agents.
    public static func defaultMesh(interval: WireDuration = .minutes(5)) -> SuiteSpec {
        SuiteSpec(name: "default", type: .p2p, description: "Full p2p mesh of all agents (restore to default)",
                  members: .all, topology: .mesh, interval: interval, duration: .seconds(10))
    }

    /// The default conference of "restore to default" (DESIGN §4): all agents up to the cap on
    /// the built-in bridge, hosted by a different agent each round, with DTMF through it.
    public static func defaultConference(interval: WireDuration = .minutes(5)) -> SuiteSpec {
        SuiteSpec(name: "default-conference", type: .conference,
                  description: "All agents (up to \(ConferenceSettings.defaultMaxParticipants)) in one conference on the built-in bridge (restore to default)",
                  members: .all, interval: interval, duration: .seconds(20), dtmf: "159#",
                  conference: ConferenceSettings(bridge: .rotate))
    }
}

/// A suite as the organizer holds it: the spec plus state.
public struct SuiteInfo: Codable, Sendable, Equatable {
    public var spec: SuiteSpec
    public var createdAt: Date
    public var updatedAt: Date
    public var memberCount: Int
    /// Ordered pairs (or single members) the topology yields now.
    public var unitCount: Int
    public var lastRoundAt: Date?
    public var nextRoundAt: Date?
    /// The planner's warning when the budgets cannot meet the period.
    public var warning: String?
    /// The period the planner can guarantee, seconds.
    public var achievablePeriodS: Double?

    enum CodingKeys: String, CodingKey {
        case spec, createdAt = "created_at", updatedAt = "updated_at", memberCount = "member_count"
        case unitCount = "unit_count", lastRoundAt = "last_round_at", nextRoundAt = "next_round_at", warning
        case achievablePeriodS = "achievable_period_s"
    }

    public init(spec: SuiteSpec, createdAt: Date, updatedAt: Date, memberCount: Int = 0, unitCount: Int = 0,
                lastRoundAt: Date? = nil, nextRoundAt: Date? = nil, warning: String? = nil,
                achievablePeriodS: Double? = nil) {
        self.spec = spec
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.memberCount = memberCount
        self.unitCount = unitCount
        self.lastRoundAt = lastRoundAt
        self.nextRoundAt = nextRoundAt
        self.warning = warning
        self.achievablePeriodS = achievablePeriodS
    }
}

extension Duration {
    /// Seconds as a Double (reports, timeouts, the organizer's clocks).
    public var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
