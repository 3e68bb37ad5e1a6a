import SIPCore

/// The UAS core's retransmission of a 2xx to an INVITE until its ACK arrives (RFC 3261
/// §13.3.1.4): the 2xx is passed to the transport again after T1, then at intervals doubling
/// up to T2; an ACK with the 2xx's CSeq number stops it; after 64*T1 without an ACK it gives
/// up with `.timedOut`, and the TU ends the session with a BYE (cause `ack_timeout`).
///
/// This is independent of the transport: §13.3.1.4 retransmits over TCP and TLS too, because a
/// hop further on may be UDP. The user agent holds one per 2xx it sent (one per dialog), and
/// also passes each retransmission through the server transaction when that is still in
/// Accepted (RFC 6026 §7.1) — or straight to the transport, which is equivalent.
public struct AcceptedInviteRetransmitter: Sendable {
    public enum State: String, Sendable, Hashable { case waitingForACK, acknowledged, gaveUp }

    public let response: SIPResponse
    public let timers: TransactionTimers
    /// The CSeq number the ACK must carry (the INVITE's, §13.2.2.4).
    public let sequence: UInt32
    public private(set) var state: State = .waitingForACK
    /// How many times the 2xx has been retransmitted (the first send not counted).
    public private(set) var retransmissions = 0

    private var interval: Duration
    private var running = RunningTimers()

    public init(response: SIPResponse, timers: TransactionTimers = .rfc3261) throws(SIPTransactionError) {
        guard (200...299).contains(response.statusCode) else {
            throw .notApplicable("only a 2xx is retransmitted by the UAS core, not \(response.statusCode)")
        }
        self.sequence = try response.headers.requiredCSeq.sequence
        self.response = response
        self.timers = timers
        self.interval = timers.t1
    }

    /// Starts the two timers. The 2xx itself is sent through the server transaction
    /// (`ServerTransaction.respond(_:)`), so it is not among the actions.
    public mutating func start() -> [TransactionAction] {
        guard state == .waitingForACK, !running.isRunning(.ackWait) else { return [] }
        var actions: [TransactionAction] = []
        running.start(.successRetransmit, interval, into: &actions)
        running.start(.ackWait, timers.timeout, into: &actions)
        return actions
    }

    /// Whether `ack` acknowledges this 2xx: an ACK with the same Call-ID, From tag, To tag
    /// (the dialog) and CSeq number (§13.3.1.4, §17.2.3 does not apply: a new transaction).
    public func matches(_ ack: SIPRequest) -> Bool {
        guard ack.method == .ack,
              let cseq = try? ack.headers.cseq, cseq.sequence == sequence,
              let callID = try? ack.headers.callID, callID == (try? response.headers.callID),
              let from = try? ack.headers.from, let to = try? ack.headers.to,
              let ourFrom = try? response.headers.from, let ourTo = try? response.headers.to
        else { return false }
        return from.tag == ourFrom.tag && to.tag == ourTo.tag
    }

    /// An ACK for the 2xx arrived: stop retransmitting (§13.3.1.4). ACKs that do not match
    /// return no actions.
    public mutating func receiveACK(_ ack: SIPRequest) -> [TransactionAction] {
        guard state == .waitingForACK, matches(ack) else { return [] }
        var actions: [TransactionAction] = []
        state = .acknowledged
        running.finish(into: &actions)
        return actions
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        guard state == .waitingForACK, running.fired(timer) else { return [] }
        var actions: [TransactionAction] = []
        switch timer {
        case .successRetransmit:
            actions.append(.send(.response(response)))
            retransmissions += 1
            interval = timers.next(after: interval, capped: true)
            running.start(.successRetransmit, interval, into: &actions)
        case .ackWait:
            // §13.3.1.4: "the dialog is confirmed, but the session SHOULD be terminated" (BYE).
            state = .gaveUp
            actions.append(.timedOut)
            running.finish(into: &actions)
        default:
            break
        }
        return actions
    }
}
