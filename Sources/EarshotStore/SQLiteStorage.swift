import EarshotWire
import Foundation
import GRDB

/// The embedded `Storage`: one SQLite file through GRDB (a `DatabasePool` in WAL mode,
/// `synchronous=FULL`, foreign keys on, a busy timeout), migrated on open. docs/storage.md
/// describes the tables, the report rule and retention.
///
/// Every method that changes data has committed when it returns. The store keeps only what
/// it is given: credentials and tokens arrive as hashes, and nothing here logs.
public final class SQLiteStorage: Storage {
    public struct Options: Sendable, Equatable {
        /// How long a writer waits for another connection's lock before failing.
        public var busyTimeout: TimeInterval
        /// Concurrent readers of the pool.
        public var maximumReaderCount: Int

        public init(busyTimeout: TimeInterval = 5, maximumReaderCount: Int = 4) {
            self.busyTimeout = busyTimeout
            self.maximumReaderCount = maximumReaderCount
        }
    }

    let pool: DatabasePool
    private let checkpointer: WALCheckpointer
    public let location: String?
    /// The directory `temporary()` made, removed with the store.
    private let temporaryDirectory: URL?

    /// Opens (creating when missing) the database at `path` and migrates it to this build's
    /// schema. Throws `StorageError.invalid` when the file is not an SQLite database or was
    /// written by a newer build, `.io` when it cannot be opened.
    public convenience init(path: String, configuration: Options = .init()) throws {
        try self.init(path: path, configuration: configuration, temporaryDirectory: nil)
    }

    private init(path: String, configuration: Options, temporaryDirectory: URL?) throws {
        var config = Configuration()
        config.busyMode = .timeout(configuration.busyTimeout)
        config.foreignKeysEnabled = true
        config.maximumReaderCount = max(1, configuration.maximumReaderCount)
        config.label = "earshot"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if !db.configuration.readonly {
                // The writer revisits the same pages (runs, participants, indexes) in every
                // ingest: 64 MiB of page cache instead of SQLite's 2 MiB saves re-reading them.
                try db.execute(sql: "PRAGMA cache_size = -65536")
                // WALCheckpointer copies the WAL into the file in the background; the writer
                // checkpoints itself only past 64 MiB of WAL (SQLite's default: 4 MiB, which
                // a busy ingest passes at every commit).
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
            }
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            throw StorageError(.io, "cannot open the database \(path): the directory \(directory) does not exist")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw Self.openError(error, path: path)
        }
        location = path
        self.temporaryDirectory = temporaryDirectory
        do {
            let migrator = Schema.migrator
            let superseded = try pool.read { db in
                try db.tableExists("grdb_migrations") ? try migrator.hasBeenSuperseded(db) : false
            }
            if superseded {
                let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }.sorted()
                throw StorageError(
                    .invalid,
                    "the database \(path) has a newer schema (migrations \(applied.joined(separator: ", "))) than this build "
                        + "knows (up to \(Schema.latest)): run a newer earshot-organizer or point --db at another file")
            }
            try migrator.migrate(pool)
            checkpointer = try WALCheckpointer(path: path, busyTimeout: configuration.busyTimeout)
        } catch let error as StorageError {
            throw error
        } catch {
            throw Self.openError(error, path: path)
        }
    }

    /// A store in a file under a fresh temporary directory (not `:memory:`: WAL and several
    /// connections behave as in production). The directory is removed when the store is.
    public static func temporary() throws -> SQLiteStorage {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-db-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw StorageError(.io, "cannot create a temporary directory \(dir.path): \(error.localizedDescription)")
        }
        return try SQLiteStorage(path: dir.appendingPathComponent("earshot.sqlite").path, configuration: .init(),
                                 temporaryDirectory: dir)
    }

    deinit {
        checkpointer.stop()
        if let temporaryDirectory {
            try? pool.close()
            try? FileManager.default.removeItem(at: temporaryDirectory)
        }
    }

    private static func openError(_ error: any Error, path: String) -> StorageError {
        if let db = error as? DatabaseError {
            switch db.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                return StorageError(.invalid, "\(path) is not an Earshot database (SQLite says: \(db.message ?? "not a database")): "
                    + "point --db at another file or move this one away")
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY:
                return StorageError(.io, "cannot open the database \(path) (\(db.message ?? "\(db.resultCode)")): check the path and its permissions")
            default:
                return StorageError(.io, "the database \(path) failed: \(db.message ?? "\(db.resultCode)")")
            }
        }
        return StorageError(.io, "the database \(path) failed: \(error)")
    }

    // MARK: - running work

    /// Runs `body` in a write transaction; errors other than `StorageError` become `.io`.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.mapped(error)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.mapped(error)
        }
    }

    static func mapped(_ error: any Error) -> StorageError {
        if let error = error as? StorageError { return error }
        if let db = error as? DatabaseError {
            if db.resultCode == .SQLITE_CONSTRAINT {
                return StorageError(.conflict, db.message ?? "constraint violated")
            }
            return StorageError(.io, "database error: \(db.message ?? "\(db.resultCode)")")
        }
        if error is EncodingError || error is DecodingError {
            return StorageError(.invalid, "stored JSON: \(describe(error))")
        }
        return StorageError(.io, "\(error)")
    }

    public func integrityCheck() async throws -> String {
        try await read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n")
        }
    }
}

extension Schema {
    static var latest: String { "v2" }
}

// MARK: - column helpers

/// Times are stored as REAL seconds since 1970.
extension Date {
    var unix: Double { timeIntervalSince1970 }
}

extension Row {
    func date(_ column: String) -> Date? {
        (self[column] as Double?).map { Date(timeIntervalSince1970: $0) }
    }

    func requiredDate(_ column: String) -> Date {
        Date(timeIntervalSince1970: self[column] as Double? ?? 0)
    }
}

/// JSON columns: the wire's keys (snake_case CodingKeys, sorted), dates as seconds since 1970 — exact
/// to the bit, and several times cheaper to write than ISO 8601 text on the ingest path.
struct JSONColumns {
    let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .secondsSince1970
        return e
    }()

    let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }()

    func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// NULL for nil.
    func textOrNull<T: Encodable>(_ value: T?) throws -> String? {
        guard let value else { return nil }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func value<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        return try decoder.decode(T.self, from: Data(text.utf8))
    }
}
