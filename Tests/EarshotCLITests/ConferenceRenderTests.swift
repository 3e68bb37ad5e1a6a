import EarshotWire
import Foundation
import Testing

@testable import EarshotCLI

/// A judged conference run: alice, bob, carol and dave on a bridge hosted by hub; dave's leg
/// failed, carol's own tone comes back, bob does not hear carol.
enum ConferenceFixtures {
    typealias F = ConsoleFixtures
    static let ids = ["a1", "a2", "a3", "a4"]
    static let names = ["alice", "bob", "carol", "dave"]

    static func stream(_ from: String, _ to: String, loss: Double, jitter: Double, mos: Double) -> StreamMetrics {
        StreamMetrics(from: from, to: to, codec: "PCMU", ptime: 20, packetsExpected: 750,
                      packetsReceived: 750 - Int(loss * 7.5), packetsLost: Int(loss * 7.5), lossPct: loss,
                      jitterMeanMs: jitter, mosCQ: mos)
    }

    static let legs: [ConferenceLeg] = [
        ConferenceLeg(agentID: "a1", name: "alice", site: "hq", toneHz: 1750, joinMs: 12.5, joinedAtMs: 13, status: .passed,
                      up: stream("a1", "b1", loss: 0, jitter: 0.4, mos: 4.41), down: stream("b1", "a1", loss: 0, jitter: 0.6, mos: 4.4)),
        ConferenceLeg(agentID: "a2", name: "bob", site: "hq", toneHz: 1850, joinMs: 10.3, joinedAtMs: 675, status: .passed,
                      up: stream("a2", "b1", loss: 0.4, jitter: 1.2, mos: 4.32), down: stream("b1", "a2", loss: 0, jitter: 0.5, mos: 4.41)),
        ConferenceLeg(agentID: "a3", name: "carol", site: "branch", toneHz: 1950, joinMs: 48, joinedAtMs: 1_380, status: .degraded,
                      cause: RunCause(code: "quality", detail: "down MOS 3.20 below 3.60"),
                      up: stream("a3", "b1", loss: 0, jitter: 0.7, mos: 4.4), down: stream("b1", "a3", loss: 6, jitter: 9.5, mos: 3.2)),
        ConferenceLeg(agentID: "a4", name: "dave", site: "branch", toneHz: 1550, status: .failed,
                      cause: RunCause(code: "call_failed", detail: "the bridge answered 486 Busy Here", statusCode: 486)),
    ]

    static var hearing: [HearingCell] {
        let cells: [[HearingCell.State]] = [
            [.clean, .heard, .partial, .unknown],
            [.heard, .clean, .missing, .unknown],
            [.heard, .heard, .echo, .unknown],
            [.unknown, .unknown, .unknown, .unknown],
        ]
        var out: [HearingCell] = []
        for (l, row) in cells.enumerated() {
            for (s, state) in row.enumerated() {
                let level: Double? = state == .heard ? -20.6 - Double(l) : (state == .echo ? -27.2 : nil)
                let fraction: Double? = state == .partial ? 0.58 : (state == .heard ? 1 : nil)
                out.append(HearingCell(listener: ids[l], speaker: ids[s], state: state, fraction: fraction, levelDb: level))
            }
        }
        return out
    }

    static var summary: ConferenceSummary {
        ConferenceSummary(conferenceID: "conf-r-c1", mode: .rotate, bridgeAgentID: "b1",
                          uri: "sip:conf-r-c1@127.0.0.1:5070;transport=udp", legs: legs, hearing: hearing,
                          dtmf: ConferenceDTMF(sender: "a1", sent: "159#", received: ["a2": "159#", "a3": "15", "a4": ""],
                                               mode: .relay, bridgeReceived: "159#"),
                          peakParticipants: 3, refused: 0)
    }

