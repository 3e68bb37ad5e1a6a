import Foundation
import InteropTestSupport
import Testing

/// Issue 3 proof 8, "Across subnets": two Earshot processes in different network namespaces
/// built by scripts/peers/netns (site-a, site-b, site-c behind NAT, joined by a router), with
/// impairment injected on the links by the router's NFQUEUE emulator (`--backend nfq` even where
/// the kernel has tc netem: the tests read counters netem does not keep — release lateness,
/// reorder bypasses). Each test builds its own topology under its own name and tears it down.
///
/// Ground truth: the emulator's per-link, per-direction counters, plus iptables counting rules
/// the tests add around the emulator for the RTP stream alone (the emulator counts every IPv4
/// packet — SIP and RTCP cross the same links).
@Suite(.serialized, .enabled(if: Harness.shouldRun(NetnsTopology.available), "needs root, iproute2, iptables and python3 (network namespaces)"))
struct NetnsImpairmentTests {
    /// G.711 at 20 ms: 12 bytes of RTP header + 160 of payload + UDP 8 + IPv4 20.
    static let rtpPacketBytes = 200

    // Injected loss on one direction: packets into site-b lose 5 %. Earshot's unique loss of
    // the a→b stream lies in the 99 % binomial interval of what the emulator really dropped;
    // the b→a stream loses nothing.
    @Test func lossOnOneDirectionMatchesTheEmulatorsDrops() throws {
        let scratch = try ScratchDirectory(prefix: "netns-loss")
        let net = try NetnsTopology(name: "es-loss", links: ["b:loss=5%,dir=in"], scratch: scratch)
        defer { net.down() }
        let calleePorts = Earshot.rtpPorts(30), callerPorts = Earshot.rtpPorts(31)
        let range = calleePorts.replacingOccurrences(of: "-", with: ":")
        // RTP toward the callee, counted before the emulator (router, POSTROUTING -o r-b, where
        // the emulator's NFQUEUE rule is: inserted ahead of it) and after it (site-b, raw
        // PREROUTING). RTCP uses the odd ports of the same range but is never 200 bytes long.
        let match = ["-p", "udp", "--dport", range, "-m", "length", "--length", "\(Self.rtpPacketBytes)"]
        try net.iptables(net.router, ["-t", "mangle", "-I", "POSTROUTING", "1", "-o", "r-b"] + match + ["-m", "comment", "--comment", "es-rtp-seen"])
        try net.iptables(net.siteB, ["-t", "raw", "-A", "PREROUTING", "-i", "eth0"] + match + ["-m", "comment", "--comment", "es-rtp-arrived"])

        let (caller, callee) = try net.call(from: .a, to: .b, seconds: 25, callerPorts: callerPorts, calleePorts: calleePorts)
        #expect(caller.string("ending.cause") == "normal")
        #expect(callee.string("ending.cause") == "normal")

        let seen = try net.packetCount(in: net.router, table: "mangle", comment: "es-rtp-seen")
        let arrived = try net.packetCount(in: net.siteB, table: "raw", comment: "es-rtp-arrived")
        let dropped = seen - arrived
        let link = try #require(try net.counters()?.value(at: "links.b:in") as? [String: Any])
        let sent = try #require(caller.int("media.sent.packets"))
        // The counting rules see exactly the caller's RTP stream, and only the emulator drops.
        #expect(seen == sent, "every RTP packet the caller sent reached the router")
        #expect(caller.int("media.sent.event_packets") == 0)
        #expect((link.int("dropped") ?? -1) >= dropped && (link.int("seen") ?? -1) >= seen,
                "the emulator's b:in counts (all packets) include the RTP ones: \(link)")
        #expect(callee.int("directions.inbound.packets_received") == arrived, "Earshot received what iptables saw arrive")

