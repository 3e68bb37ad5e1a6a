import RTPCore
import Testing

@Suite("RTCP SR and RR (RFC 3550 §6.4)")
struct RTCPReportsTests {
    static let receiverReport: [UInt8] = [
        // v=2, p=0, count=1, RR, len=7
        0x81, 0xC9, 0x00, 0x07,
        // ssrc=0x5EED0001
        0x5E, 0xED, 0x00, 0x01,
        // report block: ssrc=0x0BADCAFE
        0x0B, 0xAD, 0xCA, 0xFE,
        // fraction lost=64 (1/4), cumulative lost=-3 (0xFFFFFD: duplicates outnumber losses)
        0x40, 0xFF, 0xFF, 0xFD,
        // extended highest sequence: 1 cycle, seq 0x0010
        0x00, 0x01, 0x00, 0x10,
        // jitter=0x123
        0x00, 0x00, 0x01, 0x23,
        // LSR=0xB7052000
        0xB7, 0x05, 0x20, 0x00,
        // DLSR=0x00054000 (5.25 s)
        0x00, 0x05, 0x40, 0x00,
    ]

    static let senderReport: [UInt8] = [
        // v=2, p=0, count=1, SR, len=13
        0x81, 0xC8, 0x00, 0x0D,
        // ssrc=0x5EED0002
        0x5E, 0xED, 0x00, 0x02,
        // NTP msw=0xE9A1B2C3, lsw=0x80000000 (.5 s)
        0xE9, 0xA1, 0xB2, 0xC3,
        0x80, 0x00, 0x00, 0x00,
        // RTP timestamp=128000
        0x00, 0x01, 0xF4, 0x00,
        // packet count=800
        0x00, 0x00, 0x03, 0x20,
        // octet count=128000
        0x00, 0x01, 0xF4, 0x00,
        // report block: ssrc=0x0BADCAFE
        0x0B, 0xAD, 0xCA, 0xFE,
        // fraction lost=0, cumulative lost=0x7FFFFF (the largest positive)
        0x00, 0x7F, 0xFF, 0xFF,
        // extended highest sequence=0x0000FFFF
        0x00, 0x00, 0xFF, 0xFF,
        // jitter=0, LSR=0, DLSR=0
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
        // profile-specific extension (one word)
        0xAB, 0xCD, 0xEF, 0x01,
    ]

