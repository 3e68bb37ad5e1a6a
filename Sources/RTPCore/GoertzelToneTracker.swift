/// Whether a tone was heard *throughout* a stream: one decision per frame in, one verdict
/// out. This is how an agent tells one-way audio, or a conference participant nobody hears,
/// from a working call.
///
/// Feed `record(toneDetected:)` once per frame of the playout timeline, in order (for
/// example `GoertzelDetector.detects(in:)` on each decoded 20-ms frame). A frame that never
/// arrived is a frame without the tone — the listener heard nothing either.
///
/// A *gap* is a maximal run of frames without the tone, wherever it lies (a tone that starts
/// late or stops early leaves a gap at the start or end). The verdict:
/// * `continuous` — the tone is in at least `minimumFraction` of the frames and no gap is
///   longer than `maximumGapMs`;
/// * `absent` — the tone is in fewer than `presenceFraction` of the frames (a noise-only
///   stream lands here: the detector's false hits are ~2 % of frames);
/// * `intermittent` — anything in between.
public struct ToneTracker: Sendable {
    public struct Criteria: Sendable, Hashable {
        public var minimumFraction: Double
        public var maximumGapMs: Double
        public var presenceFraction: Double

        public init(minimumFraction: Double = 0.9, maximumGapMs: Double = 200, presenceFraction: Double = 0.2) {
            precondition(0 <= presenceFraction && presenceFraction <= minimumFraction && minimumFraction <= 1,
                         "ToneTracker.Criteria: need 0 ≤ presenceFraction ≤ minimumFraction ≤ 1")
            self.minimumFraction = minimumFraction
            self.maximumGapMs = maximumGapMs
            self.presenceFraction = presenceFraction
        }
    }

    public enum Verdict: String, Sendable, Hashable, Codable {
        case continuous
        case intermittent
        case absent
    }

    public struct Report: Sendable, Hashable, Codable {
        public var frames: Int
        public var framesWithTone: Int
        /// framesWithTone / frames (0 for no frames).
        public var fraction: Double
        /// Index of the first frame with the tone, nil if none had it.
        public var firstToneFrame: Int?
        public var longestGapFrames: Int
        public var longestGapMs: Double
        public var verdict: Verdict

        public init(frames: Int, framesWithTone: Int, fraction: Double, firstToneFrame: Int?,
                    longestGapFrames: Int, longestGapMs: Double, verdict: Verdict) {
            self.frames = frames
            self.framesWithTone = framesWithTone
            self.fraction = fraction
            self.firstToneFrame = firstToneFrame
            self.longestGapFrames = longestGapFrames
            self.longestGapMs = longestGapMs
            self.verdict = verdict
        }

        enum CodingKeys: String, CodingKey {
            case frames
            case framesWithTone = "frames_with_tone"
            case fraction = "tone_fraction"
            case firstToneFrame = "first_tone_frame"
            case longestGapFrames = "longest_gap_frames"
            case longestGapMs = "longest_gap_ms"
            case verdict
        }
    }

    public let frameDurationMs: Double
    public let criteria: Criteria
    private var frames = 0
    private var framesWithTone = 0
    private var firstToneFrame: Int?
    private var currentGap = 0
    private var longestGap = 0

    public init(frameDurationMs: Double = 20, criteria: Criteria = Criteria()) {
        precondition(frameDurationMs > 0, "ToneTracker: frame duration must be positive")
        self.frameDurationMs = frameDurationMs
        self.criteria = criteria
    }

    public mutating func record(toneDetected: Bool) {
        if toneDetected {
            if firstToneFrame == nil { firstToneFrame = frames }
            framesWithTone += 1
            currentGap = 0
        } else {
            currentGap += 1
            longestGap = max(longestGap, currentGap)
        }
        frames += 1
    }

    public var report: Report {
        let fraction = frames == 0 ? 0 : Double(framesWithTone) / Double(frames)
        let gapMs = Double(longestGap) * frameDurationMs
        let verdict: Verdict
        if frames == 0 || fraction < criteria.presenceFraction {
            verdict = .absent
        } else if fraction >= criteria.minimumFraction && gapMs <= criteria.maximumGapMs {
            verdict = .continuous
        } else {
            verdict = .intermittent
        }
        return Report(frames: frames, framesWithTone: framesWithTone, fraction: fraction, firstToneFrame: firstToneFrame,
                      longestGapFrames: longestGap, longestGapMs: gapMs, verdict: verdict)
    }
}
