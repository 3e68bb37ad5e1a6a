#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The audio an Earshot agent sends: a speech-like signal that exercises the codec the way
/// a voice does, plus a steady tone that identifies the sender, so that the receiver can
/// tell *whose* audio it hears, and whether it hears it all the time (one-way audio, a
/// conference participant nobody hears, a relay that drops media after a re-INVITE).
///
/// Everything is a pure function of the sample index (the sender's sample clock), so
/// frames are phase-continuous however they are requested, and two runs produce the same
/// bytes.
///
/// Frequencies are chosen so that a `GoertzelDetector` over 20-ms blocks (160 samples at
/// 8 kHz, or any multiple) sees each component in its own DFT bin: the tones are odd
/// multiples of 50 Hz, the speech harmonics multiples of 100 Hz, so over 20 ms every
/// component completes a whole number of cycles and all of them are mutually orthogonal —
/// one participant's tone or voice leaks nothing into another's tone bin, whatever the
/// phase. Only the syllable envelope and G.711 quantisation leak, at around −40 dB.
public struct TestSignalGenerator: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var sampleRate: Int
        /// The identifying tone, in Hz (see `IdentifyingTone`).
        public var toneFrequency: Int
        /// Tone level in dBov (0 dBov = a full-scale sine).
        public var toneLevelDb: Double
        /// Speech level at the peak of a syllable, in dBov (RMS relative to a full-scale sine's).
        /// Kept below the tone so that the tone dominates even in a many-party conference mix.
        public var speechLevelDb: Double
        /// Voice fundamental in Hz; keep it a multiple of 100 Hz at 8 kHz (see the type's doc).
        public var fundamental: Int
        /// Number of harmonics of the fundamental (amplitude ∝ 1/h, a −6 dB/octave tilt).
        public var harmonics: Int
        /// Syllables per second: the speech amplitude follows 0.5·(1 − cos 2π·rate·t).
        public var syllableRate: Int
        /// Talk spurt and pause lengths, in syllables (so they start and end at envelope zeros).
        public var talkSyllables: Int
        public var pauseSyllables: Int
        /// Seeds the harmonic phases and where in the talk/pause cycle the signal starts, so
        /// that participants in one conference do not speak in unison.
        public var voice: UInt64

        public init(toneFrequency: Int, sampleRate: Int = 8000, toneLevelDb: Double = -20, speechLevelDb: Double = -26,
                    fundamental: Int = 100, harmonics: Int = 20, syllableRate: Int = 4,
                    talkSyllables: Int = 8, pauseSyllables: Int = 4, voice: UInt64? = nil) {
            precondition(sampleRate > 0 && toneFrequency > 0 && 2 * toneFrequency < sampleRate,
                         "TestSignalGenerator: tone must lie between 0 and the Nyquist frequency")
            precondition(fundamental > 0 && harmonics >= 0 && syllableRate > 0 && sampleRate % syllableRate == 0,
                         "TestSignalGenerator: fundamental and syllable rate must be positive, the rate a divisor of the sample rate")
            precondition(talkSyllables >= 0 && pauseSyllables >= 0 && talkSyllables + pauseSyllables > 0,
                         "TestSignalGenerator: talk and pause lengths must not be negative")
            self.sampleRate = sampleRate
            self.toneFrequency = toneFrequency
            self.toneLevelDb = toneLevelDb
            self.speechLevelDb = speechLevelDb
            self.fundamental = fundamental
            self.harmonics = min(harmonics, (sampleRate / 2 - 1) / fundamental)
            self.syllableRate = syllableRate
            self.talkSyllables = talkSyllables
            self.pauseSyllables = pauseSyllables
            self.voice = voice ?? UInt64(toneFrequency)
        }
    }

    public let configuration: Configuration
    /// One period of the harmonic sum, scaled to the speech level at envelope peak.
    private let voicedPeriod: [Double]
    private let toneAmplitude: Double
    private let syllableLength: Int64
    /// Offset into the talk/pause cycle, a whole number of syllables.
    private let cycleOffset: Int64

    public init(configuration: Configuration) {
        self.configuration = configuration
        let rate = configuration.sampleRate
        toneAmplitude = Self.fullScale * Self.amplitude(dB: configuration.toneLevelDb)
        syllableLength = Int64(rate / configuration.syllableRate)
        var random = SplitMix64(seed: configuration.voice)
        let cycleSyllables = UInt64(configuration.talkSyllables + configuration.pauseSyllables)
        cycleOffset = Int64(random.next() % cycleSyllables) * syllableLength

        let harmonicCount = configuration.harmonics
        let phases = (0..<harmonicCount).map { _ in Double(random.next() >> 11) / Double(1 << 53) * 2 * .pi }
        let weights = (1...max(1, harmonicCount)).map { 1 / Double($0) }.prefix(harmonicCount)
        // RMS of Σ w_h·cos(…) is sqrt(Σ w_h² / 2); scale it to the speech level.
        let rms = (weights.reduce(0) { $0 + $1 * $1 } / 2).squareRoot()
        let targetRMS = Self.fullScale * Self.amplitude(dB: configuration.speechLevelDb) / 2.0.squareRoot()
        let scale = rms > 0 ? targetRMS / rms : 0
        let period = rate / Self.gcd(configuration.fundamental, rate)
        voicedPeriod = (0..<period).map { n in
            var sum = 0.0
            for (index, weight) in weights.enumerated() {
                let cycles = Double((n * configuration.fundamental * (index + 1)) % rate) / Double(rate)
                sum += weight * cos(2 * .pi * cycles + phases[index])
            }
            return sum * scale
        }
    }

    /// A generator for `toneFrequency` with the default speech and levels.
    public init(toneFrequency: Int, sampleRate: Int = 8000) {
        self.init(configuration: Configuration(toneFrequency: toneFrequency, sampleRate: sampleRate))
    }

    /// Sample number `index` of the signal (index 0 is the start of the stream).
    public func sample(at index: Int64) -> Int16 {
        let rate = Int64(configuration.sampleRate)
        let phase = Double((index.modulo(rate) * Int64(configuration.toneFrequency)) % rate) / Double(rate)
        var value = toneAmplitude * sin(2 * .pi * phase)
        let speechTime = index + cycleOffset
        let syllable = speechTime.floorDivided(by: syllableLength)
        let cycle = Int64(configuration.talkSyllables + configuration.pauseSyllables)
        if syllable.modulo(cycle) < Int64(configuration.talkSyllables) {
            let withinSyllable = Double(speechTime.modulo(syllableLength)) / Double(syllableLength)
            let envelope = 0.5 * (1 - cos(2 * .pi * withinSyllable))
            value += envelope * voicedPeriod[Int(index.modulo(Int64(voicedPeriod.count)))]
        }
        return Int16(max(-32768, min(32767, value.rounded())))
    }

    /// `count` consecutive samples starting at sample `index` (160 = one 20-ms frame at 8 kHz).
    public func frame(startingAt index: Int64, count: Int = 160) -> [Int16] {
        (0..<Int64(count)).map { sample(at: index + $0) }
    }

    /// White Gaussian noise at `levelDb` dBov (RMS relative to a full-scale sine's), for
    /// testing detectors against noise. Randomness is the caller's, so tests are repeatable.
    public static func whiteNoise(count: Int, levelDb: Double, using generator: inout some RandomNumberGenerator) -> [Int16] {
        let sigma = fullScale * amplitude(dB: levelDb) / 2.0.squareRoot()
        return (0..<count).map { _ in
            // Box–Muller.
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
            let u2 = Double.random(in: 0..<1, using: &generator)
            let gaussian = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            return Int16(max(-32768, min(32767, (sigma * gaussian).rounded())))
        }
    }

    // MARK: Helpers

    static let fullScale = 32767.0

    static func amplitude(dB: Double) -> Double { pow(10, dB / 20) }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

