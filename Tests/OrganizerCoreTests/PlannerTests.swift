import EarshotWire
import Foundation
import OrganizerCore
import Testing

enum PlannerFixture {
    static let t0 = Date(timeIntervalSinceReferenceDate: 0)

    /// `a0000`, `a0001`, …: ids sort in index order.
    static func id(_ i: Int) -> String {
        let digits = String(i)
        return "a" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func agents(_ n: Int, budget: (Int) -> Int = { _ in 4 }) -> [PlannerAgent] {
        (0..<n).map { PlannerAgent(id: id($0), name: "n\($0)", site: $0 % 2 == 0 ? "hq" : "branch", budget: budget($0)) }
    }

    static func mesh(interval: Double, period: Double? = nil, duration: Double = 10, kind: Topology = .mesh) -> SuiteSpec {
        SuiteSpec(name: "s", type: .p2p, topology: kind, interval: .seconds(interval), period: period.map { .seconds($0) },
                  duration: .seconds(duration))
    }
}

/// Plans `rounds` rounds back to back (each starting where the last interval ended, the
/// backlog carried over) and checks what the planner promises.
struct Simulation {
    let n: Int
    let slot: Double
    let interval: Double
    var starts: [[Double]]          // per agent, absolute seconds
    var pairFirst: [Double]         // per ordered pair (n·n), first start
    var pairLast: [Double]
    var pairWorstGap: [Double]
    var offsets: [Double] = []
    var plans: [RoundPlan] = []
    var skipped = 0

    init(spec: SuiteSpec, agents: [PlannerAgent], slot: Double, rounds: Int, seed: UInt64 = 7,
         reservations: [String: [DateInterval]] = [:], firstRound: Int = 0) {
        n = agents.count
        self.slot = slot
        interval = spec.interval.seconds
        starts = Array(repeating: [], count: n)
        pairFirst = Array(repeating: -1, count: n * n)
        pairLast = Array(repeating: -1, count: n * n)
        pairWorstGap = Array(repeating: 0, count: n * n)
        var index: [String: Int] = [:]
        for (i, a) in agents.enumerated() { index[a.id] = i }
        var random = SeededRandom(seed: seed)
        var backlog: [DeferredUnit] = []
        for k in 0..<rounds {
            let roundStart = PlannerFixture.t0.addingTimeInterval(Double(k) * interval)
            let plan = Planner.planRound(suite: spec, members: agents, round: firstRound + k, roundStart: roundStart,
                                         backlog: backlog, reservations: reservations, slotLength: slot, random: &random)
            backlog = plan.deferred
            skipped += plan.skipped.count
            for run in plan.runs {
                let t = Double(k) * interval + run.offsetS
                offsets.append(run.offsetS)
                let a = index[run.unit.caller]!
                starts[a].append(t)
                guard let callee = run.unit.callee else { continue }
                let b = index[callee]!
                starts[b].append(t)
                let p = a * n + b
                if pairFirst[p] < 0 { pairFirst[p] = t } else { pairWorstGap[p] = max(pairWorstGap[p], t - pairLast[p]) }
                pairLast[p] = t
            }
            plans.append(plan)
        }
    }

    /// The most calls each agent has at one instant: a sweep over its start and end events
    /// (an end at the same instant as a start frees the budget first), reservations counted.
    func peakConcurrency(agents: [PlannerAgent], reservations: [String: [DateInterval]] = [:]) -> [Int] {
        (0..<n).map { i in
            var ups = starts[i], downs = starts[i].map { $0 + slot }
            for r in reservations[agents[i].id] ?? [] {
                ups.append(r.start.timeIntervalSince(PlannerFixture.t0))
                downs.append(r.end.timeIntervalSince(PlannerFixture.t0))
            }
            ups.sort()
            downs.sort()
            var current = 0, peak = 0, j = 0
            for up in ups {
                while j < downs.count, downs[j] <= up {
                    current -= 1
                    j += 1
                }
                current += 1
                peak = max(peak, current)
            }
            return peak
        }
    }

