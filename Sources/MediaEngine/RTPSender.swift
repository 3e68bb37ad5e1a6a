import RTPCore

/// The sending half of a session: which RTP packet is due when, and what it carries.
///
/// Packets sit on an absolute grid: packet k is due at `origin + k · ptime` (monotonic ns),
/// whatever time the previous one actually left, so delay never accumulates. A sender that
/// wakes up late sends every packet that has come due (catching up), unless it is more than
/// `maximumCatchUp` packets behind (the process was stopped): then the missed ticks are
/// skipped — their RTP timestamps pass unused, which a receiver sees as a pause, not as loss.
///
/// RTP header (RFC 3550 §5.1): random initial sequence number and timestamp (§5.1: "SHOULD
/// be random"), timestamp advancing by the samples per packet, marker on the first packet
/// (RFC 3551 §4.1, start of a talkspurt). Payload: the kernel's `TestSignalGenerator` with
/// this session's tone, G.711-encoded.
///
/// RFC 4733 events (§2.5.1) replace the audio while they last: every packet of an event
/// carries the event's start timestamp (§2.5.1.2), updates go out one per packet interval,
/// and the end report is sent three times (§2.5.1.4), each with a new sequence number
/// (§2.5.1.6) — `TelephoneEventSender` builds them. Between digits the audio resumes for the
/// requested gap.
struct RTPSender: Sendable {
    struct SentDigit: Sendable, Hashable {
        var digit: Character
        /// Due time of the event's first packet, ns after `start`.
        var offsetNanoseconds: Int64
        var durationMs: Int
    }

    struct DigitRequest: Sendable, Hashable {
        var digit: DTMFDigit
        var durationMs: Int
        var gapMs: Int
    }

    private struct ActiveEvent: Sendable {
        var packets: [TelephoneEventSender.Packet]
        var next: Int
        var gapTicks: Int64
    }

    /// A telephone-event packet another bridge member sent, to pass on (relay mode).
    struct RelayedEvent: Sendable {
        /// Identifies the source event (source session and its event timestamp).
        var source: UInt64
        var marker: Bool
        var isEnd: Bool
        var payload: [UInt8]
    }

    static let maximumCatchUp: Int64 = 50
    /// Bridge mode: an event being relayed holds the audio back until its end report, or at
    /// most this many ticks after its last packet (all end reports lost).
    static let relayHoldTicks: Int64 = 25

    let ssrc: UInt32
    let payloadType: UInt8
    let eventPayloadType: UInt8?
    let samplesPerPacket: Int
    let intervalNanoseconds: Int64
    let clockRate = 8000
    /// Due time of packet 0.
    let origin: Int64
    let initialSequence: UInt16
    let initialTimestamp: UInt32
    private let frames: SignalFrames
    /// Bridge member: the payload of each packet is the mixer's (`BridgeFrame`), not the test signal.
    let bridged: Bool
    /// A silent payload in this stream's law (bridge mode: no mix for the packet).
    private let silence: [UInt8]
    private var relayQueue: [RelayedEvent] = []
    /// The event being relayed: its source, the timestamp it got on this stream, whether its
    /// end has been passed on, the tick of its last packet.
    private var relaying: (source: UInt64, timestamp: UInt32, ended: Bool, lastTick: Int64)?
    /// Bridge ticks on which no audio went out because a relayed event was under way.
    private(set) var heldTicks = 0

    private(set) var nextTick: Int64 = 0
    private(set) var sequence: UInt16
    private(set) var packets = 0
    /// Payload octets (RFC 3550 §6.4.1 sender's octet count).
    private(set) var payloadOctets = 0
    private(set) var audioPackets = 0
    private(set) var eventPackets = 0
    private(set) var skippedTicks: Int64 = 0
    private(set) var isStopped = false
    private(set) var digitsSent: [SentDigit] = []
    /// Due time of the most recent packet built, and of the last one.
    private(set) var lastDeadline: Int64?

    private var pendingDigits: [DigitRequest] = []
    private var active: ActiveEvent?
    private var earliestEventTick: Int64 = 0
    /// The session's `start` time, for digit offsets.
    private let startTime: Int64

