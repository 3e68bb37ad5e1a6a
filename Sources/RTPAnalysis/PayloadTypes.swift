import CallQuality

/// What an RTP payload type number means to the analysis: a name, a media clock, and whether
/// its packets are RFC 4733 telephone events rather than audio.
public struct PayloadTypeMeaning: Hashable, Sendable {
    public enum Source: String, Hashable, Sendable, Codable {
        /// RFC 3551 §6, Tables 4 and 5: the static assignments.
        case `static`
        /// `--clock` (or `PayloadTypeMap.add`) said so.
        case given
        /// A dynamic payload type recognised by the shape of its packets (RFC 4733 events).
        case inferred
    }

    /// The encoding name as SDP's rtpmap would write it (`PCMU`, `telephone-event`); nil when unknown.
    public var encodingName: String?
    /// Timestamp units per second; nil when unknown (a dynamic type nobody described).
    public var clockRate: Int?
    public var isTelephoneEvent: Bool
    public var source: Source?

    public init(encodingName: String?, clockRate: Int?, isTelephoneEvent: Bool = false, source: Source?) {
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.isTelephoneEvent = isTelephoneEvent
        self.source = source
    }
}

/// RFC 3551 §6 static payload types and their clocks; 96–127 are dynamic (§3), bound by
/// signalling (SDP rtpmap), which a capture usually does not hold.
public enum StaticPayloadTypes {
    /// The first dynamic payload type (RFC 3551 §3).
    public static let dynamicRange: ClosedRange<UInt8> = 96...127

    // RFC 3551 Table 4 (audio) and Table 5 (video): PT, encoding name, clock rate.
    private static let table: [UInt8: (String, Int)] = [
        0: ("PCMU", 8000), 3: ("GSM", 8000), 4: ("G723", 8000), 5: ("DVI4", 8000), 6: ("DVI4", 16000),
        7: ("LPC", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000), 10: ("L16", 44100), 11: ("L16", 44100),
        12: ("QCELP", 8000), 13: ("CN", 8000), 14: ("MPA", 90000), 15: ("G728", 8000), 16: ("DVI4", 11025),
        17: ("DVI4", 22050), 18: ("G729", 8000), 25: ("CelB", 90000), 26: ("JPEG", 90000), 28: ("nv", 90000),
        31: ("H261", 90000), 32: ("MPV", 90000), 33: ("MP2T", 90000), 34: ("H263", 90000),
    ]

    /// The static meaning of `payloadType`, nil for unassigned and dynamic numbers.
    public static func meaning(of payloadType: UInt8) -> PayloadTypeMeaning? {
        guard let (name, rate) = table[payloadType] else { return nil }
        return PayloadTypeMeaning(encodingName: name, clockRate: rate, source: .static)
    }

    public static func isDynamic(_ payloadType: UInt8) -> Bool { dynamicRange.contains(payloadType) }
}

/// Why a payload-type mapping (`--clock PT=RATE`) was refused. Compare `code`.
public struct PayloadTypeMapError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// Not `PT=RATE`, `PT=NAME/RATE` or `PT=NAME`.
        case malformed
        /// PT is not a number in 0…127.
        case payloadTypeOutOfRange
        /// RATE is not a number in `PayloadTypeMap.clockRateRange`.
        case clockRateOutOfRange
        /// `PT=NAME` with a name whose clock this module does not know.
        case clockRateRequired
        /// The same payload type mapped twice.
        case duplicatePayloadType
    }

    public let code: Code
    public let message: String
    public var description: String { message }

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Payload-type meanings the user supplies where the capture holds no SDP: `96=8000`,
/// `101=telephone-event`, `97=opus/48000` (the `a=rtpmap` shape, RFC 8866 §6.6). A mapping
/// overrides the static table too (some equipment misuses static numbers).
public struct PayloadTypeMap: Hashable, Sendable {
    /// Accepted clock rates. The lower bound catches `96=8` meant as 8 kHz; 1 kHz is the
    /// lowest clock in use (RFC 4103 text, RFC 2198 redundancy).
    public static let clockRateRange: ClosedRange<Int> = 1_000...1_000_000

