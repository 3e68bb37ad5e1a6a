@testable import AgentKit
import EarshotWire
import Foundation
import SIPStack
import SIPTransaction
import Synchronization
import Testing

/// Results an executor handed over, for tests to wait on.
final class ResultBox: Sendable {
    private let results = Mutex<[RunResult]>([])

    func add(_ result: RunResult) { results.withLock { $0.append(result) } }
    var all: [RunResult] { results.withLock { $0 } }

    /// The result of `runID`, once it came (nil after `seconds`).
    func result(_ runID: String, seconds: Double = 60) async throws -> RunResult? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let found = all.first(where: { $0.runID == runID }) { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}

/// Two executors on loopback, each with its own user agent and media engine, running real
/// calls through the engine.
@Suite("Assignment executor on loopback")
struct ExecutorTests {
    static let timers = TransactionTimers(t1: .milliseconds(100), t2: .milliseconds(400), t4: .milliseconds(500))

    static func executor(_ id: String, ports: ClosedRange<UInt16>, maxCalls: Int = 20) async throws -> (AssignmentExecutor, ResultBox) {
        let executor = try await AssignmentExecutor.start(
            ExecutorConfiguration(sipHost: "127.0.0.1", sipPort: 0, rtpPorts: ports, maxConcurrentCalls: maxCalls, timers: timers),
            agentID: id)
        let box = ResultBox()
        await executor.setResultSink { box.add($0) }
        return (executor, box)
    }

    static func contact(_ executor: AssignmentExecutor) async throws -> String {
        try #require(await executor.contacts().first { $0.transport == "udp" }?.uri)
    }

    static func pair(_ run: String, caller: String = "ag_A", callee: String = "ag_B", target: String, duration: Double = 2,
                     start: Date = Date(), calleeEvidence: Bool = false) -> (caller: Assignment, callee: Assignment) {
        let peers = [Peer(agentID: caller, name: "a", role: .caller), Peer(agentID: callee, name: "b", role: .callee)]
        let deadline = start.addingTimeInterval(duration + 20)
        return (
            Assignment(runID: run, suite: "mesh", testType: .p2p, role: .caller, startAt: start, deadline: deadline, peers: peers,
                       call: CallSpec(target: target, durationS: duration, toneHz: 1750, expectedRemoteToneHz: 1850, noAnswerTimeoutS: 5)),
            Assignment(runID: run, suite: "mesh", testType: .p2p, role: .callee, startAt: start, deadline: deadline, peers: peers,
                       answer: AnswerSpec(toneHz: 1850, expectedRemoteToneHz: 1750, durationS: duration), alwaysEvidence: calleeEvidence))
    }

