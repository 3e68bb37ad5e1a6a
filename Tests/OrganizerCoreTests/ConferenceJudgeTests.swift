import EarshotWire
import Foundation
import OrganizerCore
import Testing

/// A conference of alice, bob and carol (join order) on bridge agent "br", alice sending 159#.
enum ConfFixture {
    static let ids = ["ag_alice", "ag_bob", "ag_carol"]
    static let names = ["alice", "bob", "carol"]
    static let tones = [1750, 1850, 1950]
    static let bridge = "ag_br"
    static let sites = ["ag_alice": "hq", "ag_bob": "site-b", "ag_carol": "hq", "ag_br": "hq"]
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func plan(mode: ConferenceBridgeMode = .agent, dtmf: String? = "159#", dtmfMode: DTMFRelayMode = .relay)
        -> ConferenceAssignment {
        ConferenceAssignment(
            conferenceID: "conf-r1", mode: mode,
            uri: mode == .uri ? "sip:room100@pbx.example.com" : "sip:conf-r1@10.0.0.9:5060",
            members: (0..<3).map { ConferenceMember(agentID: ids[$0], name: names[$0], toneHz: tones[$0], joinOffsetS: Double($0)) },
            durationS: 20, dtmf: dtmf, dtmfSender: dtmf == nil ? nil : ids[0], dtmfMode: dtmfMode)
    }

    static func facts(deadlinePassed: Bool = false, lost: Set<String> = [], external: Bool = false,
                      dtmf: String? = "159#", dtmfMode: DTMFRelayMode = .relay) -> RunFacts {
        RunFacts(deadlinePassed: deadlinePassed, lost: lost, conference: plan(mode: external ? .uri : .agent, dtmf: dtmf, dtmfMode: dtmfMode),
                 bridgeAgentID: external ? nil : bridge, sites: sites)
    }

    static func participants(external: Bool = false) -> [RunParticipant] {
        (external ? [] : [RunParticipant(agentID: bridge, role: .bridge)])
            + ids.map { RunParticipant(agentID: $0, role: .participant) }
    }

    static func stream(_ from: String, _ to: String, measuredBy: String = "receiver", loss: Double = 0,
                       mos: Double? = 4.3, sent: Int? = nil) -> StreamMetrics {
        StreamMetrics(from: from, to: to, measuredBy: measuredBy, codec: "PCMU", ptime: 20, packetsSent: sent,
                      packetsExpected: 1000, packetsReceived: 1000 - Int(loss * 10), packetsLost: Int(loss * 10),
                      lossPct: loss, jitterMeanMs: 2, rttMs: measuredBy == "rtcp" ? 30 : nil, mosCQ: mos)
    }

    static func tone(_ speaker: Int, _ verdict: String = "continuous") -> ToneHeard {
        ToneHeard(agentID: ids[speaker], toneHz: tones[speaker], fraction: verdict == "absent" ? 0 : verdict == "continuous" ? 0.99 : 0.55,
                  levelDb: verdict == "absent" ? nil : -26, verdict: verdict)
    }

    /// Participant `i`: hears the others continuously, not itself; alice sent 159#, the others received it.
    static func participant(_ i: Int, status: RunStatus = .passed, cause: RunCause? = RunCause(code: "normal"),
                            heard: [Int: String] = [:], ownTone: String = "absent", received: String = "159#",
                            sent: String = "159#", far: String = bridge, upLoss: Double = 0) -> RunResult {
        let others = (0..<3).filter { $0 != i }
        let report = ParticipantConferenceReport(
            joinMs: 40 + Double(i), joinedAtMs: Double(i) * 1000 + 45, leftAtMs: 20000,
            heard: others.map { tone($0, heard[$0] ?? "continuous") }, ownTone: tone(i, ownTone))
        return RunResult(runID: "r1", agentID: ids[i], role: .participant, testType: .conference, status: status, cause: cause,
                         startedAt: t0, endedAt: t0.addingTimeInterval(20),
                         streams: [stream(far, ids[i]), stream(ids[i], far, measuredBy: "rtcp", loss: upLoss, mos: nil, sent: 1000)],
                         dtmf: i == 0 ? DTMFSummary(sent: sent) : DTMFSummary(received: received),
                         conference: report)
    }

