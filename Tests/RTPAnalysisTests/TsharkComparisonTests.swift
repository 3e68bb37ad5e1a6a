import InteropTestSupport
import Foundation
import Pcap
import RTPAnalysis
import RTPCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The same captures through `RTPAnalyzer` and `tshark -z rtp,streams`.
///
/// Where both tools measure the same thing the same way they must agree: packets and lost
/// exactly; max delta and mean/max jitter to tshark's printed precision (3 decimals, so
/// ±0.0005 ms) — both use RFC 3550 A.8's J += (|D| − J)/16 and the same mean (J averaged over
/// every packet after the first). Where they differ by design (docs/pcap-analyze.md,
/// "Differences from tshark"), a test shows the difference with both numbers.
@Suite(.tags(.interop), .enabled(if: Tshark.available, Tshark.skipReason))
struct TsharkComparisonTests {
    /// tshark prints 3 decimals.
    static let printed = 0.0005 + 1e-9

    struct Compared {
        var ours: [RTPStreamReport]
        var theirs: [Tshark.Stream]
        var table: String
        var report: RTPAnalysisReport

        /// tshark's row for one of our streams.
        func their(_ stream: RTPStreamReport) throws -> Tshark.Stream {
            try #require(theirs.first {
                $0.ssrc == stream.key.ssrc && $0.sourcePort == stream.key.source.port && $0.destinationPort == stream.key.destination.port
                    && $0.source == stream.key.source.address.description
            }, "no tshark row for \(stream.key) in\n\(table)")
        }
    }

    static func compare(_ bytes: [UInt8], name: String, _ configuration: RTPAnalyzer.Configuration = .init()) throws -> Compared {
        let dir = try ScratchDirectory(prefix: "rtp-analysis")
        let path = try dir.write(bytes, to: name)
        let (theirs, table) = try Tshark.streams(path)
        let report = try analyze(bytes, configuration)
        return Compared(ours: report.streams, theirs: theirs, table: table, report: report)
    }

    /// The agreement expected where no design difference applies.
    static func expectAgreement(_ compared: Compared, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(compared.ours.count == compared.theirs.count, "\(compared.table)", sourceLocation: sourceLocation)
        for stream in compared.ours {
            let their = try compared.their(stream)
            #expect(their.packets == stream.packets, "\(their)", sourceLocation: sourceLocation)
            #expect(their.lost == stream.statistics.packetsLost, "\(their)", sourceLocation: sourceLocation)
            #expect(abs(their.maxDeltaMs - stream.statistics.maxDeltaMs) <= printed, "\(their)", sourceLocation: sourceLocation)
            #expect(isClose(stream.jitterMeanMs, their.meanJitterMs, printed), "\(their) vs \(stream.jitterMeanMs ?? -1)",
                    sourceLocation: sourceLocation)
            #expect(isClose(stream.jitterMaxMs, their.maxJitterMs, printed), "\(their) vs \(stream.jitterMaxMs ?? -1)",
                    sourceLocation: sourceLocation)
        }
    }

    // MARK: agreement

    @Test(arguments: ["perfect", "loss", "jitter", "wrap", "spike"])
    func singleStreamsAgree(_ name: String) throws {
        let stream = [
            "perfect": Scenarios.perfect, "loss": Scenarios.loss, "jitter": Scenarios.jitter, "wrap": Scenarios.wrap,
            "spike": Scenarios.spike,
        ][name]!
        let compared = try Self.compare(Scenarios.capture(stream).pcap(), name: "\(name).pcap")
        try Self.expectAgreement(compared)
        #expect(compared.theirs.first?.payload == "g711U", "\(compared.table)")
    }

    @Test func ipv6PcapngAgrees() throws {
        var stream = Scenarios.jitter
        stream.source = Hosts.a6
        stream.destination = Hosts.b6
        let compared = try Self.compare(Scenarios.capture(stream).pcapng(linkType: .linuxSLL), name: "ipv6.pcapng")
        try Self.expectAgreement(compared)
        #expect(compared.theirs.first?.source == "2001:db8::10", "\(compared.table)")
    }

    @Test func twoDirectionsWithRTCPAgree() throws {
        // RTCP is not RTP to either tool.
        let compared = try Self.compare(RoundTripTests.capture(.init(oneWayFromA: 15_000)), name: "rtcp.pcap")
        try Self.expectAgreement(compared)
        #expect(compared.ours.count == 2)
        #expect(compared.report.tally.rtcpPackets == 4)
    }

    // MARK: differences by design

    @Test func duplicatesHideLossFromTshark() throws {
        let compared = try Self.compare(Scenarios.capture(Scenarios.duplicates).pcap(), name: "duplicates.pcap")
        let ours = try #require(compared.ours.first)
        let their = try compared.their(ours)
        // Both see 300 arrivals; tshark counts them all as received: 300 expected − 300 = 0 lost.
        #expect(their.packets == 300)
        #expect(ours.packets == 300)
        #expect(their.lost == 0)
        #expect(ours.statistics.rfc3550CumulativeLost == their.lost)
        // Two sequence numbers never arrived.
        #expect(ours.statistics.packetsLost == 2)
        #expect(ours.statistics.duplicates == 2)
        // Timing agrees.
        #expect(abs(their.maxDeltaMs - ours.statistics.maxDeltaMs) <= Self.printed)
        #expect(isClose(ours.jitterMeanMs, their.meanJitterMs, Self.printed))
        #expect(isClose(ours.jitterMaxMs, their.maxJitterMs, Self.printed))
    }

    @Test func aSequenceRestartLooksLikeMassiveLossToTshark() throws {
        let compared = try Self.compare(Scenarios.restart().pcap(), name: "restart.pcap")
        let ours = try #require(compared.ours.first)
        let their = try compared.their(ours)
        #expect(their.packets == 200)
        // tshark: expected = last − first + 1 = 30099 − 1000 + 1 = 29100; lost = 29100 − 200.
        #expect(their.lost == 28_900)
        // RFC 3550 A.1: a re-sync; nothing was lost.
        #expect(ours.statistics.packetsLost == 0)
        #expect(ours.statistics.sequenceResyncs == 1)
        #expect(abs(their.maxDeltaMs - ours.statistics.maxDeltaMs) <= Self.printed)
    }

    @Test func aReorderedPacketInTheJitter() throws {
        let compared = try Self.compare(Scenarios.capture(Scenarios.reorder).pcap(), name: "reorder.pcap")
        let ours = try #require(compared.ours.first)
        let their = try compared.their(ours)
        #expect(their.packets == 300)
        #expect(their.lost == 0)
        #expect(ours.statistics.packetsLost == 0)
        #expect(ours.statistics.reordered == 1)
        #expect(abs(their.maxDeltaMs - ours.statistics.maxDeltaMs) <= Self.printed)
        // RFC 3550 A.8 in arrival order (the Python reference of StreamStatisticsTests: rfc).
        #expect(isClose(ours.jitterMeanMs, 0.20066874551110758))
        #expect(isClose(ours.jitterMaxMs, 3.6328125))
        // Wireshark 4.0 does the same. Its current source (ui/tap-rtp-analysis.c) measures a
        // late packet against the last packet in timestamp order and leaves it out of the
        // mean and max (the reference's `tshark`): either is accepted, nothing else.
        let sameAsOurs = isClose(ours.jitterMeanMs, their.meanJitterMs, Self.printed) && isClose(ours.jitterMaxMs, their.maxJitterMs, Self.printed)
        let newerWireshark = abs(their.meanJitterMs - 0.09406347217793909) <= Self.printed && abs(their.maxJitterMs - 1.7578125) <= Self.printed
        #expect(sameAsOurs || newerWireshark, "\(their)")
    }

    @Test func tsharkHasNoClockForAnUnmappedDynamicPayloadType() throws {
        let bytes = try Scenarios.capture(ClassificationTests.dynamic).pcap()
        let compared = try Self.compare(bytes, name: "dynamic.pcap")
        let ours = try #require(compared.ours.first)
        let their = try compared.their(ours)
        #expect(their.packets == 500)
        #expect(their.lost == 0)
        // tshark prints 0 jitter; Earshot says it does not know.
        #expect(their.meanJitterMs == 0)
        #expect(their.maxJitterMs == 0)
        #expect(ours.jitterMeanMs == nil)
        #expect(abs(their.maxDeltaMs - ours.statistics.maxDeltaMs) <= Self.printed)
        // Given the clock, Earshot measures what tshark measures for the same stream as PCMU.
        let withClock = try #require(try analyze(bytes, .init(payloadTypes: PayloadTypeMap(parsing: ["96=8000"]))).streams.first)
        let asPCMU = try Self.compare(Scenarios.capture(Scenarios.jitter).pcap(), name: "pcmu.pcap")
        let pcmu = try asPCMU.their(try #require(asPCMU.ours.first))
        #expect(isClose(withClock.jitterMeanMs, pcmu.meanJitterMs, Self.printed))
        #expect(isClose(withClock.jitterMaxMs, pcmu.maxJitterMs, Self.printed))
    }

    @Test func repeatedEventEndPacketsAreReceivedPacketsToTshark() throws {
        let compared = try Self.compare(try ClassificationTests.audioWithDigit(), name: "dtmf.pcap")
        let ours = try #require(compared.ours.first)
        let their = try compared.their(ours)
        #expect(their.packets == 100)
        // 98 sequence numbers, 100 arrivals: tshark's lost goes negative.
        #expect(their.lost == -2)
        #expect(ours.statistics.packetsLost == 0)
        #expect(ours.statistics.duplicates == 0)
        #expect(ours.eventEndRepeats == 2)
        // tshark recognises PT 101 (its rtpevent default) but measures the next audio packet's
        // arrival from the last *event* packet (one 20 ms slot) and its timestamp from the last
        // *audio* packet (nine slots): |D| = 160 ms, J = 160/16 = 10 ms. Earshot leaves events
        // out of the jitter.
        #expect(their.payload == "g711U, rtpevent")
        #expect(abs(their.maxJitterMs - 10) <= Self.printed, "\(their)")
        #expect(ours.jitterMaxMs == 0)
    }

    @Test func tsharkLeavesTalkspurtStartsOutOfMaxDelta() throws {
        let compared = try Self.compare(Scenarios.talkspurts().pcap(), name: "talkspurts.pcap")
        let ours = try #require(compared.ours.first)
        let their = try compared.their(ours)
        #expect(their.packets == 100)
        #expect(their.lost == 0)
        // tshark skips packets with the marker bit in max delta: the 520 ms silence is not seen.
        #expect(their.maxDeltaMs == 20)
        #expect(ours.statistics.maxDeltaMs == 520)
        #expect(their.maxJitterMs == 0)
        #expect(ours.jitterMaxMs == 0)
    }

    @Test func tsharksHeuristicTakesNoiseForRTP() throws {
        let (bytes, _) = try ClassificationTests.noisyCapture()
        let compared = try Self.compare(bytes, name: "noise.pcap")
        #expect(compared.ours.count == 1)
        // Every datagram with a plausible RTP header is a one-packet "stream" to the heuristic
        // (239 of the 700 noise datagrams with Wireshark 4.0).
        #expect(compared.theirs.count > 100, "\(compared.table)")
        let real = try compared.their(try #require(compared.ours.first))
        #expect(real.packets == 250)
        #expect(real.lost == 0)
    }

    // MARK: a real sender on loopback

    /// A paced PCMU stream (50 packets, 20 ms apart) sent over 127.0.0.1 while tshark
    /// captures it; both tools analyse the file.
    @Test func liveLoopbackStream() throws {
        let dir = try ScratchDirectory(prefix: "rtp-analysis")
        guard let receiver = LoopbackSocket(ipv6: false), let sender = LoopbackSocket(ipv6: false), let probe = LoopbackSocket(ipv6: false) else {
            throw Tshark.Failure(description: "no loopback socket")
        }
        let path = dir.path("live.pcapng")
        // -a duration: tshark stops by itself should this test die before stopping it.
        let tshark = try SpawnedProcess(
            Tshark.path!,
            ["-i", "lo", "-f", "udp port \(receiver.endpoint.port)", "-w", path, "-a", "duration:120", "-P", "-l", "-n",
             "-T", "fields", "-e", "udp.srcport"],
            outputPath: dir.path("tshark.out"), errorPath: dir.path("tshark.err"))
        func seen(from port: UInt16) -> Int {
            tshark.output.split(separator: "\n").filter { UInt16($0) == port }.count
        }
        let live = waitUntil(seconds: 30, interval: 0.1) {
            _ = probe.send(Array("probe".utf8), to: receiver.endpoint.port)
            return seen(from: probe.endpoint.port) > 0
        }
        guard live else { throw Tshark.Failure(description: "tshark never captured a probe: \(tshark.errors)") }

        let ssrc: UInt32 = 0x00EA_5107
        for index in 0..<50 {
            let packet = RTPPacket(payloadType: 0, sequenceNumber: UInt16(4000 + index), timestamp: UInt32(160 * index),
                                   ssrc: ssrc, marker: index == 0, payload: [UInt8](repeating: 0xD5, count: 160))
            guard sender.send(packet.encoded(), to: receiver.endpoint.port) else { throw Tshark.Failure(description: "sendto: \(errno)") }
            usleep(20_000)
        }
        let complete = waitUntil(seconds: 30, interval: 0.05) { seen(from: sender.endpoint.port) >= 50 }
        tshark.signal(SIGINT)
        let stopped = waitUntil(seconds: 30, interval: 0.05) { tshark.hasExited }
        guard complete, stopped else {
            throw Tshark.Failure(description: "tshark saw \(seen(from: sender.endpoint.port)) of 50 (stopped: \(stopped)): \(tshark.errors)")
        }

        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let report = try analyze(bytes, .init(port: receiver.endpoint.port))
        let (theirs, table) = try Tshark.streams(path)
        let ours = try #require(report.streams.first { $0.key.ssrc == ssrc })
        let their = try #require(theirs.first { $0.ssrc == ssrc }, "\(table)")
        #expect(report.streams.count == 1)
        #expect(ours.packets == 50)
        #expect(ours.statistics.packetsLost == 0)
        #expect(their.packets == 50)
        #expect(their.lost == 0)
        #expect(abs(their.maxDeltaMs - ours.statistics.maxDeltaMs) <= Self.printed, "\(their) vs \(ours.statistics.maxDeltaMs)")
        #expect(isClose(ours.jitterMeanMs, their.meanJitterMs, Self.printed), "\(their) vs \(ours.jitterMeanMs ?? -1)")
        #expect(isClose(ours.jitterMaxMs, their.maxJitterMs, Self.printed), "\(their) vs \(ours.jitterMaxMs ?? -1)")
        #expect(ours.key.source == IPEndpoint(.v4(.loopback), sender.endpoint.port))
        #expect(ours.codec == "PCMU")
        #expect(ours.mosLQ != nil)
        // The probes are UDP but not RTP.
        #expect(report.tally.nonRTP >= 1)
    }
}
