import EarshotWire
import Foundation
import OrganizerCore
import Testing

/// Results of a p2p run between caller "a" and callee "b", built per test.
enum Fixture {
    static let a = "agent-a"
    static let b = "agent-b"
    static let pair = [RunParticipant(agentID: a, role: .caller), RunParticipant(agentID: b, role: .callee)]
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func stream(from: String, to: String, measuredBy: String = "receiver", loss: Double = 0, mos: Double? = 4.3,
                       jitter: Double? = 2, rtt: Double? = 20, audioOK: Bool? = true, received: Int = 500) -> StreamMetrics {
        StreamMetrics(from: from, to: to, measuredBy: measuredBy, codec: "PCMU", ptime: 20, packetsExpected: 500,
                      packetsReceived: received, packetsLost: 500 - received, lossPct: loss, jitterMeanMs: jitter,
                      rttMs: rtt, mosCQ: mos, audioOK: audioOK)
    }

    static func call(ending: String = "normal", detail: String? = nil, status: Int? = nil, setupMs: Double = 120,
                     actual: Double = 10, refreshes: [CallSummary.Refresh] = []) -> CallSummary {
        CallSummary(callID: "c1", inviteTo180Ms: 20, inviteTo200Ms: setupMs, answerToFirstRTPMs: 30, plannedDurationS: 10,
                    actualDurationS: actual, ending: ending, endingDetail: detail, endingStatusCode: status,
                    refreshes: refreshes)
    }

    static func caller(status: RunStatus = .passed, cause: RunCause? = RunCause(code: "normal"), call: CallSummary? = call(),
                       streams: [StreamMetrics]? = nil, dtmf: DTMFSummary? = nil, type: TestType = .p2p,
                       evidence: Evidence? = nil) -> RunResult {
        RunResult(runID: "r1", agentID: a, role: .caller, testType: type, status: status, cause: cause,
                  startedAt: t0, endedAt: t0.addingTimeInterval(10), call: call,
                  streams: streams ?? [stream(from: b, to: a), stream(from: a, to: b, measuredBy: "rtcp", mos: nil)],
                  dtmf: dtmf, evidence: evidence)
    }

    static func callee(status: RunStatus = .passed, cause: RunCause? = RunCause(code: "normal"), call: CallSummary? = call(),
                       streams: [StreamMetrics]? = nil, dtmf: DTMFSummary? = nil, type: TestType = .p2p) -> RunResult {
        RunResult(runID: "r1", agentID: b, role: .callee, testType: type, status: status, cause: cause,
                  startedAt: t0, endedAt: t0.addingTimeInterval(10), call: call,
                  streams: streams ?? [stream(from: a, to: b), stream(from: b, to: a, measuredBy: "rtcp", mos: nil)],
                  dtmf: dtmf)
    }

    static func judge(_ type: TestType = .p2p, _ results: [RunResult], facts: RunFacts = RunFacts(deadlinePassed: false),
                      thresholds: Thresholds = .defaults, participants: [RunParticipant] = pair) -> RunVerdict {
        RunJudge.judge(testType: type, participants: participants,
                       results: Dictionary(uniqueKeysWithValues: results.map { ($0.agentID, $0) }),
                       thresholds: thresholds, facts: facts)
    }
}

@Suite struct RunJudgeMergeTests {
    typealias F = Fixture

    @Test func bothSidesPassedMergesEachDirectionFromItsReceiver() {
        var forward = F.stream(from: F.a, to: F.b, mos: 4.1)
        forward.jitterMeanMs = 3.5
        let backward = F.stream(from: F.b, to: F.a, mos: 4.2)
        let v = F.judge(.p2p, [F.caller(streams: [backward, F.stream(from: F.a, to: F.b, measuredBy: "rtcp", mos: 1)]),
                               F.callee(streams: [forward, F.stream(from: F.b, to: F.a, measuredBy: "rtcp", mos: 1)])])
        #expect(v.isFinal)
        #expect(v.status == .passed)
        #expect(v.cause == RunCause(code: "normal"))
        #expect(v.directions.count == 2)
        #expect(v.directions[0].from == F.a && v.directions[0].to == F.b)
        #expect(v.directions[0].measuredBy == "receiver")
        #expect(v.directions[0].mosCQ == 4.1)
        #expect(v.directions[0].jitterMeanMs == 3.5)
        #expect(v.directions[1].from == F.b && v.directions[1].to == F.a)
        #expect(v.directions[1].mosCQ == 4.2)
        #expect(v.mosMin == 4.1)
        #expect(v.missing.isEmpty)
    }

