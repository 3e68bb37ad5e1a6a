import RTPCore

/// Datagrams a session refused, by reason. None of them reaches the statistics.
public struct JunkCounters: Sendable, Hashable, Encodable {
    /// Shorter than the 12-octet RTP header, or CSRCs / extension / padding beyond the
    /// datagram (RFC 3550 A.1).
    public var truncated = 0
    /// RTP version field other than 2 (RFC 3550 A.1) — most non-RTP traffic lands here.
    public var wrongVersion = 0
    /// A header that fails another A.1 check (padding count 0, a payload type that reads as
    /// RTCP, RFC 5761 §4).
    public var malformedRTP = 0
    /// Valid RTP with a payload type that was not negotiated.
    public var unknownPayloadType = 0
    /// Valid RTP from the expected source with another SSRC than the one the session locked on.
    public var wrongSSRC = 0
    /// Valid RTP or RTCP from another address than the latched one (after latching).
    public var unexpectedSource = 0
    /// RTCP that fails RFC 3550 A.2 / §6.4 decoding.
    public var malformedRTCP = 0
    /// A telephone-event packet whose payload is not whole RFC 4733 reports.
    public var malformedEvent = 0
    /// Longer than the receive buffer (cut by the kernel).
    public var oversize = 0
    /// Arrived before `start` beyond the early-packet limit.
    public var beforeStart = 0

    public init() {}

    public var total: Int {
        truncated + wrongVersion + malformedRTP + unknownPayloadType + wrongSSRC + unexpectedSource + malformedRTCP
            + malformedEvent + oversize + beforeStart
    }

    public mutating func merge(_ other: JunkCounters) {
        truncated += other.truncated
        wrongVersion += other.wrongVersion
        malformedRTP += other.malformedRTP
        unknownPayloadType += other.unknownPayloadType
        wrongSSRC += other.wrongSSRC
        unexpectedSource += other.unexpectedSource
        malformedRTCP += other.malformedRTCP
        malformedEvent += other.malformedEvent
        oversize += other.oversize
        beforeStart += other.beforeStart
    }

    enum CodingKeys: String, CodingKey {
        case truncated, wrongVersion = "wrong_version", malformedRTP = "malformed_rtp"
        case unknownPayloadType = "unknown_payload_type", wrongSSRC = "wrong_ssrc"
        case unexpectedSource = "unexpected_source", malformedRTCP = "malformed_rtcp"
        case malformedEvent = "malformed_event", oversize, beforeStart = "before_start", total
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(truncated, forKey: .truncated)
        try c.encode(wrongVersion, forKey: .wrongVersion)
        try c.encode(malformedRTP, forKey: .malformedRTP)
        try c.encode(unknownPayloadType, forKey: .unknownPayloadType)
        try c.encode(wrongSSRC, forKey: .wrongSSRC)
        try c.encode(unexpectedSource, forKey: .unexpectedSource)
        try c.encode(malformedRTCP, forKey: .malformedRTCP)
        try c.encode(malformedEvent, forKey: .malformedEvent)
        try c.encode(oversize, forKey: .oversize)
        try c.encode(beforeStart, forKey: .beforeStart)
        try c.encode(total, forKey: .total)
    }
}

/// The receiving half of a session: validation, statistics, the audio check and DTMF.
///
/// Like `pcap analyze` (RTPAnalysis' `StreamAccumulator`) two `ReceiverStatistics` run side
/// by side: `sequence` over every packet of the SSRC, telephone events included (they share
/// the sequence space, RFC 4733 §2.1 — leaving them out would turn digits into loss), for
/// loss, duplicates, reordering and bursts; `timing` over the audio packets only, for the
/// RFC 3550 A.8 jitter (all packets of an event carry its start timestamp, §2.5.1.2, which
/// would read as jitter). The jitter-buffer emulation sees the audio packets. Unlike the
/// analyser, which has already confirmed a stream before counting it, a live receiver keeps
/// RFC 3550 A.1 probation (MIN_SEQUENTIAL 2); the kernel counts the probation packets too.
struct RTPReceiver: Sendable {
    struct ReceivedDigit: Sendable, Hashable {
        var digit: Character?
        var event: UInt8
        /// Arrival of the event's first packet, ns after `start`.
        var offsetNanoseconds: Int64
        var endOffsetNanoseconds: Int64
        var durationMs: Double
        var ending: TelephoneEventReceiver.Ending
    }

