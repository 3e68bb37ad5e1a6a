import CallQuality
import Pcap
import RTPCore

/// Finds the RTP streams among a capture's UDP datagrams and measures each one: loss,
/// duplicates, reordering, jitter, bursts, an emulated jitter buffer, the RTCP round trip,
/// and the E-model score.
///
/// Feed datagrams in capture order with `add(_:)` (a capture of any size streams through:
/// per stream the state is constant-size), then call `report(captureTally:)`:
///
/// ```swift
/// var reader = UDPDatagramReader()
/// var analyzer = RTPAnalyzer(configuration: .init(port: 16000))
/// for chunk in chunks {
///     reader.append(chunk)
///     while let datagram = try reader.next() { analyzer.add(datagram) }
/// }
/// reader.finish()
/// while let datagram = try reader.next() { analyzer.add(datagram) }
/// let report = analyzer.report(captureTally: reader.tally)
/// ```
///
/// Each datagram is classified once, in this order:
/// 1. With `Configuration.port` N, a datagram whose source and destination ports are both
///    other than N and N+1 is `port_filtered`; one on N+1 only may be RTCP but not RTP.
/// 2. **RTCP** when its first two octets say so (RFC 5761 §4: version 2, packet type
///    192–223, the range RTP payload types 64–95 are kept out of) *and* it decodes as a
///    compound packet (RFC 3550 A.2: the lengths add up). RTCP-shaped datagrams that do not
///    decode are `rtcp_malformed` when either endpoint is known to carry RTCP (valid RTCP
///    seen there, an RTP endpoint's port or port + 1, or N / N+1), otherwise non-RTP.
/// 3. **RTP** when the header is valid (`RTPPacketView`, RFC 3550 A.1) and its flow
///    (SSRC, source, destination) meets the `StreamDetectionRule`.
/// 4. Everything else is **non-RTP UDP**, including RTP-shaped flows that never qualified
///    (`rtp_like_unconfirmed`).
/// Every UDP datagram lands in exactly one of `port_filtered`, `rtp_packets`,
/// `rtcp_packets`, `rtcp_malformed` and `non_rtp_udp`.
///
/// Arrival times are the capture timestamps. A pcapng Simple Packet Block has none; such a
/// datagram takes the previous datagram's time (`without_timestamp` counts them).
public struct RTPAnalyzer: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// Consider only datagrams from or to this port (RTP), or N+1 (RTCP).
        public var port: UInt16?
        /// Payload-type meanings beyond RFC 3551's static table (`--clock`).
        public var payloadTypes: PayloadTypeMap
        public var detection: StreamDetectionRule
        /// The fixed jitter-buffer playout delay emulated, ms; also the buffer's share of the
        /// mouth-to-ear delay in MOS-CQ.
        public var jitterBufferMs: Double
        /// Whether the receiver conceals loss (G.711 Appendix I PLC): selects G.113's Bpl.
        public var concealment: Bool

        /// 60 ms: three 20 ms packets, a common fixed playout buffer of desk phones and gateways.
        public static let defaultJitterBufferMs: Double = 60

        public init(port: UInt16? = nil, payloadTypes: PayloadTypeMap = PayloadTypeMap(),
                    detection: StreamDetectionRule = StreamDetectionRule(),
                    jitterBufferMs: Double = defaultJitterBufferMs, concealment: Bool = false) {
            precondition(jitterBufferMs.isFinite && jitterBufferMs >= 0, "RTPAnalyzer: jitter buffer delay must be ≥ 0")
            self.port = port
            self.payloadTypes = payloadTypes
            self.detection = detection
            self.jitterBufferMs = jitterBufferMs
            self.concealment = concealment
        }
    }

    private struct Flow: Hashable, Sendable {
        var source: IPEndpoint
        var destination: IPEndpoint
    }

    /// Bounds on what an adversarial capture can make the analyzer keep.
    static let maximumCandidates = 4096
    static let maximumRTCPLikeFlows = 4096

    public let configuration: Configuration
    private var origin: CaptureTimestamp?
    private var lastTime: CaptureTimestamp?
    private var streams: [StreamAccumulator] = []
    private var streamIndex: [RTPStreamKey: Int] = [:]
    private var candidates: [RTPStreamKey: StreamCandidate] = [:]
    private var roundTrips = RoundTripTracker()
    private var rtcpEndpoints: Set<IPEndpoint> = []
    /// RTCP-shaped datagrams that did not decode, by flow, until the end decides what they were.
    private var rtcpLikeFlows: [Flow: Int] = [:]
    private var counts = RTPAnalysisTally()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Classifies one datagram and adds it to its stream. Call in capture order.
    public mutating func add(_ datagram: UDPDatagram) {
        let time: CaptureTimestamp
        if let stamp = datagram.timestamp {
            time = stamp
        } else {
            time = lastTime ?? CaptureTimestamp(seconds: 0)
            counts.withoutTimestamp += 1
        }
        lastTime = time
        if origin == nil { origin = time }
        let arrival = boundedNanoseconds(from: origin ?? time, to: time)

        var rtpAllowed = true
        if let port = configuration.port {
            let ports = [datagram.source.port, datagram.destination.port]
            rtpAllowed = ports.contains(port)
            guard rtpAllowed || (port < UInt16.max && ports.contains(port + 1)) else {
                counts.portFiltered += 1
                return
            }
        }
        let payload = datagram.payload
        if RTCPHeader.isRTCP(payload) {
            addRTCP(datagram, arrival: arrival, time: time)
            return
        }
        guard rtpAllowed, let view = try? RTPPacketView(parsing: payload) else {
            counts.nonRTP += 1
            return
        }
        let key = RTPStreamKey(ssrc: view.ssrc, source: datagram.source, destination: datagram.destination)
        let inspect = StaticPayloadTypes.isDynamic(view.payloadType)
            || configuration.payloadTypes.entries[view.payloadType]?.isTelephoneEvent == true
        let sample = PacketSample(view, payload: payload, arrival: arrival, captureTime: time, dscp: datagram.dscp,
                                  inspectEventShape: inspect)
        if let index = streamIndex[key] {
            streams[index].add(sample, configuration: configuration)
            counts.rtpPackets += 1
            return
        }
        var candidate = candidates[key] ?? StreamCandidate()
        if candidate.add(sample, rule: configuration.detection) {
            candidates[key] = nil
            counts.rtpLikeUnconfirmed += candidate.dropped
            var stream = StreamAccumulator(key: key, first: candidate.packets[0])
            for packet in candidate.packets { stream.add(packet, configuration: configuration) }
            counts.rtpPackets += candidate.packets.count
            streamIndex[key] = streams.count
            streams.append(stream)
        } else {
            candidates[key] = candidate
            if candidates.count > Self.maximumCandidates { evictCandidates() }
        }
    }

    private mutating func addRTCP(_ datagram: UDPDatagram, arrival: Int64, time: CaptureTimestamp) {
        guard let compound = try? RTCPCompoundPacket(parsing: datagram.payload) else {
            let flow = Flow(source: datagram.source, destination: datagram.destination)
            if rtcpLikeFlows[flow] != nil || rtcpLikeFlows.count < Self.maximumRTCPLikeFlows {
                rtcpLikeFlows[flow, default: 0] += 1
            } else {
                counts.nonRTP += 1
            }
            return
        }
        counts.rtcpPackets += 1
        if rtcpEndpoints.count < Self.maximumRTCPLikeFlows {
            rtcpEndpoints.insert(datagram.source)
            rtcpEndpoints.insert(datagram.destination)
        }
        roundTrips.record(compound, from: datagram.source.address, to: datagram.destination.address, arrival: arrival, captureTime: time)
    }

    /// Drops the older half of the candidates (by last arrival): flows of random datagrams
    /// that never qualify must not grow without bound.
    private mutating func evictCandidates() {
        let byAge = candidates.sorted { $0.value.lastArrival < $1.value.lastArrival }
        for (key, candidate) in byAge.prefix(byAge.count / 2) {
            counts.rtpLikeUnconfirmed += candidate.packets.count + candidate.dropped
            candidates[key] = nil
        }
    }

    /// The streams (in order of their first packet) and the tally. `captureTally` is the
    /// reader's, for the packets that never became UDP datagrams.
    public func report(captureTally: CaptureTally = CaptureTally()) -> RTPAnalysisReport {
        var tally = counts
        tally.capture = captureTally
        for candidate in candidates.values { tally.rtpLikeUnconfirmed += candidate.packets.count + candidate.dropped }
        tally.nonRTP += tally.rtpLikeUnconfirmed

        // RTCP-shaped leftovers: malformed RTCP where RTCP is known to flow, else non-RTP.
        var knownRTCP = rtcpEndpoints
        for stream in streams {
            for endpoint in [stream.key.source, stream.key.destination] {
                knownRTCP.insert(endpoint)
                if endpoint.port < UInt16.max { knownRTCP.insert(IPEndpoint(endpoint.address, endpoint.port + 1)) }
            }
        }
        for (flow, count) in rtcpLikeFlows {
            let onPort = configuration.port.map { [$0, $0 &+ 1].contains(flow.source.port) || [$0, $0 &+ 1].contains(flow.destination.port) } ?? false
            if onPort || knownRTCP.contains(flow.source) || knownRTCP.contains(flow.destination) {
                tally.rtcpMalformed += count
            } else {
                tally.nonRTP += count
            }
        }

        var reports = streams.map { $0.report(configuration: configuration, roundTrip: roundTrips.estimate(for: $0.key)) }
        // An SSRC seen from more than one source: separate streams, said so on each.
        var bySSRC: [UInt32: [Int]] = [:]
        for (index, report) in reports.enumerated() { bySSRC[report.key.ssrc, default: []].append(index) }
        for indices in bySSRC.values where indices.count > 1 {
            for index in indices {
                let others = indices.filter { $0 != index }.map { "\(reports[$0].key.source) → \(reports[$0].key.destination)" }
                reports[index].notes.append("SSRC also seen on \(others.joined(separator: ", ")): measured as separate streams "
                    + "(a relay or NAT seen on both sides, or an SSRC collision)")
            }
        }
        tally.streams = reports.count
        tally.telephoneEventPackets = reports.reduce(0) { $0 + $1.telephoneEventPackets }
        tally.roundTripSamplesRejected = roundTrips.rejectedSamples
        return RTPAnalysisReport(streams: reports, tally: tally, configuration: configuration)
    }

    /// A whole capture held in memory, read and analysed.
    public static func analyze(capture bytes: [UInt8], configuration: Configuration = Configuration()) throws(PcapError) -> RTPAnalysisReport {
        var reader = UDPDatagramReader(bytes: bytes)
        var analyzer = RTPAnalyzer(configuration: configuration)
        while let datagram = try reader.next() { analyzer.add(datagram) }
        return analyzer.report(captureTally: reader.tally)
    }
}

