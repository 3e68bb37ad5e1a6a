import Dispatch
import Foundation
import GRDB
import Synchronization

/// Copies committed WAL frames into the database file from a connection and a thread of its
/// own (`PRAGMA wal_checkpoint(PASSIVE)` every `interval`), so that the writer — one
/// connection, one queue, on the ingest path — does not stop after a commit to checkpoint.
///
/// Durability is unchanged: a commit is durable when its WAL frames are synced (the writer's
/// `synchronous=FULL`); a checkpoint syncs the database file before the WAL is reused. The
/// writer keeps SQLite's automatic checkpoint at a higher threshold as a bound on the WAL's
/// size if this one falls behind.
final class WALCheckpointer: Sendable {
    private let queue = DispatchQueue(label: "earshot.wal-checkpoint")
    private let connection: DatabaseQueue
    private let interval: Double
    private let stopped = Atomic<Bool>(false)

    init(path: String, busyTimeout: TimeInterval, interval: Double = 0.25) throws {
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.label = "earshot.checkpoint"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        connection = try DatabaseQueue(path: path, configuration: config)
        self.interval = interval
        schedule()
    }

    private func schedule() {
        queue.asyncAfter(deadline: .now() + interval) { [weak self] in
            guard let self, !self.stopped.load(ordering: .relaxed) else { return }
            // Errors (busy, I/O) only postpone the copy: the writer's own checkpoint remains.
            try? self.connection.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
            self.schedule()
        }
    }

    /// No more checkpoints; waits for one in progress, then closes the connection.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        queue.sync {}
        try? connection.close()
    }
}
