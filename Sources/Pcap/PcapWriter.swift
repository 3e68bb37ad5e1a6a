/// Writes a classic pcap capture into memory (the caller stores the bytes): the file header at
/// creation, then one record per packet. Made for synthetic captures with known content.
///
/// A frame longer than the snap length is cut to it, with its original length kept, exactly
/// as a capturing tool would — so tests can produce snapped captures.
public struct PcapWriter: Sendable {
    public let header: PcapFileHeader
    public private(set) var bytes: [UInt8] = []
    public private(set) var packetCount = 0

    public init(linkType: LinkType = .ethernet, precision: PcapTimestampPrecision = .microseconds,
                byteOrder: ByteOrder = .little, snapLength: UInt32 = 262_144) {
        header = PcapFileHeader(byteOrder: byteOrder, precision: precision, snapLength: snapLength, linkType: linkType)
        header.encode(into: &bytes)
    }

    /// One packet, `frame` starting with the link-layer header; `originalLength` (at least
    /// `frame.count`) says how long it was on the wire. Microsecond files truncate the timestamp
    /// to the microsecond.
    public mutating func write(frame: some Collection<UInt8>, at timestamp: CaptureTimestamp, originalLength: Int? = nil) throws(PcapWriterError) {
        guard let seconds = UInt32(exactly: timestamp.seconds) else { throw .timestampOutOfRange(timestamp) }
        let original = max(originalLength ?? 0, frame.count)
        guard let originalLength = UInt32(exactly: original) else { throw .frameTooLarge(original) }
        let captured = header.snapLength == 0 ? frame.count : min(frame.count, Int(header.snapLength))
        PcapRecordHeader(seconds: seconds, fraction: timestamp.nanoseconds / header.precision.nanosecondsPerUnit,
                         capturedLength: UInt32(captured), originalLength: originalLength)
            .encode(into: &bytes, byteOrder: header.byteOrder)
        bytes.append(contentsOf: frame.prefix(captured))
        packetCount += 1
    }

    /// One UDP datagram in an IPv4/IPv6 packet behind this file's link-layer header.
    public mutating func writeUDP(from source: IPEndpoint, to destination: IPEndpoint, payload: some Collection<UInt8>,
                                  at timestamp: CaptureTimestamp, options: UDPPacketOptions = .init()) throws(PcapWriterError) {
        let frame = try PacketBuilder.udpFrame(from: source, to: destination, payload: payload, linkType: header.linkType,
                                               byteOrder: header.byteOrder, options: options)
        try write(frame: frame, at: timestamp)
    }

    /// The bytes written since the last call — for streaming a long synthetic capture out.
    public mutating func takeBytes() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }
}

/// Writes a minimal pcapng capture into memory: one Section Header Block, an Interface
/// Description Block per interface (with `if_name`, `if_tsresol` and `if_tsoffset` when they
/// differ from the defaults), then an Enhanced Packet Block per packet.
public struct PcapNGWriter: Sendable {
    public let byteOrder: ByteOrder
    public let interfaces: [CaptureInterface]
    public private(set) var bytes: [UInt8] = []
    public private(set) var packetCount = 0

    /// Interfaces whose resolution `CaptureReader` could not read back (10^-n, n > 38) are a
    /// programming error.
    public init(interfaces: [CaptureInterface] = [CaptureInterface(linkType: .ethernet, snapLength: 262_144)],
                byteOrder: ByteOrder = .little) {
        precondition(interfaces.allSatisfy(\.resolution.isSupported), "unsupported if_tsresol")
        self.byteOrder = byteOrder
        self.interfaces = interfaces
        SectionHeaderBlock(byteOrder: byteOrder).encode(into: &bytes)
        for interface in interfaces {
            var options: [PcapNGOption] = []
            if let name = interface.name { options.append(PcapNGOption(code: PcapNGOption.interfaceName, value: Array(name.utf8))) }
            if interface.resolution != .microseconds {
                options.append(PcapNGOption(code: PcapNGOption.interfaceTimestampResolution, value: [interface.resolution.rawValue]))
            }
            if interface.offsetSeconds != 0 {
                var value: [UInt8] = []
                value.append(u64: UInt64(bitPattern: interface.offsetSeconds), byteOrder)
                options.append(PcapNGOption(code: PcapNGOption.interfaceTimestampOffset, value: value))
            }
            InterfaceDescriptionBlock(linkType: interface.linkType, snapLength: interface.snapLength, options: options)
                .encode(into: &bytes, byteOrder: byteOrder)
        }
    }

    /// One packet on `interface`, cut to its snap length; the timestamp is converted to the
    /// interface's resolution (see `TimestampResolution` for rounding).
    public mutating func write(frame: some Collection<UInt8>, interface index: Int = 0, at timestamp: CaptureTimestamp,
                               originalLength: Int? = nil) throws(PcapWriterError) {
        guard interfaces.indices.contains(index) else { throw .unknownInterface(index) }
        let interface = interfaces[index]
        guard let units = interface.resolution.units(of: timestamp, offsetSeconds: interface.offsetSeconds) else {
            throw .timestampOutOfRange(timestamp)
        }
        let original = max(originalLength ?? 0, frame.count)
        guard let originalLength = UInt32(exactly: original) else { throw .frameTooLarge(original) }
        let captured = interface.snapLength == 0 ? frame.count : min(frame.count, Int(interface.snapLength))
        EnhancedPacketBlock(interfaceID: UInt32(index), timestampUnits: units, originalLength: originalLength,
                            data: Array(frame.prefix(captured)))
            .encode(into: &bytes, byteOrder: byteOrder)
        packetCount += 1
    }

    public mutating func writeUDP(from source: IPEndpoint, to destination: IPEndpoint, payload: some Collection<UInt8>,
                                  interface index: Int = 0, at timestamp: CaptureTimestamp,
                                  options: UDPPacketOptions = .init()) throws(PcapWriterError) {
        guard interfaces.indices.contains(index) else { throw .unknownInterface(index) }
        let frame = try PacketBuilder.udpFrame(from: source, to: destination, payload: payload,
                                               linkType: interfaces[index].linkType, byteOrder: byteOrder, options: options)
        try write(frame: frame, interface: index, at: timestamp)
    }

    public mutating func takeBytes() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }
}
