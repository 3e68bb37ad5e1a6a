import EarshotWire
import Foundation

/// Progress of rounds being waited for (`suites run --wait`, `validate`, `demo`). On a
/// terminal a block of lines redrawn in place (per round: runs done/total by status, elapsed);
/// otherwise one plain line per event (a round started, a run ended).
final class ProgressView {
    enum Mode: Equatable { case live, lines, silent }

    let mode: Mode
    private let write: (String) -> Void
    private var drawnLines = 0
    private var lastStatus: [String: RunStatus] = [:]

    init(mode: Mode, write: @escaping (String) -> Void) {
        self.mode = mode
        self.write = write
    }

    /// Progress on stdout, or on stderr when stdout carries JSON; live when that is a terminal.
    static func standard(jsonOnStdout: Bool) -> ProgressView {
        let descriptor: Int32 = jsonOnStdout ? STDERR_FILENO : STDOUT_FILENO
        let handle = jsonOnStdout ? FileHandle.standardError : FileHandle.standardOutput
        return ProgressView(mode: Terminal.isTTY(descriptor) ? .live : .lines) { text in
            handle.write(Data(text.utf8))
        }
    }

    /// A one-off line (not part of the redrawn block).
    func note(_ line: String, elapsed: Duration) {
        switch mode {
        case .silent: return
        case .lines: write("[\(Self.clock(elapsed))] \(line)\n")
        case .live:
            clearBlock()
            write(line + "\n")
        }
    }

    func update(_ rounds: [(label: String, runs: [RunSummary])], elapsed: Duration) {
        switch mode {
        case .silent: return
        case .lines:
            for round in rounds {
                for run in round.runs where run.status.isFinal && lastStatus[run.id] != run.status {
                    write("[\(Self.clock(elapsed))] \(Self.event(label: round.label, run: run))\n")
                }
            }
        case .live:
            var block = rounds.map { Self.summary(label: $0.label, runs: $0.runs, elapsed: elapsed) }
            if rounds.count > 1 {
                block.append(Self.summary(label: "all", runs: rounds.flatMap(\.runs), elapsed: elapsed))
            }
            // Runs that ended badly stay on screen above the block.
            let bad = rounds.flatMap { round in
                round.runs.filter { $0.status.isFinal && $0.status != .passed && lastStatus[$0.id] != $0.status }
                    .map { "[\(Self.clock(elapsed))] " + Self.event(label: round.label, run: $0) }
            }
            clearBlock()
            write((bad + block).map { $0 + "\n" }.joined())
            drawnLines = block.count
        }
        for round in rounds { for run in round.runs { lastStatus[run.id] = run.status } }
    }

    /// Ends the live block: later output goes below it.
    func finish() { drawnLines = 0 }

    private func clearBlock() {
        guard drawnLines > 0 else { return }
        write("\u{1B}[\(drawnLines)A" + String(repeating: "\r\u{1B}[2K\n", count: drawnLines) + "\u{1B}[\(drawnLines)A")
        drawnLines = 0
    }

    // MARK: text (pure)

    /// `mesh       4/6 done · 4 passed, 2 running · 0:12`.
    static func summary(label: String, runs: [RunSummary], elapsed: Duration) -> String {
        let done = runs.filter { $0.status.isFinal }.count
        var counts: [String: Int] = [:]
        for run in runs { counts[run.status.rawValue, default: 0] += 1 }
        let padded = label.count < 10 ? label + String(repeating: " ", count: 10 - label.count) : label
        return "\(padded) \(done)/\(runs.count) done · \(ConsoleRender.statusCounts(counts)) · \(clock(elapsed))"
    }

    /// `mesh  alice → bob  passed  MOS 4.41`, `dtmf  alice → bob  failed  dtmf_mismatch: …`.
    static func event(label: String, run: RunSummary) -> String {
        var line = "\(label)  \(ConsoleRender.participantList(run))  \(run.status.rawValue)"
        if let mos = run.mosMin { line += "  MOS \(ConsoleRender.number(mos, 2))" }
        if run.status != .passed, let cause = run.cause { line += "  \(ConsoleRender.cause(cause))" }
        return line + "  (\(run.id))"
    }

    /// `0:07`, `1:05`, `61:40`.
    static func clock(_ elapsed: Duration) -> String {
        let total = max(0, Int(elapsed.components.seconds))
        let seconds = total % 60
        return "\(total / 60):\(seconds < 10 ? "0" : "")\(seconds)"
    }
}

/// Waits for the runs of started rounds to end, polling the API once a second.
struct RoundWaiter {
    let client: OrganizerClient
    var pollInterval: Duration = .seconds(1)

    struct Watched {
        var label: String
        var round: RoundInfo
        /// The round's runs as last seen, planned-but-not-run units included.
        var runs: [RunSummary]
    }

    /// Polls until every run of every round is final or `timeout` passes. Returns the runs as
    /// last seen and whether the wait timed out.
    func wait(for rounds: [(label: String, round: RoundInfo)], timeout: Duration, progress: ProgressView,
              clock: ContinuousClock = ContinuousClock(), started: ContinuousClock.Instant? = nil) async throws
        -> (rounds: [Watched], timedOut: Bool) {
        let start = started ?? clock.now
        var watched = rounds.map { Watched(label: $0.label, round: $0.round, runs: $0.round.notRun) }
        while true {
            for index in watched.indices { watched[index].runs = try await fetch(watched[index].round) }
            let elapsed = clock.now - start
            progress.update(watched.map { ($0.label, $0.runs) }, elapsed: elapsed)
            let allFinal = watched.allSatisfy { $0.runs.allSatisfy { $0.status.isFinal } }
            if allFinal { return (watched, false) }
            if elapsed >= timeout { return (watched, true) }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// The round's runs: listed by round id, any planned run the list missed fetched by id,
    /// and the units the planner could not run.
    func fetch(_ round: RoundInfo) async throws -> [RunSummary] {
        guard !round.runIDs.isEmpty else { return round.notRun }
        let listed = try await client.runs(RunQuery(round: round.roundID, limit: max(1000, round.runIDs.count * 2)))
        var byID: [String: RunSummary] = [:]
        for run in listed where run.roundID == round.roundID || round.runIDs.contains(run.id) { byID[run.id] = run }
        var out: [RunSummary] = []
        for id in round.runIDs {
            if let run = byID[id] {
                out.append(run)
            } else {
                out.append(try await client.run(id).run)
            }
        }
        let known = Set(out.map(\.id))
        return out + round.notRun.filter { !known.contains($0.id) }
    }
}
