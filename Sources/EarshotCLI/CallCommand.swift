import ArgumentParser
import Foundation
import MediaEngine
import NIOSSL
import SIPCore
import SIPStack
import SIPTransaction

/// Options shared by `earshot call` and `earshot answer`: media, timers, TLS.
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong("rtp-ports"), help: ArgumentHelp("RTP port range (even ports; RTCP = RTP + 1).", valueName: "lo-hi"))
    var rtpPorts: String = "40000-40999"

    @Option(help: ArgumentHelp("DSCP of sent RTP packets (46 = EF).", valueName: "0-63"))
    var dscp: String = "46"

    @Option(help: ArgumentHelp("Our identifying tone in Hz (the far end's audio check looks for it).", valueName: "hz"))
    var tone: String?

    @Option(name: .customLong("expect-tone"), help: ArgumentHelp("The tone the far end sends, when it does not announce one in its SDP (a=x-earshot-tone).", valueName: "hz"))
    var expectTone: String?

    @Option(name: .customLong("session-expires"), help: ArgumentHelp("RFC 4028 session interval to ask for, seconds (≥ 90).", valueName: "s"))
    var sessionExpires: String?

    @Option(name: .customLong("min-se"), help: ArgumentHelp("Smallest session interval accepted, seconds.", valueName: "s"))
    var minSE: String = "90"

    @Option(help: ArgumentHelp("RFC 3261 T1 (RTT estimate).", valueName: "duration"))
    var t1: String = "500ms"
    @Option(help: ArgumentHelp("RFC 3261 T2 (maximum retransmit interval).", valueName: "duration"))
    var t2: String = "4s"
    @Option(help: ArgumentHelp("RFC 3261 T4 (how long the network keeps a message).", valueName: "duration"))
    var t4: String = "5s"

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("PEM file of the CA that signed the peer's TLS certificate.", valueName: "file"))
    var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate chain of our TLS listener.", valueName: "file"))
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key of our TLS listener.", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("User part of our From/Contact.", valueName: "name"))
    var user: String = "earshot"

    @Option(help: .init("text or json"))
    var format: OutputFormat = .text

    @Option(name: .customLong("media-priority"), help: ArgumentHelp("Run the media loop threads in SCHED_FIFO at this priority (1–99; needs CAP_SYS_NICE) so that other work on the machine cannot hold back the 20 ms grid.", valueName: "1-99"))
    var mediaPriority: Int32?

    @Option(name: .customLong("media-loops"), help: ArgumentHelp("Media loop threads (sessions are spread over them).", valueName: "n"))
    var mediaLoops: Int = 1

    @Option(name: .customLong("grid-phases"), help: ArgumentHelp("Send phases per 20 ms: sessions start on multiples of 20 ms / n and spread evenly over them (more phases: smaller send bursts, more wake-ups).", valueName: "n"))
    var gridPhases: Int = 20

    func portRange() throws -> ClosedRange<UInt16> {
        let parts = rtpPorts.split(separator: "-").map { UInt16($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low < high, low >= 1024 else {
            throw CommandFailure.usage("--rtp-ports must be LOW-HIGH with 1024 ≤ LOW < HIGH ≤ 65535, got \(rtpPorts)")
        }
        return low...high
    }

    func dscpValue() throws -> UInt8 {
        guard let value = UInt8(dscp), value < 64 else { throw CommandFailure.usage("--dscp must be 0–63, got \(dscp)") }
        return value
    }

    func frequency(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), (100...3900).contains(value) else {
            throw CommandFailure.usage("--\(name) must be a frequency in Hz between 100 and 3900, got \(text)")
        }
        return value
    }

    func timers() throws -> TransactionTimers {
        func parse(_ text: String, _ name: String) throws -> Duration {
            guard let value = DurationText.parse(text), value > .zero else { throw CommandFailure.usage("--\(name) must be a positive duration, got \(text)") }
            return value
        }
        let timers = TransactionTimers(t1: try parse(t1, "t1"), t2: try parse(t2, "t2"), t4: try parse(t4, "t4"))
        guard timers.t1 <= timers.t2 else { throw CommandFailure.usage("--t1 must not exceed --t2") }
        return timers
    }

    func sessionTimer() throws -> SessionTimerSettings {
        guard let minimum = Int(minSE), minimum >= 90 else { throw CommandFailure.usage("--min-se must be at least 90 (RFC 4028 §4), got \(minSE)") }
        var settings = SessionTimerSettings(sessionExpires: nil, minSE: minimum)
        if let sessionExpires {
            guard let value = Int(sessionExpires), value >= minimum else {
                throw CommandFailure.usage("--session-expires must be a number of seconds ≥ --min-se (\(minimum)), got \(sessionExpires)")
            }
            settings.sessionExpires = value
        }
        return settings
    }

    func tlsClient() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let tlsCA {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(tlsCA))
            } catch {
                throw CommandFailure.input("cannot read --tls-ca \(tlsCA): \(error)")
            }
        }
        return configuration
    }

    func tlsServer() throws -> TLSConfiguration? {
        guard tlsCert != nil || tlsKey != nil else { return nil }
        guard let tlsCert, let tlsKey else { throw CommandFailure.usage("--tls-cert and --tls-key go together") }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tlsCert).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tlsKey, format: .pem)
            return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        } catch {
            throw CommandFailure.input("cannot read the TLS certificate or key: \(error)")
        }
    }

    func mediaEngine(bindAddress: String) throws -> MediaEngine {
        if let mediaPriority, !(1...99).contains(mediaPriority) {
            throw CommandFailure.usage("--media-priority must be 1–99, got \(mediaPriority)")
        }
        guard (1...64).contains(mediaLoops) else { throw CommandFailure.usage("--media-loops must be 1–64, got \(mediaLoops)") }
        guard (1...400).contains(gridPhases) else { throw CommandFailure.usage("--grid-phases must be 1–400, got \(gridPhases)") }
        do {
            return try MediaEngine(configuration: MediaEngine.Configuration(
                portRange: try portRange(), dscp: try dscpValue(), loopCount: mediaLoops, bindAddress: bindAddress,
                startAlignmentNanoseconds: 20_000_000 / Int64(gridPhases), realtimePriority: mediaPriority))
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure.input("cannot start the media engine: \(error)")
        }
    }
}

