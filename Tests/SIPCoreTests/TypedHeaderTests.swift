import SIPCore
import Testing

@Suite("Typed header access")
struct TypedHeaderTests {
    private func headers(_ lines: String...) throws(SIPParseError) -> SIPHeaders {
        try SIPRequest(parsing: wire(["OPTIONS sip:a@b SIP/2.0"] + lines + ["", ""])).headers
    }

    private func wire(_ lines: [String]) -> [UInt8] { Array(lines.joined(separator: "\r\n").utf8) }

    @Test("Via: sent-protocol, sent-by and every known parameter")
    func via() throws {
        let h = try headers(
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;received=198.51.100.7;rport=5062;maddr=224.2.0.1;ttl=16;keep;x=y",
            "v: SIP / 2.0 / tcp proxy.example.com ; rport ; branch = z9hG4bKnashds8")
        let vias = try h.via
        #expect(vias.count == 2)
        let top = vias[0]
        #expect(top.protocolName == "SIP" && top.protocolVersion == "2.0" && top.transport == "UDP")
        #expect(top.host == .ipv4("192.0.2.1"))
        #expect(top.port == 5060)
        #expect(top.branch == "z9hG4bK74bf9")
        #expect(top.hasRFC3261Branch)
        #expect(top.received == "198.51.100.7")
        #expect(top.hasRPort && top.rport == 5062)
        #expect(top.maddr == "224.2.0.1")
        #expect(top.ttl == 16)
        #expect(top.extensionParameters == [SIPParameter("keep"), SIPParameter("x", "y")])
        let second = vias[1]
        #expect(second.transport == "tcp")
        #expect(second.port == nil)
        #expect(second.hasRPort && second.rport == nil)
        #expect(second.branch == "z9hG4bKnashds8")
        #expect(try h.topVia == top)
    }

    @Test("Via errors", arguments: [
        ("SIP/2.0/UDP", SIPParseError.Code.invalidSentProtocol),
        ("SIP/2.0 host", .invalidSentProtocol),
        ("SIP/2.0/UDP host;ttl=256", .invalidParameter),
        ("SIP/2.0/UDP host;ttl", .invalidParameter),
        ("SIP/2.0/UDP host;received=host.example.com", .invalidParameter),
        ("SIP/2.0/UDP host;rport=70000", .invalidParameter),
        ("SIP/2.0/UDP host;branch", .invalidParameter),
        ("SIP/2.0/UDP host;;branch=z9hG4bK1", .invalidParameter),
        ("SIP/2.0/UDP host:x", .invalidPort),
        ("SIP/2.0/UDP host junk", .unexpectedCharacter),
    ])
    func viaErrors(value: String, code: SIPParseError.Code) {
        #expect(throws: SIPParseError.self) { try SIPVia(parsing: value) }
        do {
            _ = try SIPVia(parsing: value)
        } catch {
            #expect(error.code == code)
        }
    }

    @Test("Via: an empty element between commas is an error")
    func viaEmptyElement() throws {
        let h = try headers("Via: SIP/2.0/UDP a;branch=z9hG4bK1, ,SIP/2.0/UDP b")
        #expect(throws: SIPParseError.self) { try h.via }
        #expect((try? h.topVia) != nil)
    }

    @Test("Via: building one and reading it back")
    func viaBuild() throws {
        var via = SIPVia(transport: "TLS", host: .name("agent.example.com"), port: 5061, branch: "z9hG4bK-1")
        via.parameters.set("rport")
        #expect(via.description == "SIP/2.0/TLS agent.example.com:5061;branch=z9hG4bK-1;rport")
        #expect(try SIPVia(parsing: via.description) == via)
    }

    @Test("From / To: display names, tags, addr-spec and name-addr forms")
    func fromTo() throws {
        let h = try headers(
            #"From: "Alice \"A\" Smith" <sip:alice@atlanta.example.com>;tag=1928301774"#,
            "To: Bob Jones<sip:bob@biloxi.example.com;transport=tcp>;tag=a6c85cf;x")
        let from = try #require(try h.from)
        #expect(from.displayName == #"Alice "A" Smith"#)
        #expect(from.tag == "1928301774")
        let to = try #require(try h.to)
        #expect(to.displayName == "Bob Jones")
        #expect(to.uri.sipURI?.transport == "tcp")
        #expect(to.tag == "a6c85cf")
        #expect(to.parameters.contains("x"))

        // addr-spec: parameters after the URI belong to the header, not the URI.
        let plain = try SIPNameAddress(parsing: "sip:carol@chicago.com;tag=887s")
        #expect(plain.displayName == nil)
        #expect(plain.tag == "887s")
        #expect(plain.uri.sipURI?.parameters.isEmpty == true)
        #expect(plain.description == "<sip:carol@chicago.com>;tag=887s")

        var built = SIPNameAddress(displayName: "Q \"Quote\"", uri: .sip(SIPURI(user: "q", host: .name("x.example"))))
        built.tag = "t1"
        #expect(built.description == #""Q \"Quote\"" <sip:q@x.example>;tag=t1"#)
        #expect(try SIPNameAddress(parsing: built.description) == built)
    }

