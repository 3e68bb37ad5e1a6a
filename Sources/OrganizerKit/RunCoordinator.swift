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
    /// Conference runs: what the judge needs to know who should hear whom.
    var conference: ConferenceFacts?
    /// Marked `running` in storage (at its start time or at its first result).
    var running = false
}

/// The plan of a conference run as the judge needs it (`RunFacts.conference` and friends).
struct ConferenceFacts: Sendable, Equatable {
    /// The conference part of the assignments (members, tones, join offsets, DTMF sender, mode).
    var plan: ConferenceAssignment
    var bridgeAgentID: String?
    /// Agent id → site.
    var sites: [String: String]
}

/// One frame to send at a time: the assignments of a round, callee first.
struct ScheduledSend: Sendable {
    var at: Date
    var agentID: String
    var assignment: Assignment
}

/// A run whose verdict was just committed (for the alert rules).
struct FinishedRun: Sendable, Equatable {
    var completion: RunCompletion
    var suite: String
    var testType: TestType
    /// Caller first.
    var participants: [RunParticipant]
}

/// Tracks open runs from assignment to verdict: sends the assignments at their times, hands
/// stored results to `RunJudge`, fails runs whose participants go offline or never report by
/// the deadline, and finishes them in storage.
actor RunCoordinator {
    private let storage: any Storage
    private let hub: AgentHub
    private let logger: Logger
    private var runs: [String: TrackedRun] = [:]
    /// Runs whose verdict is being written: not judged again until that commit is done.
    private var finishing: Set<String> = []
    /// Assignments not sent yet (by time), and those sent, by run then agent (resent to an
    /// agent that reconnects before the run's start).
    private var pendingSends = SendQueue()
    private var assignments: [String: [String: Assignment]] = [:]
    private var sendTask: Task<Void, Never>?
    /// Plans of finished conference runs, for judging one again when a late result comes.
    private var finishedConferences = RecentFacts()
    /// Told about every committed verdict (must not block: the alert service queues them).
    private let onFinished: @Sendable ([FinishedRun]) -> Void

    init(storage: any Storage, hub: AgentHub, logger: Logger, onFinished: @escaping @Sendable ([FinishedRun]) -> Void = { _ in }) {
        self.storage = storage
        self.hub = hub
        self.logger = logger
        self.onFinished = onFinished
    }

    var inFlightCount: Int { runs.count }

    /// Per agent, when it is busy with calls already planned (each run counts one call for
    /// each participant from its start to its end of slot): the planner's reservations.
    /// Open runs of `suite` whose slot overlaps `interval` (a conference suite holds one
    /// conference at a time: its room, or its participants' ears, are shared).
    func openRuns(suite: String, overlapping interval: DateInterval) -> [String] {
        runs.values.filter { $0.suite == suite && $0.startAt < interval.end && max($0.busyUntil, $0.deadline) > interval.start }
            .map(\.id).sorted()
    }

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
        pendingSends.insert(sends)
        restartSender()
    }

    /// Runs a previous process left open: judged with what is stored, kept open until their
    /// deadline (the agents' spools deliver the rest).
    static func bridgeAgent(of run: OpenRun) -> String? { run.participants.first { $0.role == .bridge }?.agentID }

    static func sites(of run: OpenRun) -> [String: String] {
        Dictionary(run.participants.compactMap { p in p.site.map { (p.agentID, $0) } }, uniquingKeysWith: { first, _ in first })
    }

    func adopt(_ open: [OpenRun]) async {
        for o in open {
            runs[o.summary.id] = TrackedRun(
                id: o.summary.id, suite: o.summary.suite, testType: o.summary.testType, startAt: o.summary.startAt,
                deadline: o.deadline, busyUntil: o.summary.startAt.addingTimeInterval(o.summary.plannedDurationS + 5), thresholds: o.thresholds,
                participants: o.participants.map { RunParticipant(agentID: $0.agentID, role: $0.role) },
                results: o.results, expectedDTMF: o.conferencePlan?.dtmf,
                conference: o.conferencePlan.map { ConferenceFacts(plan: $0, bridgeAgentID: Self.bridgeAgent(of: o),
                                                                    sites: Self.sites(of: o)) },
                running: o.summary.status == .running)
        }
        if !open.isEmpty {
            logger.info("open runs adopted from the previous process", metadata: ["runs": .stringConvertible(open.count)])
        }
        await judge(open.map(\.summary.id), now: Date())
    }

    // MARK: events

    func resultsStored(_ results: [RunResult]) async {
        let now = Date()
        var touched: [String] = []
        var seen: Set<String> = []
        var late: Set<String> = []
        for r in results {
            guard runs[r.runID] != nil else {
                late.insert(r.runID)
                continue
            }
            runs[r.runID]!.results[r.agentID] = r
            if seen.insert(r.runID).inserted { touched.append(r.runID) }
        }
        await judge(touched, now: now)
        if !late.isEmpty { await judgeAgain(Array(late), now: now) }
    }

    /// Results that arrived after their run's verdict (an agent cut off from the organizer
    /// delivers its spool when it is back): the run is judged again with everything stored,
    /// so that its figures and status reflect what was measured (a participant still missing
    /// is a `timeout`).
    private func judgeAgain(_ ids: [String], now: Date) async {
        let stored: [OpenRun]
        do {
            stored = try await storage.runsForJudging(ids: ids)
        } catch {
            logger.error("could not load runs to judge a late result", metadata: ["error": .string("\(error)")])
            return
        }
        var completions: [RunCompletion] = []
        var was: [RunStatus] = []
        var finished: [FinishedRun] = []
        for open in stored where open.summary.status.isFinal && open.summary.status != .notRun {
            let participants = open.participants.map { RunParticipant(agentID: $0.agentID, role: $0.role) }
            var facts = RunFacts(deadlinePassed: true)
            if open.summary.testType == .conference {
                // The plan is kept in memory for a while after the verdict, and stored with the
                // run (what a restarted organizer has).
                let kept = finishedConferences.facts[open.summary.id]
                facts.conference = kept?.plan ?? open.conferencePlan
                facts.bridgeAgentID = kept?.bridgeAgentID ?? Self.bridgeAgent(of: open)
                facts.sites = kept?.sites ?? Self.sites(of: open)
            }
            let verdict = RunJudge.judge(testType: open.summary.testType, participants: participants, results: open.results,
                                         thresholds: open.thresholds, facts: facts)
            completions.append(Self.completion(open.summary.id, verdict, endedAt: open.summary.endedAt ?? now))
            was.append(open.summary.status)
            finished.append(FinishedRun(completion: completions[completions.count - 1], suite: open.summary.suite,
                                        testType: open.summary.testType, participants: participants))
        }
        guard !completions.isEmpty else { return }
        do {
            _ = try await storage.finishRuns(completions)
        } catch {
            logger.error("could not judge runs again", metadata: [
                "runs": .string(completions.map(\.runID).joined(separator: ",")), "error": .string("\(error)"),
            ])
            return
        }
        // The alert rules see a run again only when its verdict changed (a late result would
        // otherwise count twice in a streak).
        let changed = zip(finished, was).filter { $0.0.completion.status != $0.1 }.map(\.0)
        if !changed.isEmpty { onFinished(changed) }
        for (completion, before) in zip(completions, was) {
            logger.info("late result: run judged again", metadata: [
                "run": .string(completion.runID), "was": .string(before.rawValue),
                "status": .string(completion.status.rawValue), "cause": .string(completion.cause?.code ?? "-"),
            ])
        }
    }

    /// An agent went offline or was revoked: its unreported runs are judged without it.
    func agentLost(_ agentID: String, reason: String) async {
        var affected: [String] = []
        for (id, run) in runs where run.results[agentID] == nil && run.participants.contains(where: { $0.agentID == agentID }) {
            affected.append(id)
        }
        pendingSends.removeAll { $0.agentID == agentID }
        for id in affected { runs[id]?.lost.insert(agentID) }
        await judge(affected, now: Date())
    }

    /// An agent (re)connected: assignments of runs that have not started yet and that it does
    /// not hold are sent again.
    func agentConnected(_ agentID: String, activeRuns: [String]) async {
        let now = Date()
        let held = Set(activeRuns)
        let pendingIDs = Set(pendingSends.pending.lazy.filter { $0.agentID == agentID }.map(\.assignment.runID))
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
        await judge([run.id], now: Date())
    }

    /// Runs past their deadline are judged as they are (missing results: `timeout` or
    /// `agent_lost`); runs past their start are marked running. One transaction for each.
    func sweep(now: Date = Date()) async {
        var due: [String] = []
        var started: [String] = []
        for (id, run) in runs {
            if run.deadline <= now {
                due.append(id)
            } else if !run.running, run.startAt <= now {
                started.append(id)
            }
        }
        await markRunning(started, at: now)
        await judge(due, now: now)
    }

    // MARK: verdicts

    private func markRunning(_ ids: [String], at: Date) async {
        let ids = ids.filter { runs[$0]?.running == false }
        guard !ids.isEmpty else { return }
        for id in ids { runs[id]?.running = true }
        do {
            try await storage.markRunning(ids: ids, at: at)
        } catch {
            logger.warning("could not mark runs running", metadata: ["runs": .stringConvertible(ids.count), "error": .string("\(error)")])
        }
    }

    /// Judges these runs with the results they have: the decided ones are finished in storage
    /// in one transaction, the others that have results are marked running (in another).
    private func judge(_ ids: [String], now: Date) async {
        var completions: [RunCompletion] = []
        /// The runs as judged (their results then) and their verdicts.
        var decided: [(run: TrackedRun, verdict: RunVerdict)] = []
        var started: [String] = []
        for id in ids {
            guard let run = runs[id], !finishing.contains(id) else { continue }
            let facts = RunFacts(deadlinePassed: run.deadline <= now, lost: run.lost, expectedDTMF: run.expectedDTMF,
                                 conference: run.conference?.plan, bridgeAgentID: run.conference?.bridgeAgentID,
                                 sites: run.conference?.sites ?? [:])
            let verdict = RunJudge.judge(testType: run.testType, participants: run.participants, results: run.results,
                                         thresholds: run.thresholds, facts: facts)
            guard verdict.isFinal else {
                if !run.results.isEmpty { started.append(id) }
                continue
            }
            completions.append(Self.completion(id, verdict, endedAt: now))
            decided.append((run, verdict))
            finishing.insert(id)
        }
        await markRunning(started, at: now)
        guard !completions.isEmpty else { return }
        let missing: Set<String>
        do {
            missing = Set(try await storage.finishRuns(completions))
        } catch {
            // Kept open: the next sweep tries again.
            for c in completions { finishing.remove(c.runID) }
            logger.error("could not finish runs", metadata: ["runs": .stringConvertible(completions.count), "error": .string("\(error)")])
            return
        }
        onFinished(zip(completions, decided).compactMap { completion, d in
            missing.contains(completion.runID)
                ? nil
                : FinishedRun(completion: completion, suite: d.run.suite, testType: d.run.testType, participants: d.run.participants)
        })
        var changed: [String] = []
        for (run, verdict) in decided {
            let id = run.id
            finishing.remove(id)
            // Results that came in while the verdict was written: judged again, from storage.
            if let current = runs.removeValue(forKey: id), current.results.count != run.results.count, !missing.contains(id) {
                changed.append(id)
            }
            assignments[id] = nil
            if let conference = run.conference { finishedConferences.keep(id, conference) }
            if missing.contains(id) {
                logger.error("a run to finish is not in storage (pruned?); no longer tracked", metadata: ["run": .string(id)])
                continue
            }
            // Participants still holding an assignment of a run decided without them are told, if
            // it has not started: a call in progress goes on, and its result (stored when it comes)
            // keeps the evidence of what the survivor saw.
            if verdict.status == .notRun || verdict.status == .failed, now < run.startAt {
                let unreported = run.participants.filter { run.results[$0.agentID] == nil }
                if !unreported.isEmpty {
                    pendingSends.removeAll { $0.assignment.runID == id }
                    let cancel = OrganizerMessage.cancel(RunCancel(runID: id, reason: verdict.cause?.code ?? "run_decided"))
                    await hub.send(unreported.map { (agentID: $0.agentID, message: cancel) })
                }
            }
            logger.info("run finished", metadata: [
                "run": .string(id), "suite": .string(run.suite), "status": .string(verdict.status.rawValue),
                "cause": .string(verdict.cause?.code ?? "-"),
            ])
        }
        if !changed.isEmpty { await judgeAgain(changed, now: now) }
    }

    /// What storage keeps of a verdict.
    static func completion(_ runID: String, _ verdict: RunVerdict, endedAt: Date) -> RunCompletion {
        RunCompletion(runID: runID, status: verdict.status, cause: verdict.cause, endedAt: endedAt,
                      directions: verdict.directions, call: verdict.call, dtmf: verdict.dtmf, conference: verdict.conference)
    }

    // MARK: sending

    private func restartSender() {
        sendTask?.cancel()
        sendTask = Task { await self.sendDue() }
    }

    /// Sends due assignments, sleeping until the next one; returns when none are left.
    private func sendDue() async {
        while !Task.isCancelled {
            let due = pendingSends.popDue(Date()).filter { runs[$0.assignment.runID] != nil }
            if !due.isEmpty {
                let undelivered = await hub.send(due.map { (agentID: $0.agentID, message: .assign($0.assignment)) })
                for i in undelivered {
                    logger.notice("assignment not delivered: agent not connected",
                                  metadata: ["run": .string(due[i].assignment.runID), "agent": .string(due[i].agentID)])
                }
            }
            guard let next = pendingSends.next else { return }
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

/// The plans of the most recent finished conference runs (at most `capacity`, oldest dropped).
struct RecentFacts {
    private(set) var facts: [String: ConferenceFacts] = [:]
    private var order: [String] = []
    let capacity = 1000

    mutating func keep(_ runID: String, _ value: ConferenceFacts) {
        if facts.updateValue(value, forKey: runID) == nil { order.append(runID) }
        if order.count > capacity {
            let drop = order.count - capacity
            for id in order.prefix(drop) { facts[id] = nil }
            order.removeFirst(drop)
        }
    }
}

/// Assignments waiting for their send time, earliest first (equal times in the order given).
/// Taking the due ones moves an index instead of the elements; the consumed prefix is dropped
/// once it is half the storage.
struct SendQueue {
    private var items: [ScheduledSend] = []
    private var head = 0

    /// The sends not taken yet, in order.
    var pending: ArraySlice<ScheduledSend> { items[head...] }
    var next: ScheduledSend? { head < items.count ? items[head] : nil }

    mutating func insert(_ sends: [ScheduledSend]) {
        guard !sends.isEmpty else { return }
        let sorted = sends.sorted { $0.at < $1.at }
        let inOrder = items[head...].last.map { $0.at <= sorted[0].at } ?? true
        items.append(contentsOf: sorted)
        if !inOrder {
            compact()
            items.sort { $0.at < $1.at }
        }
    }

    /// Takes the sends due at `now`.
    mutating func popDue(_ now: Date) -> [ScheduledSend] {
        var end = head
        while end < items.count, items[end].at <= now { end += 1 }
        let due = Array(items[head..<end])
        head = end
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 256, head * 2 >= items.count {
            compact()
        }
        return due
    }

    mutating func removeAll(where shouldRemove: (ScheduledSend) -> Bool) {
        compact()
        items.removeAll(where: shouldRemove)
    }

    mutating func removeAll() {
        items.removeAll()
        head = 0
    }

    private mutating func compact() {
        guard head > 0 else { return }
        items.removeFirst(head)
        head = 0
    }
}
