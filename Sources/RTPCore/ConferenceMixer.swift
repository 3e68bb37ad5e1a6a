/// An N-party audio mixer: each member's decoded input goes through its own `PlayoutBuffer`;
/// each `tick` pulls one frame per admitted member and sums them in 32 bits; each member's
/// output is that sum minus its own frame (it never hears itself), limited to 16 bits and
/// G.711-encoded in the member's law.
///
/// Over-range output: with `limiter` on (the default) a frame whose peak would exceed the
/// 16-bit range is scaled down as a whole so that its peak sits at full scale — the relative
/// levels inside the frame (every talker's tone) are kept, only the frame gets quieter; with
/// it off the samples are hard-clipped. Either way `clippedSamples` counts the output samples
/// that were beyond the 16-bit range (those hard clipping clips).
///
/// Members that are not admitted (a PIN still to come) are neither mixed nor given the mix:
/// their output is silence. Pure: time is the caller's.
public struct ConferenceMixer: Sendable {
    public struct MemberStatistics: Sendable, Hashable {
        /// Frames of the member taken into the mix (played or concealed)...
        public var framesMixed = 0
        /// ...and of those, how many were concealed (nothing there at playout time).
        public var framesConcealed = 0
        public init() {}
    }

    private struct Member: Sendable {
        var id: UInt64
        var law: G711Law
        var admitted: Bool
        var buffer: PlayoutBuffer
        var frame: [Int16]
        /// Whether `frame` is in this tick's sum.
        var inMix = false
        var statistics = MemberStatistics()
    }

    public let frameSamples: Int
    public let delayNanoseconds: Int64
    public var limiter: Bool
    public private(set) var clippedSamples = 0
    public private(set) var ticks = 0

    private var members: [Member] = []
    private var index: [UInt64: Int] = [:]
    private var sum: [Int32]
    private var decoded: [Int16] = []
    private var scratch: [Int32]
    private var output: [Int16]

    public init(frameSamples: Int = 160, delayNanoseconds: Int64, limiter: Bool = true) {
        precondition(frameSamples > 0, "ConferenceMixer: frame size must be positive")
        self.frameSamples = frameSamples
        self.delayNanoseconds = delayNanoseconds
        self.limiter = limiter
        sum = Array(repeating: 0, count: frameSamples)
        scratch = Array(repeating: 0, count: frameSamples)
        output = Array(repeating: 0, count: frameSamples)
    }

    public var memberCount: Int { members.count }
    public var admittedCount: Int { members.reduce(0) { $0 + ($1.admitted ? 1 : 0) } }

    public func contains(_ id: UInt64) -> Bool { index[id] != nil }
    public func isAdmitted(_ id: UInt64) -> Bool { index[id].map { members[$0].admitted } ?? false }
    public func statistics(of id: UInt64) -> MemberStatistics? { index[id].map { members[$0].statistics } }

    /// Adds a member (not in the mix before its first frame has waited out the playout delay).
    public mutating func add(_ id: UInt64, law: G711Law, admitted: Bool) {
        guard index[id] == nil else { return }
        index[id] = members.count
        members.append(Member(id: id, law: law, admitted: admitted,
                              buffer: PlayoutBuffer(frameSamples: frameSamples, delayNanoseconds: delayNanoseconds),
                              frame: Array(repeating: 0, count: frameSamples)))
    }

    /// Removes a member; returns its statistics.
    @discardableResult
    public mutating func remove(_ id: UInt64) -> MemberStatistics? {
        guard let i = index.removeValue(forKey: id) else { return nil }
        let removed = members[i].statistics
        let last = members.count - 1
        if i != last {
            members.swapAt(i, last)
            index[members[i].id] = i
        }
        members.removeLast()
        return removed
    }

    public mutating func admit(_ id: UInt64) {
        guard let i = index[id] else { return }
        members[i].admitted = true
    }

    /// A member's audio packet: `payload` is G.711 in the member's law.
    public mutating func receive(_ id: UInt64, ssrc: UInt32, timestamp: UInt32, payload: ArraySlice<UInt8>, arrival: Int64) {
        guard let i = index[id] else { return }
        decoded.removeAll(keepingCapacity: true)
        members[i].law.decode(payload, into: &decoded)
        decoded.withUnsafeBufferPointer { samples in
            members[i].buffer.insert(ssrc: ssrc, timestamp: timestamp, samples: samples, arrival: arrival)
        }
    }

    /// One mixing period at `now`: one frame from every admitted member, summed.
    public mutating func tick(now: Int64) {
        ticks += 1
        for i in sum.indices { sum[i] = 0 }
        for m in members.indices {
            // Buffers of members not yet admitted still play out (and drop), so that their
            // timeline is current when they are admitted.
            var frame = members[m].frame
            members[m].frame = []  // keeps `frame` uniquely referenced: no copy
            let pulled = members[m].buffer.pull(now: now, into: &frame)
            members[m].frame = frame
            members[m].inMix = members[m].admitted && pulled == .frame
            guard members[m].admitted, pulled != .idle else { continue }
            members[m].statistics.framesMixed += 1
            if pulled == .concealed { members[m].statistics.framesConcealed += 1 }
            if members[m].inMix {
                members[m].frame.withUnsafeBufferPointer { frame in
                    for i in 0..<frameSamples { sum[i] &+= Int32(frame[i]) }
                }
            }
        }
    }

    /// The member's output of the last `tick`, G.711 in its law, replacing `codes`' contents:
    /// the sum of the others (never itself), limited; silence for a member not admitted.
    public mutating func output(for id: UInt64, into codes: inout [UInt8]) {
        codes.removeAll(keepingCapacity: true)
        guard let m = index[id] else { return }
        let law = members[m].law
        guard members[m].admitted else {
            codes.append(contentsOf: repeatElement(law.silenceCode, count: frameSamples))
            return
        }
        var peak: Int32 = 0
        if members[m].inMix {
            members[m].frame.withUnsafeBufferPointer { own in
                for i in 0..<frameSamples {
                    let value = sum[i] &- Int32(own[i])
                    scratch[i] = value
                    peak = max(peak, Int32(clamping: value.magnitude))
                }
            }
        } else {
            for i in 0..<frameSamples {
                scratch[i] = sum[i]
                peak = max(peak, Int32(clamping: sum[i].magnitude))
            }
        }
        limit(peak: peak)
        law.encode(output, into: &codes)
    }

    /// `scratch` → `output`: as is when in range; else counted, and scaled (limiter) or clipped.
    private mutating func limit(peak: Int32) {
        guard peak > Int32(Int16.max) else {
            for i in 0..<frameSamples { output[i] = Int16(truncatingIfNeeded: scratch[i]) }
            return
        }
        var over = 0
        for i in 0..<frameSamples where scratch[i] > Int32(Int16.max) || scratch[i] < Int32(Int16.min) { over += 1 }
        clippedSamples += over
        if limiter {
            let gain = Double(Int16.max) / Double(peak)
            for i in 0..<frameSamples { output[i] = Int16(clamping: Int64((Double(scratch[i]) * gain).rounded(.towardZero))) }
        } else {
            for i in 0..<frameSamples { output[i] = Int16(clamping: scratch[i]) }
        }
    }
}
