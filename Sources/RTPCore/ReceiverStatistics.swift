/// Reception statistics of one RTP source (one SSRC), as a pure function of the packets'
/// sequence numbers, RTP timestamps and arrival times.
///
/// Feed every packet of the SSRC in arrival order to `record(sequence:rtpTimestamp:arrivalNanoseconds:)`;
/// read `snapshot()` at any time (it does not disturb anything), and call
/// `makeReportBlockFields()` once per RTCP report. Arrival times are nanoseconds on any
/// monotonic base — only differences matter. A new SSRC is a new `ReceiverStatistics`.
///
/// Two views of the same stream are kept:
///
/// * **RFC 3550** — A.1 sequence validation (transcribed below), A.3 expected/lost/fraction
///   for RTCP report blocks, A.8 interarrival jitter. A.3 counts duplicates as received, so
///   a duplicated packet hides a lost one there.
/// * **Unique** (DESIGN §2, what Earshot reports) — which *extended sequence numbers*
///   arrived, tracked in a sliding bitmap; a number is finalised as received or lost when it
///   can no longer arrive, and the finalised sequence feeds `LossRuns` (max burst, burst
///   ratio). Duplicates cannot hide loss here.
///
/// Memory is constant: the bitmap covers only the A.1 misorder horizon (a packet more than
/// `maxMisorder - 1` behind the highest one is rejected by A.1 anyway, so finalising at that
/// distance never misjudges a packet), and everything else is counters.
///
/// ## Where Earshot departs from A.1, and why
/// * **Probation packets are counted.** A.1 validates a source after `MIN_SEQUENTIAL`
///   sequential packets and then starts counting *at the last of them*, so a perfect call
///   would report one packet fewer than was sent. Here the packets of the validating run
///   are counted too (the base sequence number moves back to the first of them). Packets
///   that arrived before a probation reset are not counted (`packetsRejected`).
/// * **Re-sync adopts the jump packet.** A.1 drops the first packet after a large jump and
///   re-syncs on the next sequential one; here that first packet is counted too.
/// * **A re-sync starts a new epoch instead of erasing history.** The RFC view restarts
///   exactly as A.1's `init_seq` says (its cumulative counters start over). The unique
///   view adds the finished epoch's expected/received/lost to its totals and starts
///   counting afresh from the new base: the jump itself is *not* counted as loss, and the
///   jitter estimator skips the transit difference across the jump. `sequenceResyncs`
///   counts these events. Caveat (inherent to A.1): an outage of more than `maxDropout`
///   packets with *continuing* sequence numbers is indistinguishable from a restart and is
///   therefore not counted as loss — it shows up as a re-sync and in `maxDeltaMs`.
/// * **Packets older than the first one.** A packet that arrives late but belongs *before*
///   the first counted packet extends the unique view's expected range downwards (it was
///   sent, so the numbers between it and the old start were sent too). The RFC view keeps
///   A.1's base, where such a packet makes "lost" smaller, as the RFC allows.
public struct ReceiverStatistics: Sendable {
    /// RFC 3550 A.1's constants. `.rfc3550` is what the RFC prints.
    public struct Configuration: Sendable, Hashable {
        /// A forward jump of fewer sequence numbers is a gap (loss), not a restart.
        public var maxDropout: Int
        /// A packet up to `maxMisorder - 1` behind the highest is a late or duplicate packet.
        public var maxMisorder: Int
        /// Sequential packets needed before a source is valid (A.1 `MIN_SEQUENTIAL`).
        public var minSequential: Int

        public init(maxDropout: Int = 3000, maxMisorder: Int = 100, minSequential: Int = 2) {
            precondition(maxDropout >= 1 && maxMisorder >= 1 && maxDropout + maxMisorder <= 65536,
                         "ReceiverStatistics.Configuration: dropout and misorder must partition the 16-bit space")
            precondition(minSequential >= 1, "ReceiverStatistics.Configuration: minSequential must be at least 1")
            self.maxDropout = maxDropout
            self.maxMisorder = maxMisorder
            self.minSequential = minSequential
        }

        public static let rfc3550 = Configuration()
    }

