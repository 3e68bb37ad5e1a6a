/// Loss-run analysis of a packet sequence whose fate is final: each sequence number, in
/// sequence order, was either received or lost.
///
/// RFC 3550 gives only a loss *count*; the E-model also needs to know whether losses come
/// alone or in bursts, because a burst of five lost packets sounds worse than five single
/// losses spread over a minute. This type keeps the counts that answer that question in
/// O(1) memory, so a multi-hour call costs nothing extra.
///
/// Burst ratio (ITU-T G.107 §3.3.1 and reference/emodel.md): model the loss process as a
/// two-state Markov chain with p = P(received → lost) and q = P(lost → received); then
/// `BurstR = 1/(p + q)`. The estimates used here are
///
///     p = runs / received      (every received packet is one chance to start a loss run)
///     q = runs / lost          (every lost packet is one chance to end the run it is in)
///
/// which makes `BurstR` *identical* to G.107's own wording, "mean length of the observed
/// loss runs divided by the mean run length expected for random loss", i.e.
/// `meanRunLength × (1 − lossFraction)`:
///
///     1/(runs/received + runs/lost) = received·lost / (runs·(received + lost))
///                                   = (lost/runs) · (received/(received + lost)).
///
/// The value is clamped to at least 1: losses more evenly spread than random (e.g.
/// alternate packets lost) give < 1, which G.107 does not define. With no loss, or with no
/// received packet at all, it is 1.
public struct LossRuns: Sendable, Hashable, Codable {
    /// Packets received.
    public private(set) var received: Int = 0
    /// Packets lost.
    public private(set) var lost: Int = 0
    /// Maximal runs of consecutive lost packets (a run ends at the next received packet).
    public private(set) var runs: Int = 0
    /// The longest run of consecutive lost packets (DESIGN §2 `max_burst`).
    public private(set) var longestRun: Int = 0
    /// Length of the loss run still open at the end of the sequence (0 if the last packet
    /// was received).
    public private(set) var openRun: Int = 0

    public init() {}

    /// Appends `count` consecutive packets, all with the same fate.
    public mutating func record(received isReceived: Bool, count: Int = 1) {
        precondition(count >= 0, "LossRuns.record: negative count")
        guard count > 0 else { return }
        if isReceived {
            received += count
            openRun = 0
        } else {
            if openRun == 0 { runs += 1 }
            lost += count
            openRun += count
            longestRun = max(longestRun, openRun)
        }
    }

    /// Packets whose fate is known.
    public var total: Int { received + lost }

    /// lost / total; 0 for an empty sequence.
    public var lossFraction: Double { total == 0 ? 0 : Double(lost) / Double(total) }

    /// Mean length of a loss run; 0 without loss.
    public var meanRunLength: Double { runs == 0 ? 0 : Double(lost) / Double(runs) }

    /// Estimated P(received → lost) = runs / received (see the type's documentation).
    public var receivedToLost: Double { received == 0 ? 0 : Double(runs) / Double(received) }

    /// Estimated P(lost → received) = runs / lost (see the type's documentation).
    public var lostToReceived: Double { lost == 0 ? 0 : Double(runs) / Double(lost) }

    /// G.107 BurstR = 1/(p + q), never below 1 (see the type's documentation).
    public var burstRatio: Double {
        guard runs > 0, received > 0 else { return 1 }
        return max(1, 1 / (receivedToLost + lostToReceived))
    }
}
