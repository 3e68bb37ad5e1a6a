import SIPCore
import Testing

/// Seeded mutations of valid header values: whatever parses must serialize and parse back
/// equal, and nothing may crash. Reproducible: a failure names its seed.
@Suite("Digest parsers under mutated input")
struct DigestMutationTests {
    /// Bytes that matter to the grammar, plus some that never should appear.
    static let interesting = Array(#"""\,= ;:"aZ09-~/@"#.utf8) + [0x0D, 0x0A, 0x09, 0x00, 0x7F, 0xC3, 0xFF]

    static func mutate(_ input: [UInt8], seed: UInt64) -> [UInt8] {
        var generator = StreamFramerTests.SplitMix64(state: seed)
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let position = Int.random(in: 0...bytes.count, using: &generator)
            let byte = interesting.randomElement(using: &generator)!
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes.insert(byte, at: position)
            case 1 where position < bytes.count: bytes[position] = byte
            default: if position < bytes.count { bytes.remove(at: position) }
            }
        }
        return bytes
    }

    /// Mutates each original 1500 times; `roundTrips` returns `nil` when the input is rejected,
    /// else whether parsing its serialization gives the same value back (a serialization that
    /// fails to parse is `false`, never a rejection).
    static func exercise(
        _ originals: [[UInt8]], roundTrips: ([UInt8]) -> Bool?
    ) -> (parsed: Int, rejected: Int) {
        var parsed = 0
        var rejected = 0
        for (index, original) in originals.enumerated() {
            for seed in UInt64(0)..<1500 {
                let input = mutate(original, seed: seed &+ UInt64(index) << 32)
                guard let agrees = roundTrips(input) else {
                    rejected += 1
                    continue
                }
                #expect(agrees, "seed \(seed) of original \(index)")
                parsed += 1
            }
        }
        return (parsed, rejected)
    }

    @Test func mutatedChallengesRoundTripOrFailCleanly() {
        let originals: [[UInt8]] = [
            Array(DigestChallengeTests.rfc2617Challenge.utf8),
            Array(DigestComputationTests.rfc7616Challenge(algorithm: "SHA-256-sess").utf8),
            Array(#"Digest realm="a\"b", domain="sip:x sip:y", nonce="back\\slash", stale=true, userhash=false, x=y"#.utf8),
        ]
        let (parsed, rejected) = Self.exercise(originals) { input in
            guard let challenge = try? DigestChallenge(parsing: input) else { return nil }
            return (try? DigestChallenge(parsing: challenge.description)) == challenge
                && challenge.encodedSize == challenge.description.utf8.count
        }
        // Both outcomes are exercised, or the test proves nothing.
        #expect(parsed > 300)
        #expect(rejected > 300)
    }

    @Test func mutatedCredentialsRoundTripOrFailCleanly() {
        let originals: [[UInt8]] = [
            Array(DigestCredentialsTests.rfc2617Authorization.utf8),
            Array(#"Digest username="o\"neil\\x", realm="r", nonce="n", uri="sip:a@b", response="00000000000000000000000000000000""#.utf8),
            Array(
                DigestComputationTests.rfc7616Authorization(
                    algorithm: "SHA-256", response: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
                ).utf8
            ),
        ]
        let (parsed, rejected) = Self.exercise(originals) { input in
            guard let credentials = try? DigestCredentials(parsing: input) else { return nil }
            return (try? DigestCredentials(parsing: credentials.description)) == credentials
        }
        #expect(parsed > 300)
        #expect(rejected > 300)
    }
}