    /// How an accepted RTP packet was classified.
    enum Accepted: Sendable, Hashable {
        case audio
        case event
    }

    let audioPayloadType: UInt8
    let eventPayloadType: UInt8?
    let law: G711Law
    let clockRate = 8000
    let samplesPerPacket: Int
    /// The expected remote tone; nil: the check only looks for signal.
    let expectedTone: Int?
    let startTime: Int64

    private(set) var sequence = ReceiverStatistics(clockRate: 8000)
    private(set) var timing = ReceiverStatistics(clockRate: 8000)
    private(set) var jitterBuffer: JitterBufferEmulator
    private(set) var remoteSSRC: UInt32?
    private(set) var firstArrival: Int64?
    private(set) var lastArrival: Int64?
    private(set) var firstDSCP: UInt8?
    private(set) var dscpSeen: UInt64 = 0
    private(set) var audioPackets = 0
    private(set) var eventPackets = 0
    private(set) var digits: [ReceivedDigit] = []
    private(set) var tracker = ToneTracker()
    private let detector: GoertzelDetector
    private var events = TelephoneEventReceiver()
    /// The newest slots of the audio check, by sequence number, not yet given to the tracker:
    /// a packet that arrives out of order but within the window still counts, as it would in
    /// the listener's jitter buffer; a gap still open when its slot leaves the window is silence.
    private var trackerWindow: [(sequence: UInt16, slot: TrackerSlot)] = []
    private enum TrackerSlot { case missing, frame(Bool, watched: UInt64), event }
    /// `MediaParameters.watchTones`, fed the same slots as the audio check; nil when none.
    private var watch: ToneWatch?
    /// Slots given to the tracker so far (events included: they take their time on the
    /// timeline), for the watched tones' per-second counts.
    private var timelineSlots: Int64 = 0
    /// Whether any slot has left the window (then older packets are too late).
    private var trackerStarted = false
    /// Slots kept open for late packets: 4 × 20 ms, the order of the emulated jitter buffer.
    static let reorderWindow = 4
    private var samples: [Int16] = []

    /// Level a frame needs to count as signal when no tone is expected (dBov).
    static let signalThresholdDb = -55.0
    /// Longest sequence gap filled with "no audio" frames in the audio check; beyond it the
    /// sender restarted (RFC 3550 A.1 MAX_DROPOUT).
    static let maximumGapFill = 3000

    init(payloadType: UInt8, law: G711Law, eventPayloadType: UInt8?, ptimeMs: Int, expectedTone: Int?, startTime: Int64,
         jitterBufferMs: Double, watchTones: [Int] = []) {
        self.audioPayloadType = payloadType
        self.law = law
        self.eventPayloadType = eventPayloadType
        self.samplesPerPacket = ptimeMs * 8
        self.expectedTone = expectedTone
        self.startTime = startTime
        jitterBuffer = JitterBufferEmulator(mode: .fixed(delayMs: jitterBufferMs), clockRate: 8000)
        // Without an expected tone any frequency serves: only the frame level is looked at.
        detector = GoertzelDetector(frequency: Double(expectedTone ?? 1000))
        tracker = ToneTracker(frameDurationMs: Double(ptimeMs))
        watch = watchTones.isEmpty ? nil : ToneWatch(frequencies: watchTones, frameDurationMs: Double(ptimeMs))
    }

    /// Validates the RTP header (RFC 3550 A.1); counts a refused datagram in `junk`.
    static func parse(_ datagram: ArraySlice<UInt8>, junk: inout JunkCounters) -> RTPPacketView? {
        do {
            return try RTPPacketView(parsing: datagram)
        } catch {
            switch error {
            case .truncatedFixedHeader, .csrcCountBeyondPacket, .headerExtensionBeyondPacket, .paddingBeyondPayload:
                junk.truncated += 1
            case .unsupportedVersion: junk.wrongVersion += 1
            default: junk.malformedRTP += 1
            }
            return nil
        }
    }

