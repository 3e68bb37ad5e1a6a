import RTPCore
import Testing

@Suite("RFC 4733 telephone-event payload and DTMF codes")
struct TelephoneEventPayloadTests {
    @Test func decodesAnEndReport() throws {
        // event=5, E=1, R=0, volume=10, duration=800
        let bytes: [UInt8] = [0x05, 0x8A, 0x03, 0x20]
        let report = try TelephoneEvent(parsing: bytes)
        #expect(report == TelephoneEvent(event: 5, isEnd: true, volume: 10, duration: 800))
        var out: [UInt8] = []
        report.encode(into: &out)
        #expect(out == bytes)
    }

    @Test func reservedBitAndExtremesRoundTrip() throws {
        // event=255, E=0, R=1, volume=63, duration=65535
        let bytes: [UInt8] = [0xFF, 0x7F, 0xFF, 0xFF]
        let report = try TelephoneEvent(parsing: bytes)
        #expect(report.reserved)
        #expect(!report.isEnd)
        #expect(report.volume == 63)
        #expect(report.duration == 65535)
        var out: [UInt8] = []
        report.encode(into: &out)
        #expect(out == bytes)
    }

    @Test(arguments: [0, 3, 5, 8])
    func singleReportNeedsExactlyFourOctets(count: Int) {
        #expect(throws: TelephoneEventError.invalidPayloadLength) {
            try TelephoneEvent(parsing: Array(repeating: UInt8(0), count: count))
        }
    }

    @Test func packedReports() throws {
        // §2.5.1.5: event 1 (E, 400 units) then event 2 (E, 480 units) in one payload
        let bytes: [UInt8] = [0x01, 0x8A, 0x01, 0x90, 0x02, 0x8A, 0x01, 0xE0]
        #expect(
            try TelephoneEvent.reports(in: bytes[...]) == [
                TelephoneEvent(event: 1, isEnd: true, volume: 10, duration: 400),
                TelephoneEvent(event: 2, isEnd: true, volume: 10, duration: 480),
            ]
        )
        #expect(throws: TelephoneEventError.invalidPayloadLength) { try TelephoneEvent.reports(in: [][...]) }
        #expect(throws: TelephoneEventError.invalidPayloadLength) { try TelephoneEvent.reports(in: Array(bytes.prefix(6))[...]) }
    }

    @Test func dtmfEventCodes() {
        // RFC 4733 §3.2, table 3
        let table: [(Character, UInt8)] = [
            ("0", 0), ("1", 1), ("2", 2), ("3", 3), ("4", 4), ("5", 5), ("6", 6), ("7", 7), ("8", 8), ("9", 9),
            ("*", 10), ("#", 11), ("A", 12), ("B", 13), ("C", 14), ("D", 15),
        ]
        for (character, code) in table {
            #expect(DTMFDigit(character: character)?.rawValue == code)
            #expect(DTMFDigit(rawValue: code)?.character == character)
        }
        #expect(DTMFDigit.allCases.count == 16)
        #expect(DTMFDigit(character: "d") == .d)
        #expect(DTMFDigit(character: "E") == nil)
        #expect(DTMFDigit(character: "٣") == nil)  // a digit, but not an ASCII one
        #expect(DTMFDigit(rawValue: DTMFDigit.flashEventCode) == nil)
    }
}

@Suite("RFC 4733 sender (§2.5.1)")
struct TelephoneEventSenderTests {
    @Test func updatesThenThreeEndPacketsWithIncrementingSequenceNumbers() throws {
        let packets = try TelephoneEventSender(packetInterval: 160, volume: 10)
            .packets(event: 5, duration: 480, startTimestamp: 8000, startSequence: 1000)
        #expect(packets.map(\.marker) == [true, false, false, false, false])
        #expect(packets.map(\.sequenceNumber) == [1000, 1001, 1002, 1003, 1004])
        #expect(packets.map(\.timestamp) == Array(repeating: 8000, count: 5))
        #expect(packets.map(\.report.duration) == [160, 320, 480, 480, 480])
        #expect(packets.map(\.report.isEnd) == [false, false, true, true, true])
        #expect(packets.map(\.sendOffset) == [0, 160, 320, 480, 640])
        #expect(packets.allSatisfy { $0.report.event == 5 && $0.report.volume == 10 })
    }

