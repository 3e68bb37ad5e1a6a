import SIPCore

/// The session timer of one dialog as negotiated (RFC 4028): the interval, who refreshes,
/// how, and when the next thing must happen.
struct SessionTimerPlan: Sendable, Hashable {
    /// Session-Expires delta, seconds.
    var interval: Int
    /// "uac" or "uas".
    var refresher: String
    var weRefresh: Bool
    /// UPDATE when the peer's Allow lists it, else re-INVITE (the issue's rule; RFC 4028 §9
    /// recommends UPDATE where it is supported).
    var refreshMethod: SIPMethod
    /// Whether we are the dialog's UAC (the refresher parameter is relative to the dialog).
    var weAreUAC: Bool

    init(interval: Int, refresher: String, weRefresh: Bool, refreshMethod: SIPMethod, weAreUAC: Bool) {
        self.interval = interval
        self.refresher = refresher
        self.weRefresh = weRefresh
        self.refreshMethod = refreshMethod
        self.weAreUAC = weAreUAC
    }

    /// §10: the refresher refreshes at half the interval; the other side sends BYE when no
    /// refresh came by `interval − min(32 s, interval/3)`.
    var firstDeadline: Duration {
        if weRefresh { return .milliseconds(interval * 500) }
        return .seconds(interval) - .milliseconds(min(32_000, interval * 1000 / 3))
    }

    /// `Session-Expires` of a 2xx (or the value we echo).
    var headerValue: String { "\(interval);refresher=\(refresher)" }

    /// `Session-Expires` of a refresh we send: we stay the refresher (§7.4 / §9).
    var refreshHeaderValue: String { "\(interval);refresher=\(weAreUAC ? "uac" : "uas")" }

    static func method(peerAllow: [SIPMethod]?) -> SIPMethod {
        (peerAllow ?? []).contains(.update) ? .update : .invite
    }

    /// UAC side, from the 2xx to our INVITE (§7.2): the 2xx's Session-Expires decides; a 2xx
    /// without one while we asked means the peer does not do timers — we then refresh
    /// ourselves at the interval we asked for (§7.2 last paragraph). Nil when nobody asked.
    init?(uacResponse response: SIPResponse, requested: Int?, peerAllow: [SIPMethod]?) {
        let method = Self.method(peerAllow: peerAllow)
        if let value = response.headers.sessionExpiresValue {
            interval = Int(value.delta)
            let refresher = value.refresher?.rawValue ?? "uac"
            self.refresher = refresher
            weRefresh = refresher == "uac"
        } else if let requested {
            interval = requested
            refresher = "uac"
            weRefresh = true
        } else {
            return nil
        }
        refreshMethod = method
        weAreUAC = true
    }

    /// UAS side, from an INVITE or refresh carrying Session-Expires (§9): keep the interval
    /// (it already passed our Min-SE check), keep the UAC's refresher choice, or choose the UAC
    /// when it supports timers (it asked), else ourselves.
    static func uas(request: SIPRequest, requested: SIPSessionExpires, minSE: Int, previous: SessionTimerPlan?) -> SessionTimerPlan {
        let interval = max(Int(requested.delta), minSE)
        let supportsTimer = ((try? request.headers.supported) ?? []).contains("timer")
        let refresher: String
        if let asked = requested.refresher?.rawValue {
            refresher = asked
        } else {
            refresher = supportsTimer ? "uac" : "uas"
        }
        // In a refresh from the peer, "uac" means the sender of that request, which may be the
        // dialog's UAS: resolve against the request, not the dialog roles.
        let weAreUACOfDialog = previous?.weAreUAC ?? false
        let senderRefreshes = refresher == "uac"
        return SessionTimerPlan(interval: interval, refresher: refresher, weRefresh: !senderRefreshes,
                                refreshMethod: previous?.refreshMethod ?? method(peerAllow: request.headers.allowValue),
                                weAreUAC: weAreUACOfDialog)
    }

    /// UAS side when the UAC supports timers but asked for none, and we want one (§9).
    static func uasChoosing(interval: Int, peerAllow: [SIPMethod]?) -> SessionTimerPlan {
        SessionTimerPlan(interval: interval, refresher: "uac", weRefresh: false, refreshMethod: method(peerAllow: peerAllow),
                         weAreUAC: false)
    }

    /// After a 2xx to our refresh: its Session-Expires may change the interval (§7.4).
    func refreshed(by response: SIPResponse) -> SessionTimerPlan {
        var next = self
        if let value = response.headers.sessionExpiresValue { next.interval = Int(value.delta) }
        return next
    }

    func with(interval: Int) -> SessionTimerPlan {
        var next = self
        next.interval = interval
        return next
    }
}
