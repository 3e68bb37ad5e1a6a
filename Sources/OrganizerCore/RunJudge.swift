// Run verdicts: both sides' results merged into one run, classified (docs/runs.md).
import EarshotWire
import Foundation

/// A participant of a run as planned.
public struct RunParticipant: Sendable, Hashable, Codable {
    public var agentID: String
    public var role: ParticipantRole

    enum CodingKeys: String, CodingKey { case agentID = "agent_id", role }

    public init(agentID: String, role: ParticipantRole) {
        self.agentID = agentID
        self.role = role
    }
}

/// What the organizer knows about a run besides its results. The judge reads no clock: the
/// organizer says whether the deadline has passed.
public struct RunFacts: Sendable, Equatable {
    /// The run's deadline (its assignment's `deadline`) has passed.
    public var deadlinePassed: Bool
    /// Participants that were offline when the run was planned: the run is `not_run`
    /// (`agent_offline`) whatever else arrives.
    public var offlineAtPlanning: Set<String>
    /// Participants that went offline after the run was assigned (missed heartbeats, closed
    /// connection). A missing result of one of these is `agent_lost`, not `timeout`.
    public var lost: Set<String>
    /// The DTMF digits the suite asked for (the assignment's `call.dtmf`); nil when the run
    /// sends none. When set, the caller must have sent them and the callee received them.
    public var expectedDTMF: String?
    /// Conference runs: the plan every participant got (members, tones, join offsets, DTMF
    /// sender, bridge mode) — the judge needs it to know who should hear whom.
    public var conference: ConferenceAssignment?
    /// Conference runs on the built-in bridge: the agent hosting it (a participant with role
    /// `bridge`); nil for an external room.
    public var bridgeAgentID: String?
    /// Agent id → site, for the conference legs.
    public var sites: [String: String]

    public init(deadlinePassed: Bool = false, offlineAtPlanning: Set<String> = [], lost: Set<String> = [],
                expectedDTMF: String? = nil, conference: ConferenceAssignment? = nil, bridgeAgentID: String? = nil,
                sites: [String: String] = [:]) {
        self.deadlinePassed = deadlinePassed
        self.offlineAtPlanning = offlineAtPlanning
        self.lost = lost
        self.expectedDTMF = expectedDTMF
        self.conference = conference
        self.bridgeAgentID = bridgeAgentID
        self.sites = sites
    }
}

/// One quality threshold a run broke.
public struct ThresholdBreach: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Metric: String, Sendable, Hashable, Codable {
        /// MOS-CQ below `mos_min`.
        case mos
        /// `loss_pct` above `loss_pct_max`.
        case loss
        /// `jitter_mean_ms` above `jitter_ms_max`.
        case jitter
        /// `rtt_ms` above `rtt_ms_max`.
        case rtt
        /// INVITE→200 (calls) or REGISTER time above `setup_ms_max`.
        case setup
    }

    public var metric: Metric
    public var value: Double
    public var limit: Double
    /// The direction, for per-direction metrics (agent ids).
    public var from: String?
    public var to: String?

    public init(metric: Metric, value: Double, limit: Double, from: String? = nil, to: String? = nil) {
        self.metric = metric
        self.value = value
        self.limit = limit
        self.from = from
        self.to = to
    }

    /// `mos_cq 3.41 < 3.6 (a → b)`, `loss 4.2% > 3% (b → a)`, `setup 6200 ms > 5000 ms`.
    public var description: String {
        let text: String = switch metric {
        case .mos: "mos_cq \(number(value)) < \(number(limit))"
        case .loss: "loss \(number(value))% > \(number(limit))%"
        case .jitter: "jitter \(number(value)) ms > \(number(limit)) ms"
        case .rtt: "rtt \(number(value)) ms > \(number(limit)) ms"
        case .setup: "setup \(number(value)) ms > \(number(limit)) ms"
        }
        if let from, let to { return "\(text) (\(from) → \(to))" }
        return text
    }
}

/// The organizer's verdict on a run.
public struct RunVerdict: Sendable, Equatable {
    /// False while results are still expected: store the merged data, keep the run `running`.
    public var isFinal: Bool
    /// `running` while not final; then passed / degraded / failed / not_run.
    public var status: RunStatus
    /// Nil only while not final.
    public var cause: RunCause?
    /// Per direction, caller → callee first; `from`/`to` are the participants' agent ids.
    public var directions: [StreamMetrics]
    /// The caller's signalling view (the callee's when the caller sent nothing).
    public var call: CallSummary?
    public var dtmf: DTMFSummary?
    public var register: RegisterSummary?
    public var options: OptionsSummary?
    /// Per agent id, as the participants sent it.
    public var evidence: [String: Evidence]
    /// Every threshold broken (for `degraded`; also filled when the run failed for another
    /// reason, so that alert rules see the figures).
    public var breaches: [ThresholdBreach]
    /// Participants whose result has not arrived.
    public var missing: [String]
    /// Conference runs: legs, hearing matrix, DTMF through the bridge.
    public var conference: ConferenceSummary?

