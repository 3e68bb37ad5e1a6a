import EarshotWire
import Foundation
import OrganizerCore
@testable import OrganizerKit
import Testing

/// The parts of the scheduler that are values: the round timetable and the assignments.
@Suite struct SchedulerTests {
    let interval = WireDuration.minutes(5)

    @Test func regularRoundIsFollowedByTheNextWindow() {
        let r = 1000
        let start = Planner.roundStart(index: r, interval: interval)
        let (index, next) = Scheduler.followingRound(after: start, interval: interval, now: start.addingTimeInterval(-5))
        #expect(index == r + 1)
        #expect(next == Planner.roundStart(index: r + 1, interval: interval))
    }

    @Test func shiftedFirstRoundIsNotFollowedAMomentLater() {
        let r = 1000
        // Applied 10 s before the end of window r: the next round is r + 2, not r + 1.
        let start = Planner.roundStart(index: r + 1, interval: interval).addingTimeInterval(-10)
        let (index, next) = Scheduler.followingRound(after: start, interval: interval, now: start)
        #expect(index == r + 2)
        #expect(next.timeIntervalSince(start) == 310)
        // Applied early in window r: the next is r + 1.
        let early = Planner.roundStart(index: r, interval: interval).addingTimeInterval(10)
        #expect(Scheduler.followingRound(after: early, interval: interval, now: early).index == r + 1)
    }

    @Test func nextRoundIsNeverBeforeThePlanningLead() {
        let r = 1000
        let start = Planner.roundStart(index: r, interval: interval)
        let late = start.addingTimeInterval(400)   // the organizer was stopped for a while
        let (_, next) = Scheduler.followingRound(after: start, interval: interval, now: late)
        #expect(next == late.addingTimeInterval(Scheduler.planLead))
    }

    static let agents: [String: PlannerAgent] = [
        "ag_a": PlannerAgent(id: "ag_a", name: "alpha", budget: 4),
        "ag_b": PlannerAgent(id: "ag_b", name: "beta", budget: 4),
    ]
    static let hellos: [String: AgentHello] = [
        "ag_b": AgentHello(agentID: "ag_b", credential: "", name: "beta", version: "1", site: "s",
                           sipContacts: [SIPContact(uri: "sip:earshot@10.0.0.2:5060;transport=tcp", transport: "tcp"),
                                         SIPContact(uri: "sip:earshot@10.0.0.2:5060", transport: "udp")]),
    ]

    @Test func directCallTargetsTheCalleesContactOfTheSuitesTransport() throws {
        let spec = SuiteSpec(name: "s", type: .dtmf, duration: .seconds(10), dtmf: "12#", sessionExpires: 90)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let b = RunBuilder(spec: spec, unit: UnitKey(caller: "ag_a", callee: "ag_b"), startAt: start, agents: Self.agents,
                           hellos: Self.hellos, deadlineMargin: 30)
        #expect(b.deadline == start.addingTimeInterval(10 + 90 + 30))
        #expect(b.participants == [RunParticipant(agentID: "ag_a", role: .caller), RunParticipant(agentID: "ag_b", role: .callee)])
        let assignments = b.assignments(runID: "run_1")
        #expect(assignments.map(\.0) == ["ag_b", "ag_a"])
        let callee = assignments[0].1
        let caller = assignments[1].1
        #expect(callee.role == .callee)
        #expect(callee.answer == AnswerSpec(toneHz: 1850, expectedRemoteToneHz: 1750, expectedDTMF: "12#", durationS: 10))
        #expect(callee.register == nil)
        #expect(caller.call?.target == "sip:earshot@10.0.0.2:5060")
        #expect(caller.call?.proxy == nil)
        #expect(caller.call?.dtmf == "12#")
        #expect(caller.call?.sessionExpires == 90)
        #expect(caller.call?.toneHz == 1750)
        #expect(caller.peers.map(\.toneHz) == [1750, 1850])
        #expect(caller.deadline == b.deadline)
    }

    @Test func callThroughTheProxyTargetsTheAddressOfRecordWithCredentials() throws {
        let via = SIPInfrastructure(registrar: "pbx.example.com:5060", proxy: "proxy.example.com:5060", domain: "example.com",
                                    credentials: ["alpha": SIPCredentials(username: "1001", password: "a"),
                                                  "beta": SIPCredentials(username: "1002", password: "b")])
        let spec = SuiteSpec(name: "s", type: .p2p, duration: .seconds(10), via: via)
        let b = RunBuilder(spec: spec, unit: UnitKey(caller: "ag_a", callee: "ag_b"), startAt: Date(), agents: Self.agents,
                           hellos: Self.hellos, deadlineMargin: 30)
        let assignments = b.assignments(runID: "run_1")
        let callee = assignments[0].1
        let caller = assignments[1].1
        #expect(caller.call?.target == "sip:1002@example.com")
        #expect(caller.call?.proxy == "proxy.example.com:5060")
        #expect(caller.call?.credentials == SIPCredentials(username: "1001", password: "a"))
        #expect(callee.register == RegisterSpec(registrar: "pbx.example.com:5060", aor: "sip:1002@example.com",
                                                credentials: SIPCredentials(username: "1002", password: "b")))
    }

    @Test func registerAndOptionsHaveOneParticipant() {
        let reg = SuiteSpec(name: "r", type: .register, via: SIPInfrastructure(registrar: "pbx:5060", domain: "d.example"))
        let r = RunBuilder(spec: reg, unit: UnitKey(caller: "ag_a", callee: nil), startAt: Date(), agents: Self.agents,
                           hellos: [:], deadlineMargin: 30)
        #expect(r.participants == [RunParticipant(agentID: "ag_a", role: .registrant)])
        #expect(r.assignments(runID: "x").first?.1.register?.aor == "sip:alpha@d.example")

        let opt = SuiteSpec(name: "o", type: .options, target: "sip:sbc.example.com")
        let o = RunBuilder(spec: opt, unit: UnitKey(caller: "ag_a", callee: nil), startAt: Date(), agents: Self.agents,
                           hellos: [:], deadlineMargin: 30)
        #expect(o.participants == [RunParticipant(agentID: "ag_a", role: .pinger)])
        #expect(o.assignments(runID: "x").first?.1.options == OptionsSpec(target: "sip:sbc.example.com"))
    }
}
