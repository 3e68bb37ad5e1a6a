// The planner at fleet scale (issue 4: "a benchmark plans one round for 10,000 agents").
// One iteration plans one whole round; the run count is in the name.
import Benchmark
import EarshotWire
import Foundation
import OrganizerCore

func plannerBenchmarks() {
    let agents = (0..<10_000).map { i in
        PlannerAgent(id: "agent-\(String(i, radix: 16))", name: "agent-\(i)", site: "site-\(i % 50)", budget: 4)
    }
    let mesh = SuiteSpec(name: "mesh", type: .p2p, interval: .minutes(5), duration: .seconds(10))
    let slot = Planner.slotLength(for: mesh)
    let start = Date(timeIntervalSinceReferenceDate: 0)

    for budget in [4, 20] {
        let fleet = agents.map { agent in
            var a = agent
            a.budget = budget
            return a
        }
        var probe = SeededRandom(seed: 1)
        let runs = Planner.planRound(suite: mesh, members: fleet, round: 0, roundStart: start, slotLength: slot,
                                     random: &probe).runs.count
        Benchmark("Planner round, mesh of 10,000 agents, budget \(budget) (\(runs) runs)",
                  configuration: .init(metrics: [.wallClock, .peakMemoryResident, .mallocCountTotal], maxDuration: .seconds(5),
                                       maxIterations: 20)) { benchmark in
            var random = SeededRandom(seed: 1)
            for i in benchmark.scaledIterations {
                blackHole(Planner.planRound(suite: mesh, members: fleet, round: i, roundStart: start, slotLength: slot,
                                            random: &random))
            }
        }
    }

    // Membership and assessment, what the organizer does on every roster change.
    Benchmark("Planner members + assess, 10,000 agents", configuration: .init(maxDuration: .seconds(3), maxIterations: 100)) { benchmark in
        for _ in benchmark.scaledIterations {
            let members = Planner.members(of: mesh, among: agents)
            blackHole(Planner.assess(mesh, members: members, slotLength: slot))
        }
    }
}
