@testable import AgentKit
import EarshotWire
import Testing

/// The hearing row's arithmetic: a tone's per-second frame counts judged over a window.
@Suite struct ConferenceMappingTests {
    @Test func verdictThresholds() {
        #expect(ResultMapping.toneVerdict(fraction: 0.9) == "continuous")
        #expect(ResultMapping.toneVerdict(fraction: 0.89) == "intermittent")
        #expect(ResultMapping.toneVerdict(fraction: 0.2) == "intermittent")
        #expect(ResultMapping.toneVerdict(fraction: 0.19) == "absent")
    }

    @Test func onlyTheWholeSecondsInsideTheWindowCount() throws {
        // Silent for 3 s (the speaker had not joined), then heard; the last second is partial.
        let perSecond = [0, 0, 0, 50, 50, 49, 20]
        let inSecond = [50, 50, 50, 50, 50, 50, 20]
        let heard = try #require(ResultMapping.toneHeard(
            agentID: "ag_B", hz: 941, framesPerSecond: perSecond, framesInSecond: inSecond, meanLevelDb: -26.5,
            fromS: 2.4, toS: 6.6))
        // Seconds 3, 4, 5: 149 of 150 frames.
        #expect(heard == ToneHeard(agentID: "ag_B", toneHz: 941, fraction: 149.0 / 150.0, levelDb: -26.5, verdict: "continuous",
                                   longestGapMs: 20))
        // From the start the silence before the join counts: 149 of 300.
        let all = try #require(ResultMapping.toneHeard(
            agentID: "ag_B", hz: 941, framesPerSecond: perSecond, framesInSecond: inSecond, meanLevelDb: -26.5, fromS: 0, toS: 6))
        #expect(all.fraction == 149.0 / 300.0)
        #expect(all.verdict == "intermittent")
        #expect(all.longestGapMs == 3000)
    }

    @Test func anAbsentToneHasNoLevelAndATooShortWindowNoVerdict() throws {
        let silent = try #require(ResultMapping.toneHeard(
            agentID: "ag_A", hz: 697, framesPerSecond: [0, 1, 0, 0], framesInSecond: [50, 50, 50, 50], meanLevelDb: -60,
            fromS: 1, toS: 4))
        #expect(silent.verdict == "absent")
        #expect(silent.levelDb == -60)
        #expect(silent.fraction == 1.0 / 150.0)
        let none = try #require(ResultMapping.toneHeard(
            agentID: "ag_A", hz: 697, framesPerSecond: [0, 0, 0], framesInSecond: [50, 50, 50], meanLevelDb: nil, fromS: 0, toS: 3))
        #expect(none.levelDb == nil && none.fraction == 0 && none.longestGapMs == 3000)
        // [1.2, 1.9): no whole second inside; a window past the timeline's end: nothing.
        #expect(ResultMapping.toneHeard(agentID: "ag_A", hz: 697, framesPerSecond: [50, 50, 50], framesInSecond: [50, 50, 50],
                                        meanLevelDb: nil, fromS: 1.2, toS: 1.9) == nil)
        #expect(ResultMapping.toneHeard(agentID: "ag_A", hz: 697, framesPerSecond: [50, 50], framesInSecond: [50, 50],
                                        meanLevelDb: nil, fromS: 3, toS: 8) == nil)
    }

    /// Seconds in which digits went through the conference say nothing about hearing (the
    /// sender's events replace its audio, a relaying bridge pauses the others'): left out.
    @Test func secondsWithDigitsAreLeftOut() throws {
        let heard = try #require(ResultMapping.toneHeard(
            agentID: "ag_S", hz: 1750, framesPerSecond: [50, 50, 20, 30, 50, 50], framesInSecond: [50, 50, 50, 50, 50, 50],
            meanLevelDb: -20, fromS: 0, toS: 6, excluded: [1.8...3.5]))
        // Seconds 1, 2 and 3 overlap the span; 0, 4 and 5 count: 150 of 150.
        #expect(heard == ToneHeard(agentID: "ag_S", toneHz: 1750, fraction: 1, levelDb: -20, verdict: "continuous", longestGapMs: 0))
        let counted = try #require(ResultMapping.toneHeard(
            agentID: "ag_S", hz: 1750, framesPerSecond: [50, 50, 20, 30, 50, 50], framesInSecond: [50, 50, 50, 50, 50, 50],
            meanLevelDb: -20, fromS: 0, toS: 6))
        #expect(counted.fraction == 250.0 / 300.0 && counted.verdict == "intermittent")

        let members = [ConferenceMember(agentID: "ag_S", name: "s", toneHz: 1750, joinOffsetS: 0),
                       ConferenceMember(agentID: "ag_L", name: "l", toneHz: 1850, joinOffsetS: 1),
                       ConferenceMember(agentID: "ag_M", name: "m", toneHz: 1950, joinOffsetS: 2)]
        let conference = ConferenceAssignment(conferenceID: "conf-r", mode: .agent, uri: "sip:conf-r@127.0.0.1", members: members,
                                              durationS: 10, dtmf: "159", dtmfSender: "ag_S")
        // A digit the listener received at 3.0–3.1 s on its timeline: that, ±0.3 s.
        let spans = ResultMapping.dtmfSpans(conference: conference, member: members[1], received: [(3000, 3100)], sent: [])
        #expect(spans.count == 1)
        #expect(abs(spans[0].lowerBound - 2.7) < 1e-9 && abs(spans[0].upperBound - 3.4) < 1e-9)
        // None received (a dropping bridge): the sender's planned window. It joined 1 s before
        // this listener and sends at last join + 2 s = 4 s after the start: 3 s on the
        // listener's timeline, 3 digits × 200 ms, ±0.5 s.
        let planned = ResultMapping.dtmfSpans(conference: conference, member: members[1], received: [], sent: [])
        #expect(planned.count == 1)
        #expect(abs(planned[0].lowerBound - 2.5) < 1e-9 && abs(planned[0].upperBound - 4.1) < 1e-9)
        // No digits in the suite, none received: nothing left out.
        var quiet = conference
        quiet.dtmf = nil
        #expect(ResultMapping.dtmfSpans(conference: quiet, member: members[1], received: [], sent: []).isEmpty)
    }

    @Test func admissionWaitsForThePIN() {
        #expect(ResultMapping.admissionDelay(pin: nil) == 0)
        #expect(ResultMapping.admissionDelay(pin: "") == 0)
        #expect(abs(ResultMapping.admissionDelay(pin: "2468") - 1.6) < 1e-9)
    }

    @Test func roomsParseAndCheck() throws {
        #expect(try RoomConfiguration.parse("room100:4321") == RoomConfiguration(name: "room100", pin: "4321"))
        #expect(try RoomConfiguration.parse("lobby") == RoomConfiguration(name: "lobby"))
        #expect(throws: AgentConfigurationError.invalid("room room1: PIN \"12x\" must be digits 0-9, *, #, A-D")) {
            try RoomConfiguration.parse("room1:12x")
        }
        #expect(throws: AgentConfigurationError.self) { try RoomConfiguration.parse("a b") }
        #expect(RoomConfiguration(name: "r", registrar: "10.0.0.9:5060").addressOfRecord() == "sip:r@10.0.0.9")
        #expect(RoomConfiguration(name: "r", registrar: "10.0.0.9:5060").addressOfRecord(domain: "pbx.example.net") == "sip:r@pbx.example.net")
        #expect(RoomConfiguration(name: "r", registrar: "[::1]:5060").addressOfRecord() == "sip:r@[::1]")
        #expect(RoomConfiguration(name: "r").addressOfRecord() == nil)
        var configuration = AgentConfiguration(organizerURL: "ws://127.0.0.1:1/v1/agent", stateDirectory: "/tmp/s",
                                               rooms: [RoomConfiguration(name: "r"), RoomConfiguration(name: "r")])
        #expect(throws: AgentConfigurationError.invalid("room r is configured twice")) { try configuration.validate() }
        configuration.rooms = [RoomConfiguration(name: "r")]
        configuration.bridge = false
        #expect(throws: AgentConfigurationError.invalid("rooms need the bridge capability (remove --no-bridge or the rooms)")) {
            try configuration.validate()
        }
    }

    @Test func helloAnnouncesTheBridgeAndConferences() {
        var configuration = AgentConfiguration(organizerURL: "ws://127.0.0.1:1/v1/agent", stateDirectory: "/tmp/s")
        let on = AgentRuntime.capabilities(configuration)
        #expect(on.bridge == true)
        #expect(on.tests == [.p2p, .register, .options, .soak, .dtmf, .conference])
        configuration.bridge = false
        #expect(AgentRuntime.capabilities(configuration).bridge == false)
        #expect(AgentRuntime.capabilities(configuration).tests.contains(.conference))
    }
}
