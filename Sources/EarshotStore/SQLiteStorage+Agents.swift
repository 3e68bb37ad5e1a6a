import EarshotWire
import Foundation
import GRDB

// Enrollment tokens, agents and their events.
extension SQLiteStorage {
    public func addEnrollmentToken(hash: String, site: String, labels: [String: String], expiresAt: Date,
                                   createdAt: Date) async throws {
        try await write { db in
            let json = JSONColumns()
            try db.execute(
                sql: "INSERT INTO enrollment_tokens (hash, site, labels, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [hash, site, try json.text(labels), expiresAt.unix, createdAt.unix])
        }
    }

    public func consumeEnrollmentToken(hash: String, now: Date) async throws -> (site: String, labels: [String: String])? {
        // One UPDATE decides: SQLite serializes writers, so of many racing consumers exactly
        // one sees `used_at IS NULL`.
        let token = try await write { db -> Token? in
            guard let row = try Row.fetchOne(
                db,
                sql: """
                    UPDATE enrollment_tokens SET used_at = ?
                    WHERE hash = ? AND used_at IS NULL AND expires_at > ?
                    RETURNING site, labels
                    """,
                arguments: [now.unix, hash, now.unix]) else { return nil }
            return Token(site: row["site"], labels: try JSONColumns().value([String: String].self, row["labels"]) ?? [:])
        }
        return token.map { ($0.site, $0.labels) }
    }

    private struct Token: Sendable {
        var site: String
        var labels: [String: String]
    }

    public func createAgent(_ agent: NewAgent) async throws -> AgentInfo {
        try await write { db in
            let json = JSONColumns()
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM agents WHERE name = ? AND state <> 'revoked'", arguments: [agent.name]) != nil {
                throw StorageError(.conflict, "an agent named \(agent.name) is already enrolled: pick another name or revoke that agent first")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM agents WHERE id = ?", arguments: [agent.id]) != nil {
                throw StorageError(.conflict, "an agent with id \(agent.id) exists already")
            }
            try db.execute(
                sql: """
                    INSERT INTO agents (id, name, site, labels, state, sip_contacts, credential_hash, enrolled_at, state_since)
                    VALUES (?, ?, ?, ?, 'enrolled', '[]', ?, ?, ?)
                    """,
                arguments: [agent.id, agent.name, agent.site, try json.text(agent.labels), agent.credentialHash,
                            agent.enrolledAt.unix, agent.enrolledAt.unix])
            try Self.addEvent(db, agentID: agent.id, kind: "enrolled", at: agent.enrolledAt, detail: "site \(agent.site)")
            return try Self.agentRecord(db, id: agent.id)!.info
        }
    }

    public func agent(_ idOrName: String) async throws -> AgentRecord? {
        try await read { db in try Self.resolveAgent(db, idOrName) }
    }

    public func agents() async throws -> [AgentInfo] {
        try await read { db in
            let json = JSONColumns()
            return try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY name, enrolled_at")
                .map { try Self.agentInfo($0, json) }
        }
    }

    public func agentConnected(id: String, hello: AgentHello, remoteAddress: String?, at: Date) async throws {
        try await write { db in
            let json = JSONColumns()
            let state = try Self.requireState(db, id: id)
            if state == .revoked { throw StorageError(.conflict, "agent \(id) is revoked") }
            try db.execute(
                sql: """
                    UPDATE agents SET subnet = ?, labels = ?, version = ?, sip_contacts = ?, capabilities = ?, clock = ?,
                        remote_address = ?, last_seen_at = ?, active_runs = ?, spooled = ?, state = 'online',
                        state_since = CASE WHEN state = 'online' THEN state_since ELSE ? END
                    WHERE id = ?
                    """,
                arguments: [hello.subnet, try json.text(hello.labels), hello.version, try json.text(hello.sipContacts),
                            try json.text(hello.capabilities), try json.text(hello.clock), remoteAddress, at.unix,
                            hello.activeRuns.count, hello.spooled, at.unix, id])
            if state != .online {
                try Self.addEvent(db, agentID: id, kind: "online", at: at, detail: remoteAddress.map { "from \($0)" })
            }
        }
    }