    @Test func p2pPairProducesTwoResultsWithNoLoss() async throws {
        let (a, resultsA) = try await Self.executor("ag_A", ports: 26000...26099)
        let (b, resultsB) = try await Self.executor("ag_B", ports: 26100...26199)
        let (callerPart, calleePart) = Self.pair("run-p2p-1", target: try await Self.contact(b), calleeEvidence: true)
        #expect(await b.offer(calleePart) == AssignmentAnswer(runID: "run-p2p-1", accepted: true))
        #expect(await a.offer(callerPart) == AssignmentAnswer(runID: "run-p2p-1", accepted: true))
        // Offered again (a reconnect re-sends it): accepted, not run twice.
        #expect(await a.offer(callerPart).accepted)

        let caller = try #require(try await resultsA.result("run-p2p-1"))
        let callee = try #require(try await resultsB.result("run-p2p-1"))
        #expect(caller.agentID == "ag_A" && caller.role == .caller && caller.testType == .p2p)
        #expect(callee.agentID == "ag_B" && callee.role == .callee)
        #expect(caller.status == .passed, "\(String(describing: caller.cause))")
        #expect(callee.status == .passed, "\(String(describing: callee.cause))")
        #expect(caller.cause?.code == "normal")
        #expect(callee.cause?.code == "normal")
        #expect(caller.call?.ending == "normal")
        #expect(caller.call?.plannedDurationS == 2)
        #expect(caller.call?.inviteTo200Ms != nil)

        let heardByCaller = try #require(caller.streams.first { $0.measuredBy == "receiver" })
        #expect(heardByCaller.from == "ag_B" && heardByCaller.to == "ag_A")
        #expect(heardByCaller.codec == "PCMU" && heardByCaller.ptime == 20)
        #expect(heardByCaller.packetsLost == 0 && heardByCaller.lossPct == 0)
        #expect(heardByCaller.packetsReceived >= 90, "2 s at 50 packets/s")
        #expect(heardByCaller.audioOK == true)
        let heardByCallee = try #require(callee.streams.first { $0.measuredBy == "receiver" })
        #expect(heardByCallee.from == "ag_A" && heardByCallee.to == "ag_B")
        #expect(heardByCallee.packetsLost == 0)
        #expect(heardByCallee.audioOK == true)

        // Evidence goes with every result (the organizer keeps it for failed and degraded runs).
        #expect(caller.evidence?.ladder.first?.summary.hasPrefix("INVITE sip:earshot@127.0.0.1:") == true)
        let evidence = try #require(callee.evidence)
        #expect(evidence.ladder.first?.summary.hasPrefix("INVITE sip:earshot@127.0.0.1:") == true)
        #expect(evidence.ladder.first?.direction == "received")
        #expect(evidence.ladder.first?.text.contains("X-Earshot-Run: run-p2p-1") == true)
        #expect(evidence.ladder.map(\.summary).contains("200 OK"))
        #expect(evidence.mediaSeconds.count >= 2)
        #expect(evidence.mediaSeconds.map(\.received).reduce(0, +) == heardByCallee.packetsReceived)
        #expect(evidence.mediaSeconds.map(\.lost).reduce(0, +) == 0)
        // The raw report is the engine's JSON without its ladder.
        #expect(caller.raw?["status"] == .string("passed"))
        #expect(caller.raw?["role"] == .string("caller"))
        #expect(caller.raw?["ladder"] == nil)
        #expect(await a.activeRunIDs.isEmpty)
        #expect(await b.activeRunIDs.isEmpty)
        await a.shutdown()
        await b.shutdown()
    }

    @Test func calleeWithoutInviteTimesOutAtTheDeadline() async throws {
        let (b, results) = try await Self.executor("ag_B", ports: 26200...26249)
        let start = Date()
        let assignment = Assignment(
            runID: "run-lonely", suite: "mesh", testType: .p2p, role: .callee, startAt: start, deadline: start.addingTimeInterval(0.5),
            peers: [Peer(agentID: "ag_A", name: "alpha", role: .caller)], answer: AnswerSpec(durationS: 1))
        #expect(await b.offer(assignment).accepted)
        #expect(await b.activeRunIDs == ["run-lonely"])
        let result = try #require(try await results.result("run-lonely"))
        #expect(result.status == .failed)
        #expect(result.cause?.code == "timeout")
        #expect(result.cause?.detail?.hasPrefix("no INVITE for run run-lonely from alpha (ag_A) by the deadline") == true)
        #expect(result.cause?.agentID == "ag_B")
        #expect(result.role == .callee)
        #expect(await b.activeRunIDs.isEmpty)
        await b.shutdown()
    }

    @Test func inviteForAnUnknownRunIsAnsweredAndReportedUnderItsRun() async throws {
        let (a, resultsA) = try await Self.executor("ag_A", ports: 26300...26349)
        let (b, resultsB) = try await Self.executor("ag_B", ports: 26350...26399)
        let (callerPart, _) = Self.pair("run-ghost", target: try await Self.contact(b), duration: 1)
        #expect(await a.offer(callerPart).accepted)
        let caller = try #require(try await resultsA.result("run-ghost"))
        let callee = try #require(try await resultsB.result("run-ghost"))
        #expect(caller.status == .passed)
        #expect(callee.agentID == "ag_B" && callee.role == .callee && callee.testType == .p2p)
        #expect(callee.cause?.code == "normal")
        await a.shutdown()
        await b.shutdown()
    }

