import RTPCore
import Testing

@Suite("RTCP compound datagrams (RFC 3550 §6.1, A.2)")
struct RTCPCompoundTests {
    static let cname: [UInt8] = [
        // v=2, p=0, SC=1, SDES, len=2
        0x81, 0xCA, 0x00, 0x02,
        // ssrc=0x5EED0001
        0x5E, 0xED, 0x00, 0x01,
        // CNAME, length=1, "e", END
        0x01, 0x01, 0x65, 0x00,
    ]

    static let paddedGoodbye: [UInt8] = [
        // v=2, p=1, SC=1, BYE, len=2 (padding included)
        0xA1, 0xCB, 0x00, 0x02,
        // ssrc=0x5EED0001
        0x5E, 0xED, 0x00, 0x01,
        // padding: 3 nulls, count=4
        0x00, 0x00, 0x00, 0x04,
    ]

    static let genericNACK: [UInt8] = [
        // v=2, p=0, FMT=1, RTPFB(205), len=3
        0x81, 0xCD, 0x00, 0x03,
        // sender ssrc, media ssrc
        0x5E, 0xED, 0x00, 0x01,
        0x0B, 0xAD, 0xCA, 0xFE,
        // PID=0x0100, BLP=0x0003
        0x01, 0x00, 0x00, 0x03,
    ]

    static let pictureLoss: [UInt8] = [
        // v=2, p=0, FMT=1, PSFB(206), len=2
        0x81, 0xCE, 0x00, 0x02,
        // sender ssrc, media ssrc
        0x5E, 0xED, 0x00, 0x01,
        0x0B, 0xAD, 0xCA, 0xFE,
    ]

    static var datagram: [UInt8] {
        RTCPReportsTests.receiverReport + cname + genericNACK + RTCPExtendedReportTests.extendedReport + paddedGoodbye
    }

    @Test func splitsADatagramIntoItsPackets() throws {
        let compound = try RTCPCompoundPacket(parsing: Self.datagram)
        #expect(compound.packets.count == 5)
        #expect(compound.packets.map(\.packetType) == [.receiverReport, .sourceDescription, .transportFeedback, .extendedReport, .goodbye])
        #expect(!compound.isReducedSize)
        #expect(compound.paddingCount == 4)
        #expect(compound.packets[1] == .sourceDescription(RTCPSourceDescription(source: 0x5EED_0001, cname: "e")))
        #expect(compound.packets[2] == .unknown(type: 205, count: 1, body: Array(Self.genericNACK[4...])))
        #expect(compound.packets[4] == .goodbye(RTCPGoodbye(sources: [0x5EED_0001])))
        #expect(compound.encodedSize == Self.datagram.count)
        #expect(compound.encoded() == Self.datagram)
    }

    @Test func parsesFromTheMiddleOfABuffer() throws {
        let buffer: [UInt8] = [0xEE, 0xEE, 0xEE] + Self.datagram + [0xEE]
        let compound = try RTCPCompoundPacket(parsing: buffer[3..<(3 + Self.datagram.count)])
        #expect(compound.encoded() == Self.datagram)
    }

    @Test func valuesSurviveEncodeThenDecode() throws {
        let compound = RTCPCompoundPacket(
            packets: [
                .senderReport(
                    RTCPSenderReport(
                        ssrc: 1, ntpTimestamp: NTPTimestamp(seconds: 2, fraction: 3), rtpTimestamp: 4,
                        packetCount: 5, octetCount: 6, reports: [RTCPReportBlock(ssrc: 7, cumulativeLost: -8)]
                    )
                ),
                .sourceDescription(RTCPSourceDescription(source: 1, cname: "agent@10.0.0.1")),
                .extendedReport(RTCPExtendedReport(ssrc: 1, blocks: [.voipMetrics(.init(ssrc: 7, rFactor: 80))])),
                .application(RTCPApplication(subtype: 31, source: 1, name: 0x4142_4344, data: [9, 9, 9, 9])),
                .unknown(type: 206, count: 15, body: [1, 2, 3, 4, 5, 6, 7, 8]),
                .goodbye(RTCPGoodbye(sources: [1], reasonText: "done")),
            ],
            paddingCount: 8
        )
        let bytes = compound.encoded()
        #expect(bytes.count == compound.encodedSize)
        // The last packet alone carries P and its length counts the padding.
        #expect(bytes[bytes.count - 1] == 8)
        #expect(try RTCPCompoundPacket(parsing: bytes) == compound)
    }

    @Test func singlePacketParsingDropsPadding() throws {
        #expect(try RTCPPacket(parsing: Self.paddedGoodbye) == .goodbye(RTCPGoodbye(sources: [0x5EED_0001])))
        #expect(try RTCPGoodbye(parsing: Self.paddedGoodbye).encodedSize == 8)
    }

    @Test func paddingIsRoundedDownToWholeWordsOnEncode() {
        let compound = RTCPCompoundPacket(packets: [.receiverReport(RTCPReceiverReport(ssrc: 1))], paddingCount: 7)
        // v=2, p=1, RR, len=2 | ssrc | 0 0 0 4
        #expect(compound.encoded() == [0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 4])
        #expect(RTCPCompoundPacket(packets: [], paddingCount: 8).encoded().isEmpty)
    }

