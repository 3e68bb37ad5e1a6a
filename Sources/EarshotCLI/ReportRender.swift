import ArgumentParser
import EarshotWire
import Foundation

/// Which figure of a pair fills the matrix of `earshot report`.
enum ReportMetric: String, ExpressibleByArgument, CaseIterable, Sendable {
    case mos, loss, jitter, rtt, pass

    var title: String {
        switch self {
        case .mos: "MOS-CQ (mean)"
        case .loss: "loss % (mean)"
        case .jitter: "jitter ms (mean)"
        case .rtt: "RTT ms (mean)"
        case .pass: "pass rate %"
        }
    }

    func value(_ cell: Report.Cell) -> Double? {
        switch self {
        case .mos: cell.mosMean
        case .loss: cell.lossPctMean
        case .jitter: cell.jitterMsMean
        case .rtt: cell.rttMsMean
        case .pass: cell.passRatePct
        }
    }

    var digits: Int {
        switch self {
        case .mos, .loss: 2
        case .jitter, .rtt, .pass: 1
        }
    }
}

/// The pair matrix (rows: caller/from, columns: callee/to) and the per-pair table.
extension ConsoleRender {
    /// Agents in the report's order, then any name only a cell mentions.
    static func axis(_ report: Report) -> [String] {
        var names = report.agents
        for cell in report.cells {
            for name in [cell.from, cell.to] where !names.contains(name) { names.append(name) }
        }
        return names
    }

    static func cellIndex(_ report: Report) -> [String: Report.Cell] {
        var index: [String: Report.Cell] = [:]
        for cell in report.cells { index[cell.from + "\u{0}" + cell.to] = cell }
        return index
    }

    /// `—` on the diagonal, `·` for a pair with no figure.
    func matrix(_ report: Report, metric: ReportMetric) -> String {
        let names = Self.axis(report)
        let cells = Self.cellIndex(report)
        var table = TextTable([.init("from \\ to", shrinkable: true)]
            + names.map { TextTable.Column($0, .right, shrinkable: true, minimumWidth: 5) }, uppercaseTitles: false)
        for from in names {
            var row = [from]
            for to in names {
                if from == to { row.append(Self.none); continue }
                row.append(cells[from + "\u{0}" + to].flatMap(metric.value).map { Self.number($0, metric.digits) } ?? "·")
            }
            table.add(row)
        }
        return table.render(width: width)
    }

    func pairTable(_ report: Report) -> String {
        let names = Self.axis(report)
        let position = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let cells = report.cells.sorted {
            (position[$0.from] ?? 0, position[$0.to] ?? 0) < (position[$1.from] ?? 0, position[$1.to] ?? 0)
        }
        var table = TextTable([
            .init("from", shrinkable: true), .init("to", shrinkable: true), .init("runs", .right), .init("passed", .right),
            .init("degraded", .right), .init("failed", .right), .init("not run", .right), .init("pass %", .right),
            .init("mos", .right), .init("mos min", .right), .init("loss %", .right), .init("jitter ms", .right),
            .init("rtt ms", .right), .init("last run"),
        ])
        for c in cells {
            table.add([c.from, c.to, String(c.runs), String(c.passed), String(c.degraded), String(c.failed), String(c.notRun),
                       Self.number(c.passRatePct, 1), Self.number(c.mosMean, 2), Self.number(c.mosMin, 2),
                       Self.number(c.lossPctMean, 2), Self.number(c.jitterMsMean, 1), Self.number(c.rttMsMean, 1),
                       time(c.lastRunAt)])
        }
        return table.render(width: width)
    }

    /// The whole table output: a heading, the matrix, and (when no metric was picked) the
    /// per-pair table.
    func report(_ report: Report, metric: ReportMetric?) -> String {
        var heading = "report \(time(report.since)) → \(time(report.until))"
        if let suite = report.suite { heading += ", suite \(suite)" }
        heading += " — \(Self.axis(report).count) agents, \(report.cells.count) pairs; runs: \(Self.statusCounts(report.totals))"
        guard !report.cells.isEmpty else { return heading + "\nno pair results in this period" }
        let shown = metric ?? .mos
        var out = heading + "\n\n" + shown.title + " (rows: from, columns: to)\n" + matrix(report, metric: shown)
        if metric == nil { out += "\n\n" + pairTable(report) }
        return out
    }

    /// CSV: one row per pair (every figure), or with a metric the matrix itself.
    func reportCSV(_ report: Report, metric: ReportMetric?) -> String {
        let names = Self.axis(report)
        if let metric {
            let cells = Self.cellIndex(report)
            let rows = names.map { from in
                [from] + names.map { to in
                    from == to ? "" : cells[from + "\u{0}" + to].flatMap(metric.value).map { Self.csvNumber($0) } ?? ""
                }
            }
            return CSV.render(header: ["from\\to"] + names, rows: rows)
        }
        let position = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let cells = report.cells.sorted {
            (position[$0.from] ?? 0, position[$0.to] ?? 0) < (position[$1.from] ?? 0, position[$1.to] ?? 0)
        }
        let header = ["from", "to", "runs", "passed", "degraded", "failed", "not_run", "pass_rate_pct", "mos_mean", "mos_min",
                      "loss_pct_mean", "jitter_ms_mean", "rtt_ms_mean", "last_run_at"]
        func figure(_ value: Double?) -> String { value.map(Self.csvNumber) ?? "" }
        var rows: [[String]] = []
        for c in cells {
            let counts: [String] = [String(c.runs), String(c.passed), String(c.degraded), String(c.failed), String(c.notRun)]
            let figures: [String] = [figure(c.passRatePct), figure(c.mosMean), figure(c.mosMin), figure(c.lossPctMean),
                                     figure(c.jitterMsMean), figure(c.rttMsMean)]
            rows.append([c.from, c.to] + counts + figures + [c.lastRunAt.map(WireJSON.formatDate) ?? ""])
        }
        return CSV.render(header: header, rows: rows)
    }

    /// Up to 4 decimals, trailing zeros dropped: `4.41`, `0.5`, `100`.
    static func csvNumber(_ value: Double) -> String {
        var text = String(format: "%.4f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
