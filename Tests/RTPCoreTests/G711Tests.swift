import RTPCore
import Testing

/// Expands `G711Vectors`' run-length encoded table into the code of every sample
/// (index 0 = sample −32768).
private func expand(_ runs: String) throws -> [UInt8] {
    let parsed = try runs.split(separator: "\n").map { line in
        let fields = line.split(separator: " ")
        return (first: try #require(Int(fields[0])), code: try #require(UInt8(fields[1], radix: 16)))
    }
    var table: [UInt8] = []
    table.reserveCapacity(65536)
    for (index, run) in parsed.enumerated() {
        let end = index + 1 < parsed.count ? parsed[index + 1].first : 32768
        table.append(contentsOf: repeatElement(run.code, count: end - run.first))
    }
    try #require(parsed.first?.first == -32768)
    try #require(table.count == 65536)
    return table
}

@Suite struct G711Tests {
    /// The reference tables of a law (kept out of the test arguments so failures print short).
    static func reference(_ law: G711Law) -> (decode: [Int16], encodeRuns: String) {
        switch law {
        case .muLaw: (G711Vectors.muLawDecode, G711Vectors.muLawEncodeRuns)
        case .aLaw: (G711Vectors.aLawDecode, G711Vectors.aLawEncodeRuns)
        }
    }

    @Test(arguments: G711Law.allCases)
    func decodesAll256CodesLikeTheReference(law: G711Law) {
        let decode = Self.reference(law).decode
        #expect(decode.count == 256)
        for code in 0...255 {
            #expect(law.decode(UInt8(code)) == decode[code], "code \(code)")
        }
    }

    @Test(arguments: G711Law.allCases)
    func encodesEvery16BitSampleLikeTheReference(law: G711Law) throws {
        let expected = try expand(Self.reference(law).encodeRuns)
        var mismatches = 0
        for sample in Int16.min...Int16.max where law.encode(sample) != expected[Int(sample) + 32768] {
            mismatches += 1
            if mismatches < 5 { Issue.record("\(law) sample \(sample): \(law.encode(sample)) ≠ \(expected[Int(sample) + 32768])") }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: G711Law.allCases)
    func bufferCodecsMatchPerSampleCodecs(law: G711Law) {
        let samples: [Int16] = [0, 1, -1, 7, -8, 1000, -1000, 32767, -32768, 12345]
        var codes: [UInt8] = [0xEE]  // appended after what is there
        law.encode(samples, into: &codes)
        #expect(codes == [0xEE] + samples.map(law.encode))
        var decoded: [Int16] = []
        law.decode(codes.dropFirst(), into: &decoded)
        #expect(decoded == codes.dropFirst().map(law.decode))
    }

    @Test(arguments: G711Law.allCases)
    func decodedValuesAreFixedPoints(law: G711Law) {
        // Re-encoding a decoded value gives back a code that decodes to the same value.
        for code in 0...255 {
            let value = law.decode(UInt8(code))
            #expect(law.decode(law.encode(value)) == value)
        }
    }

    /// Values checked by hand against G.711 Tables 1a and 2a (see G711.swift).
    @Test func handCheckedTableValues() {
        #expect(G711Law.muLaw.decode(0xFF) == 0)
        #expect(G711Law.muLaw.decode(0x7F) == 0)
        #expect(G711Law.muLaw.decode(0x80) == 32124)  // 8031 × 4
        #expect(G711Law.muLaw.decode(0x00) == -32124)
        #expect(G711Law.muLaw.decode(0xEF) == 132)  // 33 × 4
        #expect(G711Law.muLaw.encode(0) == 0xFF)
        #expect(G711Law.muLaw.encode(Int16.max) == 0x80)
        #expect(G711Law.muLaw.encode(Int16.min) == 0x00)

        #expect(G711Law.aLaw.decode(0xD5) == 8)
        #expect(G711Law.aLaw.decode(0x55) == -8)
        #expect(G711Law.aLaw.decode(0xAA) == 32256)  // 4032 × 8
        #expect(G711Law.aLaw.decode(0x2A) == -32256)
        #expect(G711Law.aLaw.encode(0) == 0xD5)
        #expect(G711Law.aLaw.encode(-1) == 0x55)
        #expect(G711Law.aLaw.encode(Int16.max) == 0xAA)
        #expect(G711Law.aLaw.encode(Int16.min) == 0x2A)
    }

    @Test func payloadTypesAndSilence() {
        #expect(G711Law.muLaw.rtpPayloadType == 0)
        #expect(G711Law.aLaw.rtpPayloadType == 8)
        #expect(G711Law.muLaw.encode(0) == G711Law.muLaw.silenceCode)
        #expect(G711Law.aLaw.encode(0) == G711Law.aLaw.silenceCode)
    }
}
