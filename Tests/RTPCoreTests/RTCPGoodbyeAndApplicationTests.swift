import RTPCore
import Testing

@Suite("RTCP BYE and APP (RFC 3550 §6.6, §6.7)")
struct RTCPGoodbyeAndApplicationTests {
    static let goodbye: [UInt8] = [
        // v=2, p=0, SC=2, BYE, len=3
        0x82, 0xCB, 0x00, 0x03,
        // ssrc 1, ssrc 2
        0x5E, 0xED, 0x00, 0x01,
        0x5E, 0xED, 0x00, 0x02,
        // reason length=3, "bye" (fills the word: no padding)
        0x03, 0x62, 0x79, 0x65,
    ]

    static let application: [UInt8] = [
        // v=2, p=0, subtype=3, APP, len=3
        0x83, 0xCC, 0x00, 0x03,
        // ssrc
        0x5E, 0xED, 0x00, 0x01,
        // name "EARS"
        0x45, 0x41, 0x52, 0x53,
        // application data
        0xDE, 0xAD, 0xBE, 0xEF,
    ]

    @Test func decodesGoodbyeWithReason() throws {
        let bye = try RTCPGoodbye(parsing: Self.goodbye)
        #expect(bye.sources == [0x5EED_0001, 0x5EED_0002])
        #expect(bye.reasonText == "bye")
        var out: [UInt8] = []
        bye.encode(into: &out)
        #expect(out == Self.goodbye)
    }

    @Test func goodbyeReasonIsPaddedWithNulls() throws {
        let bye = RTCPGoodbye(sources: [1], reasonText: "ok")
        var out: [UInt8] = []
        bye.encode(into: &out)
        // v=2, SC=1, BYE, len=2 | ssrc | length=2, "ok", null
        #expect(out == [0x81, 0xCB, 0x00, 0x02, 0, 0, 0, 1, 0x02, 0x6F, 0x6B, 0x00])
        #expect(try RTCPGoodbye(parsing: out) == bye)
    }

    @Test func goodbyeWithoutReasonAndWithoutSources() throws {
        // v=2, SC=1, BYE, len=1 | ssrc
        let one: [UInt8] = [0x81, 0xCB, 0x00, 0x01, 0, 0, 0, 7]
        #expect(try RTCPGoodbye(parsing: one) == RTCPGoodbye(sources: [7]))
        #expect(try RTCPGoodbye(parsing: one).reason == nil)
        // v=2, SC=0, BYE, len=0
        #expect(try RTCPGoodbye(parsing: [0x80, 0xCB, 0x00, 0x00]) == RTCPGoodbye(sources: []))
        for bye in [RTCPGoodbye(sources: []), RTCPGoodbye(sources: [1, 2, 3], reason: []), RTCPGoodbye(sources: [4], reasonText: "a longer reason")] {
            var out: [UInt8] = []
            bye.encode(into: &out)
            #expect(try RTCPGoodbye(parsing: out) == bye)
        }
    }

    @Test func goodbyeErrors() {
        // v=2, SC=3, BYE, len=2: room for two SSRCs only
        let threeClaimed: [UInt8] = [0x83, 0xCB, 0x00, 0x02, 0x5E, 0xED, 0x00, 0x01, 0x5E, 0xED, 0x00, 0x02]
        #expect(throws: RTCPError.byeSourceCountExceedsLength) { try RTCPGoodbye(parsing: threeClaimed) }
        // reason length=10 with 3 octets
        var bytes = Self.goodbye
        bytes[12] = 10
        #expect(throws: RTCPError.byeReasonOverrun) { try RTCPGoodbye(parsing: bytes) }
    }

    @Test func decodesApplicationAsOpaque() throws {
        let app = try RTCPApplication(parsing: Self.application)
        #expect(app.subtype == 3)
        #expect(app.source == 0x5EED_0001)
        #expect(app.nameText == "EARS")
        #expect(app.data == [0xDE, 0xAD, 0xBE, 0xEF])
        var out: [UInt8] = []
        app.encode(into: &out)
        #expect(out == Self.application)
        #expect(try RTCPPacket(parsing: Self.application) == .application(app))
    }

    @Test func applicationTooShort() {
        // v=2, subtype=0, APP, len=1: SSRC but no name
        #expect(throws: RTCPError.packetTooShort) { try RTCPApplication(parsing: [0x80, 0xCC, 0x00, 0x01, 0, 0, 0, 1]) }
    }
}
