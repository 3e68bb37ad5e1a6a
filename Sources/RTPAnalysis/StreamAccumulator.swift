import CallQuality
import Pcap
import RTPCore

/// Everything measured on one confirmed stream, packet by packet.
///
/// Two `ReceiverStatistics` run side by side:
/// * `sequence` sees every packet of the SSRC, telephone events included, because events
///   share the stream's sequence-number space (RFC 4733 §2.1, RFC 3550 §5.1): leaving them
///   out would turn every digit into "lost" voice packets. Loss, duplicates, reordering,
///   bursts, re-syncs and max delta come from here; its jitter is ignored.
/// * `timing` sees the audio packets only, with the audio clock, and gives the interarrival
///   jitter (RFC 3550 A.8): all packets of one event carry the event's start timestamp
///   (RFC 4733 §2.5.1.2), which would read as jitter.
/// The jitter-buffer emulation gets the audio packets too.
///
/// Both run with `minSequential` 1: the `StreamDetectionRule` has already done what RFC 3550
/// A.1 probation is for (telling a real source from noise), and a second probation would
/// reject the first packets of a stream that starts with a reordered packet.
struct StreamAccumulator: Sendable {
    static let statisticsConfiguration = ReceiverStatistics.Configuration(minSequential: 1)

    let key: RTPStreamKey

    private var sequence = ReceiverStatistics(clockRate: 8000, configuration: statisticsConfiguration)
    private var timing: ReceiverStatistics?
    private var jitterBuffer: JitterBufferEmulator?
    /// The audio payload type whose clock `timing` runs on: the first with a known clock.
    private var timingPayloadType: UInt8?
    private var timingClock: Int?

    private var packetsByPayloadType: [UInt8: Int] = [:]
    /// Per dynamic payload type: whether its packets are telephone events (decided by the
    /// first packet of the type in this stream).
    private var eventDecisions: [UInt8: Bool] = [:]
    private var lastPayloadType: UInt8?
    private var payloadTypeChanges = 0

    private var packets = 0
    private var eventPackets = 0
    /// Event end packets resent with an already-used sequence number (sipp, some gateways;
    /// see `TelephoneEventSender.EndSequencing`): not network duplicates.
    private var eventEndRepeats = 0
    /// Audio packets left out of the jitter: no clock known, or a clock other than `timingClock`.
    private var audioWithoutTiming = 0

    private var firstTime: CaptureTimestamp
    private var lastTime: CaptureTimestamp
    private var firstArrival: Int64
    private var dscpSeen: UInt64 = 0
    private var firstDSCP: UInt8

    /// Timestamp steps between audio packets with consecutive sequence numbers (ptime).
    private var timestampSteps: [UInt32: Int] = [:]
    private var previousAudio: (sequence: UInt16, timestamp: UInt32)?

    init(key: RTPStreamKey, first: PacketSample) {
        self.key = key
        firstTime = first.captureTime
        lastTime = first.captureTime
        firstArrival = first.arrival
        firstDSCP = first.dscp
    }

    mutating func add(_ packet: PacketSample, configuration: RTPAnalyzer.Configuration) {
        packets += 1
        lastTime = max(lastTime, packet.captureTime)
        dscpSeen |= 1 << UInt64(packet.dscp & 63)
        packetsByPayloadType[packet.payloadType, default: 0] += 1
        if let last = lastPayloadType, last != packet.payloadType { payloadTypeChanges += 1 }
        lastPayloadType = packet.payloadType

        let disposition = sequence.record(sequence: packet.sequence, rtpTimestamp: packet.rtpTimestamp, arrivalNanoseconds: packet.arrival)
        if isTelephoneEvent(packet, configuration.payloadTypes) {
            eventPackets += 1
            if disposition == .duplicate, packet.eventShape?.isEnd == true { eventEndRepeats += 1 }
            return
        }
        guard let clock = configuration.payloadTypes.meaning(of: packet.payloadType)?.clockRate else {
            audioWithoutTiming += 1
            return
        }
        if timingClock == nil {
            timingClock = clock
            timingPayloadType = packet.payloadType
            timing = ReceiverStatistics(clockRate: clock, configuration: Self.statisticsConfiguration)
            jitterBuffer = JitterBufferEmulator(mode: .fixed(delayMs: configuration.jitterBufferMs), clockRate: clock)
        }
        guard clock == timingClock else {
            audioWithoutTiming += 1
            return
        }
        timing?.record(sequence: packet.sequence, rtpTimestamp: packet.rtpTimestamp, arrivalNanoseconds: packet.arrival)
        jitterBuffer?.record(sequence: packet.sequence, rtpTimestamp: packet.rtpTimestamp, marker: packet.marker,
                             arrivalNanoseconds: packet.arrival)
        notePacketisation(packet, clock: clock)
    }

