import ArgumentParser
import Foundation
import MediaEngine
import SIPCore
import SIPStack

/// `earshot options`: an OPTIONS ping (DESIGN §2 `options`): status, round trip, and what the
/// server advertises.
struct OptionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "options",
        abstract: "Send OPTIONS to a SIP server, SBC or agent and report status, round trip, Allow and Supported.",
        discussion: """
            Exit status: 0 a 2xx came back; 1 an error response, a timeout or a transport error; 2 bad usage.
            """
    )

    @Argument(help: ArgumentHelp("The SIP URI to ping (sip:host[:port][;transport=tcp|tls]).", valueName: "sip-uri"))
    var target: String

    @Option(help: ArgumentHelp("Local SIP address to listen on.", valueName: "addr:port"))
    var listen: String = "0.0.0.0:0"

    @OptionGroup var engine: EngineOptions

    func run() async throws {
        do {
            guard let uri = try? SIPURI(parsing: target), let destination = SIPDestination(uri: uri) else {
                throw CommandFailure.usage("\(target) is not a SIP URI with an IP address or localhost")
            }
            guard let local = HostPort.parse(listen, defaultPort: 0) else { throw CommandFailure.usage("--listen must be addr:port, got \(listen)") }
            let media = try engine.mediaEngine(bindAddress: local.host)
            var configuration = UserAgentConfiguration(
                listeners: [SIPListenerConfiguration(kind: .udp, host: local.host, port: local.port)],
                user: engine.user, timers: try engine.timers(), tlsClient: try engine.tlsClient())
            configuration.checksResponseSentBy = destination.kind == .udp
            let agent = SIPUserAgent(configuration: configuration, media: media)
            do {
                try await agent.start()
            } catch {
                await media.shutdown()
                throw CommandFailure.input("cannot listen on \(listen): \(error)")
            }
            let result = await agent.options(uri, destination: destination)
            await agent.shutdown()
            await media.shutdown()
            switch engine.format {
            case .json: CallOutput.write(try Output.json(result))
            case .text:
                CallOutput.write("""
                    \(result.target): \(result.detail)\(result.rttMs.map { String(format: " in %.1f ms", $0) } ?? "")
                    Allow: \(result.allow.joined(separator: ", "))
                    Supported: \(result.supported.joined(separator: ", "))
                    """)
            }
            guard let status = result.statusCode, (200...299).contains(status) else { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            throw failure.exit()
        }
    }
}
