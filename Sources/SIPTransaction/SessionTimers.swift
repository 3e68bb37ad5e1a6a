import SIPCore

/// What a user agent wants from RFC 4028 session timers.
public struct SessionTimerPolicy: Sendable, Hashable {
    /// Which side we want to refresh the session.
    public enum Refresher: String, Sendable, Hashable {
        /// We refresh: as UAC `refresher=uac`, as UAS `refresher=uas` when the UAC left it open.
        case us
        /// The peer refreshes: as UAC `refresher=uas`, as UAS `refresher=uac` when allowed.
        case peer
        /// As UAC leave `refresher` out and let the UAS choose (§7.1); as UAS choose the UAC.
        case either
    }

    /// The session interval we ask for, in seconds (Session-Expires; RFC 4028 §4 recommends
    /// 1800).
    public var sessionExpires: UInt32
    /// The smallest interval we accept, in seconds (Min-SE; at least 90, §5).
    public var minSE: UInt32
    public var refresher: Refresher

    public init(sessionExpires: UInt32 = 1800, minSE: UInt32 = 90, refresher: Refresher = .us) {
        self.minSE = max(minSE, 90)
        self.sessionExpires = max(sessionExpires, self.minSE)
        self.refresher = refresher
    }
}

/// The session timer in force after a negotiation: the interval and whether we refresh.
public struct NegotiatedSessionTimer: Sendable, Hashable {
    /// The session interval in seconds (the Session-Expires delta).
    public let seconds: UInt32
    public let weAreRefresher: Bool

    public init(seconds: UInt32, weAreRefresher: Bool) {
        self.seconds = seconds
        self.weAreRefresher = weAreRefresher
    }

    public var interval: Duration { .seconds(Int64(seconds)) }

    /// When the refresher sends its refresh, after the last one: half the interval (RFC 4028 §10).
    public var refreshAfter: Duration { interval / 2 }

    /// When the side that does not refresh gives up and sends BYE, after the last refresh:
    /// the interval minus the smaller of 32 s and a third of the interval (RFC 4028 §10).
    /// 60 s for an interval of 90 s, 1768 s for 1800 s.
    public var byeAfter: Duration { interval - min(.seconds(32), interval / 3) }
}

/// What a UAS does with the session-timer headers of an INVITE or UPDATE (RFC 4028 §9).
public enum SessionTimerAnswer: Sendable, Equatable {
    /// Reject with 422 (Session Interval Too Small) carrying `Min-SE: minSE` (§6, §9).
    case reject(minSE: UInt32)
    /// Accept: add `headers` (Session-Expires, Require: timer) to the 2xx; `timer` is the
    /// session timer in force once the 2xx is sent (nil: none).
    case accept(timer: NegotiatedSessionTimer?, headers: SIPHeaders)
}

/// RFC 4028 negotiation for one dialog: what our requests carry (§7.1, §7.4), how we react to
/// a 422 (§7.3), what a 2xx means for us as UAC (§7.2), and how we answer as UAS (§9).
public struct SessionTimerNegotiator: Sendable, Hashable {
    public let policy: SessionTimerPolicy
    /// The Session-Expires our next request asks for (raised by 422s).
    public private(set) var sessionExpires: UInt32
    /// The Min-SE our next request carries: the largest we have seen (§7.3).
    public private(set) var minSE: UInt32
    /// How many 422 retries we made.
    public private(set) var retries = 0
    /// 422 retries allowed before giving up (a peer raising its minimum forever).
    public var maximumRetries = 3

    public init(policy: SessionTimerPolicy = SessionTimerPolicy()) {
        self.policy = policy
        self.sessionExpires = policy.sessionExpires
        self.minSE = policy.minSE
    }

    /// Adds `Supported: timer`, `Session-Expires` and `Min-SE` to an INVITE or UPDATE we send.
    /// Initial request (§7.1): our interval, `refresher` from the policy (`us` → uac, `peer`
    /// → uas, `either` → absent). Refresh (§7.4, `current` given): the interval in force, and
    /// `refresher=uac` when we refresh, `uas` when the peer does (the roles of this request).
    public func apply(to request: inout SIPRequest, current: NegotiatedSessionTimer? = nil) {
        if !((try? request.headers.supported) ?? []).contains("timer") {
            request.headers.add(.supported, "timer")
        }
        let refresher: SIPSessionExpires.Refresher?
        if let current {
            refresher = current.weAreRefresher ? .uac : .uas
        } else {
            switch policy.refresher {
            case .us: refresher = .uac
            case .peer: refresher = .uas
            case .either: refresher = nil
            }
        }
        let seconds = current.map { max($0.seconds, minSE) } ?? sessionExpires
        request.headers.setSessionExpires(SIPSessionExpires(delta: seconds, refresher: refresher))
        request.headers.set(.minSE, "\(minSE)")
    }