    static var detail: RunDetail {
        let run = RunSummary(id: "r-c1", suite: "conf", roundID: "rd-5", testType: .conference, status: .failed,
                             cause: RunCause(code: "call_failed", detail: "dave: the bridge answered 486 Busy Here", statusCode: 486,
                                             agentID: "a4"),
                             plannedAt: F.at(-40), startAt: F.at(-38), endedAt: F.at(-5), plannedDurationS: 20,
                             participants: names + ["hub"], mosMin: 3.2, lossPctMax: 6)
        var participants = zip(ids, names).map { id, name in
            ParticipantInfo(agentID: id, name: name, site: id < "a3" ? "hq" : "branch", role: .participant, status: .passed,
                            cause: RunCause(code: "normal"), reportedAt: F.at(-6))
        }
        participants[3].status = .failed
        participants[3].cause = RunCause(code: "call_failed", statusCode: 486)
        participants.append(ParticipantInfo(agentID: "b1", name: "hub", site: "hq", role: .bridge, status: .passed,
                                            reportedAt: F.at(-5)))
        // The store also gives one participant's call and DTMF summaries: not shown for a conference.
        return RunDetail(run: run, participants: participants, directions: legs.flatMap { [$0.up, $0.down].compactMap { $0 } },
                         call: CallSummary(callID: "c-a1", inviteTo200Ms: 12.5, ending: "normal"),
                         dtmf: DTMFSummary(sent: "159#", received: ""), conference: summary)
    }
}

@Suite struct ConferenceRenderTests {
    typealias F = ConsoleFixtures

    @Test func runsShowRendersTheBridgeTheLegsTheHearingMatrixAndDTMF() {
        let text = F.render().runDetail(ConferenceFixtures.detail)
        let expected = """
            run r-c1 — conference in suite conf: FAILED
              5 agents: alice, bob, carol, dave, hub · round rd-5
              planned 2026-12-06 21:09:20, start 2026-12-06 21:09:22, ended 2026-12-06 21:09:55
              cause: call_failed 486: dave: the bridge answered 486 Busy Here (at dave)

            Participants
            PARTICIPANT  ROLE         SITE    STATUS  REPORTED             CAUSE
            alice        participant  hq      passed  2026-12-06 21:09:54  normal
            bob          participant  hq      passed  2026-12-06 21:09:54  normal
            carol        participant  branch  passed  2026-12-06 21:09:54  normal
            dave         participant  branch  failed  2026-12-06 21:09:54  call_failed 486
            hub          bridge       hq      passed  2026-12-06 21:09:55

            Conference conf-r-c1
              bridge: built-in (rotate) on hub, sip:conf-r-c1@127.0.0.1:5070;transport=udp
              peak 3 participants, none refused

            Legs (up: participant → bridge, down: bridge → participant)
            PARTICIPANT  SITE    TONE HZ  JOIN MS  STATUS    UP LOSS %  UP JITTER  UP MOS  DOWN LOSS %  DOWN JITTER  DOWN MOS  CAUSE
            alice        hq         1750     12.5  passed         0.00        0.4    4.41         0.00          0.6      4.40
            bob          hq         1850     10.3  passed         0.40        1.2    4.32         0.00          0.5      4.41
            carol        branch     1950     48.0  degraded       0.00        0.7    4.40         6.00          9.5      3.20  quality: down MOS 3.20 below 3.60
            dave         branch     1550        —  failed            —          —       —            —            —         —  call_failed 486: the bridge answered 486 Busy Here

            Hearing (rows: listener, columns: speaker)
            listener \\ speaker  alice    bob  carol  dave
            alice                   ·  ✓ -21  ~ 0.6     ?
            bob                 ✓ -22      ·      ✗     ?
            carol               ✓ -23  ✓ -23   ECHO     ?
            dave                    ?      ?      ?     ?
              ✓ heard (level dBov)  ~ partly heard (share of the time)  ✗ not heard  ? unknown (not both in the conference)
              diagonal: · own tone not returned  ECHO own tone came back (the bridge did not subtract it)

            DTMF through the bridge (relay)
              alice sent 159#; the bridge received 159#
              bob    received  159#  ✓
              carol  received  15    ✗
              dave   received  —     ✗
            """
        #expect(text == expected)
    }

