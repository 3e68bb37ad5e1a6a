/// One packet record of a capture file, before any protocol decoding.
public struct CapturedPacket: Hashable, Sendable {
    /// 1-based position among the file's packets — Wireshark's `frame.number`, except that
    /// Wireshark also numbers unknown and custom pcapng blocks as frames of their own.
    public var number: Int
    /// Nil only for pcapng Simple Packet Blocks, which carry no timestamp.
    public var timestamp: CaptureTimestamp?
    /// 0-based pcapng section (always 0 for classic pcap).
    public var sectionIndex: Int
    /// 0-based interface within the section (always 0 for classic pcap).
    public var interfaceIndex: Int
    public var linkType: LinkType
    /// The byte order of the file (classic) or section (pcapng): the capturing host's, which
    /// `LinkType.null` headers are written in.
    public var byteOrder: ByteOrder
    /// The packet's length on the wire; more than `data.count` when the snap length cut it.
    public var originalLength: Int
    /// The captured bytes, starting with the link-layer header.
    public var data: [UInt8]

    public init(number: Int, timestamp: CaptureTimestamp?, sectionIndex: Int = 0, interfaceIndex: Int = 0,
                linkType: LinkType, byteOrder: ByteOrder = .little, originalLength: Int? = nil, data: [UInt8]) {
        self.number = number
        self.timestamp = timestamp
        self.sectionIndex = sectionIndex
        self.interfaceIndex = interfaceIndex
        self.linkType = linkType
        self.byteOrder = byteOrder
        self.originalLength = originalLength ?? data.count
        self.data = data
    }

    /// Whether the capture kept fewer bytes than the wire carried (snap length), so a length
    /// field pointing past `data` means "cut off", not "malformed".
    public var isCutShort: Bool { data.count < originalLength }
}

/// A capture interface: classic pcap has one, described by its file header; a pcapng section
/// has one per Interface Description Block.
public struct CaptureInterface: Hashable, Sendable {
    public var linkType: LinkType
    /// 0 means no limit.
    public var snapLength: UInt32
    public var resolution: TimestampResolution
    /// `if_tsoffset`: seconds added to every timestamp of the interface.
    public var offsetSeconds: Int64
    /// `if_name`, when the file names the interface.
    public var name: String?

    public init(linkType: LinkType, snapLength: UInt32, resolution: TimestampResolution = .microseconds,
                offsetSeconds: Int64 = 0, name: String? = nil) {
        self.linkType = linkType
        self.snapLength = snapLength
        self.resolution = resolution
        self.offsetSeconds = offsetSeconds
        self.name = name
    }
}

public enum CaptureFormat: Hashable, Sendable {
    case pcap
    case pcapng
}

/// The last record of the input, cut short: the file ended inside it (typically a capture
/// killed while writing). The reader stops cleanly before it and records it here.
public struct TruncatedRecord: Hashable, Sendable {
    /// File offset where the record (classic record header or pcapng block) starts.
    public var offset: Int
    /// Bytes of it the input holds.
    public var availableBytes: Int
    /// Bytes it needs — as far as the reader could tell from the part it has (at least the
    /// header size when the header itself is cut).
    public var neededBytes: Int

    public init(offset: Int, availableBytes: Int, neededBytes: Int) {
        self.offset = offset
        self.availableBytes = availableBytes
        self.neededBytes = neededBytes
    }
}

