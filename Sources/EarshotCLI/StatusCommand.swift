import ArgumentParser
import EarshotWire
import Foundation

extension ConsoleRender {
    /// A renderer for this terminal (its width, the local time zone, the clock now).
    static func terminal() -> ConsoleRender { ConsoleRender(now: Date(), timeZone: .current, width: Terminal.columns()) }
}

/// Prints `text`, or `value` as JSON.
func printConsole<T: Encodable>(_ value: T, format: ConsoleFormat, text: () -> String) throws {
    switch format {
    case .json: CallOutput.write(try ConsoleJSON.string(value))
    case .table: CallOutput.write(text())
    }
}

extension AsyncParsableCommand {
    /// One API call, its answer printed as text or JSON; failures to stderr with their code.
    func request<T: Encodable>(_ connection: ConnectionOptions, format: ConsoleFormat,
                               _ call: (OrganizerClient) async throws -> T, text: (T) -> String) async throws {
        try await reportingConsoleFailures {
            let value = try await connection.withClient(call)
            try printConsole(value, format: format) { text(value) }
        }
    }
}

/// `--format table|json` of a command that prints data.
struct FormatOption: ParsableArguments {
    @Option(help: "table or json")
    var format: ConsoleFormat = .table
}

/// The organizer, one suite, and the output format.
struct SuiteTarget: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("The suite's name.", valueName: "name"))
    var name: String

    @OptionGroup var output: FormatOption
}

/// The organizer, one agent, and the output format.
struct AgentTarget: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("The agent's id or name.", valueName: "id|name"))
    var agent: String

    @OptionGroup var output: FormatOption
}

/// `earshot status`: the organizer's version, uptime, agent counts, suites, runs.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the organizer's state: agents online/offline, suites, runs in flight and of the last hour."
    )

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var output: FormatOption

    func run() async throws {
        let url = (try? connection.resolved().url) ?? ""
        try await request(connection, format: output.format, { try await $0.status() }) {
            ConsoleRender.terminal().status($0, organizer: url)
        }
    }
}
