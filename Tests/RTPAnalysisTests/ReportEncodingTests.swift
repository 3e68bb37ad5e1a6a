import Foundation
import RTPAnalysis
import Testing

/// The JSON shape: DESIGN §2 names, explicit nulls, SSRC as text and number.
@Suite struct ReportEncodingTests {
    static func json(_ report: RTPAnalysisReport) throws -> [String: Any] {
        let data = try JSONEncoder().encode(report)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func streamFields() throws {
        let object = try Self.json(try analyze(Scenarios.capture(Scenarios.loss).pcap()))
        let streams = try #require(object["streams"] as? [[String: Any]])
        let stream = try #require(streams.first)
        #expect(stream["ssrc"] as? String == "0x11223344")
        #expect(stream["ssrc_number"] as? Int == 0x1122_3344)
        #expect(stream["src"] as? String == "192.0.2.10:40000")
        #expect(stream["src_addr"] as? String == "192.0.2.10")
        #expect(stream["src_port"] as? Int == 40000)
        #expect(stream["dst"] as? String == "198.51.100.20:50000")
        #expect(stream["payload_type"] as? Int == 0)
        #expect(stream["codec"] as? String == "PCMU")
        #expect(stream["clock_rate"] as? Int == 8000)
        #expect(stream["ptime"] as? Double == 20)
        #expect(stream["first_packet_time"] as? String == "2023-11-14T22:13:20.000000Z")
        #expect(stream["last_packet_time"] as? String == "2023-11-14T22:13:39.980000Z")
        #expect(stream["first_packet_epoch"] as? String == "1700000000.000000000")
        #expect(stream["duration_s"] as? Double == 19.98)
        #expect(stream["packets"] as? Int == 989)
        #expect(stream["packets_received"] as? Int == 989)
        #expect(stream["packets_expected"] as? Int == 1000)
        #expect(stream["packets_lost"] as? Int == 11)
        #expect(stream["duplicates"] as? Int == 0)
        #expect(stream["reordered"] as? Int == 0)
        #expect(isClose(stream["loss_pct"] as? Double, 1.1))
        #expect(stream["max_delta_ms"] as? Double == 120)
        #expect(stream["jitter_mean_ms"] as? Double == 0)
        #expect(stream["jitter_max_ms"] as? Double == 0)
        #expect(isClose(stream["burst_ratio"] as? Double, 2.71975))
        #expect(stream["max_burst"] as? Int == 5)
        #expect(stream["sequence_resyncs"] as? Int == 0)
        #expect(stream["jb_ms"] as? Double == 60)
        #expect(stream["jb_discards"] as? Int == 0)
        #expect(isClose(stream["effective_loss_pct"] as? Double, 1.1))
        #expect(isClose(stream["mos_lq"] as? Double, 3.6432285788602026, 1e-6))
        #expect(stream["dscp_received"] as? Int == 46)
        // No RTCP: the conversational fields are present and null.
        for key in ["mos_cq", "r_factor", "rtt_ms", "rtt_method", "one_way_ms", "impairments", "quality"] {
            #expect(stream.keys.contains(key), "\(key)")
            #expect(stream[key] is NSNull, "\(key)")
        }
        let impairments = try #require(stream["impairments_lq"] as? [String: Double])
        #expect(Set(impairments.keys) == ["Ro", "Is", "Iolr", "Ist", "Iq", "Id", "Idte", "Idle", "Idd", "Ie_eff", "A"])
        let eModel = try #require(stream["e_model"] as? [String: Any])
        let inputs = try #require(eModel["inputs"] as? [String: Any])
        #expect(inputs["packets_lost"] as? Int == 11)
        #expect(inputs["codec"] as? String == "PCMU")

        let tally = try #require(object["tally"] as? [String: Any])
        #expect(tally["packets"] as? Int == 989)
        #expect(tally["udp_datagrams"] as? Int == 989)
        #expect(tally["rtp_packets"] as? Int == 989)
        #expect(tally["rtcp_packets"] as? Int == 0)
        #expect(tally["non_rtp_udp"] as? Int == 0)
        #expect(tally["streams"] as? Int == 1)
        let settings = try #require(object["settings"] as? [String: Any])
        #expect(settings["jb_ms"] as? Double == 60)
        #expect(settings["port"] is NSNull)
    }

    @Test func roundTripFields() throws {
        let report = try analyze(RoundTripTests.capture(.init(oneWayFromA: 0)))
        let object = try Self.json(report)
        let stream = try #require((object["streams"] as? [[String: Any]])?.first)
        #expect(stream["rtt_method"] as? String == "capture_both_directions")
        #expect(isClose(stream["rtt_ms"] as? Double, 80, 1e-6))
        #expect(isClose(stream["one_way_ms"] as? Double, 40, 1e-6))
        #expect(stream["one_way_source"] as? String == "estimated_rtt_half")
        #expect(stream["rtt_samples"] as? Int == 2)
        #expect(isClose(stream["mos_cq"] as? Double, 4.345420344011318, 1e-6))
        #expect(stream["quality"] as? String == "best")
    }

    @Test func timesAreRFC3339InUTC() throws {
        var capture = SyntheticCapture()
        var stream = Scenarios.perfect
        stream.startMicroseconds = 86_400_000_000 * 366 + 1  // 366 days later (2024 is a leap year), 1 µs in
        capture.add(stream)
        let object = try Self.json(try analyze(capture.pcapng()))
        let first = try #require((object["streams"] as? [[String: Any]])?.first)
        #expect(first["first_packet_time"] as? String == "2024-11-14T22:13:20.000001Z")
    }
}