    @Test("name-addr errors", arguments: [
        ("Bell, Alexander <sip:a@b>", SIPParseError.Code.invalidDisplayName, 4),
        ("<sip:a@b", .unterminatedAngleBracket, 0),
        ("< sip:a@b>", .unexpectedWhitespace, 1),
        ("\"x\" sip:a@b", .invalidDisplayName, 4),
        ("sip:a@b?Route=x", .uriNeedsAngleBrackets, 7),
        ("<sip:a@b>;", .invalidParameter, 10),
        ("<sip:a@b>;tag=", .invalidParameter, 14),
        ("<sip:a@b>;tag=\"open", .unterminatedQuotedString, 14),
        ("<sip:a@b> junk", .unexpectedCharacter, 10),
        ("<sip:a@b>;ip=[::1", .invalidHost, 13),
    ])
    func nameAddrErrors(value: String, code: SIPParseError.Code, at offset: Int) {
        #expect(throws: SIPParseError(code, at: offset)) { try SIPNameAddress(parsing: value) }
    }

    @Test("Contact: wildcard, lists, q and expires")
    func contact() throws {
        #expect(try headers("Contact: *").contacts == .wildcard)
        #expect(try headers("Contact:  * ").contacts == .wildcard)
        #expect(try headers("Subject: x").contacts == nil)
        let list = try headers(
            "m: <sip:a@one.example>;q=0.7;expires=3600, \"Two\" <sip:b@two.example>;q=1.0",
            "Contact: sip:c@three.example;expires=99999999999")
        let contacts = try #require(try list.contacts?.addresses)
        #expect(contacts.count == 3)
        #expect(contacts[0].q == 0.7 && contacts[0].qThousandths == 700 && contacts[0].expires == 3600)
        #expect(contacts[1].displayName == "Two" && contacts[1].qThousandths == 1000 && contacts[1].expires == nil)
        #expect(contacts[2].expires == UInt32.max)

        for (value, code) in [("*, <sip:a@b>", SIPParseError.Code.invalidWildcard),
                              ("<sip:a@b>;q=1.5", .invalidQValue), ("<sip:a@b>;q=0.1234", .invalidQValue),
                              ("<sip:a@b>;expires=soon", .invalidNumber)] {
            do {
                _ = try headers("Contact: \(value)").contacts
                Issue.record("\(value) parsed")
            } catch {
                #expect(error.code == code)
                #expect(error.header == .contact)
            }
        }
    }

    @Test("Route and Record-Route keep their order and lr")
    func routes() throws {
        let h = try headers("Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>", "Route: <sip:p3.example.com>",
                            "Record-Route: <sip:rr.example.com;lr;ftag=x>")
        #expect(try h.route.compactMap { $0.uri.sipURI?.host.description } == ["p1.example.com", "p2.example.com", "p3.example.com"])
        #expect(try h.route.map { $0.uri.sipURI?.isLooseRouter } == [true, true, false])
        #expect(try h.recordRoute.first?.uri.sipURI?.parameters.value("ftag") == "x")
    }

    @Test("Call-ID, CSeq, Max-Forwards, Content-Length with leading zeros")
    func scalars() throws {
        let h = try headers("i: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com", "CSeq: 0009\r\n  INVITE",
                            "Max-Forwards: 0068", "l: 007")
        #expect(try h.callID == "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com")
        #expect(try h.cseq == SIPCSeq(sequence: 9, method: .invite))
        #expect(try h.maxForwards == 68)
        #expect(try h.contentLength == 7)
        #expect(throws: SIPParseError.self) { try self.headers("Call-ID: a b").callID }
        #expect(throws: SIPParseError.self) { try self.headers("Call-ID: a@b@c").callID }
        #expect(throws: SIPParseError.self) { try self.headers("Call-ID:").callID }
        #expect(throws: SIPParseError.self) { try self.headers("Max-Forwards: 256").maxForwards }
        #expect(throws: SIPParseError.self) { try self.headers("Max-Forwards: 70, 5").maxForwards }
        #expect(throws: SIPParseError.self) { try self.headers("CSeq: 1").cseq }
        #expect(throws: SIPParseError.self) { try self.headers("CSeq: 1 INVITE x").cseq }
        #expect(try headers("Subject: x").callID == nil)
    }

