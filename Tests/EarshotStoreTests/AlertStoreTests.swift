import EarshotStore
import EarshotWire
import Foundation
import GRDB
import InteropTestSupport
import OrganizerCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

// MARK: - fixtures

let pairScope = AlertScope.pair("alice", "bob", callerSite: "hq", calleeSite: "branch")
let agentScope = AlertScope.agent("charlie", site: "branch")
let suiteScope = AlertScope.suite("mesh")

func alertTrack(_ id: String, _ rule: AlertRuleName = .mosLow, _ scope: AlertScope = pairScope, state: AlertState? = .firing,
                at date: Date = t0, severity: AlertSeverity = .warning) -> AlertTrack {
    AlertTrack(alertID: id, rule: rule, scope: scope, severity: severity, state: state, rawFiring: state == .firing,
               breaches: state == nil ? 1 : 2, clears: 0, flips: state == nil ? [] : [date.addingTimeInterval(-0.25)],
               startedAt: state == nil ? nil : date, updatedAt: date, resolvedAt: state == .resolved ? date : nil,
               measurement: state == nil ? nil : measurement(date), summary: state == nil ? "" : "\(rule.rawValue) \(scope.key)",
               transitions: state == nil ? 0 : 1)
}

func measurement(_ date: Date) -> AlertMeasurement {
    AlertMeasurement(metric: "mos_cq", value: 3.21, threshold: 3.6, unit: nil, direction: "bob→alice",
                     detail: "MOS-CQ 3.21 < 3.60 (bob→alice)", runID: "run-9", at: date)
}

func transition(_ id: String, _ track: AlertTrack, from: AlertState? = nil, to: AlertState = .firing, at date: Date,
                silenced: Bool = false) -> AlertTransitionInfo {
    AlertTransitionInfo(id: id, alertID: track.alertID, rule: track.rule, scope: track.scope, severity: track.severity,
                        from: from, to: to, at: date, summary: "\(to.rawValue) \(id)", measurement: measurement(date),
                        silenced: silenced)
}

func endpoint(_ id: String, _ name: String, format: WebhookFormat = .native, rules: [AlertRuleName]? = nil,
              minSeverity: AlertSeverity? = nil) -> WebhookEndpointRecord {
    WebhookEndpointRecord(
        info: WebhookEndpointInfo(id: id, name: name, url: "http://127.0.0.1:9/\(name)", format: format, rules: rules,
                                  minSeverity: minSeverity, createdAt: t0),
        secret: "whsec_secret-of-\(name)")
}

func newDelivery(_ id: String, _ endpointID: String, _ transition: AlertTransitionInfo? = nil, created: Date = t0,
                 due: Date? = nil) -> NewDelivery {
    let event = transition.map { "alert.\($0.to.rawValue)" } ?? "earshot.test"
    return NewDelivery(id: id, endpointID: endpointID, event: event, alertID: transition?.alertID,
                       transitionID: transition?.id,
                       payload: RenderedPayload(body: Array("{\"id\":\"\(id)\"}".utf8), contentType: "application/json",
                                                event: event),
                       createdAt: created, dueAt: due ?? created)
}

func attempt(_ number: Int, at date: Date, status: Int?, error: String? = nil, retryAfter: Double? = nil) -> DeliveryAttempt {
    DeliveryAttempt(number: number, at: date, statusCode: status, error: error, durationMs: 12.5, retryAfterS: retryAfter)
}

/// A store with endpoints wh_1/ops and wh_2/chat.
func storeWithEndpoints() async throws -> SQLiteStorage {
    let store = try await storeWithAgents()
    try await store.addWebhookEndpoint(endpoint("wh_1", "ops"))
    try await store.addWebhookEndpoint(endpoint("wh_2", "chat", format: .slack))
    return store
}

/// One firing alert al_1 (transition tr_1 at t0) with deliveries to wh_1 and wh_2.
func storeWithFiringAlert() async throws -> SQLiteStorage {
    let store = try await storeWithEndpoints()
    let track = alertTrack("al_1")
    let tr = transition("tr_1", track, at: t0)
    try await store.recordAlerts(AlertBatch(tracks: [track], transitions: [tr],
                                            deliveries: [newDelivery("msg_1", "wh_1", tr), newDelivery("msg_2", "wh_2", tr)]))
    return store
}

func storageError(_ body: () async throws -> Void) async -> StorageError? {
    do {
        try await body()
        return nil
    } catch let error as StorageError {
        return error
    } catch {
        return StorageError(.io, "unexpected \(error)")
    }
}

// MARK: - alerts

@Suite struct AlertStoreTests {
    @Test func tracksRoundTripExactly() async throws {
        let store = try await storeWithAgents()
        #expect(try await store.alertTracks() == [])
        let quiet = alertTrack("al_q", .lossHigh, pairScope, state: nil, at: at(1.125))
        let firing = alertTrack("al_f", .agentOffline, agentScope, state: .firing, at: at(2.0625))
        try await store.recordAlerts(AlertBatch(tracks: [quiet, firing]))
        // Ordered by rule then scope key.
        #expect(try await store.alertTracks() == [firing, quiet])

        // An update replaces the row (by alert id), not a second one.
        var later = firing
        later.state = .resolved
        later.rawFiring = false
        later.resolvedAt = at(30.5)
        later.updatedAt = at(30.5)
        later.transitions = 2
        try await store.recordAlerts(AlertBatch(tracks: [later]))
        #expect(try await store.alertTracks() == [later, quiet])
        #expect(try await store.alert("al_f")?.alert == later.info())
        // A track that never fired is no alert.
        #expect(try await store.alert("al_q") == nil)
        #expect(try await store.alerts(AlertQuery(states: AlertState.allCases)).map(\.id) == ["al_f"])
    }

