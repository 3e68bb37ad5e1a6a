import Foundation
import SIPCore
import Testing

/// The digest types wired into a parsed message: a 401 from a registrar, answered, and the
/// request that carries the answer parsed back (RFC 3261 §22.4; RFC 2617 §3.2.2 values).
@Suite struct SIPAuthenticationHeadersTests {
    static let unauthorized = Array("""
        SIP/2.0 401 Unauthorized\r
        Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;received=192.0.2.10\r
        From: <sip:alice@example.com>;tag=1928301774\r
        To: <sip:alice@example.com>;tag=a6c85cf\r
        Call-ID: a84b4c76e66710@pc33.example.com\r
        CSeq: 1 REGISTER\r
        WWW-Authenticate: Digest realm="example.com", qop="auth,auth-int",\r
         nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"\r
        WWW-Authenticate: Digest realm="example.com", algorithm=SHA-256, qop="auth", nonce="abc", opaque="x"\r
        Content-Length: 0\r
        \r

        """.utf8)

    @Test func challengesParseInOrderAcrossFoldedLines() throws {
        let message = try SIPMessage(parsing: Self.unauthorized)
        let challenges = try message.headers.wwwAuthenticate
        #expect(challenges.count == 2)
        #expect(challenges[0].realm == "example.com")
        #expect(challenges[0].nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093")
        #expect(challenges[0].qopOptions == [.auth, .authInt])
        #expect(challenges[0].effectiveAlgorithm == .md5)
        #expect(challenges[1].effectiveAlgorithm == .sha256)
        #expect(try message.headers.proxyAuthenticate.isEmpty)
    }

    @Test func answeredRequestCarriesVerifiableCredentials() throws {
        let challenge = try #require(try SIPMessage(parsing: Self.unauthorized).headers.wwwAuthenticate.first)
        let answer = try DigestCredentials(
            answering: challenge, method: "REGISTER", uri: "sip:example.com",
            username: "alice", password: "secret", cnonce: "0a4f113b", nonceCount: 1)
        var request = SIPRequest(
            method: SIPMethod(rawValue: "REGISTER"), uri: try URI(parsing: "sip:example.com"),
            headers: SIPHeaders(), body: [])
        request.headers.setCredentials(answer, forProxy: false)
        // A retry for the same realm replaces, never accumulates.
        request.headers.setCredentials(answer, forProxy: false)
        let parsed = try SIPRequest(parsing: request.serialize())
        let carried = try parsed.headers.authorization
        #expect(carried.count == 1)
        #expect(carried[0] == answer)
        #expect(carried[0].nonceCount == 1)
        #expect(carried[0].isValid(method: "REGISTER", secret: .password("secret")))
        #expect(!carried[0].isValid(method: "REGISTER", secret: .password("wrong")))
        #expect(try parsed.headers.proxyAuthorization.isEmpty)
    }

    @Test func malformedChallengeIsASpecificDigestError() throws {
        var bytes = Self.unauthorized
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "Digest realm=\"example.com\", algorithm", with: "Basic realm=\"example.com\", algorithm")
        bytes = Array(text.utf8)
        let message = try SIPMessage(parsing: bytes)
        let error = #expect(throws: DigestError.self) { try message.headers.wwwAuthenticate }
        #expect(error?.code == .notDigestScheme)
    }
}