    public func agentSeen(id: String, at: Date, activeRuns: Int, spooled: Int) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE agents SET last_seen_at = ?, active_runs = ?, spooled = ? WHERE id = ?",
                           arguments: [at.unix, activeRuns, spooled, id])
            if db.changesCount == 0 { throw StorageError(.notFound, "no agent \(id)") }
        }
    }

    public func agentOffline(id: String, at: Date, reason: String) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE agents SET state = 'offline', state_since = ?, active_runs = 0 WHERE id = ? AND state = 'online'",
                           arguments: [at.unix, id])
            if db.changesCount > 0 {
                try Self.addEvent(db, agentID: id, kind: "offline", at: at, detail: reason)
            } else {
                _ = try Self.requireState(db, id: id)
            }
        }
    }

    public func revokeAgent(id: String, at: Date) async throws -> AgentInfo {
        try await write { db in
            guard let record = try Self.resolveAgent(db, id) else { throw StorageError(.notFound, "no agent \(id)") }
            if record.info.state != .revoked {
                try db.execute(sql: "UPDATE agents SET state = 'revoked', state_since = ?, active_runs = 0 WHERE id = ?",
                               arguments: [at.unix, record.info.id])
                try Self.addEvent(db, agentID: record.info.id, kind: "revoked", at: at, detail: nil)
            }
            return try Self.agentRecord(db, id: record.info.id)!.info
        }
    }

    public func changeLabels(id: String, change: LabelChange, at: Date) async throws -> AgentInfo {
        try await write { db in
            let json = JSONColumns()
            guard let record = try Self.resolveAgent(db, id) else { throw StorageError(.notFound, "no agent \(id)") }
            var labels = record.info.labels
            for key in change.remove { labels[key] = nil }
            for (key, value) in change.set { labels[key] = value }
            if labels != record.info.labels {
                try db.execute(sql: "UPDATE agents SET labels = ? WHERE id = ?", arguments: [try json.text(labels), record.info.id])
                try Self.addEvent(db, agentID: record.info.id, kind: "labels_changed", at: at, detail: try json.text(change))
            }
            return try Self.agentRecord(db, id: record.info.id)!.info
        }
    }

    /// Events in time order. With `since`: the first `limit` events at or after it (a cursor
    /// for readers such as alert rules). Without: the latest `limit` events.
    public func agentEvents(agentID: String?, since: Date?, limit: Int) async throws -> [AgentEvent] {
        try await read { db in
            var filter = SQLFilter()
            if let agentID {
                filter.add("agent_id = ?", try Self.resolveAgent(db, agentID)?.info.id ?? agentID)
            }
            filter.add("at >= ?", since?.unix)
            let order = since == nil ? "DESC" : "ASC"
            var arguments = filter.arguments
            arguments += [max(0, limit)]
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM agent_events \(filter.sql) ORDER BY at \(order), id \(order) LIMIT ?", arguments: arguments)
            let events = rows.map { AgentEvent(agentID: $0["agent_id"], kind: $0["kind"], at: $0.requiredDate("at"), detail: $0["detail"]) }
            return since == nil ? events.reversed() : events
        }
    }

    // MARK: - helpers

    static func addEvent(_ db: Database, agentID: String, kind: String, at: Date, detail: String?) throws {
        try db.execute(sql: "INSERT INTO agent_events (agent_id, kind, at, detail) VALUES (?, ?, ?, ?)",
                       arguments: [agentID, kind, at.unix, detail])
    }

    static func requireState(_ db: Database, id: String) throws -> AgentState {
        guard let text = try String.fetchOne(db, sql: "SELECT state FROM agents WHERE id = ?", arguments: [id]) else {
            throw StorageError(.notFound, "no agent \(id)")
        }
        return AgentState(rawValue: text) ?? .offline
    }

    /// By id; else the live agent of that name; else the latest revoked one of that name.
    static func resolveAgent(_ db: Database, _ idOrName: String) throws -> AgentRecord? {
        if let byID = try agentRecord(db, id: idOrName) { return byID }
        let json = JSONColumns()
        let row = try Row.fetchOne(
            db,
            sql: "SELECT * FROM agents WHERE name = ? ORDER BY state = 'revoked', enrolled_at DESC LIMIT 1",
            arguments: [idOrName])
        return try row.map { AgentRecord(info: try agentInfo($0, json), credentialHash: $0["credential_hash"]) }
    }

    static func agentRecord(_ db: Database, id: String) throws -> AgentRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [id]) else { return nil }
        return AgentRecord(info: try agentInfo(row, JSONColumns()), credentialHash: row["credential_hash"])
    }

    static func agentInfo(_ row: Row, _ json: JSONColumns) throws -> AgentInfo {
        AgentInfo(
            id: row["id"], name: row["name"], site: row["site"], subnet: row["subnet"],
            labels: try json.value([String: String].self, row["labels"]) ?? [:], version: row["version"],
            state: AgentState(rawValue: row["state"]) ?? .offline,
            sipContacts: try json.value([SIPContact].self, row["sip_contacts"]) ?? [],
            capabilities: try json.value(AgentCapabilities.self, row["capabilities"]),
            clock: try json.value(ClockQuality.self, row["clock"]), enrolledAt: row.requiredDate("enrolled_at"),
            lastSeenAt: row.date("last_seen_at"), stateSince: row.date("state_since"),
            remoteAddress: row["remote_address"], activeRuns: row["active_runs"], spooled: row["spooled"])
    }
}