    @Test func refusesOverBudgetUnsupportedAndBrokenAssignments() async throws {
        let (b, results) = try await Self.executor("ag_B", ports: 26400...26449, maxCalls: 1)
        let now = Date()
        func callee(_ run: String, from: Double, to: Double) -> Assignment {
            Assignment(runID: run, suite: "s", testType: .p2p, role: .callee, startAt: now.addingTimeInterval(from),
                       deadline: now.addingTimeInterval(to), answer: AnswerSpec(durationS: 5))
        }
        // Deadlines far enough out that a loaded machine cannot reach them before the cancel.
        #expect(await b.offer(callee("r1", from: 0, to: 300)).accepted)
        let over = await b.offer(callee("r2", from: 5, to: 310))
        #expect(over.accepted == false)
        #expect(over.reason == "capacity: 1 calls already planned or running in that time; the budget is 1")
        #expect(await b.offer(callee("r3", from: 301, to: 600)).accepted)
        let conference = Assignment(runID: "r4", suite: "s", testType: .conference, role: .participant, startAt: now,
                                    deadline: now.addingTimeInterval(30))
        #expect(await b.offer(conference).reason == "bad_assignment: a conference participant assignment without its conference")
        let noSpec = Assignment(runID: "r5", suite: "s", testType: .p2p, role: .caller, startAt: now, deadline: now.addingTimeInterval(30))
        #expect(await b.offer(noSpec).reason == "bad_assignment: a caller assignment without its call")
        var badCodec = Self.pair("r6", target: "sip:x@127.0.0.1:5060").caller
        badCodec.call?.codec = "G729"
        #expect(await b.offer(badCodec).reason == "unsupported_test: codec G729 (PCMU and PCMA are supported)")

        // Cancelled while waiting: not_run, cancelled, with the organizer's reason.
        await b.cancel(runID: "r1", reason: "operator stopped the suite")
        let cancelled = try #require(try await results.result("r1"))
        #expect(cancelled.status == .notRun)
        #expect(cancelled.cause?.code == "cancelled")
        #expect(cancelled.cause?.detail == "cancelled: operator stopped the suite")
        #expect(await b.activeRunIDs == ["r3"])
        await b.shutdown()
        // Shutting down reports the run that had not started.
        let r3 = try #require(try await results.result("r3", seconds: 5))
        #expect(r3.status == .notRun && r3.cause?.detail == "cancelled: the agent is shutting down")
    }

    @Test func optionsAndRegisterUseTheUserAgent() async throws {
        let (a, results) = try await Self.executor("ag_A", ports: 26450...26499)
        let (b, _) = try await Self.executor("ag_B", ports: 26500...26549)
        let port = try #require(await b.listeners.first { $0.kind == .udp }?.port)
        let now = Date()
        let options = Assignment(runID: "opt-1", suite: "ping", testType: .options, role: .pinger, startAt: now,
                                 deadline: now.addingTimeInterval(30), options: OptionsSpec(target: "sip:127.0.0.1:\(port)"))
        let register = Assignment(runID: "reg-1", suite: "reg", testType: .register, role: .registrant, startAt: now,
                                  deadline: now.addingTimeInterval(30),
                                  register: RegisterSpec(registrar: "127.0.0.1:\(port)", aor: "sip:alice@example.com",
                                                         credentials: SIPCredentials(username: "alice", password: "pw")))
        #expect(await a.offer(options).accepted)
        #expect(await a.offer(register).accepted)
        let ping = try #require(try await results.result("opt-1"))
        #expect(ping.status == .passed)
        #expect(ping.options?.statusCode == 200)
        #expect(ping.options?.allow.contains("INVITE") == true)
        #expect(ping.options?.allow.contains("UPDATE") == true)
        #expect(ping.options?.supported == ["timer"])
        #expect(ping.options?.rttMs != nil)
        #expect(ping.evidence == nil)
        // An agent is not a registrar: 405, reported as a failed registration.
        let reg = try #require(try await results.result("reg-1"))
        #expect(reg.status == .failed)
        #expect(reg.cause?.code == "registration_failed")
        #expect(reg.cause?.statusCode == 405)
        #expect(reg.register == RegisterSummary(statusCode: 405, timeMs: reg.register?.timeMs, authRoundTrips: 0, expiresGrantedS: nil))
        #expect(reg.evidence?.notes == ["registration failed: 405 Method Not Allowed"])
        await a.shutdown()
        await b.shutdown()
    }