    @Test("Content-Type, Allow, Supported, Require, Unsupported")
    func listsAndTypes() throws {
        let h = try headers("c: Application/SDP ; charset=\"utf-8\"", "Allow: INVITE, ACK,OPTIONS , BYE",
                            "Supported:", "Require: timer, 100rel", "Proxy-Require: sec-agree", "Unsupported: foo")
        let type = try #require(try h.contentType)
        #expect(type.essence == "application/sdp")
        #expect(type.parameters["charset"]?.unquotedValue == "utf-8")
        #expect(try h.allow == [.invite, .ack, .options, .bye])
        #expect(try h.supported == [])
        #expect(try h.require == ["timer", "100rel"])
        #expect(try h.proxyRequire == ["sec-agree"])
        #expect(try h.unsupported == ["foo"])
        #expect(try headers("Subject: x").allow == nil)
        #expect(throws: SIPParseError.self) { try self.headers("Require: timer,,x").require }
        #expect(throws: SIPParseError.self) { try self.headers("Allow: INVITE BYE").allow }
        #expect(throws: SIPParseError.self) { try self.headers("Content-Type: application").contentType }
    }

    @Test("Session-Expires and Min-SE (RFC 4028)")
    func sessionTimers() throws {
        let h = try headers("x: 1800 ; refresher = UAC;foo", "Min-SE: 90")
        let se = try #require(try h.sessionExpires)
        #expect(se.delta == 1800)
        #expect(se.refresher == .uac)
        #expect(se.parameters == [SIPParameter("foo")])
        #expect(try h.minSE == 90)
        #expect(SIPSessionExpires(delta: 90, refresher: .uas).description == "90;refresher=uas")
        #expect(try SIPSessionExpires(parsing: "1800").refresher == nil)
        #expect(throws: SIPParseError.self) { try SIPSessionExpires(parsing: "1800;refresher") }
        #expect(throws: SIPParseError.self) { try SIPSessionExpires(parsing: "abc") }
        #expect(try headers("Expires: 0").expires == 0)
    }

    @Test("authentication headers: raw values, one per line, never split")
    func authentication() throws {
        let h = try headers(
            #"WWW-Authenticate: Digest realm="atlanta.example.com", qop="auth,auth-int","#,
            #"  nonce="84a4cc6f3082121f32b42a2187831a9e", algorithm=SHA-256"#,
            "Authorization: NoOneKnowsThisScheme opaque-data=here",
            "Proxy-Authorization: Digest username=\"a\", realm=\"b\"")
        #expect(h.credentialsValues(.wwwAuthenticate) == [
            #"Digest realm="atlanta.example.com", qop="auth,auth-int", nonce="84a4cc6f3082121f32b42a2187831a9e", algorithm=SHA-256"#,
        ])
        #expect(h.credentialsValues(.authorization) == ["NoOneKnowsThisScheme opaque-data=here"])
        #expect(h.rawValues(.proxyAuthorization).count == 1)
        #expect(h.credentialsValues(.proxyAuthenticate).isEmpty)
    }

    @Test("header mutation: add, set, prepend, remove, pop the top Via")
    func mutation() throws {
        var h: SIPHeaders = [(.via, "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2"), (.to, "<sip:b@x>"), (.contentLength, "99")]
        h.prependVia(SIPVia(transport: "UDP", host: .name("proxy"), branch: "z9hG4bK0"))
        #expect(try h.via.map(\.host.description) == ["proxy", "a", "b"])
        h.removeFirstValue(.via)
        h.removeFirstValue(.via)
        #expect(try h.via.map(\.host.description) == ["b"])
        #expect(h.fields.first?.name == .via)
        h.add("X-Trace", "1")
        h.add("x-trace", "2")
        #expect(h.values("X-TRACE") == ["1", "2"])
        h.set("X-Trace", "3")
        #expect(h.values("X-Trace") == ["3"])
        h.setMaxForwards(70)
        h.setCSeq(SIPCSeq(sequence: 2, method: .bye))
        #expect(try h.cseq == SIPCSeq(sequence: 2, method: .bye))
        h.remove(.contentLength)
        #expect(!h.contains(.contentLength))
        // A value can never smuggle in a header line.
        h.add(.subject, "hi\r\nVia: SIP/2.0/UDP evil")
        #expect(h.count(.via) == 1)
        #expect(h.values(.subject) == ["hi  Via: SIP/2.0/UDP evil"])
        #expect(h.names == [.via, .to, SIPHeaderName("X-Trace"), .maxForwards, .cseq, .subject])
    }
}
