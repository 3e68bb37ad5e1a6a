import MediaEngine
import RTPCore
import Testing

/// A bridge and the ordinary sessions that call into it, on one engine (127.0.0.1).
private struct Conference {
    let engine: MediaEngine
    let bridge: MediaBridge
    /// Per participant: the bridge's member session and the participant's own session.
    var members: [MediaSession] = []
    var participants: [MediaSession] = []
    let tones: [Int]

    init(ports: ClosedRange<UInt16>, configuration: BridgeConfiguration, participants: Int) async throws {
        engine = try makeEngine(ports: ports)
        bridge = try await engine.openBridge(configuration)
        tones = (0..<participants).map(IdentifyingTone.frequency(slot:))
    }

    /// Joins participant `i`: a member session on the bridge and a participant sending its
    /// tone and watching every tone.
    mutating func join(_ i: Int, payloadType: UInt8 = 0) async throws {
        let member = try await engine.openSession(on: bridge)
        let participant = try await engine.openSession()
        try await engine.start(member, MediaParameters(remote: loopback(participant.rtpPort), payloadType: payloadType,
                                                       toneFrequency: 1000, bridge: bridge, memberLabel: "p\(i)"))
        try await engine.start(participant, MediaParameters(remote: loopback(member.rtpPort), payloadType: payloadType,
                                                            toneFrequency: tones[i], watchTones: tones))
        members.append(member)
        participants.append(participant)
    }

    func observation(_ listener: Int, hears speaker: Int) async throws -> ToneObservation {
        try await engine.report(participants[listener]).received.tones[speaker]
    }

    /// Waits until participant `listener` has received `packets` more audio packets.
    func waitForMoreAudio(_ listener: Int, _ packets: Int) async throws -> Bool {
        let start = try await engine.report(participants[listener]).received.audioPackets
        return try await eventually(seconds: 60) {
            try await engine.report(participants[listener]).received.audioPackets >= start + packets
        }
    }

    /// Waits until every participant has received `packets` audio packets from the bridge.
    func waitForAudio(_ packets: Int) async throws -> Bool {
        try await eventually(seconds: 60) {
            for p in participants where try await engine.report(p).received.audioPackets < packets { return false }
            return true
        }
    }
}

/// Fraction of the frames with the tone over whole seconds `seconds` (clamped to the ones there are).
private func fraction(_ o: ToneObservation, seconds: Range<Int>) -> Double {
    let range = max(0, seconds.lowerBound)..<min(seconds.upperBound, o.framesInSecond.count)
    guard !range.isEmpty else { return -1 }
    let with = range.reduce(0) { $0 + o.framesPerSecond[$1] }
    let all = range.reduce(0) { $0 + o.framesInSecond[$1] }
    return all == 0 ? -1 : Double(with) / Double(all)
}

/// After the first second, to the last whole one.
private func settled(_ o: ToneObservation) -> Double { fraction(o, seconds: 1..<(o.framesInSecond.count - 1)) }

/// The last three whole seconds: long after every member joined, however slowly the joins
/// went on a loaded machine.
private func lastSeconds(_ o: ToneObservation) -> Double {
    fraction(o, seconds: (o.framesInSecond.count - 4)..<(o.framesInSecond.count - 1))
}

