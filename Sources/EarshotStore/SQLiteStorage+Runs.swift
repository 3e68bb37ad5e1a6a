import EarshotWire
import Foundation
import GRDB
import OrganizerCore

// Runs, participants, results, per-direction metrics and evidence.
extension SQLiteStorage {
    public func createRuns(_ runs: [NewRun]) async throws {
        guard !runs.isEmpty else { return }
        try await write { db in
            let json = JSONColumns()
            let insertRun = try db.cachedStatement(sql: """
                INSERT INTO runs (id, suite, round_id, test_type, status, cause, planned_at, start_at, deadline, ended_at,
                    planned_duration_s, thresholds, caller_id, callee_id, conference_plan)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertRound = try db.cachedStatement(sql: "INSERT OR IGNORE INTO rounds (id, suite, planned_at) VALUES (?, ?, ?)")
            let insertParticipant = try db.cachedStatement(
                sql: "INSERT INTO participants (run_id, agent_id, ordinal, role) VALUES (?, ?, ?, ?)")
            for run in runs {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [run.id]) != nil {
                    throw StorageError(.conflict, "a run with id \(run.id) exists already")
                }
                // A conference: its first participant and its bridge agent (NULL for an external room).
                let caller = run.participants.first(where: { $0.role == .caller || $0.role == .participant })?.agentID
                    ?? run.participants.first?.agentID
                let callee = run.participants.first(where: { $0.role == .callee || $0.role == .bridge })?.agentID
                try insertRun.execute(arguments: [
                    run.id, run.suite, run.roundID, run.testType.rawValue, run.status.rawValue, try json.textOrNull(run.cause),
                    run.plannedAt.unix, run.startAt.unix, run.deadline.unix, run.status.isFinal ? run.plannedAt.unix : nil,
                    run.plannedDurationS, try json.text(run.thresholds), caller, callee, try json.textOrNull(run.conferencePlan),
                ])
                if let round = run.roundID {
                    try insertRound.execute(arguments: [round, run.suite, run.plannedAt.unix])
                }
                var seen = Set<String>()
                for (ordinal, participant) in run.participants.enumerated() {
                    guard seen.insert(participant.agentID).inserted else {
                        throw StorageError(.invalid, "run \(run.id) names agent \(participant.agentID) twice")
                    }
                    try insertParticipant.execute(arguments: [run.id, participant.agentID, ordinal, participant.role.rawValue])
                }
            }
        }
    }

    public func ingest(_ result: RunResult, receivedAt: Date) async throws -> IngestOutcome {
        try await ingest([result], receivedAt: receivedAt)[0]
    }

    public func ingest(_ results: [RunResult], receivedAt: Date) async throws -> [IngestOutcome] {
        guard !results.isEmpty else { return [] }
        // The JSON is encoded here, on the caller's thread: the writer (one connection, one
        // queue) only runs SQL, so encoding overlaps the previous transaction.
        let json = JSONColumns()
        let encoded: [EncodedResult]
        do {
            encoded = try results.map { try EncodedResult($0, json) }
        } catch {
            throw Self.mapped(error)
        }
        return try await write { db in
            try encoded.map { try Self.ingestOne(db, $0, receivedAt: receivedAt) }
        }
    }

    /// A result's columns, encoded before the transaction.
    private struct EncodedResult: Sendable {
        var runID: String
        var agentID: String
        var status: String
        var cause: String?
        /// The result without its evidence.
        var result: String
        var evidence: String?

        init(_ r: RunResult, _ json: JSONColumns) throws {
            var stripped = r
            stripped.evidence = nil
            runID = r.runID
            agentID = r.agentID
            status = r.status.rawValue
            cause = try json.textOrNull(r.cause)
            result = try json.text(stripped)
            evidence = try json.textOrNull(r.evidence)
        }
    }

    /// The common case is one UPDATE; the other outcomes are told apart only when it changed nothing.
    private static func ingestOne(_ db: Database, _ r: EncodedResult, receivedAt: Date) throws -> IngestOutcome {
        try db.cachedStatement(sql: """
            UPDATE participants SET status = ?, cause = ?, reported_at = ?, result = ?
            WHERE run_id = ? AND agent_id = ? AND reported_at IS NULL
            """).execute(arguments: [r.status, r.cause, receivedAt.unix, r.result, r.runID, r.agentID])
        if db.changesCount == 1 {
            if let evidence = r.evidence {
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO evidence (run_id, agent_id, evidence) VALUES (?, ?, ?)")
                    .execute(arguments: [r.runID, r.agentID, evidence])
            }
            return .stored
        }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM participants WHERE run_id = ? AND agent_id = ?",
                             arguments: [r.runID, r.agentID]) != nil {
            return .duplicate
        }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [r.runID]) != nil {
            return .notParticipant
        }
        return .unknownRun
    }

    public func openRuns() async throws -> [OpenRun] {
        try await read { db in
            try Self.judgeable(db, where: "status IN ('scheduled', 'running')", arguments: [], JSONColumns())
        }
    }

    public func runsForJudging(ids: [String]) async throws -> [OpenRun] {
        guard !ids.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        return try await read { db in
            try Self.judgeable(db, where: "id IN (\(placeholders))", arguments: StatementArguments(ids), JSONColumns())
        }
    }

    /// Runs matching `condition` (on `runs`) with their participants and stored results.
    static func judgeable(_ db: Database, where condition: String, arguments: StatementArguments,
                          _ json: JSONColumns) throws -> [OpenRun] {
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM runs WHERE \(condition) ORDER BY start_at, id", arguments: arguments)
        let subquery = "SELECT id FROM runs WHERE \(condition)"
        // The subquery's arguments appear once per use.
        let participants = try participants(db, filter: "p.run_id IN (\(subquery))", arguments: arguments, withResults: true, json)
        let evidence = try evidence(db, filter: "run_id IN (\(subquery))", arguments: arguments, json)
        return try rows.map { row in
            let id: String = row["id"]
            let stored = participants[id] ?? []
            var results: [String: RunResult] = [:]
            for participant in stored {
                guard var result = participant.result else { continue }
                result.evidence = evidence[id]?[participant.info.agentID]
                results[participant.info.agentID] = result
            }
            return OpenRun(summary: try summary(row, names: stored.map(\.info.name), json),
                           deadline: row.requiredDate("deadline"),
                           thresholds: try json.value(Thresholds.self, row["thresholds"]) ?? .defaults,
                           participants: stored.map(\.info), results: results,
                           conferencePlan: try json.value(ConferenceAssignment.self, row["conference_plan"]))
        }
    }

    public func finishRun(_ completion: RunCompletion) async throws {
        try await write { db in
            if try !Self.finishOne(db, completion, JSONColumns()) {
                throw StorageError(.notFound, "no run \(completion.runID)")
            }
        }
    }

    public func finishRuns(_ completions: [RunCompletion]) async throws -> [String] {
        guard !completions.isEmpty else { return [] }
        return try await write { db in
            let json = JSONColumns()
            return try completions.filter { try !Self.finishOne(db, $0, json) }.map(\.runID)
        }
    }

    /// False when there is no such run (nothing written).
    private static func finishOne(_ db: Database, _ completion: RunCompletion, _ json: JSONColumns) throws -> Bool {
        let mosValues = completion.directions.compactMap(\.mosCQ)
        let lossValues = completion.directions.map(\.lossPct)
        try db.cachedStatement(sql: """
            UPDATE runs SET status = ?, cause = ?, ended_at = ?, call = ?, dtmf = ?, conference = ?, mos_min = ?, loss_pct_max = ?
            WHERE id = ?
            """).execute(arguments: [
            completion.status.rawValue, try json.textOrNull(completion.cause), completion.endedAt.unix,
            try json.textOrNull(completion.call), try json.textOrNull(completion.dtmf),
            try json.textOrNull(completion.conference), mosValues.min(), lossValues.max(), completion.runID,
        ])
        if db.changesCount == 0 { return false }
        // Evidence is kept for failed and degraded runs (DESIGN §3); agents send it always.
        if completion.status == .passed || completion.status == .notRun {
            try db.cachedStatement(sql: "DELETE FROM evidence WHERE run_id = ?").execute(arguments: [completion.runID])
        }
        try db.cachedStatement(sql: "DELETE FROM stream_metrics WHERE run_id = ?").execute(arguments: [completion.runID])
        for direction in completion.directions {
            try StreamColumns.insert(db, direction, runID: completion.runID, endedAt: completion.endedAt)
        }
        return true
    }

    public func markRunning(id: String, at: Date) async throws {
        try await write { db in
            if try !Self.markRunningOne(db, id, at: at) {
                throw StorageError(.notFound, "no run \(id)")
            }
        }
    }

    public func markRunning(ids: [String], at: Date) async throws {
        guard !ids.isEmpty else { return }
        try await write { db in
            for id in ids { _ = try Self.markRunningOne(db, id, at: at) }
        }
    }

    /// False when there is no such run.
    private static func markRunningOne(_ db: Database, _ id: String, at: Date) throws -> Bool {
        try db.cachedStatement(sql: "UPDATE runs SET status = 'running', running_at = ? WHERE id = ? AND status = 'scheduled'")
            .execute(arguments: [at.unix, id])
        if db.changesCount == 0 {
            return try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [id]) != nil
        }
        return true
    }

    /// Newest first (by start time), filtered; `since`/`until` bound the start time
    /// (`since` ≤ start < `until`).
    public func runs(_ query: RunQuery) async throws -> [RunSummary] {
        try await read { db in
            let json = JSONColumns()
            var filter = SQLFilter()
            filter.add("suite = ?", query.suite)
            filter.add("status = ?", query.status?.rawValue)
            filter.add("id IN (SELECT run_id FROM participants WHERE agent_id = ? OR agent_id IN (SELECT id FROM agents WHERE name = ?))",
                       query.agent, query.agent)
            filter.add("round_id = ?", query.roundID)
            filter.add("start_at >= ?", query.since?.unix)
            filter.add("start_at < ?", query.until?.unix)
            var arguments = filter.arguments
            arguments += [max(0, query.limit)]
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM runs \(filter.sql) ORDER BY start_at DESC, id DESC LIMIT ?",
                                        arguments: arguments)
            var names: [String: [String]] = [:]
            let ids: [String] = rows.map { $0["id"] }
            for chunk in ids.chunked(500) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for (id, list) in try Self.participants(db, filter: "p.run_id IN (\(marks))", arguments: StatementArguments(chunk),
                                                         withResults: false, json) {
                    names[id] = list.map(\.info.name)
                }
            }
            return try rows.map { try Self.summary($0, names: names[$0["id"]] ?? [], json) }
        }
    }

    public func run(_ id: String) async throws -> RunDetail? {
        try await read { db in
            let json = JSONColumns()
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else { return nil }
            let stored = try Self.participants(db, filter: "p.run_id = ?", arguments: [id], withResults: true, json)[id] ?? []
            let directions = try Row.fetchAll(db, sql: "SELECT * FROM stream_metrics WHERE run_id = ? ORDER BY id", arguments: [id])
                .map(StreamColumns.metrics)
            let evidence = try Self.evidence(db, filter: "run_id = ?", arguments: [id], json)[id] ?? [:]
            // Caller's view first for the signalling figures.
            let results = stored.sorted { ($0.info.role == .caller ? 0 : 1) < ($1.info.role == .caller ? 0 : 1) }.compactMap(\.result)
            return RunDetail(
                run: try Self.summary(row, names: stored.map(\.info.name), json),
                participants: stored.map(\.info), directions: directions,
                call: try json.value(CallSummary.self, row["call"]) ?? results.lazy.compactMap(\.call).first,
                dtmf: try json.value(DTMFSummary.self, row["dtmf"]) ?? results.lazy.compactMap(\.dtmf).first,
                register: results.lazy.compactMap(\.register).first, options: results.lazy.compactMap(\.options).first,
                evidence: evidence, thresholds: try json.value(Thresholds.self, row["thresholds"]),
                conference: try json.value(ConferenceSummary.self, row["conference"]))
        }
    }

    public func storedResults(agentID: String, among candidates: [String]) async throws -> [String] {
        guard !candidates.isEmpty else { return [] }
        return try await read { db in
            var out: [String] = []
            for chunk in candidates.chunked(500) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                out += try String.fetchAll(
                    db,
                    sql: "SELECT run_id FROM participants WHERE agent_id = ? AND reported_at IS NOT NULL AND run_id IN (\(marks))",
                    arguments: StatementArguments([agentID] + chunk))
            }
            let found = Set(out)
            return candidates.filter { found.contains($0) }
        }
    }

    /// Keys are agent ids (`callee` nil for runs of one member); raw runs and rollups both count.
    public func lastTested(suite: String) async throws -> [UnitKey: Date] {
        try await read { db in
            var out: [UnitKey: Date] = [:]
            func note(_ caller: String?, _ callee: String?, _ at: Double?) {
                guard let caller, let at else { return }
                let key = UnitKey(caller: caller, callee: callee.flatMap { $0.isEmpty ? nil : $0 })
                let date = Date(timeIntervalSince1970: at)
                if out[key].map({ $0 < date }) ?? true { out[key] = date }
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT caller_id, callee_id, MAX(ended_at) AS at FROM runs
                WHERE suite = ? AND status IN ('passed', 'degraded', 'failed') GROUP BY caller_id, callee_id
                """, arguments: [suite]) {
                note(row["caller_id"], row["callee_id"], row["at"])
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT from_agent, to_agent, MAX(last_tested_at) AS at FROM rollups_hourly
                WHERE suite = ? AND last_tested_at IS NOT NULL GROUP BY from_agent, to_agent
                """, arguments: [suite]) {
                note(row["from_agent"], row["to_agent"], row["at"])
            }
            return out
        }
    }

    // MARK: - helpers

    struct StoredParticipant {
        var info: ParticipantInfo
        var result: RunResult?
    }

    /// Participants by run id, in order, with names and sites from the roster (the agent id
    /// stands in for the name of an agent the roster does not hold).
    static func participants(_ db: Database, filter: String, arguments: StatementArguments, withResults: Bool,
                             _ json: JSONColumns) throws -> [String: [StoredParticipant]] {
        let resultColumn = withResults ? "p.result" : "NULL AS result"
        let rows = try Row.fetchAll(db, sql: """
            SELECT p.run_id, p.agent_id, p.role, p.status, p.cause, p.reported_at, \(resultColumn), a.name, a.site
            FROM participants p LEFT JOIN agents a ON a.id = p.agent_id
            WHERE \(filter) ORDER BY p.run_id, p.ordinal
            """, arguments: arguments)
        var out: [String: [StoredParticipant]] = [:]
        for row in rows {
            let agentID: String = row["agent_id"]
            let info = ParticipantInfo(
                agentID: agentID, name: row["name"] ?? agentID, site: row["site"],
                role: ParticipantRole(rawValue: row["role"]) ?? .participant,
                status: (row["status"] as String?).flatMap(RunStatus.init(rawValue:)),
                cause: try json.value(RunCause.self, row["cause"]), reportedAt: row.date("reported_at"))
            out[row["run_id"], default: []].append(
                StoredParticipant(info: info, result: try json.value(RunResult.self, row["result"])))
        }
        return out
    }

    /// Evidence by run id, then agent id.
    static func evidence(_ db: Database, filter: String, arguments: StatementArguments,
                         _ json: JSONColumns) throws -> [String: [String: Evidence]] {
        var out: [String: [String: Evidence]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM evidence WHERE \(filter)", arguments: arguments) {
            out[row["run_id"], default: [:]][row["agent_id"]] = try json.value(Evidence.self, row["evidence"])
        }
        return out
    }

    static func summary(_ row: Row, names: [String], _ json: JSONColumns) throws -> RunSummary {
        RunSummary(
            id: row["id"], suite: row["suite"], roundID: row["round_id"],
            testType: TestType(rawValue: row["test_type"]) ?? .p2p,
            status: RunStatus(rawValue: row["status"]) ?? .failed, cause: try json.value(RunCause.self, row["cause"]),
            plannedAt: row.requiredDate("planned_at"), startAt: row.requiredDate("start_at"), endedAt: row.date("ended_at"),
            plannedDurationS: row["planned_duration_s"], participants: names, mosMin: row["mos_min"],
            lossPctMax: row["loss_pct_max"])
    }
}

/// The columns of `stream_metrics`, one per `StreamMetrics` field.
enum StreamColumns {
    static func insert(_ db: Database, _ m: StreamMetrics, runID: String, endedAt: Date) throws {
        try db.cachedStatement(sql: """
            INSERT INTO stream_metrics (run_id, from_agent, to_agent, ended_at, measured_by, codec, ptime, packets_sent,
                packets_expected, packets_received, packets_lost, duplicates, reordered, loss_pct, burst_ratio, max_burst,
                jitter_mean_ms, jitter_max_ms, rtt_ms, one_way_ms, one_way_source, jb_discards, effective_loss_pct, r_factor,
                mos_cq, mos_lq, impairment_is, impairment_id, impairment_ie_eff, impairment_a, dscp_sent, dscp_received,
                audio_ok, first_packet_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
            runID, m.from, m.to, endedAt.unix, m.measuredBy, m.codec, m.ptime, m.packetsSent,
            m.packetsExpected, m.packetsReceived, m.packetsLost, m.duplicates, m.reordered, m.lossPct, m.burstRatio, m.maxBurst,
            m.jitterMeanMs, m.jitterMaxMs, m.rttMs, m.oneWayMs, m.oneWaySource, m.jbDiscards, m.effectiveLossPct, m.rFactor,
            m.mosCQ, m.mosLQ, m.impairments?.iS, m.impairments?.iD, m.impairments?.ieEff, m.impairments?.a, m.dscpSent,
            m.dscpReceived, m.audioOK, m.firstPacketMs,
        ])
    }

    static func metrics(_ row: Row) -> StreamMetrics {
        var impairments: StreamMetrics.Impairments?
        if let iS = row["impairment_is"] as Double?, let iD = row["impairment_id"] as Double?,
           let ieEff = row["impairment_ie_eff"] as Double?, let a = row["impairment_a"] as Double? {
            impairments = .init(iS: iS, iD: iD, ieEff: ieEff, a: a)
        }
        return StreamMetrics(
            from: row["from_agent"], to: row["to_agent"], measuredBy: row["measured_by"], codec: row["codec"],
            ptime: row["ptime"], packetsSent: row["packets_sent"], packetsExpected: row["packets_expected"],
            packetsReceived: row["packets_received"], packetsLost: row["packets_lost"], duplicates: row["duplicates"],
            reordered: row["reordered"], lossPct: row["loss_pct"], burstRatio: row["burst_ratio"], maxBurst: row["max_burst"],
            jitterMeanMs: row["jitter_mean_ms"], jitterMaxMs: row["jitter_max_ms"], rttMs: row["rtt_ms"],
            oneWayMs: row["one_way_ms"], oneWaySource: row["one_way_source"], jbDiscards: row["jb_discards"],
            effectiveLossPct: row["effective_loss_pct"], rFactor: row["r_factor"], mosCQ: row["mos_cq"], mosLQ: row["mos_lq"],
            impairments: impairments, dscpSent: row["dscp_sent"], dscpReceived: row["dscp_received"],
            audioOK: row["audio_ok"], firstPacketMs: row["first_packet_ms"])
    }
}

/// A WHERE clause built from optional conditions: a condition counts only when its values are there.
struct SQLFilter {
    private var conditions: [String] = []
    private(set) var arguments: StatementArguments = []

    mutating func add(_ condition: String, _ values: (any DatabaseValueConvertible)?...) {
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { return }
        conditions.append(condition)
        arguments += StatementArguments(values)
    }

    var sql: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
