/// A log-linear histogram of non-negative microsecond values (pacing lateness): exact below
/// 64 µs, then 32 buckets per power of two (at most 3 % wide), up to about 2^40 µs. Small
/// (a few KB) and mergeable, so every session keeps one and an engine sums them.
public struct LatenessHistogram: Sendable, Hashable {
    static let linearLimit: UInt64 = 64
    static let subBuckets = 32
    static let bucketCount = Int(linearLimit) + 34 * subBuckets

    private var counts: [UInt32] = []
    public private(set) var count: Int = 0
    public private(set) var maximum: UInt64 = 0
    public private(set) var sum: UInt64 = 0

    public init() {}

    public mutating func record(_ microseconds: UInt64) {
        if counts.isEmpty { counts = Array(repeating: 0, count: Self.bucketCount) }
        counts[Self.bucket(of: microseconds)] &+= 1
        count += 1
        sum &+= microseconds
        maximum = max(maximum, microseconds)
    }

    public mutating func merge(_ other: LatenessHistogram) {
        guard other.count > 0 else { return }
        if counts.isEmpty { counts = Array(repeating: 0, count: Self.bucketCount) }
        for i in other.counts.indices { counts[i] &+= other.counts[i] }
        count += other.count
        sum &+= other.sum
        maximum = max(maximum, other.maximum)
    }

    /// What was recorded since `earlier` (an earlier copy of this histogram): a benchmark's
    /// steady-state window. The maximum is the later one's (a window's own is not kept).
    public func subtracting(_ earlier: LatenessHistogram) -> LatenessHistogram {
        var result = self
        guard earlier.count > 0, !counts.isEmpty else { return result }
        for i in earlier.counts.indices { result.counts[i] &-= min(result.counts[i], earlier.counts[i]) }
        result.count = max(0, count - earlier.count)
        result.sum = sum &- min(sum, earlier.sum)
        return result
    }

    static func bucket(of value: UInt64) -> Int {
        if value < linearLimit { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount  // ≥ 6
        let shift = exponent - 5  // keep 5 bits below the leading one
        let mantissa = Int((value >> UInt64(shift)) & 31)
        return min(bucketCount - 1, Int(linearLimit) + (exponent - 6) * subBuckets + mantissa)
    }

    /// The smallest value of `bucket` and its width.
    static func bounds(of bucket: Int) -> (low: UInt64, width: UInt64) {
        if bucket < Int(linearLimit) { return (UInt64(bucket), 1) }
        let exponent = (bucket - Int(linearLimit)) / subBuckets + 6
        let mantissa = UInt64((bucket - Int(linearLimit)) % subBuckets)
        let shift = UInt64(exponent - 5)
        return ((32 + mantissa) << shift, 1 << shift)
    }

    /// The value at quantile `q` (0...1): the middle of its bucket, never above the maximum;
    /// nil when empty.
    public func quantile(_ q: Double) -> UInt64? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (bucket, n) in counts.enumerated() where n > 0 {
            seen += Int(n)
            if seen >= rank {
                let (low, width) = Self.bounds(of: bucket)
                return min(maximum, low + width / 2)
            }
        }
        return maximum
    }

    /// `{count, p50, p99, max, mean}` in µs, the shape reports carry.
    public var summary: Summary {
        Summary(count: count, p50: quantile(0.5), p99: quantile(0.99), max: count == 0 ? nil : maximum,
                mean: count == 0 ? nil : Double(sum) / Double(count))
    }

    public struct Summary: Sendable, Hashable, Encodable {
        public var count: Int
        public var p50: UInt64?
        public var p99: UInt64?
        public var max: UInt64?
        public var mean: Double?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(count, forKey: .count)
            try c.encode(p50, forKey: .p50)
            try c.encode(p99, forKey: .p99)
            try c.encode(max, forKey: .max)
            try c.encode(mean, forKey: .mean)
        }

        enum CodingKeys: String, CodingKey { case count, p50, p99, max, mean }
    }
}