    @Test func callerSummaryIsTheRunsCall() {
        let v = F.judge(.p2p, [F.caller(call: F.call(setupMs: 111)), F.callee(call: F.call(setupMs: 999))])
        #expect(v.call?.inviteTo200Ms == 111)
    }

    @Test func missingCalleeUsesCallersRTCPViewOfTheForwardDirection() {
        let v = F.judge(.p2p, [F.caller()], facts: RunFacts(deadlinePassed: true))
        #expect(v.isFinal)
        #expect(v.status == .failed)
        #expect(v.cause?.code == "timeout")
        #expect(v.cause?.agentID == F.b)
        #expect(v.cause?.detail == "callee agent-b sent no result by the deadline")
        #expect(v.directions.map(\.measuredBy) == ["rtcp", "receiver"])
        #expect(v.directions[0].from == F.a && v.directions[0].to == F.b)
        #expect(v.missing == [F.b])
    }

    @Test func missingCallerUsesCalleesCallSummaryAndRTCPView() {
        let v = F.judge(.p2p, [F.callee(call: F.call(setupMs: 77))], facts: RunFacts(deadlinePassed: true))
        #expect(v.cause?.code == "timeout")
        #expect(v.cause?.agentID == F.a)
        #expect(v.call?.inviteTo200Ms == 77)
        #expect(v.directions.map(\.measuredBy) == ["receiver", "rtcp"])
        #expect(v.directions[1].from == F.b && v.directions[1].to == F.a)
    }

    @Test func streamsLabelledWithURIsAreMatchedByMeasurerAndRelabelled() {
        let foreign = F.stream(from: "sip:x@10.0.0.1", to: "sip:y@10.0.0.2", mos: 3.9)
        let v = F.judge(.p2p, [F.caller(streams: [F.stream(from: "sip:y", to: "sip:x", mos: 4.0)]),
                               F.callee(streams: [foreign])])
        #expect(v.directions.count == 2)
        #expect(v.directions[0].from == F.a && v.directions[0].to == F.b && v.directions[0].mosCQ == 3.9)
        #expect(v.directions[1].from == F.b && v.directions[1].to == F.a && v.directions[1].mosCQ == 4.0)
    }

    @Test func evidenceIsKeptPerAgent() {
        let evidence = Evidence(ladder: [LadderEntry(atMs: 0, direction: "sent", summary: "INVITE", text: "INVITE sip:b SIP/2.0")],
                                notes: ["n"])
        let v = F.judge(.p2p, [F.caller(evidence: evidence), F.callee()])
        #expect(v.evidence == [F.a: evidence])
    }
}

@Suite struct RunJudgeFinalityTests {
    typealias F = Fixture

    @Test func notFinalWhileAResultIsMissingBeforeTheDeadline() {
        let v = F.judge(.p2p, [F.caller()], facts: RunFacts(deadlinePassed: false))
        #expect(!v.isFinal)
        #expect(v.status == .running)
        #expect(v.cause == nil)
        #expect(v.missing == [F.b])
        // The data that arrived is merged already.
        #expect(v.directions.count == 2)
    }

    @Test func lostParticipantStillWaitsForTheDeadline() {
        // Its spooled result may still arrive after it reconnects.
        let v = F.judge(.p2p, [F.caller()], facts: RunFacts(deadlinePassed: false, lost: [F.b]))
        #expect(!v.isFinal)
    }

    @Test func lostParticipantAfterTheDeadlineIsAgentLost() {
        let v = F.judge(.p2p, [F.caller(status: .failed, cause: RunCause(code: "audio_missing"))],
                        facts: RunFacts(deadlinePassed: true, lost: [F.b]))
        #expect(v.status == .failed)
        #expect(v.cause?.code == "agent_lost")
        #expect(v.cause?.agentID == F.b)
        #expect(v.cause?.detail == "callee agent-b went offline during the run and sent no result; caller reported audio_missing")
    }

    @Test func timeoutDetailNamesTheOtherSidesFailure() {
        let v = F.judge(.p2p, [F.caller(status: .failed, cause: RunCause(code: "rejected", detail: "Busy Here", statusCode: 486))],
                        facts: RunFacts(deadlinePassed: true))
        #expect(v.cause?.code == "timeout")
        #expect(v.cause?.detail == "callee agent-b sent no result by the deadline; caller reported rejected (486): Busy Here")
    }

