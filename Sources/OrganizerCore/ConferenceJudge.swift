// Conference verdicts (issue 6): the participants' and the bridge's reports merged into legs,
// the hearing matrix and DTMF through the bridge, then classified (docs/runs.md "Conference
// runs").
import EarshotWire
import Foundation

extension RunJudge {
    /// `judge` for `testType == .conference`. Participants: role `participant` (one leg each)
    /// and, for the built-in bridge, one `bridge` (`facts.bridgeAgentID`). `facts.conference`
    /// is the plan (members in join order, tones, DTMF sender and mode).
    static func judgeConference(participants: [RunParticipant], results: [String: RunResult], thresholds: Thresholds,
                                facts: RunFacts) -> RunVerdict {
        var verdict = RunVerdict(isFinal: false, status: .running, cause: nil)
        verdict.missing = participants.map(\.agentID).filter { results[$0] == nil }
        for p in participants {
            if let evidence = results[p.agentID]?.evidence { verdict.evidence[p.agentID] = evidence }
        }
        let merged = ConferenceMerge(participants: participants, results: results, thresholds: thresholds, facts: facts)
        let complete = verdict.missing.isEmpty || facts.deadlinePassed
        let summary = merged.summary()
        verdict.directions = summary.legs.flatMap { [$0.up, $0.down].compactMap { $0 } }
        verdict.breaches = merged.legBreaches.flatMap { $0 }
        verdict.call = merged.legs.lazy.compactMap { results[$0.agentID]?.call }.first

        verdict.conference = summary
        if let cause = notRunAtOnce(participants: participants, facts: facts, empty: merged.legs.isEmpty,
                                    emptyDetail: "the conference has no participants", name: merged.label) {
            verdict.isFinal = true
            verdict.status = .notRun
            verdict.cause = cause
            return verdict
        }
        guard complete else { return verdict }
        verdict.isFinal = true
        let (status, cause) = merged.classify(summary: summary)
        verdict.status = status
        verdict.cause = cause
        return verdict
    }
}

/// The merge of one conference run's reports. Legs and cells are in join order.
struct ConferenceMerge {
    let participants: [RunParticipant]
    let results: [String: RunResult]
    let thresholds: Thresholds
    let facts: RunFacts
    /// One per participant in join order (the plan's members, then any participant the plan
    /// does not list).
    let legs: [ConferenceMember]
    let bridgeID: String?
    /// The far end's label in stream `from`/`to`: the bridge agent, else `room`.
    let farEnd: String
    let bridgeReport: BridgeRunReport?
    /// Per leg (join order): its threshold breaches.
    let legBreaches: [[ThresholdBreach]]
    let legStatus: [(RunStatus, RunCause?)]
    let up: [StreamMetrics?]
    let down: [StreamMetrics?]

    init(participants: [RunParticipant], results: [String: RunResult], thresholds: Thresholds, facts: RunFacts) {
        self.participants = participants
        self.results = results
        self.thresholds = thresholds
        self.facts = facts
        let roles = participants.filter { $0.role == .participant }.map(\.agentID)
        var members = (facts.conference?.members ?? []).filter { roles.contains($0.agentID) }
        for id in roles where !members.contains(where: { $0.agentID == id }) {
            members.append(ConferenceMember(agentID: id, name: id, toneHz: 0, joinOffsetS: 0))
        }
        legs = members
        bridgeID = facts.bridgeAgentID ?? participants.first { $0.role == .bridge }?.agentID
        farEnd = bridgeID ?? externalRoomLabel
        bridgeReport = bridgeID.flatMap { results[$0]?.bridge }
        let bridgeStreams = bridgeID.flatMap { results[$0]?.streams } ?? []
        var up: [StreamMetrics?] = [], down: [StreamMetrics?] = []
        for leg in members {
            let own = results[leg.agentID]?.streams ?? []
            let rtcp = own.first { $0.measuredBy == "rtcp" }
            var u = bridgeStreams.first { $0.measuredBy == "receiver" && $0.from == leg.agentID } ?? rtcp
            u?.from = leg.agentID
            u?.to = farEnd
            if let sent = rtcp?.packetsSent { u?.packetsSent = sent }
            var d = own.first { $0.measuredBy == "receiver" }
            d?.from = farEnd
            d?.to = leg.agentID
            up.append(u)
            down.append(d)
        }
        self.up = up
        self.down = down
        var breaches: [[ThresholdBreach]] = []
        for (i, leg) in members.enumerated() {
            var verdict = RunVerdict(isFinal: false, status: .running, cause: nil)
            verdict.directions = [up[i], down[i]].compactMap { $0 }
            var found = RunJudge.breaches(of: verdict, testType: .conference, thresholds: thresholds)
            if let limit = thresholds.setupMsMax, let join = results[leg.agentID]?.conference?.joinMs, join > limit {
                found.append(ThresholdBreach(metric: .setup, value: join, limit: limit, from: leg.agentID, to: farEnd))
            }
            breaches.append(found)
        }
        legBreaches = breaches
        let bridgeLegs = bridgeReport?.legs ?? []
        legStatus = members.enumerated().map { i, leg in
            Self.status(of: leg, result: results[leg.agentID], breaches: breaches[i],
                        admitted: bridgeLegs.last { $0.agentID == leg.agentID }?.admitted, facts: facts)
        }
    }

