import EarshotStore
import EarshotWire
import Foundation
import GRDB
import InteropTestSupport
import Testing

@Suite struct OpeningTests {
    @Test func newFileIsMigratedWithEveryTable() async throws {
        let dir = try ScratchDirectory(prefix: "store")
        let path = dir.path("earshot.sqlite")
        do {
            let store = try SQLiteStorage(path: path)
            #expect(store.location == path)
            #expect(try await store.integrityCheck() == "ok")
        }
        let queue = try DatabaseQueue(path: path)
        let (tables, migrations, journal) = try await queue.read { db in
            (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"),
             try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
             try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(tables == ["agent_events", "agents", "alert_rule_patches", "alert_transitions", "alerts", "delivery_attempts",
                           "enrollment_tokens", "evidence", "grdb_migrations", "meta", "participants", "rollups_daily",
                           "rollups_hourly", "rounds", "runs", "silences", "stream_metrics", "suites", "webhook_deliveries",
                           "webhook_endpoints"])
        #expect(migrations == ["v1", "v2", "v3"])
        #expect(journal == "wal")
    }

    @Test func reopeningKeepsDataAndDoesNotMigrateAgain() async throws {
        let dir = try ScratchDirectory(prefix: "store")
        let path = dir.path("earshot.sqlite")
        do {
            let store = try SQLiteStorage(path: path)
            _ = try await store.createAgent(newAgent("a1", "alpha"))
            _ = try await store.putSuite(SuiteSpec(name: "mesh", type: .p2p), at: t0)
        }
        let again = try SQLiteStorage(path: path)
        #expect(try await again.agents().map(\.name) == ["alpha"])
        #expect(try await again.suite("mesh")?.createdAt == t0)
        let queue = try DatabaseQueue(path: path)
        #expect(try await queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations") } == 3)
    }

    @Test func aFileThatIsNotADatabaseIsRefusedClearly() throws {
        let dir = try ScratchDirectory(prefix: "store")
        let path = try dir.write(Array("this is a text file, not SQLite. ".utf8) + [UInt8](repeating: 0x41, count: 4096), to: "notes.txt")
        #expect {
            _ = try SQLiteStorage(path: path)
        } throws: { error in
            guard let error = error as? StorageError else { return false }
            return error.kind == .invalid && error.message.contains("is not an Earshot database")
        }
    }

    @Test func aNewerSchemaIsRefusedClearly() async throws {
        let dir = try ScratchDirectory(prefix: "store")
        let path = dir.path("earshot.sqlite")
        do { _ = try SQLiteStorage(path: path) }
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
        try queue.close()
        #expect {
            _ = try SQLiteStorage(path: path)
        } throws: { error in
            guard let error = error as? StorageError else { return false }
            return error.kind == .invalid && error.message.contains("newer schema") && error.message.contains("v99")
        }
    }

    @Test func aMissingDirectoryIsAnIOError() throws {
        #expect(throws: StorageError.self) {
            _ = try SQLiteStorage(path: "/nonexistent-earshot-dir/x/earshot.sqlite")
        }
        do {
            _ = try SQLiteStorage(path: "/nonexistent-earshot-dir/x/earshot.sqlite")
        } catch let error as StorageError {
            #expect(error.kind == .io)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func temporaryStoreLivesInItsOwnDirectoryAndIsRemoved() async throws {
        var path = ""
        do {
            let store = try SQLiteStorage.temporary()
            path = try #require(store.location)
            #expect(path.hasSuffix("/earshot.sqlite"))
            #expect(FileManager.default.fileExists(atPath: path))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func integrityCheckIsOK() async throws {
        let store = try await storeWithAgents()
        try await finishedRun(store, "run-1", caller: "a1", callee: "a2", status: .passed, endedAt: at(20), forward: 4.1, backward: 4.0)
        #expect(try await store.integrityCheck() == "ok")
    }
}
