import EarshotWire
import Foundation
import MediaEngine
import RTPCore
import SIPStack
import SIPTransaction

/// Conference results (issue 6) in the protocol's terms: a participant's view of its leg (join
/// time, the hearing row, DTMF through the bridge, both directions of its leg) and a bridge's
/// report (one leg per member, attributed to agent ids).
extension ResultMapping {
    /// A tone in at least this share of a window's frames is heard `continuous`ly.
    public static let continuousFraction = 0.9
    /// Below this share it is `absent` (the Goertzel detector's false hits are ~2 % of frames).
    public static let absentFraction = 0.2

    /// `continuous`, `intermittent` or `absent` for the share of frames with the tone.
    public static func toneVerdict(fraction: Double) -> String {
        if fraction >= continuousFraction { return ToneTracker.Verdict.continuous.rawValue }
        if fraction < absentFraction { return ToneTracker.Verdict.absent.rawValue }
        return ToneTracker.Verdict.intermittent.rawValue
    }

    /// How well tone `hz` came through in the whole seconds of the receiver's timeline
    /// (seconds since its media started) that lie inside [`fromS`, `toS`): `framesPerSecond`
    /// and `framesInSecond` are `ToneObservation`'s. Nil when no whole second lies inside (the
    /// speaker and the listener were not in the conference together long enough to judge).
    ///
    /// `longestGapMs` is an upper bound from the per-second counts: the frames without the tone
    /// in the longest run of consecutive seconds that each missed some.
    ///
    /// Seconds that overlap an `excluded` span (seconds on the same timeline) are left out:
    /// while digits go through the conference, RFC 4733 events replace the sender's audio
    /// (§2.5.1) and a relaying bridge pauses the audio to the others, so every tone has a gap
    /// there that says nothing about hearing.
    public static func toneHeard(agentID: String, hz: Int, framesPerSecond: [Int], framesInSecond: [Int], meanLevelDb: Double?,
                                 fromS: Double, toS: Double, excluded: [ClosedRange<Double>] = []) -> ToneHeard? {
        let first = max(0, Int(fromS.rounded(.up)))
        let end = min(Int(toS.rounded(.down)), framesPerSecond.count, framesInSecond.count)
        guard first < end else { return nil }
        var frames = 0, withTone = 0, gap = 0, longestGap = 0
        for second in first..<end where !excluded.contains(where: { $0.overlaps(Double(second)...Double(second + 1)) }) {
            let total = framesInSecond[second]
            let hits = min(framesPerSecond[second], total)
            frames += total
            withTone += hits
            if hits < total {
                gap += total - hits
                longestGap = max(longestGap, gap)
            } else {
                gap = 0
            }
        }
        guard frames > 0 else { return nil }
        let fraction = Double(withTone) / Double(frames)
        return ToneHeard(agentID: agentID, toneHz: hz, fraction: fraction, levelDb: withTone > 0 ? meanLevelDb : nil,
                         verdict: toneVerdict(fraction: fraction), longestGapMs: Double(longestGap) * 20)
    }

    /// When the DTMF sender `sender` plays the suite's digits, seconds after its own answer:
    /// once every member should have joined (the last join + 2 s), at least 0.5 s in. The user
    /// agent sends them after the PIN if that ends later.
    public static func dtmfDelay(conference: ConferenceAssignment, sender: ConferenceMember) -> Double {
        max(0.5, (conference.members.map(\.joinOffsetS).max() ?? 0) + 2 - sender.joinOffsetS)
    }