    /// A leg on its own: the participant's result, the bridge's word on its admission, its
    /// thresholds. `running` while its result is still expected.
    static func status(of leg: ConferenceMember, result: RunResult?, breaches: [ThresholdBreach], admitted: Bool?,
                       facts: RunFacts) -> (RunStatus, RunCause?) {
        guard let result else {
            guard facts.deadlinePassed else { return (.running, nil) }
            let lost = facts.lost.contains(leg.agentID)
            return (.failed, RunCause(
                code: lost ? "agent_lost" : "timeout",
                detail: lost ? "went offline during the conference and sent no result" : "sent no result by the deadline",
                agentID: leg.agentID))
        }
        switch result.status {
        case .notRun:
            var cause = result.cause ?? RunCause(code: "assignment_rejected")
            cause.agentID = cause.agentID ?? leg.agentID
            return (.notRun, cause)
        case .failed:
            var cause = RunJudge.reportedCause(result) ?? RunCause(code: "protocol_error", detail: "reported failed without a cause")
            cause.agentID = cause.agentID ?? leg.agentID
            return (.failed, cause)
        default:
            break
        }
        if admitted == false {
            return (.failed, RunCause(code: "not_admitted",
                                      detail: "the bridge did not admit it to the conference (PIN not received)",
                                      agentID: leg.agentID))
        }
        if !breaches.isEmpty {
            return (.degraded, RunCause(code: "quality", detail: breaches.map(\.description).joined(separator: "; "),
                                        agentID: leg.agentID))
        }
        if result.status == .degraded {
            var cause = result.cause ?? RunCause(code: "quality", detail: "reported degraded by the participant")
            cause.agentID = cause.agentID ?? leg.agentID
            return (.degraded, cause)
        }
        return (.passed, RunCause(code: "normal"))
    }

    /// A leg that took part: joined and stayed (passed or degraded).
    func isIn(_ i: Int) -> Bool { legStatus[i].0 == .passed || legStatus[i].0 == .degraded }

    /// `bob`, or the agent id when the plan has no name.
    func label(_ agentID: String) -> String {
        legs.first { $0.agentID == agentID }?.name ?? agentID
    }

    /// `bob (site-b)`.
    func legLabel(_ i: Int) -> String {
        let leg = legs[i]
        guard let site = facts.sites[leg.agentID], !site.isEmpty else { return leg.name }
        return "\(leg.name) (\(site))"
    }

    func summary() -> ConferenceSummary {
        let plan = facts.conference
        var summary = ConferenceSummary(
            conferenceID: plan?.conferenceID ?? bridgeReport?.conferenceID ?? "",
            mode: plan?.mode ?? (bridgeID == nil ? .uri : .agent), bridgeAgentID: bridgeID, uri: plan?.uri ?? "",
            peakParticipants: bridgeReport?.peakParticipants, refused: bridgeReport?.refused)
        summary.legs = legs.enumerated().map { i, leg in
            let report = results[leg.agentID]?.conference
            return ConferenceLeg(agentID: leg.agentID, name: leg.name, site: facts.sites[leg.agentID], toneHz: leg.toneHz,
                                 joinMs: report?.joinMs, joinedAtMs: report?.joinedAtMs, status: legStatus[i].0,
                                 cause: legStatus[i].1, up: up[i], down: down[i])
        }
        summary.hearing = hearing()
        summary.dtmf = dtmf()
        return summary
    }

