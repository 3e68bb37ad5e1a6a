/// An IPv4 address. Its text form is the dotted quad (`192.0.2.1`).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address in host order: `192.0.2.1` is `0xC000_0201`.
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Four bytes in network order.
    public init(bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == 4, "an IPv4 address is 4 bytes")
        value = bytes.u32(0)
    }

    /// Parses a dotted quad: exactly four decimal parts 0–255, no leading zeros (which some
    /// parsers read as octal), nothing else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit),
                  part.count == 1 || part.first != "0", let byte = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public static let loopback = IPv4Address(127, 0, 0, 1)

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }

    public var description: String { bytes.map(String.init).joined(separator: ".") }
}

/// An IPv6 address. Its text form is RFC 5952's canonical one: lower-case hex, no leading
/// zeros, the longest run (the first of equal runs) of two or more zero groups as `::`, and
/// IPv4-mapped addresses (`::ffff:0:0/96`, RFC 5952 §5) with a dotted quad.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first and last 64 bits, in host order.
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Sixteen bytes in network order.
    public init(bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == 16, "an IPv6 address is 16 bytes")
        high = bytes.u64(0)
        low = bytes.u64(8)
    }

    /// Eight 16-bit groups, most significant first.
    public init(groups: [UInt16]) {
        precondition(groups.count == 8, "an IPv6 address is 8 groups")
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    /// Parses RFC 4291 §2.2 text: eight hex groups, at most one `::`, optionally a trailing
    /// dotted quad. No zone index, no prefix length.
    public init?(_ text: some StringProtocol) {
        let string = String(text)
        var halves = [string]
        if let gap = string.firstRange(of: "::") {
            halves = [String(string[..<gap.lowerBound]), String(string[gap.upperBound...])]
            guard halves[1].firstRange(of: "::") == nil else { return nil }
        }
        func groups(_ part: String, allowIPv4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, allowIPv4, piece.contains(".") {
                    guard let v4 = IPv4Address(piece) else { return nil }
                    result += [UInt16(truncatingIfNeeded: v4.value >> 16), UInt16(truncatingIfNeeded: v4.value)]
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                          let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        if halves.count == 2 {
            guard let head = groups(halves[0], allowIPv4: false), let tail = groups(halves[1], allowIPv4: true),
                  head.count + tail.count <= 7 else { return nil }
            self.init(groups: head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail)
        } else {
            guard let all = groups(string, allowIPv4: true), all.count == 8 else { return nil }
            self.init(groups: all)
        }
    }

    public var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
            + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        out.append(u64: high)
        out.append(u64: low)
        return out
    }

    public static let loopback = IPv6Address(high: 0, low: 1)

    /// `::ffff:a.b.c.d` — an IPv4 address as an IPv6 socket sees it.
    public var isIPv4Mapped: Bool { high == 0 && low >> 32 == 0xFFFF }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }

    public var description: String {
        if isIPv4Mapped {
            return "::ffff:" + IPv4Address(UInt32(truncatingIfNeeded: low)).description
        }
        let groups = self.groups
        // RFC 5952 §4.2.2/§4.2.3: compress the longest run of ≥ 2 zero groups, the first if tied.
        var bestStart = -1, bestLength = 1
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            let start = index
            while index < 8, groups[index] == 0 { index += 1 }
            if index - start > bestLength { bestStart = start; bestLength = index - start }
        }
        // RFC 5952 §4.3: lower case; §4.1: no leading zeros.
        func text(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return text(0..<8) }
        return text(0..<bestStart) + "::" + text((bestStart + bestLength)..<8)
    }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses either text form (a dotted quad, or RFC 4291 IPv6 text).
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    public var isIPv6: Bool { if case .v6 = self { true } else { false } }

    /// The address in network order: 4 or 16 bytes.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): a.bytes
        case .v6(let a): a.bytes
        }
    }

    public var description: String {
        switch self {
        case .v4(let a): a.description
        case .v6(let a): a.description
        }
    }
}

/// An IP address and a transport port: one end of a UDP flow.
public struct IPEndpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(_ address: IPAddress, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    public static func < (lhs: IPEndpoint, rhs: IPEndpoint) -> Bool { (lhs.address, lhs.port) < (rhs.address, rhs.port) }

    /// `192.0.2.1:5004` or `[2001:db8::1]:5004` (RFC 5952 §6).
    public var description: String {
        switch address {
        case .v4(let a): "\(a):\(port)"
        case .v6(let a): "[\(a)]:\(port)"
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
