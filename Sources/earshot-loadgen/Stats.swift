import Foundation
import Synchronization

/// Latency samples (milliseconds) from many tasks.
final class LatencyRecorder: Sendable {
    private let samples = Mutex<[Double]>([])

    func record(_ milliseconds: Double) {
        samples.withLock { $0.append(milliseconds) }
    }

    var count: Int { samples.withLock { $0.count } }

    func summary() -> LatencySummary {
        LatencySummary(samples.withLock { $0 })
    }
}

struct LatencySummary: Codable, Equatable {
    var count: Int
    var p50Ms: Double?
    var p90Ms: Double?
    var p99Ms: Double?
    var maxMs: Double?
    var meanMs: Double?

    enum CodingKeys: String, CodingKey {
        case count, p50Ms = "p50_ms", p90Ms = "p90_ms", p99Ms = "p99_ms", maxMs = "max_ms", meanMs = "mean_ms"
    }

    /// Nearest-rank percentiles.
    init(_ values: [Double]) {
        let sorted = values.sorted()
        count = sorted.count
        func rank(_ p: Double) -> Double? {
            sorted.isEmpty ? nil : sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
        }
        p50Ms = rank(0.50).map(round3)
        p90Ms = rank(0.90).map(round3)
        p99Ms = rank(0.99).map(round3)
        maxMs = sorted.last.map(round3)
        meanMs = sorted.isEmpty ? nil : round3(sorted.reduce(0, +) / Double(sorted.count))
    }
}

func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

/// Counters shared by the simulated agents.
final class Counters: Sendable {
    private let values = Mutex<[String: Int]>([:])

    func add(_ key: String, _ n: Int = 1) {
        values.withLock { $0[key, default: 0] += n }
    }

    subscript(key: String) -> Int { values.withLock { $0[key] ?? 0 } }

    var all: [String: Int] { values.withLock { $0 } }
}

/// A counting semaphore for tasks (never blocks a thread).
final class AsyncLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(_ permits: Int) {
        state = Mutex(State(available: max(1, permits)))
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// Monotonic time in milliseconds.
func nowMs() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
}

/// Prints a value as sorted, pretty JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Progress and problems go to standard error, so standard output stays one JSON document.
func note(_ text: String) {
    FileHandle.standardError.write(Data("earshot-loadgen: \(text)\n".utf8))
}
