import CEarshotNet
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One session as the loop holds it: the pure core plus its two sockets.
final class SessionEntry {
    var core: SessionCore
    let rtpSocket: Int32
    let rtcpSocket: Int32
    let family: Int32
    /// Bumped whenever the session is (re)scheduled; older heap entries are stale.
    var generation: UInt64 = 0
    /// The bridge this session is a member of (`MediaParameters.bridge`), while it is open.
    var bridge: UInt64?
    private var cachedDestinations: [(MediaEndpoint, earshot_endpoint)] = []

    init(core: SessionCore, rtpSocket: Int32, rtcpSocket: Int32, family: Int32) {
        self.core = core
        self.rtpSocket = rtpSocket
        self.rtcpSocket = rtcpSocket
        self.family = family
    }

    /// The C form of `endpoint`, converted once per destination.
    func raw(_ endpoint: MediaEndpoint) -> earshot_endpoint {
        if let hit = cachedDestinations.first(where: { $0.0 == endpoint }) { return hit.1 }
        let raw = endpoint.raw
        if cachedDestinations.count >= 4 { cachedDestinations.removeFirst() }
        cachedDestinations.append((endpoint, raw))
        return raw
    }
}

/// Counters of one media loop (cumulative since it started).
public struct LoopStatistics: Sendable, Encodable {
    public var sessions = 0
    /// Whether the loop thread runs in SCHED_FIFO (`Configuration.realtimePriority`).
    public var realtime = false
    public var wakeups = 0
    public var timerWakeups = 0
    public var packetsSent = 0
    public var rtcpSent = 0
    public var datagramsReceived = 0
    public var receiveCalls = 0
    public var sendErrors = 0
    /// CPU time of the loop thread, seconds.
    public var cpuSeconds = 0.0
    /// Pacing lateness of every RTP packet this loop sent, µs.
    public var lateness = LatenessHistogram()

    enum CodingKeys: String, CodingKey {
        case sessions, realtime, wakeups, timerWakeups = "timer_wakeups", packetsSent = "packets_sent", rtcpSent = "rtcp_sent"
        case datagramsReceived = "datagrams_received", receiveCalls = "receive_calls", sendErrors = "send_errors"
        case cpuSeconds = "cpu_seconds", lateness = "pacing_lateness_us"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sessions, forKey: .sessions)
        try c.encode(realtime, forKey: .realtime)
        try c.encode(wakeups, forKey: .wakeups)
        try c.encode(timerWakeups, forKey: .timerWakeups)
        try c.encode(packetsSent, forKey: .packetsSent)
        try c.encode(rtcpSent, forKey: .rtcpSent)
        try c.encode(datagramsReceived, forKey: .datagramsReceived)
        try c.encode(receiveCalls, forKey: .receiveCalls)
        try c.encode(sendErrors, forKey: .sendErrors)
        try c.encode(cpuSeconds, forKey: .cpuSeconds)
        try c.encode(lateness.summary, forKey: .lateness)
    }
}

/// State touched only on the loop's thread.
final class LoopState {
    struct Deadline {
        var time: Int64
        /// A session id, or a bridge id when `isBridge`.
        var session: UInt64
        var generation: UInt64
        var isBridge = false

        /// Earlier first; at the same time a bridge's mixer before the sessions it feeds.
        func precedes(_ other: Deadline) -> Bool {
            time < other.time || (time == other.time && isBridge && !other.isBridge)
        }
    }

    static let batch = 32
    static let bufferSize = 2048

    let clock: NTPClock
    let epoll: Int32
    var sessions: [UInt64: SessionEntry] = [:]
    var bridges: [UInt64: BridgeState] = [:]
    var heap = DeadlineHeap()
    var outbox = Outbox()
    var buffers = [UInt8](repeating: 0, count: LoopState.batch * LoopState.bufferSize)
    var datagrams = [earshot_datagram](repeating: earshot_datagram(), count: LoopState.batch)
    var statistics = LoopStatistics()
    /// CLOCK_MONOTONIC − CLOCK_REALTIME for mapping kernel receive timestamps, and when it was
    /// read: refreshed once a second, not per batch (it costs nine clock reads; it moves only
    /// when the realtime clock is slewed or stepped).
    private var clockOffset: Int64 = earshot_monotonic_minus_realtime_ns()
    private var clockOffsetReadAt: Int64 = earshot_monotonic_ns()
    var isShutDown = false

    init(clock: NTPClock, epoll: Int32) {
        self.clock = clock
        self.epoll = epoll
    }

