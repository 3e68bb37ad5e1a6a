import CallQuality
import EarshotWire
import Foundation
import MediaEngine
import RTPCore
import SIPStack
import SIPTransaction

/// Who the result is for: the run, this agent, its part in the run.
public struct RunContext: Sendable, Equatable {
    public var runID: String
    public var agentID: String
    public var role: ParticipantRole
    public var testType: TestType
    /// The other participant's agent id (a URI when the peer is not an agent).
    public var peer: String?
    public var startedAt: Date?
    public var endedAt: Date?
    public var alwaysEvidence: Bool
    /// Digits the callee must receive (a `dtmf` test).
    public var expectedDTMF: String?

    public init(runID: String, agentID: String, role: ParticipantRole, testType: TestType, peer: String? = nil,
                startedAt: Date? = nil, endedAt: Date? = nil, alwaysEvidence: Bool = false, expectedDTMF: String? = nil) {
        self.runID = runID
        self.agentID = agentID
        self.role = role
        self.testType = testType
        self.peer = peer
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.alwaysEvidence = alwaysEvidence
        self.expectedDTMF = expectedDTMF
    }

    /// For an assignment: the peer is the first participant in another role.
    public init(_ assignment: Assignment, agentID: String, startedAt: Date? = nil, endedAt: Date? = nil) {
        self.init(runID: assignment.runID, agentID: agentID, role: assignment.role, testType: assignment.testType,
                  peer: assignment.peers.first { $0.agentID != agentID }?.agentID, startedAt: startedAt, endedAt: endedAt,
                  alwaysEvidence: assignment.alwaysEvidence, expectedDTMF: assignment.answer?.expectedDTMF)
    }
}

/// The engine's reports in the protocol's terms (DESIGN §2–§3): a `RunResult` per
/// participant with its status, classified cause, per-direction stream metrics, call summary,
/// DTMF, evidence (when failed or degraded, or asked for) and the raw report.
public enum ResultMapping {
    // MARK: calls

    public static func result(of report: CallReport, _ context: RunContext) -> RunResult {
        var status = status(report.status)
        var cause = cause(of: report.ending)
        if report.ending.isNormal, status != .passed {
            cause = RunCause(code: "audio_missing", detail: report.problems.joined(separator: "; "))
        }
        let dtmf = dtmfSummary(report)
        if let expected = context.expectedDTMF, !expected.isEmpty, report.ending.isNormal {
            let received = dtmf?.received ?? ""
            if received != expected {
                status = .failed
                cause = RunCause(code: "dtmf_mismatch", detail: "expected DTMF \"\(expected)\", received \"\(received)\"")
            }
        }
        cause.agentID = status == .passed ? nil : context.agentID
        var result = RunResult(
            runID: context.runID, agentID: context.agentID, role: context.role, testType: context.testType, status: status,
            cause: cause, startedAt: context.startedAt, endedAt: context.endedAt, call: callSummary(report),
            streams: streams(report, context), dtmf: dtmf, raw: raw(report))
        // Always sent: the organizer's verdict (both sides merged) may fail a run this side
        // saw as passed; it keeps the evidence of failed and degraded runs only.
        do {
            result.evidence = Evidence(
                ladder: ladder(report.ladder), mediaSeconds: mediaSeconds(report.media?.seconds ?? []),
                notes: report.problems + (report.media?.received.notes ?? []))
        }
        return result
    }

    /// The engine's `passed` / `degraded` / `failed`.
    static func status(_ text: String) -> RunStatus {
        switch text {
        case "passed": .passed
        case "degraded": .degraded
        default: .failed
        }
    }

    /// The cause is the engine's `CallEnding` code (`normal`, `busy`, `session_expired`, …) with
    /// its sentence ("session expired at 30:02, refresh UPDATE unanswered") and SIP status.
    public static func cause(of ending: CallEnding) -> RunCause {
        let statusCode: Int? = switch ending.cause {
        case .rejected(let status, _), .busy(let status, _), .authenticationFailed(let status, _): status
        default: nil
        }
        return RunCause(code: ending.cause.code, detail: ending.description, statusCode: statusCode)
    }

