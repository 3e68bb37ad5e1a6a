import CallQuality
import Pcap
import RTPCore

/// What the analysis found on one stream. Encodes under DESIGN §2 names with explicit nulls,
/// so the JSON shape never changes (see `docs/pcap-analyze.md` for every field).
///
/// Counters (`statistics`) cover the stream's whole sequence-number space, telephone events
/// included (they share it); jitter, the jitter buffer and the codec are about the audio
/// packets only.
public struct RTPStreamReport: Sendable, Hashable {
    public struct PayloadTypeUsage: Sendable, Hashable, Encodable {
        public var payloadType: UInt8
        public var packets: Int
        public var encodingName: String?
        public var clockRate: Int?
        public var isTelephoneEvent: Bool

        enum CodingKeys: String, CodingKey {
            case payloadType = "payload_type", packets, encodingName = "encoding_name", clockRate = "clock_rate"
            case isTelephoneEvent = "telephone_event"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(payloadType, forKey: .payloadType)
            try c.encode(packets, forKey: .packets)
            try c.encode(encodingName, forKey: .encodingName)
            try c.encode(clockRate, forKey: .clockRate)
            try c.encode(isTelephoneEvent, forKey: .isTelephoneEvent)
        }
    }

    public var key: RTPStreamKey
    /// The audio payload type with the most packets; nil when the stream carries only events.
    public var payloadType: UInt8?
    public var payloadTypes: [PayloadTypeUsage]
    /// Switches of payload type between consecutive packets, events included.
    public var payloadTypeChanges: Int
    public var encodingName: String?
    /// The E-model codec (`Codec.name`) of `payloadType`; nil when it is not one.
    public var codec: String?
    /// The audio clock jitter is measured in; nil when unknown (jitter is then nil too).
    public var clockRate: Int?
    /// The most common timestamp step between consecutive audio packets, in ms.
    public var ptimeMs: Double?
    public var firstPacketTime: CaptureTimestamp
    public var lastPacketTime: CaptureTimestamp
    /// Seconds from the analysis' first timestamped datagram to this stream's first packet.
    public var startOffsetSeconds: Double
    public var durationSeconds: Double
    /// Datagrams assigned to the stream: every arrival, duplicates and A.1 rejects included
    /// (tshark's "Pkts").
    public var packets: Int
    public var telephoneEventPackets: Int
    /// Event end packets that repeated a sequence number; removed from `statistics.duplicates`.
    public var eventEndRepeats: Int
    /// The unique view of `ReceiverStatistics` over all packets of the SSRC.
    public var statistics: ReceiverStatistics.Summary
    public var jitterMeanMs: Double?
    public var jitterMaxMs: Double?
    /// RFC 3550 A.8 J after the last packet, ms.
    public var jitterLastMs: Double?
    /// The fixed playout delay emulated, ms; nil when there was no audio clock to emulate with.
    public var jitterBufferMs: Double?
    public var jitterBuffer: JitterBufferEmulator.Summary?
    public var roundTrip: RoundTripEstimate?
    /// DSCP of the first packet (RFC 2474), and every value seen.
    public var dscpReceived: UInt8
    public var dscpValues: [UInt8]
    /// Nil when the stream cannot be scored; `notes` says why.
    public var assessment: CallQualityAssessment?
    /// Why a value is null, or what to know when reading one.
    public var notes: [String]

    public var mosLQ: Double? { assessment?.mosLQ }
    public var mosCQ: Double? { assessment?.mosCQ }
    public var rFactor: Double? { assessment?.rFactor }
}