        // The truth: dropped/seen RTP packets. Its 99 % Wilson score interval (z = 2.5758) is the
        // tolerance for Earshot's measured unique loss (packets_lost / packets_expected).
        let lost = try #require(callee.int("directions.inbound.packets_lost"))
        let expected = try #require(callee.int("directions.inbound.packets_expected"))
        let truth = Statistics.wilson(successes: dropped, trials: seen)
        let measured = Double(lost) / Double(expected)
        #expect(truth.contains(measured), "measured \(lost)/\(expected) = \(measured), truth \(dropped)/\(seen), 99 % interval \(truth)")
        #expect(abs((callee.double("directions.inbound.loss_pct") ?? -1) - measured * 100) < 1e-6)
        // Sequence numbers cannot show drops before the first or after the last packet that
        // arrived, so Earshot may count fewer than the truth — by a run of edge drops, each with
        // probability 5 %: 4 or more at the edges has probability below 1e-4.
        #expect(lost <= dropped && lost >= dropped - 3, "Earshot lost \(lost), emulator dropped \(dropped) RTP packets")
        // The emulator's draw itself: the configured 5 % lies in the 99 % interval of what it did.
        #expect(truth.contains(0.05), "emulator dropped \(dropped)/\(seen)")

        // The other direction crossed no impaired link: nothing lost either way of measuring.
        #expect(caller.int("directions.inbound.packets_lost") == 0)
        #expect(caller.double("directions.inbound.loss_pct") == 0)
        #expect((caller.int("directions.inbound.packets_received") ?? 0) > 1000)
        #expect(callee.double("directions.outbound.loss_pct") == 0, "the caller's RTCP reports no loss of the callee's stream")
        #expect((caller.int("directions.outbound.cumulative_lost") ?? 0) > 0, "the callee's RTCP reports the loss to the caller")
        print("netns loss: RTP seen \(seen), dropped \(dropped) (\(Double(dropped) / Double(seen) * 100) %), emulator b:in \(link.int("dropped") ?? -1)/\(link.int("seen") ?? -1); Earshot lost \(lost)/\(expected) = \(measured * 100) %, 99 % interval \(truth); caller RTCP view \(caller.int("directions.outbound.cumulative_lost") ?? -1) lost")
    }

    // Injected delay: 20 ms on each direction of site-a's link and of site-b's link, so each way
    // a↔b crosses two delayed hops (a:out + b:in, b:out + a:in): d = 40 ms one way, RTT 2d = 80 ms.
    // Every RFC 3550 §6.4.1 sample (A − LSR − DLSR), not only the mean, is within ±3 ms of the
    // round trip the packets really had: 80 ms, plus at most what the emulator says it released
    // late (`late_max_us` of the four links, usually < 1 ms, several ms while other tests load the
    // machine; a run with more than 20 ms on a link is repeated). The smallest sample — extra delay
    // only ever adds — must be within ±3 ms of 80 ms itself. Earshot's own stalls are not excused:
    // both senders' pacing must stay ≤ 5 ms.
    @Test func rttIsTwiceTheInjectedOneWayDelay() throws {
        let scratch = try ScratchDirectory(prefix: "netns-delay")
        let links = ["a:out", "a:in", "b:out", "b:in"]
        guard let run = try Self.undisturbedRun(scratch: scratch, name: "es-delay", links: ["a:delay=20ms", "b:delay=20ms"], heldOn: links,
                                                maximumLateUs: 20000, maximumPacingUs: 5000, seconds: 16, slots: (33, 32)) else { return }
        let (caller, callee, counters) = (run.caller, run.callee, run.counters)
        #expect(caller.string("status") == "passed")
        for link in links {
            #expect(counters.double("links.\(link).delay_ms") == 20)
            #expect((counters.int("links.\(link).delayed") ?? 0) > 700, "\(link) delayed the media: \(counters)")
        }
        let oneWayMs = 20.0 + 20.0
        let emulatorLateMs = Double(links.compactMap { counters.int("links.\($0).late_max_us") }.reduce(0, +)) / 1000
        let truth = (2 * oneWayMs)...(2 * oneWayMs + emulatorLateMs)
        for (side, report) in [("caller", caller), ("callee", callee)] {
            let rtt = try #require(report.double("directions.inbound.rtt_ms"), "\(side): no RTT")
            #expect((report.int("media.rtt.samples") ?? 0) >= 2, "\(side): \(report.value(at: "media.rtt") ?? "none")")
            let best = try #require(report.double("media.rtt.min_ms"))
            #expect(abs(best - 2 * oneWayMs) <= 3, "\(side) smallest RTT sample \(best) ms, injected 2 × \(oneWayMs) ms")
            for (name, value) in [("mean", rtt), ("min", try #require(report.double("media.rtt.min_ms"))),
                                  ("max", try #require(report.double("media.rtt.max_ms")))] {
                #expect(value >= truth.lowerBound - 3 && value <= truth.upperBound + 3,
                        "\(side) RTT \(name) \(value) ms, injected 2 × \(oneWayMs) ms (+ emulator lateness ≤ \(emulatorLateMs) ms)")
            }
            #expect(report.int("directions.inbound.packets_lost") == 0)
            print("netns delay: \(side) RTT mean \(rtt) ms, min \(report.double("media.rtt.min_ms") ?? -1), max \(report.double("media.rtt.max_ms") ?? -1), samples \(report.int("media.rtt.samples") ?? -1); truth \(truth)")
        }
    }

    // Injected jitter on the a→b direction only (b:in): every packet held 30 ± 7 ms, uniform.
    // The delay spread (W = 14 ms) is below the 20 ms packet spacing, so nothing is reordered and
    // consecutive transit differences D are X − Y with X, Y independent U(0, W):
    // E|D| = W/3 = 4.67 ms. RFC 3550 §6.4.1 / A.8 J += (|D| − J)/16 is an exponential average of
    // |D|, so its mean over the call (jitter_mean_ms) tends to E|D| = 4.67 ms (less ≈1.6 % for the
    // start from 0 over ~1,250 packets). The untouched b→a direction is the baseline (≈ 0).
    // MOS-CQ follows the E-model: `earshot mos` on the report's own inputs gives the same score.
    @Test func jitterRisesAsTheModelSaysAndMOSFollowsTheEModel() throws {
        let scratch = try ScratchDirectory(prefix: "netns-jitter")
        // Stalls that would break the assertions: a sender more than 6 ms late narrows a 20 ms
        // spacing below the 14 ms spread (reordering); an emulator release more than 46 ms late
        // can fall behind the 60 ms jitter buffer (23 + 60 > 37 + 46). Gate at 5 ms and 20 ms.
        // A stall of s ms adds about 2s to the sum of |D| over ~1,250 packets: 20 ms moves
        // the mean by 0.03 ms, well inside the tolerance.
        guard let run = try Self.undisturbedRun(scratch: scratch, name: "es-jitter", links: ["b:delay=30ms,jitter=7ms,dir=in"],
                                                heldOn: ["b:in"], maximumLateUs: 20000, maximumPacingUs: 5000, seconds: 25, slots: (35, 34)) else { return }
        let (caller, callee) = (run.caller, run.callee)
        #expect(caller.string("status") == "passed")
        let link = try #require(run.counters.value(at: "links.b:in") as? [String: Any])
        #expect(link.int("delayed") == link.int("seen"), "every packet into site-b was held 23–37 ms: \(link)")

        let expectedJitterMs = 14.0 / 3
        let jittered = try #require(callee.double("directions.inbound.jitter_mean_ms"))
        let baseline = try #require(caller.double("directions.inbound.jitter_mean_ms"))
        #expect(abs(jittered - expectedJitterMs) <= 0.15 * expectedJitterMs,
                "a→b jitter mean \(jittered) ms, model E|D| = \(expectedJitterMs) ms (±15 %)")
        #expect(baseline < 1, "b→a (no jitter injected) \(baseline) ms")
        #expect(callee.int("directions.inbound.reordered") == 0)
        #expect(callee.int("directions.inbound.jb_discards") == 0, "a 14 ms spread fits the 60 ms jitter buffer")
        #expect(callee.int("directions.inbound.packets_lost") == 0)

        for (side, report) in [("caller", caller), ("callee", callee)] {
            let reported = try #require(report.double("directions.inbound.mos_cq"), "\(side): no MOS-CQ \(report.value(at: "directions.inbound.notes") ?? "")")
            let recomputed = try NetnsTopology.mos(for: report, scratch: scratch)
            #expect(abs(reported - recomputed) <= 0.01, "\(side): reported MOS-CQ \(reported), earshot mos gives \(recomputed)")
            print("netns jitter: \(side) inbound jitter mean \(report.double("directions.inbound.jitter_mean_ms") ?? -1) ms max \(report.double("directions.inbound.jitter_max_ms") ?? -1), RTT \(report.double("directions.inbound.rtt_ms") ?? -1), MOS-CQ \(reported) (earshot mos: \(recomputed))")
        }
    }

    /// A call a → b whose timing can be trusted, and the emulator's counters after it.
    ///
    /// Timing results are only as good as the processes that make them, on a machine whose CPU
    /// other work shares: a starved emulator releases held packets late, a starved Earshot sends
    /// late and timestamps arrivals late (one event loop does both). So each run is checked by
    /// evidence independent of what the tests assert — the emulator's own release lateness on
    /// the links that hold packets (`late_max_us`) and both senders' pacing against the 20 ms
    /// grid (the loop that sends also timestamps arrivals and answers RTCP), at most
    /// `maximumLateUs` and `maximumPacingUs`, no skipped ticks — and a disturbed run is repeated on a fresh topology,
    /// at most 3 times. Every disturbed run is printed; when all are disturbed the test fails
    /// (an issue is recorded) without judging Earshot. The emulator (netns --rt-priority) and
    /// Earshot (`NetnsTopology.realTime`) run at real-time priority to make that rare.
    static func undisturbedRun(scratch: ScratchDirectory, name: String, links: [String], heldOn: [String], maximumLateUs: Int, maximumPacingUs: Int,
                               seconds: Int, slots: (caller: Int, callee: Int))
        throws -> (caller: [String: Any], callee: [String: Any], counters: [String: Any])? {
        var reasons: [String] = []
        for attempt in 1...3 {
            let net = try NetnsTopology(name: name, links: links, scratch: scratch)
            defer { net.down() }
            let (caller, callee) = try net.call(from: .a, to: .b, seconds: seconds, callerPorts: Earshot.rtpPorts(slots.caller),
                                                calleePorts: Earshot.rtpPorts(slots.callee))
            let counters = try #require(try net.counters())
            var disturbed: [String] = []
            for link in heldOn {
                let late = counters.int("links.\(link).late_max_us") ?? Int.max
                if late > maximumLateUs { disturbed.append("emulator released a packet on \(link) \(late) µs late") }
            }
            for (side, report) in [("caller", caller), ("callee", callee)] {
                let pacing = report.int("media.sent.pacing_lateness_us.max") ?? Int.max
                if pacing > maximumPacingUs { disturbed.append("\(side) sent a packet \(pacing) µs late") }
                if report.int("media.sent.skipped_ticks") != 0 { disturbed.append("\(side) skipped ticks") }
            }
            if disturbed.isEmpty { return (caller, callee, counters) }
            reasons.append("run \(attempt): \(disturbed.joined(separator: "; "))")
            print("netns \(name): disturbed \(reasons.last ?? "")")
        }
        Issue.record("every run was disturbed (the machine is too busy to time a network): \(reasons.joined(separator: " | "))")
        return nil
    }

    // Injected reordering on a→b: packets held 30 ms, but 25 % of them pass at once (netem's
    // reorder), overtaking the packet sent 20 ms before, which then arrives 10 ms after its
    // successor. Reordering is not loss, and a 60 ms jitter buffer plays every packet in order.
    @Test func reorderingIsNotLossAndTheJitterBufferPlaysEveryPacket() throws {
        let scratch = try ScratchDirectory(prefix: "netns-reorder")
        let net = try NetnsTopology(name: "es-reorder", links: ["b:delay=30ms,reorder=25%,dir=in"], scratch: scratch)
        defer { net.down() }
        let (caller, callee) = try net.call(from: .a, to: .b, seconds: 10, callerPorts: Earshot.rtpPorts(39),
                                            calleePorts: Earshot.rtpPorts(38))
        #expect(caller.string("ending.cause") == "normal")
        let link = try #require(try net.counters()?.value(at: "links.b:in") as? [String: Any])
        let bypassed = try #require(link.int("reorder_bypassed"))
        let reordered = try #require(callee.int("directions.inbound.reordered"))
        let received = try #require(callee.int("directions.inbound.packets_received"))
        // Each bypass makes at most one packet late (the one sent 20 ms earlier, held 30 ms);
        // bypasses of SIP/RTCP packets or of two packets in a row make none.
        #expect(reordered > 0 && reordered <= bypassed, "Earshot counted \(reordered) reordered, the emulator bypassed \(bypassed)")
        #expect(callee.int("directions.inbound.packets_lost") == 0)
        #expect(callee.int("directions.inbound.duplicates") == 0)
        #expect(callee.int("directions.inbound.jb_discards") == 0)
        #expect(callee.int("directions.inbound.jitter_buffer.jb_played") == received)
        // Reordered packets are played by the jitter buffer, so the audio check (a 4-slot reorder
        // window in RTPReceiver) hears the tone in every received frame.
        #expect(callee.int("directions.inbound.audio.tracker.frames_with_tone") == received,
                "\(callee.value(at: "directions.inbound.audio.tracker") ?? "")")
        #expect(callee.bool("directions.inbound.audio_ok") == true)
        #expect(callee.string("status") == "passed")
        print("netns reorder: emulator bypassed \(bypassed) of \(link.int("seen") ?? -1); Earshot reordered \(reordered), received \(received), lost \(callee.int("directions.inbound.packets_lost") ?? -1), jb played \(callee.int("directions.inbound.jitter_buffer.jb_played") ?? -1), tone frames \(callee.int("directions.inbound.audio.tracker.frames_with_tone") ?? -1)/\(callee.int("directions.inbound.audio.tracker.frames") ?? -1), audio_ok \(callee.bool("directions.inbound.audio_ok") ?? false)")
    }

    // A caller behind site-c's NAT (private 192.168.203.2, public 10.201.0.1) calls earshot
    // answer in site-a. Its SDP names the private address, which the router drops (unsolicited
    // inbound to the NAT): media reaches it only because the answerer latches onto the source
    // its RTP and RTCP come from (symmetric RTP / comedia). A cone NAT keeps the source port; a
    // symmetric one (SNAT --random-fully) rewrites it, so only latching can find it.
    @Test(arguments: ["cone", "symmetric"])
    func callerBehindNATGetsMediaBothWays(natType: String) throws {
        let scratch = try ScratchDirectory(prefix: "netns-nat")
        let net = try NetnsTopology(name: "es-nat-\(natType)", links: [], options: ["--nat-type", natType], scratch: scratch)
        defer { net.down() }
        // 12 s: RTCP goes out at U(0.5, 1.5) × 2.5 s, then × 5 s (RFC 3550 §6.3.1); the answerer's
        // RTCP reaches the caller only once the caller's first RTCP latched it (≤ 3.75 s), so its
        // second report (≤ 11.25 s) is the first one sure to arrive.
        let (caller, callee) = try net.call(from: .c, to: .a, seconds: 12, callerPorts: Earshot.rtpPorts(37),
                                            calleePorts: Earshot.rtpPorts(36))
        #expect(caller.int("exit_code") == 0, "earshot call exits 0: completed with media both ways")
        #expect(caller.string("status") == "passed")
        #expect(callee.string("status") == "passed")
        #expect(callee.string("ending.cause") == "normal")
        for (side, report) in [("caller", caller), ("callee", callee)] {
            #expect((report.int("directions.inbound.packets_received") ?? 0) > 550, "\(side) received media")
            #expect(report.bool("directions.inbound.audio_ok") == true, "\(side) heard the other's tone")
            #expect((report.int("directions.outbound.reports_received") ?? 0) >= 1, "\(side) got the other's RTCP")
        }
        // The answerer sends to the NAT's public address, the source its RTP came from.
        let latched = try #require(callee.string("media.session.latched_source"))
        #expect(latched.hasPrefix("\(net.natPublicIP):"), "latched \(latched)")
        #expect(callee.string("media.session.remote") == latched)
        #expect(callee.string("media.session.rtcp_remote")?.hasPrefix("\(net.natPublicIP):") == true)
        let privatePort = try #require(caller.int("media.session.rtp_port"))
        let publicPort = Int(latched.split(separator: ":").last ?? "")
        if natType == "cone" {
            #expect(publicPort == privatePort, "a cone NAT keeps the source port")
        } else {
            #expect(publicPort != privatePort, "a symmetric NAT rewrites the source port")
        }
        print("netns NAT \(natType): caller RTP port \(privatePort), callee latched \(latched); caller received \(caller.int("directions.inbound.packets_received") ?? -1), callee received \(callee.int("directions.inbound.packets_received") ?? -1)")
    }
}

