/// A speech codec as the E-model and the delay budget see it: its G.113 Appendix I
/// impairment values (narrowband codecs only), its frame and its look-ahead.
///
/// | codec | Ie | Bpl | frame | look-ahead | default ptime |
/// |---|---|---|---|---|---|
/// | PCMU, PCMA (G.711) without PLC | 0 | 4.3 | sample-based | 0 ms | 20 ms |
/// | PCMU, PCMA (G.711) with PLC (G.711 Appendix I) | 0 | 25.1 | sample-based | 0 ms | 20 ms |
/// | G729A (G.729A + VAD) | 11 | 19.0 | 10 ms | 5 ms | 20 ms |
/// | G723.1 (6.3 kbit/s + VAD) | 15 | 16.1 | 30 ms | 7.5 ms | 30 ms |
///
/// Look-ahead is each codec's algorithmic look-ahead beyond the frame (G.729 §2: 5 ms;
/// G.723.1 §2: 7.5 ms; G.711 none); the frame itself is covered by ptime in the delay
/// budget. G.729A and G.723.1 conceal loss by design, so their single G.113 row applies
/// whether or not the caller says the receiver conceals.
///
/// Wideband and fullband codecs (G.722, Opus, …) belong to G.107.1/G.107.2; this model
/// knows their names only to refuse scoring them with narrowband values unless Ie and Bpl
/// are given explicitly (`ModelInputs.CodecImpairment.explicit`).
public struct Codec: Sendable, Hashable {
    /// Canonical name, as Earshot prints it (`PCMU`, `PCMA`, `G729A`, `G723.1`, `G722`, `OPUS`).
    public let name: String
    /// The frame the codec encodes at once, ms; 0 for sample-based codecs (G.711).
    /// A packet carries a whole number of frames, so ptime must be a multiple of it.
    public let frameMs: Double
    /// Algorithmic look-ahead added to the mouth-to-ear delay, ms.
    public let lookAheadMs: Double
    /// The packetisation Earshot assumes when none is given, ms.
    public let defaultPtimeMs: Double
    /// G.113 Appendix I values; nil for codecs outside the narrowband model.
    let g113: G113Row?

    struct G113Row: Sendable, Hashable {
        let equipmentImpairment: Double
        let packetLossRobustness: Double
        /// Bpl when the receiver conceals lost packets; equal to the above for codecs with
        /// built-in concealment.
        let packetLossRobustnessConcealed: Double
    }

    /// Whether G.107 (narrowband) has values for this codec.
    public var isNarrowband: Bool { g113 != nil }

    public static let pcmu = Codec(
        name: "PCMU", frameMs: 0, lookAheadMs: 0, defaultPtimeMs: 20,
        g113: G113Row(equipmentImpairment: 0, packetLossRobustness: 4.3, packetLossRobustnessConcealed: 25.1)
    )
    public static let pcma = Codec(
        name: "PCMA", frameMs: 0, lookAheadMs: 0, defaultPtimeMs: 20,
        g113: G113Row(equipmentImpairment: 0, packetLossRobustness: 4.3, packetLossRobustnessConcealed: 25.1)
    )
    public static let g729a = Codec(
        name: "G729A", frameMs: 10, lookAheadMs: 5, defaultPtimeMs: 20,
        g113: G113Row(equipmentImpairment: 11, packetLossRobustness: 19.0, packetLossRobustnessConcealed: 19.0)
    )
    public static let g723_1 = Codec(
        name: "G723.1", frameMs: 30, lookAheadMs: 7.5, defaultPtimeMs: 30,
        g113: G113Row(equipmentImpairment: 15, packetLossRobustness: 16.1, packetLossRobustnessConcealed: 16.1)
    )
    /// G.722: wideband (G.107.1); scored only with explicit Ie/Bpl. Its sub-band filter
    /// delay is not counted as look-ahead.
    public static let g722 = Codec(name: "G722", frameMs: 0, lookAheadMs: 0, defaultPtimeMs: 20, g113: nil)
    /// Opus: wideband/fullband (G.107.1/G.107.2); scored only with explicit Ie/Bpl.
    /// Look-ahead 6.5 ms: the reference encoder in SILK and hybrid modes (CELT alone: 2.5 ms).
    public static let opus = Codec(name: "OPUS", frameMs: 0, lookAheadMs: 6.5, defaultPtimeMs: 20, g113: nil)

    /// The codecs G.107 scores, in the order Earshot lists them.
    public static let narrowband: [Codec] = [.pcmu, .pcma, .g729a, .g723_1]
    /// Every codec this module knows by name.
    public static let known: [Codec] = narrowband + [.g722, .opus]

    /// Looks a codec up by its canonical name or a common spelling, ignoring case and the
    /// dots and dashes people put in ITU names: `PCMU`, `G711U`, `G.711u`, `PCMA`, `G711A`,
    /// `G729A`, `G.729a`, `G729` (the SDP name; receivers cannot tell G.729 from G.729A,
    /// both decode the same bitstream), `G723.1`, `G723` (the SDP name; assumed 6.3 kbit/s),
    /// `G722`, `OPUS`.
    public static func named(_ name: String) throws(CallQualityError) -> Codec {
        let key = String(name.uppercased().filter { $0 != "." && $0 != "-" && $0 != "_" && $0 != " " })
        switch key {
        case "PCMU", "G711U", "G711MU", "G711ULAW", "ULAW": return .pcmu
        case "PCMA", "G711A", "G711ALAW", "ALAW": return .pcma
        case "G729A", "G729", "G729AB", "G729B": return .g729a
        case "G7231", "G723", "G72363", "G723163": return .g723_1
        case "G722": return .g722
        case "OPUS": return .opus
        default: throw .unknownCodec(name)
        }
    }
}
