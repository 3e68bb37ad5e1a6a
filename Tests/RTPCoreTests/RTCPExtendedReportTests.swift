import RTPCore
import Testing

@Suite("RTCP XR (RFC 3611)")
struct RTCPExtendedReportTests {
    static let extendedReport: [UInt8] = [
        // v=2, p=0, reserved=0, XR, len=19
        0x80, 0xCF, 0x00, 0x13,
        // ssrc=0x5EED0001
        0x5E, 0xED, 0x00, 0x01,
        // BT=4 Receiver Reference Time, reserved, block length=2
        0x04, 0x00, 0x00, 0x02,
        // NTP msw=0xE9A1B2C3, lsw=0x40000000
        0xE9, 0xA1, 0xB2, 0xC3,
        0x40, 0x00, 0x00, 0x00,
        // BT=5 DLRR, reserved, block length=3 (one sub-block)
        0x05, 0x00, 0x00, 0x03,
        // ssrc_1=0x0BADCAFE, LRR=0xB2C34000, DLRR=0x00018000 (1.5 s)
        0x0B, 0xAD, 0xCA, 0xFE,
        0xB2, 0xC3, 0x40, 0x00,
        0x00, 0x01, 0x80, 0x00,
        // BT=7 VoIP Metrics, reserved, block length=8
        0x07, 0x00, 0x00, 0x08,
        // ssrc of source=0x0BADCAFE
        0x0B, 0xAD, 0xCA, 0xFE,
        // loss rate=13/256, discard rate=3/256, burst density=128/256, gap density=5/256
        0x0D, 0x03, 0x80, 0x05,
        // burst duration=120 ms, gap duration=4500 ms
        0x00, 0x78, 0x11, 0x94,
        // round trip delay=84 ms, end system delay=60 ms
        0x00, 0x54, 0x00, 0x3C,
        // signal level=-20 dBm0, noise level=127 (unavailable), RERL=127 (unavailable), Gmin=16
        0xEC, 0x7F, 0x7F, 0x10,
        // R factor=127 (unavailable), ext R=127 (unavailable), MOS-LQ=41 (4.1), MOS-CQ=39 (3.9)
        0x7F, 0x7F, 0x29, 0x27,
        // RX config: PLC=11 standard, JBA=11 adaptive, JB rate=2 | reserved | JB nominal=40 ms
        0xF2, 0x00, 0x00, 0x28,
        // JB maximum=80 ms, JB abs max=200 ms
        0x00, 0x50, 0x00, 0xC8,
        // BT=42 (unknown), type-specific=0x5A, block length=1
        0x2A, 0x5A, 0x00, 0x01,
        0x01, 0x02, 0x03, 0x04,
    ]

