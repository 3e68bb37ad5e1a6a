import EarshotWire
import Foundation
import GRDB

// The pair report, rollups and retention. The rule (docs/storage.md): raw rows answer for
// the time they still cover (from `raw_kept_from`, the latest prune boundary, on); hourly
// rollups answer for the hours before it.
extension SQLiteStorage {
    /// Test types that make pair cells (a caller and a callee with media both ways).
    static let pairTypes = "('p2p', 'soak', 'dtmf')"
    static let finalStatuses = "('passed', 'degraded', 'failed', 'not_run')"

    public func report(since: Date, until: Date, suite: String?) async throws -> Report {
        try await read { db in
            let rawFrom = max(since.unix, try Self.rawKeptFrom(db))
            var cells = CellTable()
            var totals: [String: Int] = ["passed": 0, "degraded": 0, "failed": 0, "not_run": 0]
            let suiteFilter = suite == nil ? "" : "AND suite = ?"
            let suiteArgument: StatementArguments = suite.map { [$0] } ?? []

            // Raw rows: [rawFrom, until).
            if rawFrom < until.unix {
                let window: StatementArguments = [rawFrom, until.unix] + suiteArgument
                for row in try Row.fetchAll(db, sql: """
                    SELECT caller_id AS from_agent, callee_id AS to_agent, COUNT(*) AS runs,
                        TOTAL(status = 'passed') AS passed, TOTAL(status = 'degraded') AS degraded,
                        TOTAL(status = 'failed') AS failed, TOTAL(status = 'not_run') AS not_run, MAX(ended_at) AS last_run_at
                    FROM runs
                    WHERE ended_at >= ? AND ended_at < ? \(suiteFilter) AND status IN \(Self.finalStatuses)
                        AND test_type IN \(Self.pairTypes) AND callee_id IS NOT NULL
                    GROUP BY caller_id, callee_id
                    """, arguments: window) {
                    cells.addCounts(row)
                }
                for row in try Row.fetchAll(db, sql: """
                    SELECT s.from_agent, s.to_agent, TOTAL(s.mos_cq) AS mos_sum, MIN(s.mos_cq) AS mos_min,
                        COUNT(s.mos_cq) AS mos_count, TOTAL(s.loss_pct) AS loss_sum, COUNT(s.loss_pct) AS loss_count,
                        TOTAL(s.jitter_mean_ms) AS jitter_sum, COUNT(s.jitter_mean_ms) AS jitter_count,
                        TOTAL(s.rtt_ms) AS rtt_sum, COUNT(s.rtt_ms) AS rtt_count
                    FROM runs r JOIN stream_metrics s ON s.run_id = r.id
                    WHERE r.ended_at >= ? AND r.ended_at < ? \(suite == nil ? "" : "AND r.suite = ?")
                        AND r.status IN \(Self.finalStatuses) AND r.test_type IN \(Self.pairTypes)
                    GROUP BY s.from_agent, s.to_agent
                    """, arguments: window) {
                    cells.addMetrics(row)
                }
                for row in try Row.fetchAll(db, sql: """
                    SELECT status, COUNT(*) AS n FROM runs
                    WHERE ended_at >= ? AND ended_at < ? \(suiteFilter) AND status IN \(Self.finalStatuses)
                    GROUP BY status
                    """, arguments: window) {
                    totals[row["status"], default: 0] += row["n"] as Int
                }
            }

            // Hourly rollups: whole hours from the one holding `since` up to the raw boundary.
            let rollupFrom = Self.floor(since.unix, to: 3600)
            let rollupUntil = min(rawFrom, until.unix)
            if rollupFrom < rollupUntil {
                let window: StatementArguments = [rollupFrom, rollupUntil] + suiteArgument
                for row in try Row.fetchAll(db, sql: """
                    SELECT from_agent, to_agent, SUM(runs) AS runs, SUM(passed) AS passed, SUM(degraded) AS degraded,
                        SUM(failed) AS failed, SUM(not_run) AS not_run, MAX(last_run_at) AS last_run_at,
                        TOTAL(mos_sum) AS mos_sum, MIN(mos_min) AS mos_min, SUM(mos_count) AS mos_count,
                        TOTAL(loss_sum) AS loss_sum, SUM(loss_count) AS loss_count, TOTAL(jitter_sum) AS jitter_sum,
                        SUM(jitter_count) AS jitter_count, TOTAL(rtt_sum) AS rtt_sum, SUM(rtt_count) AS rtt_count
                    FROM rollups_hourly
                    WHERE bucket_start >= ? AND bucket_start < ? \(suiteFilter) AND test_type IN \(Self.pairTypes)
                        AND to_agent <> ''
                    GROUP BY from_agent, to_agent
                    """, arguments: window) {
                    cells.addCounts(row)
                    cells.addMetrics(row)
                }
                for row in try Row.fetchAll(db, sql: """
                    SELECT SUM(passed) AS passed, SUM(degraded) AS degraded, SUM(failed) AS failed, SUM(not_run) AS not_run
                    FROM rollups_hourly WHERE bucket_start >= ? AND bucket_start < ? \(suiteFilter)
                    """, arguments: window) {
                    for status in ["passed", "degraded", "failed", "not_run"] {
                        totals[status, default: 0] += (row[status] as Int?) ?? 0
                    }
                }
            }

            let names = try Dictionary(
                Row.fetchAll(db, sql: "SELECT id, name FROM agents").map { ($0["id"] as String, $0["name"] as String) },
                uniquingKeysWith: { a, _ in a })
            let reportCells = cells.cells(names: names)
            let agents = Set(reportCells.flatMap { [$0.from, $0.to] }).sorted()
            return Report(since: since, until: until, suite: suite, agents: agents, cells: reportCells, totals: totals)
        }
    }

