import SIPCore
import Testing

/// The worked examples of RFC 2069, RFC 2617 and RFC 7616 reproduced exactly, then SIP cases.
/// Expected values not printed in an RFC were computed independently with Python's hashlib.
@Suite("Digest computation: client answers and server verification")
struct DigestComputationTests {
    // MARK: RFC 2617 §3.5

    @Test func rfc2617WorkedExample() throws {
        let challenge = try DigestChallenge(parsing: DigestChallengeTests.rfc2617Challenge)
        let credentials = try DigestCredentials(
            answering: challenge, method: "GET", uri: "/dir/index.html",
            username: "Mufasa", password: "Circle Of Life", cnonce: "0a4f113b", nonceCount: 1
        )
        #expect(credentials.response == "6629fae49393a05397450978507c4ef1")
        // Field for field what the RFC's Authorization header says.
        #expect(credentials == (try DigestCredentials(parsing: DigestCredentialsTests.rfc2617Authorization)))
        #expect(
            credentials.description
                == #"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001"#
        )
    }

    @Test func rfc2617IntermediateHashes() {
        let ha1 = DigestComputation.ha1(
            .md5, username: "Mufasa", realm: "testrealm@host.com", secret: .password("Circle Of Life"),
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", cnonce: "0a4f113b"
        )
        let ha2 = DigestComputation.ha2(.md5, method: "GET", uri: "/dir/index.html", qop: .auth)
        #expect(ha1 == "939e7578ed9e3c518a452acee763bce9")
        #expect(ha2 == "39aff3a2bab6126f332b942af96d3366")
        #expect(
            DigestComputation.response(
                .md5, ha1: ha1, ha2: ha2, nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                qop: .auth, nonceCount: 1, cnonce: "0a4f113b"
            ) == "6629fae49393a05397450978507c4ef1"
        )
    }

    @Test func rfc2617ServerSide() throws {
        let credentials = try DigestCredentials(parsing: DigestCredentialsTests.rfc2617Authorization)
        #expect(credentials.isValid(method: "GET", secret: .password("Circle Of Life")))
        #expect(credentials.isValid(method: "GET", secret: .ha1("939e7578ed9e3c518a452acee763bce9")))
        #expect(credentials.isValid(method: "GET", secret: .ha1("939E7578ED9E3C518A452ACEE763BCE9")))
        #expect(!credentials.isValid(method: "GET", secret: .password("Circle of Life")))
        #expect(!credentials.isValid(method: "POST", secret: .password("Circle Of Life")))
        var tampered = credentials
        tampered.uri = "/dir/secret.html"
        #expect(!tampered.isValid(method: "GET", secret: .password("Circle Of Life")))
        tampered = credentials
        tampered.nonceCount = 2  // a replay with a bumped nc no longer matches
        #expect(!tampered.isValid(method: "GET", secret: .password("Circle Of Life")))
    }

    // MARK: RFC 2069 §2.4 (no qop: RFC 2617's backwards-compatible form)

    @Test func rfc2069WorkedExample() throws {
        let challenge = try DigestChallenge(
            parsing: #"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#
        )
        let credentials = try DigestCredentials(
            answering: challenge, method: "GET", uri: "/dir/index.html",
            username: "Mufasa", password: "CircleOfLife", cnonce: "unused", nonceCount: 1
        )
        #expect(credentials.response == "1949323746fe6a43ef61f9606e7febea")
        #expect(credentials.qop == nil)
        #expect(credentials.cnonce == nil)
        #expect(credentials.nonceCount == nil)
        #expect(
            credentials.description
                == #"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="1949323746fe6a43ef61f9606e7febea", opaque="5ccc069c403ebaf9f0171e9517f40e41""#
        )
        #expect(credentials.isValid(method: "GET", secret: .password("CircleOfLife")))
    }

    // MARK: RFC 7616 §3.9.1 (password "Circle of Life" with a lower-case "of", erratum 4495)

    static func rfc7616Challenge(algorithm: String) -> String {
        """
        Digest\r\n    realm="http-auth@example.org",\r\n    qop="auth, auth-int",\r\n    algorithm=\(algorithm),\r\n    \
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",\r\n    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
        """
    }

    static func rfc7616Authorization(algorithm: String, response: String) -> String {
        """
        Digest username="Mufasa",\r\n    realm="http-auth@example.org",\r\n    uri="/dir/index.html",\r\n    \
        algorithm=\(algorithm),\r\n    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",\r\n    nc=00000001,\r\n    \
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",\r\n    qop=auth,\r\n    \
        response="\(response)",\r\n    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
        """
    }

    struct RFC7616Case: Sendable, CustomTestStringConvertible {
        let algorithm: String
        let response: String
        var testDescription: String { algorithm }
    }

    @Test(arguments: [
        RFC7616Case(algorithm: "MD5", response: "8ca523f5e9506fed4657c9700eebdbec"),
        RFC7616Case(algorithm: "SHA-256", response: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ])
    func rfc7616WorkedExample(_ example: RFC7616Case) throws {
        let challenge = try DigestChallenge(parsing: Self.rfc7616Challenge(algorithm: example.algorithm))
        let credentials = try DigestCredentials(
            answering: challenge, method: "GET", uri: "/dir/index.html", username: "Mufasa",
            password: "Circle of Life", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nonceCount: 1
        )
        #expect(credentials.response == example.response)
        let printed = try DigestCredentials(
            parsing: Self.rfc7616Authorization(algorithm: example.algorithm, response: example.response)
        )
        #expect(credentials == printed)
        #expect(printed.isValid(method: "GET", secret: .password("Circle of Life")))
        #expect(!printed.isValid(method: "GET", secret: .password("Circle Of Life")))  // RFC 2617's spelling
    }

    // MARK: SIP (RFC 3261 §22.4): a REGISTER challenged by a registrar, the other algorithms

    static let registrarChallenge =
        #"Digest realm="biloxi.com", qop="auth", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", algorithm=MD5"#

    @Test func registerAnswersAChallenge() throws {
        let challenge = try DigestChallenge(parsing: Self.registrarChallenge)
        let credentials = try DigestCredentials(
            answering: challenge, method: "REGISTER", uri: "sip:biloxi.com",
            username: "bob", password: "zanzibar", cnonce: "0a4f113b", nonceCount: 1
        )
        #expect(
            credentials.description
                == #"Digest username="bob", realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", uri="sip:biloxi.com", response="d5506aa696994ad4edbdeb4f1f715c8e", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001"#
        )
        let received = try DigestCredentials(parsing: credentials.description)
        #expect(received.isValid(method: "REGISTER", secret: .password("zanzibar")))
        #expect(!received.isValid(method: "INVITE", secret: .password("zanzibar")))
        #expect(!received.isValid(method: "REGISTER", secret: .password("zanzibaR")))
    }

    struct AlgorithmCase: Sendable, CustomTestStringConvertible {
        let algorithm: DigestAlgorithm
        let cnonce: String
        let nonceCount: UInt32
        let response: String
        var testDescription: String { algorithm.name }
    }

    @Test(arguments: [
        AlgorithmCase(algorithm: .md5, cnonce: "0a4f113b", nonceCount: 1, response: "d5506aa696994ad4edbdeb4f1f715c8e"),
        AlgorithmCase(algorithm: .md5Sess, cnonce: "c0ffee42", nonceCount: 2, response: "2ba74af5e9462f34c55188ef7ab75150"),
        AlgorithmCase(
            algorithm: .sha256Sess, cnonce: "c0ffee42", nonceCount: 3,
            response: "e9c0362f7b35d5a48a5c6d2b6c976ff6e031f6c3a3d48fa57408b06bfe7e0404"
        ),
    ])
    func sessionAlgorithms(_ example: AlgorithmCase) throws {
        var challenge = try DigestChallenge(parsing: Self.registrarChallenge)
        challenge.algorithm = example.algorithm
        let credentials = try DigestCredentials(
            answering: challenge, method: "REGISTER", uri: "sip:biloxi.com", username: "bob",
            password: "zanzibar", cnonce: example.cnonce, nonceCount: example.nonceCount
        )
        #expect(credentials.response == example.response)
        #expect(credentials.algorithm == example.algorithm)
        let received = try DigestCredentials(parsing: credentials.description)
        #expect(received.isValid(method: "REGISTER", secret: .password("zanzibar")))
        // A registrar storing HA1 = H(user:realm:password) verifies -sess too.
        let stored = DigestComputation.hash(example.algorithm, joining: ["bob", "biloxi.com", "zanzibar"])
        #expect(received.isValid(method: "REGISTER", secret: .ha1(stored)))
        var otherCnonce = received
        otherCnonce.cnonce = "c0ffee43"
        #expect(!otherCnonce.isValid(method: "REGISTER", secret: .password("zanzibar")))
    }

    static let sdpBody = Array(
        """
        v=0\r
        o=alice 2890844526 2890844526 IN IP4 atlanta.example.com\r
        s=-\r
        c=IN IP4 192.0.2.101\r
        t=0 0\r
        m=audio 49172 RTP/AVP 0\r
        a=rtpmap:0 PCMU/8000\r

        """.utf8
    )

    @Test(arguments: [
        (DigestAlgorithm.md5, "cb1fc622951c9dfb1b7fa0262333186d"),
        (DigestAlgorithm.sha256, "66d3aa7e11e6dd8af5a0306f1e351193c34e0736491b1688be44825e94cc5cad"),
    ])
    func authIntHashesTheBody(algorithm: DigestAlgorithm, response: String) throws {
        #expect(Self.sdpBody.count == 144)
        let challenge = DigestChallenge(
            realm: "atlanta.com", nonce: "84a4cc6f3082121f32b42a2187831a9e", algorithm: algorithm,
            qopOptions: [DigestQop("auth-int")]
        )
        let credentials = try DigestCredentials(
            answering: challenge, method: "INVITE", uri: "sip:bob@biloxi.com", username: "alice",
            password: "secret", cnonce: "2b5a6c3d", nonceCount: 1, entityBody: Self.sdpBody
        )
        #expect(credentials.qop == .authInt)
        #expect(credentials.response == response)
        #expect(credentials.isValid(method: "INVITE", secret: .password("secret"), entityBody: Self.sdpBody))
        #expect(!credentials.isValid(method: "INVITE", secret: .password("secret"), entityBody: Array(Self.sdpBody.dropLast())))
        #expect(!credentials.isValid(method: "INVITE", secret: .password("secret")))
    }

    @Test func authIntWithAnEmptyBodyHashesTheEmptyString() {
        #expect(DigestComputation.hash(.md5, [UInt8]()) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(
            DigestComputation.ha2(.md5, method: "BYE", uri: "sip:a@b", qop: .authInt)
                == DigestComputation.hash(.md5, joining: ["BYE", "sip:a@b", "d41d8cd98f00b204e9800998ecf8427e"])
        )
    }

    @Test func prefersAuthOverAuthInt() throws {
        let challenge = DigestChallenge(realm: "r", nonce: "n", qopOptions: [.authInt, DigestQop("x-new"), .auth])
        let credentials = try DigestCredentials(
            answering: challenge, method: "OPTIONS", uri: "sip:r", username: "u", password: "p", cnonce: "c",
            nonceCount: 7
        )
        #expect(credentials.qop == .auth)
        #expect(credentials.nonceCount == 7)
        #expect(credentials.description.hasSuffix(#"cnonce="c", qop=auth, nc=00000007"#))
    }

    @Test func unsupportedQopIsRejected() {
        let challenge = DigestChallenge(realm: "r", nonce: "n", qopOptions: [DigestQop("auth-conf")])
        let error = #expect(throws: DigestError.self) {
            try DigestCredentials(
                answering: challenge, method: "INVITE", uri: "sip:r", username: "u", password: "p", cnonce: "c",
                nonceCount: 1
            )
        }
        #expect(error?.code == .unsupportedQop)
        #expect(error?.parameter == "auth-conf")
    }

    @Test func userhashSendsTheHashedUsername() throws {
        let challenge = DigestChallenge(
            realm: "biloxi.com", nonce: "ea9c8e88df84f1cec4341ae6cbe5a359", algorithm: .sha256, qopOptions: [.auth],
            userhash: true
        )
        let credentials = try DigestCredentials(
            answering: challenge, method: "REGISTER", uri: "sip:biloxi.com", username: "bob", password: "zanzibar",
            cnonce: "0a4f113b", nonceCount: 1
        )
        #expect(credentials.userhash)
        #expect(credentials.username == "aafc60b9fa3e13876262208200cd6aebf77f59d79e854061f632f35f6cb30e0c")
        #expect(credentials.response == "94b7e1c5ecf5bdadf859a6a0adb7f1cf83bef17cee3ffb50cc1b73eb3b08560e")
        let ha1 = "e65db393e748c5228939a6b4b2879e9ea5625cd79fd5267868cb568d69f6b97e"
        #expect(credentials.isValid(method: "REGISTER", secret: .ha1(ha1)))
    }

    @Test func withoutQopSessionAlgorithmsStillSendTheCnonce() throws {
        let challenge = DigestChallenge(realm: "r", nonce: "n", algorithm: .md5Sess)
        let credentials = try DigestCredentials(
            answering: challenge, method: "INVITE", uri: "sip:r", username: "u", password: "p", cnonce: "c",
            nonceCount: 1
        )
        #expect(credentials.cnonce == "c")  // A1 of -sess includes it; the server needs it
        #expect(credentials.nonceCount == nil)
        #expect(try DigestCredentials(parsing: credentials.description).isValid(method: "INVITE", secret: .password("p")))
    }

    @Test func registerWithoutQop() throws {
        let challenge = DigestChallenge(realm: "biloxi.com", nonce: "ea9c8e88df84f1cec4341ae6cbe5a359")
        let credentials = try DigestCredentials(
            answering: challenge, method: "REGISTER", uri: "sip:biloxi.com", username: "bob", password: "zanzibar",
            cnonce: "ignored", nonceCount: 9
        )
        #expect(credentials.response == "58c14ec1b0947be7fe39298e218542aa")
    }

    // MARK: nc bookkeeping

    @Test func nonceCountsPerNonce() throws {
        var counter = DigestNonceCounter()
        #expect(counter.count(for: "a") == 0)
        #expect(counter.next(for: "a") == 1)
        #expect(counter.next(for: "a") == 2)
        #expect(counter.next(for: "b") == 1)
        #expect(counter.next(for: "a") == 3)
        #expect(counter.count(for: "b") == 1)
        counter.forget("a")
        #expect(counter.next(for: "a") == 1)

        // Three requests on one nonce: each carries the next nc, and each verifies.
        let challenge = try DigestChallenge(parsing: Self.registrarChallenge)
        var client = DigestNonceCounter()
        var serialized: [String] = []
        for _ in 0..<3 {
            let credentials = try DigestCredentials(
                answering: challenge, method: "REGISTER", uri: "sip:biloxi.com", username: "bob", password: "zanzibar",
                cnonce: "0a4f113b", nonceCount: client.next(for: challenge.nonce)
            )
            #expect(credentials.isValid(method: "REGISTER", secret: .password("zanzibar")))
            serialized.append(credentials.description)
        }
        #expect(serialized.map { $0.hasSuffix("nc=00000001") } == [true, false, false])
        #expect(serialized[2].hasSuffix("nc=00000003"))
        #expect(Set(serialized).count == 3)  // the response changes with nc
    }
}