    @Test func dtmfDigitsAreReportedAndCheckedByTheCallee() async throws {
        let (a, resultsA) = try await Self.executor("ag_A", ports: 26550...26599)
        let (b, resultsB) = try await Self.executor("ag_B", ports: 26600...26649)
        let target = try await Self.contact(b)
        var (callerPart, calleePart) = Self.pair("run-dtmf", target: target, duration: 3)
        callerPart.testType = .dtmf
        calleePart.testType = .dtmf
        callerPart.call?.dtmf = "12#"
        calleePart.answer?.expectedDTMF = "12#"
        var (wrongCaller, wrongCallee) = Self.pair("run-dtmf-wrong", target: target, duration: 3)
        wrongCaller.call?.dtmf = "4"
        wrongCallee.answer?.expectedDTMF = "5"
        for part in [calleePart, wrongCallee] { #expect(await b.offer(part).accepted) }
        for part in [callerPart, wrongCaller] { #expect(await a.offer(part).accepted) }

        let caller = try #require(try await resultsA.result("run-dtmf"))
        let callee = try #require(try await resultsB.result("run-dtmf"))
        #expect(caller.status == .passed && callee.status == .passed)
        #expect(caller.dtmf?.sent == "12#")
        #expect(caller.dtmf?.sentDigits.map(\.digit) == ["1", "2", "#"])
        #expect(callee.dtmf?.received == "12#")
        let offsets = try #require(callee.dtmf?.receivedDigits.map(\.offsetMs))
        #expect(offsets.count == 3 && offsets == offsets.sorted() && offsets[0] > 0)

        let wrong = try #require(try await resultsB.result("run-dtmf-wrong"))
        #expect(wrong.status == .failed)
        #expect(wrong.cause == RunCause(code: "dtmf_mismatch", detail: "expected DTMF \"5\", received \"4\"", agentID: "ag_B"))
        #expect(wrong.evidence?.ladder.isEmpty == false)
        await a.shutdown()
        await b.shutdown()
    }

    @Test func cancelEndsACallInProgressWithItsMeasurements() async throws {
        let (a, resultsA) = try await Self.executor("ag_A", ports: 26650...26699)
        let (b, resultsB) = try await Self.executor("ag_B", ports: 26700...26749)
        let (callerPart, calleePart) = Self.pair("run-long", target: try await Self.contact(b), duration: 30)
        #expect(await b.offer(calleePart).accepted)
        #expect(await a.offer(callerPart).accepted)
        // Cancel once the call is up: the callee has its INVITE, and media have had a second.
        let deadline = ContinuousClock.now + .seconds(60)
        while await !b.isInCall("run-long"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await b.isInCall("run-long"))
        try await Task.sleep(for: .seconds(1))
        await a.cancel(runID: "run-long", reason: "the peer's site went offline")
        let caller = try #require(try await resultsA.result("run-long", seconds: 10))
        #expect(caller.status == .failed)
        #expect(caller.cause?.code == "cancelled")
        #expect(caller.cause?.detail == "cancelled: the peer's site went offline")
        #expect(caller.call?.ending == "normal")
        #expect((caller.call?.actualDurationS ?? 99) < 30)
        #expect((caller.streams.first { $0.measuredBy == "receiver" }?.packetsReceived ?? 0) > 0)
        // The callee saw a BYE from its peer.
        let callee = try #require(try await resultsB.result("run-long", seconds: 10))
        #expect(callee.cause?.detail?.hasSuffix("remote BYE") == true)
        await a.shutdown()
        await b.shutdown()
    }
}