    static func bridgeResult(upLoss: [Int: Double] = [:], only: [Int] = [0, 1, 2], status: RunStatus = .passed,
                             received: String = "159#", mode: DTMFRelayMode = .relay, admitted: [Int: Bool] = [:]) -> RunResult {
        let legs = only.map {
            BridgeLegReport(agentID: ids[$0], from: "sip:\(names[$0])@10.0.0.\($0 + 1)", callID: "c\($0)",
                            joinedAtMs: Double($0) * 1000 + 40, leftAtMs: 20000, admitted: admitted[$0] ?? true,
                            dtmfReceived: $0 == 0 ? received : "", dtmfForwarded: $0 == 0 ? 8 : 0, framesMixed: 1000)
        }
        return RunResult(runID: "r1", agentID: bridge, role: .bridge, testType: .conference, status: status,
                         cause: RunCause(code: "normal"), startedAt: t0, endedAt: t0.addingTimeInterval(21),
                         streams: only.map { stream(ids[$0], bridge, loss: upLoss[$0] ?? 0) },
                         bridge: BridgeRunReport(conferenceID: "conf-r1", dtmfMode: mode, maxParticipants: 10,
                                                 peakParticipants: only.count, refused: 0, legs: legs, ticks: 1000))
    }

    static func all() -> [RunResult] { [bridgeResult(), participant(0), participant(1), participant(2)] }

    static func judge(_ results: [RunResult], facts: RunFacts = facts(), thresholds: Thresholds = .defaults,
                      participants: [RunParticipant] = participants()) -> RunVerdict {
        RunJudge.judge(testType: .conference, participants: participants,
                       results: Dictionary(uniqueKeysWithValues: results.map { ($0.agentID, $0) }),
                       thresholds: thresholds, facts: facts)
    }

    static func states(_ v: RunVerdict) -> [String] {
        (v.conference?.hearing ?? []).map(\.state.rawValue)
    }
}

@Suite struct ConferenceJudgeTests {
    typealias F = ConfFixture

