import EarshotWire
import Foundation
import MediaEngine
import RTPCore
import SIPCore
import SIPStack
import SIPTransaction
#if canImport(Glibc)
import Glibc
#endif

/// `earshot call --concurrent N`: N identical calls from one user agent (one process, one
/// media engine), started evenly over the ramp, each lasting the call duration once answered,
/// summed into one `LoadReport`.
struct LoadRun {
    let count: Int
    let ramp: Duration
    let duration: Duration
    let verbose: Bool

    /// Every call is up from the end of the ramp (plus its setup) until the first call hangs
    /// up (one duration after the first answer). The steady-state window keeps 1 s away from
    /// both ends; none when the calls are too short for it.
    var steadyWindow: (from: Duration, to: Duration)? {
        let from = ramp + .seconds(1)
        let to = duration - .seconds(1)
        return to - from >= .seconds(1) ? (from, to) : nil
    }

    func run(_ request: CallRequest, agent: SIPUserAgent, media: MediaEngine) async -> LoadReport {
        let clock = ContinuousClock()
        let started = clock.now
        let window = steadyWindow
        let count = count
        let ramp = ramp
        let sampler = Task { () -> LoadReport.SteadyState? in
            guard let window else { return nil }
            do {
                try await Task.sleep(until: started + window.from, clock: clock)
                let first = await Sample.take(media: media, at: clock.now - started)
                try await Task.sleep(until: started + window.to, clock: clock)
                let last = await Sample.take(media: media, at: clock.now - started)
                return Sample.between(first, last)
            } catch {
                return nil  // cancelled: the calls ended before the window did
            }
        }

        let results = await withTaskGroup(of: Placed.self) { group in
            for index in 0..<count {
                let offset = ramp * (Double(index) / Double(count))
                group.addTask {
                    try? await Task.sleep(until: started + offset, clock: clock)
                    let placedAt = clock.now - started
                    let report = await agent.placeCall(request)
                    return Placed(index: index, placedAt: placedAt, endedAt: clock.now - started, report: report)
                }
            }
            var all: [Placed] = []
            all.reserveCapacity(count)
            for await placed in group { all.append(placed) }
            return all.sorted { $0.index < $1.index }
        }
        let wall = clock.now - started
        sampler.cancel()
        let steady = await sampler.value
        let engine = try? await media.statistics()

        var report = LoadReport(
            target: request.target.description, transport: request.destination.kind.rawValue, callsRequested: count,
            rampS: ramp.seconds, durationS: duration.seconds)
        for placed in results { report.add(placed.report) }
        report.inviteTo200Ms = Quantiles(results.compactMap { $0.report.setup.inviteTo200Ms })
        report.answerToFirstRTPMs = Quantiles(results.compactMap { $0.report.setup.answerToFirstRTPMs })
        let usage = ProcessUsage.current()
        report.process = .init(cpuUserS: usage.user, cpuSystemS: usage.system, cpuS: usage.user + usage.system,
                               wallS: wall.seconds, maxRSSKB: usage.maxRSSKB)
        if var steady {
            // Calls up through the whole window: answered before it began, hung up after it ended.
            steady.callsUp = results.filter { placed in
                guard let setup = placed.report.setup.inviteTo200Ms, placed.report.actualDurationS != nil else { return false }
                return placed.placedAt.seconds + setup / 1000 <= steady.fromS && placed.endedAt.seconds >= steady.toS
            }.count
            steady.cpuPerCallPct = steady.callsUp > 0 ? steady.cores * 100 / Double(steady.callsUp) : nil
            report.steadyState = steady
        }
        report.engine = engine?.total
        if verbose { report.calls = results.map(\.report) }
        return report
    }

    private struct Placed: Sendable {
        var index: Int
        var placedAt: Duration
        var endedAt: Duration
        var report: CallReport
    }

    /// Process CPU and engine counters at one moment.
    struct Sample: Sendable {
        var at: Duration
        var usage: ProcessUsage
        var engine: LoopStatistics?

