import EarshotWire
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Results on disk until the organizer has committed them (DESIGN §3): `<state>/spool/<run>.json`,
/// written atomically (fsync, rename) *before* the result is sent, deleted only on
/// `result_ack`. Survives restarts. Bounded: beyond `limit` files the oldest is dropped, with
/// a log line and a counter (a fleet cut off for weeks must not fill the disk).
public final class ResultSpool: Sendable {
    public let directory: String
    public let limit: Int
    private let logger: Logger

    private struct State {
        /// Run id → order of arrival (older first); rebuilt from modification times on open.
        var order: [String: UInt64] = [:]
        var next: UInt64 = 0
        var dropped = 0
    }
    private let state: Mutex<State>

    /// Opens (creating) the spool; leftovers of a crash mid-write (`*.tmp`) are removed, and
    /// files that do not decode are renamed `*.bad` (kept for a person, never resent).
    public init(directory: String, limit: Int = 10_000, logger: Logger = Logger(label: "earshot.agent.spool")) throws(AgentStateError) {
        self.directory = directory
        self.limit = max(1, limit)
        self.logger = logger
        do {
            try AtomicFile.makeDirectory(directory)
        } catch {
            throw .unwritable(directory, error.description)
        }
        var found: [(runID: String, modified: Date, name: String)] = []
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            if name.hasSuffix(".tmp") {
                unlink(path)
                continue
            }
            guard name.hasSuffix(".json") else { continue }
            guard let data = FileManager.default.contents(atPath: path),
                  let result = try? WireJSON.decoder().decode(RunResult.self, from: data),
                  Self.fileName(for: result.runID) == name else {
                logger.error("spool: \(path) is not a result of this agent; renamed to .bad and left for inspection")
                rename(path, path + ".bad")
                continue
            }
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            found.append((result.runID, modified ?? .distantPast, name))
        }
        found.sort { ($0.modified, $0.name) < ($1.modified, $1.name) }
        var state = State()
        for entry in found {
            state.order[entry.runID] = state.next
            state.next += 1
        }
        self.state = Mutex(state)
    }

    /// Results waiting.
    public var count: Int { state.withLock { $0.order.count } }
    /// Results dropped because the spool was full, since this process started.
    public var dropped: Int { state.withLock { $0.dropped } }

    /// Writes (or rewrites) the result of its run, durably. When the spool is full the
    /// oldest other result is deleted first.
    public func store(_ result: RunResult) throws(AgentStateError) {
        let path = self.path(for: result.runID)
        let data: Data
        do {
            data = try WireJSON.encoder().encode(result)
        } catch {
            throw .unwritable(path, "cannot encode the result: \(error)")
        }
        do {
            try AtomicFile.write(data, to: path, mode: 0o600)
        } catch {
            throw .unwritable(path, error.description)
        }
        let evicted: [String] = state.withLock { state in
            if state.order[result.runID] == nil {
                state.order[result.runID] = state.next
                state.next += 1
            }
            var evicted: [String] = []
            while state.order.count > limit {
                guard let oldest = state.order.filter({ $0.key != result.runID }).min(by: { $0.value < $1.value })?.key else { break }
                state.order[oldest] = nil
                state.dropped += 1
                evicted.append(oldest)
            }
            return evicted
        }
        for runID in evicted {
            unlink(self.path(for: runID))
            logger.warning("spool full (\(limit) results): dropped the oldest result, run \(runID), unsent")
        }
        if !evicted.isEmpty { AtomicFile.syncDirectory(directory) }
    }

    /// Deletes the result of `runID` (acknowledged). Unknown ids are ignored.
    public func remove(runID: String) {
        let known = state.withLock { $0.order.removeValue(forKey: runID) != nil }
        guard known else { return }
        unlink(path(for: runID))
        AtomicFile.syncDirectory(directory)
    }

    /// Whether a result for `runID` is waiting.
    public func contains(runID: String) -> Bool { state.withLock { $0.order[runID] != nil } }

    /// The run ids waiting, oldest first.
    public func runIDs() -> [String] {
        state.withLock { $0.order.sorted { $0.value < $1.value }.map(\.key) }
    }

    /// The results waiting, oldest first (a file that vanished or broke is skipped, and logged).
    public func pending() -> [RunResult] {
        runIDs().compactMap { runID in
            let path = self.path(for: runID)
            guard let data = FileManager.default.contents(atPath: path),
                  let result = try? WireJSON.decoder().decode(RunResult.self, from: data) else {
                logger.error("spool: cannot read \(path); forgetting run \(runID)")
                _ = state.withLock { $0.order.removeValue(forKey: runID) }
                return nil
            }
            return result
        }
    }

    func path(for runID: String) -> String {
        (directory as NSString).appendingPathComponent(Self.fileName(for: runID))
    }

    /// `<run>.json`, the run id kept as it is when it is a safe file name ([A-Za-z0-9_.-], not
    /// starting with a dot), else percent-encoded byte by byte.
    static func fileName(for runID: String) -> String {
        var out = ""
        for (index, byte) in runID.utf8.enumerated() {
            let c = Character(Unicode.Scalar(byte))
            let safe = (c.isASCII && (c.isLetter || c.isNumber)) || c == "_" || c == "-" || (c == "." && index > 0)
            if safe {
                out.append(c)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out + ".json"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
