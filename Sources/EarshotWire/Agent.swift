import Foundation

/// What an agent can do (DESIGN §3 hello).
public struct AgentCapabilities: Codable, Sendable, Equatable, Hashable {
    public var codecs: [String]
    public var transports: [String]
    /// The concurrency budget: calls (each leg counts one) the agent runs at once.
    public var maxConcurrentCalls: Int
    /// Test types the agent executes.
    public var tests: [TestType]
    /// Hosts a conference bridge (issue 6).
    public var bridge: Bool

    enum CodingKeys: String, CodingKey {
        case codecs, transports, maxConcurrentCalls = "max_concurrent_calls", tests, bridge
    }

    public init(codecs: [String] = ["PCMU", "PCMA"], transports: [String] = ["udp", "tcp"],
                maxConcurrentCalls: Int = 20, tests: [TestType] = [.p2p, .register, .options, .soak, .dtmf],
                bridge: Bool = false) {
        self.codecs = codecs
        self.transports = transports
        self.maxConcurrentCalls = maxConcurrentCalls
        self.tests = tests
        self.bridge = bridge
    }
}

/// Where other agents reach this one: `sip:earshot@10.1.0.2:5060;transport=udp`.
public struct SIPContact: Codable, Sendable, Equatable, Hashable {
    public var uri: String
    public var transport: String

    public init(uri: String, transport: String) {
        self.uri = uri
        self.transport = transport
    }
}

/// How far the agent's wall clock can be trusted for one-way figures.
public struct ClockQuality: Codable, Sendable, Equatable, Hashable {
    /// The kernel says the clock is synchronised (adjtimex STA_UNSYNC clear).
    public var synchronized: Bool?
    /// Estimated maximum error, milliseconds (adjtimex maxerror).
    public var maxErrorMs: Double?

    enum CodingKeys: String, CodingKey { case synchronized, maxErrorMs = "max_error_ms" }

    public init(synchronized: Bool? = nil, maxErrorMs: Double? = nil) {
        self.synchronized = synchronized
        self.maxErrorMs = maxErrorMs
    }
}

public struct AgentHello: Codable, Sendable, Equatable {
    public var agentID: String
    public var credential: String
    public var name: String
    public var version: String
    public var site: String
    public var subnet: String?
    public var labels: [String: String]
    public var sipContacts: [SIPContact]
    public var capabilities: AgentCapabilities
    public var clock: ClockQuality
    /// Runs still executing on the agent (after a reconnect).
    public var activeRuns: [String]
    /// Results waiting in the agent's spool.
    public var spooled: Int

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", credential, name, version, site, subnet, labels
        case sipContacts = "sip_contacts", capabilities, clock, activeRuns = "active_runs", spooled
    }

    public init(agentID: String, credential: String, name: String, version: String, site: String,
                subnet: String? = nil, labels: [String: String] = [:], sipContacts: [SIPContact],
                capabilities: AgentCapabilities = AgentCapabilities(), clock: ClockQuality = ClockQuality(),
                activeRuns: [String] = [], spooled: Int = 0) {
        self.agentID = agentID
        self.credential = credential
        self.name = name
        self.version = version
        self.site = site
        self.subnet = subnet
        self.labels = labels
        self.sipContacts = sipContacts
        self.capabilities = capabilities
        self.clock = clock
        self.activeRuns = activeRuns
        self.spooled = spooled
    }
}

public enum AgentState: String, Codable, Sendable, Equatable {
    /// Enrolled, never connected.
    case enrolled
    case online
    case offline
    case revoked
}

/// An agent as the API shows it (no secret, ever).
public struct AgentInfo: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var site: String
    public var subnet: String?
    public var labels: [String: String]
    public var version: String?
    public var state: AgentState
    public var sipContacts: [SIPContact]
    public var capabilities: AgentCapabilities?
    public var clock: ClockQuality?
    public var enrolledAt: Date
    public var lastSeenAt: Date?
    /// When the current state began.
    public var stateSince: Date?
    public var remoteAddress: String?
    public var activeRuns: Int
    public var spooled: Int

    enum CodingKeys: String, CodingKey {
        case id, name, site, subnet, labels, version, state, sipContacts = "sip_contacts", capabilities, clock
        case enrolledAt = "enrolled_at", lastSeenAt = "last_seen_at", stateSince = "state_since"
        case remoteAddress = "remote_address", activeRuns = "active_runs", spooled
    }

    public init(id: String, name: String, site: String, subnet: String? = nil, labels: [String: String] = [:],
                version: String? = nil, state: AgentState, sipContacts: [SIPContact] = [],
                capabilities: AgentCapabilities? = nil, clock: ClockQuality? = nil, enrolledAt: Date,
                lastSeenAt: Date? = nil, stateSince: Date? = nil, remoteAddress: String? = nil,
                activeRuns: Int = 0, spooled: Int = 0) {
        self.id = id
        self.name = name
        self.site = site
        self.subnet = subnet
        self.labels = labels
        self.version = version
        self.state = state
        self.sipContacts = sipContacts
        self.capabilities = capabilities
        self.clock = clock
        self.enrolledAt = enrolledAt
        self.lastSeenAt = lastSeenAt
        self.stateSince = stateSince
        self.remoteAddress = remoteAddress
        self.activeRuns = activeRuns
        self.spooled = spooled
    }
}

/// A stored agent event (online, offline, revoked, enrolled, labels_changed); alert rules
/// (issue 5) read these.
public struct AgentEvent: Codable, Sendable, Equatable {
    public var agentID: String
    public var kind: String
    public var at: Date
    public var detail: String?

    enum CodingKeys: String, CodingKey { case agentID = "agent_id", kind, at, detail }

    public init(agentID: String, kind: String, at: Date, detail: String? = nil) {
        self.agentID = agentID
        self.kind = kind
        self.at = at
        self.detail = detail
    }
}
