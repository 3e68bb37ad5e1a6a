import Crypto
import EarshotWire
import Foundation

// Webhook delivery, the pure parts (DESIGN §6, docs/webhooks.md): Standard Webhooks signing
// and verification, the payload formats, the retry policy. No clock, no I/O, no randomness of
// its own: times and random numbers are arguments.

public struct WebhookSignatureError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: signing

/// The Standard Webhooks scheme (https://www.standardwebhooks.com, spec 1.0.0,
/// github.com/standard-webhooks/standard-webhooks spec/standard-webhooks.md):
/// `webhook-id`, `webhook-timestamp` (Unix seconds), `webhook-signature: v1,<base64 HMAC-SHA256
/// of "id.timestamp.body">`, the key being the base64 after `whsec_`.
public enum StandardWebhooks {
    public static let secretPrefix = "whsec_"
    /// Receivers reject timestamps further than this from their clock (the spec's 5 minutes).
    public static let defaultTolerance: Double = 300
    /// The shortest key `key(fromSecret:)` accepts. The spec ("Signature scheme", the
    /// symmetric column of its table) asks senders for at least 24 random bytes; Earshot
    /// generates 24 and, as a receiver-side check, refuses keys under 16.
    public static let minimumKeyBytes = 16

    /// `whsec_` + base64 of the bytes (24 random bytes from the caller's generator).
    public static func secret(randomBytes: [UInt8]) -> String {
        secretPrefix + Data(randomBytes).base64EncodedString()
    }

    /// The key bytes of a `whsec_` secret. Throws when the prefix or the base64 is wrong, or the
    /// key is shorter than 16 bytes. Unpadded base64 is accepted (the reference libraries pad it).
    public static func key(fromSecret secret: String) throws -> [UInt8] {
        let text = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix(secretPrefix) else {
            throw WebhookSignatureError("the secret must start with \(secretPrefix) (Standard Webhooks: \(secretPrefix) + base64 of the key)")
        }
        var b64 = String(text.dropFirst(secretPrefix.count))
        let remainder = b64.utf8.count % 4
        if remainder == 2 || remainder == 3 { b64 += String(repeating: "=", count: 4 - remainder) }
        guard !b64.isEmpty, remainder != 1, let data = Data(base64Encoded: b64) else {
            throw WebhookSignatureError("the part of the secret after \(secretPrefix) is not base64")
        }
        guard data.count >= minimumKeyBytes else {
            throw WebhookSignatureError("the secret's key is \(data.count) bytes; at least \(minimumKeyBytes) are needed (24 recommended)")
        }
        return [UInt8](data)
    }

    /// The signed content, spec "Signature scheme": `{msg_id}.{timestamp}.{payload}`.
    public static func signedContent(id: String, timestamp: String, body: [UInt8]) -> [UInt8] {
        Array(id.utf8) + [0x2E] + Array(timestamp.utf8) + [0x2E] + body
    }

    /// `v1,<base64>` for this message. Throws for a bad secret, or an id that is empty or holds
    /// a `.` (the spec: ids must not contain one, or the signed content becomes ambiguous).
    public static func signature(secret: String, id: String, timestamp: Int, body: [UInt8]) throws -> String {
        let key = try key(fromSecret: secret)
        if let problem = idProblem(id) { throw WebhookSignatureError(problem) }
        let mac = HMAC<SHA256>.authenticationCode(for: signedContent(id: id, timestamp: String(timestamp), body: body),
                                                  using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }

    public enum Verification: Equatable, Sendable {
        case valid
        /// The timestamp is outside the tolerance (seconds off).
        case timestampOutOfTolerance(offS: Double)
        /// No `v1,` signature in the header matched.
        case mismatch
        case malformed(String)
    }

    /// Checks a received message. `signatureHeader` may hold several space-separated
    /// signatures (key rotation); one match is enough. Constant-time comparison.
    ///
    /// Spec "Verifying signatures": the timestamp must be within `tolerance` of `now` in either
    /// direction (`offS` = now − timestamp: positive for an old message, negative for one from
    /// the future); entries other than `v1,…` (e.g. `v1a,` asymmetric ones) are skipped; the
    /// comparison is HMAC's constant-time one (swift-crypto `isValidAuthenticationCode`).
    /// The timestamp is checked before the signatures, as the reference libraries do.
    public static func verify(secret: String, id: String, timestamp: String, signatureHeader: String, body: [UInt8],
                              now: Date, tolerance: Double = defaultTolerance) -> Verification {
        let key: [UInt8]
        do { key = try self.key(fromSecret: secret) } catch { return .malformed("secret: \(error)") }
        if let problem = idProblem(id) { return .malformed(problem) }
        let ts = timestamp.trimmingCharacters(in: .whitespaces)
        guard let seconds = unixSeconds(ts) else {
            return .malformed("webhook-timestamp \"\(timestamp)\" is not an integer of Unix seconds")
        }
        let off = now.timeIntervalSince1970 - Double(seconds)
        guard abs(off) <= tolerance else { return .timestampOutOfTolerance(offS: off) }
        let entries = signatureHeader.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard !entries.isEmpty else { return .malformed("webhook-signature is empty") }
        let content = signedContent(id: id, timestamp: ts, body: body)
        let symmetricKey = SymmetricKey(data: key)
        var versioned = false
        for entry in entries {
            guard let comma = entry.firstIndex(of: ",") else { continue }
            versioned = true
            guard entry[..<comma] == "v1",
                  let mac = Data(base64Encoded: String(entry[entry.index(after: comma)...])) else { continue }
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: content, using: symmetricKey) { return .valid }
        }
        return versioned ? .mismatch : .malformed("webhook-signature has no <version>,<base64> entry (expected v1,<base64>)")
    }

