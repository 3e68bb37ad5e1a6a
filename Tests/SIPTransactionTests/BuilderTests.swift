import SIPCore
import SIPTransaction
import Testing

@Suite("Message builders (RFC 3261 §8.1.1, §8.2.6, §9.1)")
struct BuilderTests {
    @Test func dialogCreatingResponseCopiesHeadersAddsTagContactAndRecordRoute() throws {
        let invite = try Fixtures.receivedInvite()
        let ok = try SIPResponse(answering: invite, statusCode: 200, toTag: "a6c85cf",
                                 contact: SIPNameAddress(uri: try URI(parsing: "sip:bob@198.51.100.20:5062")),
                                 copyRecordRoute: true, headers: [(.userAgent, "earshot/0.3.0")],
                                 body: Array("v=0\r\n".utf8), contentType: .sdp)
        #expect(text(ok) == [
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP p2.example.net;branch=z9hG4bK2d4790.1",
            "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK4b43c2ff8.1",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;received=192.0.2.10",
            "Record-Route: <sip:p2.example.net;lr>",
            "Record-Route: <sip:p1.example.com;lr>",
            "From: Alice <sip:alice@example.com>;tag=1928301774",
            "To: \"Bob\" <sip:bob@example.net>;tag=a6c85cf",
            "Call-ID: a84b4c76e66710@pc33.example.com",
            "CSeq: 314159 INVITE",
            "Contact: <sip:bob@198.51.100.20:5062>",
            "User-Agent: earshot/0.3.0",
            "Content-Type: application/sdp",
            "Content-Length: 5",
            "", "v=0", "",
        ].joined(separator: "\r\n"))
    }

    @Test func responseKeepsAnExistingToTagAndOmitsRecordRouteByDefault() throws {
        let ack = try Fixtures.receivedACK()
        var bye = ack
        bye.method = .bye
        let ok = try SIPResponse(answering: bye, statusCode: 200, toTag: "ignored")
        #expect(ok.headers.values(.to) == ["Bob <sip:bob@example.net>;tag=a6c85cf"])
        #expect(!ok.headers.contains(.recordRoute))
        #expect(!ok.headers.contains(.timestamp))
    }

    @Test func nonTryingResponseNeedsATag() throws {
        #expect(throws: SIPTransactionError.missingToTag) {
            try SIPResponse(answering: try Fixtures.receivedInvite(), statusCode: 180)
        }
    }

    @Test func cancelCopiesTheRequestWithMethodCancel() throws {
        let cancel = try SIPRequest.cancel(try Fixtures.invite())
        #expect(text(cancel) == [
            "CANCEL sip:bob@example.net SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport",
            "Route: <sip:outbound.example.com;lr>",
            "Max-Forwards: 70",
            "From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl",
            "To: <sip:bob@example.net>",
            "Call-ID: 3848276298220188511@atlanta.example.com",
            "CSeq: 1 CANCEL",
            "Content-Length: 0",
            "", "",
        ].joined(separator: "\r\n"))
        // A CANCEL has its own client transaction (same branch, method CANCEL, §17.1.3) and
        // the UAS finds the INVITE it cancels by key (§9.2).
        #expect(try TransactionKey(clientRequest: cancel) == .client(branch: "z9hG4bK74bf9", method: .cancel))
        #expect(TransactionKey(cancelled: cancel) == TransactionKey(serverRequest: try Fixtures.invite()))
        #expect(throws: SIPTransactionError.self) { try SIPRequest.cancel(try Fixtures.receivedACK()) }
    }

    @Test func ackIsOnlyForNonSuccessFinals() throws {
        #expect(throws: SIPTransactionError.self) {
            try SIPRequest.ack(forNonSuccess: try Fixtures.inviteResponse("200 OK"), to: try Fixtures.invite())
        }
    }

    @Test func resubmittedRequestHasANewBranchAndTheNextCSeq() throws {
        let invite = try Fixtures.invite()
        let via = try SIPVia(parsing: "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKretry2;rport")
        let retry = try invite.resubmitted(via: via)
        #expect(retry.headers.values(.via) == ["SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKretry2;rport"])
        #expect(try retry.headers.cseq == SIPCSeq(sequence: 2, method: .invite))
        #expect(retry.headers.values(.from) == invite.headers.values(.from))
        #expect(retry.headers.values(.callID) == invite.headers.values(.callID))
        #expect(retry.body == invite.body)
    }

    @Test func factoryBuildsACompleteInvite() throws {
        var rng = SeededGenerator(seed: 42)
        let factory = RequestFactory(transport: "UDP", host: .ipv4("192.0.2.10"), port: 5060,
                                     contact: SIPNameAddress(uri: try URI(parsing: "sip:alice@192.0.2.10:5060")),
                                     version: "0.3.0", allow: [.invite, .ack, .cancel, .bye, .update, .options],
                                     supported: ["timer"])
        let invite = factory.request(method: .invite, uri: try URI(parsing: "sip:bob@example.net"),
                                     from: try SIPNameAddress(parsing: "\"Alice\" <sip:alice@example.com>"),
                                     to: try SIPNameAddress(parsing: "<sip:bob@example.net>"),
                                     body: Array("v=0\r\n".utf8), contentType: .sdp, using: &rng)
        // Reparse: the message is well formed and passes the UAS checks.
        let parsed = try SIPRequest(parsing: invite.serialize())
        #expect(SIPValidator.check(.request(parsed)).isOK)
        let via = try #require(try parsed.headers.topVia)
        #expect(via.hasRFC3261Branch)
        #expect(via.branch?.count == 7 + 24)
        #expect(via.hasRPort && via.rport == nil)
        #expect(via.description.hasPrefix("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK"))
        #expect(try parsed.headers.from?.tag?.count == 16)
        #expect(try parsed.headers.to?.tag == nil)
        #expect(try parsed.headers.callID?.count == 32)
        #expect(try parsed.headers.cseq == SIPCSeq(sequence: 1, method: .invite))
        #expect(try parsed.headers.maxForwards == 70)
        #expect(parsed.headers.names.map(\.canonical) == [
            "Via", "Max-Forwards", "From", "To", "Call-ID", "CSeq", "Contact", "User-Agent", "Allow",
            "Supported", "Content-Type", "Content-Length",
        ])
        #expect(parsed.headers.values(.userAgent) == ["earshot/0.3.0"])
        #expect(parsed.headers.values(.allow) == ["INVITE", "ACK", "CANCEL", "BYE", "UPDATE", "OPTIONS"])
        #expect(parsed.headers.values(.contentLength) == ["5"])
        // The same seed gives the same identifiers; another seed does not.
        var again = SeededGenerator(seed: 42)
        var other = SeededGenerator(seed: 43)
        let template = (method: SIPMethod.options, uri: try URI(parsing: "sip:bob@example.net"))
        let from = try SIPNameAddress(parsing: "<sip:alice@example.com>")
        let first = factory.request(method: template.method, uri: template.uri, from: from, to: from, using: &again)
        let second = factory.request(method: template.method, uri: template.uri, from: from, to: from, using: &other)
        #expect(first.headers.values(.via) != second.headers.values(.via))
        #expect(first.headers.values(.callID) != second.headers.values(.callID))
    }

    @Test func factoryBuildsRegisterRefreshesOnOneCallID() throws {
        var rng = SeededGenerator(seed: 9)
        let factory = RequestFactory(transport: "TCP", host: .ipv4("127.0.0.1"), port: 5070,
                                     contact: SIPNameAddress(uri: try URI(parsing: "sip:alice@127.0.0.1:5070;transport=tcp")),
                                     version: "0.3.0")
        let aor = try SIPNameAddress(parsing: "<sip:alice@example.com>")
        let registrar = try URI(parsing: "sip:example.com")
        var expires = SIPHeaders()
        expires.add(.expires, "3600")
        let first = factory.request(method: .register, uri: registrar, from: aor, to: aor, sequence: 1, extraHeaders: expires, using: &rng)
        let callID = try #require(try first.headers.callID)
        // §10.2: refreshes reuse the Call-ID and increase the CSeq.
        let refresh = factory.request(method: .register, uri: registrar, from: aor, to: aor, callID: callID, sequence: 2,
                                      extraHeaders: expires, using: &rng)
        #expect(try refresh.headers.callID == callID)
        #expect(try refresh.headers.cseq == SIPCSeq(sequence: 2, method: .register))
        #expect(try refresh.headers.to?.uri == aor.uri)
        #expect(try refresh.headers.to?.tag == nil)
        #expect(refresh.headers.values(.expires) == ["3600"])
        #expect(refresh.headers.values(.contact) == ["<sip:alice@127.0.0.1:5070;transport=tcp>"])
        #expect(refresh.headers.values(.contentLength) == ["0"])
        #expect(!refresh.headers.contains(.allow) && !refresh.headers.contains(.contentType))
        #expect(try refresh.headers.topVia?.description.hasPrefix("SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK") == true)
        #expect(try refresh.headers.topVia?.branch != first.headers.topVia?.branch)
    }

    @Test func identifiersHaveTheirFormats() {
        var rng = SeededGenerator(seed: 7)
        let branch = SIPIdentifiers.branch(using: &rng)
        #expect(branch.hasPrefix("z9hG4bK") && branch.count == 31)
        #expect(SIPIdentifiers.callID(host: "192.0.2.10", using: &rng).hasSuffix("@192.0.2.10"))
        let sequence = SIPIdentifiers.initialSequence(using: &rng)
        #expect(sequence >= 1 && sequence < 0x8000_0000)
    }
}

