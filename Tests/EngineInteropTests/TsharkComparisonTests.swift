import Foundation
import InteropTestSupport
import Testing

/// Issue 3 proof 9: during an Earshot → Earshot call on loopback, tshark captures the RTP and
/// its own RTP analysis (`-z rtp,streams`) is compared with Earshot's report, per direction.
/// Loss is injected with iptables in the OUTPUT chain, i.e. before the packet reaches `lo`, so
/// the capture and the receiving socket see the same stream (a drop in INPUT would happen after
/// the capture point and tshark would count nothing lost). docs/tshark-comparison.md has the
/// definitions and the differences by design, with numbers.
@Suite struct EngineVersusTsharkTests {
    static let toolsReady = Harness.shouldRun(Harness.installed("tshark") && Harness.installed("iptables") && getuid() == 0)

    @Test(.enabled(if: toolsReady, "needs tshark and iptables (run scripts/install-test-deps) and root"))
    func lossEqualsTsharksAndJitterAgrees() throws {
        let scratch = try ScratchDirectory(prefix: "tshark-compare")
        let caller = PortRange(Earshot.rtpPorts(40)), callee = PortRange(Earshot.rtpPorts(41))
        let capture = try Harness.start(Harness.script("tshark-capture"), [
            "--out", scratch.path("call.pcap"), "--filter", "udp portrange \(caller.low)-\(callee.high)",
            "--logdir", scratch.path("capture"), "--max-seconds", "120",
        ], in: scratch, name: "capture")
        defer { capture.signal(SIGTERM) }
        let sipPort = Harness.freePort()
        let answer = try Earshot.answer(["--listen", "127.0.0.1:\(sipPort)", "--transport", "udp", "--calls", "1",
                                         "--rtp-ports", callee.text], in: scratch)
        let started = Date()
        let call = try SpawnedProcess(try Harness.earshotBinary(), [
            "call", "sip:bob@127.0.0.1:\(sipPort)", "--duration", "12s", "--rtp-ports", caller.text,
            "--listen", "127.0.0.1:0", "--format", "json",
        ], outputPath: scratch.path("call.out"), errorPath: scratch.path("call.err"))

        // Random loss from 2 s, once the callee has bound its RTP socket (the media runs then; a
        // drop among the first two packets would move RFC 3550 A.1's probation), to 9 s (so
        // nothing is dropped among the last packets, which the capture sees but a receiver that
        // already stopped does not).
        try #require(waitUntil(seconds: 30, interval: 0.05) { UDPSockets.anyBound(in: callee) }, "the callee bound no RTP port")
        Thread.sleep(until: max(started.addingTimeInterval(2), Date().addingTimeInterval(0.5)))
        let drops = try LoopbackDrops([
            .init(from: caller, to: callee, probability: 0.03),
            .init(from: callee, to: caller, probability: 0.02),
        ])
        Thread.sleep(until: started.addingTimeInterval(9))
        try drops.remove()

        let finished = call.wait(seconds: 60)
        if !finished { call.signal(SIGKILL) }
        try #require(finished, "earshot call did not finish\n\(call.errors)")
        let callerReport = try #require(Harness.jsonObject(call.output), "\(call.output)\n\(call.errors)")
        try answer.waitingForEvent("call", timeout: 20)
        let calleeReport = try #require(answer.callReports.first)
        capture.signal(SIGTERM)
        try #require(capture.wait(seconds: 30), "tshark-capture did not stop")
        try #require(Harness.field("packets", inLineStarting: "RESULT", of: capture.output) != nil, "\(capture.output)")

        #expect(call.exitCode == 0, "\(call.errors)")
        #expect(callerReport.string("ending.cause") == "normal")
        let callerPort = try #require(callerReport.int("media.session.rtp_port"))
        let calleePort = try #require(calleeReport.int("media.session.rtp_port"))

        let tshark = try TsharkRTPStreams.analyze(scratch.path("call.pcap"), in: scratch)
        let ours = try EarshotPcapAnalysis.analyze(scratch.path("call.pcap"), in: scratch)
        var lines: [String] = []
        // (name, tshark's stream, the receiving Earshot's report, the sending Earshot's report)
        for (name, from, to, receiver, sender) in [
            ("caller→callee", callerPort, calleePort, calleeReport, callerReport),
            ("callee→caller", calleePort, callerPort, callerReport, calleeReport),
        ] {
            let stream = try #require(tshark.first { $0.sourcePort == from && $0.destinationPort == to },
                                      "tshark found no stream \(from)→\(to): \(tshark)")
            let analyzed = try #require(ours.first { $0.int("src_port") == from && $0.int("dst_port") == to }, "pcap analyze: no \(from)→\(to)")
            #expect(stream.ssrc == sender.int("media.session.ssrc").map { UInt32($0) }, "\(name): another SSRC")
            let lost = try #require(receiver.int("directions.inbound.packets_lost"))
            let received = try #require(receiver.int("directions.inbound.packets_received"))
            let mean = try #require(receiver.double("directions.inbound.jitter_mean_ms"))
            let max = try #require(receiver.double("directions.inbound.jitter_max_ms"))
            let pcapMean = try #require(analyzed.double("jitter_mean_ms")), pcapMax = try #require(analyzed.double("jitter_max_ms"))
            lines.append("\(name): lost earshot \(lost) tshark \(stream.lost) pcap-analyze \(analyzed.int("packets_lost") ?? -1); "
                + "received earshot \(received) tshark \(stream.packets); jitter mean earshot \(fmt(mean)) pcap-analyze \(fmt(pcapMean)) "
                + "tshark \(fmt(stream.meanJitterMs)); max earshot \(fmt(max)) pcap-analyze \(fmt(pcapMax)) tshark \(fmt(stream.maxJitterMs))")

            // Loss: equal, and not trivially (the injected drops happened in both directions).
            #expect(lost == stream.lost, "\(name)")
            #expect(lost > 0, "\(name): no loss injected")
            #expect(receiver.int("directions.inbound.duplicates") == 0)
            #expect(receiver.int("directions.inbound.packets_rejected") == 0, "\(name): a drop hit A.1 probation")
            // The capture may hold a few packets the receiver no longer read (sent while the BYE
            // was on its way); never fewer than the receiver got.
            #expect(stream.packets >= received && stream.packets <= received + 5, "\(name)")
            #expect(analyzed.int("packets_lost") == stream.lost, "\(name): pcap analyze")
            // Jitter, the same RFC 3550 A.8 J: tshark's mean and max of J over the packets after
            // the first, on capture timestamps. `earshot pcap analyze` on the same capture computes it
            // the same way; the live engine uses its own arrival times (see the doc).
            #expect(within(pcapMean, stream.meanJitterMs, 0.02), "\(name): pcap analyze mean jitter")
            #expect(within(pcapMax, stream.maxJitterMs, 0.02), "\(name): pcap analyze max jitter")
            // The live engine: the same J, on the kernel's receive timestamp of each datagram
            // (SO_TIMESTAMPNS, mapped onto the monotonic clock) — the moment the capture records.
            #expect(within(mean, stream.meanJitterMs, 0.02), "\(name): mean jitter earshot \(mean) vs tshark \(stream.meanJitterMs)")
            #expect(within(max, stream.maxJitterMs, 0.02), "\(name): max jitter earshot \(max) vs tshark \(stream.maxJitterMs)")
        }
        try lines.joined(separator: "\n").write(toFile: scratch.path("comparison.txt"), atomically: true, encoding: .utf8)
        print(lines.joined(separator: "\n"))
    }

    private func within(_ value: Double, _ reference: Double, _ fraction: Double) -> Bool {
        abs(value - reference) <= fraction * reference + 0.0005  // tshark prints three decimals
    }

    private func fmt(_ value: Double) -> String { String(format: "%.3f", value) }
}