/// What became of every packet of the capture: the reader's `CaptureTally` and the
/// analysis' classification of the UDP datagrams (see `RTPAnalyzer`).
public struct RTPAnalysisTally: Sendable, Hashable {
    public var capture = CaptureTally()
    public var portFiltered = 0
    public var rtpPackets = 0
    public var rtcpPackets = 0
    public var rtcpMalformed = 0
    /// Non-RTP UDP, `rtpLikeUnconfirmed` included.
    public var nonRTP = 0
    /// Datagrams with a valid RTP header whose flow never met the `StreamDetectionRule`.
    public var rtpLikeUnconfirmed = 0
    public var withoutTimestamp = 0
    public var streams = 0
    public var telephoneEventPackets = 0
    /// RTCP report blocks whose round trip was implausible (see `RoundTripEstimate`).
    public var roundTripSamplesRejected = 0

    public init() {}

    /// The analysis' classes of UDP datagrams, which add up to `capture.udpDatagrams`.
    public var classifiedDatagrams: Int { portFiltered + rtpPackets + rtcpPackets + rtcpMalformed + nonRTP }
}

extension RTPAnalysisTally: Encodable {
    enum CodingKeys: String, CodingKey {
        case packets, udpDatagrams = "udp_datagrams", setAside = "set_aside", setAsideByReason = "set_aside_by_reason"
        case nonUDPByProtocol = "non_udp_by_protocol", malformedByReason = "malformed_by_reason"
        case truncatedRecordsAtEnd = "truncated_records_at_end"
        case portFiltered = "port_filtered", rtpPackets = "rtp_packets", rtcpPackets = "rtcp_packets", rtcpMalformed = "rtcp_malformed"
        case nonRTP = "non_rtp_udp", rtpLikeUnconfirmed = "rtp_like_unconfirmed", withoutTimestamp = "without_timestamp"
        case streams, telephoneEventPackets = "telephone_event_packets", roundTripSamplesRejected = "rtt_samples_rejected"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(capture.packets, forKey: .packets)
        try c.encode(capture.udpDatagrams, forKey: .udpDatagrams)
        try c.encode(capture.setAside, forKey: .setAside)
        try c.encode([
            "unsupported_link_type": capture.unsupportedLinkType, "non_ip": capture.nonIP, "non_udp": capture.nonUDP,
            "fragments": capture.fragments, "truncated": capture.truncated, "malformed": capture.malformed,
        ], forKey: .setAsideByReason)
        try c.encode(Dictionary(uniqueKeysWithValues: capture.nonUDPByProtocol.map { (String($0.key), $0.value) }), forKey: .nonUDPByProtocol)
        try c.encode(Dictionary(uniqueKeysWithValues: capture.malformedByReason.map { ("\($0.key)", $0.value) }), forKey: .malformedByReason)
        try c.encode(capture.truncatedRecordsAtEnd, forKey: .truncatedRecordsAtEnd)
        try c.encode(portFiltered, forKey: .portFiltered)
        try c.encode(rtpPackets, forKey: .rtpPackets)
        try c.encode(rtcpPackets, forKey: .rtcpPackets)
        try c.encode(rtcpMalformed, forKey: .rtcpMalformed)
        try c.encode(nonRTP, forKey: .nonRTP)
        try c.encode(rtpLikeUnconfirmed, forKey: .rtpLikeUnconfirmed)
        try c.encode(withoutTimestamp, forKey: .withoutTimestamp)
        try c.encode(streams, forKey: .streams)
        try c.encode(telephoneEventPackets, forKey: .telephoneEventPackets)
        try c.encode(roundTripSamplesRejected, forKey: .roundTripSamplesRejected)
    }
}

