import CEarshotNet
import RTPCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A session's handle: what the SDP needs (address and port) and what the engine needs to
/// find it again.
public struct MediaSession: Sendable, Hashable {
    public let id: UInt64
    public let localAddress: String
    public let rtpPort: UInt16
    public var rtcpPort: UInt16 { rtpPort + 1 }
    let loop: Int
}

/// RTP/RTCP media for test calls: paced G.711 senders carrying the test signal, receivers
/// with RFC 3550 statistics, the audio check and RFC 4733 DTMF, RTCP with round-trip time,
/// DSCP marking and reading — on dedicated media loop threads (epoll + timerfd), not NIO
/// (docs/engine-media.md says why).
///
/// All methods may be called from any thread or task; each session lives on one loop.
public final class MediaEngine: Sendable {
    public let configuration: Configuration
    let loops: [MediaLoop]
    private let allocator: Mutex<PortAllocator>
    let nextID = Atomic<UInt64>(1)
    private let seed: UInt64
    private let frames = SignalFrameCache()
    private let settings: SessionSettings
    private let bindEndpoint: MediaEndpoint

    public init(configuration: Configuration = Configuration()) throws(MediaEngineError) {
        guard let bind = MediaEndpoint(host: configuration.bindAddress, port: 0) else {
            throw MediaEngineError(.invalidAddress, "bind address \"\(configuration.bindAddress)\" is not a numeric IPv4 or IPv6 address")
        }
        guard configuration.dscp < 64 else { throw MediaEngineError(.invalidParameters, "DSCP \(configuration.dscp): need 0...63") }
        guard (1...64).contains(configuration.loopCount) else {
            throw MediaEngineError(.invalidParameters, "loop count \(configuration.loopCount): need 1...64")
        }
        guard configuration.rtcpIntervalSeconds.isFinite, configuration.rtcpIntervalSeconds >= 0.01 else {
            throw MediaEngineError(.invalidParameters, "RTCP interval \(configuration.rtcpIntervalSeconds) s: need at least 0.01")
        }
        guard configuration.portRange.lowerBound > 0 else {
            throw MediaEngineError(.invalidParameters, "port range \(configuration.portRange) includes 0 (which binds any port)")
        }
        let allocator = PortAllocator(range: configuration.portRange)
        guard allocator.pairCount > 0 else {
            throw MediaEngineError(.invalidParameters, "port range \(configuration.portRange) holds no even/odd RTP/RTCP pair")
        }
        self.configuration = configuration
        self.allocator = Mutex(allocator)
        self.bindEndpoint = bind
        var system = SystemRandomNumberGenerator()
        self.seed = configuration.seed ?? system.next()
        self.settings = SessionSettings(
            rtcpIntervalNanoseconds: Int64(configuration.rtcpIntervalSeconds * 1e9),
            startAlignmentNanoseconds: configuration.startAlignmentNanoseconds,
            jitterBufferMs: configuration.jitterBufferMs, concealment: configuration.concealment,
            cname: configuration.cname ?? "earshot@\(bind.host)", earlyPacketLimit: configuration.earlyPacketLimit,
            dscp: configuration.dscp)
        var seconds: Int64 = 0
        var nanoseconds: UInt32 = 0
        let monotonic = earshot_monotonic_ns()
        earshot_realtime(&seconds, &nanoseconds)
        let clock = NTPClock(monotonicBase: monotonic, unixSeconds: seconds, unixNanoseconds: nanoseconds)
        var loops: [MediaLoop] = []
        for index in 0..<configuration.loopCount {
            let loop = try MediaLoop(index: index, clock: clock, realtimePriority: configuration.realtimePriority)
            try loop.start()
            loops.append(loop)
        }
        self.loops = loops
    }

    // MARK: Sessions

    /// Allocates an RTP/RTCP port pair on `localAddress` (default: the configured bind
    /// address) and registers the session on a loop. It receives (and keeps early packets)
    /// from now on; `start` begins sending.
    public func openSession(localAddress: String? = nil) async throws(MediaEngineError) -> MediaSession {
        try await openSession(localAddress: localAddress, loop: nil)
    }

