import SIPCore
import Testing

@Suite("URIs (RFC 3261 §19.1, RFC 3966)")
struct URITests {
    @Test("SIP URI components, as written")
    func components() throws {
        let uri = try SIPURI(parsing: "sips:alice:secret@[2001:db8::10]:5061;transport=tls;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent")
        #expect(uri.isSecure)
        #expect(uri.user == "alice")
        #expect(uri.password == "secret")
        #expect(uri.host == .ipv6("2001:db8::10"))
        #expect(uri.port == 5061)
        #expect(uri.transport == "tls")
        #expect(uri.isLooseRouter)
        #expect(uri.maddr == "239.255.255.1")
        #expect(uri.headers == [URIHeader("subject", "project%20x"), URIHeader("priority", "urgent")])
        #expect(uri.description == "sips:alice:secret@[2001:db8::10]:5061;transport=tls;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent")
    }

    @Test("serialization reproduces canonical URIs", arguments: [
        "sip:example.com", "sip:192.0.2.4:5060", "sip:+1-212-555-1212:1234@gateway.com;user=phone",
        "sip:alice@atlanta.com;maddr=239.255.255.1;ttl=15", "sip:%61lice@atlanta.com;transport=TCP",
        "sip:[::1]", "sip:user;par=u%40example.net@example.com", "sips:a@b.example.com?h=&x=y",
        "tel:+1-201-555-0123", "tel:7042;phone-context=example.com",
        "mailto:someone@example.com", "urn:service:sos", "http://www.example.com/a?b=c#d",
    ])
    func roundTrip(text: String) throws {
        #expect(try URI(parsing: text).description == text)
    }

    @Test("schemes select the URI kind, case-insensitively")
    func kinds() throws {
        #expect(try URI(parsing: "SIP:a@b").scheme == "sip")
        #expect(try URI(parsing: "SIPS:a@b").scheme == "sips")
        #expect(try URI(parsing: "TEL:+1").scheme == "tel")
        #expect(try URI(parsing: "tel:+1-201-555-0123;ext=7").isEquivalent(to: URI(parsing: "tel:+12015550123;EXT=7")))
        #expect(try !URI(parsing: "tel:+12015550123").isEquivalent(to: URI(parsing: "tel:+12015550124")))
        #expect(TelURI(number: "+1").isGlobal)
        #expect(try URI(parsing: "soap.beep://192.0.2.103:3002") == .other(AbsoluteURI(scheme: "soap.beep", rest: "//192.0.2.103:3002")))
    }

    @Test("malformed URIs give specific errors", arguments: [
        ("sip:", SIPParseError.Code.invalidHost, 4),
        ("sip:user@", .invalidHost, 9),
        ("sip:@example.com", .invalidUserInfo, 4),
        ("sip:a b@example.com", .invalidUserInfo, 5),
        ("sip:a%G1@example.com", .invalidEscape, 5),
        ("sip:a%4@example.com", .invalidEscape, 5),
        ("sip:example.com:65536", .invalidPort, 16),
        ("sip:example.com:", .invalidPort, 16),
        ("sip:[::1", .invalidHost, 4),
        ("sip:[1:2:3]", .invalidHost, 5),
        ("sip:[1::2::3]", .invalidHost, 5),
        ("sip:ex_ample.com", .invalidURI, 6),
        ("sip:-bad.example.com", .invalidHost, 4),
        ("sip:example.com;", .invalidURIParameter, 16),
        ("sip:example.com;=x", .invalidURIParameter, 16),
        ("sip:example.com;x=", .invalidURIParameter, 18),
        ("sip:example.com?", .invalidURIHeader, 16),
        ("sip:example.com?a", .invalidURIHeader, 17),
        ("sip:example.com>", .invalidURI, 15),
        ("1sip:a@b", .invalidScheme, 0),
        ("sipexample.com", .invalidScheme, 14),
        ("tel:", .invalidUserInfo, 4),
        ("tel:+1 2", .invalidURI, 6),
        ("mailto:", .invalidURI, 7),
        ("mailto:a b", .invalidURI, 8),
        ("urn:%zz", .invalidEscape, 4),
    ])
    func malformed(text: String, code: SIPParseError.Code, offset: Int) {
        #expect(throws: SIPParseError(code, at: offset)) { try URI(parsing: text) }
    }

    @Test("hosts: IPv4, IPv6 (with embedded IPv4), names")
    func hosts() throws {
        #expect(try SIPURI(parsing: "sip:192.0.2.1").host == .ipv4("192.0.2.1"))
        #expect(try SIPURI(parsing: "sip:192.0.2.256").host == .name("192.0.2.256"))
        #expect(try SIPURI(parsing: "sip:[::ffff:192.0.2.1]").host == .ipv6("::ffff:192.0.2.1"))
        #expect(try SIPURI(parsing: "sip:[1:2:3:4:5:6:7:8]").host == .ipv6("1:2:3:4:5:6:7:8"))
        #expect(try SIPURI(parsing: "sip:host.example.com.").host == .name("host.example.com."))
        #expect(SIPHost.ipv6("::1").description == "[::1]")
    }

    @Test("escapes decode for comparison only, NUL kept")
    func escapes() throws {
        let uri = try SIPURI(parsing: "sip:null-%00-null%41@example.com")
        #expect(uri.user == "null-%00-null%41")
        #expect(uri.decodedUser == Array("null-".utf8) + [0] + Array("-nullA".utf8))
    }

    // RFC 3261 §19.1.4: the RFC's own lists of equivalent and non-equivalent URIs.
    @Test("§19.1.4 equivalent pairs", arguments: [
        ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
        ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
        ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
         "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
        ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
         "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
        ("sip:[2001:DB8::1]", "sip:[2001:db8::1]"),
        ("sip:a@b;%6C%72", "sip:a@b;lr"),
    ])
    func equivalent(a: String, b: String) throws {
        let x = try URI(parsing: a)
        let y = try URI(parsing: b)
        #expect(x.isEquivalent(to: y))
        #expect(y.isEquivalent(to: x))
    }

    @Test("§19.1.4 non-equivalent pairs", arguments: [
        ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
        ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
        ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
        ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
        ("sip:a%40b@example.com", "sip:a@b@example.com"),
        ("sip:alice:pw@atlanta.com", "sip:alice:PW@atlanta.com"),
        ("sip:alice@atlanta.com;user=phone", "sip:alice@atlanta.com"),
    ])
    func notEquivalent(a: String, b: String) throws {
        guard let x = try? URI(parsing: a), let y = try? URI(parsing: b) else {
            // "sip:a@b@example.com" is not even a URI; it cannot equal anything.
            #expect(a.contains("@b@") || b.contains("@b@"))
            return
        }
        #expect(!x.isEquivalent(to: y))
        #expect(!y.isEquivalent(to: x))
    }

    @Test("parameters match by name case-insensitively and after decoding")
    func parameterLookup() {
        var parameters: SIPParameters = [SIPParameter("Transport", "UDP"), SIPParameter("%6C%72")]
        #expect(parameters.value("transport") == "UDP")
        #expect(parameters.contains("lr"))
        parameters.set("transport", "tcp")
        parameters.set("ttl", "1")
        parameters.remove("LR")
        #expect(parameters.description == ";Transport=tcp;ttl=1")
        #expect(SIPParameter("x", "\"a \\\"b\\\"\"").unquotedValue == "a \"b\"")
    }
}
