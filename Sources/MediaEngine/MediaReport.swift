import CallQuality
import RTPCore

/// What one session measured, both directions: `sent` (our stream as we sent it), `received`
/// (the remote's stream as it arrived, DESIGN §2 names), `remote_view` (our stream as the
/// remote's RTCP reports saw it — for a non-Earshot peer the only data about that direction).
/// Encodes with snake_case keys and explicit nulls, so the JSON shape never changes.
public struct MediaReport: Sendable, Encodable {
    public struct Session: Sendable, Encodable {
        public var id: UInt64
        public var localAddress: String
        public var rtpPort: UInt16
        public var rtcpPort: UInt16
        public var remote: String?
        public var rtcpRemote: String?
        /// The source latched onto (RTP), when latching.
        public var latchedSource: String?
        public var ssrc: UInt32?
        public var remoteSSRC: UInt32?
        public var payloadType: UInt8?
        public var telephoneEventPayloadType: UInt8?
        public var toneHz: Int?
        /// CLOCK_MONOTONIC at `start`, ns: every `*_offset_ms` plus this is a time all
        /// processes on the host share (per-digit DTMF latency between two local sessions).
        public var startMonotonicNs: Int64?
        /// ms from `start` to this report (or to `stop`).
        public var durationMs: Double?
        public var stopped: Bool

        enum CodingKeys: String, CodingKey {
            case id, localAddress = "local_address", rtpPort = "rtp_port", rtcpPort = "rtcp_port", remote
            case rtcpRemote = "rtcp_remote", latchedSource = "latched_source", ssrc, remoteSSRC = "remote_ssrc"
            case payloadType = "payload_type", telephoneEventPayloadType = "telephone_event_payload_type"
            case toneHz = "tone_hz", startMonotonicNs = "start_monotonic_ns", durationMs = "duration_ms", stopped
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(localAddress, forKey: .localAddress)
            try c.encode(rtpPort, forKey: .rtpPort)
            try c.encode(rtcpPort, forKey: .rtcpPort)
            try c.encode(remote, forKey: .remote)
            try c.encode(rtcpRemote, forKey: .rtcpRemote)
            try c.encode(latchedSource, forKey: .latchedSource)
            try c.encode(ssrc, forKey: .ssrc)
            try c.encode(remoteSSRC, forKey: .remoteSSRC)
            try c.encode(payloadType, forKey: .payloadType)
            try c.encode(telephoneEventPayloadType, forKey: .telephoneEventPayloadType)
            try c.encode(toneHz, forKey: .toneHz)
            try c.encode(startMonotonicNs, forKey: .startMonotonicNs)
            try c.encode(durationMs, forKey: .durationMs)
            try c.encode(stopped, forKey: .stopped)
        }
    }

    public struct Digit: Sendable, Hashable, Encodable {
        /// The DTMF character; nil for a non-DTMF event code.
        public var digit: String?
        public var event: UInt8
        /// ms after `start`: when the event's first packet was due (sent) or arrived (received).
        public var offsetMs: Double
        /// Received digits: ms after `start` when the first end report arrived.
        public var endOffsetMs: Double?
        public var durationMs: Double
        /// Received digits: `end_bit`, `next_event`, `timeout` or `flushed` (RFC 4733 §2.5.2).
        public var ending: String?

        enum CodingKeys: String, CodingKey {
            case digit, event, offsetMs = "offset_ms", endOffsetMs = "end_offset_ms", durationMs = "duration_ms", ending
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(digit, forKey: .digit)
            try c.encode(event, forKey: .event)
            try c.encode(offsetMs, forKey: .offsetMs)
            try c.encode(endOffsetMs, forKey: .endOffsetMs)
            try c.encode(durationMs, forKey: .durationMs)
            try c.encode(ending, forKey: .ending)
        }
    }

    public struct Sent: Sendable, Encodable {
        /// RTP packets, audio and events.
        public var packets: Int
        /// Payload octets (the SR's sender octet count).
        public var octets: Int
        public var audioPackets: Int
        public var eventPackets: Int
        public var dtmfDigitsSent: [Digit]
        /// The digits as one string, e.g. "123#".
        public var dtmf: String
        public var dscpSent: UInt8
        /// Actual send time − grid time of every RTP packet, µs (encoded as its summary).
        public var pacingLateness: LatenessHistogram
        public var pacingLatenessUs: LatenessHistogram.Summary { pacingLateness.summary }
        /// Grid ticks skipped because the loop was far behind (a stopped process).
        public var skippedTicks: Int64
        public var sendErrors: Int

