import EarshotWire
import Foundation

/// `earshot runs show` of a conference run: the bridge, the legs, the hearing matrix and DTMF
/// through the bridge (docs/cli.md "Conference runs").
extension ConsoleRender {
    /// The conference sections, in order: bridge, legs, hearing matrix with its legend, DTMF.
    func conference(_ conference: ConferenceSummary, name: (String) -> String) -> [String] {
        var sections = [bridge(conference, name: name)]
        if !conference.legs.isEmpty {
            sections.append("Legs (up: participant → bridge, down: bridge → participant)\n" + legs(conference.legs))
        }
        if !conference.legs.isEmpty {
            sections.append("Hearing (rows: listener, columns: speaker)\n" + hearing(conference, name: name) + "\n" + Self.hearingLegend)
        }
        if let dtmf = conference.dtmf { sections.append(self.dtmf(dtmf, legs: conference.legs, name: name)) }
        return sections
    }

    /// `Conference conf-r1` with the bridge's mode, host or URI, peak and refusals.
    func bridge(_ conference: ConferenceSummary, name: (String) -> String) -> String {
        var lines = ["Conference \(conference.conferenceID)"]
        switch conference.mode {
        case .uri:
            lines.append("  bridge: external room \(conference.uri)")
        case .agent, .rotate:
            let host = conference.bridgeAgentID.map(name) ?? Self.none
            lines.append("  bridge: built-in (\(conference.mode.rawValue)) on \(host), \(conference.uri)")
        }
        var load: [String] = []
        if let peak = conference.peakParticipants { load.append("peak \(peak) participant\(peak == 1 ? "" : "s")") }
        if let refused = conference.refused { load.append(refused == 0 ? "none refused" : "\(refused) refused (bridge full)") }
        if !load.isEmpty { lines.append("  " + load.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }

    func legs(_ legs: [ConferenceLeg]) -> String {
        var table = TextTable([
            .init("participant", shrinkable: true), .init("site", shrinkable: true), .init("tone hz", .right),
            .init("join ms", .right), .init("status"), .init("up loss %", .right), .init("up jitter", .right),
            .init("up mos", .right), .init("down loss %", .right), .init("down jitter", .right), .init("down mos", .right),
            .init("cause", shrinkable: true),
        ])
        for leg in legs {
            table.add([leg.name, leg.site ?? Self.none, String(leg.toneHz), Self.number(leg.joinMs, 1), leg.status.rawValue,
                       Self.number(leg.up?.lossPct, 2), Self.number(leg.up?.jitterMeanMs, 1), Self.number(leg.up?.mosCQ, 2),
                       Self.number(leg.down?.lossPct, 2), Self.number(leg.down?.jitterMeanMs, 1),
                       Self.number(leg.down?.mosCQ, 2), leg.status == .passed ? "" : Self.cause(leg.cause)])
        }
        return table.render(width: width)
    }

    /// Listeners as rows, speakers as columns, both in join order (the legs' order).
    func hearing(_ conference: ConferenceSummary, name: (String) -> String) -> String {
        let order = conference.legs.map(\.agentID)
        var table = TextTable([.init("listener \\ speaker", shrinkable: true)]
            + order.map { TextTable.Column(name($0), .right, shrinkable: true, minimumWidth: 5) }, uppercaseTitles: false)
        for listener in order {
            table.add([name(listener)] + order.map { Self.hearingCell(conference.cell(listener: listener, speaker: $0)) })
        }
        return table.render(width: width)
    }

    /// `✓ -21` heard (level dBov), `~ 0.6` partly (share of frames), `✗` missing, `?` unknown;
    /// the diagonal: `·` own tone not returned, `ECHO` it came back.
    static func hearingCell(_ cell: HearingCell?) -> String {
        guard let cell else { return "?" }
        switch cell.state {
        case .heard: return cell.levelDb.map { "✓ " + String(format: "%.0f", $0.rounded()) } ?? "✓"
        case .partial: return cell.fraction.map { "~ " + String(format: "%.1f", $0) } ?? "~"
        case .missing: return "✗"
        case .unknown: return "?"
        case .clean: return "·"
        case .echo: return "ECHO"
        }
    }

    static let hearingLegend = "  ✓ heard (level dBov)  ~ partly heard (share of the time)  ✗ not heard  ? unknown (not both in the conference)\n"
        + "  diagonal: · own tone not returned  ECHO own tone came back (the bridge did not subtract it)"

    /// The sender's digits and what each other participant received.
    func dtmf(_ dtmf: ConferenceDTMF, legs: [ConferenceLeg], name: (String) -> String) -> String {
        var lines = ["DTMF through the bridge\(dtmf.mode.map { " (\($0.rawValue))" } ?? "")"]
        var sent = "  \(name(dtmf.sender)) sent \(dtmf.sent.isEmpty ? Self.none : dtmf.sent)"
        if let bridge = dtmf.bridgeReceived { sent += "; the bridge received \(bridge.isEmpty ? Self.none : bridge)" }
        lines.append(sent)
        let known = legs.map(\.agentID).filter { $0 != dtmf.sender && dtmf.received[$0] != nil }
        let receivers = known + dtmf.received.keys.sorted().filter { !known.contains($0) && $0 != dtmf.sender }
        // Header-less: `bob  received 159#  ✓`.
        var table = TextTable([.init("", shrinkable: true), .init(""), .init(""), .init("")])
        for receiver in receivers {
            let got = dtmf.received[receiver] ?? ""
            table.add([name(receiver), "received", got.isEmpty ? Self.none : got, got == dtmf.sent ? "✓" : "✗"])
        }
        if !receivers.isEmpty {
            let rendered = table.render(width: width.map { $0 - 2 }).split(separator: "\n", omittingEmptySubsequences: false)
            lines += rendered.dropFirst().map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}

/// `earshot report --suite <conference suite>`: the organizer's pair report covers p2p, soak
/// and dtmf runs; a conference suite's legs are read from its runs instead, one cell per
/// direction of a leg: participant → bridge (up) and bridge → participant (down), counted by
/// the leg's status, with the same figures as a pair.
enum ConferenceReport {
    /// Cells by names, sorted by (from, to).
    static func cells(_ details: [RunDetail]) -> [Report.Cell] {
        struct Sums {
            var runs = 0, passed = 0, degraded = 0, failed = 0, notRun = 0
            var mos: [Double] = [], loss: [Double] = [], jitter: [Double] = [], rtt: [Double] = []
            var last: Date?
        }
        var sums: [String: Sums] = [:]
        var keys: [String: (String, String)] = [:]
        for detail in details {
            guard let conference = detail.conference, detail.run.status.isFinal else { continue }
            var names: [String: String] = [:]
            for p in detail.participants { names[p.agentID] = p.name }
            let bridge = conference.bridgeAgentID.map { names[$0] ?? $0 } ?? externalRoomLabel
            for leg in conference.legs {
                for (from, to, stream) in [(leg.name, bridge, leg.up), (bridge, leg.name, leg.down)] {
                    let key = from + "\u{0}" + to
                    keys[key] = (from, to)
                    var s = sums[key] ?? Sums()
                    s.runs += 1
                    switch leg.status {
                    case .passed: s.passed += 1
                    case .degraded: s.degraded += 1
                    case .failed: s.failed += 1
                    case .notRun: s.notRun += 1
                    case .scheduled, .running: break
                    }
                    if let v = stream?.mosCQ { s.mos.append(v) }
                    if let v = stream?.lossPct { s.loss.append(v) }
                    if let v = stream?.jitterMeanMs { s.jitter.append(v) }
                    if let v = stream?.rttMs { s.rtt.append(v) }
                    if let at = detail.run.endedAt { s.last = max(s.last ?? at, at) }
                    sums[key] = s
                }
            }
        }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        return sums.sorted { keys[$0.key]! < keys[$1.key]! }.map { key, s in
            let ran = s.runs - s.notRun
            return Report.Cell(from: keys[key]!.0, to: keys[key]!.1, runs: s.runs, passed: s.passed, degraded: s.degraded,
                               failed: s.failed, notRun: s.notRun,
                               passRatePct: ran > 0 ? Double(s.passed) / Double(ran) * 100 : nil, mosMean: mean(s.mos),
                               mosMin: s.mos.min(), lossPctMean: mean(s.loss), jitterMsMean: mean(s.jitter),
                               rttMsMean: mean(s.rtt), lastRunAt: s.last)
        }
    }

    /// The report with the conference legs as its cells (totals as the organizer counted them).
    static func report(_ base: Report, details: [RunDetail]) -> Report {
        let cells = cells(details)
        var agents: [String] = []
        for cell in cells { for name in [cell.from, cell.to] where !agents.contains(name) { agents.append(name) } }
        return Report(since: base.since, until: base.until, suite: base.suite, agents: agents.sorted(), cells: cells,
                      totals: base.totals)
    }
}
