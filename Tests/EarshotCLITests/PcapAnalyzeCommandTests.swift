import ArgumentParser
import Foundation
import Pcap
import RTPAnalysis
import RTPCore
import Testing

@testable import EarshotCLI

/// `earshot pcap analyze`, run as the built binary on synthetic captures (exit codes, stdout,
/// stderr), and parsed in-process for the option checks.
@Suite struct PcapAnalyzeCommandTests {
    static let source = IPEndpoint(.v4(IPv4Address(192, 0, 2, 10)), 40000)
    static let destination = IPEndpoint(.v4(IPv4Address(198, 51, 100, 20)), 50000)

    /// 100 PCMU packets of 20 ms from sequence number 500; 10, 11 and 12 lost; 60 sent twice.
    /// Plus one DNS-like datagram and one TCP-less ICMP-free oddity: a UDP datagram of 3 bytes.
    static func capture() throws -> [UInt8] {
        var writer = PcapWriter(linkType: .ethernet, precision: .microseconds)
        let start = CaptureTimestamp(seconds: 1_700_000_000)
        var frames: [(Int64, [UInt8])] = []
        for index in 0..<100 where !(10...12).contains(index) {
            let packet = RTPPacket(payloadType: 0, sequenceNumber: UInt16(500 + index), timestamp: UInt32(160 * index),
                                   ssrc: 0xCAFE_F00D, marker: index == 0, payload: [UInt8](repeating: 0xFF, count: 160)).encoded()
            frames.append((Int64(index) * 20_000, packet))
            if index == 60 { frames.append((Int64(index) * 20_000 + 1_000, packet)) }
        }
        frames.append((5_000, [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x77, 0x77, 0, 0, 1, 0, 1]))
        frames.append((7_000, [1, 2, 3]))
        for (offset, payload) in frames.sorted(by: { $0.0 < $1.0 }) {
            let isRTP = payload.count > 100
            try writer.writeUDP(from: isRTP ? source : IPEndpoint(source.address, 5353), to: isRTP ? destination : IPEndpoint(destination.address, 53),
                                payload: payload, at: start.advanced(by: .microseconds(offset)))
        }
        return writer.bytes
    }

