import EarshotStore
import EarshotWire
import Foundation
import InteropTestSupport
import OrganizerKit
import Testing

/// Rounds end to end: the organizer plans, assigns over the WebSocket, scripted protocol
/// clients answer with synthetic results, the judge merges them.
@Suite struct RunRoundTests {
    static func pairSuite(_ caller: String, _ callee: String, paused: Bool = true) -> SuiteSpec {
        SuiteSpec(name: "pair", type: .p2p, topology: Topology(kind: .pairs, pairs: [[caller, callee]]),
                  interval: .minutes(60), duration: .seconds(1), paused: paused)
    }

    /// A synthetic result of a passed call: the participant's received direction.
    static func result(for a: Assignment, agentID: String, mos: Double) -> RunResult {
        let caller = a.peers.first { $0.role == .caller }!.agentID
        let callee = a.peers.first { $0.role == .callee }!.agentID
        let (from, to) = a.role == .caller ? (callee, caller) : (caller, callee)
        let stream = StreamMetrics(from: from, to: to, codec: "PCMU", ptime: 20, packetsExpected: 50, packetsReceived: 50,
                                   packetsLost: 0, lossPct: 0, jitterMeanMs: 1.5, jitterMaxMs: 3, rttMs: 2,
                                   rFactor: 88, mosCQ: mos, audioOK: true)
        return RunResult(runID: a.runID, agentID: agentID, role: a.role, testType: a.testType, status: .passed,
                         cause: RunCause(code: "normal"), startedAt: a.startAt, endedAt: a.startAt.addingTimeInterval(1),
                         call: CallSummary(callID: "c-\(a.runID)", inviteTo180Ms: 12, inviteTo200Ms: 30,
                                           plannedDurationS: 1, actualDurationS: 1, ending: "normal"),
                         streams: [stream])
    }

    /// Waits for the next assignment (answering it `accepted`).
    static func nextAssignment(_ client: ProtocolClient) async throws -> Assignment {
        guard case .assign(let a) = try await client.nextSkippingAcks(seconds: 30) else {
            throw TestFailure("expected an assignment")
        }
        client.send(.accepted(AssignmentAnswer(runID: a.runID, accepted: true)))
        return a
    }

    static func resultAck(_ client: ProtocolClient) async throws -> ResultAck {
        guard case .resultAck(let ack) = try await client.nextSkippingAcks() else { throw TestFailure("expected result_ack") }
        return ack
    }

    @Test func runNowPassesWithMergedDirectionsAndDuplicatesAreAckedOnce() async throws {
        try await TestOrganizer.with { org in
            let (alpha, a) = try await org.connectedAgent(name: "alpha", sipPort: 5061)
            let (beta, b) = try await org.connectedAgent(name: "beta", sipPort: 5062)
            let put = try await org.request(.PUT, "/v1/suites/pair", body: org.json(Self.pairSuite("alpha", "beta")))
            #expect(put.status == 201)

            let reply = try await org.request(.POST, "/v1/suites/pair/run")
            #expect(reply.status == 201)
            let round = try reply.decode(RoundInfo.self)
            #expect(round.suite == "pair")
            #expect(round.runIDs.count == 1)
            #expect(round.notRun == [])
            let runID = try #require(round.runIDs.first, "round: \(round)")

            let calleeTask = try await Self.nextAssignment(beta)
            let callerTask = try await Self.nextAssignment(alpha)
            #expect(calleeTask.runID == runID)
            #expect(callerTask.runID == runID)
            #expect(calleeTask.role == .callee)
            #expect(callerTask.role == .caller)
            #expect(callerTask.call?.target == "sip:earshot@127.0.0.1:5062")
            #expect(callerTask.call?.toneHz == 1750)
            #expect(callerTask.call?.expectedRemoteToneHz == 1850)
            #expect(callerTask.call?.durationS == 1)
            #expect(calleeTask.answer?.toneHz == 1850)
            #expect(calleeTask.answer?.expectedRemoteToneHz == 1750)
            #expect(calleeTask.startAt == callerTask.startAt)
            #expect(abs(callerTask.deadline.timeIntervalSince(callerTask.startAt) - 31) < 0.002)
            #expect(callerTask.peers.map(\.name) == ["alpha", "beta"])

            let calleeResult = Self.result(for: calleeTask, agentID: b.agentID, mos: 4.2)
            beta.send(.result(calleeResult))
            let ackB = try await Self.resultAck(beta)
            #expect(ackB == ResultAck(runID: runID, agentID: b.agentID, stored: true))

            let callerResult = Self.result(for: callerTask, agentID: a.agentID, mos: 4.3)
            alpha.send(.result(callerResult))
            #expect(try await Self.resultAck(alpha).stored)

            var detail: RunDetail?
            try await org.eventually("the run to pass") {
                detail = try await org.request(.GET, "/v1/runs/\(runID)", token: TestOrganizer.reader).decode(RunDetail.self)
                return detail?.run.status.isFinal == true
            }
            let run = try #require(detail)
            #expect(run.run.status == .passed)
            #expect(run.run.cause?.code == "normal")
            #expect(run.run.participants == ["alpha", "beta"])
            #expect(run.directions.count == 2)
            #expect(run.directions.map(\.from) == [a.agentID, b.agentID])
            #expect(run.directions.map(\.to) == [b.agentID, a.agentID])
            #expect(run.directions.map(\.mosCQ) == [4.2, 4.3])
            #expect(run.participants.map(\.status) == [.passed, .passed])
            #expect(run.call?.inviteTo200Ms == 30)

            // The same result again: acknowledged again, stored once.
            alpha.send(.result(callerResult))
            #expect(try await Self.resultAck(alpha) == ResultAck(runID: runID, agentID: a.agentID, stored: true))
            let again = try await org.request(.GET, "/v1/runs/\(runID)").decode(RunDetail.self)
            #expect(again.participants == run.participants)
            #expect(again.directions == run.directions)

            // A result for a run that does not exist: acknowledged as not stored.
            var stray = callerResult
            stray.runID = "run_unknown"
            alpha.send(.result(stray))
            let strayAck = try await Self.resultAck(alpha)
            #expect(!strayAck.stored)
            #expect(strayAck.runID == "run_unknown")

            let listed = try await org.request(.GET, "/v1/runs?suite=pair&status=passed").decode([RunSummary].self)
            #expect(listed.map(\.id) == [runID])
            let status = try await org.request(.GET, "/v1/status").decode(StatusInfo.self)
            #expect(status.runsLastHour == ["passed": 1])
            #expect(status.runsInFlight == 0)
            #expect(status.agents.online == 2)
            let report = try await org.request(.GET, "/v1/report?since=1h").decode(Report.self)
            let cell = try #require(report.cells.first { $0.from == "alpha" && $0.to == "beta" })
            #expect(cell.runs == 1)
            #expect(cell.passed == 1)
            #expect(report.totals["passed"] == 1)
            alpha.close()
            beta.close()
        }
    }