    @Test func noResultsAtAllAfterTheDeadlineIsTimeoutOfTheCaller() {
        let v = F.judge(.p2p, [], facts: RunFacts(deadlinePassed: true))
        #expect(v.isFinal)
        #expect(v.status == .failed)
        #expect(v.cause?.code == "timeout")
        #expect(v.cause?.agentID == F.a)
        #expect(v.directions.isEmpty)
        #expect(v.missing == [F.a, F.b])
    }

    @Test func offlineAtPlanningIsNotRunEvenBeforeTheDeadline() {
        let v = F.judge(.p2p, [], facts: RunFacts(deadlinePassed: false, offlineAtPlanning: [F.b]))
        #expect(v.isFinal)
        #expect(v.status == .notRun)
        #expect(v.cause == RunCause(code: "agent_offline", detail: "callee agent-b was offline when the run was planned",
                                    agentID: F.b))
    }

    @Test func participantThatRefusedMakesTheRunNotRun() {
        let refused = F.callee(status: .notRun, cause: RunCause(code: "capacity", detail: "20 calls running"), call: nil,
                               streams: [])
        let v = F.judge(.p2p, [F.caller(status: .failed, cause: RunCause(code: "no_answer")), refused])
        #expect(v.status == .notRun)
        #expect(v.cause == RunCause(code: "capacity", detail: "20 calls running", agentID: F.b))
    }

    @Test func lateResultRejudgedGivesTheRealVerdict() {
        let early = F.judge(.p2p, [F.caller()], facts: RunFacts(deadlinePassed: true, lost: [F.b]))
        #expect(early.cause?.code == "agent_lost")
        let late = F.judge(.p2p, [F.caller(), F.callee()], facts: RunFacts(deadlinePassed: true, lost: [F.b]))
        #expect(late.status == .passed)
    }

    @Test func noParticipantsIsNotRun() {
        let v = F.judge(.p2p, [], participants: [])
        #expect(v.isFinal)
        #expect(v.status == .notRun)
    }
}

@Suite struct RunJudgeCallFailureTests {
    typealias F = Fixture

    @Test func rejectedKeepsTheStatusCode() {
        let v = F.judge(.p2p, [F.caller(status: .failed, cause: nil, call: F.call(ending: "rejected", detail: "Not Found", status: 404),
                                        streams: []),
                               F.callee(status: .failed, cause: RunCause(code: "no_answer", detail: "no INVITE arrived"),
                                        call: nil, streams: [])])
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "rejected", detail: "Not Found", statusCode: 404, agentID: F.a))
    }

    @Test func engineCodesAreNormalized() {
        #expect(RunJudge.normalizedCode("busy") == "rejected")
        #expect(RunJudge.normalizedCode("authentication_failed") == "rejected")
        #expect(RunJudge.normalizedCode("transaction_timeout") == "transport_error")
        #expect(RunJudge.normalizedCode("media_timeout") == "audio_missing")
        #expect(RunJudge.normalizedCode("ack_timeout") == "ack_timeout")
        let v = F.judge(.p2p, [F.caller(status: .failed, cause: RunCause(code: "busy", statusCode: 486), streams: []),
                               F.callee(status: .failed, cause: nil, call: nil, streams: [])])
        #expect(v.cause?.code == "rejected")
        #expect(v.cause?.statusCode == 486)
    }

    @Test func calleeOnlyFailureIsReportedAtTheCallee() {
        let v = F.judge(.p2p, [F.caller(), F.callee(status: .failed, cause: RunCause(code: "ack_timeout"), call: F.call(ending: "ack_timeout"))])
        #expect(v.cause == RunCause(code: "ack_timeout", agentID: F.b))
    }

    @Test func audioMissingOnOneDirection() {
        let silent = F.stream(from: F.a, to: F.b, audioOK: false, received: 0)
        let v = F.judge(.p2p, [F.caller(), F.callee(streams: [silent])])
        #expect(v.status == .failed)
        #expect(v.cause?.code == "audio_missing")
        #expect(v.cause?.agentID == F.b)
        #expect(v.cause?.detail == "no audio agent-a → agent-b: 0 of 500 packets, tone not detected")
    }

    @Test func audioMissingOutranksTheSidesOwnAudioClaim() {
        let silent = F.stream(from: F.b, to: F.a, audioOK: false, received: 12)
        let v = F.judge(.p2p, [F.caller(status: .failed, cause: RunCause(code: "audio_missing", detail: "tone 1850 not heard"),
                                        streams: [silent]), F.callee()])
        #expect(v.cause?.code == "audio_missing")
        #expect(v.cause?.detail == "no audio agent-b → agent-a: 12 of 500 packets, tone not detected")
    }

    @Test func connectedCallWithoutAnyMeasurementOfADirectionIsAudioMissing() {
        let v = F.judge(.p2p, [F.caller(streams: [F.stream(from: F.b, to: F.a)]), F.callee(streams: [])])
        #expect(v.cause?.code == "audio_missing")
        #expect(v.cause?.detail == "no measurement of audio agent-a → agent-b from either side")
    }

    @Test func sideFailedForAnUnseenReasonStaysFailed() {
        let v = F.judge(.p2p, [F.caller(status: .failed, cause: RunCause(code: "audio_missing", detail: "tone not detected")),
                               F.callee()])
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "audio_missing", detail: "tone not detected", agentID: F.a))
    }

    @Test func failureWinsOverQuality() {
        let bad = F.stream(from: F.a, to: F.b, loss: 40, mos: 1.5)
        let v = F.judge(.p2p, [F.caller(status: .failed, cause: RunCause(code: "transport_error", detail: "TCP reset")),
                               F.callee(streams: [bad])])
        #expect(v.status == .failed)
        #expect(v.cause?.code == "transport_error")
        // Breaches are still listed for the alert rules.
        #expect(v.breaches.map(\.metric) == [.mos, .loss])
    }
}