    static func callSummary(_ report: CallReport) -> CallSummary {
        let statusCode: Int? = switch report.ending.cause {
        case .rejected(let status, _), .busy(let status, _), .authenticationFailed(let status, _): status
        default: nil
        }
        return CallSummary(
            callID: report.callID, inviteTo180Ms: report.setup.inviteTo180Ms, inviteTo200Ms: report.setup.inviteTo200Ms,
            answerToFirstRTPMs: report.setup.answerToFirstRTPMs, plannedDurationS: report.plannedDurationS,
            actualDurationS: report.actualDurationS, ending: report.ending.cause.code, endingDetail: report.ending.description,
            endingStatusCode: statusCode, sessionIntervalS: report.sessionTimer?.intervalS,
            refreshMethod: report.sessionTimer?.refreshMethod,
            refreshes: (report.sessionTimer?.refreshes ?? []).map {
                CallSummary.Refresh(atS: $0.atS, method: $0.method, statusCode: $0.statusCode, outcome: "\($0.outcome) (\($0.direction))")
            })
    }

    static func dtmfSummary(_ report: CallReport) -> DTMFSummary? {
        guard let media = report.media else { return nil }
        let sent = media.sent.dtmfDigitsSent.compactMap { digit in digit.digit.map { DTMFDigit(digit: $0, offsetMs: digit.offsetMs) } }
        let received = media.received.dtmfDigitsReceived.compactMap { digit in
            digit.digit.map { DTMFDigit(digit: $0, offsetMs: digit.offsetMs) }
        }
        guard !sent.isEmpty || !received.isEmpty else { return nil }
        return DTMFSummary(sent: media.sent.dtmf, received: media.received.dtmf, sentDigits: sent, receivedDigits: received)
    }

    /// What this participant knows of both directions: what it received (measured here,
    /// `measured_by: receiver`), and what it sent as the far end's RTCP reports describe it
    /// (`measured_by: rtcp`; absent when no report came).
    static func streams(_ report: CallReport, _ context: RunContext) -> [StreamMetrics] {
        guard let media = report.media else { return [] }
        let peer = context.peer ?? report.remoteURI
        var out: [StreamMetrics] = []
        let received = media.received
        let statistics = received.statistics
        if statistics.packetsExpected > 0 || statistics.packetsReceived > 0 || media.session.remote != nil {
            out.append(StreamMetrics(
                from: peer, to: context.agentID, measuredBy: "receiver", codec: received.codec, ptime: received.ptime,
                packetsSent: received.senderReportedPackets.map(Int.init), packetsExpected: statistics.packetsExpected,
                packetsReceived: statistics.packetsReceived, packetsLost: statistics.packetsLost,
                duplicates: statistics.duplicates, reordered: statistics.reordered, lossPct: statistics.lossPercent,
                burstRatio: statistics.packetsLost > 0 ? statistics.burstRatio : nil, maxBurst: statistics.maxBurst,
                jitterMeanMs: received.jitterMeanMs, jitterMaxMs: received.jitterMaxMs, rttMs: received.rttMs,
                oneWayMs: received.oneWayMs, oneWaySource: received.oneWaySource, jbDiscards: received.jbDiscards,
                effectiveLossPct: received.assessment?.measurement?.effectiveLossPercent,
                rFactor: received.assessment?.rFactor, mosCQ: received.assessment?.mosCQ, mosLQ: received.assessment?.mosLQ,
                impairments: impairments(received.assessment), dscpSent: nil, dscpReceived: received.dscpReceived.map(Int.init),
                audioOK: received.audioOK, firstPacketMs: received.firstPacketMs))
        }
        if let view = media.remoteView {
            let expected = view.packetsExpected ?? 0
            let lost = min(max(0, Int(view.cumulativeLost)), expected)
            out.append(StreamMetrics(
                from: context.agentID, to: peer, measuredBy: "rtcp", codec: received.codec, ptime: received.ptime,
                packetsSent: media.sent.packets, packetsExpected: expected, packetsReceived: expected - lost, packetsLost: lost,
                lossPct: view.lossPct ?? 0, jitterMeanMs: view.jitterMs, jitterMaxMs: nil, rttMs: media.rtt.meanMs,
                oneWayMs: media.rtt.meanMs.map { $0 / 2 }, oneWaySource: media.rtt.meanMs == nil ? nil : "estimated_rtt_half",
                rFactor: view.assessment?.rFactor, mosCQ: view.assessment?.mosCQ, mosLQ: view.assessment?.mosLQ,
                impairments: impairments(view.assessment), dscpSent: Int(media.sent.dscpSent)))
        }
        return out
    }

