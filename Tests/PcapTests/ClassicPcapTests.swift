import Pcap
import Testing

@Suite struct ClassicPcapTests {
    @Test func littleEndianMicrosecondFile() throws {
        var reader = CaptureReader(bytes: Vectors.classicLittleMicro)
        let packet = try #require(try reader.next())
        #expect(try reader.next() == nil)
        #expect(reader.format == .pcap)
        let header = try #require(reader.fileHeader)
        #expect(header.byteOrder == .little)
        #expect(header.precision == .microseconds)
        #expect(header.snapLength == 262_144)
        #expect(header.linkType == .raw)
        #expect(header.versionMajor == 2 && header.versionMinor == 4)
        #expect(reader.interfaces == [CaptureInterface(linkType: .raw, snapLength: 262_144, resolution: .microseconds)])
        #expect(packet == CapturedPacket(number: 1, timestamp: CaptureTimestamp(seconds: 1_700_000_000, nanoseconds: 123_456_000),
                                         linkType: .raw, byteOrder: .little, originalLength: 32, data: Vectors.ipv4UDP))
        #expect(reader.truncatedRecord == nil)
        #expect(reader.offset == Vectors.classicLittleMicro.count)
    }

    @Test func bigEndianNanosecondFile() throws {
        let packets = try readPackets(Vectors.classicBigNano)
        #expect(packets == [CapturedPacket(number: 1, timestamp: CaptureTimestamp(seconds: 1_700_000_000, nanoseconds: 123_456_789),
                                           linkType: .ipv6, byteOrder: .big, originalLength: 52, data: Vectors.ipv6UDP)])
        let datagram = try #require(udp(packets[0]))
        #expect(datagram.source == Vectors.source6)
        #expect(datagram.destination == Vectors.destination6)
        #expect(Array(datagram.payload) == Vectors.payload)
        #expect(datagram.timestamp?.description == "1700000000.123456789")
    }

    @Test func headerRoundTripsBothWays() throws {
        for bytes in [Vectors.classicLittleMicro, Vectors.classicBigNano] {
            let header = try PcapFileHeader(parsing: bytes[...])
            var encoded: [UInt8] = []
            header.encode(into: &encoded)
            #expect(encoded == Array(bytes.prefix(24)))
            #expect(try PcapFileHeader(parsing: encoded[...]) == header)

            let record = PcapRecordHeader(parsing: bytes[24..<40], byteOrder: header.byteOrder)
            var encodedRecord: [UInt8] = []
            record.encode(into: &encodedRecord, byteOrder: header.byteOrder)
            #expect(encodedRecord == Array(bytes[24..<40]))
        }
    }

    @Test func linkTypeWordKeepsFCSFlags() throws {
        var bytes = Vectors.classicLittleMicro
        bytes[23] = 0x14 // word 0x14000065: FCS length 1 × 16 bits (bits 28–31), P flag (bit 26), link type 101
        let header = try PcapFileHeader(parsing: bytes[...])
        #expect(header.linkType == .raw)
        #expect(header.linkTypeFlags == 0x1400_0000)
    }

    @Test func fractionBeyondOneSecondCarries() throws {
        var bytes = Vectors.classicLittleMicro
        bytes[28...31] = [0x40, 0x42, 0x0F, 0x00] // 1_000_000 µs
        let packet = try #require(try readPackets(bytes).first)
        #expect(packet.timestamp == CaptureTimestamp(seconds: 1_700_000_001, nanoseconds: 0))
    }

    // MARK: errors

    @Test func emptyInput() {
        #expect(readError([]) == PcapError(.emptyInput, offset: 0))
    }

    @Test func badMagic() {
        #expect(readError([0x12, 0x34, 0x56, 0x78] + Array(repeating: 0, count: 20)) == PcapError(.badMagic(0x1234_5678), offset: 0))
        // An ASCII text file is a typical mistake.
        #expect(readError(Array("hello world, this is no capture".utf8))?.code == .badMagic(0x6865_6C6C))
    }

    @Test func truncatedFileHeader() {
        #expect(readError(Array(Vectors.classicLittleMicro.prefix(3))) == PcapError(.truncatedFileHeader(available: 3), offset: 0))
        #expect(readError(Array(Vectors.classicLittleMicro.prefix(23))) == PcapError(.truncatedFileHeader(available: 23), offset: 0))
    }

    @Test func unsupportedVersion() {
        var bytes = Vectors.classicLittleMicro
        bytes[4] = 3
        #expect(readError(bytes) == PcapError(.unsupportedVersion(major: 3, minor: 4), offset: 0))
    }

    @Test func capturedLengthAboveLimit() {
        var bytes = Vectors.classicLittleMicro
        bytes[32...35] = [0xFF, 0xFF, 0xFF, 0x7F]
        #expect(readError(bytes) == PcapError(.packetTooLarge(capturedLength: 0x7FFF_FFFF, limit: 262_144), offset: 24))
        #expect(readError(Vectors.classicLittleMicro, limits: .init(maximumPacketLength: 31))?.code == .packetTooLarge(capturedLength: 32, limit: 31))
    }

    /// Decision: a record the file ends inside is a clean end, reported by `truncatedRecord`.
    @Test func truncatedLastRecordEndsCleanlyAndIsReported() throws {
        let twoPackets = Vectors.classicLittleMicro + Array(Vectors.classicLittleMicro[24...])
        for cut in [1, 10, 16, 17, 47] {
            let bytes = Array(twoPackets.prefix(Vectors.classicLittleMicro.count + cut))
            var reader = CaptureReader(bytes: bytes)
            #expect(try reader.next()?.number == 1)
            #expect(try reader.next() == nil)
            #expect(try reader.next() == nil)
            #expect(reader.truncatedRecord == TruncatedRecord(offset: 72, availableBytes: cut, neededBytes: cut < 16 ? 16 : 48))

            let (datagrams, tally) = try UDPDatagramReader.readAll(bytes)
            #expect(datagrams.count == 1)
            #expect(tally.packets == 1)
            #expect(tally.truncatedRecordsAtEnd == 1)
        }
        #expect(try UDPDatagramReader.readAll(twoPackets).tally.truncatedRecordsAtEnd == 0)
    }

    @Test func errorsAreSticky() {
        var bytes = Vectors.classicLittleMicro
        bytes[32...35] = [0xFF, 0xFF, 0xFF, 0x7F]
        var reader = CaptureReader(bytes: bytes)
        let first = #expect(throws: PcapError.self) { try reader.next() }
        let second = #expect(throws: PcapError.self) { try reader.next() }
        #expect(first == second)
    }

    // MARK: incremental input

    @Test func dripFeedAndRandomSplitsGiveTheSamePackets() throws {
        let file = Vectors.classicLittleMicro + Array(Vectors.classicLittleMicro[24...]) + Array(Vectors.classicLittleMicro[24...])
        let whole = try readPackets(file)
        #expect(whole.count == 3)
        #expect(whole.map(\.number) == [1, 2, 3])
        #expect(try readPacketsInChunks(file, sizes: [1]).packets == whole)
        #expect(try readPacketsInChunks(file, sizes: [file.count]).packets == whole)
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<20 {
            let sizes = (0..<8).map { _ in Int.random(in: 1...40, using: &generator) }
            #expect(try readPacketsInChunks(file, sizes: sizes).packets == whole)
        }
    }

    @Test func nothingIsReturnedBeforeTheRecordIsComplete() throws {
        var reader = CaptureReader()
        reader.append(Vectors.classicLittleMicro.prefix(30))
        #expect(try reader.next() == nil)
        #expect(reader.truncatedRecord == nil)
        #expect(reader.format == .pcap)
        reader.append(Vectors.classicLittleMicro.dropFirst(30))
        #expect(try reader.next()?.data == Vectors.ipv4UDP)
        reader.finish()
        #expect(try reader.next() == nil)
        #expect(reader.truncatedRecord == nil)
    }

    @Test func badMagicIsReportedBeforeTheWholeHeaderArrives() {
        var reader = CaptureReader()
        reader.append([0x00, 0x01, 0x02, 0x03])
        #expect(throws: PcapError(.badMagic(0x0001_0203), offset: 0)) { try reader.next() }
    }
}