    @Test func removedKeysAreNotRestoredButFiredAlertsStayVisible() async throws {
        let store = try await storeWithAgents()
        let quiet = alertTrack("al_q", .lossHigh, pairScope, state: nil)
        let resolved = alertTrack("al_r", .agentOffline, agentScope, state: .resolved, at: at(5))
        try await store.recordAlerts(AlertBatch(tracks: [quiet, resolved], transitions: [transition("tr_r", resolved, at: at(1))]))
        try await store.recordAlerts(AlertBatch(removed: [quiet.key, resolved.key]))
        #expect(try await store.alertTracks() == [])
        let all = try await store.alerts(AlertQuery(states: AlertState.allCases))
        #expect(all.map(\.id) == ["al_r"])
        #expect(all.first?.state == .resolved)
        #expect(try await store.alert("al_r")?.transitions.map(\.id) == ["tr_r"])

        // The key fires again under a new alert id: that one is the engine's; the old history stays.
        let again = alertTrack("al_r2", .agentOffline, agentScope, state: .firing, at: at(60))
        try await store.recordAlerts(AlertBatch(tracks: [again]))
        #expect(try await store.alertTracks() == [again])
        #expect(try await store.alerts(AlertQuery(states: AlertState.allCases)).map(\.id) == ["al_r2", "al_r"])
        // The old key's row is retired too when a newer id of the same key is stored while it is active.
        let third = alertTrack("al_r3", .agentOffline, agentScope, state: .firing, at: at(90))
        try await store.recordAlerts(AlertBatch(tracks: [third]))
        #expect(try await store.alertTracks() == [third])
    }

    @Test func aBatchWithAnUnknownEndpointWritesNothing() async throws {
        let store = try await storeWithEndpoints()
        let track = alertTrack("al_1")
        let tr = transition("tr_1", track, at: t0)
        let error = await storageError {
            try await store.recordAlerts(AlertBatch(tracks: [track], transitions: [tr],
                                                    deliveries: [newDelivery("msg_1", "wh_1", tr), newDelivery("msg_2", "wh_nope", tr)]))
        }
        #expect(error?.kind == .notFound)
        #expect(error?.message.contains("wh_nope") == true)
        #expect(try await store.alertTracks() == [])
        #expect(try await store.alert("al_1") == nil)
        #expect(try await store.deliveries(DeliveryQuery()) == [])
        #expect(try await store.integrityCheck() == "ok")
    }

    @Test func aBatchWithADuplicateDeliveryIDWritesNothing() async throws {
        let store = try await storeWithFiringAlert()
        var track = alertTrack("al_1", state: .resolved, at: at(60))
        track.transitions = 2
        let tr = transition("tr_2", track, from: .firing, to: .resolved, at: at(60))
        // msg_1 exists already (the firing's delivery).
        let error = await storageError {
            try await store.recordAlerts(AlertBatch(tracks: [track], transitions: [tr],
                                                    deliveries: [newDelivery("msg_3", "wh_2", tr), newDelivery("msg_1", "wh_1", tr)]))
        }
        #expect(error?.kind == .conflict)
        let detail = try #require(try await store.alert("al_1"))
        #expect(detail.alert.state == .firing)
        #expect(detail.transitions.map(\.id) == ["tr_1"])
        #expect(Set(detail.deliveries.map(\.id)) == ["msg_1", "msg_2"])
        #expect(try await store.alertTracks() == [alertTrack("al_1")])

        // Twice the same id within one batch fails the same way.
        let twice = await storageError {
            try await store.recordAlerts(AlertBatch(tracks: [track], transitions: [tr],
                                                    deliveries: [newDelivery("msg_3", "wh_1", tr), newDelivery("msg_3", "wh_2", tr)]))
        }
        #expect(twice?.kind == .conflict)
        #expect(try await store.alert("al_1")?.transitions.count == 1)
        #expect(try await store.deliveries(DeliveryQuery()).count == 2)
    }

    @Test func aTransitionOfAnUnknownAlertIsInvalid() async throws {
        let store = try await storeWithEndpoints()
        let track = alertTrack("al_1")
        let error = await storageError {
            try await store.recordAlerts(AlertBatch(transitions: [transition("tr_1", track, at: t0)]))
        }
        #expect(error?.kind == .invalid)
        #expect(try await store.alert("al_1") == nil)
    }

