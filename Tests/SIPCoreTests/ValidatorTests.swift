import SIPCore
import Testing

@Suite("Well-formedness checks")
struct ValidatorTests {
    private func verdict(_ bytes: [UInt8], policy: SIPValidator.Policy = .init()) throws -> SIPVerdict {
        SIPValidator.check(try SIPMessage(parsing: bytes), policy: policy)
    }

    @Test("a complete request is accepted with no problems and no notes")
    func accepts() throws {
        let result = try verdict(basicRequest())
        #expect(result.action == .accept)
        #expect(result.isOK && result.status == nil && result.reason == nil)
        #expect(result.problems.isEmpty && result.notes.isEmpty)
    }

    @Test("each mandatory header is required (RFC 3261 §8.1.1)", arguments: ["Via", "To", "From", "Call-ID", "CSeq"])
    func mandatory(name: String) throws {
        var request = try SIPRequest(parsing: basicRequest())
        request.headers.remove(SIPHeaderName(name))
        let result = SIPValidator.check(.request(request))
        #expect(result.action == .respond(status: 400, reason: "Bad Request"))
        #expect(result.problems.map(\.kind) == [.missingHeader])
        #expect(result.problems.first?.header == SIPHeaderName(name))
    }

    @Test("single-valued headers may not repeat; list headers may")
    func duplicates() throws {
        #expect(try verdict(basicRequest(extra: ["To: <sip:carol@example.com>"])).problems.map(\.kind) == [.duplicateHeader])
        #expect(try verdict(basicRequest(extra: ["Subject: a", "Subject: b"])).status == 400)
        #expect(try verdict(basicRequest(extra: ["Via: SIP/2.0/UDP second;branch=z9hG4bK2", "Supported: timer", "Supported: path"])).isOK)
    }

    @Test("malformed typed headers are 400 with the parse error attached")
    func malformed() throws {
        let result = try verdict(basicRequest(extra: ["Record-Route: <sip:rr.example.com;lr"]))
        #expect(result.status == 400)
        let problem = try #require(result.problems.first)
        #expect(problem.kind == .malformedHeader && problem.header == .recordRoute)
        #expect(problem.error?.code == .unterminatedAngleBracket)
    }

    @Test("Content-Length vs the datagram (RFC 3261 §18.3)")
    func framing() throws {
        let short = try verdict(wire("MESSAGE sip:a@b SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "To: <sip:a@b>",
                                     "From: <sip:c@d>;tag=1", "Call-ID: x", "CSeq: 1 MESSAGE", "l: 50", "", "short"))
        #expect(short.status == 400)
        #expect(short.problems.first?.kind == .contentLengthExceedsBody)
        let longer = try verdict(basicRequest(body: "ok") + Array("extra".utf8))
        #expect(longer.isOK)
        #expect(longer.notes == ["5 bytes after the body discarded (RFC 3261 §18.3)"])
        let response = try verdict(wire("SIP/2.0 200 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "To: <sip:a@b>;tag=2",
                                        "From: <sip:c@d>;tag=1", "Call-ID: x", "CSeq: 1 INVITE", "l: 50", "", "short"))
        #expect(response.action == .discard)
        #expect(response.reason == "discard")
    }

    @Test("precedence follows RFC 3261: 505, then 400, then 501, 416, 420")
    func precedence() throws {
        var request = try SIPRequest(parsing: basicRequest(method: "INFO", uri: "http://example.com", extra: ["Require: 100rel"]))
        request.version = SIPVersion(major: 3, minor: 0)
        request.headers.remove(.callID)
        let policy = SIPValidator.Policy(implementedMethods: [.invite, .ack])
        func statuses() -> [Int] { SIPValidator.check(.request(request), policy: policy).problems.map(\.status) }
        #expect(statuses() == [505, 400, 501, 416, 420])
        request.version = .v2_0
        #expect(SIPValidator.check(.request(request), policy: policy).status == 400)
        request.headers.add(.callID, "y")
        #expect(SIPValidator.check(.request(request), policy: policy).status == 501)
        #expect(SIPValidator.check(.request(request), policy: policy).allow == [.ack, .invite])
        request.method = .invite
        request.headers.setCSeq(SIPCSeq(sequence: 1, method: .invite))
        #expect(SIPValidator.check(.request(request), policy: policy).status == 416)
        request.uri = .tel(TelURI(number: "+15551234"))
        let bad = SIPValidator.check(.request(request), policy: policy)
        #expect(bad.status == 420)
        #expect(bad.reason == "Bad Extension")
        #expect(bad.unsupported == ["100rel"])
        var supported = policy
        supported.supportedOptionTags.insert("100rel")
        #expect(SIPValidator.check(.request(request), policy: supported).isOK)
    }

    @Test("Require is not checked on ACK and CANCEL (RFC 3261 §8.2.2.3, §9.1)")
    func requireOnAck() throws {
        #expect(try verdict(basicRequest(method: "ACK", extra: ["Require: foo"])).isOK)
        #expect(try verdict(basicRequest(method: "CANCEL", extra: ["Require: foo"])).isOK)
        #expect(try verdict(basicRequest(method: "BYE", extra: ["Require: foo"])).status == 420)
        #expect(try verdict(basicRequest(method: "BYE", extra: ["Require: timer"])).isOK)
    }

    @Test("responses: problems mean discard; a UAC drops a response with two Vias")
    func responses() throws {
        let twoVias = wire("SIP/2.0 200 OK", "Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2",
                           "To: <sip:a@b>;tag=2", "From: <sip:c@d>;tag=1", "Call-ID: x", "CSeq: 1 INVITE", "l: 0", "", "")
        #expect(try verdict(twoVias).action == .discard)
        #expect(try verdict(twoVias, policy: SIPValidator.Policy(role: .proxy)).isOK)
        let noCallID = wire("SIP/2.0 200 OK", "Via: SIP/2.0/UDP a;branch=z9hG4bK1",
                            "To: <sip:a@b>;tag=2", "From: <sip:c@d>;tag=1", "CSeq: 1 INVITE", "l: 0", "", "")
        #expect(try verdict(noCallID).problems.map(\.kind) == [.missingHeader])
    }

    @Test("unparseable datagrams: 400 for requests, discard for responses")
    func unparseable() {
        let request = SIPValidator.check(datagram: wire("INVITE sip:a@b", "", ""))
        #expect(request.message == nil)
        #expect(request.verdict.status == 400)
        #expect(request.verdict.problems.first?.error == SIPParseError(.invalidRequestLine, at: 14))
        let response = SIPValidator.check(datagram: wire("", "SIP/2.0 2000 OK", "", ""))
        #expect(response.verdict.action == .discard)
    }

    @Test("notes: RFC 2543 peers, unterminated header sections")
    func notes() throws {
        let result = try verdict(Array("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS".utf8))
        #expect(result.isOK)
        #expect(result.notes == ["header section not closed by an empty line", "no Max-Forwards (an RFC 2543 peer); treated as 70"])
    }
}
