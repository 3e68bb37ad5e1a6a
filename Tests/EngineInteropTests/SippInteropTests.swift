import Foundation
import InteropTestSupport
import Testing

/// Issue 3 proofs 1, 2, 5 and 6 (sipp side): Earshot against sipp (Debian `sip-tester`),
/// started by the project's own scripts/peers/sipp-uas and sipp-uac.
@Suite(.serialized) struct SippInteropTests {
    static let sippInstalled = Harness.shouldRun(Harness.installed("sipp"))

    // 1. earshot call → sipp UAS echoing RTP: completes, both directions measured, no loss.
    @Test(.enabled(if: sippInstalled, "sipp missing: run scripts/install-test-deps"))
    func callToSippEchoHasNoLossOnLoopback() throws {
        let scratch = try ScratchDirectory(prefix: "sipp-echo")
        let port = Harness.freePort()
        let uas = try Harness.start(Harness.script("sipp-uas"), ["--port", "\(port)", "--scenario", "echo", "--calls", "1",
                                                                "--logdir", scratch.path("uas")], in: scratch, name: "uas")
        let call = try Earshot.call(["sip:echo@127.0.0.1:\(port)", "--duration", "5s", "--expect-tone", "1750",
                                     "--rtp-ports", Earshot.rtpPorts(1), "--listen", "127.0.0.1:0", "--format", "json"],
                                    in: scratch, timeout: 60)
        let report = try #require(Harness.jsonObject(call.output), "stdout: \(call.output)\nstderr: \(call.errors)")
        #expect(call.exitCode == 0, "\(call.errors)")
        #expect(report.string("status") == "passed")
        #expect(report.string("ending.cause") == "normal")
        #expect(report.string("ending.by") == "local")
        // Our stream went out, was echoed, and came back whole: every packet we sent arrived.
        let sent = try #require(report.int("media.sent.packets"))
        let received = try #require(report.int("directions.inbound.packets_received"))
        #expect(sent >= 245 && sent <= 256, "5 s of 20 ms packets: \(sent)")
        #expect(received == report.int("directions.inbound.packets_expected"))
        #expect(report.int("directions.inbound.packets_lost") == 0)
        #expect(report.double("directions.inbound.loss_pct") == 0)
        // The echo returns our tone: the audio check passes in the direction that came back.
        #expect(report.bool("directions.inbound.audio_ok") == true)
        // DSCP: we mark EF; sipp echoes from a socket of its own with the default TOS, and we read
        // that back from the packets (IP_RECVTOS), so the two directions differ.
        #expect(report.int("media.sent.dscp_sent") == 46)
        #expect(report.int("directions.inbound.dscp_received") == 0)
        #expect(received >= sent - 3, "echoed \(received) of \(sent) (the last packets may still be in flight at BYE)")
        #expect((report.double("setup.invite_to_200_ms") ?? 1e9) < 1000)
        #expect(report.double("setup.answer_to_first_rtp_ms") != nil)
        #expect(uas.wait(seconds: 20))
        #expect(Harness.field("successful", inLineStarting: "RESULT", of: uas.output) == "1", "\(uas.output)")
    }

    // 2. sipp UAC playing G.711 from a pcap → earshot answer: sipp counts a successful call.
    @Test(.enabled(if: sippInstalled, "sipp missing: run scripts/install-test-deps"))
    func sippCallerSucceedsAgainstEarshotAnswer() throws {
        let scratch = try ScratchDirectory(prefix: "sipp-uac")
        let port = Harness.freePort()
        let answer = try Earshot.answer(["--listen", "127.0.0.1:\(port)", "--transport", "udp", "--calls", "1",
                                         "--expect-tone", "1000", "--rtp-ports", Earshot.rtpPorts(2)], in: scratch)
        let uac = try Harness.start(Harness.script("sipp-uac"), ["--target", "127.0.0.1:\(port)", "--to", "earshot", "--duration", "5",
                                                                "--logdir", scratch.path("uac")], in: scratch, name: "uac", ready: nil)
        #expect(uac.wait(seconds: 60))
        #expect(uac.exitCode == 0, "\(uac.output)\n\(uac.errors)")
        #expect(Harness.field("successful", inLineStarting: "RESULT", of: uac.output) == "1")
        #expect(Harness.field("failed", inLineStarting: "RESULT", of: uac.output) == "0")
        try answer.waitingForEvent("call", timeout: 20)
        let report = try #require(answer.callReports.first)
        #expect(report.string("role") == "callee")
        #expect(report.string("ending.cause") == "normal")
        #expect(report.string("ending.by") == "remote")
        // The pcap holds 4 s of PCMU at 20 ms: 200 packets, 1000 Hz.
        #expect(report.int("directions.inbound.packets_received") == 200)
        #expect(report.int("directions.inbound.packets_lost") == 0)
        #expect(report.bool("directions.inbound.audio_ok") == true)
        #expect(report.string("directions.inbound.codec") == "PCMU")
    }