    public init(isFinal: Bool, status: RunStatus, cause: RunCause?, directions: [StreamMetrics] = [],
                call: CallSummary? = nil, dtmf: DTMFSummary? = nil, register: RegisterSummary? = nil,
                options: OptionsSummary? = nil, evidence: [String: Evidence] = [:], breaches: [ThresholdBreach] = [],
                missing: [String] = [], conference: ConferenceSummary? = nil) {
        self.isFinal = isFinal
        self.status = status
        self.cause = cause
        self.directions = directions
        self.call = call
        self.dtmf = dtmf
        self.register = register
        self.options = options
        self.evidence = evidence
        self.breaches = breaches
        self.missing = missing
        self.conference = conference
    }

    /// The worst direction's MOS-CQ (for `RunSummary.mos_min`).
    public var mosMin: Double? { directions.compactMap(\.mosCQ).min() }
    /// The worst direction's loss (for `RunSummary.loss_pct_max`).
    public var lossPctMax: Double? { directions.map(\.lossPct).max() }
}

/// Merges the participants' results of one run and classifies it. Pure: the same inputs
/// always give the same verdict, so a result that arrives late (an agent back from a
/// network cut) can be judged again with everything. The rules are in docs/runs.md.
public enum RunJudge {
    public static func judge(testType: TestType, participants: [RunParticipant], results: [String: RunResult],
                             thresholds: Thresholds, facts: RunFacts) -> RunVerdict {
        if testType == .conference {
            return judgeConference(participants: participants, results: results, thresholds: thresholds, facts: facts)
        }
        var verdict = merge(testType: testType, participants: participants, results: results, facts: facts)
        verdict.breaches = breaches(of: verdict, testType: testType, thresholds: thresholds)

        if let cause = notRunAtOnce(participants: participants, facts: facts, empty: participants.isEmpty,
                                    emptyDetail: "the run has no participants", name: { $0 }) {
            verdict.isFinal = true
            verdict.status = .notRun
            verdict.cause = cause
            return verdict
        }
        if !verdict.missing.isEmpty, !facts.deadlinePassed {
            verdict.isFinal = false
            verdict.status = .running
            verdict.cause = nil
            return verdict
        }
        verdict.isFinal = true
        let (status, cause) = classify(testType: testType, participants: participants, results: results,
                                       facts: facts, verdict: verdict)
        verdict.status = status
        verdict.cause = cause
        return verdict
    }

    /// Rule 1 (a participant offline at planning) and a run without participants: `not_run`
    /// whatever results arrive. `name` turns an agent id into the name the detail shows.
    static func notRunAtOnce(participants: [RunParticipant], facts: RunFacts, empty: Bool, emptyDetail: String,
                             name: (String) -> String) -> RunCause? {
        if let offline = participants.first(where: { facts.offlineAtPlanning.contains($0.agentID) }) {
            return RunCause(code: "agent_offline",
                            detail: "\(offline.role.rawValue) \(name(offline.agentID)) was offline when the run was planned",
                            agentID: offline.agentID)
        }
        return empty ? RunCause(code: "capacity", detail: emptyDetail) : nil
    }

    // MARK: merging

    static func merge(testType: TestType, participants: [RunParticipant], results: [String: RunResult],
                      facts: RunFacts) -> RunVerdict {
        var verdict = RunVerdict(isFinal: false, status: .running, cause: nil)
        verdict.missing = participants.map(\.agentID).filter { results[$0] == nil }
        for p in participants {
            if let evidence = results[p.agentID]?.evidence { verdict.evidence[p.agentID] = evidence }
        }
        let caller = participants.first { $0.role == .caller }
        let callee = participants.first { $0.role == .callee }
        if let caller, let callee {
            let a = caller.agentID, b = callee.agentID
            if let forward = direction(from: a, to: b, results: results) { verdict.directions.append(forward) }
            if let backward = direction(from: b, to: a, results: results) { verdict.directions.append(backward) }
            verdict.call = results[a]?.call ?? results[b]?.call
            verdict.dtmf = mergedDTMF(caller: results[a], callee: results[b], expected: facts.expectedDTMF,
                                      testType: testType)
        } else {
            // One participant (register, options) or an N-party run: its own streams as sent.
            for p in participants {
                verdict.directions += results[p.agentID]?.streams ?? []
            }
            verdict.call = participants.lazy.compactMap { results[$0.agentID]?.call }.first
        }
        verdict.register = participants.lazy.compactMap { results[$0.agentID]?.register }.first
        verdict.options = participants.lazy.compactMap { results[$0.agentID]?.options }.first
        return verdict
    }

