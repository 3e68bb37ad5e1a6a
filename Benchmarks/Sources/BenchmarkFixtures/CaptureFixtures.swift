import Pcap

/// Classic pcap files (Ethernet, IPv4/UDP) built with the Pcap module's `PcapWriter`; the
/// benchmarks build them in memory and `bench-fixtures` writes the same bytes to disk for
/// tshark.
public enum CaptureFixtures {
    static let caller = IPEndpoint(.v4(IPv4Address(192, 0, 2, 10)), 5060)
    static let pbx = IPEndpoint(.v4(IPv4Address(198, 51, 100, 7)), 5060)

    /// One INVITE per datagram, 10 ms apart.
    public static func inviteCapture(count: Int) -> [UInt8] {
        var writer = PcapWriter()
        for (i, invite) in SIPFixtures.invites(count: count).enumerated() {
            try! writer.writeUDP(from: caller, to: pbx, payload: invite, at: timestamp(nanoseconds: Int64(i) * 10_000_000))
        }
        return writer.takeBytes()
    }

    /// `RTPFixtures.interleavedStreams(total:streams:)` as 172-byte RTP datagrams, each stream on its
    /// own port pair (even ports, RFC 3550 §11).
    public static func rtpCapture(packets: Int, streams: Int) -> [UInt8] {
        var writer = PcapWriter()
        let payload = RTPFixtures.payload
        for arrival in RTPFixtures.interleavedStreams(total: packets, streams: streams) {
            let s = UInt16(arrival.ssrc - 0x1000_0000)
            let source = IPEndpoint(.v4(IPv4Address(192, 0, 2, 10)), 20_000 + 2 * s)
            let destination = IPEndpoint(.v4(IPv4Address(198, 51, 100, 7)), 40_000 + 2 * s)
            try! writer.writeUDP(from: source, to: destination, payload: RTPFixtures.datagram(arrival, payload: payload),
                                 at: timestamp(nanoseconds: arrival.arrivalNanoseconds))
        }
        return writer.takeBytes()
    }

    /// A capture of one RTP packet: what tshark costs to start up and load its dissectors.
    public static func startupCapture() -> [UInt8] { rtpCapture(packets: 1, streams: 1) }

    static func timestamp(nanoseconds: Int64) -> CaptureTimestamp {
        let base: Int64 = 1_700_000_000
        return CaptureTimestamp(seconds: base + nanoseconds / 1_000_000_000,
                                nanoseconds: UInt32(nanoseconds % 1_000_000_000))
    }
}
