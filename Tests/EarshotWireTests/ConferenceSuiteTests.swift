import EarshotWire
import Foundation
import Testing

@Suite struct ConferenceSuiteTests {
    func decode(_ json: String) throws -> SuiteSpec {
        try WireJSON.decoder().decode(SuiteSpec.self, from: Data(json.utf8))
    }

    /// A conference suite with `change` applied to its settings; its problems.
    func problems(duration: WireDuration = .seconds(20), dtmf: String? = nil,
                  _ change: (inout ConferenceSettings) -> Void) -> [String] {
        var settings = ConferenceSettings()
        change(&settings)
        return SuiteSpec(name: "conf", type: .conference, duration: duration, dtmf: dtmf, conference: settings).problems()
    }

    @Test func aConferenceSuiteWithoutItsSectionTakesTheDefaults() throws {
        let s = try decode(#"{"name":"c","type":"conference"}"#)
        #expect(s.conference == ConferenceSettings(bridge: .agent, maxParticipants: 10, joinSpread: .seconds(2), dtmfMode: .relay))
        #expect(s.duration.seconds == 10)
        #expect(s.problems().isEmpty)
        #expect(SuiteSpec(name: "c", type: .conference).conference == ConferenceSettings())
        #expect(SuiteSpec(name: "p", type: .p2p).conference == nil)
    }

    @Test func theSectionDecodesEveryKey() throws {
        let s = try decode("""
        {"name":"room","type":"conference","duration":"30s","dtmf":"159#",
         "conference":{"bridge":"uri","uri":"sip:room100@pbx.example.com","pin":"4321#","max_participants":6,
                       "join_spread":"5s","dtmf_mode":"drop","dtmf_from":"alice"}}
        """)
        #expect(s.conference == ConferenceSettings(bridge: .uri, uri: "sip:room100@pbx.example.com", pin: "4321#",
                                                   maxParticipants: 6, joinSpread: .seconds(5), dtmfMode: .drop,
                                                   dtmfFrom: "alice"))
        #expect(s.problems().isEmpty)
        let partial = try decode(#"{"name":"c","type":"conference","conference":{"bridge":"rotate","max_participants":4}}"#)
        #expect(partial.conference == ConferenceSettings(bridge: .rotate, maxParticipants: 4))
    }

    @Test func badEnumValuesAreDecodingErrorsNamingTheKey() {
        let mode = #expect(throws: DecodingError.self) {
            try decode(#"{"name":"c","type":"conference","conference":{"bridge":"mcu"}}"#)
        }
        #expect(mode.map(describe)?.hasPrefix("conference.bridge: ") == true)
        let dtmf = #expect(throws: DecodingError.self) {
            try decode(#"{"name":"c","type":"conference","conference":{"dtmf_mode":"forward"}}"#)
        }
        #expect(dtmf.map(describe)?.hasPrefix("conference.dtmf_mode: ") == true)
    }

