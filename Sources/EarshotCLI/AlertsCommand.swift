import ArgumentParser
import EarshotWire
import Foundation

/// `earshot alerts …`: alerts, silences and the rules (DESIGN §6, docs/cli.md "earshot alerts").
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List and inspect alerts, silence them, and tune the rules.",
        subcommands: [List.self, Show.self, SilenceCommand.self, Silences.self, Unsilence.self, Rules.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List alerts (default: firing and flapping), newest change first.")

        @OptionGroup var connection: ConnectionOptions

        @Option(help: ArgumentHelp("firing, resolved, flapping, a list of them (firing,resolved), or all (default: firing and flapping).", valueName: "state"))
        var state: String?

        @Option(help: ArgumentHelp("Only alerts of this rule.", valueName: "rule"))
        var rule: String?

        @Option(help: ArgumentHelp("Only alerts whose scope matches (pair=alice>bob, agent=alice, alice).", valueName: "scope"))
        var scope: String?

        @Option(help: ArgumentHelp("At most this many alerts.", valueName: "n"))
        var limit: Int?

        @OptionGroup var output: FormatOption

        func query() throws -> AlertListQuery {
            if let state, state != "all",
               !state.split(separator: ",", omittingEmptySubsequences: false).allSatisfy({ AlertState(rawValue: String($0)) != nil }) {
                throw CommandFailure.usage("--state must be one of firing, resolved, flapping, all (or a list: firing,resolved), got \(state)")
            }
            if let limit, limit < 1 { throw CommandFailure.usage("--limit must be at least 1, got \(limit)") }
            return AlertListQuery(state: state, rule: try rule.map { try ConsoleArguments.ruleName($0, option: "--rule") },
                                  scope: scope, limit: limit)
        }

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.alerts(try query()) }) {
                ConsoleRender.terminal().alerts($0)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show one alert: its state, its transitions and their webhook deliveries.")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: ArgumentHelp("The alert's id (al_…).", valueName: "id"))
        var id: String

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.alert(id) }) {
                ConsoleRender.terminal().alertDetail($0)
            }
        }
    }

    struct SilenceCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "silence",
            abstract: "Silence matching alerts for a while: their transitions are stored but not delivered.",
            discussion: "Every matcher given must hold; at least one is needed. --agent matches either end of a pair, --site any scope touching the site."
        )

        @OptionGroup var connection: ConnectionOptions

        @Option(help: ArgumentHelp("Only this rule.", valueName: "rule"))
        var rule: String?

        @Option(help: ArgumentHelp("Alerts of this agent (either end of a pair).", valueName: "name"))
        var agent: String?

        @Option(help: ArgumentHelp("Alerts touching this site.", valueName: "site"))
        var site: String?

        @Option(help: ArgumentHelp("Alerts of this suite.", valueName: "suite"))
        var suite: String?

        @Option(help: ArgumentHelp("Alerts of this pair, caller>callee.", valueName: "a>b"))
        var pair: String?

        @Option(name: .customLong("for"), help: ArgumentHelp("How long (default 1h).", valueName: "duration"))
        var duration: String?

        @Option(help: ArgumentHelp("Until this time instead (ISO 8601).", valueName: "when"))
        var until: String?

        @Option(help: ArgumentHelp("Why (shown in the list).", valueName: "text"))
        var comment: String?

        @OptionGroup var output: FormatOption

        func silenceRequest(now: Date) throws -> SilenceRequest {
            var matchers = SilenceMatchers(rule: try rule.map { try ConsoleArguments.ruleName($0, option: "--rule") })
            matchers.agent = try ConsoleArguments.nonEmpty(agent, option: "--agent")
            matchers.site = try ConsoleArguments.nonEmpty(site, option: "--site")
            matchers.suite = try ConsoleArguments.nonEmpty(suite, option: "--suite")
            if let pair {
                let ends = pair.split(separator: ">", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                guard ends.count == 2, !ends[0].isEmpty, !ends[1].isEmpty else {
                    throw CommandFailure.usage("--pair must be caller>callee (e.g. alice>bob), got \(pair)")
                }
                matchers.pair = "\(ends[0])>\(ends[1])"
            }
            guard !matchers.isEmpty else {
                throw CommandFailure.usage("say what to silence: give at least one of --rule, --agent, --site, --suite, --pair")
            }
            let comment = comment.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            if let until {
                guard duration == nil else { throw CommandFailure.usage("give --for or --until, not both") }
                guard let end = ConsoleArguments.pointInTime(until, now: now), WireDuration(parsing: until) == nil else {
                    throw CommandFailure.usage("--until must be an ISO 8601 date such as 2026-12-06T22:00:00Z, got \(until)")
                }
                guard end > now else { throw CommandFailure.usage("--until \(until) is in the past") }
                return SilenceRequest(matchers: matchers, until: end, comment: comment)
            }
            let span = try ConsoleArguments.duration(duration ?? "1h", option: "--for")
            guard span.seconds > 0 else { throw CommandFailure.usage("--for must be longer than 0") }
            return SilenceRequest(matchers: matchers, duration: span, comment: comment)
        }

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.silence(try silenceRequest(now: Date())) }) {
                ConsoleRender.terminal().silenced($0)
            }
        }
    }

    struct Silences: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "silences", abstract: "List the active silences.")

        @OptionGroup var connection: ConnectionOptions

        @Flag(help: "Expired silences too.")
        var all = false

        @OptionGroup var output: FormatOption

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.silences(all: all) }) {
                ConsoleRender.terminal().silences($0)
            }
        }
    }

    struct Unsilence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unsilence", abstract: "End a silence now.")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: ArgumentHelp("The silence's id (si_…).", valueName: "id"))
        var id: String

        func run() async throws {
            try await reportingConsoleFailures {
                try await connection.withClient { try await $0.unsilence(id) }
                CallOutput.write("unsilenced \(id)")
            }
        }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rules",
            abstract: "Show the effective rules, change one, or reset one to the configuration file's values.",
            subcommands: [List.self, Change.self, Reset.self],
            defaultSubcommand: List.self
        )

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list", abstract: "The effective rules (defaults ⊕ configuration file ⊕ changes made here).")

            @OptionGroup var connection: ConnectionOptions

            @OptionGroup var output: FormatOption

            func run() async throws {
                try await request(connection, format: output.format, { try await $0.alertRules() }) {
                    ConsoleRender.terminal().alertRules($0)
                }
            }
        }

        struct Change: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "set", abstract: "Change a rule: only the fields given change (stored, survives restarts).")

            @OptionGroup var connection: ConnectionOptions

            @Argument(help: ArgumentHelp("The rule (agent_offline, mos_low, …).", valueName: "name"))
            var name: String

            @Option(help: ArgumentHelp("Turn the rule on or off.", valueName: "true|false"))
            var enabled: Bool?

            @Option(help: ArgumentHelp("info, warning or critical.", valueName: "severity"))
            var severity: String?

            @Option(help: ArgumentHelp("What an alert is about: agent, pair, site or suite.", valueName: "kind"))
            var scope: String?

            @Option(help: ArgumentHelp("The threshold that fires (value rules).", valueName: "x"))
            var fire: Double?

            @Option(help: ArgumentHelp("The threshold that clears (value rules).", valueName: "y"))
            var clear: Double?

            @Option(help: ArgumentHelp("Consecutive breaches before it fires.", valueName: "n"))
            var fireAfter: Int?

            @Option(help: ArgumentHelp("Consecutive clears before it resolves.", valueName: "n"))
            var clearAfter: Int?

            @Option(help: ArgumentHelp("The window in which changes count as flapping.", valueName: "duration"))
            var flapWindow: String?

            @Option(help: ArgumentHelp("Changes within the window that make it flapping.", valueName: "n"))
            var flapTransitions: Int?

            @Option(help: ArgumentHelp("coverage_stale: intervals without a success.", valueName: "n"))
            var staleIntervals: Int?

            @Option(help: ArgumentHelp("site_down: the fewest agents a site needs.", valueName: "n"))
            var minAgents: Int?

            @OptionGroup var output: FormatOption

            func patch() throws -> (AlertRuleName, AlertRulePatch) {
                let rule = try ConsoleArguments.ruleName(name, option: "the rule name")
                var patch = AlertRulePatch(enabled: enabled, fire: fire, clear: clear)
                patch.severity = try severity.map { try ConsoleArguments.choice($0, option: "--severity", as: AlertSeverity.self) }
                patch.scope = try scope.map { try ConsoleArguments.choice($0, option: "--scope", as: AlertScopeKind.self) }
                for (value, option) in [(fire, "--fire"), (clear, "--clear")] {
                    if let value, !value.isFinite { throw CommandFailure.usage("\(option) must be a number, got \(value)") }
                }
                for (value, option, least) in [(fireAfter, "--fire-after", 1), (clearAfter, "--clear-after", 1),
                                               (flapTransitions, "--flap-transitions", 2), (staleIntervals, "--stale-intervals", 1),
                                               (minAgents, "--min-agents", 1)] {
                    if let value, value < least { throw CommandFailure.usage("\(option) must be at least \(least), got \(value)") }
                }
                patch.fireAfter = fireAfter
                patch.clearAfter = clearAfter
                patch.flapTransitions = flapTransitions
                patch.staleIntervals = staleIntervals
                patch.minAgents = minAgents
                if let flapWindow {
                    let window = try ConsoleArguments.duration(flapWindow, option: "--flap-window")
                    guard window.seconds > 0 else { throw CommandFailure.usage("--flap-window must be longer than 0") }
                    patch.flapWindow = window
                }
                guard patch != AlertRulePatch() else {
                    throw CommandFailure.usage("say what to change: --enabled, --severity, --scope, --fire, --clear, --fire-after, --clear-after, --flap-window, --flap-transitions, --stale-intervals or --min-agents")
                }
                return (rule, patch)
            }

            func run() async throws {
                try await request(connection, format: output.format, { client in
                    let (rule, patch) = try patch()
                    return try await client.setAlertRule(rule, patch)
                }) { ConsoleRender.terminal().alertRules([$0]) }
            }
        }

        struct Reset: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "reset", abstract: "Drop the changes made with `rules set`: back to the configuration file / defaults.")

            @OptionGroup var connection: ConnectionOptions

            @Argument(help: ArgumentHelp("The rule.", valueName: "name"))
            var name: String

            @OptionGroup var output: FormatOption

            func run() async throws {
                try await request(connection, format: output.format, { client in
                    try await client.resetAlertRule(try ConsoleArguments.ruleName(name, option: "the rule name"))
                }) { ConsoleRender.terminal().alertRules([$0]) }
            }
        }
    }
}

extension ConsoleArguments {
    /// One of an enum's raw values, else a usage error listing them.
    static func choice<T: RawRepresentable & CaseIterable>(_ text: String, option: String, as type: T.Type) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
            throw CommandFailure.usage("\(option) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \(text)")
        }
        return value
    }

    static func ruleName(_ text: String, option: String) throws -> AlertRuleName {
        try choice(text, option: option, as: AlertRuleName.self)
    }

    /// nil stays nil; an empty or blank value is a usage error.
    static func nonEmpty(_ text: String?, option: String) throws -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw CommandFailure.usage("\(option) must not be empty") }
        return trimmed
    }
}
