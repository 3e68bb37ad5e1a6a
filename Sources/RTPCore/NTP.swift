// NTP timestamps as RTCP carries them (RFC 3550 §4, §6.4.1) and the LSR/DLSR round-trip time.
// Wall-clock time is an argument: this module reads no clock.

/// A 64-bit NTP timestamp: seconds since 1900-01-01 00:00 UTC in the high 32 bits, the binary
/// fraction of a second in the low 32 (RFC 3550 §4).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                            seconds                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                            fraction                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// The seconds field wraps in 2036 (the end of NTP era 0); every conversion here works modulo
/// 2^32 seconds, as RFC 3550 §4 allows ("it is sufficient to ... wrap around").
public struct NTPTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: UInt32
    public var fraction: UInt32

    /// Seconds from the NTP epoch (1900) to the Unix epoch (1970): 70 years including 17 leap days.
    public static let unixEpochOffset: Int64 = 2_208_988_800

    public init(seconds: UInt32, fraction: UInt32) {
        self.seconds = seconds
        self.fraction = fraction
    }

    public init(rawValue: UInt64) {
        self.seconds = UInt32(truncatingIfNeeded: rawValue >> 32)
        self.fraction = UInt32(truncatingIfNeeded: rawValue)
    }

    public var rawValue: UInt64 { UInt64(seconds) << 32 | UInt64(fraction) }

    /// The NTP timestamp of a wall-clock instant given as seconds and nanoseconds since the Unix
    /// epoch (what `clock_gettime(CLOCK_REALTIME)` returns). Nanoseconds of 10⁹ or more carry into
    /// the seconds. The fraction is truncated, an error below 1 ns.
    public init(unixSeconds: Int64, nanoseconds: UInt32) {
        let carry = Int64(nanoseconds / 1_000_000_000)
        let nanos = UInt64(nanoseconds % 1_000_000_000)
        self.seconds = UInt32(truncatingIfNeeded: unixSeconds &+ carry &+ Self.unixEpochOffset)
        self.fraction = UInt32(truncatingIfNeeded: (nanos << 32) / 1_000_000_000)
    }

    /// The Unix time of this timestamp, resolving the NTP era as the one that puts the result
    /// within ±68 years of `pivotUnixSeconds` (for example the capture time of a pcap).
    public func unixTime(near pivotUnixSeconds: Int64) -> (seconds: Int64, nanoseconds: UInt32) {
        let pivotNTP = UInt32(truncatingIfNeeded: pivotUnixSeconds &+ Self.unixEpochOffset)
        let delta = Int64(Int32(bitPattern: seconds &- pivotNTP))
        let nanos = (UInt64(fraction) * 1_000_000_000) >> 32
        return (pivotUnixSeconds + delta, UInt32(nanos))
    }

    /// The middle 32 bits: 16 bits of seconds and 16 of fraction. RTCP's LSR and DLRR's LRR fields
    /// carry this "compact" form (RFC 3550 §6.4.1, RFC 3611 §4.5).
    public var compact: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 16) }

    /// Seconds in a compact (16.16 fixed point) value, such as a DLSR.
    public static func seconds(compact value: UInt32) -> Double { Double(value) / 65536 }

    /// A duration in compact units of 1/65536 s, truncated and saturating at 0xFFFF:FFFF: how a
    /// receiver fills DLSR (RFC 3550 §6.4.1) or DLRR (RFC 3611 §4.5).
    public static func compactDuration(nanoseconds: UInt64) -> UInt32 {
        // Whole seconds and the rest apart, so `rest << 16` stays inside 64 bits.
        let whole = nanoseconds / 1_000_000_000
        let rest = nanoseconds % 1_000_000_000
        let units = (whole << 16) + (rest << 16) / 1_000_000_000
        return units > UInt64(UInt32.max) ? UInt32.max : UInt32(units)
    }

    public static func < (lhs: NTPTimestamp, rhs: NTPTimestamp) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        let hex = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Round-trip time from a report block's LSR and DLSR (RFC 3550 §6.4.1).
public enum RTCPRoundTrip {
    /// Compact-form rounding of A, LSR and DLSR can each lose one unit, so a near-zero round trip
    /// (loopback) may come out as up to −3 units; those are reported as 0 rather than as absent.
    public static let roundingTolerance: UInt32 = 3

    /// The round-trip time in seconds, `A − LSR − DLSR` (RFC 3550 §6.4.1, figure 2).
    ///
    /// - Parameters:
    ///   - arrival: A, the compact NTP time the report block arrived (the caller's wall clock).
    ///   - lsr: the block's LSR, the middle 32 bits of the NTP time of our last SR.
    ///   - dlsr: the block's DLSR, the receiver's hold time in 1/65536 s.
    /// - Returns: `nil` when LSR is 0 (the RFC: no SR received yet, so no estimate), or when the
    ///   difference is negative beyond `roundingTolerance` (a report that cannot be ours).
    ///
    /// The subtraction is done in 32-bit unsigned arithmetic, so it stays right when the compact
    /// seconds wrap every 65,536 s (about 18 h).
    public static func rtt(arrival: UInt32, lsr: UInt32, dlsr: UInt32) -> Double? {
        guard lsr != 0 else { return nil }
        let difference = Int32(bitPattern: arrival &- lsr &- dlsr)
        if difference >= 0 { return NTPTimestamp.seconds(compact: UInt32(difference)) }
        return difference.magnitude <= roundingTolerance ? 0 : nil
    }
}
