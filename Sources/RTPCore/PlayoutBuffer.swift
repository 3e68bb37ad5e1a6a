/// A fixed-delay playout (jitter) buffer for one incoming audio stream, keyed by RTP
/// timestamp — what a conference mixer pulls one frame per tick from.
///
/// * The first packet (and the first after a resync) anchors the timeline: its timestamp is
///   played at the first pull at or after its arrival + `delayNanoseconds`; from then on each
///   pull plays the next `frameSamples` timestamp units, whatever arrived (RFC 3550 §5.1: the
///   timestamp is the sampling instant of the first octet, so a receiver places packets by
///   timestamp, not by arrival or sequence number).
/// * A packet (or the part of one) for timestamps already played is late and dropped; a frame
///   nothing was written to when its turn comes is concealed with silence.
/// * Resync (start afresh with the new packet as anchor): another SSRC (RFC 3550 §8.2: a new
///   source), a timestamp more than `maximumAheadFrames` frames beyond the next to play or
///   more than the buffer's span behind it (a sender that restarted its timeline), or
///   `resyncAfterLatePackets` late packets in a row (the sender's clock drifted behind).
///
/// Pure: time is the caller's (monotonic ns), nothing is read from a clock.
public struct PlayoutBuffer: Sendable {
    public enum Pull: Sendable, Hashable {
        /// No stream yet, or its playout delay has not passed: silence, not counted.
        case idle
        /// A frame was played (samples written to it).
        case frame
        /// The frame's turn came and nothing had arrived for it: silence.
        case concealed
    }

    public struct Statistics: Sendable, Hashable {
        public var framesPlayed = 0
        public var framesConcealed = 0
        /// Packets (or all their samples) that arrived after their frame was played.
        public var latePackets = 0
        public var resyncs = 0
        public init() {}
    }

    public let frameSamples: Int
    public let delayNanoseconds: Int64
    public let maximumAheadFrames: Int
    public let resyncAfterLatePackets: Int
    public private(set) var statistics = Statistics()

    private let capacityFrames: Int
    private var storage: [Int16]
    private var filled: [Bool]
    private var ssrc: UInt32?
    /// Timestamp of the next frame to play, and its slot.
    private var nextTimestamp: UInt32 = 0
    private var head = 0
    /// When playing starts (first pull at or after it); nil before the first packet.
    private var startAt: Int64?
    private var playing = false
    private var lateInARow = 0

    public init(frameSamples: Int = 160, delayNanoseconds: Int64, maximumAheadFrames: Int? = nil,
                resyncAfterLatePackets: Int = 8) {
        precondition(frameSamples > 0 && delayNanoseconds >= 0, "PlayoutBuffer: frame size must be positive, delay not negative")
        let delayFrames = Int(delayNanoseconds / (Int64(frameSamples) * 125_000))
        self.frameSamples = frameSamples
        self.delayNanoseconds = delayNanoseconds
        self.maximumAheadFrames = max(1, maximumAheadFrames ?? delayFrames + 25)
        self.resyncAfterLatePackets = max(1, resyncAfterLatePackets)
        capacityFrames = self.maximumAheadFrames + 2
        storage = Array(repeating: 0, count: capacityFrames * frameSamples)
        filled = Array(repeating: false, count: capacityFrames)
    }

    /// Whether a stream is being played out (anchored and past its playout delay).
    public var isPlaying: Bool { playing }

    /// Places `samples` (decoded audio starting at RTP `timestamp`) arriving at `arrival`.
    public mutating func insert(ssrc: UInt32, timestamp: UInt32, samples: UnsafeBufferPointer<Int16>, arrival: Int64) {
        guard !samples.isEmpty else { return }
        if self.ssrc != ssrc || startAt == nil {
            if self.ssrc != nil { statistics.resyncs += 1 }
            resync(ssrc: ssrc, timestamp: timestamp, arrival: arrival)
        }
        var offset = Int(Int32(bitPattern: timestamp &- nextTimestamp))
        let span = capacityFrames * frameSamples
        if offset >= maximumAheadFrames * frameSamples || offset + samples.count <= -span {
            statistics.resyncs += 1
            resync(ssrc: ssrc, timestamp: timestamp, arrival: arrival)
            offset = 0
        }
        if offset + samples.count <= 0 {
            statistics.latePackets += 1
            lateInARow += 1
            if lateInARow >= resyncAfterLatePackets {
                statistics.resyncs += 1
                resync(ssrc: ssrc, timestamp: timestamp, arrival: arrival)
                write(samples, from: 0, at: 0)
            }
            return
        }
        lateInARow = 0
        // Samples before the next frame to play are late; write the rest.
        let skip = max(0, -offset)
        write(samples, from: skip, at: offset + skip)
    }

    /// Plays the next frame into `frame` (resized to `frameSamples`): the samples, or silence.
    public mutating func pull(now: Int64, into frame: inout [Int16]) -> Pull {
        if frame.count != frameSamples { frame = Array(repeating: 0, count: frameSamples) }
        guard let startAt else { return silence(&frame, .idle) }
        if !playing {
            guard now >= startAt else { return silence(&frame, .idle) }
            playing = true
        }
        let base = head * frameSamples
        let outcome: Pull
        if filled[head] {
            for i in 0..<frameSamples {
                frame[i] = storage[base + i]
                storage[base + i] = 0
            }
            filled[head] = false
            statistics.framesPlayed += 1
            outcome = .frame
        } else {
            statistics.framesConcealed += 1
            outcome = silence(&frame, .concealed)
        }
        head = (head + 1) % capacityFrames
        nextTimestamp &+= UInt32(frameSamples)
        return outcome
    }

    private func silence(_ frame: inout [Int16], _ outcome: Pull) -> Pull {
        for i in frame.indices { frame[i] = 0 }
        return outcome
    }

    private mutating func resync(ssrc: UInt32, timestamp: UInt32, arrival: Int64) {
        for slot in filled.indices where filled[slot] {
            filled[slot] = false
            let base = slot * frameSamples
            for i in base..<(base + frameSamples) { storage[i] = 0 }
        }
        self.ssrc = ssrc
        nextTimestamp = timestamp
        head = 0
        startAt = arrival + delayNanoseconds
        playing = false
        lateInARow = 0
    }

    /// Writes `samples[from...]` at `position` samples after the next frame to play.
    private mutating func write(_ samples: UnsafeBufferPointer<Int16>, from: Int, at position: Int) {
        var position = position
        let limit = (capacityFrames - 1) * frameSamples
        for i in from..<samples.count where position < limit {
            let slot = (head + position / frameSamples) % capacityFrames
            storage[slot * frameSamples + position % frameSamples] = samples[i]
            filled[slot] = true
            position += 1
        }
    }
}