    /// What a packet did to the statistics.
    public enum Disposition: Sendable, Hashable {
        /// The source is on probation (A.1); the packet is held and counted if the source
        /// becomes valid.
        case probation
        /// This packet completed probation: it and the held packets of its run are counted.
        case validated
        /// Highest so far (possibly after a gap, possibly wrapping to a new cycle).
        case inOrder
        /// First arrival of a sequence number lower than the highest already received.
        case reordered
        /// The sequence number had already arrived.
        case duplicate
        /// A.1's "very large jump": not counted; if the next packet follows it sequentially
        /// the source re-syncs and this packet is counted after all.
        case largeJump
        /// Second sequential packet after a large jump: A.1 re-sync, a new epoch starts.
        case resynchronized
    }

    /// The fields of an RTCP reception report block (RFC 3550 §6.4.1) this source yields.
    public struct ReportBlockFields: Sendable, Hashable {
        /// Fraction lost since the previous report, in 1/256 units (A.3).
        public var fractionLost: UInt8
        /// Cumulative expected − received (A.3), clamped to the 24-bit signed field.
        public var cumulativeLost: Int32
        /// Cycle count in the high 16 bits, highest sequence number in the low 16 bits.
        public var extendedHighestSequence: UInt32
        /// A.8 interarrival jitter in timestamp units (truncated).
        public var interarrivalJitter: UInt32

        public init(fractionLost: UInt8, cumulativeLost: Int32, extendedHighestSequence: UInt32, interarrivalJitter: UInt32) {
            self.fractionLost = fractionLost
            self.cumulativeLost = cumulativeLost
            self.extendedHighestSequence = extendedHighestSequence
            self.interarrivalJitter = interarrivalJitter
        }
    }

    public let clockRate: Int
    public let configuration: Configuration

    // MARK: RFC 3550 A.1 state (names as in the RFC's `source` struct)
    private var started = false
    private var maxSeq: UInt16 = 0
    /// Shifted count of sequence number cycles (A.1 keeps it pre-multiplied by 2^16).
    private var cycles: Int64 = 0
    /// Signed so that adopting probation packets across a wrap stays exact.
    private var baseSeq: Int64 = 0
    private var badSeq: Int = 65537
    private var probation = 0
    /// A.1 `received`: counts duplicates.
    private var received: Int64 = 0
    private var expectedPrior: Int64 = 0
    private var receivedPrior: Int64 = 0

    // MARK: RFC 3550 A.8 state
    private var previous: (arrival: Int64, timestamp: UInt32)?
    /// J, in timestamp units.
    public private(set) var jitter: Double = 0
    private var jitterSum: Double = 0
    private var jitterSamples = 0
    private var jitterMax: Double = 0

    // MARK: Packets A.1 has not accepted (yet)
    private struct HeldPacket: Sendable {
        var sequence: UInt16
        var timestamp: UInt32
        var arrival: Int64
    }
    private var probationRun: [HeldPacket] = []
    private var jumpPacket: HeldPacket?

    // MARK: Unique view
    private var window: SequenceArrivalWindow
    /// Fates finalised so far, in sequence order, over all epochs.
    private var finalised = LossRuns()
    /// Lowest extended sequence number of the current epoch.
    private var epochStart: Int64 = 0
    /// Expected count of the epochs before the current one.
    private var earlierEpochsExpected: Int64 = 0
    private var uniqueReceived: Int64 = 0
    private var duplicates: Int64 = 0
    private var reordered: Int64 = 0
    private var rejected: Int64 = 0
    private var resyncs = 0
    private var firstArrival: Int64?
    private var lastArrival: Int64?
    private var maxDelta: Int64 = 0

    public init(clockRate: Int, configuration: Configuration = .rfc3550) {
        precondition(clockRate > 0, "ReceiverStatistics: clock rate must be positive")
        self.clockRate = clockRate
        self.configuration = configuration
        window = SequenceArrivalWindow(capacity: configuration.maxMisorder)
    }

    /// Whether the source has passed A.1 probation (only then are packets counted).
    public var isValidated: Bool { started && probation == 0 }

