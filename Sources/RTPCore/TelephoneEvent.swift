// RFC 4733 telephone events (DTMF over RTP): the payload (§2.3), the event codes (§3.2), and the
// packet sequences of sender (§2.5.1) and receiver (§2.5.2).

/// Why a telephone-event payload or a request to build one was rejected.
public struct TelephoneEventError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalidPayloadLength
        case volumeOutOfRange
        case durationOutOfRange
        case packetIntervalZero
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// A payload that is empty or not a whole number of 4-octet event reports (§2.3, §2.5.1.5).
    public static let invalidPayloadLength = TelephoneEventError(.invalidPayloadLength)
    /// A volume above 63: the field is six bits, 0 to −63 dBm0 (§2.3.4).
    public static let volumeOutOfRange = TelephoneEventError(.volumeOutOfRange)
    /// A duration of 0 or above 0xFFFF timestamp units: the field is 16 bits (§2.3.5), and this
    /// sender does not split long events into segments (§2.5.1.3).
    public static let durationOutOfRange = TelephoneEventError(.durationOutOfRange)
    /// A packet interval of 0 timestamp units.
    public static let packetIntervalZero = TelephoneEventError(.packetIntervalZero)

    public var description: String {
        switch code {
        case .invalidPayloadLength: "telephone-event payload is not a whole number of 4-octet reports"
        case .volumeOutOfRange: "telephone-event volume above 63"
        case .durationOutOfRange: "telephone-event duration is 0 or above 65535 timestamp units"
        case .packetIntervalZero: "telephone-event packet interval is 0"
        }
    }
}

/// One RFC 4733 event report, the telephone-event payload (§2.3).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     event     |E|R| volume    |          duration             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct TelephoneEvent: Hashable, Sendable {
    public static let encodedSize = 4
    /// Six bits: 0 to −63 dBm0 with the sign dropped (§2.3.4).
    public static let maximumVolume: UInt8 = 63

    /// Event code (§2.3.1); DTMF codes are in `DTMFDigit`.
    public var event: UInt8
    /// E: this report ends the event (§2.3.2).
    public var isEnd: Bool
    /// R: reserved, sent as zero and ignored on receipt (§2.3.3); kept so re-encoding is exact.
    public var reserved: Bool
    /// Tone power, −dBm0 (§2.3.4); `encode` keeps the low six bits.
    public var volume: UInt8
    /// Timestamp units since the event (or segment) began (§2.3.5).
    public var duration: UInt16

    public init(event: UInt8, isEnd: Bool = false, reserved: Bool = false, volume: UInt8, duration: UInt16) {
        self.event = event
        self.isEnd = isEnd
        self.reserved = reserved
        self.volume = volume
        self.duration = duration
    }

    /// Decodes a payload holding exactly one report.
    public init(parsing payload: ArraySlice<UInt8>) throws(TelephoneEventError) {
        guard payload.count == Self.encodedSize else { throw .invalidPayloadLength }
        self.init(unchecked: payload)
    }

    public init(parsing payload: [UInt8]) throws(TelephoneEventError) {
        try self.init(parsing: payload[...])
    }

    /// The first four octets of `bytes`, which the caller has checked exist.
    private init(unchecked bytes: ArraySlice<UInt8>) {
        let flags = bytes[bytes.startIndex + 1]
        self.event = bytes[bytes.startIndex]
        self.isEnd = flags & 0x80 != 0
        self.reserved = flags & 0x40 != 0
        self.volume = flags & 0x3F
        self.duration = bytes.bigEndianUInt16(at: 2)
    }

    /// All reports of a payload. §2.5.1.5 lets a sender pack consecutive events into one packet;
    /// each report after the first starts where the previous one's duration ends.
    public static func reports(in payload: ArraySlice<UInt8>) throws(TelephoneEventError) -> [TelephoneEvent] {
        guard !payload.isEmpty, payload.count % encodedSize == 0 else { throw .invalidPayloadLength }
        return stride(from: payload.startIndex, to: payload.endIndex, by: encodedSize).map {
            TelephoneEvent(unchecked: payload[$0..<($0 + encodedSize)])
        }
    }

    public var encodedSize: Int { Self.encodedSize }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(event)
        buffer.append((isEnd ? 0x80 : 0) | (reserved ? 0x40 : 0) | (volume & 0x3F))
        buffer.appendBigEndian(duration)
    }
}