    @Test func queriesFilterByStateRuleAndScope() async throws {
        let store = try await storeWithAgents()
        let pair = alertTrack("al_pair", .mosLow, pairScope, state: .firing, at: at(10))
        let agent = alertTrack("al_agent", .agentOffline, agentScope, state: .flapping, at: at(20))
        let suite = alertTrack("al_suite", .coverageStale, suiteScope, state: .resolved, at: at(30))
        let site = alertTrack("al_site", .siteDown, .site("branch"), state: .firing, at: at(5))
        let quiet = alertTrack("al_quiet", .lossHigh, pairScope, state: nil, at: at(40))
        try await store.recordAlerts(AlertBatch(tracks: [pair, agent, suite, site, quiet]))
        func ids(_ q: AlertQuery) async throws -> [String] { try await store.alerts(q).map(\.id) }

        // Default: firing and flapping, latest change first.
        #expect(try await ids(AlertQuery()) == ["al_agent", "al_pair", "al_site"])
        #expect(try await ids(AlertQuery(states: [.resolved])) == ["al_suite"])
        #expect(try await ids(AlertQuery(states: AlertState.allCases)) == ["al_suite", "al_agent", "al_pair", "al_site"])
        #expect(try await ids(AlertQuery(states: [])) == [])
        #expect(try await ids(AlertQuery(rule: .mosLow)) == ["al_pair"])
        #expect(try await ids(AlertQuery(rule: .coverageStale)) == [])
        // Scope: an agent at either end, a site of any end, the suite, or the key itself.
        #expect(try await ids(AlertQuery(scope: "alice")) == ["al_pair"])
        #expect(try await ids(AlertQuery(scope: "bob")) == ["al_pair"])
        #expect(try await ids(AlertQuery(scope: "branch")) == ["al_agent", "al_pair", "al_site"])
        #expect(try await ids(AlertQuery(scope: "hq")) == ["al_pair"])
        #expect(try await ids(AlertQuery(scope: "charlie")) == ["al_agent"])
        #expect(try await ids(AlertQuery(states: AlertState.allCases, scope: "mesh")) == ["al_suite"])
        #expect(try await ids(AlertQuery(scope: "pair=alice>bob")) == ["al_pair"])
        #expect(try await ids(AlertQuery(scope: "nobody")) == [])
        #expect(try await ids(AlertQuery(states: AlertState.allCases, limit: 2)) == ["al_suite", "al_agent"])
        let info = try #require(try await store.alerts(AlertQuery(rule: .mosLow)).first)
        #expect(info == pair.info())
        #expect(info.silencedBy == nil)
    }

    @Test func detailHasTransitionsAndDeliveriesNewestFirst() async throws {
        let store = try await storeWithFiringAlert()
        var track = alertTrack("al_1", state: .resolved, at: at(60))
        track.transitions = 2
        let resolved = transition("tr_2", track, from: .firing, to: .resolved, at: at(60))
        try await store.recordAlerts(AlertBatch(tracks: [track], transitions: [resolved],
                                                deliveries: [newDelivery("msg_3", "wh_1", resolved, created: at(60))]))
        try await store.recordAttempt(deliveryID: "msg_1", attempt: attempt(1, at: at(1), status: 200),
                                      outcome: .delivered)
        let detail = try #require(try await store.alert("al_1"))
        #expect(detail.alert == track.info())
        #expect(detail.transitions == [resolved, transition("tr_1", alertTrack("al_1"), at: t0)])
        #expect(detail.deliveries.map(\.id) == ["msg_3", "msg_2", "msg_1"])
        let first = try #require(detail.deliveries.last)
        #expect(first.endpointName == "ops")
        #expect(first.transitionID == "tr_1")
        #expect(first.alertID == "al_1")
        #expect(first.event == "alert.firing")
        #expect(first.attempts == [attempt(1, at: at(1), status: 200)])
        #expect(try await store.alert("al_unknown") == nil)
        #expect(try await store.deliveries(DeliveryQuery(alertID: "al_1", limit: 2)).map(\.id) == ["msg_3", "msg_2"])
    }

    @Test func silencesActiveAllAndExpired() async throws {
        let store = try await storeWithAgents()
        let first = Silence(id: "si_1", matchers: SilenceMatchers(rule: .mosLow, site: "branch"), comment: "maintenance",
                            createdAt: t0, endsAt: at(3600))
        let second = Silence(id: "si_2", matchers: SilenceMatchers(pair: "alice>bob"), comment: nil, createdAt: at(10),
                             endsAt: at(20))
        try await store.addSilence(first)
        try await store.addSilence(second)
        #expect(try await store.silences(activeAt: at(15)) == [second, first])
        #expect(try await store.silences(activeAt: at(20)) == [first])
        #expect(try await store.silences(activeAt: at(5)) == [first])
        #expect(try await store.silences(activeAt: nil) == [second, first])
        #expect(await storageError { try await store.addSilence(first) }?.kind == .conflict)

        #expect(try await store.expireSilence(id: "si_1", at: at(100)))
        #expect(try await store.silences(activeAt: at(100)) == [])
        #expect(try await store.silences(activeAt: at(99)).map(\.id) == ["si_1"])
        var expired = first
        expired.endsAt = at(100)
        #expect(try await store.silences(activeAt: nil) == [second, expired])
        // Expiring later does not extend it.
        #expect(try await store.expireSilence(id: "si_2", at: at(500)))
        #expect(try await store.silences(activeAt: nil).first?.endsAt == at(20))
        #expect(try await store.expireSilence(id: "si_nope", at: at(100)) == false)
    }

    @Test func rulePatchesSetReplaceRemoveAndSurviveReopening() async throws {
        let dir = try ScratchDirectory(prefix: "store-alerts")
        let path = dir.path("earshot.sqlite")
        let mos = AlertRulePatch(fire: 3.4, clear: 3.7, fireAfter: 3)
        let loss = AlertRulePatch(enabled: false, flapWindow: .minutes(10), suites: ["mesh"])
        do {
            let store = try SQLiteStorage(path: path)
            #expect(try await store.alertRulePatches() == [:])
            try await store.setAlertRulePatch(.mosLow, AlertRulePatch(fire: 3.0), at: t0)
            try await store.setAlertRulePatch(.mosLow, mos, at: at(1))
            try await store.setAlertRulePatch(.lossHigh, loss, at: at(2))
            try await store.setAlertRulePatch(.siteDown, AlertRulePatch(minAgents: 3), at: at(3))
            try await store.setAlertRulePatch(.siteDown, nil, at: at(4))
            try await store.setAlertRulePatch(.rttHigh, nil, at: at(5))
        }
        let reopened = try SQLiteStorage(path: path)
        #expect(try await reopened.alertRulePatches() == [.mosLow: mos, .lossHigh: loss])
    }

