import SIPCore
import SIPTransaction
import Testing

@Suite("RFC 4028 session-timer negotiation")
struct SessionTimerNegotiationTests {
    @Test func policyDefaultsAndFloor() {
        let policy = SessionTimerPolicy()
        #expect(policy.sessionExpires == 1800 && policy.minSE == 90 && policy.refresher == .us)
        let small = SessionTimerPolicy(sessionExpires: 30, minSE: 20)
        #expect(small.minSE == 90 && small.sessionExpires == 90)
    }

    @Test func refreshAndByeTimesFollowSection10() {
        let ninety = NegotiatedSessionTimer(seconds: 90, weAreRefresher: false)
        #expect(ninety.interval == .seconds(90))
        #expect(ninety.refreshAfter == .seconds(45))
        #expect(ninety.byeAfter == .seconds(60))
        let default1800 = NegotiatedSessionTimer(seconds: 1800, weAreRefresher: true)
        #expect(default1800.refreshAfter == .seconds(900))
        #expect(default1800.byeAfter == .seconds(1768))
    }

    @Test func initialInviteCarriesSupportedSessionExpiresAndMinSE() throws {
        var invite = try Fixtures.invite()
        SessionTimerNegotiator(policy: SessionTimerPolicy(sessionExpires: 90)).apply(to: &invite)
        #expect(invite.headers.values(.supported) == ["timer"])
        #expect(invite.headers.values(.sessionExpires) == ["90;refresher=uac"])
        #expect(invite.headers.values(.minSE) == ["90"])
        // Applying again (a retry) does not repeat the option tag.
        SessionTimerNegotiator(policy: SessionTimerPolicy(refresher: .either)).apply(to: &invite)
        #expect(invite.headers.values(.supported) == ["timer"])
        #expect(invite.headers.values(.sessionExpires) == ["1800"])
        SessionTimerNegotiator(policy: SessionTimerPolicy(refresher: .peer)).apply(to: &invite)
        #expect(invite.headers.values(.sessionExpires) == ["1800;refresher=uas"])
    }

    @Test func a422RaisesTheIntervalAndTheRetryCarriesIt() throws {
        var negotiator = SessionTimerNegotiator(policy: SessionTimerPolicy(sessionExpires: 90))
        var invite = try Fixtures.invite()
        negotiator.apply(to: &invite)
        let tooSmall = try Fixtures.inviteResponse("422 Session Interval Too Small", extra: ["Min-SE: 1800"])
        let accepted = negotiator.receive422(tooSmall)
        #expect(accepted)
        #expect(negotiator.sessionExpires == 1800 && negotiator.minSE == 1800 && negotiator.retries == 1)
        var retry = try invite.resubmitted(via: try SIPVia(parsing: "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK422retry;rport"))
        negotiator.apply(to: &retry)
        #expect(try retry.headers.cseq == SIPCSeq(sequence: 2, method: .invite))
        #expect(retry.headers.values(.sessionExpires) == ["1800;refresher=uac"])
        #expect(retry.headers.values(.minSE) == ["1800"])
        #expect(retry.headers.values(.supported) == ["timer"])
        // A 422 asking for no more than we asked is a loop, not a reason to retry.
        let again = negotiator.receive422(tooSmall)
        #expect(!again)
        let withoutMinSE = negotiator.receive422(try Fixtures.inviteResponse("422 Session Interval Too Small"))
        #expect(!withoutMinSE)
    }

    @Test func retriesAreBounded() throws {
        var negotiator = SessionTimerNegotiator(policy: SessionTimerPolicy(sessionExpires: 90))
        for (i, minSE) in [100, 200, 300, 400].enumerated() {
            let response = try Fixtures.inviteResponse("422 Session Interval Too Small", extra: ["Min-SE: \(minSE)"])
            let retried = negotiator.receive422(response)
            #expect(retried == (i < 3))
        }
        #expect(negotiator.sessionExpires == 300)
    }

    func ok(_ extra: [String]) throws -> SIPResponse { try Fixtures.inviteResponse("200 OK", extra: extra) }