    @Test func decodesTheReceiverReport() throws {
        let rr = try RTCPReceiverReport(parsing: Self.receiverReport)
        #expect(rr.ssrc == 0x5EED_0001)
        #expect(rr.profileExtension.isEmpty)
        #expect(
            rr.reports == [
                RTCPReportBlock(
                    ssrc: 0x0BAD_CAFE, fractionLost: 64, cumulativeLost: -3,
                    extendedHighestSequence: 0x0001_0010, jitter: 0x123,
                    lastSenderReport: 0xB705_2000, delaySinceLastSenderReport: 0x0005_4000
                )
            ]
        )
        #expect(rr.reports[0].fractionLostRatio == 0.25)
        #expect(rr.encodedSize == Self.receiverReport.count)
        var out: [UInt8] = []
        rr.encode(into: &out)
        #expect(out == Self.receiverReport)
        #expect(try RTCPPacket(parsing: Self.receiverReport) == .receiverReport(rr))
    }

    @Test func decodesTheSenderReportAndKeepsItsProfileExtension() throws {
        let sr = try RTCPSenderReport(parsing: Self.senderReport)
        #expect(sr.ssrc == 0x5EED_0002)
        #expect(sr.ntpTimestamp == NTPTimestamp(seconds: 0xE9A1_B2C3, fraction: 0x8000_0000))
        #expect(sr.rtpTimestamp == 128_000)
        #expect(sr.packetCount == 800)
        #expect(sr.octetCount == 128_000)
        #expect(sr.reports.count == 1)
        #expect(sr.reports[0].cumulativeLost == 0x7F_FFFF)
        #expect(sr.reports[0].extendedHighestSequence == 0xFFFF)
        #expect(sr.profileExtension == [0xAB, 0xCD, 0xEF, 0x01])
        var out: [UInt8] = []
        sr.encode(into: &out)
        #expect(out == Self.senderReport)
    }

    @Test func emptyReportsRoundTrip() throws {
        // v=2, p=0, count=0, RR, len=1 | ssrc
        let bytes: [UInt8] = [0x80, 0xC9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2A]
        let rr = try RTCPReceiverReport(parsing: bytes)
        #expect(rr == RTCPReceiverReport(ssrc: 42))
        var out: [UInt8] = []
        rr.encode(into: &out)
        #expect(out == bytes)
    }

    @Test(arguments: [
        (UInt32(0xFF_FFFF), Int32(-1)),
        (0x80_0000, -8_388_608),
        (0x7F_FFFF, 8_388_607),
        (0x00_0001, 1),
        (0x00_0000, 0),
    ])
    func cumulativeLostIsTwentyFourBitSigned(raw: UInt32, value: Int32) throws {
        // v=2, count=1, RR, len=7, with the loss word = fraction 0xFF | raw
        var bytes = Self.receiverReport
        bytes[13] = UInt8(raw >> 16)
        bytes[14] = UInt8((raw >> 8) & 0xFF)
        bytes[15] = UInt8(raw & 0xFF)
        bytes[12] = 0xFF
        let rr = try RTCPReceiverReport(parsing: bytes)
        #expect(rr.reports[0].cumulativeLost == value)
        #expect(rr.reports[0].fractionLost == 0xFF)
        var out: [UInt8] = []
        rr.encode(into: &out)
        #expect(out == bytes)
    }

    @Test func encoderClampsCumulativeLostToTwentyFourBits() throws {
        // RFC 3550 A.3: clamp at 0x7fffff / 0x800000 instead of wrapping.
        let rr = RTCPReceiverReport(
            ssrc: 1,
            reports: [
                RTCPReportBlock(ssrc: 2, cumulativeLost: 10_000_000),
                RTCPReportBlock(ssrc: 3, cumulativeLost: -9_000_000),
            ]
        )
        var bytes: [UInt8] = []
        rr.encode(into: &bytes)
        let decoded = try RTCPReceiverReport(parsing: bytes)
        #expect(decoded.reports.map(\.cumulativeLost) == [0x7F_FFFF, -0x80_0000])
    }

    @Test func valuesSurviveEncodeThenDecode() throws {
        let blocks = (0..<31).map { (i: UInt32) -> RTCPReportBlock in
            let lost = Int32(i) - 15
            return RTCPReportBlock(
                ssrc: i, fractionLost: UInt8(i * 8), cumulativeLost: lost,
                extendedHighestSequence: i << 16, jitter: i * 3,
                lastSenderReport: i &* 0x0101_0101, delaySinceLastSenderReport: i * 65536
            )
        }
        let sr = RTCPSenderReport(
            ssrc: 7, ntpTimestamp: NTPTimestamp(rawValue: 0x0123_4567_89AB_CDEF), rtpTimestamp: 9,
            packetCount: 10, octetCount: 11, reports: blocks, profileExtension: [1, 2, 3, 4, 5, 6, 7, 8]
        )
        var buffer: [UInt8] = []
        sr.encode(into: &buffer)
        #expect(buffer.count == sr.encodedSize)
        #expect(buffer.count == 4 + 24 + 31 * 24 + 8)
        #expect(try RTCPSenderReport(parsing: buffer) == sr)

        let rr = RTCPReceiverReport(ssrc: 8, reports: Array(blocks.prefix(3)))
        buffer = []
        rr.encode(into: &buffer)
        #expect(try RTCPReceiverReport(parsing: buffer) == rr)
    }

    @Test func encoderWritesAtMostThirtyOneBlocks() throws {
        let rr = RTCPReceiverReport(ssrc: 1, reports: (0..<40).map { RTCPReportBlock(ssrc: UInt32($0)) })
        var buffer: [UInt8] = []
        rr.encode(into: &buffer)
        #expect(buffer[0] & 0x1F == 31)
        #expect(try RTCPReceiverReport(parsing: buffer).reports.map(\.ssrc) == (0..<31).map(UInt32.init))
    }

    @Test func profileExtensionIsPaddedToAWord() {
        let rr = RTCPReceiverReport(ssrc: 1, profileExtension: [0xAA])
        var buffer: [UInt8] = []
        rr.encode(into: &buffer)
        // v=2, count=0, RR, len=2 | ssrc | 0xAA 0 0 0
        #expect(buffer == [0x80, 0xC9, 0x00, 0x02, 0, 0, 0, 1, 0xAA, 0, 0, 0])
    }

    // MARK: errors

    @Test func reportCountExceedsLength() {
        // v=2, count=2, RR, len=7: room for one block only
        var bytes = Self.receiverReport
        bytes[0] = 0x82
        #expect(throws: RTCPError.reportCountExceedsLength) { try RTCPReceiverReport(parsing: bytes) }
        // v=2, count=1, SR, len=6: sender info but no block
        let sr: [UInt8] = [0x81, 0xC8, 0x00, 0x06] + Array(Self.senderReport[4..<28])
        #expect(throws: RTCPError.reportCountExceedsLength) { try RTCPSenderReport(parsing: sr) }
    }

    @Test func packetTooShort() {
        // v=2, count=0, SR, len=1: SSRC only, no sender info
        #expect(throws: RTCPError.packetTooShort) { try RTCPSenderReport(parsing: [0x80, 0xC8, 0x00, 0x01, 0, 0, 0, 1]) }
        // v=2, count=0, RR, len=0: not even the SSRC
        #expect(throws: RTCPError.packetTooShort) { try RTCPReceiverReport(parsing: [0x80, 0xC9, 0x00, 0x00]) }
    }

    @Test func wrongPacketType() {
        #expect(throws: RTCPError.wrongPacketType) { try RTCPSenderReport(parsing: Self.receiverReport) }
        #expect(throws: RTCPError.wrongPacketType) { try RTCPReceiverReport(parsing: Self.senderReport) }
    }
}