/// The DTMF event codes of RFC 4733 §3.2 (table 3).
public enum DTMFDigit: UInt8, CaseIterable, Hashable, Sendable {
    case zero = 0, one, two, three, four, five, six, seven, eight, nine
    case star = 10
    case pound = 11
    case a = 12, b, c, d

    /// Event code 16, hook flash (§3.2); not a digit, so not a case here.
    public static let flashEventCode: UInt8 = 16

    /// `0`–`9`, `*`, `#`, `A`–`D` (lower case accepted).
    public init?(character: Character) {
        switch character {
        case "*": self = .star
        case "#": self = .pound
        case "A", "a": self = .a
        case "B", "b": self = .b
        case "C", "c": self = .c
        case "D", "d": self = .d
        default:
            guard let value = character.wholeNumberValue, (0...9).contains(value), character.isASCII else { return nil }
            self.init(rawValue: UInt8(value))
        }
    }

    public var character: Character {
        switch self {
        case .star: "*"
        case .pound: "#"
        case .a: "A"
        case .b: "B"
        case .c: "C"
        case .d: "D"
        default: Character(Unicode.Scalar(UInt8(ascii: "0") + rawValue))
        }
    }
}

// MARK: - Sender (§2.5.1)

/// Produces the RTP packets that carry one event (RFC 4733 §2.5.1).
///
/// Every packet carries the event's start timestamp (§2.5.1.2: "The update packets MUST have the
/// same RTP timestamp value as the initial packet for the event") and the cumulative duration;
/// the first has the marker bit; the final report, with E set, is sent `endPacketCount` times
/// (§2.5.1.4: "SHOULD be sent a total of three times").
///
/// Sequence numbers of those end retransmissions: §2.5.1.6 says the RTP sequence number "MUST be
/// incremented by one in each successive RTP packet sent", retransmissions included, so receivers
/// can count loss — that is `.increment`, the default. sipp and some gateways instead resend the
/// identical packet, sequence number and all; `.repeatSequenceNumber` reproduces that, for tests
/// that must look like them. `TelephoneEventReceiver` accepts both.
public struct TelephoneEventSender: Hashable, Sendable {
    public enum EndSequencing: Hashable, Sendable {
        /// RFC 4733 §2.5.1.6: each retransmission takes the next sequence number.
        case increment
        /// Each retransmission reuses the first end packet's sequence number (sipp's behaviour).
        case repeatSequenceNumber
    }

    /// One packet to send: the RTP header fields that change, and the payload.
    public struct Packet: Hashable, Sendable {
        public var marker: Bool
        public var sequenceNumber: UInt16
        public var timestamp: UInt32
        public var report: TelephoneEvent
        /// When to send it, in timestamp units after the first packet: one packet interval apart.
        public var sendOffset: UInt32

        public init(marker: Bool, sequenceNumber: UInt16, timestamp: UInt32, report: TelephoneEvent, sendOffset: UInt32) {
            self.marker = marker
            self.sequenceNumber = sequenceNumber
            self.timestamp = timestamp
            self.report = report
            self.sendOffset = sendOffset
        }
    }

    /// Timestamp units between packets (160 for 20 ms at 8 kHz).
    public var packetInterval: UInt32
    public var volume: UInt8
    /// Copies of the final report, at least 1.
    public var endPacketCount: Int
    public var endSequencing: EndSequencing

    public init(
        packetInterval: UInt32,
        volume: UInt8 = 10,
        endPacketCount: Int = 3,
        endSequencing: EndSequencing = .increment
    ) {
        self.packetInterval = packetInterval
        self.volume = volume
        self.endPacketCount = endPacketCount
        self.endSequencing = endSequencing
    }