    private static func idProblem(_ id: String) -> String? {
        if id.isEmpty { return "webhook-id is empty" }
        if id.contains(".") { return "webhook-id \"\(id)\" contains a '.', which Standard Webhooks forbids" }
        return nil
    }

    /// Digits only (spec "Webhook headers": an integer Unix timestamp).
    private static func unixSeconds(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }
}

// MARK: payloads

/// A delivery's body and content type, rendered once when the transition is stored (retries
/// send the same bytes).
public struct RenderedPayload: Sendable, Equatable {
    public var body: [UInt8]
    public var contentType: String
    /// `alert.firing`, `alert.resolved`, `alert.flapping`, `earshot.test`.
    public var event: String

    public init(body: [UInt8], contentType: String = "application/json", event: String) {
        self.body = body
        self.contentType = contentType
        self.event = event
    }
}

/// The payload formats (`WebhookFormat`). `baseURL` is the organizer's public URL for links
/// (`{base}/v1/alerts/{id}`, `{base}/v1/runs/{id}`). Every body is JSON with sorted keys;
/// dates are ISO 8601 / RFC 3339 in UTC with milliseconds (`WireJSON.formatDate`).
public struct WebhookRenderer: Sendable {
    public var baseURL: String

    public init(baseURL: String) { self.baseURL = baseURL }

    /// Go's zero `time.Time`, which Alertmanager's webhook sends as `endsAt` of a firing alert.
    public static let alertmanagerZeroTime = "0001-01-01T00:00:00Z"
    public static let testMessage = "a test delivery from earshot"

    /// `baseURL` without trailing slashes.
    public var base: String {
        var b = Substring(baseURL)
        while b.hasSuffix("/") { b = b.dropLast() }
        return String(b)
    }

    public func alertURL(_ alertID: String) -> String { "\(base)/v1/alerts/\(alertID)" }
    public func runURL(_ runID: String) -> String { "\(base)/v1/runs/\(runID)" }

    /// The body for one transition of `alert` (the alert as it is after the transition).
    /// alertmanager / alertmanager_api map firing and flapping to `firing` (label `flapping="true"`
    /// for flapping) and resolved to `resolved` with `endsAt` = the transition time.
    ///
    /// Because the `flapping` label makes a different Alertmanager alert (another
    /// fingerprint), a change between firing and flapping also carries the other variant as
    /// resolved (`endsAt` = the transition time), and a resolve from flapping resolves the
    /// flapping variant: nothing is left active in Alertmanager.
    public func render(_ transition: AlertTransitionInfo, alert: AlertInfo, format: WebhookFormat,
                       endpointName: String) -> RenderedPayload {
        let event = "alert.\(transition.to.rawValue)"
        let measurement = transition.measurement ?? alert.measurement
        let body: [UInt8]
        switch format {
        case .native:
            let payload = NativeWebhookPayload(
                type: event, timestamp: transition.at,
                data: .init(alert: alert, transition: transition, runURL: measurement?.runID.map(runURL),
                            alertURL: alertURL(alert.id)))
            body = Self.encode(payload)
        case .alertmanager:
            body = Self.encode(alertmanagerMessage(amAlerts(transition, alert: alert), groupKey: groupKey(alert),
                                                   receiver: endpointName))
        case .alertmanagerAPI:
            body = Self.encode(JSONValue.array(amAlerts(transition, alert: alert).map(\.postable)))
        case .slack:
            body = Self.encode(slack(Card(transition, alert: alert, measurement: measurement, renderer: self)))
        case .teams:
            body = Self.encode(teams(Card(transition, alert: alert, measurement: measurement, renderer: self)))
        }
        return RenderedPayload(body: body, event: event)
    }