    @Test func offlineParticipantMakesTheRunNotRun() async throws {
        try await TestOrganizer.with { org in
            let (alpha, _) = try await org.connectedAgent(name: "alpha")
            // gamma enrolls and never says hello: enrolled, not online.
            let token = try await org.enrollmentToken()
            let gammaSocket = try await ProtocolClient.connect(port: org.port)
            gammaSocket.send(.enroll(EnrollRequest(token: token, name: "gamma")))
            guard case .enrolled(let gamma) = try await gammaSocket.next() else { throw TestFailure("no enrolled") }
            gammaSocket.close()

            _ = try await org.request(.PUT, "/v1/suites/pair", body: org.json(Self.pairSuite("alpha", "gamma")))
            let round = try await org.request(.POST, "/v1/suites/pair/run").decode(RoundInfo.self)
            #expect(round.runIDs == [])
            #expect(round.notRun.count == 1)
            let skipped = try #require(round.notRun.first)
            #expect(skipped.status == .notRun)
            #expect(skipped.cause?.code == "agent_offline")
            #expect(skipped.cause?.agentID == gamma.agentID)
            let stored = try await org.request(.GET, "/v1/runs/\(skipped.id)").decode(RunDetail.self)
            #expect(stored.run.status == .notRun)
            #expect(stored.run.cause?.code == "agent_offline")
            alpha.close()
        }
    }

    @Test func automaticFirstRoundRunsSoonAfterApply() async throws {
        try await TestOrganizer.with(firstRoundDelay: 1) { org in
            let (alpha, a) = try await org.connectedAgent(name: "alpha")
            let (beta, b) = try await org.connectedAgent(name: "beta")
            _ = try await org.request(.PUT, "/v1/suites/pair", body: org.json(Self.pairSuite("alpha", "beta", paused: false)))
            let calleeTask = try await Self.nextAssignment(beta)
            let callerTask = try await Self.nextAssignment(alpha)
            beta.send(.result(Self.result(for: calleeTask, agentID: b.agentID, mos: 4.1)))
            alpha.send(.result(Self.result(for: callerTask, agentID: a.agentID, mos: 4.1)))
            _ = try await Self.resultAck(beta)
            _ = try await Self.resultAck(alpha)
            try await org.eventually("the run to pass") {
                try await org.request(.GET, "/v1/runs/\(callerTask.runID)").decode(RunDetail.self).run.status == .passed
            }
            let suite = try await org.request(.GET, "/v1/suites/pair").decode(SuiteInfo.self)
            #expect(suite.memberCount == 2)
            #expect(suite.unitCount == 1)
            #expect(suite.lastRoundAt != nil)
            alpha.close()
            beta.close()
        }
    }

