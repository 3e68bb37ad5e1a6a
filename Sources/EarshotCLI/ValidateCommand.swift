import ArgumentParser
import EarshotWire
import Foundation

/// `earshot validate -f suite.yaml`: a one-shot acceptance run. Applies the suite (under a
/// temporary name unless --keep), runs one round now, waits for its runs, applies the pass
/// criteria. Exit 0: the criteria hold; 1: they do not; 2: usage, file or connection errors.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "One-shot acceptance run of a suite with pass criteria (exit 0 pass, 1 fail, 2 error).",
        discussion: """
            The suite is applied under a temporary name (<name>-validate-<random>), paused so that the \
            scheduler starts no round of its own, run once now, and deleted afterwards; its runs stay \
            in the results. --keep applies it under its own name and leaves it (paused as written).
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("The suite file (YAML or JSON; - reads standard input).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Which suite of the file, when it holds several.", valueName: "name"))
    var suite: String?

    @Flag(help: "Apply the suite under its own name and keep it afterwards.")
    var keep = false

    @Option(help: ArgumentHelp("How long to wait for the runs (default: 3 × the call duration + 5m).", valueName: "duration"))
    var timeout: String?

    @Option(name: .customLong("min-pass-rate"), help: ArgumentHelp("Percent of runs that must pass (not run and unfinished count against).", valueName: "pct"))
    var minPassRate: Double = 100

    @Option(name: .customLong("min-mos"), help: ArgumentHelp("Every measured run's worst direction must reach this MOS-CQ.", valueName: "mos"))
    var minMOS: Double?

    @Option(name: .customLong("max-loss"), help: ArgumentHelp("Every measured run's worst direction must lose at most this percent.", valueName: "pct"))
    var maxLoss: Double?

    @Flag(name: .customLong("allow-degraded"), help: "Count degraded runs as passed.")
    var allowDegraded = false

    @Option(help: ArgumentHelp("Also write the report as Markdown to this file.", valueName: "file"))
    var markdown: String?

    @OptionGroup var output: FormatOption

    func criteria() throws -> ValidationCriteria {
        guard (0...100).contains(minPassRate) else { throw CommandFailure.usage("--min-pass-rate must be 0–100, got \(minPassRate)") }
        if let minMOS, !(1...5).contains(minMOS) { throw CommandFailure.usage("--min-mos must be 1–5, got \(minMOS)") }
        if let maxLoss, !(0...100).contains(maxLoss) { throw CommandFailure.usage("--max-loss must be 0–100, got \(maxLoss)") }
        return ValidationCriteria(minPassRatePct: minPassRate, minMOS: minMOS, maxLossPct: maxLoss, allowDegraded: allowDegraded)
    }

    /// The suite to validate, renamed and paused unless `keep`.
    func suiteToApply(from specs: [SuiteSpec], suffix: String) throws -> SuiteSpec {
        var spec: SuiteSpec
        if let suite {
            guard let found = specs.first(where: { $0.name == suite }) else {
                throw CommandFailure.usage("\(file) has no suite named \(suite) (it has \(specs.map(\.name).joined(separator: ", ")))")
            }
            spec = found
        } else {
            guard specs.count == 1 else {
                throw CommandFailure.usage("\(file) holds \(specs.count) suites (\(specs.map(\.name).joined(separator: ", "))): pick one with --suite NAME")
            }
            spec = specs[0]
        }
        if !keep {
            spec.name = String(spec.name.prefix(64 - suffix.count - 10)) + "-validate-" + suffix
            spec.paused = true
        }
        return spec
    }

    func run() async throws {
        do {
            let criteria = try criteria()
            let specs = try SuiteFile.parse(try SuiteFile.read(file), source: file == "-" ? "stdin" : file)
            let spec = try suiteToApply(from: specs, suffix: String(UInt32.random(in: 0...UInt32.max), radix: 16))
            let timeout = try timeout.map { try ConsoleArguments.duration($0, option: "--timeout") }
                ?? WireDuration(seconds: spec.duration.seconds * 3 + 300)
            let outcome = try await connection.withClient { client in
                try await Self.validate(spec, temporary: !keep, criteria: criteria, timeout: timeout, client: client,
                                        progress: ProgressView.standard(jsonOnStdout: output.format == .json))
            }
            let render = ConsoleRender.terminal()
            if let markdown {
                do {
                    try render.validationMarkdown(outcome).write(toFile: markdown, atomically: true, encoding: .utf8)
                } catch {
                    throw CommandFailure.usage("cannot write \(markdown): \(error.localizedDescription)")
                }
            }
            try printConsole(outcome, format: output.format) { render.validation(outcome) }
            if !outcome.ok { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            // A bad file is a usage error here: exit 1 means "the criteria do not hold".
            throw CommandFailure(message: failure.message, code: 2).exit()
        } catch let error as OrganizerClientError {
            throw CommandFailure(message: error.message, code: 2).exit()
        }
    }

    /// Apply, run one round, wait, evaluate; a temporary suite is deleted afterwards (also
    /// when the wait fails).
    static func validate(_ spec: SuiteSpec, temporary: Bool, criteria: ValidationCriteria, timeout: WireDuration,
                         client: OrganizerClient, progress: ProgressView) async throws -> ValidationOutcome {
        let start = ContinuousClock.now
        _ = try await client.putSuite(spec)
        do {
            let round = try await client.runSuite(spec.name)
            progress.note("validating \(spec.name): round \(round.roundID), \(round.runIDs.count) runs\(round.notRun.isEmpty ? "" : ", \(round.notRun.count) not run")", elapsed: ContinuousClock.now - start)
            let waited = try await RoundWaiter(client: client)
                .wait(for: [(spec.name, round)], timeout: .milliseconds(Int64(timeout.seconds * 1000)), progress: progress,
                      started: start)
            progress.finish()
            if temporary { try? await client.deleteSuite(spec.name) }
            return Validation.evaluate(suite: spec.name, roundID: round.roundID, runs: waited.rounds.flatMap(\.runs),
                                       criteria: criteria)
        } catch {
            if temporary { try? await client.deleteSuite(spec.name) }
            throw error
        }
    }
}