    /// A test event (`earshot webhooks test`); for alertmanager_api a short-lived
    /// `earshot_test` alert that ends at `at` + 1 minute.
    public func renderTest(format: WebhookFormat, endpointName: String, at: Date) -> RenderedPayload {
        let labels = ["alertname": "earshot_test", "severity": AlertSeverity.info.rawValue, "source": "earshot"]
        let annotations = ["summary": Self.testMessage,
                           "description": "Earshot sent this to the endpoint \(endpointName) to check delivery; it needs no action."]
        let body: [UInt8]
        switch format {
        case .native:
            body = Self.encode(NativeWebhookPayload(type: "earshot.test", timestamp: at, data: .init(message: Self.testMessage)))
        case .alertmanager:
            let alert = AMAlert(status: "firing", labels: labels, annotations: annotations, startsAt: at, endsAt: nil,
                                generatorURL: base)
            body = Self.encode(alertmanagerMessage([alert], groupKey: "{}/{source=\"earshot\"}:{alertname=\"earshot_test\"}",
                                                   receiver: endpointName))
        case .alertmanagerAPI:
            let alert = AMAlert(status: "firing", labels: labels, annotations: annotations, startsAt: at,
                                endsAt: at.addingTimeInterval(60), generatorURL: base)
            body = Self.encode(JSONValue.array([alert.postable]))
        case .slack:
            let text = ":information_source: Earshot test delivery to \(Self.slackEscape(endpointName)): \(Self.testMessage)"
            body = Self.encode(JSONValue.object([
                "text": .string(text),
                "blocks": [.object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(text)])])],
            ]))
        case .teams:
            body = Self.encode(JSONValue.object([
                "@type": "MessageCard", "@context": "https://schema.org/extensions",
                "summary": .string("Earshot test delivery"), "themeColor": .string(Self.themeColor(nil)),
                "title": .string("Earshot test delivery to \(endpointName)"), "text": .string(Self.testMessage),
                "sections": [.object(["facts": [Self.fact("Endpoint", endpointName),
                                                Self.fact("At", WireJSON.formatDate(at))]])],
            ]))
        }
        return RenderedPayload(body: body, event: "earshot.test")
    }

    /// alertmanager_api only: the firing and flapping alerts, posted again every resend
    /// interval so Alertmanager keeps them active (`endsAt` = now + `validFor`).
    public func alertmanagerRefresh(_ alerts: [AlertInfo], now: Date, validFor: Double) -> RenderedPayload {
        let active = alerts.filter { $0.state != .resolved }.map { alert in
            AMAlert(status: "firing", labels: labels(alert), annotations: annotations(alert.summary, alert.measurement),
                    startsAt: alert.startedAt, endsAt: now.addingTimeInterval(validFor), generatorURL: alertURL(alert.id)).postable
        }
        return RenderedPayload(body: Self.encode(JSONValue.array(active)), event: "alert.refresh")
    }

    /// The labels an alert carries in the Alertmanager formats: `alertname` (the rule),
    /// `severity`, `scope`, and the scope's fields (`agent`, `caller`, `callee`, `site`,
    /// `caller_site`, `callee_site`, `suite`), plus `source="earshot"`; `flapping="true"`
    /// while it is flapping.
    public func labels(_ alert: AlertInfo) -> [String: String] {
        labels(rule: alert.rule, severity: alert.severity, scope: alert.scope, flapping: alert.state == .flapping)
    }

    public func labels(rule: AlertRuleName, severity: AlertSeverity, scope: AlertScope, flapping: Bool) -> [String: String] {
        var out = ["alertname": rule.rawValue, "severity": severity.rawValue, "scope": scope.kind.rawValue, "source": "earshot"]
        let fields: [(String, String?)] = [
            ("agent", scope.agent), ("caller", scope.caller), ("callee", scope.callee), ("site", scope.site),
            ("caller_site", scope.callerSite), ("callee_site", scope.calleeSite), ("suite", scope.suite),
        ]
        for (name, value) in fields { if let value { out[name] = value } }
        if flapping { out["flapping"] = "true" }
        return out
    }

    /// Alertmanager's alert fingerprint: `model.LabelSet.Fingerprint()` of prometheus/common
    /// (model/signature.go `labelSetToFingerprint`): FNV-1a 64 over the label names in byte
    /// order, each name and value followed by the separator byte 0xFF, printed as `%016x`.
    public static func fingerprint(_ labels: [String: String]) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037  // FNV-1a 64 offset basis
        func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 1_099_511_628_211  // FNV 64 prime
        }
        for name in labels.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            for b in name.utf8 { add(b) }
            add(0xFF)
            for b in labels[name]!.utf8 { add(b) }
            add(0xFF)
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    // MARK: Alertmanager shapes

    /// One alert as the Alertmanager webhook (`template.Alert`) and API (`postableAlert`) carry it.
    struct AMAlert {
        var status: String
        var labels: [String: String]
        var annotations: [String: String]
        var startsAt: Date
        /// nil while firing: the webhook sends Go's zero time, the API omits the field.
        var endsAt: Date?
        var generatorURL: String

        /// notify/webhook `Message` → template.Data `Alert` (status, labels, annotations,
        /// startsAt, endsAt, generatorURL, fingerprint).
        var webhook: JSONValue {
            .object([
                "status": .string(status), "labels": .strings(labels), "annotations": .strings(annotations),
                "startsAt": .string(WireJSON.formatDate(startsAt)),
                "endsAt": .string(endsAt.map(WireJSON.formatDate) ?? WebhookRenderer.alertmanagerZeroTime),
                "generatorURL": .string(generatorURL), "fingerprint": .string(WebhookRenderer.fingerprint(labels)),
            ])
        }

        /// api/v2/openapi.yaml `postableAlert`: labels (required), generatorURL, startsAt,
        /// endsAt, annotations.
        var postable: JSONValue {
            var o: [String: JSONValue] = [
                "labels": .strings(labels), "annotations": .strings(annotations),
                "startsAt": .string(WireJSON.formatDate(startsAt)), "generatorURL": .string(generatorURL),
            ]
            if let endsAt { o["endsAt"] = .string(WireJSON.formatDate(endsAt)) }
            return .object(o)
        }
    }

    func annotations(_ summary: String, _ measurement: AlertMeasurement?) -> [String: String] {
        var out = ["summary": summary, "description": measurement?.detail ?? summary]
        if let run = measurement?.runID { out["run_url"] = runURL(run) }
        return out
    }

    /// The alerts one transition posts (see `render`): the new state's variant, and the
    /// other variant resolved when the transition leaves it.
    func amAlerts(_ t: AlertTransitionInfo, alert: AlertInfo) -> [AMAlert] {
        let notes = annotations(t.summary, t.measurement ?? alert.measurement)
        func variant(flapping: Bool, resolvedAt: Date?) -> AMAlert {
            AMAlert(status: resolvedAt == nil ? "firing" : "resolved",
                    labels: labels(rule: alert.rule, severity: alert.severity, scope: alert.scope, flapping: flapping),
                    annotations: notes, startsAt: alert.startedAt, endsAt: resolvedAt, generatorURL: alertURL(alert.id))
        }
        switch t.to {
        case .firing:
            return [variant(flapping: false, resolvedAt: nil)] + (t.from == .flapping ? [variant(flapping: true, resolvedAt: t.at)] : [])
        case .flapping:
            return [variant(flapping: true, resolvedAt: nil)] + (t.from == .firing ? [variant(flapping: false, resolvedAt: t.at)] : [])
        case .resolved:
            return [variant(flapping: t.from == .flapping, resolvedAt: t.at)]
        }
    }

    /// One group per alert: the key names the alert so that receivers that deduplicate by
    /// `groupKey` never merge two of them.
    func groupKey(_ alert: AlertInfo) -> String {
        "{}/{source=\"earshot\"}:{alert_id=\"\(alert.id)\", alertname=\"\(alert.rule.rawValue)\"}"
    }

    /// notify/webhook `Message`: template.Data + version "4", groupKey, truncatedAlerts.
    /// The group's status is firing when any alert is; common labels and annotations are
    /// those every alert shares (template.Data).
    func alertmanagerMessage(_ alerts: [AMAlert], groupKey: String, receiver: String) -> JSONValue {
        var common = alerts.first?.labels ?? [:]
        var commonNotes = alerts.first?.annotations ?? [:]
        for a in alerts.dropFirst() {
            common = common.filter { a.labels[$0.key] == $0.value }
            commonNotes = commonNotes.filter { a.annotations[$0.key] == $0.value }
        }
        return .object([
            "version": "4", "groupKey": .string(groupKey), "truncatedAlerts": .int(0),
            "status": .string(alerts.contains { $0.status == "firing" } ? "firing" : "resolved"),
            "receiver": .string(receiver),
            "groupLabels": .strings(["alertname": alerts.first?.labels["alertname"] ?? ""]),
            "commonLabels": .strings(common), "commonAnnotations": .strings(commonNotes),
            "externalURL": .string(base), "alerts": .array(alerts.map(\.webhook)),
        ])
    }

    // MARK: chat cards

    /// What Slack and Teams show of a transition.
    struct Card {
        var state: AlertState
        var from: AlertState?
        var rule: String
        var severity: String
        var scopeKey: String
        var scopeText: String
        var summary: String
        var detail: String?
        var at: Date
        var alertURL: String
        var runURL: String?

        init(_ t: AlertTransitionInfo, alert: AlertInfo, measurement: AlertMeasurement?, renderer: WebhookRenderer) {
            state = t.to
            from = t.from
            rule = alert.rule.rawValue
            severity = alert.severity.rawValue
            scopeKey = alert.scope.key
            scopeText = WebhookRenderer.scopeText(alert.scope)
            summary = t.summary
            detail = measurement.map(\.detail).flatMap { $0 == t.summary ? nil : $0 }
            at = t.at
            alertURL = renderer.alertURL(alert.id)
            runURL = measurement?.runID.map(renderer.runURL)
        }

        var word: String { state.rawValue.uppercased() }
        var emoji: String {
            switch state {
            case .firing: ":red_circle:"
            case .resolved: ":large_green_circle:"
            case .flapping: ":warning:"
            }
        }
    }

    /// `alice→bob`, `agent alice`, `site branch-2`, `suite mesh`.
    static func scopeText(_ s: AlertScope) -> String {
        switch s.kind {
        case .agent: "agent \(s.agent ?? "")"
        case .pair: "\(s.caller ?? "")→\(s.callee ?? "")"
        case .site: "site \(s.site ?? "")"
        case .suite: "suite \(s.suite ?? "")"
        }
    }

    /// Slack incoming webhook: `text` (the notification line) and Block Kit `blocks`.
    func slack(_ c: Card) -> JSONValue {
        let esc = Self.slackEscape
        let text = "\(c.emoji) \(c.word) \(c.rule) on \(esc(c.scopeText)): \(esc(c.summary))"
        var context = [c.detail.map(esc), c.runURL.map { "<\($0)|run>" }, "at \(WireJSON.formatDate(c.at))"].compactMap { $0 }
        context.insert("severity \(c.severity)", at: 0)
        return .object([
            "text": .string(text),
            "blocks": [
                .object(["type": "section", "text": .object([
                    "type": "mrkdwn",
                    "text": .string("\(c.emoji) *\(c.word)* `\(c.rule)` on <\(c.alertURL)|\(esc(c.scopeText))>\n\(esc(c.summary))"),
                ])]),
                .object(["type": "context", "elements": [.object(["type": "mrkdwn", "text": .string(context.joined(separator: " · "))])]]),
            ],
        ])
    }

    /// Slack's mrkdwn control characters (&, <, >) as entities.
    static func slackEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Microsoft Teams incoming webhook: a legacy actionable MessageCard.
    func teams(_ c: Card) -> JSONValue {
        var facts = [Self.fact("Rule", c.rule), Self.fact("Severity", c.severity), Self.fact("Scope", c.scopeKey),
                     Self.fact("State", (c.from.map { "\($0.rawValue) → " } ?? "") + c.state.rawValue),
                     Self.fact("At", WireJSON.formatDate(c.at))]
        if let d = c.detail { facts.append(Self.fact("Measurement", d)) }
        if let r = c.runURL { facts.append(Self.fact("Run", r)) }
        return .object([
            "@type": "MessageCard", "@context": "https://schema.org/extensions",
            "summary": .string("\(c.word) \(c.rule) on \(c.scopeText)"), "themeColor": .string(Self.themeColor(c.state)),
            "title": .string("\(c.word): \(c.rule) on \(c.scopeText)"), "text": .string(c.summary),
            "sections": [.object(["facts": .array(facts)])],
            "potentialAction": [.object([
                "@type": "OpenUri", "name": "Open alert",
                "targets": [.object(["os": "default", "uri": .string(c.alertURL)])],
            ])],
        ])
    }

    static func fact(_ name: String, _ value: String) -> JSONValue { .object(["name": .string(name), "value": .string(value)]) }

    /// Red firing, green resolved, amber flapping, blue for a test (nil).
    static func themeColor(_ state: AlertState?) -> String {
        switch state {
        case .firing: "CC0000"
        case .resolved: "2E7D32"
        case .flapping: "F2A900"
        case nil: "0078D7"
        }
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let e = WireJSON.encoder()
        // A NaN or infinite measurement must not make a delivery unrenderable.
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity",
                                                                 nan: "NaN")
        return (try? e.encode(value)).map { [UInt8]($0) } ?? Array("{}".utf8)
    }
}

