/// Random protocol identifiers, drawn from a generator the caller passes (tests pass a seeded
/// one, the stack `SystemRandomNumberGenerator`).
public enum SIPIdentifiers {
    /// A branch: the RFC 3261 magic cookie `z9hG4bK` then 96 random bits in hex, unique over
    /// space and time as §8.1.1.7 requires.
    public static func branch(using rng: inout some RandomNumberGenerator) -> String {
        "z9hG4bK" + hex(bits: 96, using: &rng)
    }

    /// A From/To tag: 64 random bits in hex ("at least 32 bits of randomness", §19.3).
    public static func tag(using rng: inout some RandomNumberGenerator) -> String {
        hex(bits: 64, using: &rng)
    }

    /// A Call-ID: 128 random bits in hex, with `@host` when a host is given (§8.1.1.4).
    public static func callID(host: String? = nil, using rng: inout some RandomNumberGenerator) -> String {
        let id = hex(bits: 128, using: &rng)
        return host.map { "\(id)@\($0)" } ?? id
    }

    /// An initial CSeq number below 2^31 (§8.1.1.5), never 0, leaving room for 2^20 requests.
    public static func initialSequence(using rng: inout some RandomNumberGenerator) -> UInt32 {
        UInt32.random(in: 1...0x7FEF_FFFF, using: &rng)
    }

    static func hex(bits: Int, using rng: inout some RandomNumberGenerator) -> String {
        var out = ""
        for _ in 0..<(bits / 32) {
            let word = String(UInt32.random(in: .min ... .max, using: &rng), radix: 16)
            out += String(repeating: "0", count: 8 - word.count) + word
        }
        return out
    }
}
