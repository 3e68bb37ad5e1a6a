import EarshotWire
import Foundation
import GRDB

// Suites. `member_count` and `unit_count` of `SuiteInfo` depend on the roster: the store
// returns 0 and the organizer fills them in.
extension SQLiteStorage {
    public func putSuite(_ spec: SuiteSpec, at: Date) async throws -> SuiteInfo {
        try await write { db in
            let json = JSONColumns()
            try db.execute(
                sql: """
                    INSERT INTO suites (name, type, spec, paused, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET type = excluded.type, spec = excluded.spec, paused = excluded.paused,
                        updated_at = excluded.updated_at
                    """,
                arguments: [spec.name, spec.type.rawValue, try json.text(spec), spec.paused, at.unix, at.unix])
            return try Self.suiteInfo(db, spec.name, json)!
        }
    }

    public func suites() async throws -> [SuiteInfo] {
        try await read { db in
            let json = JSONColumns()
            return try Row.fetchAll(db, sql: "SELECT * FROM suites ORDER BY name").map { try Self.suiteInfo($0, json) }
        }
    }

    public func suite(_ name: String) async throws -> SuiteInfo? {
        try await read { db in try Self.suiteInfo(db, name, JSONColumns()) }
    }

    public func deleteSuite(_ name: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM suites WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    public func setSuitePaused(_ name: String, paused: Bool, at: Date) async throws -> SuiteInfo {
        try await write { db in
            let json = JSONColumns()
            guard var info = try Self.suiteInfo(db, name, json) else { throw StorageError(.notFound, "no suite \(name)") }
            info.spec.paused = paused
            try db.execute(sql: "UPDATE suites SET paused = ?, spec = ?, updated_at = ? WHERE name = ?",
                           arguments: [paused, try json.text(info.spec), at.unix, name])
            return try Self.suiteInfo(db, name, json)!
        }
    }

    public func suiteRoundPlanned(_ name: String, at: Date, nextRoundAt: Date?, warning: String?,
                                  achievablePeriodS: Double?) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE suites SET last_round_at = ?, next_round_at = ?, warning = ?, achievable_period_s = ? WHERE name = ?",
                arguments: [at.unix, nextRoundAt?.unix, warning, achievablePeriodS, name])
            if db.changesCount == 0 { throw StorageError(.notFound, "no suite \(name)") }
        }
    }

    static func suiteInfo(_ db: Database, _ name: String, _ json: JSONColumns) throws -> SuiteInfo? {
        try Row.fetchOne(db, sql: "SELECT * FROM suites WHERE name = ?", arguments: [name]).map { try suiteInfo($0, json) }
    }

    static func suiteInfo(_ row: Row, _ json: JSONColumns) throws -> SuiteInfo {
        guard var spec = try json.value(SuiteSpec.self, row["spec"]) else {
            throw StorageError(.invalid, "suite \(row["name"] as String? ?? "?") has no stored spec")
        }
        spec.paused = row["paused"]
        return SuiteInfo(spec: spec, createdAt: row.requiredDate("created_at"), updatedAt: row.requiredDate("updated_at"),
                         lastRoundAt: row.date("last_round_at"), nextRoundAt: row.date("next_round_at"),
                         warning: row["warning"], achievablePeriodS: row["achievable_period_s"])
    }
}
