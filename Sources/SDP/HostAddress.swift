/// The host part of an SDP address (`o=` unicast-address, `c=` connection-address,
/// `a=rtcp`): an IPv4 or IPv6 literal, or a domain name that the caller resolves — this
/// module does no I/O (DESIGN §1), so a name stays a name.
///
/// ```
/// unicast-address = IP4-address / IP6-address / FQDN / extn-addr   ; RFC 8866 §9
/// ```
public enum HostAddress: Hashable, Sendable, CustomStringConvertible {
    case ipv4(IPv4)
    case ipv6(IPv6)
    case domainName(String)

    /// Parses an IPv4 literal, an IPv6 literal (no brackets, no zone) or a domain name
    /// (letters, digits, `-`, `.`, `_`). Text that looks numeric but is not a valid IPv4
    /// address (`10.0.0.256`) is not taken for a name.
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4(text) {
            self = .ipv4(v4)
        } else if let v6 = IPv6(text) {
            self = .ipv6(v6)
        } else if Self.isDomainName(text) {
            self = .domainName(String(text))
        } else {
            return nil
        }
    }

    /// The SDP `<addrtype>` for this host: `IP6` for IPv6 literals, otherwise `IP4`
    /// (a name is assumed to resolve to IPv4, the common case RFC 3264's examples use).
    public var addressType: String {
        if case .ipv6 = self { return "IP6" }
        return "IP4"
    }

    /// `0.0.0.0` or `::` — RFC 2543 hold ("send me nothing"), RFC 3264 §8.4.
    public var isUnspecified: Bool {
        switch self {
        case .ipv4(let a): a.value == 0
        case .ipv6(let a): a.high == 0 && a.low == 0
        case .domainName: false
        }
    }

    public var isMulticast: Bool {
        switch self {
        case .ipv4(let a): a.value >> 28 == 0xE
        case .ipv6(let a): a.high >> 56 == 0xFF
        case .domainName: false
        }
    }

    public var description: String {
        switch self {
        case .ipv4(let a): a.description
        case .ipv6(let a): a.description
        case .domainName(let name): name
        }
    }

    /// Letters, digits, `-`, `.` and `_` with at least one letter (so that a malformed
    /// numeric address is not mistaken for a name).
    static func isDomainName(_ text: some StringProtocol) -> Bool {
        var sawLetter = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                sawLetter = true
            default: return false
            }
        }
        return sawLetter
    }

    /// An IPv4 address in network order (`value >> 24` is the first octet).
    public struct IPv4: Hashable, Sendable, CustomStringConvertible {
        public var value: UInt32

        public init(_ value: UInt32) { self.value = value }

        /// ```
        /// IP4-address = b1 3("." decimal-uchar)        ; RFC 8866 §9, no leading zeros
        /// ```
        public init?(_ text: some StringProtocol) {
            var value: UInt32 = 0
            var octets = 0
            var digits = 0
            var octet: UInt32 = 0
            var leadingZero = false
            for byte in text.utf8 {
                if byte == UInt8(ascii: ".") {
                    guard digits > 0, octets < 3 else { return nil }
                    value = value << 8 | octet
                    octets += 1
                    digits = 0
                    octet = 0
                } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    if digits == 1, leadingZero { return nil }
                    leadingZero = digits == 0 && byte == UInt8(ascii: "0")
                    octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                    digits += 1
                    guard octet <= 255 else { return nil }
                } else {
                    return nil
                }
            }
            guard digits > 0, octets == 3 else { return nil }
            self.value = value << 8 | octet
        }

        public var description: String {
            "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        }
    }

    /// An IPv6 address as two 64-bit halves in network order.
    public struct IPv6: Hashable, Sendable, CustomStringConvertible {
        public var high: UInt64
        public var low: UInt64

        public init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }

        /// RFC 3986 §3.2.2 `IPv6address` (which RFC 8866 §9 adopts), including `::`
        /// compression and a trailing dotted IPv4 part.
        public init?(_ text: some StringProtocol) {
            let text = Substring(text)
            guard text.contains(":") else { return nil }
            let halves = text.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
            guard halves.count <= 2 else { return nil }
            guard let head = Self.groups(halves[0], allowIPv4Tail: halves.count == 1) else { return nil }
            var words: [UInt16]
            if halves.count == 2 {
                guard let tail = Self.groups(halves[1], allowIPv4Tail: true),
                    head.count + tail.count <= 7
                else { return nil }
                words = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
            } else {
                guard head.count == 8 else { return nil }
                words = head
            }
            high = words[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
            low = words[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
        }

        private static func groups(_ text: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
            if text.isEmpty { return [] }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            var words: [UInt16] = []
            for (index, part) in parts.enumerated() {
                if index == parts.count - 1, allowIPv4Tail, part.contains(".") {
                    guard let v4 = IPv4(part) else { return nil }
                    words.append(UInt16(v4.value >> 16))
                    words.append(UInt16(v4.value & 0xFFFF))
                } else {
                    guard (1...4).contains(part.utf8.count), let word = UInt16(part, radix: 16),
                        part.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
                    else { return nil }
                    words.append(word)
                }
            }
            return words
        }

        private var words: [UInt16] {
            (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64($0))) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64($0))) }
        }

        /// RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero
        /// groups as `::` (the first on a tie), IPv4-mapped addresses with a dotted tail.
        public var description: String {
            let words = words
            if high == 0, low >> 32 == 0xFFFF {
                return "::ffff:" + IPv4(UInt32(truncatingIfNeeded: low)).description
            }
            var bestStart = -1
            var bestLength = 1
            var index = 0
            while index < 8 {
                guard words[index] == 0 else {
                    index += 1
                    continue
                }
                var end = index
                while end < 8, words[end] == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            }
            func hex(_ range: Range<Int>) -> String {
                words[range].map { String($0, radix: 16) }.joined(separator: ":")
            }
            guard bestStart >= 0 else { return hex(0..<8) }
            return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
        }
    }
}
