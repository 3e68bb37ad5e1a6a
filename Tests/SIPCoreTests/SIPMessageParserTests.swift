import SIPCore
import Testing

@Suite("Message parser: structure")
struct SIPMessageParserTests {
    @Test("request line: method, Request-URI, version")
    func requestLine() throws {
        let request = try SIPRequest(parsing: basicRequest(method: "INVITE", uri: "sip:bob@biloxi.example.com;transport=tcp"))
        #expect(request.method == .invite)
        #expect(request.uri == .sip(SIPURI(user: "bob", host: .name("biloxi.example.com"), parameters: [SIPParameter("transport", "tcp")])))
        #expect(request.version == .v2_0)
        #expect(request.headers.count == 7)
    }

    @Test("status line: version, code, reason with spaces")
    func statusLine() throws {
        let response = try SIPResponse(parsing: wire("SIP/2.0 486 Busy Here", "Content-Length: 0", "", ""))
        #expect(response.version == .v2_0)
        #expect(response.statusCode == 486)
        #expect(response.reasonPhrase == "Busy Here")
        // The SP before an empty reason may be missing (RFC 4475 §3.1.1.13, liberal).
        #expect(try SIPResponse(parsing: wire("SIP/2.0 100", "", "")).reasonPhrase == "")
        // "SIP" is case-insensitive like every ABNF literal.
        #expect(try SIPResponse(parsing: wire("sip/2.0 200 OK", "", "")).version == .v2_0)
    }

    @Test("CRLFs before the start line are ignored (RFC 3261 §7.5)")
    func leadingCRLF() throws {
        let message = try SIPMessage(parsing: Array("\r\n\r\n".utf8) + basicRequest())
        #expect(message.isRequest)
        #expect(try message.headers.callID == "a84b4c76e66710@pc33.example.com")
    }

    @Test("folded header: raw bytes keep the fold, the value reads as one SP")
    func folding() throws {
        let bytes = wire("OPTIONS sip:a@b SIP/2.0", "Subject: first part", " \t second part", "X-Folded:", "  value-on-next-line", "", "")
        let request = try SIPRequest(parsing: bytes)
        let subject = try #require(request.headers.first(.subject))
        #expect(Array(subject.rawValue) == Array("first part\r\n \t second part".utf8))
        #expect(subject.value == "first part second part")
        // A value that starts on the continuation line has no leading white space.
        #expect(request.headers.values("x-folded") == ["value-on-next-line"])
        // Offsets of raw values count from the start of the datagram.
        #expect(subject.rawValue.startIndex == offset(of: "first part", in: bytes))
    }

    @Test("LWS before and after the colon; empty values")
    func colonWhitespace() throws {
        let request = try SIPRequest(parsing: wire("OPTIONS sip:a@b SIP/2.0", "Via \t :  SIP/2.0/UDP h;branch=z9hG4bKx", "s:", "Subject :   ", "", ""))
        #expect(try request.headers.topVia?.host == .name("h"))
        #expect(request.headers.values(.subject) == ["", ""])
    }

    @Test("compact forms map to long names, any case", arguments: [
        ("i", "Call-ID"), ("m", "Contact"), ("e", "Content-Encoding"), ("l", "Content-Length"),
        ("c", "Content-Type"), ("f", "From"), ("s", "Subject"), ("k", "Supported"), ("t", "To"),
        ("v", "Via"), ("o", "Event"), ("u", "Allow-Events"), ("r", "Refer-To"), ("b", "Referred-By"),
        ("x", "Session-Expires"), ("y", "Identity"), ("a", "Accept-Contact"), ("j", "Reject-Contact"),
        ("d", "Request-Disposition"),
    ])
    func compactForms(compact: String, long: String) {
        #expect(SIPHeaderName(compact) == SIPHeaderName(long))
        #expect(SIPHeaderName(compact.uppercased()) == SIPHeaderName(long.uppercased()))
        #expect(SIPHeaderName(compact).canonical == long)
        #expect(SIPHeaderName(long).compactForm == compact)
    }

    @Test("header names: case-insensitive, unknown ones keep the first spelling")
    func headerNames() {
        #expect(SIPHeaderName("MaX-fOrWaRdS") == .maxForwards)
        #expect(SIPHeaderName("cseq").canonical == "CSeq")
        #expect(SIPHeaderName("X-Custom") == SIPHeaderName("x-CUSTOM"))
        #expect(SIPHeaderName("X-Custom").canonical == "X-Custom")
        #expect(!SIPHeaderName("X-Custom").isKnown)
        #expect(SIPHeaderName("X-Custom") != SIPHeaderName("X-Custom2"))
        #expect(SIPHeaderName.contact.isList && !SIPHeaderName.contact.isSingleValued)
        #expect(SIPHeaderName.callID.isSingleValued && !SIPHeaderName.callID.isList)
        #expect(!SIPHeaderName.wwwAuthenticate.isList)
    }

