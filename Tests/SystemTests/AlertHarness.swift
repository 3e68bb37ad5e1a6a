import Foundation
import InteropTestSupport
import Testing

/// scripts/peers/webhook-receiver as a process: every request it got (its JSON-lines log), its
/// own Standard Webhooks verification of each, and the answer mode a test switches while it runs.
final class WebhookReceiver {
    let scratch: ScratchDirectory
    let name: String
    let secret: String?
    let logPath: String
    let controlPath: String
    let host: String
    let namespace: String?
    private(set) var port = 0
    private let process: SpawnedProcess

    /// The URL an endpoint posts to (`/hook/<name>` on the receiver).
    var url: String { "http://\(host):\(port)/hook/\(name)" }

    /// Starts the receiver (inside `namespace` when given, on its loopback by default) and waits
    /// for its READY line.
    init(scratch: ScratchDirectory, name: String = "receiver", secret: String?, host: String = "127.0.0.1",
         namespace: String? = nil, mode: String = "200") throws {
        self.scratch = scratch
        self.name = name
        self.secret = secret
        self.host = host
        self.namespace = namespace
        logPath = scratch.path("\(name).jsonl")
        controlPath = scratch.path("\(name).mode")
        try mode.write(toFile: controlPath, atomically: true, encoding: .utf8)
        var arguments = ["--log", logPath, "--host", host, "--port", "0", "--control", controlPath, "--max-seconds", "1800"]
        if let secret { arguments += ["--secret", secret] }
        var executable = System.script("webhook-receiver")
        if let namespace {
            arguments = ["netns", "exec", namespace, executable] + arguments
            executable = NetnsTopology.ip
        }
        process = try SpawnedProcess(executable, arguments, outputPath: scratch.path("\(name).out"), errorPath: scratch.path("\(name).err"))
        guard let port = readyValue(of: process, key: "port", seconds: 20).flatMap(Int.init) else {
            throw SpawnError(description: "webhook-receiver did not start: \(process.output)\n\(process.errors)")
        }
        self.port = port
    }

    /// `200`, `503`, `503 retry-after=2`, `410`: what the next requests get (written atomically).
    func setMode(_ mode: String) throws {
        try mode.write(toFile: controlPath, atomically: true, encoding: .utf8)
    }

    /// Every request so far, oldest first.
    func requests() -> [ReceivedRequest] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).flatMap(ReceivedRequest.init)
        }
    }

    /// Requests carrying a native alert event (`alert.firing|resolved|flapping`) for `rule`.
    func alertEvents(rule: String? = nil) -> [ReceivedRequest] {
        requests().filter { $0.transition != nil && (rule == nil || $0.rule == rule) }
    }

    func stop() { process.signal(SIGTERM); _ = process.wait(seconds: 5) }
}

/// One request as the receiver logged it.
struct ReceivedRequest {
    let n: Int
    let receivedAt: Date
    let method: String
    let path: String
    let headers: [String: String]
    let body: Data
    /// The status the receiver answered.
    let answer: Int
    let retryAfter: String?
    /// The receiver's own verification: ok, mismatch, timestamp, missing, malformed, no_secret.
    let verification: String
    let verificationDetail: String

    init?(_ entry: [String: Any]) {
        guard let n = entry["n"] as? Int, let at = entry["received_at"] as? Double,
              let b64 = entry["body_b64"] as? String, let body = Data(base64Encoded: b64) else { return nil }
        self.n = n
        receivedAt = Date(timeIntervalSince1970: at)
        method = entry["method"] as? String ?? ""
        path = entry["path"] as? String ?? ""
        headers = entry["headers"] as? [String: String] ?? [:]
        self.body = body
        answer = entry["answer"] as? Int ?? 0
        retryAfter = entry["retry_after"] as? String
        let v = entry["verification"] as? [String: Any]
        verification = v?["result"] as? String ?? ""
        verificationDetail = v?["detail"] as? String ?? ""
    }

    var webhookID: String? { headers["webhook-id"] }
    var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    var object: [String: Any]? { json as? [String: Any] }

    // The native payload: {type, timestamp, data: {alert, transition, run_url, alert_url}}.
    var event: String? { object?["type"] as? String }
    var transition: [String: Any]? { (object?["data"] as? [String: Any])?["transition"] as? [String: Any] }
    var alert: [String: Any]? { (object?["data"] as? [String: Any])?["alert"] as? [String: Any] }
    var transitionID: String? { transition?["id"] as? String }
    var rule: String? { transition?["rule"] as? String }
    var toState: String? { transition?["to"] as? String }
    var scopeKey: String? { (transition?["scope"] as? [String: Any]).map(scopeKeyOf) }
    var transitionAt: Date? { (transition?["at"] as? String).flatMap(apiDate) }
}