    /// Direction `from` → `to`: the receiver's own measurement, else the sender's RTCP view.
    static func direction(from: String, to: String, results: [String: RunResult]) -> StreamMetrics? {
        func pick(_ streams: [StreamMetrics], measuredBy: String) -> StreamMetrics? {
            let candidates = streams.filter { $0.measuredBy == measuredBy }
            return candidates.first { $0.from == from && $0.to == to }
                ?? candidates.first { $0.from == from || $0.to == to }
                ?? candidates.first
        }
        let senderView = results[from].flatMap { pick($0.streams, measuredBy: "rtcp") }
        guard var metrics = results[to].flatMap({ pick($0.streams, measuredBy: "receiver") }) ?? senderView else { return nil }
        metrics.from = from
        metrics.to = to
        // What was sent is the sender's own count (the receiver only knows the last SR's).
        if let sent = senderView?.packetsSent { metrics.packetsSent = sent }
        return metrics
    }

    static func mergedDTMF(caller: RunResult?, callee: RunResult?, expected: String?, testType: TestType) -> DTMFSummary? {
        let sent = caller?.dtmf, received = callee?.dtmf
        if sent == nil, received == nil, expected == nil, testType != .dtmf { return nil }
        return DTMFSummary(sent: sent?.sent ?? "", received: received?.received ?? "",
                           sentDigits: sent?.sentDigits ?? [], receivedDigits: received?.receivedDigits ?? [])
    }

    // MARK: thresholds

    static func breaches(of verdict: RunVerdict, testType: TestType, thresholds t: Thresholds) -> [ThresholdBreach] {
        var out: [ThresholdBreach] = []
        for d in verdict.directions {
            if let limit = t.mosMin, let mos = d.mosCQ, mos < limit {
                out.append(ThresholdBreach(metric: .mos, value: mos, limit: limit, from: d.from, to: d.to))
            }
            if let limit = t.lossPctMax, d.lossPct > limit {
                out.append(ThresholdBreach(metric: .loss, value: d.lossPct, limit: limit, from: d.from, to: d.to))
            }
            if let limit = t.jitterMsMax, let jitter = d.jitterMeanMs, jitter > limit {
                out.append(ThresholdBreach(metric: .jitter, value: jitter, limit: limit, from: d.from, to: d.to))
            }
            if let limit = t.rttMsMax, let rtt = d.rttMs, rtt > limit {
                out.append(ThresholdBreach(metric: .rtt, value: rtt, limit: limit, from: d.from, to: d.to))
            }
        }
        if let limit = t.setupMsMax {
            if let setup = verdict.call?.inviteTo200Ms, setup > limit {
                out.append(ThresholdBreach(metric: .setup, value: setup, limit: limit))
            } else if testType == .register, let time = verdict.register?.timeMs, time > limit {
                out.append(ThresholdBreach(metric: .setup, value: time, limit: limit))
            }
        }
        if testType == .options, let limit = t.rttMsMax, let rtt = verdict.options?.rttMs, rtt > limit {
            out.append(ThresholdBreach(metric: .rtt, value: rtt, limit: limit))
        }
        return out
    }

    // MARK: classification

