import EarshotStore
import EarshotWire
import Foundation
import InteropTestSupport
import Logging
import OrganizerCore
@testable import OrganizerKit
import Testing

extension TestOrganizer {
    /// An organizer that evaluates alerts every 100 ms and retries webhooks within a second.
    /// Scripted agents do not heartbeat: with the default heartbeat (200 ms, 2 missed) each goes
    /// offline about 400 ms after its hello.
    static func alerting(storage: (any Storage)? = nil, heartbeat: Double = 0.2, missed: Int = 2,
                         _ configure: (inout OrganizerConfiguration) -> Void = { _ in }) async throws -> TestOrganizer {
        try await start(storage: storage, heartbeat: heartbeat, missed: missed) { config in
            config.alerts.evaluateInterval = .seconds(0.1)
            config.webhooks = .init(backoffInitial: .seconds(0.05), backoffMax: .seconds(0.2), horizon: .seconds(120),
                                    timeout: .seconds(5), alertmanagerResend: .seconds(60), workers: 2)
            configure(&config)
        }
    }

    static func withAlerting<T>(storage: (any Storage)? = nil, heartbeat: Double = 0.2, missed: Int = 2,
                                _ configure: (inout OrganizerConfiguration) -> Void = { _ in },
                                _ body: (TestOrganizer) async throws -> T) async throws -> T {
        let org = try await alerting(storage: storage, heartbeat: heartbeat, missed: missed, configure)
        do {
            let result = try await body(org)
            await org.shutdown()
            return result
        } catch {
            await org.shutdown()
            throw error
        }
    }

    /// Adds a webhook endpoint; returns it with its secret.
    func addWebhook(_ request: WebhookEndpointRequest) async throws -> WebhookEndpointInfo {
        let reply = try await self.request(.POST, "/v1/webhooks", body: json(request))
        guard reply.status == 201 else { throw TestFailure("webhook: \(reply.status) \(reply.text)") }
        return try reply.decode(WebhookEndpointInfo.self)
    }

    func delivery(_ id: String) async throws -> WebhookDelivery {
        try await request(.GET, "/v1/deliveries/\(id)").decode(WebhookDelivery.self)
    }

    var alertService: AlertService { running.organizer.runtime.alerts }
}

func withReceiver<T>(_ script: [WebhookReceiver.Answer] = [], _ body: (WebhookReceiver) async throws -> T) async throws -> T {
    let receiver = try await WebhookReceiver.start(script)
    do {
        let result = try await body(receiver)
        await receiver.shutdown()
        return result
    } catch {
        await receiver.shutdown()
        throw error
    }
}

/// Alerts and webhooks end to end: a real organizer (SQLite), scripted agents over the
/// WebSocket, and an HTTP receiver that records what it is sent.
@Suite struct AlertWebhookTests {
    static func verify(_ r: WebhookReceiver.Received, secret: String) -> StandardWebhooks.Verification {
        StandardWebhooks.verify(secret: secret, id: r.id, timestamp: r.headers["webhook-timestamp"] ?? "",
                                signatureHeader: r.headers["webhook-signature"] ?? "", body: r.body, now: Date())
    }

