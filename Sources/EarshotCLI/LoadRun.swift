import Foundation
import MediaEngine
import SIPStack
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
            return LoadReport.SteadyState(
                fromS: a.at.seconds, toS: b.at.seconds, cpuS: cpu, cores: seconds > 0 ? cpu / seconds : 0, callsUp: 0,
                cpuPerCallPct: nil, mediaLoopCores: loopCores, rtpSentPerS: rate(\.packetsSent),
                datagramsReceivedPerS: rate(\.datagramsReceived), wakeupsPerS: rate(\.wakeups))
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

        enum CodingKeys: String, CodingKey {
            case fromS = "from_s", toS = "to_s", cpuS = "cpu_s", cores, callsUp = "calls_up", cpuPerCallPct = "cpu_per_call_pct"
            case mediaLoopCores = "media_loop_cores", rtpSentPerS = "rtp_sent_per_s"
            case datagramsReceivedPerS = "datagrams_received_per_s", wakeupsPerS = "wakeups_per_s"
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
        lines.append("process: CPU \(f(process.cpuS, 2)) s (user \(f(process.cpuUserS, 2)), system \(f(process.cpuSystemS, 2))) in \(f(process.wallS)) s, max RSS \(process.maxRSSKB / 1024) MiB")
        if let s = steadyState {
            lines.append("steady state \(f(s.fromS)) s → \(f(s.toS)) s, \(s.callsUp) calls up: \(f(s.cores * 100)) % of a core, "
                + "\(f(s.cpuPerCallPct, 3)) % per call; media loop \(f(s.mediaLoopCores.map { $0 * 100 })) %, "
                + "\(f(s.rtpSentPerS, 0)) RTP sent/s, \(f(s.datagramsReceivedPerS, 0)) datagrams received/s, \(f(s.wakeupsPerS, 0)) wake-ups/s")
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
