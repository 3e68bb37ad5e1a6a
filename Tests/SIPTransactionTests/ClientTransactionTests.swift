import SIPCore
import SIPTransaction
import Testing

@Suite("Client INVITE transaction (RFC 3261 §17.1.1, RFC 6026)")
struct ClientInviteTransactionTests {
    @Test func startOverUDPSendsAndStartsTimersAAndB() throws {
        let invite = try Fixtures.invite()
        var tx = try ClientTransaction(request: invite, reliable: false)
        #expect(tx.state == .calling)
        #expect(tx.key == .client(branch: "z9hG4bK74bf9", method: .invite))
        #expect(tx.start() == [.send(.request(invite)), .startTimer(.a, .milliseconds(500)), .startTimer(.b, .seconds(32))])
        #expect(tx.start() == [])
    }

    @Test func timerADoublesWithoutCapUntilTimerBTimesOut() throws {
        var tx = try ClientTransaction(request: try Fixtures.invite(), reliable: false)
        var driver = VirtualDriver()
        driver.run(tx.start())
        while driver.step({ tx.timerFired($0) }) {}
        // 7 transmissions: 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s (§17.1.1.2), then Timer B at 32 s.
        #expect(driver.sendTimes == [.zero, .milliseconds(500), .milliseconds(1500), .milliseconds(3500),
                                     .milliseconds(7500), .milliseconds(15500), .milliseconds(31500)])
        let restarts = driver.log.compactMap { if case .startTimer(.a, let d) = $0 { d } else { nil } }
        #expect(restarts == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32)])
        #expect(driver.now == .seconds(32))
        #expect(Array(driver.log.suffix(3)) == [.timedOut, .cancelTimer(.a), .terminated])
        #expect(tx.state == .terminated)
    }

    @Test func provisionalStopsRetransmissionsAndTimerB() throws {
        var tx = try ClientTransaction(request: try Fixtures.invite(), reliable: false)
        _ = tx.start()
        let ringing = try Fixtures.inviteResponse("180 Ringing")
        #expect(tx.receive(ringing) == [.cancelTimer(.a), .cancelTimer(.b), .deliverResponse(ringing)])
        #expect(tx.state == .proceeding)
        #expect(tx.timerFired(.a) == [])
        #expect(tx.timerFired(.b) == [])
        let progress = try Fixtures.inviteResponse("183 Session Progress")
        #expect(tx.receive(progress) == [.deliverResponse(progress)])
    }

    @Test func nonSuccessFinalIsAcknowledgedWithExactHeaders() throws {
        var tx = try ClientTransaction(request: try Fixtures.invite(), reliable: false)
        _ = tx.start()
        _ = tx.receive(try Fixtures.inviteResponse("180 Ringing"))
        let busy = try Fixtures.inviteResponse("486 Busy Here")
        let actions = tx.receive(busy)
        let ack = try #require(tx.ack)
        #expect(actions == [.send(.request(ack)), .deliverResponse(busy), .startTimer(.d, .seconds(32))])
        #expect(tx.state == .completed)
        #expect(text(ack) == [
            "ACK sip:bob@example.net SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport",
            "Route: <sip:outbound.example.com;lr>",
            "Max-Forwards: 70",
            "From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl",
            "To: <sip:bob@example.net>;tag=314159",
            "Call-ID: 3848276298220188511@atlanta.example.com",
            "CSeq: 1 ACK",
            "Content-Length: 0",
            "", "",
        ].joined(separator: "\r\n"))
        // A retransmitted 486 is ACKed again and not passed up; Timer D ends the transaction.
        #expect(tx.receive(busy) == [.send(.request(ack))])
        #expect(tx.timerFired(.d) == [.terminated])
        #expect(tx.receive(busy) == [])
    }

    @Test func finalInCallingCancelsBothTimers() throws {
        var tx = try ClientTransaction(request: try Fixtures.invite(), reliable: false)
        _ = tx.start()
        let notFound = try Fixtures.inviteResponse("404 Not Found")
        let actions = tx.receive(notFound)
        #expect(actions.prefix(2) == [.cancelTimer(.a), .cancelTimer(.b)])
        #expect(actions.count == 5)
    }

    @Test func successMovesToAcceptedAndPassesRetransmittedSuccessToTU() throws {
        var tx = try ClientTransaction(request: try Fixtures.invite(), reliable: false)
        _ = tx.start()
        _ = tx.receive(try Fixtures.inviteResponse("180 Ringing"))
        let ok = try Fixtures.inviteResponse("200 OK", extra: ["Contact: <sip:bob@198.51.100.20:5062>"])
        #expect(tx.receive(ok) == [.deliverResponse(ok), .startTimer(.m, .seconds(32))])
        #expect(tx.state == .accepted)
        #expect(tx.ack == nil)
        // RFC 6026: every retransmitted 2xx goes to the TU so it re-sends the ACK.
        #expect(tx.receive(ok) == [.deliverResponse(ok)])
        #expect(tx.receive(ok) == [.deliverResponse(ok)])
        // A stray non-2xx is absorbed.
        #expect(tx.receive(try Fixtures.inviteResponse("500 Server Internal Error")) == [])
        #expect(tx.timerFired(.m) == [.terminated])
        #expect(tx.state == .terminated)
    }

    @Test func reliableTransportHasNoRetransmissionsAndNoTimerD() throws {
        let invite = try Fixtures.invite()
        var tx = try ClientTransaction(request: invite, reliable: true)
        #expect(tx.start() == [.send(.request(invite)), .startTimer(.b, .seconds(32))])
        let declined = try Fixtures.inviteResponse("603 Decline")
        let actions = tx.receive(declined)
        let ack = try #require(tx.ack)
        #expect(actions == [.cancelTimer(.b), .send(.request(ack)), .deliverResponse(declined), .terminated])
        #expect(tx.state == .terminated)
    }

    @Test func reliableTimeoutAfter32Seconds() throws {
        var tx = try ClientTransaction(request: try Fixtures.invite(), reliable: true)
        var driver = VirtualDriver()
        driver.run(tx.start())
        while driver.step({ tx.timerFired($0) }) {}
        #expect(driver.sendTimes == [.zero])
        #expect(driver.now == .seconds(32))
        #expect(Array(driver.log.suffix(2)) == [.timedOut, .terminated])
    }

    @Test func transportErrorInformsTUAndTerminates() throws {
        var tx = try ClientTransaction(request: try Fixtures.invite(), reliable: false)
        _ = tx.start()
        #expect(tx.transportError() == [.transportFailed, .cancelTimer(.a), .cancelTimer(.b), .terminated])
        #expect(tx.transportError() == [])
        #expect(tx.receive(try Fixtures.inviteResponse("200 OK")) == [])
    }

    @Test func customTimersScaleEverything() throws {
        let timers = TransactionTimers(t1: .milliseconds(100), t2: .seconds(1), t4: .seconds(2))
        #expect(timers.timeout == .milliseconds(6400))
        var tx = try ClientTransaction(request: try Fixtures.invite(), reliable: false, timers: timers)
        #expect(Array(tx.start().dropFirst()) == [.startTimer(.a, .milliseconds(100)), .startTimer(.b, .milliseconds(6400))])
    }

    @Test func anACKHasNoClientTransaction() throws {
        let ack = try Fixtures.receivedACK()
        #expect(throws: SIPTransactionError.self) { try ClientTransaction(request: ack, reliable: false) }
    }
}