    @Test func decodesEveryBlock() throws {
        let xr = try RTCPExtendedReport(parsing: Self.extendedReport)
        #expect(xr.ssrc == 0x5EED_0001)
        #expect(xr.blocks.count == 4)
        #expect(xr.blocks[0] == .receiverReferenceTime(NTPTimestamp(seconds: 0xE9A1_B2C3, fraction: 0x4000_0000)))
        #expect(
            xr.blocks[1]
                == .dlrr([
                    RTCPExtendedReport.DLRRSubBlock(ssrc: 0x0BAD_CAFE, lastReceiverReport: 0xB2C3_4000, delaySinceLastReceiverReport: 0x0001_8000)
                ])
        )
        #expect(xr.blocks[3] == .unknown(type: 42, typeSpecific: 0x5A, body: [1, 2, 3, 4]))
        var out: [UInt8] = []
        xr.encode(into: &out)
        #expect(out == Self.extendedReport)
    }

    @Test func voipMetricsWithUnavailableRFactorAndMOSTimesTen() throws {
        let xr = try RTCPExtendedReport(parsing: Self.extendedReport)
        guard case .voipMetrics(let m) = xr.blocks[2] else {
            Issue.record("block 2 is not VoIP Metrics: \(xr.blocks[2])")
            return
        }
        #expect(m.ssrc == 0x0BAD_CAFE)
        #expect(m.lossRate == 13)
        #expect(m.lossFraction == 13.0 / 256)
        #expect(m.discardRate == 3)
        #expect(m.burstDensity == 128)
        #expect(m.gapDensity == 5)
        #expect(m.burstDuration == 120)
        #expect(m.gapDuration == 4500)
        #expect(m.roundTripDelay == 84)
        #expect(m.endSystemDelay == 60)
        #expect(m.signalLevel == -20)
        #expect(m.noiseLevel == nil)
        #expect(m.residualEchoReturnLoss == nil)
        #expect(m.gmin == 16)
        #expect(m.rFactor == nil)
        #expect(m.externalRFactor == nil)
        #expect(m.mosLQTenths == 41)
        #expect(m.mosLQ == 4.1)
        #expect(m.mosCQTenths == 39)
        #expect(m.mosCQ == 3.9)
        #expect(m.receiverConfiguration.packetLossConcealment == .standard)
        #expect(m.receiverConfiguration.jitterBufferAdaptivity == .adaptive)
        #expect(m.receiverConfiguration.jitterBufferRate == 2)
        #expect(m.jitterBufferNominal == 40)
        #expect(m.jitterBufferMaximum == 80)
        #expect(m.jitterBufferAbsoluteMaximum == 200)
    }

    @Test func voipMetricsValuesSurviveEncodeThenDecode() throws {
        let metrics = RTCPExtendedReport.VoIPMetrics(
            ssrc: 1, lossRate: 255, discardRate: 1, burstDensity: 2, gapDensity: 3,
            burstDuration: 0xFFFF, gapDuration: 5, roundTripDelay: 6, endSystemDelay: 7,
            signalLevel: -127, noiseLevel: 126, residualEchoReturnLoss: 0, gmin: 0,
            rFactor: 93, externalRFactor: 100, mosLQTenths: 10, mosCQTenths: 50,
            receiverConfiguration: .init(packetLossConcealment: .disabled, jitterBufferAdaptivity: .nonAdaptive, jitterBufferRate: 15),
            jitterBufferNominal: 8, jitterBufferMaximum: 9, jitterBufferAbsoluteMaximum: 10
        )
        let xr = RTCPExtendedReport(ssrc: 2, blocks: [.voipMetrics(metrics), .voipMetrics(.init(ssrc: 3))])
        var out: [UInt8] = []
        xr.encode(into: &out)
        #expect(out.count == xr.encodedSize)
        #expect(out.count == 4 + 4 + 2 * 36)
        #expect(try RTCPExtendedReport(parsing: out) == xr)
        // Defaults: every "unavailable" field goes out as 127 (second block at 44, its signal level at +20).
        #expect(Array(out[64..<72]) == [0x7F, 0x7F, 0x7F, 0x10, 0x7F, 0x7F, 0x7F, 0x7F])
    }

    @Test(arguments: UInt8.min...UInt8.max)
    func receiverConfigurationOctetIsTotal(raw: UInt8) {
        #expect(RTCPExtendedReport.ReceiverConfiguration(rawValue: raw).rawValue == raw)
    }

    @Test func otherBlocksRoundTrip() throws {
        let xr = RTCPExtendedReport(
            ssrc: 0,
            blocks: [
                .dlrr([]),
                .dlrr((0..<4).map { .init(ssrc: $0, lastReceiverReport: $0 + 1, delaySinceLastReceiverReport: $0 + 2) }),
                .receiverReferenceTime(NTPTimestamp(rawValue: .max)),
                .unknown(type: 1, typeSpecific: 0xFF, body: []),
                .unknown(type: 6, typeSpecific: 0, body: Array(0..<36)),
            ]
        )
        var out: [UInt8] = []
        xr.encode(into: &out)
        #expect(try RTCPExtendedReport(parsing: out) == xr)
        #expect(try RTCPExtendedReport(parsing: [0x80, 0xCF, 0x00, 0x01, 0, 0, 0, 9]) == RTCPExtendedReport(ssrc: 9, blocks: []))
    }

    @Test func unknownBlockBodyIsPaddedToAWord() throws {
        let xr = RTCPExtendedReport(ssrc: 0, blocks: [.unknown(type: 99, typeSpecific: 0, body: [1])])
        var out: [UInt8] = []
        xr.encode(into: &out)
        // v=2, XR, len=2 | ssrc | BT=99, 0, block length=1 | 1 0 0 0
        #expect(out == [0x80, 0xCF, 0x00, 0x03, 0, 0, 0, 0, 99, 0, 0, 1, 1, 0, 0, 0])
    }

    // MARK: errors

    @Test func blockBeyondPacket() {
        // v=2, XR, len=2 | ssrc | BT=7, block length=8 but nothing follows
        #expect(throws: RTCPError.xrBlockBeyondPacket) {
            try RTCPExtendedReport(parsing: [0x80, 0xCF, 0x00, 0x02, 0, 0, 0, 1, 0x07, 0x00, 0x00, 0x08])
        }
        // v=2, XR, len=3 | ssrc | BT=42, block length=9, but one word follows
        #expect(throws: RTCPError.xrBlockBeyondPacket) {
            try RTCPExtendedReport(parsing: [0x80, 0xCF, 0x00, 0x03, 0, 0, 0, 1, 0x2A, 0x00, 0x00, 0x09, 0, 0, 0, 0])
        }
    }

    @Test func fixedSizeBlocksWithAnotherLength() {
        // RRT with block length=1
        #expect(throws: RTCPError.xrBlockLengthInvalid) {
            try RTCPExtendedReport(parsing: [0x80, 0xCF, 0x00, 0x03, 0, 0, 0, 1, 0x04, 0x00, 0x00, 0x01, 0, 0, 0, 0])
        }
        // DLRR with block length=2 (not a multiple of 3)
        #expect(throws: RTCPError.xrBlockLengthInvalid) {
            try RTCPExtendedReport(parsing: [0x80, 0xCF, 0x00, 0x04, 0, 0, 0, 1, 0x05, 0x00, 0x00, 0x02] + Array(repeating: 0, count: 8))
        }
        // VoIP Metrics with block length=7
        #expect(throws: RTCPError.xrBlockLengthInvalid) {
            try RTCPExtendedReport(parsing: [0x80, 0xCF, 0x00, 0x09, 0, 0, 0, 1, 0x07, 0x00, 0x00, 0x07] + Array(repeating: 0, count: 28))
        }
    }

    @Test func missingReporterSSRC() {
        // v=2, XR, len=0
        #expect(throws: RTCPError.packetTooShort) { try RTCPExtendedReport(parsing: [0x80, 0xCF, 0x00, 0x00]) }
    }
}
