import RTPCore
import Testing

@Suite("RTP packet (RFC 3550 §5.1, §5.3.1, A.1)")
struct RTPPacketTests {
    /// A PCMU packet with no options.
    static let plain: [UInt8] = [
        // v=2, p=0, x=0, cc=0 | m=1, pt=0 | seq=0x1234
        0x80, 0x80, 0x12, 0x34,
        // timestamp=0xDEADBEEF
        0xDE, 0xAD, 0xBE, 0xEF,
        // ssrc=0x01020304
        0x01, 0x02, 0x03, 0x04,
        // payload (3 octets)
        0xFF, 0xFE, 0x7F,
    ]

    /// Every optional part at once: two CSRCs, a one-byte-form extension, padding.
    static let everything: [UInt8] = [
        // v=2, p=1, x=1, cc=2 | m=0, pt=8 | seq=65535
        0xB2, 0x08, 0xFF, 0xFF,
        // timestamp=160
        0x00, 0x00, 0x00, 0xA0,
        // ssrc=0xCAFEBABE
        0xCA, 0xFE, 0xBA, 0xBE,
        // csrc[0]=0x11111111, csrc[1]=0x22222222
        0x11, 0x11, 0x11, 0x11,
        0x22, 0x22, 0x22, 0x22,
        // extension: profile=0xBEDE, length=1 word
        0xBE, 0xDE, 0x00, 0x01,
        // id=1, L=0 (1 octet) data=0xAA | id=2, L=0 data=0xBB
        0x10, 0xAA, 0x20, 0xBB,
        // payload (2 octets)
        0xD5, 0xD5,
        // padding: 3 octets, count=3
        0x00, 0x00, 0x03,
    ]

    @Test func decodesThePlainVector() throws {
        let packet = try RTPPacket(parsing: Self.plain)
        #expect(packet.marker)
        #expect(packet.payloadType == 0)
        #expect(packet.sequenceNumber == 0x1234)
        #expect(packet.timestamp == 0xDEAD_BEEF)
        #expect(packet.ssrc == 0x0102_0304)
        #expect(packet.csrcs.isEmpty)
        #expect(packet.headerExtension == nil)
        #expect(packet.payload == [0xFF, 0xFE, 0x7F])
        #expect(packet.paddingCount == 0)
        #expect(packet.encodedSize == Self.plain.count)
        #expect(packet.encoded() == Self.plain)
    }