    // 6 (sipp side). DTMF into a sipp echo comes back as the same digits.
    @Test(.enabled(if: sippInstalled, "sipp missing: run scripts/install-test-deps"))
    func dtmfEchoedBySippArrivesIntact() throws {
        let scratch = try ScratchDirectory(prefix: "sipp-dtmf")
        let port = Harness.freePort()
        let peer = try Harness.start(Harness.script("sipp-uas"), ["--port", "\(port)", "--scenario", "echo", "--calls", "1",
                                                          "--logdir", scratch.path("uas")], in: scratch, name: "uas")
        defer { peer.signal(SIGTERM) }
        let call = try Earshot.call(["sip:echo@127.0.0.1:\(port)", "--duration", "4s", "--dtmf", "123#", "--dtmf-delay", "500ms",
                                     "--expect-tone", "1750", "--rtp-ports", Earshot.rtpPorts(3), "--listen", "127.0.0.1:0",
                                     "--format", "json"], in: scratch, timeout: 60)
        let report = try #require(Harness.jsonObject(call.output), "\(call.errors)")
        #expect(report.string("dtmf_sent") == "123#")
        #expect(report.string("dtmf_received") == "123#")
    }
}

/// Issue 3 proof 5: RFC 4028 session timers against sipp UAS scenarios. Each runs for minutes
/// (the point is to outlive the interval), so they run in parallel with everything else.
@Suite struct SessionTimerInteropTests {
    static let sippInstalled = Harness.shouldRun(Harness.installed("sipp"))