@Suite("Conference bridge on loopback")
struct BridgeTests {
    /// Four participants with four tones: each hears the other three and not itself; the cap
    /// refuses a fifth; the report lists the members in join order.
    @Test func fourPartiesHearEachOtherNotThemselves() async throws {
        var conference = try await Conference(ports: 23700...23729, configuration: BridgeConfiguration(label: "conf-4", maxParticipants: 4),
                                              participants: 4)
        for i in 0..<4 { try await conference.join(i) }
        #expect(try await conference.waitForAudio(400))
        for listener in 0..<4 {
            for speaker in 0..<4 {
                let o = try await conference.observation(listener, hears: speaker)
                #expect(o.hz == conference.tones[speaker])
                if listener == speaker {
                    #expect(settled(o) >= 0 && settled(o) < 0.05, "participant \(listener) hears itself: \(o.framesPerSecond)")
                } else {
                    #expect(lastSeconds(o) >= 0.9, "\(listener) hears \(speaker): \(o.framesPerSecond) of \(o.framesInSecond)")
                    #expect((o.meanLevelDb ?? -99) > -30)
                }
            }
        }
        // The cap: a fifth member is refused.
        let extra = try await conference.engine.openSession(on: conference.bridge)
        let other = try await conference.engine.openSession()
        await #expect(throws: MediaEngineError(.bridgeFull, "bridge conf-4 is full (4 participants)")) {
            try await conference.engine.start(extra, MediaParameters(remote: loopback(other.rtpPort), toneFrequency: 1000,
                                                                     bridge: conference.bridge))
        }
        let report = try await conference.engine.closeBridge(conference.bridge)
        #expect(report.label == "conf-4")
        #expect(report.refused == 1)
        #expect(report.peakParticipants == 4)
        #expect(report.members.map(\.label) == ["p0", "p1", "p2", "p3"])
        #expect(report.members.map(\.session) == conference.members.map(\.id))
        #expect(report.members.allSatisfy { $0.admitted && $0.leftAtMs == nil && $0.framesMixed >= 150 })
        #expect(report.members.allSatisfy { $0.framesConcealed * 20 < $0.framesMixed })
        #expect(report.ticks >= 200)
        #expect(report.tickLateness.count == report.ticks)
        #expect(report.clippedSamples == 0)
        await #expect(throws: MediaEngineError(.unknownBridge, "no open bridge \(conference.bridge.id)")) {
            _ = try await conference.engine.bridgeReport(conference.bridge)
        }
        // The members' own reports: RTP both ways, paced packets counted like any sender's.
        let member = try await conference.engine.stop(conference.members[0])
        #expect(member.sent.packets == member.sent.pacingLatenessUs.count)
        #expect(member.sent.packets >= 200)
        #expect(member.received.statistics.packetsReceived >= 200)
        #expect(member.received.statistics.packetsLost == 0)
        let statistics = try await conference.engine.statistics()
        #expect(statistics.total.lateness.count == statistics.total.packetsSent)
        await conference.engine.shutdown()
    }

    /// A participant joining late is heard only after it joined; one leaving early is not
    /// heard after it left; the report has both times.
    @Test func lateJoinEarlyLeave() async throws {
        var conference = try await Conference(ports: 23730...23759, configuration: BridgeConfiguration(label: "conf-late"),
                                              participants: 3)
        try await conference.join(0)
        try await conference.join(1)
        #expect(try await conference.waitForAudio(150))  // 3 s with two members
        let joinSecond = try await conference.observation(0, hears: 2).framesInSecond.count
        try await conference.join(2)
        #expect(try await conference.waitForAudio(150))
        let leaveSecond = try await conference.observation(0, hears: 1).framesInSecond.count
        _ = try await conference.engine.stop(conference.members[1])
        #expect(try await conference.waitForMoreAudio(0, 200))
        let hearsLate = try await conference.observation(0, hears: 2)
        let hearsLeaver = try await conference.observation(0, hears: 1)
        let end = hearsLate.framesInSecond.count - 1
        #expect(fraction(hearsLate, seconds: 1..<(joinSecond - 1)) < 0.05, "\(hearsLate.framesPerSecond)")
        #expect(fraction(hearsLate, seconds: (joinSecond + 1)..<end) >= 0.9, "\(hearsLate.framesPerSecond)")
        #expect(fraction(hearsLeaver, seconds: 1..<(leaveSecond - 1)) >= 0.9, "\(hearsLeaver.framesPerSecond)")
        #expect(fraction(hearsLeaver, seconds: (leaveSecond + 1)..<end) < 0.05, "\(hearsLeaver.framesPerSecond)")
        let report = try await conference.engine.bridgeReport(conference.bridge)
        #expect(report.members.map(\.label) == ["p0", "p1", "p2"])
        #expect(report.members[1].leftAtMs != nil)
        #expect(report.members[0].leftAtMs == nil && report.members[2].leftAtMs == nil)
        #expect(report.members[2].joinedAtMs > report.members[1].joinedAtMs + 1000)
        #expect((report.members[1].leftAtMs ?? 0) > report.members[2].joinedAtMs + 1000)
        #expect(report.peakParticipants == 3)
        await conference.engine.shutdown()
    }

    /// With a PIN a member is neither heard nor hears before sending it; its PIN digits are
    /// not passed on to the members already admitted.
    @Test func pinGatesAdmission() async throws {
        var conference = try await Conference(ports: 23760...23779,
                                              configuration: BridgeConfiguration(label: "conf-pin", pin: "12#"), participants: 2)
        try await conference.join(0)
        try await conference.join(1)
        try await conference.engine.sendDTMF(conference.participants[0], digits: "12#")
        #expect(try await eventually(seconds: 60) {
            try await conference.engine.bridgeReport(conference.bridge).members[0].admitted
        })
        #expect(try await conference.waitForAudio(150))
        let before = try await conference.engine.bridgeReport(conference.bridge)
        #expect(before.members.map(\.admitted) == [true, false])
        // Each listener's seconds count from its own start: the window before the PIN is taken
        // on each one's own timeline (the two joined at different moments).
        let pinSecondZero = try await conference.observation(0, hears: 1).framesInSecond.count
        let pinSecondOne = try await conference.observation(1, hears: 0).framesInSecond.count
        try await conference.engine.sendDTMF(conference.participants[1], digits: "12#")
        #expect(try await eventually(seconds: 60) {
            try await conference.engine.bridgeReport(conference.bridge).members[1].admitted
        })
        #expect(try await conference.waitForMoreAudio(0, 250))
        let zeroHearsOne = try await conference.observation(0, hears: 1)
        let oneHearsZero = try await conference.observation(1, hears: 0)
        #expect(fraction(zeroHearsOne, seconds: 1..<(pinSecondZero - 1)) < 0.05, "\(zeroHearsOne.framesPerSecond)")
        #expect(fraction(oneHearsZero, seconds: 1..<(pinSecondOne - 1)) < 0.05, "\(pinSecondOne) \(oneHearsZero.framesPerSecond)")
        #expect(fraction(zeroHearsOne, seconds: (pinSecondZero + 2)..<(zeroHearsOne.framesInSecond.count - 1)) >= 0.9,
                "\(pinSecondZero) \(zeroHearsOne.framesPerSecond) \(zeroHearsOne.framesInSecond)")
        #expect(fraction(oneHearsZero, seconds: (pinSecondOne + 2)..<(oneHearsZero.framesInSecond.count - 1)) >= 0.9,
                "\(pinSecondOne) \(oneHearsZero.framesPerSecond)")
        let report = try await conference.engine.bridgeReport(conference.bridge)
        #expect(report.members.map { $0.digits.compactMap(\.digit).joined() } == ["12#", "12#"])
        #expect(report.members.map(\.dtmfForwarded) == [0, 0])
        let zero = try await conference.engine.report(conference.participants[0])
        #expect(zero.received.dtmf == "")
        #expect(zero.received.telephoneEventPackets == 0)
        await conference.engine.shutdown()
    }

    /// DTMF from one participant: relayed (every packet, re-stamped), regenerated (a fresh
    /// digit of the measured length) or dropped; reported by the bridge either way.
    @Test(arguments: [BridgeDTMFMode.relay, .regenerate, .drop])
    func dtmfThroughTheBridge(_ mode: BridgeDTMFMode) async throws {
        let base: UInt16 = switch mode {
        case .relay: 23780
        case .regenerate: 23800
        case .drop: 23820
        }
        var conference = try await Conference(ports: base...(base + 19), configuration: BridgeConfiguration(label: "conf-dtmf", dtmfMode: mode),
                                              participants: 3)
        for i in 0..<3 { try await conference.join(i) }
        #expect(try await conference.waitForAudio(50))
        try await conference.engine.sendDTMF(conference.participants[0], digits: "5#")
        #expect(try await eventually(seconds: 60) {
            try await conference.engine.bridgeReport(conference.bridge).members[0].digits.count == 2
        })
        #expect(try await conference.waitForMoreAudio(1, 50))
        let report = try await conference.engine.bridgeReport(conference.bridge)
        #expect(report.dtmfMode == mode)
        #expect(report.members[0].digits.compactMap(\.digit) == ["5", "#"])
        #expect(report.members[0].digits.map(\.durationMs) == [100, 100])
        let forwarded: Int = switch mode {
        case .relay: 2 * 7 * 2  // two digits of 7 packets (4 updates, 3 end reports) to two members
        case .regenerate: 2 * 2
        case .drop: 0
        }
        #expect(report.members[0].dtmfForwarded == forwarded)
        #expect(report.members[1].dtmfForwarded == 0)
        for listener in [1, 2] {
            let received = try await conference.engine.report(conference.participants[listener]).received
            #expect(received.statistics.packetsLost == 0)
            switch mode {
            case .relay, .regenerate:
                #expect(received.dtmf == "5#")
                #expect(received.dtmfDigitsReceived.map(\.durationMs) == [100, 100])
                #expect(received.dtmfDigitsReceived.map(\.ending) == ["end_bit", "end_bit"])
                #expect(received.telephoneEventPackets == 14)
            case .drop:
                #expect(received.dtmf == "")
                #expect(received.telephoneEventPackets == 0)
            }
        }
        // The sender hears none of its own digits back.
        #expect(try await conference.engine.report(conference.participants[0]).received.telephoneEventPackets == 0)
        await conference.engine.shutdown()
    }

    /// PCMA and PCMU members in one bridge: each hears the others in its own law.
    @Test func mixedLaws() async throws {
        var conference = try await Conference(ports: 23840...23859, configuration: BridgeConfiguration(label: "conf-laws"),
                                              participants: 3)
        try await conference.join(0, payloadType: 8)
        try await conference.join(1, payloadType: 0)
        try await conference.join(2, payloadType: 8)
        #expect(try await conference.waitForAudio(300))
        for listener in 0..<3 {
            let received = try await conference.engine.report(conference.participants[listener]).received
            #expect(received.codec == (listener == 1 ? "PCMU" : "PCMA"))
            for speaker in 0..<3 {
                let o = try await conference.observation(listener, hears: speaker)
                if listener == speaker {
                    #expect(settled(o) < 0.05)
                } else {
                    #expect(lastSeconds(o) >= 0.9, "\(listener) hears \(speaker): \(o.framesPerSecond)")
                }
            }
        }
        await conference.engine.shutdown()
    }

    @Test func refusesBadConfigurationAndForeignSessions() async throws {
        let engine = try makeEngine(ports: 23860...23869)
        await #expect(throws: MediaEngineError(.invalidParameters, "playout delay 30 ms: need a multiple of 20 in 0...1000")) {
            _ = try await engine.openBridge(BridgeConfiguration(label: "x", playoutDelayMs: 30))
        }
        await #expect(throws: MediaEngineError(.invalidParameters, "PIN \"12x\": need one or more DTMF digits (0-9 * # A-D)")) {
            _ = try await engine.openBridge(BridgeConfiguration(label: "x", pin: "12x"))
        }
        let bridge = try await engine.openBridge(BridgeConfiguration(label: "x"))
        let member = try await engine.openSession(on: bridge)
        await #expect(throws: MediaEngineError(.invalidParameters, "ptime 30 ms: a bridge member needs 20 ms (the mixer's period)")) {
            try await engine.start(member, MediaParameters(remote: loopback(23999), toneFrequency: 1000, ptimeMs: 30, bridge: bridge))
        }
        await #expect(throws: MediaEngineError(.invalidParameters, "watched tone 4000 Hz: need 1...3999 Hz at 8 kHz")) {
            try await engine.start(member, MediaParameters(remote: loopback(23999), toneFrequency: 1000, watchTones: [1750, 4000]))
        }
        _ = try await engine.closeBridge(bridge)
        await #expect(throws: MediaEngineError(.unknownBridge, "no open bridge \(bridge.id)")) {
            try await engine.start(member, MediaParameters(remote: loopback(23999), toneFrequency: 1000, bridge: bridge))
        }
        await engine.shutdown()
    }
}