    /// The packets for `event` lasting `duration` timestamp units (1...0xFFFF), starting at
    /// `startTimestamp` with sequence number `startSequence`. Updates report whole intervals
    /// (interval, 2 × interval, ...); the end report carries `duration` exactly.
    public func packets(
        event: UInt8,
        duration: UInt32,
        startTimestamp: UInt32,
        startSequence: UInt16
    ) throws(TelephoneEventError) -> [Packet] {
        guard packetInterval > 0 else { throw .packetIntervalZero }
        guard volume <= TelephoneEvent.maximumVolume else { throw .volumeOutOfRange }
        guard (1...UInt32(UInt16.max)).contains(duration) else { throw .durationOutOfRange }
        var packets: [Packet] = []
        var sequence = startSequence
        func add(_ duration: UInt32, end: Bool) {
            packets.append(
                Packet(
                    marker: packets.isEmpty,
                    sequenceNumber: sequence,
                    timestamp: startTimestamp,
                    report: TelephoneEvent(event: event, isEnd: end, volume: volume, duration: UInt16(duration)),
                    sendOffset: UInt32(packets.count) &* packetInterval
                )
            )
        }
        var elapsed = packetInterval
        while elapsed < duration {
            add(elapsed, end: false)
            sequence &+= 1
            elapsed += packetInterval
        }
        for copy in 0..<max(1, endPacketCount) {
            if copy > 0, endSequencing == .increment { sequence &+= 1 }
            add(duration, end: true)
        }
        return packets
    }
}

// MARK: - Receiver (§2.5.2)

/// Turns received telephone-event packets into events, each reported exactly once (RFC 4733
/// §2.5.2).
///
/// An event is reported when it ends: on its first packet with E set (the retransmissions that
/// follow, whether with new or repeated sequence numbers, carry the same RTP timestamp and are
/// dropped); or, when every end packet was lost, when a packet with a newer timestamp starts the
/// next event, or when the caller's `expire(now:timeout:)` finds it silent for too long. A new
/// event is recognised by its changed RTP timestamp even when its first (marker) packet was lost.
/// Packets older than the newest timestamp seen are late leftovers of an earlier event and are
/// ignored. Arrival times are the caller's; this type reads no clock.
public struct TelephoneEventReceiver: Hashable, Sendable {
    /// How the receiver learned that an event was over.
    public enum Ending: Hashable, Sendable {
        /// A report with the E bit arrived.
        case endBit
        /// All end reports were lost; a packet of the next event arrived.
        case nextEvent
        /// All end reports were lost; nothing arrived for the caller's timeout.
        case timeout
        /// The caller flushed the receiver (end of stream).
        case flushed
    }

    public struct CompletedEvent: Hashable, Sendable {
        public var event: UInt8
        /// RTP timestamp of the event's start.
        public var timestamp: UInt32
        public var volume: UInt8
        /// Timestamp units, the largest reported (summed over segments of a long event).
        public var duration: UInt32
        /// Arrival of the first packet seen for the event.
        public var startArrival: Duration
        /// Arrival of the first end report, or of the last packet seen when none arrived.
        public var endArrival: Duration
        /// Whether the packet with the marker bit (the event's first) was among those received.
        public var startReceived: Bool
        public var ending: Ending

        public init(
            event: UInt8, timestamp: UInt32, volume: UInt8, duration: UInt32,
            startArrival: Duration, endArrival: Duration, startReceived: Bool, ending: Ending
        ) {
            self.event = event
            self.timestamp = timestamp
            self.volume = volume
            self.duration = duration
            self.startArrival = startArrival
            self.endArrival = endArrival
            self.startReceived = startReceived
            self.ending = ending
        }

        public var digit: DTMFDigit? { DTMFDigit(rawValue: event) }
    }

    private struct Pending: Hashable, Sendable {
        var event: UInt8
        var timestamp: UInt32
        var volume: UInt8
        /// Timestamp of the current segment (§2.5.1.3) and the durations of the segments before it.
        var segmentTimestamp: UInt32
        var earlierSegments: UInt32
        var segmentDuration: UInt16
        var startArrival: Duration
        var lastArrival: Duration
        var startReceived: Bool
        var lastSequence: UInt16

        func completed(_ ending: Ending, at endArrival: Duration) -> CompletedEvent {
            CompletedEvent(
                event: event,
                timestamp: timestamp,
                volume: volume,
                duration: earlierSegments &+ UInt32(segmentDuration),
                startArrival: startArrival,
                endArrival: endArrival,
                startReceived: startReceived,
                ending: ending
            )
        }
    }

    private var pending: Pending?
    /// Newest RTP timestamp seen; anything older is a late packet of a finished event.
    private var newestTimestamp: UInt32?

    public init() {}

    /// Whether an event has started and not yet been reported.
    public var hasPendingEvent: Bool { pending != nil }

