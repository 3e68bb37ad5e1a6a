import SIPCore

/// A client transaction (RFC 3261 §17.1) as a value: the driver creates it for a request it
/// sends, executes the actions each call returns, feeds it the responses whose
/// `TransactionKey(clientResponse:)` equals `key`, fires its timers, and drops it on
/// `.terminated`.
///
/// INVITE (§17.1.1, with the RFC 6026 Accepted state):
/// ```
/// Calling --1xx--> Proceeding --300-699 (ACK sent)--> Completed --Timer D--> Terminated
///    |                 |--2xx--> Accepted --Timer M--> Terminated
///    |--Timer B--> Terminated (timed out)
/// ```
/// Non-INVITE (§17.1.2): Trying --1xx--> Proceeding --final--> Completed --Timer K--> Terminated;
/// Timer F in Trying or Proceeding times out.
public struct ClientTransaction: Sendable {
    public enum State: String, Sendable, Hashable {
        case calling, trying, proceeding, completed, accepted, terminated
    }

    public let request: SIPRequest
    public let key: TransactionKey
    /// Whether the transport is reliable (TCP, TLS, SCTP): no retransmissions, zero wait timers.
    public let reliable: Bool
    public let timers: TransactionTimers
    public private(set) var state: State
    /// The ACK this transaction sent for a non-2xx final response (§17.1.1.3).
    public private(set) var ack: SIPRequest?
    /// The last response passed to the TU.
    public private(set) var lastResponse: SIPResponse?

    private var isInvite: Bool { request.method == .invite }
    private var interval: Duration
    private var running = RunningTimers()

    /// `request` must carry a top Via with a branch (the key) and a CSeq; an ACK is never sent
    /// through a client transaction (§17.1).
    public init(request: SIPRequest, reliable: Bool, timers: TransactionTimers = .rfc3261) throws(SIPTransactionError) {
        guard request.method != .ack else { throw .notApplicable("an ACK has no client transaction (RFC 3261 §17)") }
        _ = try request.headers.requiredCSeq
        self.key = try TransactionKey(clientRequest: request)
        self.request = request
        self.reliable = reliable
        self.timers = timers
        self.state = request.method == .invite ? .calling : .trying
        self.interval = timers.t1
    }

    /// Sends the request and starts the retransmit timer (A or E, unreliable transports only)
    /// and the timeout timer (B or F) (§17.1.1.2, §17.1.2.2).
    public mutating func start() -> [TransactionAction] {
        guard state == .calling || state == .trying, !running.isRunning(isInvite ? .b : .f) else { return [] }
        var actions: [TransactionAction] = [.send(.request(request))]
        if isInvite {
            if !reliable { running.start(.a, timers.timerA, into: &actions) }
            running.start(.b, timers.timerB, into: &actions)
        } else {
            if !reliable { running.start(.e, timers.timerE, into: &actions) }
            running.start(.f, timers.timerF, into: &actions)
        }
        return actions
    }

    /// A response matched to this transaction.
    public mutating func receive(_ response: SIPResponse) -> [TransactionAction] {
        isInvite ? receiveInvite(response) : receiveNonInvite(response)
    }

    /// §17.1.1.2 and RFC 6026 §7.2.
    private mutating func receiveInvite(_ response: SIPResponse) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        let status = response.statusCode
        switch (state, status) {
        case (.calling, 100...199), (.proceeding, 100...199):
            // A provisional response stops retransmissions; Timer B only guards Calling.
            running.cancel(.a, into: &actions)
            running.cancel(.b, into: &actions)
            state = .proceeding
            deliver(response, into: &actions)
        case (.calling, 200...299), (.proceeding, 200...299):
            // RFC 6026 §7.2: the 2xx goes to the TU, which ACKs it; the transaction waits in
            // Accepted for its retransmissions.
            running.cancel(.a, into: &actions)
            running.cancel(.b, into: &actions)
            state = .accepted
            deliver(response, into: &actions)
            running.start(.m, timers.timerM, into: &actions)
        case (.calling, 300...699), (.proceeding, 300...699):
            // §17.1.1.2: ACK the final response, pass it up, wait Timer D for retransmissions.
            running.cancel(.a, into: &actions)
            running.cancel(.b, into: &actions)
            guard let ack = try? SIPRequest.ack(forNonSuccess: response, to: request) else {
                // Unreachable for a request accepted by init; fail loudly to the TU rather than hang.
                deliver(response, into: &actions)
                terminate(into: &actions)
                return actions
            }
            self.ack = ack
            actions.append(.send(.request(ack)))
            deliver(response, into: &actions)
            state = .completed
            let wait = timers.timerD(reliable: reliable)
            if wait == .zero { terminate(into: &actions) } else { running.start(.d, wait, into: &actions) }
        case (.completed, 300...699):
            // §17.1.1.2: a retransmitted final response is ACKed again, not passed up.
            if let ack { actions.append(.send(.request(ack))) }
        case (.accepted, 200...299):
            // RFC 6026 §7.2: retransmitted 2xx responses go to the TU, which re-sends its ACK.
            deliver(response, into: &actions)
        default:
            break // anything else is absorbed
        }
        return actions
    }

    /// §17.1.2.2.
    private mutating func receiveNonInvite(_ response: SIPResponse) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        switch (state, response.statusCode) {
        case (.trying, 100...199), (.proceeding, 100...199):
            state = .proceeding
            deliver(response, into: &actions)
        case (.trying, 200...699), (.proceeding, 200...699):
            running.cancel(.e, into: &actions)
            running.cancel(.f, into: &actions)
            state = .completed
            deliver(response, into: &actions)
            let wait = timers.timerK(reliable: reliable)
            if wait == .zero { terminate(into: &actions) } else { running.start(.k, wait, into: &actions) }
        default:
            break // retransmissions in Completed are absorbed
        }
        return actions
    }

    /// A timer this transaction started has fired. Timers that are no longer running (the
    /// driver lost a race with a cancel) are ignored.
    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        guard running.fired(timer) else { return [] }
        var actions: [TransactionAction] = []
        switch (timer, state) {
        case (.a, .calling):
            // §17.1.1.2: retransmit, double the interval (no cap for INVITE).
            actions.append(.send(.request(request)))
            interval = timers.next(after: interval, capped: false)
            running.start(.a, interval, into: &actions)
        case (.e, .trying), (.e, .proceeding):
            // §17.1.2.2: retransmit; in Trying MIN(2*interval, T2), in Proceeding T2.
            actions.append(.send(.request(request)))
            interval = state == .trying ? timers.next(after: interval, capped: true) : timers.t2
            running.start(.e, interval, into: &actions)
        case (.b, .calling), (.f, .trying), (.f, .proceeding):
            // §17.1.1.2 / §17.1.2.2: no final response in time; the TU sees a timeout (408).
            actions.append(.timedOut)
            terminate(into: &actions)
        case (.d, .completed), (.k, .completed), (.m, .accepted):
            terminate(into: &actions)
        default:
            break
        }
        return actions
    }

    /// The transport could not send the request (or the ACK): §17.1.4 — inform the TU and
    /// terminate.
    public mutating func transportError() -> [TransactionAction] {
        guard state != .terminated else { return [] }
        var actions: [TransactionAction] = [.transportFailed]
        terminate(into: &actions)
        return actions
    }

    private mutating func deliver(_ response: SIPResponse, into actions: inout [TransactionAction]) {
        lastResponse = response
        actions.append(.deliverResponse(response))
    }

    private mutating func terminate(into actions: inout [TransactionAction]) {
        running.finish(into: &actions)
        state = .terminated
    }
}
