import Foundation
import InteropTestSupport
import Testing

/// Issue 3 proofs 4 and 6 (baresip side): baresip 1.0 (Debian baresip-core) as an independent,
/// auto-answering user agent, started by the project's scripts/peers/baresip. It plays a sine
/// tone of a known frequency, records what it receives, logs RFC 4733 digits and prints its own
/// RTP counters at the end of a call. baresip 1.0 has no RFC 4028 session timers: none asked for.
@Suite struct BaresipInteropTests {
    static let baresipInstalled = Harness.shouldRun(Harness.installed("baresip"))

    // 4. earshot call → baresip: media flows both ways, and Earshot's audio check passes on the
    // direction baresip sends (its 440 Hz tone).
    @Test(.enabled(if: baresipInstalled, "baresip missing: run scripts/install-test-deps"))
    func mediaFlowsBothWaysAndBaresipsToneIsHeard() throws {
        let scratch = try ScratchDirectory(prefix: "baresip-media")
        let peer = try BaresipPeer.start(tone: 440, rtpPorts: Earshot.rtpPorts(43), in: scratch)
        let call = try Earshot.call(["sip:peer@127.0.0.1:\(peer.port)", "--duration", "8s", "--tone", "1750", "--expect-tone", "440",
                                     "--rtp-ports", Earshot.rtpPorts(42), "--listen", "127.0.0.1:0", "--format", "json"],
                                    in: scratch, timeout: 60)
        let result = try peer.stop()
        let report = try #require(Harness.jsonObject(call.output), "stdout: \(call.output)\nstderr: \(call.errors)")
        #expect(call.exitCode == 0, "\(call.errors)")
        #expect(report.string("status") == "passed", "\(report["problems"] ?? "")")
        #expect(report.string("ending.cause") == "normal")
        #expect(report.string("ending.by") == "local")
        #expect(report.string("directions.inbound.codec") == "PCMU")

        // baresip → Earshot: 8 s of 20 ms packets, none lost, and baresip's 440 Hz tone present
        // and continuous in every frame.
        let received = try #require(report.int("directions.inbound.packets_received"))
        #expect(received >= 390 && received <= 415, "8 s × 50 packets/s (baresip starts at its 200 OK): \(received)")
        #expect(report.int("directions.inbound.packets_lost") == 0)
        #expect(report.int("directions.inbound.duplicates") == 0)
        #expect(report.bool("directions.inbound.audio_ok") == true)
        #expect(report.string("directions.inbound.audio.kind") == "tone")
        #expect(report.int("directions.inbound.audio.expected_tone_hz") == 440)
        #expect(report.string("directions.inbound.audio.tracker.verdict") == "continuous")
        #expect(report.int("directions.inbound.audio.tracker.longest_gap_frames") == 0)

        // Earshot → baresip: baresip counted every packet we sent (its own end-of-call table),
        // and its RTCP receiver reports — our only view of that direction — say none was lost.
        #expect(result.established == 1 && result.closed == 1, "\(result)")
        let sent = try #require(report.int("media.sent.packets"))
        #expect(sent >= 390 && sent <= 410, "sent \(sent)")
        let table = try #require(result.rtpTable, "no RTP table in \(peer.logdir)/baresip.log")
        // We stop sending, then send the BYE: baresip reads our last packets before the BYE
        // (exactly `sent` in every run so far) unless its loop takes the BYE first.
        #expect(table.received <= sent && table.received >= sent - 2, "baresip received \(table.received) of our \(sent)")
        #expect(table.transmitted >= received && table.transmitted <= received + 3,
                "baresip sent \(table.transmitted), we received \(received) (its last packets may still be in flight at BYE)")
        #expect((report.int("directions.outbound.reports_received") ?? 0) >= 1, "no RTCP report from baresip")
        #expect(report.int("directions.outbound.cumulative_lost") == 0)

