import SIPCore
import SIPTransaction
import Testing

@Suite("Dialogs (RFC 3261 §12)")
struct DialogTests {
    static let okLines = [
        "SIP/2.0 200 OK",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport=5060;received=192.0.2.10",
        "Record-Route: <sip:p2.example.net;lr>, <sip:p1.example.com;lr>",
        "From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl",
        "To: <sip:bob@example.net>;tag=314159",
        "Call-ID: 3848276298220188511@atlanta.example.com",
        "CSeq: 1 INVITE",
        "Contact: <sip:bob@198.51.100.20:5062;transport=udp>",
        "Allow: INVITE, ACK, CANCEL, BYE, UPDATE, OPTIONS",
    ]

    static let via = try! SIPVia(parsing: "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKindialog1;rport")

    func uacDialog(recordRoute: String? = "Record-Route: <sip:p2.example.net;lr>, <sip:p1.example.com;lr>") throws -> Dialog {
        var lines = Self.okLines
        if let recordRoute { lines[2] = recordRoute } else { lines.remove(at: 2) }
        return try Dialog(uacRequest: try Fixtures.invite(), response: try response(lines))
    }

    @Test func uacDialogFromInviteAnd2xx() throws {
        let dialog = try uacDialog()
        #expect(dialog.state == .confirmed)
        #expect(dialog.id == DialogID(callID: "3848276298220188511@atlanta.example.com", localTag: "9fxced76sl", remoteTag: "314159"))
        #expect(dialog.localURI.description == "sip:alice@example.com")
        #expect(dialog.remoteURI.description == "sip:bob@example.net")
        #expect(dialog.localSequence == 1)
        #expect(dialog.remoteSequence == nil)
        #expect(dialog.remoteTarget.description == "sip:bob@198.51.100.20:5062;transport=udp")
        // §12.1.2: the route set is the Record-Route in reverse order.
        #expect(dialog.routeSet.map(\.description) == ["<sip:p1.example.com;lr>", "<sip:p2.example.net;lr>"])
        #expect(dialog.nextHop.description == "sip:p1.example.com;lr")
        #expect(!dialog.isSecure)
        #expect(dialog.localContact?.description == "<sip:alice@192.0.2.10:5060>")
        #expect(DialogID(receivedResponse: try response(Self.okLines)) == dialog.id)
    }