    /// When digits went through the conference, in seconds on this participant's receiver
    /// timeline (0 = its answer), ±0.3 s: the digits it received or sent (ms offsets, start and
    /// end). When it saw none although the suite sends some (a bridge in `drop` mode, digits
    /// lost), the DTMF sender's planned window instead: the later of the last join + 2 s and
    /// the end of its PIN after its answer, 200 ms per digit, ±0.5 s.
    public static func dtmfSpans(conference: ConferenceAssignment, member: ConferenceMember,
                                 received: [(Double, Double?)], sent: [(Double, Double)]) -> [ClosedRange<Double>] {
        var spans: [ClosedRange<Double>] = []
        for (start, end) in received + sent.map({ ($0.0, Optional($0.1)) }) {
            spans.append((start / 1000 - 0.3)...((end ?? start + 100) / 1000 + 0.3))
        }
        if spans.isEmpty, let digits = conference.dtmf, !digits.isEmpty, let first = conference.members.first {
            let sender = conference.members.first { $0.agentID == conference.dtmfSender || $0.name == conference.dtmfSender } ?? first
            let senderDelay = max(dtmfDelay(conference: conference, sender: sender), admissionDelay(pin: conference.pin))
            let at = sender.joinOffsetS + senderDelay - member.joinOffsetS
            spans.append((at - 0.5)...(at + 0.2 * Double(digits.count) + 0.5))
        }
        return spans
    }

    /// Seconds from a member's answer until the bridge mixes it: none without a PIN, else the
    /// PIN's delay, its digits (`SIPUserAgent`'s pacing: 200 ms each) and the bridge's check.
    public static func admissionDelay(pin: String?) -> Double {
        guard let pin, !pin.isEmpty else { return 0 }
        return 0.5 + 0.2 * Double(pin.count) + 0.3
    }

    /// A participant's result: its call as in a p2p run (status, cause, call summary, both
    /// directions with the bridge — `from`/`to` the bridge's agent id or `externalRoomLabel` —,
    /// evidence, raw), plus `conference` (join, the tones heard) and `dtmf` without the PIN.
    ///
    /// Heard windows, on the participant's receiver timeline (0 = its answer): another
    /// member m from m's planned join (+ both PINs) + 1 s, its own tone from its own admission
    /// + 1 s; both to its own leave − 0.5 s.
    public static func participantResult(of report: CallReport, _ context: RunContext, conference: ConferenceAssignment,
                                         member: ConferenceMember, callStartedAt: Date, startAt: Date) -> RunResult {
        var result = result(of: report, context)
        let media = report.media
        let packetsIn = media?.received.statistics.packetsReceived ?? 0
        // No tone is expected from a bridge (the hearing matrix judges the audio): a leg that
        // completed with media coming in passes.
        if report.ending.isNormal {
            if packetsIn > 0 {
                result.status = .passed
                result.cause = cause(of: report.ending)
            } else {
                result.status = .failed
                result.cause = RunCause(code: "audio_missing", detail: "no RTP from the conference (one-way audio)", agentID: context.agentID)
            }
        }

        let joinedAt = report.setup.inviteTo200Ms.map { callStartedAt.addingTimeInterval($0 / 1000) }
        let joinedAtMs = joinedAt.map { $0.timeIntervalSince(startAt) * 1000 }
        let leftAtMs = zip(joinedAtMs, report.actualDurationS).map { $0 + $1 * 1000 }
        var heard: [ToneHeard] = []
        var ownTone: ToneHeard?
        if let media, let joinedAt, let inCall = report.actualDurationS {
            let admission = admissionDelay(pin: conference.pin)
            let until = inCall - 0.5
            let excluded = dtmfSpans(conference: conference, member: member,
                                     received: media.received.dtmfDigitsReceived.map { ($0.offsetMs, $0.endOffsetMs) },
                                     sent: report.digitsSentAfterPIN.map { ($0.offsetMs, $0.offsetMs + $0.durationMs) })
            func observe(_ speaker: ConferenceMember, fromS: Double) -> ToneHeard? {
                guard let tone = media.received.tones.first(where: { $0.hz == speaker.toneHz }) else { return nil }
                return toneHeard(agentID: speaker.agentID, hz: speaker.toneHz, framesPerSecond: tone.framesPerSecond,
                                 framesInSecond: tone.framesInSecond, meanLevelDb: tone.meanLevelDb, fromS: fromS, toS: until,
                                 excluded: excluded)
            }
            for other in conference.members where other.agentID != member.agentID {
                let speakerIn = startAt.addingTimeInterval(other.joinOffsetS + admission).timeIntervalSince(joinedAt)
                if let tone = observe(other, fromS: max(speakerIn, admission) + 1) { heard.append(tone) }
            }
            ownTone = observe(member, fromS: admission + 1)
        }
        result.conference = ParticipantConferenceReport(
            joinMs: report.setup.inviteTo200Ms, joinedAtMs: joinedAtMs, leftAtMs: leftAtMs, pinSent: report.pinSent,
            heard: heard, ownTone: ownTone)
        if let media {
            let sent = report.digitsSentAfterPIN.compactMap { d in d.digit.map { DTMFDigit(digit: $0, offsetMs: d.offsetMs) } }
            let received = media.received.dtmfDigitsReceived.compactMap { d in d.digit.map { DTMFDigit(digit: $0, offsetMs: d.offsetMs) } }
            result.dtmf = sent.isEmpty && received.isEmpty ? nil
                : DTMFSummary(sent: sent.map(\.digit).joined(), received: received.map(\.digit).joined(), sentDigits: sent,
                              receivedDigits: received)
        }
        return result
    }