    init(ssrc: UInt32, payloadType: UInt8, eventPayloadType: UInt8?, ptimeMs: Int, origin: Int64, startTime: Int64,
         initialSequence: UInt16, initialTimestamp: UInt32, frames: SignalFrames, bridged: Bool = false) {
        self.ssrc = ssrc
        self.payloadType = payloadType
        self.eventPayloadType = eventPayloadType
        self.samplesPerPacket = ptimeMs * 8
        self.intervalNanoseconds = Int64(ptimeMs) * 1_000_000
        self.origin = origin
        self.startTime = startTime
        self.initialSequence = initialSequence
        self.initialTimestamp = initialTimestamp
        self.sequence = initialSequence
        self.frames = frames
        self.bridged = bridged
        let law: G711Law = payloadType == G711Law.aLaw.rtpPayloadType ? .aLaw : .muLaw
        silence = bridged ? Array(repeating: law.silenceCode, count: samplesPerPacket) : []
    }

    func deadline(ofTick tick: Int64) -> Int64 { origin + tick * intervalNanoseconds }

    /// When the next packet is due; nil once stopped.
    var nextDeadline: Int64? { isStopped ? nil : deadline(ofTick: nextTick) }

    /// The RTP timestamp that corresponds to monotonic time `now` (for SR, RFC 3550 §6.4.1:
    /// "the same time as the NTP timestamp ... in the same units as the RTP timestamps").
    func rtpTimestamp(at now: Int64) -> UInt32 {
        let elapsed = now - origin
        let units = elapsed >= 0 ? elapsed * Int64(clockRate) / 1_000_000_000 : -((-elapsed) * Int64(clockRate) / 1_000_000_000)
        return initialTimestamp &+ UInt32(truncatingIfNeeded: units)
    }

    var hasPendingDigits: Bool { active != nil || !pendingDigits.isEmpty }

    mutating func queue(_ digits: [DigitRequest]) {
        pendingDigits.append(contentsOf: digits)
    }

    mutating func stop() { isStopped = true }

    /// Bridge mode: queues a telephone-event packet to pass on at the next tick.
    mutating func relay(_ event: RelayedEvent) {
        guard eventPayloadType != nil, !isStopped else { return }
        relayQueue.append(event)
    }

    /// Appends every packet due at or before `now` to `outbox` (each with its due time); a
    /// bridge member's audio payload is `bridgeFrame`'s when it is for that packet, else silence.
    mutating func emitDue(now: Int64, into outbox: inout Outbox, bridgeFrame: BridgeFrame? = nil) {
        guard !isStopped else { return }
        let behind = (now - deadline(ofTick: nextTick)) / intervalNanoseconds
        if behind > Self.maximumCatchUp {
            skippedTicks += behind
            nextTick += behind
        }
        while deadline(ofTick: nextTick) <= now {
            let due = deadline(ofTick: nextTick)
            if bridged, emitRelayed(tick: nextTick, due: due, into: &outbox) {
                lastDeadline = due
                nextTick += 1
                continue
            }
            let start = outbox.bytes.count
            buildPacket(tick: nextTick, bridgeFrame: bridgeFrame).encode(into: &outbox.bytes)
            outbox.items.append(Outbox.Item(socket: .rtp, range: start..<outbox.bytes.count, deadline: due))
            lastDeadline = due
            nextTick += 1
        }
    }

    /// Bridge relay (RFC 4733 §2.5.1): the queued event packets go out now instead of audio,
    /// re-stamped with this stream's SSRC and next sequence numbers (§2.1: events share the
    /// audio's sequence space) and, for every packet of one event, the timestamp this stream
    /// had at the tick its first packet went out (§2.5.1.2: all packets of an event carry the
    /// start timestamp). End reports go out as often as they arrived. While an event is under
    /// way (start passed on, end not yet) the audio is held back, as this sender's own digits
    /// replace the audio while they last; a receiver sees a pause, not loss. True when the
    /// tick is used up.
    private mutating func emitRelayed(tick: Int64, due: Int64, into outbox: inout Outbox) -> Bool {
        guard let eventPayloadType else { return false }
        if relayQueue.isEmpty {
            guard let current = relaying, !current.ended, tick - current.lastTick <= Self.relayHoldTicks else { return false }
            heldTicks += 1
            return true
        }
        for event in relayQueue {
            var current = relaying ?? (event.source, 0, false, tick)
            if current.source != event.source || relaying == nil {
                current = (event.source, initialTimestamp &+ UInt32(truncatingIfNeeded: tick * Int64(samplesPerPacket)), false, tick)
            }
            current.ended = current.ended || event.isEnd
            current.lastTick = tick
            relaying = current
            let packet = RTPPacket(payloadType: eventPayloadType, sequenceNumber: sequence, timestamp: current.timestamp,
                                   ssrc: ssrc, marker: event.marker, payload: event.payload)
            let start = outbox.bytes.count
            packet.encode(into: &outbox.bytes)
            outbox.items.append(Outbox.Item(socket: .rtp, range: start..<outbox.bytes.count, deadline: due))
            count(packet)
            eventPackets += 1
        }
        relayQueue.removeAll(keepingCapacity: true)
        return true
    }