@Suite struct RunJudgeSoakTests {
    typealias F = Fixture

    @Test func sessionExpiredGivesTheDropTimeAndTheFailedRefresh() {
        let refreshes = [CallSummary.Refresh(atS: 45, method: "UPDATE", statusCode: 200, outcome: "refreshed"),
                         CallSummary.Refresh(atS: 1770, method: "UPDATE", outcome: "unanswered")]
        let call = F.call(ending: "session_expired", detail: "refresh UPDATE unanswered", actual: 1802.4, refreshes: refreshes)
        let v = F.judge(.soak, [F.caller(status: .failed, cause: RunCause(code: "session_expired"), call: call, type: .soak),
                                F.callee(status: .failed, cause: RunCause(code: "normal"), type: .soak)])
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "session_expired", detail: "dropped at 30:02, refresh UPDATE unanswered", agentID: F.a))
    }

    @Test func sessionExpiredSeenOnlyByTheCallee() {
        let refreshes = [CallSummary.Refresh(atS: 40, method: "INVITE", statusCode: 405, outcome: "rejected")]
        let v = F.judge(.soak, [F.caller(type: .soak),
                                F.callee(status: .failed, cause: nil,
                                         call: F.call(ending: "session_expired", actual: 95, refreshes: refreshes), type: .soak)])
        #expect(v.cause == RunCause(code: "session_expired", detail: "dropped at 1:35, refresh INVITE rejected 405", agentID: F.b))
    }

    @Test func sessionExpiredWithoutRefreshesUsesTheEngineDetail() {
        let call = F.call(ending: "session_expired", detail: "no refresh received", actual: 4515)
        let v = F.judge(.soak, [F.caller(status: .failed, cause: nil, call: call, type: .soak), F.callee(type: .soak)])
        #expect(v.cause?.detail == "dropped at 75:15, no refresh received")
    }

    @Test func minutesSecondsFormat() {
        #expect(RunJudge.minutesSeconds(0) == "0:00")
        #expect(RunJudge.minutesSeconds(59.9) == "0:59")
        #expect(RunJudge.minutesSeconds(1802) == "30:02")
        #expect(RunJudge.minutesSeconds(3600) == "60:00")
    }

    @Test func soakThatRefreshedPasses() {
        let refreshes = [CallSummary.Refresh(atS: 45, method: "UPDATE", statusCode: 200, outcome: "refreshed")]
        let v = F.judge(.soak, [F.caller(call: F.call(actual: 200, refreshes: refreshes), type: .soak), F.callee(type: .soak)])
        #expect(v.status == .passed)
        #expect(v.call?.refreshes == refreshes)
    }
}

@Suite struct RunJudgeDTMFTests {
    typealias F = Fixture