    /// Records one packet of this SSRC. Call in arrival order.
    @discardableResult
    public mutating func record(sequence: UInt16, rtpTimestamp: UInt32, arrivalNanoseconds: Int64) -> Disposition {
        let packet = HeldPacket(sequence: sequence, timestamp: rtpTimestamp, arrival: arrivalNanoseconds)
        if !started {
            // A.1, first packet of a source:
            //   init_seq(s, seq); s->max_seq = seq - 1; s->probation = MIN_SEQUENTIAL;
            started = true
            initSeq(sequence)
            maxSeq = sequence &- 1
            probation = configuration.minSequential
        }
        return updateSeq(packet)
    }

    // MARK: RFC 3550 A.1, transcribed

    /// A.1 `init_seq`.
    private mutating func initSeq(_ seq: UInt16) {
        baseSeq = Int64(seq)
        maxSeq = seq
        badSeq = 65536 + 1  // RTP_SEQ_MOD + 1, so seq == bad_seq is false
        cycles = 0
        received = 0
        receivedPrior = 0
        expectedPrior = 0
    }

    /// A.1 `update_seq`; where A.1 returns 1 the packet is counted.
    private mutating func updateSeq(_ packet: HeldPacket) -> Disposition {
        let seq = packet.sequence
        let udelta = Int(seq &- maxSeq)
        let rtpSeqMod = 65536

        // Source is not valid until MIN_SEQUENTIAL packets with sequential sequence
        // numbers have been received.
        if probation > 0 {
            if seq == maxSeq &+ 1 {  // packet is in sequence
                probation -= 1
                maxSeq = seq
                if probation == 0 {
                    initSeq(seq)
                    received += 1
                    // Earshot: count the rest of the validating run too (see the type's doc).
                    let run = probationRun
                    probationRun = []
                    startEpoch(adopting: run, then: packet)
                    return .validated
                }
                probationRun.append(packet)
            } else {
                probation = configuration.minSequential - 1
                maxSeq = seq
                rejected += Int64(probationRun.count)
                probationRun = [packet]
            }
            return .probation
        } else if udelta < configuration.maxDropout {
            // in order, with permissible gap
            if seq < maxSeq {
                // Sequence number wrapped - count another 64K cycle.
                cycles += Int64(rtpSeqMod)
            }
            maxSeq = seq
            received += 1
            return count(packet, extended: cycles + Int64(seq))
        } else if udelta <= rtpSeqMod - configuration.maxMisorder {
            // the sequence number made a very large jump
            if Int(seq) == badSeq {
                // Two sequential packets -- assume that the other side restarted without
                // telling us so just re-sync (i.e., pretend this was the first packet).
                initSeq(seq)
                received += 1
                closeEpoch()
                // Earshot: the jump packet that set bad_seq is counted too.
                let jump = jumpPacket.map { [$0] } ?? []
                jumpPacket = nil
                startEpoch(adopting: jump, then: packet)
                return .resynchronized
            }
            badSeq = (Int(seq) + 1) & (rtpSeqMod - 1)
            if jumpPacket != nil { rejected += 1 }
            jumpPacket = packet
            return .largeJump
        } else {
            // duplicate or reordered packet
            received += 1
            let extended = seq > maxSeq ? cycles - Int64(rtpSeqMod) + Int64(seq) : cycles + Int64(seq)
            return count(packet, extended: extended)
        }
    }

    // MARK: Counting accepted packets

    /// Starts counting at the packets of a validating run (or a jump packet and its
    /// successor), all of which precede `last` sequentially.
    private mutating func startEpoch(adopting earlier: [HeldPacket], then last: HeldPacket) {
        baseSeq -= Int64(earlier.count)
        received += Int64(earlier.count)
        previous = nil
        var extended = Int64(last.sequence) - Int64(earlier.count)
        epochStart = extended
        for packet in earlier {
            _ = count(packet, extended: extended)
            extended += 1
        }
        _ = count(last, extended: extended)
    }

    /// Folds the current epoch into the totals before an A.1 re-sync.
    private mutating func closeEpoch() {
        earlierEpochsExpected += window.high - epochStart + 1
        window.flush(into: &finalised)
        resyncs += 1
    }