    @Test func aFullMatrixPasses() throws {
        let v = F.judge(F.all())
        #expect(v.isFinal)
        #expect(v.status == .passed)
        #expect(v.cause == RunCause(code: "normal"))
        let c = try #require(v.conference)
        #expect(c.conferenceID == "conf-r1")
        #expect(c.mode == .agent)
        #expect(c.bridgeAgentID == F.bridge)
        #expect(c.uri == "sip:conf-r1@10.0.0.9:5060")
        #expect(c.peakParticipants == 3)
        #expect(c.refused == 0)
        #expect(c.legs.map(\.name) == ["alice", "bob", "carol"])
        #expect(c.legs.map(\.site) == ["hq", "site-b", "hq"])
        #expect(c.legs.map(\.toneHz) == [1750, 1850, 1950])
        #expect(c.legs.map(\.joinMs) == [40, 41, 42])
        #expect(c.legs.map(\.status) == [.passed, .passed, .passed])
        // 3 × 3 cells, listener-major in join order, the diagonal clean.
        #expect(c.hearing.map { "\($0.listener)>\($0.speaker)" } == F.ids.flatMap { l in F.ids.map { "\(l)>\($0)" } })
        #expect(F.states(v) == ["clean", "heard", "heard", "heard", "clean", "heard", "heard", "heard", "clean"])
        #expect(c.cell(listener: "ag_carol", speaker: "ag_alice")?.fraction == 0.99)
        #expect(c.cell(listener: "ag_carol", speaker: "ag_alice")?.levelDb == -26)
        #expect(c.dtmf == ConferenceDTMF(sender: "ag_alice", sent: "159#", received: ["ag_bob": "159#", "ag_carol": "159#"],
                                         mode: .relay, bridgeReceived: "159#"))
    }

    @Test func directionsAreEveryLegUpAndDownWithTheirFarEnd() throws {
        let v = F.judge(F.all())
        #expect(v.directions.map { "\($0.from)→\($0.to) \($0.measuredBy)" } == [
            "ag_alice→ag_br receiver", "ag_br→ag_alice receiver", "ag_bob→ag_br receiver", "ag_br→ag_bob receiver",
            "ag_carol→ag_br receiver", "ag_br→ag_carol receiver",
        ])
        // What was sent is the participant's own count.
        #expect(v.directions[0].packetsSent == 1000)
        let leg = try #require(v.conference?.legs[1])
        #expect(leg.up?.from == "ag_bob")
        #expect(leg.down?.to == "ag_bob")
        #expect(v.mosMin == 4.3)
    }

    @Test func aKilledParticipantFailsItsLegOnlyAndTheRun() throws {
        // bob went away mid-conference: no result from him; the bridge lost his leg.
        let results = [F.bridgeResult(only: [0, 2]), F.participant(0, heard: [1: "intermittent"]),
                       F.participant(2, heard: [1: "absent"])]
        let running = F.judge(results, facts: F.facts(lost: ["ag_bob"]))
        #expect(!running.isFinal)
        #expect(running.status == .running)
        #expect(running.missing == ["ag_bob"])
        #expect(running.conference?.legs.map(\.status) == [.passed, .running, .passed])

        let v = F.judge(results, facts: F.facts(deadlinePassed: true, lost: ["ag_bob"]))
        #expect(v.isFinal)
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "leg_failed",
                                    detail: "bob (site-b): agent_lost: went offline during the conference and sent no result",
                                    agentID: "ag_bob"))
        let c = try #require(v.conference)
        #expect(c.legs.map(\.status) == [.passed, .failed, .passed])
        #expect(c.legs[1].cause?.code == "agent_lost")
        #expect(c.legs[1].up == nil)
        #expect(c.legs[1].down == nil)
        // Every cell with bob is unknown (nobody is blamed for not hearing him); the rest stand.
        #expect(F.states(v) == ["clean", "unknown", "heard", "unknown", "unknown", "unknown", "heard", "unknown", "clean"])
        #expect(c.dtmf?.received == ["ag_carol": "159#"])
    }

    @Test func aMissingResultWithoutLossIsATimeout() {
        let v = F.judge([F.bridgeResult(), F.participant(0), F.participant(1)], facts: F.facts(deadlinePassed: true))
        #expect(v.cause == RunCause(code: "leg_failed", detail: "carol (hq): timeout: sent no result by the deadline",
                                    agentID: "ag_carol"))
    }

    @Test func aParticipantThatReportedFailedNamesItsCause() {
        let failed = F.participant(1, status: .failed, cause: RunCause(code: "busy", detail: "Busy Here", statusCode: 486))
        let v = F.judge([F.bridgeResult(), F.participant(0), failed, F.participant(2)])
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "leg_failed", detail: "bob (site-b): rejected (486): Busy Here", agentID: "ag_bob"))
        #expect(v.conference?.legs[1].cause == RunCause(code: "rejected", detail: "Busy Here", statusCode: 486, agentID: "ag_bob"))
    }

    @Test func anOwnToneComingBackIsOwnEcho() {
        let v = F.judge([F.bridgeResult(), F.participant(0), F.participant(1, ownTone: "continuous"), F.participant(2)])
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "own_echo",
                                    detail: "bob hears its own tone back at -26.0 dBov: the bridge does not subtract it",
                                    agentID: "ag_bob"))
        #expect(v.conference?.cell(listener: "ag_bob", speaker: "ag_bob")?.state == .echo)
    }

    @Test func aMissingCellIsNotHeardNamingBoth() {
        let v = F.judge([F.bridgeResult(), F.participant(0), F.participant(1), F.participant(2, heard: [0: "absent"])])
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "not_heard", detail: "carol does not hear alice", agentID: "ag_carol"))
        #expect(v.conference?.cell(listener: "ag_carol", speaker: "ag_alice")?.state == .missing)
        #expect(v.conference?.cell(listener: "ag_carol", speaker: "ag_alice")?.fraction == 0)
    }

    @Test func aSpeakerNobodyHearsIsTheAgentOfNotHeard() {
        let v = F.judge([F.bridgeResult(), F.participant(0, heard: [2: "absent"]), F.participant(1, heard: [2: "absent"]),
                         F.participant(2)])
        #expect(v.cause == RunCause(code: "not_heard", detail: "alice does not hear carol; bob does not hear carol",
                                    agentID: "ag_carol"))
    }

    @Test func dtmfRelayedToEveryonePasses() {
        let v = F.judge(F.all())
        #expect(v.status == .passed)
        #expect(v.conference?.dtmf?.received.values.sorted() == ["159#", "159#"])
    }

    @Test func aParticipantMissingDigitsIsDTMFLost() {
        let v = F.judge([F.bridgeResult(), F.participant(0), F.participant(1, received: "15"), F.participant(2)])
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "dtmf_lost", detail: "bob received \"15\" of \"159#\"; the bridge received \"159#\"",
                                    agentID: "ag_bob"))
    }

    @Test func aSenderThatDidNotSendThemAllIsDTMFLostAtTheSender() {
        let v = F.judge([F.bridgeResult(), F.participant(0, sent: "15"), F.participant(1), F.participant(2)])
        #expect(v.cause == RunCause(code: "dtmf_lost", detail: "alice sent \"15\" of \"159#\"", agentID: "ag_alice"))
    }

    @Test func dropModeExpectsNobodyToReceiveDigits() {
        let facts = F.facts(dtmfMode: .drop)
        let quiet = F.judge([F.bridgeResult(mode: .drop), F.participant(0), F.participant(1, received: ""),
                             F.participant(2, received: "")], facts: facts)
        #expect(quiet.status == .passed)
        #expect(quiet.conference?.dtmf?.mode == .drop)
        #expect(quiet.conference?.dtmf?.bridgeReceived == "159#")
        let leaked = F.judge([F.bridgeResult(mode: .drop), F.participant(0), F.participant(1, received: ""),
                              F.participant(2, received: "159#")], facts: facts)
        #expect(leaked.status == .failed)
        #expect(leaked.cause == RunCause(code: "dtmf_mismatch", detail: "carol received \"159#\" although the bridge drops DTMF",
                                         agentID: "ag_carol"))
    }

    @Test func noDigitsInThePlanMeansNoDTMFCheck() {
        let v = F.judge([F.bridgeResult(), F.participant(0, sent: ""), F.participant(1, received: ""), F.participant(2, received: "")],
                        facts: F.facts(dtmf: nil))
        #expect(v.status == .passed)
        #expect(v.conference?.dtmf == nil)
    }

    @Test func anExternalRoomHasNoBridgeAndTakesUpFromRTCP() throws {
        let results = (0..<3).map { F.participant($0, far: externalRoomLabel, upLoss: $0 == 2 ? 1 : 0) }
        let v = F.judge(results, facts: F.facts(external: true), participants: F.participants(external: true))
        #expect(v.status == .passed)
        let c = try #require(v.conference)
        #expect(c.mode == .uri)
        #expect(c.bridgeAgentID == nil)
        #expect(c.uri == "sip:room100@pbx.example.com")
        #expect(c.peakParticipants == nil)
        #expect(c.legs.map { $0.up?.measuredBy } == ["rtcp", "rtcp", "rtcp"])
        #expect(c.legs.map { $0.up?.to } == ["room", "room", "room"])
        #expect(c.legs[2].up?.lossPct == 1)
        #expect(c.legs.map { $0.down?.from } == ["room", "room", "room"])
        #expect(c.dtmf?.mode == nil)
        #expect(c.dtmf?.bridgeReceived == nil)
        #expect(v.directions.count == 6)
    }

    @Test func thresholdsOnOneLegDegradeItAndTheRun() throws {
        let v = F.judge([F.bridgeResult(upLoss: [1: 5]), F.participant(0), F.participant(1), F.participant(2)])
        #expect(v.status == .degraded)
        #expect(v.cause == RunCause(code: "quality", detail: "loss 5% > 3% (ag_bob → ag_br)"))
        #expect(v.breaches == [ThresholdBreach(metric: .loss, value: 5, limit: 3, from: "ag_bob", to: "ag_br")])
        let c = try #require(v.conference)
        #expect(c.legs.map(\.status) == [.passed, .degraded, .passed])
        #expect(c.legs[1].cause == RunCause(code: "quality", detail: "loss 5% > 3% (ag_bob → ag_br)", agentID: "ag_bob"))
        #expect(v.lossPctMax == 5)
    }

    @Test func aPartialCellDegradesTheRun() {
        let v = F.judge([F.bridgeResult(), F.participant(0, heard: [1: "intermittent"]), F.participant(1), F.participant(2)])
        #expect(v.status == .degraded)
        #expect(v.cause == RunCause(code: "quality", detail: "alice hears bob only in part (55% of the time)"))
        #expect(v.conference?.cell(listener: "ag_alice", speaker: "ag_bob")?.state == .partial)
    }

    @Test func aSlowJoinIsASetupBreachOfItsLeg() {
        let v = F.judge(F.all(), thresholds: Thresholds(setupMsMax: 41))
        #expect(v.status == .degraded)
        #expect(v.breaches == [ThresholdBreach(metric: .setup, value: 42, limit: 41, from: "ag_carol", to: "ag_br")])
        #expect(v.conference?.legs.map(\.status) == [.passed, .passed, .degraded])
    }

    @Test func aLegTheBridgeDidNotAdmitFails() {
        let v = F.judge([F.bridgeResult(admitted: [2: false]), F.participant(0), F.participant(1), F.participant(2)])
        #expect(v.status == .failed)
        #expect(v.cause?.code == "leg_failed")
        #expect(v.cause?.detail == "carol (hq): not_admitted: the bridge did not admit it to the conference (PIN not received)")
    }

    @Test func theBridgeMissingFailsTheRunNamingTheBridge() {
        let v = F.judge([F.participant(0), F.participant(1), F.participant(2)], facts: F.facts(deadlinePassed: true, lost: ["ag_br"]))
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "agent_lost", detail: "bridge ag_br went offline during the conference and sent no result",
                                    agentID: "ag_br"))
        // The legs fall back to the participants' RTCP view.
        #expect(v.conference?.legs.map { $0.up?.measuredBy } == ["rtcp", "rtcp", "rtcp"])
    }

    @Test func aParticipantOfflineAtPlanningIsNotRun() {
        var facts = F.facts()
        facts.offlineAtPlanning = ["ag_carol"]
        let v = F.judge([], facts: facts)
        #expect(v.isFinal)
        #expect(v.status == .notRun)
        #expect(v.cause == RunCause(code: "agent_offline", detail: "participant carol was offline when the run was planned",
                                    agentID: "ag_carol"))
    }

    @Test func aParticipantThatRefusedMakesTheRunNotRun() {
        let refused = F.participant(1, status: .notRun, cause: RunCause(code: "capacity", detail: "at its budget"))
        let v = F.judge([F.bridgeResult(), F.participant(0), refused, F.participant(2)])
        #expect(v.status == .notRun)
        #expect(v.cause == RunCause(code: "capacity", detail: "bob (site-b): capacity: at its budget", agentID: "ag_bob"))
    }

    @Test func judgingAgainWithALateResultGivesTheRealVerdict() {
        let first = F.judge([F.bridgeResult(), F.participant(0), F.participant(1)], facts: F.facts(deadlinePassed: true))
        #expect(first.cause?.code == "leg_failed")
        let again = F.judge(F.all(), facts: F.facts(deadlinePassed: true))
        #expect(again.status == .passed)
    }
}