    func now() -> Int64 { earshot_monotonic_ns() }

    /// Sessions per grid phase: slot i holds the sessions whose packets are due at
    /// i · alignment (mod 20 ms).
    private var phaseLoad: [Int] = []
    private var sessionPhase: [UInt64: Int] = [:]

    /// The grid origin for a session starting at `now`: the least busy phase of the next
    /// 20 ms, aligned. Every wake-up then has about sessions / phases packets to send, so
    /// the last packet of a batch waits for fewer sends before it (sends on loopback are
    /// slow: the kernel delivers inside sendto), while wake-ups stay bounded by the number
    /// of phases — 1,000 a second with a 1 ms alignment.
    func chooseOrigin(now: Int64, alignment: Int64, periodNanoseconds: Int64 = 20_000_000) -> Int64 {
        let alignment = max(1, alignment)
        let slots = Int(max(1, periodNanoseconds / alignment))
        if phaseLoad.count != slots { phaseLoad = Array(repeating: 0, count: slots) }
        let first = (now + alignment - 1) / alignment
        var best = first
        var bestLoad = Int.max
        for candidate in first..<(first + Int64(slots)) {
            let load = phaseLoad[Int(candidate % Int64(slots))]
            if load < bestLoad {
                best = candidate
                bestLoad = load
            }
        }
        return best * alignment
    }

    /// Counts a started session in its phase.
    func notePhase(of id: UInt64, origin: Int64, alignment: Int64) {
        guard !phaseLoad.isEmpty else { return }
        let slot = Int((origin / max(1, alignment)) % Int64(phaseLoad.count))
        phaseLoad[slot] += 1
        sessionPhase[id] = slot
    }

    /// Registers a new session's sockets; tokens are `id << 1 | isRTCP`.
    func add(_ entry: SessionEntry) throws(MediaEngineError) {
        let id = entry.core.id
        let a = earshot_epoll_add(epoll, entry.rtpSocket, id << 1)
        let b = a == 0 ? earshot_epoll_add(epoll, entry.rtcpSocket, id << 1 | 1) : a
        guard a == 0, b == 0 else {
            _ = earshot_epoll_remove(epoll, entry.rtpSocket)
            throw MediaEngineError(.socketFailed, "epoll_ctl: errno \(-(a == 0 ? b : a))")
        }
        sessions[id] = entry
        statistics.sessions = sessions.count
    }

    func entry(_ id: UInt64) throws(MediaEngineError) -> SessionEntry {
        guard let entry = sessions[id] else { throw MediaEngineError(.unknownSession, "no open session \(id)") }
        return entry
    }

    /// Removes a session and closes its sockets.
    func remove(_ id: UInt64) {
        if let entry = sessions[id], let bridge = entry.bridge.flatMap({ bridges[$0] }) {
            bridge.leave(entry, now: now())
        }
        guard let entry = sessions.removeValue(forKey: id) else { return }
        if let slot = sessionPhase.removeValue(forKey: id) { phaseLoad[slot] -= 1 }
        _ = earshot_epoll_remove(epoll, entry.rtpSocket)
        _ = earshot_epoll_remove(epoll, entry.rtcpSocket)
        _ = earshot_close(entry.rtpSocket)
        _ = earshot_close(entry.rtcpSocket)
        statistics.sessions = sessions.count
    }

    /// Puts the session's next deadline on the heap (a new generation makes older entries stale).
    func reschedule(_ entry: SessionEntry) {
        entry.generation &+= 1
        if let next = entry.core.nextDeadline {
            heap.push(Deadline(time: next, session: entry.core.id, generation: entry.generation))
        }
    }

    /// Runs `body` on the session's core and sends what it put in the outbox.
    func drive(_ entry: SessionEntry, _ body: (inout SessionCore, inout Outbox) -> Void) {
        outbox.removeAll()
        body(&entry.core, &outbox)
        flush(entry)
    }

    /// Sends every session's due packets (one wake-up serves all sessions due).
    func runDue(now: Int64) {
        while let top = heap.peek, top.time <= now {
            heap.pop()
            if top.isBridge {
                if let bridge = bridges[top.session], bridge.generation == top.generation { bridge.tick(loop: self) }
                continue
            }
            guard let entry = sessions[top.session], entry.generation == top.generation else { continue }
            drive(entry) { core, outbox in core.runDue(now: now, clock: clock, into: &outbox) }
            reschedule(entry)
        }
    }