    final class Scratch {
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-cli-pcap-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: url) }
        func write(_ bytes: [UInt8], _ name: String) throws -> String {
            let path = url.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try MOSCommandTests.runBinary(["pcap", "analyze"] + arguments)
    }

    // MARK: the built binary

    @Test func jsonFields() throws {
        let scratch = try Scratch()
        let path = try scratch.write(try Self.capture(), "call.pcap")
        let run = try Self.run([path, "--format", "json"])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["file"] as? String == path)
        #expect(object["format"] as? String == "pcap")
        let streams = try #require(object["streams"] as? [[String: Any]])
        #expect(streams.count == 1)
        let stream = try #require(streams.first)
        #expect(stream["ssrc"] as? String == "0xcafef00d")
        #expect(stream["ssrc_number"] as? Int == 0xCAFE_F00D)
        #expect(stream["src"] as? String == "192.0.2.10:40000")
        #expect(stream["dst"] as? String == "198.51.100.20:50000")
        #expect(stream["payload_type"] as? Int == 0)
        #expect(stream["codec"] as? String == "PCMU")
        #expect(stream["clock_rate"] as? Int == 8000)
        #expect(stream["packets"] as? Int == 98)
        #expect(stream["packets_received"] as? Int == 97)
        #expect(stream["packets_expected"] as? Int == 100)
        #expect(stream["packets_lost"] as? Int == 3)
        #expect(stream["duplicates"] as? Int == 1)
        #expect(stream["reordered"] as? Int == 0)
        #expect(stream["loss_pct"] as? Double == 3)
        #expect(stream["max_delta_ms"] as? Double == 80)
        #expect(stream["max_burst"] as? Int == 3)
        // One run of 3 in 100: BurstR = 3 × 0.97.
        #expect(abs((stream["burst_ratio"] as? Double ?? 0) - 2.91) < 1e-9)
        #expect(stream["jitter_max_ms"] as? Double != nil)
        #expect(stream["first_packet_time"] as? String == "2023-11-14T22:13:20.000000Z")
        #expect(stream["mos_lq"] as? Double != nil)
        #expect(stream["mos_cq"] is NSNull)
        #expect(stream["r_factor"] is NSNull)
        #expect(stream["rtt_ms"] is NSNull)
        let tally = try #require(object["tally"] as? [String: Any])
        #expect(tally["packets"] as? Int == 100)
        #expect(tally["udp_datagrams"] as? Int == 100)
        #expect(tally["rtp_packets"] as? Int == 98)
        #expect(tally["non_rtp_udp"] as? Int == 2)
        #expect(tally["rtcp_packets"] as? Int == 0)
        #expect(tally["set_aside"] as? Int == 0)
    }

    @Test func textTable() throws {
        let scratch = try Scratch()
        let path = try scratch.write(try Self.capture(), "call.pcap")
        let run = try Self.run([path])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "\(path) (pcap): 1 RTP stream")
        let header = try #require(lines.first { $0.hasPrefix("SSRC") })
        for column in ["source → destination", "PT", "codec", "pkts", "lost", "dup", "max Δ ms", "jitter ms mean/max", "MOS-LQ", "MOS-CQ"] {
            #expect(header.contains(column), "\(column)")
        }
        let row = try #require(lines.first { $0.hasPrefix("0xcafef00d") })
        #expect(row.contains("192.0.2.10:40000 → 198.51.100.20:50000"))
        #expect(row.contains("PCMU"))
        #expect(row.contains("3 (3.00%)"))
        #expect(row.contains("80.000"))
        #expect(lines.contains("capture: 100 packets; 100 UDP: 98 RTP in 1 stream, 0 RTCP, 2 other UDP"))
        #expect(lines.contains("  0xcafef00d: no MOS-CQ: no RTCP report block about this SSRC with a round trip (LSR/DLSR)"))
    }

    @Test func notACaptureExitsOne() throws {
        let scratch = try Scratch()
        let path = try scratch.write(Array("hello, world\n".utf8), "notes.txt")
        let run = try Self.run([path])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "error: \(path): not a pcap or pcapng file (magic 0x68656c6c) at offset 0\n")
    }

    @Test func aCutFileHeaderExitsOneAndAMissingFileToo() throws {
        let scratch = try Scratch()
        let path = try scratch.write(Array(try Self.capture().prefix(10)), "cut.pcap")
        let cut = try Self.run([path])
        #expect(cut.status == 1)
        #expect(cut.stderr == "error: \(path): the file header is cut short (10 bytes) at offset 0\n")
        let missing = try Self.run([scratch.url.appendingPathComponent("absent.pcap").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: cannot read "))
    }

    @Test func aCaptureCutInsideARecordIsAnalysedUpToTheCut() throws {
        let scratch = try Scratch()
        let bytes = try Self.capture()
        let path = try scratch.write(Array(bytes.dropLast(50)), "killed.pcap")
        let run = try Self.run([path, "--format", "json"])
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let tally = try #require(object["tally"] as? [String: Any])
        #expect(tally["truncated_records_at_end"] as? Int == 1)
        #expect(tally["packets"] as? Int == 99)
    }

    @Test func malformedClockExitsTwo() throws {
        let scratch = try Scratch()
        let path = try scratch.write(try Self.capture(), "call.pcap")
        let run = try Self.run([path, "--clock", "96=abc"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "error: --clock: 'abc' in '96=abc' is not a clock rate, and its clock is unknown: "
                + "write PT=RATE (96=8000), PT=NAME/RATE (97=opus/48000) or PT=telephone-event\n")
    }

    // MARK: options, in-process

    static func command(_ arguments: [String]) throws -> PcapAnalyzeCommand {
        try #require(try Earshot.parseAsRoot(["pcap", "analyze"] + arguments) as? PcapAnalyzeCommand)
    }

    @Test(arguments: [
        ["--port", "0"], ["--port", "65536"], ["--port", "http"], ["--clock", "96"], ["--clock", "200=8000"],
        ["--clock", "96=8000", "--clock", "96=16000"], ["--jb", "-5"], ["--jb", "soon"], ["--min-packets", "0"],
        ["--format", "xml"],
    ])
    func badOptionsAreUsageErrors(_ arguments: [String]) throws {
        let command = try Self.command(["capture.pcap"] + arguments)
        do {
            _ = try command.output()
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(error.code == 2, "\(arguments): \(error.message)")
        }
    }

    @Test func optionsBecomeTheConfiguration() throws {
        let configuration = try Self.command(["x.pcap", "--port", "16000", "--clock", "96=8000", "--clock", "101=telephone-event",
                                              "--jb", "80ms", "--plc", "--min-packets", "3"]).analyzerConfiguration()
        #expect(configuration.port == 16000)
        #expect(configuration.payloadTypes.meaning(of: 96)?.clockRate == 8000)
        #expect(configuration.payloadTypes.meaning(of: 101)?.isTelephoneEvent == true)
        #expect(configuration.jitterBufferMs == 80)
        #expect(configuration.concealment)
        #expect(configuration.detection.minimumPackets == 3)
        let defaults = try Self.command(["x.pcap"]).analyzerConfiguration()
        #expect(defaults.port == nil)
        #expect(defaults.jitterBufferMs == 60)
        #expect(!defaults.concealment)
        #expect(defaults.detection.minimumPackets == 5)
    }
}
