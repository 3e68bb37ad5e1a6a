import Foundation
import InteropTestSupport
import Testing

/// Issue 5's proofs with real processes: `earshot-organizer` with small timings (heartbeat 1 s,
/// offline after 3 missed; webhook retries from 0.2 s), `earshot-agent`s, the `earshot` CLI,
/// scripts/peers/webhook-receiver (which checks the Standard Webhooks signature with its own
/// code) and a real Alertmanager (scripts/peers/alertmanager). Nested in one serialized suite:
/// the checks run one after the other, never two organizers of these tests at once.
@Suite("Alerts and webhooks as processes", .serialized)
struct AlertSystemTests {

    // MARK: loopback

    /// An agent killed with SIGKILL: `agent_offline` firing reaches the receiver signed (its
    /// own verification says ok, and so does `earshot webhooks verify`), within the heartbeat
    /// timeout + 2 s; the agent back → `resolved`, a second delivery with its own webhook-id.
    @Test func agentKilledFiresSignedWithinTheBoundAndResolves() throws {
        let scratch = try ScratchDirectory(prefix: "sys-alert-offline")
        let secret = newWebhookSecret()
        let receiver = try WebhookReceiver(scratch: scratch, secret: secret)
        defer { receiver.stop() }
        let organizer = try OrganizerProcess(scratch: scratch, extraConfig: alertConfig())
        try organizer.start()
        defer { organizer.stop() }
        let endpoint = try organizer.addWebhook("ops", url: receiver.url, secret: secret)
        #expect(endpoint["name"] as? String == "ops")
        #expect(endpoint["format"] as? String == "native")
        #expect((endpoint["printed"] as? String ?? "").contains(secret), "add prints the secret once")
        #expect(endpoint["secret"] == nil, "list never shows it")
        // Each agent alone in its site: a single agent going silent fires at once (no site wait).
        let victim = AgentProcess(name: "ao-victim", site: "hq", scratch: scratch)
        let bystander = AgentProcess(name: "ao-bystander", site: "branch", scratch: scratch)
        for agent in [victim, bystander] {
            try agent.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: agent.site))
        }
        defer { victim.stop(); bystander.stop() }
        #expect(organizer.waitOnline([victim.name, bystander.name]), "\(victim.logs)")
        #expect(receiver.alertEvents().isEmpty, "nothing fires while every agent is online")

        let killedAt = Date()
        victim.kill9()
        let firing = eventually(seconds: 30) {
            receiver.alertEvents(rule: "agent_offline").first { $0.scopeKey == "agent=ao-victim" && $0.toState == "firing" }
        }
        let fired = try #require(firing, "no agent_offline firing delivered\n\(organizer.logs.suffix(3000))")
        let latency = fired.receivedAt.timeIntervalSince(killedAt)
        // The bound: offline after 3 missed 1 s heartbeats (3 s, + up to 1 s for where the kill
        // falls in the heartbeat phase), then at most 2 s to the receiver.
        print("agent_offline: kill -9 → firing webhook received in \(String(format: "%.2f", latency)) s (bound 6 s)")
        #expect(latency <= 6, "kill → delivered took \(latency) s")
        #expect(latency >= 2, "fired before 3 missed heartbeats could have passed: \(latency) s")
        #expect(fired.verification == "ok", "receiver's verification: \(fired.verification) \(fired.verificationDetail)")
        #expect(fired.answer == 200)
        #expect(fired.method == "POST")
        #expect(fired.event == "alert.firing")
        #expect(fired.webhookID?.hasPrefix("msg_") == true, "\(fired.headers)")
        #expect(fired.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect(fired.headers["user-agent"]?.hasPrefix("earshot/") == true, "\(fired.headers)")
        let stamp = try #require(Double(fired.headers["webhook-timestamp"] ?? ""))
        #expect(abs(stamp - fired.receivedAt.timeIntervalSince1970) < 5)
        #expect(fired.alert?["state"] as? String == "firing")
        #expect((fired.transition?["scope"] as? [String: Any])?["site"] as? String == "hq")
        #expect(fired.transition?["from"] == nil || fired.transition?["from"] is NSNull)

        // `earshot webhooks verify` (Earshot's verifier) agrees with the receiver's, and rejects a changed body.
        let bodyFile = try scratch.write(Array(fired.body), to: "firing-body.json")
        let tampered = try scratch.write(Array(fired.body) + [0x20], to: "firing-body-tampered.json")
        let verifyArguments = ["webhooks", "verify", "--secret", secret, "--id", fired.webhookID ?? "",
                               "--timestamp", fired.headers["webhook-timestamp"] ?? "",
                               "--signature", fired.headers["webhook-signature"] ?? ""]
        let good = try runCommand(try System.binary("earshot"), verifyArguments + ["--body", bodyFile])
        #expect(good.status == 0, "earshot webhooks verify: \(good.stdout) \(good.stderr)")
        let bad = try runCommand(try System.binary("earshot"), verifyArguments + ["--body", tampered])
        #expect(bad.status == 1, "a changed body must not verify: \(bad.stdout) \(bad.stderr)")

        try victim.start(organizer: organizer.agentURL)
        let resolution = eventually(seconds: 30) {
            receiver.alertEvents(rule: "agent_offline").first { $0.scopeKey == "agent=ao-victim" && $0.toState == "resolved" }
        }
        let resolved = try #require(resolution, "no resolved delivered after the agent came back")
        #expect(resolved.event == "alert.resolved")
        #expect(resolved.verification == "ok", "\(resolved.verificationDetail)")
        #expect(resolved.webhookID != fired.webhookID)
        #expect(resolved.alert?["id"] as? String == fired.alert?["id"] as? String, "one alert, two transitions")
        #expect(resolved.transition?["from"] as? String == "firing")

        // What the organizer stored: the alert resolved, its two transitions, both delivered on
        // the first attempt with the webhook-ids the receiver saw.
        let alertID = try #require(fired.alert?["id"] as? String)
        let detail = try organizer.alertDetail(alertID)
        #expect((detail["alert"] as? [String: Any])?["state"] as? String == "resolved")
        let transitions = detail["transitions"] as? [[String: Any]] ?? []
        #expect(transitions.compactMap { $0["to"] as? String } == ["resolved", "firing"])
        #expect(Set(transitions.compactMap { $0["id"] as? String }) == Set([fired.transitionID, resolved.transitionID].compactMap { $0 }))
        let deliveries = detail["deliveries"] as? [[String: Any]] ?? []
        #expect(Set(deliveries.compactMap { $0["id"] as? String }) == Set([fired.webhookID, resolved.webhookID].compactMap { $0 }))
        #expect(deliveries.allSatisfy { $0["status"] as? String == "delivered" && $0["attempt_count"] as? Int == 1 }, "\(deliveries)")
        // Only the victim: the bystander never went offline.
        #expect(receiver.alertEvents().allSatisfy { $0.scopeKey == "agent=ao-victim" },
                "\(receiver.alertEvents().map { "\($0.rule ?? "") \($0.scopeKey ?? "") \($0.toState ?? "")" })")
    }

    /// A real Alertmanager behind an `alertmanager_api` endpoint: the alert shows in its
    /// `GET /api/v2/alerts` with Earshot's labels, Alertmanager's own webhook (v4) reaches the
    /// receiver, and the resolve does too.
    @Test func realAlertmanagerRoutesEarshotAlerts() throws {
        let scratch = try ScratchDirectory(prefix: "sys-alert-am")
        let receiver = try WebhookReceiver(scratch: scratch, name: "am-receiver", secret: nil)
        defer { receiver.stop() }
        let alertmanager = try AlertmanagerPeer(scratch: scratch, webhookURL: receiver.url)
        defer { alertmanager.stop() }
        let organizer = try OrganizerProcess(scratch: scratch, extraConfig: alertConfig())
        try organizer.start()
        defer { organizer.stop() }
        try organizer.addWebhook("alertmanager", url: alertmanager.url, format: "alertmanager_api", secret: newWebhookSecret())
        // Earshot's own Alertmanager webhook body (format alertmanager) to the same receiver, on
        // another path: its labels and fingerprint must be what the real Alertmanager computes.
        try organizer.addWebhook("am-format", url: "http://127.0.0.1:\(receiver.port)/earshot-format", format: "alertmanager",
                                 secret: newWebhookSecret())
        let agent = AgentProcess(name: "am-agent", site: "lab", scratch: scratch)
        try agent.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: "lab"))
        defer { agent.stop() }
        #expect(organizer.waitOnline(["am-agent"]))

        agent.kill9()
        // In Alertmanager: active, labelled by Earshot.
        let held = eventually(seconds: 40, interval: 0.5) {
            ((try? alertmanager.alerts()) ?? []).first { ($0["labels"] as? [String: String])?["alertname"] == "agent_offline" }
        }
        let amAlert = try #require(held, "Alertmanager never got the alert\n\(organizer.logs.suffix(3000))")
        let labels = amAlert["labels"] as? [String: String] ?? [:]
        #expect(labels == ["alertname": "agent_offline", "severity": "critical", "scope": "agent", "source": "earshot",
                           "agent": "am-agent", "site": "lab"], "\(labels)")
        #expect((amAlert["status"] as? [String: Any])?["state"] as? String == "active")
        #expect(!((amAlert["annotations"] as? [String: String]) ?? [:]).isEmpty, "annotations (summary) are sent")
        // Alertmanager's notification to the receiver: its webhook v4 body.
        let notified = eventually(seconds: 30) {
            receiver.requests().first { request in
                guard request.path == "/hook/am-receiver", let body = request.object, body["status"] as? String == "firing" else { return false }
                return (body["alerts"] as? [[String: Any]] ?? []).contains { ($0["labels"] as? [String: String])?["alertname"] == "agent_offline" }
            }
        }
        let firing = try #require(notified, "Alertmanager's firing notification did not arrive: \(receiver.requests().map(\.path))")
        #expect(firing.object?["version"] as? String == "4")
        #expect(firing.object?["receiver"] as? String == "test-receiver")
        // Earshot's rendering of the same alert in Alertmanager's webhook format: same labels, same fingerprint.
        let ownBody = eventually(seconds: 10) { receiver.requests().first { $0.path == "/earshot-format" && $0.object?["status"] as? String == "firing" } }
        let ownAlert = (ownBody?.object?["alerts"] as? [[String: Any]])?.first
        #expect(ownBody?.verification == "no_secret" && ownBody?.headers["webhook-signature"] != nil, "signed like every delivery")
        #expect(ownBody?.object?["version"] as? String == "4")
        #expect(ownAlert?["labels"] as? [String: String] == labels)
        #expect(ownAlert?["fingerprint"] as? String == amAlert["fingerprint"] as? String,
                "Earshot's fingerprint \(ownAlert?["fingerprint"] ?? "nil") vs Alertmanager's \(amAlert["fingerprint"] ?? "nil")")
        // Earshot's side: delivered to Alertmanager (2xx).
        #expect(eventually(seconds: 10) {
            ((try? organizer.deliveries(endpoint: "alertmanager")) ?? []).first { $0["status"] as? String == "delivered" && $0["event"] as? String == "alert.firing" }
        } != nil)

        try agent.start(organizer: organizer.agentURL)
        let resolvedNotice = eventually(seconds: 40, interval: 0.5) {
            receiver.requests().first { request in
                guard request.path == "/hook/am-receiver", let body = request.object, body["status"] as? String == "resolved" else { return false }
                return (body["alerts"] as? [[String: Any]] ?? []).contains {
                    ($0["labels"] as? [String: String])?["alertname"] == "agent_offline" && $0["status"] as? String == "resolved"
                }
            }
        }
        let resolved = try #require(resolvedNotice, "Alertmanager's resolved notification did not arrive")
        let resolvedAlert = (resolved.object?["alerts"] as? [[String: Any]])?.first
        #expect(resolvedAlert?["fingerprint"] as? String == amAlert["fingerprint"] as? String, "the same alert resolved")
        // Alertmanager no longer lists it as active.
        #expect(waitUntil(seconds: 20, interval: 0.5) {
            !((try? alertmanager.alerts()) ?? []).contains {
                ($0["labels"] as? [String: String])?["alertname"] == "agent_offline"
                    && ($0["status"] as? [String: Any])?["state"] as? String == "active"
            }
        })
    }

    /// A suite whose agents stop reporting: no success for stale_intervals × interval →
    /// `coverage_stale` for the suite, delivered.
    @Test func suiteWithoutResultsGoesStale() throws {
        let scratch = try ScratchDirectory(prefix: "sys-alert-stale")
        let receiver = try WebhookReceiver(scratch: scratch, secret: newWebhookSecret())
        defer { receiver.stop() }
        let organizer = try OrganizerProcess(scratch: scratch, extraConfig: alertConfig(rules: """
            coverage_stale: { stale_intervals: 2 }
            """))
        try organizer.start()
        defer { organizer.stop() }
        try organizer.addWebhook("ops", url: receiver.url, secret: receiver.secret)
        let caller = AgentProcess(name: "cov-caller", site: "cov-1", scratch: scratch)
        let callee = AgentProcess(name: "cov-callee", site: "cov-2", scratch: scratch)
        for agent in [caller, callee] {
            try agent.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: agent.site))
        }
        defer { caller.stop(); callee.stop() }
        #expect(organizer.waitOnline([caller.name, callee.name]))
        try organizer.applySuite("""
            name: cover
            type: p2p
            topology: {kind: pairs, pairs: [[cov-caller, cov-callee]]}
            interval: 4s
            duration: 1s
            """, name: "cover")
        // Results come in: not stale.
        let passed = eventually(seconds: 40, interval: 0.5) {
            ((try? organizer.runs(["--suite", "cover"])) ?? []).first { $0["status"] as? String == "passed" }
        }
        #expect(passed != nil, "the suite never passed: \((try? organizer.runs(["--suite", "cover"])) ?? [])")
        #expect(receiver.alertEvents(rule: "coverage_stale").isEmpty)

        // Its agents stop reporting.
        caller.kill9()
        callee.kill9()
        let stoppedAt = Date()
        let stale = eventually(seconds: 45, interval: 0.5) {
            receiver.alertEvents(rule: "coverage_stale").first { $0.scopeKey == "suite=cover" && $0.toState == "firing" }
        }
        let fired = try #require(stale, "coverage_stale not delivered\n\(organizer.logs.suffix(3000))")
        #expect(fired.verification == "ok")
        let lastSuccess = ((try? organizer.runs(["--suite", "cover"])) ?? [])
            .filter { ["passed", "degraded"].contains($0["status"] as? String ?? "") }
            .compactMap { ($0["start_at"] as? String).flatMap(apiDate) }.max()
        let at = try #require(fired.transitionAt)
        // Staleness counts from the last success (its end or later): never before its start + 2 × 4 s.
        if let lastSuccess { #expect(at >= lastSuccess.addingTimeInterval(8), "fired \(at) vs last success \(lastSuccess)") }
        print("coverage_stale: fired \(String(format: "%.1f", fired.receivedAt.timeIntervalSince(stoppedAt))) s after the agents stopped (2 × 4 s intervals)")
        #expect(fired.transition?["measurement"] != nil, "the measurement says how long since a success")
    }

    /// The receiver answers 503 for two minutes (Retry-After at first) while alerts change, and
    /// the organizer is killed -9 twice: once with deliveries pending, once with attempts in
    /// flight (the receiver holds its 200 answers for 4 s). Afterwards every stored transition
    /// has been received with a 200, every copy of one carries the same webhook-id, none is lost.
    @Test func receiverDownAndOrganizerKilledLosesNothing() throws {
        let scratch = try ScratchDirectory(prefix: "sys-alert-outbox")
        let secret = newWebhookSecret()
        let receiver = try WebhookReceiver(scratch: scratch, secret: secret, mode: "503 retry-after=3")
        defer { receiver.stop() }
        // The same agents go offline and back again and again: no flapping state here (that is the
        // netns test's), every change is a firing or resolved transition to deliver.
        let organizer = try OrganizerProcess(scratch: scratch, extraConfig: alertConfig(rules: """
            agent_offline: { flap_transitions: 1000 }
            """, backoffMax: "5s"))
        try organizer.start()
        defer { organizer.stop() }
        try organizer.addWebhook("ops", url: receiver.url, secret: secret)
        let agents = ["ob-1", "ob-2", "ob-3"].map { AgentProcess(name: $0, site: "site-\($0)", scratch: scratch) }
        for agent in agents {
            try agent.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: agent.site))
        }
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(agents.map(\.name)))
        let downSince = Date()

        /// Kills and restarts one agent, waiting for its alert to be stored firing, then resolved.
        var cycles = 0
        func cycle(_ agent: AgentProcess) throws {
            func state() -> String? {
                (try? organizer.alertsByScope(rule: "agent_offline"))?["agent=\(agent.name)"]?["state"] as? String
            }
            agent.kill9()
            let fired = waitUntil(seconds: 20, interval: 0.25) { state() == "firing" }
            try agent.start(organizer: organizer.agentURL)
            let resolved = waitUntil(seconds: 30, interval: 0.25) { state() == "resolved" }
            #expect(fired && resolved, """
                \(agent.name) cycle \(cycles): fired \(fired), resolved \(resolved); roster: \(String(describing: (try? organizer.agents())?[agent.name]))
                alert: \(String(describing: (try? organizer.alertsByScope(rule: "agent_offline"))?["agent=\(agent.name)"]))
                agent: \(agent.logs.suffix(1500))
                organizer: \(organizer.logs.suffix(2500))
                """)
            cycles += 1
        }
        // Phase 1 (503 + Retry-After: 3): transitions pile up.
        for agent in agents { try cycle(agent) }
        try receiver.setMode("503")
        let retryAfterUntil = Date()
        // Kill the organizer while deliveries are pending; restart it.
        let pendingBefore = try organizer.deliveries(endpoint: "ops", status: "pending").count
        #expect(pendingBefore >= 4, "deliveries pending at the kill: \(pendingBefore)")
        organizer.kill9()
        let firstKill = Date()
        Thread.sleep(forTimeInterval: 1)
        try organizer.start()
        let firstRestart = Date()
        #expect(organizer.waitOnline(agents.map(\.name)))
        // Phase 2 (plain 503): more transitions, until the receiver has been down ~2 minutes.
        var index = 0
        while Date().timeIntervalSince(downSince) < 110 {
            try cycle(agents[index % agents.count])
            index += 1
        }
        Thread.sleep(forTimeInterval: max(0, 120 - Date().timeIntervalSince(downSince)))
        let failedAnswers = receiver.requests().filter { $0.answer == 503 }
        #expect(receiver.requests().allSatisfy { $0.answer == 503 }, "nothing accepted while down")
        #expect(failedAnswers.count >= 10, "retries while down: \(failedAnswers.count)")

        // The receiver comes back, slowly: attempts now in flight when the organizer dies again.
        try receiver.setMode("200 delay=4")
        let backAt = Date()
        let inFlight = eventually(seconds: 15, interval: 0.05) { receiver.requests().first { $0.receivedAt >= backAt && $0.answer == 200 } }
        #expect(inFlight != nil, "an attempt after the receiver came back")
        organizer.kill9()
        let secondKill = Date()
        try receiver.setMode("200")
        Thread.sleep(forTimeInterval: 0.5)
        try organizer.start()
        let secondRestart = Date()

        // Every stored transition received with a 200.
        var stored: [[String: Any]] = []
        var missing: Set<String> = []
        let complete = waitUntil(seconds: 90, interval: 1) {
            guard let all = try? organizer.storedTransitions() else { return false }
            stored = all.filter { $0["silenced"] as? Bool != true }
            let accepted = Set(receiver.requests().filter { $0.answer == 200 }.compactMap(\.transitionID))
            missing = Set(stored.compactMap { $0["id"] as? String }).subtracting(accepted)
            return !stored.isEmpty && missing.isEmpty
        }
        #expect(complete, "transitions never received: \(missing.sorted())\n\(organizer.logs.suffix(3000))")
        #expect(stored.count >= 2 * cycles && cycles >= 5, "transitions stored: \(stored.count) in \(cycles) kill/restart cycles")
        let requests = receiver.alertEvents()
        // One webhook-id per transition, on every copy; one transition per webhook-id.
        var idsByTransition: [String: Set<String>] = [:]
        var transitionsByID: [String: Set<String>] = [:]
        for request in requests {
            guard let transition = request.transitionID, let id = request.webhookID else { continue }
            idsByTransition[transition, default: []].insert(id)
            transitionsByID[id, default: []].insert(transition)
        }
        #expect(idsByTransition.values.allSatisfy { $0.count == 1 }, "\(idsByTransition.filter { $0.value.count > 1 })")
        #expect(transitionsByID.values.allSatisfy { $0.count == 1 })
        #expect(requests.allSatisfy { $0.verification == "ok" }, "\(requests.filter { $0.verification != "ok" }.map(\.verificationDetail))")
        // The attempt in flight at the second kill was answered 200 to a dead organizer: sent again.
        let acceptedCounts = Dictionary(grouping: requests.filter { $0.answer == 200 }, by: { $0.webhookID ?? "" })
        let duplicates = acceptedCounts.filter { $0.value.count > 1 }
        #expect(!duplicates.isEmpty, "the in-flight attempts at the kill were not sent again")
        if let inFlight, let id = inFlight.webhookID { #expect((acceptedCounts[id]?.count ?? 0) >= 2, "\(id) accepted once only") }
        print("outbox: \(cycles) kill/restart cycles, \(stored.count) transitions, \(requests.count) requests (\(failedAnswers.count) answered 503), \(duplicates.count) delivered twice (same webhook-id)")

        // Retry-After: 3 was honoured: the next attempt of a delivery came ≥ 3 s later; and no
        // wait exceeded backoff_max (5 s) + the evaluation/worker slack, outside the kills.
        let byID = Dictionary(grouping: requests, by: { $0.webhookID ?? "" })
        for (id, attempts) in byID {
            let sorted = attempts.sorted { $0.receivedAt < $1.receivedAt }
            for (previous, next) in zip(sorted, sorted.dropFirst()) {
                let gap = next.receivedAt.timeIntervalSince(previous.receivedAt)
                if previous.retryAfter == "3" {
                    #expect(gap >= 2.9, "\(id): attempt \(gap) s after a Retry-After: 3")
                }
                let spansKill = [(firstKill, firstRestart), (secondKill, secondRestart)].contains {
                    previous.receivedAt <= $0.1.addingTimeInterval(1) && next.receivedAt >= $0.0.addingTimeInterval(-1)
                }
                if previous.answer == 503, previous.retryAfter == nil, !spansKill, previous.receivedAt > retryAfterUntil {
                    #expect(gap <= 5 + 2, "\(id): \(gap) s between attempts with backoff_max 5 s")
                }
            }
        }
        // The organizer's view agrees: every delivery delivered, none dead.
        let deliveries = try organizer.deliveries(endpoint: "ops")
        #expect(deliveries.count == stored.count, "one delivery per transition: \(deliveries.count) vs \(stored.count)")
        #expect(deliveries.allSatisfy { $0["status"] as? String == "delivered" }, "\(deliveries.filter { $0["status"] as? String != "delivered" })")
        #expect(deliveries.contains { ($0["attempt_count"] as? Int ?? 0) >= 5 }, "retries are recorded as attempts")
    }

    // MARK: network namespaces

    /// site-c's link loses 10 % of its media: `mos_low` and `loss_high` fire after fire_after
    /// (2) bad rounds for exactly the pairs involving site-c; clean again, they resolve only
    /// after clear_after (2) good rounds. Then the link toggles every round with loss_high at
    /// fire_after 1, clear_after 1, flap_transitions 3: each affected key ends in one
    /// `flapping` transition, with no more than 3 fire/resolve deliveries in all.
    @Test(.enabled(if: System.canUseNetns, "needs root (network namespaces)"))
    func degradedSiteFiresForItsPairsOnlyClearsAfterTheCountAndFlaps() throws {
        let scratch = try ScratchDirectory(prefix: "sys-alert-degrade")
        let net = try NetnsTopology(script: System.script("netns"), name: "es-aldeg", links: [], options: ["--no-nat"],
                                    maxSeconds: 900, scratch: scratch)
        defer { net.down() }
        let secret = newWebhookSecret()
        let receiver = try WebhookReceiver(scratch: scratch, secret: secret, namespace: net.siteA)
        defer { receiver.stop() }
        // MOS thresholds with room on both sides: clean calls score ~4.4, 10 % random loss ~1.5 (G.711, no PLC).
        let organizer = try OrganizerProcess(scratch: scratch, host: net.ipA, port: 8760, namespace: net.siteA,
                                             extraConfig: alertConfig(rules: """
                                                 mos_low: { fire: 4.0, clear: 4.2, fire_after: 2, clear_after: 2 }
                                                 loss_high: { fire: 3, clear: 1, fire_after: 2, clear_after: 2 }
                                                 """))
        try organizer.start()
        defer { organizer.stop() }
        try organizer.addWebhook("ops", url: receiver.url, secret: secret)
        let agents = try startSiteAgents(net, organizer: organizer, scratch: scratch)
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(agents.map(\.name)), "\(agents.map(\.logs).joined())")
        // Rounds only when the test starts them (paused: no timetabled round in between).
        try organizer.applySuite("""
            name: sites
            type: p2p
            interval: 1h
            duration: 3s
            paused: true
            """, name: "sites")
        let involvingC: Set<String> = ["pair=site-a>site-c", "pair=site-b>site-c", "pair=site-c>site-a", "pair=site-c>site-b"]
        let loss = SiteLoss(net: net, site: "c", percent: 10)

        /// One round; clean: every call passes; lossy: site-a ↔ site-b passes, site-c's calls
        /// lose more than 3 % (10 % random loss also fails some calls' tone check: `failed`
        /// with media measured, which the value rules still observe).
        func playRound(_ label: String, lossy: Bool) throws -> (runs: [[String: Any]], finishedAt: Date) {
            let r = try organizer.runRound("sites", seconds: 120)
            let pairs = r.runs.map { ($0, "pair=" + ($0["participants"] as? [String] ?? []).joined(separator: ">")) }
            print("round \(label): \(pairs.map { "\($0.1) \($0.0["status"] ?? "") mos \($0.0["mos_min"] ?? "-") loss \($0.0["loss_pct_max"] ?? "-")" }.sorted())")
            #expect(r.runs.count == 6, "round \(label): \(r.runs.count) runs")
            for (run, pair) in pairs {
                if lossy && involvingC.contains(pair) {
                    #expect((run["loss_pct_max"] as? Double ?? 0) > 3, "round \(label) \(pair): \(run)")
                } else {
                    #expect(run["status"] as? String == "passed", "round \(label) \(pair): \(run)")
                }
            }
            return r
        }
        func firing(_ rule: String) -> Set<String> {
            Set(((try? organizer.alertsByScope(rule: rule, state: "all")) ?? [:]).filter { $0.value["state"] as? String == "firing" }.keys)
        }
        func delivered(_ rule: String, _ state: String) -> [String] {
            receiver.alertEvents(rule: rule).filter { $0.toState == state && $0.answer == 200 }.compactMap(\.scopeKey).sorted()
        }

        _ = try playRound("0 clean", lossy: false)
        #expect(firing("mos_low").isEmpty && firing("loss_high").isEmpty)
        try loss.apply()
        _ = try playRound("1 lossy", lossy: true)
        Thread.sleep(forTimeInterval: 2)  // evaluation happens on ingest; give it time to (wrongly) fire
        #expect(firing("mos_low").isEmpty, "fire_after 2: one bad run is not enough: \(firing("mos_low"))")
        _ = try playRound("2 lossy", lossy: true)
        for rule in ["mos_low", "loss_high"] {
            #expect(waitUntil(seconds: 15, interval: 0.5) { firing(rule) == involvingC }, "\(rule) firing: \(firing(rule))")
            #expect(eventually(seconds: 10) { Set(delivered(rule, "firing")) == involvingC ? true : nil } == true,
                    "\(rule) firing deliveries: \(delivered(rule, "firing"))")
        }
        #expect(firing("test_failed").isSubset(of: involvingC), "test_failed only where the loss is: \(firing("test_failed"))")
        let dropped = try loss.dropped()
        #expect(dropped > 0, "the router dropped site-c's media: \(dropped) packets")
        try loss.remove()
        let good1 = try playRound("3 clean", lossy: false)
        Thread.sleep(forTimeInterval: 2)
        #expect(firing("mos_low") == involvingC, "clear_after 2: one good run must not resolve: \(firing("mos_low"))")
        #expect(firing("loss_high") == involvingC)
        let good2 = try playRound("4 clean", lossy: false)
        for rule in ["mos_low", "loss_high"] {
            #expect(waitUntil(seconds: 15, interval: 0.5) { firing(rule).isEmpty }, "\(rule) still firing: \(firing(rule))")
            #expect(eventually(seconds: 10) { Set(delivered(rule, "resolved")) == involvingC ? true : nil } == true,
                    "\(rule) resolved deliveries: \(delivered(rule, "resolved"))")
            for event in receiver.alertEvents(rule: rule) where event.toState == "resolved" {
                let at = try #require(event.transitionAt)
                #expect(at > good1.finishedAt, "\(rule) \(event.scopeKey ?? "") resolved at \(at), before the 2nd good run (round 3 done \(good1.finishedAt))")
                let runID = (event.transition?["measurement"] as? [String: Any])?["run_id"] as? String
                #expect(good2.runs.contains { $0["id"] as? String == runID }, "resolved by a run of the 2nd good round: \(runID ?? "nil")")
            }
            // Exactly one firing and one resolved per key so far.
            #expect(delivered(rule, "firing") == involvingC.sorted() && delivered(rule, "resolved") == involvingC.sorted())
        }

        // Flapping: loss_high fires and clears on one run each; the link toggles every round.
        let ruleSet = try organizer.cli(["alerts", "rules", "set", "loss_high", "--fire-after", "1", "--clear-after", "1",
                                     "--flap-transitions", "3", "--flap-window", "10m"])
        #expect(ruleSet.status == 0, "\(ruleSet.stderr)")
        for i in 0..<5 {
            if i % 2 == 0 { try loss.apply() } else { try loss.remove() }
            _ = try playRound("flap \(i)", lossy: i % 2 == 0)
        }
        try loss.remove()
        Thread.sleep(forTimeInterval: 2)
        let events = receiver.alertEvents(rule: "loss_high").filter { $0.answer == 200 }
        for key in involvingC {
            let mine = events.filter { $0.scopeKey == key }
            let flapping = mine.filter { $0.toState == "flapping" }
            let storm = mine.filter { $0.toState == "firing" || $0.toState == "resolved" }
            #expect(flapping.count == 1, "\(key): one flapping transition, got \(mine.map { $0.toState ?? "" })")
            #expect(storm.count <= 3, "\(key): at most flap_transitions (3) fire/resolve deliveries, got \(mine.map { $0.toState ?? "" })")
            if let flapAt = flapping.first?.receivedAt {
                #expect(!storm.contains { $0.receivedAt > flapAt }, "\(key): quiet once flapping: \(mine.map { $0.toState ?? "" })")
            }
        }
        #expect(firing("loss_high").isEmpty)
        let flappingNow = ((try? organizer.alertsByScope(rule: "loss_high")) ?? [:]).filter { $0.value["state"] as? String == "flapping" }
        #expect(Set(flappingNow.keys) == involvingC, "shown as flapping: \(flappingNow.keys.sorted())")
        // site-a ↔ site-b never alerted.
        #expect(!receiver.alertEvents().contains { ["pair=site-a>site-b", "pair=site-b>site-a"].contains($0.scopeKey ?? "") })
    }

    /// Both agents of site-b cut off from the organizer (iptables DROP in the router): one
    /// `site_down`, and no `agent_offline` for either agent; restored, the site_down resolves.
    @Test(.enabled(if: System.canUseNetns, "needs root (network namespaces)"))
    func siteCutOffGivesOneSiteDownAndNoAgentFlood() throws {
        let scratch = try ScratchDirectory(prefix: "sys-alert-sitedown")
        let net = try NetnsSystemTests.topology("es-alsite", scratch: scratch)
        defer { net.down() }
        let secret = newWebhookSecret()
        let receiver = try WebhookReceiver(scratch: scratch, secret: secret, namespace: net.siteA)
        defer { receiver.stop() }
        let organizer = try OrganizerProcess(scratch: scratch, host: net.ipA, port: 8760, namespace: net.siteA,
                                             extraConfig: alertConfig())
        try organizer.start()
        defer { organizer.stop() }
        try organizer.addWebhook("ops", url: receiver.url, secret: secret)
        let agents = [
            AgentProcess(name: "hq-1", site: "hq", scratch: scratch, namespace: net.siteA, sipListen: "\(net.ipA):5060"),
            AgentProcess(name: "br-1", site: "branch", scratch: scratch, namespace: net.siteB, sipListen: "\(net.ipB):5060"),
            AgentProcess(name: "br-2", site: "branch", scratch: scratch, namespace: net.siteB, sipListen: "\(net.ipB):5062"),
        ]
        for agent in agents {
            try agent.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: agent.site))
        }
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(agents.map(\.name)))

        let rule = ["FORWARD", "-s", net.ipB, "-d", net.ipA, "-p", "tcp", "--dport", "8760", "-j", "DROP"]
        let back = ["FORWARD", "-s", net.ipA, "-d", net.ipB, "-p", "tcp", "--sport", "8760", "-j", "DROP"]
        try net.iptables(net.router, ["-I"] + rule)
        try net.iptables(net.router, ["-I"] + back)
        let cutAt = Date()
        let down = eventually(seconds: 30) {
            receiver.alertEvents(rule: "site_down").first { $0.scopeKey == "site=branch" && $0.toState == "firing" }
        }
        let fired = try #require(down, "no site_down\n\(organizer.logs.suffix(3000))")
        print("site_down: delivered \(String(format: "%.2f", fired.receivedAt.timeIntervalSince(cutAt))) s after the cut")
        #expect(fired.verification == "ok")
        #expect(waitUntil(seconds: 10, interval: 0.5) {
            let listed = (try? organizer.agents()) ?? [:]
            return listed["br-1"]?["state"] as? String == "offline" && listed["br-2"]?["state"] as? String == "offline"
        }, "both branch agents offline")
        // Let any per-agent alert that would come, come (well past the site wait of 1 heartbeat + 1 s).
        Thread.sleep(forTimeInterval: 6)
        let branchOffline = { receiver.alertEvents(rule: "agent_offline").filter { ["agent=br-1", "agent=br-2"].contains($0.scopeKey ?? "") } }
        #expect(receiver.alertEvents(rule: "site_down").filter { $0.toState == "firing" }.count == 1)
        #expect(branchOffline().isEmpty, "per-agent alerts: \(branchOffline().map { "\($0.scopeKey ?? "") \($0.toState ?? "")" })")
        #expect(try organizer.alertsByScope(rule: "agent_offline").keys.filter { $0.hasPrefix("agent=br-") }.isEmpty)

        try net.iptables(net.router, ["-D"] + rule)
        try net.iptables(net.router, ["-D"] + back)
        #expect(organizer.waitOnline(["br-1", "br-2"], seconds: 90))
        let up = eventually(seconds: 30) {
            receiver.alertEvents(rule: "site_down").first { $0.scopeKey == "site=branch" && $0.toState == "resolved" }
        }
        #expect(up != nil, "site_down resolved")
        #expect(branchOffline().isEmpty, "no per-agent alerts on the way back either")
        #expect(receiver.alertEvents().allSatisfy { $0.rule == "site_down" },
                "\(receiver.alertEvents().map { "\($0.rule ?? "") \($0.scopeKey ?? "") \($0.toState ?? "")" })")
    }
}

/// Random loss of one site's media (UDP except SIP's 5060) in the router's FORWARD chain, both
/// directions, added and removed while the topology runs (`iptables -m statistic`: the kernel
/// drops each packet with the probability). Signalling and the organizer's TCP stay intact, so
/// calls complete and only their media is degraded.
final class SiteLoss {
    let net: NetnsTopology
    let site: String
    let percent: Double
    private(set) var active = false

    init(net: NetnsTopology, site: String, percent: Double) {
        self.net = net
        self.site = site
        self.percent = percent
    }

    private var rules: [[String]] {
        let probability = String(format: "%.4f", percent / 100)
        return [("-i", "out"), ("-o", "in")].map { flag, direction in
            ["FORWARD", flag, "r-\(site)", "-p", "udp", "-m", "multiport", "!", "--ports", "5060",
             "-m", "statistic", "--mode", "random", "--probability", probability,
             "-m", "comment", "--comment", "es-loss-\(site)-\(direction)", "-j", "DROP"]
        }
    }

    func apply() throws {
        guard !active else { return }
        for rule in rules { try net.iptables(net.router, ["-I"] + rule) }
        active = true
    }

    func remove() throws {
        guard active else { return }
        for rule in rules { try net.iptables(net.router, ["-D"] + rule) }
        active = false
    }

    /// Packets dropped so far by the rules (present now).
    func dropped() throws -> Int {
        try ["out", "in"].reduce(0) { $0 + (try net.packetCount(in: net.router, table: "filter", comment: "es-loss-\(site)-\($1)")) }
    }
}
