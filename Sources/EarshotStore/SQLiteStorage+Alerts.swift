import EarshotWire
import Foundation
import GRDB
import OrganizerCore

// Alerts, rule patches, silences (DESIGN §6, docs/storage.md "Alerts and webhooks").
extension SQLiteStorage {
    /// When each unit last had a passed or degraded run. Raw runs only: the rollups count
    /// successes per bucket but keep no time of the latest one, so after a prune a unit whose
    /// last success was pruned has none (coverage_stale then counts from `expectedSince`).
    public func lastSucceeded(suite: String) async throws -> [UnitKey: Date] {
        try await read { db in
            var out: [UnitKey: Date] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT caller_id, callee_id, MAX(ended_at) AS at FROM runs
                WHERE suite = ? AND status IN ('passed', 'degraded') AND caller_id IS NOT NULL AND ended_at IS NOT NULL
                GROUP BY caller_id, callee_id
                """, arguments: [suite]) {
                let callee: String? = row["callee_id"]
                out[UnitKey(caller: row["caller_id"], callee: callee.flatMap { $0.isEmpty ? nil : $0 })] = row.requiredDate("at")
            }
            return out
        }
    }

    public func alertTracks() async throws -> [AlertTrack] {
        try await read { db in
            let json = JSONColumns()
            return try String.fetchAll(db, sql: "SELECT track FROM alerts WHERE engine_active = 1 ORDER BY rule, scope_key")
                .compactMap { try json.value(AlertTrack.self, $0) }
        }
    }

    public func recordAlerts(_ batch: AlertBatch) async throws {
        guard !batch.isEmpty else { return }
        try await write { db in
            let json = JSONColumns()
            // Forgotten first, so that a track of the same key in the batch wins.
            for key in batch.removed {
                // A key that never fired and has no history goes; one that did stays visible.
                try db.execute(sql: """
                    DELETE FROM alerts WHERE rule = ? AND scope_key = ? AND engine_active = 1 AND state IS NULL
                        AND NOT EXISTS (SELECT 1 FROM alert_transitions t WHERE t.alert_id = alerts.id)
                        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.alert_id = alerts.id)
                    """, arguments: [key.rule.rawValue, key.scopeKey])
                try db.execute(sql: "UPDATE alerts SET engine_active = 0 WHERE rule = ? AND scope_key = ? AND engine_active = 1",
                               arguments: [key.rule.rawValue, key.scopeKey])
            }
            for track in batch.tracks {
                try Self.upsertTrack(db, track, json)
            }
            let insertTransition = try db.cachedStatement(sql: """
                INSERT INTO alert_transitions (id, alert_id, rule, scope, severity, at, from_state, to_state, summary,
                    measurement, silenced)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for t in batch.transitions {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM alerts WHERE id = ?", arguments: [t.alertID]) != nil else {
                    throw StorageError(.invalid, "transition \(t.id) is of alert \(t.alertID), which is neither stored nor "
                                       + "among the batch's tracks: store the alert's track with it")
                }
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM alert_transitions WHERE id = ?", arguments: [t.id]) != nil {
                    throw StorageError(.conflict, "a transition with id \(t.id) exists already")
                }
                try insertTransition.execute(arguments: [
                    t.id, t.alertID, t.rule.rawValue, try json.text(t.scope), t.severity.rawValue, t.at.unix,
                    t.from?.rawValue, t.to.rawValue, t.summary, try json.textOrNull(t.measurement), t.silenced,
                ])
            }
            try Self.insertDeliveries(db, batch.deliveries)
        }
    }

    public func alerts(_ query: AlertQuery) async throws -> [AlertInfo] {
        let states = (query.states ?? [.firing, .flapping]).map(\.rawValue)
        guard !states.isEmpty else { return [] }
        return try await read { db in
            let json = JSONColumns()
            var filters = ["state IN (\(databaseQuestionMarks(count: states.count)))"]
            var arguments = StatementArguments(states)
            if let rule = query.rule {
                filters.append("rule = ?")
                arguments += [rule.rawValue]
            }
            if let scope = query.scope {
                let fields = ["agent", "caller", "callee", "site", "caller_site", "callee_site", "suite"]
                    .map { "json_extract(scope, '$.\($0)')" }
                filters.append("(scope_key = ? OR ? IN (\(fields.joined(separator: ", "))))")
                arguments += [scope, scope]
            }
            arguments += [max(0, query.limit)]
            return try String.fetchAll(db, sql: """
                SELECT track FROM alerts WHERE \(filters.joined(separator: " AND "))
                ORDER BY updated_at DESC, id LIMIT ?
                """, arguments: arguments)
                .compactMap { try json.value(AlertTrack.self, $0)?.info() }
        }
    }

    public func alert(_ id: String) async throws -> AlertDetail? {
        try await read { db in
            let json = JSONColumns()
            guard let text = try String.fetchOne(db, sql: "SELECT track FROM alerts WHERE id = ?", arguments: [id]),
                  let info = try json.value(AlertTrack.self, text)?.info() else { return nil }
            let transitions = try Row.fetchAll(db, sql: """
                SELECT * FROM alert_transitions WHERE alert_id = ? ORDER BY at DESC, rowid DESC
                """, arguments: [id]).map { try Self.transitionInfo($0, json) }
            let deliveries = try Self.fetchDeliveries(db, filter: "d.alert_id = ?", arguments: [id], limit: nil,
                                                      withAttempts: true)
            return AlertDetail(alert: info, transitions: transitions, deliveries: deliveries)
        }
    }

    public func alertRulePatches() async throws -> [AlertRuleName: AlertRulePatch] {
        try await read { db in
            let json = JSONColumns()
            var out: [AlertRuleName: AlertRulePatch] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT rule, patch FROM alert_rule_patches") {
                // A rule this build no longer knows is left out, not an error.
                guard let rule = AlertRuleName(rawValue: row["rule"]) else { continue }
                out[rule] = try json.value(AlertRulePatch.self, row["patch"])
            }
            return out
        }
    }

    public func setAlertRulePatch(_ rule: AlertRuleName, _ patch: AlertRulePatch?, at: Date) async throws {
        try await write { db in
            if let patch {
                try db.execute(sql: """
                    INSERT INTO alert_rule_patches (rule, patch, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (rule) DO UPDATE SET patch = excluded.patch, updated_at = excluded.updated_at
                    """, arguments: [rule.rawValue, try JSONColumns().text(patch), at.unix])
            } else {
                try db.execute(sql: "DELETE FROM alert_rule_patches WHERE rule = ?", arguments: [rule.rawValue])
            }
        }
    }

    public func addSilence(_ silence: Silence) async throws {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM silences WHERE id = ?", arguments: [silence.id]) != nil {
                throw StorageError(.conflict, "a silence with id \(silence.id) exists already")
            }
            try db.execute(
                sql: "INSERT INTO silences (id, matchers, comment, created_at, ends_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [silence.id, try JSONColumns().text(silence.matchers), silence.comment, silence.createdAt.unix,
                            silence.endsAt.unix])
        }
    }

    public func silences(activeAt now: Date?) async throws -> [Silence] {
        try await read { db in
            let json = JSONColumns()
            let rows = if let now {
                try Row.fetchAll(db, sql: """
                    SELECT * FROM silences WHERE created_at <= ? AND ends_at > ? ORDER BY created_at DESC, rowid DESC
                    """, arguments: [now.unix, now.unix])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM silences ORDER BY created_at DESC, rowid DESC")
            }
            return try rows.map { row in
                Silence(id: row["id"], matchers: try json.value(SilenceMatchers.self, row["matchers"]) ?? SilenceMatchers(),
                        comment: row["comment"], createdAt: row.requiredDate("created_at"), endsAt: row.requiredDate("ends_at"))
            }
        }
    }

    public func expireSilence(id: String, at: Date) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE silences SET ends_at = MIN(ends_at, ?) WHERE id = ?", arguments: [at.unix, id])
            return db.changesCount > 0
        }
    }

    // MARK: - helpers

    /// Inserts or replaces the alert row of a track (by alert id); another active row of the
    /// same key (an older alert id) is retired, keeping its history.
    private static func upsertTrack(_ db: Database, _ track: AlertTrack, _ json: JSONColumns) throws {
        let key = track.scope.key
        try db.execute(sql: "UPDATE alerts SET engine_active = 0 WHERE rule = ? AND scope_key = ? AND id <> ? AND engine_active = 1",
                       arguments: [track.rule.rawValue, key, track.alertID])
        try db.execute(sql: """
            INSERT INTO alerts (id, rule, scope_key, scope, severity, state, started_at, updated_at, resolved_at, summary,
                measurement, transitions, track, engine_active)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
            ON CONFLICT (id) DO UPDATE SET rule = excluded.rule, scope_key = excluded.scope_key, scope = excluded.scope,
                severity = excluded.severity, state = excluded.state, started_at = excluded.started_at,
                updated_at = excluded.updated_at, resolved_at = excluded.resolved_at, summary = excluded.summary,
                measurement = excluded.measurement, transitions = excluded.transitions, track = excluded.track,
                engine_active = 1
            """, arguments: [
                track.alertID, track.rule.rawValue, key, try json.text(track.scope), track.severity.rawValue,
                track.state?.rawValue, track.startedAt?.unix, track.updatedAt.unix, track.resolvedAt?.unix, track.summary,
                try json.textOrNull(track.measurement), track.transitions, try json.text(track),
            ])
    }

    static func transitionInfo(_ row: Row, _ json: JSONColumns) throws -> AlertTransitionInfo {
        let rule: String = row["rule"]
        let severity: String = row["severity"]
        let to: String = row["to_state"]
        let from: String? = row["from_state"]
        guard let ruleName = AlertRuleName(rawValue: rule), let sev = AlertSeverity(rawValue: severity),
              let toState = AlertState(rawValue: to), let scope = try json.value(AlertScope.self, row["scope"]) else {
            throw StorageError(.invalid, "stored transition \(row["id"] as String? ?? "?") is unreadable (rule \(rule), state \(to))")
        }
        return AlertTransitionInfo(
            id: row["id"], alertID: row["alert_id"], rule: ruleName, scope: scope, severity: sev,
            from: from.flatMap(AlertState.init(rawValue:)), to: toState, at: row.requiredDate("at"), summary: row["summary"],
            measurement: try json.value(AlertMeasurement.self, row["measurement"]), silenced: row["silenced"])
    }

    /// Retention (called by `prune`): finished deliveries created before `cutoff` with no
    /// attempt since, then the transitions before it of alerts now resolved that no delivery
    /// still names. Alert rows stay (they carry the engine's tracks).
    static func pruneAlerts(_ db: Database, before cutoff: Double) throws {
        try db.execute(sql: """
            DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'dead', 'cancelled') AND created_at < ?
                AND NOT EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = webhook_deliveries.id AND a.at >= ?)
            """, arguments: [cutoff, cutoff])
        try db.execute(sql: """
            DELETE FROM alert_transitions WHERE at < ?
                AND alert_id IN (SELECT id FROM alerts WHERE state = 'resolved')
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.transition_id = alert_transitions.id)
            """, arguments: [cutoff])
    }
}