/// "28000-28199" (Earshot.rtpPorts) as numbers.
struct PortRange {
    let low: Int
    let high: Int
    var text: String { "\(low)-\(high)" }

    init(_ text: String) {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        precondition(parts.count == 2, "port range \(text)")
        (low, high) = (parts[0], parts[1])
    }
}

/// UDP sockets bound on this host (/proc/net/udp).
enum UDPSockets {
    static func anyBound(in range: PortRange) -> Bool {
        let table = (try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8)) ?? ""
        // "  sl  local_address rem_address ...": local_address is HEXADDR:HEXPORT.
        return table.split(separator: "\n").dropFirst().contains { line in
            let fields = line.split(separator: " ")
            guard fields.count > 1, let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }) else { return false }
            return (range.low...range.high).contains(port)
        }
    }
}

/// iptables DROP rules on loopback in the OUTPUT chain (before the packet reaches `lo`, so a
/// capture on lo never sees a dropped packet), random with a probability, between two port
/// ranges. Each rule carries a comment naming this process; removed on `remove()` or at deinit.
final class LoopbackDrops {
    struct Rule {
        var from: PortRange
        var to: PortRange
        var probability: Double
    }

    private var installed: [[String]] = []

    init(_ rules: [Rule]) throws {
        for rule in rules {
            let spec = ["OUTPUT", "-o", "lo", "-p", "udp", "--sport", "\(rule.from.low):\(rule.from.high)",
                        "--dport", "\(rule.to.low):\(rule.to.high)", "-m", "statistic", "--mode", "random",
                        "--probability", "\(rule.probability)", "-m", "comment", "--comment", "earshot-test-\(getpid())", "-j", "DROP"]
            try Self.iptables(["-A"] + spec)
            installed.append(spec)
        }
    }