    @Test func lastSucceededCountsOnlyPassedAndDegraded() async throws {
        let store = try await storeWithAgents()
        try await finishedRun(store, "r1", caller: "a1", callee: "a2", status: .passed, endedAt: at(100), forward: 4.2, backward: 4.2)
        try await finishedRun(store, "r2", caller: "a1", callee: "a2", status: .failed, endedAt: at(200), forward: 2.0, backward: 2.0)
        try await finishedRun(store, "r3", caller: "a2", callee: "a1", status: .degraded, endedAt: at(300), forward: 3.5, backward: 3.5)
        try await finishedRun(store, "r4", caller: "a2", callee: "a1", status: .passed, endedAt: at(250), forward: 4.2, backward: 4.2)
        try await finishedRun(store, "r5", caller: "a1", callee: "a3", status: .failed, endedAt: at(400), forward: 2.0, backward: 2.0)
        try await finishedRun(store, "r6", suite: "other", caller: "a1", callee: "a3", status: .passed, endedAt: at(500),
                              forward: 4.2, backward: 4.2)
        try await store.createRuns([singleRun("reg", suite: "mesh", agent: "a3", start: at(600))])
        try await store.finishRun(RunCompletion(runID: "reg", status: .passed, cause: nil, endedAt: at(610)))
        try await store.createRuns([singleRun("reg2", suite: "mesh", agent: "a3", start: at(700))])
        try await store.finishRun(RunCompletion(runID: "reg2", status: .notRun, cause: RunCause(code: "agent_offline"),
                                                endedAt: at(710)))
        let last = try await store.lastSucceeded(suite: "mesh")
        #expect(last == [UnitKey(caller: "a1", callee: "a2"): at(100), UnitKey(caller: "a2", callee: "a1"): at(300),
                         UnitKey(caller: "a3", callee: nil): at(610)])
        // lastTested counts the failure; lastSucceeded does not.
        #expect(try await store.lastTested(suite: "mesh")[UnitKey(caller: "a1", callee: "a2")] == at(200))
        #expect(try await store.lastSucceeded(suite: "none") == [:])
    }

    @Test func pruneDropsFinishedDeliveriesAndResolvedHistoryOnly() async throws {
        let store = try await storeWithEndpoints()
        let day = 86400.0
        // al_old resolved long ago; al_fire firing since long ago; both with old transitions.
        var old = alertTrack("al_old", .mosLow, pairScope, state: .resolved, at: at(100))
        old.transitions = 2
        let oldFire = transition("tr_o1", old, at: at(10))
        let oldResolve = transition("tr_o2", old, from: .firing, to: .resolved, at: at(100))
        let firing = alertTrack("al_fire", .agentOffline, agentScope, state: .firing, at: at(20))
        let fireTr = transition("tr_f1", firing, at: at(20))
        try await store.recordAlerts(AlertBatch(
            tracks: [old, firing], transitions: [oldFire, oldResolve, fireTr],
            deliveries: [newDelivery("msg_o1", "wh_1", oldFire, created: at(10)),
                         newDelivery("msg_o2", "wh_1", oldResolve, created: at(100)),
                         newDelivery("msg_f1", "wh_1", fireTr, created: at(20)),
                         newDelivery("msg_f2", "wh_2", fireTr, created: at(20))]))
        try await store.enqueueDeliveries([newDelivery("msg_new", "wh_1", created: at(2 * day))])
        try await store.recordAttempt(deliveryID: "msg_o1", attempt: attempt(1, at: at(11), status: 200), outcome: .delivered)
        try await store.recordAttempt(deliveryID: "msg_o2", attempt: attempt(1, at: at(101), status: 500),
                                      outcome: .dead(reason: "horizon"))
        try await store.recordAttempt(deliveryID: "msg_f1", attempt: attempt(1, at: at(21), status: 200), outcome: .delivered)
        try await store.recordAttempt(deliveryID: "msg_new", attempt: attempt(1, at: at(2 * day + 1), status: 200),
                                      outcome: .delivered)
        // msg_f2 stays pending (its receiver is down).

        _ = try await store.prune(rawBefore: at(day))
        #expect(try await store.deliveries(DeliveryQuery()).map(\.id).sorted() == ["msg_f2", "msg_new"])
        #expect(try await store.delivery("msg_o1") == nil)
        // The resolved alert's history went; the row stays for the engine.
        #expect(try await store.alert("al_old")?.transitions == [])
        #expect(try await store.alertTracks().map(\.alertID).sorted() == ["al_fire", "al_old"])
        // The firing alert keeps its history (and its pending delivery).
        #expect(try await store.alert("al_fire")?.transitions.map(\.id) == ["tr_f1"])
        #expect(try await store.alert("al_fire")?.deliveries.map(\.id) == ["msg_f2"])
        #expect(try await store.integrityCheck() == "ok")
    }

    /// A file written by a build with only `v1` gains the `v2` tables and keeps its data.
    @Test func aVersion1FileIsMigrated() async throws {
        let dir = try ScratchDirectory(prefix: "store-alerts")
        let path = dir.path("earshot.sqlite")
        do {
            let store = try SQLiteStorage(path: path)
            _ = try await store.createAgent(newAgent("a1", "alpha"))
        }
        let v2Tables = ["alert_rule_patches", "alert_transitions", "alerts", "delivery_attempts", "silences",
                        "webhook_deliveries", "webhook_endpoints"]
        do {
            // Back to what a v1 build left.
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                for table in ["delivery_attempts", "webhook_deliveries", "alert_transitions", "alerts", "alert_rule_patches",
                              "silences", "webhook_endpoints"] {
                    try db.execute(sql: "DROP TABLE \(table)")
                }
                try db.execute(sql: "ALTER TABLE runs DROP COLUMN conference")
                try db.execute(sql: "ALTER TABLE runs DROP COLUMN conference_plan")
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier IN ('v2', 'v3')")
            }
            try queue.close()
        }
        let store = try SQLiteStorage(path: path)
        #expect(try await store.agents().map(\.name) == ["alpha"])
        try await store.addWebhookEndpoint(endpoint("wh_1", "ops"))
        #expect(try await store.webhookEndpoints().map(\.info.name) == ["ops"])
        let queue = try DatabaseQueue(path: path)
        let (tables, migrations) = try await queue.read { db in
            (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
             try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier"))
        }
        #expect(Set(v2Tables).isSubset(of: Set(tables)))
        #expect(migrations == ["v1", "v2", "v3"])
    }
}

