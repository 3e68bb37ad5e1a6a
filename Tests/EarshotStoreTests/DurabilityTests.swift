import EarshotStore
import EarshotWire
import Foundation
import InteropTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The environment variable that turns the test process into the crash test's child.
private let crashChildVariable = "EARSHOT_STORE_CRASH_CHILD_DB"

@Suite struct DurabilityTests {
    @Test func committedDataIsVisibleToAnotherStoreAndAfterReopening() async throws {
        let dir = try ScratchDirectory(prefix: "store")
        let path = dir.path("earshot.sqlite")
        var writer: SQLiteStorage? = try SQLiteStorage(path: path)
        let reader = try SQLiteStorage(path: path)
        _ = try await writer!.createAgent(newAgent("a1", "alpha"))
        _ = try await writer!.createAgent(newAgent("a2", "bravo"))
        try await writer!.createRuns((0..<50).map { p2pRun("run-\($0)", caller: "a1", callee: "a2") })
        let outcomes = try await writer!.ingest((0..<50).map { result("run-\($0)", "a1") }, receivedAt: t0)
        #expect(outcomes == Array(repeating: .stored, count: 50))
        // Another connection (as another process would) sees every committed result at once.
        #expect(try await reader.storedResults(agentID: "a1", among: (0..<50).map { "run-\($0)" }).count == 50)
        writer = nil
        let reopened = try SQLiteStorage(path: path)
        #expect(try await reopened.storedResults(agentID: "a1", among: (0..<50).map { "run-\($0)" }).count == 50)
        #expect(try await reopened.ingest(result("run-7", "a1"), receivedAt: t0) == .duplicate)
        #expect(try await reopened.integrityCheck() == "ok")
    }

    /// kill -9 of a process in the middle of acknowledged ingests: every result it printed
    /// as acknowledged (after `ingest` returned) is in the file, and the file is clean.
    @Test func acknowledgedIngestsSurviveKill9() async throws {
        let dir = try ScratchDirectory(prefix: "store-crash")
        let path = dir.path("earshot.sqlite")
        do {
            let store = try SQLiteStorage(path: path)
            _ = try await store.createAgent(newAgent("a1", "alpha"))
            _ = try await store.createAgent(newAgent("a2", "bravo"))
        }
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        setenv(crashChildVariable, path, 1)
        let child = try SpawnedProcess(
            executable, ["--testing-library", "swift-testing", "--filter", "crashChildWritesUntilKilled"],
            outputPath: dir.path("child.out"), errorPath: dir.path("child.err"))
        unsetenv(crashChildVariable)
        func acknowledged() -> [Int] {
            child.output.split(separator: "\n").compactMap { $0.hasPrefix("acked ") ? Int($0.dropFirst(6)) : nil }
        }
        var waited = 0
        while acknowledged().count < 300, !child.hasExited, waited < 1200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        try #require(!child.hasExited, "the child exited early: \(child.output.suffix(2000)) \(child.errors.suffix(2000))")
        child.signal(SIGKILL)
        #expect(child.wait(seconds: 10))
        let acked = acknowledged()
        try #require(acked.count >= 300, "the child acknowledged only \(acked.count) batches")

        let store = try SQLiteStorage(path: path)
        #expect(try await store.integrityCheck() == "ok")
        let candidates = acked.flatMap { batch in (0..<10).map { "run-\(batch)-\($0)" } }
        let stored = try await store.storedResults(agentID: "a1", among: candidates)
        #expect(stored.count == candidates.count)
    }

    /// The child of `acknowledgedIngestsSurviveKill9`; runs only when that test starts it.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[crashChildVariable] != nil))
    func crashChildWritesUntilKilled() async throws {
        let path = try #require(ProcessInfo.processInfo.environment[crashChildVariable])
        let store = try SQLiteStorage(path: path)
        var batch = 0
        // Until killed — or orphaned (its parent test gone: reparented) or after two minutes, so
        // that a parent that failed before its kill never leaves a busy child behind.
        let parent = getppid()
        let until = Date().addingTimeInterval(120)
        while getppid() == parent, Date() < until {
            let ids = (0..<10).map { "run-\(batch)-\($0)" }
            try await store.createRuns(ids.map { p2pRun($0, caller: "a1", callee: "a2") })
            let outcomes = try await store.ingest(ids.map { result($0, "a1", streams: [stream("a2", "a1", mos: 4.2)]) },
                                                  receivedAt: t0)
            #expect(outcomes.allSatisfy { $0 == .stored })
            FileHandle.standardOutput.write(Data("acked \(batch)\n".utf8))
            batch += 1
        }
    }
}

@Suite struct IngestRateTests {
    /// Prints the rate; asserts only that everything was stored (no timing assertion).
    @Test func batchedIngestRate() async throws {
        let store = try await storeWithAgents()
        let runCount = 10_000
        let batches = stride(from: 0, to: runCount, by: 1000).map { start in (start..<min(start + 1000, runCount)).map { "run-\($0)" } }
        for ids in batches {
            try await store.createRuns(ids.map { p2pRun($0, caller: "a1", callee: "a2") })
        }
        let results = batches.map { ids in
            ids.flatMap { id in
                [result(id, "a1", streams: [stream("a2", "a1", mos: 4.1, loss: 0.2, jitter: 1.5, rtt: 30)],
                        call: CallSummary(callID: id, inviteTo180Ms: 10, inviteTo200Ms: 30, ending: "normal")),
                 result(id, "a2", role: .callee, streams: [stream("a1", "a2", mos: 4.2, loss: 0.1, jitter: 1.2, rtt: 30)])]
            }
        }
        let clock = ContinuousClock()
        var stored = 0
        let elapsed = try await clock.measure {
            for batch in results {
                stored += try await store.ingest(batch, receivedAt: t0).filter { $0 == .stored }.count
            }
        }
        #expect(stored == runCount * 2)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("ingest: \(stored) results in batches of 2000 in \(String(format: "%.3f", seconds)) s = \(Int(Double(stored) / seconds)) results/s")
    }
}