    @Test func sippStyleRetransmissionsRepeatTheSequenceNumber() throws {
        let packets = try TelephoneEventSender(packetInterval: 160, endSequencing: .repeatSequenceNumber)
            .packets(event: 11, duration: 400, startTimestamp: 0, startSequence: 65534)
        #expect(packets.map(\.sequenceNumber) == [65534, 65535, 0, 0, 0])
        #expect(packets.map(\.report.duration) == [160, 320, 400, 400, 400])
    }

    @Test func anEventShorterThanOneIntervalIsOnlyItsEnd() throws {
        let packets = try TelephoneEventSender(packetInterval: 160, endPacketCount: 1)
            .packets(event: 1, duration: 100, startTimestamp: 0, startSequence: 0)
        #expect(packets.count == 1)
        #expect(packets[0].marker)
        #expect(packets[0].report.isEnd)
        #expect(packets[0].report.duration == 100)
    }

    @Test func invalidRequests() {
        #expect(throws: TelephoneEventError.packetIntervalZero) {
            try TelephoneEventSender(packetInterval: 0).packets(event: 1, duration: 10, startTimestamp: 0, startSequence: 0)
        }
        #expect(throws: TelephoneEventError.volumeOutOfRange) {
            try TelephoneEventSender(packetInterval: 160, volume: 64).packets(event: 1, duration: 10, startTimestamp: 0, startSequence: 0)
        }
        #expect(throws: TelephoneEventError.durationOutOfRange) {
            try TelephoneEventSender(packetInterval: 160).packets(event: 1, duration: 0, startTimestamp: 0, startSequence: 0)
        }
        #expect(throws: TelephoneEventError.durationOutOfRange) {
            try TelephoneEventSender(packetInterval: 160).packets(event: 1, duration: 65536, startTimestamp: 0, startSequence: 0)
        }
    }
}

@Suite("RFC 4733 receiver (§2.5.2)")
struct TelephoneEventReceiverTests {
    typealias Packet = TelephoneEventSender.Packet

    /// The sender's packets for one digit (the sender is tested above).
    static func digit(
        _ event: UInt8, duration: UInt32 = 480, timestamp: UInt32, sequence: UInt16,
        sequencing: TelephoneEventSender.EndSequencing = .increment
    ) throws -> [Packet] {
        try TelephoneEventSender(packetInterval: 160, endSequencing: sequencing)
            .packets(event: event, duration: duration, startTimestamp: timestamp, startSequence: sequence)
    }

    /// Feeds packets arriving 20 ms apart from `start`; returns everything reported.
    static func feed(
        _ packets: [Packet], to receiver: inout TelephoneEventReceiver, from start: Duration = .zero
    ) throws -> [TelephoneEventReceiver.CompletedEvent] {
        var reported: [TelephoneEventReceiver.CompletedEvent] = []
        for (i, packet) in packets.enumerated() {
            var payload: [UInt8] = []
            packet.report.encode(into: &payload)
            reported += try receiver.receive(
                timestamp: packet.timestamp, sequenceNumber: packet.sequenceNumber, marker: packet.marker,
                payload: payload, arrival: start + .milliseconds(20 * i)
            )
        }
        return reported
    }