    /// Clocks of encoding names usable without a rate (RFC 3551 Table 4, RFC 4733 §7.1.1,
    /// RFC 7587 §7 for Opus). Keys are lower-case.
    static let knownClockRates: [String: Int] = [
        "pcmu": 8000, "pcma": 8000, "g729": 8000, "g723": 8000, "g722": 8000, "gsm": 8000, "cn": 8000,
        "telephone-event": 8000, "opus": 48000, "ilbc": 8000, "amr": 8000, "amr-wb": 16000,
    ]

    public private(set) var entries: [UInt8: PayloadTypeMeaning] = [:]

    public init() {}

    /// Adds one `PT=RATE`, `PT=NAME/RATE` or `PT=NAME` mapping.
    public mutating func add(parsing text: String) throws(PayloadTypeMapError) {
        let (payloadType, meaning) = try Self.parse(text)
        guard entries[payloadType] == nil else {
            throw PayloadTypeMapError(.duplicatePayloadType, "payload type \(payloadType) is mapped twice")
        }
        entries[payloadType] = meaning
    }

    /// The map with every mapping of `texts` added, in order.
    public init(parsing texts: [String]) throws(PayloadTypeMapError) {
        for text in texts { try add(parsing: text) }
    }

    /// What `payloadType` means: a given mapping first, then the static table.
    public func meaning(of payloadType: UInt8) -> PayloadTypeMeaning? {
        entries[payloadType] ?? StaticPayloadTypes.meaning(of: payloadType)
    }

    static func parse(_ text: String) throws(PayloadTypeMapError) -> (UInt8, PayloadTypeMeaning) {
        let usage = "write PT=RATE (96=8000), PT=NAME/RATE (97=opus/48000) or PT=telephone-event"
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw PayloadTypeMapError(.malformed, "'\(text)' is not a payload-type mapping: \(usage)")
        }
        guard parts[0].allSatisfy(\.isASCIIDigitCharacter), let number = Int(parts[0]), number <= 127 else {
            throw PayloadTypeMapError(.payloadTypeOutOfRange, "'\(parts[0])' in '\(text)' is not a payload type (0–127)")
        }
        let spec = parts[1]
        let name: Substring?
        let rateText: Substring?
        if spec.allSatisfy(\.isASCIIDigitCharacter) {
            (name, rateText) = (nil, spec)
        } else {
            let pieces = spec.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let first = pieces.first?.first, first.isASCIILetterCharacter,
                  pieces[0].allSatisfy({ $0.isASCIILetterCharacter || $0.isASCIIDigitCharacter || "-_.".contains($0) })
            else {
                throw PayloadTypeMapError(.malformed, "'\(spec)' in '\(text)' is neither a clock rate nor an encoding name: \(usage)")
            }
            (name, rateText) = (pieces[0], pieces.count == 2 ? pieces[1] : nil)
        }
        let rate: Int
        if let rateText {
            guard rateText.allSatisfy(\.isASCIIDigitCharacter), let value = Int(rateText), Self.clockRateRange.contains(value) else {
                throw PayloadTypeMapError(
                    .clockRateOutOfRange,
                    "clock rate '\(rateText)' in '\(text)' is not a number of Hz in \(clockRateRange.lowerBound)…\(clockRateRange.upperBound)")
            }
            rate = value
        } else if let name, let known = Self.knownClockRates[name.lowercased()] {
            rate = known
        } else {
            throw PayloadTypeMapError(
                .clockRateRequired, "'\(spec)' in '\(text)' is not a clock rate, and its clock is unknown: \(usage)")
        }
        let encodingName = name.map(String.init)
        let isEvent = encodingName?.lowercased() == "telephone-event"
        return (UInt8(number), PayloadTypeMeaning(encodingName: encodingName, clockRate: rate, isTelephoneEvent: isEvent, source: .given))
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
    var isASCIILetterCharacter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension Codec {
    /// The E-model codec a payload type stands for, when its name is one `Codec.named` knows.
    static func forPayload(_ meaning: PayloadTypeMeaning?) -> Codec? {
        guard let name = meaning?.encodingName else { return nil }
        return try? Codec.named(name)
    }
}
