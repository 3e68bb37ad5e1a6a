import Pcap
import Testing

extension Tag {
    /// Tests that run real peers (tshark, editcap, dumpcap). They skip, saying why, when tshark is absent.
    @Tag static var interop: Self
}

/// SplitMix64: a small seeded generator so "random" tests are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Every packet of an in-memory capture.
func readPackets(_ bytes: [UInt8], limits: CaptureReader.Limits = .init()) throws(PcapError) -> [CapturedPacket] {
    var reader = CaptureReader(bytes: bytes, limits: limits)
    var packets: [CapturedPacket] = []
    while let packet = try reader.next() { packets.append(packet) }
    return packets
}

/// The error reading `bytes` stops with, or nil when it reads to the end.
func readError(_ bytes: [UInt8], limits: CaptureReader.Limits = .init()) -> PcapError? {
    do {
        _ = try readPackets(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// Reads `bytes` fed in the given chunk sizes (cycled), draining `next()` after each chunk.
func readPacketsInChunks(_ bytes: [UInt8], sizes: [Int]) throws(PcapError) -> (packets: [CapturedPacket], reader: CaptureReader) {
    var reader = CaptureReader()
    var packets: [CapturedPacket] = []
    var position = 0, turn = 0
    while position < bytes.count {
        let size = max(1, sizes[turn % sizes.count])
        turn += 1
        let end = min(bytes.count, position + size)
        reader.append(bytes[position..<end])
        position = end
        while let packet = try reader.next() { packets.append(packet) }
    }
    reader.finish()
    while let packet = try reader.next() { packets.append(packet) }
    return (packets, reader)
}

/// The datagram a packet decodes to, or nil (test helper: `#require` it).
func udp(_ packet: CapturedPacket) -> UDPDatagram? {
    if case .udp(let datagram) = PacketDecoder.decode(packet) { datagram } else { nil }
}

func decode(_ data: [UInt8], linkType: LinkType, byteOrder: ByteOrder = .little, originalLength: Int? = nil) -> DecodedPacket {
    PacketDecoder.decode(CapturedPacket(number: 1, timestamp: CaptureTimestamp(seconds: 0), linkType: linkType,
                                        byteOrder: byteOrder, originalLength: originalLength, data: data))
}

/// A comparable summary of a datagram: what any correct reader must agree on.
struct DatagramSummary: Hashable, CustomStringConvertible {
    var timestamp: CaptureTimestamp?
    var source: IPEndpoint
    var destination: IPEndpoint
    var payload: [UInt8]

    init(_ datagram: UDPDatagram) {
        timestamp = datagram.timestamp
        source = datagram.source
        destination = datagram.destination
        payload = Array(datagram.payload)
    }

    init(timestamp: CaptureTimestamp?, source: IPEndpoint, destination: IPEndpoint, payload: [UInt8]) {
        self.timestamp = timestamp
        self.source = source
        self.destination = destination
        self.payload = payload
    }

    var description: String { "\(timestamp.map(String.init(describing:)) ?? "-") \(source) → \(destination) \(payload.count) B" }
}