/// The identifying tones, and which participant gets which.
///
/// 17 frequencies, odd multiples of 50 Hz inside the 300–3400 Hz telephone band, chosen to
/// stay away from frequencies that networks act on: DTMF rows and columns (697, 770, 852,
/// 941, 1209, 1336, 1477, 1633 Hz; ≥ 60 Hz away), the 1004 Hz test tone, the 1100 Hz fax
/// calling tone (≥ 60 Hz), and the 2100 Hz answer tone that disables echo cancellers and the
/// 2600 Hz trunk signalling tone (≥ 100 Hz). Listed mid-band first, so that small
/// conferences get the frequencies every codec passes best.
public enum IdentifyingTone {
    public static let frequencies: [Int] = [
        1750, 1850, 1950, 1550, 2250, 2350, 2450, 550, 450, 350, 2750, 2850, 2950, 3050, 3150, 3250, 3350,
    ]

    /// The tone of slot `slot` (wrapping around after the last one). A conference should
    /// give its participants consecutive slots so that their tones are all distinct.
    public static func frequency(slot: Int) -> Int {
        frequencies[slot.modulo(frequencies.count)]
    }

    /// A stable slot for an agent or participant id (FNV-1a of its UTF-8 bytes — never
    /// Swift's per-process `Hasher`). Two ids can share a slot; where tones must be distinct
    /// (a conference), assign slots explicitly with `frequency(slot:)`.
    public static func slot(for participantID: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in participantID.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(frequencies.count))
    }

    public static func frequency(for participantID: String) -> Int {
        frequency(slot: slot(for: participantID))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seedable generator with a fixed output on
/// every platform — what pure code takes when it needs repeatable randomness (the test
/// signal's "voice", noise in tests), since `SystemRandomNumberGenerator` cannot be seeded.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

extension Int64 {
    /// Mathematical modulo (never negative for a positive modulus).
    fileprivate func modulo(_ modulus: Int64) -> Int64 {
        let r = self % modulus
        return r < 0 ? r + modulus : r
    }

    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        (self - modulo(divisor)) / divisor
    }
}

extension Int {
    fileprivate func modulo(_ modulus: Int) -> Int {
        let r = self % modulus
        return r < 0 ? r + modulus : r
    }
}