// MARK: - webhooks

@Suite struct WebhookStoreTests {
    @Test func endpointsNamesSecretsAndCounts() async throws {
        let store = try await storeWithFiringAlert()
        try await store.addWebhookEndpoint(endpoint("wh_3", "teams", format: .teams, rules: [.mosLow, .siteDown],
                                                    minSeverity: .critical))
        let conflict = await storageError { try await store.addWebhookEndpoint(endpoint("wh_9", "ops")) }
        #expect(conflict?.kind == .conflict)
        #expect(conflict?.message.contains("ops") == true)
        #expect(await storageError { try await store.addWebhookEndpoint(endpoint("wh_1", "other")) }?.kind == .conflict)

        try await store.recordAttempt(deliveryID: "msg_1", attempt: attempt(1, at: at(1), status: 204), outcome: .delivered)
        let all = try await store.webhookEndpoints()
        #expect(all.map(\.info.name) == ["chat", "ops", "teams"])
        // Secrets only in the record, never in the info.
        #expect(all.map(\.secret) == ["whsec_secret-of-chat", "whsec_secret-of-ops", "whsec_secret-of-teams"])
        #expect(all.allSatisfy { $0.info.secret == nil })
        #expect(all[1].info.deliveries == ["pending": 0, "delivered": 1, "dead": 0, "cancelled": 0])
        #expect(all[0].info.deliveries == ["pending": 1, "delivered": 0, "dead": 0, "cancelled": 0])
        var expected = endpoint("wh_3", "teams", format: .teams, rules: [.mosLow, .siteDown], minSeverity: .critical)
        expected.info.deliveries = ["pending": 0, "delivered": 0, "dead": 0, "cancelled": 0]
        #expect(all[2] == expected)
        #expect(try await store.webhookEndpoint("wh_3") == expected)
        #expect(try await store.webhookEndpoint("teams") == expected)
        #expect(try await store.webhookEndpoint("nope") == nil)
    }