    static func classify(testType: TestType, participants: [RunParticipant], results: [String: RunResult],
                         facts: RunFacts, verdict: RunVerdict) -> (RunStatus, RunCause) {
        // A participant that could not take part: the run did not happen as designed.
        for p in participants {
            if let r = results[p.agentID], r.status == .notRun {
                var cause = r.cause ?? RunCause(code: "assignment_rejected")
                cause.agentID = cause.agentID ?? p.agentID
                return (.notRun, cause)
            }
        }
        // A participant that never reported.
        if let missing = participants.first(where: { results[$0.agentID] == nil }) {
            let lost = facts.lost.contains(missing.agentID)
            var detail = lost
                ? "\(missing.role.rawValue) \(missing.agentID) went offline during the run and sent no result"
                : "\(missing.role.rawValue) \(missing.agentID) sent no result by the deadline"
            if let other = participants.lazy.compactMap({ p -> String? in
                guard let r = results[p.agentID], r.status == .failed, let c = r.cause ?? endingCause(r.call) else { return nil }
                return "\(p.role.rawValue) reported \(causeText(c))"
            }).first {
                detail += "; \(other)"
            }
            return (.failed, RunCause(code: lost ? "agent_lost" : "timeout", detail: detail, agentID: missing.agentID))
        }
        switch testType {
        case .p2p, .soak, .dtmf:
            if let caller = participants.first(where: { $0.role == .caller }),
               let callee = participants.first(where: { $0.role == .callee }) {
                return classifyCall(caller: caller.agentID, callee: callee.agentID, results: results, facts: facts,
                                    verdict: verdict)
            }
            return classifyGeneric(testType: testType, participants: participants, results: results, verdict: verdict)
        case .register, .options, .conference:
            return classifyGeneric(testType: testType, participants: participants, results: results, verdict: verdict)
        }
    }

    /// Codes the judge recomputes from the merged data rather than taking a side's word.
    static let mergedCodes: Set<String> = ["audio_missing", "dtmf_mismatch"]

    static func classifyCall(caller a: String, callee b: String, results: [String: RunResult], facts: RunFacts,
                             verdict: RunVerdict) -> (RunStatus, RunCause) {
        let sides = [(a, results[a]!), (b, results[b]!)]
        // 1. The session timer dropped the call (either side saw it).
        for (id, r) in sides where reportedCode(r) == "session_expired" {
            return (.failed, RunCause(code: "session_expired", detail: sessionExpiredDetail(r), agentID: id))
        }
        // 2. The call itself failed: the caller's view first.
        for (id, r) in sides where r.status == .failed {
            if let cause = reportedCause(r), !mergedCodes.contains(cause.code) {
                var c = cause
                c.agentID = c.agentID ?? id
                return (.failed, c)
            }
        }
        // 3. Audio, per direction.
        for d in verdict.directions where d.audioOK == false {
            return (.failed, RunCause(code: "audio_missing",
                                      detail: "no audio \(d.from) → \(d.to): \(d.packetsReceived) of \(d.packetsExpected) packets, tone not detected",
                                      agentID: d.to))
        }
        let connected = verdict.call.map { normalizedCode($0.ending) == "normal" } ?? false
        if connected {
            for (from, to) in [(a, b), (b, a)] where !verdict.directions.contains(where: { $0.from == from && $0.to == to }) {
                return (.failed, RunCause(code: "audio_missing",
                                          detail: "no measurement of audio \(from) → \(to) from either side", agentID: to))
            }
        }
        // 3b. Media that stopped (or started late) while the call went on: fewer than 80 % of
        // the packets its length needs (a peer that died mid-call leaves a lossless, short
        // stream; one-way audio through a relay that drops out looks the same).
        if connected, let seconds = verdict.call?.actualDurationS, seconds >= 2 {
            for d in verdict.directions where d.measuredBy == "receiver" {
                let needed = seconds * 1000 / Double(d.ptime ?? 20)
                if Double(d.packetsReceived) < 0.8 * needed {
                    let heard = Double(d.packetsReceived) * Double(d.ptime ?? 20) / 1000
                    return (.failed, RunCause(
                        code: "audio_missing",
                        detail: String(format: "media %@ → %@ stopped: %d packets (%.1f s of audio) in a %.1f s call",
                                       d.from, d.to, d.packetsReceived, heard, seconds),
                        agentID: d.from))
                }
            }
        }
        // 4. DTMF.
        if let dtmf = verdict.dtmf {
            let expected = facts.expectedDTMF ?? dtmf.sent
            if dtmf.sent != expected || dtmf.received != expected {
                let detail = dtmf.sent == expected
                    ? "sent \(quoted(dtmf.sent)), received \(quoted(dtmf.received))"
                    : "expected \(quoted(expected)), sent \(quoted(dtmf.sent)), received \(quoted(dtmf.received))"
                return (.failed, RunCause(code: "dtmf_mismatch", detail: detail, agentID: dtmf.sent == expected ? b : a))
            }
        }
        // 5. A side that failed for a reason the merged data did not show.
        for (id, r) in sides where r.status == .failed {
            var c = reportedCause(r) ?? RunCause(code: "media_error", detail: "reported failed without a cause")
            c.agentID = c.agentID ?? id
            return (.failed, c)
        }
        return qualityOrPassed(verdict: verdict, results: sides.map(\.1), passedDetail: nil)
    }

