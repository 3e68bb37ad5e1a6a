import ArgumentParser
import EarshotWire
import Foundation

/// `earshot agents …`: the roster.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "List, inspect, enroll, label and revoke agents.",
        subcommands: [List.self, Show.self, Token.self, Revoke.self, Label.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the agents.")

        @OptionGroup var connection: ConnectionOptions

        @Option(help: ArgumentHelp("Only agents of this site.", valueName: "site"))
        var site: String?

        @Option(help: ArgumentHelp("Only agents in this state: enrolled, online, offline or revoked.", valueName: "state"))
        var state: String?

        @OptionGroup var output: FormatOption

        func wantedState() throws -> AgentState? {
            guard let state else { return nil }
            guard let value = AgentState(rawValue: state) else {
                throw CommandFailure.usage("--state must be enrolled, online, offline or revoked, got \(state)")
            }
            return value
        }

        func run() async throws {
            try await request(connection, format: output.format, { client in
                let wanted = try wantedState()
                return try await client.agents().filter { (site == nil || $0.site == site) && (wanted == nil || $0.state == wanted) }
            }) { ConsoleRender.terminal().agents($0) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one agent.")

        @OptionGroup var target: AgentTarget

        func run() async throws {
            try await request(target.connection, format: target.output.format, { try await $0.agent(target.agent) }) {
                ConsoleRender.terminal().agent($0)
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token",
            abstract: "Create a one-time enrollment token for an agent of a site (shown once).",
            discussion: "Start the agent with it: earshot-agent run --organizer URL --enroll TOKEN --site SITE"
        )

        @OptionGroup var connection: ConnectionOptions

        @Option(help: ArgumentHelp("The site the enrolled agent belongs to.", valueName: "site"))
        var site: String

        @Option(help: ArgumentHelp("How long the token can be used (e.g. 24h, 30m, 7d).", valueName: "duration"))
        var ttl: String = "24h"

        @Option(name: .customLong("label"), help: ArgumentHelp("A label the agent gets (repeatable).", valueName: "key=value"))
        var labels: [String] = []

        @OptionGroup var output: FormatOption

        func tokenRequest() throws -> EnrollmentTokenRequest {
            guard !site.trimmingCharacters(in: .whitespaces).isEmpty else { throw CommandFailure.usage("--site must not be empty") }
            let ttl = try ConsoleArguments.duration(ttl, option: "--ttl")
            guard ttl.seconds >= 1 else { throw CommandFailure.usage("--ttl must be at least 1s") }
            let labels = try ConsoleArguments.labels(labels, option: "--label")
            return EnrollmentTokenRequest(site: site, ttl: ttl, labels: labels.isEmpty ? nil : labels)
        }

        func run() async throws {
            let url = (try? connection.resolved().url) ?? ""
            try await request(connection, format: output.format, { try await $0.createToken(try tokenRequest()) }) {
                ConsoleRender.terminal().token($0, organizer: url)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Revoke an agent: its credential stops working and its connection is closed."
        )

        @OptionGroup var target: AgentTarget

        func run() async throws {
            try await request(target.connection, format: target.output.format, { try await $0.revoke(target.agent) }) {
                "revoked \($0.name) (\($0.id))"
            }
        }
    }

    struct Label: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "label",
            abstract: "Set or remove an agent's labels (suites select members by label)."
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: ArgumentHelp("The agent's id or name.", valueName: "id|name"))
        var agent: String

        @Argument(help: ArgumentHelp("Labels to set.", valueName: "key=value"))
        var set: [String] = []

        @Option(help: ArgumentHelp("A label to remove (repeatable).", valueName: "key"))
        var remove: [String] = []

        @OptionGroup var output: FormatOption

        func change() throws -> LabelChange {
            let labels = try ConsoleArguments.labels(set, option: "labels")
            guard !labels.isEmpty || !remove.isEmpty else {
                throw CommandFailure.usage("give labels to set (key=value …) or --remove KEY")
            }
            if let both = remove.first(where: { labels[$0] != nil }) {
                throw CommandFailure.usage("label \(both) is both set and removed")
            }
            return LabelChange(set: labels, remove: remove)
        }

        func run() async throws {
            try await request(connection, format: output.format, { try await $0.label(agent, try change()) }) {
                "\($0.name): \(ConsoleRender.labels($0.labels))"
            }
        }
    }
}