    @Test func deletingCancelsPendingAndFreesTheName() async throws {
        let store = try await storeWithFiringAlert()
        #expect(try await store.deleteWebhookEndpoint(id: "wh_1", at: at(5)))
        #expect(try await store.deleteWebhookEndpoint(id: "wh_1", at: at(6)) == false)
        #expect(try await store.deleteWebhookEndpoint(id: "wh_nope", at: at(6)) == false)
        #expect(try await store.webhookEndpoint("ops") == nil)
        #expect(try await store.webhookEndpoints().map(\.info.name) == ["chat"])
        let cancelled = try #require(try await store.delivery("msg_1"))
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.nextAttemptAt == nil)
        #expect(cancelled.lastError == "the endpoint was deleted")
        #expect(cancelled.endpointName == "ops")
        #expect(try await store.delivery("msg_2")?.status == .pending)
        #expect(try await store.dueDeliveries(now: at(10), limit: 10).map(\.id) == ["msg_2"])
        // Its deliveries are not sent again, even when asked.
        #expect(try await store.retryDeliveries(DeliveryRetryRequest(ids: ["msg_1"]), at: at(10)) == [])
        // The name can be used again; history by name includes the old endpoint's.
        try await store.addWebhookEndpoint(endpoint("wh_1b", "ops"))
        #expect(try await store.webhookEndpoint("ops")?.info.id == "wh_1b")
        #expect(try await store.deliveries(DeliveryQuery(endpoint: "ops")).map(\.id) == ["msg_1"])
        #expect(try await store.deliveries(DeliveryQuery(endpoint: "wh_1b")) == [])
    }

    @Test func dueDeliveriesArePendingDueOfEnabledEndpointsOldestFirst() async throws {
        let store = try await storeWithEndpoints()
        try await store.addWebhookEndpoint(endpoint("wh_3", "off"))
        try await store.enqueueDeliveries([
            newDelivery("msg_a", "wh_1", created: at(10), due: at(10)),
            newDelivery("msg_b", "wh_2", created: at(5), due: at(20)),
            newDelivery("msg_c", "wh_1", created: at(1), due: at(1)),
            newDelivery("msg_d", "wh_1", created: at(2), due: at(100)),
            newDelivery("msg_e", "wh_3", created: at(0), due: at(0)),
            newDelivery("msg_f", "wh_2", created: at(3), due: at(3)),
        ])
        try await store.recordAttempt(deliveryID: "msg_f", attempt: attempt(1, at: at(3), status: 200), outcome: .delivered)
        _ = try await store.setWebhookEndpointEnabled(id: "wh_3", enabled: false, reason: "paused", at: at(0))
        try await store.enqueueDeliveries([newDelivery("msg_g", "wh_3", created: at(1), due: at(1))])

        let due = try await store.dueDeliveries(now: at(20), limit: 10)
        #expect(due.map(\.id) == ["msg_c", "msg_a", "msg_b"])
        #expect(try await store.dueDeliveries(now: at(20), limit: 2).map(\.id) == ["msg_c", "msg_a"])
        #expect(try await store.dueDeliveries(now: at(0.5), limit: 10) == [])
        let b = try #require(due.last)
        #expect(b == DueDelivery(id: "msg_b", endpointID: "wh_2", url: "http://127.0.0.1:9/chat", format: .slack,
                                 secret: "whsec_secret-of-chat",
                                 payload: RenderedPayload(body: Array("{\"id\":\"msg_b\"}".utf8), event: "earshot.test"),
                                 createdAt: at(5), attempts: 0))
        #expect(try await store.nextDeliveryDue() == at(1))
        // An unknown endpoint or a duplicate id is refused and nothing of the call is kept.
        let unknown = await storageError {
            try await store.enqueueDeliveries([newDelivery("msg_x", "wh_1"), newDelivery("msg_y", "wh_nope")])
        }
        #expect(unknown?.kind == .notFound)
        #expect(try await store.delivery("msg_x") == nil)
        #expect(await storageError { try await store.enqueueDeliveries([newDelivery("msg_a", "wh_1")]) }?.kind == .conflict)
    }

    @Test func attemptsAndTheirOutcomes() async throws {
        let store = try await storeWithEndpoints()
        try await store.enqueueDeliveries([
            newDelivery("msg_r", "wh_1", created: at(0)),
            newDelivery("msg_d", "wh_1", created: at(1)),
            newDelivery("msg_x", "wh_1", created: at(2)),
            newDelivery("msg_g", "wh_2", created: at(3)),
            newDelivery("msg_g2", "wh_2", created: at(4)),
            newDelivery("msg_g3", "wh_2", created: at(5)),
        ])
        // Retry: pending, due later, the attempt kept.
        try await store.recordAttempt(deliveryID: "msg_r", attempt: attempt(1, at: at(10), status: 503, retryAfter: 30),
                                      outcome: .retry(at: at(40)))
        var r = try #require(try await store.delivery("msg_r"))
        #expect(r.status == .pending)
        #expect(r.nextAttemptAt == at(40))
        #expect(r.attemptCount == 1)
        #expect(r.lastStatusCode == 503)
        #expect(try await store.dueDeliveries(now: at(39), limit: 10).map(\.id).contains("msg_r") == false)
        #expect(try await store.dueDeliveries(now: at(40), limit: 10).first { $0.id == "msg_r" }?.attempts == 1)
        try await store.recordAttempt(deliveryID: "msg_r", attempt: attempt(2, at: at(40), status: nil, error: "connection refused"),
                                      outcome: .retry(at: at(80)))
        try await store.recordAttempt(deliveryID: "msg_r", attempt: attempt(3, at: at(80), status: 200), outcome: .delivered)
        r = try #require(try await store.delivery("msg_r"))
        #expect(r.status == .delivered)
        #expect(r.deliveredAt == at(80))
        #expect(r.nextAttemptAt == nil)
        #expect(r.attemptCount == 3)
        #expect(r.lastStatusCode == 200)
        #expect(r.lastError == nil)
        #expect(r.attempts == [attempt(1, at: at(10), status: 503, retryAfter: 30),
                               attempt(2, at: at(40), status: nil, error: "connection refused"),
                               attempt(3, at: at(80), status: 200)])
        // Lists carry no attempts.
        #expect(try await store.deliveries(DeliveryQuery(status: .delivered)).map(\.attempts) == [[]])

        // Dead: the reason kept.
        try await store.recordAttempt(deliveryID: "msg_d", attempt: attempt(1, at: at(20), status: 500),
                                      outcome: .dead(reason: "gave up after 24h"))
        let d = try #require(try await store.delivery("msg_d"))
        #expect(d.status == .dead)
        #expect(d.nextAttemptAt == nil)
        #expect(d.lastError == "gave up after 24h")
        #expect(d.lastStatusCode == 500)

        // 410: the endpoint is disabled, this and its other pending deliveries cancelled.
        try await store.recordAttempt(deliveryID: "msg_g", attempt: attempt(1, at: at(30), status: 410),
                                      outcome: .disableEndpoint(reason: "410 Gone from the receiver"))
        let chat = try #require(try await store.webhookEndpoint("chat"))
        #expect(chat.info.enabled == false)
        #expect(chat.info.disabledReason == "410 Gone from the receiver")
        #expect(chat.info.deliveries == ["pending": 0, "delivered": 0, "dead": 0, "cancelled": 3])
        for id in ["msg_g", "msg_g2", "msg_g3"] {
            let g = try #require(try await store.delivery(id))
            #expect(g.status == .cancelled)
            #expect(g.lastError == "410 Gone from the receiver")
        }
        #expect(try await store.delivery("msg_g")?.attempts.map(\.statusCode) == [410])
        // The other endpoint's pending delivery is untouched.
        #expect(try await store.delivery("msg_x")?.status == .pending)
        #expect(try await store.nextDeliveryDue() == at(2))

        // An attempt that comes back after its delivery was cancelled is kept but does not revive it.
        try await store.recordAttempt(deliveryID: "msg_g2", attempt: attempt(1, at: at(31), status: 503), outcome: .retry(at: at(60)))
        #expect(try await store.delivery("msg_g2")?.status == .cancelled)
        #expect(try await store.delivery("msg_g2")?.attemptCount == 1)

        let unknown = await storageError {
            try await store.recordAttempt(deliveryID: "msg_nope", attempt: attempt(1, at: at(1), status: 200), outcome: .delivered)
        }
        #expect(unknown?.kind == .notFound)
    }

    @Test func enablingAndDisablingByHand() async throws {
        let store = try await storeWithFiringAlert()
        let off = try await store.setWebhookEndpointEnabled(id: "ops", enabled: false, reason: nil, at: at(1))
        #expect(off.info.enabled == false)
        #expect(off.info.disabledReason == "disabled")
        #expect(off.info.deliveries["cancelled"] == 1)
        #expect(try await store.delivery("msg_1")?.lastError == "disabled")
        #expect(try await store.dueDeliveries(now: at(1), limit: 10).map(\.id) == ["msg_2"])
        let on = try await store.setWebhookEndpointEnabled(id: "wh_1", enabled: true, reason: nil, at: at(2))
        #expect(on.info.enabled)
        #expect(on.info.disabledReason == nil)
        // Cancelled stays cancelled until retried.
        #expect(try await store.delivery("msg_1")?.status == .cancelled)
        let missing = await storageError {
            _ = try await store.setWebhookEndpointEnabled(id: "wh_nope", enabled: true, reason: nil, at: at(2))
        }
        #expect(missing?.kind == .notFound)
    }

    @Test func retryingByIDsAndByEndpoint() async throws {
        let store = try await storeWithEndpoints()
        try await store.enqueueDeliveries([
            newDelivery("msg_1", "wh_1", created: at(1)),
            newDelivery("msg_2", "wh_1", created: at(2)),
            newDelivery("msg_3", "wh_1", created: at(3)),
            newDelivery("msg_4", "wh_2", created: at(4)),
            newDelivery("msg_5", "wh_1", created: at(5)),
        ])
        for id in ["msg_1", "msg_2", "msg_4"] {
            try await store.recordAttempt(deliveryID: id, attempt: attempt(1, at: at(10), status: 500), outcome: .dead(reason: "horizon"))
        }
        try await store.recordAttempt(deliveryID: "msg_5", attempt: attempt(1, at: at(10), status: 200), outcome: .delivered)
        // By endpoint: dead ones by default.
        #expect(try await store.retryDeliveries(DeliveryRetryRequest(endpoint: "ops"), at: at(100)) == ["msg_1", "msg_2"])
        let one = try #require(try await store.delivery("msg_1"))
        #expect(one.status == .pending)
        #expect(one.nextAttemptAt == at(100))
        #expect(one.attemptCount == 1)
        #expect(try await store.delivery("msg_4")?.status == .dead)
        let due = try await store.dueDeliveries(now: at(100), limit: 10)
        #expect(due.map(\.id) == ["msg_3", "msg_1", "msg_2"])
        // The horizon of a retried dead letter counts from the retry; the untouched one from its creation.
        #expect(due.map(\.createdAt) == [at(3), at(100), at(100)])
        #expect(one.createdAt == at(1))

        // By ids, whatever their status (a delivered one is sent again).
        #expect(try await store.retryDeliveries(DeliveryRetryRequest(ids: ["msg_4", "msg_5", "msg_nope"]), at: at(200))
            == ["msg_4", "msg_5"])
        let five = try #require(try await store.delivery("msg_5"))
        #expect(five.status == .pending)
        #expect(five.deliveredAt == nil)
        #expect(five.nextAttemptAt == at(200))

        // By endpoint and statuses.
        _ = try await store.setWebhookEndpointEnabled(id: "wh_2", enabled: false, reason: "410", at: at(300))
        #expect(try await store.delivery("msg_4")?.status == .cancelled)
        _ = try await store.setWebhookEndpointEnabled(id: "wh_2", enabled: true, reason: nil, at: at(301))
        #expect(try await store.retryDeliveries(DeliveryRetryRequest(endpoint: "chat"), at: at(302)) == [])
        #expect(try await store.retryDeliveries(DeliveryRetryRequest(endpoint: "wh_2", statuses: [.cancelled]), at: at(302))
            == ["msg_4"])
        #expect(try await store.delivery("msg_4")?.nextAttemptAt == at(302))
        // Every dead one, any endpoint: none left.
        #expect(try await store.retryDeliveries(DeliveryRetryRequest(), at: at(400)) == [])
        #expect(await storageError {
            _ = try await store.retryDeliveries(DeliveryRetryRequest(endpoint: "nope"), at: at(400))
        }?.kind == .notFound)
    }

    @Test func deliveryQueriesFilter() async throws {
        let store = try await storeWithFiringAlert()
        try await store.enqueueDeliveries([newDelivery("msg_t", "wh_2", created: at(5))])
        try await store.recordAttempt(deliveryID: "msg_2", attempt: attempt(1, at: at(1), status: 200), outcome: .delivered)
        func ids(_ q: DeliveryQuery) async throws -> [String] { try await store.deliveries(q).map(\.id) }
        #expect(try await ids(DeliveryQuery()) == ["msg_t", "msg_2", "msg_1"])
        #expect(try await ids(DeliveryQuery(endpoint: "chat")) == ["msg_t", "msg_2"])
        #expect(try await ids(DeliveryQuery(endpoint: "wh_2", status: .pending)) == ["msg_t"])
        #expect(try await ids(DeliveryQuery(status: .delivered)) == ["msg_2"])
        #expect(try await ids(DeliveryQuery(alertID: "al_1")) == ["msg_2", "msg_1"])
        #expect(try await ids(DeliveryQuery(limit: 1)) == ["msg_t"])
        #expect(try await ids(DeliveryQuery(endpoint: "nope")) == [])
        let test = try #require(try await store.delivery("msg_t"))
        #expect(test == WebhookDelivery(id: "msg_t", endpointID: "wh_2", endpointName: "chat", event: "earshot.test",
                                        status: .pending, createdAt: at(5), nextAttemptAt: at(5)))
    }
}

