import ArgumentParser
import Foundation
import MediaEngine
import SIPCore
import SIPStack
import SIPTransaction

/// `earshot answer`: an answering test agent. Listens, optionally registers, answers every
/// call with the test signal, and prints one report per call when it ends.
struct AnswerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answer",
        abstract: "Answer test calls (optionally registering first) and print a report per call.",
        discussion: """
            Listens on --listen over each --transport. With --register, registers the address \
            of record (--aor, default sip:USER@REGISTRAR-HOST) with digest credentials, keeps the \
            registration fresh, and removes it on exit.

            With --format json every event is one JSON line: {"event":"ready",...} once \
            listening (and registered), {"event":"registered"|"registration_failed",...}, \
            {"event":"call", "report":{...}} per call, {"event":"stopped"} on exit.

            Runs until SIGINT/SIGTERM, or --calls N answered calls, or --exit-after.
            Exit status: 0 stopped normally; 1 registration failed or the listener could not start; 2 bad usage.
            """
    )

    @Option(help: ArgumentHelp("Address and port to listen on.", valueName: "addr:port"))
    var listen: String

    @Option(help: ArgumentHelp("Comma-separated transports: udp, tcp, tls.", valueName: "list"))
    var transport: String = "udp,tcp"

    @Option(help: ArgumentHelp("Register with this registrar (sip:host:port).", valueName: "sip-uri"))
    var register: String?

    @Option(help: ArgumentHelp("The address of record to register.", valueName: "sip-uri"))
    var aor: String?

    @Option(help: ArgumentHelp("Digest user name.", valueName: "name"))
    var username: String?

    @Option(help: ArgumentHelp("Digest password.", valueName: "secret"))
    var password: String?

    @Option(help: ArgumentHelp("Registration expiry asked for, seconds.", valueName: "s"))
    var expires: Int = 600

    @Option(help: ArgumentHelp("Ring this long before answering.", valueName: "duration"))
    var ring: String = "0s"

    @Option(help: ArgumentHelp("Reject every call with this status instead of answering.", valueName: "code"))
    var reject: Int?

    @Option(help: ArgumentHelp("Exit after this many calls ended.", valueName: "n"))
    var calls: Int?

    @Option(name: .customLong("exit-after"), help: ArgumentHelp("Exit after this long.", valueName: "duration"))
    var exitAfter: String?

    @Option(name: .customLong("advertise"), help: ArgumentHelp("Address to put in Via/Contact/SDP when listening on 0.0.0.0.", valueName: "addr"))
    var advertise: String?

    @Flag(help: "Print the SIP ladder in text reports.")
    var ladder = false

    @OptionGroup var engine: EngineOptions

    func run() async throws {
        do {
            try await serve()
        } catch let failure as CommandFailure {
            throw failure.exit()
        }
    }

    private func serve() async throws {
        guard let local = HostPort.parse(listen, defaultPort: 5060) else { throw CommandFailure.usage("--listen must be addr:port, got \(listen)") }
        var kinds: [SIPTransportKind] = []
        for token in transport.split(separator: ",") {
            guard let kind = SIPTransportKind(rawValue: token.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw CommandFailure.usage("--transport takes udp, tcp, tls; got \(token)")
            }
            kinds.append(kind)
        }
        let tlsServer = try engine.tlsServer()
        if kinds.contains(.tls), tlsServer == nil { throw CommandFailure.usage("--transport tls needs --tls-cert and --tls-key") }
        guard let ringTime = DurationText.parse(ring) else { throw CommandFailure.usage("--ring must be a duration, got \(ring)") }
        let exitAfter = try self.exitAfter.map { text -> Duration in
            guard let value = DurationText.parse(text), value > .zero else { throw CommandFailure.usage("--exit-after must be a positive duration, got \(text)") }
            return value
        }
        if let reject, !(300...699).contains(reject) { throw CommandFailure.usage("--reject must be a status 300–699, got \(reject)") }
        var registration: RegistrationRequest?
        if let register {
            guard let registrar = try? SIPURI(parsing: register), let destination = SIPDestination(uri: registrar) else {
                throw CommandFailure.usage("--register must be sip:IP[:port][;transport=…], got \(register)")
            }
            guard let username, let password else { throw CommandFailure.usage("--register needs --username and --password") }
            let aorText = aor ?? "sip:\(username)@\(registrar.host)"
            guard let aorURI = try? SIPURI(parsing: aorText) else { throw CommandFailure.usage("--aor is not a SIP URI: \(aorText)") }
            registration = RegistrationRequest(registrar: registrar, destination: destination, addressOfRecord: aorURI,
                                               username: username, password: password, expires: expires)
        }

        let format = engine.format
        let showLadder = ladder
        let media = try engine.mediaEngine(bindAddress: local.host)
        let settings = try engine.sessionTimer()
        let configuration = UserAgentConfiguration(
            listeners: kinds.map { SIPListenerConfiguration(kind: $0, host: local.host, port: $0 == .tls && kinds.count > 1 ? local.port + 1 : local.port, advertisedHost: advertise) },
            user: username ?? engine.user, timers: try engine.timers(), tlsServer: tlsServer, tlsClient: try engine.tlsClient(),
            sessionTimer: settings, toneFrequency: try engine.frequency(engine.tone, name: "tone") ?? 1850,
            ringTime: ringTime, rejectWith: reject, expectedRemoteTone: try engine.frequency(engine.expectTone, name: "expect-tone"))
        let agent = SIPUserAgent(configuration: configuration, media: media)
        let ended = AsyncStream<CallReport>.makeStream()
        await agent.setIncomingCallHandler { report in ended.continuation.yield(report) }
        do {
            try await agent.start()
        } catch {
            await media.shutdown()
            throw CommandFailure.input("cannot listen on \(listen): \(error)")
        }
        if let registration {
            let result = await agent.register(registration)
            CallOutput.event(result.registered ? "registered" : "registration_failed", result, format: format) {
                result.registered ? "registered \(result.addressOfRecord): \(result.detail)" : "registration failed for \(result.addressOfRecord): \(result.detail)"
            }
            if !result.registered {
                await agent.shutdown()
                await media.shutdown()
                throw ExitCode(1)
            }
        }
        let listeners = await agent.boundListeners.map { "\($0.kind.rawValue):\($0.host):\($0.port)" }
        CallOutput.event("ready", ["listeners": listeners], format: format) { "READY listening on \(listeners.joined(separator: " "))" }

        // Stop on a signal, on the call count, or on the deadline.
        let stop = AsyncStream<String>.makeStream()
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) { stop.continuation.yield("signal") }
        if let exitAfter {
            Task { try? await Task.sleep(for: exitAfter); stop.continuation.yield("deadline") }
        }
        let limit = calls
        Task {
            var count = 0
            for await report in ended.stream {
                count += 1
                if format == .json {
                    CallOutput.event("call", CallEvent(report: report), format: .json) { "" }
                } else {
                    try? CallOutput.print(report, format: .text, ladder: showLadder)
                }
                if let limit, count >= limit { stop.continuation.yield("calls") }
            }
        }
        for await _ in stop.stream { break }
        signals.cancel()
        await agent.shutdown()
        await media.shutdown()
        CallOutput.event("stopped", ["reason": "done"], format: format) { "stopped" }
    }
}

struct CallEvent: Encodable {
    var report: CallReport
}

/// Turns SIGINT/SIGTERM into a callback (Dispatch signal sources; the default action is ignored).
final class SignalWatcher: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}
