import EarshotWire
import Foundation
import OrganizerCore
import Testing

enum ConferencePlanFixture {
    static let t0 = Date(timeIntervalSinceReferenceDate: 3000)

    static func agent(_ id: String, _ name: String, budget: Int = 10, online: Bool = true) -> PlannerAgent {
        PlannerAgent(id: id, name: name, site: "hq", budget: budget, online: online)
    }

    /// a1/alice … a5/eve.
    static let five = [agent("a3", "carol"), agent("a1", "alice"), agent("a5", "eve"), agent("a2", "bob"), agent("a4", "dave")]

    static func suite(_ settings: ConferenceSettings = ConferenceSettings(), interval: Double = 300, period: Double? = nil,
                      duration: Double = 20) -> SuiteSpec {
        SuiteSpec(name: "conf", type: .conference, interval: .seconds(interval), period: period.map { .seconds($0) },
                  duration: .seconds(duration), conference: settings)
    }

    static func plan(_ spec: SuiteSpec, members: [PlannerAgent] = five, candidates: [PlannerAgent] = [],
                     round: Int = 0, reservations: [String: [DateInterval]] = [:], seed: UInt64 = 1) -> ConferencePlan {
        var random = SeededRandom(seed: seed)
        return Planner.planConference(suite: spec, members: members, bridgeCandidates: candidates, round: round,
                                      roundStart: t0, reservations: reservations,
                                      slotLength: Planner.slotLength(for: spec), random: &random)
    }
}

@Suite struct ConferencePlannerTests {
    typealias F = ConferencePlanFixture
    let bridges = [F.agent("b2", "bridge-two"), F.agent("b1", "bridge-one"), F.agent("b3", "bridge-three")]

    @Test func onlineMembersJoinInIdOrderWithDistinctTonesAndSpreadJoins() {
        let p = F.plan(F.suite(ConferenceSettings(joinSpread: .seconds(8))), candidates: bridges)
        #expect(p.notPlanned == nil)
        #expect(p.participants == ["a1", "a2", "a3", "a4", "a5"])
        #expect(p.bridgeAgentID == "b1")
        #expect(p.members.map(\.name) == ["alice", "bob", "carol", "dave", "eve"])
        #expect(p.members.map(\.toneHz) == [1750, 1850, 1950, 1550, 2250])
        #expect(p.members.map(\.joinOffsetS) == [0, 2, 4, 6, 8])
        #expect(p.skipped.isEmpty)
        #expect(p.offsetS == 0)
    }

    @Test func tonesFollowTheIdentifyingToneTableAndStayDistinctUpToSeventeen() {
        let many = (0..<17).map { F.agent(String(format: "m%02d", $0), "m\($0)") }
        let p = F.plan(F.suite(ConferenceSettings(maxParticipants: 17)), members: many,
                       candidates: [F.agent("b1", "big-bridge", budget: 40)])
        #expect(p.members.count == 17)
        #expect(Set(p.members.map(\.toneHz)).count == 17)
        #expect(p.members.map(\.toneHz) == Planner.conferenceTones)
        #expect(Planner.conferenceTone(slot: 17) == 1750)
        #expect(Planner.conferenceTone(slot: -1) == 3350)
    }

    @Test func oneJoinSpreadOverTwoIsStartAndEnd() {
        let p = F.plan(F.suite(ConferenceSettings(joinSpread: .seconds(3))), members: Array(F.five.prefix(2)), candidates: bridges)
        #expect(p.members.map(\.joinOffsetS) == [0, 3])
        let none = F.plan(F.suite(ConferenceSettings(joinSpread: .seconds(0))), candidates: bridges)
        #expect(none.members.map(\.joinOffsetS) == [0, 0, 0, 0, 0])
    }

