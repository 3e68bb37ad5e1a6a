import EarshotWire
import Foundation
import OrganizerKit
import Testing

@testable import EarshotCLI

/// The console against an organizer with two real agents on loopback (in this process), the
/// commands run as the built binary: validate passes, suites run --wait, runs show, report.
@Suite struct ConsoleLoopbackTests {
    @Test(.timeLimit(.minutes(3))) func validateRunWaitShowAndReportWithTwoAgents() async throws {
        try await LoopbackSystem.with(names: ["alice", "bob"]) { try await exercise($0) }
    }

    func exercise(_ system: LoopbackSystem) async throws {
        let environment = ["EARSHOT_ORGANIZER": system.organizer.baseURL, "EARSHOT_TOKEN": system.organizer.adminToken]
        let file = system.directory.appendingPathComponent("mesh.yaml")
        // 6 s: long enough for an RTCP round trip (MOS-CQ needs the RTT; 3 s calls often end without one).
        try "name: mesh\ntype: p2p\nduration: 6s\ninterval: 1h\npaused: true\n".write(to: file, atomically: true, encoding: .utf8)
        let markdown = system.directory.appendingPathComponent("report.md")

        // validate: a temporary copy of the suite, one round, both pairs passed → exit 0.
        let validated = try await ConsoleProcess.runAsync(
            ["validate", "-f", file.path, "--format", "json", "--markdown", markdown.path, "--min-mos", "4"], environment: environment)
        #expect(validated.status == 0, "\(validated.stdout)\n\(validated.stderr)")
        let outcome = try WireJSON.decoder().decode(ValidationOutcome.self, from: Data(validated.stdout.utf8))
        #expect(outcome.ok)
        #expect(outcome.total == 2)
        #expect(outcome.passed == 2)
        #expect(Set(outcome.runs.map { $0.participants.joined(separator: "→") }) == ["alice→bob", "bob→alice"])
        #expect(try String(contentsOf: markdown, encoding: .utf8).hasPrefix("# Earshot validation: \(outcome.suite) — PASSED\n"))
        #expect(try await system.client.suites().isEmpty)

        // suites apply + run --wait: plain progress lines, then the runs; exit 0.
        let applied = try await ConsoleProcess.runAsync(["suites", "apply", "-f", file.path], environment: environment)
        #expect(applied.status == 0, "\(applied.stderr)")
        let waited = try await ConsoleProcess.runAsync(["suites", "run", "mesh", "--wait"], environment: environment)
        #expect(waited.status == 0, "\(waited.stdout)\n\(waited.stderr)")
        let lines = waited.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("[0:00] round ") == true)
        #expect(lines.filter { $0.contains("  passed  MOS ") }.count == 2, "\(waited.stdout)")

        // runs list / show of one of them.
        let listed = try await ConsoleProcess.runAsync(["runs", "list", "--suite", "mesh", "--format", "json"], environment: environment)
        let runs = try WireJSON.decoder().decode([RunSummary].self, from: Data(listed.stdout.utf8))
        #expect(runs.count == 2)
        #expect(runs.allSatisfy { $0.status == .passed })
        let shown = try await ConsoleProcess.runAsync(["runs", "show", runs[0].id], environment: environment)
        #expect(shown.status == 0)
        #expect(shown.stdout.hasPrefix("run \(runs[0].id) — p2p in suite mesh: PASSED\n"))
        #expect(shown.stdout.contains("\nMedia (each direction as its receiver measured it)\n"))
        #expect(shown.stdout.contains("\n  setup: INVITE→180 "))

        // report: 2 pairs, 2 runs each (validate's and run --wait's).
        let csv = try await ConsoleProcess.runAsync(["report", "--since", "10m", "--format", "csv"], environment: environment)
        let rows = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.first?.prefix(3) == ["from", "to", "runs"])
        #expect(rows.dropFirst().map { "\($0[0])→\($0[1]) \($0[2]) \($0[3])" } == ["alice→bob 2 2", "bob→alice 2 2"])
    }
}
