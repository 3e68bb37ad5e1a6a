import Pcap
import Testing

/// Random and mutated input must end in packets, a clean end or a `PcapError` — never a crash
/// or a hang — and the tally must account for every packet.
@Suite struct GarbageTests {
    /// Reads to the end or the first error, whole or in random chunks; checks the bookkeeping.
    static func exercise(_ bytes: [UInt8], chunked: Bool, using generator: inout SeededGenerator) {
        var reader = UDPDatagramReader(limits: .init(maximumPacketLength: 4096, maximumBlockLength: 8192))
        var position = 0
        var steps = 0
        func drain() -> Bool {
            do {
                while try reader.next() != nil {
                    steps += 1
                    if steps > bytes.count + 10 {
                        Issue.record("more datagrams than bytes: the reader is not making progress")
                        return false
                    }
                }
                return true
            } catch {
                return false
            }
        }
        if chunked {
            while position < bytes.count {
                let end = min(bytes.count, position + Int.random(in: 1...64, using: &generator))
                reader.append(bytes[position..<end])
                position = end
                guard drain() else { break }
            }
        } else {
            reader.append(bytes)
        }
        reader.finish()
        _ = drain()
        let tally = reader.tally
        #expect(tally.packets == tally.udpDatagrams + tally.setAside)
        #expect(tally.packets == reader.captureReader.packetCount)
    }

    @Test func randomBytesBehindEachMagic() {
        var generator = SeededGenerator(seed: 0x5EED)
        let heads: [[UInt8]] = [
            Array(Vectors.classicLittleMicro.prefix(24)), Array(Vectors.classicBigNano.prefix(24)),
            Vectors.sectionHeaderLittle, Vectors.sectionHeaderBig, [],
        ]
        for _ in 0..<400 {
            let head = heads.randomElement(using: &generator)!
            let tail = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            Self.exercise(head + tail, chunked: Bool.random(using: &generator), using: &generator)
        }
    }

    @Test func mutatedValidCaptures() throws {
        var generator = SeededGenerator(seed: 42)
        var classic = PcapWriter(linkType: .ethernet, precision: .nanoseconds)
        var ng = PcapNGWriter(interfaces: [CaptureInterface(linkType: .linuxSLL2, snapLength: 0),
                                           CaptureInterface(linkType: .null, snapLength: 0, resolution: .powerOfTwo(24))])
        for index in 0..<8 {
            let (from, to) = index % 2 == 0 ? (Vectors.source4, Vectors.destination4) : (Vectors.source6, Vectors.destination6)
            let t = CaptureTimestamp(seconds: 1_700_000_000 + Int64(index))
            try classic.writeUDP(from: from, to: to, payload: Vectors.payload, at: t)
            try ng.writeUDP(from: from, to: to, payload: Vectors.payload, interface: index % 2, at: t)
        }
        let seeds = [classic.bytes, ng.bytes, Vectors.pcapngLittle + Vectors.pcapngBigSection, Vectors.classicBigNano]
        for _ in 0..<600 {
            var bytes = seeds.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
                case 2: bytes.removeSubrange(index..<min(bytes.count, index + Int.random(in: 1...8, using: &generator)))
                default: bytes.insert(contentsOf: [0xFF, 0x00, 0x7F, 0x80].prefix(Int.random(in: 1...4, using: &generator)), at: index)
                }
                if bytes.isEmpty { break }
            }
            Self.exercise(bytes, chunked: Bool.random(using: &generator), using: &generator)
        }
    }

    @Test func randomFramesOnEveryLinkType() {
        var generator = SeededGenerator(seed: 99)
        let linkTypes: [LinkType] = [.null, .ethernet, .raw, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2, LinkType(rawValue: 147)]
        let starts: [[UInt8]] = [[], [0x45], [0x60], [0x4F, 0x00], Array(Vectors.ipv4UDP.prefix(20)), Array(Vectors.ipv6UDP.prefix(40))]
        var tally = CaptureTally()
        for _ in 0..<3000 {
            let linkType = linkTypes.randomElement(using: &generator)!
            let garbage = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let data = starts.randomElement(using: &generator)! + garbage
            let original = Bool.random(using: &generator) ? data.count : data.count + 50
            tally.count(decode(data, linkType: linkType, originalLength: original))
        }
        #expect(tally.packets == 3000)
        #expect(tally.packets == tally.udpDatagrams + tally.setAside)
        #expect(tally.malformed > 0 && tally.truncated > 0 && tally.unsupportedLinkType > 0)
    }
}