    @Test func decodesEveryOptionalPart() throws {
        let packet = try RTPPacket(parsing: Self.everything)
        #expect(!packet.marker)
        #expect(packet.payloadType == 8)
        #expect(packet.sequenceNumber == 65535)
        #expect(packet.timestamp == 160)
        #expect(packet.ssrc == 0xCAFE_BABE)
        #expect(packet.csrcs == [0x1111_1111, 0x2222_2222])
        #expect(packet.headerExtension?.profile == 0xBEDE)
        #expect(packet.headerExtension?.data == [0x10, 0xAA, 0x20, 0xBB])
        #expect(packet.payload == [0xD5, 0xD5])
        #expect(packet.paddingCount == 3)
        #expect(packet.encoded() == Self.everything)
        #expect(
            try packet.headerExtension?.elements()
                == [RTPExtensionElement(id: 1, data: [0xAA]), RTPExtensionElement(id: 2, data: [0xBB])]
        )
    }

    @Test func valuesSurviveEncodeThenDecode() throws {
        let packets = [
            RTPPacket(payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0),
            RTPPacket(
                payloadType: 101, sequenceNumber: 7, timestamp: 0xFFFF_FFFF, ssrc: 9, marker: true,
                csrcs: Array(1...15), headerExtension: RTPHeaderExtension(profile: 0x1234, data: [1, 2, 3, 4, 5, 6, 7, 8]),
                payload: Array(repeating: 0x55, count: 160), paddingCount: 255
            ),
            RTPPacket(payloadType: 127, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: [], paddingCount: 1),
        ]
        for packet in packets {
            var buffer: [UInt8] = [0xEE]  // encode appends after what is there
            packet.encode(into: &buffer)
            #expect(buffer.count == 1 + packet.encodedSize)
            #expect(try RTPPacket(parsing: buffer[1...]) == packet)
        }
    }

    @Test func viewReadsTheHotPathFieldsWithoutCopying() throws {
        // Parse from the middle of a larger buffer: offsets must be relative to the slice.
        let buffer: [UInt8] = [0x99, 0x99] + Self.everything + [0x99]
        let slice = buffer[2..<(2 + Self.everything.count)]
        let view = try RTPPacketView(parsing: slice)
        #expect(view.payloadType == 8)
        #expect(view.sequenceNumber == 65535)
        #expect(view.timestamp == 160)
        #expect(view.ssrc == 0xCAFE_BABE)
        #expect(!view.marker)
        #expect(view.csrcCount == 2)
        #expect(view.hasExtension)
        #expect(view.paddingCount == 3)
        #expect(view.payloadOffset == 28)
        #expect(view.payloadCount == 2)
        #expect(view.packetCount == Self.everything.count)
        #expect(Array(view.payload(in: slice)) == [0xD5, 0xD5])

        let plain = try RTPPacketView(parsing: Self.plain)
        #expect(plain.marker)
        #expect(Array(plain.payload(in: Self.plain)) == [0xFF, 0xFE, 0x7F])
    }

    @Test func paddingOnlyPacketIsAccepted() throws {
        // v=2, p=1 | pt=0 | seq=1 | ts=0 | ssrc=0 | padding count=4 (nothing but padding)
        let bytes: [UInt8] = [0xA0, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04]
        let packet = try RTPPacket(parsing: bytes)
        #expect(packet.payload.isEmpty)
        #expect(packet.paddingCount == 4)
        #expect(packet.encoded() == bytes)
    }

    @Test func encoderWritesAtMostFifteenCSRCs() throws {
        let packet = RTPPacket(payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, csrcs: Array(0..<20))
        let bytes = packet.encoded()
        #expect(bytes[0] & 0x0F == 15)
        #expect(bytes.count == 12 + 15 * 4)
        #expect(try RTPPacket(parsing: bytes).csrcs == Array(0..<15))
    }

    @Test func extensionDataIsPaddedToAWord() {
        let ext = RTPHeaderExtension(profile: 1, data: [1, 2, 3, 4, 5])
        #expect(ext.data == [1, 2, 3, 4, 5, 0, 0, 0])
        #expect(ext.lengthInWords == 2)
        #expect(ext.encodedSize == 12)
    }

    // MARK: errors, one per A.1 check

    static func header(_ b0: UInt8, _ b1: UInt8 = 0x00) -> [UInt8] {
        [b0, b1, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]
    }

    @Test(arguments: [0, 1, 11])
    func truncatedFixedHeader(length: Int) {
        #expect(throws: RTPError.truncatedFixedHeader) { try RTPPacket(parsing: Array(Self.plain.prefix(length))) }
        #expect(throws: RTPError.truncatedFixedHeader) { try RTPPacketView(parsing: Array(Self.plain.prefix(length))) }
    }

    @Test(arguments: [UInt8(0x00), 0x40, 0xC0])
    func versionOtherThanTwo(b0: UInt8) {
        // v=0, v=1, v=3
        #expect(throws: RTPError.unsupportedVersion) { try RTPPacket(parsing: Self.header(b0)) }
    }

    @Test(arguments: [UInt8(72), 73, 74, 75, 76])
    func payloadTypesThatCollideWithRTCP(pt: UInt8) {
        // m=1 makes the second octet 200...204: an RTCP SR/RR/SDES/BYE/APP header.
        #expect(throws: RTPError.payloadTypeConflictsWithRTCP) { try RTPPacket(parsing: Self.header(0x80, 0x80 | pt)) }
        #expect(throws: RTPError.payloadTypeConflictsWithRTCP) { try RTPPacket(parsing: Self.header(0x80, pt)) }
    }

    @Test func neighboursOfTheRTCPRangeAreAccepted() throws {
        #expect(try RTPPacket(parsing: Self.header(0x80, 71)).payloadType == 71)
        #expect(try RTPPacket(parsing: Self.header(0x80, 77)).payloadType == 77)
    }

    @Test func anRTCPReceiverReportIsNotRTP() {
        // v=2, p=0, count=0, RR(201), len=1 | ssrc — arrives on the RTP port
        let rr: [UInt8] = [0x80, 0xC9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0]
        #expect(throws: RTPError.payloadTypeConflictsWithRTCP) { try RTPPacketView(parsing: rr) }
    }

    @Test func csrcCountBeyondPacket() {
        // v=2, cc=1, but no CSRC follows the fixed header
        #expect(throws: RTPError.csrcCountBeyondPacket) { try RTPPacket(parsing: Self.header(0x81)) }
        // cc=15 with two CSRCs present
        #expect(throws: RTPError.csrcCountBeyondPacket) {
            try RTPPacket(parsing: Self.header(0x8F) + [0, 0, 0, 1, 0, 0, 0, 2])
        }
    }

    @Test func headerExtensionBeyondPacket() {
        // x=1 and no room for the 4-octet extension header
        #expect(throws: RTPError.headerExtensionBeyondPacket) { try RTPPacket(parsing: Self.header(0x90) + [0xBE, 0xDE]) }
        // x=1, profile=0xBEDE, length=2 words, only 1 word present
        #expect(throws: RTPError.headerExtensionBeyondPacket) {
            try RTPPacket(parsing: Self.header(0x90) + [0xBE, 0xDE, 0x00, 0x02, 0x10, 0xAA, 0x00, 0x00])
        }
    }

    @Test func paddingCountZero() {
        // p=1, payload [0xD5], last octet (the count) = 0
        #expect(throws: RTPError.paddingCountZero) { try RTPPacket(parsing: Self.header(0xA0) + [0xD5, 0x00]) }
    }

    @Test func paddingBeyondPayload() {
        // p=1, two octets after the header, count = 3
        #expect(throws: RTPError.paddingBeyondPayload) { try RTPPacket(parsing: Self.header(0xA0) + [0xD5, 0x03]) }
        // p=1, nothing after the header: the count octet is the SSRC's last octet (1), which
        // reaches into the header
        #expect(throws: RTPError.paddingBeyondPayload) { try RTPPacket(parsing: Self.header(0xA0)) }
        // p=1 with CSRC and extension: the count may not reach into them either
        #expect(throws: RTPError.paddingBeyondPayload) {
            try RTPPacket(parsing: Self.header(0xB1) + [0, 0, 0, 9] + [0x00, 0x01, 0x00, 0x00] + [0x00, 0x03])
        }
    }
}

