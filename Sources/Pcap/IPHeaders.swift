/// IANA protocol numbers this module names.
public enum IPProtocolNumber {
    public static let hopByHopOptions: UInt8 = 0
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let ipv6Routing: UInt8 = 43
    public static let ipv6Fragment: UInt8 = 44
    public static let esp: UInt8 = 50
    public static let authenticationHeader: UInt8 = 51
    public static let icmpv6: UInt8 = 58
    public static let noNextHeader: UInt8 = 59
    public static let ipv6DestinationOptions: UInt8 = 60
    public static let mobility: UInt8 = 135
    public static let hip: UInt8 = 139
    public static let shim6: UInt8 = 140
}

/// An IPv4 header (RFC 791 §3.1).
///
/// ```
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |Version|  IHL  |Type of Service|          Total Length         |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |         Identification        |Flags|      Fragment Offset    |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |  Time to Live |    Protocol   |         Header Checksum       |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                       Source Address                          |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                    Destination Address                        |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                    Options                    |    Padding    |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// The header checksum is kept as read and not verified: captures taken on the sending host
/// routinely hold zero or stale checksums because the NIC computes them (checksum offload).
public struct IPv4Header: Hashable, Sendable {
    /// DSCP (6 bits, RFC 2474) and ECN (2 bits, RFC 3168).
    public var typeOfService: UInt8
    public var totalLength: UInt16
    public var identification: UInt16
    public var dontFragment: Bool
    public var moreFragments: Bool
    /// In 8-byte units.
    public var fragmentOffset: UInt16
    public var timeToLive: UInt8
    public var protocolNumber: UInt8
    public var headerChecksum: UInt16
    public var source: IPv4Address
    public var destination: IPv4Address
    /// Raw options and padding; a multiple of 4 bytes, at most 40.
    public var options: [UInt8]

    public init(typeOfService: UInt8 = 0, totalLength: UInt16 = 20, identification: UInt16 = 0, dontFragment: Bool = true,
                moreFragments: Bool = false, fragmentOffset: UInt16 = 0, timeToLive: UInt8 = 64,
                protocolNumber: UInt8 = IPProtocolNumber.udp, headerChecksum: UInt16 = 0,
                source: IPv4Address, destination: IPv4Address, options: [UInt8] = []) {
        precondition(options.count % 4 == 0 && options.count <= 40, "IPv4 options are 0–40 bytes in 32-bit words")
        self.typeOfService = typeOfService
        self.totalLength = totalLength
        self.identification = identification
        self.dontFragment = dontFragment
        self.moreFragments = moreFragments
        self.fragmentOffset = fragmentOffset
        self.timeToLive = timeToLive
        self.protocolNumber = protocolNumber
        self.headerChecksum = headerChecksum
        self.source = source
        self.destination = destination
        self.options = options
    }

    /// Parses the header at the start of `bytes` (which may continue with the payload).
    /// Errors: `.ipv4HeaderTooShort`, `.ipVersionMismatch`, `.ipv4HeaderLengthTooShort`,
    /// `.ipv4HeaderLengthBeyondData`, `.ipv4TotalLengthTooShort`.
    public init(parsing bytes: ArraySlice<UInt8>) throws(MalformedPacket) {
        guard bytes.count >= 20 else { throw .ipv4HeaderTooShort }
        guard bytes.u8(0) >> 4 == 4 else { throw .ipVersionMismatch }
        let headerLength = Int(bytes.u8(0) & 0x0F) * 4
        guard headerLength >= 20 else { throw .ipv4HeaderLengthTooShort }
        guard headerLength <= bytes.count else { throw .ipv4HeaderLengthBeyondData }
        typeOfService = bytes.u8(1)
        totalLength = bytes.u16(2)
        guard Int(totalLength) >= headerLength else { throw .ipv4TotalLengthTooShort }
        identification = bytes.u16(4)
        let flagsAndOffset = bytes.u16(6)
        dontFragment = flagsAndOffset & 0x4000 != 0
        moreFragments = flagsAndOffset & 0x2000 != 0
        fragmentOffset = flagsAndOffset & 0x1FFF
        timeToLive = bytes.u8(8)
        protocolNumber = bytes.u8(9)
        headerChecksum = bytes.u16(10)
        source = IPv4Address(bytes: bytes.bytes(12, 4))
        destination = IPv4Address(bytes: bytes.bytes(16, 4))
        options = Array(bytes.bytes(20, headerLength - 20))
    }

    public var headerLength: Int { 20 + options.count }
    public var encodedSize: Int { headerLength }

