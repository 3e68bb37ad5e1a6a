import EarshotStore
import EarshotWire
import Foundation
import OrganizerCore
import Testing

@Suite struct RunStoreTests {
    @Test func createIngestDuplicateFinishDetail() async throws {
        let store = try await storeWithAgents()
        try await store.createRuns([p2pRun("run-1", caller: "a1", callee: "a2")])
        var open = try await store.openRuns()
        #expect(open.map(\.summary.id) == ["run-1"])
        #expect(open[0].summary.status == .scheduled)
        #expect(open[0].summary.participants == ["alpha", "bravo"])
        #expect(open[0].deadline == at(60))
        #expect(open[0].participants.map(\.role) == [.caller, .callee])
        #expect(open[0].results.isEmpty)

        try await store.markRunning(id: "run-1", at: at(1))
        let call = CallSummary(callID: "c1", inviteTo180Ms: 12, inviteTo200Ms: 40, ending: "normal")
        let evidence = Evidence(ladder: [LadderEntry(atMs: 0, direction: "sent", summary: "INVITE", text: "INVITE sip:b SIP/2.0")],
                                notes: ["slow answer"])
        let callerResult = result("run-1", "a1", status: .passed, streams: [stream("a2", "a1", mos: 4.1)], evidence: evidence, call: call)
        #expect(try await store.ingest(callerResult, receivedAt: at(12)) == .stored)
        #expect(try await store.ingest(callerResult, receivedAt: at(13)) == .duplicate)
        var changed = callerResult
        changed.status = .failed
        #expect(try await store.ingest(changed, receivedAt: at(14)) == .duplicate)

        open = try await store.openRuns()
        #expect(open[0].summary.status == .running)
        #expect(open[0].results["a1"] == callerResult)
        #expect(open[0].participants[0].status == .passed)
        #expect(open[0].participants[0].reportedAt == at(12))

        let calleeResult = result("run-1", "a2", role: .callee, status: .passed, streams: [stream("a1", "a2", mos: 4.3)])
        #expect(try await store.ingest(calleeResult, receivedAt: at(13)) == .stored)

        let directions = [stream("a1", "a2", mos: 4.3, loss: 0.4, jitter: 2, rtt: 30),
                          stream("a2", "a1", mos: 4.1, loss: 1.2, jitter: 3, rtt: 30)]
        try await store.finishRun(RunCompletion(runID: "run-1", status: .passed, cause: nil, endedAt: at(15),
                                                directions: directions, call: call))
        #expect(try await store.openRuns().isEmpty)

        let detail = try #require(try await store.run("run-1"))
        #expect(detail.run.status == .passed)
        #expect(detail.run.endedAt == at(15))
        #expect(detail.run.mosMin == 4.1)
        #expect(detail.run.lossPctMax == 1.2)
        #expect(detail.run.roundID == "r1")
        #expect(detail.participants == [
            ParticipantInfo(agentID: "a1", name: "alpha", site: "hq", role: .caller, status: .passed, reportedAt: at(12)),
            ParticipantInfo(agentID: "a2", name: "bravo", site: "hq", role: .callee, status: .passed, reportedAt: at(13)),
        ])
        #expect(detail.directions == directions)
        #expect(detail.call == call)
        // A passed run keeps no evidence (DESIGN §3: failed and degraded runs keep theirs).
        #expect(detail.evidence == [:])
        #expect(detail.thresholds == .defaults)
        #expect(try await store.run("nope") == nil)
    }

    @Test func everyStreamMetricsFieldRoundTrips() async throws {
        let store = try await storeWithAgents()
        try await store.createRuns([p2pRun("run-1", caller: "a1", callee: "a2")])
        let full = StreamMetrics(
            from: "a1", to: "a2", measuredBy: "rtcp", codec: "PCMA", ptime: 30, packetsSent: 1000, packetsExpected: 999,
            packetsReceived: 990, packetsLost: 9, duplicates: 2, reordered: 3, lossPct: 0.9009, burstRatio: 1.25, maxBurst: 4,
            jitterMeanMs: 1.5, jitterMaxMs: 7.25, rttMs: 42, oneWayMs: 21, oneWaySource: "estimated_rtt_half", jbDiscards: 5,
            effectiveLossPct: 1.4, rFactor: 88.5, mosCQ: 4.21, mosLQ: 4.3,
            impairments: .init(iS: 1.4, iD: 0.6, ieEff: 3.2, a: 0), dscpSent: 46, dscpReceived: 0, audioOK: true,
            firstPacketMs: 18.5)
        let sparse = StreamMetrics(from: "a2", to: "sip:bob@example.com", packetsExpected: 0, packetsReceived: 0,
                                   packetsLost: 0, lossPct: 0)
        try await store.finishRun(RunCompletion(runID: "run-1", status: .failed, cause: RunCause(code: "audio_missing", agentID: "a2"),
                                                endedAt: at(20), directions: [full, sparse]))
        let detail = try #require(try await store.run("run-1"))
        #expect(detail.directions == [full, sparse])
        #expect(detail.run.cause == RunCause(code: "audio_missing", agentID: "a2"))
        // Finishing again replaces the directions.
        try await store.finishRun(RunCompletion(runID: "run-1", status: .failed, cause: nil, endedAt: at(21), directions: [sparse]))
        #expect(try await store.run("run-1")?.directions == [sparse])
        #expect(try await store.run("run-1")?.run.mosMin == nil)
        #expect(try await store.run("run-1")?.run.lossPctMax == 0)
    }

    @Test func finishAndMarkRunningInBatches() async throws {
        let store = try await storeWithAgents()
        try await store.createRuns([p2pRun("run-1", caller: "a1", callee: "a2"), p2pRun("run-2", caller: "a2", callee: "a3"),
                                    p2pRun("run-3", caller: "a3", callee: "a1")])
        try await store.markRunning(ids: ["run-1", "ghost", "run-2"], at: at(2))
        var open = try await store.openRuns()
        #expect(open.map(\.summary.id) == ["run-1", "run-2", "run-3"])
        #expect(open.map(\.summary.status) == [.running, .running, .scheduled])

        let evidence = Evidence(ladder: [], notes: ["kept when failed"])
        #expect(try await store.ingest([result("run-1", "a1", evidence: evidence), result("run-2", "a2", evidence: evidence)],
                                       receivedAt: at(10)) == [.stored, .stored])
        let directions = [stream("a1", "a2", mos: 4.3, loss: 0.4), stream("a2", "a1", mos: 3.9, loss: 2.5)]
        let missing = try await store.finishRuns([
            RunCompletion(runID: "run-1", status: .passed, cause: nil, endedAt: at(20), directions: directions),
            RunCompletion(runID: "ghost", status: .passed, cause: nil, endedAt: at(20)),
            RunCompletion(runID: "run-2", status: .failed, cause: RunCause(code: "timeout", agentID: "a3"), endedAt: at(21)),
        ])
        #expect(missing == ["ghost"])
        #expect(try await store.finishRuns([]) == [])
        open = try await store.openRuns()
        #expect(open.map(\.summary.id) == ["run-3"])

        let one = try #require(try await store.run("run-1"))
        #expect(one.run.status == .passed)
        #expect(one.run.endedAt == at(20))
        #expect(one.run.mosMin == 3.9)
        #expect(one.run.lossPctMax == 2.5)
        #expect(one.directions == directions)
        #expect(one.evidence == [:])
        let two = try #require(try await store.run("run-2"))
        #expect(two.run.status == .failed)
        #expect(two.run.cause == RunCause(code: "timeout", agentID: "a3"))
        #expect(two.run.endedAt == at(21))
        #expect(two.evidence == ["a2": evidence])
    }

    @Test func unknownRunAndNotParticipant() async throws {
        let store = try await storeWithAgents()
        try await store.createRuns([p2pRun("run-1", caller: "a1", callee: "a2")])
        #expect(try await store.ingest(result("ghost", "a1"), receivedAt: t0) == .unknownRun)
        #expect(try await store.ingest(result("run-1", "a3"), receivedAt: t0) == .notParticipant)
        let outcomes = try await store.ingest([result("run-1", "a1"), result("ghost", "a1"), result("run-1", "a1"),
                                               result("run-1", "a3"), result("run-1", "a2", role: .callee)], receivedAt: t0)
        #expect(outcomes == [.stored, .unknownRun, .duplicate, .notParticipant, .stored])
        #expect(try await store.ingest([], receivedAt: t0) == [])
        await #expect(throws: StorageError(.notFound, "no run ghost")) {
            try await store.finishRun(RunCompletion(runID: "ghost", status: .passed, cause: nil, endedAt: t0))
        }
        await #expect(throws: StorageError(.notFound, "no run ghost")) {
            try await store.markRunning(id: "ghost", at: t0)
        }
        await #expect(throws: StorageError(.conflict, "a run with id run-1 exists already")) {
            try await store.createRuns([p2pRun("run-1", caller: "a1", callee: "a3")])
        }
    }

    @Test func evidenceIsStoredOnlyWhenPresent() async throws {
        let store = try await storeWithAgents()
        try await store.createRuns([p2pRun("run-1", caller: "a1", callee: "a2")])
        let seconds = Evidence(mediaSeconds: [MediaSecond(second: 0, sent: 50, received: 48, lost: 2, jitterMs: 1.5)])
        _ = try await store.ingest([result("run-1", "a1"), result("run-1", "a2", role: .callee, status: .failed, evidence: seconds)],
                                   receivedAt: t0)
        #expect(try await store.run("run-1")?.evidence == ["a2": seconds])
    }

    @Test func notRunRunsAreFinalWhenCreated() async throws {
        let store = try await storeWithAgents()
        try await store.createRuns([p2pRun("run-x", caller: "a1", callee: "a3", status: .notRun,
                                           cause: RunCause(code: "agent_offline", agentID: "a3"))])
        #expect(try await store.openRuns().isEmpty)
        let summary = try #require(try await store.runs(RunQuery()).first)
        #expect(summary.status == .notRun)
        #expect(summary.endedAt == t0)
        #expect(summary.cause?.code == "agent_offline")
    }

    @Test func queriesFilterAndOrderNewestFirst() async throws {
        let store = try await storeWithAgents()
        try await store.createRuns([
            p2pRun("run-1", suite: "mesh", round: "r1", caller: "a1", callee: "a2", start: at(0)),
            p2pRun("run-2", suite: "mesh", round: "r1", caller: "a2", callee: "a3", start: at(10)),
            p2pRun("run-3", suite: "mesh", round: "r2", caller: "a3", callee: "a1", start: at(300)),
            p2pRun("run-4", suite: "soak", round: "r3", caller: "a1", callee: "a3", type: .soak, start: at(20)),
            singleRun("run-5", suite: "reg", agent: "a2", start: at(30)),
        ])
        try await store.finishRun(RunCompletion(runID: "run-2", status: .failed, cause: RunCause(code: "rejected", statusCode: 486),
                                                endedAt: at(40)))
        func ids(_ q: RunQuery) async throws -> [String] { try await store.runs(q).map(\.id) }
        #expect(try await ids(RunQuery()) == ["run-3", "run-5", "run-4", "run-2", "run-1"])
        #expect(try await ids(RunQuery(suite: "mesh")) == ["run-3", "run-2", "run-1"])
        #expect(try await ids(RunQuery(status: .failed)) == ["run-2"])
        #expect(try await ids(RunQuery(status: .scheduled, agent: "charlie")) == ["run-3", "run-4"])
        #expect(try await ids(RunQuery(agent: "a2")) == ["run-5", "run-2", "run-1"])
        #expect(try await ids(RunQuery(roundID: "r1")) == ["run-2", "run-1"])
        #expect(try await ids(RunQuery(since: at(10), until: at(300))) == ["run-5", "run-4", "run-2"])
        #expect(try await ids(RunQuery(limit: 2)) == ["run-3", "run-5"])
        #expect(try await ids(RunQuery(suite: "nothing")) == [])
        let failed = try #require(try await store.runs(RunQuery(status: .failed)).first)
        #expect(failed.participants == ["bravo", "charlie"])
        #expect(failed.cause == RunCause(code: "rejected", statusCode: 486))
        #expect(try await store.runs(RunQuery(suite: "reg")).first?.participants == ["bravo"])
    }

    @Test func storedResultsAndLastTested() async throws {
        let store = try await storeWithAgents()
        try await finishedRun(store, "run-1", caller: "a1", callee: "a2", status: .passed, endedAt: at(100), forward: 4, backward: 4)
        try await finishedRun(store, "run-2", caller: "a1", callee: "a2", status: .failed, endedAt: at(200), forward: nil, backward: nil)
        try await store.createRuns([p2pRun("run-3", caller: "a2", callee: "a1", status: .notRun, cause: RunCause(code: "capacity")),
                                    p2pRun("run-4", caller: "a1", callee: "a3", start: at(300)),
                                    singleRun("run-5", suite: "mesh", agent: "a3", start: at(50))])
        try await store.finishRun(RunCompletion(runID: "run-5", status: .passed, cause: nil, endedAt: at(55)))
        #expect(try await store.storedResults(agentID: "a1", among: ["run-4", "run-2", "ghost", "run-1"]) == ["run-2", "run-1"])
        #expect(try await store.storedResults(agentID: "a3", among: ["run-1"]) == [])
        let last = try await store.lastTested(suite: "mesh")
        #expect(last == [UnitKey(caller: "a1", callee: "a2"): at(200), UnitKey(caller: "a3", callee: nil): at(55)])
        #expect(try await store.lastTested(suite: "other") == [:])
    }
}
