import EarshotWire
import Foundation
import Logging
import Synchronization
import WSClient

/// What every simulated agent shares: counters, latency samples, the connection ramp and the
/// in-flight result limit.
final class Fleet: Sendable {
    let organizerURL: String
    let heartbeatInterval: Duration
    let counters = Counters()
    let heartbeatLatency = LatencyRecorder()
    let resultAckLatency = LatencyRecorder()
    /// Handshakes (connect → welcome) in progress at once.
    let connecting: AsyncLimiter
    /// Results sent and not yet acknowledged, across the fleet.
    let inFlight: AsyncLimiter
    /// Answer assignments with a result (ingest); otherwise refuse them.
    let answerAssignments: Bool
    let tests: [TestType]
    private let timeline = Mutex<(firstResultMs: Double?, lastAckMs: Double?)>((nil, nil))
    private let handles = Mutex<[AgentHandle]>([])
    let logger = Logger(label: "earshot-loadgen")

    init(organizerURL: String, heartbeatInterval: Duration, connectConcurrency: Int, resultConcurrency: Int,
         answerAssignments: Bool, tests: [TestType]) {
        self.organizerURL = organizerURL
        self.heartbeatInterval = heartbeatInterval
        connecting = AsyncLimiter(connectConcurrency)
        inFlight = AsyncLimiter(resultConcurrency)
        self.answerAssignments = answerAssignments
        self.tests = tests
    }

    func register(_ handle: AgentHandle) {
        handles.withLock { $0.append(handle) }
    }

    func connectedAgents() -> [AgentHandle] {
        handles.withLock { $0 }
    }

    /// Waits for room under the in-flight limit, notes the send time, writes the result.
    func sendResult(_ result: RunResult, writer: Writer, session: Session) async throws {
        await inFlight.acquire()
        let now = nowMs()
        session.state.withLock { $0.results[result.runID] = now }
        timeline.withLock { if $0.firstResultMs == nil { $0.firstResultMs = now } }
        do {
            try await writer.send(.result(result))
        } catch {
            if session.state.withLock({ $0.results.removeValue(forKey: result.runID) }) != nil { inFlight.release() }
            throw error
        }
        counters.add("results_sent")
    }

    func resultAcknowledged(at ms: Double) {
        timeline.withLock { $0.lastAckMs = ms }
    }

    /// From the first result sent to the last acknowledgement, milliseconds.
    var ingestSpanMs: Double? {
        timeline.withLock { t in t.firstResultMs.flatMap { first in t.lastAckMs.map { $0 - first } } }
    }
}

/// One agent without media: enrolls (or says hello), heartbeats, and answers assignments with
/// synthetic results. Runs until cancelled or refused.
struct SimulatedAgent: Sendable {
    enum Identity: Sendable {
        case token(String)
        case enrolled(agentID: String, credential: String)
    }

    let index: Int
    let name: String
    let site: String
    let labels: [String: String]
    let identity: Identity
    let fleet: Fleet

    func run() async {
        await fleet.connecting.acquire()
        let session = Session()
        let fleet = self.fleet
        @Sendable func releaseRamp() {
            let release = session.state.withLock { s -> Bool in
                defer { s.releasedRamp = true }
                return !s.releasedRamp
            }
            if release { fleet.connecting.release() }
        }
        do {
            let config = WebSocketClientConfiguration(maxFrameSize: WireProtocol.maximumFrameBytes)
            try await WebSocketClient.connect(url: fleet.organizerURL, configuration: config, logger: fleet.logger) {
                inbound, outbound, _ in
                let writer = Writer(outbound: outbound)
                switch identity {
                case .token(let token):
                    try await writer.send(.enroll(EnrollRequest(token: token, name: name, site: site)))
                case .enrolled(let agentID, let credential):
                    session.state.withLock { $0.agentID = agentID }
                    try await writer.send(.hello(hello(agentID: agentID, credential: credential)))
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    defer { group.cancelAll() }
                    for try await message in inbound.messages(maxSize: WireProtocol.maximumFrameBytes) {
                        guard case .text(let text) = message else { continue }
                        let decoded: OrganizerMessage
                        do {
                            decoded = try OrganizerMessage(decoding: Data(text.utf8))
                        } catch {
                            fleet.counters.add("undecodable_frames")
                            continue
                        }
                        switch decoded {
                        case .enrolled(let enrolled):
                            fleet.counters.add("enrolled")
                            session.state.withLock { $0.agentID = enrolled.agentID }
                            try await writer.send(.hello(hello(agentID: enrolled.agentID, credential: enrolled.credential)))
                        case .welcome:
                            let first = session.state.withLock { s -> Bool in
                                defer { s.welcomed = true }
                                return !s.welcomed
                            }
                            guard first else { continue }
                            fleet.counters.add("connected")
                            if let agentID = session.state.withLock({ $0.agentID }) {
                                fleet.register(AgentHandle(agentID: agentID, writer: writer, session: session, fleet: fleet))
                            }
                            releaseRamp()
                            group.addTask { try await heartbeats(writer, session) }
                        case .heartbeatAck(let ack):
                            let now = nowMs()
                            if let sent = session.state.withLock({ $0.heartbeats.removeValue(forKey: ack.seq) }) {
                                fleet.heartbeatLatency.record(now - sent)
                            }
                        case .assign(let assignment):
                            fleet.counters.add("assignments")
                            group.addTask { try await answer(assignment, writer, session) }
                        case .resultAck(let ack):
                            let now = nowMs()
                            if let sent = session.state.withLock({ $0.results.removeValue(forKey: ack.runID) }) {
                                fleet.resultAckLatency.record(now - sent)
                                fleet.resultAcknowledged(at: now)
                                fleet.inFlight.release()
                            }
                            fleet.counters.add(ack.stored ? "results_stored" : "results_refused")
                        case .cancel:
                            fleet.counters.add("cancels")
                        case .error(let error):
                            fleet.counters.add("error_\(error.code.rawValue)")
                            if error.fatal {
                                note("\(name): \(error.code.rawValue): \(error.message)")
                                return
                            }
                        }
                    }
                }
            }
        } catch is CancellationError {
        } catch {
            if !Task.isCancelled {
                fleet.counters.add("connection_errors")
                if fleet.counters["connection_errors"] <= 5 { note("\(name): \(error)") }
            }
        }
        releaseRamp()
        if session.state.withLock({ $0.welcomed }) { fleet.counters.add("disconnected") }
    }