/// A JSON value for the bodies whose shape is someone else's (Alertmanager, Slack, Teams).
enum JSONValue: Encodable, Sendable, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    case string(String)
    case int(Int)
    case array([JSONValue])
    case object([String: JSONValue])

    init(stringLiteral value: String) { self = .string(value) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }

    static func strings(_ d: [String: String]) -> JSONValue { .object(d.mapValues(JSONValue.string)) }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .int(let i): try c.encode(i)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

// MARK: delivery policy

/// When to try again (docs/webhooks.md "Retries").
public struct DeliveryPolicy: Sendable, Equatable {
    /// The first retry's upper bound; each further retry doubles it (full jitter: a uniform
    /// draw in [0, bound]), up to `maxBackoff`.
    public var initialBackoff: Double
    public var maxBackoff: Double
    /// After this long since the delivery was created it is dead-lettered.
    public var horizon: Double
    /// A `Retry-After` longer than this is capped to it.
    public var maxRetryAfter: Double
    /// The shortest wait between attempts, whatever the draw.
    public static let minimumDelay: Double = 0.1

    public init(initialBackoff: Double = 1, maxBackoff: Double = 300, horizon: Double = 86400, maxRetryAfter: Double = 3600) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.horizon = horizon
        self.maxRetryAfter = maxRetryAfter
    }

    public enum Outcome: Equatable, Sendable {
        case delivered
        /// 410 Gone: disable the endpoint, cancel its pending deliveries.
        case disableEndpoint(reason: String)
        case retry(at: Date)
        case dead(reason: String)
    }

    /// The upper bound of the wait after attempt `attempt` (1-based):
    /// min(maxBackoff, initialBackoff × 2^(attempt−1)).
    public func backoffBound(attempt: Int) -> Double {
        let exponent = Double(max(1, attempt) - 1)
        return min(maxBackoff, initialBackoff * pow(2, exponent))
    }

    /// Full jitter (a uniform draw in [0, bound)), at least `minimumDelay`.
    public func jitteredDelay(attempt: Int, random: Double) -> Double {
        let r = random.isFinite ? min(max(random, 0), 1) : 0
        return max(Self.minimumDelay, r * backoffBound(attempt: attempt))
    }

    /// What to do after attempt number `attempt` (1-based) answered `statusCode` (nil: no
    /// answer), with the receiver's `Retry-After` header if any. `random` in [0, 1).
    /// 2xx → delivered; 410 → disable; anything else → retry at now + max(Retry-After,
    /// jittered backoff) unless that is past createdAt + horizon → dead.
    ///
    /// Standard Webhooks "Delivery success and failure": 2xx is success, 3xx is a failure (no
    /// redirects are followed), 410 disables the endpoint; a `Retry-After` (429, 503) is taken
    /// into account, capped at `maxRetryAfter`.
    public func outcome(attempt: Int, statusCode: Int?, retryAfter: String?, now: Date, createdAt: Date,
                        random: Double) -> Outcome {
        if let code = statusCode, (200..<300).contains(code) { return .delivered }
        if statusCode == 410 { return .disableEndpoint(reason: "410 Gone from the receiver") }
        let asked = Self.retryAfterSeconds(retryAfter, now: now).map { min($0, maxRetryAfter) } ?? 0
        let next = now.addingTimeInterval(max(jitteredDelay(attempt: attempt, random: random), asked))
        if next > createdAt.addingTimeInterval(horizon) {
            let last = statusCode.map { "HTTP \($0)" } ?? "no answer"
            return .dead(reason: "not delivered within the horizon of \(WireDuration.seconds(horizon)) "
                         + "(\(attempt) attempt\(attempt == 1 ? "" : "s"), last: \(last))")
        }
        return .retry(at: next)
    }

    /// `Retry-After` as seconds from `now`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
    /// Nil when absent or unreadable; never negative.
    ///
    /// HTTP-date (RFC 9110 §5.6.7): the preferred IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`
    /// and, as recipients must accept them, the obsolete rfc850-date `Sunday, 06-Nov-94
    /// 08:49:37 GMT` (a two-digit year more than 50 years ahead is taken from the century
    /// before) and asctime-date `Sun Nov  6 08:49:37 1994`.
    public static func retryAfterSeconds(_ header: String?, now: Date) -> Double? {
        guard let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return Double(text)  // delay-seconds = 1*DIGIT
        }
        guard let date = HTTPDate.parse(text, now: now) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}