/// Reads the packet records of a classic pcap or pcapng capture, incrementally.
///
/// The reader owns no file: the caller feeds bytes with `append(_:)` as they come (a chunk of a
/// large file, a pipe), takes packets with `next()` until it returns nil, and repeats; after the
/// last chunk it calls `finish()` and drains `next()` once more. The reader keeps only the
/// bytes of the record in progress (plus the unread part of the last chunk), so a multi-GB file
/// streams through in constant memory:
///
/// ```swift
/// var reader = CaptureReader()
/// while let chunk = readChunk() {               // e.g. 1 MiB at a time
///     reader.append(chunk)
///     while let packet = try reader.next() { handle(packet) }
/// }
/// reader.finish()
/// while let packet = try reader.next() { handle(packet) }
/// ```
///
/// `CaptureReader(bytes:)` does the same for input already in memory.
///
/// **End of input.** The first bytes must hold a whole file header (else `.emptyInput` /
/// `.truncatedFileHeader`). A record the input ends inside is *not* an error: reading stops
/// cleanly before it and `truncatedRecord` describes it — captures cut short by a killed
/// tcpdump are routine, and the packets before the cut are good.
///
/// **Errors** (`PcapError`) are faults in the file's structure; they are sticky: once `next()`
/// has thrown, it throws the same error again. Packets that are not well-formed UDP are no
/// concern of this type (see `PacketDecoder`).
public struct CaptureReader: Sendable {
    /// Bounds on lengths read from the file, so a corrupt length is an error at once instead of
    /// an endless wait for (and buffering of) bytes that will never come.
    public struct Limits: Hashable, Sendable {
        /// Largest captured packet accepted. Default 262 144, Wireshark's limit for Ethernet.
        public var maximumPacketLength: Int
        /// Largest pcapng block accepted. Default 16 MiB.
        public var maximumBlockLength: Int

        public init(maximumPacketLength: Int = 262_144, maximumBlockLength: Int = 16 << 20) {
            self.maximumPacketLength = maximumPacketLength
            self.maximumBlockLength = maximumBlockLength
        }
    }

    private struct Section: Sendable {
        var byteOrder: ByteOrder
        var index: Int
        var interfaces: [CaptureInterface] = []
    }

    private enum Mode: Sendable {
        case detecting
        case classic(PcapFileHeader)
        case pcapng(Section?)
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    private var position = 0
    /// File offset of `buffer[0]`.
    private var bufferOffset = 0
    private var mode = Mode.detecting
    private var failure: PcapError?

    /// Whether `finish()` was called: no more bytes will come.
    public private(set) var isInputComplete = false
    /// Packets returned so far.
    public private(set) var packetCount = 0
    /// pcapng blocks skipped by their length because they carry no packets (statistics, name
    /// resolution, decryption secrets, custom and unknown types).
    public private(set) var skippedBlockCount = 0
    /// pcapng sections begun so far (1 for classic pcap once its header is read).
    public private(set) var sectionCount = 0
    /// The record the input ended inside, once the reader has reached it after `finish()`.
    public private(set) var truncatedRecord: TruncatedRecord?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// A reader over a whole capture already in memory (`finish()` is implied).
    public init(bytes: [UInt8], limits: Limits = Limits()) {
        self.limits = limits
        buffer = bytes
        isInputComplete = true
    }

    public var format: CaptureFormat? {
        switch mode {
        case .detecting: nil
        case .classic: .pcap
        case .pcapng: .pcapng
        }
    }

    /// The classic pcap file header, once read.
    public var fileHeader: PcapFileHeader? {
        if case .classic(let header) = mode { header } else { nil }
    }

    /// The interfaces of the current section (classic pcap: the one its header describes).
    public var interfaces: [CaptureInterface] {
        switch mode {
        case .detecting: []
        case .classic(let header): [Self.interface(of: header)]
        case .pcapng(let section): section?.interfaces ?? []
        }
    }

    /// File offset of the next byte to read.
    public var offset: Int { bufferOffset + position }

