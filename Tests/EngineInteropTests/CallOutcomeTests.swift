import Foundation
import InteropTestSupport
import Testing

/// Endings other than a normal hang-up, each classified (issue 3: "every ending gets a
/// classified cause"), and OPTIONS sent and answered.
@Suite struct CallOutcomeTests {
    // Unanswered: the caller CANCELs after its no-answer timeout; the callee sees the CANCEL.
    @Test func unansweredCallIsCancelledAndClassifiedOnBothSides() throws {
        let scratch = try ScratchDirectory(prefix: "cancel")
        let port = Harness.freePort()
        let answer = try Earshot.answer(["--listen", "127.0.0.1:\(port)", "--transport", "udp", "--ring", "30s", "--calls", "1",
                                         "--rtp-ports", Earshot.rtpPorts(15)], in: scratch)
        let call = try Earshot.call(["sip:bob@127.0.0.1:\(port)", "--no-answer-timeout", "2s", "--rtp-ports", Earshot.rtpPorts(16),
                                     "--listen", "127.0.0.1:0", "--format", "json"], in: scratch, timeout: 60)
        let report = try #require(Harness.jsonObject(call.output), "\(call.errors)")
        #expect(call.exitCode == 1)
        #expect(report.string("ending.cause") == "no_answer")
        #expect(report.double("setup.invite_to_180_ms") != nil)
        #expect(report.value(at: "setup.invite_to_200_ms") is NSNull)
        let lines = (report.value(at: "ladder.entries") as? [[String: Any]] ?? []).compactMap { $0.string("first_line") }
        #expect(lines.contains { $0.hasPrefix("CANCEL ") })
        #expect(lines.contains { $0.hasPrefix("SIP/2.0 487") })
        #expect(lines.contains { $0.hasPrefix("ACK ") }, "the 487 is ACKed by the INVITE transaction (§17.1.1.3)")
        try answer.waitingForEvent("call", timeout: 20)
        #expect(answer.callReports.first?.string("ending.cause") == "cancelled")
    }

    // Rejected: 486 is "busy", with the status in the ending.
    @Test func busyCalleeIsReportedAsBusy() throws {
        let scratch = try ScratchDirectory(prefix: "busy")
        let port = Harness.freePort()
        let answer = try Earshot.answer(["--listen", "127.0.0.1:\(port)", "--transport", "udp", "--reject", "486",
                                "--rtp-ports", Earshot.rtpPorts(17)], in: scratch)
        let call = try Earshot.call(["sip:bob@127.0.0.1:\(port)", "--rtp-ports", Earshot.rtpPorts(18), "--listen", "127.0.0.1:0",
                                     "--format", "json"], in: scratch, timeout: 60)
        let report = try #require(Harness.jsonObject(call.output), "\(call.errors)")
        #expect(call.exitCode == 1)
        #expect(report.string("status") == "failed")
        #expect(report.string("ending.cause") == "busy")
        #expect(report.int("ending.status") == 486)
        #expect(report.string("ending.reason") == "Busy Here")
        try answer.waitingForEvent("call", timeout: 10)
        #expect(answer.callReports.first?.int("ending.status") == 486)
    }

    // Nobody listening on TCP: a transport error, at once, not a hang.
    @Test func refusedConnectionIsATransportError() throws {
        let scratch = try ScratchDirectory(prefix: "refused")
        let port = Harness.freePort(udp: false)
        let call = try Earshot.call(["sip:bob@127.0.0.1:\(port);transport=tcp", "--rtp-ports", Earshot.rtpPorts(18),
                                     "--listen", "127.0.0.1:0", "--format", "json"], in: scratch, timeout: 30)
        let report = try #require(Harness.jsonObject(call.output), "\(call.errors)")
        #expect(call.exitCode == 1)
        #expect(report.string("ending.cause") == "transport_error")
    }

    // OPTIONS sent by `earshot options`, answered by `earshot answer` with Allow/Supported/Accept.
    @Test func optionsPingReportsWhatThePeerAdvertises() throws {
        let scratch = try ScratchDirectory(prefix: "options")
        let port = Harness.freePort()
        let answer = try Earshot.answer(["--listen", "127.0.0.1:\(port)", "--transport", "udp", "--rtp-ports", Earshot.rtpPorts(19)],
                                        in: scratch)
        defer { answer.signal(SIGTERM) }
        let ping = try SpawnedProcess(try Harness.earshotBinary(), ["options", "sip:127.0.0.1:\(port)", "--listen", "127.0.0.1:0",
                                                                    "--rtp-ports", Earshot.rtpPorts(19), "--format", "json"],
                                      outputPath: scratch.path("options.out"), errorPath: scratch.path("options.err"))
        #expect(ping.wait(seconds: 30))
        #expect(ping.exitCode == 0, "\(ping.errors)")
        let result = try #require(Harness.jsonObject(ping.output), "\(ping.output)\n\(ping.errors)")
        #expect(result.int("status_code") == 200)
        #expect(result.value(at: "allow") as? [String] == ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "INFO"])
        #expect(result.value(at: "supported") as? [String] == ["timer"])
        #expect(result.value(at: "accept") as? [String] == ["application/sdp"])
        #expect((result.double("rtt_ms") ?? 1e9) < 1000)

        // Nobody there: a timeout with a clear detail (T1 shortened so the test is quick).
        let silent = Harness.freePort()
        let lost = try SpawnedProcess(try Harness.earshotBinary(), ["options", "sip:127.0.0.1:\(silent)", "--t1", "50ms",
                                                                    "--listen", "127.0.0.1:0", "--rtp-ports", Earshot.rtpPorts(19),
                                                                    "--format", "json"],
                                      outputPath: scratch.path("lost.out"), errorPath: scratch.path("lost.err"))
        #expect(lost.wait(seconds: 30))
        #expect(lost.exitCode == 1)
        #expect(Harness.jsonObject(lost.output)?.string("detail") == "no response (timeout)")
    }

    // The same call over UDP and TCP: completes with media both ways, the ladder shows the transport.
    @Test(arguments: [("udp", 22), ("tcp", 23)])
    func callOverEachTransport(transport: String, slot: Int) throws {
        let scratch = try ScratchDirectory(prefix: "transport-\(transport)")
        let port = transport == "udp" ? Harness.freePort() : Harness.freePort(udp: false)
        let answer = try Earshot.answer(["--listen", "127.0.0.1:\(port)", "--transport", transport, "--calls", "1",
                                         "--rtp-ports", Earshot.rtpPorts(slot)], in: scratch)
        let call = try Earshot.call(["sip:bob@127.0.0.1:\(port);transport=\(transport)", "--duration", "2s",
                                     "--rtp-ports", Earshot.rtpPorts(slot + 10), "--listen", "127.0.0.1:0", "--format", "json"],
                                    in: scratch, timeout: 60)
        let report = try #require(Harness.jsonObject(call.output), "\(call.errors)")
        #expect(call.exitCode == 0, "\(call.errors)")
        #expect(report.string("status") == "passed")
        #expect(report.string("transport") == transport)
        let entries = try #require(report.value(at: "ladder.entries") as? [[String: Any]])
        #expect(entries.allSatisfy { $0.string("transport") == transport })
        #expect(report.int("directions.inbound.packets_lost") == 0)
        try answer.waitingForEvent("call", timeout: 20)
        #expect(answer.callReports.first?.string("status") == "passed")
    }
}