    /// Records a valid RTP packet when it belongs to this stream (negotiated payload type,
    /// the locked SSRC, a well-formed event payload); otherwise counts it in `junk` and
    /// leaves everything else untouched.
    mutating func receive(_ view: RTPPacketView, in datagram: ArraySlice<UInt8>, tos: UInt8?, arrival: Int64,
                          junk: inout JunkCounters) -> Accepted? {
        let isEvent = eventPayloadType == view.payloadType
        guard isEvent || view.payloadType == audioPayloadType else {
            junk.unknownPayloadType += 1
            return nil
        }
        if let remoteSSRC, remoteSSRC != view.ssrc {
            junk.wrongSSRC += 1
            return nil
        }
        let payload = view.payload(in: datagram)
        if isEvent {
            // Checked before anything is recorded, so a malformed event leaves no trace.
            guard (try? TelephoneEvent.reports(in: payload)) != nil else {
                junk.malformedEvent += 1
                return nil
            }
        }
        remoteSSRC = view.ssrc
        if firstArrival == nil { firstArrival = arrival }
        lastArrival = max(lastArrival ?? arrival, arrival)
        if let tos {
            let dscp = tos >> 2
            if firstDSCP == nil { firstDSCP = dscp }
            dscpSeen |= 1 << UInt64(dscp)
        }
        sequence.record(sequence: view.sequenceNumber, rtpTimestamp: view.timestamp, arrivalNanoseconds: arrival)
        if isEvent {
            placeInTracker(view.sequenceNumber, .event)
            eventPackets += 1
            let completed = (try? events.receive(timestamp: view.timestamp, sequenceNumber: view.sequenceNumber,
                                                 marker: view.marker, payload: payload,
                                                 arrival: .nanoseconds(arrival - startTime))) ?? []
            for event in completed { note(event) }
            return .event
        }
        audioPackets += 1
        timing.record(sequence: view.sequenceNumber, rtpTimestamp: view.timestamp, arrivalNanoseconds: arrival)
        jitterBuffer.record(sequence: view.sequenceNumber, rtpTimestamp: view.timestamp, marker: view.marker,
                            arrivalNanoseconds: arrival)
        if canPlaceInTracker(view.sequenceNumber) {
            placeInTracker(view.sequenceNumber, measure(payload))
        }
        return .audio
    }

    /// Puts a packet's verdict in its sequence slot: a newer packet opens slots for the numbers
    /// it skipped (lost so far); an older one fills its slot if still in the window (a late
    /// duplicate or one outside the window changes nothing). Slots leaving the window go to the
    /// tracker, open gaps as "no audio" (lost packets are silence to the listener).
    private func canPlaceInTracker(_ number: UInt16) -> Bool {
        guard let newest = trackerWindow.last?.sequence else { return true }
        if Int(Int16(bitPattern: number &- newest)) > 0 { return true }
        if let index = trackerWindow.lastIndex(where: { $0.sequence == number }) {
            if case .missing = trackerWindow[index].slot { return true }
            return false
        }
        guard !trackerStarted, let oldest = trackerWindow.first?.sequence else { return false }
        let before = Int(Int16(bitPattern: oldest &- number))
        return before > 0 && before <= Self.reorderWindow
    }

    private mutating func placeInTracker(_ number: UInt16, _ slot: TrackerSlot) {
        guard let newest = trackerWindow.last?.sequence else {
            trackerWindow.append((number, slot))
            return
        }
        let delta = Int(Int16(bitPattern: number &- newest))
        if delta > 0 {
            if delta - 1 > Self.maximumGapFill {
                flushTracker(all: true)  // a resync: do not invent thousands of silent frames
            } else {
                for step in 1..<delta { trackerWindow.append((newest &+ UInt16(step), .missing)) }
            }
            trackerWindow.append((number, slot))
        } else if let index = trackerWindow.lastIndex(where: { $0.sequence == number }) {
            if case .missing = trackerWindow[index].slot { trackerWindow[index].slot = slot }
        } else if !trackerStarted, let oldest = trackerWindow.first?.sequence,
                  case let before = Int(Int16(bitPattern: oldest &- number)), before > 0, before <= Self.reorderWindow {
            // The stream's first packets overtaken by a later one: nothing has left the window
            // yet, so they take their places in front.
            for step in (1..<before).reversed() { trackerWindow.insert((number &+ UInt16(step), .missing), at: 0) }
            trackerWindow.insert((number, slot), at: 0)
        }
        flushTracker(all: false)
    }

