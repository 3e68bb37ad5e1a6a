import ArgumentParser
import EarshotCLI

import Foundation

/// The root is an `AsyncParsableCommand`; calling its `main()` from top-level code picks the
/// synchronous overload, so parse and dispatch here. Usage errors exit 2 (the project's
/// convention for "the command line asked for something invalid") instead of ArgumentParser's 64.
func runEarshot() async {
    do {
        var command = try Earshot.parseAsRoot()
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    } catch {
        let code = Earshot.exitCode(for: error)
        if code.rawValue == 64 {
            FileHandleStderr.write(Earshot.fullMessage(for: error))
            exit(2)
        }
        Earshot.exit(withError: error)
    }
}

enum FileHandleStderr {
    static func write(_ message: String) {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
    }
}

await runEarshot()