    @Test func reducedSizeIsAcceptedAndFlagged() throws {
        // RFC 5506: a lone feedback packet, no RR first
        let compound = try RTCPCompoundPacket(parsing: Self.pictureLoss)
        #expect(compound.isReducedSize)
        #expect(compound.packets == [.unknown(type: 206, count: 1, body: Array(Self.pictureLoss[4...]))])
        #expect(throws: RTCPError.firstPacketNotReport) {
            try RTCPCompoundPacket(parsing: Self.pictureLoss, allowReducedSize: false)
        }
        #expect(try RTCPCompoundPacket(parsing: RTCPReportsTests.senderReport, allowReducedSize: false).packets.count == 1)
    }

    @Test func headerFields() throws {
        let header = try RTCPHeader(parsing: Self.paddedGoodbye)
        #expect(header == RTCPHeader(padding: true, count: 1, packetType: .goodbye, length: 2))
        #expect(header.packetSize == 12)
        var out: [UInt8] = []
        header.encode(into: &out)
        #expect(out == Array(Self.paddedGoodbye.prefix(4)))
    }

    @Test func demultiplexingRTPAndRTCPOnOnePort() {
        // RFC 5761 §4
        #expect(RTCPHeader.isRTCP(RTCPReportsTests.receiverReport))
        #expect(RTCPHeader.isRTCP(Self.pictureLoss))
        #expect(!RTCPHeader.isRTCP(RTPPacketTests.plain))  // v=2, m=1, pt=0: second octet 0x80
        #expect(!RTCPHeader.isRTCP([0x80, 0xE0]))  // 224: marker + PT 96, a dynamic RTP type
        #expect(!RTCPHeader.isRTCP([0x40, 0xC9]))  // version 1
        #expect(!RTCPHeader.isRTCP([0x80]))
    }

    // MARK: A.2 validity and framing errors

    @Test func truncatedHeader() {
        #expect(throws: RTCPError.truncatedHeader) { try RTCPCompoundPacket(parsing: []) }
        #expect(throws: RTCPError.truncatedHeader) { try RTCPCompoundPacket(parsing: [0x80, 0xC9, 0x00]) }
        // a valid RR followed by two stray octets
        #expect(throws: RTCPError.truncatedHeader) { try RTCPCompoundPacket(parsing: RTCPReportsTests.receiverReport + [0x80, 0xCA]) }
        #expect(throws: RTCPError.truncatedHeader) { try RTCPPacket(parsing: [0x80]) }
    }

    @Test func versionOtherThanTwo() {
        // v=1 on the first packet
        #expect(throws: RTCPError.unsupportedVersion) { try RTCPCompoundPacket(parsing: [0x40, 0xC9, 0x00, 0x00]) }
        // v=0 on the second (A.2 checks every packet)
        #expect(throws: RTCPError.unsupportedVersion) {
            try RTCPCompoundPacket(parsing: RTCPReportsTests.receiverReport + [0x00, 0xCA, 0x00, 0x00])
        }
    }

    @Test func lengthBeyondDatagram() {
        // RR with len=7 cut to 2 words
        #expect(throws: RTCPError.lengthBeyondDatagram) { try RTCPCompoundPacket(parsing: Array(RTCPReportsTests.receiverReport.prefix(8))) }
        // second packet claims len=9 with 3 words present
        #expect(throws: RTCPError.lengthBeyondDatagram) {
            try RTCPCompoundPacket(parsing: RTCPReportsTests.receiverReport + [0x81, 0xCA, 0x00, 0x09] + Array(Self.cname[4...]))
        }
    }

    @Test func lengthMismatch() {
        // two packets where one is expected
        #expect(throws: RTCPError.lengthMismatch) { try RTCPPacket(parsing: RTCPReportsTests.receiverReport + Self.cname) }
        #expect(throws: RTCPError.lengthMismatch) { try RTCPReceiverReport(parsing: RTCPReportsTests.receiverReport + [0, 0, 0, 0]) }
    }

    @Test func padding() {
        // p=1, count=0
        #expect(throws: RTCPError.paddingCountZero) { try RTCPCompoundPacket(parsing: [0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0]) }
        // p=1, count=12 but only 8 octets follow the header
        #expect(throws: RTCPError.paddingBeyondPacket) { try RTCPCompoundPacket(parsing: [0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 12]) }
        // p=1, count=3
        #expect(throws: RTCPError.paddingNotMultipleOfFour) { try RTCPCompoundPacket(parsing: [0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 3]) }
        // padded BYE first, then the RR
        #expect(throws: RTCPError.paddingNotOnLastPacket) {
            try RTCPCompoundPacket(parsing: [0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 4] + Self.cname)
        }
    }

    @Test func paddingThatTakesTheWholeBodyLeavesAnEmptyPacket() throws {
        // p=1, BYE SC=0, len=1, padding count=4: an empty BYE
        let compound = try RTCPCompoundPacket(parsing: [0xA0, 0xCB, 0x00, 0x01, 0, 0, 0, 4])
        #expect(compound.packets == [.goodbye(RTCPGoodbye(sources: []))])
        // the same on an RR is too short for its SSRC
        #expect(throws: RTCPError.packetTooShort) { try RTCPCompoundPacket(parsing: [0xA0, 0xC9, 0x00, 0x01, 0, 0, 0, 4]) }
    }

    @Test func errorsInsideAPacketSurfaceFromTheCompound() {
        var bytes = Self.datagram
        bytes[0] = 0x82  // the RR now claims two report blocks
        #expect(throws: RTCPError.reportCountExceedsLength) { try RTCPCompoundPacket(parsing: bytes) }
    }
}
