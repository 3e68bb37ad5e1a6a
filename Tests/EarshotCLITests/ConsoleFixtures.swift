import EarshotWire
import Foundation

@testable import EarshotCLI

/// Fixed API values for the console's rendering tests.
enum ConsoleFixtures {
    /// 2026-12-06T21:10:00Z.
    static let now = Date(timeIntervalSince1970: 1_796_591_400)
    static let utc = TimeZone(identifier: "UTC")!

    static func render(width: Int? = nil) -> ConsoleRender { ConsoleRender(now: now, timeZone: utc, width: width) }

    static func at(_ secondsFromNow: Double) -> Date { now.addingTimeInterval(secondsFromNow) }

    static let agents: [AgentInfo] = [
        AgentInfo(id: "a1", name: "alice", site: "hq", labels: ["floor": "3", "role": "desk"], version: "0.1.0", state: .online,
                  sipContacts: [SIPContact(uri: "sip:earshot@127.0.0.1:5071", transport: "udp")], enrolledAt: at(-86_400),
                  lastSeenAt: at(-4), stateSince: at(-3_600), activeRuns: 2),
        AgentInfo(id: "a2", name: "bob", site: "branch-office-north", version: "0.1.0", state: .offline,
                  sipContacts: [SIPContact(uri: "sip:earshot@10.20.30.40:5060", transport: "udp")], enrolledAt: at(-86_400),
                  lastSeenAt: at(-95), stateSince: at(-65)),
        AgentInfo(id: "a3", name: "carol", site: "hq", state: .enrolled, enrolledAt: at(-30)),
    ]

    static let report = Report(
        since: at(-86_400), until: now, suite: "mesh", agents: ["alice", "bob", "carol"],
        cells: [
            Report.Cell(from: "alice", to: "bob", runs: 4, passed: 4, passRatePct: 100, mosMean: 4.41, mosMin: 4.4,
                        lossPctMean: 0, jitterMsMean: 0.42, rttMsMean: 0.31, lastRunAt: at(-60)),
            Report.Cell(from: "bob", to: "alice", runs: 4, passed: 3, degraded: 1, passRatePct: 75, mosMean: 4.2, mosMin: 3.5,
                        lossPctMean: 1.25, jitterMsMean: 3.5, rttMsMean: 0.3, lastRunAt: at(-50)),
            Report.Cell(from: "alice", to: "carol", runs: 2, failed: 1, notRun: 1, passRatePct: 0, lastRunAt: at(-40)),
        ],
        totals: ["passed": 7, "degraded": 1, "failed": 1, "not_run": 1])

    static let ladder: [LadderEntry] = [
        LadderEntry(atMs: 0, direction: "sent", summary: "INVITE", peer: "127.0.0.1:5072",
                    text: "INVITE sip:earshot@127.0.0.1:5072 SIP/2.0\r\nCall-ID: c1\r\n\r\n"),
        LadderEntry(atMs: 1.5, direction: "received", summary: "100 Trying", peer: "127.0.0.1:5072", text: "SIP/2.0 100 Trying"),
        LadderEntry(atMs: 4.25, direction: "received", summary: "200 OK", peer: "127.0.0.1:5072", text: "SIP/2.0 200 OK"),
        LadderEntry(atMs: 5, direction: "sent", summary: "ACK", peer: "127.0.0.1:5072", text: "ACK"),
        LadderEntry(atMs: 45_010, direction: "sent", summary: "UPDATE (session refresh, Session-Expires 90)", peer: "127.0.0.1:5072",
                    text: "UPDATE"),
        LadderEntry(atMs: 45_012.5, direction: "received", summary: "200 OK", peer: "127.0.0.1:5072", text: "SIP/2.0 200 OK"),
        LadderEntry(atMs: 50_000, direction: "sent", summary: "BYE", peer: "127.0.0.1:5072", text: "BYE"),
        LadderEntry(atMs: 50_002, direction: "received", summary: "200 OK", peer: "127.0.0.1:5072", text: "SIP/2.0 200 OK"),
    ]

    static let runDetail = RunDetail(
        run: RunSummary(id: "r-7", suite: "soak", roundID: "rd-2", testType: .soak, status: .degraded,
                        cause: RunCause(code: "quality", detail: "MOS 3.50 below 3.60", agentID: "a2"),
                        plannedAt: at(-120), startAt: at(-118), endedAt: at(-68), plannedDurationS: 50,
                        participants: ["alice", "bob"], mosMin: 3.5, lossPctMax: 2.5),
        participants: [
            ParticipantInfo(agentID: "a1", name: "alice", site: "hq", role: .caller, status: .passed,
                            cause: RunCause(code: "normal"), reportedAt: at(-67)),
            ParticipantInfo(agentID: "a2", name: "bob", site: "hq", role: .callee, status: .degraded,
                            cause: RunCause(code: "quality", detail: "MOS 3.50 below 3.60"), reportedAt: at(-66)),
        ],
        directions: [
            StreamMetrics(from: "a1", to: "a2", codec: "PCMU", ptime: 20, packetsExpected: 2500, packetsReceived: 2438,
                          packetsLost: 62, lossPct: 2.48, burstRatio: 1.4, maxBurst: 5, jitterMeanMs: 3.25, jitterMaxMs: 11,
                          rttMs: 0.42, oneWayMs: 0.21, oneWaySource: "estimated_rtt_half", mosCQ: 3.5, mosLQ: 3.61,
                          dscpSent: 46, dscpReceived: 46, audioOK: true),
            StreamMetrics(from: "a2", to: "a1", codec: "PCMU", ptime: 20, packetsExpected: 2500, packetsReceived: 2500,
                          packetsLost: 0, lossPct: 0, burstRatio: 1, jitterMeanMs: 0.4, jitterMaxMs: 1.2, rttMs: 0.4,
                          mosCQ: 4.41, mosLQ: 4.4, dscpSent: 46, dscpReceived: 0, audioOK: true),
        ],
        call: CallSummary(callID: "c1", inviteTo180Ms: 2.1, inviteTo200Ms: 4.25, answerToFirstRTPMs: 19.5,
                          plannedDurationS: 50, actualDurationS: 50.02, ending: "normal", sessionIntervalS: 90,
                          refreshMethod: "UPDATE",
                          refreshes: [CallSummary.Refresh(atS: 45.01, method: "UPDATE", statusCode: 200, outcome: "ok")]),
        dtmf: DTMFSummary(sent: "12#", received: "12", sentDigits: [DTMFDigit(digit: "1", offsetMs: 1000), DTMFDigit(digit: "2", offsetMs: 1500),
                                                                   DTMFDigit(digit: "#", offsetMs: 2000)],
                          receivedDigits: [DTMFDigit(digit: "1", offsetMs: 1012), DTMFDigit(digit: "2", offsetMs: 1511.5)]),
        evidence: ["a1": Evidence(ladder: Array(ladder.prefix(4)), mediaSeconds: [MediaSecond(second: 0, sent: 50, received: 49, lost: 1, jitterMs: 2.5)],
                                  notes: ["loss burst of 5 at 12 s"])],
        thresholds: Thresholds())

    static func summary(_ id: String, _ status: RunStatus, mos: Double? = nil, loss: Double? = nil,
                        participants: [String] = ["alice", "bob"]) -> RunSummary {
        RunSummary(id: id, suite: "mesh", roundID: "rd-1", testType: .p2p, status: status, plannedAt: at(-30), startAt: at(-29),
                   plannedDurationS: 10, participants: participants, mosMin: mos, lossPctMax: loss)
    }
}