        static func take(media: MediaEngine, at: Duration) async -> Sample {
            let usage = ProcessUsage.current()
            return Sample(at: at, usage: usage, engine: try? await media.statistics().total)
        }

        /// The window from `a` to `b` (calls up not yet counted).
        static func between(_ a: Sample, _ b: Sample) -> LoadReport.SteadyState {
            let seconds = (b.at - a.at).seconds
            let cpu = b.usage.user + b.usage.system - a.usage.user - a.usage.system
            func rate(_ key: KeyPath<LoopStatistics, Int>) -> Double? {
                guard let x = a.engine, let y = b.engine, seconds > 0 else { return nil }
                return Double(y[keyPath: key] - x[keyPath: key]) / seconds
            }
            var loopCores: Double?
            if let x = a.engine, let y = b.engine, seconds > 0 { loopCores = (y.cpuSeconds - x.cpuSeconds) / seconds }
            var pacing: LatenessDifference.Summary?
            if let x = a.engine?.lateness, let y = b.engine?.lateness { pacing = LatenessDifference(from: x, to: y).summary }
            return LoadReport.SteadyState(
                fromS: a.at.seconds, toS: b.at.seconds, cpuS: cpu, cores: seconds > 0 ? cpu / seconds : 0, callsUp: 0,
                cpuPerCallPct: nil, mediaLoopCores: loopCores, rtpSentPerS: rate(\.packetsSent),
                datagramsReceivedPerS: rate(\.datagramsReceived), wakeupsPerS: rate(\.wakeups), pacingLatenessUs: pacing)
        }
    }
}

/// CPU time and peak memory of this process (getrusage).
struct ProcessUsage: Sendable {
    var user: Double
    var system: Double
    /// ru_maxrss: the peak resident set, KiB on Linux.
    var maxRSSKB: Int

    static func current() -> ProcessUsage {
        var usage = rusage()
        _ = getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return ProcessUsage(user: seconds(usage.ru_utime), system: seconds(usage.ru_stime), maxRSSKB: Int(usage.ru_maxrss))
    }
}

/// The packets recorded between two snapshots of one cumulative `LatenessHistogram` (the
/// engine's counters at both ends of the steady-state window). The histogram keeps its buckets
/// private, so both snapshots are read back through `quantile`: rank r of n is at quantile
/// (r − ½)/n, and each run of equal answers is one bucket (its middle, as `quantile` reports it;
/// the bucket holding the maximum reports the maximum). Counts per bucket value, B − A, give
/// the window's distribution at the histogram's resolution (exact below 64 µs, ≤ 3 % above).
struct LatenessDifference {
    /// Bucket value → packets in the window.
    private(set) var counts: [UInt64: Int] = [:]
    let count: Int
    let mean: Double?

    init(from a: LatenessHistogram, to b: LatenessHistogram) {
        count = b.count - a.count
        mean = count > 0 ? Double(b.sum &- a.sum) / Double(count) : nil
        var counts: [UInt64: Int] = [:]
        for (value, n) in Self.buckets(b) { counts[value, default: 0] += n }
        for (value, n) in Self.buckets(a) {
            // The bucket of a's maximum reports a's maximum, not its middle: move it to the
            // nearest value b reports at or above it (the same bucket).
            let key = counts[value] != nil ? value : (counts.keys.filter { $0 >= value }.min() ?? value)
            counts[key, default: 0] -= n
        }
        self.counts = counts.filter { $0.value > 0 }
    }

    /// (value, packets) of each occupied bucket, ascending.
    static func buckets(_ h: LatenessHistogram) -> [(UInt64, Int)] {
        let n = h.count
        guard n > 0 else { return [] }
        func value(_ rank: Int) -> UInt64 { h.quantile((Double(rank) - 0.5) / Double(n)) ?? 0 }
        var out: [(UInt64, Int)] = []
        var rank = 1
        while rank <= n {
            let v = value(rank)
            // Last rank with the same value: gallop, then bisect.
            var low = rank, step = 1
            while low + step <= n, value(low + step) == v { low += step; step *= 2 }
            var high = min(n, low + step)  // value(high) != v, or high == n
            if value(high) == v { low = high }
            while high - low > 1 {
                let mid = (low + high) / 2
                if value(mid) == v { low = mid } else { high = mid }
            }
            out.append((v, low - rank + 1))
            rank = low + 1
        }
        return out
    }

