/// The parameters of a `Digest ...` header value, taken one by one by the challenge and
/// credentials parsers; whatever is not taken is an extension parameter, kept in order.
struct DigestParameters {
    private var byKey: [String: AuthParamGrammar.Located] = [:]
    private var order: [String] = []

    init(parsing bytes: [UInt8]) throws(DigestError) {
        var scanner = AuthParamGrammar.Scanner(bytes)
        let scheme = try scanner.scheme()
        guard AuthParamGrammar.equalsIgnoringCase(scheme, "Digest") else {
            throw DigestError(.notDigestScheme, parameter: scheme, offset: 0)
        }
        for located in try scanner.parameters() {
            byKey[located.key] = located
            order.append(located.key)
        }
    }

    /// Removes and returns the parameter (name compared case-insensitively).
    mutating func take(_ key: String) -> AuthParamGrammar.Located? {
        byKey.removeValue(forKey: key)
    }

    mutating func takeRequired(_ key: String) throws(DigestError) -> String {
        guard let located = take(key) else { throw .missing(key) }
        return located.param.value
    }

    /// `true` / `false`, case-insensitive (RFC 7616 §3.3 `stale`, `userhash`).
    mutating func takeBoolean(_ key: String) throws(DigestError) -> Bool? {
        guard let located = take(key) else { return nil }
        switch AuthParamGrammar.lowercased(located.param.value) {
        case "true": return true
        case "false": return false
        default: throw .invalid(key, at: located.valueOffset)
        }
    }

    mutating func takeAlgorithm() throws(DigestError) -> DigestAlgorithm? {
        guard let located = take("algorithm") else { return nil }
        guard let algorithm = DigestAlgorithm(name: located.param.value) else {
            throw DigestError(.unsupportedAlgorithm, parameter: located.param.value, offset: located.valueOffset)
        }
        return algorithm
    }

    /// The parameters nobody took, in the order they were written.
    var remaining: [AuthParam] {
        order.compactMap { byKey[$0]?.param }
    }
}

enum DigestHex {
    /// `8LHEX` of `nc` (RFC 3261 §25.1 nc-value), zero-padded lowercase.
    static func nonceCount(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.utf8.count) + digits
    }

    static func isHex(_ text: String) -> Bool {
        text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                UInt8(ascii: "A")...UInt8(ascii: "F"):
                true
            default:
                false
            }
        }
    }
}
