import Pcap
import RTPCore

/// One RTP stream as the analysis keys it: an SSRC sent from one UDP endpoint to another.
///
/// The endpoints are part of the key because an SSRC is only unique within an RTP session
/// (RFC 3550 §8): the same SSRC seen from two sources is two streams — a relay or NAT on the
/// path seen on both sides, a capture taken on both legs, or an SSRC collision — and each is
/// measured on its own (the report notes the shared SSRC).
public struct RTPStreamKey: Hashable, Sendable, CustomStringConvertible {
    public var ssrc: UInt32
    public var source: IPEndpoint
    public var destination: IPEndpoint

    public init(ssrc: UInt32, source: IPEndpoint, destination: IPEndpoint) {
        self.ssrc = ssrc
        self.source = source
        self.destination = destination
    }

    /// The SSRC as tools print it: `0x1122aabb`.
    public var ssrcHex: String { hex32(ssrc) }

    public var description: String { "\(ssrcHex) \(source) → \(destination)" }
}

/// The parts of one RTP packet the analysis keeps: no payload, so a held packet costs a few
/// dozen bytes.
struct PacketSample: Sendable {
    var sequence: UInt16
    var rtpTimestamp: UInt32
    var payloadType: UInt8
    var marker: Bool
    /// Nanoseconds since the analysis' time origin (the first datagram with a timestamp).
    var arrival: Int64
    var captureTime: CaptureTimestamp
    var dscp: UInt8
    /// The payload has the RFC 4733 §2.3 shape (1–4 reports, R bit clear); only looked at for
    /// dynamic payload types and those mapped as telephone events.
    var eventShape: EventShape?

    struct EventShape: Sendable {
        /// Some report has the E bit (the end of an event, retransmitted up to three times).
        var isEnd: Bool
    }

    init(_ view: RTPPacketView, payload: ArraySlice<UInt8>, arrival: Int64, captureTime: CaptureTimestamp, dscp: UInt8,
         inspectEventShape: Bool) {
        sequence = view.sequenceNumber
        rtpTimestamp = view.timestamp
        payloadType = view.payloadType
        marker = view.marker
        self.arrival = arrival
        self.captureTime = captureTime
        self.dscp = dscp
        eventShape = inspectEventShape ? Self.eventShape(of: view.payload(in: payload)) : nil
    }

    /// RFC 4733 §2.3: `event (8) | E | R | volume (6) | duration (16)`, one report per 4 octets
    /// (§2.5.1.5 allows several). R "MUST be zero" on sending; a payload of another length or
    /// with R set is not an event.
    static func eventShape(of payload: ArraySlice<UInt8>) -> EventShape? {
        guard (4...16).contains(payload.count),
              let reports = try? TelephoneEvent.reports(in: payload),
              reports.allSatisfy({ !$0.reserved })
        else { return nil }
        return EventShape(isEnd: reports.contains(where: \.isEnd))
    }
}

/// The rule that turns RTP-shaped datagrams into a stream, so random UDP is not called RTP.
///
/// Any UDP payload whose first octet happens to be 0x80–0xBF passes the RTP header checks of
/// RFC 3550 A.1 (version 2, CSRC count and extension inside the datagram, valid padding), so
/// one datagram proves nothing. A flow (SSRC, source, destination) becomes a stream once
/// `minimumPackets` of its packets arrived *in a row* with small forward steps: each
/// sequence number 1…`maximumSequenceStep` after the previous packet's (mod 2^16), and each
/// RTP timestamp 0…`maximumTimestampStep` after it (0 for events and video frames that share
/// a timestamp). For random bytes each step passes with probability about
/// (100/65536)·(2^20/2^32) ≈ 4·10⁻⁷, so five packets in a row do not happen by chance; a
/// protocol with a constant header (DNS flags where the sequence number would be) repeats
/// its "sequence number" and never steps forward.
///
/// Packets held before confirmation are replayed into the stream, so none is lost to the
/// rule; a reordered or lost packet during the first packets only delays confirmation. A
/// flow that never qualifies is counted as non-RTP UDP (`rtp_like_unconfirmed`).
public struct StreamDetectionRule: Hashable, Sendable {
    public var minimumPackets: Int
    public var maximumSequenceStep: Int
    public var maximumTimestampStep: UInt32

    public init(minimumPackets: Int = 5, maximumSequenceStep: Int = 100, maximumTimestampStep: UInt32 = 1 << 20) {
        precondition(minimumPackets >= 1, "StreamDetectionRule: minimumPackets must be at least 1")
        precondition((1...32767).contains(maximumSequenceStep), "StreamDetectionRule: maximumSequenceStep must be 1…32767")
        self.minimumPackets = minimumPackets
        self.maximumSequenceStep = maximumSequenceStep
        self.maximumTimestampStep = maximumTimestampStep
    }

    /// Whether `next` follows `previous` as the next packets of one stream would.
    func isSmallStep(from previous: PacketSample, to next: PacketSample) -> Bool {
        let sequenceStep = Int(next.sequence &- previous.sequence)
        let timestampStep = next.rtpTimestamp &- previous.rtpTimestamp
        return (1...maximumSequenceStep).contains(sequenceStep) && timestampStep <= maximumTimestampStep
    }
}

/// A flow of RTP-shaped datagrams that has not (yet) met the `StreamDetectionRule`.
struct StreamCandidate: Sendable {
    /// Held packets, oldest first; at most `capacity` (or `minimumPackets`, if larger).
    private(set) var packets: [PacketSample] = []
    /// Packets at the end of `packets` that form a run of small steps.
    private(set) var run = 0
    /// Packets dropped because the buffer was full.
    private(set) var dropped = 0

    static let capacity = 64

    var lastArrival: Int64 { packets.last?.arrival ?? .min }

    /// Adds a packet; true when the flow now qualifies as a stream.
    mutating func add(_ packet: PacketSample, rule: StreamDetectionRule) -> Bool {
        if let previous = packets.last, rule.isSmallStep(from: previous, to: packet) {
            run += 1
        } else {
            run = 1
        }
        if packets.count >= max(Self.capacity, rule.minimumPackets) {
            packets.removeFirst()
            dropped += 1
        }
        packets.append(packet)
        return run >= rule.minimumPackets
    }
}

func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
