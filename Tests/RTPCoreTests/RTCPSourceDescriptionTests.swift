import RTPCore
import Testing

@Suite("RTCP SDES (RFC 3550 §6.5)")
struct RTCPSourceDescriptionTests {
    static let twoChunks: [UInt8] = [
        // v=2, p=0, SC=2, SDES, len=7
        0x82, 0xCA, 0x00, 0x07,
        // chunk 1: ssrc=0x5EED0001
        0x5E, 0xED, 0x00, 0x01,
        // CNAME(1), length=3, "a@b"
        0x01, 0x03, 0x61, 0x40, 0x62,
        // END, then nulls to the 32-bit boundary
        0x00, 0x00, 0x00,
        // chunk 2: ssrc=0x5EED0002
        0x5E, 0xED, 0x00, 0x02,
        // NAME(2), length=2, "Ed"
        0x02, 0x02, 0x45, 0x64,
        // PRIV(8), length=4, prefix length=1, prefix "x", value "yz"
        0x08, 0x04, 0x01, 0x78, 0x79, 0x7A,
        // END, then a null to the boundary
        0x00, 0x00,
    ]

    @Test func decodesTwoChunks() throws {
        let sdes = try RTCPSourceDescription(parsing: Self.twoChunks)
        #expect(sdes.chunks.count == 2)
        #expect(sdes.chunks[0].source == 0x5EED_0001)
        #expect(sdes.chunks[0].items == [RTCPSDESItem(type: .cname, text: "a@b")])
        #expect(sdes.chunks[1].source == 0x5EED_0002)
        #expect(sdes.chunks[1].items[0] == RTCPSDESItem(type: .name, text: "Ed"))
        let priv = sdes.chunks[1].items[1]
        #expect(priv == RTCPSDESItem.privateExtension(prefix: Array("x".utf8), value: Array("yz".utf8)))
        #expect(priv.privateParts.map { Array($0.prefix) } == Array("x".utf8))
        #expect(priv.privateParts.map { Array($0.value) } == Array("yz".utf8))
        var out: [UInt8] = []
        sdes.encode(into: &out)
        #expect(out == Self.twoChunks)
    }

    @Test func itemsEndingOnABoundaryGetAWholeNullWord() throws {
        let sdes = RTCPSourceDescription(source: 0x0000_0001, cname: "ab")
        var out: [UInt8] = []
        sdes.encode(into: &out)
        #expect(
            out == [
                // v=2, p=0, SC=1, SDES, len=3
                0x81, 0xCA, 0x00, 0x03,
                // ssrc
                0x00, 0x00, 0x00, 0x01,
                // CNAME, length=2, "ab"
                0x01, 0x02, 0x61, 0x62,
                // END + 3 nulls: the list must be terminated even when already aligned
                0x00, 0x00, 0x00, 0x00,
            ]
        )
        #expect(try RTCPSourceDescription(parsing: out) == sdes)
    }

    @Test func everyItemTypeAndEmptyChunksRoundTrip() throws {
        let types: [RTCPSDESItemType] = [.cname, .name, .email, .phone, .location, .tool, .note]
        let sdes = RTCPSourceDescription(chunks: [
            RTCPSourceDescription.Chunk(source: 1, items: types.map { RTCPSDESItem(type: $0, text: "v\($0.rawValue)") }),
            RTCPSourceDescription.Chunk(source: 2, items: []),
            RTCPSourceDescription.Chunk(source: 3, items: [RTCPSDESItem(type: .note, value: Array(repeating: 0x41, count: 255))]),
            RTCPSourceDescription.Chunk(source: 4, items: [RTCPSDESItem(type: .tool, value: [])]),
        ])
        var out: [UInt8] = []
        sdes.encode(into: &out)
        #expect(out.count == sdes.encodedSize)
        #expect(out.count % 4 == 0)
        #expect(try RTCPSourceDescription(parsing: out) == sdes)
    }

    @Test func noChunksAtAll() throws {
        // v=2, p=0, SC=0, SDES, len=0
        let bytes: [UInt8] = [0x80, 0xCA, 0x00, 0x00]
        #expect(try RTCPSourceDescription(parsing: bytes).chunks.isEmpty)
    }

    @Test func nonUTF8TextSurvives() throws {
        let item = RTCPSDESItem(type: .name, value: [0xFF, 0xFE])
        let sdes = RTCPSourceDescription(chunks: [.init(source: 9, items: [item])])
        var out: [UInt8] = []
        sdes.encode(into: &out)
        #expect(try RTCPSourceDescription(parsing: out).chunks[0].items[0].value == [0xFF, 0xFE])
    }

    @Test func longValuesAreCutAt255Octets() throws {
        let sdes = RTCPSourceDescription(chunks: [.init(source: 9, items: [RTCPSDESItem(type: .note, value: Array(repeating: 7, count: 300))])])
        var out: [UInt8] = []
        sdes.encode(into: &out)
        #expect(try RTCPSourceDescription(parsing: out).chunks[0].items[0].value.count == 255)
    }

    // MARK: errors

    @Test func chunkOverrun() {
        // v=2, SC=1, SDES, len=2 | ssrc | CNAME, length=9 but 2 octets follow
        #expect(throws: RTCPError.sdesChunkOverrun) {
            try RTCPSourceDescription(parsing: [0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 0x61, 0x62])
        }
        // v=2, SC=1, SDES, len=2 | ssrc | CNAME, length=2, "ab": no END octet before the end
        #expect(throws: RTCPError.sdesChunkOverrun) {
            try RTCPSourceDescription(parsing: [0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 0x61, 0x62])
        }
        // v=2, SC=1, SDES, len=0: the chunk's SSRC is missing (body empty -> count mismatch)
        #expect(throws: RTCPError.sdesChunkCountMismatch) { try RTCPSourceDescription(parsing: [0x81, 0xCA, 0x00, 0x00]) }
    }

    @Test func chunkCountMismatch() {
        // SC=3 but two chunks present
        var bytes = Self.twoChunks
        bytes[0] = 0x83
        #expect(throws: RTCPError.sdesChunkCountMismatch) { try RTCPSourceDescription(parsing: bytes) }
        // SC=1 but two chunks present
        bytes[0] = 0x81
        #expect(throws: RTCPError.sdesChunkCountMismatch) { try RTCPSourceDescription(parsing: bytes) }
    }

    @Test func privPrefixOverrun() {
        // v=2, SC=1, SDES, len=3 | ssrc | PRIV, length=2, prefix length=5 (> 1 octet left), END
        #expect(throws: RTCPError.sdesPrivatePrefixOverrun) {
            try RTCPSourceDescription(parsing: [0x81, 0xCA, 0x00, 0x03, 0, 0, 0, 1, 0x08, 0x02, 0x05, 0x78, 0, 0, 0, 0])
        }
        // PRIV with length 0 has no prefix length octet at all
        #expect(throws: RTCPError.sdesPrivatePrefixOverrun) {
            try RTCPSourceDescription(parsing: [0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x08, 0x00, 0x00, 0x00])
        }
    }
}
