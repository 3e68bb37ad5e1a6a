/// When a packet was captured: seconds since the Unix epoch and nanoseconds within the second.
///
/// Kept as integers so a timestamp is exactly what the file says (no Double rounding);
/// resolutions finer than a nanosecond are truncated toward the earlier nanosecond.
public struct CaptureTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    /// Always in `0..<1_000_000_000`.
    public var nanoseconds: UInt32

    /// `nanoseconds` beyond one second carry into `seconds`.
    public init(seconds: Int64, nanoseconds: UInt32 = 0) {
        self.seconds = seconds + Int64(nanoseconds / 1_000_000_000)
        self.nanoseconds = nanoseconds % 1_000_000_000
    }

    public static func < (lhs: CaptureTimestamp, rhs: CaptureTimestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// The time elapsed from `earlier` to `self` (negative when `earlier` is later).
    public func duration(since earlier: CaptureTimestamp) -> Duration {
        .seconds(seconds - earlier.seconds) + .nanoseconds(Int64(nanoseconds) - Int64(earlier.nanoseconds))
    }

    /// `self` moved by `duration`, for building synthetic captures packet by packet.
    public func advanced(by duration: Duration) -> CaptureTimestamp {
        let (wholeSeconds, attoseconds) = duration.components
        var seconds = self.seconds + wholeSeconds
        var nanos = Int64(nanoseconds) + attoseconds / 1_000_000_000
        if nanos < 0 { nanos += 1_000_000_000; seconds -= 1 }
        if nanos >= 1_000_000_000 { nanos -= 1_000_000_000; seconds += 1 }
        return CaptureTimestamp(seconds: seconds, nanoseconds: UInt32(nanos))
    }

    /// Seconds as a Double (loses precision beyond ~0.1 µs at today's epoch values).
    public var secondsSinceEpoch: Double { Double(seconds) + Double(nanoseconds) / 1e9 }

    /// `seconds.nnnnnnnnn`, the form `tshark -e frame.time_epoch` prints.
    public var description: String {
        let fraction = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }
}

/// The unit of a pcapng interface's timestamps: `if_tsresol` (pcapng §4.2). Classic pcap uses
/// `.microseconds` or `.nanoseconds` according to its magic number.
///
/// `if_tsresol` is one byte: most significant bit 0 → 10^-n seconds, 1 → 2^-n seconds, with n
/// in the other seven bits.
public struct TimestampResolution: Hashable, Sendable, CustomStringConvertible {
    /// The raw `if_tsresol` byte.
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static func powerOfTen(_ exponent: UInt8) -> TimestampResolution { .init(rawValue: exponent & 0x7F) }
    public static func powerOfTwo(_ exponent: UInt8) -> TimestampResolution { .init(rawValue: 0x80 | (exponent & 0x7F)) }

    /// pcapng's default when an interface has no `if_tsresol`.
    public static let microseconds = powerOfTen(6)
    public static let nanoseconds = powerOfTen(9)

    public var isPowerOfTwo: Bool { rawValue & 0x80 != 0 }
    public var exponent: UInt8 { rawValue & 0x7F }

    public var description: String { "\(isPowerOfTwo ? 2 : 10)^-\(exponent) s" }

    /// Whether `timestamp(units:offsetSeconds:)` can convert this resolution exactly enough:
    /// 10^-n needs 10^n in 128 bits (n ≤ 38); 2^-n needs a shift below 128.
    public var isSupported: Bool { isPowerOfTwo ? exponent <= 127 : exponent <= 38 }

    /// Converts a count of `self` units since the epoch, plus `if_tsoffset` seconds, to a timestamp.
    /// Nil when the result does not fit in Int64 seconds (or the resolution is unsupported).
    public func timestamp(units: UInt64, offsetSeconds: Int64) -> CaptureTimestamp? {
        guard isSupported else { return nil }
        let n = Int(exponent)
        let seconds: UInt64
        let nanoseconds: UInt64
        if isPowerOfTwo {
            if n < 64 {
                seconds = units >> n
                let fraction = units & ((1 << n) &- 1)
                nanoseconds = UInt64((UInt128(fraction) * 1_000_000_000) >> n)
            } else {
                seconds = 0
                nanoseconds = UInt64((UInt128(units) * 1_000_000_000) >> n)
            }
        } else if n <= 9 {
            let perSecond = UInt64(pow10(n))
            seconds = units / perSecond
            nanoseconds = (units % perSecond) * UInt64(pow10(9 - n))
        } else {
            // rem·10^9 / 10^n = rem / 10^(n-9), exactly the floor, without overflowing 128 bits.
            let perSecond = pow10(n)
            seconds = UInt64(UInt128(units) / perSecond)
            nanoseconds = UInt64((UInt128(units) % perSecond) / pow10(n - 9))
        }
        guard let signed = Int64(exactly: seconds) else { return nil }
        let (total, overflow) = signed.addingReportingOverflow(offsetSeconds)
        if overflow { return nil }
        return CaptureTimestamp(seconds: total, nanoseconds: UInt32(nanoseconds))
    }

    /// The inverse of `timestamp(units:offsetSeconds:)`, for writers. Nanoseconds the unit cannot
    /// hold are truncated (10^-n) or rounded up (2^-n, so that reading back gives the same
    /// nanosecond whenever 2^n ≥ 10^9). Nil when the timestamp precedes the offset or overflows.
    public func units(of timestamp: CaptureTimestamp, offsetSeconds: Int64) -> UInt64? {
        guard isSupported else { return nil }
        let (relative, overflow) = timestamp.seconds.subtractingReportingOverflow(offsetSeconds)
        guard !overflow, relative >= 0 else { return nil }
        let n = Int(exponent)
        let whole: UInt128, fraction: UInt128
        if isPowerOfTwo {
            guard n < 64 else { return nil }
            whole = UInt128(relative) << n
            let scaled = UInt128(timestamp.nanoseconds) << n
            fraction = (scaled + 999_999_999) / 1_000_000_000
        } else {
            let (product, productOverflow) = UInt128(relative).multipliedReportingOverflow(by: pow10(n))
            guard !productOverflow else { return nil }
            whole = product
            fraction = n <= 9 ? UInt128(timestamp.nanoseconds) / pow10(9 - n) : UInt128(timestamp.nanoseconds) * pow10(n - 9)
        }
        let (sum, sumOverflow) = whole.addingReportingOverflow(fraction)
        guard !sumOverflow else { return nil }
        return UInt64(exactly: sum)
    }
}

/// 10^n for n ≤ 38.
func pow10(_ n: Int) -> UInt128 {
    var value: UInt128 = 1
    for _ in 0..<n { value *= 10 }
    return value
}