        // What baresip recorded is our 1750 Hz tone, for most of the 8 s; what it sent is its 440 Hz.
        let heard = try BaresipPeer.dominantTone(ofRecording: "dec", in: peer.logdir)
        #expect(heard.hz == 1750, "baresip recorded \(heard.hz) Hz")
        #expect(heard.seconds >= 7, "baresip recorded \(heard.seconds) s")
        #expect(try BaresipPeer.dominantTone(ofRecording: "enc", in: peer.logdir).hz == 440)
    }

    // 4, the other way round: baresip dials `earshot answer` and hangs up after ~5 s of media.
    @Test(.enabled(if: baresipInstalled, "baresip missing: run scripts/install-test-deps"))
    func baresipCallsEarshotAnswer() throws {
        let scratch = try ScratchDirectory(prefix: "baresip-dial")
        let sipPort = Harness.freePort()
        let answer = try Earshot.answer(["--listen", "127.0.0.1:\(sipPort)", "--transport", "udp", "--calls", "1", "--tone", "1850",
                                         "--expect-tone", "440", "--rtp-ports", Earshot.rtpPorts(46)], in: scratch)
        let peer = try BaresipPeer.start(tone: 440, rtpPorts: Earshot.rtpPorts(47), dial: "sip:bob@127.0.0.1:\(sipPort)", in: scratch)
        let established = waitUntil(seconds: 20, interval: 0.1) {
            ((try? String(contentsOfFile: "\(peer.logdir)/events.log", encoding: .utf8)) ?? "").contains("\"CALL_ESTABLISHED\"")
        }
        try #require(established, "baresip's call was not established: \(peer.process.output)\n\(answer.output)")
        Thread.sleep(forTimeInterval: 5)
        try peer.command("hangup")
        try answer.waitingForEvent("call", timeout: 20)
        let result = try peer.stop()
        let report = try #require(answer.callReports.first)
        #expect(report.string("role") == "callee")
        #expect(report.string("status") == "passed", "\(report["problems"] ?? "")")
        #expect(report.string("ending.cause") == "normal")
        #expect(report.string("ending.by") == "remote")
        #expect(result.established == 1 && result.closed == 1, "\(result)")
        // About 5 s each way, none lost; baresip's tone heard whole, ours recorded by baresip.
        let received = try #require(report.int("directions.inbound.packets_received"))
        let sent = try #require(report.int("media.sent.packets"))
        #expect(received >= 240 && received <= 300, "received \(received)")
        #expect(report.int("directions.inbound.packets_lost") == 0)
        #expect(report.bool("directions.inbound.audio_ok") == true)
        #expect(report.int("directions.inbound.audio.expected_tone_hz") == 440)
        let table = try #require(result.rtpTable, "no RTP table in \(peer.logdir)/baresip.log")
        // baresip stops sending before its BYE: we receive all it sent unless our SIP side takes
        // the BYE before the media loop has read its last packets. We send until the BYE arrives:
        // baresip may have closed its socket on our last packet or two.
        #expect(table.transmitted >= received && table.transmitted <= received + 2,
                "baresip sent \(table.transmitted), we received \(received) (equal in every run so far)")
        #expect(table.received <= sent && table.received >= sent - 3, "baresip received \(table.received) of our \(sent)")
        #expect(try BaresipPeer.dominantTone(ofRecording: "dec", in: peer.logdir).hz == 1850)
    }

    // 6 (baresip side). `--dtmf 123#` reaches baresip as the digits 1, 2, 3, #.
    @Test(.enabled(if: baresipInstalled, "baresip missing: run scripts/install-test-deps"))
    func dtmfReachesBaresip() throws {
        let scratch = try ScratchDirectory(prefix: "baresip-dtmf")
        let peer = try BaresipPeer.start(tone: 440, rtpPorts: Earshot.rtpPorts(45), in: scratch)
        let call = try Earshot.call(["sip:peer@127.0.0.1:\(peer.port)", "--duration", "4s", "--dtmf", "123#", "--dtmf-delay", "1s",
                                     "--expect-tone", "440", "--rtp-ports", Earshot.rtpPorts(44), "--listen", "127.0.0.1:0",
                                     "--format", "json"], in: scratch, timeout: 60)
        let result = try peer.stop()
        let report = try #require(Harness.jsonObject(call.output), "\(call.errors)")
        #expect(call.exitCode == 0, "\(call.errors)")
        #expect(report.string("dtmf_sent") == "123#")
        #expect(result.dtmf == "123#", "\(result)")
        // One line per digit in baresip's own log, in order.
        let log = try String(contentsOfFile: "\(peer.logdir)/dtmf.log", encoding: .utf8)
        #expect(log.split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) ?? "" } == ["1", "2", "3", "#"])
        // The digits interrupt our audio, not baresip's: its tone still arrives whole.
        #expect(report.bool("directions.inbound.audio_ok") == true)
    }
}

/// scripts/peers/baresip, started and stopped as the tests need it.
struct BaresipPeer {
    /// What the script prints on its RESULT line, plus baresip's own end-of-call RTP table.
    struct Result: CustomStringConvertible {
        var established: Int
        var closed: Int
        var dtmf: String
        /// baresip.log's "packets:  TX  RX" line, printed when a call ends.
        var rtpTable: (transmitted: Int, received: Int)?

