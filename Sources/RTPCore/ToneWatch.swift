/// Watches several tones at once in a stream's playout timeline (a conference participant
/// listening for every member's identifying tone): per frame a `GoertzelDetector` for each
/// frequency, per tone a `ToneTracker` over the whole stream, per-second counts of the frames
/// that had it (so a caller can judge any window: a speaker that joined late, a listener that
/// left early), and the mean tone level of those frames.
///
/// Feed frames in playout order: `measure` a decoded frame, then `record` its result (or
/// `record(nil, …)` for a frame that never arrived — without every tone, as the listener heard
/// nothing). The split lets a receiver measure only frames it will keep. At most 64 tones.
/// Pure: the frame's time (ns on the caller's timeline) is an argument.
public struct ToneWatch: Sendable {
    public static let maximumTones = 64

    public let frequencies: [Int]
    /// Per tone, the whole stream's verdict so far.
    public private(set) var trackers: [ToneTracker]
    /// Per tone, frames with it in each second of the timeline.
    public private(set) var framesPerSecond: [[Int]]
    /// Frames recorded in each second of the timeline.
    public private(set) var framesInSecond: [Int] = []
    private var levelSums: [Double]
    private var levelCounts: [Int]
    private let detectors: [GoertzelDetector]

    public init(frequencies: [Int], frameDurationMs: Double = 20) {
        precondition(frequencies.count <= Self.maximumTones, "ToneWatch: at most \(Self.maximumTones) tones")
        self.frequencies = frequencies
        detectors = frequencies.map { GoertzelDetector(frequency: Double($0)) }
        trackers = frequencies.map { _ in ToneTracker(frameDurationMs: frameDurationMs) }
        framesPerSecond = frequencies.map { _ in [] }
        levelSums = frequencies.map { _ in 0 }
        levelCounts = frequencies.map { _ in 0 }
    }

    /// Which tones one decoded frame has (bit i: `frequencies[i]`); adds their levels to the
    /// means, so measure only frames that will be recorded.
    public mutating func measure(_ frame: some Collection<Int16>) -> UInt64 {
        var mask: UInt64 = 0
        for (i, detector) in detectors.enumerated() {
            let measured = detector.measure(frame)
            if measured.frameLevelDb == -.infinity { return 0 }  // digital silence: no tone at all
            guard measured.isPresent else { continue }
            mask |= 1 << UInt64(i)
            levelSums[i] += measured.toneLevelDb
            levelCounts[i] += 1
        }
        return mask
    }

    /// One frame of the timeline at `offsetNanoseconds`: `mask` from `measure`, nil for a frame
    /// that never arrived. Frames before 0 count in second 0.
    public mutating func record(_ mask: UInt64?, at offsetNanoseconds: Int64) {
        let second = Int(max(0, offsetNanoseconds) / 1_000_000_000)
        if framesInSecond.count <= second {
            framesInSecond.append(contentsOf: repeatElement(0, count: second + 1 - framesInSecond.count))
        }
        framesInSecond[second] += 1
        for i in frequencies.indices {
            let present = (mask ?? 0) & (1 << UInt64(i)) != 0
            trackers[i].record(toneDetected: present)
            if framesPerSecond[i].count < framesInSecond.count {
                framesPerSecond[i].append(contentsOf: repeatElement(0, count: framesInSecond.count - framesPerSecond[i].count))
            }
            if present { framesPerSecond[i][second] += 1 }
        }
    }

    /// Mean level (dBov) of the frames that had tone `i`; nil when none had it.
    public func meanLevelDb(_ i: Int) -> Double? {
        levelCounts[i] == 0 ? nil : levelSums[i] / Double(levelCounts[i])
    }
}