/// RFC 9110 §5.6.7 HTTP-date, by hand (no locale, no calendar: pure).
enum HTTPDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let shortDays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    static let longDays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    static func parse(_ text: String, now: Date) -> Date? {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
        switch tokens.count {
        case 6:  // IMF-fixdate: day-name "," SP 2DIGIT SP month SP 4DIGIT SP time SP "GMT"
            guard tokens[0].hasSuffix(","), shortDays.contains(String(tokens[0].dropLast())), tokens[5] == "gmt",
                  tokens[1].count == 2, tokens[3].count == 4,
                  let day = Int(tokens[1]), let month = month(tokens[2]), let year = Int(tokens[3]) else { return nil }
            return date(year: year, month: month, day: day, time: tokens[4])
        case 4:  // rfc850-date: day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time SP "GMT"
            let parts = tokens[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard tokens[0].hasSuffix(","), longDays.contains(String(tokens[0].dropLast())), tokens[3] == "gmt",
                  parts.count == 3, parts[0].count == 2, parts[2].count == 2,
                  let day = Int(parts[0]), let month = month(parts[1]), let yy = Int(parts[2]) else { return nil }
            return date(year: fullYear(yy, now: now), month: month, day: day, time: tokens[2])
        case 5:  // asctime-date: day-name SP month SP ( 2DIGIT / ( SP 1DIGIT )) SP time SP 4DIGIT
            guard shortDays.contains(tokens[0]), tokens[4].count == 4, (1...2).contains(tokens[2].count),
                  let month = month(tokens[1]), let day = Int(tokens[2]), let year = Int(tokens[4]) else { return nil }
            return date(year: year, month: month, day: day, time: tokens[3])
        default:
            return nil
        }
    }

