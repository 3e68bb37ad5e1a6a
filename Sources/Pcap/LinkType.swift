/// A capture's link-layer header type: the LINKTYPE_ registry value stored in the classic pcap
/// header and in each pcapng Interface Description Block (tcpdump.org/linktypes.html).
///
/// A struct with static members, not an enum: captures carry hundreds of link types and the
/// reader must represent the ones it does not decode.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// LINKTYPE_NULL (0): BSD loopback; a 4-byte address family in the *capturing host's* byte order.
    public static let null = LinkType(rawValue: 0)
    /// LINKTYPE_ETHERNET (1): IEEE 802.3 Ethernet, possibly with 802.1Q / 802.1ad tags.
    public static let ethernet = LinkType(rawValue: 1)
    /// LINKTYPE_RAW (101): a bare IPv4 or IPv6 packet; the version nibble tells which.
    public static let raw = LinkType(rawValue: 101)
    /// LINKTYPE_LOOP (108): OpenBSD loopback; a 4-byte address family in network byte order.
    public static let loop = LinkType(rawValue: 108)
    /// LINKTYPE_LINUX_SLL (113): Linux "cooked" capture v1 (16-byte header), e.g. `tcpdump -i any`.
    public static let linuxSLL = LinkType(rawValue: 113)
    /// LINKTYPE_IPV4 (228): a bare IPv4 packet.
    public static let ipv4 = LinkType(rawValue: 228)
    /// LINKTYPE_IPV6 (229): a bare IPv6 packet.
    public static let ipv6 = LinkType(rawValue: 229)
    /// LINKTYPE_LINUX_SLL2 (276): Linux "cooked" capture v2 (20-byte header).
    public static let linuxSLL2 = LinkType(rawValue: 276)

    /// Whether `PacketDecoder` understands this link layer.
    public var isSupported: Bool {
        [.null, .ethernet, .raw, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2].contains(self)
    }

    public var description: String {
        switch self {
        case .null: "NULL"
        case .ethernet: "ETHERNET"
        case .raw: "RAW"
        case .loop: "LOOP"
        case .linuxSLL: "LINUX_SLL"
        case .ipv4: "IPV4"
        case .ipv6: "IPV6"
        case .linuxSLL2: "LINUX_SLL2"
        default: "LINKTYPE_\(rawValue)"
        }
    }
}