// MARK: - durability

/// The environment variable that turns the test process into the alert crash test's child.
private let alertCrashChildVariable = "EARSHOT_STORE_ALERT_CRASH_CHILD_DB"

@Suite struct AlertDurabilityTests {
    /// kill -9 of a process recording alert batches: every batch it reported committed is
    /// whole (track, transition, both deliveries) and the file is clean.
    @Test func committedAlertBatchesSurviveKill9() async throws {
        let dir = try ScratchDirectory(prefix: "store-alert-crash")
        let path = dir.path("earshot.sqlite")
        do {
            let store = try SQLiteStorage(path: path)
            try await store.addWebhookEndpoint(endpoint("wh_1", "ops"))
            try await store.addWebhookEndpoint(endpoint("wh_2", "chat"))
        }
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        setenv(alertCrashChildVariable, path, 1)
        let child = try SpawnedProcess(
            executable, ["--testing-library", "swift-testing", "--filter", "alertCrashChildRecordsUntilKilled"],
            outputPath: dir.path("child.out"), errorPath: dir.path("child.err"))
        unsetenv(alertCrashChildVariable)
        func committed() -> [Int] {
            child.output.split(separator: "\n").compactMap { $0.hasPrefix("committed ") ? Int($0.dropFirst(10)) : nil }
        }
        var waited = 0
        while committed().count < 200, !child.hasExited, waited < 1200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        try #require(!child.hasExited, "the child exited early: \(child.output.suffix(2000)) \(child.errors.suffix(2000))")
        child.signal(SIGKILL)
        #expect(child.wait(seconds: 10))
        let batches = committed()
        try #require(batches.count >= 200, "the child committed only \(batches.count) batches")

        let store = try SQLiteStorage(path: path)
        #expect(try await store.integrityCheck() == "ok")
        let tracks = Set(try await store.alertTracks().map(\.alertID))
        for batch in batches {
            let detail = try #require(try await store.alert("al_\(batch)"), "batch \(batch) lost its alert")
            #expect(tracks.contains("al_\(batch)"))
            #expect(detail.transitions.map(\.id) == ["tr_\(batch)"])
            #expect(Set(detail.deliveries.map(\.id)) == ["msg_\(batch)_1", "msg_\(batch)_2"])
        }
        // Whatever else is in the file (a batch committed but not yet reported) is whole too.
        let all = try await store.alerts(AlertQuery(states: AlertState.allCases, limit: 1_000_000))
        #expect(all.count >= batches.count)
        for alert in all {
            let detail = try #require(try await store.alert(alert.id))
            #expect(detail.transitions.count == 1)
            #expect(detail.deliveries.count == 2)
        }
    }