        var description: String {
            "established=\(established) closed=\(closed) dtmf=\(dtmf) rtp=\(rtpTable.map { "\($0.transmitted)/\($0.received)" } ?? "none")"
        }
    }

    let process: SpawnedProcess
    let port: UInt16
    let logdir: String

    /// Starts baresip on a free loopback port, answering sip:peer@127.0.0.1:PORT, playing `tone`.
    static func start(tone: Int, rtpPorts: String, dial: String? = nil, in scratch: ScratchDirectory) throws -> BaresipPeer {
        let logdir = scratch.path("baresip")
        // baresip also listens for SIP over TLS on PORT + 1: pick a port whose successor is free too.
        var port = Harness.freePort()
        for _ in 0..<20 where port == UInt16.max || !tcpPortFree(port + 1) { port = Harness.freePort() }
        let process = try Harness.start(Harness.script("baresip"), [
            "--port", "\(port)", "--tone", "\(tone)", "--rtp-ports", rtpPorts, "--max-seconds", "120", "--logdir", logdir,
        ] + (dial.map { ["--dial", $0] } ?? []), in: scratch, name: "baresip")
        return BaresipPeer(process: process, port: port, logdir: logdir)
    }

    /// A command to the running baresip through scripts/peers/baresip_ctl.py ("hangup", "dial URI").
    func command(_ words: String...) throws {
        let scratch = try ScratchDirectory(prefix: "baresip-ctl")
        let ctl = try SpawnedProcess("/usr/bin/env", ["python3", Harness.script("baresip_ctl.py"), "command", logdir] + words,
                                     outputPath: scratch.path("out"), errorPath: scratch.path("err"))
        try #require(ctl.wait(seconds: 20) && ctl.exitCode == 0, "baresip_ctl \(words): \(ctl.output) \(ctl.errors)")
    }

    /// SIGTERM (the script stops baresip and prints RESULT), bounded wait, parse.
    func stop() throws -> Result {
        process.signal(SIGTERM)
        let stopped = process.wait(seconds: 20)
        if !stopped { process.signal(SIGKILL) }
        try #require(stopped, "baresip script did not stop\n\(process.output)\n\(process.errors)")
        let out = process.output
        func field(_ key: String) -> String? { Harness.field(key, inLineStarting: "RESULT", of: out) }
        let established = try #require(field("established").flatMap { Int($0) }, "no RESULT line: \(out)\n\(process.errors)")
        let log = (try? String(contentsOfFile: "\(logdir)/baresip.log", encoding: .utf8)) ?? ""
        var table: (Int, Int)?
        for line in log.split(separator: "\n") where line.hasPrefix("packets:") {
            let numbers = line.split(separator: " ").compactMap { Int($0) }
            if numbers.count == 2 { table = (numbers[0], numbers[1]) }
        }
        return Result(established: established, closed: field("closed").flatMap { Int($0) } ?? -1,
                      dtmf: field("dtmf") ?? "", rtpTable: table.map { (transmitted: $0.0, received: $0.1) })
    }

    /// The dominant frequency and length of baresip's recording `kind` ("dec": what it received,
    /// "enc": what it sent), by scripts/peers/audio_check.py.
    static func dominantTone(ofRecording kind: String, in logdir: String) throws -> (hz: Int, seconds: Double) {
        let recordings = (try? FileManager.default.contentsOfDirectory(atPath: "\(logdir)/rec")) ?? []
        let file = try #require(recordings.sorted().first { $0.hasSuffix("-\(kind).wav") }, "no *-\(kind).wav in \(logdir)/rec")
        let scratch = try ScratchDirectory(prefix: "audio-check")
        let check = try SpawnedProcess("/usr/bin/env", ["python3", Harness.script("audio_check.py"), "wav", "\(logdir)/rec/\(file)"],
                                       outputPath: scratch.path("out"), errorPath: scratch.path("err"))
        try #require(check.wait(seconds: 60), "audio_check.py did not finish")
        let parts = check.output.split(whereSeparator: \.isWhitespace)
        let hz = try #require(parts.first.flatMap { Int($0) }, "audio_check.py: \(check.output) \(check.errors)")
        return (hz, parts.dropFirst().first.flatMap { Double($0) } ?? 0)
    }

    private static func tcpPortFree(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
