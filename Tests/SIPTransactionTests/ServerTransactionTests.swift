import SIPCore
import SIPTransaction
import Testing

@Suite("Server INVITE transaction (RFC 3261 §17.2.1, RFC 6026)")
struct ServerInviteTransactionTests {
    func started(reliable: Bool = false) throws -> (ServerTransaction, SIPRequest) {
        let invite = try Fixtures.receivedInvite()
        var tx = try ServerTransaction(request: invite, reliable: reliable)
        _ = tx.start()
        return (tx, invite)
    }

    @Test func startSendsTryingThenPassesTheRequestUp() throws {
        let invite = try Fixtures.receivedInvite()
        var tx = try ServerTransaction(request: invite, reliable: false)
        #expect(tx.key == .server(branch: "z9hG4bK2d4790.1", sentBy: "p2.example.net", method: .invite))
        #expect(tx.state == .proceeding)
        let trying = try #require(tx.lastProvisional)
        #expect(tx.start() == [.send(.response(trying)), .deliverRequest(invite)])
        #expect(tx.start() == [])
        #expect(trying.statusCode == 100)
        #expect(try trying.headers.to?.tag == nil)
        #expect(trying.headers.values(.timestamp) == ["54"])
        #expect(trying.headers.values(.via).count == 3)
    }

    @Test func retransmittedInviteGetsTheLatestProvisional() throws {
        var (tx, invite) = try started()
        #expect(tx.receive(invite) == [.send(.response(try #require(tx.lastProvisional)))])
        let ringing = try SIPResponse(answering: invite, statusCode: 180, toTag: "a6c85cf")
        #expect(tx.respond(ringing) == [.send(.response(ringing))])
        #expect(tx.receive(invite) == [.send(.response(ringing))])
    }

    @Test func nonSuccessIsRetransmittedOnTimerGCappedAtT2UntilACK() throws {
        var (tx, invite) = try started()
        let busy = try SIPResponse(answering: invite, statusCode: 486, toTag: "a6c85cf")
        var driver = VirtualDriver()
        driver.run(tx.respond(busy))
        #expect(driver.log == [.send(.response(busy)), .startTimer(.g, .milliseconds(500)), .startTimer(.h, .seconds(32))])
        #expect(tx.state == .completed)
        for _ in 0..<5 { _ = driver.step { tx.timerFired($0) } }
        let intervals = driver.log.compactMap { if case .startTimer(.g, let d) = $0 { d } else { nil } }
        #expect(intervals == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        #expect(driver.sendTimes == [0, 500, 1500, 3500, 7500, 11500].map { .milliseconds($0) })
        // A retransmitted INVITE gets the final response again.
        #expect(tx.receive(invite) == [.send(.response(busy))])
        // The ACK (same branch, §17.1.1.3) confirms; Timer I absorbs ACK retransmissions.
        let ack = try Fixtures.receivedACK()
        #expect(TransactionKey(serverRequest: ack) == tx.key)
        #expect(tx.receive(ack) == [.cancelTimer(.g), .cancelTimer(.h), .startTimer(.i, .seconds(5))])
        #expect(tx.state == .confirmed)
        #expect(tx.receive(ack) == [])
        #expect(tx.receive(invite) == [])
        #expect(tx.timerFired(.i) == [.terminated])
    }

    @Test func noACKTimesOutOnTimerH() throws {
        var (tx, invite) = try started()
        var driver = VirtualDriver()
        driver.run(tx.respond(try SIPResponse(answering: invite, statusCode: 480, toTag: "a6c85cf")))
        while driver.step({ tx.timerFired($0) }) {}
        #expect(driver.now == .seconds(32))
        // 1 send + retransmissions at 0.5, 1.5, 3.5, 7.5, 11.5, ..., 31.5 s.
        #expect(driver.sent.count == 11)
        #expect(Array(driver.log.suffix(3)) == [.timedOut, .cancelTimer(.g), .terminated])
    }

    @Test func successGoesToAcceptedWhichAbsorbsInvitesAndPassesACKsUp() throws {
        var (tx, invite) = try started()
        let ok = try SIPResponse(answering: invite, statusCode: 200, toTag: "a6c85cf",
                                 contact: SIPNameAddress(uri: try URI(parsing: "sip:bob@198.51.100.20:5062")), copyRecordRoute: true)
        #expect(tx.respond(ok) == [.send(.response(ok)), .startTimer(.l, .seconds(32))])
        #expect(tx.state == .accepted)
        #expect(tx.receive(invite) == [])
        let ack = try Fixtures.receivedACK()
        #expect(tx.receive(ack) == [.deliverRequest(ack)])
        // The TU's 2xx retransmissions pass through.
        #expect(tx.respond(ok) == [.send(.response(ok))])
        // A non-2xx after the 2xx is ignored.
        #expect(tx.respond(try SIPResponse(answering: invite, statusCode: 500, toTag: "a6c85cf")) == [])
        #expect(tx.transportError() == [.transportFailed])
        #expect(tx.state == .accepted)
        #expect(tx.timerFired(.l) == [.terminated])
    }

