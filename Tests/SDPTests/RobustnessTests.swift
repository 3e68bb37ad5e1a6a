import SDP
import Testing

/// Random and mutated inputs: never a crash or a hang; whatever parses serializes and
/// parses back equal; whatever fails names a line inside the input; and offer/answer on
/// anything that parses produces a description that itself parses.
@Suite struct RobustnessTests {
    /// Seeds for mutation: the descriptions other tests use, plus a WebRTC-style one.
    static let seeds: [String] =
        [ParserTests.rfc8866Example]
        + RFC3264ExampleTests.all + RFC4317ExampleTests.all
        + [
            crlf(
                """
                v=0
                o=- 1933070330123933231 2 IN IP4 127.0.0.1
                s=-
                t=0 0
                a=group:BUNDLE audio
                a=msid-semantic: WMS ff6d570f
                m=audio 9 UDP/TLS/RTP/SAVPF 111 8 0 101
                c=IN IP4 0.0.0.0
                a=rtcp:9 IN IP4 0.0.0.0
                a=ice-ufrag:C8jR
                a=mid:audio
                a=sendrecv
                a=rtcp-mux
                a=rtpmap:111 opus/48000/2
                a=fmtp:111 minptime=10;useinbandfec=1
                a=rtpmap:8 PCMA/8000
                a=rtpmap:0 PCMU/8000
                a=rtpmap:101 telephone-event/8000
                a=ssrc:91054504 cname:+7O0EaAUNid/TJH/
                """),
            crlf(
                """
                v=0
                o=- 2890844526 2890842807 IN IP6 2001:db8::1
                s=Multicast
                c=IN IP6 ff15::101/3
                b=CT:1000
                t=3724394400 3724398000
                r=7d 1h 0 25h
                z=3730928400 -1h 3749680800 0
                a=recvonly
                m=audio 49170/2 RTP/AVP 0 96
                i=main
                b=AS:64
                a=rtpmap:96 L16/16000/2
                a=ptime:20
                """),
        ]

    static let alphabet = Array("v=0o- 1\r\nIN IP4 6.:/c=m=audio RTP/AVP a=rtpmap:0 PCMU/8000 t=0 s=x".utf8)

    /// Returns whether the input parsed (strictly), so callers can check that the
    /// round-trip path was actually exercised.
    @discardableResult
    static func check(_ bytes: [UInt8]) -> Bool {
        let lineCount = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
        do {
            let sdp = try SessionDescription(parsing: bytes)
            let wire = sdp.serialize()
            let again: SessionDescription
            do {
                again = try SessionDescription(parsing: wire)
            } catch {
                Issue.record("serialized form does not parse: \(error)\n\(wire)")
                return true
            }
            #expect(again == sdp)
            #expect(sdp.encodedSize == wire.utf8.count)
            exerciseOfferAnswer(sdp)
            checkLenient(bytes)
            return true
        } catch {
            #expect(error.line >= 1 && error.line <= lineCount + 1, "\(error)")
            checkLenient(bytes)
            return false
        }
    }

    /// Lenient order accepts a superset; its results must round-trip too.
    static func checkLenient(_ bytes: [UInt8]) {
        if let lenient = try? SessionDescription(parsing: bytes, options: .lenientOrder) {
            #expect((try? SessionDescription(parsing: lenient.serialize())) == lenient)
        }
    }

    static func exerciseOfferAnswer(_ sdp: SessionDescription) {
        let local = AudioCapabilities(address: ipv4Host, port: 40000)
        let answer = OfferAnswer.makeAnswer(to: sdp, local: local, sessionID: 1, sessionVersion: 1)
        #expect(answer.sdp.media.count == sdp.media.count)
        #expect((try? SessionDescription(parsing: answer.sdp.serialize())) == answer.sdp)
        _ = OfferAnswer.processAnswer(sdp, to: OfferAnswer.makeOffer(local, sessionID: 1, sessionVersion: 1))
        _ = OfferAnswer.processAnswer(answer.sdp, to: sdp)
        _ = OfferAnswer.makeOffer(local, revising: sdp)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomBytes(seed: UInt64) {
        var rng = SplitMix64(state: seed)
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<200, using: &rng)
            let fromAlphabet = Bool.random(using: &rng)
            let bytes = (0..<length).map { _ in
                fromAlphabet ? alphabetByte(&rng) : UInt8.random(in: 0...255, using: &rng)
            }
            Self.check(bytes)
        }
    }

    private func alphabetByte(_ rng: inout SplitMix64) -> UInt8 {
        Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &rng)]
    }

    @Test(arguments: [11, 12, 13, 14, 15, 16] as [UInt64])
    func mutatedDescriptions(seed: UInt64) {
        var rng = SplitMix64(state: seed)
        var parsed = 0
        for _ in 0..<1_500 {
            var bytes = Array(Self.seeds[Int.random(in: 0..<Self.seeds.count, using: &rng)].utf8)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                mutate(&bytes, &rng)
            }
            if Self.check(bytes) { parsed += 1 }
        }
        // Both paths must be exercised: mutants that still parse (round trip, offer/answer)
        // and mutants that fail (error location).
        #expect(parsed > 150 && parsed < 1_350, "\(parsed) of 1500 parsed")
    }

    /// Byte flips, insertions, deletions, truncation, and whole-line deletion, duplication
    /// and swaps — the shapes that break line-oriented parsers.
    private func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
        guard !bytes.isEmpty else {
            bytes = [alphabetByte(&rng)]
            return
        }
        let at = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
        case 1: bytes[at] = alphabetByte(&rng)
        case 2: bytes.insert(alphabetByte(&rng), at: at)
        case 3: bytes.remove(at: at)
        case 4: bytes.removeSubrange(at...)
        default:
            var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            let i = Int.random(in: 0..<lines.count, using: &rng)
            let j = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: lines.remove(at: i)
            case 1: lines.insert(lines[i], at: j)
            default: lines.swapAt(i, j)
            }
            bytes = Array(lines.joined(separator: [0x0A]))
        }
    }

    @Test func pathologicalShapes() {
        let long = String(repeating: "a=x:" + String(repeating: "y", count: 1000) + "\r\n", count: 200)
        Self.check(Array((MalformedTests.head + long).utf8))
        Self.check(Array(String(repeating: "\r", count: 10_000).utf8))
        Self.check(Array(String(repeating: "\n", count: 10_000).utf8))
        Self.check(Array((MalformedTests.head + String(repeating: "m=audio 1 RTP/AVP 0\r\n", count: 2_000)).utf8))
        Self.check(Array("v=0\r\no=- 99999999999999999999999 1 IN IP4 x\r\n".utf8))
        Self.check(Array("v=0\r\no=- 1 1 IN IP6 ::\r\ns=-\r\nc=IN IP6 ::::\r\nt=0 0\r\n".utf8))
    }

    @Test(arguments: seeds)
    func seedsRoundTrip(_ text: String) throws {
        try expectRoundTrip(text)
    }
}