/// The result of one analysis: streams in order of their first packet, and the tally.
public struct RTPAnalysisReport: Sendable {
    public var streams: [RTPStreamReport]
    public var tally: RTPAnalysisTally
    public var configuration: RTPAnalyzer.Configuration
}

extension RTPAnalysisReport: Encodable {
    enum CodingKeys: String, CodingKey {
        case settings, streams, tally
    }

    enum SettingsKeys: String, CodingKey {
        case port, clock, jbMs = "jb_ms", plc, minPackets = "min_packets"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var settings = c.nestedContainer(keyedBy: SettingsKeys.self, forKey: .settings)
        try settings.encode(configuration.port, forKey: .port)
        let clocks = configuration.payloadTypes.entries.map { (String($0.key), ($0.value.encodingName.map { "\($0)/" } ?? "") + String($0.value.clockRate ?? 0)) }
        try settings.encode(Dictionary(uniqueKeysWithValues: clocks), forKey: .clock)
        try settings.encode(configuration.jitterBufferMs, forKey: .jbMs)
        try settings.encode(configuration.concealment, forKey: .plc)
        try settings.encode(configuration.detection.minimumPackets, forKey: .minPackets)
        try c.encode(streams, forKey: .streams)
        try c.encode(tally, forKey: .tally)
    }
}

/// Arrival times are kept within ±2^60 ns (±36 years) of the first datagram, so that every
/// difference the statistics take fits in Int64 — whatever timestamps a corrupt or hostile
/// capture holds.
let arrivalBound: Int64 = 1 << 60

/// `time − origin` in nanoseconds, clamped to ±`arrivalBound`, without overflowing for any
/// two timestamps.
func boundedNanoseconds(from origin: CaptureTimestamp, to time: CaptureTimestamp) -> Int64 {
    let (seconds, overflow) = time.seconds.subtractingReportingOverflow(origin.seconds)
    guard !overflow, seconds.magnitude < UInt64(arrivalBound / 1_000_000_000) else {
        return time > origin ? arrivalBound : -arrivalBound
    }
    let nanoseconds = seconds * 1_000_000_000 + Int64(time.nanoseconds) - Int64(origin.nanoseconds)
    return min(max(nanoseconds, -arrivalBound), arrivalBound)
}
