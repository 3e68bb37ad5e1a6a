import SIPCore
import Testing

@Suite("Digest challenge (WWW-Authenticate / Proxy-Authenticate)")
struct DigestChallengeTests {
    // RFC 2617 §3.5, folded over lines exactly as the RFC prints it (LWS = CRLF 1*WSP).
    static let rfc2617Challenge =
        "Digest\r\n                 realm=\"testrealm@host.com\",\r\n                 qop=\"auth,auth-int\",\r\n"
        + "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
        + "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""

    @Test func rfc2617Example() throws {
        let challenge = try DigestChallenge(parsing: Self.rfc2617Challenge)
        #expect(challenge.realm == "testrealm@host.com")
        #expect(challenge.qopOptions == [.auth, .authInt])
        #expect(challenge.nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093")
        #expect(challenge.opaque == "5ccc069c403ebaf9f0171e9517f40e41")
        #expect(challenge.algorithm == nil)
        #expect(challenge.effectiveAlgorithm == .md5)
        #expect(challenge.stale == false)
        #expect(challenge.domain == [])
        #expect(challenge.extensionParameters == [])
    }

    // RFC 7616 §3.9.1: qop written with a space after the comma, algorithm as a token.
    @Test func rfc7616Example() throws {
        let challenge = try DigestChallenge(
            parsing: """
                Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, \
                nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", \
                opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
                """
        )
        #expect(
            challenge
                == DigestChallenge(
                    realm: "http-auth@example.org",
                    nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                    opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
                    algorithm: .sha256,
                    qopOptions: [.auth, .authInt]
                )
        )
    }

    // RFC 3261 §20.44: a SIP challenge with an empty opaque and stale=FALSE.
    @Test func rfc3261Example() throws {
        let challenge = try DigestChallenge(
            parsing: """
                Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", \
                nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5
                """
        )
        #expect(challenge.realm == "atlanta.com")
        #expect(challenge.domain == ["sip:boxesbybob.com"])
        #expect(challenge.qopOptions == [.auth])
        #expect(challenge.nonce == "f84f1cec41e6cbe5aea9c8e88d359")
        #expect(challenge.opaque == "")
        #expect(challenge.stale == false)
        #expect(challenge.algorithm == .md5)
        // Canonical form: stale=FALSE is the default and is not written.
        #expect(
            challenge.description
                == #"Digest realm="atlanta.com", domain="sip:boxesbybob.com", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", algorithm=MD5, qop="auth""#
        )
    }

    @Test func namesAndEnumeratedValuesAreCaseInsensitive() throws {
        let challenge = try DigestChallenge(
            parsing: #"digest REALM="Biloxi.com" ,NoNcE = "abc",Algorithm=sha-256-SESS, STALE=true, QOP=AUTH"#
        )
        #expect(challenge.realm == "Biloxi.com")  // values keep their case
        #expect(challenge.nonce == "abc")
        #expect(challenge.algorithm == .sha256Sess)
        #expect(challenge.stale)
        #expect(challenge.qopOptions == [.auth])  // liberal: a token where LDQUOT... RDQUOT is due
    }

    @Test func quotedPairsAndFoldsInsideQuotes() throws {
        let challenge = try DigestChallenge(
            parsing: "Digest realm=\"say \\\"hi\\\" \\\\ \\o\", nonce=\"line one\r\n\t two\""
        )
        #expect(challenge.realm == #"say "hi" \ o"#)
        #expect(challenge.nonce == "line one two")  // CRLF + WSP inside quotes reads as one SP
        #expect(challenge.description == #"Digest realm="say \"hi\" \\ o", nonce="line one two""#)
    }

    @Test func escapedControlCharactersStayEscaped() throws {
        // quoted-pair admits %x00-09 / %x0B-0C / %x0E-7F; qdtext does not, so they go back escaped.
        let challenge = try DigestChallenge(parsing: "Digest realm=\"a\\\u{00}b\\\u{7F}\", nonce=\"n\"")
        #expect(challenge.realm == "a\u{00}b\u{7F}")
        #expect(challenge.description == "Digest realm=\"a\\\u{00}b\\\u{7F}\", nonce=\"n\"")
        #expect(try DigestChallenge(parsing: challenge.description) == challenge)
    }

    @Test func utf8InsideQuotes() throws {
        let challenge = try DigestChallenge(parsing: #"Digest realm="Zürich — Büro", nonce="n", charset=utf-8"#)
        #expect(challenge.realm == "Zürich — Büro")
        #expect(challenge.charsetUTF8)
    }

    @Test func unknownParametersAreKeptInOrder() throws {
        let challenge = try DigestChallenge(
            parsing: #"Digest realm="r", x-b=2, nonce="n", X-A="quoted value", ext=tok"#
        )
        #expect(
            challenge.extensionParameters == [
                AuthParam(name: "x-b", value: "2", isQuoted: false),
                AuthParam(name: "X-A", value: "quoted value", isQuoted: true),
                AuthParam(name: "ext", value: "tok", isQuoted: false),
            ]
        )
        #expect(challenge.description == #"Digest realm="r", nonce="n", x-b=2, X-A="quoted value", ext=tok"#)
    }

    @Test func rfc7616Parameters() throws {
        let challenge = try DigestChallenge(
            parsing: #"Digest realm="api@example.org", domain="/a  sip:b.example.com", nonce="n", userhash=true, charset=UTF-8"#
        )
        #expect(challenge.domain == ["/a", "sip:b.example.com"])
        #expect(challenge.userhash)
        #expect(challenge.charsetUTF8)
    }

    @Test func serializesEveryFieldCanonically() throws {
        let challenge = DigestChallenge(
            realm: "biloxi.com",
            nonce: "ea9c8e88df84f1cec4341ae6cbe5a359",
            domain: ["sip:biloxi.com", "sip:ss2.biloxi.com"],
            opaque: "5ccc069c",
            stale: true,
            algorithm: .sha256Sess,
            qopOptions: [.auth, .authInt],
            charsetUTF8: true,
            userhash: true,
            extensionParameters: [
                AuthParam(name: "token-ext", value: "v1", isQuoted: false),
                AuthParam(name: "not-a-token", value: "a b", isQuoted: false),  // must be quoted
            ]
        )
        let expected =
            #"Digest realm="biloxi.com", domain="sip:biloxi.com sip:ss2.biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", "#
            + #"opaque="5ccc069c", stale=TRUE, algorithm=SHA-256-sess, qop="auth,auth-int", charset=UTF-8, userhash=true, "#
            + #"token-ext=v1, not-a-token="a b""#
        #expect(challenge.description == expected)

        var bytes: [UInt8] = [0xAA]  // encode(into:) appends
        challenge.encode(into: &bytes)
        #expect(bytes == [0xAA] + Array(expected.utf8))
        #expect(challenge.encodedSize == expected.utf8.count)

        var reparsed = try DigestChallenge(parsing: expected)
        #expect(reparsed.extensionParameters[1] == AuthParam(name: "not-a-token", value: "a b", isQuoted: true))
        reparsed.extensionParameters[1].isQuoted = false
        #expect(reparsed == challenge)
    }

    @Test(arguments: [
        rfc2617Challenge,
        #"Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5"#,
        #"Digest realm="a\"b", nonce="\\", algorithm=md5-sess, qop="auth-int,x-new", stale=true, foo=bar"#,
    ])
    func roundTrip(value: String) throws {
        let parsed = try DigestChallenge(parsing: value)
        let serialized = parsed.description
        #expect(try DigestChallenge(parsing: serialized) == parsed)
        #expect(try DigestChallenge(parsing: serialized).description == serialized)
        #expect(try DigestChallenge(parsing: Array(value.utf8)) == parsed)
    }

    @Test func valuesThatWouldInjectAHeaderLineAreNeutralised() {
        let challenge = DigestChallenge(realm: "evil\r\nVia: x", nonce: "n")
        #expect(challenge.description == #"Digest realm="evil  Via: x", nonce="n""#)
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        let value: String
        let code: DigestError.Code
        let parameter: String?
        let offset: Int?
        var testDescription: String { "\(code): \(value)" }
    }

    @Test(arguments: [
        Malformed(value: #"Basic realm="WallyWorld""#, code: .notDigestScheme, parameter: "Basic", offset: 0),
        Malformed(value: "", code: .expectedScheme, parameter: nil, offset: 0),
        Malformed(value: "   ", code: .expectedScheme, parameter: nil, offset: 3),
        Malformed(value: #"=realm="x""#, code: .expectedScheme, parameter: nil, offset: 0),
        Malformed(value: "Digest", code: .missingParameter, parameter: "realm", offset: nil),
        Malformed(value: #"Digest nonce="n""#, code: .missingParameter, parameter: "realm", offset: nil),
        Malformed(value: #"Digest realm="r", opaque="o""#, code: .missingParameter, parameter: "nonce", offset: nil),
        Malformed(value: #"Digest realm="r, nonce=n"#, code: .unterminatedQuotedString, parameter: "realm", offset: 13),
        Malformed(value: #"Digest realm="r, nonce="n""#, code: .expectedComma, parameter: nil, offset: 24),
        Malformed(value: #"Digest realm="r", nonce="n\"#, code: .unterminatedQuotedString, parameter: "nonce", offset: 24),
        Malformed(value: #"Digest realm="r", nonce="n", algorithm=SHA-512-256"#, code: .unsupportedAlgorithm, parameter: "SHA-512-256", offset: 39),
        Malformed(value: #"Digest realm="r", nonce="n", algorithm=SHA1"#, code: .unsupportedAlgorithm, parameter: "SHA1", offset: 39),
        Malformed(value: #"Digest realm="r", nonce="n", stale=maybe"#, code: .invalidParameterValue, parameter: "stale", offset: 35),
        Malformed(value: #"Digest realm="r", nonce="n", userhash=1"#, code: .invalidParameterValue, parameter: "userhash", offset: 38),
        Malformed(value: #"Digest realm="r", nonce="n", charset=ISO-8859-1"#, code: .invalidParameterValue, parameter: "charset", offset: 37),
        Malformed(value: #"Digest realm="r", nonce="n", qop="auth,a/b""#, code: .invalidParameterValue, parameter: "qop", offset: 33),
        Malformed(value: #"Digest realm="r", nonce="n", Realm="s""#, code: .duplicateParameter, parameter: "realm", offset: 29),
        Malformed(value: #"Digest realm"#, code: .expectedEquals, parameter: "realm", offset: 12),
        Malformed(value: #"Digest realm "r""#, code: .expectedEquals, parameter: "realm", offset: 13),
        Malformed(value: #"Digest realm=, nonce="n""#, code: .expectedParameterValue, parameter: "realm", offset: 13),
        Malformed(value: #"Digest realm="r" nonce="n""#, code: .expectedComma, parameter: nil, offset: 17),
        Malformed(value: #"Digest realm="r"; nonce="n""#, code: .expectedComma, parameter: nil, offset: 16),
        Malformed(value: #"Digest realm="r", nonce="n","#, code: .expectedParameterName, parameter: nil, offset: 28),
        Malformed(value: #"Digest realm="r",, nonce="n""#, code: .expectedParameterName, parameter: nil, offset: 17),
        Malformed(value: #"Digest,realm="r""#, code: .expectedParameterName, parameter: nil, offset: 6),
        Malformed(value: "Digest realm=\"a\u{01}b\", nonce=\"n\"", code: .invalidCharacter, parameter: "realm", offset: 15),
        Malformed(value: "Digest realm=\"a\r\nb\", nonce=\"n\"", code: .invalidCharacter, parameter: "realm", offset: 15),
        Malformed(value: "Digest realm=\"r\",\r\nnonce=\"n\"", code: .expectedParameterName, parameter: nil, offset: 17),
    ])
    func malformed(_ example: Malformed) {
        let error = #expect(throws: DigestError.self) { try DigestChallenge(parsing: example.value) }
        #expect(error?.code == example.code)
        #expect(error?.parameter == example.parameter)
        #expect(error?.offset == example.offset)
    }

    @Test func invalidUTF8InsideQuotes() {
        let bytes = Array(#"Digest realm=""#.utf8) + [0xC3, 0x28] + Array(#"", nonce="n""#.utf8)
        let error = #expect(throws: DigestError.self) { try DigestChallenge(parsing: bytes) }
        #expect(error?.code == .invalidCharacter)
        #expect(error?.parameter == "realm")
        #expect(error?.offset == 13)
    }

    @Test func errorDescriptionNamesTheProblem() {
        let error = #expect(throws: DigestError.self) { try DigestChallenge(parsing: #"Digest realm="r"#) }
        #expect(error?.description == "unterminated quoted-string 'realm' at offset 13")
    }
}
