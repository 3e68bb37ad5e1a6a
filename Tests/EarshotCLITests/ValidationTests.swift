import EarshotWire
import Foundation
import Testing

@testable import EarshotCLI

/// `earshot validate`'s pass criteria as a pure function, its report, and the progress text.
@Suite struct ValidationTests {
    typealias F = ConsoleFixtures

    static func evaluate(_ runs: [RunSummary], _ criteria: ValidationCriteria = ValidationCriteria()) -> ValidationOutcome {
        Validation.evaluate(suite: "mesh", roundID: "rd-1", runs: runs, criteria: criteria)
    }

    @Test func allPassedHoldsTheDefaultCriteria() {
        let outcome = Self.evaluate([F.summary("r-1", .passed, mos: 4.4), F.summary("r-2", .passed, mos: 4.3)])
        #expect(outcome.ok)
        #expect(outcome.failures.isEmpty)
        #expect(outcome.passRatePct == 100)
        #expect(outcome.total == 2)
        #expect(outcome.passed == 2)
    }

    @Test func oneFailureOfFourBreaksOneHundredPercentButNotSeventyFive() {
        let runs = [F.summary("r-1", .passed), F.summary("r-2", .passed), F.summary("r-3", .passed), F.summary("r-4", .failed)]
        let strict = Self.evaluate(runs)
        #expect(!strict.ok)
        #expect(strict.passRatePct == 75)
        #expect(strict.failed == 1)
        #expect(strict.failures == ["pass rate 75.0 % is below the required 100 % (3 of 4 runs passed)"])
        #expect(Self.evaluate(runs, ValidationCriteria(minPassRatePct: 75)).ok)
        #expect(!Self.evaluate(runs, ValidationCriteria(minPassRatePct: 75.1)).ok)
    }

    @Test func degradedCountsOnlyWhenAllowed() {
        let runs = [F.summary("r-1", .passed), F.summary("r-2", .degraded)]
        #expect(!Self.evaluate(runs).ok)
        let allowed = Self.evaluate(runs, ValidationCriteria(allowDegraded: true))
        #expect(allowed.ok)
        #expect(allowed.degraded == 1)
        #expect(allowed.passRatePct == 100)
    }

    @Test func notRunAndUnfinishedCountAgainstThePassRate() {
        let runs = [F.summary("r-1", .passed), F.summary("r-2", .notRun), F.summary("r-3", .running)]
        let outcome = Self.evaluate(runs, ValidationCriteria(minPassRatePct: 30))
        #expect(!outcome.ok)
        #expect(outcome.notRun == 1)
        #expect(outcome.unfinished == 1)
        #expect(outcome.failures == ["1 run had not finished when the wait ended: r-3"])
        #expect(abs((outcome.passRatePct ?? 0) - 100.0 / 3) < 1e-9)
    }

    @Test func noRunsIsAFailure() {
        let outcome = Self.evaluate([], ValidationCriteria(minPassRatePct: 0))
        #expect(!outcome.ok)
        #expect(outcome.passRatePct == nil)
        #expect(outcome.failures == ["the suite planned no runs (do its members match any online agent?)"])
    }

