// Link-layer headers in front of the IP packet, per LINKTYPE (tcpdump.org/linktypes.html).

/// EtherType values this module recognises (IEEE registry).
public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let ipv6: UInt16 = 0x86DD
    /// IEEE 802.1Q customer VLAN tag.
    public static let vlan: UInt16 = 0x8100
    /// IEEE 802.1ad service VLAN tag (the outer tag of Q-in-Q).
    public static let serviceVLAN: UInt16 = 0x88A8
    /// Pre-standard Q-in-Q outer tag, still seen on older switches.
    public static let legacyQinQ: UInt16 = 0x9100

    static func isVLANTag(_ type: UInt16) -> Bool { type == vlan || type == serviceVLAN || type == legacyQinQ }
}

/// One 802.1Q / 802.1ad tag: its TPID and Tag Control Information.
public struct VLANTag: Hashable, Sendable {
    /// 0x8100, 0x88A8 or 0x9100.
    public var protocolID: UInt16
    /// PCP (3 bits), DEI (1 bit), VID (12 bits).
    public var controlInformation: UInt16

    public init(protocolID: UInt16 = EtherType.vlan, vlanID: UInt16, priority: UInt8 = 0) {
        self.protocolID = protocolID
        controlInformation = UInt16(priority & 0x7) << 13 | (vlanID & 0x0FFF)
    }

    public var vlanID: UInt16 { controlInformation & 0x0FFF }
    public var priority: UInt8 { UInt8(controlInformation >> 13) }
}

/// An Ethernet II header (LINKTYPE_ETHERNET), with any number of VLAN tags.
///
/// ```
///  0 |                  Destination MAC (6 bytes)                    |
///  6 |                    Source MAC (6 bytes)                       |
/// 12 | [TPID 0x8100 / 0x88A8 / 0x9100 (2) | TCI (2)] …   repeated    |
///    |          EtherType            |
/// ```
/// The 4-byte FCS some captures keep at the end is not part of the header; the IP total
/// length tells where the packet ends, so trailing FCS and padding are ignored.
public struct EthernetHeader: Hashable, Sendable {
    public var destination: [UInt8]
    public var source: [UInt8]
    /// Outermost first.
    public var vlanTags: [VLANTag]
    public var etherType: UInt16

    public static let defaultDestination: [UInt8] = [0x02, 0, 0, 0, 0, 0x02]
    public static let defaultSource: [UInt8] = [0x02, 0, 0, 0, 0, 0x01]

    /// Default addresses are locally administered (0x02 prefix), so they can never be a real card's.
    public init(destination: [UInt8] = EthernetHeader.defaultDestination, source: [UInt8] = EthernetHeader.defaultSource,
                vlanTags: [VLANTag] = [], etherType: UInt16) {
        precondition(destination.count == 6 && source.count == 6, "MAC addresses are 6 bytes")
        self.destination = destination
        self.source = source
        self.vlanTags = vlanTags
        self.etherType = etherType
    }

    /// Error: `.linkHeaderTooShort` when the frame ends inside the header or its tags.
    public init(parsing bytes: ArraySlice<UInt8>) throws(MalformedPacket) {
        guard bytes.count >= 14 else { throw .linkHeaderTooShort }
        destination = Array(bytes.bytes(0, 6))
        source = Array(bytes.bytes(6, 6))
        vlanTags = []
        var position = 12
        var type = bytes.u16(position)
        while EtherType.isVLANTag(type) {
            guard bytes.count >= position + 8 else { throw .linkHeaderTooShort }
            vlanTags.append(VLANTag(rawProtocolID: type, controlInformation: bytes.u16(position + 2)))
            position += 4
            type = bytes.u16(position)
        }
        etherType = type
    }

    public var encodedSize: Int { 14 + 4 * vlanTags.count }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: destination)
        buffer.append(contentsOf: source)
        for tag in vlanTags {
            buffer.append(u16: tag.protocolID)
            buffer.append(u16: tag.controlInformation)
        }
        buffer.append(u16: etherType)
    }
}

extension VLANTag {
    init(rawProtocolID: UInt16, controlInformation: UInt16) {
        protocolID = rawProtocolID
        self.controlInformation = controlInformation
    }
}

/// Linux "cooked" capture header v1 (LINKTYPE_LINUX_SLL), 16 bytes, all big-endian.
///
/// ```
///  0 |          Packet type          |        ARPHRD_ type           |
///  4 |   Link-layer address length   |                               |
///  8 |          Link-layer address (8 bytes, zero-padded)            |
/// 12 |                               |         Protocol type         |
/// ```
public struct LinuxSLLHeader: Hashable, Sendable {
    public static let encodedSize = 16