    /// Part of a fragmented datagram: a later fragment, or the first with More Fragments set.
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }

    /// Writes the header with `headerChecksum` as stored (see `withComputedChecksum()`).
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(0x40 | UInt8(headerLength / 4))
        buffer.append(typeOfService)
        buffer.append(u16: totalLength)
        buffer.append(u16: identification)
        buffer.append(u16: (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | (fragmentOffset & 0x1FFF))
        buffer.append(timeToLive)
        buffer.append(protocolNumber)
        buffer.append(u16: headerChecksum)
        buffer.append(contentsOf: source.bytes)
        buffer.append(contentsOf: destination.bytes)
        buffer.append(contentsOf: options)
    }

    /// The header checksum over the header with its checksum field zero (RFC 791 §3.1, RFC 1071).
    public var computedChecksum: UInt16 {
        var copy = self
        copy.headerChecksum = 0
        var bytes: [UInt8] = []
        copy.encode(into: &bytes)
        return InternetChecksum.of(bytes)
    }

    public func withComputedChecksum() -> IPv4Header {
        var copy = self
        copy.headerChecksum = computedChecksum
        return copy
    }
}

/// The fixed IPv6 header (RFC 8200 §3).
///
/// ```
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |Version| Traffic Class |           Flow Label                  |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |         Payload Length        |  Next Header  |   Hop Limit   |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                 Source Address (128 bits)                     |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |              Destination Address (128 bits)                   |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct IPv6Header: Hashable, Sendable {
    public static let encodedSize = 40

    public var trafficClass: UInt8
    /// 20 bits.
    public var flowLabel: UInt32
    public var payloadLength: UInt16
    public var nextHeader: UInt8
    public var hopLimit: UInt8
    public var source: IPv6Address
    public var destination: IPv6Address

    public init(trafficClass: UInt8 = 0, flowLabel: UInt32 = 0, payloadLength: UInt16 = 0,
                nextHeader: UInt8 = IPProtocolNumber.udp, hopLimit: UInt8 = 64, source: IPv6Address, destination: IPv6Address) {
        self.trafficClass = trafficClass
        self.flowLabel = flowLabel & 0xF_FFFF
        self.payloadLength = payloadLength
        self.nextHeader = nextHeader
        self.hopLimit = hopLimit
        self.source = source
        self.destination = destination
    }

    /// Errors: `.ipv6HeaderTooShort`, `.ipVersionMismatch`.
    public init(parsing bytes: ArraySlice<UInt8>) throws(MalformedPacket) {
        guard bytes.count >= Self.encodedSize else { throw .ipv6HeaderTooShort }
        let first = bytes.u32(0)
        guard first >> 28 == 6 else { throw .ipVersionMismatch }
        trafficClass = UInt8(truncatingIfNeeded: first >> 20)
        flowLabel = first & 0xF_FFFF
        payloadLength = bytes.u16(4)
        nextHeader = bytes.u8(6)
        hopLimit = bytes.u8(7)
        source = IPv6Address(bytes: bytes.bytes(8, 16))
        destination = IPv6Address(bytes: bytes.bytes(24, 16))
    }

    public var encodedSize: Int { Self.encodedSize }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(u32: 6 << 28 | UInt32(trafficClass) << 20 | flowLabel & 0xF_FFFF)
        buffer.append(u16: payloadLength)
        buffer.append(nextHeader)
        buffer.append(hopLimit)
        buffer.append(contentsOf: source.bytes)
        buffer.append(contentsOf: destination.bytes)
    }

    /// Where the upper-layer header starts in an IPv6 payload, after the extension headers
    /// (RFC 8200 §4).
    public struct UpperLayer: Hashable, Sendable {
        /// The upper-layer protocol (e.g. 17 for UDP, 59 when there is none).
        public var protocolNumber: UInt8
        /// Bytes of extension headers before it.
        public var offset: Int
        /// A Fragment header (§4.5) with a nonzero offset or the M flag: part of a fragmented
        /// packet. An "atomic fragment" (offset 0, M 0; RFC 6946) is not.
        public var isFragment: Bool
    }

    /// Walks the extension headers of `payload` (the bytes after the fixed header, up to the
    /// payload length) starting from `nextHeader`. Hop-by-Hop, Routing, Destination Options,
    /// Mobility, HIP and Shim6 use the generic (length + 1) × 8 form (§4.3–4.6, RFC 6275, 7401,
    /// 5533); the Fragment header is 8 bytes (§4.5); AH is (length + 2) × 4 (RFC 4302 §2.2).
    /// Stops at a fragment that is not the first, since what follows is not a header.
    /// Error: `.ipv6ExtensionHeaderBeyondPayload`.
    public static func upperLayer(of payload: ArraySlice<UInt8>, nextHeader: UInt8) throws(MalformedPacket) -> UpperLayer {
        var next = nextHeader
        var offset = 0
        var isFragment = false
        while true {
            let length: Int
            switch next {
            case IPProtocolNumber.hopByHopOptions, IPProtocolNumber.ipv6Routing, IPProtocolNumber.ipv6DestinationOptions,
                 IPProtocolNumber.mobility, IPProtocolNumber.hip, IPProtocolNumber.shim6:
                guard payload.count - offset >= 2 else { throw .ipv6ExtensionHeaderBeyondPayload }
                length = (Int(payload.u8(offset + 1)) + 1) * 8
            case IPProtocolNumber.authenticationHeader:
                guard payload.count - offset >= 2 else { throw .ipv6ExtensionHeaderBeyondPayload }
                length = (Int(payload.u8(offset + 1)) + 2) * 4
            case IPProtocolNumber.ipv6Fragment:
                guard payload.count - offset >= 8 else { throw .ipv6ExtensionHeaderBeyondPayload }
                let offsetAndFlags = payload.u16(offset + 2)
                if offsetAndFlags & 0xFFF9 != 0 {
                    // Fragment Offset (13 bits) nonzero or M set.
                    isFragment = true
                    if offsetAndFlags >> 3 != 0 {
                        return UpperLayer(protocolNumber: payload.u8(offset), offset: offset + 8, isFragment: true)
                    }
                }
                length = 8
            default:
                return UpperLayer(protocolNumber: next, offset: offset, isFragment: isFragment)
            }
            guard payload.count - offset >= length else { throw .ipv6ExtensionHeaderBeyondPayload }
            next = payload.u8(offset)
            offset += length
        }
    }
}

