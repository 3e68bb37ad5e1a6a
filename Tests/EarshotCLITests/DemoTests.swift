import ArgumentParser
import EarshotWire
import Foundation
import Testing

@testable import EarshotCLI

/// `earshot demo`: the plan (pure), and the whole system once through the built binary.
@Suite struct DemoTests {
    @Test func planHasAMeshAConferenceADTMFCallAndASoakThatRefreshesOnce() {
        let names = DemoPlan.agentNames(3)
        #expect(names == ["alice", "bob", "carol"])
        let suites = DemoPlan.suites(agents: names, duration: .seconds(5))
        #expect(suites.map(\.name) == ["demo-mesh", "demo-conference", "demo-dtmf", "demo-soak"])
        #expect(suites.allSatisfy { $0.problems().isEmpty && $0.paused })
        #expect(suites[0].type == .p2p)
        #expect(suites[0].topology == .mesh)
        #expect(suites[0].members.agents == names)
        #expect(suites[0].duration == .seconds(5))
        // Every demo agent in one conference on the built-in bridge of the extra agent, alice sending DTMF.
        #expect(suites[1].type == .conference)
        #expect(suites[1].members.agents == names)
        #expect(suites[1].duration == .seconds(15))
        #expect(suites[1].dtmf == "159#")
        #expect(suites[1].conference == ConferenceSettings(bridge: .agent, bridgeAgent: "bridge", joinSpread: .seconds(2),
                                                           dtmfMode: .relay, dtmfFrom: "alice"))
        #expect(!names.contains(DemoPlan.bridgeName))
        #expect(suites[2].type == .dtmf)
        #expect(suites[2].topology.pairs == [["alice", "bob"]])
        #expect(suites[2].dtmf == "123#")
        #expect(suites[3].type == .soak)
        #expect(suites[3].topology.pairs == [["bob", "carol"]])
        // The refresh is due at half the interval (45 s): the call outlasts it by 5 s.
        #expect(suites[3].sessionExpires == 90)
        #expect(suites[3].duration == .seconds(50))
        let two = DemoPlan.suites(agents: DemoPlan.agentNames(2), duration: .seconds(20))
        #expect(two[3].topology.pairs == [["bob", "alice"]])
        #expect(two[2].duration == .seconds(20))
        #expect(DemoPlan.rtpPorts(index: 0) == 41_000...41_199)
        #expect(DemoPlan.rtpPorts(index: 9) == 42_800...42_999)
    }

    @Test func demoSummaryShowsTheDTMFAndSoakHighlightsAndFailedRuns() {
        typealias F = ConsoleFixtures
        var soak = F.runDetail
        soak.run.status = .passed
        soak.run.cause = nil
        soak.dtmf = nil
        var dtmf = RunDetail(run: F.summary("r-9", .failed), participants: [],
                             dtmf: DTMFSummary(sent: "123#", received: "12"))
        dtmf.run.testType = .dtmf
        dtmf.run.cause = RunCause(code: "dtmf_mismatch", detail: "sent 123#, received 12")
        #expect(ConsoleRender.highlight(soak)
            == "soak  alice → bob  passed: 50.0 s, session timer 90 s by UPDATE; refreshed at 45.0 s (UPDATE → 200 ok)")
        #expect(ConsoleRender.highlight(dtmf)
            == "dtmf  alice → bob  failed: DTMF sent 123#, received 12; dtmf_mismatch: sent 123#, received 12")
        let report = Report(since: F.at(-60), until: F.now, agents: ["alice", "bob"],
                            cells: [Report.Cell(from: "alice", to: "bob", runs: 1, passed: 1, passRatePct: 100, mosMean: 4.36)],
                            totals: ["passed": 1, "failed": 1])
        let outcome = DemoOutcome(ok: false, organizer: "http://127.0.0.1:1", database: "/tmp/d/earshot.sqlite", databaseKept: false,
                                  agents: ["alice", "bob"], report: report, runs: [F.summary("r-1", .passed), dtmf.run],
                                  failed: [dtmf.run], details: [dtmf], elapsedS: 54.4)
        let text = F.render().demo(outcome)
        #expect(text.hasPrefix("report 2026-12-06 21:09:00 → 2026-12-06 21:10:00 — 2 agents, 1 pairs; runs: 1 passed, 1 failed\n"))
        #expect(text.contains("""
            runs: 1 passed, 1 failed in 54s
            dtmf  alice → bob  failed: DTMF sent 123#, received 12; dtmf_mismatch: sent 123#, received 12

            runs that did not pass:
            ID   SUITE  TYPE  STATUS  PARTICIPANTS  START                PLANNED  MOS  LOSS %  CAUSE
            r-9  mesh   dtmf  failed  alice → bob   2026-12-06 21:09:31      10s    —       —  dtmf_mismatch: sent 123#, received 12

            run r-9 — dtmf in suite mesh: FAILED
            """))
        #expect(text.hasSuffix("""
            database: /tmp/d/earshot.sqlite (removed on exit: --no-keep-db)

            demo FAILED: 1 of 2 runs did not pass
            """))
    }

    @Test func demoRejectsOutOfRangeSettings() throws {
        for arguments in [["demo", "--agents", "1"], ["demo", "--agents", "11"], ["demo", "--duration", "0s"],
                          ["demo", "--duration", "later"]] {
            let demo = try #require(try Earshot.parseAsRoot(arguments) as? DemoCommand)
            #expect(throws: CommandFailure.self) { try demo.settings() }
        }
    }

    /// About a minute: three agents on loopback (and the bridge agent), 6 mesh calls of 5 s, a conference, a DTMF call, a 50 s soak.
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
        #expect(run.stdout.contains("\nConference hearing matrix (rows: listener, columns: speaker)\n"))
        #expect(run.stdout.contains("  passed: 3 participants, 6 of 6 heard, no echo; DTMF 159# reached 2 of 2 (relay)"))
        #expect(run.stdout.contains("demo passed: every run passed"))
        #expect(run.stdout.contains("database: "))
    }
}
