#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Is a given tone in this frame of decoded audio? The Goertzel algorithm computes one DFT
/// bin in O(N) without an FFT; the decision compares that bin's energy with the whole
/// frame's, so it does not depend on the call's level.
///
///     s[n] = x[n] + 2·cos(ω)·s[n−1] − s[n−2],   ω = 2π·f/fs
///     |X(ω)|² = s[N−1]² + s[N−2]² − 2·cos(ω)·s[N−1]·s[N−2]
///
/// `share = 2·|X(ω)|² / (N·Σx²)` is the fraction of the frame's energy at f: 1 for a pure
/// tone completing whole cycles in the frame, 1/k for each of k equal such tones, and on
/// average 2/N for white noise (exponentially distributed: at N = 160 about 2 % of noise
/// frames exceed the default 0.05). A tone is *present* when the frame is not silence, the
/// tone itself is loud enough, and its share reaches the threshold. With `TestSignalGenerator`
/// signals a 5-party mix gives each tone a share of about 0.18 and a 10-party mix about 0.09.
///
/// Analyse blocks of 20 ms (160 samples at 8 kHz) or a multiple: then every
/// `IdentifyingTone` and speech harmonic completes whole cycles and none leaks into another's bin.
public struct GoertzelDetector: Sendable {
    public struct Thresholds: Sendable, Hashable {
        /// Minimum fraction of the frame's energy in the tone's bin.
        public var minimumShare: Double
        /// Frames whose RMS is below this (dBov, full-scale sine = 0) are silence.
        public var minimumFrameLevelDb: Double
        /// The tone's own level (dBov) must reach this.
        public var minimumToneLevelDb: Double

        public init(minimumShare: Double = 0.05, minimumFrameLevelDb: Double = -55, minimumToneLevelDb: Double = -50) {
            self.minimumShare = minimumShare
            self.minimumFrameLevelDb = minimumFrameLevelDb
            self.minimumToneLevelDb = minimumToneLevelDb
        }
    }

    public struct Measurement: Sendable, Hashable {
        /// Fraction of the frame's energy at the tone frequency, 0...1 (0 for an empty or silent frame).
        public var share: Double
        /// Level of a sine with the measured amplitude, dBov (−∞ when absent).
        public var toneLevelDb: Double
        /// RMS level of the frame, dBov (−∞ for digital silence).
        public var frameLevelDb: Double
        public var isPresent: Bool
    }

    public let frequency: Double
    public let sampleRate: Int
    public let thresholds: Thresholds
    private let coefficient: Double

    public init(frequency: Double, sampleRate: Int = 8000, thresholds: Thresholds = Thresholds()) {
        precondition(sampleRate > 0 && frequency > 0 && 2 * frequency < Double(sampleRate),
                     "GoertzelDetector: frequency must lie between 0 and the Nyquist frequency")
        self.frequency = frequency
        self.sampleRate = sampleRate
        self.thresholds = thresholds
        coefficient = 2 * cos(2 * .pi * frequency / Double(sampleRate))
    }

    /// Measures one frame. Contiguous storage goes straight to the concrete loop: an
    /// unspecialised generic loop costs an allocation per sample when called across modules.
    public func measure(_ frame: some Collection<Int16>) -> Measurement {
        if let measured = frame.withContiguousStorageIfAvailable({ measure(buffer: $0) }) {
            return measured
        }
        return Array(frame).withUnsafeBufferPointer { measure(buffer: $0) }
    }

    private func measure(buffer frame: UnsafeBufferPointer<Int16>) -> Measurement {
        var s1 = 0.0
        var s2 = 0.0
        var energy = 0.0
        for sample in frame {
            let x = Double(sample)
            energy += x * x
            let s = x + coefficient * s1 - s2
            s2 = s1
            s1 = s
        }
        let count = Double(frame.count)
        guard energy > 0 else {
            return Measurement(share: 0, toneLevelDb: -.infinity, frameLevelDb: -.infinity, isPresent: false)
        }
        let power = max(0, s1 * s1 + s2 * s2 - coefficient * s1 * s2)
        let share = min(1, 2 * power / (count * energy))
        // A sine of amplitude A gives |X| = A·N/2; full scale is a sine of amplitude 32767.
        let toneAmplitude = 2 * power.squareRoot() / count
        let toneLevel = 20 * log10(toneAmplitude / TestSignalGenerator.fullScale)
        let frameLevel = 10 * log10(energy / count / (TestSignalGenerator.fullScale * TestSignalGenerator.fullScale / 2))
        let present = frameLevel >= thresholds.minimumFrameLevelDb
            && toneLevel >= thresholds.minimumToneLevelDb
            && share >= thresholds.minimumShare
        return Measurement(share: share, toneLevelDb: toneLevel, frameLevelDb: frameLevel, isPresent: present)
    }

    public func detects(in frame: some Collection<Int16>) -> Bool {
        measure(frame).isPresent
    }
}
