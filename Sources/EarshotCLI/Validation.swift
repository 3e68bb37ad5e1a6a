import EarshotWire
import Foundation

/// The pass criteria of `earshot validate`.
struct ValidationCriteria: Codable, Sendable, Equatable {
    /// Runs that must pass, percent of all runs of the round (not run and unfinished count
    /// against it).
    var minPassRatePct: Double = 100
    /// Every measured run's worst-direction MOS-CQ must reach this.
    var minMOS: Double?
    /// Every measured run's worst-direction loss must stay at or below this.
    var maxLossPct: Double?
    /// Count `degraded` runs as passing.
    var allowDegraded: Bool = false

    enum CodingKeys: String, CodingKey {
        case minPassRatePct = "min_pass_rate_pct", minMOS = "min_mos", maxLossPct = "max_loss_pct"
        case allowDegraded = "allow_degraded"
    }
}

/// The verdict of `earshot validate`, as printed with `--format json`.
struct ValidationOutcome: Codable, Sendable, Equatable {
    var ok: Bool
    var suite: String
    var roundID: String?
    var criteria: ValidationCriteria
    var total: Int
    var passed: Int
    var degraded: Int
    var failed: Int
    var notRun: Int
    /// Runs still scheduled or running when the wait ended.
    var unfinished: Int
    /// Passing runs ÷ all runs, percent; nil when there were none.
    var passRatePct: Double?
    /// Each broken criterion as a sentence.
    var failures: [String]
    var runs: [RunSummary]

    enum CodingKeys: String, CodingKey {
        case ok, suite, roundID = "round_id", criteria, total, passed, degraded, failed, notRun = "not_run", unfinished
        case passRatePct = "pass_rate_pct", failures, runs
    }
}

enum Validation {
    /// Applies `criteria` to the runs of one round. Pure: `runs` are the round's runs as last
    /// seen (including the round's not-run units); a run not final counts as unfinished.
    static func evaluate(suite: String, roundID: String?, runs: [RunSummary], criteria: ValidationCriteria) -> ValidationOutcome {
        let count = { (status: RunStatus) in runs.filter { $0.status == status }.count }
        let passed = count(.passed), degraded = count(.degraded), failed = count(.failed), notRun = count(.notRun)
        let unfinishedRuns = runs.filter { !$0.status.isFinal }
        let passing = passed + (criteria.allowDegraded ? degraded : 0)
        let rate = runs.isEmpty ? nil : Double(passing) / Double(runs.count) * 100
        var failures: [String] = []
        if runs.isEmpty {
            failures.append("the suite planned no runs (do its members match any online agent?)")
        }
        if let rate, rate + 1e-9 < criteria.minPassRatePct {
            failures.append("pass rate \(ConsoleRender.number(rate, 1)) % is below the required \(ConsoleRender.compact(criteria.minPassRatePct)) % (\(passing) of \(runs.count) runs \(criteria.allowDegraded ? "passed or degraded" : "passed"))")
        }
        if !unfinishedRuns.isEmpty {
            failures.append("\(unfinishedRuns.count) run\(unfinishedRuns.count == 1 ? "" : "s") had not finished when the wait ended: \(unfinishedRuns.map(\.id).joined(separator: ", "))")
        }
        for run in runs {
            let pair = ConsoleRender.participantList(run)
            if let minimum = criteria.minMOS, let mos = run.mosMin, mos + 1e-9 < minimum {
                failures.append("run \(run.id) (\(pair)): MOS \(ConsoleRender.number(mos, 2)) is below \(ConsoleRender.number(minimum, 2))")
            }
            if let maximum = criteria.maxLossPct, let loss = run.lossPctMax, loss > maximum + 1e-9 {
                failures.append("run \(run.id) (\(pair)): loss \(ConsoleRender.number(loss, 2)) % is above \(ConsoleRender.compact(maximum)) %")
            }
        }
        return ValidationOutcome(ok: failures.isEmpty, suite: suite, roundID: roundID, criteria: criteria, total: runs.count,
                                 passed: passed, degraded: degraded, failed: failed, notRun: notRun,
                                 unfinished: unfinishedRuns.count, passRatePct: rate, failures: failures, runs: runs)
    }
}

extension ConsoleRender {
    func validation(_ outcome: ValidationOutcome) -> String {
        var lines = [
            "validate \(outcome.suite): \(outcome.ok ? "PASSED" : "FAILED") — \(outcome.passed) passed, \(outcome.degraded) degraded, \(outcome.failed) failed, \(outcome.notRun) not run, \(outcome.unfinished) unfinished of \(outcome.total); pass rate \(outcome.passRatePct.map { ConsoleRender.number($0, 1) + " %" } ?? Self.none) (required \(Self.compact(outcome.criteria.minPassRatePct)) %)",
        ]
        lines += outcome.failures.map { "  ✗ \($0)" }
        if !outcome.runs.isEmpty { lines += ["", runs(outcome.runs)] }
        return lines.joined(separator: "\n")
    }

    /// The Markdown report of `validate --markdown FILE`.
    func validationMarkdown(_ outcome: ValidationOutcome) -> String {
        func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        let c = outcome.criteria
        var criteria = ["pass rate ≥ \(Self.compact(c.minPassRatePct)) %\(c.allowDegraded ? " (degraded counts as passed)" : "")"]
        if let v = c.minMOS { criteria.append("MOS ≥ \(Self.number(v, 2))") }
        if let v = c.maxLossPct { criteria.append("loss ≤ \(Self.compact(v)) %") }
        var lines = [
            "# Earshot validation: \(outcome.suite) — \(outcome.ok ? "PASSED" : "FAILED")",
            "",
            "* When: \(time(now))\(outcome.roundID.map { ", round `\($0)`" } ?? "")",
            "* Criteria: \(criteria.joined(separator: ", "))",
            "* Runs: \(outcome.total) — \(outcome.passed) passed, \(outcome.degraded) degraded, \(outcome.failed) failed, \(outcome.notRun) not run, \(outcome.unfinished) unfinished",
            "* Pass rate: \(outcome.passRatePct.map { Self.number($0, 1) + " %" } ?? Self.none)",
        ]
        if !outcome.failures.isEmpty {
            lines += ["", "## Criteria not met", ""] + outcome.failures.map { "* \(escape($0))" }
        }
        if !outcome.runs.isEmpty {
            lines += ["", "## Runs", "", "| run | participants | status | MOS | loss % | cause |", "|---|---|---|---:|---:|---|"]
            for run in outcome.runs {
                lines.append("| `\(run.id)` | \(escape(Self.participantList(run))) | \(run.status.rawValue) | \(Self.number(run.mosMin, 2)) | \(Self.number(run.lossPctMax, 2)) | \(escape(Self.cause(run.cause))) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