    /// `loop`: the loop index to use (a bridge's); nil spreads sessions over the loops by id.
    func openSession(localAddress: String?, loop: Int?) async throws(MediaEngineError) -> MediaSession {
        var local = bindEndpoint
        if let localAddress {
            guard let parsed = MediaEndpoint(host: localAddress, port: 0) else {
                throw MediaEngineError(.invalidAddress, "local address \"\(localAddress)\" is not a numeric IPv4 or IPv6 address")
            }
            local = parsed
        }
        let dscp = Int32(configuration.dscp)
        let (port, sockets) = try allocator.withLock { (allocator) throws(MediaEngineError) -> (port: UInt16, sockets: (Int32, Int32)) in
            try allocator.allocate { port -> PortAllocator.BindOutcome<(Int32, Int32)> in
                var rtp = local.with(port: port).raw
                var rtcp = local.with(port: port + 1).raw
                let a = earshot_udp_open(&rtp, dscp)
                guard a >= 0 else { return Self.outcome(errno: -a, port: port) }
                let b = earshot_udp_open(&rtcp, dscp)
                guard b >= 0 else {
                    _ = earshot_close(a)
                    return Self.outcome(errno: -b, port: port + 1)
                }
                return .bound((a, b))
            }
        }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let loopIndex = loop ?? Int(id % UInt64(loops.count))
        var mixer = SplitMix64(seed: seed ^ (id &* 0x9E37_79B9_7F4A_7C15))
        let core = SessionCore(id: id, local: local.with(port: port), settings: settings, seed: mixer.next())
        let entry = SessionEntry(core: core, rtpSocket: sockets.0, rtcpSocket: sockets.1, family: Int32(local.family))
        let transfer = UncheckedTransfer(entry)
        do throws(MediaEngineError) {
            try await loops[loopIndex].perform { (state) throws(MediaEngineError) in try state.add(transfer.value) }
        } catch {
            _ = earshot_close(sockets.0)
            _ = earshot_close(sockets.1)
            allocator.withLock { $0.release(port) }
            throw error
        }
        return MediaSession(id: id, localAddress: local.host, rtpPort: port, loop: loopIndex)
    }

    private static func outcome(errno: Int32, port: UInt16) -> PortAllocator.BindOutcome<(Int32, Int32)> {
        if errno == EADDRINUSE || errno == EACCES { return .busy }
        return .failed(MediaEngineError(.socketFailed, "cannot bind UDP port \(port): errno \(errno)"))
    }

    /// Starts sending to `parameters.remote` and measuring what arrives.
    public func start(_ session: MediaSession, _ parameters: MediaParameters) async throws(MediaEngineError) {
        try SessionCore.validate(parameters)
        let frames = self.frames.frames(toneFrequency: parameters.toneFrequency, law: parameters.law ?? .muLaw,
                                        samplesPerPacket: parameters.ptimeMs * 8)
        try await loop(session).perform { (state) throws(MediaEngineError) in
            let entry = try state.entry(session.id)
            let now = state.now()
            let alignment = entry.core.settings.startAlignmentNanoseconds
            guard let handle = parameters.bridge else {
                let origin = state.chooseOrigin(now: now, alignment: alignment)
                try entry.core.start(parameters, now: now, origin: origin, frames: frames, clock: state.clock)
                state.notePhase(of: session.id, origin: origin, alignment: alignment)
                state.reschedule(entry)
                return
            }
            guard handle.loop == session.loop else {
                throw MediaEngineError(.invalidParameters,
                                       "session \(session.id) is not on bridge \(handle.id)'s media loop: open it with openSession(on:)")
            }
            let bridge = try state.bridge(handle.id)
            guard !entry.core.isStarted else { throw MediaEngineError(.alreadyStarted, "session \(session.id) is already started") }
            try bridge.checkRoom()
            let (origin, phase) = bridge.memberOrigin(now: now, alignment: alignment)
            try entry.core.start(parameters, now: now, origin: origin, frames: frames, clock: state.clock)
            bridge.join(entry, parameters: parameters, phase: phase, now: now)
            state.notePhase(of: session.id, origin: origin, alignment: alignment)
            state.reschedule(entry)
        }
    }

    /// A re-INVITE (or UPDATE) changed the remote's address or ports.
    public func updateRemote(_ session: MediaSession, remote: MediaEndpoint, rtcpRemotePort: UInt16? = nil) async throws(MediaEngineError) {
        try await loop(session).perform { (state) throws(MediaEngineError) in
            try state.entry(session.id).core.updateRemote(remote, rtcpPort: rtcpRemotePort)
        }
    }

