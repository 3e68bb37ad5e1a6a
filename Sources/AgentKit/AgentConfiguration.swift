import EarshotWire
import Foundation

/// How an agent is set up (DESIGN §3, §7): where its organizer is, who it is, where it keeps
/// its state, and how it listens for SIP and RTP. `earshot-agent run` builds one from its
/// command line; `earshot demo` builds them in-process.
public struct AgentConfiguration: Sendable {
    /// `ws://host:port/v1/agent` or `wss://host:port/v1/agent`.
    public var organizerURL: String
    /// A one-time enrollment token (`earshot agents token`). Needed only until the agent has a
    /// credential in its state directory; ignored after that.
    public var enrollmentToken: String?
    /// Holds `credential.json` (mode 0600) and `spool/` (results not yet acknowledged).
    public var stateDirectory: String
    /// The agent's name in the roster; nil: the name it enrolled with, else the host name.
    public var name: String?
    public var site: String?
    /// The agent's subnet as people name it (`10.1.0.0/24`), shown in the roster.
    public var subnet: String?
    public var labels: [String: String]
    /// SIP listening address and port (UDP and TCP on the same port; 0 picks a free one).
    public var sipHost: String
    public var sipPort: UInt16
    /// The address other agents reach us at, when `sipHost` is a wildcard or NATed.
    public var advertisedHost: String?
    /// RTP ports (even RTP, odd RTCP); every concurrent call needs one pair.
    public var rtpPorts: ClosedRange<UInt16>
    /// The concurrency budget announced in `hello`: calls (each leg one) run at once.
    public var maxConcurrentCalls: Int
    /// Overrides the organizer's heartbeat interval (`welcome.heartbeat_interval_s`).
    public var heartbeatInterval: Duration?
    /// PEM file of the CA that signed the organizer's certificate (wss://).
    public var tlsCAFile: String?
    /// Results kept while the organizer is unreachable; the oldest is dropped beyond this.
    public var spoolLimit: Int
    /// Reconnect delays: full jitter between 0 and min(cap, base·2ⁿ).
    public var reconnectBase: Duration
    public var reconnectCap: Duration
    /// The version announced in `hello`.
    public var version: String
    /// Hosts conference bridges: announced as the `bridge` capability (bridge assignments are
    /// refused without it).
    public var bridge: Bool
    /// Standing conference rooms, open for the agent's lifetime (a stand-in for a PBX room).
    public var rooms: [RoomConfiguration]

    public init(organizerURL: String, enrollmentToken: String? = nil, stateDirectory: String,
                name: String? = nil, site: String? = nil, subnet: String? = nil,
                labels: [String: String] = [:], sipHost: String = "0.0.0.0", sipPort: UInt16 = 5060,
                advertisedHost: String? = nil, rtpPorts: ClosedRange<UInt16> = 40000...40999, maxConcurrentCalls: Int = 20,
                heartbeatInterval: Duration? = nil, tlsCAFile: String? = nil, spoolLimit: Int = 10_000,
                reconnectBase: Duration = .seconds(1), reconnectCap: Duration = .seconds(60),
                version: String = AgentVersion.string, bridge: Bool = true, rooms: [RoomConfiguration] = []) {
        self.organizerURL = organizerURL
        self.enrollmentToken = enrollmentToken
        self.stateDirectory = stateDirectory
        self.name = name
        self.site = site
        self.subnet = subnet
        self.labels = labels
        self.sipHost = sipHost
        self.sipPort = sipPort
        self.advertisedHost = advertisedHost
        self.rtpPorts = rtpPorts
        self.maxConcurrentCalls = maxConcurrentCalls
        self.heartbeatInterval = heartbeatInterval
        self.tlsCAFile = tlsCAFile
        self.spoolLimit = spoolLimit
        self.reconnectBase = reconnectBase
        self.reconnectCap = reconnectCap
        self.version = version
        self.bridge = bridge
        self.rooms = rooms
    }

    /// Checks what can be checked without the network.
    public func validate() throws(AgentConfigurationError) {
        let lower = organizerURL.lowercased()
        guard lower.hasPrefix("ws://") || lower.hasPrefix("wss://"), URL(string: organizerURL)?.host != nil else {
            throw .invalid("organizer URL \"\(organizerURL)\" must be ws://HOST:PORT/v1/agent or wss://HOST:PORT/v1/agent")
        }
        guard !stateDirectory.isEmpty else { throw .invalid("the state directory is empty") }
        if let name, name.trimmingCharacters(in: .whitespaces).isEmpty { throw .invalid("the agent name is empty") }
        guard maxConcurrentCalls >= 1 else { throw .invalid("max concurrent calls must be at least 1, got \(maxConcurrentCalls)") }
        guard rtpPorts.lowerBound >= 1024, rtpPorts.count >= 2 else {
            throw .invalid("RTP ports \(rtpPorts.lowerBound)-\(rtpPorts.upperBound): need 1024 ≤ LOW < HIGH ≤ 65535")
        }
        guard spoolLimit >= 1 else { throw .invalid("spool limit must be at least 1, got \(spoolLimit)") }
        if let heartbeatInterval, heartbeatInterval <= .zero { throw .invalid("heartbeat interval must be positive") }
        guard reconnectBase > .zero, reconnectCap >= reconnectBase else {
            throw .invalid("reconnect delays: need 0 < base ≤ cap")
        }
        var names: Set<String> = []
        for room in rooms {
            try room.validate()
            guard names.insert(room.name).inserted else { throw .invalid("room \(room.name) is configured twice") }
        }
        if !rooms.isEmpty, !bridge { throw .invalid("rooms need the bridge capability (remove --no-bridge or the rooms)") }
    }