    @Test func agentLostMidRunFailsItAtTheDeadline() async throws {
        // 5 s without a frame makes an agent offline: short for the test, long enough that a
        // loaded machine's late heartbeat task does not make one offline before the round (3 s
        // was seen to be too short in a fresh clone's parallel unit pass).
        try await TestOrganizer.with(heartbeat: 0.5, missed: 10, deadlineMargin: 6) { org in
            let (alpha, a) = try await org.connectedAgent(name: "alpha")
            let (beta, b) = try await org.connectedAgent(name: "beta")
            func heartbeats(_ client: ProtocolClient) -> Task<Void, Never> {
                Task {
                    var seq: UInt64 = 0
                    while !Task.isCancelled {
                        seq += 1
                        client.send(.heartbeat(Heartbeat(seq: seq, sentAt: Date())))
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
            }
            let alphaBeats = heartbeats(alpha)
            let betaBeats = heartbeats(beta)
            defer {
                alphaBeats.cancel()
                betaBeats.cancel()
            }
            _ = try await org.request(.PUT, "/v1/suites/pair", body: org.json(Self.pairSuite("alpha", "beta")))
            let round = try await org.request(.POST, "/v1/suites/pair/run").decode(RoundInfo.self)
            let runID = try #require(round.runIDs.first, "round: \(round)")
            let calleeTask = try await Self.nextAssignment(beta)
            _ = try await Self.nextAssignment(alpha)
            // The caller dies: no result, no heartbeats.
            alphaBeats.cancel()
            alpha.close()
            beta.send(.result(Self.result(for: calleeTask, agentID: b.agentID, mos: 4.0)))
            try await org.eventually("the run to fail", seconds: 30) {
                try await org.request(.GET, "/v1/runs/\(runID)").decode(RunDetail.self).run.status.isFinal
            }
            let run = try await org.request(.GET, "/v1/runs/\(runID)").decode(RunDetail.self)
            #expect(run.run.status == .failed)
            #expect(run.run.cause?.code == "agent_lost")
            #expect(run.run.cause?.agentID == a.agentID)
            let alphaInfo = try await org.request(.GET, "/v1/agents/alpha").decode(AgentInfo.self)
            #expect(alphaInfo.state == .offline)
            beta.close()
        }
    }

    @Test func resultAfterRestartIsAccepted() async throws {
        let dir = try ScratchDirectory(prefix: "organizer-restart")
        let path = dir.path("earshot.sqlite")

        var runID = ""
        var alphaEnrolled: Enrolled?
        var betaEnrolled: Enrolled?
        var callerTask: Assignment?
        try await TestOrganizer.with(storage: try SQLiteStorage(path: path)) { org in
            let (alpha, a) = try await org.connectedAgent(name: "alpha")
            let (beta, b) = try await org.connectedAgent(name: "beta")
            alphaEnrolled = a
            betaEnrolled = b
            _ = try await org.request(.PUT, "/v1/suites/pair", body: org.json(Self.pairSuite("alpha", "beta")))
            runID = try await org.request(.POST, "/v1/suites/pair/run").decode(RoundInfo.self).runIDs.first ?? "none"
            let calleeTask = try await Self.nextAssignment(beta)
            callerTask = try await Self.nextAssignment(alpha)
            beta.send(.result(Self.result(for: calleeTask, agentID: b.agentID, mos: 4.2)))
            #expect(try await Self.resultAck(beta).stored)
            // The organizer stops before the caller reports.
        }

        try await TestOrganizer.with(storage: try SQLiteStorage(path: path)) { org in
            let a = try #require(alphaEnrolled)
            let b = try #require(betaEnrolled)
            let stillOpen = try await org.request(.GET, "/v1/runs/\(runID)").decode(RunDetail.self)
            #expect(!stillOpen.run.status.isFinal)

            // The callee's result is already stored: the welcome says so.
            let beta = try await ProtocolClient.connect(port: org.port)
            beta.send(.hello(ProtocolClient.hello(b, name: "beta", activeRuns: [runID])))
            guard case .welcome(let welcomeB) = try await beta.next() else { throw TestFailure("expected welcome") }
            #expect(welcomeB.acknowledgedRuns == [runID])

            let alpha = try await ProtocolClient.connect(port: org.port)
            alpha.send(.hello(ProtocolClient.hello(a, name: "alpha", activeRuns: [runID])))
            guard case .welcome(let welcomeA) = try await alpha.next() else { throw TestFailure("expected welcome") }
            #expect(welcomeA.acknowledgedRuns == [])
            alpha.send(.result(Self.result(for: try #require(callerTask), agentID: a.agentID, mos: 4.3)))
            #expect(try await Self.resultAck(alpha) == ResultAck(runID: runID, agentID: a.agentID, stored: true))
            try await org.eventually("the run to pass") {
                try await org.request(.GET, "/v1/runs/\(runID)").decode(RunDetail.self).run.status == .passed
            }
            let run = try await org.request(.GET, "/v1/runs/\(runID)").decode(RunDetail.self)
            #expect(run.directions.count == 2)
            alpha.close()
            beta.close()
        }
    }
}