    /// Over every ordered pair of distinct agents (i, j) both online: (worst gap between
    /// consecutive starts, latest first start, pairs never tested).
    func coverage(excluding excluded: Set<Int> = []) -> (worstGap: Double, latestFirst: Double, untested: Int) {
        var worst = 0.0, latestFirst = 0.0, untested = 0
        for i in 0..<n where !excluded.contains(i) {
            for j in 0..<n where j != i && !excluded.contains(j) {
                let p = i * n + j
                if pairFirst[p] < 0 { untested += 1; continue }
                worst = max(worst, pairWorstGap[p])
                latestFirst = max(latestFirst, pairFirst[p])
            }
        }
        return (worst, latestFirst, untested)
    }
}

@Suite struct PlannerUnitTests {
    typealias F = PlannerFixture

    @Test func membersBySelectorSortedByIDOfflineIncluded() {
        var agents = F.agents(6)
        agents[3].online = false
        agents[5].labels = ["role": "edge"]
        let spec = SuiteSpec(name: "s", type: .p2p, members: MemberSelector(agents: ["n1"], sites: ["hq"], labels: ["role": "edge"]))
        let members = Planner.members(of: spec, among: agents.reversed())
        #expect(members.map(\.id) == ["a0000", "a0001", "a0002", "a0004", "a0005"])
        let all = Planner.members(of: SuiteSpec(name: "s", type: .p2p), among: agents)
        #expect(all.count == 6)
        #expect(all[3].online == false)
    }

    @Test(arguments: [2, 3, 4, 5, 10, 11])
    func meshUnitsAreEveryOrderedPairOnce(n: Int) {
        let units = Planner.units(for: F.mesh(interval: 300), members: F.agents(n), round: 0)
        #expect(units.count == n * (n - 1))
        #expect(Set(units).count == n * (n - 1))
        #expect(units.allSatisfy { $0.callee != nil && $0.callee != $0.caller })
        #expect(Planner.unitCount(for: F.mesh(interval: 300), members: F.agents(n)) == n * (n - 1))
    }

    @Test func meshOfOneHasNoUnitsAndSaysSo() {
        let spec = F.mesh(interval: 300)
        #expect(Planner.units(for: spec, members: F.agents(1), round: 0).isEmpty)
        var random = SeededRandom(seed: 1)
        let plan = Planner.planRound(suite: spec, members: F.agents(1), round: 0, roundStart: F.t0, slotLength: 15,
                                     random: &random)
        #expect(plan.runs.isEmpty)
        #expect(plan.warning == "mesh of 1 agent has no pairs to test")
        let none = Planner.planRound(suite: spec, members: [], round: 0, roundStart: F.t0, slotLength: 15, random: &random)
        #expect(none.warning == "no agent matches the suite's members")
    }

