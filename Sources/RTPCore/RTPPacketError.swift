/// Why an RTP datagram (or an RFC 8285 header-extension block) was rejected.
///
/// Callers compare against the static values (`error == .paddingCountZero`); new reasons can be
/// added without breaking anyone. Each reason corresponds to one RFC 3550 A.1 validity check or
/// to a length that points past the end of the datagram.
public struct RTPError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case truncatedFixedHeader
        case unsupportedVersion
        case payloadTypeConflictsWithRTCP
        case csrcCountBeyondPacket
        case headerExtensionBeyondPacket
        case paddingCountZero
        case paddingBeyondPayload
        case notAnRFC8285Extension
        case extensionElementBeyondData
        case extensionElementMalformed
        case extensionElementIDOutOfRange
        case extensionElementLengthOutOfRange
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// Fewer than the 12 octets of the fixed header (RFC 3550 §5.1).
    public static let truncatedFixedHeader = RTPError(.truncatedFixedHeader)
    /// The version field is not 2 (RFC 3550 A.1: "RTP version field must equal 2").
    public static let unsupportedVersion = RTPError(.unsupportedVersion)
    /// Payload type 72–76: with the marker bit these octets read as RTCP SR, RR, SDES, BYE or APP
    /// (200–204), so the datagram is RTCP sent to the RTP port or a misconfigured sender
    /// (RFC 3550 A.1 "must not be equal to SR or RR"; RFC 5761 §4 for the whole 72–76 range).
    public static let payloadTypeConflictsWithRTCP = RTPError(.payloadTypeConflictsWithRTCP)
    /// The CC field announces more CSRC identifiers than the datagram holds (RFC 3550 §5.1).
    public static let csrcCountBeyondPacket = RTPError(.csrcCountBeyondPacket)
    /// The X bit is set but the extension header, or the number of words its length field
    /// announces, does not fit in the datagram (RFC 3550 §5.3.1).
    public static let headerExtensionBeyondPacket = RTPError(.headerExtensionBeyondPacket)
    /// The P bit is set but the last octet, the padding count, is zero; the count includes itself,
    /// so it is at least one (RFC 3550 §5.1).
    public static let paddingCountZero = RTPError(.paddingCountZero)
    /// The padding count is larger than what follows the headers (RFC 3550 A.1: the count must be
    /// less than the packet length minus the header size).
    public static let paddingBeyondPayload = RTPError(.paddingBeyondPayload)
    /// The extension's profile is neither 0xBEDE (one-byte form) nor 0x100X (two-byte form), so
    /// it does not hold RFC 8285 elements.
    public static let notAnRFC8285Extension = RTPError(.notAnRFC8285Extension)
    /// An RFC 8285 element's length runs past the end of the extension data (§4.2, §4.3).
    public static let extensionElementBeyondData = RTPError(.extensionElementBeyondData)
    /// A one-byte-form element with ID 0 and a non-zero length: ID 0 is only padding (RFC 8285 §4.2).
    public static let extensionElementMalformed = RTPError(.extensionElementMalformed)
    /// Building an element with an ID the form cannot carry: 1–14 one-byte, 1–255 two-byte (RFC 8285 §4.2, §4.3).
    public static let extensionElementIDOutOfRange = RTPError(.extensionElementIDOutOfRange)
    /// Building an element whose data the form cannot carry: 1–16 octets one-byte, 0–255 two-byte.
    public static let extensionElementLengthOutOfRange = RTPError(.extensionElementLengthOutOfRange)

    public var description: String {
        switch code {
        case .truncatedFixedHeader: "RTP packet shorter than the 12-octet fixed header"
        case .unsupportedVersion: "RTP version is not 2"
        case .payloadTypeConflictsWithRTCP: "RTP payload type 72-76 collides with RTCP packet types 200-204"
        case .csrcCountBeyondPacket: "RTP CSRC count runs past the end of the packet"
        case .headerExtensionBeyondPacket: "RTP header extension runs past the end of the packet"
        case .paddingCountZero: "RTP padding bit set but padding count is 0"
        case .paddingBeyondPayload: "RTP padding count exceeds the octets after the header"
        case .notAnRFC8285Extension: "RTP header extension profile is not RFC 8285 one-byte or two-byte"
        case .extensionElementBeyondData: "RFC 8285 extension element runs past the extension data"
        case .extensionElementMalformed: "RFC 8285 one-byte element with ID 0 and non-zero length"
        case .extensionElementIDOutOfRange: "RFC 8285 extension element ID out of range for its form"
        case .extensionElementLengthOutOfRange: "RFC 8285 extension element length out of range for its form"
        }
    }
}