    @Test func uacResultFromThe2xx() throws {
        let negotiator = SessionTimerNegotiator()
        #expect(try negotiator.negotiated(uacResponse: try ok(["Require: timer", "Session-Expires: 90;refresher=uac"]))
                == NegotiatedSessionTimer(seconds: 90, weAreRefresher: true))
        #expect(try negotiator.negotiated(uacResponse: try ok(["Require: timer", "Session-Expires: 1200;refresher=uas"]))
                == NegotiatedSessionTimer(seconds: 1200, weAreRefresher: false))
        // Session-Expires without Require: timer — the UAS does not support timers, we refresh.
        #expect(try negotiator.negotiated(uacResponse: try ok(["Session-Expires: 600;refresher=uas"]))
                == NegotiatedSessionTimer(seconds: 600, weAreRefresher: true))
        // No Session-Expires: no session expiration.
        #expect(try negotiator.negotiated(uacResponse: try ok(["Supported: timer"])) == nil)
        #expect(throws: SIPTransactionError.self) { try negotiator.negotiated(uacResponse: try ok(["Session-Expires: soon"])) }
    }

    func incoming(_ extra: [String]) throws -> SIPRequest { try request(Fixtures.receivedInviteLines + extra, body: Fixtures.sdp) }

    @Test func uasRejectsTooSmallIntervalsWith422() throws {
        let negotiator = SessionTimerNegotiator()
        let invite = try incoming(["Supported: timer", "Session-Expires: 60", "Min-SE: 60"])
        #expect(try negotiator.answer(invite) == .reject(minSE: 90))
        let reply = try SessionTimerNegotiator.rejection(of: invite, minSE: 90, toTag: "a6c85cf")
        #expect(reply.statusCode == 422)
        #expect(reply.reasonPhrase == "Session Interval Too Small")
        #expect(reply.headers.values(.minSE) == ["90"])
    }

    @Test func uasChoosesTheRefresherWhenTheUACDidNot() throws {
        let invite = try incoming(["Supported: timer", "Session-Expires: 1800"])
        guard case .accept(let timer, let headers) = try SessionTimerNegotiator(policy: SessionTimerPolicy(refresher: .us)).answer(invite)
        else { Issue.record("rejected"); return }
        #expect(timer == NegotiatedSessionTimer(seconds: 1800, weAreRefresher: true))
        #expect(headers.values(.sessionExpires) == ["1800;refresher=uas"])
        #expect(headers.values(.require) == ["timer"])
        guard case .accept(let peerTimer, let peerHeaders) = try SessionTimerNegotiator(policy: SessionTimerPolicy(refresher: .peer)).answer(invite)
        else { Issue.record("rejected"); return }
        #expect(peerTimer == NegotiatedSessionTimer(seconds: 1800, weAreRefresher: false))
        #expect(peerHeaders.values(.sessionExpires) == ["1800;refresher=uac"])
    }

    @Test func uasKeepsTheUACsRefresherAndLowersLongIntervals() throws {
        let negotiator = SessionTimerNegotiator(policy: SessionTimerPolicy(sessionExpires: 1800))
        #expect(try negotiator.answer(try incoming(["Supported: timer", "Session-Expires: 90;refresher=uac"]))
                == .accept(timer: NegotiatedSessionTimer(seconds: 90, weAreRefresher: false),
                           headers: [(.sessionExpires, "90;refresher=uac"), (.require, "timer")]))
        #expect(try negotiator.answer(try incoming(["Supported: timer", "Session-Expires: 7200;refresher=uas", "Min-SE: 90"]))
                == .accept(timer: NegotiatedSessionTimer(seconds: 1800, weAreRefresher: true),
                           headers: [(.sessionExpires, "1800;refresher=uas"), (.require, "timer")]))
        // Lowered no further than the request's Min-SE.
        #expect(try negotiator.answer(try incoming(["Supported: timer", "Session-Expires: 7200", "Min-SE: 3600"]))
                == .accept(timer: NegotiatedSessionTimer(seconds: 3600, weAreRefresher: true),
                           headers: [(.sessionExpires, "3600;refresher=uas"), (.require, "timer")]))
    }

    @Test func uasRefreshesForAUACWithoutTimerSupport() throws {
        let negotiator = SessionTimerNegotiator()
        // A proxy added Session-Expires below our minimum; the UAC cannot retry, so accept it.
        #expect(try negotiator.answer(try incoming(["Session-Expires: 60"]))
                == .accept(timer: NegotiatedSessionTimer(seconds: 60, weAreRefresher: true),
                           headers: [(.sessionExpires, "60;refresher=uas")]))
        // No Session-Expires at all: we ask for ours and refresh ourselves.
        #expect(try negotiator.answer(try incoming([]))
                == .accept(timer: NegotiatedSessionTimer(seconds: 1800, weAreRefresher: true),
                           headers: [(.sessionExpires, "1800;refresher=uas")]))
    }

    @Test func refreshRequestsCarryTheIntervalInForce() throws {
        var dialog = try Dialog(uacRequest: try Fixtures.invite(), response: try response(DialogTests.okLines))
        var update = dialog.makeRequest(method: .update, via: DialogTests.via)
        SessionTimerNegotiator().apply(to: &update, current: NegotiatedSessionTimer(seconds: 90, weAreRefresher: true))
        #expect(update.headers.values(.sessionExpires) == ["90;refresher=uac"])
        var reinvite = dialog.makeRequest(method: .invite, via: DialogTests.via)
        SessionTimerNegotiator().apply(to: &reinvite, current: NegotiatedSessionTimer(seconds: 1800, weAreRefresher: false))
        #expect(reinvite.headers.values(.sessionExpires) == ["1800;refresher=uas"])
    }
}