    private mutating func count(_ packet: HeldPacket, extended: Int64) -> Disposition {
        let highBefore = window.high
        let wasEmpty = window.isEmpty
        let disposition: Disposition
        switch window.insert(extended, finalisingInto: &finalised) {
        case .new:
            uniqueReceived += 1
            if !wasEmpty && extended < highBefore {
                reordered += 1
                disposition = .reordered
            } else {
                disposition = .inOrder
            }
            epochStart = min(epochStart, extended)
        case .duplicate:
            duplicates += 1
            disposition = .duplicate
        case .tooOld:
            // Unreachable: the window spans at least A.1's misorder horizon, and A.1 accepts
            // nothing older. Counted as rejected so every arrival is accounted for.
            rejected += 1
            disposition = .duplicate
        }
        recordTiming(packet)
        return disposition
    }

    /// RFC 3550 A.8 interarrival jitter, plus the arrival-time statistics.
    ///
    ///     D(i-1,i) = (R_i - R_{i-1}) - (S_i - S_{i-1})
    ///     J_i = J_{i-1} + (|D(i-1,i)| - J_{i-1}) / 16
    ///
    /// R is the arrival time converted to timestamp units; the timestamp difference is taken
    /// modulo 2^32 as a signed value, so a timestamp wrap is harmless. Computed over every
    /// counted packet in arrival order, duplicates included, as the RFC does.
    private mutating func recordTiming(_ packet: HeldPacket) {
        // Held packets are replayed after later arrivals, so keep the latest arrival seen.
        if firstArrival == nil { firstArrival = packet.arrival }
        if let last = lastArrival {
            maxDelta = max(maxDelta, packet.arrival - last)
            lastArrival = max(last, packet.arrival)
        } else {
            lastArrival = packet.arrival
        }
        defer { previous = (packet.arrival, packet.timestamp) }
        guard let previous else { return }
        let arrivalDelta = Double(packet.arrival - previous.arrival) * Double(clockRate) / 1e9
        let timestampDelta = Double(Int32(bitPattern: packet.timestamp &- previous.timestamp))
        let d = abs(arrivalDelta - timestampDelta)
        jitter += (d - jitter) / 16
        jitterSum += jitter
        jitterSamples += 1
        jitterMax = max(jitterMax, jitter)
    }

    // MARK: Reading

    /// RFC 3550 A.3 for one RTCP report block. Mutating: the "interval" (fraction lost) is
    /// the time since the previous call. Nil until the source is validated.
    ///
    ///     extended_max = s->cycles + s->max_seq;
    ///     expected = extended_max - s->base_seq + 1;
    ///     lost = expected - s->received;                    (clamped to 24-bit signed)
    ///     expected_interval = expected - s->expected_prior;  s->expected_prior = expected;
    ///     received_interval = s->received - s->received_prior;  s->received_prior = s->received;
    ///     lost_interval = expected_interval - received_interval;
    ///     fraction = (expected_interval == 0 || lost_interval <= 0) ? 0
    ///                : (lost_interval << 8) / expected_interval;
    public mutating func makeReportBlockFields() -> ReportBlockFields? {
        guard isValidated else { return nil }
        let extendedMax = cycles + Int64(maxSeq)
        let expected = extendedMax - baseSeq + 1
        let lost = expected - received
        let expectedInterval = expected - expectedPrior
        expectedPrior = expected
        let receivedInterval = received - receivedPrior
        receivedPrior = received
        let lostInterval = expectedInterval - receivedInterval
        let fraction = expectedInterval == 0 || lostInterval <= 0 ? 0 : min(255, (lostInterval << 8) / expectedInterval)
        return ReportBlockFields(
            fractionLost: UInt8(fraction),
            cumulativeLost: Int32(min(max(lost, -0x80_0000), 0x7F_FFFF)),
            extendedHighestSequence: UInt32(truncatingIfNeeded: extendedMax),
            interarrivalJitter: UInt32(min(jitter, Double(UInt32.max)))
        )
    }

