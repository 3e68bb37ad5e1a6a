import Pcap
import Testing

@Suite struct PcapNGTests {
    static let twoSections = Vectors.pcapngLittle + Vectors.pcapngBigSection

    @Test func everyBlockKindInOneLittleEndianSection() throws {
        var reader = CaptureReader(bytes: Vectors.pcapngLittle)
        var packets: [CapturedPacket] = []
        while let packet = try reader.next() { packets.append(packet) }
        #expect(reader.format == .pcapng)
        #expect(reader.sectionCount == 1)
        #expect(reader.skippedBlockCount == 1)
        #expect(reader.truncatedRecord == nil)
        #expect(reader.interfaces == [
            CaptureInterface(linkType: .raw, snapLength: 262_144, resolution: .powerOfTen(9), offsetSeconds: 100),
            CaptureInterface(linkType: .ethernet, snapLength: 0, resolution: .powerOfTwo(20)),
        ])
        #expect(packets == [
            // EPB, interface 0: units in ns plus if_tsoffset 100 s.
            CapturedPacket(number: 1, timestamp: CaptureTimestamp(seconds: 1_700_000_000, nanoseconds: 123_456_789),
                           interfaceIndex: 0, linkType: .raw, byteOrder: .little, data: Vectors.ipv4UDP),
            // EPB, interface 1: 2^-20 s units.
            CapturedPacket(number: 2, timestamp: CaptureTimestamp(seconds: 1_700_000_000, nanoseconds: 500_000_000),
                           interfaceIndex: 1, linkType: .ethernet, byteOrder: .little,
                           data: Vectors.ethernetHeaderIPv6 + Vectors.ipv6UDP),
            // SPB: interface 0, no timestamp.
            CapturedPacket(number: 3, timestamp: nil, interfaceIndex: 0, linkType: .raw, byteOrder: .little, data: Vectors.ipv4UDP),
            // OPB, interface 0.
            CapturedPacket(number: 4, timestamp: CaptureTimestamp(seconds: 1_700_000_002, nanoseconds: 500),
                           interfaceIndex: 0, linkType: .raw, byteOrder: .little, data: Vectors.ipv6UDP),
        ])
        let datagrams = packets.compactMap(udp)
        #expect(datagrams.map(\.source) == [Vectors.source4, Vectors.source6, Vectors.source4, Vectors.source6])
        #expect(datagrams.allSatisfy { Array($0.payload) == Vectors.payload })
    }

    @Test func secondSectionInTheOtherByteOrderStartsAfresh() throws {
        var reader = CaptureReader(bytes: Self.twoSections)
        var packets: [CapturedPacket] = []
        while let packet = try reader.next() { packets.append(packet) }
        #expect(reader.sectionCount == 2)
        #expect(reader.interfaces == [CaptureInterface(linkType: .linuxSLL, snapLength: 65_535)])
        let last = try #require(packets.last)
        #expect(packets.count == 5)
        #expect(last == CapturedPacket(number: 5, timestamp: CaptureTimestamp(seconds: 1_700_000_003, nanoseconds: 7_000),
                                       sectionIndex: 1, interfaceIndex: 0, linkType: .linuxSLL, byteOrder: .big,
                                       data: Vectors.linuxSLLHeaderIPv4 + Vectors.ipv4UDP))
        let datagram = try #require(udp(last))
        #expect(datagram.sectionIndex == 1)
        #expect(datagram.source == Vectors.source4 && datagram.destination == Vectors.destination4)
    }

    @Test func bigEndianSectionAlone() throws {
        let packets = try readPackets(Vectors.pcapngBigSection)
        #expect(packets.count == 1)
        #expect(packets.first?.sectionIndex == 0)
        #expect(packets.first?.timestamp?.description == "1700000003.000007000")
    }

    @Test func dripFeedAndRandomSplitsGiveTheSamePackets() throws {
        let whole = try readPackets(Self.twoSections)
        #expect(try readPacketsInChunks(Self.twoSections, sizes: [1]).packets == whole)
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<20 {
            let sizes = (0..<6).map { _ in Int.random(in: 1...64, using: &generator) }
            let (packets, reader) = try readPacketsInChunks(Self.twoSections, sizes: sizes)
            #expect(packets == whole)
            #expect(reader.skippedBlockCount == 1)
        }
    }

    @Test func blocksRoundTripBothWays() throws {
        let bytes = Vectors.pcapngLittle
        let shb = try SectionHeaderBlock(parsing: bytes[0..<28])
        #expect(shb.byteOrder == .little && shb.sectionLength == -1)
        var encoded: [UInt8] = []
        shb.encode(into: &encoded)
        #expect(encoded == Array(bytes[0..<28]))

        let shbBig = try SectionHeaderBlock(parsing: Vectors.sectionHeaderBig[...])
        encoded = []
        shbBig.encode(into: &encoded)
        #expect(encoded == Vectors.sectionHeaderBig)

        let idb1 = try InterfaceDescriptionBlock(parsing: bytes[72..<104], byteOrder: .little)
        #expect(idb1.resolution == .powerOfTwo(20))
        // The encoder always ends options with opt_endofopt, so compare decoded values.
        encoded = []
        idb1.encode(into: &encoded, byteOrder: .little)
        #expect(try InterfaceDescriptionBlock(parsing: encoded[...], byteOrder: .little) == idb1)

        let idb0 = try InterfaceDescriptionBlock(parsing: bytes[28..<72], byteOrder: .little)
        #expect(idb0.offsetSeconds(byteOrder: .little) == 100)
        encoded = []
        idb0.encode(into: &encoded, byteOrder: .little)
        #expect(encoded == Array(bytes[28..<72]))

        let epb = try EnhancedPacketBlock(parsing: bytes[104..<168], byteOrder: .little)
        #expect(epb.timestampUnits == 0x1797_9CE6_F50E_E515)
        encoded = []
        epb.encode(into: &encoded, byteOrder: .little)
        #expect(encoded == Array(bytes[104..<168]))
        encoded = []
        epb.encode(into: &encoded, byteOrder: .big)
        #expect(try EnhancedPacketBlock(parsing: encoded[...], byteOrder: .big) == epb)

        let spb = try SimplePacketBlock(parsing: bytes[284..<332], byteOrder: .little, snapLength: 262_144)
        encoded = []
        spb.encode(into: &encoded, byteOrder: .little)
        #expect(encoded == Array(bytes[284..<332]))

        let opb = try ObsoletePacketBlock(parsing: bytes[332..<416], byteOrder: .little)
        #expect(opb.interfaceID == 0 && opb.dropsCount == 0)
        encoded = []
        opb.encode(into: &encoded, byteOrder: .little)
        #expect(encoded == Array(bytes[332..<416]))
    }

    @Test func optionsMayEndWithoutEndOfOptions() throws {
        let idb: [UInt8] = [
            0x01, 0x00, 0x00, 0x00, // block type IDB
            0x1C, 0x00, 0x00, 0x00, // block total length 28
            0x01, 0x00, 0x00, 0x00, // link type 1 ETHERNET, reserved
            0x00, 0x00, 0x00, 0x00, // snaplen 0
            0x09, 0x00, 0x01, 0x00, // if_tsresol, length 1
            0x83, 0x00, 0x00, 0x00, //   2^-3 s
            0x1C, 0x00, 0x00, 0x00, // block total length 28: the block's end ends the options
        ]
        let block = try InterfaceDescriptionBlock(parsing: idb[...], byteOrder: .little)
        #expect(block.resolution == .powerOfTwo(3))
        #expect(block.options == [PcapNGOption(code: 9, value: [0x83])])
        let epb = EnhancedPacketBlock(interfaceID: 0, timestampUnits: 8 * 1_700_000_000 + 3, data: [1, 2, 3])
        var file = Vectors.sectionHeaderLittle + idb
        epb.encode(into: &file, byteOrder: .little)
        let packet = try #require(try readPackets(file).first)
        #expect(packet.timestamp == CaptureTimestamp(seconds: 1_700_000_000, nanoseconds: 375_000_000))
        #expect(packet.data == [1, 2, 3])
    }

    @Test func simplePacketBlockIsCutToTheSnapLength() throws {
        var bytes = Vectors.pcapngLittle
        bytes[40...43] = [0x1C, 0x00, 0x00, 0x00] // interface 0 snaplen 28
        let spb = try #require(try readPackets(bytes).first { $0.timestamp == nil })
        #expect(spb.data == Array(Vectors.ipv4UDP.prefix(28)))
        #expect(spb.originalLength == 32)
        #expect(PacketDecoder.decode(spb) == .setAside(.truncated))
    }

    @Test func timestampResolutions() {
        #expect(TimestampResolution.powerOfTen(6).timestamp(units: 1_700_000_000_123_456, offsetSeconds: 0)
                == CaptureTimestamp(seconds: 1_700_000_000, nanoseconds: 123_456_000))
        #expect(TimestampResolution.powerOfTen(0).timestamp(units: 42, offsetSeconds: -2)
                == CaptureTimestamp(seconds: 40))
        // Finer than a nanosecond: truncated. 10^-12 s (picoseconds).
        #expect(TimestampResolution.powerOfTen(12).timestamp(units: 1_500_000_000_999, offsetSeconds: 0)
                == CaptureTimestamp(seconds: 1, nanoseconds: 500_000_000))
        // 2^-10 s units: 1.5 s + 1 unit = 976562.5 ns → 976562 ns.
        #expect(TimestampResolution.powerOfTwo(10).timestamp(units: 1536 + 1, offsetSeconds: 0)
                == CaptureTimestamp(seconds: 1, nanoseconds: 500_976_562))
        #expect(TimestampResolution.powerOfTwo(64).timestamp(units: 1 << 63, offsetSeconds: 0)
                == CaptureTimestamp(seconds: 0, nanoseconds: 500_000_000))
        #expect(TimestampResolution.powerOfTen(0).timestamp(units: UInt64(Int64.max) + 1, offsetSeconds: 0) == nil)
        #expect(TimestampResolution.powerOfTen(0).timestamp(units: 1, offsetSeconds: .max) == nil)
        // Writers' inverse: exact for 10^-9 and for 2^-30 (2^30 ≥ 10^9).
        let t = CaptureTimestamp(seconds: 1_700_000_000, nanoseconds: 123_456_789)
        for resolution in [TimestampResolution.nanoseconds, .powerOfTwo(30), .powerOfTwo(32), .powerOfTen(10)] {
            let units = resolution.units(of: t, offsetSeconds: 0)
            #expect(units.flatMap { resolution.timestamp(units: $0, offsetSeconds: 0) } == t, "\(resolution)")
        }
        #expect(TimestampResolution.microseconds.units(of: t, offsetSeconds: 0) == 1_700_000_000_123_456)
        #expect(TimestampResolution.microseconds.units(of: CaptureTimestamp(seconds: 5), offsetSeconds: 10) == nil)
        // 10^-12 s cannot count to today in 64 bits.
        #expect(TimestampResolution.powerOfTen(12).units(of: t, offsetSeconds: 0) == nil)
    }

    // MARK: errors

    @Test func truncatedFirstSectionHeaderIsAFileHeaderError() {
        #expect(readError(Array(Vectors.pcapngLittle.prefix(11))) == PcapError(.truncatedFileHeader(available: 11), offset: 0))
        #expect(readError(Array(Vectors.pcapngLittle.prefix(27))) == PcapError(.truncatedFileHeader(available: 27), offset: 0))
    }

    @Test func badByteOrderMagic() {
        var bytes = Vectors.pcapngLittle
        bytes[8...11] = [0x11, 0x22, 0x33, 0x44]
        #expect(readError(bytes) == PcapError(.badByteOrderMagic(0x1122_3344), offset: 0))
        // In a later section too.
        var later = Self.twoSections
        later[Vectors.pcapngLittle.count + 8] = 0x00
        #expect(readError(later) == PcapError(.badByteOrderMagic(0x002B_3C4D), offset: Vectors.pcapngLittle.count))
    }

    @Test func unsupportedMajorVersion() {
        var bytes = Vectors.pcapngLittle
        bytes[12] = 2
        #expect(readError(bytes) == PcapError(.unsupportedVersion(major: 2, minor: 0), offset: 0))
    }

    @Test func trailingLengthDiffersFromLeading() {
        var bytes = Vectors.pcapngLittle
        bytes[164] = 0x3C // EPB at 104: trailing length 60, leading 64
        #expect(readError(bytes) == PcapError(.blockLengthMismatch(type: 6, leading: 64, trailing: 60), offset: 104))
    }

    @Test func leadingLengthNotAMultipleOfFour() {
        var bytes = Vectors.pcapngLittle
        bytes[108] = 0x3E // EPB length 62
        #expect(readError(bytes) == PcapError(.blockLengthNotMultipleOfFour(type: 6, length: 62), offset: 104))
    }

    @Test func blockShorterThanItsTypeAllows() {
        var bytes = Vectors.pcapngLittle
        bytes[108] = 0x1C // EPB length 28 < 32
        #expect(readError(bytes) == PcapError(.blockTooShort(type: 6, length: 28), offset: 104))
        var idb = Vectors.pcapngLittle
        idb[32] = 0x10 // IDB length 16 < 20
        #expect(readError(idb) == PcapError(.blockTooShort(type: 1, length: 16), offset: 28))
    }

    @Test func blockLargerThanTheLimit() {
        #expect(readError(Vectors.pcapngLittle, limits: .init(maximumBlockLength: 63))
                == PcapError(.blockTooLarge(type: 6, length: 64, limit: 63), offset: 104))
        var bytes = Vectors.pcapngLittle
        bytes[104...111] = [0x06, 0, 0, 0, 0xFC, 0xFF, 0xFF, 0x7F] // EPB claiming 2 GiB
        #expect(readError(bytes)?.code == .blockTooLarge(type: 6, length: 0x7FFF_FFFC, limit: 16 << 20))
    }

    @Test func capturedLengthBeyondTheBlock() {
        var bytes = Vectors.pcapngLittle
        bytes[124] = 0x21 // EPB captured length 33 in a block with room for 32
        #expect(readError(bytes) == PcapError(.capturedLengthExceedsBlock(type: 6, capturedLength: 33, available: 32), offset: 104))
        var opb = Vectors.pcapngLittle
        opb[352] = 0x64 // OPB captured length 100
        #expect(readError(opb) == PcapError(.capturedLengthExceedsBlock(type: 2, capturedLength: 100, available: 52), offset: 332))
    }

    @Test func packetOnAnUndeclaredInterface() {
        var bytes = Vectors.pcapngLittle
        bytes[112] = 2 // EPB interface 2 of 2 declared
        #expect(readError(bytes) == PcapError(.unknownInterface(id: 2, declared: 2), offset: 104))
        // A Simple Packet Block needs interface 0.
        let spbOnly = Vectors.sectionHeaderLittle + Array(Vectors.pcapngLittle[284..<332])
        #expect(readError(spbOnly) == PcapError(.unknownInterface(id: 0, declared: 0), offset: 28))
    }

    @Test func optionRunningPastItsBlock() {
        var bytes = Vectors.pcapngLittle
        bytes[46] = 0xC8 // if_tsresol claims 200 bytes
        #expect(readError(bytes) == PcapError(.malformedOption(blockType: 1, code: 9), offset: 28))
        var wrongSize = Vectors.pcapngLittle
        wrongSize[46] = 2 // if_tsresol of 2 bytes
        #expect(readError(wrongSize) == PcapError(.malformedOption(blockType: 1, code: 9), offset: 28))
    }

    @Test func unsupportedTimestampResolution() {
        var bytes = Vectors.pcapngLittle
        bytes[48] = 39 // 10^-39 s
        #expect(readError(bytes) == PcapError(.unsupportedTimestampResolution(39), offset: 28))
    }

    @Test func timestampBeyondSignedSeconds() {
        var bytes = Vectors.pcapngLittle
        bytes[56...63] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F] // if_tsoffset Int64.max
        #expect(readError(bytes) == PcapError(.timestampOutOfRange, offset: 104))
    }

    @Test func truncatedLastBlockEndsCleanly() throws {
        for cut in [3, 8, 50] {
            var reader = CaptureReader(bytes: Array(Self.twoSections.dropLast(cut)))
            var count = 0
            while try reader.next() != nil { count += 1 }
            #expect(count == 4)
            #expect(reader.truncatedRecord?.offset == Self.twoSections.count - 80)
            #expect(reader.truncatedRecord?.neededBytes == 80)
        }
    }

    @Test func truncationInsideALaterSectionHeader() throws {
        var reader = CaptureReader(bytes: Array(Self.twoSections.prefix(Vectors.pcapngLittle.count + 10)))
        var count = 0
        while try reader.next() != nil { count += 1 }
        #expect(count == 4)
        #expect(reader.truncatedRecord == TruncatedRecord(offset: Vectors.pcapngLittle.count, availableBytes: 10, neededBytes: 12))
    }
}