    @Test func mosAndLossLimitsNameTheRun() {
        let runs = [F.summary("r-1", .passed, mos: 4.1, loss: 0.5), F.summary("r-2", .passed, mos: 3.9, loss: 2.5, participants: ["bob", "alice"]),
                    F.summary("r-3", .failed)]
        let outcome = Self.evaluate(runs, ValidationCriteria(minPassRatePct: 50, minMOS: 4.0, maxLossPct: 1))
        #expect(!outcome.ok)
        #expect(outcome.failures == [
            "run r-2 (bob → alice): MOS 3.90 is below 4.00",
            "run r-2 (bob → alice): loss 2.50 % is above 1 %",
        ])
        // At the limit is inside it.
        #expect(Self.evaluate([F.summary("r-1", .passed, mos: 4.0, loss: 1)], ValidationCriteria(minMOS: 4.0, maxLossPct: 1)).ok)
    }

    @Test func tableAndMarkdownReports() {
        let outcome = Self.evaluate([F.summary("r-1", .passed, mos: 4.41, loss: 0), F.summary("r-2", .failed)])
        #expect(F.render().validation(outcome) == """
            validate mesh: FAILED — 1 passed, 0 degraded, 1 failed, 0 not run, 0 unfinished of 2; pass rate 50.0 % (required 100 %)
              ✗ pass rate 50.0 % is below the required 100 % (1 of 2 runs passed)

            ID   SUITE  TYPE  STATUS  PARTICIPANTS  START                PLANNED   MOS  LOSS %  CAUSE
            r-1  mesh   p2p   passed  alice → bob   2026-12-06 21:09:31      10s  4.41    0.00
            r-2  mesh   p2p   failed  alice → bob   2026-12-06 21:09:31      10s     —       —
            """)
        #expect(F.render().validationMarkdown(outcome) == """
            # Earshot validation: mesh — FAILED

            * When: 2026-12-06 21:10:00, round `rd-1`
            * Criteria: pass rate ≥ 100 %
            * Runs: 2 — 1 passed, 0 degraded, 1 failed, 0 not run, 0 unfinished
            * Pass rate: 50.0 %

            ## Criteria not met

            * pass rate 50.0 % is below the required 100 % (1 of 2 runs passed)

            ## Runs

            | run | participants | status | MOS | loss % | cause |
            |---|---|---|---:|---:|---|
            | `r-1` | alice → bob | passed | 4.41 | 0.00 |  |
            | `r-2` | alice → bob | failed | — | — |  |

            """)
    }

    // MARK: progress

    @Test func progressSummaryAndEventLines() {
        let runs = [F.summary("r-1", .passed, mos: 4.41), F.summary("r-2", .running), F.summary("r-3", .scheduled)]
        #expect(ProgressView.summary(label: "mesh", runs: runs, elapsed: .seconds(72)) == "mesh       1/3 done · 1 scheduled, 1 running, 1 passed · 1:12")
        #expect(ProgressView.event(label: "mesh", run: runs[0]) == "mesh  alice → bob  passed  MOS 4.41  (r-1)")
        var failed = F.summary("r-4", .failed)
        failed.cause = RunCause(code: "dtmf_mismatch", detail: "sent 123#, received 12")
        #expect(ProgressView.event(label: "dtmf", run: failed) == "dtmf  alice → bob  failed  dtmf_mismatch: sent 123#, received 12  (r-4)")
        #expect(ProgressView.clock(.seconds(7)) == "0:07")
        #expect(ProgressView.clock(.seconds(3700)) == "61:40")
    }

    @Test func plainProgressPrintsEachRunEndOnce() {
        final class Lines: @unchecked Sendable { var text = "" }
        let lines = Lines()
        let view = ProgressView(mode: .lines) { lines.text += $0 }
        view.note("mesh: 2 runs", elapsed: .zero)
        view.update([("mesh", [F.summary("r-1", .running), F.summary("r-2", .scheduled)])], elapsed: .seconds(1))
        view.update([("mesh", [F.summary("r-1", .passed, mos: 4.4), F.summary("r-2", .running)])], elapsed: .seconds(11))
        view.update([("mesh", [F.summary("r-1", .passed, mos: 4.4), F.summary("r-2", .failed)])], elapsed: .seconds(12))
        view.update([("mesh", [F.summary("r-1", .passed, mos: 4.4), F.summary("r-2", .failed)])], elapsed: .seconds(13))
        #expect(lines.text == """
            [0:00] mesh: 2 runs
            [0:11] mesh  alice → bob  passed  MOS 4.40  (r-1)
            [0:12] mesh  alice → bob  failed  (r-2)

            """)
    }

    @Test func liveProgressRedrawsItsBlockInPlace() {
        final class Lines: @unchecked Sendable { var text = "" }
        let lines = Lines()
        let view = ProgressView(mode: .live) { lines.text += $0 }
        view.update([("mesh", [F.summary("r-1", .running)]), ("dtmf", [F.summary("r-2", .passed)])], elapsed: .seconds(1))
        view.update([("mesh", [F.summary("r-1", .passed)]), ("dtmf", [F.summary("r-2", .passed)])], elapsed: .seconds(2))
        let up = "\u{1B}[3A", clear = "\r\u{1B}[2K\n"
        #expect(lines.text == """
            mesh       0/1 done · 1 running · 0:01
            dtmf       1/1 done · 1 passed · 0:01
            all        1/2 done · 1 running, 1 passed · 0:01

            """ + up + String(repeating: clear, count: 3) + up + """
            mesh       1/1 done · 1 passed · 0:02
            dtmf       1/1 done · 1 passed · 0:02
            all        2/2 done · 2 passed · 0:02

            """)
    }

    @Test func liveProgressKeepsRunsThatEndedBadlyAboveTheBlock() {
        final class Lines: @unchecked Sendable { var text = "" }
        let lines = Lines()
        let view = ProgressView(mode: .live) { lines.text += $0 }
        view.update([("mesh", [F.summary("r-1", .running)])], elapsed: .seconds(1))
        view.update([("mesh", [F.summary("r-1", .failed)])], elapsed: .seconds(2))
        view.update([("mesh", [F.summary("r-1", .failed)])], elapsed: .seconds(3))
        let redraw = "\u{1B}[1A\r\u{1B}[2K\n\u{1B}[1A"
        #expect(lines.text == "mesh       0/1 done · 1 running · 0:01\n" + redraw
            + "[0:02] mesh  alice → bob  failed  (r-1)\nmesh       1/1 done · 1 failed · 0:02\n" + redraw
            + "mesh       1/1 done · 1 failed · 0:03\n")
    }
}