    private func flush(_ entry: SessionEntry) {
        guard !outbox.items.isEmpty else { return }
        outbox.bytes.withUnsafeBufferPointer { bytes in
            for item in outbox.items {
                let isRTP = item.socket == .rtp
                guard let destination = isRTP ? entry.core.rtpDestination : entry.core.rtcpDestination else { continue }
                var raw = entry.raw(destination)
                let result = earshot_udp_send(isRTP ? entry.rtpSocket : entry.rtcpSocket, entry.family,
                                              bytes.baseAddress! + item.range.lowerBound, item.range.count, &raw)
                if result < 0 {
                    entry.core.sendErrors += 1
                    statistics.sendErrors += 1
                }
                if let deadline = item.deadline {
                    let lateness = UInt64(max(0, earshot_monotonic_ns() - deadline) / 1000)
                    entry.core.lateness.record(lateness)
                    statistics.lateness.record(lateness)
                    statistics.packetsSent += 1
                } else {
                    statistics.rtcpSent += 1
                }
            }
        }
    }

    /// Reads what is waiting on one socket (a few batches at most; level-triggered epoll
    /// brings the loop back for the rest).
    func receive(token: UInt64) {
        let id = token >> 1
        let onRTCPSocket = token & 1 == 1
        guard let entry = sessions[id] else { return }
        let fd = onRTCPSocket ? entry.rtcpSocket : entry.rtpSocket
        for _ in 0..<4 {
            let count = buffers.withUnsafeMutableBufferPointer { buffer in
                datagrams.withUnsafeMutableBufferPointer { infos in
                    earshot_udp_receive_batch(fd, buffer.baseAddress!, LoopState.bufferSize, infos.baseAddress!,
                                              UInt32(LoopState.batch))
                }
            }
            statistics.receiveCalls += 1
            guard count > 0 else { return }
            // Arrival = the kernel's receive timestamp mapped onto the monotonic clock (what a
            // capture would record); the read time only when the kernel gave none. Never later
            // than now: a realtime clock step cannot put an arrival in the future.
            let now = earshot_monotonic_ns()
            if now - clockOffsetReadAt > 1_000_000_000 {
                clockOffset = earshot_monotonic_minus_realtime_ns()
                clockOffsetReadAt = now
            }
            let offset = clockOffset
            statistics.datagramsReceived += Int(count)
            for i in 0..<Int(count) {
                let info = datagrams[i]
                let arrival = info.has_timestamp != 0 ? min(now, info.timestamp_ns &+ offset) : now
                let start = i * LoopState.bufferSize
                let datagram = buffers[start..<(start + Int(info.length))]
                let accepted = entry.core.receive(
                    datagram, source: MediaEndpoint(info.source),
                    tos: info.has_tos != 0 ? info.tos : nil, truncated: info.truncated != 0, arrival: arrival,
                    onRTCPSocket: onRTCPSocket, clock: clock)
                if let accepted, let bridge = entry.bridge.flatMap({ bridges[$0] }) {
                    bridge.received(accepted, in: datagram, from: entry, arrival: arrival, loop: self)
                }
            }
            if count < LoopState.batch { return }
        }
    }
}

/// A binary min-heap of session deadlines.
struct DeadlineHeap {
    private var items: [LoopState.Deadline] = []

    var peek: LoopState.Deadline? { items.first }
    var count: Int { items.count }

