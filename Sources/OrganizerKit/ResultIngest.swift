import EarshotStore
import EarshotWire
import Foundation
import Logging

/// The result path: `result` frames from every connection are collected, stored in one
/// transaction, and only then acknowledged (`result_ack`), one ack per result. A failed
/// transaction acknowledges nothing: the agents keep the results in their spools and send
/// them again.
///
/// Batches adapt to the load (group commit): one transaction is written at a time. A result
/// that finds the store idle waits at most `window` (or until `maxBatch` results are
/// pending); results that arrive while a transaction is being written go into the next one,
/// which starts as soon as that one is committed. The stored results are handed to the
/// coordinator by a task of their own, so judging runs never delays the next commit.
actor ResultIngest {
    private struct Pending {
        var result: RunResult
        var agentID: String
    }

    private let storage: any Storage
    private let hub: AgentHub
    private let coordinator: RunCoordinator
    private let window: Duration
    private let maxBatch: Int
    private let logger: Logger
    private var pending: [Pending] = []
    private var flushScheduled = false
    /// A write loop is running (it takes everything pending before it ends).
    private var writing = false
    /// Stored results not handed to the coordinator yet, and whether the task handing them is running.
    private var toJudge: [RunResult] = []
    private var judging = false
    /// After `stop()`: every result is stored at once (no batching timer).
    private var stopped = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(storage: any Storage, hub: AgentHub, coordinator: RunCoordinator, window: Duration, maxBatch: Int = 2000,
         logger: Logger) {
        self.storage = storage
        self.hub = hub
        self.coordinator = coordinator
        self.window = window
        self.maxBatch = maxBatch
        self.logger = logger
    }

    func submit(_ result: RunResult, from agentID: String) async {
        guard result.agentID == agentID else {
            logger.notice("result for another agent refused",
                          metadata: ["agent": .string(agentID), "run": .string(result.runID)])
            await hub.send(.resultAck(ResultAck(runID: result.runID, agentID: result.agentID, stored: false,
                                                reason: "agent_id \(result.agentID) is not this connection's agent")),
                           to: agentID)
            return
        }
        pending.append(Pending(result: result, agentID: agentID))
        guard !writing else { return }
        if stopped || pending.count >= maxBatch {
            startWriting()
        } else if !flushScheduled {
            flushScheduled = true
            let window = self.window
            Task {
                try? await Task.sleep(for: window)
                await self.flush()
            }
        }
    }

    /// Stores what is pending now (unless a write is running: it takes it next).
    func flush() {
        flushScheduled = false
        guard !writing, !pending.isEmpty else { return }
        startWriting()
    }

    private func startWriting() {
        writing = true
        Task { await self.writeLoop() }
    }

    /// Writes batches until nothing is pending.
    private func writeLoop() async {
        while !pending.isEmpty {
            let batch: [Pending]
            if pending.count <= maxBatch {
                batch = pending
                pending = []
            } else {
                batch = Array(pending.prefix(maxBatch))
                pending.removeFirst(maxBatch)
            }
            await store(batch)
        }
        writing = false
        wakeIfIdle()
    }

    /// One transaction, then its acks; the stored results go to the coordinator.
    private func store(_ batch: [Pending]) async {
        let outcomes: [IngestOutcome]
        do {
            outcomes = try await storage.ingest(batch.map(\.result), receivedAt: Date())
        } catch {
            logger.error("result ingest failed; nothing acknowledged (agents will resend)",
                         metadata: ["results": .stringConvertible(batch.count), "error": .string("\(error)")])
            return
        }
        var stored: [RunResult] = []
        var acks: [(agentID: String, message: OrganizerMessage)] = []
        acks.reserveCapacity(batch.count)
        for (item, outcome) in zip(batch, outcomes) {
            let ack: ResultAck
            switch outcome {
            case .stored:
                stored.append(item.result)
                ack = ResultAck(runID: item.result.runID, agentID: item.agentID)
            case .duplicate:
                ack = ResultAck(runID: item.result.runID, agentID: item.agentID)
            case .unknownRun:
                ack = ResultAck(runID: item.result.runID, agentID: item.agentID, stored: false,
                                reason: "unknown run (never planned here, or pruned)")
            case .notParticipant:
                ack = ResultAck(runID: item.result.runID, agentID: item.agentID, stored: false,
                                reason: "this agent is not a participant of the run")
            }
            acks.append((item.agentID, .resultAck(ack)))
        }
        await hub.send(acks)
        logger.debug("results ingested", metadata: ["batch": .stringConvertible(batch.count),
                                                    "stored": .stringConvertible(stored.count)])
        guard !stored.isEmpty else { return }
        toJudge.append(contentsOf: stored)
        if !judging {
            judging = true
            Task { await self.judgeLoop() }
        }
    }

    /// Hands stored results to the coordinator, all that accumulated at each step.
    private func judgeLoop() async {
        while !toJudge.isEmpty {
            let results = toJudge
            toJudge = []
            await coordinator.resultsStored(results)
        }
        judging = false
        wakeIfIdle()
    }

    private func wakeIfIdle() {
        guard !writing, !judging, pending.isEmpty, toJudge.isEmpty else { return }
        for w in idleWaiters { w.resume() }
        idleWaiters.removeAll()
    }

    /// Shutdown: stores and acknowledges everything pending (and hands it to the coordinator);
    /// later results are stored without waiting for a window.
    func stop() async {
        stopped = true
        flush()
        if writing || judging || !pending.isEmpty || !toJudge.isEmpty {
            await withCheckedContinuation { idleWaiters.append($0) }
        }
    }
}