/// `agent=x`, `pair=a>b`, `site=s`, `suite=s` of an AlertScope's JSON (AlertScope.key).
func scopeKeyOf(_ scope: [String: Any]) -> String {
    switch scope["kind"] as? String {
    case "agent": "agent=\(scope["agent"] as? String ?? "")"
    case "pair": "pair=\(scope["caller"] as? String ?? "")>\(scope["callee"] as? String ?? "")"
    case "site": "site=\(scope["site"] as? String ?? "")"
    case "suite": "suite=\(scope["suite"] as? String ?? "")"
    default: "?"
    }
}

/// scripts/peers/alertmanager: the Debian package's Alertmanager sending every notification to
/// `webhookURL` (a WebhookReceiver).
final class AlertmanagerPeer {
    let url: String
    private let process: SpawnedProcess

    init(scratch: ScratchDirectory, webhookURL: String) throws {
        process = try SpawnedProcess(System.script("alertmanager"),
                                     ["--webhook-url", webhookURL, "--logdir", scratch.path("alertmanager"), "--max-seconds", "1800"],
                                     outputPath: scratch.path("alertmanager.out"), errorPath: scratch.path("alertmanager.err"))
        guard let url = readyValue(of: process, key: "url", seconds: 30) else {
            throw SpawnError(description: "alertmanager did not start: \(process.output)\n\(process.errors)")
        }
        self.url = url
    }

    /// `GET /api/v2/alerts`: what Alertmanager holds now.
    func alerts() throws -> [[String: Any]] {
        let result = try runCommand("/usr/bin/curl", ["-fsS", "-m", "10", "\(url)/api/v2/alerts"], timeout: 15)
        guard result.status == 0 else { throw SpawnError(description: "GET \(url)/api/v2/alerts: \(result.stderr)") }
        return result.json as? [[String: Any]] ?? []
    }

    func stop() { process.signal(SIGTERM); _ = process.wait(seconds: 10) }
}

/// The value of `key=` in a peer script's `READY key=value ...` line (docs/peers.md), once it
/// printed one; nil when it exited or overstayed `seconds` first.
func readyValue(of process: SpawnedProcess, key: String, seconds: Double) -> String? {
    var ready: Substring?
    _ = waitUntil(seconds: seconds, interval: 0.05) {
        ready = process.output.split(separator: "\n").first { $0.hasPrefix("READY ") }
        return ready != nil || process.hasExited
    }
    guard let token = ready?.split(separator: " ").first(where: { $0.hasPrefix(key + "=") }) else { return nil }
    return String(token.dropFirst(key.count + 1))
}

/// One agent per site of a scripts/peers/netns topology, named and sited `site-a`, `site-b`,
/// `site-c`, SIP on the site's address port 5060; enrolled and started.
func startSiteAgents(_ net: NetnsTopology, organizer: OrganizerProcess, scratch: ScratchDirectory) throws -> [AgentProcess] {
    let sites: [(String, NetnsTopology.Site)] = [("site-a", .a), ("site-b", .b), ("site-c", .c)]
    return try sites.map { name, site in
        let agent = AgentProcess(name: name, site: name, scratch: scratch, namespace: net.namespace(site),
                                 sipListen: "\(net.address(site)):5060")
        try agent.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: name))
        return agent
    }
}

/// A fresh `whsec_` secret: base64 of 32 random bytes.
func newWebhookSecret() -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    return "whsec_" + Data(bytes).base64EncodedString()
}

/// The organizer YAML for the alert proofs: small timings (heartbeat 1 s × 3 is offline_after in
/// OrganizerProcess's base configuration), fast webhook retries, plus `rules`.
func alertConfig(rules: String = "", backoffMax: String = "2s", extra: String = "") -> String {
    var text = """
        alerts:
          evaluate_interval: 1s
        """
    if !rules.isEmpty {
        text += "\n  rules:\n" + rules.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n")
    }
    text += """

        webhooks:
          backoff_initial: 0.2s
          backoff_max: \(backoffMax)
          horizon: 1h
          timeout: 5s
          alertmanager_resend: 5s
          workers: 4
        """
    return extra.isEmpty ? text : text + "\n" + extra
}