    func quantile(_ q: Double) -> UInt64? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (value, n) in counts.sorted(by: { $0.key < $1.key }) {
            seen += n
            if seen >= rank { return value }
        }
        return counts.keys.max()
    }

    struct Summary: Sendable, Encodable {
        var count: Int
        var p50: UInt64?
        var p99: UInt64?
        var p999: UInt64?
        /// The highest bucket with packets in the window (its middle, or the maximum).
        var max: UInt64?
        var mean: Double?
        /// Packets later than 0.5 ms and 1 ms.
        var over500us: Int
        var over1ms: Int
        /// The packets the recovered buckets hold: equals `count` unless the read-back failed.
        var recoveredCount: Int

        enum CodingKeys: String, CodingKey {
            case count, p50, p99, p999, max, mean, over500us = "over_500_us", over1ms = "over_1_ms"
            case recoveredCount = "recovered_count"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(count, forKey: .count)
            try c.encode(p50, forKey: .p50)
            try c.encode(p99, forKey: .p99)
            try c.encode(p999, forKey: .p999)
            try c.encode(max, forKey: .max)
            try c.encode(mean, forKey: .mean)
            try c.encode(over500us, forKey: .over500us)
            try c.encode(over1ms, forKey: .over1ms)
            try c.encode(recoveredCount, forKey: .recoveredCount)
        }
    }

    var summary: Summary {
        Summary(count: count, p50: quantile(0.5), p99: quantile(0.99), p999: quantile(0.999), max: counts.keys.max(), mean: mean,
                over500us: counts.filter { $0.key > 500 }.values.reduce(0, +), over1ms: counts.filter { $0.key > 1000 }.values.reduce(0, +),
                recoveredCount: counts.values.reduce(0, +))
    }
}

/// p50/p99/max of a set of values (nearest rank).
struct Quantiles: Sendable, Encodable {
    var count: Int
    var p50: Double
    var p99: Double
    var max: Double

    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ q: Double) -> Double { sorted[Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1)] }
        count = sorted.count
        p50 = rank(0.5)
        p99 = rank(0.99)
        max = sorted[sorted.count - 1]
    }
}

/// The summary of a load run (`--format json` prints it with these snake_case keys).
struct LoadReport: Encodable {
    struct Process: Encodable {
        var cpuUserS = 0.0
        var cpuSystemS = 0.0
        var cpuS = 0.0
        var wallS = 0.0
        var maxRSSKB = 0

        enum CodingKeys: String, CodingKey {
            case cpuUserS = "cpu_user_s", cpuSystemS = "cpu_system_s", cpuS = "cpu_s", wallS = "wall_s", maxRSSKB = "max_rss_kb"
        }
    }

    /// While every call is up: process CPU (getrusage) and the media loops' work.
    struct SteadyState: Encodable {
        var fromS: Double
        var toS: Double
        var cpuS: Double
        /// CPU seconds per second (1.0 = one core busy).
        var cores: Double
        /// Calls up through the whole window.
        var callsUp: Int
        /// `cores` / `callsUp`, in % of one core.
        var cpuPerCallPct: Double?
        var mediaLoopCores: Double?
        var rtpSentPerS: Double?
        var datagramsReceivedPerS: Double?
        var wakeupsPerS: Double?
        /// Lateness of the packets sent inside the window only.
        var pacingLatenessUs: LatenessDifference.Summary?