    /// The bridge's result: one `BridgeLegReport` per member the bridge mixed (joined/left in
    /// ms after the run's `start_at`), attributed by the leg's `X-Earshot-Agent`; one stream per
    /// leg (participant → bridge, `measured_by: receiver`); the bridge report as `raw`.
    static func bridgeResult(_ report: BridgeReport, legs: [OpenBridge.Leg], conference: ConferenceAssignment,
                             _ context: RunContext, openedAt: Date, startAt: Date, notes: [String]) -> RunResult {
        let shift = openedAt.timeIntervalSince(startAt) * 1000
        var legReports: [BridgeLegReport] = []
        var streams: [StreamMetrics] = []
        var lines = notes
        var unmatched = legs
        for member in report.members {
            // The leg whose media session this member was; else the first unreported leg of its label.
            let index = unmatched.firstIndex { $0.report?.media?.session.id == member.session }
                ?? unmatched.firstIndex { $0.report == nil && $0.label == member.label }
            let leg = index.map { unmatched.remove(at: $0) }
            let agentID = leg?.agentID ?? conference.members.first { $0.agentID == member.label }?.agentID
            let digits = member.digits.compactMap(\.digit).joined()
            legReports.append(BridgeLegReport(
                agentID: agentID, from: leg?.from ?? member.label, callID: leg?.callID ?? "",
                joinedAtMs: member.joinedAtMs + shift, leftAtMs: member.leftAtMs.map { $0 + shift }, admitted: member.admitted,
                dtmfReceived: digits, dtmfForwarded: member.dtmfForwarded, framesMixed: member.framesMixed,
                framesConcealed: member.framesConcealed))
            if let call = leg?.report {
                var legContext = context
                legContext.peer = agentID ?? leg?.from ?? member.label
                streams += ResultMapping.streams(call, legContext).filter { $0.measuredBy == "receiver" }
            }
            lines.append("\(agentID ?? member.label) joined at \(Int(member.joinedAtMs + shift)) ms"
                + (member.leftAtMs.map { ", left at \(Int($0 + shift)) ms" } ?? ", still joined at the end")
                + (member.admitted ? "" : ", never admitted (no PIN)") + (digits.isEmpty ? "" : ", digits \"\(digits)\""))
        }
        let bridge = BridgeRunReport(
            conferenceID: conference.conferenceID, dtmfMode: conference.dtmfMode, maxParticipants: report.maxParticipants,
            peakParticipants: report.peakParticipants, refused: report.refused, legs: legReports, ticks: report.ticks,
            tickLatenessP99Us: report.tickLateness.p99.map { Double($0) }, clippedSamples: report.clippedSamples)
        return RunResult(
            runID: context.runID, agentID: context.agentID, role: .bridge, testType: .conference, status: .passed,
            startedAt: context.startedAt, endedAt: context.endedAt, streams: streams, bridge: bridge,
            evidence: Evidence(notes: lines), raw: raw(report))
    }
}

private func zip(_ a: Double?, _ b: Double?) -> (Double, Double)? {
    guard let a, let b else { return nil }
    return (a, b)
}