    @Test(arguments: [TelephoneEventSender.EndSequencing.increment, .repeatSequenceNumber])
    func eachDigitIsReportedOnceDespiteThreeEndPackets(sequencing: TelephoneEventSender.EndSequencing) throws {
        var receiver = TelephoneEventReceiver()
        let reported = try Self.feed(Self.digit(5, timestamp: 8000, sequence: 1000, sequencing: sequencing), to: &receiver)
        #expect(
            reported == [
                .init(
                    event: 5, timestamp: 8000, volume: 10, duration: 480,
                    startArrival: .zero, endArrival: .milliseconds(40), startReceived: true, ending: .endBit
                )
            ]
        )
        #expect(reported.first?.digit == .five)
        #expect(!receiver.hasPendingEvent)
        let leftover = receiver.flush()
        #expect(leftover == nil)
    }

    @Test func aSequenceOfDigitsIncludingARepeat() throws {
        var receiver = TelephoneEventReceiver()
        var packets: [Packet] = []
        for (i, digit) in [DTMFDigit.one, .five, .five, .pound].enumerated() {
            packets += try Self.digit(digit.rawValue, timestamp: 1000 + UInt32(i) * 2000, sequence: UInt16(i * 5))
        }
        let reported = try Self.feed(packets, to: &receiver)
        #expect(reported.map(\.digit) == [.one, .five, .five, .pound])
        #expect(reported.allSatisfy { $0.ending == .endBit && $0.duration == 480 })
    }

    @Test func lostMarkerPacketStillStartsTheEvent() throws {
        var receiver = TelephoneEventReceiver()
        let reported = try Self.feed(Array(try Self.digit(7, timestamp: 500, sequence: 1).dropFirst()), to: &receiver)
        #expect(reported.count == 1)
        #expect(reported[0].event == 7)
        #expect(!reported[0].startReceived)
        #expect(reported[0].duration == 480)
    }

    @Test func allEndPacketsLostThenTheNextDigitEndsIt() throws {
        var receiver = TelephoneEventReceiver()
        let first = Array(try Self.digit(1, timestamp: 0, sequence: 0).prefix(2))  // updates only
        let second = try Self.digit(2, timestamp: 4000, sequence: 10)
        let reported = try Self.feed(first + second, to: &receiver)
        #expect(reported.map(\.event) == [1, 2])
        #expect(reported[0].ending == .nextEvent)
        #expect(reported[0].duration == 320)  // the last update that arrived
        #expect(reported[0].endArrival == .milliseconds(20))  // its arrival
        #expect(reported[1].ending == .endBit)
    }

    @Test func lostStartAndLostEndOfTheSameDigitTwice() throws {
        // "55" where the first 5 lost its end packets and the second 5 lost its marker packet:
        // only the changed RTP timestamp tells them apart.
        var receiver = TelephoneEventReceiver()
        let first = Array(try Self.digit(5, timestamp: 0, sequence: 0).prefix(2))
        let second = Array(try Self.digit(5, timestamp: 4000, sequence: 10).dropFirst())
        let reported = try Self.feed(first + second, to: &receiver)
        #expect(reported.map(\.timestamp) == [0, 4000])
        #expect(reported.map(\.ending) == [.nextEvent, .endBit])
    }

    @Test func allEndPacketsLostAndNothingFollowsTimesOut() throws {
        var receiver = TelephoneEventReceiver()
        let packets = try Self.digit(9, timestamp: 0, sequence: 0)
        #expect(try Self.feed(Array(packets.prefix(2)), to: &receiver).isEmpty)
        #expect(receiver.hasPendingEvent)
        // last arrival was at 20 ms
        let early = receiver.expire(now: .milliseconds(200), timeout: .milliseconds(200))
        #expect(early == nil)
        let late = receiver.expire(now: .milliseconds(220), timeout: .milliseconds(200))
        let expired = try #require(late)
        #expect(expired.ending == .timeout)
        #expect(expired.endArrival == .milliseconds(20))
        #expect(expired.duration == 320)
        // The end packets limp in after the timeout: already reported, not again.
        #expect(try Self.feed(Array(packets.dropFirst(2)), to: &receiver, from: .milliseconds(300)).isEmpty)
    }

    @Test func latePacketsOfAFinishedDigitAreIgnored() throws {
        var receiver = TelephoneEventReceiver()
        let first = try Self.digit(3, timestamp: 0, sequence: 0)
        let second = try Self.digit(4, timestamp: 4000, sequence: 5)
        // second digit starts; then an end retransmission of the first arrives late (reordered)
        var reported = try Self.feed(first + [second[0], first[4], second[1]], to: &receiver)
        reported += try Self.feed(Array(second.dropFirst(2)), to: &receiver, from: .seconds(1))
        #expect(reported.map(\.event) == [3, 4])
        #expect(reported.allSatisfy { $0.ending == .endBit })
    }

    @Test func duplicatedPacketsChangeNothing() throws {
        var receiver = TelephoneEventReceiver()
        let packets = try Self.digit(0, timestamp: 0, sequence: 0)
        let doubled = packets.flatMap { [$0, $0] }
        let reported = try Self.feed(doubled, to: &receiver)
        #expect(reported.count == 1)
        #expect(reported[0].duration == 480)
        #expect(reported[0].endArrival == .milliseconds(80))  // the first end packet is the 5th datagram
    }

    @Test func packedEventsInOnePayloadAreReportedInOrder() throws {
        var receiver = TelephoneEventReceiver()
        // event 1 (E, 400) then event 2 (E, 480), RTP timestamp of the first
        let reported = try receiver.receive(
            timestamp: 1000, sequenceNumber: 1, marker: true,
            payload: [0x01, 0x8A, 0x01, 0x90, 0x02, 0x8A, 0x01, 0xE0], arrival: .seconds(3)
        )
        #expect(reported.map(\.event) == [1, 2])
        #expect(reported.map(\.timestamp) == [1000, 1400])
        #expect(reported.map(\.startReceived) == [true, false])
    }

    @Test func aLongEventContinuesInANewSegment() throws {
        // §2.5.1.3: segment 1 reaches 0xFFFF without E; segment 2 starts at its end, no marker.
        var receiver = TelephoneEventReceiver()
        func send(_ ts: UInt32, _ seq: UInt16, _ marker: Bool, _ end: Bool, _ duration: UInt16) throws -> [TelephoneEventReceiver.CompletedEvent] {
            var payload: [UInt8] = []
            TelephoneEvent(event: 16, isEnd: end, volume: 0, duration: duration).encode(into: &payload)
            return try receiver.receive(timestamp: ts, sequenceNumber: seq, marker: marker, payload: payload, arrival: .milliseconds(Int(seq)))
        }
        #expect(try send(100, 1, true, false, 30000).isEmpty)
        #expect(try send(100, 2, false, false, 65535).isEmpty)
        #expect(try send(100 + 65535, 3, false, false, 160).isEmpty)
        let reported = try send(100 + 65535, 4, false, true, 320)
        #expect(reported.count == 1)
        #expect(reported[0].timestamp == 100)
        #expect(reported[0].duration == 65535 + 320)
        #expect(reported[0].startArrival == .milliseconds(1))
    }

    @Test func timestampsWrapAround() throws {
        var receiver = TelephoneEventReceiver()
        let before = try Self.digit(1, timestamp: 0xFFFF_FF00, sequence: 0)
        let after = try Self.digit(2, timestamp: 0x0000_0100, sequence: 5)
        let reported = try Self.feed(before + after, to: &receiver)
        #expect(reported.map(\.event) == [1, 2])
    }

    @Test func flushEndsAPendingEvent() throws {
        var receiver = TelephoneEventReceiver()
        #expect(try Self.feed([try Self.digit(8, timestamp: 0, sequence: 0)[0]], to: &receiver).isEmpty)
        let first = receiver.flush()
        let second = receiver.flush()
        #expect(first?.ending == .flushed)
        #expect(second == nil)
    }

    @Test func malformedPayloadIsASpecificError() {
        var receiver = TelephoneEventReceiver()
        #expect(throws: TelephoneEventError.invalidPayloadLength) {
            try receiver.receive(timestamp: 0, sequenceNumber: 0, marker: true, payload: [0x01, 0x02], arrival: .zero)
        }
    }
}
