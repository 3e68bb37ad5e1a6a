import ArgumentParser
import EarshotWire
import Foundation
import Testing

@testable import EarshotCLI

/// `earshot demo`: the plan (pure), and the whole system once through the built binary.
@Suite struct DemoTests {
    @Test func planHasAMeshADTMFCallAndASoakThatRefreshesOnce() {
        let names = DemoPlan.agentNames(3)
        #expect(names == ["alice", "bob", "carol"])
        let suites = DemoPlan.suites(agents: names, duration: .seconds(5))
        #expect(suites.map(\.name) == ["demo-mesh", "demo-dtmf", "demo-soak"])
        #expect(suites.allSatisfy { $0.problems().isEmpty && $0.paused })
        #expect(suites[0].type == .p2p)
        #expect(suites[0].topology == .mesh)
        #expect(suites[0].members.agents == names)
        #expect(suites[0].duration == .seconds(5))
        #expect(suites[1].type == .dtmf)
        #expect(suites[1].topology.pairs == [["alice", "bob"]])
        #expect(suites[1].dtmf == "123#")
        #expect(suites[2].type == .soak)
        #expect(suites[2].topology.pairs == [["bob", "carol"]])
        // The refresh is due at half the interval (45 s): the call outlasts it by 5 s.
        #expect(suites[2].sessionExpires == 90)
        #expect(suites[2].duration == .seconds(50))
        let two = DemoPlan.suites(agents: DemoPlan.agentNames(2), duration: .seconds(20))
        #expect(two[2].topology.pairs == [["bob", "alice"]])
        #expect(two[1].duration == .seconds(20))
        #expect(DemoPlan.rtpPorts(index: 0) == 41_000...41_199)
        #expect(DemoPlan.rtpPorts(index: 9) == 42_800...42_999)
    }

    @Test func demoRejectsOutOfRangeSettings() throws {
        for arguments in [["demo", "--agents", "1"], ["demo", "--agents", "11"], ["demo", "--duration", "0s"],
                          ["demo", "--duration", "later"]] {
            let demo = try #require(try Earshot.parseAsRoot(arguments) as? DemoCommand)
            #expect(throws: CommandFailure.self) { try demo.settings() }
        }
    }

    /// About a minute: three agents on loopback, 6 mesh calls of 5 s, a DTMF call, a 50 s soak.
    @Test(.timeLimit(.minutes(4))) func demoRunsEveryPairAndExitsZero() async throws {
        let run = try await ConsoleProcess.runAsync(["demo", "--agents", "3", "--duration", "5s"])
        #expect(run.status == 0, "stdout:\n\(run.stdout)\nstderr:\n\(run.stderr)")
        let names: Set<Substring> = ["alice", "bob", "carol"]
        var pairs: Set<String> = []
        for line in run.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // Rows of the per-pair table: FROM TO RUNS PASSED ...
            if fields.count >= 4, names.contains(fields[0]), names.contains(fields[1]), Int(fields[2]) != nil {
                pairs.insert("\(fields[0])→\(fields[1])")
            }
        }
        #expect(pairs == ["alice→bob", "alice→carol", "bob→alice", "bob→carol", "carol→alice", "carol→bob"])
        #expect(run.stdout.contains("MOS-CQ (mean) (rows: from, columns: to)"))
        #expect(run.stdout.contains("demo passed: every run passed"))
        #expect(run.stdout.contains("database: "))
    }
}