    /// 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
    public var packetType: UInt16
    /// ARPHRD_ETHER 1, ARPHRD_LOOPBACK 772, …
    public var addressType: UInt16
    /// The meaningful part of the 8-byte address field (at most 8 bytes).
    public var address: [UInt8]
    /// An EtherType for the usual ARPHRD types.
    public var protocolType: UInt16

    public init(packetType: UInt16 = 0, addressType: UInt16 = 772, address: [UInt8] = [0, 0, 0, 0, 0, 0], protocolType: UInt16) {
        precondition(address.count <= 8, "the SLL address field holds 8 bytes")
        self.packetType = packetType
        self.addressType = addressType
        self.address = address
        self.protocolType = protocolType
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws(MalformedPacket) {
        guard bytes.count >= Self.encodedSize else { throw .linkHeaderTooShort }
        packetType = bytes.u16(0)
        addressType = bytes.u16(2)
        address = Array(bytes.bytes(6, min(8, Int(bytes.u16(4)))))
        protocolType = bytes.u16(14)
    }

    public var encodedSize: Int { Self.encodedSize }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(u16: packetType)
        buffer.append(u16: addressType)
        buffer.append(u16: UInt16(address.count))
        buffer.append(contentsOf: address + Array(repeating: 0, count: 8 - address.count))
        buffer.append(u16: protocolType)
    }
}

/// Linux "cooked" capture header v2 (LINKTYPE_LINUX_SLL2), 20 bytes, all big-endian.
///
/// ```
///  0 |         Protocol type         |           Reserved            |
///  4 |                        Interface index                        |
///  8 |        ARPHRD_ type           |  Packet type  | Address length|
/// 12 |          Link-layer address (8 bytes, zero-padded)            |
/// ```
public struct LinuxSLL2Header: Hashable, Sendable {
    public static let encodedSize = 20

    public var protocolType: UInt16
    public var interfaceIndex: UInt32
    public var addressType: UInt16
    /// As in `LinuxSLLHeader.packetType`.
    public var packetType: UInt8
    public var address: [UInt8]

    public init(protocolType: UInt16, interfaceIndex: UInt32 = 1, addressType: UInt16 = 772, packetType: UInt8 = 0,
                address: [UInt8] = [0, 0, 0, 0, 0, 0]) {
        precondition(address.count <= 8, "the SLL2 address field holds 8 bytes")
        self.protocolType = protocolType
        self.interfaceIndex = interfaceIndex
        self.addressType = addressType
        self.packetType = packetType
        self.address = address
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws(MalformedPacket) {
        guard bytes.count >= Self.encodedSize else { throw .linkHeaderTooShort }
        protocolType = bytes.u16(0)
        interfaceIndex = bytes.u32(4)
        addressType = bytes.u16(8)
        packetType = bytes.u8(10)
        address = Array(bytes.bytes(12, min(8, Int(bytes.u8(11)))))
    }

    public var encodedSize: Int { Self.encodedSize }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(u16: protocolType)
        buffer.append(u16: 0)
        buffer.append(u32: interfaceIndex)
        buffer.append(u16: addressType)
        buffer.append(packetType)
        buffer.append(UInt8(address.count))
        buffer.append(contentsOf: address + Array(repeating: 0, count: 8 - address.count))
    }
}

/// The 4-byte address-family header of BSD loopback captures: LINKTYPE_NULL (in the capturing
/// host's byte order) and LINKTYPE_LOOP (always network order).
public struct LoopbackHeader: Hashable, Sendable {
    public static let encodedSize = 4

    /// AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (Darwin).
    public var family: UInt32

    public static let familyIPv4: UInt32 = 2
    public static let familiesIPv6: Set<UInt32> = [24, 28, 30]

    public init(family: UInt32) { self.family = family }

    /// For LINKTYPE_NULL pass the capture's byte order. A value with any of its upper 16 bits set
    /// cannot be an address family, so it is read the other way round — what Wireshark does for
    /// files whose header and packets came from hosts of different byte order.
    public init(parsing bytes: ArraySlice<UInt8>, byteOrder: ByteOrder) throws(MalformedPacket) {
        guard bytes.count >= Self.encodedSize else { throw .linkHeaderTooShort }
        var family = bytes.u32(0, byteOrder)
        if family > 0xFFFF { family = bytes.u32(0, byteOrder.swapped) }
        self.family = family
    }

    public var encodedSize: Int { Self.encodedSize }

    public func encode(into buffer: inout [UInt8], byteOrder: ByteOrder) {
        buffer.append(u32: family, byteOrder)
    }
}