    private mutating func buildPacket(tick: Int64, bridgeFrame: BridgeFrame?) -> RTPPacket {
        if let event = nextEventPacket(tick: tick) { return event }
        let payload: [UInt8]
        if bridged {
            let due = deadline(ofTick: tick)
            if let bridgeFrame, bridgeFrame.due == due, bridgeFrame.codes.count == samplesPerPacket {
                payload = bridgeFrame.codes
            } else {
                payload = silence
            }
        } else {
            payload = frames.payload(packet: tick)
        }
        let packet = RTPPacket(
            payloadType: payloadType, sequenceNumber: sequence,
            timestamp: initialTimestamp &+ UInt32(truncatingIfNeeded: tick * Int64(samplesPerPacket)),
            ssrc: ssrc, marker: packets == 0, payload: payload)
        count(packet)
        audioPackets += 1
        return packet
    }

    private mutating func count(_ packet: RTPPacket) {
        sequence = packet.sequenceNumber &+ 1
        packets += 1
        payloadOctets += packet.payload.count
    }

    /// The next telephone-event packet when an event is under way or may start at `tick`.
    private mutating func nextEventPacket(tick: Int64) -> RTPPacket? {
        guard let eventPayloadType else { return nil }
        if active == nil, tick >= earliestEventTick, !pendingDigits.isEmpty {
            let request = pendingDigits.removeFirst()
            let sender = TelephoneEventSender(packetInterval: UInt32(samplesPerPacket))
            let units = UInt32(max(1, min(request.durationMs * clockRate / 1000, Int(UInt16.max))))
            // Cannot throw: interval > 0, default volume, duration clamped to 1...0xFFFF.
            let packets = (try? sender.packets(
                event: request.digit.rawValue, duration: units,
                startTimestamp: initialTimestamp &+ UInt32(truncatingIfNeeded: tick * Int64(samplesPerPacket)),
                startSequence: sequence)) ?? []
            guard !packets.isEmpty else { return nil }
            let gapTicks = (Int64(request.gapMs) * 1_000_000 + intervalNanoseconds - 1) / intervalNanoseconds
            active = ActiveEvent(packets: packets, next: 0, gapTicks: gapTicks)
            digitsSent.append(SentDigit(digit: request.digit.character, offsetNanoseconds: deadline(ofTick: tick) - startTime,
                                        durationMs: request.durationMs))
        }
        guard var event = active else { return nil }
        let next = event.packets[event.next]
        var payload: [UInt8] = []
        next.report.encode(into: &payload)
        let packet = RTPPacket(payloadType: eventPayloadType, sequenceNumber: next.sequenceNumber, timestamp: next.timestamp,
                               ssrc: ssrc, marker: next.marker, payload: payload)
        event.next += 1
        if event.next == event.packets.count {
            active = nil
            earliestEventTick = tick + 1 + event.gapTicks
        } else {
            active = event
        }
        count(packet)
        eventPackets += 1
        return packet
    }
}

/// A bridge member's next audio payload, written by the mixer: G.711 in the member's law for
/// the packet due at `due`.
struct BridgeFrame: Sendable {
    var due: Int64 = -1
    var codes: [UInt8] = []
}

/// Datagrams a session wants sent, built into one reusable buffer.
struct Outbox: Sendable {
    enum Socket: Sendable { case rtp, rtcp }

    struct Item: Sendable {
        var socket: Socket
        var range: Range<Int>
        /// Grid time of an RTP packet (for pacing lateness); nil for RTCP.
        var deadline: Int64?
    }

    var bytes: [UInt8] = []
    var items: [Item] = []

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        items.removeAll(keepingCapacity: true)
    }

    mutating func append(rtcp compound: RTCPCompoundPacket) {
        let start = bytes.count
        compound.encode(into: &bytes)
        items.append(Item(socket: .rtcp, range: start..<bytes.count, deadline: nil))
    }
}
