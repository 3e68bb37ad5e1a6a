import SIPCore
import Testing

@Suite("Digest credentials (Authorization / Proxy-Authorization)")
struct DigestCredentialsTests {
    // RFC 2617 §3.5, folded as printed there.
    static let rfc2617Authorization =
        "Digest username=\"Mufasa\",\r\n                 realm=\"testrealm@host.com\",\r\n"
        + "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
        + "                 uri=\"/dir/index.html\",\r\n                 qop=auth,\r\n"
        + "                 nc=00000001,\r\n                 cnonce=\"0a4f113b\",\r\n"
        + "                 response=\"6629fae49393a05397450978507c4ef1\",\r\n"
        + "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""

    @Test func rfc2617Example() throws {
        let credentials = try DigestCredentials(parsing: Self.rfc2617Authorization)
        #expect(
            credentials
                == DigestCredentials(
                    username: "Mufasa",
                    realm: "testrealm@host.com",
                    nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                    uri: "/dir/index.html",
                    response: "6629fae49393a05397450978507c4ef1",
                    cnonce: "0a4f113b",
                    opaque: "5ccc069c403ebaf9f0171e9517f40e41",
                    qop: .auth,
                    nonceCount: 1
                )
        )
        #expect(credentials.effectiveAlgorithm == .md5)
    }

    // RFC 3261 §20.7 prints its Authorization example without `uri` and with a 35-digit
    // response; neither survives the §25.1 grammar, and the missing parameter is named first.
    @Test func rfc3261ExampleAsPrintedIsRejected() {
        let asPrinted = """
            Digest username="Alice", realm="atlanta.com",\r\n nonce="84a4cc6f3082121f32b42a2187831a9e",\r\n \
            response="7587245234b3434cc3412213e5f113a5432"
            """
        let error = #expect(throws: DigestError.self) { try DigestCredentials(parsing: asPrinted) }
        #expect(error?.code == .missingParameter)
        #expect(error?.parameter == "uri")

        let withURI = asPrinted + #", uri="sip:bob@biloxi.com""#
        let lengthError = #expect(throws: DigestError.self) { try DigestCredentials(parsing: withURI) }
        #expect(lengthError?.code == .invalidParameterValue)
        #expect(lengthError?.parameter == "response")
        #expect(lengthError?.offset == 101)
    }

    @Test func liberalForms() throws {
        // algorithm and qop quoted, nc and response in upper case, names in odd case.
        let credentials = try DigestCredentials(
            parsing: """
                DIGEST Username="bob", REALM="biloxi.com", Nonce="n", URI="sip:biloxi.com", \
                Response="D5506AA696994AD4EDBDEB4F1F715C8E", Algorithm="md5", QOP="Auth", NC=0000000A, CNonce="c"
                """
        )
        #expect(credentials.response == "d5506aa696994ad4edbdeb4f1f715c8e")
        #expect(credentials.algorithm == .md5)
        #expect(credentials.qop == .auth)
        #expect(credentials.nonceCount == 10)
        #expect(
            credentials.description
                == #"Digest username="bob", realm="biloxi.com", nonce="n", uri="sip:biloxi.com", response="d5506aa696994ad4edbdeb4f1f715c8e", algorithm=MD5, cnonce="c", qop=auth, nc=0000000a"#
        )
    }

    @Test func serializesEveryFieldCanonically() throws {
        let credentials = DigestCredentials(
            username: #"o"neil"#,
            realm: "biloxi.com",
            nonce: "ea9c8e88df84f1cec4341ae6cbe5a359",
            uri: "sip:bob@biloxi.com;transport=tcp",
            response: String(repeating: "ab", count: 32),
            algorithm: .sha256,
            cnonce: "0a4f113b",
            opaque: "",
            qop: .authInt,
            nonceCount: 0xFFFF_FFFF,
            userhash: true,
            extensionParameters: [AuthParam(name: "x-trace", value: "1", isQuoted: false)]
        )
        let expected =
            #"Digest username="o\"neil", realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", "#
            + #"uri="sip:bob@biloxi.com;transport=tcp", response="\#(String(repeating: "ab", count: 32))", "#
            + #"algorithm=SHA-256, cnonce="0a4f113b", opaque="", qop=auth-int, nc=ffffffff, userhash=true, x-trace=1"#
        #expect(credentials.description == expected)
        #expect(credentials.encodedSize == expected.utf8.count)
        var bytes: [UInt8] = []
        credentials.encode(into: &bytes)
        #expect(bytes == Array(expected.utf8))
        #expect(try DigestCredentials(parsing: expected) == credentials)
        #expect(try DigestCredentials(parsing: bytes) == credentials)
    }

    @Test(arguments: [
        rfc2617Authorization,
        #"Digest username="Alice", realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", uri="sip:bob@biloxi.com", response="7587245234b3434cc3412213e5f113a5""#,
        #"Digest username="\\", realm="r", nonce="n", uri="u", response="00000000000000000000000000000000", algorithm=MD5-sess, cnonce="c", foo="bar, baz""#,
    ])
    func roundTrip(value: String) throws {
        let parsed = try DigestCredentials(parsing: value)
        let serialized = parsed.description
        #expect(try DigestCredentials(parsing: serialized) == parsed)
        #expect(try DigestCredentials(parsing: serialized).description == serialized)
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        let value: String
        let code: DigestError.Code
        let parameter: String?
        var testDescription: String { "\(code): \(value)" }
    }

    static let base = #"realm="r", nonce="n", uri="sip:a@b""#
    static let md5Response = #"response="6629fae49393a05397450978507c4ef1""#

    @Test(arguments: [
        Malformed(value: #"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="#, code: .notDigestScheme, parameter: "Basic"),
        Malformed(value: #"Digest \#(base), \#(md5Response)"#, code: .missingParameter, parameter: "username"),
        Malformed(value: #"Digest username="u", nonce="n", uri="u", \#(md5Response)"#, code: .missingParameter, parameter: "realm"),
        Malformed(value: #"Digest username="u", realm="r", uri="u", \#(md5Response)"#, code: .missingParameter, parameter: "nonce"),
        Malformed(value: #"Digest username="u", realm="r", nonce="n", \#(md5Response)"#, code: .missingParameter, parameter: "uri"),
        Malformed(value: #"Digest username="u", \#(base)"#, code: .missingParameter, parameter: "response"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), qop=auth, nc=00000001"#, code: .missingParameter, parameter: "cnonce"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), qop=auth, cnonce="c""#, code: .missingParameter, parameter: "nc"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), algorithm=SHA-256"#, code: .invalidParameterValue, parameter: "response"),
        Malformed(value: #"Digest username="u", \#(base), response="6629fae49393a05397450978507c4eg1""#, code: .invalidParameterValue, parameter: "response"),
        Malformed(value: #"Digest username="u", \#(base), response="""#, code: .invalidParameterValue, parameter: "response"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), qop=auth, cnonce="c", nc=1"#, code: .invalidParameterValue, parameter: "nc"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), qop=auth, cnonce="c", nc=0000000g"#, code: .invalidParameterValue, parameter: "nc"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), qop=auth, cnonce="c", nc=000000001"#, code: .invalidParameterValue, parameter: "nc"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), qop="auth,auth-int", cnonce="c", nc=00000001"#, code: .invalidParameterValue, parameter: "qop"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), algorithm=SHA-512-256"#, code: .unsupportedAlgorithm, parameter: "SHA-512-256"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), userhash=yes"#, code: .invalidParameterValue, parameter: "userhash"),
        Malformed(value: #"Digest username="u", \#(base), \#(md5Response), Username="v""#, code: .duplicateParameter, parameter: "username"),
        Malformed(value: #"Digest username="u, \#(base)"#, code: .expectedComma, parameter: nil),
        Malformed(value: #"Digest username=u@example.com, \#(base), \#(md5Response)"#, code: .expectedComma, parameter: nil),
    ])
    func malformed(_ example: Malformed) {
        let error = #expect(throws: DigestError.self) { try DigestCredentials(parsing: example.value) }
        #expect(error?.code == example.code)
        #expect(error?.parameter == example.parameter)
    }
}