        enum CodingKeys: String, CodingKey {
            case packets, octets, audioPackets = "audio_packets", eventPackets = "event_packets"
            case dtmfDigitsSent = "dtmf_digits_sent", dtmf, dscpSent = "dscp_sent", pacingLatenessUs = "pacing_lateness_us"
            case skippedTicks = "skipped_ticks", sendErrors = "send_errors"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(packets, forKey: .packets)
            try c.encode(octets, forKey: .octets)
            try c.encode(audioPackets, forKey: .audioPackets)
            try c.encode(eventPackets, forKey: .eventPackets)
            try c.encode(dtmfDigitsSent, forKey: .dtmfDigitsSent)
            try c.encode(dtmf, forKey: .dtmf)
            try c.encode(dscpSent, forKey: .dscpSent)
            try c.encode(pacingLatenessUs, forKey: .pacingLatenessUs)
            try c.encode(skippedTicks, forKey: .skippedTicks)
            try c.encode(sendErrors, forKey: .sendErrors)
        }
    }

    /// The audio check: the remote's identifying tone (or, with none expected, any signal)
    /// frame by frame, lost frames counting as silence.
    public struct AudioCheck: Sendable, Encodable {
        /// `tone` or `signal`.
        public var kind: String
        public var expectedToneHz: Int?
        public var tracker: ToneTracker.Report

