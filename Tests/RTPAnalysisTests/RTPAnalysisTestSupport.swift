import Pcap
import RTPAnalysis
import RTPCore
import Testing

extension Tag {
    /// Tests that run tshark (installed by scripts/install-test-deps). They skip, saying why, when it is absent.
    @Tag static var interop: Self
}

/// SplitMix64: seeded, so "random" noise is the same on every run.
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

enum Hosts {
    static let a = IPEndpoint(.v4(IPv4Address(192, 0, 2, 10)), 40000)
    static let b = IPEndpoint(.v4(IPv4Address(198, 51, 100, 20)), 50000)
    static let a6 = IPEndpoint(.v6(IPv6Address("2001:db8::10")!), 40002)
    static let b6 = IPEndpoint(.v6(IPv6Address("2001:db8:1::20")!), 50002)
    static func rtcp(_ endpoint: IPEndpoint) -> IPEndpoint { IPEndpoint(endpoint.address, endpoint.port + 1) }
}

/// 2023-11-14T22:13:20Z: where every synthetic capture starts.
let captureStart = CaptureTimestamp(seconds: 1_700_000_000)

/// A synthetic capture: datagrams at chosen times, written in time order (a stable sort, so
/// datagrams at the same time keep the order they were added in).
struct SyntheticCapture {
    struct Datagram {
        var time: CaptureTimestamp
        var source: IPEndpoint
        var destination: IPEndpoint
        var payload: [UInt8]
        var trafficClass: UInt8
    }

    private(set) var datagrams: [Datagram] = []

    mutating func add(_ payload: [UInt8], from source: IPEndpoint, to destination: IPEndpoint,
                      atMicroseconds offset: Int64, trafficClass: UInt8 = 46 << 2) {
        datagrams.append(Datagram(time: captureStart.advanced(by: .microseconds(offset)), source: source,
                                  destination: destination, payload: payload, trafficClass: trafficClass))
    }

    /// Adds the packets of `stream`.
    mutating func add(_ stream: SyntheticStream) {
        for packet in stream.packets() {
            add(packet.bytes, from: stream.source, to: stream.destination, atMicroseconds: packet.arrivalMicroseconds)
        }
    }

    var sorted: [Datagram] {
        datagrams.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
    }

    func pcap(linkType: LinkType = .ethernet) throws -> [UInt8] {
        var writer = PcapWriter(linkType: linkType, precision: .microseconds)
        for d in sorted {
            try writer.writeUDP(from: d.source, to: d.destination, payload: d.payload, at: d.time,
                                options: UDPPacketOptions(trafficClass: d.trafficClass))
        }
        return writer.bytes
    }

    func pcapng(linkType: LinkType = .ethernet) throws -> [UInt8] {
        var writer = PcapNGWriter(interfaces: [CaptureInterface(linkType: linkType, snapLength: 262_144, resolution: .nanoseconds)])
        for d in sorted {
            try writer.writeUDP(from: d.source, to: d.destination, payload: d.payload, at: d.time,
                                options: UDPPacketOptions(trafficClass: d.trafficClass))
        }
        return writer.bytes
    }
}

/// One RTP stream of 20 ms packets at 8 kHz (160 timestamp units), with the packet at index i
/// sent at i × 20 ms: the same construction as `stream()` in the Python reference of
/// `RTPAnalysisTests`.
struct SyntheticStream: Sendable {
    var ssrc: UInt32 = 0x1122_3344
    var source = Hosts.a
    var destination = Hosts.b
    var payloadType: UInt8 = 0
    var count: Int
    var firstSequence: UInt16
    var firstTimestamp: UInt32 = 0
    /// Microseconds added to index i's nominal arrival.
    var offset: @Sendable (Int) -> Int64 = { _ in 0 }
    /// Indices never sent.
    var dropped: Set<Int> = []
    /// Extra copies: (index, arrival in µs).
    var duplicates: [(index: Int, arrivalMicroseconds: Int64)] = []
    var startMicroseconds: Int64 = 0

    struct Packet {
        var bytes: [UInt8]
        var arrivalMicroseconds: Int64
    }

    func packet(index: Int) -> [UInt8] {
        RTPPacket(payloadType: payloadType, sequenceNumber: firstSequence &+ UInt16(truncatingIfNeeded: index),
                  timestamp: firstTimestamp &+ UInt32(truncatingIfNeeded: 160 * index), ssrc: ssrc, marker: index == 0,
                  payload: [UInt8](repeating: 0xFF, count: 160)).encoded()
    }