@Suite("Transaction keys (RFC 3261 §17.1.3, §17.2.3)")
struct TransactionKeyTests {
    @Test func responseMatchesByBranchAndCSeqMethod() throws {
        let invite = try Fixtures.invite()
        let ringing = try Fixtures.inviteResponse("180 Ringing")
        #expect(TransactionKey(clientResponse: ringing) == (try TransactionKey(clientRequest: invite)))
        var cancelResponse = ringing
        cancelResponse.headers.setCSeq(SIPCSeq(sequence: 1, method: .cancel))
        #expect(TransactionKey(clientResponse: cancelResponse) == .client(branch: "z9hG4bK74bf9", method: .cancel))
    }

    @Test func serverKeyUsesSentByCaseInsensitivelyAndMapsACKToINVITE() throws {
        let invite = try Fixtures.receivedInvite()
        var shouted = invite
        shouted.headers.removeFirstValue(.via)
        shouted.headers.prepend(.via, "SIP/2.0/UDP P2.EXAMPLE.NET;branch=z9hG4bK2d4790.1")
        #expect(TransactionKey(serverRequest: shouted) == TransactionKey(serverRequest: invite))
        var otherPort = invite
        otherPort.headers.removeFirstValue(.via)
        otherPort.headers.prepend(.via, "SIP/2.0/UDP p2.example.net:5070;branch=z9hG4bK2d4790.1")
        #expect(TransactionKey(serverRequest: otherPort) != TransactionKey(serverRequest: invite))
        #expect(TransactionKey(serverRequest: try Fixtures.receivedACK()) == TransactionKey(serverRequest: invite))
    }