enum Statistics {
    /// z for a two-sided 99 % interval.
    static let z99 = 2.5758293035489004

    /// Wilson score interval for a binomial proportion k/n (Wilson 1927):
    /// (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
    static func wilson(successes k: Int, trials n: Int, z: Double = z99) -> ClosedRange<Double> {
        let trials = Double(n), p = Double(k) / trials, z2 = z * z
        let center = (p + z2 / (2 * trials)) / (1 + z2 / trials)
        let half = z * (p * (1 - p) / trials + z2 / (4 * trials * trials)).squareRoot() / (1 + z2 / trials)
        return (center - half)...(center + half)
    }
}

extension NetnsTopology {
    /// Earshot runs at SCHED_FIFO priority 40 (below the emulator's 50, see `netns --rt-priority`)
    /// when chrt is there: these tests measure the emulated network, and on a shared 2-core
    /// machine a normal-priority process sends and timestamps packets up to tens of ms late
    /// whenever other work (a build) holds the CPU. A test agent on its own host does not see
    /// that; the reports' pacing lateness shows what is left (`undisturbedRun`).
    static let realTime: [String] = FileManager.default.isExecutableFile(atPath: "/usr/bin/chrt") ? ["/usr/bin/chrt", "-f", "40"] : []
    /// Namespaces need root; the script needs iproute2, iptables and python3 (the emulator).
    static let available = getuid() == 0 && FileManager.default.isExecutableFile(atPath: ip)
        && Harness.installed("iptables") && Harness.installed("python3")