@Suite("Client non-INVITE transaction (RFC 3261 §17.1.2)")
struct ClientNonInviteTransactionTests {
    @Test func timerEDoublesUpToT2UntilTimerF() throws {
        let options = try Fixtures.options()
        var tx = try ClientTransaction(request: options, reliable: false)
        #expect(tx.state == .trying)
        var driver = VirtualDriver()
        driver.run(tx.start())
        #expect(driver.log == [.send(.request(options)), .startTimer(.e, .milliseconds(500)), .startTimer(.f, .seconds(32))])
        while driver.step({ tx.timerFired($0) }) {}
        let intervals = driver.log.compactMap { if case .startTimer(.e, let d) = $0 { d } else { nil } }
        #expect(intervals == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4),
                              .seconds(4), .seconds(4), .seconds(4), .seconds(4), .seconds(4)])
        #expect(driver.sendTimes == [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500].map { .milliseconds($0) })
        #expect(driver.now == .seconds(32))
        #expect(Array(driver.log.suffix(3)) == [.timedOut, .cancelTimer(.e), .terminated])
    }

    @Test func provisionalSwitchesRetransmissionsToT2() throws {
        var tx = try ClientTransaction(request: try Fixtures.options(), reliable: false)
        var driver = VirtualDriver()
        driver.run(tx.start())
        _ = driver.step { tx.timerFired($0) } // 0.5 s: retransmit, E = 1 s
        let trying = try Fixtures.optionsResponse("100 Trying")
        driver.run(tx.receive(trying))
        #expect(tx.state == .proceeding)
        _ = driver.step { tx.timerFired($0) } // 1.5 s: retransmit, E = T2
        _ = driver.step { tx.timerFired($0) } // 5.5 s
        #expect(driver.sendTimes == [.zero, .milliseconds(500), .milliseconds(1500), .milliseconds(5500)])
        let intervals = driver.log.compactMap { if case .startTimer(.e, let d) = $0 { d } else { nil } }
        #expect(intervals == [.milliseconds(500), .seconds(1), .seconds(4), .seconds(4)])
    }

    @Test func finalResponseStartsTimerKAndAbsorbsRetransmissions() throws {
        var tx = try ClientTransaction(request: try Fixtures.options(), reliable: false)
        _ = tx.start()
        let ok = try Fixtures.optionsResponse("200 OK")
        #expect(tx.receive(ok) == [.cancelTimer(.e), .cancelTimer(.f), .deliverResponse(ok), .startTimer(.k, .seconds(5))])
        #expect(tx.state == .completed)
        #expect(tx.receive(ok) == [])
        #expect(tx.timerFired(.e) == [])
        #expect(tx.timerFired(.k) == [.terminated])
    }

    @Test func reliableFinalTerminatesAtOnce() throws {
        let options = try Fixtures.options()
        var tx = try ClientTransaction(request: options, reliable: true)
        #expect(tx.start() == [.send(.request(options)), .startTimer(.f, .seconds(32))])
        let forbidden = try Fixtures.optionsResponse("403 Forbidden")
        #expect(tx.receive(forbidden) == [.cancelTimer(.f), .deliverResponse(forbidden), .terminated])
    }
}