    /// The child of `committedAlertBatchesSurviveKill9`; runs only when that test starts it.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[alertCrashChildVariable] != nil))
    func alertCrashChildRecordsUntilKilled() async throws {
        let path = try #require(ProcessInfo.processInfo.environment[alertCrashChildVariable])
        let store = try SQLiteStorage(path: path)
        var batch = 0
        // Until killed — or orphaned (its parent test gone: reparented) or after two minutes, so
        // that a parent that failed before its kill never leaves a busy child behind.
        let parent = getppid()
        let until = Date().addingTimeInterval(120)
        while getppid() == parent, Date() < until {
            let scope = AlertScope.pair("a\(batch)", "b\(batch)", callerSite: "hq", calleeSite: "branch")
            let track = alertTrack("al_\(batch)", .mosLow, scope, state: .firing, at: at(Double(batch)))
            let tr = transition("tr_\(batch)", track, at: at(Double(batch)))
            try await store.recordAlerts(AlertBatch(
                tracks: [track], transitions: [tr],
                deliveries: [newDelivery("msg_\(batch)_1", "wh_1", tr), newDelivery("msg_\(batch)_2", "wh_2", tr)]))
            FileHandle.standardOutput.write(Data("committed \(batch)\n".utf8))
            batch += 1
        }
    }
}