    @Test func matchingDigitsPass() {
        let sent = DTMFSummary(sent: "123#", sentDigits: [DTMFDigit(digit: "1", offsetMs: 1000)])
        let received = DTMFSummary(received: "123#", receivedDigits: [DTMFDigit(digit: "1", offsetMs: 1040)])
        let v = F.judge(.dtmf, [F.caller(dtmf: sent, type: .dtmf), F.callee(dtmf: received, type: .dtmf)],
                        facts: RunFacts(expectedDTMF: "123#"))
        #expect(v.status == .passed)
        #expect(v.dtmf == DTMFSummary(sent: "123#", received: "123#", sentDigits: sent.sentDigits,
                                      receivedDigits: received.receivedDigits))
    }

    @Test func mismatchFailsAtTheCallee() {
        let v = F.judge(.dtmf, [F.caller(dtmf: DTMFSummary(sent: "123#"), type: .dtmf),
                                F.callee(dtmf: DTMFSummary(received: "12#"), type: .dtmf)],
                        facts: RunFacts(expectedDTMF: "123#"))
        #expect(v.status == .failed)
        #expect(v.cause == RunCause(code: "dtmf_mismatch", detail: "sent \"123#\", received \"12#\"", agentID: F.b))
    }

    @Test func callerThatSentTheWrongDigitsFailsAtTheCaller() {
        let v = F.judge(.dtmf, [F.caller(dtmf: DTMFSummary(sent: "12"), type: .dtmf),
                                F.callee(dtmf: DTMFSummary(received: "12"), type: .dtmf)],
                        facts: RunFacts(expectedDTMF: "123#"))
        #expect(v.cause == RunCause(code: "dtmf_mismatch", detail: "expected \"123#\", sent \"12\", received \"12\"", agentID: F.a))
    }

    @Test func dtmfTestWithoutAnyDigitsReportedIsAMismatchAgainstTheExpected() {
        let v = F.judge(.dtmf, [F.caller(type: .dtmf), F.callee(type: .dtmf)], facts: RunFacts(expectedDTMF: "5"))
        #expect(v.cause?.code == "dtmf_mismatch")
        #expect(v.dtmf == DTMFSummary(sent: "", received: ""))
    }

    @Test func p2pWithoutDigitsHasNoDTMFSummary() {
        let v = F.judge(.p2p, [F.caller(), F.callee()])
        #expect(v.dtmf == nil)
        #expect(v.status == .passed)
    }
}

@Suite struct RunJudgeQualityTests {
    typealias F = Fixture

    @Test func lowMOSDegradesNamingThresholdValueAndDirection() {
        let v = F.judge(.p2p, [F.caller(), F.callee(streams: [F.stream(from: F.a, to: F.b, mos: 3.41)])])
        #expect(v.status == .degraded)
        #expect(v.cause == RunCause(code: "quality", detail: "mos_cq 3.41 < 3.6 (agent-a → agent-b)"))
        #expect(v.breaches == [ThresholdBreach(metric: .mos, value: 3.41, limit: 3.6, from: F.a, to: F.b)])
    }

    @Test func everyBreachIsListed() {
        var thresholds = Thresholds.defaults
        thresholds.setupMsMax = 1000
        let back = F.stream(from: F.b, to: F.a, loss: 4.25, jitter: 31, rtt: 350)
        let v = F.judge(.p2p, [F.caller(call: F.call(setupMs: 6200), streams: [back]), F.callee()], thresholds: thresholds)
        #expect(v.status == .degraded)
        #expect(v.cause?.detail
            == "loss 4.25% > 3% (agent-b → agent-a); jitter 31 ms > 30 ms (agent-b → agent-a); rtt 350 ms > 300 ms (agent-b → agent-a); setup 6200 ms > 1000 ms")
        #expect(v.lossPctMax == 4.25)
    }

    @Test func thresholdsSetToNilAreNotChecked() {
        let thresholds = Thresholds(mosMin: nil, lossPctMax: nil, jitterMsMax: nil, rttMsMax: nil, setupMsMax: nil)
        let v = F.judge(.p2p, [F.caller(), F.callee(streams: [F.stream(from: F.a, to: F.b, loss: 50, mos: 1)])],
                        thresholds: thresholds)
        #expect(v.status == .passed)
        #expect(v.breaches.isEmpty)
    }

    @Test func valuesAtTheLimitPass() {
        let v = F.judge(.p2p, [F.caller(), F.callee(streams: [F.stream(from: F.a, to: F.b, loss: 3, mos: 3.6, jitter: 30, rtt: 300)])])
        #expect(v.status == .passed)
    }

    @Test func rtcpOnlyDirectionIsCheckedToo() {
        let v = F.judge(.p2p, [F.caller(streams: [F.stream(from: F.b, to: F.a), F.stream(from: F.a, to: F.b, measuredBy: "rtcp", loss: 9, mos: nil)])],
                        facts: RunFacts(deadlinePassed: true))
        #expect(v.status == .failed)  // the callee never reported
        #expect(v.breaches == [ThresholdBreach(metric: .loss, value: 9, limit: 3, from: F.a, to: F.b)])
    }

    @Test func participantsOwnDegradedVerdictIsKeptWhenNoThresholdBreaks() {
        let v = F.judge(.p2p, [F.caller(status: .degraded, cause: RunCause(code: "quality", detail: "duration 8 s of 10 s")),
                               F.callee()])
        #expect(v.status == .degraded)
        #expect(v.cause == RunCause(code: "quality", detail: "duration 8 s of 10 s", agentID: F.a))
    }
}