    @Test func offlineAgentGivesASignedDeliveryRetriedWithTheSameID() async throws {
        try await withReceiver([.status(503), .status(503), .status(503), .ok]) { receiver in
            try await TestOrganizer.withAlerting { org in
                let endpoint = try await org.addWebhook(WebhookEndpointRequest(name: "ops", url: receiver.url))
                let secret = try #require(endpoint.secret)
                #expect(secret.hasPrefix("whsec_"))
                #expect(endpoint.enabled)
                let (client, _) = try await org.connectedAgent(name: "alice", site: "branch-1")

                try await org.eventually("four attempts") { receiver.received.count >= 4 }
                let got = Array(receiver.received.prefix(4))
                #expect(got.map(\.answered) == [503, 503, 503, 200])
                #expect(Set(got.map(\.id)).count == 1)
                #expect(got[0].id.hasPrefix("msg_"))
                for r in got {
                    #expect(Self.verify(r, secret: secret) == .valid)
                    #expect(r.path == "/hook")
                    #expect(r.headers["user-agent"] == "earshot/\(Organizer.version)")
                    #expect(r.headers["content-type"] == "application/json")
                    #expect(r.body == got[0].body)
                }
                // Another secret does not verify.
                #expect(Self.verify(got[0], secret: "whsec_" + Data(repeating: 7, count: 24).base64EncodedString()) == .mismatch)

                let payload = try got[0].json(NativeWebhookPayload.self)
                #expect(payload.type == "alert.firing")
                #expect(payload.data.alert?.rule == .agentOffline)
                #expect(payload.data.alert?.scope.agent == "alice")
                #expect(payload.data.alert?.scope.site == "branch-1")
                #expect(payload.data.transition?.to == .firing)
                #expect(payload.data.transition?.from == nil)

                try await org.eventually("the delivery to be stored as delivered") {
                    try await org.delivery(got[0].id).status == .delivered
                }
                let delivery = try await org.delivery(got[0].id)
                #expect(delivery.attempts.map(\.statusCode) == [503, 503, 503, 200])
                #expect(delivery.attemptCount == 4)
                #expect(delivery.endpointName == "ops")
                #expect(delivery.event == "alert.firing")

                let alerts = try await org.request(.GET, "/v1/alerts").decode([AlertInfo].self)
                let alert = try #require(alerts.first { $0.rule == .agentOffline && $0.scope.agent == "alice" })
                #expect(alert.state == .firing)
                #expect(alert.id == delivery.alertID)
                #expect(alert.silencedBy == nil)
                let detail = try await org.request(.GET, "/v1/alerts/\(alert.id)").decode(AlertDetail.self)
                #expect(detail.transitions.map(\.to) == [.firing])
                #expect(detail.transitions.map(\.silenced) == [false])
                #expect(detail.transitions[0].id.hasPrefix("tr_"))
                #expect(detail.deliveries.map(\.id) == [delivery.id])
                client.close()
            }
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        try await withReceiver([.status(429, ["Retry-After": "2"]), .ok]) { receiver in
            try await TestOrganizer.withAlerting { org in
                _ = try await org.addWebhook(WebhookEndpointRequest(name: "slow", url: receiver.url))
                let queued = try await org.request(.POST, "/v1/webhooks/slow/test")
                #expect(queued.status == 201)
                let id = try queued.decode(WebhookDelivery.self).id
                try await org.eventually("the delivery after Retry-After") { try await org.delivery(id).status == .delivered }
                let got = receiver.received
                #expect(got.map(\.answered) == [429, 200])
                // Not before the 2 s the receiver asked for (the backoff alone would be ≤ 50 ms);
                // 0.1 s allows for the stored times' rounding.
                #expect(got[1].at.timeIntervalSince(got[0].at) >= 1.9)
                let delivery = try await org.delivery(id)
                #expect(delivery.attempts.map(\.statusCode) == [429, 200])
                #expect(delivery.attempts[0].retryAfterS == 2)
                #expect(delivery.attempts[1].at.timeIntervalSince(delivery.attempts[0].at) >= 1.9)
            }
        }
    }

    @Test func testEndpointRouteQueuesASignedTestEvent() async throws {
        try await withReceiver { receiver in
            try await TestOrganizer.withAlerting { org in
                let native = try await org.addWebhook(WebhookEndpointRequest(name: "native", url: receiver.url))
                let am = try await org.addWebhook(WebhookEndpointRequest(name: "am", url: receiver.baseURL,
                                                                         format: .alertmanagerAPI))
                let reply = try await org.request(.POST, "/v1/webhooks/native/test")
                #expect(reply.status == 201)
                let queued = try reply.decode(WebhookDelivery.self)
                #expect(queued.event == "earshot.test")
                #expect(queued.endpointID == native.id)
                #expect(queued.id.hasPrefix("msg_"))
                try await org.eventually("the test delivery") { try await org.delivery(queued.id).status == .delivered }
                let first = try #require(receiver.received.first)
                #expect(first.id == queued.id)
                #expect(Self.verify(first, secret: try #require(native.secret)) == .valid)
                #expect(try first.json(NativeWebhookPayload.self).type == "earshot.test")

                // alertmanager_api: POSTed to the Alertmanager's /api/v2/alerts, signed too.
                let amQueued = try await org.request(.POST, "/v1/webhooks/\(am.id)/test").decode(WebhookDelivery.self)
                try await org.eventually("the alertmanager test delivery") {
                    try await org.delivery(amQueued.id).status == .delivered
                }
                let second = try #require(receiver.received.first { $0.id == amQueued.id })
                #expect(second.path == "/api/v2/alerts")
                #expect(Self.verify(second, secret: try #require(am.secret)) == .valid)

                let listed = try await org.request(.GET, "/v1/deliveries?endpoint=native").decode([WebhookDelivery].self)
                #expect(listed.map(\.id) == [queued.id])
                let info = try await org.request(.GET, "/v1/webhooks/native").decode(WebhookEndpointInfo.self)
                #expect(info.secret == nil)
                #expect(info.deliveries["delivered"] == 1)
                let unknown = try await org.request(.POST, "/v1/webhooks/nope/test")
                #expect(unknown.status == 404)
            }
        }
    }

    @Test func goneDisablesTheEndpointAndCancelsItsPendingDeliveries() async throws {
        // The receiver holds its 410 for 2 s: long enough to queue the second delivery behind it
        // on a loaded machine.
        try await withReceiver([.status(410, delay: .seconds(2))]) { receiver in
            try await TestOrganizer.withAlerting({ $0.webhooks.workers = 1 }) { org in
                _ = try await org.addWebhook(WebhookEndpointRequest(name: "gone", url: receiver.url))
                let first = try await org.request(.POST, "/v1/webhooks/gone/test").decode(WebhookDelivery.self)
                try await org.eventually("the first attempt to reach the receiver") { receiver.received.count == 1 }
                // Queued while the only worker waits for the 410.
                let second = try await org.request(.POST, "/v1/webhooks/gone/test").decode(WebhookDelivery.self)
                try await org.eventually("the endpoint to be disabled") {
                    try await org.request(.GET, "/v1/webhooks/gone").decode(WebhookEndpointInfo.self).enabled == false
                }
                let endpoint = try await org.request(.GET, "/v1/webhooks/gone").decode(WebhookEndpointInfo.self)
                #expect(endpoint.disabledReason?.contains("410") == true)
                try await org.eventually("the pending delivery to be cancelled") { try await org.delivery(second.id).status == .cancelled }
                #expect(try await org.delivery(first.id).attempts.map(\.statusCode) == [410])
                #expect(receiver.received.count == 1)

                let refused = try await org.request(.POST, "/v1/webhooks/gone/test")
                #expect(refused.status == 409)
                #expect(refused.apiError?.message.contains("disabled") == true)

                let enabled = try await org.request(.POST, "/v1/webhooks/gone/enable")
                #expect(enabled.status == 200)
                #expect(try enabled.decode(WebhookEndpointInfo.self).enabled)
                let third = try await org.request(.POST, "/v1/webhooks/gone/test").decode(WebhookDelivery.self)
                try await org.eventually("a delivery after enabling") { try await org.delivery(third.id).status == .delivered }

                // The cancelled one can be sent again.
                let retried = try await org.request(.POST, "/v1/deliveries/retry",
                                                    body: org.json(DeliveryRetryRequest(ids: [second.id])))
                #expect(retried.status == 200)
                #expect(try retried.decode(DeliveryRetryResult.self) == DeliveryRetryResult(retried: 1, ids: [second.id]))
                try await org.eventually("the retried delivery") { try await org.delivery(second.id).status == .delivered }
            }
        }
    }

    @Test func invalidRequestsGetErrorsNamingTheField() async throws {
        try await TestOrganizer.withAlerting { org in
            func post(_ path: String, _ json: String, token: String = TestOrganizer.admin) async throws -> TestOrganizer.Reply {
                try await org.request(.POST, path, token: token, body: Data(json.utf8))
            }
            let badURL = try await post("/v1/webhooks", #"{"name": "x", "url": "ftp://example.net/hook", "format": "native"}"#)
            #expect(badURL.status == 400)
            #expect(badURL.apiError?.message.hasPrefix("url:") == true)
            let badName = try await post("/v1/webhooks", #"{"name": "a b", "url": "http://127.0.0.1:9/x", "format": "native"}"#)
            #expect(badName.status == 400)
            #expect(badName.apiError?.message.hasPrefix("name:") == true)
            let badSecret = try await post("/v1/webhooks",
                                           #"{"name": "x", "url": "http://127.0.0.1:9/x", "format": "native", "secret": "whsec_!!"}"#)
            #expect(badSecret.status == 400)
            #expect(badSecret.apiError?.message.hasPrefix("secret:") == true)
            let badFormat = try await post("/v1/webhooks", #"{"name": "x", "url": "http://127.0.0.1:9/x", "format": "email"}"#)
            #expect(badFormat.status == 400)
            #expect(badFormat.apiError?.message.contains("format") == true)

            let given = "whsec_" + Data(repeating: 0x42, count: 32).base64EncodedString()
            let ok = try await post("/v1/webhooks",
                                    #"{"name": "x", "url": "https://hooks.example.net/x", "format": "slack", "secret": "\#(given)"}"#)
            #expect(ok.status == 201)
            #expect(try ok.decode(WebhookEndpointInfo.self).secret == given)
            let duplicate = try await post("/v1/webhooks", #"{"name": "x", "url": "http://127.0.0.1:9/y", "format": "native"}"#)
            #expect(duplicate.status == 409)
            #expect(duplicate.apiError?.error == "conflict")
            let listing = try await org.request(.GET, "/v1/webhooks", token: TestOrganizer.reader)
            #expect(listing.status == 200)
            #expect(try listing.decode([WebhookEndpointInfo].self).map(\.name) == ["x"])
            #expect(!listing.text.contains(given))
            let readerPost = try await post("/v1/webhooks", #"{"name": "y", "url": "http://127.0.0.1:9/y", "format": "native"}"#,
                                            token: TestOrganizer.reader)
            #expect(readerPost.status == 403)
            #expect(try await org.request(.GET, "/v1/webhooks/nope").status == 404)
            #expect(try await org.request(.DELETE, "/v1/webhooks/nope").status == 404)
            #expect(try await org.request(.DELETE, "/v1/webhooks/x").status == 204)
            #expect(try await org.request(.GET, "/v1/webhooks/x").status == 404)

            let noMatchers = try await post("/v1/silences", #"{"matchers": {}}"#)
            #expect(noMatchers.status == 400)
            #expect(noMatchers.apiError?.message.hasPrefix("matchers:") == true)
            let badRule = try await post("/v1/silences", #"{"matchers": {"rule": "mos_lo"}}"#)
            #expect(badRule.status == 400)
            #expect(badRule.apiError?.message.contains("rule") == true)
            let past = try await post("/v1/silences", #"{"matchers": {"agent": "a"}, "until": "2001-01-01T00:00:00Z"}"#)
            #expect(past.status == 400)
            #expect(past.apiError?.message.hasPrefix("until:") == true)
            #expect(try await org.request(.DELETE, "/v1/silences/si_nope").status == 404)

            let state = try await org.request(.GET, "/v1/alerts?state=burning")
            #expect(state.status == 400)
            #expect(state.apiError?.message.hasPrefix("state:") == true)
            #expect(try await org.request(.GET, "/v1/alerts?rule=nope").apiError?.message.hasPrefix("rule:") == true)
            #expect(try await org.request(.GET, "/v1/alerts?limit=0").apiError?.message.hasPrefix("limit:") == true)
            #expect(try await org.request(.GET, "/v1/alerts/al_nope").status == 404)
            #expect(try await org.request(.GET, "/v1/deliveries?status=lost").apiError?.message.hasPrefix("status:") == true)
            #expect(try await org.request(.GET, "/v1/deliveries/msg_nope").status == 404)
            let retryNothing = try await post("/v1/deliveries/retry", "{}")
            #expect(retryNothing.status == 400)
            #expect(retryNothing.apiError?.message.hasPrefix("ids or endpoint:") == true)
            #expect(try await post("/v1/deliveries/retry", #"{"endpoint": "nope"}"#).status == 404)

            let wrongSide = try await org.request(.PUT, "/v1/alert-rules/mos_low", body: Data(#"{"fire": 4.0, "clear": 3.5}"#.utf8))
            #expect(wrongSide.status == 400)
            #expect(wrongSide.apiError?.message.hasPrefix("mos_low.clear:") == true)
            let unknownRule = try await org.request(.PUT, "/v1/alert-rules/mos_high", body: Data("{}".utf8))
            #expect(unknownRule.status == 404)
            let readerPut = try await org.request(.PUT, "/v1/alert-rules/mos_low", token: TestOrganizer.reader,
                                                  body: Data(#"{"fire": 3.0}"#.utf8))
            #expect(readerPut.status == 403)
        }
    }

    @Test func rulePutChangesTheEngineAndSurvivesARestart() async throws {
        let dir = try ScratchDirectory(prefix: "alert-rules")
        let path = dir.path("earshot.sqlite")
        let yaml: (inout OrganizerConfiguration) -> Void = { $0.alerts.rules[.mosLow] = AlertRulePatch(fire: 3.5, clear: 3.7) }
        try await TestOrganizer.withAlerting(storage: try SQLiteStorage(path: path), yaml) { org in
            let rules = try await org.request(.GET, "/v1/alert-rules", token: TestOrganizer.reader).decode([AlertRule].self)
            #expect(rules.map(\.name) == AlertRuleName.allCases)
            #expect(rules.first { $0.name == .mosLow }?.fire == 3.5)

            let put = try await org.request(.PUT, "/v1/alert-rules/mos_low", body: Data(#"{"fire_after": 4}"#.utf8))
            #expect(put.status == 200)
            let changed = try put.decode(AlertRule.self)
            #expect(changed.fire == 3.5)
            #expect(changed.clear == 3.7)
            #expect(changed.fireAfter == 4)
            #expect(await org.alertService.engineRules[.mosLow] == changed)

            // A change that would make the rule invalid changes nothing.
            #expect(try await org.request(.PUT, "/v1/alert-rules/mos_low", body: Data(#"{"clear": 3.0}"#.utf8)).status == 400)
            #expect(await org.alertService.engineRules[.mosLow] == changed)

            // Changes add up: the earlier fire_after stays.
            let lower = try await org.request(.PUT, "/v1/alert-rules/mos_low", body: Data(#"{"fire": 3.0, "clear": 3.2}"#.utf8))
                .decode(AlertRule.self)
            #expect(lower.fire == 3.0)
            #expect(lower.fireAfter == 4)
            #expect(await org.alertService.engineRules[.mosLow] == lower)
        }
        try await TestOrganizer.withAlerting(storage: try SQLiteStorage(path: path), yaml) { org in
            let rule = try await org.request(.GET, "/v1/alert-rules").decode([AlertRule].self).first { $0.name == .mosLow }
            #expect(rule?.fire == 3.0)
            #expect(rule?.clear == 3.2)
            #expect(rule?.fireAfter == 4)
            #expect(await org.alertService.engineRules[.mosLow] == rule)

            let reset = try await org.request(.DELETE, "/v1/alert-rules/mos_low")
            #expect(reset.status == 200)
            let back = try reset.decode(AlertRule.self)
            #expect(back == AlertRule.defaultRule(.mosLow).applying(AlertRulePatch(fire: 3.5, clear: 3.7)))
            #expect(await org.alertService.engineRules[.mosLow] == back)
        }
    }

    @Test func silenceSuppressesDeliveryButStoresTheTransition() async throws {
        try await withReceiver { receiver in
            try await TestOrganizer.withAlerting { org in
                let endpoint = try await org.addWebhook(WebhookEndpointRequest(name: "ops", url: receiver.url))
                let created = try await org.request(.POST, "/v1/silences", body: org.json(SilenceRequest(
                    matchers: SilenceMatchers(agent: "bob"), duration: .minutes(10), comment: "bob's maintenance")))
                #expect(created.status == 201)
                let silence = try created.decode(Silence.self)
                #expect(silence.id.hasPrefix("si_"))
                #expect(silence.endsAt.timeIntervalSince(silence.createdAt) == 600)
                #expect(try await org.request(.GET, "/v1/silences").decode([Silence].self).map(\.id) == [silence.id])

                let (bob, _) = try await org.connectedAgent(name: "bob", site: "site-b")
                let (alice, _) = try await org.connectedAgent(name: "alice", site: "site-a")
                try await org.eventually("both agents' alerts, alice's delivered") {
                    let alerts = try await org.request(.GET, "/v1/alerts?rule=agent_offline").decode([AlertInfo].self)
                    let delivered = try await org.request(.GET, "/v1/deliveries?status=delivered").decode([WebhookDelivery].self)
                    return alerts.count == 2 && !delivered.isEmpty
                }
                let alerts = try await org.request(.GET, "/v1/alerts?rule=agent_offline").decode([AlertInfo].self)
                let bobs = try #require(alerts.first { $0.scope.agent == "bob" })
                let alices = try #require(alerts.first { $0.scope.agent == "alice" })
                #expect(bobs.silencedBy == silence.id)
                #expect(alices.silencedBy == nil)
                let detail = try await org.request(.GET, "/v1/alerts/\(bobs.id)").decode(AlertDetail.self)
                #expect(detail.transitions.map(\.to) == [.firing])
                #expect(detail.transitions.map(\.silenced) == [true])
                #expect(detail.deliveries.isEmpty)
                let delivered = try await org.request(.GET, "/v1/deliveries?endpoint=ops").decode([WebhookDelivery].self)
                #expect(delivered.map(\.alertID) == [alices.id])
                let sent = try receiver.received.map { try $0.json(NativeWebhookPayload.self).data.alert?.scope.agent }
                #expect(sent == ["alice"])
                #expect(endpoint.enabled)

                #expect(try await org.request(.DELETE, "/v1/silences/\(silence.id)").status == 204)
                #expect(try await org.request(.GET, "/v1/silences").decode([Silence].self).isEmpty)
                let all = try await org.request(.GET, "/v1/silences?all=true").decode([Silence].self)
                #expect(all.map(\.id) == [silence.id])
                #expect(all[0].endsAt <= Date())
                let after = try await org.request(.GET, "/v1/alerts/\(bobs.id)").decode(AlertDetail.self)
                #expect(after.alert.silencedBy == nil)
                bob.close()
                alice.close()
            }
        }
    }

    @Test func pendingDeliveriesAreSentAfterARestart() async throws {
        let dir = try ScratchDirectory(prefix: "outbox-restart")
        let path = dir.path("earshot.sqlite")
        // Retry-After 5: the second attempt cannot come before this organizer is stopped, even
        // on a loaded machine; the restarted one makes it.
        try await withReceiver([.status(503, ["Retry-After": "5"])]) { receiver in
            let id = try await TestOrganizer.withAlerting(storage: try SQLiteStorage(path: path)) { org in
                _ = try await org.addWebhook(WebhookEndpointRequest(name: "ops", url: receiver.url))
                let queued = try await org.request(.POST, "/v1/webhooks/ops/test").decode(WebhookDelivery.self)
                try await org.eventually("the first attempt") { try await org.delivery(queued.id).attemptCount == 1 }
                #expect(try await org.delivery(queued.id).status == .pending)
                return queued.id
            }
            try await TestOrganizer.withAlerting(storage: try SQLiteStorage(path: path)) { org in
                try await org.eventually("the delivery after the restart") { try await org.delivery(id).status == .delivered }
                #expect(receiver.received.map(\.id) == [id, id])
                #expect(receiver.received.map(\.answered) == [503, 200])
            }
        }
    }

    @Test func lowMOSRunFiresAPairAlert() async throws {
        try await withReceiver { receiver in
            try await TestOrganizer.withAlerting(heartbeat: 10, missed: 3, {
                $0.alerts.rules[.mosLow] = AlertRulePatch(fireAfter: 1)
            }) { org in
                _ = try await org.addWebhook(WebhookEndpointRequest(name: "ops", url: receiver.url, rules: [.mosLow]))
                let (alpha, a) = try await org.connectedAgent(name: "alpha", site: "hq", sipPort: 5061)
                let (beta, b) = try await org.connectedAgent(name: "beta", site: "branch", sipPort: 5062)
                _ = try await org.request(.PUT, "/v1/suites/pair", body: org.json(RunRoundTests.pairSuite("alpha", "beta")))
                let round = try await org.request(.POST, "/v1/suites/pair/run").decode(RoundInfo.self)
                let runID = try #require(round.runIDs.first)
                let calleeTask = try await RunRoundTests.nextAssignment(beta)
                let callerTask = try await RunRoundTests.nextAssignment(alpha)
                beta.send(.result(RunRoundTests.result(for: calleeTask, agentID: b.agentID, mos: 2.1)))
                alpha.send(.result(RunRoundTests.result(for: callerTask, agentID: a.agentID, mos: 2.2)))
                try await org.eventually("the mos_low delivery") { !receiver.received.isEmpty }
                let payload = try receiver.received[0].json(NativeWebhookPayload.self)
                #expect(payload.type == "alert.firing")
                let alert = try #require(payload.data.alert)
                #expect(alert.rule == .mosLow)
                #expect(alert.scope.kind == .pair)
                #expect(alert.scope.caller == "alpha")
                #expect(alert.scope.callee == "beta")
                #expect(alert.scope.callerSite == "hq")
                #expect(alert.scope.calleeSite == "branch")
                #expect(alert.measurement?.runID == runID)
                alpha.close()
                beta.close()
            }
        }
    }
}