    /// Feeds one telephone-event RTP packet; returns the events it completes (usually none or
    /// one; two when a lost end is discovered by the next event that also ends in this packet).
    public mutating func receive(
        timestamp: UInt32,
        sequenceNumber: UInt16,
        marker: Bool,
        payload: ArraySlice<UInt8>,
        arrival: Duration
    ) throws(TelephoneEventError) -> [CompletedEvent] {
        let reports = try TelephoneEvent.reports(in: payload)
        var completed: [CompletedEvent] = []
        var reportTimestamp = timestamp
        for (index, report) in reports.enumerated() {
            receive(
                report,
                timestamp: reportTimestamp,
                sequenceNumber: sequenceNumber,
                marker: marker && index == 0,
                arrival: arrival,
                into: &completed
            )
            // §2.5.1.5: a packed event begins where the previous one ended.
            reportTimestamp &+= UInt32(report.duration)
        }
        return completed
    }

    public mutating func receive(
        timestamp: UInt32,
        sequenceNumber: UInt16,
        marker: Bool,
        payload: [UInt8],
        arrival: Duration
    ) throws(TelephoneEventError) -> [CompletedEvent] {
        try receive(timestamp: timestamp, sequenceNumber: sequenceNumber, marker: marker, payload: payload[...], arrival: arrival)
    }

    /// Ends a pending event whose last packet arrived `timeout` or longer before `now`, for when
    /// every end report was lost and no later event came (§2.5.2.2 leaves the timeout to the
    /// receiver).
    public mutating func expire(now: Duration, timeout: Duration) -> CompletedEvent? {
        guard let pending, now - pending.lastArrival >= timeout else { return nil }
        self.pending = nil
        return pending.completed(.timeout, at: pending.lastArrival)
    }

    /// Ends a pending event unconditionally, at the end of a stream.
    public mutating func flush() -> CompletedEvent? {
        guard let pending else { return nil }
        self.pending = nil
        return pending.completed(.flushed, at: pending.lastArrival)
    }

    private mutating func receive(
        _ report: TelephoneEvent,
        timestamp: UInt32,
        sequenceNumber: UInt16,
        marker: Bool,
        arrival: Duration,
        into completed: inout [CompletedEvent]
    ) {
        if let newest = newestTimestamp {
            // RFC 3550 timestamps wrap: compare in serial-number arithmetic.
            if Int32(bitPattern: timestamp &- newest) < 0 { return }
            if timestamp == newest, pending == nil { return }  // retransmitted end of a reported event
        }
        newestTimestamp = timestamp

        if var current = pending {
            if timestamp == current.segmentTimestamp {
                if sequenceNumber == current.lastSequence, !report.isEnd { return }  // duplicate
                current.segmentDuration = max(current.segmentDuration, report.duration)
                current.lastArrival = arrival
                current.lastSequence = sequenceNumber
                pending = current
                if report.isEnd { finish(.endBit, at: arrival, into: &completed) }
                return
            }
            // §2.5.1.3: a long event continues in a new segment "with the RTP timestamp set to the
            // time at which the previous segment ended", same event, no marker.
            if !marker, report.event == current.event,
                timestamp == current.segmentTimestamp &+ UInt32(current.segmentDuration)
            {
                current.earlierSegments &+= UInt32(current.segmentDuration)
                current.segmentTimestamp = timestamp
                current.segmentDuration = report.duration
                current.lastArrival = arrival
                current.lastSequence = sequenceNumber
                pending = current
                if report.isEnd { finish(.endBit, at: arrival, into: &completed) }
                return
            }
            finish(.nextEvent, at: current.lastArrival, into: &completed)
        }

        pending = Pending(
            event: report.event,
            timestamp: timestamp,
            volume: report.volume,
            segmentTimestamp: timestamp,
            earlierSegments: 0,
            segmentDuration: report.duration,
            startArrival: arrival,
            lastArrival: arrival,
            startReceived: marker,
            lastSequence: sequenceNumber
        )
        if report.isEnd { finish(.endBit, at: arrival, into: &completed) }
    }

    private mutating func finish(_ ending: Ending, at endArrival: Duration, into completed: inout [CompletedEvent]) {
        guard let current = pending else { return }
        completed.append(current.completed(ending, at: endArrival))
        pending = nil
    }
}
