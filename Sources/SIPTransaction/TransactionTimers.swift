import SIPCore

/// The RFC 3261 timer base values (§17.1.1.1, §17.1.2.2, Table 4). A value passed to each
/// transaction, never a global: tests and deployments choose their own.
public struct TransactionTimers: Sendable, Hashable {
    /// T1: the RTT estimate, 500 ms by default (§17.1.1.1).
    public var t1: Duration
    /// T2: the maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s.
    public var t2: Duration
    /// T4: the maximum time a message stays in the network, 5 s.
    public var t4: Duration

    public init(t1: Duration = .milliseconds(500), t2: Duration = .seconds(4), t4: Duration = .seconds(5)) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
    }

    /// The RFC 3261 defaults: T1 500 ms, T2 4 s, T4 5 s.
    public static let rfc3261 = TransactionTimers()

    /// 64*T1: the transaction timeout (Timers B, F, H, J on unreliable transports, L, M) and the
    /// 2xx retransmission give-up time (§13.3.1.4).
    public var timeout: Duration { t1 * 64 }

    // Table 4 of RFC 3261 (and RFC 6026 §7.1, §7.2 for L and M).

    /// Timer A, the first INVITE retransmit interval (UDP only): T1 (§17.1.1.2).
    public var timerA: Duration { t1 }
    /// Timer B, INVITE transaction timeout: 64*T1 (§17.1.1.2).
    public var timerB: Duration { timeout }
    /// Timer D, wait time for response retransmissions: at least 32 s on unreliable
    /// transports, zero on reliable ones (§17.1.1.2). 32 s, or 64*T1 when that is longer.
    public func timerD(reliable: Bool) -> Duration { reliable ? .zero : max(.seconds(32), timeout) }
    /// Timer E, the first non-INVITE retransmit interval (UDP only): T1 (§17.1.2.2).
    public var timerE: Duration { t1 }
    /// Timer F, non-INVITE transaction timeout: 64*T1 (§17.1.2.2).
    public var timerF: Duration { timeout }
    /// Timer G, the first INVITE response retransmit interval: T1 (§17.2.1).
    public var timerG: Duration { t1 }
    /// Timer H, wait time for ACK receipt: 64*T1 (§17.2.1).
    public var timerH: Duration { timeout }
    /// Timer I, wait time for ACK retransmissions: T4 on unreliable transports, zero on
    /// reliable ones (§17.2.1).
    public func timerI(reliable: Bool) -> Duration { reliable ? .zero : t4 }
    /// Timer J, wait time for non-INVITE request retransmissions: 64*T1 on unreliable
    /// transports, zero on reliable ones (§17.2.2).
    public func timerJ(reliable: Bool) -> Duration { reliable ? .zero : timeout }
    /// Timer K, wait time for response retransmissions: T4 on unreliable transports, zero on
    /// reliable ones (§17.1.2.2).
    public func timerK(reliable: Bool) -> Duration { reliable ? .zero : t4 }
    /// Timer L, wait time for accepted INVITE request retransmissions: 64*T1 (RFC 6026 §7.1).
    public var timerL: Duration { timeout }
    /// Timer M, wait time for retransmissions of 2xx responses: 64*T1 (RFC 6026 §7.2).
    public var timerM: Duration { timeout }

    /// The next retransmit interval: double the previous one, capped at T2 when `capped`
    /// (Timer E §17.1.2.2, Timer G §17.2.1, 2xx retransmission §13.3.1.4); uncapped for
    /// Timer A (§17.1.1.2).
    func next(after interval: Duration, capped: Bool) -> Duration {
        capped ? min(interval * 2, t2) : interval * 2
    }
}