        enum CodingKeys: String, CodingKey { case kind, expectedToneHz = "expected_tone_hz", tracker }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kind, forKey: .kind)
            try c.encode(expectedToneHz, forKey: .expectedToneHz)
            try c.encode(tracker, forKey: .tracker)
        }
    }

    /// The remote's stream as it arrived (DESIGN §2).
    public struct Received: Sendable, Encodable {
        public var codec: String?
        public var ptime: Int?
        /// Unique view of the whole stream (events included), as `pcap analyze`.
        public var statistics: ReceiverStatistics.Summary
        public var audioPackets: Int
        public var telephoneEventPackets: Int
        public var jitterMeanMs: Double?
        public var jitterMaxMs: Double?
        public var jitterMs: Double?
        /// Mean RTCP round trip (the path's, used for this direction's delay), ms.
        public var rttMs: Double?
        /// RTT/2; one-way delay is not measured (no trusted common clock).
        public var oneWayMs: Double?
        public var oneWaySource: String?
        public var jbMs: Double
        public var jbDiscards: Int
        public var jitterBuffer: JitterBufferEmulator.Summary
        public var assessment: CallQualityAssessment?
        public var dscpReceived: UInt8?
        public var dscpValues: [UInt8]
        public var audioOK: Bool
        public var audio: AudioCheck
        /// Per `MediaParameters.watchTones` frequency, in order (empty when none were watched).
        public var tones: [ToneObservation] = []
        /// ms from `start` to the first RTP packet accepted (negative: it arrived before `start`).
        public var firstPacketMs: Double?
        public var dtmfDigitsReceived: [Digit]
        public var dtmf: String
        /// The remote's own packet and octet counts from its last SR (RFC 3550 §6.4.1): what it
        /// says it sent, to compare with `packets_received`.
        public var senderReportedPackets: UInt32?
        public var senderReportedOctets: UInt32?
        public var byeReceived: Bool
        public var notes: [String]

        enum CodingKeys: String, CodingKey {
            case codec, ptime, packetsExpected = "packets_expected", packetsReceived = "packets_received"
            case packetsLost = "packets_lost", duplicates, reordered, lossPct = "loss_pct", burstRatio = "burst_ratio"
            case maxBurst = "max_burst", lossRuns = "loss_runs", maxDeltaMs = "max_delta_ms"
            case packetsRejected = "packets_rejected", sequenceResyncs = "sequence_resyncs"
            case rfc3550CumulativeLost = "rfc3550_cumulative_lost", audioPackets = "audio_packets"
            case telephoneEventPackets = "telephone_event_packets"
            case jitterMeanMs = "jitter_mean_ms", jitterMaxMs = "jitter_max_ms", jitterMs = "jitter_ms"
            case rttMs = "rtt_ms", oneWayMs = "one_way_ms", oneWaySource = "one_way_source"
            case jbMs = "jb_ms", jbDiscards = "jb_discards", jitterBuffer = "jitter_buffer", effectiveLossPct = "effective_loss_pct"
            case rFactor = "r_factor", rFactorLQ = "r_factor_lq", mosCQ = "mos_cq", mosLQ = "mos_lq", quality
            case impairments, impairmentsLQ = "impairments_lq", eModel = "e_model"
            case dscpReceived = "dscp_received", dscpValues = "dscp_values", audioOK = "audio_ok", audio, tones
            case firstPacketMs = "first_packet_ms", dtmfDigitsReceived = "dtmf_digits_received", dtmf
            case senderReportedPackets = "sender_reported_packets", senderReportedOctets = "sender_reported_octets"
            case byeReceived = "bye_received", notes
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            let s = statistics
            try c.encode(codec, forKey: .codec)
            try c.encode(ptime, forKey: .ptime)
            try c.encode(s.packetsExpected, forKey: .packetsExpected)
            try c.encode(s.packetsReceived, forKey: .packetsReceived)
            try c.encode(s.packetsLost, forKey: .packetsLost)
            try c.encode(s.duplicates, forKey: .duplicates)
            try c.encode(s.reordered, forKey: .reordered)
            try c.encode(s.lossPercent, forKey: .lossPct)
            try c.encode(s.burstRatio, forKey: .burstRatio)
            try c.encode(s.maxBurst, forKey: .maxBurst)
            try c.encode(s.lossRuns, forKey: .lossRuns)
            try c.encode(s.maxDeltaMs, forKey: .maxDeltaMs)
            try c.encode(s.packetsRejected, forKey: .packetsRejected)
            try c.encode(s.sequenceResyncs, forKey: .sequenceResyncs)
            try c.encode(s.rfc3550CumulativeLost, forKey: .rfc3550CumulativeLost)
            try c.encode(audioPackets, forKey: .audioPackets)
            try c.encode(telephoneEventPackets, forKey: .telephoneEventPackets)
            try c.encode(jitterMeanMs, forKey: .jitterMeanMs)
            try c.encode(jitterMaxMs, forKey: .jitterMaxMs)
            try c.encode(jitterMs, forKey: .jitterMs)
            try c.encode(rttMs, forKey: .rttMs)
            try c.encode(oneWayMs, forKey: .oneWayMs)
            try c.encode(oneWaySource, forKey: .oneWaySource)
            try c.encode(jbMs, forKey: .jbMs)
            try c.encode(jbDiscards, forKey: .jbDiscards)
            try c.encode(jitterBuffer, forKey: .jitterBuffer)
            try c.encode(assessment?.measurement?.effectiveLossPercent, forKey: .effectiveLossPct)
            try c.encode(assessment?.rFactor, forKey: .rFactor)
            try c.encode(assessment?.listening.rFactor, forKey: .rFactorLQ)
            try c.encode(assessment?.mosCQ, forKey: .mosCQ)
            try c.encode(assessment?.mosLQ, forKey: .mosLQ)
            try c.encode(assessment?.quality, forKey: .quality)
            try c.encode(assessment?.conversational?.impairments, forKey: .impairments)
            try c.encode(assessment?.listening.impairments, forKey: .impairmentsLQ)
            try c.encode(assessment, forKey: .eModel)
            try c.encode(dscpReceived, forKey: .dscpReceived)
            try c.encode(dscpValues, forKey: .dscpValues)
            try c.encode(audioOK, forKey: .audioOK)
            try c.encode(audio, forKey: .audio)
            try c.encode(tones, forKey: .tones)
            try c.encode(firstPacketMs, forKey: .firstPacketMs)
            try c.encode(dtmfDigitsReceived, forKey: .dtmfDigitsReceived)
            try c.encode(dtmf, forKey: .dtmf)
            try c.encode(senderReportedPackets, forKey: .senderReportedPackets)
            try c.encode(senderReportedOctets, forKey: .senderReportedOctets)
            try c.encode(byeReceived, forKey: .byeReceived)
            try c.encode(notes, forKey: .notes)
        }
    }

    /// Our stream as the remote's last RTCP report block about it describes it (RFC 3550
    /// §6.4.1). Loss here is RFC 3550's cumulative count (duplicates hide loss); the burst
    /// ratio is unknown, so the E-model assumes random loss (BurstR 1).
    public struct RemoteView: Sendable, Encodable {
        public var reportsReceived: Int
        /// Fraction lost over the last report interval, 0...1.
        public var fractionLost: Double
        public var cumulativeLost: Int32
        public var extendedHighestSequence: UInt32
        public var jitterMs: Double
        /// Our sequence numbers from the first sent to the reported highest.
        public var packetsExpected: Int?
        public var lossPct: Double?
        public var assessment: CallQualityAssessment?

        enum CodingKeys: String, CodingKey {
            case reportsReceived = "reports_received", fractionLost = "fraction_lost", cumulativeLost = "cumulative_lost"
            case extendedHighestSequence = "extended_highest_sequence", jitterMs = "jitter_ms"
            case packetsExpected = "packets_expected", lossPct = "loss_pct"
            case rFactor = "r_factor", mosCQ = "mos_cq", mosLQ = "mos_lq", eModel = "e_model"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(reportsReceived, forKey: .reportsReceived)
            try c.encode(fractionLost, forKey: .fractionLost)
            try c.encode(cumulativeLost, forKey: .cumulativeLost)
            try c.encode(extendedHighestSequence, forKey: .extendedHighestSequence)
            try c.encode(jitterMs, forKey: .jitterMs)
            try c.encode(packetsExpected, forKey: .packetsExpected)
            try c.encode(lossPct, forKey: .lossPct)
            try c.encode(assessment?.rFactor, forKey: .rFactor)
            try c.encode(assessment?.mosCQ, forKey: .mosCQ)
            try c.encode(assessment?.mosLQ, forKey: .mosLQ)
            try c.encode(assessment, forKey: .eModel)
        }
    }

    /// RFC 3550 §6.4.1 round trips from the remote's report blocks about our SR, ms.
    public struct RoundTrip: Sendable, Encodable {
        public var samples: Int
        public var lastMs: Double?
        public var meanMs: Double?
        public var minMs: Double?
        public var maxMs: Double?

        enum CodingKeys: String, CodingKey {
            case samples, lastMs = "last_ms", meanMs = "mean_ms", minMs = "min_ms", maxMs = "max_ms"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(samples, forKey: .samples)
            try c.encode(lastMs, forKey: .lastMs)
            try c.encode(meanMs, forKey: .meanMs)
            try c.encode(minMs, forKey: .minMs)
            try c.encode(maxMs, forKey: .maxMs)
        }
    }

    public struct RTCPCounts: Sendable, Encodable {
        /// Compound packets.
        public var sent: Int
        public var received: Int
        public var byeSent: Bool
        public var byeReceived: Bool
        public var byeReason: String?
        public var remoteCNAME: String?

        enum CodingKeys: String, CodingKey {
            case sent, received, byeSent = "bye_sent", byeReceived = "bye_received", byeReason = "bye_reason"
            case remoteCNAME = "remote_cname"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(sent, forKey: .sent)
            try c.encode(received, forKey: .received)
            try c.encode(byeSent, forKey: .byeSent)
            try c.encode(byeReceived, forKey: .byeReceived)
            try c.encode(byeReason, forKey: .byeReason)
            try c.encode(remoteCNAME, forKey: .remoteCNAME)
        }
    }

    public var session: Session
    public var sent: Sent
    public var received: Received
    public var remoteView: RemoteView?
    public var rtt: RoundTrip
    public var junk: JunkCounters
    public var rtcp: RTCPCounts
    /// Datagrams that arrived between `openSession` and `start` and were replayed at `start`.
    public var earlyPackets: Int
    /// Counters of each second since `start` (`Second`). Not in this JSON (it would grow with
    /// the call); the agent puts them in a run's evidence.
    public var seconds: [Second] = []

    enum CodingKeys: String, CodingKey {
        case session, sent, received, remoteView = "remote_view", rtt, junk, rtcp, earlyPackets = "early_packets"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(session, forKey: .session)
        try c.encode(sent, forKey: .sent)
        try c.encode(received, forKey: .received)
        try c.encode(remoteView, forKey: .remoteView)
        try c.encode(rtt, forKey: .rtt)
        try c.encode(junk, forKey: .junk)
        try c.encode(rtcp, forKey: .rtcp)
        try c.encode(earlyPackets, forKey: .earlyPackets)
    }
}
