import SIPCore

/// A server transaction (RFC 3261 §17.2) as a value: the driver creates it for a request
/// whose `TransactionKey(serverRequest:)` matches no transaction, executes `start()`, feeds it
/// the retransmissions and ACKs that match `key`, passes it the TU's responses through
/// `respond(_:)`, fires its timers, and drops it on `.terminated`.
///
/// INVITE (§17.2.1, with the RFC 6026 Accepted state):
/// ```
/// Proceeding --300-699--> Completed --ACK--> Confirmed --Timer I--> Terminated
///     |                      |--Timer H--> Terminated (timed out: no ACK)
///     |--2xx--> Accepted --Timer L--> Terminated   (ACKs go to the TU, INVITEs are absorbed)
/// ```
/// Non-INVITE (§17.2.2): Trying --1xx--> Proceeding --final--> Completed --Timer J--> Terminated.
public struct ServerTransaction: Sendable {
    public enum State: String, Sendable, Hashable {
        case trying, proceeding, completed, confirmed, accepted, terminated
    }

    public let request: SIPRequest
    public let key: TransactionKey
    public let reliable: Bool
    public let timers: TransactionTimers
    public private(set) var state: State
    /// The most recent provisional response sent (resent on request retransmissions).
    public private(set) var lastProvisional: SIPResponse?
    /// The final response sent.
    public private(set) var finalResponse: SIPResponse?

    private var isInvite: Bool { request.method == .invite }
    private var interval: Duration
    private var running = RunningTimers()
    private var started = false

    /// `request` is the request that creates the transaction (never an ACK, §17.2.3: an ACK
    /// matching no transaction goes straight to the core).
    public init(request: SIPRequest, reliable: Bool, timers: TransactionTimers = .rfc3261) throws(SIPTransactionError) {
        guard request.method != .ack else { throw .notApplicable("an ACK creates no server transaction (RFC 3261 §17.2.3)") }
        _ = try request.headers.requiredCSeq
        guard let key = TransactionKey(serverRequest: request) else { throw .missingHeader(.via) }
        self.key = key
        self.request = request
        self.reliable = reliable
        self.timers = timers
        self.state = request.method == .invite ? .proceeding : .trying
        self.interval = timers.t1
        if request.method == .invite {
            // §17.2.1: the server transaction answers an INVITE with 100 (Trying) unless the TU
            // answers within 200 ms; sending it at once is always allowed. No To tag (§8.2.6.1).
            lastProvisional = try SIPResponse(answering: request, statusCode: 100)
        }
    }

    /// Passes the request to the TU; for an INVITE, first sends the 100 (Trying) (§17.2.1).
    public mutating func start() -> [TransactionAction] {
        guard !started else { return [] }
        started = true
        var actions: [TransactionAction] = []
        if isInvite, let trying = lastProvisional { actions.append(.send(.response(trying))) }
        actions.append(.deliverRequest(request))
        return actions
    }

    /// A request matched to this transaction: a retransmission of the original request, or
    /// (INVITE) an ACK.
    public mutating func receive(_ request: SIPRequest) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        if request.method == .ack {
            guard isInvite else { return [] }
            switch state {
            case .completed:
                // §17.2.1: the ACK for a non-2xx ends retransmissions; wait Timer I for more ACKs.
                running.cancel(.g, into: &actions)
                running.cancel(.h, into: &actions)
                state = .confirmed
                let wait = timers.timerI(reliable: reliable)
                if wait == .zero { terminate(into: &actions) } else { running.start(.i, wait, into: &actions) }
            case .accepted:
                // RFC 6026 §7.1: an ACK in Accepted is passed to the TU.
                actions.append(.deliverRequest(request))
            default:
                break // absorbed (Confirmed: ACK retransmissions, §17.2.1)
            }
            return actions
        }
        switch state {
        case .proceeding:
            // §17.2.1 / §17.2.2: a retransmission is answered with the latest provisional.
            if let lastProvisional { actions.append(.send(.response(lastProvisional))) }
        case .completed:
            // §17.2.1 / §17.2.2: ... and in Completed with the final response.
            if let finalResponse { actions.append(.send(.response(finalResponse))) }
        default:
            // Trying (no response yet, §17.2.2), Confirmed (§17.2.1) and Accepted (RFC 6026
            // §8.7: INVITE retransmissions are absorbed) drop it.
            break
        }
        return actions
    }

    /// A response from the TU. Responses the state does not allow (a second final, a
    /// provisional after the final) are ignored and return no actions.
    public mutating func respond(_ response: SIPResponse) -> [TransactionAction] {
        isInvite ? respondInvite(response) : respondNonInvite(response)
    }

    /// §17.2.1 and RFC 6026 §7.1.
    private mutating func respondInvite(_ response: SIPResponse) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        switch (state, response.statusCode) {
        case (.proceeding, 100...199):
            lastProvisional = response
            actions.append(.send(.response(response)))
        case (.proceeding, 200...299):
            // RFC 6026 §7.1: send the 2xx and wait in Accepted (the TU retransmits it, §13.3.1.4).
            finalResponse = response
            actions.append(.send(.response(response)))
            state = .accepted
            running.start(.l, timers.timerL, into: &actions)
        case (.proceeding, 300...699):
            // §17.2.1: send, retransmit on Timer G (unreliable), give up on Timer H.
            finalResponse = response
            actions.append(.send(.response(response)))
            state = .completed
            if !reliable { running.start(.g, timers.timerG, into: &actions) }
            running.start(.h, timers.timerH, into: &actions)
        case (.accepted, 200...299):
            // RFC 6026 §7.1: the TU's 2xx retransmissions pass through Accepted to the transport.
            actions.append(.send(.response(response)))
        default:
            break
        }
        return actions
    }

    /// §17.2.2.
    private mutating func respondNonInvite(_ response: SIPResponse) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        switch (state, response.statusCode) {
        case (.trying, 100...199), (.proceeding, 100...199):
            lastProvisional = response
            state = .proceeding
            actions.append(.send(.response(response)))
        case (.trying, 200...699), (.proceeding, 200...699):
            finalResponse = response
            actions.append(.send(.response(response)))
            state = .completed
            let wait = timers.timerJ(reliable: reliable)
            if wait == .zero { terminate(into: &actions) } else { running.start(.j, wait, into: &actions) }
        default:
            break
        }
        return actions
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        guard running.fired(timer) else { return [] }
        var actions: [TransactionAction] = []
        switch (timer, state) {
        case (.g, .completed):
            // §17.2.1: retransmit the final response, interval MIN(2*interval, T2).
            if let finalResponse { actions.append(.send(.response(finalResponse))) }
            interval = timers.next(after: interval, capped: true)
            running.start(.g, interval, into: &actions)
        case (.h, .completed):
            // §17.2.1: no ACK arrived; the TU is told (a failure of the transaction).
            actions.append(.timedOut)
            terminate(into: &actions)
        case (.i, .confirmed), (.j, .completed), (.l, .accepted):
            terminate(into: &actions)
        default:
            break
        }
        return actions
    }

    /// The transport could not send a response: §17.2.4 — inform the TU and terminate. In
    /// Accepted (RFC 6026 §7.1) the TU is informed and the transaction stays, absorbing
    /// retransmissions until Timer L.
    public mutating func transportError() -> [TransactionAction] {
        guard state != .terminated else { return [] }
        var actions: [TransactionAction] = [.transportFailed]
        if state != .accepted { terminate(into: &actions) }
        return actions
    }

    private mutating func terminate(into actions: inout [TransactionAction]) {
        running.finish(into: &actions)
        state = .terminated
    }
}