    func remove() throws {
        defer { installed = [] }
        for spec in installed { try Self.iptables(["-D"] + spec) }
    }

    deinit { try? remove() }

    private static func iptables(_ arguments: [String]) throws {
        let scratch = try ScratchDirectory(prefix: "iptables")
        let process = try SpawnedProcess("/usr/bin/env", ["PATH=/usr/sbin:/sbin:/usr/bin:/bin", "iptables", "-w", "10"] + arguments,
                                         outputPath: scratch.path("out"), errorPath: scratch.path("err"))
        try #require(process.wait(seconds: 20) && process.exitCode == 0, "iptables \(arguments): \(process.errors)")
    }
}

/// One row of `tshark -z rtp,streams`.
struct TsharkRTPStream: CustomStringConvertible {
    var sourcePort: Int
    var destinationPort: Int
    var ssrc: UInt32
    var packets: Int
    /// tshark's "Lost": expected (last − first sequence + 1, with wraps) − packets.
    var lost: Int
    var meanJitterMs: Double
    var maxJitterMs: Double
    var maxDeltaMs: Double

    var description: String {
        "\(sourcePort)→\(destinationPort) ssrc=\(String(ssrc, radix: 16)) packets=\(packets) lost=\(lost) jitter mean=\(meanJitterMs) max=\(maxJitterMs)"
    }
}

enum TsharkRTPStreams {
    /// tshark's own RTP stream analysis of a capture. The capture holds only RTP/RTCP (no SIP
    /// with SDP), so RTP is found by tshark's heuristic dissector.
    static func analyze(_ file: String, in scratch: ScratchDirectory) throws -> [TsharkRTPStream] {
        let process = try SpawnedProcess("/usr/bin/env", ["tshark", "-r", file, "-q", "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams"],
                                         outputPath: scratch.path("tshark-streams.out"), errorPath: scratch.path("tshark-streams.err"))
        try #require(process.wait(seconds: 60) && process.exitCode == 0, "tshark: \(process.errors)")
        return parse(process.output)
    }

    /// Rows: start end src-ip src-port dst-ip dst-port ssrc payload… packets lost (pct) min-delta
    /// mean-delta max-delta min-jitter mean-jitter max-jitter [X]. The payload column may hold
    /// spaces, so the numbers are taken from the end (as Tests/RTPAnalysisTests/TsharkSupport.swift,
    /// which a test target cannot import).
    static func parse(_ text: String) -> [TsharkRTPStream] {
        text.split(separator: "\n").compactMap { line in
            var t = line.split(separator: " ").map(String.init)
            if t.last == "X" { t.removeLast() }
            guard t.count >= 17, let source = Int(t[3]), let destination = Int(t[5]), t[6].hasPrefix("0x"),
                  let ssrc = UInt32(t[6].dropFirst(2), radix: 16) else { return nil }
            let tail = Array(t.suffix(9))  // packets lost (pct) min-delta mean-delta max-delta min-J mean-J max-J
            guard let packets = Int(tail[0]), let lost = Int(tail[1]), let maxDelta = Double(tail[5]),
                  let mean = Double(tail[7]), let max = Double(tail[8]) else { return nil }
            return TsharkRTPStream(sourcePort: source, destinationPort: destination, ssrc: ssrc, packets: packets, lost: lost,
                                   meanJitterMs: mean, maxJitterMs: max, maxDeltaMs: maxDelta)
        }
    }
}

enum EarshotPcapAnalysis {
    /// `earshot pcap analyze FILE --format json`: the streams.
    static func analyze(_ file: String, in scratch: ScratchDirectory) throws -> [[String: Any]] {
        let process = try SpawnedProcess(try Harness.earshotBinary(), ["pcap", "analyze", file, "--format", "json"],
                                         outputPath: scratch.path("pcap-analyze.out"), errorPath: scratch.path("pcap-analyze.err"))
        try #require(process.wait(seconds: 60) && process.exitCode == 0, "pcap analyze: \(process.errors)")
        let report = try #require(Harness.jsonObject(process.output))
        return report["streams"] as? [[String: Any]] ?? []
    }
}