/// A UDP header (RFC 768).
///
/// ```
///     0      7 8     15 16    23 24    31
///    +--------+--------+--------+--------+
///    |     Source      |   Destination   |
///    |      Port       |      Port       |
///    +--------+--------+--------+--------+
///    |                 |                 |
///    |     Length      |    Checksum     |
///    +--------+--------+--------+--------+
/// ```
/// The checksum is kept as read and not verified on reading (checksum offload makes captured
/// values unreliable); `checksum(source:destination:datagram:)` computes it for writers and for
/// callers who want to check.
public struct UDPHeader: Hashable, Sendable {
    public static let encodedSize = 8

    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header plus payload, in bytes.
    public var length: UInt16
    public var checksum: UInt16

    public init(sourcePort: UInt16, destinationPort: UInt16, length: UInt16, checksum: UInt16 = 0) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
        self.checksum = checksum
    }

    /// Errors: `.udpHeaderTooShort` (fewer than 8 bytes), `.udpLengthTooShort` (Length < 8).
    /// That Length fits the IP payload is the caller's check (`PacketDecoder` makes it).
    public init(parsing bytes: ArraySlice<UInt8>) throws(MalformedPacket) {
        guard bytes.count >= Self.encodedSize else { throw .udpHeaderTooShort }
        sourcePort = bytes.u16(0)
        destinationPort = bytes.u16(2)
        length = bytes.u16(4)
        checksum = bytes.u16(6)
        guard length >= 8 else { throw .udpLengthTooShort }
    }

    public var encodedSize: Int { Self.encodedSize }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(u16: sourcePort)
        buffer.append(u16: destinationPort)
        buffer.append(u16: length)
        buffer.append(u16: checksum)
    }

    /// The UDP checksum of `datagram` (header with its checksum field zero, then payload) under
    /// the pseudo-header of RFC 768 (IPv4: addresses, zero, protocol, UDP length) or RFC 8200
    /// §8.1 (IPv6: addresses, 32-bit length, three zero bytes, next header). A computed 0 is
    /// sent as 0xFFFF (RFC 768; 0 means "no checksum", which IPv6 forbids).
    public static func checksum(source: IPAddress, destination: IPAddress, datagram: some Collection<UInt8>) -> UInt16 {
        var sum = InternetChecksum()
        sum.add(source.bytes)
        sum.add(destination.bytes)
        let length = UInt32(datagram.count)
        if source.isIPv6 {
            sum.add(UInt16(truncatingIfNeeded: length >> 16))
            sum.add(UInt16(truncatingIfNeeded: length))
            sum.add(UInt16(IPProtocolNumber.udp))
        } else {
            sum.add(UInt16(IPProtocolNumber.udp))
            sum.add(UInt16(truncatingIfNeeded: length))
        }
        sum.add(datagram)
        let value = sum.value
        return value == 0 ? 0xFFFF : value
    }
}
