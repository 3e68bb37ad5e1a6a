import RTPCore

/// One packet as a receiver sees it: header fields and arrival time.
public struct RTPArrival: Sendable, Hashable {
    public var ssrc: UInt32
    public var sequence: UInt16
    public var rtpTimestamp: UInt32
    public var marker: Bool
    public var arrivalNanoseconds: Int64
}

/// Realistic receive streams: 20 ms G.711 packets (160 samples at 8 kHz) with network jitter,
/// bursty loss, occasional reordering and duplicates — so the statistics code runs its
/// loss, reorder and duplicate branches, not only the in-order fast path.
public enum RTPFixtures {
    public struct Impairments: Sendable, Hashable {
        /// Probability a packet starts a loss burst.
        public var lossStart = 0.01
        /// Probability a loss burst continues with the next packet (mean burst 1/(1−p)).
        public var lossContinue = 0.3
        /// Probability a packet swaps places with the next one.
        public var reorder = 0.005
        /// Probability a packet is delivered twice.
        public var duplicate = 0.001
        /// Uniform arrival jitter, ± this many ms.
        public var jitterMs = 3.0
        public init() {}
    }

    /// `count` arrivals of one stream, in arrival order.
    public static func stream(ssrc: UInt32 = 0x1234_5678, count: Int, startNanoseconds: Int64 = 1_000_000_000,
                              firstSequence: UInt16 = 0, impairments: Impairments = Impairments(),
                              seed: UInt64 = 1) -> [RTPArrival] {
        var random = SplitMix64(seed: seed)
        var arrivals: [RTPArrival] = []
        arrivals.reserveCapacity(count + count / 500)
        var sent = 0
        var inBurst = false
        while arrivals.count < count {
            let n = sent
            sent += 1
            inBurst = inBurst ? Double.random(in: 0..<1, using: &random) < impairments.lossContinue
                              : Double.random(in: 0..<1, using: &random) < impairments.lossStart
            if inBurst { continue }
            let jitter = Int64(Double.random(in: -impairments.jitterMs...impairments.jitterMs, using: &random) * 1e6)
            let packet = RTPArrival(
                ssrc: ssrc,
                sequence: firstSequence &+ UInt16(truncatingIfNeeded: n),
                rtpTimestamp: UInt32(truncatingIfNeeded: n * 160),
                marker: n == 0,
                arrivalNanoseconds: startNanoseconds + Int64(n) * 20_000_000 + 5_000_000 + jitter
            )
            arrivals.append(packet)
            if Double.random(in: 0..<1, using: &random) < impairments.duplicate {
                var copy = packet
                copy.arrivalNanoseconds += 100_000
                arrivals.append(copy)
            }
        }
        arrivals.removeLast(arrivals.count - count)
        // Reordering: swap a packet with its successor (and their arrival times stay in order).
        var i = 0
        while i + 1 < arrivals.count {
            if Double.random(in: 0..<1, using: &random) < impairments.reorder {
                let first = arrivals[i], second = arrivals[i + 1]
                arrivals[i] = second
                arrivals[i].arrivalNanoseconds = first.arrivalNanoseconds
                arrivals[i + 1] = first
                arrivals[i + 1].arrivalNanoseconds = second.arrivalNanoseconds
                i += 2
            } else {
                i += 1
            }
        }
        return arrivals
    }

    /// `streams` concurrent calls of `total / streams` packets each, interleaved by arrival time
    /// as a capture on a media server would hold them.
    public static func interleavedStreams(total: Int, streams: Int) -> [RTPArrival] {
        let perStream = total / streams
        var all: [RTPArrival] = []
        all.reserveCapacity(perStream * streams)
        for s in 0..<streams {
            all += stream(ssrc: 0x1000_0000 + UInt32(s), count: perStream,
                          startNanoseconds: 1_000_000_000 + Int64(s) * 397_000,
                          firstSequence: UInt16(truncatingIfNeeded: s * 7919), seed: UInt64(s + 1))
        }
        all.sort { ($0.arrivalNanoseconds, $0.ssrc) < ($1.arrivalNanoseconds, $1.ssrc) }
        return all
    }

    /// A 172-byte RTP datagram (12-byte header + 160 bytes of µ-law) for `arrival`.
    public static func datagram(_ arrival: RTPArrival, payload: [UInt8]) -> [UInt8] {
        RTPPacket(payloadType: 0, sequenceNumber: arrival.sequence, timestamp: arrival.rtpTimestamp,
                  ssrc: arrival.ssrc, marker: arrival.marker, payload: payload).encoded()
    }

    /// 20 ms of a 1 kHz tone in µ-law: a realistic payload (content does not change the work).
    public static let payload: [UInt8] = {
        var codes: [UInt8] = []
        G711Law.muLaw.encode(TestSignalGenerator(toneFrequency: 1000).frame(startingAt: 0), into: &codes)
        return codes
    }()
}
