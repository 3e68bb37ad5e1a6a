import RTPCore
import Testing

/// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator so every run feeds the same bytes.
struct WireGarbageGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    /// `seed` with a few octets overwritten and a few bits flipped, sometimes cut or extended: gets
    /// past the first checks far more often than uniform noise does.
    mutating func mutation(of seed: [UInt8]) -> [UInt8] {
        var bytes = seed
        for _ in 0..<(1 + below(4)) where !bytes.isEmpty {
            let i = below(bytes.count)
            if next() & 1 == 0 { bytes[i] ^= UInt8(1) << UInt8(below(8)) } else { bytes[i] = UInt8(truncatingIfNeeded: next()) }
        }
        switch below(6) {
        case 0: bytes.removeLast(min(bytes.count, below(8)))
        case 1: bytes += self.bytes(below(8))
        default: break
        }
        return bytes
    }
}

/// Whatever bytes arrive, the decoders answer with a value or a specific error — never a crash or
/// a hang — and whatever decodes re-encodes to bytes that decode to the same value.
@Suite("Garbage never crashes the wire decoders")
struct RTPPacketGarbageTests {
    static let seeds: [[UInt8]] = [
        RTPPacketTests.plain, RTPPacketTests.everything,
        RTCPReportsTests.receiverReport, RTCPReportsTests.senderReport,
        RTCPSourceDescriptionTests.twoChunks, RTCPGoodbyeAndApplicationTests.goodbye,
        RTCPGoodbyeAndApplicationTests.application, RTCPExtendedReportTests.extendedReport,
        RTCPCompoundTests.datagram, RTCPCompoundTests.pictureLoss,
        [0x05, 0x8A, 0x03, 0x20, 0x06, 0x0A, 0x00, 0xA0],
    ]

    struct Tally {
        var rtp = 0
        var rtcp = 0
        var events = 0
    }

    static func check(_ bytes: [UInt8], tally: inout Tally) throws {
        // A view accepts exactly what the owning decoder accepts, and agrees with it.
        let view = try? RTPPacketView(parsing: bytes)
        let packet = try? RTPPacket(parsing: bytes)
        #expect((view == nil) == (packet == nil), "\(bytes)")
        if let packet, let view {
            tally.rtp += 1
            #expect(view.sequenceNumber == packet.sequenceNumber && view.ssrc == packet.ssrc && view.payloadCount == packet.payload.count)
            #expect(try RTPPacket(parsing: packet.encoded()) == packet, "\(bytes)")
            if let ext = packet.headerExtension, let elements = try? ext.elements(), ext.isOneByteForm {
                // Rebuilding may fail on an element the builder refuses (e.g. 16 octets is fine, 0 is not)
                if let rebuilt = try? RTPHeaderExtension(oneByteElements: elements) {
                    #expect(try rebuilt.elements() == elements)
                }
            }
        }

        if let compound = try? RTCPCompoundPacket(parsing: bytes) {
            tally.rtcp += 1
            #expect(try RTCPCompoundPacket(parsing: compound.encoded()) == compound, "\(bytes)")
        }
        if let single = try? RTCPPacket(parsing: bytes) {
            var out: [UInt8] = []
            single.encode(into: &out)
            #expect(out.count == single.encodedSize)
            #expect(try RTCPPacket(parsing: out) == single, "\(bytes)")
        }

        if let reports = try? TelephoneEvent.reports(in: bytes[...]) {
            tally.events += 1
            var out: [UInt8] = []
            for report in reports { report.encode(into: &out) }
            #expect(out == bytes)
            var receiver = TelephoneEventReceiver()
            _ = try? receiver.receive(timestamp: 0, sequenceNumber: 0, marker: true, payload: bytes, arrival: .zero)
        }
    }

    @Test func uniformNoise() throws {
        var random = WireGarbageGenerator(seed: 0x5EED_0000_0000_0001)
        var tally = Tally()
        for _ in 0..<20_000 {
            try Self.check(random.bytes(random.below(72)), tally: &tally)
        }
        // Uniform noise rarely forms RTCP, but RTP (about 1 in 40 here: version 2, then the CSRC,
        // extension and padding lengths must fit) and 4-octet event payloads do: the round-trip
        // checks above really ran.
        #expect(tally.rtp > 400)
        #expect(tally.events > 100)
    }

    @Test func mutatedValidPackets() throws {
        var random = WireGarbageGenerator(seed: 0x5EED_0000_0000_0002)
        var tally = Tally()
        for _ in 0..<20_000 {
            try Self.check(random.mutation(of: Self.seeds[random.below(Self.seeds.count)]), tally: &tally)
        }
        #expect(tally.rtp > 1000)
        #expect(tally.rtcp > 1000)
    }

    @Test func randomReceiverStreamsReportEachTimestampAtMostOnce() throws {
        // Events are keyed by RTP timestamp: however packets are lost, duplicated or reordered, a
        // timestamp is never reported twice.
        var random = WireGarbageGenerator(seed: 0x5EED_0000_0000_0003)
        for _ in 0..<200 {
            var receiver = TelephoneEventReceiver()
            var packets: [TelephoneEventSender.Packet] = []
            var timestamp: UInt32 = UInt32(truncatingIfNeeded: random.next())
            for digit in 0..<(1 + random.below(6)) {
                packets += try TelephoneEventSender(packetInterval: 160)
                    .packets(event: UInt8(random.below(16)), duration: UInt32(100 + random.below(2000)), startTimestamp: timestamp, startSequence: UInt16(digit * 40))
                timestamp &+= UInt32(3000 + random.below(4000))
            }
            var arrived: [TelephoneEventSender.Packet] = []
            for packet in packets {
                switch random.below(10) {
                case 0: continue  // lost
                case 1: arrived += [packet, packet]  // duplicated
                case 2 where !arrived.isEmpty: arrived.insert(packet, at: arrived.count - 1)  // reordered
                default: arrived.append(packet)
                }
            }
            var seen: [UInt32] = []
            for (i, packet) in arrived.enumerated() {
                var payload: [UInt8] = []
                packet.report.encode(into: &payload)
                let reported = try receiver.receive(
                    timestamp: packet.timestamp, sequenceNumber: packet.sequenceNumber, marker: packet.marker,
                    payload: payload, arrival: .milliseconds(20 * i)
                )
                seen += reported.map(\.timestamp)
            }
            if let last = receiver.flush() { seen.append(last.timestamp) }
            #expect(Set(seen).count == seen.count, "\(seen)")
            #expect(Set(seen).isSubset(of: Set(packets.map(\.timestamp))))
        }
    }
}
