/// Why an input could not be turned into an E-model score. Callers compare `code`
/// (`error.code == .lossOutOfRange`); `message` names the field, the value and the range
/// accepted, ready for a person.
public struct CallQualityError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unknownCodec = "unknown_codec"
            case codecNeedsExplicitImpairment = "codec_needs_explicit_impairment"
            case impairmentOutOfRange = "impairment_out_of_range"
            case lossOutOfRange = "loss_out_of_range"
            case burstRatioOutOfRange = "burst_ratio_out_of_range"
            case delayOutOfRange = "delay_out_of_range"
            case ptimeOutOfRange = "ptime_out_of_range"
            case advantageOutOfRange = "advantage_out_of_range"
            case countersInconsistent = "counters_inconsistent"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A codec name this module does not know.
        public static let unknownCodec = Code(.unknownCodec)
        /// A wideband/fullband codec given without explicit Ie and Bpl.
        public static let codecNeedsExplicitImpairment = Code(.codecNeedsExplicitImpairment)
        /// Explicit Ie outside 0…95 or Bpl not above 0.
        public static let impairmentOutOfRange = Code(.impairmentOutOfRange)
        /// Packet loss outside 0…100 %.
        public static let lossOutOfRange = Code(.lossOutOfRange)
        /// Burst ratio below 1 (where it is asserted rather than measured) or not finite.
        public static let burstRatioOutOfRange = Code(.burstRatioOutOfRange)
        /// A delay (mouth-to-ear, one-way, round trip, jitter buffer) negative, not finite,
        /// or above `ModelInputs.maximumDelayMs`.
        public static let delayOutOfRange = Code(.delayOutOfRange)
        /// ptime not above 0, above `ModelInputs.maximumPtimeMs`, or not whole frames.
        public static let ptimeOutOfRange = Code(.ptimeOutOfRange)
        /// Advantage factor outside 0…20.
        public static let advantageOutOfRange = Code(.advantageOutOfRange)
        /// Packet counters that cannot describe a stream (no packets expected, negative
        /// counts, more lost and discarded than expected).
        public static let countersInconsistent = Code(.countersInconsistent)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String

    public var description: String { message }

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    static func unknownCodec(_ name: String) -> Self {
        let names = Codec.known.map(\.name).joined(separator: ", ")
        return Self(.unknownCodec, "unknown codec '\(name)' (known: \(names))")
    }

    static func codecNeedsExplicitImpairment(_ codec: Codec) -> Self {
        Self(.codecNeedsExplicitImpairment,
             "\(codec.name) is not a narrowband codec: G.107/G.113 have no values for it; "
             + "give Ie and Bpl explicitly to score it anyway")
    }

    static func outOfRange(_ code: Code, _ what: String, _ value: Double, _ range: String) -> Self {
        Self(code, "\(what) \(number(value)) is out of range (\(range))")
    }

    /// A value as a person would write it: `40`, not `40.0`.
    static func number(_ x: Double) -> String {
        x.isFinite && x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }
}
