import EarshotStore
import EarshotWire
import Foundation
import Logging

/// The result path: `result` frames from every connection are collected for a few
/// milliseconds, stored in one transaction, and only then acknowledged (`result_ack`), one
/// ack per result. A failed transaction acknowledges nothing: the agents keep the results in
/// their spools and send them again.
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
    /// After `stop()`: every result is stored at once (no batching timer).
    private var stopped = false
    /// Batches being written (so `stop()` can wait for them).
    private var inFlight = 0
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(storage: any Storage, hub: AgentHub, coordinator: RunCoordinator, window: Duration, maxBatch: Int = 1000,
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
        if stopped || pending.count >= maxBatch {
            await flush()
        } else if !flushScheduled {
            flushScheduled = true
            let window = self.window
            Task {
                try? await Task.sleep(for: window)
                await self.flush()
            }
        }
    }

    /// Stores what is pending now and sends the acks.
    func flush() async {
        flushScheduled = false
        guard !pending.isEmpty else { return }
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        inFlight += 1
        defer {
            inFlight -= 1
            if inFlight == 0, pending.isEmpty {
                for w in idleWaiters { w.resume() }
                idleWaiters.removeAll()
            }
        }
        let outcomes: [IngestOutcome]
        do {
            outcomes = try await storage.ingest(batch.map(\.result), receivedAt: Date())
        } catch {
            logger.error("result ingest failed; nothing acknowledged (agents will resend)",
                         metadata: ["results": .stringConvertible(batch.count), "error": .string("\(error)")])
            return
        }
        var stored: [RunResult] = []
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
            await hub.send(.resultAck(ack), to: item.agentID)
        }
        logger.debug("results ingested", metadata: ["batch": .stringConvertible(batch.count),
                                                    "stored": .stringConvertible(stored.count)])
        if !stored.isEmpty {
            await coordinator.resultsStored(stored)
        }
    }

    /// Shutdown: stores and acknowledges everything pending; later results are stored one by one.
    func stop() async {
        stopped = true
        await flush()
        if inFlight > 0 || !pending.isEmpty {
            await withCheckedContinuation { idleWaiters.append($0) }
        }
    }
}