    @Test func rfc2543RequestsMatchOnDialogFieldsAndVia() throws {
        let lines = [
            "INVITE sip:bob@198.51.100.20 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.99:5060",
            "To: <sip:bob@example.net>",
            "From: <sip:old@example.com>;tag=abc",
            "Call-ID: legacy-1@192.0.2.99",
            "CSeq: 8 INVITE",
        ]
        let invite = try request(lines)
        let key = try #require(TransactionKey(serverRequest: invite))
        #expect(key == .legacyServer(requestURI: "sip:bob@198.51.100.20", fromTag: "abc", callID: "legacy-1@192.0.2.99",
                                     sequence: 8, via: "SIP/2.0/UDP 192.0.2.99:5060", method: .invite))
        var ackLines = lines
        ackLines[0] = "ACK sip:bob@198.51.100.20 SIP/2.0"
        ackLines[2] = "To: <sip:bob@example.net>;tag=xyz"
        ackLines[5] = "CSeq: 8 ACK"
        #expect(TransactionKey(serverRequest: try request(ackLines)) == key)
        var nextLines = lines
        nextLines[5] = "CSeq: 9 INVITE"
        #expect(TransactionKey(serverRequest: try request(nextLines)) != key)
    }

    @Test func responseWithoutBranchMatchesNothing() throws {
        let bare = try response([
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 192.0.2.10:5060",
            "From: <sip:a@example.com>;tag=1",
            "To: <sip:b@example.com>;tag=2",
            "Call-ID: x",
            "CSeq: 1 OPTIONS",
        ])
        #expect(TransactionKey(clientResponse: bare) == nil)
    }
}