    /// listener × speaker, both in join order.
    func hearing() -> [HearingCell] {
        var cells: [HearingCell] = []
        cells.reserveCapacity(legs.count * legs.count)
        for (l, listener) in legs.enumerated() {
            let report = results[listener.agentID]?.conference
            for (s, speaker) in legs.enumerated() {
                var cell = HearingCell(listener: listener.agentID, speaker: speaker.agentID, state: .unknown)
                let heard: ToneHeard?
                if l == s {
                    heard = report?.ownTone
                } else {
                    heard = report?.heard.first(where: { $0.agentID == speaker.agentID })
                        ?? report?.heard.first(where: { speaker.toneHz != 0 && $0.toneHz == speaker.toneHz })
                }
                // The judge never blames a listener for a speaker that was not there (or itself
                // for a conference it was not in).
                if isIn(l), isIn(s), let heard {
                    cell.fraction = heard.fraction
                    cell.levelDb = heard.levelDb
                    if l == s {
                        cell.state = heard.isHeard ? .echo : .clean
                    } else {
                        cell.state = switch heard.verdict {
                        case "continuous": .heard
                        case "intermittent": .partial
                        default: .missing
                        }
                    }
                }
                cells.append(cell)
            }
        }
        return cells
    }

    /// The sender's digits and what each other participant got; nil when the run sends none.
    func dtmf() -> ConferenceDTMF? {
        guard let plan = facts.conference, let digits = plan.dtmf, !digits.isEmpty else { return nil }
        let sender = plan.dtmfSender ?? legs.first?.agentID ?? ""
        var received: [String: String] = [:]
        for leg in legs where leg.agentID != sender {
            if let got = results[leg.agentID]?.dtmf?.received { received[leg.agentID] = got }
        }
        let fromSender = bridgeReport?.legs.last { $0.agentID == sender }
        return ConferenceDTMF(sender: sender, sent: results[sender]?.dtmf?.sent ?? "", received: received,
                              mode: bridgeID == nil ? nil : (bridgeReport?.dtmfMode ?? plan.dtmfMode),
                              bridgeReceived: fromSender?.dtmfReceived)
    }

    // MARK: classification

    /// The run's status and cause, first rule that applies (docs/runs.md).
    func classify(summary: ConferenceSummary) -> (RunStatus, RunCause) {
        // The bridge itself.
        if let bridgeID {
            let name = label(bridgeID)
            if let r = results[bridgeID] {
                if r.status == .notRun {
                    var c = r.cause ?? RunCause(code: "assignment_rejected")
                    c.agentID = c.agentID ?? bridgeID
                    return (.notRun, c)
                }
                if r.status == .failed {
                    var c = RunJudge.reportedCause(r) ?? RunCause(code: "media_error", detail: "the bridge reported failed without a cause")
                    c.agentID = c.agentID ?? bridgeID
                    c.detail = "bridge \(name): \(c.detail ?? c.code)"
                    return (.failed, c)
                }
            } else {
                let lost = facts.lost.contains(bridgeID)
                return (.failed, RunCause(
                    code: lost ? "agent_lost" : "timeout",
                    detail: lost ? "bridge \(name) went offline during the conference and sent no result"
                        : "bridge \(name) sent no result by the deadline",
                    agentID: bridgeID))
            }
        }
        // A participant that could not take part: the conference did not run as planned.
        if let i = legs.indices.first(where: { legStatus[$0].0 == .notRun }) {
            var c = legStatus[i].1 ?? RunCause(code: "assignment_rejected")
            c.detail = "\(legLabel(i)): \(RunJudge.causeText(c))"
            return (.notRun, c)
        }
        // Legs that failed, each named.
        let failed = legs.indices.filter { legStatus[$0].0 == .failed }
        if let first = failed.first {
            let detail = failed.map { "\(legLabel($0)): \(RunJudge.causeText(legStatus[$0].1 ?? RunCause(code: "failed")))" }
                .joined(separator: "; ")
            return (.failed, RunCause(code: "leg_failed", detail: detail, agentID: legs[first].agentID))
        }
        // Who does not hear whom.
        let missing = summary.hearing.filter { $0.state == .missing }
        if !missing.isEmpty {
            return (.failed, notHeard(missing))
        }
        if let echo = summary.hearing.first(where: { $0.state == .echo }) {
            let level = echo.levelDb.map { String(format: " at %.1f dBov", $0) } ?? ""
            return (.failed, RunCause(code: "own_echo",
                                      detail: "\(label(echo.listener)) hears its own tone back\(level): the bridge does not subtract it",
                                      agentID: echo.listener))
        }
        if let dtmf = summary.dtmf, let cause = dtmfProblem(dtmf) {
            return (.failed, cause)
        }
        // Quality.
        var notes: [String] = []
        let breaches = legBreaches.flatMap { $0 }
        notes += breaches.map(\.description)
        for cell in summary.hearing where cell.state == .partial {
            let share = cell.fraction.map { String(format: " (%.0f%% of the time)", $0 * 100) } ?? ""
            notes.append("\(label(cell.listener)) hears \(label(cell.speaker)) only in part\(share)")
        }
        if !notes.isEmpty {
            return (.degraded, RunCause(code: "quality", detail: notes.joined(separator: "; ")))
        }
        if let i = legs.indices.first(where: { legStatus[$0].0 == .degraded }), var c = legStatus[i].1 {
            c.detail = "\(legLabel(i)): \(c.detail ?? c.code)"
            return (.degraded, c)
        }
        return (.passed, RunCause(code: "normal"))
    }