    /// `k=v,k2=v2` → labels; bad input says which pair is wrong.
    public static func parseLabels(_ text: String) throws(AgentConfigurationError) -> [String: String] {
        var labels: [String: String] = [:]
        for pair in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard parts.count == 2, !key.isEmpty else { throw .invalid("label \"\(pair)\" must be key=value") }
            labels[key] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return labels
    }

    /// `40000-40999` → a port range.
    public static func parsePortRange(_ text: String) throws(AgentConfigurationError) -> ClosedRange<UInt16> {
        let parts = text.split(separator: "-").map { UInt16($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low < high, low >= 1024 else {
            throw .invalid("RTP ports must be LOW-HIGH with 1024 ≤ LOW < HIGH ≤ 65535, got \(text)")
        }
        return low...high
    }

    /// `ADDR:PORT`, `[v6]:PORT` or `ADDR` (port 5060) → host and port.
    public static func parseListen(_ text: String) throws(AgentConfigurationError) -> (host: String, port: UInt16) {
        var host = text
        var port: UInt16 = 5060
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalid("SIP listen address \(text): missing ]") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let value = UInt16(rest.dropFirst()) else { throw .invalid("SIP listen address \(text): bad port") }
                port = value
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let value = UInt16(text[text.index(after: colon)...]) else { throw .invalid("SIP listen address \(text): bad port") }
            port = value
        }
        guard !host.isEmpty else { throw .invalid("SIP listen address \(text): no host") }
        return (host, port)
    }
}

/// A standing conference room (`--room NAME[:PIN]`): one bridge open for the agent's
/// lifetime, answering INVITEs whose Request-URI (or To) user part is `name`, registered at
/// `registrar` under `aor` when one is given. It stands in for a PBX room: its calls are not
/// reported to the organizer, only logged.
public struct RoomConfiguration: Codable, Sendable, Equatable, Hashable {
    public var name: String
    /// Digits a caller must send (RFC 4733) before it is mixed.
    public var pin: String?
    public var maxParticipants: Int?
    public var dtmfMode: DTMFRelayMode?
    /// `HOST:PORT` of a registrar to register the room at (refreshed before it expires).
    public var registrar: String?
    /// The address of record; nil: `sip:<name>@<registrar host>`.
    public var aor: String?
    /// Digest credentials for the registrar (username nil: the room's name).
    public var username: String?
    public var password: String?

    enum CodingKeys: String, CodingKey {
        case name, pin, maxParticipants = "max_participants", dtmfMode = "dtmf_mode", registrar, aor, username, password
    }

    public init(name: String, pin: String? = nil, maxParticipants: Int? = nil, dtmfMode: DTMFRelayMode? = nil,
                registrar: String? = nil, aor: String? = nil, username: String? = nil, password: String? = nil) {
        self.name = name
        self.pin = pin
        self.maxParticipants = maxParticipants
        self.dtmfMode = dtmfMode
        self.registrar = registrar
        self.aor = aor
        self.username = username
        self.password = password
    }

    /// `NAME` or `NAME:PIN` (`--room`).
    public static func parse(_ text: String) throws(AgentConfigurationError) -> RoomConfiguration {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let room = RoomConfiguration(name: parts[0], pin: parts.count == 2 ? parts[1] : nil)
        try room.validate()
        return room
    }

    /// The address of record: `aor`, else `sip:<name>@<domain>` (`domain`: the registrar's host).
    public func addressOfRecord(domain: String? = nil) -> String? {
        if let aor { return aor }
        guard let host = domain ?? registrar.map({ (try? AgentConfiguration.parseListen($0))?.host ?? $0 }) else { return nil }
        return "sip:\(name)@\(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host)"
    }

    public func validate() throws(AgentConfigurationError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'+")
        guard !name.isEmpty, name.allSatisfy({ allowed.contains($0) }) else {
            throw .invalid("room name \"\(name)\" must be a SIP user part: letters, digits and - _ . ! ~ * ' +")
        }
        if let pin, pin.isEmpty || !pin.allSatisfy({ "0123456789*#ABCD".contains($0) }) {
            throw .invalid("room \(name): PIN \"\(pin)\" must be digits 0-9, *, #, A-D")
        }
        if let maxParticipants, !(2...500).contains(maxParticipants) {
            throw .invalid("room \(name): max participants must be between 2 and 500, got \(maxParticipants)")
        }
        if let registrar { _ = try AgentConfiguration.parseListen(registrar) }
    }
}

public struct AgentConfigurationError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public static func invalid(_ message: String) -> AgentConfigurationError { AgentConfigurationError(message: message) }
    public var description: String { message }
}

public enum AgentVersion {
    public static let string = "0.4.0"
}