    private func hello(agentID: String, credential: String) -> AgentHello {
        AgentHello(agentID: agentID, credential: credential, name: name, version: "loadgen", site: site, labels: labels,
                   sipContacts: [SIPContact(uri: "sip:earshot@127.0.0.\(1 + index % 250):\(5060 + index % 1000)", transport: "udp")],
                   capabilities: AgentCapabilities(maxConcurrentCalls: 100_000, tests: fleet.tests))
    }

    /// Heartbeats from a random phase inside the interval, so the fleet's are spread out.
    private func heartbeats(_ writer: Writer, _ session: Session) async throws {
        let interval = fleet.heartbeatInterval
        let intervalMs = Double(interval.components.seconds) * 1000 + Double(interval.components.attoseconds) / 1e15
        try await Task.sleep(for: .milliseconds(Int.random(in: 0..<max(1, Int(intervalMs)))))
        var seq: UInt64 = 0
        while !Task.isCancelled {
            seq += 1
            let now = nowMs()
            session.state.withLock { $0.heartbeats[seq] = now }
            try await writer.send(.heartbeat(Heartbeat(seq: seq, sentAt: Date())))
            fleet.counters.add("heartbeats")
            try await Task.sleep(for: interval)
        }
    }

    private func answer(_ assignment: Assignment, _ writer: Writer, _ session: Session) async throws {
        guard fleet.answerAssignments, let agentID = session.state.withLock({ $0.agentID }) else {
            try await writer.send(.accepted(AssignmentAnswer(runID: assignment.runID, accepted: false, reason: "unsupported_test")))
            return
        }
        try await writer.send(.accepted(AssignmentAnswer(runID: assignment.runID, accepted: true)))
        try await fleet.sendResult(Synthetic.result(for: assignment, agentID: agentID), writer: writer, session: session)
    }

}

/// Per-connection state, touched by the reader and the tasks that write.
final class Session: Sendable {
    struct State {
        var agentID: String?
        var welcomed = false
        var releasedRamp = false
        var heartbeats: [UInt64: Double] = [:]
        var results: [String: Double] = [:]
    }

    let state = Mutex(State())
}

/// A connected agent, for senders outside its reader (`ingest --mode unknown`).
struct AgentHandle: Sendable {
    let agentID: String
    let writer: Writer
    let session: Session
    let fleet: Fleet

    /// A result for a run the organizer does not know: it answers stored=false.
    func sendUnknownResult(_ n: Int) async throws {
        let result = RunResult(runID: "loadgen-unknown-\(agentID)-\(n)", agentID: agentID, role: .caller, testType: .p2p,
                               status: .passed)
        try await fleet.sendResult(result, writer: writer, session: session)
    }
}

/// The only writer of one connection's frames.
struct Writer: Sendable {
    let outbound: WebSocketOutboundWriter

    func send(_ message: AgentMessage) async throws {
        try await outbound.writeTextMessage(String(decoding: try message.encoded(), as: UTF8.self))
    }
}

/// Results that look like a real p2p call's: the direction this agent received, a call
/// summary for the caller.
enum Synthetic {
    static func result(for assignment: Assignment, agentID: String) -> RunResult {
        let peer = assignment.peers.first { $0.agentID != agentID }?.agentID ?? "peer"
        let now = Date()
        let received = StreamMetrics(
            from: peer, to: agentID, codec: "PCMU", ptime: 20, packetsSent: 500, packetsExpected: 500, packetsReceived: 499,
            packetsLost: 1, lossPct: 0.2, burstRatio: 1, maxBurst: 1, jitterMeanMs: 1.2, jitterMaxMs: 4.5, rttMs: 0.4,
            oneWayMs: 0.2, oneWaySource: "estimated_rtt_half", jbDiscards: 0, effectiveLossPct: 0.2, rFactor: 92.5,
            mosCQ: 4.39, mosLQ: 4.2, impairments: .init(iS: 1.4, iD: 0.1, ieEff: 0.6, a: 0), dscpSent: 46, dscpReceived: 46,
            audioOK: true, firstPacketMs: 15)
        let call = assignment.role == .caller
            ? CallSummary(callID: "loadgen-\(assignment.runID)", inviteTo180Ms: 2, inviteTo200Ms: 4, answerToFirstRTPMs: 15,
                          plannedDurationS: assignment.call?.durationS, actualDurationS: assignment.call?.durationS, ending: "normal")
            : nil
        return RunResult(runID: assignment.runID, agentID: agentID, role: assignment.role, testType: assignment.testType,
                         status: .passed, startedAt: now, endedAt: now, call: call, streams: [received])
    }
}