    @Test func hearingCellsAndExternalRooms() {
        #expect(ConsoleRender.hearingCell(HearingCell(listener: "a", speaker: "b", state: .heard, levelDb: -20.4)) == "✓ -20")
        #expect(ConsoleRender.hearingCell(HearingCell(listener: "a", speaker: "b", state: .heard)) == "✓")
        #expect(ConsoleRender.hearingCell(HearingCell(listener: "a", speaker: "b", state: .partial, fraction: 0.25)) == "~ 0.2")
        #expect(ConsoleRender.hearingCell(HearingCell(listener: "a", speaker: "a", state: .echo, levelDb: -30)) == "ECHO")
        #expect(ConsoleRender.hearingCell(nil) == "?")
        let room = ConferenceSummary(conferenceID: "conf-r-9", mode: .uri, uri: "sip:room100@pbx.example.com")
        #expect(F.render().bridge(room, name: { $0 }) == """
            Conference conf-r-9
              bridge: external room sip:room100@pbx.example.com
            """)
    }

    @Test func runsListCountsTheAgentsOfAConference() {
        var run = ConferenceFixtures.detail.run
        run.cause = nil
        run.status = .degraded
        let text = F.render().runs([run])
        #expect(text == """
            ID    SUITE  TYPE        STATUS    PARTICIPANTS                            START                PLANNED   MOS  LOSS %  CAUSE
            r-c1  conf   conference  degraded  5 agents: alice, bob, carol, dave, hub  2026-12-06 21:09:22      20s  3.20    6.00
            """)
    }

    @Test func demoHighlightAndMatrixOfTheConference() {
        var detail = ConferenceFixtures.detail
        detail.run.status = .passed
        detail.run.cause = nil
        #expect(ConsoleRender.highlight(detail)
            == "conference  5 agents: alice, bob, carol, dave, hub  passed: 4 participants, 4 of 12 heard, 1 ECHO; DTMF 159# reached 1 of 3 (relay)")
    }

    @Test func reportOfAConferenceSuiteHasARowPerLegDirection() {
        var second = ConferenceFixtures.detail
        second.run.id = "r-c2"
        second.run.endedAt = F.at(-1)
        second.conference?.legs[0].status = .degraded
        second.conference?.legs[0].up?.mosCQ = 3.41
        let cells = ConferenceReport.cells([ConferenceFixtures.detail, second])
        #expect(cells.map { "\($0.from)→\($0.to)" } == ["alice→hub", "bob→hub", "carol→hub", "dave→hub", "hub→alice", "hub→bob",
                                                       "hub→carol", "hub→dave"])
        let aliceUp = cells[0]
        #expect(aliceUp.runs == 2)
        #expect(aliceUp.passed == 1)
        #expect(aliceUp.degraded == 1)
        #expect(aliceUp.passRatePct == 50)
        #expect(aliceUp.mosMin == 3.41)
        #expect(abs((aliceUp.mosMean ?? 0) - 3.91) < 1e-9)
        #expect(aliceUp.lastRunAt == F.at(-1))
        let daveDown = cells[7]
        #expect(daveDown.failed == 2)
        #expect(daveDown.passRatePct == 0)
        #expect(daveDown.mosMean == nil)
        let report = ConferenceReport.report(Report(since: F.at(-3600), until: F.now, suite: "conf", agents: [], cells: [],
                                                    totals: ["failed": 2]), details: [second])
        #expect(report.agents == ["alice", "bob", "carol", "dave", "hub"])
        #expect(report.cells.count == 8)
        #expect(report.totals == ["failed": 2])
    }
}