    @Test func looseRoutingKeepsTheTargetAsRequestURI() throws {
        var dialog = try uacDialog()
        let bye = dialog.makeRequest(method: .bye, via: Self.via, extraHeaders: [(.userAgent, "earshot/0.3.0")])
        #expect(text(bye) == [
            "BYE sip:bob@198.51.100.20:5062;transport=udp SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKindialog1;rport",
            "Route: <sip:p1.example.com;lr>",
            "Route: <sip:p2.example.net;lr>",
            "Max-Forwards: 70",
            "From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl",
            "To: <sip:bob@example.net>;tag=314159",
            "Call-ID: 3848276298220188511@atlanta.example.com",
            "CSeq: 2 BYE",
            "User-Agent: earshot/0.3.0",
            "Content-Length: 0",
            "", "",
        ].joined(separator: "\r\n"))
        #expect(dialog.localSequence == 2)
    }

    @Test func strictRoutingPutsTheFirstRouteInTheRequestURI() throws {
        // Reversed, the route set starts with p1, which has no `lr`.
        var dialog = try uacDialog(recordRoute: "Record-Route: <sip:p2.example.net;lr>, <sip:p1.example.com;method=INVITE>")
        let update = dialog.makeRequest(method: .update, via: Self.via)
        #expect(update.uri.description == "sip:p1.example.com")
        #expect(update.headers.values(.route) == ["<sip:p2.example.net;lr>", "<sip:bob@198.51.100.20:5062;transport=udp>"])
        // UPDATE is a target refresh request: it carries our Contact.
        #expect(update.headers.values(.contact) == ["<sip:alice@192.0.2.10:5060>"])
        #expect(dialog.nextHop.description == "sip:p1.example.com;method=INVITE")
    }

    @Test func noRouteSetSendsStraightToTheTarget() throws {
        var dialog = try uacDialog(recordRoute: nil)
        let info = dialog.makeRequest(method: .info, via: Self.via)
        #expect(info.uri.description == "sip:bob@198.51.100.20:5062;transport=udp")
        #expect(!info.headers.contains(.route))
        #expect(!info.headers.contains(.contact))
        #expect(dialog.nextHop == dialog.remoteTarget)
    }

    @Test func cseqIncrementsExceptForACKAndCancel() throws {
        var dialog = try uacDialog()
        let reinvite = dialog.makeRequest(method: .invite, via: Self.via, body: Array("v=0\r\n".utf8), contentType: .sdp)
        #expect(try reinvite.headers.cseq == SIPCSeq(sequence: 2, method: .invite))
        #expect(reinvite.headers.values(.contentType) == ["application/sdp"])
        let ack = dialog.makeRequest(method: .ack, via: Self.via)
        #expect(try ack.headers.cseq == SIPCSeq(sequence: 2, method: .ack))
        let bye = dialog.makeRequest(method: .bye, via: Self.via)
        #expect(try bye.headers.cseq == SIPCSeq(sequence: 3, method: .bye))
    }

    @Test func ackFor2xxUsesTheInviteSequenceAndCredentials() throws {
        var invite = try Fixtures.invite()
        invite.headers.add(.proxyAuthorization, "Digest username=\"alice\", realm=\"example.com\", nonce=\"n\", uri=\"sip:bob@example.net\", response=\"0123\"")
        let dialog = try Dialog(uacRequest: invite, response: try response(Self.okLines))
        let ack = try dialog.makeACK(for: invite, via: Self.via)
        #expect(ack.method == .ack)
        #expect(ack.uri.description == "sip:bob@198.51.100.20:5062;transport=udp")
        #expect(try ack.headers.cseq == SIPCSeq(sequence: 1, method: .ack))
        #expect(ack.headers.values(.route) == ["<sip:p1.example.com;lr>", "<sip:p2.example.net;lr>"])
        #expect(ack.headers.count(.proxyAuthorization) == 1)
        #expect(try ack.headers.topVia?.branch == "z9hG4bKindialog1")
    }

    @Test func earlyDialogFromRingingIsConfirmedByTheSuccess() throws {
        var ringingLines = Self.okLines
        ringingLines[0] = "SIP/2.0 180 Ringing"
        ringingLines[2] = "Record-Route: <sip:p1.example.com;lr>"
        var dialog = try Dialog(uacRequest: try Fixtures.invite(), response: try response(ringingLines))
        #expect(dialog.state == .early)
        #expect(dialog.routeSet.count == 1)
        try dialog.receiveResponse(try response(Self.okLines), to: try Fixtures.invite())
        #expect(dialog.state == .confirmed)
        #expect(dialog.routeSet.map(\.description) == ["<sip:p1.example.com;lr>", "<sip:p2.example.net;lr>"])
        // A 1xx without a To tag makes no dialog.
        var bare = ringingLines
        bare[4] = "To: <sip:bob@example.net>"
        #expect(throws: SIPTransactionError.missingDialogTag) { try Dialog(uacRequest: try Fixtures.invite(), response: try response(bare)) }
    }

    @Test func uasDialogFromReceivedInvite() throws {
        let invite = try Fixtures.receivedInvite()
        let ok = try SIPResponse(answering: invite, statusCode: 200, toTag: "a6c85cf",
                                 contact: SIPNameAddress(uri: try URI(parsing: "sip:bob@198.51.100.20:5062")), copyRecordRoute: true)
        var dialog = try Dialog(uasRequest: invite, response: ok)
        #expect(dialog.id == DialogID(callID: "a84b4c76e66710@pc33.example.com", localTag: "a6c85cf", remoteTag: "1928301774"))
        #expect(dialog.localSequence == nil)
        #expect(dialog.remoteSequence == 314159)
        #expect(dialog.remoteTarget.description == "sip:alice@192.0.2.10:5060")
        // §12.1.1: the route set is the Record-Route in order.
        #expect(dialog.routeSet.map(\.description) == ["<sip:p2.example.net;lr>", "<sip:p1.example.com;lr>"])
        #expect(dialog.localURI.description == "sip:bob@example.net")
        #expect(dialog.remoteURI.description == "sip:alice@example.com")
        // Our first request in the dialog starts the local sequence at 1.
        let bye = dialog.makeRequest(method: .bye, via: Self.via)
        #expect(try bye.headers.cseq == SIPCSeq(sequence: 1, method: .bye))
        #expect(bye.headers.values(.from) == ["\"Bob\" <sip:bob@example.net>;tag=a6c85cf"])
        #expect(bye.headers.values(.to) == ["\"Alice\" <sip:alice@example.com>;tag=1928301774"])
        #expect(bye.headers.values(.route) == ["<sip:p2.example.net;lr>", "<sip:p1.example.com;lr>"])
    }

    func inDialog(_ method: String, sequence: Int, contact: String? = nil) throws -> SIPRequest {
        var lines = [
            "\(method) sip:bob@198.51.100.20:5062 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKseq\(sequence)",
            "Max-Forwards: 70",
            "From: Alice <sip:alice@example.com>;tag=1928301774",
            "To: Bob <sip:bob@example.net>;tag=a6c85cf",
            "Call-ID: a84b4c76e66710@pc33.example.com",
            "CSeq: \(sequence) \(method)",
        ]
        if let contact { lines.append("Contact: \(contact)") }
        return try request(lines)
    }

    @Test func uasRejectsLowerCSeqAndRefreshesTheTarget() throws {
        let invite = try Fixtures.receivedInvite()
        let ok = try SIPResponse(answering: invite, statusCode: 200, toTag: "a6c85cf",
                                 contact: SIPNameAddress(uri: try URI(parsing: "sip:bob@198.51.100.20:5062")))
        var dialog = try Dialog(uasRequest: invite, response: ok)
        let update = try inDialog("UPDATE", sequence: 314160, contact: "<sip:alice@192.0.2.77:5070>")
        #expect(DialogID(receivedRequest: update) == dialog.id)
        #expect(try dialog.receive(update) == .accept)
        #expect(dialog.remoteSequence == 314160)
        #expect(dialog.remoteTarget.description == "sip:alice@192.0.2.77:5070")
        #expect(try dialog.receive(try inDialog("INFO", sequence: 314159)) == .reject(statusCode: 500, reasonPhrase: "Server Internal Error"))
        #expect(dialog.remoteSequence == 314160)
        // ACK carries its INVITE's number and is not checked against the sequence.
        #expect(try dialog.receive(try inDialog("ACK", sequence: 314159)) == .accept)
        // A non-refresh request's Contact is ignored.
        #expect(try dialog.receive(try inDialog("INFO", sequence: 314161, contact: "<sip:elsewhere@192.0.2.1>")) == .accept)
        #expect(dialog.remoteTarget.description == "sip:alice@192.0.2.77:5070")
    }

    @Test func uacRefreshesTheTargetFromA2xxToUpdate() throws {
        var dialog = try uacDialog()
        let update = dialog.makeRequest(method: .update, via: Self.via)
        var lines = Self.okLines
        lines[6] = "CSeq: 2 UPDATE"
        lines[7] = "Contact: <sip:bob@198.51.100.21:5062>"
        try dialog.receiveResponse(try response(lines), to: update)
        #expect(dialog.remoteTarget.description == "sip:bob@198.51.100.21:5062")
        #expect(Dialog.responseTerminatesDialog(481))
        #expect(!Dialog.responseTerminatesDialog(486))
    }

    @Test func secureOnlyWithTLSAndSIPS() throws {
        var invite = try Fixtures.invite()
        invite.uri = try URI(parsing: "sips:bob@example.net")
        let ok = try response(Self.okLines)
        #expect(try Dialog(uacRequest: invite, response: ok, overTLS: true).isSecure)
        #expect(try !Dialog(uacRequest: invite, response: ok, overTLS: false).isSecure)
        #expect(try !Dialog(uacRequest: try Fixtures.invite(), response: ok, overTLS: true).isSecure)
    }
}
