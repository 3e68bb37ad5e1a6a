/// Why an RTCP datagram or packet was rejected.
///
/// Callers compare against the static values (`error == .reportCountExceedsLength`); new reasons
/// can be added without breaking anyone. The compound-level reasons are the RFC 3550 A.2
/// validity checks; the others are lengths inside one packet that do not add up.
public struct RTCPError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case truncatedHeader
        case unsupportedVersion
        case lengthBeyondDatagram
        case lengthMismatch
        case wrongPacketType
        case paddingCountZero
        case paddingBeyondPacket
        case paddingNotMultipleOfFour
        case paddingNotOnLastPacket
        case firstPacketNotReport
        case packetTooShort
        case reportCountExceedsLength
        case sdesChunkOverrun
        case sdesChunkCountMismatch
        case sdesPrivatePrefixOverrun
        case byeSourceCountExceedsLength
        case byeReasonOverrun
        case xrBlockBeyondPacket
        case xrBlockLengthInvalid
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// Fewer than the 4 octets of a common header where a packet should start (RFC 3550 §6.4.1).
    public static let truncatedHeader = RTCPError(.truncatedHeader)
    /// A packet whose version field is not 2 (RFC 3550 A.2).
    public static let unsupportedVersion = RTCPError(.unsupportedVersion)
    /// A length field announcing more words than the rest of the datagram holds (RFC 3550 A.2:
    /// the lengths must add up to the datagram).
    public static let lengthBeyondDatagram = RTCPError(.lengthBeyondDatagram)
    /// Bytes handed to a single-packet decoder are longer than the packet's length field says.
    public static let lengthMismatch = RTCPError(.lengthMismatch)
    /// A typed decoder (`RTCPSenderReport(parsing:)`, ...) was given another packet type.
    public static let wrongPacketType = RTCPError(.wrongPacketType)
    /// The P bit is set but the padding count octet is 0 (RFC 3550 §6.4.1: the count includes itself).
    public static let paddingCountZero = RTCPError(.paddingCountZero)
    /// The padding count is larger than the packet after its header.
    public static let paddingBeyondPacket = RTCPError(.paddingBeyondPacket)
    /// RFC 3550 §6.4.1: the padding count "will be a multiple of four"; every RTCP structure is
    /// word-aligned, so any other count leaves a misaligned packet.
    public static let paddingNotMultipleOfFour = RTCPError(.paddingNotMultipleOfFour)
    /// The P bit is set on a packet other than the last of a compound (RFC 3550 §6.4.1, A.2:
    /// padding is only applied to the last packet).
    public static let paddingNotOnLastPacket = RTCPError(.paddingNotOnLastPacket)
    /// The first packet is neither SR nor RR (RFC 3550 §6.1, A.2), and reduced-size RTCP
    /// (RFC 5506) was not allowed by the caller.
    public static let firstPacketNotReport = RTCPError(.firstPacketNotReport)
    /// A packet shorter than the fixed part of its type: SR sender info (24 octets), the SSRC of
    /// an RR or XR (4), the SSRC and name of an APP (8).
    public static let packetTooShort = RTCPError(.packetTooShort)
    /// An SR or RR whose report count × 24 octets does not fit in its length (RFC 3550 §6.4).
    public static let reportCountExceedsLength = RTCPError(.reportCountExceedsLength)
    /// An SDES chunk or item runs past the end of the packet, or its item list is not terminated
    /// by a null octet (RFC 3550 §6.5).
    public static let sdesChunkOverrun = RTCPError(.sdesChunkOverrun)
    /// Octets remain after the SC chunks of an SDES packet, or its SC says more chunks than
    /// there are (RFC 3550 §6.5).
    public static let sdesChunkCountMismatch = RTCPError(.sdesChunkCountMismatch)
    /// A PRIV item whose prefix length octet is missing or points past the item (RFC 3550 §6.5.8).
    public static let sdesPrivatePrefixOverrun = RTCPError(.sdesPrivatePrefixOverrun)
    /// A BYE whose source count × 4 octets does not fit in its length (RFC 3550 §6.6).
    public static let byeSourceCountExceedsLength = RTCPError(.byeSourceCountExceedsLength)
    /// A BYE reason whose length octet points past the packet (RFC 3550 §6.6).
    public static let byeReasonOverrun = RTCPError(.byeReasonOverrun)
    /// An XR report block whose header or block length runs past the packet (RFC 3611 §3).
    public static let xrBlockBeyondPacket = RTCPError(.xrBlockBeyondPacket)
    /// An XR block of a fixed-size type with another length: Receiver Reference Time must be 2,
    /// VoIP Metrics 8, DLRR a multiple of 3 (RFC 3611 §4.4, §4.5, §4.7).
    public static let xrBlockLengthInvalid = RTCPError(.xrBlockLengthInvalid)

    public var description: String {
        switch code {
        case .truncatedHeader: "RTCP packet shorter than its 4-octet header"
        case .unsupportedVersion: "RTCP version is not 2"
        case .lengthBeyondDatagram: "RTCP length field runs past the end of the datagram"
        case .lengthMismatch: "RTCP bytes longer than the packet's length field"
        case .wrongPacketType: "RTCP packet is not of the expected type"
        case .paddingCountZero: "RTCP padding bit set but padding count is 0"
        case .paddingBeyondPacket: "RTCP padding count exceeds the packet"
        case .paddingNotMultipleOfFour: "RTCP padding count is not a multiple of four"
        case .paddingNotOnLastPacket: "RTCP padding bit set on a packet that is not the last of the compound"
        case .firstPacketNotReport: "RTCP compound packet does not start with SR or RR"
        case .packetTooShort: "RTCP packet shorter than the fixed part of its type"
        case .reportCountExceedsLength: "RTCP report count exceeds the packet length"
        case .sdesChunkOverrun: "RTCP SDES chunk runs past the end of the packet"
        case .sdesChunkCountMismatch: "RTCP SDES source count does not match the chunks present"
        case .sdesPrivatePrefixOverrun: "RTCP SDES PRIV prefix runs past the item"
        case .byeSourceCountExceedsLength: "RTCP BYE source count exceeds the packet length"
        case .byeReasonOverrun: "RTCP BYE reason runs past the end of the packet"
        case .xrBlockBeyondPacket: "RTCP XR report block runs past the end of the packet"
        case .xrBlockLengthInvalid: "RTCP XR report block length is invalid for its type"
        }
    }
}
