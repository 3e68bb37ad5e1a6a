import EarshotStore
import EarshotWire
import Foundation

/// A whole hour (1_800_000_000 s = 500,000 h since 1970), so rollup buckets are easy to reason about.
let t0 = Date(timeIntervalSince1970: 1_800_000_000)

func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

func newAgent(_ id: String, _ name: String, site: String = "hq", labels: [String: String] = [:], at date: Date = t0) -> NewAgent {
    NewAgent(id: id, name: name, site: site, labels: labels, credentialHash: "hash-of-\(id)", enrolledAt: date)
}

func hello(_ id: String, _ name: String, activeRuns: [String] = [], spooled: Int = 0) -> AgentHello {
    AgentHello(agentID: id, credential: "secret", name: name, version: "0.4.0", site: "hq", subnet: "10.1.0.0/24",
               labels: ["rack": "r1"], sipContacts: [SIPContact(uri: "sip:earshot@10.1.0.2:5060", transport: "udp")],
               activeRuns: activeRuns, spooled: spooled)
}

/// A store with agents a1/alpha, a2/bravo, a3/charlie.
func storeWithAgents() async throws -> SQLiteStorage {
    let store = try SQLiteStorage.temporary()
    for (id, name) in [("a1", "alpha"), ("a2", "bravo"), ("a3", "charlie")] {
        _ = try await store.createAgent(newAgent(id, name))
    }
    return store
}

func p2pRun(_ id: String, suite: String = "mesh", round: String? = "r1", caller: String, callee: String,
            type: TestType = .p2p, start: Date = t0, status: RunStatus = .scheduled, cause: RunCause? = nil) -> NewRun {
    NewRun(id: id, suite: suite, roundID: round, testType: type, status: status, cause: cause, plannedAt: start,
           startAt: start, deadline: start.addingTimeInterval(60), plannedDurationS: 10, thresholds: .defaults,
           participants: [(caller, .caller), (callee, .callee)])
}

func singleRun(_ id: String, suite: String, agent: String, type: TestType = .register, start: Date = t0) -> NewRun {
    NewRun(id: id, suite: suite, roundID: nil, testType: type, plannedAt: start, startAt: start,
           deadline: start.addingTimeInterval(30), plannedDurationS: 0, thresholds: .defaults,
           participants: [(agent, .registrant)])
}

func stream(_ from: String, _ to: String, mos: Double?, loss: Double = 0, jitter: Double? = nil, rtt: Double? = nil) -> StreamMetrics {
    StreamMetrics(from: from, to: to, codec: "PCMU", ptime: 20, packetsSent: 500, packetsExpected: 500,
                  packetsReceived: 500 - Int(loss * 5), packetsLost: Int(loss * 5), lossPct: loss, maxBurst: 0,
                  jitterMeanMs: jitter, jitterMaxMs: jitter.map { $0 * 2 }, rttMs: rtt, jbDiscards: 0, mosCQ: mos)
}

func result(_ run: String, _ agent: String, role: ParticipantRole = .caller, status: RunStatus = .passed,
            streams: [StreamMetrics] = [], evidence: Evidence? = nil, call: CallSummary? = nil) -> RunResult {
    RunResult(runID: run, agentID: agent, role: role, testType: .p2p, status: status, startedAt: t0,
              endedAt: at(10), call: call, streams: streams, evidence: evidence)
}

/// Creates, reports (both sides) and finishes one p2p run.
func finishedRun(_ store: SQLiteStorage, _ id: String, suite: String = "mesh", caller: String, callee: String,
                 type: TestType = .p2p, status: RunStatus, endedAt: Date, forward: Double?, backward: Double?,
                 loss: Double = 0, jitter: Double? = nil, rtt: Double? = nil) async throws {
    try await store.createRuns([p2pRun(id, suite: suite, caller: caller, callee: callee, type: type,
                                       start: endedAt.addingTimeInterval(-15))])
    let directions = [stream(caller, callee, mos: forward, loss: loss, jitter: jitter, rtt: rtt),
                      stream(callee, caller, mos: backward, loss: loss, jitter: jitter, rtt: rtt)]
    _ = try await store.ingest([result(id, caller, status: status, streams: [directions[1]]),
                                result(id, callee, role: .callee, status: status, streams: [directions[0]])],
                               receivedAt: endedAt)
    try await store.finishRun(RunCompletion(runID: id, status: status,
                                            cause: status == .passed ? nil : RunCause(code: status == .degraded ? "quality" : "rejected"),
                                            endedAt: endedAt, directions: directions))
}

func isClose(_ a: Double?, _ b: Double) -> Bool {
    guard let a else { return false }
    return abs(a - b) < 1e-9
}