    static func classifyGeneric(testType: TestType, participants: [RunParticipant], results: [String: RunResult],
                                verdict: RunVerdict) -> (RunStatus, RunCause) {
        let defaultCode = switch testType {
        case .register: "registration_failed"
        case .options: "options_failed"
        default: "protocol_error"
        }
        for p in participants {
            let r = results[p.agentID]!
            guard r.status == .failed else { continue }
            var c = reportedCause(r) ?? RunCause(code: defaultCode)
            if c.code == "rejected", testType == .register {
                c = RunCause(code: "registration_failed", detail: c.detail ?? causeText(c), statusCode: c.statusCode)
            }
            c.agentID = c.agentID ?? p.agentID
            return (.failed, c)
        }
        return qualityOrPassed(verdict: verdict, results: participants.compactMap { results[$0.agentID] }, passedDetail: nil)
    }

    static func qualityOrPassed(verdict: RunVerdict, results: [RunResult], passedDetail: String?) -> (RunStatus, RunCause) {
        if !verdict.breaches.isEmpty {
            return (.degraded, RunCause(code: "quality", detail: verdict.breaches.map(\.description).joined(separator: "; ")))
        }
        if let degraded = results.first(where: { $0.status == .degraded }) {
            var c = degraded.cause ?? RunCause(code: "quality", detail: "reported degraded by the participant")
            c.agentID = c.agentID ?? degraded.agentID
            return (.degraded, c)
        }
        return (.passed, RunCause(code: "normal", detail: passedDetail))
    }

    // MARK: causes

    /// The engine's CallEnding codes mapped onto RunCause codes; others pass unchanged.
    public static func normalizedCode(_ code: String) -> String {
        switch code {
        case "busy", "authentication_failed": "rejected"
        case "transaction_timeout": "transport_error"
        case "media_timeout": "audio_missing"
        default: code
        }
    }

    static func endingCause(_ call: CallSummary?) -> RunCause? {
        guard let call else { return nil }
        return RunCause(code: normalizedCode(call.ending), detail: call.endingDetail, statusCode: call.endingStatusCode)
    }

    /// The participant's cause (normalized), else its call's ending when that was not normal.
    static func reportedCause(_ r: RunResult) -> RunCause? {
        if var c = r.cause, c.code != "normal" {
            c.code = normalizedCode(c.code)
            return c
        }
        if let e = endingCause(r.call), e.code != "normal" { return e }
        return nil
    }

    static func reportedCode(_ r: RunResult) -> String? {
        if let c = r.cause?.code, normalizedCode(c) == "session_expired" { return "session_expired" }
        if let e = r.call?.ending, normalizedCode(e) == "session_expired" { return "session_expired" }
        return reportedCause(r)?.code
    }

    static func causeText(_ c: RunCause) -> String {
        var text = c.code
        if let status = c.statusCode { text += " (\(status))" }
        if let detail = c.detail, !detail.isEmpty { text += ": \(detail)" }
        return text
    }

    /// `dropped at 30:02, refresh UPDATE unanswered`.
    static func sessionExpiredDetail(_ r: RunResult) -> String {
        var parts: [String] = []
        let seconds = r.call?.actualDurationS
            ?? both(r.startedAt, r.endedAt).map { $1.timeIntervalSince($0) }
        if let seconds { parts.append("dropped at \(minutesSeconds(seconds))") }
        if let failed = r.call?.refreshes.last(where: { $0.outcome != "refreshed" }) {
            var text = "refresh \(failed.method) \(failed.outcome)"
            if let status = failed.statusCode { text += " \(status)" }
            parts.append(text)
        } else if let detail = r.call?.endingDetail ?? r.cause?.detail, !detail.isEmpty {
            parts.append(detail)
        } else {
            parts.append("session expired")
        }
        return parts.joined(separator: ", ")
    }

    /// `30:02` (minutes may exceed 59: `75:10`).
    public static func minutesSeconds(_ seconds: Double) -> String {
        let total = max(0, Int(seconds.rounded(.down)))
        let s = total % 60
        return "\(total / 60):\(s < 10 ? "0" : "")\(s)"
    }
}

private func both<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

func quoted(_ s: String) -> String { "\"\(s)\"" }

/// At most two decimals, no trailing zeros: 3.6, 4.25, 300.
func number(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    if scaled == scaled.rounded() { return String(Int(scaled)) }
    var text = String(scaled)
    if let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > 3 {
        text = String(text[..<text.index(dot, offsetBy: 3)])
    }
    return text
}