    static func impairments(_ assessment: CallQualityAssessment?) -> StreamMetrics.Impairments? {
        guard let i = assessment?.conversational?.impairments else { return nil }
        return StreamMetrics.Impairments(iS: i.Is, iD: i.Id, ieEff: i.IeEff, a: i.A)
    }

    /// The SIP ladder as evidence: milliseconds since the call started, direction, the first
    /// line without its SIP version, the peer, the message (body already cut by the engine).
    public static func ladder(_ ladder: SIPLadder) -> [LadderEntry] {
        ladder.entries.map {
            LadderEntry(atMs: Double($0.offset.nanoseconds) / 1e6, direction: $0.direction.rawValue,
                        summary: $0.shortFirstLine + ($0.note.map { " — \($0)" } ?? ""),
                        peer: "\($0.transport) \($0.remote)", text: $0.text)
        }
    }

    /// Kept in evidence: at most `limit` seconds (the first and last halves of a longer call).
    public static func mediaSeconds(_ seconds: [MediaReport.Second], limit: Int = 3_600) -> [MediaSecond] {
        let all = seconds.map { MediaSecond(second: $0.second, sent: $0.sent, received: $0.received, lost: $0.lost, jitterMs: $0.jitterMs) }
        guard all.count > limit else { return all }
        return Array(all.prefix(limit / 2) + all.suffix(limit - limit / 2))
    }

    /// The engine's report as JSON, without its SIP ladder (which the evidence carries when it
    /// matters; a passing run does not need it stored twice).
    static func raw(_ report: some Encodable) -> JSONValue? {
        guard let data = try? JSONEncoder().encode(report),
              case .object(var object)? = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        object["ladder"] = nil
        return .object(object)
    }

    // MARK: register, options

    public static func result(of registration: RegistrationResult, _ context: RunContext) -> RunResult {
        let status: RunStatus = registration.registered ? .passed : .failed
        var result = RunResult(
            runID: context.runID, agentID: context.agentID, role: context.role, testType: context.testType, status: status,
            cause: registration.registered ? nil : RunCause(code: "registration_failed", detail: registration.detail,
                                                            statusCode: registration.statusCode, agentID: context.agentID),
            startedAt: context.startedAt, endedAt: context.endedAt,
            register: RegisterSummary(statusCode: registration.statusCode, timeMs: registration.timeMs,
                                      authRoundTrips: registration.authRoundTrips, expiresGrantedS: registration.expiresGranted),
            raw: raw(registration))
        if status != .passed || context.alwaysEvidence { result.evidence = Evidence(notes: [registration.detail]) }
        return result
    }

    public static func result(of options: OptionsResult, _ context: RunContext) -> RunResult {
        let ok = options.statusCode.map { (200...299).contains($0) } ?? false
        var result = RunResult(
            runID: context.runID, agentID: context.agentID, role: context.role, testType: context.testType,
            status: ok ? .passed : .failed,
            cause: ok ? nil : RunCause(code: "options_failed", detail: "OPTIONS \(options.target): \(options.detail)",
                                       statusCode: options.statusCode, agentID: context.agentID),
            startedAt: context.startedAt, endedAt: context.endedAt,
            options: OptionsSummary(statusCode: options.statusCode, rttMs: options.rttMs, allow: options.allow, supported: options.supported),
            raw: raw(options))
        if !ok || context.alwaysEvidence { result.evidence = Evidence(notes: [options.detail]) }
        return result
    }

    // MARK: runs that produced no report

    /// A run that ended without the engine's report: `timeout` (no INVITE by the deadline),
    /// `cancelled`, `bad_assignment`, … with `failed` or `not_run`.
    public static func failure(_ context: RunContext, status: RunStatus = .failed, code: String, detail: String) -> RunResult {
        RunResult(runID: context.runID, agentID: context.agentID, role: context.role, testType: context.testType, status: status,
                  cause: RunCause(code: code, detail: detail, agentID: context.agentID), startedAt: context.startedAt,
                  endedAt: context.endedAt, evidence: Evidence(notes: [detail]))
    }
}