@Suite("RFC 4028 §10 refresh and expiry decisions")
struct SessionTimerStateTests {
    let refresher90 = NegotiatedSessionTimer(seconds: 90, weAreRefresher: true)
    let watcher90 = NegotiatedSessionTimer(seconds: 90, weAreRefresher: false)

    @Test func refresherUsesUpdateWhenThePeerAllowsIt() {
        var state = SessionTimerState(peerAllow: [.invite, .ack, .cancel, .bye, .update, .options])
        #expect(state.handle(.callEstablished(refresher90, at: .zero)) == [.rescheduleAt(.seconds(45))])
        #expect(state.phase == .waitingToRefresh)
        #expect(state.handle(.timerFired(at: .seconds(45))) == [.sendRefresh(method: .update), .rescheduleAt(.seconds(60))])
        #expect(state.phase == .refreshing(.update))
        #expect(state.handle(.refreshAnswered(statusCode: 200, timer: refresher90, at: .milliseconds(45_080)))
                == [.rescheduleAt(.milliseconds(90_080))])
        #expect(state.intervalStart == .milliseconds(45_080))
    }

    @Test func refresherUsesReInviteWhenAllowHasNoUpdate() {
        var state = SessionTimerState(peerAllow: [.invite, .ack, .cancel, .bye, .options])
        _ = state.handle(.callEstablished(refresher90, at: .zero))
        #expect(state.handle(.timerFired(at: .seconds(45))) == [.sendRefresh(method: .invite), .rescheduleAt(.seconds(60))])
        var noAllow = SessionTimerState()
        _ = noAllow.handle(.callEstablished(refresher90, at: .zero))
        #expect(noAllow.handle(.timerFired(at: .seconds(45))).first == .sendRefresh(method: .invite))
    }

    @Test func unansweredRefreshExpiresTheSession() {
        var state = SessionTimerState(peerAllow: [.update])
        _ = state.handle(.callEstablished(refresher90, at: .zero))
        _ = state.handle(.timerFired(at: .seconds(45)))
        let actions = state.handle(.refreshUnanswered(at: .seconds(77)))
        let ending = CallEnding(.sessionExpired(detail: "refresh UPDATE unanswered"), at: .seconds(77))
        #expect(actions == [.cancelTimer, .sendBye(ending)])
        #expect(ending.description == "session expired at 01:17, refresh UPDATE unanswered")
        #expect(state.phase == .expired)
        #expect(state.handle(.timerFired(at: .seconds(80))) == [])
    }

    @Test func refreshStillPendingAtByeTimeExpiresTheSession() {
        var state = SessionTimerState(peerAllow: [.update])
        _ = state.handle(.callEstablished(refresher90, at: .zero))
        _ = state.handle(.timerFired(at: .seconds(45)))
        #expect(state.handle(.timerFired(at: .seconds(60)))
                == [.sendBye(CallEnding(.sessionExpired(detail: "refresh UPDATE unanswered"), at: .seconds(60)))])
    }

    @Test func rejectedRefreshExpiresTheSession() {
        var state = SessionTimerState(peerAllow: [.update])
        _ = state.handle(.callEstablished(refresher90, at: .zero))
        _ = state.handle(.timerFired(at: .seconds(45)))
        let actions = state.handle(.refreshAnswered(statusCode: 405, timer: nil, at: .milliseconds(45_020)))
        #expect(actions == [.cancelTimer, .sendBye(CallEnding(.sessionExpired(detail: "refresh UPDATE rejected 405"), at: .milliseconds(45_020)))])
    }

    @Test func glareAndTooSmallAreRetried() {
        var state = SessionTimerState(peerAllow: [.update])
        _ = state.handle(.callEstablished(refresher90, at: .zero))
        _ = state.handle(.timerFired(at: .seconds(45)))
        #expect(state.handle(.refreshAnswered(statusCode: 491, timer: nil, at: .seconds(46))) == [.rescheduleAt(.seconds(48))])
        #expect(state.phase == .waitingToRefresh)
        #expect(state.handle(.timerFired(at: .seconds(48))) == [.sendRefresh(method: .update), .rescheduleAt(.seconds(60))])
        #expect(state.handle(.refreshAnswered(statusCode: 422, timer: nil, at: .seconds(48))) == [.sendRefresh(method: .update)])
        #expect(state.phase == .refreshing(.update))
    }

    @Test func nonRefresherSendsByeAtSixtySecondsForNinety() {
        var state = SessionTimerState()
        #expect(state.handle(.callEstablished(watcher90, at: .zero)) == [.rescheduleAt(.seconds(60))])
        #expect(state.phase == .watchingForRefresh)
        // A refresh at 40 s restarts the interval.
        #expect(state.handle(.refreshReceived(watcher90, at: .seconds(40))) == [.rescheduleAt(.seconds(100))])
        let actions = state.handle(.timerFired(at: .seconds(100)))
        let ending = CallEnding(.sessionExpired(detail: "no refresh received"), at: .seconds(100))
        #expect(actions == [.sendBye(ending)])
        #expect(ending.description == "session expired at 01:40, no refresh received")
    }

    @Test func refreshesCanSwapRolesOrTurnTimersOff() {
        var state = SessionTimerState(peerAllow: [.update])
        _ = state.handle(.callEstablished(watcher90, at: .zero))
        // The peer's refresh made us the refresher.
        #expect(state.handle(.refreshReceived(refresher90, at: .seconds(30))) == [.rescheduleAt(.seconds(75))])
        #expect(state.phase == .waitingToRefresh)
        // A refresh without Session-Expires turns the timer off.
        #expect(state.handle(.refreshReceived(nil, at: .seconds(50))) == [.cancelTimer])
        #expect(state.phase == .inactive)
        #expect(state.handle(.timerFired(at: .seconds(75))) == [])
        var none = SessionTimerState()
        #expect(none.handle(.callEstablished(nil, at: .zero)) == [])
    }

    @Test func soakOfThirtyMinutesWithDefaultInterval() {
        // SE 1800 as refresher: refreshes at 900 s after each success, all answered.
        let timer = NegotiatedSessionTimer(seconds: 1800, weAreRefresher: true)
        var state = SessionTimerState(peerAllow: [.update])
        var refreshTimes: [Duration] = []
        var next = state.handle(.callEstablished(timer, at: .zero))
        for _ in 0..<4 {
            guard case .rescheduleAt(let at) = next.last else { Issue.record("no schedule"); return }
            let fired = state.handle(.timerFired(at: at))
            #expect(fired.first == .sendRefresh(method: .update))
            refreshTimes.append(at)
            next = state.handle(.refreshAnswered(statusCode: 200, timer: timer, at: at + .milliseconds(40)))
        }
        #expect(refreshTimes == [.seconds(900), .milliseconds(1_800_040), .milliseconds(2_700_080), .milliseconds(3_600_120)])
    }
}