    private mutating func isTelephoneEvent(_ packet: PacketSample, _ payloadTypes: PayloadTypeMap) -> Bool {
        if let given = payloadTypes.entries[packet.payloadType] { return given.isTelephoneEvent }
        guard StaticPayloadTypes.isDynamic(packet.payloadType) else { return false }
        if let decided = eventDecisions[packet.payloadType] { return decided }
        let decided = packet.eventShape != nil
        eventDecisions[packet.payloadType] = decided
        return decided
    }

    /// Counts the timestamp step between audio packets one sequence number apart: its most
    /// common value over the clock rate is the packetisation time.
    private mutating func notePacketisation(_ packet: PacketSample, clock: Int) {
        defer { previousAudio = (packet.sequence, packet.rtpTimestamp) }
        guard let previous = previousAudio, packet.sequence == previous.sequence &+ 1 else { return }
        let step = packet.rtpTimestamp &- previous.timestamp
        guard step > 0, step <= UInt32(clock), timestampSteps[step] != nil || timestampSteps.count < 16 else { return }
        timestampSteps[step, default: 0] += 1
    }

    // MARK: - Report

    func report(configuration: RTPAnalyzer.Configuration, roundTrip: RoundTripEstimate?) -> RTPStreamReport {
        let summary = sequence.snapshot()
        let payloadTypes = configuration.payloadTypes
        var notes: [String] = []

        let eventTypes = Set(packetsByPayloadType.keys.filter { isEventType($0, payloadTypes) })
        let audioCounts = packetsByPayloadType.filter { !eventTypes.contains($0.key) }
        // The main payload type: the audio type with the most packets (lowest number on a tie).
        let main = audioCounts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        let mainMeaning = main.flatMap(payloadTypes.meaning(of:))
        let usage = packetsByPayloadType.keys.sorted().map { type in
            RTPStreamReport.PayloadTypeUsage(
                payloadType: type, packets: packetsByPayloadType[type] ?? 0,
                encodingName: eventTypes.contains(type) ? (payloadTypes.meaning(of: type)?.encodingName ?? "telephone-event")
                    : payloadTypes.meaning(of: type)?.encodingName,
                clockRate: payloadTypes.meaning(of: type)?.clockRate,
                isTelephoneEvent: eventTypes.contains(type))
        }
        if audioCounts.count > 1 {
            notes.append("payload type changed \(payloadTypeChanges) times; codec and MOS use payload type \(main.map(String.init) ?? "-") (most packets)")
        }

        let timingSummary = timing?.snapshot()
        if timing == nil, let main {
            if StaticPayloadTypes.isDynamic(main) {
                notes.append("jitter not computed: payload type \(main) is dynamic and its clock rate is unknown (give --clock \(main)=RATE)")
            } else {
                notes.append("jitter not computed: payload type \(main) has no known clock rate (give --clock \(main)=RATE)")
            }
        } else if audioWithoutTiming > 0 {
            notes.append("\(audioWithoutTiming) audio packets of another or unknown clock left out of jitter and jitter buffer")
        }
        if eventEndRepeats > 0 {
            notes.append("\(eventEndRepeats) telephone-event end packets repeated a sequence number (RFC 4733 §2.5.1.6 wants new ones); not counted as duplicates")
        }
        let ptimeMs = timingClock.flatMap { clock in
            timestampSteps.max { ($0.value, $1.key) < ($1.value, $0.key) }.map { Double($0.key) * 1000 / Double(clock) }
        }
        let dscpValues = (0..<64).filter { dscpSeen & (1 << UInt64($0)) != 0 }.map { UInt8($0) }
        if dscpValues.count > 1 { notes.append("DSCP varied: \(dscpValues.map(String.init).joined(separator: ", "))") }

        var statistics = summary
        statistics.duplicates -= eventEndRepeats
        let jitterBufferSummary = jitterBuffer?.summary
        let codec = Codec.forPayload(mainMeaning)
        let assessment = Self.assess(
            codec: codec, main: main, meaning: mainMeaning, statistics: statistics, discards: jitterBufferSummary?.lateDiscards,
            ptimeMs: ptimeMs, roundTrip: roundTrip, configuration: configuration, notes: &notes)
        if roundTrip == nil, assessment != nil {
            notes.append("no MOS-CQ: no RTCP report block about this SSRC with a round trip (LSR/DLSR)")
        } else if roundTrip?.method == .captureTowardReceiver || roundTrip?.method == .captureTowardSender {
            notes.append("RTT from RTCP of one direction only: exact when the capture was taken at the \(roundTrip?.method == .captureTowardReceiver ? "sender" : "receiver")")
        } else if roundTrip?.method == .senderNTPClock {
            notes.append("RTT from the capture time as NTP (the SRs are not in the capture): exact only when captured on the sender with a wall-clock NTP clock")
        }

        return RTPStreamReport(
            key: key, payloadType: main, payloadTypes: usage, payloadTypeChanges: payloadTypeChanges,
            encodingName: mainMeaning?.encodingName, codec: codec?.name, clockRate: timingClock, ptimeMs: ptimeMs,
            firstPacketTime: firstTime, lastPacketTime: lastTime,
            startOffsetSeconds: Double(firstArrival) / 1e9,
            durationSeconds: Double(boundedNanoseconds(from: firstTime, to: lastTime)) / 1e9,
            packets: packets, telephoneEventPackets: eventPackets, eventEndRepeats: eventEndRepeats,
            statistics: statistics,
            jitterMeanMs: timingSummary?.jitterMeanMs, jitterMaxMs: timingSummary?.jitterMaxMs, jitterLastMs: timingSummary?.jitterMs,
            jitterBufferMs: jitterBufferSummary == nil ? nil : configuration.jitterBufferMs, jitterBuffer: jitterBufferSummary,
            roundTrip: roundTrip, dscpReceived: firstDSCP, dscpValues: dscpValues,
            assessment: assessment, notes: notes)
    }

