import EarshotWire
import Foundation
import Logging
import Yams

/// Everything `earshot-organizer run` reads from `organizer.yaml` (organizer/organizer.example.yaml)
/// and its flags. Keys are snake_case in YAML; durations take `10s`, `5m`, `500ms` or seconds.
///
/// ```yaml
/// listen: 127.0.0.1:8760
/// database: /var/lib/earshot/earshot.sqlite
/// admin_tokens: [ ... ]
/// read_tokens: [ ... ]
/// heartbeat_interval: 10s
/// offline_after_missed: 3
/// result_ack_window: 5ms
/// tls: { certificate: /etc/earshot/cert.pem, key: /etc/earshot/key.pem }
/// log_level: info
/// retention: { raw_days: 30 }
/// default_interval: 5m
/// max_body_bytes: 1048576
/// first_round_delay: 2s
/// deadline_margin: 30s
/// ```
public struct OrganizerConfiguration: Codable, Sendable, Equatable {
    public struct TLS: Codable, Sendable, Equatable {
        /// PEM certificate chain.
        public var certificate: String
        /// PEM private key.
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    public struct Retention: Codable, Sendable, Equatable {
        /// Raw runs (participants, metrics, evidence) are kept this many days; rollups stay.
        public var rawDays: Int

        enum CodingKeys: String, CodingKey { case rawDays = "raw_days" }

        public init(rawDays: Int = 30) { self.rawDays = rawDays }
    }

    /// Address to listen on (`127.0.0.1`, `0.0.0.0`, `::1`).
    public var host: String
    /// TCP port; 0 takes an ephemeral port (see `RunningOrganizer.port`).
    public var port: Int
    /// SQLite file. Nil: the caller supplies a `Storage`.
    public var database: String?
    /// Bearer tokens that may do everything.
    public var adminTokens: [String]
    /// Bearer tokens that may only read (GET).
    public var readTokens: [String]
    public var heartbeatInterval: WireDuration
    /// Heartbeats an agent may miss before it is marked offline.
    public var offlineAfterMissed: Int
    /// How long result frames are collected before one ingest transaction (and their acks).
    public var resultAckWindow: WireDuration
    public var tls: TLS?
    public var logLevel: Logger.Level
    public var retention: Retention
    /// The interval of the default suite (`POST /v1/suites/default`).
    public var defaultInterval: WireDuration
    /// Largest HTTP request body accepted (413 above).
    public var maxBodyBytes: Int
    /// A suite's first round starts this soon after the organizer starts or the suite is applied.
    public var firstRoundDelay: WireDuration
    /// Added to a run's start + duration (and session timers) to make its deadline.
    public var deadlineMargin: WireDuration

    public init(host: String = "127.0.0.1", port: Int = 8760, database: String? = nil, adminTokens: [String] = [],
                readTokens: [String] = [], heartbeatInterval: WireDuration = .seconds(10), offlineAfterMissed: Int = 3,
                resultAckWindow: WireDuration = .seconds(0.005), tls: TLS? = nil, logLevel: Logger.Level = .info,
                retention: Retention = Retention(), defaultInterval: WireDuration = .minutes(5),
                maxBodyBytes: Int = 1 << 20, firstRoundDelay: WireDuration = .seconds(2),
                deadlineMargin: WireDuration = .seconds(30)) {
        self.host = host
        self.port = port
        self.database = database
        self.adminTokens = adminTokens
        self.readTokens = readTokens
        self.heartbeatInterval = heartbeatInterval
        self.offlineAfterMissed = offlineAfterMissed
        self.resultAckWindow = resultAckWindow
        self.tls = tls
        self.logLevel = logLevel
        self.retention = retention
        self.defaultInterval = defaultInterval
        self.maxBodyBytes = maxBodyBytes
        self.firstRoundDelay = firstRoundDelay
        self.deadlineMargin = deadlineMargin
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, database, adminTokens = "admin_tokens", readTokens = "read_tokens"
        case heartbeatInterval = "heartbeat_interval", offlineAfterMissed = "offline_after_missed"
        case resultAckWindow = "result_ack_window", tls, logLevel = "log_level", retention
        case defaultInterval = "default_interval", maxBodyBytes = "max_body_bytes"
        case firstRoundDelay = "first_round_delay", deadlineMargin = "deadline_margin"
    }