    /// The statistics so far. Sequence numbers still inside the reorder horizon that have
    /// not arrived count as lost here; a later `snapshot()` may find they arrived after all.
    public func snapshot() -> Summary {
        var runs = finalised
        window.appendProvisional(to: &runs)
        let expected = isValidated ? earlierEpochsExpected + (window.isEmpty ? 0 : window.high - epochStart + 1) : 0
        let lost = expected - uniqueReceived
        let rfcExpected = isValidated ? cycles + Int64(maxSeq) - baseSeq + 1 : 0
        return Summary(
            packetsExpected: Int(expected),
            packetsReceived: Int(uniqueReceived),
            packetsLost: Int(lost),
            duplicates: Int(duplicates),
            reordered: Int(reordered),
            lossPercent: expected == 0 ? 0 : 100 * Double(lost) / Double(expected),
            burstRatio: runs.burstRatio,
            maxBurst: runs.longestRun,
            lossRuns: runs.runs,
            jitterMs: milliseconds(jitter),
            jitterMeanMs: jitterSamples == 0 ? 0 : milliseconds(jitterSum / Double(jitterSamples)),
            jitterMaxMs: milliseconds(jitterMax),
            maxDeltaMs: Double(maxDelta) / 1e6,
            firstArrivalNanoseconds: firstArrival,
            lastArrivalNanoseconds: lastArrival,
            packetsRejected: Int(rejected + Int64(probationRun.count) + (jumpPacket == nil ? 0 : 1)),
            sequenceResyncs: resyncs,
            rfc3550CumulativeLost: Int(rfcExpected - received)
        )
    }

    private func milliseconds(_ timestampUnits: Double) -> Double {
        timestampUnits * 1000 / Double(clockRate)
    }
}

extension ReceiverStatistics {
    /// One direction of one stream, under DESIGN §2 names (the `CodingKeys`).
    ///
    /// Counters are cumulative, so the difference of two snapshots is the interval between
    /// them. `packetsExpected`, `packetsReceived`, `packetsLost` are the *unique* view.
    public struct Summary: Sendable, Hashable, Codable {
        /// Sequence numbers from the first to the highest received, summed over epochs.
        public var packetsExpected: Int
        /// Distinct sequence numbers received.
        public var packetsReceived: Int
        /// Expected − received, never negative; duplicates do not hide loss.
        public var packetsLost: Int
        /// Arrivals of a sequence number that had already arrived.
        public var duplicates: Int
        /// First arrivals of a sequence number lower than one already received.
        public var reordered: Int
        /// 100 × lost / expected.
        public var lossPercent: Double
        /// G.107 BurstR of the loss runs (see `LossRuns`), ≥ 1.
        public var burstRatio: Double
        /// Longest run of consecutive lost sequence numbers.
        public var maxBurst: Int
        /// Number of loss runs.
        public var lossRuns: Int
        /// A.8 J after the last packet, in ms.
        public var jitterMs: Double
        /// Mean of J over every packet after the first of each epoch (J is sampled after each
        /// update, so it is the time-average of the running estimate, not of |D|), in ms.
        public var jitterMeanMs: Double
        /// Maximum of J over the same packets, in ms.
        public var jitterMaxMs: Double
        /// Largest gap between consecutive counted arrivals, in ms.
        public var maxDeltaMs: Double
        public var firstArrivalNanoseconds: Int64?
        public var lastArrivalNanoseconds: Int64?
        /// Arrivals A.1 did not accept: probation runs that broke off, large jumps that were
        /// not followed, packets `maxMisorder` or more behind the highest — including a packet
        /// still held (on probation, or a jump awaiting its successor).
        public var packetsRejected: Int
        /// A.1 re-syncs (restarts of the sequence numbering within the SSRC).
        public var sequenceResyncs: Int
        /// RFC 3550 A.3 cumulative lost of the current epoch (duplicates count as received,
        /// so it can be lower than `packetsLost`, even negative) — what RTCP reports and
        /// what tools such as tshark show.
        public var rfc3550CumulativeLost: Int

        enum CodingKeys: String, CodingKey {
            case packetsExpected = "packets_expected"
            case packetsReceived = "packets_received"
            case packetsLost = "packets_lost"
            case duplicates
            case reordered
            case lossPercent = "loss_pct"
            case burstRatio = "burst_ratio"
            case maxBurst = "max_burst"
            case lossRuns = "loss_runs"
            case jitterMs = "jitter_ms"
            case jitterMeanMs = "jitter_mean_ms"
            case jitterMaxMs = "jitter_max_ms"
            case maxDeltaMs = "max_delta_ms"
            case firstArrivalNanoseconds = "first_arrival_ns"
            case lastArrivalNanoseconds = "last_arrival_ns"
            case packetsRejected = "packets_rejected"
            case sequenceResyncs = "sequence_resyncs"
            case rfc3550CumulativeLost = "rfc3550_cumulative_lost"
        }
    }
}