    @Test func theCapLeavesTheRestOutWithAReason() {
        let p = F.plan(F.suite(ConferenceSettings(maxParticipants: 3)), candidates: bridges)
        #expect(p.participants == ["a1", "a2", "a3"])
        #expect(p.skipped == [
            SkippedUnit(unit: UnitKey(caller: "a4", callee: nil), reason: "conference_cap", agentID: "a4",
                        detail: "over the conference cap of 3"),
            SkippedUnit(unit: UnitKey(caller: "a5", callee: nil), reason: "conference_cap", agentID: "a5",
                        detail: "over the conference cap of 3"),
        ])
    }

    @Test func offlineMembersAreSkippedAndDoNotCountAgainstTheCap() {
        var members = F.five
        members[1].online = false   // a1
        let p = F.plan(F.suite(ConferenceSettings(maxParticipants: 3)), members: members, candidates: bridges)
        #expect(p.participants == ["a2", "a3", "a4"])
        #expect(p.skipped.map(\.agentID) == ["a1", "a5"])
        #expect(p.skipped.map(\.reason) == ["agent_offline", "conference_cap"])
        #expect(p.skipped[0].detail == "offline")
    }

    @Test func rotateTakesCandidateRoundModCountInIdOrder() {
        let spec = F.suite(ConferenceSettings(bridge: .rotate))
        #expect(F.plan(spec, candidates: bridges, round: 0).bridgeAgentID == "b1")
        #expect(F.plan(spec, candidates: bridges, round: 1).bridgeAgentID == "b2")
        #expect(F.plan(spec, candidates: bridges, round: 2).bridgeAgentID == "b3")
        #expect(F.plan(spec, candidates: bridges, round: 3).bridgeAgentID == "b1")
        #expect(F.plan(spec, candidates: bridges, round: 1_000_001).bridgeAgentID == "b3")
        // The participants are the members every time (the bridges are not members).
        #expect(F.plan(spec, candidates: bridges, round: 2).participants == ["a1", "a2", "a3", "a4", "a5"])
    }

    @Test func aBridgeAgentIsChosenByNameOrId() {
        #expect(F.plan(F.suite(ConferenceSettings(bridgeAgent: "bridge-three")), candidates: bridges).bridgeAgentID == "b3")
        #expect(F.plan(F.suite(ConferenceSettings(bridgeAgent: "b2")), candidates: bridges).bridgeAgentID == "b2")
    }

    @Test func aNamedBridgeAgentThatIsNoCandidateLeavesTheRoundUnplanned() {
        let p = F.plan(F.suite(ConferenceSettings(bridgeAgent: "alice")), candidates: bridges)
        #expect(p.notPlanned == "bridge_agent alice is not an online agent with the bridge capability")
        #expect(p.participants.isEmpty)
        #expect(p.bridgeAgentID == nil)
        var offline = bridges
        offline[0].online = false   // b2
        #expect(F.plan(F.suite(ConferenceSettings(bridgeAgent: "b2")), candidates: offline).notPlanned
            == "bridge_agent b2 is not an online agent with the bridge capability")
    }

    @Test func withoutANameAMemberCandidateHostsAndSitsOut() {
        // carol (a3) can host: she is the first candidate that is a member; she is not a participant.
        let candidates = bridges + [F.agent("a3", "carol")]
        let p = F.plan(F.suite(), candidates: candidates)
        #expect(p.bridgeAgentID == "a3")
        #expect(p.participants == ["a1", "a2", "a4", "a5"])
        #expect(p.members.map(\.toneHz) == [1750, 1850, 1950, 1550])
        #expect(p.skipped.isEmpty)
    }

    @Test func noBridgeCandidateLeavesTheRoundUnplanned() {
        #expect(F.plan(F.suite(), candidates: []).notPlanned
            == "no online agent has the bridge capability (start one with --bridge)")
        #expect(F.plan(F.suite(ConferenceSettings(bridge: .rotate)), candidates: []).notPlanned
            == "no online agent has the bridge capability (start one with --bridge)")
    }

    @Test func anExternalRoomHasNoBridgeAgent() {
        let spec = F.suite(ConferenceSettings(bridge: .uri, uri: "sip:room100@pbx.example.com", pin: "4321"))
        let p = F.plan(spec, candidates: bridges)
        #expect(p.bridgeAgentID == nil)
        #expect(p.participants == ["a1", "a2", "a3", "a4", "a5"])
        #expect(F.plan(F.suite(ConferenceSettings(bridge: .uri)), candidates: bridges).notPlanned
            == "conference.uri is not set: an external room needs its URI")
    }

    @Test func fewerThanTwoParticipantsIsNotPlanned() {
        var members = F.five
        for i in members.indices where members[i].id != "a2" { members[i].online = false }
        let p = F.plan(F.suite(), members: members, candidates: bridges)
        #expect(p.notPlanned == "1 participant available; a conference needs at least 2")
        #expect(p.participants.isEmpty)
        #expect(p.members.isEmpty)
        #expect(p.skipped.count == 4)
        #expect(F.plan(F.suite(), members: [], candidates: bridges).notPlanned
            == "0 participants available; a conference needs at least 2")
    }

    @Test func aParticipantWithItsBudgetReservedIsSkipped() {
        let spec = F.suite()   // 20 s + 5 s margin
        let busy = [DateInterval(start: F.t0.addingTimeInterval(10), duration: 30)]
        let p = F.plan(spec, candidates: bridges, reservations: ["a2": busy, "a4": busy, "a4x": busy])
        #expect(p.participants == ["a1", "a2", "a3", "a4", "a5"])   // budget 10: one reservation leaves room
        var members = F.five
        members[3].budget = 1   // a2
        let q = F.plan(spec, members: members, candidates: bridges, reservations: ["a2": busy])
        #expect(q.participants == ["a1", "a3", "a4", "a5"])
        #expect(q.skipped == [SkippedUnit(unit: UnitKey(caller: "a2", callee: nil), reason: "capacity", agentID: "a2",
                                          detail: "no call of its budget of 1 free at the run's time")])
        // A reservation that ends before the run starts does not count.
        let earlier = [DateInterval(start: F.t0.addingTimeInterval(-30), duration: 30)]
        #expect(F.plan(spec, members: members, candidates: bridges, reservations: ["a2": earlier]).participants.count == 5)
    }

    @Test func theBridgeHostNeedsOneCallPerParticipant() {
        // b1 can host 3 at once: the other two members are left out for its budget.
        let small = [F.agent("b1", "bridge-one", budget: 3)]
        let p = F.plan(F.suite(), candidates: small)
        #expect(p.bridgeAgentID == "b1")
        #expect(p.participants == ["a1", "a2", "a3"])
        #expect(p.skipped.map(\.reason) == ["capacity", "capacity"])
        #expect(p.skipped.first?.detail == "over the bridge agent bridge-one's free budget of 3 calls")
        // Reservations count against it too.
        let busy = [DateInterval(start: F.t0, duration: 60)]
        #expect(F.plan(F.suite(), candidates: small, reservations: ["b1": busy]).participants == ["a1", "a2"])
        // A named host without two free calls: no run.
        let full = F.plan(F.suite(ConferenceSettings(bridgeAgent: "b1")), candidates: small,
                          reservations: ["b1": busy + busy])
        #expect(full.notPlanned
            == "bridge_agent b1 has 1 of its 3 calls free at the run's time; hosting needs one per participant (at least 2)")
    }

    @Test func aRotatingHostWithoutBudgetIsPassedOverForTheNext() {
        let spec = F.suite(ConferenceSettings(bridge: .rotate))
        let busy = [DateInterval(start: F.t0, duration: 60)]
        let candidates = [F.agent("b1", "one", budget: 1), F.agent("b2", "two"), F.agent("b3", "three")]
        #expect(F.plan(spec, candidates: candidates, round: 0).bridgeAgentID == "b2")
        #expect(F.plan(spec, candidates: candidates, round: 2, reservations: ["b3": Array(repeating: busy[0], count: 9)])
            .bridgeAgentID == "b2")   // b3 has 1 free, then b1 has 1: b2
        let none = [F.agent("b1", "one", budget: 1)]
        #expect(F.plan(spec, candidates: none).notPlanned
            == "no bridge-capable agent has two calls of its budget free at the run's time")
    }

    @Test func theStartIsRandomOnlyWithinThePeriodsSlack() {
        // Period = interval: fixed at the round's start.
        #expect(F.plan(F.suite(interval: 300), candidates: bridges, seed: 1).offsetS == 0)
        #expect(F.plan(F.suite(interval: 300), candidates: bridges, seed: 2).offsetS == 0)
        // Period 400 s over a 300 s interval: up to min(300 − 25, 100) s later, from the generator.
        let a = F.plan(F.suite(interval: 300, period: 400), candidates: bridges, seed: 1).offsetS
        let b = F.plan(F.suite(interval: 300, period: 400), candidates: bridges, seed: 1).offsetS
        let c = F.plan(F.suite(interval: 300, period: 400), candidates: bridges, seed: 99).offsetS
        #expect(a == b)
        #expect(a != c)
        #expect((0...100).contains(a))
        #expect((0...100).contains(c))
    }
}
