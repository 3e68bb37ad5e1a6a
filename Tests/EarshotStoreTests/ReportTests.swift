import EarshotStore
import EarshotWire
import Foundation
import GRDB
import OrganizerCore
import Testing

/// Seven runs in the hour starting at t0 (a1 alpha, a2 bravo, a3 charlie):
/// run-1 a1→a2 passed (a1→a2 MOS 4.0, a2→a1 3.8; loss 1, jitter 2, RTT 40 both ways),
/// run-2 a1→a2 degraded (3.0 / 4.0; loss 3, jitter 10, RTT 60), run-3 a2→a1 passed
/// (a2→a1 4.2, a1→a2 4.4; loss 0, jitter 1, RTT 20), run-4 a1→a3 failed (no MOS, loss 0),
/// run-5 a1→a3 not_run, run-6 a register run of a2 (suite "reg"), run-7 a2→a3 passed in
/// suite "other" (4.1 both ways).
func seedReport(_ store: SQLiteStorage) async throws {
    try await finishedRun(store, "run-1", caller: "a1", callee: "a2", status: .passed, endedAt: at(100), forward: 4.0, backward: 3.8,
                          loss: 1, jitter: 2, rtt: 40)
    try await finishedRun(store, "run-2", caller: "a1", callee: "a2", status: .degraded, endedAt: at(200), forward: 3.0, backward: 4.0,
                          loss: 3, jitter: 10, rtt: 60)
    try await finishedRun(store, "run-3", caller: "a2", callee: "a1", status: .passed, endedAt: at(300), forward: 4.2, backward: 4.4,
                          loss: 0, jitter: 1, rtt: 20)
    try await finishedRun(store, "run-4", caller: "a1", callee: "a3", status: .failed, endedAt: at(400), forward: nil, backward: nil)
    try await store.createRuns([p2pRun("run-5", caller: "a1", callee: "a3", start: at(500), status: .notRun,
                                       cause: RunCause(code: "agent_offline", agentID: "a3")),
                                singleRun("run-6", suite: "reg", agent: "a2", start: at(590))])
    try await store.finishRun(RunCompletion(runID: "run-6", status: .passed, cause: nil, endedAt: at(600)))
    try await finishedRun(store, "run-7", suite: "other", caller: "a2", callee: "a3", status: .passed, endedAt: at(700),
                          forward: 4.1, backward: 4.1)
}

func cell(_ report: Report, _ from: String, _ to: String) -> Report.Cell? {
    report.cells.first { $0.from == from && $0.to == to }
}

/// Counts and dates exactly, means within 1e-9 (sums may be added in another order).
func sameReport(_ a: Report, _ b: Report) -> Bool {
    guard a.agents == b.agents, a.totals == b.totals, a.cells.count == b.cells.count else { return false }
    func close(_ x: Double?, _ y: Double?) -> Bool {
        switch (x, y) {
        case (nil, nil): true
        case let (x?, y?): abs(x - y) < 1e-9
        default: false
        }
    }
    return zip(a.cells, b.cells).allSatisfy { x, y in
        x.from == y.from && x.to == y.to && x.runs == y.runs && x.passed == y.passed && x.degraded == y.degraded
            && x.failed == y.failed && x.notRun == y.notRun && close(x.passRatePct, y.passRatePct)
            && close(x.mosMean, y.mosMean) && close(x.mosMin, y.mosMin) && close(x.lossPctMean, y.lossPctMean)
            && close(x.jitterMsMean, y.jitterMsMean) && close(x.rttMsMean, y.rttMsMean) && x.lastRunAt == y.lastRunAt
    }
}

@Suite struct ReportTests {
    @Test func cellsFromKnownInputs() async throws {
        let store = try await storeWithAgents()
        try await seedReport(store)
        let report = try await store.report(since: t0, until: at(3600), suite: nil)
        #expect(report.agents == ["alpha", "bravo", "charlie"])
        #expect(report.totals == ["passed": 4, "degraded": 1, "failed": 1, "not_run": 1])
        #expect(report.cells.map { "\($0.from)>\($0.to)" }
            == ["alpha>bravo", "alpha>charlie", "bravo>alpha", "bravo>charlie", "charlie>alpha", "charlie>bravo"])

        let ab = try #require(cell(report, "alpha", "bravo"))
        #expect((ab.runs, ab.passed, ab.degraded, ab.failed, ab.notRun) == (2, 1, 1, 0, 0))
        #expect(ab.passRatePct == 50)
        #expect(isClose(ab.mosMean, (4.0 + 3.0 + 4.4) / 3))
        #expect(ab.mosMin == 3.0)
        #expect(isClose(ab.lossPctMean, 4.0 / 3))
        #expect(isClose(ab.jitterMsMean, 13.0 / 3))
        #expect(isClose(ab.rttMsMean, 40))
        #expect(ab.lastRunAt == at(200))

        let ba = try #require(cell(report, "bravo", "alpha"))
        #expect((ba.runs, ba.passed) == (1, 1))
        #expect(ba.passRatePct == 100)
        #expect(isClose(ba.mosMean, 4.0))
        #expect(ba.mosMin == 3.8)

