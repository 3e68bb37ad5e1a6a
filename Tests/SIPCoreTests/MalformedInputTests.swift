import SIPCore
import Testing

/// Bad input gets a specific error at a specific offset — never a crash, never a hang.
@Suite("Message parser: malformed input")
struct MalformedInputTests {
    private func expectError(_ bytes: [UInt8], _ code: SIPParseError.Code, at expected: Int,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let message = try SIPMessage(parsing: bytes)
            Issue.record("parsed: \(message)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, sourceLocation: sourceLocation)
            #expect(error.offset == expected, sourceLocation: sourceLocation)
        }
    }

    @Test("empty datagrams and CRLF keep-alives are not messages")
    func empty() {
        expectError([], .emptyMessage, at: 0)
        expectError(Array("\r\n\r\n".utf8), .emptyMessage, at: 0)
    }

    @Test("truncated and malformed start lines")
    func startLines() {
        let noCRLF = Array("INVITE sip:bob@example.com SIP/2.0".utf8)
        expectError(noCRLF, .truncatedStartLine, at: noCRLF.count)
        expectError(wire("INVITE sip:bob@example.com", "", ""), .invalidRequestLine, at: 26)
        expectError(wire("INVITE", "", ""), .invalidRequestLine, at: 6)
        expectError(wire("INVITE ", "", ""), .invalidRequestLine, at: 7)
        expectError(wire(" INVITE sip:a@b SIP/2.0", "", ""), .invalidMethod, at: 0)
        expectError(wire("INV@ITE sip:a@b SIP/2.0", "", ""), .invalidMethod, at: 3)
        expectError(wire("INVITE sip:a@b SIP/2.x", "", ""), .invalidVersion, at: 21)
        expectError(wire("INVITE sip:a@b HTTP/1.1", "", ""), .invalidVersion, at: 15)
        expectError(wire("INVITE sip:a b@c SIP/2.0", "", ""), .invalidRequestURI, at: 12)
        expectError(wire("INVITE <sip:a@b> SIP/2.0", "", ""), .invalidRequestURI, at: 7)
        expectError(wire("SIP/2.0 20 OK", "", ""), .invalidStatusCode, at: 8)
        expectError(wire("SIP/2.0 2000 OK", "", ""), .invalidStatusCode, at: 8)
        expectError(wire("SIP/2.0 099 Low", "", ""), .invalidStatusCode, at: 8)
        expectError(wire("SIP/2.0 700 High", "", ""), .invalidStatusCode, at: 8)
        expectError(wire("SIP/2.0", "", ""), .invalidStatusCode, at: 7)
        expectError(wire("SIP/2.0 200 O\u{1}K", "", ""), .invalidReasonPhrase, at: 13)
    }

    @Test("bad header lines")
    func headerLines() {
        expectError(wire("OPTIONS sip:a@b SIP/2.0", "Via SIP/2.0/UDP h", "", ""), .missingColon, at: 29)
        expectError(wire("OPTIONS sip:a@b SIP/2.0", "Subject", "", ""), .missingColon, at: 32)
        expectError(wire("OPTIONS sip:a@b SIP/2.0", ": value", "", ""), .invalidHeaderName, at: 25)
        expectError(wire("OPTIONS sip:a@b SIP/2.0", "Sub(ject): x", "", ""), .invalidHeaderName, at: 28)
        expectError(wire("OPTIONS sip:a@b SIP/2.0", " folded: first", "", ""), .unexpectedContinuation, at: 25)
        expectError(Array("OPTIONS sip:a@b SIP/2.0\r\nSubject: a\rb\r\n\r\n".utf8), .bareCarriageReturn, at: 35)
        expectError(Array("OPTIONS sip:a@b SIP/2.0\r\nSubject: a\r\n\r".utf8), .bareCarriageReturn, at: 37)
    }

    @Test("huge numbers are errors, not wrap-arounds")
    func hugeNumbers() throws {
        let cl = wire("OPTIONS sip:a@b SIP/2.0", "Content-Length: 99999999999999999999999999", "", "")
        expectError(cl, .invalidContentLength, at: offset(of: "9999", in: cl)!)
        expectError(wire("OPTIONS sip:a@b SIP/2.0", "l: 2147483648", "", ""), .invalidContentLength, at: 28)
        expectError(wire("OPTIONS sip:a@b SIP/2.0", "l: 12abc", "", ""), .invalidContentLength, at: 30)
        expectError(wire("OPTIONS sip:a@b SIP/99999999999.0", "", ""), .invalidVersion, at: 20)
        expectError(wire("OPTIONS sip:a@b:65536 SIP/2.0", "", ""), .invalidRequestURI, at: 16)

        let request = try SIPRequest(parsing: basicRequest(extra: [
            "Expires: 4294967296", "Session-Expires: 99999999999", "Min-SE: 4294967295",
        ]))
        #expect(throws: SIPParseError.self) { try request.headers.expires }
        #expect(try request.headers.minSE == UInt32.max)
        #expect((try? request.headers.sessionExpires) == nil)
        for (value, code) in [("2147483648 INVITE", SIPParseError.Code.numberOutOfRange),
                              ("36893488147419103232 INVITE", .numberOutOfRange), ("-1 INVITE", .invalidNumber)] {
            do {
                _ = try SIPCSeq(parsing: value)
                Issue.record("CSeq \(value) parsed")
            } catch {
                #expect(error.code == code)
            }
        }
        #expect(try SIPCSeq(parsing: "2147483647 ACK").sequence == 2_147_483_647)
    }

