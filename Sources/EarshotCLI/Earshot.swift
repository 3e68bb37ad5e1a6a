import ArgumentParser

/// The `earshot` console: stand-alone tools for a voice engineer, and the operator's client
/// of the organizer's HTTP API (docs/cli.md). Every command that prints data takes
/// `--format json`.
public struct Earshot: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "earshot",
        abstract: "Synthetic deployment validation for voice networks.",
        discussion: """
            Operating an organizer (--organizer URL / EARSHOT_ORGANIZER, --token / EARSHOT_TOKEN): \
            status, agents, suites, runs, report, alerts, webhooks, validate. A whole system on loopback in one command: demo.

            Stand-alone tools: score a call with the ITU-T G.107 E-model (mos), parse a SIP \
            message (sip parse), analyse RTP streams in a capture (pcap analyze), place one test \
            call (call), answer test calls (answer), ping a SIP server (options).
            """,
        version: EarshotVersion.string,
        subcommands: [
            MOSCommand.self,
            SIPCommand.self,
            PcapCommand.self,
            CallCommand.self,
            AnswerCommand.self,
            OptionsCommand.self,
            StatusCommand.self,
            AgentsCommand.self,
            SuitesCommand.self,
            RunsCommand.self,
            ReportCommand.self,
            AlertsCommand.self, WebhooksCommand.self,
            ValidateCommand.self,
            DemoCommand.self,
        ]
    )

    /// `earshot --organizer URL --token T <command>`: the same options as after the command
    /// (ArgumentParser decodes them for every command in the chain).
    @OptionGroup(visibility: .hidden) var connection: ConnectionOptions

    public init() {}
}

public enum EarshotVersion {
    public static let string = "0.1.0"
}