    public init(from decoder: any Decoder) throws {
        let d = OrganizerConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let listen = try c.decodeIfPresent(String.self, forKey: .listen) {
            guard let (host, port) = Self.parseListen(listen) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .listen, in: c,
                    debugDescription: "\"\(listen)\" is not host:port (e.g. 127.0.0.1:8760, [::1]:8760, 0.0.0.0:8760)")
            }
            self.host = host
            self.port = port
        } else {
            host = d.host
            port = d.port
        }
        database = try c.decodeIfPresent(String.self, forKey: .database)
        adminTokens = try c.decodeIfPresent([String].self, forKey: .adminTokens) ?? []
        readTokens = try c.decodeIfPresent([String].self, forKey: .readTokens) ?? []
        heartbeatInterval = try c.decodeIfPresent(WireDuration.self, forKey: .heartbeatInterval) ?? d.heartbeatInterval
        offlineAfterMissed = try c.decodeIfPresent(Int.self, forKey: .offlineAfterMissed) ?? d.offlineAfterMissed
        resultAckWindow = try c.decodeIfPresent(WireDuration.self, forKey: .resultAckWindow) ?? d.resultAckWindow
        tls = try c.decodeIfPresent(TLS.self, forKey: .tls)
        if let level = try c.decodeIfPresent(String.self, forKey: .logLevel) {
            guard let l = Logger.Level(rawValue: level.lowercased()) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .logLevel, in: c,
                    debugDescription: "\"\(level)\" is not a log level (trace, debug, info, notice, warning, error, critical)")
            }
            logLevel = l
        } else {
            logLevel = d.logLevel
        }
        retention = try c.decodeIfPresent(Retention.self, forKey: .retention) ?? d.retention
        defaultInterval = try c.decodeIfPresent(WireDuration.self, forKey: .defaultInterval) ?? d.defaultInterval
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        firstRoundDelay = try c.decodeIfPresent(WireDuration.self, forKey: .firstRoundDelay) ?? d.firstRoundDelay
        deadlineMargin = try c.decodeIfPresent(WireDuration.self, forKey: .deadlineMargin) ?? d.deadlineMargin
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(listen, forKey: .listen)
        try c.encodeIfPresent(database, forKey: .database)
        try c.encode(adminTokens, forKey: .adminTokens)
        try c.encode(readTokens, forKey: .readTokens)
        try c.encode(heartbeatInterval, forKey: .heartbeatInterval)
        try c.encode(offlineAfterMissed, forKey: .offlineAfterMissed)
        try c.encode(resultAckWindow, forKey: .resultAckWindow)
        try c.encodeIfPresent(tls, forKey: .tls)
        try c.encode(logLevel.rawValue, forKey: .logLevel)
        try c.encode(retention, forKey: .retention)
        try c.encode(defaultInterval, forKey: .defaultInterval)
        try c.encode(maxBodyBytes, forKey: .maxBodyBytes)
        try c.encode(firstRoundDelay, forKey: .firstRoundDelay)
        try c.encode(deadlineMargin, forKey: .deadlineMargin)
    }

    /// `host:port`, IPv6 in brackets.
    public var listen: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `127.0.0.1:8760`, `[::1]:8760`, `:8760` (all addresses), `8760`. Nil when unreadable.
    public static func parseListen(_ text: String) -> (host: String, port: Int)? {
        let t = text.trimmingCharacters(in: .whitespaces)
        var host: Substring
        var portText: Substring
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]") else { return nil }
            host = t[t.index(after: t.startIndex)..<close]
            let rest = t[t.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else if let colon = t.lastIndex(of: ":") {
            host = t[..<colon]
            portText = t[t.index(after: colon)...]
            if host.contains(":") { return nil }
        } else {
            host = ""
            portText = Substring(t)
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    /// Problems that make the configuration unusable, each naming its key. Empty when valid.
    public func problems() -> [String] {
        var out: [String] = []
        if !(0...65535).contains(port) { out.append("listen: port \(port) is outside 0–65535") }
        if heartbeatInterval.seconds < 0.05 { out.append("heartbeat_interval: must be at least 50ms") }
        if offlineAfterMissed < 1 { out.append("offline_after_missed: must be at least 1") }
        if resultAckWindow.seconds > 1 { out.append("result_ack_window: at most 1s (acks wait this long)") }
        if retention.rawDays < 1 { out.append("retention.raw_days: must be at least 1") }
        if defaultInterval.seconds < 1 { out.append("default_interval: must be at least 1s") }
        if maxBodyBytes < 1024 { out.append("max_body_bytes: must be at least 1024") }
        for (key, tokens) in [("admin_tokens", adminTokens), ("read_tokens", readTokens)] {
            if tokens.contains(where: { $0.count < 16 }) { out.append("\(key): tokens must be at least 16 characters") }
        }
        if let tls {
            if tls.certificate.isEmpty { out.append("tls.certificate: a PEM file path is required") }
            if tls.key.isEmpty { out.append("tls.key: a PEM file path is required") }
        }
        return out
    }

    /// Reads a YAML file. Unknown keys, wrong types and invalid values are errors naming the key.
    public static func load(yamlFile path: String) throws(ConfigurationError) -> OrganizerConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, message: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses YAML text (`file` only names the source in errors).
    public static func parse(yaml text: String, file: String = "<config>") throws(ConfigurationError) -> OrganizerConfiguration {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(file: file, message: "not valid YAML: \(error)")
        }
        guard let node else { return OrganizerConfiguration() }
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, message: "the top level must be a mapping of keys (listen:, database:, ...)")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        for key in mapping.keys {
            guard let name = key.string else { continue }
            if !known.contains(name) {
                throw ConfigurationError(
                    file: file,
                    message: "unknown key \"\(name)\" (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        if let tlsNode = mapping["tls"]?.mapping {
            for key in tlsNode.keys {
                if let name = key.string, !["certificate", "key"].contains(name) {
                    throw ConfigurationError(file: file, message: "unknown key \"tls.\(name)\" (known: tls.certificate, tls.key)")
                }
            }
        }
        let config: OrganizerConfiguration
        do {
            config = try YAMLDecoder().decode(OrganizerConfiguration.self, from: node)
        } catch {
            throw ConfigurationError(file: file, message: describe(error))
        }
        if let problem = config.problems().first {
            throw ConfigurationError(file: file, message: problem)
        }
        return config
    }
}

/// A configuration that cannot be used; the message names the key.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