    @Test func starIsTheHubWithEachBothWays() {
        let spec = F.mesh(interval: 300, kind: Topology(kind: .star, hub: "n2"))
        let units = Planner.units(for: spec, members: F.agents(4), round: 0)
        #expect(Set(units) == Set(["a0000", "a0001", "a0003"].flatMap {
            [UnitKey(caller: "a0002", callee: $0), UnitKey(caller: $0, callee: "a0002")]
        }))
        #expect(units.count == 6)
    }

    @Test func starWithoutItsHubWarns() {
        let spec = F.mesh(interval: 300, kind: Topology(kind: .star, hub: "gone"))
        #expect(Planner.units(for: spec, members: F.agents(4), round: 0).isEmpty)
        let a = Planner.assess(spec, members: F.agents(4), slotLength: 15)
        #expect(a.warning == "topology.hub: hub gone is not a member of the suite")
    }

    @Test func pairsAreTheListedOnesByNameOrID() {
        let spec = F.mesh(interval: 300, kind: Topology(kind: .pairs, pairs: [["n0", "n1"], ["a0001", "n0"], ["n0", "n1"],
                                                                               ["n2", "ghost"], ["n2", "n3"]]))
        let units = Planner.units(for: spec, members: F.agents(4), round: 0)
        #expect(Set(units) == [UnitKey(caller: "a0000", callee: "a0001"), UnitKey(caller: "a0001", callee: "a0000"),
                               UnitKey(caller: "a0002", callee: "a0003")])
        #expect(units.count == 3)
        let a = Planner.assess(spec, members: F.agents(4), slotLength: 15)
        #expect(a.warning == "topology.pairs: n2→ghost name agents that are not members")
        #expect(a.unitCount == 3)
    }

    @Test func eachIsEveryMemberAlone() {
        let spec = SuiteSpec(name: "reg", type: .register, topology: .each)
        let units = Planner.units(for: spec, members: F.agents(3), round: 5)
        #expect(units == [UnitKey(caller: "a0000", callee: nil), UnitKey(caller: "a0001", callee: nil),
                          UnitKey(caller: "a0002", callee: nil)])
    }

    @Test func sampleRotatesThroughTheWholeMesh() {
        let spec = F.mesh(interval: 300, kind: Topology(kind: .sample, k: 7))
        let agents = F.agents(6)   // 30 ordered pairs: 5 rounds of 7 cover them all
        var seen: [UnitKey: Int] = [:]
        for round in 0..<5 {
            let units = Planner.units(for: spec, members: agents, round: round)
            #expect(units.count == 7)
            for u in units { seen[u, default: 0] += 1 }
        }
        #expect(seen.count == 30)
        #expect(seen.values.max() == 2)   // 35 draws over 30 pairs: 5 come up twice
        let a = Planner.assess(spec, members: agents, slotLength: 15)
        #expect(a.roundsPerCycle == 5)
        #expect(a.warning?.hasPrefix("sample of 7 pairs per round covers the 30 pairs of the mesh in 5 rounds") == true)
    }

    @Test func sampleLargerThanTheMeshIsTheMesh() {
        let spec = F.mesh(interval: 300, kind: Topology(kind: .sample, k: 100))
        #expect(Set(Planner.units(for: spec, members: F.agents(4), round: 3)).count == 12)
        #expect(Planner.assess(spec, members: F.agents(4), slotLength: 15).warning == nil)
    }

    @Test func roundIndexAndStartRoundTrip() {
        let interval = WireDuration.minutes(5)
        let date = Date(timeIntervalSinceReferenceDate: 1_000_000_123.5)
        let k = Planner.roundIndex(at: date, interval: interval)
        #expect(k == 3_333_333)
        #expect(Planner.roundStart(index: k, interval: interval) == Date(timeIntervalSinceReferenceDate: 999_999_900))
        #expect(Planner.roundIndex(at: Planner.roundStart(index: k, interval: interval), interval: interval) == k)
    }

    @Test func slotLengthIsTheCallPlusTheMargin() {
        #expect(Planner.slotLength(for: F.mesh(interval: 300, duration: 10)) == 15)
        #expect(Planner.slotLength(for: SuiteSpec(name: "o", type: .options, topology: .each), setupMarginS: 3) == 8)
    }
}

@Suite struct PlannerAssessmentTests {
    typealias F = PlannerFixture

    @Test func theWarningOfTheDesignExample() {
        let a = Planner.assess(F.mesh(interval: 300), members: F.agents(120), slotLength: 15)
        #expect(a.warning == "mesh of 120 agents needs 238 call slots per agent; with budget 4 and 15 s slots the full mesh takes 900 s > period 300 s")
        #expect(a.achievablePeriodS == 900)
        #expect(a.requestedPeriodS == 300)
        #expect(a.lanes == 4)
        #expect(a.slots == 20)
        #expect(a.roundsPerCycle == 3)
        #expect(a.unitCount == 120 * 119)
    }

    @Test func mixedBudgetsNameTheLowest() {
        let a = Planner.assess(F.mesh(interval: 300), members: F.agents(120) { $0 == 7 ? 2 : 8 }, slotLength: 15)
        #expect(a.lanes == 2)
        #expect(a.warning?.contains("with budget 2 (the lowest of its members) and 15 s slots") == true)
    }

    @Test func aPeriodTheBudgetsMeetHasNoWarning() {
        let a = Planner.assess(F.mesh(interval: 300, period: 900), members: F.agents(120), slotLength: 15)
        #expect(a.warning == nil)
        #expect(a.achievablePeriodS == 900)
    }

