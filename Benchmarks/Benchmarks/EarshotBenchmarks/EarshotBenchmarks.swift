// Earshot's benchmarks (issue 2, "Robustness and speed"). Results and commands: BENCHMARKS.md.
//
// Units: a benchmark with `scalingFactor: .kilo` or `.mega` does that many units of work per
// measured iteration (one message, packet, sample or evaluation each), so the tool reports time
// and throughput per unit. Whole-capture benchmarks (`.one`) do one capture per iteration; divide
// by the capture's packet count (scripts/bench does).
//
// Nothing here asserts a timing: these numbers go into BENCHMARKS.md, with a peer measured in the
// same run, because the machines they run on are shared and noisy.
import Benchmark
import BenchmarkFixtures
import CallQuality
import Pcap
import RTPCore
import SDP
import SIPCore

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )
    sipBenchmarks()
    rtpBenchmarks()
    g711Benchmarks()
    callQualityBenchmarks()
    captureBenchmarks()
    plannerBenchmarks()
}

// MARK: SIP and SDP

func sipBenchmarks() {
    let invite = SIPFixtures.typicalInvite
    precondition(invite.count > 850 && invite.count < 1_000, "the typical INVITE should stay about 900 bytes")

    Benchmark("SIP parse INVITE with SDP (\(invite.count) B)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! SIPMessage(parsing: invite))
        }
    }

    // What a UAS reads of every INVITE before it can answer: the dialog and transaction headers.
    Benchmark("SIP parse INVITE + dialog headers", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            let request = try! SIPRequest(parsing: invite)
            let headers = request.headers
            blackHole(try! headers.topVia)
            blackHole(try! headers.from)
            blackHole(try! headers.to)
            blackHole(try! headers.callID)
            blackHole(try! headers.cseq)
            blackHole(try! headers.contacts)
        }
    }

    let parsed = try! SIPMessage(parsing: invite)
    Benchmark("SIP serialize INVITE", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(parsed.serialize())
        }
    }

    let offer = Array(SIPFixtures.sdpOffer.utf8)
    Benchmark("SDP parse offer (\(offer.count) B)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! SessionDescription(parsing: offer))
        }
    }
}

// MARK: RTP

/// Per-packet state that carries over from one measured iteration to the next, so that the
/// statistics are measured in steady state (a new stream starts every 10,000 packets).
final class StreamCursor<State> {
    let arrivals: [RTPArrival]
    let makeState: () -> State
    var state: State
    var next = 0

    init(arrivals: [RTPArrival], makeState: @escaping () -> State) {
        self.arrivals = arrivals
        self.makeState = makeState
        self.state = makeState()
    }

    /// The next packet; starts the stream over (fresh state) at the end.
    func advance() -> RTPArrival {
        if next == arrivals.count {
            next = 0
            state = makeState()
        }
        defer { next += 1 }
        return arrivals[next]
    }
}

func rtpBenchmarks() {
    let datagram = RTPFixtures.datagram(RTPFixtures.stream(count: 1)[0], payload: RTPFixtures.payload)
    Benchmark("RTP header view parse (172 B)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! RTPPacketView(parsing: identity(datagram)))
        }
    }

    Benchmark("RTP packet parse, owned payload (172 B)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! RTPPacket(parsing: identity(datagram)))
        }
    }

    let stream = RTPFixtures.stream(count: BenchmarkSizes.statisticsStreamPackets)
    let statistics = StreamCursor(arrivals: stream) { ReceiverStatistics(clockRate: 8000) }
    Benchmark("ReceiverStatistics.record (lossy stream)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            let p = statistics.advance()
            blackHole(statistics.state.record(sequence: p.sequence, rtpTimestamp: p.rtpTimestamp,
                                              arrivalNanoseconds: p.arrivalNanoseconds))
        }
    }

    var full = ReceiverStatistics(clockRate: 8000)
    for p in stream { full.record(sequence: p.sequence, rtpTimestamp: p.rtpTimestamp, arrivalNanoseconds: p.arrivalNanoseconds) }
    let recorded = full
    Benchmark("ReceiverStatistics.snapshot (10k-packet stream)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(identity(recorded).snapshot())
        }
    }

    let buffer = StreamCursor(arrivals: stream) { JitterBufferEmulator(mode: .adaptive(), clockRate: 8000) }
    Benchmark("JitterBufferEmulator.record (adaptive, lossy stream)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            let p = buffer.advance()
            blackHole(buffer.state.record(sequence: p.sequence, rtpTimestamp: p.rtpTimestamp, marker: p.marker,
                                          arrivalNanoseconds: p.arrivalNanoseconds))
        }
    }

    let frame = TestSignalGenerator(toneFrequency: 1000).frame(startingAt: 0)
    let detector = GoertzelDetector(frequency: 1000)
    Benchmark("Goertzel measure (160-sample frame)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(detector.measure(identity(frame)))
        }
    }
}

// MARK: G.711