    /// Folds finished runs that ended before the current hour into `rollups_hourly`, and
    /// before the current UTC day into `rollups_daily`. Each run is folded once (a flag on
    /// the run), so calling this again, or late, changes nothing twice.
    public func rollUp(now: Date) async throws {
        try await write { db in
            try Self.fold(db, before: Self.floor(now.unix, to: 3600), daily: false)
            try Self.fold(db, before: Self.floor(now.unix, to: 86400), daily: true)
        }
    }

    /// Deletes finished runs that ended before the start of the hour holding `before`, after
    /// folding any not yet folded; their participants, metrics and evidence go with them
    /// (foreign keys cascade). Rollups stay. Finished webhook deliveries and the transitions
    /// of resolved alerts before it go too (`pruneAlerts`). Returns the number of runs deleted.
    public func prune(rawBefore before: Date) async throws -> Int {
        try await write { db in
            let cutoff = Self.floor(before.unix, to: 3600)
            try Self.fold(db, before: cutoff, daily: false)
            try Self.fold(db, before: cutoff, daily: true)
            try db.execute(sql: "DELETE FROM runs WHERE ended_at < ? AND status IN \(Self.finalStatuses)", arguments: [cutoff])
            let deleted = db.changesCount
            try db.execute(sql: "DELETE FROM rounds WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.round_id = rounds.id)")
            try Self.pruneAlerts(db, before: cutoff)
            if cutoff > (try Self.rawKeptFrom(db)) {
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('raw_kept_from', ?)", arguments: [String(cutoff)])
            }
            return deleted
        }
    }

    // MARK: - helpers

    static func floor(_ seconds: Double, to size: Double) -> Double {
        (seconds / size).rounded(.down) * size
    }

    /// The start of the time raw rows still cover completely (-∞ before the first prune).
    static func rawKeptFrom(_ db: Database) throws -> Double {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'raw_kept_from'").flatMap(Double.init) ?? -Double.infinity
    }

    private static func fold(_ db: Database, before cutoff: Double, daily: Bool) throws {
        let table = daily ? "rollups_daily" : "rollups_hourly"
        let bit = daily ? 2 : 1
        let size = daily ? 86400.0 : 3600.0
        func pending(_ r: String) -> String {
            "\(r)status IN \(finalStatuses) AND \(r)ended_at < ? AND (\(r)rolled_up & \(bit)) = 0"
        }
        let bucket = "CAST(r.ended_at / \(size) AS INTEGER) * \(size)"
        try db.execute(sql: """
            INSERT INTO \(table) (suite, test_type, from_agent, to_agent, bucket_start, runs, passed, degraded, failed, not_run,
                last_run_at, last_tested_at)
            SELECT r.suite, r.test_type, r.caller_id, COALESCE(r.callee_id, ''), \(bucket), COUNT(*), TOTAL(r.status = 'passed'),
                TOTAL(r.status = 'degraded'), TOTAL(r.status = 'failed'), TOTAL(r.status = 'not_run'), MAX(r.ended_at),
                MAX(CASE WHEN r.status <> 'not_run' THEN r.ended_at END)
            FROM runs r WHERE \(pending("r.")) AND r.caller_id IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (suite, test_type, from_agent, to_agent, bucket_start) DO UPDATE SET
                runs = runs + excluded.runs, passed = passed + excluded.passed, degraded = degraded + excluded.degraded,
                failed = failed + excluded.failed, not_run = not_run + excluded.not_run,
                last_run_at = COALESCE(MAX(last_run_at, excluded.last_run_at), last_run_at, excluded.last_run_at),
                last_tested_at = COALESCE(MAX(last_tested_at, excluded.last_tested_at), last_tested_at, excluded.last_tested_at)
            """, arguments: [cutoff])
        try db.execute(sql: """
            INSERT INTO \(table) (suite, test_type, from_agent, to_agent, bucket_start, mos_sum, mos_min, mos_count, loss_sum,
                loss_count, jitter_sum, jitter_count, rtt_sum, rtt_count)
            SELECT r.suite, r.test_type, s.from_agent, s.to_agent, \(bucket), TOTAL(s.mos_cq), MIN(s.mos_cq), COUNT(s.mos_cq),
                TOTAL(s.loss_pct), COUNT(s.loss_pct), TOTAL(s.jitter_mean_ms), COUNT(s.jitter_mean_ms), TOTAL(s.rtt_ms),
                COUNT(s.rtt_ms)
            FROM runs r JOIN stream_metrics s ON s.run_id = r.id WHERE \(pending("r."))
            GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (suite, test_type, from_agent, to_agent, bucket_start) DO UPDATE SET
                mos_sum = mos_sum + excluded.mos_sum,
                mos_min = COALESCE(MIN(mos_min, excluded.mos_min), mos_min, excluded.mos_min),
                mos_count = mos_count + excluded.mos_count, loss_sum = loss_sum + excluded.loss_sum,
                loss_count = loss_count + excluded.loss_count, jitter_sum = jitter_sum + excluded.jitter_sum,
                jitter_count = jitter_count + excluded.jitter_count, rtt_sum = rtt_sum + excluded.rtt_sum,
                rtt_count = rtt_count + excluded.rtt_count
            """, arguments: [cutoff])
        try db.execute(sql: "UPDATE runs SET rolled_up = rolled_up | \(bit) WHERE \(pending(""))", arguments: [cutoff])
    }
}