    // 5a. Session-Expires 90, UPDATE allowed: refreshed by UPDATE, alive past 200 s.
    @Test(.enabled(if: sippInstalled, "sipp missing: run scripts/install-test-deps"))
    func refreshesByUpdateAndLivesPast200Seconds() throws {
        let scratch = try ScratchDirectory(prefix: "timer-update")
        let port = Harness.freePort()
        let peer = try Harness.start(Harness.script("sipp-uas"), ["--port", "\(port)", "--scenario", "timer-update", "--session-expires", "90",
                                                          "--calls", "1", "--logdir", scratch.path("uas")], in: scratch, name: "uas")
        defer { peer.signal(SIGTERM) }
        let call = try Earshot.call(["sip:timer@127.0.0.1:\(port)", "--duration", "205s", "--session-expires", "90",
                                     "--rtp-ports", Earshot.rtpPorts(4), "--listen", "127.0.0.1:0", "--format", "json"],
                                    in: scratch, timeout: 300)
        let report = try #require(Harness.jsonObject(call.output), "\(call.errors)")
        #expect(report.string("ending.cause") == "normal")
        #expect(report.string("ending.by") == "local")
        #expect((report.double("actual_duration_s") ?? 0) >= 200)
        #expect(report.int("session_timer.interval_s") == 90)
        #expect(report.bool("session_timer.we_refresh") == true)
        let refreshes = try #require(report.value(at: "session_timer.refreshes") as? [[String: Any]])
        // Refreshes at 45, 90, 135, 180 s: four UPDATEs, each answered 200.
        #expect(refreshes.count == 4)
        #expect(refreshes.allSatisfy { $0.string("method") == "UPDATE" && $0.int("status_code") == 200 })
        if let first = refreshes.first?.double("at_s") { #expect(abs(first - 45) < 2, "first refresh at \(first) s") }
    }

    // 5b. The peer's Allow has no UPDATE: refreshed by re-INVITE, the call lives.
    @Test(.enabled(if: sippInstalled, "sipp missing: run scripts/install-test-deps"))
    func refreshesByReInviteWithoutUpdate() throws {
        let scratch = try ScratchDirectory(prefix: "timer-noupdate")
        let port = Harness.freePort()
        let peer = try Harness.start(Harness.script("sipp-uas"), ["--port", "\(port)", "--scenario", "timer-noupdate", "--session-expires", "90",
                                                          "--calls", "1", "--logdir", scratch.path("uas")], in: scratch, name: "uas")
        defer { peer.signal(SIGTERM) }
        let call = try Earshot.call(["sip:timer@127.0.0.1:\(port)", "--duration", "120s", "--session-expires", "90",
                                     "--rtp-ports", Earshot.rtpPorts(5), "--listen", "127.0.0.1:0", "--format", "json"],
                                    in: scratch, timeout: 240)
        let report = try #require(Harness.jsonObject(call.output), "\(call.errors)")
        #expect(report.string("ending.cause") == "normal")
        #expect((report.double("actual_duration_s") ?? 0) >= 119)
        #expect(report.string("session_timer.refresh_method") == "INVITE")
        let refreshes = try #require(report.value(at: "session_timer.refreshes") as? [[String: Any]])
        #expect(refreshes.count == 2)
        #expect(refreshes.allSatisfy { $0.string("method") == "INVITE" && $0.int("status_code") == 200 })
    }

    // 5c. The peer never answers refreshes: "session expired, refresh unanswered", at the time
    // RFC 4028 §10 gives the peer to give up (90 − min(32, 30) = 60 s after the answer).
    @Test(.enabled(if: sippInstalled, "sipp missing: run scripts/install-test-deps"))
    func unansweredRefreshIsReportedAsSessionExpiry() throws {
        let scratch = try ScratchDirectory(prefix: "timer-ignore")
        let port = Harness.freePort()
        let peer = try Harness.start(Harness.script("sipp-uas"), ["--port", "\(port)", "--scenario", "timer-ignore", "--session-expires", "90",
                                                          "--calls", "1", "--logdir", scratch.path("uas")], in: scratch, name: "uas")
        defer { peer.signal(SIGTERM) }
        let call = try Earshot.call(["sip:timer@127.0.0.1:\(port)", "--duration", "200s", "--session-expires", "90",
                                     "--rtp-ports", Earshot.rtpPorts(6), "--listen", "127.0.0.1:0", "--format", "json"],
                                    in: scratch, timeout: 240)
        let report = try #require(Harness.jsonObject(call.output), "\(call.errors)")
        #expect(call.exitCode == 1)
        #expect(report.string("status") == "failed")
        #expect(report.string("ending.cause") == "session_expired")
        #expect(report.string("ending.detail")?.hasPrefix("refresh UPDATE unanswered") == true, "\(report["ending"] ?? "")")
        let at = try #require(report.double("ending.at_ms")) / 1000
        // Our refresh went out at 45 s; the gateway gave up at 60 s (or, had it not, our UPDATE
        // transaction would have timed out at 45 + 32 = 77 s).
        #expect(at > 58 && at < 79, "ended at \(at) s")
    }

    // The other side of RFC 4028: sipp calls and refreshes by UPDATE; Earshot answers each
    // refresh with its Session-Expires and keeps the call.
    @Test(.enabled(if: sippInstalled, "sipp missing: run scripts/install-test-deps"))
    func answersRefreshesFromTheCaller() throws {
        let scratch = try ScratchDirectory(prefix: "timer-callee")
        let port = Harness.freePort()
        let answer = try Earshot.answer(["--listen", "127.0.0.1:\(port)", "--transport", "udp", "--calls", "1",
                                         "--rtp-ports", Earshot.rtpPorts(20)], in: scratch)
        let uac = try Harness.start(Harness.script("sipp-uac"), ["--target", "127.0.0.1:\(port)", "--to", "earshot", "--duration", "100",
                                                                "--session-expires", "90", "--refresh", "update",
                                                                "--logdir", scratch.path("uac")], in: scratch, name: "uac", ready: nil)
        #expect(uac.wait(seconds: 200))
        #expect(uac.exitCode == 0, "\(uac.output)\n\(uac.errors)")
        #expect(Harness.field("refreshes", inLineStarting: "CALL", of: uac.output) == "2", "\(uac.output)")
        try answer.waitingForEvent("call", timeout: 20)
        let report = try #require(answer.callReports.first)
        #expect(report.string("ending.cause") == "normal")
        #expect(report.string("ending.by") == "remote")
        #expect(report.bool("session_timer.we_refresh") == false)
        let refreshes = try #require(report.value(at: "session_timer.refreshes") as? [[String: Any]])
        #expect(refreshes.count == 2)
        #expect(refreshes.allSatisfy { $0.string("method") == "UPDATE" && $0.string("direction") == "received" })
    }

    // The caller stops refreshing: Earshot (not the refresher) sends BYE at
    // 90 − min(32, 90/3) = 60 s (RFC 4028 §10) and reports "no refresh received".
    @Test(.enabled(if: sippInstalled, "sipp missing: run scripts/install-test-deps"))
    func hangsUpWhenTheRefresherStopsRefreshing() throws {
        let scratch = try ScratchDirectory(prefix: "timer-norefresh")
        let port = Harness.freePort()
        let answer = try Earshot.answer(["--listen", "127.0.0.1:\(port)", "--transport", "udp", "--calls", "1",
                                         "--rtp-ports", Earshot.rtpPorts(21)], in: scratch)
        let uac = try Harness.start(Harness.script("sipp-uac"), ["--target", "127.0.0.1:\(port)", "--to", "earshot", "--duration", "120",
                                                                "--session-expires", "90", "--refresh", "none", "--expect-remote-bye",
                                                                "--logdir", scratch.path("uac")], in: scratch, name: "uac", ready: nil)
        #expect(uac.wait(seconds: 200))
        #expect(uac.exitCode == 0, "sipp succeeds only when the far end hangs up: \(uac.output)\n\(uac.errors)")
        try answer.waitingForEvent("call", timeout: 20)
        let report = try #require(answer.callReports.first)
        #expect(report.string("ending.cause") == "session_expired")
        #expect(report.string("ending.detail") == "no refresh received")
        let at = try #require(report.double("ending.at_ms")) / 1000
        #expect(at > 59 && at < 62, "BYE at \(at) s")
    }
}