    @Test("NUL bytes: rejected where the grammar has tokens, kept opaque in unknown values")
    func nulBytes() throws {
        expectError(wire("OPT\u{0}IONS sip:a@b SIP/2.0", "", ""), .invalidMethod, at: 3)
        expectError(wire("OPTIONS sip:a@b SIP/2.0", "X-\u{0}: v", "", ""), .invalidHeaderName, at: 27)
        expectError(wire("OPTIONS sip:a\u{0}@b SIP/2.0", "", ""), .invalidRequestURI, at: 13)
        let opaque = wire("OPTIONS sip:a@b SIP/2.0", "X-Binary: a\u{0}b", "", "")
        let request = try SIPRequest(parsing: opaque)
        #expect(Array(try #require(request.headers.first("X-Binary")).rawValue) == [0x61, 0x00, 0x62])
        #expect(try SIPRequest(parsing: request.serialize()) == request)
    }

    @Test("non-UTF-8 bytes: rejected in tokens and URIs, kept byte-exact in unknown values")
    func nonUTF8() throws {
        expectError([0xFF] + wire(" sip:a@b SIP/2.0", "", ""), .invalidMethod, at: 0)
        expectError(wire("OPTIONS sip:") + [0xC3, 0x28] + wire("@b SIP/2.0", "", ""), .invalidRequestURI, at: 12)
        let raw: [UInt8] = wire("OPTIONS sip:a@b SIP/2.0", "X-Latin1: caf") + [0xE9] + wire("", "", "")
        let request = try SIPRequest(parsing: raw)
        #expect(Array(try #require(request.headers.first("x-latin1")).rawValue) == Array("caf".utf8) + [0xE9])
        #expect(request.serialize().contains(0xE9))
        // A reason phrase may carry any UTF8-CONT byte; it decodes leniently and round-trips.
        let response = try SIPResponse(parsing: wire("SIP/2.0 200 ") + [0x80, 0xFF] + wire("", "", ""))
        #expect(try SIPResponse(parsing: response.serialize()) == response)
    }

    @Test("unterminated quotes and brackets in typed values")
    func unterminated() throws {
        #expect(throws: SIPParseError(.unterminatedQuotedString, at: 0)) { try SIPNameAddress(parsing: #""Bob <sip:b@c>"#) }
        #expect(throws: SIPParseError(.unterminatedQuotedString, at: 0)) { try SIPNameAddress(parsing: #""Bob\"#) }
        #expect(throws: SIPParseError(.unterminatedAngleBracket, at: 4)) { try SIPNameAddress(parsing: "Bob <sip:b@c;tag=1") }
        #expect(throws: SIPParseError(.emptyValue, at: 1)) { try SIPNameAddress(parsing: " ") }
    }

    /// Every prefix of every torture message, and seeded byte mutations of each: the parser
    /// returns or throws, and whatever parses serializes and parses back equal.
    @Test("every prefix and 300 mutations of each RFC 4475 message", arguments: TortureFixtures.tags)
    func prefixesAndMutations(tag: String) throws {
        let original = try TortureFixtures.bytes(tag)
        var generator = SplitMix64(seed: UInt64(truncatingIfNeeded: original.count) &* 0x9E37_79B9)
        var inputs = (0...original.count).map { Array(original.prefix($0)) }
        let interesting: [UInt8] = [0x00, 0x0D, 0x0A, 0x20, 0x09, 0x22, 0x5C, 0x3C, 0x3E, 0x2C, 0x3B, 0x3A, 0x25, 0x40, 0xFF, 0x30]
        for _ in 0..<300 {
            var mutated = original
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(mutated.count))
                switch generator.next() % 3 {
                case 0: mutated[position] = interesting[Int(generator.next() % UInt64(interesting.count))]
                case 1: mutated.remove(at: position)
                default: mutated.insert(interesting[Int(generator.next() % UInt64(interesting.count))], at: position)
                }
                if mutated.isEmpty { break }
            }
            inputs.append(mutated)
        }
        for input in inputs {
            let (message, verdict) = SIPValidator.check(datagram: input)
            guard let message else {
                #expect(!verdict.isOK)
                continue
            }
            let serialized = message.serialize()
            #expect(serialized.count == message.encodedSize)
            let reparsed = try? SIPMessage(parsing: serialized)
            #expect(reparsed == message, "round trip failed for \(String(decoding: input, as: UTF8.self).debugDescription)")
            // Typed access never traps, whatever it returns.
            let headers = message.headers
            _ = try? headers.via
            _ = try? headers.contacts
            _ = try? headers.route
            _ = try? headers.from
            _ = try? headers.to
            _ = try? headers.sessionExpires
            _ = try? headers.contentType
            _ = try? headers.allow
        }
    }
}

/// A tiny deterministic generator so the mutation test is reproducible.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
