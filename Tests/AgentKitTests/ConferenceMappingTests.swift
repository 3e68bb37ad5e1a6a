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