@Suite struct RunJudgeSingleTests {
    let registrant = [RunParticipant(agentID: "r", role: .registrant)]
    let pinger = [RunParticipant(agentID: "p", role: .pinger)]

    func register(_ status: RunStatus, cause: RunCause? = nil, time: Double = 80, code: Int? = 200) -> RunResult {
        RunResult(runID: "r1", agentID: "r", role: .registrant, testType: .register, status: status, cause: cause,
                  register: RegisterSummary(statusCode: code, timeMs: time, authRoundTrips: 1, expiresGrantedS: 300))
    }

    func options(_ status: RunStatus, cause: RunCause? = nil, rtt: Double = 12) -> RunResult {
        RunResult(runID: "r1", agentID: "p", role: .pinger, testType: .options, status: status, cause: cause,
                  options: OptionsSummary(statusCode: 200, rttMs: rtt, allow: ["INVITE", "OPTIONS"]))
    }

    @Test func registerPasses() {
        let v = RunJudge.judge(testType: .register, participants: registrant, results: ["r": register(.passed)],
                               thresholds: .defaults, facts: RunFacts())
        #expect(v.status == .passed)
        #expect(v.register?.expiresGrantedS == 300)
        #expect(v.directions.isEmpty)
    }

    @Test func registerRejectedIsRegistrationFailedWithTheStatus() {
        let v = RunJudge.judge(testType: .register, participants: registrant,
                               results: ["r": register(.failed, cause: RunCause(code: "rejected", detail: "Forbidden", statusCode: 403), code: 403)],
                               thresholds: .defaults, facts: RunFacts())
        #expect(v.cause == RunCause(code: "registration_failed", detail: "Forbidden", statusCode: 403, agentID: "r"))
    }

    @Test func registerFailedWithoutCause() {
        let v = RunJudge.judge(testType: .register, participants: registrant, results: ["r": register(.failed, code: nil)],
                               thresholds: .defaults, facts: RunFacts())
        #expect(v.cause == RunCause(code: "registration_failed", agentID: "r"))
    }

    @Test func slowRegisterDegradesOnSetupThreshold() {
        let v = RunJudge.judge(testType: .register, participants: registrant, results: ["r": register(.passed, time: 5400)],
                               thresholds: .defaults, facts: RunFacts())
        #expect(v.status == .degraded)
        #expect(v.cause?.detail == "setup 5400 ms > 5000 ms")
    }

    @Test func optionsFailedDefaultsToOptionsFailed() {
        let v = RunJudge.judge(testType: .options, participants: pinger, results: ["p": options(.failed)],
                               thresholds: .defaults, facts: RunFacts())
        #expect(v.cause == RunCause(code: "options_failed", agentID: "p"))
    }

    @Test func slowOptionsDegradesOnRTT() {
        let v = RunJudge.judge(testType: .options, participants: pinger, results: ["p": options(.passed, rtt: 420.5)],
                               thresholds: .defaults, facts: RunFacts())
        #expect(v.status == .degraded)
        #expect(v.cause?.detail == "rtt 420.5 ms > 300 ms")
        #expect(v.options?.allow == ["INVITE", "OPTIONS"])
    }

    @Test func missingRegistrantTimesOut() {
        let v = RunJudge.judge(testType: .register, participants: registrant, results: [:], thresholds: .defaults,
                               facts: RunFacts(deadlinePassed: true))
        #expect(v.cause == RunCause(code: "timeout", detail: "registrant r sent no result by the deadline", agentID: "r"))
    }
}