    private func isEventType(_ type: UInt8, _ payloadTypes: PayloadTypeMap) -> Bool {
        if let given = payloadTypes.entries[type] { return given.isTelephoneEvent }
        return eventDecisions[type] ?? false
    }

    /// The E-model score of the stream (Earshot's conventions, reference/emodel.md): Ppl from
    /// unique loss plus jitter-buffer discards over expected, BurstR from the loss runs,
    /// Ta = RTT/2 + jitter buffer + ptime + look-ahead when RTCP gave an RTT.
    private static func assess(codec: Codec?, main: UInt8?, meaning: PayloadTypeMeaning?, statistics: ReceiverStatistics.Summary,
                               discards: Int?, ptimeMs: Double?, roundTrip: RoundTripEstimate?,
                               configuration: RTPAnalyzer.Configuration, notes: inout [String]) -> CallQualityAssessment? {
        guard let main else {
            notes.append("no MOS: the stream carries telephone events only")
            return nil
        }
        guard let codec else {
            let name = meaning?.encodingName.map { " (\($0))" } ?? ""
            let hint = StaticPayloadTypes.isDynamic(main) && meaning?.encodingName == nil ? "; name the codec with --clock \(main)=PCMU/8000" : ""
            notes.append("no MOS: payload type \(main)\(name) is not a codec the E-model scores (PCMU, PCMA, G729, G723)\(hint)")
            return nil
        }
        guard codec.isNarrowband else {
            notes.append("no MOS: \(codec.name) is not a narrowband codec; G.107/G.113 have no values for it")
            return nil
        }
        guard statistics.packetsExpected > 0 else {
            notes.append("no MOS: too few packets to count (the source never passed RFC 3550 A.1 probation)")
            return nil
        }
        // ptime must be whole codec frames for the delay budget; otherwise the codec's default.
        var ptime = ptimeMs
        if let value = ptime, codec.frameMs > 0, abs(value / codec.frameMs - (value / codec.frameMs).rounded()) > 1e-9 {
            ptime = nil
        }
        let measurement = StreamMeasurement(
            codec: codec, concealment: configuration.concealment,
            packetsExpected: statistics.packetsExpected, packetsLost: statistics.packetsLost,
            jitterBufferDiscards: discards ?? 0, burstRatio: statistics.burstRatio,
            networkDelay: roundTrip.map { .roundTrip(rttMs: $0.rttMs) } ?? .unknown,
            jitterBufferDelayMs: configuration.jitterBufferMs, ptimeMs: ptime)
        do {
            return try CallQualityAssessment(measurement: measurement)
        } catch {
            notes.append("no MOS: \(error.message)")
            return nil
        }
    }
}