    @Test func smallDefaultMeshFitsWithoutWarningAndSpreadsOverTheInterval() {
        var random = SeededRandom(seed: 3)
        let plan = Planner.planRound(suite: .defaultMesh(), members: F.agents(3) { _ in 20 }, round: 0, roundStart: F.t0,
                                     slotLength: 15, random: &random)
        #expect(plan.warning == nil)
        #expect(plan.achievablePeriodS == 300)
        #expect(plan.runs.count == 6)
        // One call at a time per agent's lane, six slots 50 s apart.
        #expect(plan.runs.map(\.offsetS).sorted() == [0, 50, 100, 150, 200, 250])
        #expect(plan.assessment.lanes == 1)
    }

    @Test func periodLongerThanTheIntervalBuysRandomJitter() {
        let spec = F.mesh(interval: 300, period: 330)
        var r1 = SeededRandom(seed: 1), r2 = SeededRandom(seed: 2)
        let p1 = Planner.planRound(suite: spec, members: F.agents(4), round: 0, roundStart: F.t0, slotLength: 15, random: &r1)
        let p2 = Planner.planRound(suite: spec, members: F.agents(4), round: 0, roundStart: F.t0, slotLength: 15, random: &r2)
        #expect(p1.assessment.jitterS == 30)
        #expect(p1.achievablePeriodS == 330)
        #expect(p1.runs.map(\.unit) == p2.runs.map(\.unit))
        #expect(p1.runs.map(\.offsetS) != p2.runs.map(\.offsetS))
        var r3 = SeededRandom(seed: 1)
        let p3 = Planner.planRound(suite: spec, members: F.agents(4), round: 0, roundStart: F.t0, slotLength: 15, random: &r3)
        #expect(p3 == p1)
    }
}

@Suite struct PlannerSimulationTests {
    typealias F = PlannerFixture

    /// Checks (a) budgets, (b) every pair within the achievable period (and that the stated
    /// period is the real worst gap when the budgets set it), (c) spread starts.
    func check(_ sim: Simulation, agents: [PlannerAgent], spec: SuiteSpec, exactWorstGap: Bool,
               reservations: [String: [DateInterval]] = [:]) {
        let assessment = sim.plans[0].assessment
        let peaks = sim.peakConcurrency(agents: agents, reservations: reservations)
        for (i, a) in agents.enumerated() where peaks[i] > a.budget {
            Issue.record("\(a.id) has \(peaks[i]) calls at once, budget \(a.budget)")
        }
        let excluded = Set(agents.indices.filter { !agents[$0].online })
        let cov = sim.coverage(excluding: excluded)
        #expect(cov.untested == 0)
        #expect(cov.worstGap <= assessment.achievablePeriodS + 1e-6)
        #expect(cov.latestFirst < assessment.achievablePeriodS)
        if assessment.warning == nil {
            #expect(assessment.achievablePeriodS <= (spec.period ?? spec.interval).seconds + 1e-6)
        }
        if exactWorstGap {
            #expect(abs(cov.worstGap - assessment.achievablePeriodS) < 1e-6)
        }
        // Spread: many distinct starts across the interval, not all at offset 0.
        #expect(Set(sim.offsets).count > 1)
        #expect((sim.offsets.max() ?? 0) >= spec.interval.seconds / 2)
    }

    @Test func tenAgentsFitEveryRoundWithJitter() {
        let agents = F.agents(10) { _ in 2 }
        let spec = F.mesh(interval: 300, period: 360)
        let sim = Simulation(spec: spec, agents: agents, slot: 15, rounds: 6)
        let a = sim.plans[0].assessment
        #expect(a.warning == nil)
        #expect(a.roundsPerCycle == 1)
        #expect(a.jitterS > 0)
        check(sim, agents: agents, spec: spec, exactWorstGap: false)
        #expect(sim.plans.allSatisfy { $0.runs.count == 90 && $0.deferred.isEmpty })
    }

    @Test func tenAgentsWithPeriodEqualToIntervalKeepExactGaps() {
        let agents = F.agents(10) { _ in 3 }
        let spec = F.mesh(interval: 120)
        let sim = Simulation(spec: spec, agents: agents, slot: 15, rounds: 4)
        #expect(sim.plans[0].warning == nil)
        check(sim, agents: agents, spec: spec, exactWorstGap: true)
    }

