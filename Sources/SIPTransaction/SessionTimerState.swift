import SIPCore

/// RFC 4028 §10 refresh and expiry decisions for one established call, as a state machine
/// the user agent drives: it reports events with the current time (a `Duration` on the
/// call's clock), runs the one timer the machine asks for, and executes the actions.
///
/// * We refresh: a refresh at half the interval after the last successful one (§10), by
///   UPDATE when the peer's Allow lists UPDATE and by re-INVITE otherwise. A 2xx renews the
///   session; a timeout or an error other than 422/491 ends it ("refresh UPDATE unanswered",
///   "refresh UPDATE rejected 405"); so does no answer by the BYE time below.
/// * The peer refreshes: a BYE at `interval - min(32 s, interval/3)` after the last refresh
///   (§10) unless a refresh arrives first ("no refresh received").
public struct SessionTimerState: Sendable, Hashable {
    public enum Phase: Sendable, Hashable {
        /// No session timer (none negotiated, or turned off by a refresh without one).
        case inactive
        /// We refresh at the scheduled time.
        case waitingToRefresh
        /// Our refresh is in flight.
        case refreshing(SIPMethod)
        /// The peer refreshes; the scheduled time is our BYE time.
        case watchingForRefresh
        /// The session expired; a BYE was asked for.
        case expired
    }

    public enum Event: Sendable, Hashable {
        /// The call was established (2xx sent or received) with this timer (nil: none).
        case callEstablished(NegotiatedSessionTimer?, at: Duration)
        /// We sent a refresh (re-INVITE or UPDATE carrying Session-Expires) ourselves.
        case refreshSent(SIPMethod, at: Duration)
        /// Our refresh got a final response; `timer` is the negotiation of a 2xx
        /// (`SessionTimerNegotiator.negotiated(uacResponse:)`).
        case refreshAnswered(statusCode: Int, timer: NegotiatedSessionTimer?, at: Duration)
        /// Our refresh timed out or could not be sent.
        case refreshUnanswered(at: Duration)
        /// The peer refreshed and we answered 2xx; `timer` is our answer's negotiation
        /// (`SessionTimerNegotiator.answer(_:)`).
        case refreshReceived(NegotiatedSessionTimer?, at: Duration)
        /// The timer the machine scheduled fired.
        case timerFired(at: Duration)
    }

    public enum Action: Sendable, Hashable {
        /// Send a refresh now (with `SessionTimerNegotiator.apply(to:current:)` headers).
        case sendRefresh(method: SIPMethod)
        /// End the call with BYE for this reason.
        case sendBye(CallEnding)
        /// Run the timer to fire at this time on the call's clock (replacing any earlier one).
        case rescheduleAt(Duration)
        /// Stop the timer.
        case cancelTimer
    }

    public private(set) var phase: Phase = .inactive
    public private(set) var timer: NegotiatedSessionTimer?
    /// When the current interval began (the last successful refresh or the call's start).
    public private(set) var intervalStart: Duration = .zero
    /// The time the pending timer fires, if any.
    public private(set) var deadline: Duration?
    /// The methods the peer allows (its Allow header), which choose the refresh method.
    public var peerAllow: [SIPMethod]?
    /// How long to wait before retrying a refresh answered 491 (RFC 3261 §14.1 asks for a
    /// random 2.1-4 s for the Call-ID owner, 0-2 s otherwise; the UA may pass its draw).
    public var glareRetry: Duration
    /// 422 retries in a row, bounded like `SessionTimerNegotiator.maximumRetries`.
    private var intervalRetries = 0

    public init(peerAllow: [SIPMethod]? = nil, glareRetry: Duration = .seconds(2)) {
        self.peerAllow = peerAllow
        self.glareRetry = glareRetry
    }

    /// UPDATE when the peer's Allow lists it, re-INVITE otherwise.
    public var refreshMethod: SIPMethod { (peerAllow ?? []).contains(.update) ? .update : .invite }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .callEstablished(let timer, let now), .refreshReceived(let timer, let now):
            guard phase != .expired else { return [] }
            return begin(timer, at: now)
        case .refreshSent(let method, _):
            guard let timer, phase != .expired else { return [] }
            phase = .refreshing(method)
            return schedule(intervalStart + timer.byeAfter)
        case .refreshAnswered(let status, let negotiated, let now):
            guard case .refreshing(let method) = phase else { return [] }
            switch status {
            case 200...299:
                intervalRetries = 0
                return begin(negotiated, at: now)
            case 422 where intervalRetries < 3:
                // RFC 4028 §7.3: retry at once with the raised interval (the UA's negotiator
                // took the 422's Min-SE).
                intervalRetries += 1
                return [.sendRefresh(method: method)]
            case 491:
                // RFC 3261 §14.1: glare; try again after a pause, the session still holds.
                phase = .waitingToRefresh
                return schedule(min(now + glareRetry, intervalStart + (timer?.byeAfter ?? glareRetry)))
            case 100...199:
                return []
            default:
                return expire("refresh \(method) rejected \(status)", at: now)
            }
        case .refreshUnanswered(let now):
            guard case .refreshing(let method) = phase else { return [] }
            return expire("refresh \(method) unanswered", at: now)
        case .timerFired(let now):
            deadline = nil
            switch phase {
            case .waitingToRefresh:
                guard let timer else { return [] }
                let method = refreshMethod
                phase = .refreshing(method)
                // The refresh must succeed before the session's BYE time.
                return [.sendRefresh(method: method)] + schedule(intervalStart + timer.byeAfter)
            case .refreshing(let method):
                return expire("refresh \(method) unanswered", at: now)
            case .watchingForRefresh:
                return expire("no refresh received", at: now)
            case .inactive, .expired:
                return []
            }
        }
    }

    private mutating func begin(_ negotiated: NegotiatedSessionTimer?, at now: Duration) -> [Action] {
        timer = negotiated
        intervalStart = now
        guard let negotiated else {
            phase = .inactive
            guard deadline != nil else { return [] }
            deadline = nil
            return [.cancelTimer]
        }
        if negotiated.weAreRefresher {
            phase = .waitingToRefresh
            return schedule(now + negotiated.refreshAfter)
        }
        phase = .watchingForRefresh
        return schedule(now + negotiated.byeAfter)
    }

    private mutating func schedule(_ time: Duration) -> [Action] {
        deadline = time
        return [.rescheduleAt(time)]
    }

    private mutating func expire(_ detail: String, at now: Duration) -> [Action] {
        phase = .expired
        var actions: [Action] = []
        if deadline != nil { actions.append(.cancelTimer) }
        deadline = nil
        actions.append(.sendBye(CallEnding(.sessionExpired(detail: detail), at: now)))
        return actions
    }
}