    private mutating func flushTracker(all: Bool) {
        let leaving = trackerWindow.count - (all ? 0 : Self.reorderWindow)
        guard leaving > 0 else { return }
        trackerStarted = true
        feed(trackerWindow.prefix(leaving), tracker: &tracker, watch: &watch, slots: &timelineSlots)
        trackerWindow.removeFirst(leaving)
    }

    /// Slots to the tracker (and the watched tones) in sequence order: an open gap is a frame
    /// without tone. Slot n of the timeline lies n packet intervals after the first arrival.
    private func feed(_ entries: some Sequence<(sequence: UInt16, slot: TrackerSlot)>, tracker: inout ToneTracker,
                      watch: inout ToneWatch?, slots: inout Int64) {
        let anchor = (firstArrival ?? startTime) - startTime
        let interval = Int64(samplesPerPacket) * 1_000_000_000 / Int64(clockRate)
        for entry in entries {
            let at = anchor + slots * interval
            slots += 1
            switch entry.slot {
            case .missing:
                tracker.record(toneDetected: false)
                watch?.record(nil, at: at)
            case .frame(let present, let watched):
                tracker.record(toneDetected: present)
                watch?.record(watched, at: at)
            case .event: break
            }
        }
    }

    /// The audio check and the watched tones so far, the window's open slots included (gaps as silence).
    var toneReports: (audio: ToneTracker.Report, watch: ToneWatch?) {
        var tracker = tracker, watch = watch, slots = timelineSlots
        feed(trackerWindow, tracker: &tracker, watch: &watch, slots: &slots)
        return (tracker.report, watch)
    }

    /// Decodes the G.711 frame and asks the tone (or signal) detector and the watched tones.
    private mutating func measure(_ payload: ArraySlice<UInt8>) -> TrackerSlot {
        samples.removeAll(keepingCapacity: true)
        law.decode(payload, into: &samples)
        let measurement = detector.measure(samples)
        let present = expectedTone == nil ? measurement.frameLevelDb >= Self.signalThresholdDb : measurement.isPresent
        return .frame(present, watched: watch?.measure(samples) ?? 0)
    }

    private mutating func note(_ event: TelephoneEventReceiver.CompletedEvent) {
        digits.append(ReceivedDigit(
            digit: event.digit?.character, event: event.event,
            offsetNanoseconds: nanoseconds(event.startArrival), endOffsetNanoseconds: nanoseconds(event.endArrival),
            durationMs: Double(event.duration) * 1000 / Double(clockRate), ending: event.ending))
    }

    /// Ends an event whose end reports were all lost (RFC 4733 §2.5.2.2 leaves the timeout to
    /// the receiver): after `timeout` of silence, or unconditionally at the end of the stream.
    mutating func expireEvents(now: Int64, timeout: Duration?) {
        let completed = timeout.map { events.expire(now: .nanoseconds(now - startTime), timeout: $0) } ?? events.flush()
        if let completed { note(completed) }
    }

    /// RFC 3550 A.3 report-block fields: loss over `sequence` (events included) with the A.8
    /// jitter of the audio packets (`timing`). Nil before A.1 validation.
    mutating func makeReportBlockFields() -> ReceiverStatistics.ReportBlockFields? {
        guard var fields = sequence.makeReportBlockFields() else { return nil }
        fields.interarrivalJitter = UInt32(min(timing.jitter, Double(UInt32.max)))
        return fields
    }

    var dscpValues: [UInt8] { (0..<64).filter { dscpSeen & (1 << UInt64($0)) != 0 }.map { UInt8($0) } }

    private func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