    @Test("list headers split on commas outside quotes and <>; others never split")
    func multiValue() throws {
        let request = try SIPRequest(parsing: wire(
            "REGISTER sip:example.com SIP/2.0",
            #"Contact: "Doe, John" <sip:john@a.example.com;x=1>, <sip:john,jr@b.example.com>;q=0.5 , sip:c@example.com"#,
            #"Contact: "quote \", comma" <sip:d@example.com>"#,
            "Date: Sat, 13 Nov 2010 23:29:00 GMT",
            #"WWW-Authenticate: Digest realm="a,b", nonce="n", qop="auth,auth-int""#,
            "Supported: timer , 100rel,path",
            "", ""))
        let contacts = request.headers.values(.contact)
        #expect(contacts == [
            #""Doe, John" <sip:john@a.example.com;x=1>"#,
            "<sip:john,jr@b.example.com>;q=0.5",
            "sip:c@example.com",
            #""quote \", comma" <sip:d@example.com>"#,
        ])
        #expect(try request.headers.contacts?.addresses.map(\.displayName) == ["Doe, John", nil, nil, "quote \", comma"])
        #expect(request.headers.values(.date) == ["Sat, 13 Nov 2010 23:29:00 GMT"])
        #expect(request.headers.credentialsValues(.wwwAuthenticate) == [#"Digest realm="a,b", nonce="n", qop="auth,auth-int""#])
        #expect(try request.headers.supported == ["timer", "100rel", "path"])
    }

    @Test("IPv6 references in the Request-URI, Via and Contact")
    func ipv6() throws {
        let request = try SIPRequest(parsing: wire(
            "INVITE sip:[2001:db8::10]:5070;transport=udp SIP/2.0",
            "Via: SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3;received=2001:db8::9:255;rport=5061",
            "Contact: <sip:alice@[::ffff:192.0.2.1]>",
            "", ""))
        let uri = try #require(request.uri.sipURI)
        #expect(uri.host == .ipv6("2001:db8::10"))
        #expect(uri.port == 5070)
        let via = try #require(try request.headers.topVia)
        #expect(via.host == .ipv6("2001:db8::9:1"))
        #expect(via.port == 5060)
        #expect(via.received == "2001:db8::9:255")
        #expect(via.rport == 5061)
        #expect(try request.headers.contacts?.addresses.first?.uri.sipURI?.host == .ipv6("::ffff:192.0.2.1"))
    }

    @Test("body: Content-Length frames it; without Content-Length it runs to the end")
    func body() throws {
        let framed = try SIPRequest(parsing: basicRequest(body: "v=0\r\n") + Array("garbage".utf8))
        #expect(framed.body == Array("v=0\r\n".utf8))
        #expect(framed.framing?.trailingBytes == 7)
        let unframed = try SIPRequest(parsing: wire("MESSAGE sip:a@b SIP/2.0", "", "hello"))
        #expect(unframed.body == Array("hello".utf8))
        #expect(unframed.framing?.declaredContentLength == nil)
        // Content-Length larger than the datagram: the bytes there are kept, the shortfall noted.
        let short = try SIPRequest(parsing: wire("MESSAGE sip:a@b SIP/2.0", "l: 10", "", "abc"))
        #expect(short.body == Array("abc".utf8))
        #expect(short.framing?.missingBodyBytes == 7)
        // The same Content-Length twice frames fine (the validator flags the repetition).
        #expect(try SIPRequest(parsing: wire("MESSAGE sip:a@b SIP/2.0", "l: 3", "Content-Length: 03", "", "abc")).body.count == 3)
    }

    @Test("bare LF line endings are accepted")
    func bareLF() throws {
        let request = try SIPRequest(parsing: Array("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nSubject: a\n b\nContent-Length: 2\n\nhi".utf8))
        #expect(request.headers.values(.subject) == ["a b"])
        #expect(request.body == Array("hi".utf8))
    }

    @Test("a datagram may end without the empty line after the headers")
    func unterminatedHeaderSection() throws {
        let request = try SIPRequest(parsing: Array("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nl: 0".utf8))
        #expect(try request.headers.callID == "x")
        #expect(request.framing?.headerSectionTerminated == false)
        #expect(request.body.isEmpty)
    }

    @Test("typed-parse errors point into the datagram")
    func typedErrorOffsets() throws {
        let bytes = basicRequest(extra: ["Session-Expires: 1800;refresher=both"])
        let request = try SIPRequest(parsing: bytes)
        #expect(throws: SIPParseError(.invalidRefresher, at: offset(of: "1800;refresher", in: bytes)!, header: .sessionExpires)) {
            try request.headers.sessionExpires
        }
        let badVia = wire("OPTIONS sip:a@b SIP/2.0", "Via: SIP/2.0/UDP host:99999", "", "")
        #expect(throws: SIPParseError(.invalidPort, at: offset(of: "99999", in: badVia)!, header: .via)) {
            try SIPRequest(parsing: badVia).headers.via
        }
    }

    @Test("SIPRequest(parsing:) and SIPResponse(parsing:) insist on their kind")
    func kindMismatch() {
        #expect(throws: SIPParseError(.notARequest, at: 0)) { try SIPRequest(parsing: wire("SIP/2.0 200 OK", "", "")) }
        #expect(throws: SIPParseError(.notAResponse, at: 0)) { try SIPResponse(parsing: basicRequest()) }
    }
}