        enum CodingKeys: String, CodingKey {
            case fromS = "from_s", toS = "to_s", cpuS = "cpu_s", cores, callsUp = "calls_up", cpuPerCallPct = "cpu_per_call_pct"
            case mediaLoopCores = "media_loop_cores", rtpSentPerS = "rtp_sent_per_s"
            case datagramsReceivedPerS = "datagrams_received_per_s", wakeupsPerS = "wakeups_per_s"
            case pacingLatenessUs = "pacing_lateness_us"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(fromS, forKey: .fromS)
            try c.encode(toS, forKey: .toS)
            try c.encode(cpuS, forKey: .cpuS)
            try c.encode(cores, forKey: .cores)
            try c.encode(callsUp, forKey: .callsUp)
            try c.encode(cpuPerCallPct, forKey: .cpuPerCallPct)
            try c.encode(mediaLoopCores, forKey: .mediaLoopCores)
            try c.encode(rtpSentPerS, forKey: .rtpSentPerS)
            try c.encode(datagramsReceivedPerS, forKey: .datagramsReceivedPerS)
            try c.encode(wakeupsPerS, forKey: .wakeupsPerS)
            try c.encode(pacingLatenessUs, forKey: .pacingLatenessUs)
        }
    }

    var target: String
    var transport: String
    var callsRequested: Int
    var rampS: Double
    var durationS: Double
    var passed = 0
    var degraded = 0
    var failed = 0
    /// Ending cause code → calls.
    var endings: [String: Int] = [:]
    /// Problem text → calls.
    var problems: [String: Int] = [:]
    var inviteTo200Ms: Quantiles?
    var answerToFirstRTPMs: Quantiles?
    /// Both directions as this side measured them: what we sent (with the pacing lateness of
    /// every packet) and what we received, summed over every call's media report.
    var media = LoadSummary()
    /// Our packets the far end reported lost in its last RTCP report, summed (RFC 3550 §6.4.1).
    var remoteReportedLost = 0
    var process = Process()
    var steadyState: SteadyState?
    var engine: LoopStatistics?
    var calls: [CallReport]?

    init(target: String, transport: String, callsRequested: Int, rampS: Double, durationS: Double) {
        self.target = target
        self.transport = transport
        self.callsRequested = callsRequested
        self.rampS = rampS
        self.durationS = durationS
    }

    mutating func add(_ report: CallReport) {
        switch report.status {
        case "passed": passed += 1
        case "degraded": degraded += 1
        default: failed += 1
        }
        endings[report.ending.cause.code, default: 0] += 1
        for problem in report.problems { problems[problem, default: 0] += 1 }
        if let media = report.media { self.media.add(media) }
        if let outbound = report.directions.outbound { remoteReportedLost += Int(outbound.cumulativeLost) }
    }

    var lossPct: Double? {
        media.packetsExpected > 0 ? Double(media.packetsLost) * 100 / Double(media.packetsExpected) : nil
    }

    enum CodingKeys: String, CodingKey {
        case target, transport, callsRequested = "calls_requested", rampS = "ramp_s", durationS = "duration_s"
        case passed, degraded, failed, endings, problems, inviteTo200Ms = "invite_to_200_ms"
        case answerToFirstRTPMs = "answer_to_first_rtp_ms", media, lossPct = "loss_pct"
        case remoteReportedLost = "remote_reported_lost", process, steadyState = "steady_state", engine, calls
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(target, forKey: .target)
        try c.encode(transport, forKey: .transport)
        try c.encode(callsRequested, forKey: .callsRequested)
        try c.encode(rampS, forKey: .rampS)
        try c.encode(durationS, forKey: .durationS)
        try c.encode(passed, forKey: .passed)
        try c.encode(degraded, forKey: .degraded)
        try c.encode(failed, forKey: .failed)
        try c.encode(endings, forKey: .endings)
        try c.encode(problems, forKey: .problems)
        try c.encode(inviteTo200Ms, forKey: .inviteTo200Ms)
        try c.encode(answerToFirstRTPMs, forKey: .answerToFirstRTPMs)
        try c.encode(media, forKey: .media)
        try c.encode(lossPct, forKey: .lossPct)
        try c.encode(remoteReportedLost, forKey: .remoteReportedLost)
        try c.encode(process, forKey: .process)
        try c.encode(steadyState, forKey: .steadyState)
        try c.encode(engine, forKey: .engine)
        try c.encodeIfPresent(calls, forKey: .calls)
    }