    @Test func reliableNonSuccessHasNoTimerGAndNoTimerI() throws {
        var (tx, invite) = try started(reliable: true)
        let busy = try SIPResponse(answering: invite, statusCode: 486, toTag: "a6c85cf")
        #expect(tx.respond(busy) == [.send(.response(busy)), .startTimer(.h, .seconds(32))])
        #expect(tx.receive(try Fixtures.receivedACK()) == [.cancelTimer(.h), .terminated])
    }

    @Test func transportErrorTerminates() throws {
        var (tx, invite) = try started()
        _ = tx.respond(try SIPResponse(answering: invite, statusCode: 486, toTag: "a6c85cf"))
        #expect(tx.transportError() == [.transportFailed, .cancelTimer(.g), .cancelTimer(.h), .terminated])
    }
}

@Suite("Server non-INVITE transaction (RFC 3261 §17.2.2)")
struct ServerNonInviteTransactionTests {
    func bye() throws -> SIPRequest {
        try request([
            "BYE sip:bob@198.51.100.20:5062 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds10",
            "Max-Forwards: 70",
            "From: Alice <sip:alice@example.com>;tag=1928301774",
            "To: Bob <sip:bob@example.net>;tag=a6c85cf",
            "Call-ID: a84b4c76e66710@pc33.example.com",
            "CSeq: 314160 BYE",
        ])
    }

    @Test func tryingAbsorbsThenCompletedResendsUntilTimerJ() throws {
        let request = try bye()
        var tx = try ServerTransaction(request: request, reliable: false)
        #expect(tx.state == .trying)
        #expect(tx.start() == [.deliverRequest(request)])
        #expect(tx.receive(request) == [])
        let ok = try SIPResponse(answering: request, statusCode: 200)
        #expect(tx.respond(ok) == [.send(.response(ok)), .startTimer(.j, .seconds(32))])
        #expect(tx.state == .completed)
        #expect(tx.receive(request) == [.send(.response(ok))])
        #expect(tx.respond(ok) == [])
        #expect(tx.timerFired(.j) == [.terminated])
    }

    @Test func provisionalIsResentOnRetransmission() throws {
        let request = try bye()
        var tx = try ServerTransaction(request: request, reliable: false)
        _ = tx.start()
        let trying = try SIPResponse(answering: request, statusCode: 100)
        #expect(tx.respond(trying) == [.send(.response(trying))])
        #expect(tx.state == .proceeding)
        #expect(tx.receive(request) == [.send(.response(trying))])
    }

    @Test func reliableFinalTerminatesAtOnce() throws {
        let request = try bye()
        var tx = try ServerTransaction(request: request, reliable: true)
        _ = tx.start()
        let ok = try SIPResponse(answering: request, statusCode: 200)
        #expect(tx.respond(ok) == [.send(.response(ok)), .terminated])
    }
}

@Suite("2xx retransmission until ACK (RFC 3261 §13.3.1.4)")
struct AcceptedInviteRetransmitterTests {
    func ok() throws -> SIPResponse {
        try SIPResponse(answering: try Fixtures.receivedInvite(), statusCode: 200, toTag: "a6c85cf",
                        contact: SIPNameAddress(uri: try URI(parsing: "sip:bob@198.51.100.20:5062")))
    }

    func ackFor2xx(sequence: Int = 314159) throws -> SIPRequest {
        try request([
            "ACK sip:bob@198.51.100.20:5062 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnew2xxack",
            "Route: <sip:p1.example.com;lr>",
            "Max-Forwards: 70",
            "To: Bob <sip:bob@example.net>;tag=a6c85cf",
            "From: Alice <sip:alice@example.com>;tag=1928301774",
            "Call-ID: a84b4c76e66710@pc33.example.com",
            "CSeq: \(sequence) ACK",
        ])
    }

    @Test func retransmitsAtT1DoublingToT2AndGivesUpAt64T1() throws {
        let response = try ok()
        var rtx = try AcceptedInviteRetransmitter(response: response)
        var driver = VirtualDriver()
        driver.run(rtx.start())
        #expect(driver.log == [.startTimer(.successRetransmit, .milliseconds(500)), .startTimer(.ackWait, .seconds(32))])
        while driver.step({ rtx.timerFired($0) }) {}
        #expect(driver.sendTimes == [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500].map { .milliseconds($0) })
        #expect(driver.sent.allSatisfy { $0.message == .response(response) })
        #expect(rtx.retransmissions == 10)
        #expect(Array(driver.log.suffix(3)) == [.timedOut, .cancelTimer(.successRetransmit), .terminated])
        #expect(rtx.state == .gaveUp)
    }

    @Test func matchingACKStopsIt() throws {
        var rtx = try AcceptedInviteRetransmitter(response: try ok())
        _ = rtx.start()
        #expect(rtx.receiveACK(try ackFor2xx(sequence: 314158)) == [])
        #expect(rtx.receiveACK(try ackFor2xx()) == [.cancelTimer(.successRetransmit), .cancelTimer(.ackWait), .terminated])
        #expect(rtx.state == .acknowledged)
        #expect(rtx.timerFired(.successRetransmit) == [])
    }

    @Test func onlyA2xxIsRetransmitted() throws {
        let busy = try SIPResponse(answering: try Fixtures.receivedInvite(), statusCode: 486, toTag: "x")
        #expect(throws: SIPTransactionError.self) { try AcceptedInviteRetransmitter(response: busy) }
    }
}