    /// Queues RFC 4733 digits (0-9 * # A-D): each lasts `durationMs`, then audio resumes
    /// for `gapMs` before the next.
    public func sendDTMF(_ session: MediaSession, digits: String, durationMs: Int = 100, gapMs: Int = 100) async throws(MediaEngineError) {
        try await loop(session).perform { (state) throws(MediaEngineError) in
            try state.entry(session.id).core.queueDigits(digits, durationMs: durationMs, gapMs: gapMs)
        }
    }

    /// Stops the outgoing RTP and sends an SR with the final counts; the session keeps
    /// receiving and reporting until `stop`. Lets both ends of a call stop sending, wait for
    /// packets in flight, and then compare received with sent exactly.
    public func stopSending(_ session: MediaSession) async throws(MediaEngineError) {
        try await loop(session).perform { (state) throws(MediaEngineError) in
            let entry = try state.entry(session.id)
            let now = state.now()
            state.drive(entry) { core, outbox in core.stopSending(now: now, clock: state.clock, into: &outbox) }
            state.reschedule(entry)
        }
    }

    /// The session's report so far; the session goes on.
    public func report(_ session: MediaSession) async throws(MediaEngineError) -> MediaReport {
        try await loop(session).perform { (state) throws(MediaEngineError) in
            let entry = try state.entry(session.id)
            let now = state.now()
            entry.core.expireEvents(now: now)
            return entry.core.report(now: now)
        }
    }

    /// Ends the session: a final SR + BYE, the sockets closed, the ports released; returns
    /// the final report.
    public func stop(_ session: MediaSession) async throws(MediaEngineError) -> MediaReport {
        let report = try await loop(session).perform { (state) throws(MediaEngineError) -> MediaReport in
            let entry = try state.entry(session.id)
            let now = state.now()
            state.drive(entry) { core, outbox in core.finish(now: now, clock: state.clock, into: &outbox) }
            let report = entry.core.report(now: now)
            state.remove(session.id)
            return report
        }
        allocator.withLock { $0.release(session.rtpPort) }
        return report
    }

    /// Ends every session (with BYE) and stops the loop threads. Later calls fail with `.shutDown`.
    public func shutdown() async {
        for loop in loops where loop.submit(Self.endEverything) {
            await loop.waitForExit()
        }
        allocator.withLock { $0 = PortAllocator(range: configuration.portRange) }
    }

    /// An engine dropped without `shutdown()` still ends its sessions and threads (without waiting).
    deinit {
        for loop in loops { loop.submit(Self.endEverything) }
    }

    private static let endEverything: MediaLoop.Command = { state in
        let now = state.now()
        for id in Array(state.sessions.keys) {
            if let entry = state.sessions[id] {
                state.drive(entry) { core, outbox in core.finish(now: now, clock: state.clock, into: &outbox) }
            }
            state.remove(id)
        }
        state.bridges.removeAll()
        state.isShutDown = true
    }

    /// Counters of every loop, summed, with the pacing lateness of every packet sent.
    public func statistics() async throws(MediaEngineError) -> EngineStatistics {
        var perLoop: [LoopStatistics] = []
        for loop in loops {
            perLoop.append(try await loop.perform { state in
                var statistics = state.statistics
                statistics.cpuSeconds = Double(earshot_thread_cpu_ns()) / 1e9
                return statistics
            })
        }
        return EngineStatistics(loops: perLoop)
    }

    func loop(_ session: MediaSession) -> MediaLoop { loops[session.loop % loops.count] }
}

/// Engine-wide counters (for benchmarks): the loops' counters and their sum.
public struct EngineStatistics: Sendable, Encodable {
    public var loops: [LoopStatistics]
    public var total: LoopStatistics

    init(loops: [LoopStatistics]) {
        self.loops = loops
        var total = LoopStatistics()
        for loop in loops {
            total.sessions += loop.sessions
            total.realtime = total.realtime || loop.realtime
            total.wakeups += loop.wakeups
            total.timerWakeups += loop.timerWakeups
            total.packetsSent += loop.packetsSent
            total.rtcpSent += loop.rtcpSent
            total.datagramsReceived += loop.datagramsReceived
            total.receiveCalls += loop.receiveCalls
            total.sendErrors += loop.sendErrors
            total.cpuSeconds += loop.cpuSeconds
            total.lateness.merge(loop.lateness)
        }
        self.total = total
    }
}

/// Hands a value created on one thread to the loop thread that becomes its only user.
struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