func g711Benchmarks() {
    // The same 1M samples Python's audioop encodes in scripts/bench (bench-fixtures' samples.s16le).
    // Per iteration: all of them into a new buffer, as audioop.lin2ulaw returns a new bytes object.
    let samples = AudioFixtures.samples(count: BenchmarkSizes.g711Samples)
    for law in [G711Law.muLaw, .aLaw] {
        let name = law == .muLaw ? "µ-law" : "A-law"
        Benchmark("G.711 \(name) encode (1M samples)", configuration: .init(scalingFactor: .mega)) { _ in
            var codes: [UInt8] = []
            law.encode(samples, into: &codes)
            blackHole(codes)
        }

        var encoded: [UInt8] = []
        law.encode(samples, into: &encoded)
        let codes = encoded
        Benchmark("G.711 \(name) decode (1M samples)", configuration: .init(scalingFactor: .mega)) { _ in
            var decoded: [Int16] = []
            law.decode(codes, into: &decoded)
            blackHole(decoded)
        }
    }

    // Diagnostic: the same work through the per-sample `encode(_:)`, to tell the cost of the
    // companding from the cost of the generic `encode(_:into:)` called across modules.
    Benchmark("G.711 µ-law encode (1M samples, per-sample encode(_:))", configuration: .init(scalingFactor: .mega)) { _ in
        var codes: [UInt8] = []
        codes.reserveCapacity(samples.count)
        for sample in samples { codes.append(G711Law.muLaw.encode(sample)) }
        blackHole(codes)
    }

    // The media engine's unit of work: one 20 ms frame into a reused packet buffer.
    let frame = Array(samples.prefix(160))
    Benchmark("G.711 µ-law encode (160-sample frame, reused buffer)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var codes: [UInt8] = []
        codes.reserveCapacity(160)
        for _ in benchmark.scaledIterations {
            codes.removeAll(keepingCapacity: true)
            G711Law.muLaw.encode(identity(frame), into: &codes)
            blackHole(codes)
        }
    }
}

// MARK: Call quality

func callQualityBenchmarks() {
    let parameters = CallQualityFixtures.peerEModelParameters()
    Benchmark("E-model evaluate", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(EModel.evaluate(identity(parameters)))
        }
    }

    let measurement = CallQualityFixtures.peerMeasurement()
    Benchmark("CallQualityAssessment from counters (CQ + LQ)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! CallQualityAssessment(measurement: identity(measurement)))
        }
    }
}

// MARK: Captures

func captureBenchmarks() {
    let rtpCapture = CaptureFixtures.rtpCapture(packets: BenchmarkSizes.rtpCapturePackets, streams: BenchmarkSizes.rtpCaptureStreams)
    Benchmark("pcap read (100k packets)") { _ in
        var reader = CaptureReader(bytes: rtpCapture)
        precondition(drain { () throws(PcapError) in try reader.next() } == BenchmarkSizes.rtpCapturePackets)
    }

    Benchmark("pcap read + UDP decode (100k packets)") { _ in
        var reader = UDPDatagramReader(bytes: rtpCapture)
        precondition(drain { () throws(PcapError) in try reader.next() } == BenchmarkSizes.rtpCapturePackets)
    }

    // What `earshot pcap analyze` will do per packet (until it lands and scripts/bench times
    // the command itself): read, decode UDP, parse the RTP header, update the stream's statistics.
    Benchmark("pcap RTP stream statistics (100k packets, 50 streams)") { _ in
        blackHole(rtpStreamStatistics(rtpCapture))
    }

    let inviteCapture = CaptureFixtures.inviteCapture(count: BenchmarkSizes.sipCaptureMessages)
    // The counterpart of `tshark -r invites.pcap -Y sip -T fields -e sip.Call-ID`: read the capture,
    // parse every SIP message, take its Call-ID.
    Benchmark("pcap SIP parse + Call-ID (10k INVITEs)") { _ in
        var reader = UDPDatagramReader(bytes: inviteCapture)
        var callIDs = 0
        while let datagram = try! reader.next() {
            let message = try! SIPMessage(parsing: Array(datagram.payload))
            if try! message.headers.callID != nil { callIDs += 1 }
        }
        precondition(callIDs == BenchmarkSizes.sipCaptureMessages)
    }
}

/// Takes every item `next` yields (black-holing each); returns how many there were.
func drain<Item>(_ next: () throws(PcapError) -> Item?) -> Int {
    var count = 0
    while let item = try! next() {
        count += 1
        blackHole(item)
    }
    return count
}

struct StreamKey: Hashable {
    var source: IPEndpoint
    var destination: IPEndpoint
    var ssrc: UInt32
}

func rtpStreamStatistics(_ capture: [UInt8]) -> [StreamKey: ReceiverStatistics.Summary] {
    var reader = UDPDatagramReader(bytes: capture)
    var streams: [StreamKey: ReceiverStatistics] = [:]
    while let datagram = try! reader.next() {
        guard let view = try? RTPPacketView(parsing: datagram.payload), let time = datagram.timestamp else { continue }
        let key = StreamKey(source: datagram.source, destination: datagram.destination, ssrc: view.ssrc)
        let arrival = time.seconds * 1_000_000_000 + Int64(time.nanoseconds)
        streams[key, default: ReceiverStatistics(clockRate: 8000)]
            .record(sequence: view.sequenceNumber, rtpTimestamp: view.timestamp, arrivalNanoseconds: arrival)
    }
    precondition(streams.count == BenchmarkSizes.rtpCaptureStreams)
    return streams.mapValues { $0.snapshot() }
}