    convenience init(name: String, links: [String], options: [String] = [], scratch: ScratchDirectory) throws {
        try self.init(script: Harness.script("netns"), name: name, links: links, options: options, scratch: scratch)
    }

    /// `earshot answer --format json --calls 1` listening on UDP 5060 in `callee`'s namespace,
    /// and `earshot call --format json` for `seconds` from `caller`'s namespace to it, run to completion
    /// (bounded). Returns the caller's report (with its exit code added as "exit_code") and the
    /// callee's.
    func call(from caller: Site, to callee: Site, seconds: Int, callerPorts: String, calleePorts: String) throws
        -> (caller: [String: Any], callee: [String: Any]) {
        let binary = try Harness.earshotBinary()
        let answer = try Harness.start(Self.ip, ["netns", "exec", namespace(callee)] + Self.realTime + [binary, "answer", "--format", "json",
                                                 "--listen", "\(address(callee)):5060", "--transport", "udp", "--calls", "1",
                                                 "--rtp-ports", calleePorts],
                                       in: scratch, name: "answer", ready: "{", timeout: 30).waitingForEvent("ready", timeout: 30)
        let timeout = Double(seconds + 60)
        let call = try Self.run(Self.ip, ["netns", "exec", namespace(caller)] + Self.realTime + [binary, "call", "sip:bob@\(address(callee)):5060",
                                          "--listen", "\(address(caller)):0", "--duration", "\(seconds)s", "--rtp-ports", callerPorts,
                                          "--format", "json"], in: scratch, name: "call", timeout: timeout)
        try #require(call.hasExited, "earshot call did not finish in \(timeout) s\nstderr: \(call.errors)")
        var callerReport = try #require(Harness.jsonObject(call.output), "stdout: \(call.output)\nstderr: \(call.errors)")
        callerReport["exit_code"] = call.exitCode.map { NSNumber(value: $0) }
        try answer.waitingForEvent("call", timeout: 30)
        return (callerReport, try #require(answer.callReports.first, "\(answer.output)\n\(answer.errors)"))
    }

    /// MOS-CQ of `earshot mos` (the G.107 E-model, CLI) for the inputs a report's inbound
    /// direction was scored with: its effective loss (unique loss + jitter-buffer discards),
    /// burst ratio, RTCP round trip, jitter buffer and ptime.
    static func mos(for report: [String: Any], scratch: ScratchDirectory) throws -> Double {
        let inbound = "directions.inbound"
        let arguments = [
            "mos", "--codec", try #require(report.string("\(inbound).codec")),
            "--loss", "\(try #require(report.double("\(inbound).effective_loss_pct")))",
            "--burst-ratio", "\(try #require(report.double("\(inbound).burst_ratio")))",
            "--rtt", "\(try #require(report.double("\(inbound).rtt_ms")))",
            "--jb", "\(try #require(report.double("\(inbound).jb_ms")))",
            "--ptime", "\(try #require(report.int("\(inbound).ptime")))",
            "--format", "json",
        ]
        let process = try run(try Harness.earshotBinary(), arguments, in: scratch, name: "mos", timeout: 30)
        let result = try #require(Harness.jsonObject(process.output), "earshot \(arguments.joined(separator: " ")): \(process.errors)")
        return try #require(result.double("mos_cq"), "\(result)")
    }

}
