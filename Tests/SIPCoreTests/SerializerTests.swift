import SIPCore
import Testing

@Suite("Serializer")
struct SerializerTests {
    /// An INVITE with SDP as the user agent will build it (RFC 3665 §3.1 style).
    static func buildInvite() -> SIPRequest {
        var headers = SIPHeaders()
        headers.prependVia(SIPVia(transport: "UDP", host: .ipv4("192.0.2.10"), port: 5060, branch: "z9hG4bK776asdhds"))
        headers.setMaxForwards(70)
        headers.setTo(SIPNameAddress(displayName: "Bob", uri: .sip(SIPURI(user: "bob", host: .name("biloxi.example.com")))))
        var from = SIPNameAddress(displayName: "Alice", uri: .sip(SIPURI(user: "alice", host: .name("atlanta.example.com"))))
        from.tag = "1928301774"
        headers.setFrom(from)
        headers.set(.callID, "a84b4c76e66710@pc33.atlanta.example.com")
        headers.setCSeq(SIPCSeq(sequence: 314159, method: .invite))
        headers.addContact(SIPNameAddress(uri: .sip(SIPURI(user: "alice", host: .ipv4("192.0.2.10"), port: 5060))))
        headers.setContentType(.sdp)
        let body = Array("v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n".utf8)
        return SIPRequest(method: .invite, uri: .sip(SIPURI(user: "bob", host: .name("biloxi.example.com"))), headers: headers, body: body)
    }

    @Test("a request built in code serializes to exact bytes, Content-Length included")
    func buildRequest() throws {
        let request = Self.buildInvite()
        let expected = wire(
            "INVITE sip:bob@biloxi.example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds",
            "Max-Forwards: 70",
            "To: \"Bob\" <sip:bob@biloxi.example.com>",
            "From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774",
            "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
            "CSeq: 314159 INVITE",
            "Contact: <sip:alice@192.0.2.10:5060>",
            "Content-Type: application/sdp",
            "Content-Length: 112",
            "",
            "v=0", "o=alice 2890844526 2890844526 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0",
            "m=audio 49170 RTP/AVP 0", "")
        #expect(request.body.count == 112)
        let bytes = request.serialize()
        #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(request.encodedSize == bytes.count)
        var appended: [UInt8] = [0xAA]
        request.encode(into: &appended)
        #expect(appended == [0xAA] + bytes)
        // Round trip both ways: decode(encode(x)) == x and encode(decode(bytes)) == bytes.
        #expect(try SIPRequest(parsing: bytes) == request)
        #expect(try SIPMessage(parsing: expected).serialize() == expected)
    }

    @Test("Content-Length follows the body, wherever the header was")
    func contentLength() throws {
        var request = try SIPRequest(parsing: basicRequest(body: "abc"))
        request.body = Array("hello".utf8)
        let text = String(decoding: request.serialize(), as: UTF8.self)
        #expect(text.contains("Content-Length: 5\r\n\r\nhello"))
        request.headers.remove(.contentLength)
        #expect(String(decoding: request.serialize(), as: UTF8.self).hasSuffix("Content-Length: 5\r\n\r\nhello"))
        // Several Content-Length lines collapse into one, at the first one's position.
        let doubled = try SIPRequest(parsing: wire("MESSAGE sip:a@b SIP/2.0", "l: 2", "Subject: s", "Content-Length: 2", "", "hi"))
        #expect(doubled.serialize() == wire("MESSAGE sip:a@b SIP/2.0", "Content-Length: 2", "Subject: s", "", "hi"))
    }

    @Test("canonical form: long names, single-line values, single SPs")
    func canonicalForm() throws {
        let message = try SIPMessage(parsing: wire(
            "OPTIONS  sip:a@b  SIP/2.0  ",
            "v  :  SIP/2.0/UDP h;branch=z9hG4bK1",
            "i:x",
            "X-Odd-Case: keep  inner   spaces",
            "X-Folded: one",
            "\ttwo",
            "s:",
            "", ""))
        #expect(message.serialize() == wire(
            "OPTIONS sip:a@b SIP/2.0",
            "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
            "Call-ID: x",
            "X-Odd-Case: keep  inner   spaces",
            "X-Folded: one two",
            "Subject:",
            "Content-Length: 0",
            "", ""))
    }

    @Test("responses: default reason phrases, empty reasons keep their SP")
    func responses() throws {
        var headers = SIPHeaders()
        headers.add(.via, "SIP/2.0/UDP h;branch=z9hG4bK1")
        let ringing = SIPResponse(statusCode: 180, headers: headers)
        #expect(ringing.reasonPhrase == "Ringing")
        #expect(ringing.serialize() == wire("SIP/2.0 180 Ringing", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "Content-Length: 0", "", ""))
        let custom = SIPResponse(statusCode: 599, reasonPhrase: "")
        #expect(custom.serialize() == wire("SIP/2.0 599 ", "Content-Length: 0", "", ""))
        #expect(try SIPResponse(parsing: custom.serialize()) == custom)
        #expect(SIPResponse.defaultReasonPhrase(for: 422) == "Session Interval Too Small")
    }

    @Test("equality: names by identity, values after unfolding, Content-Length ignored, order kept")
    func equality() throws {
        let a = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0", "v: SIP/2.0/UDP h", "Subject: a", " b", "l: 0", "", ""))
        let b = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0", "VIA: SIP/2.0/UDP h", "Subject: a b", "", ""))
        let c = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0", "Subject: a b", "VIA: SIP/2.0/UDP h", "", ""))
        let d = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0", "Via: SIP/2.0/UDP H", "Subject: a b", "", ""))
        let e = try SIPMessage(parsing: wire("OPTIONS sip:a@b SIP/2.0", "Via: SIP/2.0/UDP h", "Subject: a b", "", "x"))
        #expect(a == b)
        #expect(a != c)
        #expect(a != d)
        #expect(a != e)
    }
}