/// Sums per ordered pair of agent ids, turned into report cells keyed by agent name.
struct CellTable {
    struct Sums {
        var runs = 0, passed = 0, degraded = 0, failed = 0, notRun = 0
        var mosSum = 0.0, mosCount = 0, mosMin: Double?
        var lossSum = 0.0, lossCount = 0, jitterSum = 0.0, jitterCount = 0, rttSum = 0.0, rttCount = 0
        var lastRunAt: Double?
    }

    struct Pair: Hashable {
        var from: String
        var to: String
    }

    var sums: [Pair: Sums] = [:]

    private static func int(_ row: Row, _ column: String) -> Int {
        (row[column] as Double?).map { Int($0) } ?? 0
    }

    mutating func addCounts(_ row: Row) {
        let pair = Pair(from: row["from_agent"], to: row["to_agent"])
        var s = sums[pair] ?? Sums()
        s.runs += Self.int(row, "runs")
        s.passed += Self.int(row, "passed")
        s.degraded += Self.int(row, "degraded")
        s.failed += Self.int(row, "failed")
        s.notRun += Self.int(row, "not_run")
        if let at = row["last_run_at"] as Double? { s.lastRunAt = max(s.lastRunAt ?? at, at) }
        sums[pair] = s
    }

    mutating func addMetrics(_ row: Row) {
        let pair = Pair(from: row["from_agent"], to: row["to_agent"])
        var s = sums[pair] ?? Sums()
        s.mosSum += (row["mos_sum"] as Double?) ?? 0
        s.mosCount += Self.int(row, "mos_count")
        if let m = row["mos_min"] as Double? { s.mosMin = min(s.mosMin ?? m, m) }
        s.lossSum += (row["loss_sum"] as Double?) ?? 0
        s.lossCount += Self.int(row, "loss_count")
        s.jitterSum += (row["jitter_sum"] as Double?) ?? 0
        s.jitterCount += Self.int(row, "jitter_count")
        s.rttSum += (row["rtt_sum"] as Double?) ?? 0
        s.rttCount += Self.int(row, "rtt_count")
        sums[pair] = s
    }

    /// Cells by agent name (ids of agents not in the roster stand for themselves), merged when
    /// two ids carry one name, in name order.
    func cells(names: [String: String]) -> [Report.Cell] {
        var byName: [Pair: Sums] = [:]
        for (pair, s) in sums {
            let key = Pair(from: names[pair.from] ?? pair.from, to: names[pair.to] ?? pair.to)
            guard var t = byName[key] else {
                byName[key] = s
                continue
            }
            t.runs += s.runs; t.passed += s.passed; t.degraded += s.degraded; t.failed += s.failed; t.notRun += s.notRun
            t.mosSum += s.mosSum; t.mosCount += s.mosCount
            if let m = s.mosMin { t.mosMin = min(t.mosMin ?? m, m) }
            t.lossSum += s.lossSum; t.lossCount += s.lossCount
            t.jitterSum += s.jitterSum; t.jitterCount += s.jitterCount
            t.rttSum += s.rttSum; t.rttCount += s.rttCount
            if let at = s.lastRunAt { t.lastRunAt = max(t.lastRunAt ?? at, at) }
            byName[key] = t
        }
        func mean(_ sum: Double, _ count: Int) -> Double? { count > 0 ? sum / Double(count) : nil }
        return byName.sorted { ($0.key.from, $0.key.to) < ($1.key.from, $1.key.to) }.map { pair, s in
            let ran = s.runs - s.notRun
            return Report.Cell(
                from: pair.from, to: pair.to, runs: s.runs, passed: s.passed, degraded: s.degraded, failed: s.failed,
                notRun: s.notRun, passRatePct: ran > 0 ? Double(s.passed) / Double(ran) * 100 : nil,
                mosMean: mean(s.mosSum, s.mosCount), mosMin: s.mosMin, lossPctMean: mean(s.lossSum, s.lossCount),
                jitterMsMean: mean(s.jitterSum, s.jitterCount), rttMsMean: mean(s.rttSum, s.rttCount),
                lastRunAt: s.lastRunAt.map { Date(timeIntervalSince1970: $0) })
        }
    }
}