    @Test func theBridgeModeNeedsItsOwnFieldsOnly() {
        #expect(problems { $0.bridge = .uri } == ["conference.uri: bridge uri needs the conference URI"])
        #expect(problems { $0.bridge = .uri; $0.uri = "" } == ["conference.uri: bridge uri needs the conference URI"])
        #expect(problems { $0.bridge = .uri; $0.uri = "room100@pbx" }
            == ["conference.uri: a SIP URI such as sip:room100@pbx.example.com"])
        #expect(problems { $0.bridge = .uri; $0.uri = "sip:pbx.example.com" }
            == ["conference.uri: a SIP URI such as sip:room100@pbx.example.com"])
        #expect(problems { $0.bridge = .uri; $0.uri = "sips:room@pbx.example.com:5061" }.isEmpty)
        #expect(problems { $0.uri = "sip:room@pbx" } == ["conference.uri: only with bridge: uri"])
        #expect(problems { $0.bridge = .rotate; $0.bridgeAgent = "hq-1" } == ["conference.bridge_agent: only with bridge: agent"])
        #expect(problems { $0.bridgeAgent = "hq-1" }.isEmpty)
    }

    @Test func thePinIsDTMFDigits() {
        #expect(problems { $0.pin = "12a" } == ["conference.pin: digits 0-9, *, #, A-D"])
        #expect(problems { $0.pin = "" } == ["conference.pin: digits 0-9, *, #, A-D"])
        #expect(problems { $0.pin = "0*9#ABCD" }.isEmpty)
    }

    @Test func theCapIsBetweenTwoAndFiveHundred() {
        #expect(problems { $0.maxParticipants = 1 } == ["conference.max_participants: between 2 and 500"])
        #expect(problems { $0.maxParticipants = 501 } == ["conference.max_participants: between 2 and 500"])
        #expect(problems { $0.maxParticipants = 2 }.isEmpty)
        #expect(problems { $0.maxParticipants = 500 }.isEmpty)
    }

    @Test func theJoinSpreadLeavesHalfTheDuration() {
        #expect(problems(duration: .seconds(20)) { $0.joinSpread = .seconds(10.5) }
            == ["conference.join_spread: between 0 and half the duration"])
        #expect(problems(duration: .seconds(20)) { $0.joinSpread = .seconds(10) }.isEmpty)
        #expect(problems(duration: .seconds(20)) { $0.joinSpread = .seconds(0) }.isEmpty)
    }

    @Test func dtmfFromNeedsDigitsToSend() {
        #expect(problems { $0.dtmfFrom = "alice" } == ["conference.dtmf_from: the suite sends no dtmf"])
        #expect(problems(dtmf: "159#") { $0.dtmfFrom = "alice" }.isEmpty)
    }

    @Test func aConferenceSectionOnAnotherTypeIsRefused() throws {
        let s = try decode(#"{"name":"p","type":"p2p","conference":{"bridge":"rotate"}}"#)
        #expect(s.problems() == ["conference: only for type conference"])
    }

    @Test func everyProblemIsListed() {
        let all = problems(duration: .seconds(4)) {
            $0.bridge = .uri
            $0.pin = "x"
            $0.maxParticipants = 0
            $0.joinSpread = .seconds(3)
        }
        #expect(all == ["conference.uri: bridge uri needs the conference URI", "conference.pin: digits 0-9, *, #, A-D",
                        "conference.max_participants: between 2 and 500",
                        "conference.join_spread: between 0 and half the duration"])
    }

    @Test func theDefaultConferenceIsValidAndRotates() {
        let d = SuiteSpec.defaultConference()
        #expect(d.problems().isEmpty)
        #expect(d.conference?.bridge == .rotate)
        #expect(d.dtmf == "159#")
        #expect(d.duration.seconds == 20)
    }

    @Test func aFullConferenceSuiteRoundTripsThroughJSON() throws {
        let spec = SuiteSpec(name: "room", type: .conference, description: "the PBX room", members: MemberSelector(sites: ["hq", "lon"]),
                             interval: .minutes(15), period: .minutes(30), duration: .seconds(30), dtmf: "159#",
                             via: SIPInfrastructure(proxy: "pbx.example.com:5060", domain: "example.com"),
                             thresholds: Thresholds(mosMin: 3.8, lossPctMax: 2),
                             conference: ConferenceSettings(bridge: .uri, uri: "sip:room100@pbx.example.com", pin: "4321#",
                                                            maxParticipants: 8, joinSpread: .seconds(6), dtmfMode: .regenerate,
                                                            dtmfFrom: "hq-1"))
        let data = try WireJSON.encoder().encode(spec)
        #expect(try WireJSON.decoder().decode(SuiteSpec.self, from: data) == spec)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""conference":{"bridge":"uri","dtmf_from":"hq-1","dtmf_mode":"regenerate","join_spread":6,"max_participants":8,"pin":"4321#","uri":"sip:room100@pbx.example.com"}"#))
    }

    @Test func theJudgedSummaryRoundTripsThroughJSON() throws {
        let summary = ConferenceSummary(
            conferenceID: "conf-run_1", mode: .agent, bridgeAgentID: "b", uri: "sip:conf-run_1@10.0.0.1:5060",
            legs: [ConferenceLeg(agentID: "a", name: "alice", site: "hq", toneHz: 1750, joinMs: 41, joinedAtMs: 60,
                                 status: .passed, cause: RunCause(code: "normal"),
                                 up: StreamMetrics(from: "a", to: "b", packetsExpected: 1000, packetsReceived: 1000,
                                                   packetsLost: 0, lossPct: 0, mosCQ: 4.1))],
            hearing: [HearingCell(listener: "a", speaker: "a", state: .clean, fraction: 0, levelDb: nil)],
            dtmf: ConferenceDTMF(sender: "a", sent: "159#", received: ["c": "159#"], mode: .relay, bridgeReceived: "159#"),
            peakParticipants: 3, refused: 0)
        let data = try WireJSON.encoder().encode(summary)
        #expect(try WireJSON.decoder().decode(ConferenceSummary.self, from: data) == summary)
        #expect(String(decoding: data, as: UTF8.self).contains(#""bridge_agent_id":"b""#))
    }
}