        let ac = try #require(cell(report, "alpha", "charlie"))
        #expect((ac.runs, ac.failed, ac.notRun) == (2, 1, 1))
        #expect(ac.passRatePct == 0)
        #expect(ac.mosMean == nil)
        #expect(ac.lossPctMean == 0)
        #expect(ac.jitterMsMean == nil)
        #expect(ac.lastRunAt == at(500))

        // Only the reverse direction was measured: no runs of its own.
        let ca = try #require(cell(report, "charlie", "alpha"))
        #expect(ca.runs == 0)
        #expect(ca.passRatePct == nil)
        #expect(ca.lastRunAt == nil)
        #expect(isClose(cell(report, "bravo", "charlie")?.mosMean, 4.1))
    }

    @Test func suiteFilterAndPeriod() async throws {
        let store = try await storeWithAgents()
        try await seedReport(store)
        let mesh = try await store.report(since: t0, until: at(3600), suite: "mesh")
        #expect(mesh.suite == "mesh")
        #expect(mesh.totals == ["passed": 2, "degraded": 1, "failed": 1, "not_run": 1])
        #expect(mesh.cells.map { "\($0.from)>\($0.to)" } == ["alpha>bravo", "alpha>charlie", "bravo>alpha", "charlie>alpha"])
        // [t0+150, t0+350): run-2 and run-3 only.
        let middle = try await store.report(since: at(150), until: at(350), suite: "mesh")
        #expect(middle.totals == ["passed": 1, "degraded": 1, "failed": 0, "not_run": 0])
        #expect(cell(middle, "alpha", "bravo")?.runs == 1)
        #expect(isClose(cell(middle, "alpha", "bravo")?.mosMean, (3.0 + 4.4) / 2))
        let empty = try await store.report(since: at(5000), until: at(6000), suite: nil)
        #expect(empty.cells.isEmpty)
        #expect(empty.agents.isEmpty)
        #expect(empty.totals == ["passed": 0, "degraded": 0, "failed": 0, "not_run": 0])
    }

    @Test func rollupThenPruneKeepsTheReport() async throws {
        let store = try await storeWithAgents()
        try await seedReport(store)
        let before = try await store.report(since: t0, until: at(7200), suite: nil)
        let beforeMesh = try await store.report(since: t0, until: at(7200), suite: "mesh")

        // Twice: folding is idempotent per run.
        try await store.rollUp(now: at(3610))
        try await store.rollUp(now: at(3620))
        #expect(sameReport(try await store.report(since: t0, until: at(7200), suite: nil), before))

        // A run in the next hour stays raw.
        try await finishedRun(store, "run-8", caller: "a1", callee: "a2", status: .passed, endedAt: at(3700), forward: 4.5,
                              backward: 4.5, loss: 0, jitter: 1, rtt: 20)
        #expect(try await store.prune(rawBefore: at(3650)) == 7)
        #expect(try await store.runs(RunQuery()).map(\.id) == ["run-8"])
        #expect(try await store.run("run-1") == nil)
        #expect(try await store.prune(rawBefore: at(3650)) == 0)
        try await store.rollUp(now: at(3630))

        #expect(sameReport(try await store.report(since: t0, until: at(3600), suite: nil),
                           try await reportWithout(before, since: t0, until: at(3600))))
        #expect(sameReport(try await store.report(since: t0, until: at(3600), suite: "mesh"),
                           try await reportWithout(beforeMesh, since: t0, until: at(3600))))

        // Rollup hours and raw rows together: run-8 adds to alpha→bravo.
        let both = try await store.report(since: t0, until: at(7200), suite: "mesh")
        let ab = try #require(cell(both, "alpha", "bravo"))
        #expect((ab.runs, ab.passed, ab.degraded) == (3, 2, 1))
        #expect(isClose(ab.mosMean, (4.0 + 3.0 + 4.4 + 4.5) / 4))
        #expect(ab.mosMin == 3.0)
        #expect(ab.lastRunAt == at(3700))
        #expect(both.totals == ["passed": 3, "degraded": 1, "failed": 1, "not_run": 1])

        // The coverage view survives the prune.
        #expect(try await store.lastTested(suite: "mesh")[UnitKey(caller: "a1", callee: "a3")] == at(400))
        #expect(try await store.lastTested(suite: "mesh")[UnitKey(caller: "a1", callee: "a2")] == at(3700))

        // Daily rollups hold every pruned run, folded once.
        let queue = try DatabaseQueue(path: try #require(store.location))
        let (daily, hourly) = try await queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT SUM(runs) FROM rollups_daily"),
             try Int.fetchOne(db, sql: "SELECT SUM(runs) FROM rollups_hourly"))
        }
        #expect(daily == 7)
        #expect(hourly == 7)
        #expect(try await store.integrityCheck() == "ok")
    }

    /// The same report with another period stamped on it (the data lie inside both).
    func reportWithout(_ report: Report, since: Date, until: Date) async throws -> Report {
        var r = report
        r.since = since
        r.until = until
        return r
    }
}