    func print(format: OutputFormat) throws {
        switch format {
        case .json: CallOutput.write(try Output.json(self))
        case .text: CallOutput.write(text)
        }
    }

    var text: String {
        func f(_ value: Double?, _ digits: Int = 1) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "—" }
        func q(_ value: Quantiles?) -> String {
            value.map { "p50 \(f($0.p50)) ms, p99 \(f($0.p99)) ms, max \(f($0.max)) ms" } ?? "—"
        }
        func us(_ value: UInt64?) -> String { value.map { "\($0) µs" } ?? "—" }
        var lines: [String] = []
        lines.append("load: \(callsRequested) calls to \(target) over \(transport), ramp \(f(rampS)) s, duration \(f(durationS)) s")
        lines.append("calls: \(passed) passed, \(degraded) degraded, \(failed) failed; endings: "
            + endings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        for (problem, n) in problems.sorted(by: { $0.value > $1.value }) { lines.append("  problem (\(n) calls): \(problem)") }
        lines.append("setup INVITE→200: \(q(inviteTo200Ms)); answer→first RTP: \(q(answerToFirstRTPMs))")
        lines.append("media (this side, all calls): sent \(media.packetsSent) packets, received \(media.packetsReceived) of \(media.packetsExpected) expected, "
            + "lost \(media.packetsLost) (\(f(lossPct, 3)) %), duplicates \(media.duplicates), audio ok \(media.audioOK)/\(media.sessions), "
            + "send errors \(media.sendErrors); the far end's RTCP reports \(remoteReportedLost) of ours lost")
        let pacing = media.lateness.summary
        lines.append("pacing lateness vs the 20 ms grid (\(pacing.count) packets sent): p50 \(us(pacing.p50)), p99 \(us(pacing.p99)), max \(us(pacing.max))")
        lines.append("process: CPU \(f(process.cpuS, 2)) s (user \(f(process.cpuUserS, 2)), system \(f(process.cpuSystemS, 2))) in \(f(process.wallS)) s, max RSS \(process.maxRSSKB / 1024) MiB; "
            + "media loop threads \(engine.map { $0.realtime ? "in SCHED_FIFO" : "in the normal scheduler" } ?? "—")")
        if let s = steadyState {
            lines.append("steady state \(f(s.fromS)) s → \(f(s.toS)) s, \(s.callsUp) calls up: \(f(s.cores * 100)) % of a core, "
                + "\(f(s.cpuPerCallPct, 3)) % per call; media loop \(f(s.mediaLoopCores.map { $0 * 100 })) %, "
                + "\(f(s.rtpSentPerS, 0)) RTP sent/s, \(f(s.datagramsReceivedPerS, 0)) datagrams received/s, \(f(s.wakeupsPerS, 0)) wake-ups/s")
            if let p = s.pacingLatenessUs {
                lines.append("  pacing in the window (\(p.count) packets): p50 \(us(p.p50)), p99 \(us(p.p99)), p99.9 \(us(p.p999)), max \(us(p.max)); "
                    + "\(p.over500us) later than 0.5 ms, \(p.over1ms) later than 1 ms")
            }
        } else {
            lines.append("steady state: none (needs --duration ≥ --ramp + 3 s)")
        }
        for call in calls ?? [] {
            let inbound = call.directions.inbound?.statistics
            lines.append("  \(call.callID) \(call.status): \(call.ending.description); received \(inbound?.packetsReceived ?? 0), lost \(inbound?.packetsLost ?? 0); pacing p99 \(us(call.media?.sent.pacingLatenessUs.p99))")
        }
        return lines.joined(separator: "\n")
    }
}