    mutating func push(_ item: LoopState.Deadline) {
        items.append(item)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].precedes(items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var i = 0
        while true {
            let left = 2 * i + 1, right = left + 1
            var smallest = i
            if left < items.count, items[left].precedes(items[smallest]) { smallest = left }
            if right < items.count, items[right].precedes(items[smallest]) { smallest = right }
            guard smallest != i else { return }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}

/// A thread running epoll: one timerfd armed at the earliest deadline of its sessions, one
/// eventfd for commands from other threads. Each wake-up runs the queued commands, sends
/// every packet due, then reads every readable socket.
final class MediaLoop: Sendable {
    typealias Command = @Sendable (LoopState) -> Void

    private static let timerToken = UInt64.max
    private static let wakeToken = UInt64.max - 1

    let index: Int
    private let epoll: Int32
    private let timer: Int32
    private let wake: Int32
    private let queue = Mutex<(commands: [Command], closed: Bool)>(([], false))
    private let exited = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private let clock: NTPClock

    private let realtimePriority: Int32?

    init(index: Int, clock: NTPClock, realtimePriority: Int32?) throws(MediaEngineError) {
        self.index = index
        self.clock = clock
        self.realtimePriority = realtimePriority
        let epoll = earshot_epoll_create()
        let timer = earshot_timer_create()
        let wake = earshot_event_create()
        guard epoll >= 0, timer >= 0, wake >= 0,
              earshot_epoll_add(epoll, timer, Self.timerToken) == 0,
              earshot_epoll_add(epoll, wake, Self.wakeToken) == 0
        else {
            for fd in [epoll, timer, wake] where fd >= 0 { _ = earshot_close(fd) }
            throw MediaEngineError(.socketFailed, "media loop \(index): epoll/timerfd/eventfd failed")
        }
        self.epoll = epoll
        self.timer = timer
        self.wake = wake
    }

    func start() throws(MediaEngineError) {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<MediaLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<MediaLoop>.fromOpaque(box).release()
            throw MediaEngineError(.socketFailed, "media loop \(index): pthread_create failed (\(result))")
        }
        pthread_detach(thread)
    }

    /// Queues `command` for the loop thread; false when the loop has shut down.
    @discardableResult
    func submit(_ command: @escaping Command) -> Bool {
        let accepted = queue.withLock { queue in
            guard !queue.closed else { return false }
            queue.commands.append(command)
            return true
        }
        if accepted { _ = earshot_event_signal(wake) }
        return accepted
    }

    /// Runs `body` on the loop thread and returns its result.
    func perform<T: Sendable>(_ body: @escaping @Sendable (LoopState) throws(MediaEngineError) -> T) async throws(MediaEngineError) -> T {
        let result: Result<T, MediaEngineError> = await withCheckedContinuation { continuation in
            let accepted = submit { state in
                guard !state.isShutDown else {
                    continuation.resume(returning: .failure(MediaEngineError(.shutDown, "the media engine has shut down")))
                    return
                }
                continuation.resume(returning: Result { () throws(MediaEngineError) -> T in try body(state) })
            }
            if !accepted { continuation.resume(returning: .failure(MediaEngineError(.shutDown, "the media engine has shut down"))) }
        }
        return try result.get()
    }

    /// Waits until the thread has left its loop.
    func waitForExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = exited.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    private func run() {
        earshot_thread_set_name("earshot-media\(index)")
        // Timers fire up to the slack late; the media grid wants them on time.
        _ = earshot_thread_set_timer_slack(1_000)
        let state = LoopState(clock: clock, epoll: epoll)
        if let priority = realtimePriority {
            state.statistics.realtime = earshot_thread_set_realtime(priority) == 0
        }
        var events = [earshot_event](repeating: earshot_event(), count: 256)
        var readable: [UInt64] = []
        var armed: Int64 = -1
        while !state.isShutDown {
            let count = events.withUnsafeMutableBufferPointer { earshot_epoll_wait(epoll, $0.baseAddress!, Int32($0.count), -1) }
            guard count >= 0 else { break }
            state.statistics.wakeups += 1
            readable.removeAll(keepingCapacity: true)
            var commandsDue = false
            for event in events.prefix(Int(count)) {
                switch event.token {
                case Self.timerToken:
                    _ = earshot_timer_drain(timer)
                    state.statistics.timerWakeups += 1
                    armed = -1
                case Self.wakeToken:
                    earshot_event_drain(wake)
                    commandsDue = true
                default:
                    readable.append(event.token)
                }
            }
            if commandsDue { runCommands(state) }
            state.runDue(now: earshot_monotonic_ns())
            // Reading a burst of sockets can take longer than the gap to the next deadline:
            // look at the clock every few sockets so that sends are not held up behind reads.
            for (i, token) in readable.enumerated() {
                state.receive(token: token)
                if i % 8 == 7, let due = state.heap.peek?.time, due <= earshot_monotonic_ns() {
                    state.runDue(now: earshot_monotonic_ns())
                }
            }
            let next = state.heap.peek?.time ?? -1
            if next != armed {
                _ = earshot_timer_arm(timer, next)
                armed = next
            }
        }
        // Shut down: refuse new commands, answer the queued ones, release the descriptors.
        let leftover = queue.withLock { queue in
            queue.closed = true
            defer { queue.commands = [] }
            return queue.commands
        }
        state.isShutDown = true
        for command in leftover { command(state) }
        for fd in [epoll, timer, wake] { _ = earshot_close(fd) }
        let waiters = exited.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func runCommands(_ state: LoopState) {
        while true {
            let batch = queue.withLock { queue in
                defer { queue.commands.removeAll(keepingCapacity: true) }
                return queue.commands
            }
            if batch.isEmpty { return }
            for command in batch { command(state) }
        }
    }
}