    /// Feeds the next bytes of the capture.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        precondition(!isInputComplete, "CaptureReader.append after finish()")
        if position > 0 {
            // Drop what has been read; the caller drains next() between chunks, so what stays is
            // at most one partial record and this copy is small.
            buffer.removeSubrange(0..<position)
            bufferOffset += position
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Declares the end of input: `next()` now reports a partial record as `truncatedRecord`
    /// instead of waiting for more bytes.
    public mutating func finish() {
        isInputComplete = true
    }

    /// The next packet, or nil when the buffered bytes hold no further complete record (more
    /// input needed, or — after `finish()` — the end).
    public mutating func next() throws(PcapError) -> CapturedPacket? {
        if let failure { throw failure }
        do throws(PcapError) {
            return try readPacket()
        } catch {
            failure = error
            throw error
        }
    }

    // MARK: - Reading

    private static func interface(of header: PcapFileHeader) -> CaptureInterface {
        CaptureInterface(linkType: header.linkType, snapLength: header.snapLength, resolution: header.precision.resolution)
    }

    private var available: Int { buffer.count - position }

    /// The input ends inside a record of `needed` bytes: stop there if no more bytes will come.
    private mutating func stopIfInputComplete(needed: Int) {
        if isInputComplete {
            truncatedRecord = TruncatedRecord(offset: offset, availableBytes: available, neededBytes: needed)
            position = buffer.count
        }
    }

    private mutating func readPacket() throws(PcapError) -> CapturedPacket? {
        while true {
            switch mode {
            case .detecting:
                guard try detectFormat() else { return nil }
            case .classic(let header):
                return try readClassicRecord(header)
            case .pcapng(let section):
                switch try readBlock(section) {
                case .packet(let packet): return packet
                case .otherBlock: continue
                case .needMoreInput: return nil
                }
            }
        }
    }

    /// Reads the file header; false when more bytes are needed.
    private mutating func detectFormat() throws(PcapError) -> Bool {
        guard available >= 4 else {
            if isInputComplete {
                throw PcapError(available == 0 ? .emptyInput : .truncatedFileHeader(available: available), offset: 0)
            }
            return false
        }
        let head = buffer[position...]
        if head.u32(0) == PcapNGBlockType.sectionHeader {
            mode = .pcapng(nil)
            return true
        }
        do throws(PcapError) {
            let header = try PcapFileHeader(parsing: head)
            position += PcapFileHeader.encodedSize
            mode = .classic(header)
            sectionCount = 1
            return true
        } catch {
            if case .truncatedFileHeader = error.code, !isInputComplete { return false }
            throw error
        }
    }

    // MARK: Classic pcap

    private mutating func readClassicRecord(_ header: PcapFileHeader) throws(PcapError) -> CapturedPacket? {
        guard available > 0 else { return nil }
        guard available >= PcapRecordHeader.encodedSize else { stopIfInputComplete(needed: PcapRecordHeader.encodedSize); return nil }
        let record = PcapRecordHeader(parsing: buffer[position..<(position + PcapRecordHeader.encodedSize)], byteOrder: header.byteOrder)
        guard record.capturedLength <= limits.maximumPacketLength else {
            throw PcapError(.packetTooLarge(capturedLength: record.capturedLength, limit: limits.maximumPacketLength), offset: offset)
        }
        let total = PcapRecordHeader.encodedSize + Int(record.capturedLength)
        guard available >= total else { stopIfInputComplete(needed: total); return nil }
        let dataStart = position + PcapRecordHeader.encodedSize
        packetCount += 1
        let packet = CapturedPacket(
            number: packetCount, timestamp: record.timestamp(precision: header.precision),
            linkType: header.linkType, byteOrder: header.byteOrder,
            originalLength: Int(record.originalLength), data: Array(buffer[dataStart..<(position + total)]))
        position += total
        return packet
    }

    // MARK: pcapng

    private enum BlockOutcome {
        case packet(CapturedPacket)
        case otherBlock
        case needMoreInput
    }

    private mutating func readBlock(_ section: Section?) throws(PcapError) -> BlockOutcome {
        let isFirstBlock = section == nil
        let headSize = isFirstBlock ? 12 : 8
        guard available >= headSize else {
            if isFirstBlock, isInputComplete { throw PcapError(.truncatedFileHeader(available: available), offset: offset) }
            if available > 0 { stopIfInputComplete(needed: headSize) }
            return .needMoreInput
        }
        let head = buffer[position...]
        let order: ByteOrder
        if head.u32(0) == PcapNGBlockType.sectionHeader {
            // The Section Header Block type reads the same in both orders; the byte-order magic decides.
            guard available >= 12 else { stopIfInputComplete(needed: 12); return .needMoreInput }
            order = try SectionHeaderBlock.byteOrder(of: head, offset: offset)
        } else if let section {
            order = section.byteOrder
        } else {
            preconditionFailure("format detection saw a Section Header Block first")
        }
        let type = head.u32(0, order)
        let length = head.u32(4, order)
        guard length % 4 == 0 else { throw PcapError(.blockLengthNotMultipleOfFour(type: type, length: length), offset: offset) }
        guard length >= PcapNGBlockType.minimumLength(of: type) else { throw PcapError(.blockTooShort(type: type, length: length), offset: offset) }
        guard length <= limits.maximumBlockLength else {
            throw PcapError(.blockTooLarge(type: type, length: length, limit: limits.maximumBlockLength), offset: offset)
        }
        guard available >= Int(length) else {
            if isFirstBlock, isInputComplete { throw PcapError(.truncatedFileHeader(available: available), offset: offset) }
            stopIfInputComplete(needed: Int(length))
            return .needMoreInput
        }
        let block = buffer[position..<(position + Int(length))]
        let blockOffset = offset
        var outcome = BlockOutcome.otherBlock
        switch type {
        case PcapNGBlockType.sectionHeader:
            let header = try SectionHeaderBlock(parsing: block, offset: blockOffset)
            mode = .pcapng(Section(byteOrder: header.byteOrder, index: sectionCount))
            sectionCount += 1
        case PcapNGBlockType.interfaceDescription:
            let description = try InterfaceDescriptionBlock(parsing: block, byteOrder: order, offset: blockOffset)
            guard var current = section else { preconditionFailure("a section is open") }
            current.interfaces.append(CaptureInterface(
                linkType: description.linkType, snapLength: description.snapLength, resolution: description.resolution,
                offsetSeconds: description.offsetSeconds(byteOrder: order), name: description.name))
            mode = .pcapng(current)
        case PcapNGBlockType.enhancedPacket:
            let epb = try EnhancedPacketBlock(parsing: block, byteOrder: order, offset: blockOffset)
            outcome = try makePacket(section, interfaceID: epb.interfaceID, units: epb.timestampUnits,
                                    originalLength: epb.originalLength, data: epb.data, offset: blockOffset)
        case PcapNGBlockType.obsoletePacket:
            let opb = try ObsoletePacketBlock(parsing: block, byteOrder: order, offset: blockOffset)
            outcome = try makePacket(section, interfaceID: UInt32(opb.interfaceID), units: opb.timestampUnits,
                                    originalLength: opb.originalLength, data: opb.data, offset: blockOffset)
        case PcapNGBlockType.simplePacket:
            guard let interface = section?.interfaces.first else {
                throw PcapError(.unknownInterface(id: 0, declared: 0), offset: blockOffset)
            }
            let spb = try SimplePacketBlock(parsing: block, byteOrder: order, snapLength: interface.snapLength, offset: blockOffset)
            outcome = try makePacket(section, interfaceID: 0, units: nil, originalLength: spb.originalLength, data: spb.data, offset: blockOffset)
        default:
            _ = try validateBlockFrame(block, byteOrder: order, offset: blockOffset)
            skippedBlockCount += 1
        }
        position += Int(length)
        return outcome
    }

    private mutating func makePacket(_ section: Section?, interfaceID: UInt32, units: UInt64?, originalLength: UInt32,
                                     data: [UInt8], offset: Int) throws(PcapError) -> BlockOutcome {
        guard let section, interfaceID < section.interfaces.count else {
            throw PcapError(.unknownInterface(id: interfaceID, declared: section?.interfaces.count ?? 0), offset: offset)
        }
        guard data.count <= limits.maximumPacketLength else {
            throw PcapError(.packetTooLarge(capturedLength: UInt32(data.count), limit: limits.maximumPacketLength), offset: offset)
        }
        let interface = section.interfaces[Int(interfaceID)]
        var timestamp: CaptureTimestamp?
        if let units {
            guard let converted = interface.resolution.timestamp(units: units, offsetSeconds: interface.offsetSeconds) else {
                throw PcapError(.timestampOutOfRange, offset: offset)
            }
            timestamp = converted
        }
        packetCount += 1
        return .packet(CapturedPacket(number: packetCount, timestamp: timestamp, sectionIndex: section.index,
                                      interfaceIndex: Int(interfaceID), linkType: interface.linkType, byteOrder: section.byteOrder,
                                      originalLength: Int(originalLength), data: data))
    }
}
