import EarshotWire
import Foundation
import Testing

@testable import EarshotCLI

/// The console's text from fixed API values: exact strings (UTC, a fixed clock).
@Suite struct ConsoleRenderTests {
    typealias F = ConsoleFixtures

    // MARK: tables

    @Test func tableAlignsColumnsAndTrimsTrailingSpaces() {
        let table = TextTable([.init("name"), .init("mos", .right), .init("note")],
                              rows: [["alice", "4.41", ""], ["bob", "3.5", "low"]])
        #expect(table.render() == """
            NAME    MOS  NOTE
            alice  4.41
            bob     3.5  low
            """)
    }

    @Test func tableShrinksTheWidestShrinkableColumnAndCutsWithEllipsis() {
        let table = TextTable([.init("id"), .init("site", shrinkable: true, minimumWidth: 4), .init("state")],
                              rows: [["a1", "branch-office-north", "online"], ["a2", "hq", "offline"]])
        // Natural width: 2 + 2 + 19 + 2 + 7 = 32; at 24 the site column gives up 8 characters.
        #expect(table.render(width: 24) == """
            ID  SITE         STATE
            a1  branch-off…  online
            a2  hq           offline
            """)
        // Never below the minimum: the table is then wider than asked.
        #expect(table.render(width: 10) == """
            ID  SITE  STATE
            a1  bra…  online
            a2  hq    offline
            """)
    }

    @Test func truncateKeepsShortTextAndCutsLongText() {
        #expect(TextTable.truncate("alice", to: 5) == "alice")
        #expect(TextTable.truncate("alice", to: 4) == "ali…")
        #expect(TextTable.truncate("alice", to: 1) == "…")
        #expect(TextTable.truncate("alice", to: 0) == "")
    }

    @Test func csvQuotesOnlyWhatNeedsIt() {
        #expect(CSV.render(header: ["a", "b"], rows: [["x,y", "say \"hi\""], [" pad", "plain"]]) == """
            a,b
            "x,y","say ""hi\"\"\"
            " pad",plain
            """)
    }

    @Test func terminalWidthFallsBackToCOLUMNSWhenNotATerminal() {
        // The test's stdout is a pipe or a file under `swift test`, not a terminal.
        let descriptor = Int32(-1)
        #expect(Terminal.columns(descriptor, environment: ["COLUMNS": "101"]) == 101)
        #expect(Terminal.columns(descriptor, environment: ["COLUMNS": "x"]) == nil)
        #expect(Terminal.columns(descriptor, environment: [:]) == nil)
    }

    // MARK: agents

    @Test func agentListUncut() {
        #expect(F.render().agents(F.agents) == """
            NAME   ID  SITE                 STATE     SINCE     LAST SEEN  VERSION  RUNS  SIP CONTACT                   LABELS
            alice  a1  hq                   online    1h ago    4s ago     0.1.0       2  sip:earshot@127.0.0.1:5071    floor=3,role=desk
            bob    a2  branch-office-north  offline   1m5s ago  1m35s ago  0.1.0       0  sip:earshot@10.20.30.40:5060  —
            carol  a3  hq                   enrolled  —         —          —           0  —                             —
            """)
    }

    @Test func agentListCutToEightyColumns() {
        let text = F.render(width: 80).agents(F.agents)
        #expect(text == """
            NAME   ID  SITE    STATE     SINCE     LAST SEEN  VERSI…  RUNS  SIP CON…  LABELS
            alice  a1  hq      online    1h ago    4s ago     0.1.0      2  sip:ear…  floor…
            bob    a2  branc…  offline   1m5s ago  1m35s ago  0.1.0      0  sip:ear…  —
            carol  a3  hq      enrolled  —         —          —          0  —         —
            """)
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 80 })
    }

    @Test func agentListJSONUsesTheAPIsFieldNames() throws {
        let json = try ConsoleJSON.string([F.agents[2]])
        #expect(json == """
            [
              {
                "active_runs" : 0,
                "enrolled_at" : "2026-12-06T21:09:30.000Z",
                "id" : "a3",
                "labels" : {

                },
                "name" : "carol",
                "sip_contacts" : [

                ],
                "site" : "hq",
                "spooled" : 0,
                "state" : "enrolled"
              }
            ]
            """)
    }

    @Test func emptyAgentListSaysHowToEnroll() {
        #expect(F.render().agents([]) == "no agents (create an enrollment token: earshot agents token --site SITE)")
    }

    // MARK: report

    @Test func reportMatrixOfMOSAndPairTable() {
        #expect(F.render().report(F.report, metric: nil) == """
            report 2026-12-05 21:10:00 → 2026-12-06 21:10:00, suite mesh — 3 agents, 3 pairs; runs: 7 passed, 1 degraded, 1 failed, 1 not run

            MOS-CQ (mean) (rows: from, columns: to)
            from \\ to  alice   bob  carol
            alice          —  4.41      ·
            bob         4.20     —      ·
            carol          ·     ·      —

            FROM   TO     RUNS  PASSED  DEGRADED  FAILED  NOT RUN  PASS %   MOS  MOS MIN  LOSS %  JITTER MS  RTT MS  LAST RUN
            alice  bob       4       4         0       0        0   100.0  4.41     4.40    0.00        0.4     0.3  2026-12-06 21:09:00
            alice  carol     2       0         0       1        1     0.0     —        —       —          —       —  2026-12-06 21:09:20
            bob    alice     4       3         1       0        0    75.0  4.20     3.50    1.25        3.5     0.3  2026-12-06 21:09:10
            """)
    }

    @Test func reportWithAMetricShowsOnlyThatMatrix() {
        #expect(F.render().report(F.report, metric: .pass) == """
            report 2026-12-05 21:10:00 → 2026-12-06 21:10:00, suite mesh — 3 agents, 3 pairs; runs: 7 passed, 1 degraded, 1 failed, 1 not run

            pass rate % (rows: from, columns: to)
            from \\ to  alice    bob  carol
            alice          —  100.0    0.0
            bob         75.0      —      ·
            carol          ·      ·      —
            """)
    }

    @Test func reportWithoutResultsSaysSo() {
        let empty = Report(since: F.at(-3600), until: F.now, agents: ["alice"], cells: [], totals: [:])
        #expect(F.render().report(empty, metric: nil) == """
            report 2026-12-06 20:10:00 → 2026-12-06 21:10:00 — 1 agents, 0 pairs; runs: none
            no pair results in this period
            """)
    }

    @Test func reportCSVHasOneRowPerPairInMatrixOrder() {
        #expect(F.render().reportCSV(F.report, metric: nil) == """
            from,to,runs,passed,degraded,failed,not_run,pass_rate_pct,mos_mean,mos_min,loss_pct_mean,jitter_ms_mean,rtt_ms_mean,last_run_at
            alice,bob,4,4,0,0,0,100,4.41,4.4,0,0.42,0.31,2026-12-06T21:09:00.000Z
            alice,carol,2,0,0,1,1,0,,,,,,2026-12-06T21:09:20.000Z
            bob,alice,4,3,1,0,0,75,4.2,3.5,1.25,3.5,0.3,2026-12-06T21:09:10.000Z
            """)
    }

    @Test func reportCSVWithAMetricIsTheMatrix() {
        #expect(F.render().reportCSV(F.report, metric: .loss) == """
            from\\to,alice,bob,carol
            alice,,0,
            bob,1.25,,
            carol,,,
            """)
    }

    @Test func reportJSONIsTheAPIResource() throws {
        let small = Report(since: F.at(-60), until: F.now, agents: ["a", "b"],
                           cells: [Report.Cell(from: "a", to: "b", runs: 1, passed: 1, passRatePct: 100, mosMean: 4.41)],
                           totals: ["passed": 1])
        #expect(try ConsoleJSON.string(small) == """
            {
              "agents" : [
                "a",
                "b"
              ],
              "cells" : [
                {
                  "degraded" : 0,
                  "failed" : 0,
                  "from" : "a",
                  "mos_mean" : 4.41,
                  "not_run" : 0,
                  "pass_rate_pct" : 100,
                  "passed" : 1,
                  "runs" : 1,
                  "to" : "b"
                }
              ],
              "since" : "2026-12-06T21:09:00.000Z",
              "totals" : {
                "passed" : 1
              },
              "until" : "2026-12-06T21:10:00.000Z"
            }
            """)
    }

    // MARK: runs

    @Test func runListTable() {
        let runs = [F.summary("r-1", .passed, mos: 4.41, loss: 0),
                    RunSummary(id: "r-2", suite: "mesh", testType: .p2p, status: .failed,
                               cause: RunCause(code: "rejected", detail: "Busy Here", statusCode: 486),
                               plannedAt: F.at(-30), startAt: F.at(-29), plannedDurationS: 90, participants: ["bob", "alice"])]
        #expect(F.render().runs(runs) == """
            ID   SUITE  TYPE  STATUS  PARTICIPANTS  START                PLANNED   MOS  LOSS %  CAUSE
            r-1  mesh   p2p   passed  alice → bob   2026-12-06 21:09:31      10s  4.41    0.00
            r-2  mesh   p2p   failed  bob → alice   2026-12-06 21:09:31    1m30s     —       —  rejected 486: Busy Here
            """)
    }

    @Test func runDetailShowsEverySection() {
        #expect(F.render().runDetail(F.runDetail) == """
            run r-7 — soak in suite soak: DEGRADED
              alice → bob · round rd-2
              planned 2026-12-06 21:08:00, start 2026-12-06 21:08:02, ended 2026-12-06 21:08:52
              cause: quality: MOS 3.50 below 3.60 (at bob)

            Participants
            PARTICIPANT  ROLE    SITE  STATUS    REPORTED             CAUSE
            alice        caller  hq    passed    2026-12-06 21:08:53  normal
            bob          callee  hq    degraded  2026-12-06 21:08:54  quality: MOS 3.50 below 3.60

            Media (each direction as its receiver measured it)
            FROM   TO     CODEC   RECEIVED  LOST  LOSS %  BURST  JITTER MS  RTT MS  ONE-WAY MS  MOS-CQ  MOS-LQ  AUDIO   DSCP
            alice  bob    PCMU   2438/2500    62    2.48   1.40   3.2/11.0     0.4        0.2~    3.50    3.61  ok     46/46
            bob    alice  PCMU   2500/2500     0    0.00   1.00    0.4/1.2     0.4           —    4.41    4.40  ok      46/0

            Call c1
              setup: INVITE→180 2.1 ms, INVITE→200 4.2 ms, answer→first RTP 19.5 ms
              duration: planned 50.0 s, actual 50.0 s
              ending: normal
              session timer: 90 s, refresh by UPDATE, 1 refresh
                at   45.0 s  UPDATE → 200  ok

            DTMF
              sent 12#, received 12 — MISMATCH
              DIGIT  SENT AT MS  RECEIVED  RECEIVED AT MS
              1          1000.0         1          1012.0
              2          1500.0         2          1511.5
              #          2000.0         —               —

            Thresholds
              MOS ≥ 3.60, loss ≤ 3 %, jitter ≤ 30 ms, RTT ≤ 300 ms, setup ≤ 5000 ms

            SIP ladder at alice (caller)
                time  alice                                 bob
               0.000  |────────────── INVITE ─────────────▶|
               0.002  |◀─────────── 100 Trying ────────────|
               0.004  |◀───────────── 200 OK ──────────────|
               0.005  |─────────────── ACK ───────────────▶|

            Media per second at alice
            SECOND  SENT  RECEIVED  LOST  JITTER MS
                 0    50        49     1        2.5

            Notes at alice
              loss burst of 5 at 12 s
            """)
    }

    @Test func ladderDiagramDrawsArrowsByDirectionAndCutsLongSummaries() {
        #expect(ConsoleRender.ladder(F.ladder, local: "alice", peer: "bob") == """
                time  alice                                 bob
               0.000  |────────────── INVITE ─────────────▶|
               0.002  |◀─────────── 100 Trying ────────────|
               0.004  |◀───────────── 200 OK ──────────────|
               0.005  |─────────────── ACK ───────────────▶|
              45.010  |── UPDATE (session refresh, Sess… ─▶|
              45.013  |◀───────────── 200 OK ──────────────|
              50.000  |─────────────── BYE ───────────────▶|
              50.002  |◀───────────── 200 OK ──────────────|
            """)
    }

    @Test func ladderWithoutANamedPeerShowsItsAddressAndMessagesOnRequest() {
        let entries = Array(F.ladder.prefix(2))
        #expect(ConsoleRender.ladder(entries, local: "alice", peer: nil, messages: true) == """
                time  alice                                 127.0.0.1:5072
               0.000  |────────────── INVITE ─────────────▶|
                          INVITE sip:earshot@127.0.0.1:5072 SIP/2.0
                          Call-ID: c1
               0.002  |◀─────────── 100 Trying ────────────|
                          SIP/2.0 100 Trying
            """)
    }

    @Test func ladderWithSeveralPeersEndsEachLineWithItsPeer() {
        var entries = Array(F.ladder.prefix(2))
        entries[1].peer = "127.0.0.1:5080"
        #expect(ConsoleRender.ladder(entries, local: "alice", peer: nil) == """
                time  alice                                 peer
               0.000  |────────────── INVITE ─────────────▶| 127.0.0.1:5072
               0.002  |◀─────────── 100 Trying ────────────| 127.0.0.1:5080
            """)
    }

    @Test func arrowsAreAlwaysTheSpanWide() {
        for summary in ["", "ACK", "183 Session Progress", String(repeating: "x", count: 80)] {
            #expect(ConsoleRender.arrow(summary, sent: true, span: 36).count == 36)
            #expect(ConsoleRender.arrow(summary, sent: false, span: 36).count == 36)
        }
    }

    // MARK: status, suites

    @Test func statusSummarisesTheOrganizer() {
        let info = StatusInfo(version: "0.1.0", startedAt: F.at(-7_380), now: F.now,
                              agents: .init(total: 3, online: 2, offline: 1, revoked: 0), suites: 3, suitesPaused: 1,
                              runsLastHour: ["passed": 6, "failed": 1], runsInFlight: 2, database: "/tmp/earshot.sqlite",
                              warnings: ["suite mesh: period 5m cannot be met; achievable 7m"],
                              alerts: ["firing": 2, "flapping": 1], deliveries: ["pending": 4, "dead": 1])
        #expect(F.render().status(info, organizer: "http://127.0.0.1:8760") == """
            organizer  http://127.0.0.1:8760 — earshot 0.1.0, protocol 1, up 2h3m
            agents     3 total: 2 online, 1 offline, 0 revoked
            suites     3 (1 paused)
            runs       2 in flight; last hour: 6 passed, 1 failed
            alerts     2 firing, 1 flapping
            webhooks   deliveries 1 dead, 4 pending
            database   /tmp/earshot.sqlite
            warning: suite mesh: period 5m cannot be met; achievable 7m
            """)
    }

    @Test func suiteListAndDetail() {
        let spec = SuiteSpec(name: "soak", type: .soak, members: MemberSelector(sites: ["hq"]),
                             topology: Topology(kind: .pairs, pairs: [["alice", "bob"]]), interval: .minutes(30),
                             duration: .seconds(200), sessionExpires: 90)
        let info = SuiteInfo(spec: spec, createdAt: F.at(-7200), updatedAt: F.at(-3600), memberCount: 2, unitCount: 1,
                             lastRoundAt: F.at(-600), nextRoundAt: F.at(1200))
        #expect(F.render().suites([info]) == """
            NAME  TYPE  TOPOLOGY         MEMBERS  UNITS  INTERVAL  DURATION  STATE   LAST ROUND  NEXT ROUND  WARNING
            soak  soak  pairs alice→bob        2      1       30m     3m20s  active  10m ago     in 20m
            """)
        #expect(F.render().suite(info) == """
            suite      soak — soak
            members    sites hq — 2 now, 1 pairs
            topology   pairs alice→bob
            schedule   every 30m; last round 2026-12-06 21:00:00, next 2026-12-06 21:30:00
            call       3m20s of PCMU over udp, Session-Expires 90 s
            thresholds MOS ≥ 3.60, loss ≤ 3 %, jitter ≤ 30 ms, RTT ≤ 300 ms, setup ≤ 5000 ms
            updated    2026-12-06 20:10:00 (created 2026-12-06 19:10:00)
            """)
    }

    @Test func roundListsRunsNotRunUnitsAndWarning() {
        let round = RoundInfo(roundID: "rd-1", suite: "mesh", runIDs: ["r-1", "r-2"],
                              notRun: [RunSummary(id: "r-3", suite: "mesh", testType: .p2p, status: .notRun,
                                                  cause: RunCause(code: "agent_offline", detail: "carol is offline"),
                                                  plannedAt: F.now, startAt: F.now, plannedDurationS: 10, participants: ["alice", "carol"])],
                              warning: "capacity: period 5m cannot be met")
        #expect(F.render().round(round) == """
            round rd-1 of suite mesh: 2 runs started
            runs: r-1 r-2
            not run: alice → carol — agent_offline: carol is offline
            warning: capacity: period 5m cannot be met
            """)
    }
}