    @Test func hundredAgentsNeedSeveralRoundsAndTheWarningStatesTheRealWorstGap() {
        let agents = F.agents(100) { _ in 4 }
        let spec = F.mesh(interval: 300)
        let sim = Simulation(spec: spec, agents: agents, slot: 15, rounds: 9)
        let a = sim.plans[0].assessment
        #expect(a.roundsPerCycle == 3)
        #expect(a.warning == "mesh of 100 agents needs 198 call slots per agent; with budget 4 and 15 s slots the full mesh takes 750 s > period 300 s")
        check(sim, agents: agents, spec: spec, exactWorstGap: true)
        // Tight: every agent's four lanes are full in every slot of a full round.
        #expect(sim.plans[0].runs.count == 20 * 4 * 50)
    }

    @Test func hundredAndOneAgentsOddMixedBudgets() {
        let agents = F.agents(101) { [1, 3, 5, 8][$0 % 4] }
        let spec = F.mesh(interval: 600, period: 4200)   // the worst gap is 4,040 s
        let sim = Simulation(spec: spec, agents: agents, slot: 20, rounds: 14)
        let a = sim.plans[0].assessment
        #expect(a.lanes == 1)
        #expect(a.warning == nil)
        check(sim, agents: agents, spec: spec, exactWorstGap: false)
    }

    @Test func thousandAgentsMesh() {
        // Scaled: 1 s slots, budget 10, a 100 s interval: 2·999 matchings, 1,000 per round.
        let agents = F.agents(1000) { _ in 10 }
        let spec = F.mesh(interval: 100)
        let sim = Simulation(spec: spec, agents: agents, slot: 1, rounds: 3)
        let a = sim.plans[0].assessment
        #expect(a.roundsPerCycle == 2)
        #expect(a.achievablePeriodS == 200)
        #expect(a.warning == "mesh of 1000 agents needs 1998 call slots per agent; with budget 10 and 1 s slots the full mesh takes 200 s > period 100 s")
        check(sim, agents: agents, spec: spec, exactWorstGap: true)
    }

    @Test func offlineAgentsKeepTheTimetableAndAreSkipped() {
        var agents = F.agents(12) { _ in 2 }
        let spec = F.mesh(interval: 300)
        var r1 = SeededRandom(seed: 9), r2 = SeededRandom(seed: 9)
        let online = Planner.planRound(suite: spec, members: agents, round: 0, roundStart: F.t0, slotLength: 15, random: &r1)
        agents[4].online = false
        let offline = Planner.planRound(suite: spec, members: agents, round: 0, roundStart: F.t0, slotLength: 15, random: &r2)
        #expect(offline.skipped.count == 22)
        #expect(offline.skipped.allSatisfy { $0.reason == "agent_offline" && $0.agentID == "a0004" })
        let expected = online.runs.filter { $0.unit.caller != "a0004" && $0.unit.callee != "a0004" }
        #expect(offline.runs == expected)
        let sim = Simulation(spec: spec, agents: agents, slot: 15, rounds: 3)
        check(sim, agents: agents, spec: spec, exactWorstGap: false)
    }

    @Test func zeroBudgetIsSkippedForCapacity() {
        let agents = F.agents(4) { $0 == 1 ? 0 : 3 }
        var random = SeededRandom(seed: 1)
        let plan = Planner.planRound(suite: F.mesh(interval: 300), members: agents, round: 0, roundStart: F.t0,
                                     slotLength: 15, random: &random)
        #expect(plan.skipped.count == 6)
        #expect(plan.skipped.allSatisfy { $0.reason == "capacity" && $0.agentID == "a0001" })
        #expect(plan.runs.count == 6)
        #expect(plan.assessment.lanes >= 1)
    }

    @Test func reservationsAreRespectedAndDisplacedUnitsCatchUpMostOverdueFirst() {
        // Tight: 20 agents, budget 2, 38 matchings in a 300 s interval of 20 slots needs 1 round at 2 lanes.
        let agents = F.agents(20) { _ in 2 }
        let spec = F.mesh(interval: 300, period: 600)
        // a0003 is busy with another suite (one call) for the whole first round, a0007 fully (two calls).
        let first = DateInterval(start: F.t0, duration: 300)
        let reservations = ["a0003": [first], "a0007": [first, first]]
        let sim = Simulation(spec: spec, agents: agents, slot: 15, rounds: 4, reservations: reservations)
        let peaks = sim.peakConcurrency(agents: agents, reservations: reservations)
        #expect(peaks.allSatisfy { $0 <= 2 })
        let round0 = sim.plans[0]
        #expect(!round0.runs.contains { $0.unit.caller == "a0007" || $0.unit.callee == "a0007" })
        #expect(round0.deferred.count >= 38)
        #expect(round0.deferred.map(\.since) == round0.deferred.map(\.since).sorted())
        // Next round: the timetable again plus catch-up where a lane is free; nothing is lost.
        let cov = sim.coverage()
        #expect(cov.untested == 0)
    }