    func packets() -> [Packet] {
        var packets = (0..<count).filter { !dropped.contains($0) }.map {
            Packet(bytes: packet(index: $0), arrivalMicroseconds: startMicroseconds + Int64($0) * 20_000 + offset($0))
        }
        packets += duplicates.map { Packet(bytes: packet(index: $0.index), arrivalMicroseconds: startMicroseconds + $0.arrivalMicroseconds) }
        return packets
    }
}

/// The scenarios several suites share (the tshark suite analyses the same captures).
enum Scenarios {
    /// 250 packets, exactly 20 ms apart.
    static let perfect = SyntheticStream(count: 250, firstSequence: 1000, firstTimestamp: 16000)
    /// 1000 packets, 11 lost in four runs: {10}, {20–22}, {100–104}, {500–501}.
    static let loss = SyntheticStream(count: 1000, firstSequence: 5000, dropped: [10, 20, 21, 22, 100, 101, 102, 103, 104, 500, 501])
    /// 500 packets, arrival offsets ((i·7919) mod 13 − 6) × 0.5 ms, i.e. within ±3 ms.
    static let jitter = SyntheticStream(count: 500, firstSequence: 20000, firstTimestamp: 8000,
                                        offset: { Int64(((($0 * 7919) % 13) - 6) * 500) })
    /// 300 packets; index 50 again 1 ms after it, index 120 again 5 ms after it; 150 and 151 lost.
    static let duplicates = SyntheticStream(count: 300, firstSequence: 100, dropped: [150, 151],
                                            duplicates: [(50, 50 * 20_000 + 1_000), (120, 120 * 20_000 + 5_000)])
    /// 300 packets; index 80 arrives 30 ms late, after index 81.
    static let reorder = SyntheticStream(count: 300, firstSequence: 100, offset: { $0 == 80 ? 30_000 : 0 })
    /// 200 packets from sequence number 65450: wraps after index 85; 65535 and 0 lost.
    static let wrap = SyntheticStream(count: 200, firstSequence: 65450, firstTimestamp: 4_294_960_000, dropped: [85, 86])
    /// 100 packets; a delay spike: indices 40–44 arrive 80, 65, 50, 35 and 19 ms late.
    static let spike = SyntheticStream(count: 100, firstSequence: 7000,
                                       offset: { [40: 80_000, 41: 65_000, 42: 50_000, 43: 35_000, 44: 19_000][$0] ?? 0 })

    /// A stream restarting its sequence numbers (1000–1099, then 30000–30099) with the timing
    /// and timestamps continuing, as a sender that re-initialises its RTP session would.
    static func restart() -> SyntheticCapture {
        var capture = SyntheticCapture()
        capture.add(SyntheticStream(count: 100, firstSequence: 1000))
        capture.add(SyntheticStream(count: 100, firstSequence: 30000, firstTimestamp: 16000, startMicroseconds: 2_000_000))
        return capture
    }

    /// Silence suppression: 50 packets, 500 ms of silence (nothing sent; sequence numbers go
    /// on, the timestamp jumps by the silence), then 50 more starting with the marker bit
    /// (RFC 3551 §4.1, the first packet of a talkspurt).
    static func talkspurts() -> SyntheticCapture {
        var capture = SyntheticCapture()
        for index in 0..<100 {
            let slot = index < 50 ? index : index + 25
            let packet = RTPPacket(payloadType: 0, sequenceNumber: UInt16(2000 + index), timestamp: UInt32(160 * slot),
                                   ssrc: 0x1122_3344, marker: index == 0 || index == 50,
                                   payload: [UInt8](repeating: 0xFF, count: 160)).encoded()
            capture.add(packet, from: Hosts.a, to: Hosts.b, atMicroseconds: Int64(slot) * 20_000)
        }
        return capture
    }

    static func capture(_ stream: SyntheticStream) -> SyntheticCapture {
        var capture = SyntheticCapture()
        capture.add(stream)
        return capture
    }
}

/// Analyses a capture; checks the tally adds up on the way.
func analyze(_ bytes: [UInt8], _ configuration: RTPAnalyzer.Configuration = .init(),
             sourceLocation: SourceLocation = #_sourceLocation) throws -> RTPAnalysisReport {
    let report = try RTPAnalyzer.analyze(capture: bytes, configuration: configuration)
    #expect(report.tally.classifiedDatagrams == report.tally.capture.udpDatagrams, "\(report.tally)", sourceLocation: sourceLocation)
    #expect(report.streams.reduce(0) { $0 + $1.packets } == report.tally.rtpPackets, sourceLocation: sourceLocation)
    return report
}

func isClose(_ value: Double?, _ expected: Double, _ tolerance: Double = 1e-9) -> Bool {
    guard let value else { return false }
    return abs(value - expected) <= tolerance
}
