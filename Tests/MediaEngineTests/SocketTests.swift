import Foundation
import InteropTestSupport
import MediaEngine
import RTPCore
import Testing

@Suite("Sockets: junk, latching, ports, IPv6, JSON")
struct SocketTests {
    /// Garbage from a raw loopback socket reaches a latched session: each datagram lands in
    /// its category and the call's statistics stay exactly what the peer sent.
    @Test func junkFromAnotherSocketIsCountedAndIgnored() async throws {
        let engine = try makeEngine(ports: 23040...23059)
        let a = try await engine.openSession()
        let b = try await engine.openSession()
        let c = try await engine.openSession()
        // A latches; C accepts any source (so payload type and SSRC checks are reached).
        try await engine.start(a, MediaParameters(remote: loopback(b.rtpPort), toneFrequency: 1750,
                                                  expectedRemoteToneFrequency: 1850, latchToSource: true))
        try await engine.start(b, MediaParameters(remote: loopback(a.rtpPort), toneFrequency: 1850, ssrc: 0xB0B))
        try await engine.start(c, MediaParameters(remote: loopback(b.rtpPort + 100), toneFrequency: 1950))
        #expect(try await eventually { try await engine.report(a).received.statistics.packetsReceived >= 10 })

        let raw = try #require(LoopbackSocket(ipv6: false))
        let valid = RTPPacket(payloadType: 0, sequenceNumber: 7, timestamp: 0, ssrc: 0xBAD,
                              payload: Array(repeating: 0xFF, count: 160)).encoded()
        var wrongVersion = valid
        wrongVersion[0] = 0x40
        #expect(raw.send(Array(repeating: 0x00, count: 50), to: a.rtpPort))        // garbage
        #expect(raw.send([0x80, 0x00, 0x01], to: a.rtpPort))                       // truncated RTP
        #expect(raw.send(wrongVersion, to: a.rtpPort))                             // version 1
        #expect(raw.send(valid, to: a.rtpPort))                                    // valid, unexpected source
        #expect(raw.send([0x80, 0xC8, 0x00, 0x06, 0, 0], to: a.rtcpPort))          // malformed RTCP

        // C: valid RTP from anywhere, but the payload type and then the SSRC must fit.
        var unknownType = valid
        unknownType[1] = 99
        #expect(raw.send(RTPPacket(payloadType: 0, sequenceNumber: 1, timestamp: 0, ssrc: 0xC1,
                                   payload: Array(repeating: 0xFF, count: 160)).encoded(), to: c.rtpPort))
        #expect(raw.send(unknownType, to: c.rtpPort))
        #expect(raw.send(valid, to: c.rtpPort))                                    // SSRC 0xBAD ≠ locked 0xC1

        #expect(try await eventually { try await engine.report(a).junk.total == 5 })
        #expect(try await eventually { try await engine.report(c).junk.total == 2 })

        try await engine.stopSending(b)
        let sentByB = try await engine.report(b).sent.packets
        #expect(try await eventually {
            try await engine.report(a).received.statistics.packetsReceived == sentByB
        })
        let ra = try await engine.stop(a)
        let rc = try await engine.stop(c)
        _ = try await engine.stop(b)
        #expect(ra.junk.wrongVersion == 2)
        #expect(ra.junk.truncated == 1)
        #expect(ra.junk.unexpectedSource == 1)
        #expect(ra.junk.malformedRTCP == 1)
        #expect(ra.junk.total == 5)
        #expect(ra.received.statistics.packetsReceived == sentByB)
        #expect(ra.received.statistics.packetsExpected == sentByB)
        #expect(ra.received.statistics.packetsLost == 0)
        #expect(ra.received.statistics.duplicates == 0)
        #expect(ra.received.statistics.packetsRejected == 0)
        #expect(ra.session.remoteSSRC == 0xB0B)
        #expect(ra.session.latchedSource == "127.0.0.1:\(b.rtpPort)")
        #expect(ra.received.audioOK)
        #expect(rc.junk.unknownPayloadType == 1)
        #expect(rc.junk.wrongSSRC == 1)
        #expect(rc.junk.total == 2)
        #expect(rc.session.remoteSSRC == 0xC1)
        #expect(rc.received.statistics.packetsReceived == 0)  // one packet: still on A.1 probation
        #expect(rc.received.statistics.packetsRejected == 1)
        await engine.shutdown()
    }

    /// A peer behind NAT: we were told one address, its packets come from another; with
    /// latching our RTP goes back to where its RTP came from.
    @Test func latchingAnswersTheActualSource() async throws {
        let engine = try makeEngine(ports: 23060...23079)
        let a = try await engine.openSession()
        let b = try await engine.openSession()
        let unused = try await engine.openSession()  // where A is told to send: nobody talks there
        try await engine.start(a, MediaParameters(remote: loopback(unused.rtpPort), toneFrequency: 1750,
                                                  expectedRemoteToneFrequency: 1850, latchToSource: true))
        try await engine.start(b, MediaParameters(remote: loopback(a.rtpPort), toneFrequency: 1850,
                                                  expectedRemoteToneFrequency: 1750))
        #expect(try await eventually { try await engine.report(b).received.statistics.packetsReceived >= 20 })
        let ra = try await engine.stop(a)
        let rb = try await engine.stop(b)
        let ru = try await engine.stop(unused)
        #expect(ra.session.remote == "127.0.0.1:\(b.rtpPort)")
        #expect(rb.received.audioOK)
        #expect(rb.received.statistics.packetsLost == 0)
        // Before B's first packet arrived, A sent to the address it was given (one loop: A's
        // first packet is due before B's, so there is at least one); the rest reached B.
        let stray = ra.sent.packets - rb.received.statistics.packetsReceived
        #expect(stray >= 1)
        #expect(ru.junk.beforeStart + ru.earlyPackets >= stray)  // plus any RTCP A sent there
        await engine.shutdown()
    }

    @Test func portsRunOutAndAreReused() async throws {
        let engine = try makeEngine(ports: 23080...23083)  // two pairs: 23080/1, 23082/3
        let first = try await engine.openSession()
        let second = try await engine.openSession()
        #expect([first.rtpPort, second.rtpPort] == [23080, 23082])
        #expect(first.rtcpPort == 23081)
        do {
            _ = try await engine.openSession()
            Issue.record("a third session must not find ports")
        } catch {
            #expect(error.code == .portsExhausted)
            #expect(error.message == "no free RTP/RTCP port pair in 23080-23083: 2 of 2 pairs in use by this engine")
        }
        _ = try await engine.stop(first)
        let third = try await engine.openSession()
        #expect(third.rtpPort == 23080)
        await #expect(throws: MediaEngineError.self) { try await engine.stop(first) }
        await engine.shutdown()
        await #expect(throws: MediaEngineError.self) { try await engine.openSession() }
    }

    @Test func refusedParametersSayWhy() async throws {
        let engine = try makeEngine(ports: 23130...23139)
        let a = try await engine.openSession()
        let cases: [(MediaParameters, MediaEngineError.Code, String)] = [
            (MediaParameters(remote: MediaEndpoint(host: "::1", port: 5004)!, toneFrequency: 1750), .invalidAddress,
             "a socket on 127.0.0.1 cannot send to [::1]:5004 (another address family)"),
            (MediaParameters(remote: loopback(5004), payloadType: 18, toneFrequency: 1750), .invalidParameters,
             "payload type 18 is not G.711 (0 PCMU or 8 PCMA)"),
            (MediaParameters(remote: loopback(5004), toneFrequency: 4000), .invalidParameters,
             "tone 4000 Hz: need 1...3999 Hz at 8 kHz"),
            (MediaParameters(remote: loopback(0), toneFrequency: 1750), .invalidParameters,
             "remote port 0 (a rejected or inactive stream)"),
        ]
        for (parameters, code, message) in cases {
            do {
                try await engine.start(a, parameters)
                Issue.record("accepted \(parameters)")
            } catch {
                #expect(error.code == code)
                #expect(error.message == message)
            }
        }
        await #expect(throws: MediaEngineError.self) { try await engine.sendDTMF(a, digits: "1") }
        for range: ClosedRange<UInt16> in [0...99, 23141...23141] {
            #expect(throws: MediaEngineError.self) { try makeEngine(ports: range) }
        }
        #expect(MediaEndpoint(host: "example.com", port: 5004) == nil)
        await engine.shutdown()
    }

    @Test func ipv6Loopback() async throws {
        let engine = try MediaEngine(configuration: MediaEngine.Configuration(
            portRange: 23100...23119, bindAddress: "::1", rtcpIntervalSeconds: 0.2, seed: 5))
        let a = try await engine.openSession()
        let b = try await engine.openSession()
        #expect(a.localAddress == "::1")
        try await engine.start(a, MediaParameters(remote: MediaEndpoint(host: "::1", port: b.rtpPort)!, payloadType: 8,
                                                  toneFrequency: 2250, expectedRemoteToneFrequency: 2350))
        try await engine.start(b, MediaParameters(remote: MediaEndpoint(host: "::1", port: a.rtpPort)!, payloadType: 8,
                                                  toneFrequency: 2350, expectedRemoteToneFrequency: 2250))
        #expect(try await eventually { try await engine.report(a).rtt.samples > 0 })
        let ra = try await engine.stop(a)
        let rb = try await engine.stop(b)
        #expect(ra.received.dscpReceived == 46)
        #expect(ra.received.codec == "PCMA")
        #expect(ra.received.audioOK)
        #expect(rb.received.audioOK)
        #expect(ra.session.remote == "[::1]:\(b.rtpPort)")
        await engine.shutdown()
    }

    /// The report's JSON: snake_case keys, nulls written out where nothing is known yet.
    @Test func reportEncodesWithExplicitNulls() async throws {
        let engine = try makeEngine(ports: 23120...23129)
        let a = try await engine.openSession()
        let report = try await engine.report(a)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any])
        #expect(json.keys.sorted() == ["early_packets", "junk", "received", "remote_view", "rtcp", "rtt", "sent", "session"])
        #expect(json["remote_view"] is NSNull)
        let received = try #require(json["received"] as? [String: Any])
        for key in ["codec", "rtt_ms", "one_way_ms", "one_way_source", "mos_cq", "mos_lq", "r_factor", "impairments",
                    "dscp_received", "first_packet_ms", "jitter_mean_ms", "e_model", "sender_reported_packets"] {
            #expect(received[key] is NSNull, "received.\(key)")
        }
        for key in ["packets_expected", "packets_received", "packets_lost", "duplicates", "reordered", "loss_pct",
                    "burst_ratio", "max_burst", "jitter_max_ms", "jb_discards", "effective_loss_pct", "audio_ok", "ptime",
                    "dtmf_digits_received", "dscp_values"] {
            #expect(received.keys.contains(key), "received.\(key)")
        }
        let sent = try #require(json["sent"] as? [String: Any])
        let pacing = try #require(sent["pacing_lateness_us"] as? [String: Any])
        #expect(pacing["count"] as? Int == 0)
        #expect(pacing["p99"] is NSNull)
        #expect(sent["dscp_sent"] as? Int == 46)
        let junk = try #require(json["junk"] as? [String: Any])
        #expect(junk.keys.sorted() == ["before_start", "malformed_event", "malformed_rtcp", "malformed_rtp", "oversize",
                                       "total", "truncated", "unexpected_source", "unknown_payload_type", "wrong_ssrc",
                                       "wrong_version"])
        await engine.shutdown()
    }
}