    @Test func backlogFillsFreeCapacityAndDropsUnitsTheRoundCoversAnyway() {
        let agents = F.agents(4) { _ in 3 }
        let spec = F.mesh(interval: 300)
        let overdue = DeferredUnit(unit: UnitKey(caller: "a0000", callee: "a0001"), since: F.t0.addingTimeInterval(-900))
        let ghost = DeferredUnit(unit: UnitKey(caller: "a0000", callee: "zz"), since: F.t0.addingTimeInterval(-1000))
        var random = SeededRandom(seed: 5)
        let plan = Planner.planRound(suite: spec, members: agents, round: 1, roundStart: F.t0, backlog: [overdue, ghost],
                                     slotLength: 15, random: &random)
        // a0000 → a0001 is in the round's timetable: planned once, not twice; the unknown unit is dropped.
        #expect(plan.runs.filter { $0.unit == overdue.unit }.count == 1)
        #expect(plan.runs.count == 12)
        #expect(plan.deferred.isEmpty)
    }

    @Test func backlogOfAnotherSuiteShapeIsPlacedInSpareLanes() {
        // Budget 4, lanes used 1: spare capacity takes a deferred sample unit that is not in this round.
        let agents = F.agents(6) { _ in 4 }
        let spec = F.mesh(interval: 300, kind: Topology(kind: .sample, k: 3))
        let roundUnits = Set(Planner.units(for: spec, members: agents, round: 0))
        let other = Planner.units(for: spec, members: agents, round: 4).first { !roundUnits.contains($0) }!
        var random = SeededRandom(seed: 5)
        let plan = Planner.planRound(suite: spec, members: agents, round: 0, roundStart: F.t0,
                                     backlog: [DeferredUnit(unit: other, since: F.t0)], slotLength: 15, random: &random)
        #expect(plan.runs.count == 4)
        #expect(plan.runs.contains { $0.unit == other })
    }

    @Test func soakLongerThanTheIntervalSplitsTheBudgetAcrossOverlappingRounds() {
        let agents = F.agents(8) { _ in 4 }
        let spec = SuiteSpec(name: "soak", type: .soak, interval: .seconds(120), duration: .seconds(200))
        let slot = Planner.slotLength(for: spec)
        // a0002 is busy elsewhere at the start: one of its calls is deferred, and the backlog
        // may not use more than each round's share either (no lane is free: it stays deferred
        // until the timetable brings the unit round again).
        let busy = ["a0002": [DateInterval(start: F.t0, duration: 100)]]
        let sim = Simulation(spec: spec, agents: agents, slot: slot, rounds: 7, reservations: busy)
        let deferred = sim.plans[0].deferred.map(\.unit)
        #expect(deferred.count == 1)
        #expect(sim.plans.allSatisfy { $0.deferred.map(\.unit) == deferred })
        #expect(sim.plans[0].assessment.lanes <= 2)
        let peaks = sim.peakConcurrency(agents: agents, reservations: busy)
        #expect(peaks.allSatisfy { $0 <= 4 })
        #expect(sim.coverage().untested == 1)
    }

    @Test func registerEachSpreadsMembersOverTheInterval() {
        let agents = F.agents(50) { _ in 1 }
        let spec = SuiteSpec(name: "reg", type: .register, topology: .each, interval: .seconds(300))
        var random = SeededRandom(seed: 2)
        let plan = Planner.planRound(suite: spec, members: agents, round: 0, roundStart: F.t0, slotLength: 10,
                                     random: &random)
        #expect(plan.runs.count == 50)
        #expect(Set(plan.runs.map(\.offsetS)).count == 25)  // 30 slots available: 2 per slot, 25 slots 12 s apart
        #expect(plan.warning == nil)
    }
}