/// `earshot call`: one test call from a terminal, with the report an organizer run stores.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Place one test call and report both directions of media (loss, jitter, RTT, MOS), setup time and how it ended.",
        discussion: """
            The target is a SIP URI: sip:user@host[:port][;transport=tcp|tls]. Host must be an \
            IP address or localhost. With --proxy the INVITE goes to the proxy and the URI may \
            name any domain (an address of record).

            Earshot sends its test signal (speech-like audio plus an identifying tone) and \
            checks that the far end's tone arrives (its SDP announces it with a=x-earshot-tone, \
            or give --expect-tone). A peer that echoes RTP (sipp -rtp_echo) sends our own tone \
            back: use --expect-tone with our --tone.

            Load test: --concurrent N places N identical calls from one user agent (one \
            process, one media engine), started evenly over --ramp, each lasting --duration once \
            answered, and prints one summary: calls passed/degraded/failed and their ending \
            causes, setup times, packets sent/received/lost over all calls, the pacing \
            lateness of every packet sent against its 20 ms grid (p50/p99/max), process CPU \
            (getrusage, whole run and the steady-state window when every call is up) and max \
            RSS. --rtp-ports must hold N port pairs. --verbose adds every call's report \
            (JSON: under "calls"). BENCHMARKS.md shows it in use (scripts/bench-engine).

            Exit status: 0 the call completed normally with media both ways (with \
            --concurrent: every call passed); 1 it failed (rejected, no answer, dropped, \
            one-way audio — the report says which); 2 bad usage.
            """
    )

    @Argument(help: ArgumentHelp("The SIP URI to call.", valueName: "sip-uri"))
    var target: String

    @Option(help: ArgumentHelp("How long the call lasts once answered.", valueName: "duration"))
    var duration: String = "20s"

    @Option(help: .init("PCMU or PCMA."))
    var codec: String = "PCMU"

    @Option(help: ArgumentHelp("RFC 4733 digits to send during the call (0-9 * # A-D).", valueName: "digits"))
    var dtmf: String?

    @Option(name: .customLong("dtmf-delay"), help: ArgumentHelp("When to send the digits after the answer.", valueName: "duration"))
    var dtmfDelay: String = "2s"

    @Option(help: ArgumentHelp("udp, tcp or tls (default: the URI's transport parameter, else udp).", valueName: "transport"))
    var transport: String?

    @Option(help: ArgumentHelp("Send the INVITE to this proxy (host:port) instead of the URI's host.", valueName: "host:port"))
    var proxy: String?

    @Option(help: ArgumentHelp("Local SIP address to listen on.", valueName: "addr:port"))
    var listen: String = "0.0.0.0:0"

    @Option(help: ArgumentHelp("Our address of record in From (default sip:USER@local-address).", valueName: "sip-uri"))
    var from: String?

    @Option(help: ArgumentHelp("Digest user name for 401/407 challenges.", valueName: "name"))
    var username: String?

    @Option(help: ArgumentHelp("Digest password.", valueName: "secret"))
    var password: String?

    @Option(name: .customLong("no-answer-timeout"), help: ArgumentHelp("CANCEL when unanswered after this long.", valueName: "duration"))
    var noAnswerTimeout: String = "32s"

    @Flag(help: "Print the SIP ladder in the text report.")
    var ladder = false

    @Option(help: ArgumentHelp("Load test: place N identical calls at once from this one user agent and media engine, and print an aggregate summary instead of one report.", valueName: "n"))
    var concurrent: Int?

    @Option(help: ArgumentHelp("With --concurrent: start the calls evenly spread over this time.", valueName: "duration"))
    var ramp: String = "5s"

    @Flag(help: "With --concurrent: add every call's report (text: one line per call; json: the full reports under \"calls\").")
    var verbose = false

    @OptionGroup var engine: EngineOptions

    func run() async throws {
        do {
            let plan = try prepare()
            if let count = concurrent {
                let load = try loadRun(count: count)
                let (agent, media) = try await start(plan)
                if engine.format == .text {
                    Output.stderr("placing \(count) calls to \(target) over \(plan.kind.rawValue), ramp \(ramp), each lasting \(duration)…")
                }
                let summary = await load.run(plan.request, agent: agent, media: media)
                await agent.shutdown()
                await media.shutdown()
                try summary.print(format: engine.format)
                if summary.failed + summary.degraded > 0 { throw ExitCode(1) }
                return
            }
            let (agent, media) = try await start(plan)
            if engine.format == .text {
                Output.stderr("calling \(target) over \(plan.kind.rawValue) for \(self.duration)…")
            }
            let report = await agent.placeCall(plan.request)
            await agent.shutdown()
            await media.shutdown()
            try CallOutput.print(report, format: engine.format, ladder: ladder)
            if report.status == "failed" { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            throw failure.exit()
        }
    }

    /// What the command line asks for, checked: the call to place and the agent to place it.
    struct Plan {
        var request: CallRequest
        var kind: SIPTransportKind
        var localHost: String
        var agent: UserAgentConfiguration
    }

    private func loadRun(count: Int) throws -> LoadRun {
        guard count >= 1 else { throw CommandFailure.usage("--concurrent must be at least 1, got \(count)") }
        guard let ramp = DurationText.parse(ramp) else { throw CommandFailure.usage("--ramp must be a duration like 5s, got \(self.ramp)") }
        let range = try engine.portRange()
        let first = Int(range.lowerBound) + Int(range.lowerBound) % 2
        let pairs = max(0, (Int(range.upperBound) - first + 1) / 2)
        guard pairs >= count else {
            throw CommandFailure.usage("--rtp-ports \(engine.rtpPorts) holds \(pairs) RTP/RTCP port pairs; \(count) calls need \(count) (e.g. --rtp-ports 20000-\(20000 + 2 * count + 99))")
        }
        return LoadRun(count: count, ramp: ramp, duration: DurationText.parse(duration) ?? .zero, verbose: verbose)
    }

    private func prepare() throws -> Plan {
        guard let uri = try? SIPURI(parsing: target) else {
            throw CommandFailure.usage("\(target) is not a SIP URI (expected sip:user@host[:port])")
        }
        guard let duration = DurationText.parse(duration), duration > .zero else {
            throw CommandFailure.usage("--duration must be a positive duration like 20s or 1m, got \(self.duration)")
        }
        guard let dtmfDelay = DurationText.parse(dtmfDelay) else { throw CommandFailure.usage("--dtmf-delay must be a duration, got \(self.dtmfDelay)") }
        guard let noAnswer = DurationText.parse(noAnswerTimeout), noAnswer > .zero else {
            throw CommandFailure.usage("--no-answer-timeout must be a positive duration, got \(noAnswerTimeout)")
        }
        let payloadType: UInt8
        switch codec.uppercased() {
        case "PCMU", "G711U", "G.711U": payloadType = 0
        case "PCMA", "G711A", "G.711A": payloadType = 8
        default: throw CommandFailure.usage("--codec must be PCMU or PCMA, got \(codec)")
        }
        if let dtmf, dtmf.isEmpty || !dtmf.uppercased().allSatisfy({ "0123456789*#ABCD".contains($0) }) {
            throw CommandFailure.usage("--dtmf takes digits 0-9 * # A-D, got \(dtmf)")
        }
        var kind: SIPTransportKind = uri.isSecure ? .tls : .udp
        if let fromURI = uri.transport { kind = SIPTransportKind(rawValue: fromURI.lowercased()) ?? kind }
        if let transport {
            guard let chosen = SIPTransportKind(rawValue: transport.lowercased()) else {
                throw CommandFailure.usage("--transport must be udp, tcp or tls, got \(transport)")
            }
            kind = chosen
        }
        let destination: SIPDestination
        if let proxy {
            guard let parsed = HostPort.parse(proxy, defaultPort: kind.defaultPort) else {
                throw CommandFailure.usage("--proxy must be host:port with an IP address, got \(proxy)")
            }
            destination = SIPDestination(host: parsed.host, port: parsed.port, kind: kind)
        } else {
            var hop = uri
            hop.parameters.set("transport", kind.rawValue)
            guard let resolved = SIPDestination(uri: hop, defaultKind: kind) else {
                throw CommandFailure.usage("\(target): the host must be an IP address or localhost (or give --proxy)")
            }
            destination = resolved
        }
        guard let local = HostPort.parse(listen, defaultPort: 0) else {
            throw CommandFailure.usage("--listen must be addr:port, got \(listen)")
        }
        if (username == nil) != (password == nil) { throw CommandFailure.usage("--username and --password go together") }
        let fromURI = try from.map { text -> SIPURI in
            guard let parsed = try? SIPURI(parsing: text) else { throw CommandFailure.usage("--from is not a SIP URI: \(text)") }
            return parsed
        }
        let tlsServer = try engine.tlsServer()
        // Over TLS without a certificate of our own we only dial out: no TLS listener (the
        // peer answers on our connection). A UDP listener stays for the Via/Contact port.
        let listenerKind: SIPTransportKind = kind == .tls && tlsServer == nil ? .udp : kind
        var configuration = UserAgentConfiguration(
            listeners: [SIPListenerConfiguration(kind: listenerKind, host: local.host, port: local.port)],
            user: engine.user, timers: try engine.timers(), tlsServer: tlsServer, tlsClient: try engine.tlsClient(),
            sessionTimer: try engine.sessionTimer(), toneFrequency: try engine.frequency(engine.tone, name: "tone") ?? 1750)
        configuration.checksResponseSentBy = listenerKind == kind
        let request = CallRequest(
            target: uri, destination: destination, duration: duration, payloadType: payloadType,
            dtmf: dtmf?.uppercased(), dtmfDelay: dtmfDelay, username: username, password: password,
            expectedRemoteTone: try engine.frequency(engine.expectTone, name: "expect-tone"), noAnswerTimeout: noAnswer,
            from: fromURI)
        return Plan(request: request, kind: kind, localHost: local.host, agent: configuration)
    }

    /// The media engine and the started user agent.
    private func start(_ plan: Plan) async throws -> (SIPUserAgent, MediaEngine) {
        let media = try engine.mediaEngine(bindAddress: plan.localHost)
        let agent = SIPUserAgent(configuration: plan.agent, media: media)
        do {
            try await agent.start()
        } catch {
            await media.shutdown()
            throw CommandFailure.input("cannot listen on \(listen) (\(plan.kind.rawValue)): \(error)")
        }
        return (agent, media)
    }
}

/// `host:port`, `[v6]:port`, or a bare host.
enum HostPort {
    static func parse(_ text: String, defaultPort: UInt16) -> (host: String, port: UInt16)? {
        var host = text
        var port = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") { guard let p = UInt16(rest.dropFirst()) else { return nil }; port = p }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = UInt16(text[text.index(after: colon)...]) else { return nil }
            port = p
        }
        if host == "localhost" { host = "127.0.0.1" }
        var v4 = in_addr(), v6 = in6_addr()
        guard inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 else { return nil }
        return (host, port)
    }
}