    static func month(_ s: String) -> Int? { months.firstIndex(of: s).map { $0 + 1 } }

    /// The year ending in `yy` that is not more than 50 years after now's year.
    static func fullYear(_ yy: Int, now: Date) -> Int {
        let today = Int((now.timeIntervalSince1970 / 86400).rounded(.down))
        var nowYear = 1970 + Int((now.timeIntervalSince1970 / 31_556_952).rounded(.down))  // mean Gregorian year
        while daysFromCivil(year: nowYear, month: 1, day: 1) > today { nowYear -= 1 }
        while daysFromCivil(year: nowYear + 1, month: 1, day: 1) <= today { nowYear += 1 }
        var year = nowYear - nowYear % 100 + yy
        if year > nowYear + 50 { year -= 100 } else if year + 100 <= nowYear + 50 { year += 100 }
        return year
    }

    static func date(year: Int, month: Int, day: Int, time: String) -> Date? {
        let hms = time.split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, hms.allSatisfy({ $0.count == 2 }),
              let h = Int(hms[0]), let m = Int(hms[1]), let s = Int(hms[2]),
              (0..<24).contains(h), (0..<60).contains(m), (0...60).contains(s),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: Double(days * 86400 + h * 3600 + m * 60 + s))
    }

    static func daysIn(month: Int, year: Int) -> Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible
    /// Low-Level Date Algorithms", days_from_civil).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
