import MediaEngine
import SDP
import SIPCore
import SIPTransaction

/// What happens to a call, in order, handled by the call's own flow (one task per call).
enum CallEvent: Sendable {
    /// An in-dialog request (BYE, re-INVITE, UPDATE, ACK, INFO, OPTIONS) and its server
    /// transaction (nil for an ACK to a 2xx, which has none).
    case request(SIPRequest, TransactionKey?, SIPIncoming)
    /// A CANCEL for our unanswered INVITE transaction (callee).
    case cancelled(SIPRequest)
    /// The 2xx to the INVITE was never ACKed (§13.3.1.4) (callee).
    case ackTimeout
    /// A response that matched no transaction: a retransmitted 2xx to re-ACK (§13.2.2.4).
    case strayResponse(SIPResponse)
    /// The planned duration is over (caller hangs up).
    case hangupDue
    /// Time to send the DTMF digits.
    case dtmfDue
    /// Time to send the PIN (before the DTMF digits).
    case pinDue
    /// A 2xx retransmission timer of the callee (§13.3.1.4).
    case retransmitTimer(TransactionTimer)
    /// RFC 4028: the session timer's next deadline (refresh, or expiry).
    case sessionTimerDue(generation: Int)
    /// A refresh we sent came back.
    case refreshAnswered(method: SIPMethod, outcome: ClientOutcome, request: SIPRequest)
    /// The callee's ring time is over: answer.
    case answerDue
    /// The agent is shutting down.
    case shutdown
}

/// A call's state inside the user agent: its event stream, ladder, timings. Touched only on
/// the user agent's actor.
final class CallContext {
    enum Role: String, Sendable, Encodable { case caller, callee }

    let callID: String
    let role: Role
    let startedAt: ContinuousClock.Instant
    let events: AsyncStream<CallEvent>.Continuation
    let stream: AsyncStream<CallEvent>
    var ladder: SIPLadder
    var dialog: Dialog?
    var destination: SIPDestination
    var timers: [Task<Void, Never>] = []
    var localURI = ""
    var remoteURI = ""
    var plannedDuration: Duration?
    var dtmfPlanned: String?
    var dtmfSent: String?
    /// A conference PIN to send after the answer (caller), and what was sent.
    var pinPlanned: String?
    var pinSent: String?
    /// Answered onto a conference bridge (callee): no identifying tone of our own.
    var bridged = false
    var inviteSentAt: Duration?
    var ringingAt: Duration?
    var answeredAt: Duration?
    var endedAt: Duration?
    var provisionalSeen = false
    var authRoundTrips = 0
    var sessionIntervalRetries = 0
    /// The ACK we sent for the 2xx (resent when the 2xx is retransmitted, §13.2.2.4).
    var lastACK: SIPRequest?
    /// RFC 4028: the negotiation (our policy, 422 retries) and the refresh/expiry machine.
    var negotiator = SessionTimerNegotiator()
    var timerState = SessionTimerState()
    /// Bumped whenever the machine reschedules or cancels, so stale timer events are ignored.
    var timerGeneration = 0
    var refreshes: [CallReport.Refresh] = []
    /// The INVITE that created the dialog (callee) or the last one we sent (caller).
    var invite: SIPRequest?
    /// Our last SDP (offer or answer), for answering re-INVITEs and UPDATEs with the same session.
    var localSDP: SessionDescription?
    var retransmitter: AcceptedInviteRetransmitter?
    var inviteIncoming: SIPIncoming?
    var pendingRefreshAt: Double?
    var pendingRefreshMethod: SIPMethod?
    var lastRefresh: SIPRequest?
    var byeSent = false
    /// We sent CANCEL because nobody answered in time (a 487 then means no answer).
    var cancelledForNoAnswer = false
    /// We sent CANCEL because the call was ended from outside (`endCalls`): a 487 means cancelled.
    var cancelledLocally = false
    /// This call's identifying tone (nil: the user agent's).
    var toneFrequency: Int?

    init(callID: String, role: Role, destination: SIPDestination, ladderBodyLimit: Int) {
        self.ladder = SIPLadder(bodyLimit: ladderBodyLimit)
        self.callID = callID
        self.role = role
        self.destination = destination
        self.startedAt = .now
        (stream, events) = AsyncStream<CallEvent>.makeStream()
    }

    var elapsed: Duration { ContinuousClock.now - startedAt }

    /// The ending, stamped with the time since the call started.
    func ending(_ cause: CallEnding.Cause) -> CallEnding {
        CallEnding(cause, at: endedAt ?? elapsed)
    }

    /// Yields `event` after `delay` unless the call ended first.
    func schedule(_ event: CallEvent, after delay: Duration) {
        let continuation = events
        timers.append(Task {
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            continuation.yield(event)
        })
    }

    func finish() {
        timers.forEach { $0.cancel() }
        timers.removeAll()
        events.finish()
    }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    var secondsValue: Double { milliseconds / 1000 }
}