@Suite("RTP header extension elements (RFC 8285)")
struct RTPPacketExtensionElementTests {
    @Test func oneByteFormWithPaddingBetweenElements() throws {
        let ext = RTPHeaderExtension(
            profile: 0xBEDE,
            data: [
                // id=1, L=0: 1 octet
                0x10, 0x01,
                // id=2, L=1: 2 octets
                0x21, 0x02, 0x03,
                // two padding octets
                0x00, 0x00,
                // id=3, L=3: 4 octets
                0x33, 0x04, 0x05, 0x06, 0x07,
            ]
        )
        #expect(ext.isOneByteForm)
        #expect(ext.data.count == 12)
        #expect(
            try ext.elements() == [
                RTPExtensionElement(id: 1, data: [0x01]),
                RTPExtensionElement(id: 2, data: [0x02, 0x03]),
                RTPExtensionElement(id: 3, data: [0x04, 0x05, 0x06, 0x07]),
            ]
        )
    }

    @Test func idFifteenStopsProcessing() throws {
        // id=1 L=0 0xAA | id=15 (reserved): the rest is not looked at, even garbage
        let ext = RTPHeaderExtension(profile: 0xBEDE, data: [0x10, 0xAA, 0xF7, 0xFF])
        #expect(try ext.elements() == [RTPExtensionElement(id: 1, data: [0xAA])])
    }

    @Test func twoByteForm() throws {
        let ext = RTPHeaderExtension(
            profile: 0x1003,  // 0x100, appbits=3
            data: [
                // id=1, L=0 (empty element)
                0x01, 0x00,
                // id=200, L=3
                0xC8, 0x03, 0x0A, 0x0B, 0x0C,
                // padding
                0x00,
            ]
        )
        #expect(ext.isTwoByteForm)
        #expect(
            try ext.elements() == [
                RTPExtensionElement(id: 1, data: []),
                RTPExtensionElement(id: 200, data: [0x0A, 0x0B, 0x0C]),
            ]
        )
    }

    @Test func buildersRoundTrip() throws {
        let oneByte = [RTPExtensionElement(id: 1, data: [0x7F]), RTPExtensionElement(id: 14, data: Array(0..<16))]
        let a = try RTPHeaderExtension(oneByteElements: oneByte)
        #expect(a.profile == 0xBEDE)
        #expect(a.data.count % 4 == 0)
        #expect(try a.elements() == oneByte)

        let twoByte = [RTPExtensionElement(id: 255, data: Array(repeating: 1, count: 255)), RTPExtensionElement(id: 16, data: [])]
        let b = try RTPHeaderExtension(twoByteElements: twoByte, appBits: 0xA)
        #expect(b.profile == 0x100A)
        #expect(try b.elements() == twoByte)
    }

    @Test func elementErrors() {
        #expect(throws: RTPError.notAnRFC8285Extension) { try RTPHeaderExtension(profile: 0x1234, data: []).elements() }
        // id=1, L=3 (4 octets) but only 3 remain
        #expect(throws: RTPError.extensionElementBeyondData) {
            try RTPHeaderExtension(profile: 0xBEDE, data: [0x13, 0x01, 0x02, 0x03]).elements()
        }
        // two-byte: id=1, L=9 with 2 octets
        #expect(throws: RTPError.extensionElementBeyondData) {
            try RTPHeaderExtension(profile: 0x1000, data: [0x01, 0x09, 0x00, 0x00]).elements()
        }
        // one-byte: id=0 with L=2 is not padding
        #expect(throws: RTPError.extensionElementMalformed) {
            try RTPHeaderExtension(profile: 0xBEDE, data: [0x02, 0x01, 0x02, 0x03]).elements()
        }
        #expect(throws: RTPError.extensionElementIDOutOfRange) {
            try RTPHeaderExtension(oneByteElements: [RTPExtensionElement(id: 15, data: [1])])
        }
        #expect(throws: RTPError.extensionElementIDOutOfRange) {
            try RTPHeaderExtension(twoByteElements: [RTPExtensionElement(id: 0, data: [1])])
        }
        #expect(throws: RTPError.extensionElementLengthOutOfRange) {
            try RTPHeaderExtension(oneByteElements: [RTPExtensionElement(id: 1, data: [])])
        }
        #expect(throws: RTPError.extensionElementLengthOutOfRange) {
            try RTPHeaderExtension(oneByteElements: [RTPExtensionElement(id: 1, data: Array(repeating: 0, count: 17))])
        }
        #expect(throws: RTPError.extensionElementLengthOutOfRange) {
            try RTPHeaderExtension(twoByteElements: [RTPExtensionElement(id: 1, data: Array(repeating: 0, count: 256))])
        }
    }
}