extension OrganizerProcess {
    /// `earshot webhooks add NAME --url URL --payload F --secret S` (text output: the secret is
    /// printed once); the endpoint as `webhooks list` shows it, with `printed`: what add printed.
    @discardableResult
    func addWebhook(_ name: String, url: String, format: String = "native", secret: String? = nil,
                    extra: [String] = []) throws -> [String: Any] {
        var arguments = ["webhooks", "add", name, "--url", url, "--payload", format] + extra
        if let secret { arguments += ["--secret", secret] }
        let added = try cli(arguments, json: false)
        guard added.status == 0 else {
            throw SpawnError(description: "earshot webhooks add \(name) exit \(added.status): \(added.stderr)\n\(added.stdout)")
        }
        let listed = try cliJSON(["webhooks", "list"]) as? [[String: Any]] ?? []
        var endpoint = try #require(listed.first { $0["name"] as? String == name }, "\(name) not listed after add")
        endpoint["printed"] = added.stdout
        return endpoint
    }

    /// `earshot alerts list --state S`.
    func alerts(state: String = "all", rule: String? = nil) throws -> [[String: Any]] {
        var arguments = ["alerts", "list", "--state", state, "--limit", "1000"]
        if let rule { arguments += ["--rule", rule] }
        return try cliJSON(arguments) as? [[String: Any]] ?? []
    }

    /// Alerts of `rule` by scope key, e.g. ["pair=a>b": alert].
    func alertsByScope(rule: String, state: String = "all") throws -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for alert in try alerts(state: state, rule: rule) where alert["rule"] as? String == rule {
            if let scope = alert["scope"] as? [String: Any] { out[scopeKeyOf(scope)] = alert }
        }
        return out
    }

    /// `earshot alerts show ID`: {alert, transitions (newest first), deliveries}.
    func alertDetail(_ id: String) throws -> [String: Any] {
        try cliJSON(["alerts", "show", id]) as? [String: Any] ?? [:]
    }

    /// Every stored transition of every alert (oldest first).
    func storedTransitions() throws -> [[String: Any]] {
        try alerts().flatMap { alert -> [[String: Any]] in
            guard let id = alert["id"] as? String else { return [] }
            return (try alertDetail(id)["transitions"] as? [[String: Any]] ?? []).reversed()
        }
    }

    /// `earshot webhooks deliveries --endpoint NAME`.
    func deliveries(endpoint: String? = nil, status: String? = nil) throws -> [[String: Any]] {
        var arguments = ["webhooks", "deliveries", "--limit", "1000"]
        if let endpoint { arguments += ["--endpoint", endpoint] }
        if let status { arguments += ["--status", status] }
        return try cliJSON(arguments) as? [[String: Any]] ?? []
    }

    /// Applies a suite from YAML text.
    func applySuite(_ yaml: String, name: String) throws {
        let file = scratch.path("suite-\(name).yaml")
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let applied = try cli(["suites", "apply", "-f", file])
        guard applied.status == 0 else { throw SpawnError(description: "suites apply \(name): \(applied.stderr)") }
    }

    /// `earshot suites run NAME` and waits until every run of that round has its verdict; the
    /// round's runs (RunSummary JSON), and when the last one was seen finished.
    func runRound(_ suite: String, seconds: Double = 90) throws -> (runs: [[String: Any]], finishedAt: Date) {
        let round = try cliJSON(["suites", "run", suite]) as? [String: Any]
        let planned = (round?["run_ids"] as? [String] ?? [])
            + ((round?["not_run"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? [])
        var runs: [[String: Any]] = []
        let done = waitUntil(seconds: seconds, interval: 0.5) {
            runs = ((try? self.runs(["--suite", suite])) ?? []).filter { planned.contains($0["id"] as? String ?? "") }
            return runs.count == planned.count
                && runs.allSatisfy { ["passed", "degraded", "failed", "not_run"].contains($0["status"] as? String ?? "") }
        }
        guard done, !planned.isEmpty else {
            throw SpawnError(description: "round of \(suite) did not finish: \(runs.map { "\($0["participants"] ?? "") \($0["status"] ?? "")" })")
        }
        return (runs, Date())
    }
}

/// Polls until `value()` gives a non-nil result or `seconds` pass.
func eventually<T>(seconds: Double, interval: Double = 0.2, _ value: () -> T?) -> T? {
    var result: T?
    _ = waitUntil(seconds: seconds, interval: interval) {
        result = value()
        return result != nil
    }
    return result
}
