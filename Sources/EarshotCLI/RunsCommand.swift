import ArgumentParser
import EarshotWire
import Foundation

/// `earshot runs …`: results.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List runs and show one with its metrics and SIP ladder.",
        subcommands: [List.self, Show.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List runs, newest first.")

        @OptionGroup var connection: ConnectionOptions

        @Option(help: ArgumentHelp("Only runs of this suite.", valueName: "name"))
        var suite: String?

        @Option(help: ArgumentHelp("Only runs with this status: scheduled, running, passed, degraded, failed, not_run.", valueName: "status"))
        var status: String?

        @Option(help: ArgumentHelp("Only runs this agent took part in.", valueName: "id|name"))
        var agent: String?

        @Option(help: ArgumentHelp("Runs since: a duration back from now (1h, 30m, 7d) or an ISO 8601 date.", valueName: "when"))
        var since: String?

        @Option(help: ArgumentHelp("Runs until: a duration back from now or an ISO 8601 date.", valueName: "when"))
        var until: String?

        @Option(help: ArgumentHelp("Only runs of this round.", valueName: "id"))
        var round: String?

        @Option(help: ArgumentHelp("At most this many runs.", valueName: "n"))
        var limit: Int = 50

        @OptionGroup var output: FormatOption

        func query(now: Date) throws -> RunQuery {
            var query = RunQuery(suite: suite, agent: agent, round: round, limit: limit)
            guard limit > 0 else { throw CommandFailure.usage("--limit must be at least 1, got \(limit)") }
            if let status {
                guard let value = RunStatus(rawValue: status) else {
                    throw CommandFailure.usage("--status must be one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", ")), got \(status)")
                }
                query.status = value
            }
            query.since = try since.map { try ConsoleArguments.pointInTime($0, option: "--since", now: now) }
            query.until = try until.map { try ConsoleArguments.pointInTime($0, option: "--until", now: now) }
            if let since = query.since, let until = query.until, until < since {
                throw CommandFailure.usage("--until is before --since")
            }
            return query
        }

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.runs(try query(now: Date())) }) {
                ConsoleRender.terminal().runs($0)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one run: participants, per-direction metrics, call setup, refreshes, DTMF, cause, SIP ladder."
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: ArgumentHelp("The run's id.", valueName: "id"))
        var id: String

        @Flag(help: "Print each SIP message of the ladder in full (bodies as kept).")
        var messages = false

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.run(id) }) {
                ConsoleRender.terminal().runDetail($0, messages: messages)
            }
        }
    }
}

/// `earshot report`: the pair matrix over a period.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Pair matrix (rows: from, columns: to) of MOS, loss, jitter, RTT or pass rate over a period.",
        discussion: """
            Without --metric: the MOS matrix and a table of every pair's figures. --format csv \
            prints one row per pair, or with --metric the matrix itself. With --suite of a conference \
            suite the pairs are its legs: participant → bridge and bridge → participant.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Start of the period: a duration back from now (24h, 7d) or an ISO 8601 date.", valueName: "when"))
    var since: String = "24h"

    @Option(help: ArgumentHelp("End of the period (default now).", valueName: "when"))
    var until: String?

    @Option(help: ArgumentHelp("Only runs of this suite.", valueName: "name"))
    var suite: String?

    @Option(help: ArgumentHelp("The figure in the matrix: mos, loss, jitter, rtt or pass.", valueName: "metric"))
    var metric: ReportMetric?

    @Option(help: "table, csv or json")
    var format: ReportFormat = .table

    /// The most runs of a conference suite read for its legs.
    static let conferenceRunLimit = 1000

    func run() async throws {
        try await reportingConsoleFailures {
            let now = Date()
            let since = try ConsoleArguments.pointInTime(since, option: "--since", now: now)
            let until = try until.map { try ConsoleArguments.pointInTime($0, option: "--until", now: now) }
            if let until, until < since { throw CommandFailure.usage("--until is before --since") }
            let report = try await connection.withClient { client in
                let report = try await client.report(since: since, until: until, suite: suite)
                // A conference suite: its legs, from its runs (the pair report has none).
                guard let suite, report.cells.isEmpty, try await client.suite(suite).spec.type == .conference else { return report }
                let runs = try await client.runs(RunQuery(suite: suite, since: since, until: until, limit: Self.conferenceRunLimit))
                var details: [RunDetail] = []
                for run in runs where run.status.isFinal && run.status != .notRun { details.append(try await client.run(run.id)) }
                return ConferenceReport.report(report, details: details)
            }
            let render = ConsoleRender.terminal()
            switch format {
            case .json: CallOutput.write(try ConsoleJSON.string(report))
            case .csv: CallOutput.write(render.reportCSV(report, metric: metric))
            case .table: CallOutput.write(render.report(report, metric: metric))
            }
        }
    }
}
