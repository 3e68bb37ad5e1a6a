import ArgumentParser
import Foundation

/// `--format text|json`, shared by every command that prints data.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

/// Shared way to print results: JSON is pretty-printed with sorted keys so scripts and
/// diffs see a stable shape; field names follow DESIGN §2 (snake_case).
enum Output {
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return String(decoding: data, as: UTF8.self)
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        print(try json(value))
    }

    static func stderr(_ message: String) {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
    }
}

/// A failure the user must act on: the message goes to stderr, the process exits with `code`.
/// Exit codes: 1 = the input was read but is bad (malformed message, unreadable capture);
/// 2 = the command line asked for something out of range or contradictory.
struct CommandFailure: Error {
    let message: String
    let code: Int32

    static func usage(_ message: String) -> CommandFailure { CommandFailure(message: message, code: 2) }
    static func input(_ message: String) -> CommandFailure { CommandFailure(message: message, code: 1) }

    /// Print and convert to ArgumentParser's `ExitCode` so `main()` exits with `code`.
    func exit() -> ExitCode {
        Output.stderr("error: \(message)")
        return ExitCode(code)
    }
}

extension ParsableCommand {
    /// Runs `body`, turning a `CommandFailure` into its message on stderr and its exit code.
    func reportingFailures(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as CommandFailure {
            throw failure.exit()
        }
    }
}
