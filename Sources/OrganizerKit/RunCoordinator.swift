import EarshotStore
import EarshotWire
import Foundation
import Logging
import OrganizerCore

/// A run the organizer is waiting on.
struct TrackedRun: Sendable {
    var id: String
    var suite: String
    var testType: TestType
    var startAt: Date
    var deadline: Date
    /// The end of its slot: the participants count it against their budgets until then.
    var busyUntil: Date
    var thresholds: Thresholds
    var participants: [RunParticipant]
    var results: [String: RunResult]
    /// Participants that went offline (or were revoked, or refused) after the run was assigned.
    var lost: Set<String> = []
    var expectedDTMF: String?
    /// Marked `running` in storage (at its start time or at its first result).
    var running = false
}

/// One frame to send at a time: the assignments of a round, callee first.
struct ScheduledSend: Sendable {
    var at: Date
    var agentID: String
    var assignment: Assignment
}

/// Tracks open runs from assignment to verdict: sends the assignments at their times, hands
/// stored results to `RunJudge`, fails runs whose participants go offline or never report by
/// the deadline, and finishes them in storage.
actor RunCoordinator {
    private let storage: any Storage
    private let hub: AgentHub
    private let logger: Logger
    private var runs: [String: TrackedRun] = [:]
    /// Assignments not sent yet (sorted by time), and those sent, by run then agent (resent
    /// to an agent that reconnects before the run's start).
    private var pendingSends: [ScheduledSend] = []
    private var assignments: [String: [String: Assignment]] = [:]
    private var sendTask: Task<Void, Never>?

    init(storage: any Storage, hub: AgentHub, logger: Logger) {
        self.storage = storage
        self.hub = hub
        self.logger = logger
    }

    var inFlightCount: Int { runs.count }

    /// Per agent, when it is busy with calls already planned (each run counts one call for
    /// each participant from its start to its end of slot): the planner's reservations.
    func reservations() -> [String: [DateInterval]] {
        var out: [String: [DateInterval]] = [:]
        for run in runs.values where run.busyUntil > run.startAt {
            let busy = DateInterval(start: run.startAt, end: run.busyUntil)
            for p in run.participants { out[p.agentID, default: []].append(busy) }
        }
        return out
    }

    // MARK: tracking

    /// Runs just created: their assignments go out at the given times.
    func track(_ newRuns: [TrackedRun], sends: [ScheduledSend]) {
        for run in newRuns { runs[run.id] = run }
        for send in sends { assignments[send.assignment.runID, default: [:]][send.agentID] = send.assignment }
        pendingSends.append(contentsOf: sends)
        pendingSends.sort { $0.at < $1.at }
        restartSender()
    }

    /// Runs a previous process left open: judged with what is stored, kept open until their
    /// deadline (the agents' spools deliver the rest).
    func adopt(_ open: [OpenRun]) async {
        for o in open {
            runs[o.summary.id] = TrackedRun(
                id: o.summary.id, suite: o.summary.suite, testType: o.summary.testType, startAt: o.summary.startAt,
                deadline: o.deadline, busyUntil: o.summary.startAt.addingTimeInterval(o.summary.plannedDurationS + 5), thresholds: o.thresholds,
                participants: o.participants.map { RunParticipant(agentID: $0.agentID, role: $0.role) },
                results: o.results, running: o.summary.status == .running)
        }
        if !open.isEmpty {
            logger.info("open runs adopted from the previous process", metadata: ["runs": .stringConvertible(open.count)])
        }
        for o in open { await judge(o.summary.id, now: Date()) }
    }

    // MARK: events

    func resultsStored(_ results: [RunResult]) async {
        let now = Date()
        var touched: [String] = []
        for r in results {
            guard runs[r.runID] != nil else { continue }
            runs[r.runID]!.results[r.agentID] = r
            touched.append(r.runID)
        }
        for id in Set(touched) { await judge(id, now: now) }
    }

    /// An agent went offline or was revoked: its unreported runs are judged without it.
    func agentLost(_ agentID: String, reason: String) async {
        let affected = runs.values.filter { run in
            run.results[agentID] == nil && run.participants.contains { $0.agentID == agentID }
        }.map(\.id)
        pendingSends.removeAll { $0.agentID == agentID }
        for id in affected {
            runs[id]?.lost.insert(agentID)
            await judge(id, now: Date())
        }
    }

    /// An agent (re)connected: assignments of runs that have not started yet and that it does
    /// not hold are sent again.
    func agentConnected(_ agentID: String, activeRuns: [String]) async {
        let now = Date()
        let held = Set(activeRuns)
        let pendingIDs = Set(pendingSends.filter { $0.agentID == agentID }.map(\.assignment.runID))
        for (runID, byAgent) in assignments {
            guard let a = byAgent[agentID], !held.contains(runID), !pendingIDs.contains(runID), a.startAt > now,
                  let run = runs[runID], run.results[agentID] == nil else { continue }
            await hub.send(.assign(a), to: agentID)
        }
    }

    /// The agent's answer to an assignment. A refusal becomes its `not_run` result.
    func answered(_ answer: AssignmentAnswer, by agentID: String) async {
        guard !answer.accepted, let run = runs[answer.runID],
              let p = run.participants.first(where: { $0.agentID == agentID }), run.results[agentID] == nil else { return }
        let code = answer.reason == "capacity" ? "capacity" : "assignment_rejected"
        let refusal = RunResult(runID: run.id, agentID: agentID, role: p.role, testType: run.testType, status: .notRun,
                                cause: RunCause(code: code, detail: "the agent refused the assignment: \(answer.reason ?? "no reason given")",
                                                agentID: agentID))
        logger.notice("assignment refused", metadata: ["run": .string(run.id), "agent": .string(agentID),
                                                       "reason": .string(answer.reason ?? "")])
        do {
            _ = try await storage.ingest([refusal], receivedAt: Date())
        } catch {
            logger.error("could not store a refusal", metadata: ["run": .string(run.id), "error": .string("\(error)")])
        }
        runs[run.id]?.results[agentID] = refusal
        await judge(run.id, now: Date())
    }

    /// Runs past their deadline are judged as they are (missing results: `timeout` or
    /// `agent_lost`); runs past their start are marked running.
    func sweep(now: Date = Date()) async {
        for run in runs.values {
            if run.deadline <= now {
                await judge(run.id, now: now)
            } else if !run.running, run.startAt <= now {
                await markRunning(run.id, at: now)
            }
        }
    }

    // MARK: verdicts

    private func markRunning(_ id: String, at: Date) async {
        guard runs[id]?.running == false else { return }
        runs[id]?.running = true
        do {
            try await storage.markRunning(id: id, at: at)
        } catch {
            logger.warning("could not mark a run running", metadata: ["run": .string(id), "error": .string("\(error)")])
        }
    }

    private func judge(_ id: String, now: Date) async {
        guard let run = runs[id] else { return }
        let facts = RunFacts(deadlinePassed: run.deadline <= now, lost: run.lost, expectedDTMF: run.expectedDTMF)
        let verdict = RunJudge.judge(testType: run.testType, participants: run.participants, results: run.results,
                                     thresholds: run.thresholds, facts: facts)
        guard verdict.isFinal else {
            if !run.results.isEmpty { await markRunning(id, at: now) }
            return
        }
        let completion = RunCompletion(runID: id, status: verdict.status, cause: verdict.cause, endedAt: now,
                                       directions: verdict.directions, call: verdict.call, dtmf: verdict.dtmf)
        do {
            try await storage.finishRun(completion)
        } catch {
            // Kept open: the next sweep tries again.
            logger.error("could not finish a run", metadata: ["run": .string(id), "error": .string("\(error)")])
            return
        }
        runs[id] = nil
        assignments[id] = nil
        // Participants still holding an assignment of a run decided without them are told.
        if verdict.status == .notRun || verdict.status == .failed {
            for p in run.participants where run.results[p.agentID] == nil {
                pendingSends.removeAll { $0.assignment.runID == id }
                await hub.send(.cancel(RunCancel(runID: id, reason: verdict.cause?.code ?? "run_decided")), to: p.agentID)
            }
        }
        logger.info("run finished", metadata: [
            "run": .string(id), "suite": .string(run.suite), "status": .string(verdict.status.rawValue),
            "cause": .string(verdict.cause?.code ?? "-"),
        ])
    }

    // MARK: sending

    private func restartSender() {
        sendTask?.cancel()
        sendTask = Task { await self.sendDue() }
    }

    /// Sends due assignments, sleeping until the next one; returns when none are left.
    private func sendDue() async {
        while !Task.isCancelled {
            let now = Date()
            while let first = pendingSends.first, first.at <= now {
                pendingSends.removeFirst()
                guard runs[first.assignment.runID] != nil else { continue }
                let delivered = await hub.send(.assign(first.assignment), to: first.agentID)
                if !delivered {
                    logger.notice("assignment not delivered: agent not connected",
                                  metadata: ["run": .string(first.assignment.runID), "agent": .string(first.agentID)])
                }
            }
            guard let next = pendingSends.first else { return }
            let wait = max(0.001, next.at.timeIntervalSince(Date()))
            do {
                try await Task.sleep(for: .seconds(wait))
            } catch {
                return
            }
        }
    }

    /// Shutdown: no more sends.
    func stop() {
        sendTask?.cancel()
        sendTask = nil
        pendingSends.removeAll()
    }
}
