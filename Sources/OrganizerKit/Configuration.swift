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
/// public_url: http://127.0.0.1:8760
/// alerts: { evaluate_interval: 1s, rules: { mos_low: { fire: 3.6, clear: 3.8 } } }
/// webhooks: { backoff_initial: 1s, backoff_max: 5m, horizon: 24h, timeout: 10s, alertmanager_resend: 1m, workers: 4 }
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

    /// `alerts:` (DESIGN §6, docs/alerts.md).
    public struct Alerts: Codable, Sendable, Equatable {
        /// How often the roster (agent_offline, site_down) and coverage (coverage_stale) are evaluated.
        public var evaluateInterval: WireDuration
        /// Changes of the default rules, by rule (the API's stored changes apply on top).
        public var rules: [AlertRuleName: AlertRulePatch]

        enum CodingKeys: String, CodingKey, CaseIterable { case evaluateInterval = "evaluate_interval", rules }

        public init(evaluateInterval: WireDuration = .seconds(1), rules: [AlertRuleName: AlertRulePatch] = [:]) {
            self.evaluateInterval = evaluateInterval
            self.rules = rules
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            evaluateInterval = try c.decodeIfPresent(WireDuration.self, forKey: .evaluateInterval) ?? .seconds(1)
            let named = try c.decodeIfPresent([String: AlertRulePatch].self, forKey: .rules) ?? [:]
            var rules: [AlertRuleName: AlertRulePatch] = [:]
            for (name, patch) in named {
                guard let rule = AlertRuleName(rawValue: name) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .rules, in: c,
                        debugDescription: "unknown rule \"\(name)\" (known: \(AlertRuleName.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                rules[rule] = patch
            }
            self.rules = rules
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(evaluateInterval, forKey: .evaluateInterval)
            try c.encode(Dictionary(uniqueKeysWithValues: rules.map { ($0.key.rawValue, $0.value) }), forKey: .rules)
        }

        /// Defaults ⊕ these patches, every rule.
        public var effectiveRules: [AlertRule] {
            AlertRule.defaults.map { rule in rules[rule.name].map { rule.applying($0) } ?? rule }
        }
    }

    /// `webhooks:` (docs/webhooks.md "Delivery").
    public struct Webhooks: Codable, Sendable, Equatable {
        /// The first retry's backoff bound (doubling, full jitter).
        public var backoffInitial: WireDuration
        public var backoffMax: WireDuration
        /// A delivery not delivered this long after its creation is dead-lettered.
        public var horizon: WireDuration
        /// Per attempt.
        public var timeout: WireDuration
        /// alertmanager_api endpoints: firing alerts are posted again this often.
        public var alertmanagerResend: WireDuration
        /// Deliveries sent concurrently.
        public var workers: Int

        enum CodingKeys: String, CodingKey, CaseIterable {
            case backoffInitial = "backoff_initial", backoffMax = "backoff_max", horizon, timeout
            case alertmanagerResend = "alertmanager_resend", workers
        }

        public init(backoffInitial: WireDuration = .seconds(1), backoffMax: WireDuration = .minutes(5),
                    horizon: WireDuration = .seconds(86400), timeout: WireDuration = .seconds(10),
                    alertmanagerResend: WireDuration = .minutes(1), workers: Int = 4) {
            self.backoffInitial = backoffInitial
            self.backoffMax = backoffMax
            self.horizon = horizon
            self.timeout = timeout
            self.alertmanagerResend = alertmanagerResend
            self.workers = workers
        }

        public init(from decoder: any Decoder) throws {
            let d = Webhooks()
            let c = try decoder.container(keyedBy: CodingKeys.self)
            backoffInitial = try c.decodeIfPresent(WireDuration.self, forKey: .backoffInitial) ?? d.backoffInitial
            backoffMax = try c.decodeIfPresent(WireDuration.self, forKey: .backoffMax) ?? d.backoffMax
            horizon = try c.decodeIfPresent(WireDuration.self, forKey: .horizon) ?? d.horizon
            timeout = try c.decodeIfPresent(WireDuration.self, forKey: .timeout) ?? d.timeout
            alertmanagerResend = try c.decodeIfPresent(WireDuration.self, forKey: .alertmanagerResend) ?? d.alertmanagerResend
            workers = try c.decodeIfPresent(Int.self, forKey: .workers) ?? d.workers
        }
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
    /// The organizer's URL as people reach it (links in webhook payloads). Nil: the listen address.
    public var publicURL: String?
    public var alerts: Alerts
    public var webhooks: Webhooks

    public init(host: String = "127.0.0.1", port: Int = 8760, database: String? = nil, adminTokens: [String] = [],
                readTokens: [String] = [], heartbeatInterval: WireDuration = .seconds(10), offlineAfterMissed: Int = 3,
                resultAckWindow: WireDuration = .seconds(0.005), tls: TLS? = nil, logLevel: Logger.Level = .info,
                retention: Retention = Retention(), defaultInterval: WireDuration = .minutes(5),
                maxBodyBytes: Int = 1 << 20, firstRoundDelay: WireDuration = .seconds(2),
                deadlineMargin: WireDuration = .seconds(30), publicURL: String? = nil, alerts: Alerts = Alerts(),
                webhooks: Webhooks = Webhooks()) {
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
        self.publicURL = publicURL
        self.alerts = alerts
        self.webhooks = webhooks
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, database, adminTokens = "admin_tokens", readTokens = "read_tokens"
        case heartbeatInterval = "heartbeat_interval", offlineAfterMissed = "offline_after_missed"
        case resultAckWindow = "result_ack_window", tls, logLevel = "log_level", retention
        case defaultInterval = "default_interval", maxBodyBytes = "max_body_bytes"
        case firstRoundDelay = "first_round_delay", deadlineMargin = "deadline_margin"
        case publicURL = "public_url", alerts, webhooks
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
        publicURL = try c.decodeIfPresent(String.self, forKey: .publicURL)
        alerts = try c.decodeIfPresent(Alerts.self, forKey: .alerts) ?? d.alerts
        webhooks = try c.decodeIfPresent(Webhooks.self, forKey: .webhooks) ?? d.webhooks
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
        try c.encodeIfPresent(publicURL, forKey: .publicURL)
        try c.encode(alerts, forKey: .alerts)
        try c.encode(webhooks, forKey: .webhooks)
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
        if let publicURL, !Self.isHTTPURL(publicURL) {
            out.append("public_url: \"\(publicURL)\" is not an http(s) URL (e.g. https://earshot.example.net)")
        }
        if alerts.evaluateInterval.seconds < 0.05 { out.append("alerts.evaluate_interval: must be at least 50ms") }
        for rule in alerts.effectiveRules where alerts.rules[rule.name] != nil {
            out += rule.problems().map { "alerts.rules.\($0)" }
        }
        let w = webhooks
        if w.backoffInitial.seconds <= 0 { out.append("webhooks.backoff_initial: must be longer than 0") }
        if w.backoffMax < w.backoffInitial { out.append("webhooks.backoff_max: must not be shorter than backoff_initial") }
        if w.horizon.seconds <= 0 { out.append("webhooks.horizon: must be longer than 0") }
        if w.timeout.seconds < 0.01 { out.append("webhooks.timeout: must be at least 10ms") }
        if w.alertmanagerResend.seconds < 0.05 { out.append("webhooks.alertmanager_resend: must be at least 50ms") }
        if !(1...64).contains(w.workers) { out.append("webhooks.workers: between 1 and 64") }
        return out
    }

    /// An absolute http or https URL with a host.
    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty else { return false }
        return true
    }

    /// The base of links in webhook payloads: `public_url`, else the listen address (with the
    /// port actually bound, when it was 0).
    func publicBaseURL(boundPort: Int?) -> String {
        if let publicURL {
            return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        }
        let scheme = tls == nil ? "http" : "https"
        let h = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host
        return "\(scheme)://\(h.contains(":") ? "[\(h)]" : h):\(boundPort ?? port)"
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
        try checkKeys(mapping["tls"]?.mapping, prefix: "tls", known: ["certificate", "key"], file: file)
        try checkKeys(mapping["alerts"]?.mapping, prefix: "alerts", known: Alerts.CodingKeys.allCases.map(\.rawValue), file: file)
        try checkKeys(mapping["webhooks"]?.mapping, prefix: "webhooks", known: Webhooks.CodingKeys.allCases.map(\.rawValue),
                      file: file)
        if let rules = mapping["alerts"]?.mapping?["rules"]?.mapping {
            for (name, patch) in rules {
                try checkKeys(patch.mapping, prefix: "alerts.rules.\(name.string ?? "?")",
                              known: AlertRulePatch.yamlKeys, file: file)
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

extension OrganizerConfiguration {
    /// Unknown keys of a nested mapping are errors naming `prefix.key`.
    fileprivate static func checkKeys(_ mapping: Node.Mapping?, prefix: String, known: [String],
                                      file: String) throws(ConfigurationError) {
        guard let mapping else { return }
        for key in mapping.keys {
            if let name = key.string, !known.contains(name) {
                throw ConfigurationError(
                    file: file,
                    message: "unknown key \"\(prefix).\(name)\" (known: \(known.sorted().map { "\(prefix).\($0)" }.joined(separator: ", ")))")
            }
        }
    }
}

extension AlertRulePatch {
    /// The YAML/JSON keys of a rule patch.
    static let yamlKeys = ["enabled", "severity", "scope", "fire", "clear", "fire_after", "clear_after", "flap_window",
                           "flap_transitions", "stale_intervals", "min_agents", "suites"]
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