extension RTPStreamReport: Encodable {
    enum CodingKeys: String, CodingKey {
        case ssrc, ssrcNumber = "ssrc_number"
        case src, srcAddr = "src_addr", srcPort = "src_port", dst, dstAddr = "dst_addr", dstPort = "dst_port"
        case payloadType = "payload_type", payloadTypes = "payload_types", payloadTypeChanges = "payload_type_changes"
        case encodingName = "encoding_name", codec, clockRate = "clock_rate", ptime
        case firstPacketTime = "first_packet_time", lastPacketTime = "last_packet_time"
        case firstPacketEpoch = "first_packet_epoch", startOffset = "start_offset_s", duration = "duration_s"
        case packets, packetsReceived = "packets_received", packetsExpected = "packets_expected", packetsLost = "packets_lost"
        case duplicates, reordered, lossPct = "loss_pct", maxDeltaMs = "max_delta_ms"
        case jitterMeanMs = "jitter_mean_ms", jitterMaxMs = "jitter_max_ms", jitterMs = "jitter_ms"
        case burstRatio = "burst_ratio", maxBurst = "max_burst", lossRuns = "loss_runs"
        case sequenceResyncs = "sequence_resyncs", packetsRejected = "packets_rejected"
        case rfc3550CumulativeLost = "rfc3550_cumulative_lost"
        case telephoneEventPackets = "telephone_event_packets", eventEndRepeats = "event_end_repeats"
        case jbMs = "jb_ms", jbDiscards = "jb_discards", jitterBuffer = "jitter_buffer", effectiveLossPct = "effective_loss_pct"
        case rttMs = "rtt_ms", rttMethod = "rtt_method", rttSamples = "rtt_samples"
        case rttTowardReceiverMs = "rtt_toward_receiver_ms", rttTowardSenderMs = "rtt_toward_sender_ms"
        case oneWayMs = "one_way_ms", oneWaySource = "one_way_source"
        case dscpReceived = "dscp_received", dscpValues = "dscp_values"
        case mosLQ = "mos_lq", mosCQ = "mos_cq", rFactor = "r_factor", rFactorLQ = "r_factor_lq", quality
        case impairments, impairmentsLQ = "impairments_lq", eModel = "e_model"
        case notes
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let s = statistics
        try c.encode(hex32(key.ssrc), forKey: .ssrc)
        try c.encode(key.ssrc, forKey: .ssrcNumber)
        try c.encode(key.source.description, forKey: .src)
        try c.encode(key.source.address.description, forKey: .srcAddr)
        try c.encode(key.source.port, forKey: .srcPort)
        try c.encode(key.destination.description, forKey: .dst)
        try c.encode(key.destination.address.description, forKey: .dstAddr)
        try c.encode(key.destination.port, forKey: .dstPort)
        try c.encode(payloadType, forKey: .payloadType)
        try c.encode(payloadTypes, forKey: .payloadTypes)
        try c.encode(payloadTypeChanges, forKey: .payloadTypeChanges)
        try c.encode(encodingName, forKey: .encodingName)
        try c.encode(codec, forKey: .codec)
        try c.encode(clockRate, forKey: .clockRate)
        try c.encode(ptimeMs, forKey: .ptime)
        try c.encode(rfc3339(firstPacketTime), forKey: .firstPacketTime)
        try c.encode(rfc3339(lastPacketTime), forKey: .lastPacketTime)
        try c.encode(firstPacketTime.description, forKey: .firstPacketEpoch)
        try c.encode(startOffsetSeconds, forKey: .startOffset)
        try c.encode(durationSeconds, forKey: .duration)
        try c.encode(packets, forKey: .packets)
        try c.encode(s.packetsReceived, forKey: .packetsReceived)
        try c.encode(s.packetsExpected, forKey: .packetsExpected)
        try c.encode(s.packetsLost, forKey: .packetsLost)
        try c.encode(s.duplicates, forKey: .duplicates)
        try c.encode(s.reordered, forKey: .reordered)
        try c.encode(s.lossPercent, forKey: .lossPct)
        try c.encode(s.maxDeltaMs, forKey: .maxDeltaMs)
        try c.encode(jitterMeanMs, forKey: .jitterMeanMs)
        try c.encode(jitterMaxMs, forKey: .jitterMaxMs)
        try c.encode(jitterLastMs, forKey: .jitterMs)
        try c.encode(s.burstRatio, forKey: .burstRatio)
        try c.encode(s.maxBurst, forKey: .maxBurst)
        try c.encode(s.lossRuns, forKey: .lossRuns)
        try c.encode(s.sequenceResyncs, forKey: .sequenceResyncs)
        try c.encode(s.packetsRejected, forKey: .packetsRejected)
        try c.encode(s.rfc3550CumulativeLost, forKey: .rfc3550CumulativeLost)
        try c.encode(telephoneEventPackets, forKey: .telephoneEventPackets)
        try c.encode(eventEndRepeats, forKey: .eventEndRepeats)
        try c.encode(jitterBufferMs, forKey: .jbMs)
        try c.encode(jitterBuffer?.lateDiscards, forKey: .jbDiscards)
        try c.encode(jitterBuffer, forKey: .jitterBuffer)
        try c.encode(assessment?.measurement?.effectiveLossPercent, forKey: .effectiveLossPct)
        try c.encode(roundTrip?.rttMs, forKey: .rttMs)
        try c.encode(roundTrip?.method, forKey: .rttMethod)
        try c.encode(roundTrip?.samples, forKey: .rttSamples)
        try c.encode(roundTrip?.towardReceiverMs, forKey: .rttTowardReceiverMs)
        try c.encode(roundTrip?.towardSenderMs, forKey: .rttTowardSenderMs)
        try c.encode(roundTrip.map { $0.rttMs / 2 }, forKey: .oneWayMs)
        try c.encode(roundTrip == nil ? nil : DelayBudget.Source.estimatedRTTHalf, forKey: .oneWaySource)
        try c.encode(dscpReceived, forKey: .dscpReceived)
        try c.encode(dscpValues, forKey: .dscpValues)
        try c.encode(assessment?.mosLQ, forKey: .mosLQ)
        try c.encode(assessment?.mosCQ, forKey: .mosCQ)
        try c.encode(assessment?.rFactor, forKey: .rFactor)
        try c.encode(assessment?.listening.rFactor, forKey: .rFactorLQ)
        try c.encode(assessment?.quality, forKey: .quality)
        try c.encode(assessment?.conversational?.impairments, forKey: .impairments)
        try c.encode(assessment?.listening.impairments, forKey: .impairmentsLQ)
        try c.encode(assessment, forKey: .eModel)
        try c.encode(notes, forKey: .notes)
    }
}

/// `2024-05-01T12:00:00.123456Z` (RFC 3339, UTC): microseconds when the timestamp has no finer
/// digits, nanoseconds otherwise; nil outside the years 0001–9999 RFC 3339 can write (a
/// corrupt capture). Civil date from days since 1970 by H. Hinnant's `civil_from_days`
/// (proleptic Gregorian).
func rfc3339(_ time: CaptureTimestamp) -> String? {
    // 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59Z
    guard (-62_135_596_800...253_402_300_799).contains(time.seconds) else { return nil }
    let secondsOfDay = ((time.seconds % 86_400) + 86_400) % 86_400
    let days = (time.seconds - secondsOfDay) / 86_400
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    let fraction = time.nanoseconds % 1000 == 0
        ? padded(Int64(time.nanoseconds / 1000), 6) : padded(Int64(time.nanoseconds), 9)
    return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))T\(padded(secondsOfDay / 3600, 2)):"
        + "\(padded(secondsOfDay / 60 % 60, 2)):\(padded(secondsOfDay % 60, 2)).\(fraction)Z"
}

private func padded(_ value: Int64, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