/// The timers a transaction or retransmitter asks its driver to run. The driver keys them by
/// (transaction, timer): one instance of each per transaction at a time.
public enum TransactionTimer: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// RFC 3261 Table 4 timers.
    case a = "A", b = "B", d = "D", e = "E", f = "F", g = "G", h = "H", i = "I", j = "J", k = "K"
    /// RFC 6026 §7.1, §7.2 timers of the Accepted states.
    case l = "L", m = "M"
    /// The UAS core's 2xx retransmission (RFC 3261 §13.3.1.4): T1, doubling to T2.
    case successRetransmit = "2xx-retransmit"
    /// The UAS core's wait for the ACK of a 2xx: 64*T1 (RFC 3261 §13.3.1.4).
    case ackWait = "ack-wait"

    public var description: String { rawValue.count == 1 ? "Timer \(rawValue)" : rawValue }
}

/// What a transaction asks its driver to do. Actions are returned in the order they must be
/// executed; `.terminated` is always last, and the driver then drops the transaction.
public enum TransactionAction: Sendable, Equatable, CustomStringConvertible {
    /// Pass the message to the transport (to the request's next hop for a client transaction,
    /// per RFC 3261 §18.2.2 for a server transaction).
    case send(SIPMessage)
    /// Start (or restart) a timer to fire after the duration.
    case startTimer(TransactionTimer, Duration)
    /// Stop a running timer; a timer the driver fires anyway after this is ignored.
    case cancelTimer(TransactionTimer)
    /// Pass a response up to the transaction user.
    case deliverResponse(SIPResponse)
    /// Pass a request up to the transaction user (the request that created a server
    /// transaction, or an ACK that arrived in the Accepted state, RFC 6026 §7.1).
    case deliverRequest(SIPRequest)
    /// The transaction gave up: no final response (Timers B, F), no ACK (Timer H, 2xx
    /// retransmission give-up of §13.3.1.4). The TU treats it as a 408 (§8.1.3.1).
    case timedOut
    /// The transport reported a failure (RFC 3261 §17.1.4, §17.2.4).
    case transportFailed
    /// The transaction is over; drop it.
    case terminated

    public var description: String {
        switch self {
        case .send(let message): "send \(message.firstLine)"
        case .startTimer(let timer, let duration): "start \(timer) \(duration)"
        case .cancelTimer(let timer): "cancel \(timer)"
        case .deliverResponse(let response): "deliver \(response.statusCode)"
        case .deliverRequest(let request): "deliver \(request.method)"
        case .timedOut: "timed out"
        case .transportFailed: "transport failed"
        case .terminated: "terminated"
        }
    }
}

extension SIPMessage {
    /// The start line as serialized ("INVITE sip:bob@example.com SIP/2.0", "SIP/2.0 200 OK").
    public var firstLine: String {
        switch self {
        case .request(let request): "\(request.method.rawValue) \(request.uri) \(request.version)"
        case .response(let response):
            response.reasonPhrase.isEmpty ? "\(response.version) \(response.statusCode)"
                : "\(response.version) \(response.statusCode) \(response.reasonPhrase)"
        }
    }
}

/// The timers a machine has asked its driver to run, so that it cancels exactly those when it
/// moves on and ignores a timer the driver fires after cancelling it.
struct RunningTimers: Sendable, Hashable {
    private var running: Set<TransactionTimer> = []

    func isRunning(_ timer: TransactionTimer) -> Bool { running.contains(timer) }

    mutating func start(_ timer: TransactionTimer, _ duration: Duration, into actions: inout [TransactionAction]) {
        running.insert(timer)
        actions.append(.startTimer(timer, duration))
    }

    mutating func cancel(_ timer: TransactionTimer, into actions: inout [TransactionAction]) {
        if running.remove(timer) != nil { actions.append(.cancelTimer(timer)) }
    }

    /// Cancels every running timer, in `TransactionTimer.allCases` order.
    mutating func cancelAll(into actions: inout [TransactionAction]) {
        for timer in TransactionTimer.allCases where running.contains(timer) {
            cancel(timer, into: &actions)
        }
    }

    /// Cancels every running timer and ends with `.terminated`.
    mutating func finish(into actions: inout [TransactionAction]) {
        cancelAll(into: &actions)
        actions.append(.terminated)
    }

    /// Whether a fired timer was running (and is now no longer).
    mutating func fired(_ timer: TransactionTimer) -> Bool { running.remove(timer) != nil }
}