    /// A 422 to our request (RFC 4028 §7.3): the retry must ask for at least the 422's Min-SE
    /// and carry the largest Min-SE seen. Returns false when the 422 is unusable (no Min-SE,
    /// a Min-SE not above the interval we asked for, or too many retries): the TU ends the call.
    public mutating func receive422(_ response: SIPResponse) -> Bool {
        guard response.statusCode == 422, retries < maximumRetries,
              let demanded = (try? response.headers.minSE) ?? nil, demanded > sessionExpires
        else { return false }
        retries += 1
        minSE = max(minSE, demanded)
        sessionExpires = max(sessionExpires, demanded)
        return true
    }

    /// The session timer in force after a 2xx to our INVITE or UPDATE (RFC 4028 §7.2):
    /// * no Session-Expires: no session expiration, no refreshes (nil);
    /// * Session-Expires and `Require: timer` (the UAS supports timers): the `refresher`
    ///   parameter names the refresher (we refresh when it is `uac`, and when it is missing);
    /// * Session-Expires without `Require: timer` (the UAS does not support timers; a proxy
    ///   asked for them): we, the UAC, refresh.
    public func negotiated(uacResponse response: SIPResponse) throws(SIPTransactionError) -> NegotiatedSessionTimer? {
        let headers = response.headers
        guard let expires = try headers.optional({ h throws(SIPParseError) in try h.sessionExpires }) else { return nil }
        let require = try headers.optional { h throws(SIPParseError) in try h.require } ?? []
        let weRefresh = require.contains("timer") ? expires.refresher != .uas : true
        return NegotiatedSessionTimer(seconds: expires.delta, weAreRefresher: weRefresh)
    }

    /// Our answer as UAS to an INVITE or UPDATE (RFC 4028 §9):
    /// * a Session-Expires below our Min-SE is rejected with 422 when the UAC supports timers
    ///   (without support it could not retry; we accept its interval, which we may not raise);
    /// * otherwise the interval is the request's, lowered to our `sessionExpires` but never
    ///   below the request's Min-SE (or 90) or ours;
    /// * without a Session-Expires we ask for ours (at least the request's Min-SE);
    /// * the refresher is the request's `refresher` when given; else, when the UAC supports
    ///   timers, our policy's choice; else us (`uas`), since the UAC cannot refresh;
    /// * `Require: timer` is added when the UAC supports timers.
    public func answer(_ request: SIPRequest) throws(SIPTransactionError) -> SessionTimerAnswer {
        let headers = request.headers
        let supported = try headers.optional { h throws(SIPParseError) in try h.supported } ?? []
        let require = try headers.optional { h throws(SIPParseError) in try h.require } ?? []
        let uacSupports = supported.contains("timer") || require.contains("timer")
        let requested = try headers.optional { h throws(SIPParseError) in try h.sessionExpires }
        let floor = max(try headers.optional { h throws(SIPParseError) in try h.minSE } ?? 90, 90)

        let seconds: UInt32
        if let requested {
            if requested.delta < policy.minSE && uacSupports { return .reject(minSE: policy.minSE) }
            seconds = requested.delta < policy.minSE ? requested.delta
                : min(requested.delta, max(policy.sessionExpires, floor, policy.minSE))
        } else {
            seconds = max(policy.sessionExpires, floor)
        }
        let refresher: SIPSessionExpires.Refresher
        if let chosen = requested?.refresher {
            refresher = chosen
        } else if uacSupports {
            refresher = policy.refresher == .us ? .uas : .uac
        } else {
            refresher = .uas
        }
        var out = SIPHeaders()
        out.setSessionExpires(SIPSessionExpires(delta: seconds, refresher: refresher))
        if uacSupports { out.add(.require, "timer") }
        return .accept(timer: NegotiatedSessionTimer(seconds: seconds, weAreRefresher: refresher == .uas), headers: out)
    }

    /// The 422 for a request our `answer` rejected (RFC 4028 §6): a response per RFC 3261
    /// §8.2.6 with `Min-SE`.
    public static func rejection(of request: SIPRequest, minSE: UInt32, toTag: String) throws(SIPTransactionError) -> SIPResponse {
        var extra = SIPHeaders()
        extra.set(.minSE, "\(minSE)")
        return try SIPResponse(answering: request, statusCode: 422, toTag: toTag, headers: extra)
    }
}