    /// `carol does not hear alice, bob; dave does not hear alice`; the agent is a speaker
    /// nobody hears, else the first listener.
    func notHeard(_ cells: [HearingCell]) -> RunCause {
        var byListener: [(String, [String])] = []
        for cell in cells {
            if let i = byListener.firstIndex(where: { $0.0 == cell.listener }) {
                byListener[i].1.append(cell.speaker)
            } else {
                byListener.append((cell.listener, [cell.speaker]))
            }
        }
        let detail = byListener.map { "\(label($0.0)) does not hear \($0.1.map(label).joined(separator: ", "))" }
            .joined(separator: "; ")
        let listenersIn = legs.indices.filter(isIn).count
        let unheard = legs.first { speaker in
            cells.filter { $0.speaker == speaker.agentID }.count == listenersIn - 1 && listenersIn > 2
        }
        return RunCause(code: "not_heard", detail: detail, agentID: unheard?.agentID ?? cells[0].listener)
    }

    /// Relay/regenerate: every other participant that took part received exactly the sent
    /// digits; drop: none received any. The sender must have sent them all.
    func dtmfProblem(_ dtmf: ConferenceDTMF) -> RunCause? {
        guard let expected = facts.conference?.dtmf, let s = legs.firstIndex(where: { $0.agentID == dtmf.sender }),
              isIn(s) else { return nil }
        if dtmf.sent != expected {
            return RunCause(code: "dtmf_lost", detail: "\(label(dtmf.sender)) sent \(quoted(dtmf.sent)) of \(quoted(expected))",
                            agentID: dtmf.sender)
        }
        let drop = (facts.conference?.dtmfMode ?? .relay) == .drop
        var problems: [(String, String)] = []
        for (i, leg) in legs.enumerated() where leg.agentID != dtmf.sender && isIn(i) {
            let got = dtmf.received[leg.agentID] ?? ""
            if drop, !got.isEmpty {
                problems.append((leg.agentID, "\(leg.name) received \(quoted(got)) although the bridge drops DTMF"))
            } else if !drop, got != expected {
                problems.append((leg.agentID, "\(leg.name) received \(quoted(got)) of \(quoted(expected))"))
            }
        }
        guard let first = problems.first else { return nil }
        var detail = problems.map(\.1).joined(separator: "; ")
        if let bridge = dtmf.bridgeReceived, !drop { detail += "; the bridge received \(quoted(bridge))" }
        return RunCause(code: drop ? "dtmf_mismatch" : "dtmf_lost", detail: detail, agentID: first.0)
    }
}
