import RTPCore

// The conference bridge (issue 6): N participants' RTP sessions on one media loop, a mixer on
// an absolute 20 ms grid, each participant hearing the sum of the others (never itself).
//
// CONTRACT (the lead's; the bridge helper implements it): the public API below is what
// SIPStack and AgentKit build on. `MediaParameters.bridge` makes `start` join a session to a
// bridge instead of sending the test signal; `MediaParameters.watchTones` makes a receiver
// report, per frequency, in which frames of its playout timeline that tone was present.

/// What a bridge does with RFC 4733 digits one member sends (EarshotWire's `DTMFRelayMode`).
public enum BridgeDTMFMode: String, Sendable, Hashable, Encodable, CaseIterable {
    /// Forward every telephone-event packet to the other members, re-stamped with each leg's
    /// SSRC, sequence number and timestamp (RFC 4733 §2.5.1.2: the event's start timestamp).
    case relay
    /// Detect the digit (its end, RFC 4733 §2.5.1.4) and send a fresh event of the same length
    /// to the other members.
    case regenerate
    /// Pass nothing on; the digits are still reported.
    case drop
}

public struct BridgeConfiguration: Sendable, Hashable {
    /// `conf-<id>` or a room name, for reports and logs.
    public var label: String
    /// Members at once; `start` of one more fails with `.bridgeFull`.
    public var maxParticipants: Int
    public var dtmfMode: BridgeDTMFMode
    /// Per-input playout delay of the mixer's jitter buffer, ms (a multiple of 20).
    public var playoutDelayMs: Int
    /// A member is mixed (heard, and hears) only after it has sent these digits (a PIN); its
    /// PIN digits are never passed on. Nil: every member is admitted at once.
    public var pin: String?

    public init(label: String, maxParticipants: Int = 100, dtmfMode: BridgeDTMFMode = .relay, playoutDelayMs: Int = 40,
                pin: String? = nil) {
        self.label = label
        self.maxParticipants = maxParticipants
        self.dtmfMode = dtmfMode
        self.playoutDelayMs = playoutDelayMs
        self.pin = pin
    }
}

/// A bridge's handle. Its members' sessions must be opened with `openSession(localAddress:on:)`
/// (the same media loop).
public struct MediaBridge: Sendable, Hashable {
    public let id: UInt64
    let loop: Int

    init(id: UInt64, loop: Int) {
        self.id = id
        self.loop = loop
    }
}

/// One member as the bridge saw it.
public struct BridgeMemberReport: Sendable, Encodable {
    public var session: UInt64
    /// `MediaParameters.memberLabel` (the agent layer puts the caller's agent id or URI there).
    public var label: String
    /// ms after the bridge opened.
    public var joinedAtMs: Double
    public var leftAtMs: Double?
    public var admitted: Bool
    /// Digits received from this member (PIN included), in order.
    public var digits: [MediaReport.Digit]
    /// Telephone-event packets or regenerated digits this member's digits caused toward others.
    public var dtmfForwarded: Int
    /// Frames of this member taken into the mix, and of those how many were concealed
    /// (nothing in the buffer at playout time: late or lost).
    public var framesMixed: Int
    public var framesConcealed: Int

    enum CodingKeys: String, CodingKey {
        case session, label, joinedAtMs = "joined_at_ms", leftAtMs = "left_at_ms", admitted, digits
        case dtmfForwarded = "dtmf_forwarded", framesMixed = "frames_mixed", framesConcealed = "frames_concealed"
    }
}

public struct BridgeReport: Sendable, Encodable {
    public var id: UInt64
    public var label: String
    public var dtmfMode: BridgeDTMFMode
    public var maxParticipants: Int
    public var peakParticipants: Int
    /// `start` calls refused with `.bridgeFull`.
    public var refused: Int
    public var ticks: Int
    /// How late mixer ticks ran after their grid time, µs.
    public var tickLateness: LatenessHistogram.Summary
    /// Output samples clipped to the 16-bit range.
    public var clippedSamples: Int
    /// Every member that ever joined, in join order (left ones included).
    public var members: [BridgeMemberReport]

    enum CodingKeys: String, CodingKey {
        case id, label, dtmfMode = "dtmf_mode", maxParticipants = "max_participants", peakParticipants = "peak_participants"
        case refused, ticks, tickLateness = "tick_lateness_us", clippedSamples = "clipped_samples", members
    }
}

/// Per watched tone: which frames of the receiver's playout timeline had it (`watchTones`).
public struct ToneObservation: Sendable, Hashable, Encodable {
    public var hz: Int
    /// Frames with the tone in each second since the receiver started (0...50 at 20 ms):
    /// lets the caller judge any window (a speaker that joined later, a listener that left).
    public var framesPerSecond: [Int]
    /// Frames per second the timeline had (the last entry may be partial).
    public var framesInSecond: [Int]
    /// Mean tone level in the frames that had it, dBov.
    public var meanLevelDb: Double?
    /// The whole stream's verdict.
    public var tracker: ToneTracker.Report

    enum CodingKeys: String, CodingKey {
        case hz, framesPerSecond = "frames_per_second", framesInSecond = "frames_in_second", meanLevelDb = "mean_level_db"
        case tracker
    }
}

extension MediaEngine {
    /// Opens a bridge on one media loop; its mixer ticks from now on, every 20 ms on an
    /// absolute grid.
    public func openBridge(_ configuration: BridgeConfiguration) async throws(MediaEngineError) -> MediaBridge {
        throw MediaEngineError(.invalidParameters, "conference bridges are not implemented yet")
    }

    /// Like `openSession(localAddress:)`, on the loop of `bridge` (required for members).
    public func openSession(localAddress: String? = nil, on bridge: MediaBridge) async throws(MediaEngineError) -> MediaSession {
        throw MediaEngineError(.invalidParameters, "conference bridges are not implemented yet")
    }

    /// The bridge's report so far.
    public func bridgeReport(_ bridge: MediaBridge) async throws(MediaEngineError) -> BridgeReport {
        throw MediaEngineError(.unknownBridge, "no open bridge \(bridge.id)")
    }

    /// Stops the mixer and returns the final report. Members still joined keep their
    /// sessions (stop them as usual); they hear silence from now on.
    public func closeBridge(_ bridge: MediaBridge) async throws(MediaEngineError) -> BridgeReport {
        throw MediaEngineError(.unknownBridge, "no open bridge \(bridge.id)")
    }
}
