/// Why a captured packet is not a usable UDP datagram although it claimed to be IP.
///
/// Cases carry no values so that `CaptureTally` can count by case. The "…BeyondData" and
/// "…TooShort" cases about captured bytes become `SetAsideReason.truncated` instead when the
/// capture's snap length cut the packet (`CapturedPacket.isCutShort`): the packet was fine on
/// the wire, only the file kept too little of it.
public enum MalformedPacket: Error, Hashable, Sendable, CustomStringConvertible {
    /// The frame ends inside its link-layer header (or its VLAN tags).
    case linkHeaderTooShort
    /// The IP version nibble contradicts what the link layer announced (e.g. LINKTYPE_IPV4 with version 6).
    case ipVersionMismatch
    /// Fewer than 20 bytes where an IPv4 header should be.
    case ipv4HeaderTooShort
    /// IHL below 5 (RFC 791 §3.1: the minimum header is five 32-bit words).
    case ipv4HeaderLengthTooShort
    /// IHL × 4 reaches past the captured bytes.
    case ipv4HeaderLengthBeyondData
    /// Total Length smaller than the header length.
    case ipv4TotalLengthTooShort
    /// Total Length (IPv4) or 40 + Payload Length (IPv6) reaches past the captured bytes.
    case ipLengthBeyondData
    /// Fewer than 40 bytes where an IPv6 header should be.
    case ipv6HeaderTooShort
    /// An IPv6 extension header runs past the payload length.
    case ipv6ExtensionHeaderBeyondPayload
    /// The IP payload is shorter than the 8-byte UDP header.
    case udpHeaderTooShort
    /// The UDP Length field is below 8 (RFC 768: it counts the header).
    case udpLengthTooShort
    /// The UDP Length field exceeds the IP payload.
    case udpLengthBeyondIPPayload

    /// Whether this says "the captured bytes end too early" (vs. a field that contradicts the packet itself).
    public var isShortOfData: Bool {
        switch self {
        case .linkHeaderTooShort, .ipv4HeaderTooShort, .ipv4HeaderLengthBeyondData, .ipLengthBeyondData, .ipv6HeaderTooShort: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .linkHeaderTooShort: "link-layer header cut short"
        case .ipVersionMismatch: "IP version does not match the link layer"
        case .ipv4HeaderTooShort: "IPv4 header cut short"
        case .ipv4HeaderLengthTooShort: "IPv4 IHL below 5"
        case .ipv4HeaderLengthBeyondData: "IPv4 header length beyond the captured data"
        case .ipv4TotalLengthTooShort: "IPv4 total length below the header length"
        case .ipLengthBeyondData: "IP length beyond the captured data"
        case .ipv6HeaderTooShort: "IPv6 header cut short"
        case .ipv6ExtensionHeaderBeyondPayload: "IPv6 extension header beyond the payload"
        case .udpHeaderTooShort: "UDP header cut short"
        case .udpLengthTooShort: "UDP length below 8"
        case .udpLengthBeyondIPPayload: "UDP length beyond the IP payload"
        }
    }
}
