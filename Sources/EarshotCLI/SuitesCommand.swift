import ArgumentParser
import EarshotWire
import Foundation

/// `earshot suites …`: test suites and their rounds.
struct SuitesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suites",
        abstract: "List, apply, run, pause, resume and delete test suites.",
        subcommands: [List.self, Show.self, Apply.self, Run.self, Pause.self, Resume.self, Default.self, Delete.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the suites.")

        @OptionGroup var connection: ConnectionOptions

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.suites() }) { ConsoleRender.terminal().suites($0) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one suite.")

        @OptionGroup var target: SuiteTarget

        func run() async throws {
            try await request(target.connection, format: target.output.format, { try await $0.suite(target.name) }) {
                ConsoleRender.terminal().suite($0)
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Create or replace suites from YAML: one document, several (---), or a list.",
            discussion: "Every suite is checked before any is sent; a file with a bad suite changes nothing."
        )

        @OptionGroup var connection: ConnectionOptions

        @Option(name: .shortAndLong, help: ArgumentHelp("A YAML (or JSON) file of suites; - reads standard input. Repeatable.", valueName: "file"))
        var file: [String]

        @Flag(name: .customLong("dry-run"), help: "Check the suites and print them; send nothing.")
        var dryRun = false

        @OptionGroup var output: FormatOption

        func validate() throws {
            if file.isEmpty { throw ValidationError("give a suite file with -f FILE") }
        }

        func run() async throws {
            try await reportingConsoleFailures {
                var specs: [SuiteSpec] = []
                for path in file { specs += try SuiteFile.parse(try SuiteFile.read(path), source: path == "-" ? "stdin" : path) }
                if dryRun {
                    try printConsole(specs, format: output.format) {
                        specs.map { "ok: \($0.name) (\($0.type.rawValue), \(ConsoleRender.topology($0.topology)), every \($0.interval))" }
                            .joined(separator: "\n")
                    }
                    return
                }
                let applied = try await connection.withClient { client in
                    var out: [SuiteInfo] = []
                    for spec in specs { out.append(try await client.putSuite(spec)) }
                    return out
                }
                try printConsole(applied, format: output.format) {
                    applied.map { info in
                        "applied \(info.spec.name): \(info.spec.type.rawValue), \(info.memberCount) members, \(info.unitCount) units, every \(info.spec.interval)"
                            + (info.warning.map { "\nwarning: \($0)" } ?? "")
                    }.joined(separator: "\n")
                }
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Start one round of a suite now.",
            discussion: "With --wait: follow the round until every run has ended; exit 0 when all passed, 1 otherwise."
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: ArgumentHelp("The suite's name.", valueName: "name"))
        var name: String

        @Flag(help: "Wait for the round's runs to end, showing progress.")
        var wait = false

        @Option(help: ArgumentHelp("How long --wait waits at most.", valueName: "duration"))
        var timeout: String = "30m"

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await reportingConsoleFailures {
                let timeout = try ConsoleArguments.duration(timeout, option: "--timeout")
                let allPassed: Bool = try await connection.withClient { client in
                    let round = try await client.runSuite(name)
                    guard wait else {
                        try printConsole(round, format: output.format) { ConsoleRender.terminal().round(round) }
                        return true
                    }
                    let progress = ProgressView.standard(jsonOnStdout: output.format == .json)
                    progress.note("round \(round.roundID) of \(name): \(round.runIDs.count) runs\(round.notRun.isEmpty ? "" : ", \(round.notRun.count) not run")\(round.warning.map { " — warning: \($0)" } ?? "")", elapsed: .zero)
                    let result = try await RoundWaiter(client: client)
                        .wait(for: [(name, round)], timeout: .milliseconds(Int64(timeout.seconds * 1000)), progress: progress)
                    progress.finish()
                    let runs = result.rounds.flatMap(\.runs)
                    try printConsole(WaitedRound(round: round, timedOut: result.timedOut, runs: runs), format: output.format) {
                        ConsoleRender.terminal().runs(runs) + (result.timedOut ? "\nstill running after \(timeout): stopped waiting" : "")
                    }
                    return !result.timedOut && runs.allSatisfy { $0.status == .passed }
                }
                if !allPassed { throw ExitCode(1) }
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pause", abstract: "Stop scheduling rounds of a suite.")

        @OptionGroup var target: SuiteTarget

        func run() async throws {
            try await request(target.connection, format: target.output.format, { try await $0.pauseSuite(target.name) }) {
                "paused \($0.spec.name)"
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Schedule a paused suite again.")

        @OptionGroup var target: SuiteTarget

        func run() async throws {
            try await request(target.connection, format: target.output.format, { try await $0.resumeSuite(target.name) }) {
                "resumed \($0.spec.name)\($0.nextRoundAt.map { "; next round \(ConsoleRender.terminal().time($0))" } ?? "")"
            }
        }
    }

    struct Default: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "default",
            abstract: "Restore the default suites: a full p2p mesh of all agents and one conference of all agents (up to 10)."
        )

        @OptionGroup var connection: ConnectionOptions

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.restoreDefaultSuites() }) { suites in
                let render = ConsoleRender.terminal()
                return suites.map { render.suite($0) }.joined(separator: "\n\n")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete a suite (its past runs stay in the results)."
        )

        @OptionGroup var target: SuiteTarget

        func run() async throws {
            try await request(target.connection, format: target.output.format, { client in
                try await client.deleteSuite(target.name)
                return ["deleted": target.name]
            }) { "deleted \($0["deleted"] ?? "")" }
        }
    }
}

/// `suites run --wait --format json`.
struct WaitedRound: Codable, Sendable, Equatable {
    var round: RoundInfo
    var timedOut: Bool
    var runs: [RunSummary]

    enum CodingKeys: String, CodingKey { case round, timedOut = "timed_out", runs }
}
