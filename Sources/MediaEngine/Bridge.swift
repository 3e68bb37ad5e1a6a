import CEarshotNet
import RTPCore
import Synchronization

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
        try BridgeState.validate(configuration)
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let loopIndex = Int(id % UInt64(loops.count))
        try await loops[loopIndex].perform { (state) throws(MediaEngineError) in
            let now = state.now()
            let origin = state.chooseOrigin(now: now, alignment: BridgeState.alignment)
            let bridge = BridgeState(id: id, configuration: configuration, openedAt: now, origin: origin)
            state.bridges[id] = bridge
            state.reschedule(bridge)
        }
        return MediaBridge(id: id, loop: loopIndex)
    }

    /// Like `openSession(localAddress:)`, on the loop of `bridge` (required for members).
    public func openSession(localAddress: String? = nil, on bridge: MediaBridge) async throws(MediaEngineError) -> MediaSession {
        guard bridge.loop < loops.count else { throw MediaEngineError(.unknownBridge, "no open bridge \(bridge.id)") }
        return try await openSession(localAddress: localAddress, loop: bridge.loop)
    }

    /// The bridge's report so far.
    public func bridgeReport(_ bridge: MediaBridge) async throws(MediaEngineError) -> BridgeReport {
        guard bridge.loop < loops.count else { throw MediaEngineError(.unknownBridge, "no open bridge \(bridge.id)") }
        return try await loops[bridge.loop].perform { (state) throws(MediaEngineError) in
            try state.bridge(bridge.id).report(loop: state)
        }
    }

    /// Stops the mixer and returns the final report. Members still joined keep their
    /// sessions (stop them as usual); they hear silence from now on.
    public func closeBridge(_ bridge: MediaBridge) async throws(MediaEngineError) -> BridgeReport {
        guard bridge.loop < loops.count else { throw MediaEngineError(.unknownBridge, "no open bridge \(bridge.id)") }
        return try await loops[bridge.loop].perform { (state) throws(MediaEngineError) in
            let open = try state.bridge(bridge.id)
            let report = open.report(loop: state)
            for member in open.activeMembers { state.sessions[member]?.bridge = nil }
            state.bridges.removeValue(forKey: bridge.id)
            return report
        }
    }
}

/// One open bridge on its loop's thread: the mixer, its grid, the members' records, and the
/// DTMF handling between members.
///
/// Timing: mixer tick k runs at `origin + k·20 ms` (absolute, never drifting; late wake-ups
/// catch up tick by tick, more than 50 ticks behind they are skipped). It pulls one frame per
/// member from the member's playout buffer (timed by the grid, not by when the tick ran) and
/// writes every member's output into the member's session. Each member's sender has its own
/// absolute grid, `phase` whole milliseconds (0...9) after the mixer's, and sends that output
/// when its packet is due: the sends of many members spread over up to 10 wake-ups instead
/// of queueing behind one another at the mixer tick (their pacing lateness is measured
/// against their own grid, in `sent.pacing_lateness_us` and the loop statistics).
final class BridgeState {
    struct MemberRecord {
        var session: UInt64
        var label: String
        var joinedAt: Int64
        var leftAt: Int64?
        var admitted: Bool
        var digits: [MediaReport.Digit] = []
        var dtmfForwarded = 0
        var statistics = ConferenceMixer.MemberStatistics()
        var phase: Int
        /// PIN digits matched so far.
        var pinMatched = 0
        /// Receiver digits already looked at.
        var digitsSeen = 0
        /// RTP timestamp of the last event seen before admission (the PIN's): its remaining
        /// packets are not relayed after the PIN admits the member.
        var pinEventTimestamp: UInt32?
    }

    static let alignment: Int64 = 1_000_000
    static let period: Int64 = 20_000_000
    static let phases = 10
    static let maximumCatchUp: Int64 = 50

    let id: UInt64
    let configuration: BridgeConfiguration
    let openedAt: Int64
    let origin: Int64
    private(set) var nextTick: Int64 = 0
    var generation: UInt64 = 0
    private var mixer: ConferenceMixer
    private var tickLateness = LatenessHistogram()
    private var refused = 0
    private var peak = 0
    private var skippedTicks: Int64 = 0
    private var records: [MemberRecord] = []
    /// Session id → index in `records`, for members still joined.
    private var active: [UInt64: Int] = [:]
    /// Joined members in join order (the mixer's output order).
    private(set) var activeMembers: [UInt64] = []
    private var phaseLoad: [Int]
    private let pin: [Character]

    init(id: UInt64, configuration: BridgeConfiguration, openedAt: Int64, origin: Int64) {
        self.id = id
        self.configuration = configuration
        self.openedAt = openedAt
        self.origin = origin
        mixer = ConferenceMixer(frameSamples: 160, delayNanoseconds: Int64(configuration.playoutDelayMs) * 1_000_000)
        phaseLoad = Array(repeating: 0, count: Self.phases)
        pin = Array(configuration.pin ?? "")
    }

    static func validate(_ c: BridgeConfiguration) throws(MediaEngineError) {
        guard c.maxParticipants >= 1 else {
            throw MediaEngineError(.invalidParameters, "bridge cap \(c.maxParticipants): need at least 1 participant")
        }
        guard (0...1000).contains(c.playoutDelayMs), c.playoutDelayMs % 20 == 0 else {
            throw MediaEngineError(.invalidParameters, "playout delay \(c.playoutDelayMs) ms: need a multiple of 20 in 0...1000")
        }
        if let pin = c.pin {
            guard !pin.isEmpty, pin.allSatisfy({ DTMFDigit(character: $0) != nil }) else {
                throw MediaEngineError(.invalidParameters, "PIN \"\(pin)\": need one or more DTMF digits (0-9 * # A-D)")
            }
        }
    }

    var nextDeadline: Int64 { origin + nextTick * Self.period }

    // MARK: Membership

    func checkRoom() throws(MediaEngineError) {
        guard activeMembers.count < configuration.maxParticipants else {
            refused += 1
            throw MediaEngineError(.bridgeFull, "bridge \(configuration.label) is full (\(configuration.maxParticipants) participants)")
        }
    }

    /// The grid of a new member: the least used of the phases after the mixer's, from the
    /// first tick the mixer has not run yet.
    func memberOrigin(now: Int64, alignment: Int64) -> (origin: Int64, phase: Int) {
        let phase = phaseLoad.indices.min { phaseLoad[$0] < phaseLoad[$1] } ?? 0
        let step = max(Self.alignment, alignment)
        var tick = max(nextTick, (now - origin + Self.period - 1) / Self.period)
        while origin + tick * Self.period + Int64(phase) * step < now { tick += 1 }
        return (origin + tick * Self.period + Int64(phase) * step, phase)
    }

    func join(_ entry: SessionEntry, parameters: MediaParameters, phase: Int, now: Int64) {
        let admitted = pin.isEmpty
        let id = entry.core.id
        active[id] = records.count
        activeMembers.append(id)
        records.append(MemberRecord(session: id, label: parameters.memberLabel ?? "session-\(id)", joinedAt: now,
                                    admitted: admitted, phase: phase))
        phaseLoad[phase] += 1
        mixer.add(id, law: parameters.law ?? .muLaw, admitted: admitted)
        peak = max(peak, activeMembers.count)
        entry.bridge = self.id
    }

    func leave(_ entry: SessionEntry, now: Int64) {
        let id = entry.core.id
        guard let index = active.removeValue(forKey: id) else { return }
        noteDigits(of: entry, index: index, loop: nil)
        records[index].leftAt = now
        records[index].statistics = mixer.remove(id) ?? records[index].statistics
        phaseLoad[records[index].phase] -= 1
        activeMembers.removeAll { $0 == id }
        entry.bridge = nil
    }

    // MARK: Media

    /// One mixer tick (the one due at `nextDeadline`).
    func tick(loop: LoopState) {
        let now = earshot_monotonic_ns()
        let behind = (now - nextDeadline) / Self.period
        if behind > Self.maximumCatchUp {
            skippedTicks += behind
            nextTick += behind
        }
        let due = nextDeadline
        tickLateness.record(UInt64(max(0, now - due) / 1000))
        mixer.tick(now: due)
        for id in activeMembers {
            guard let entry = loop.sessions[id], let index = active[id] else { continue }
            mixer.output(for: id, into: &entry.core.bridgeFrame.codes)
            entry.core.bridgeFrame.due = due + Int64(records[index].phase) * Self.alignment
        }
        nextTick += 1
        loop.reschedule(self)
    }

    /// A member's accepted RTP packet: audio into the mixer; events relayed; digits handled.
    func received(_ accepted: SessionCore.Accepted, in datagram: ArraySlice<UInt8>, from entry: SessionEntry, arrival: Int64,
                  loop: LoopState) {
        let id = entry.core.id
        guard let index = active[id] else { return }
        let view = accepted.view
        switch accepted.kind {
        case .audio:
            mixer.receive(id, ssrc: view.ssrc, timestamp: view.timestamp, payload: view.payload(in: datagram), arrival: arrival)
        case .event:
            if !records[index].admitted {
                records[index].pinEventTimestamp = view.timestamp
            } else if configuration.dtmfMode == .relay, records[index].pinEventTimestamp != view.timestamp {
                let payload = Array(view.payload(in: datagram))
                let isEnd = payload.count >= 2 && payload[1] & 0x80 != 0
                let event = RTPSender.RelayedEvent(source: id << 32 ^ UInt64(view.timestamp), marker: view.marker, isEnd: isEnd,
                                                   payload: payload)
                for other in activeMembers where other != id {
                    guard let target = active[other], records[target].admitted,
                          loop.sessions[other]?.core.relay(event) == true else { continue }
                    records[index].dtmfForwarded += 1
                }
            }
            noteDigits(of: entry, index: index, loop: loop)
        }
    }

    /// Digits the member's receiver completed since last time: recorded; a PIN in progress
    /// advances (and is never passed on); in regenerate mode each digit is queued, with its
    /// measured length, on every other admitted member (`loop` nil: a member leaving, nothing
    /// is passed on).
    private func noteDigits(of entry: SessionEntry, index: Int, loop: LoopState?) {
        let digits = entry.core.receivedDigits
        guard digits.count > records[index].digitsSeen else { return }
        for received in digits[records[index].digitsSeen...] {
            records[index].digits.append(SessionCore.digit(received))
            if !records[index].admitted {
                advancePIN(index: index, digit: received.digit)
                continue
            }
            guard configuration.dtmfMode == .regenerate, let loop, let character = received.digit,
                  let digit = DTMFDigit(character: character) else { continue }
            let durationMs = Int(received.durationMs.rounded())
            for other in activeMembers where other != records[index].session {
                guard let target = active[other], records[target].admitted,
                      loop.sessions[other]?.core.queueRegenerated(digit, durationMs: durationMs) == true else { continue }
                records[index].dtmfForwarded += 1
            }
        }
        records[index].digitsSeen = digits.count
    }

    /// The PIN matches digit by digit; a wrong digit starts over (counting itself as a first
    /// digit when it is one).
    private func advancePIN(index: Int, digit: Character?) {
        guard !pin.isEmpty else { return }
        if digit == pin[records[index].pinMatched] {
            records[index].pinMatched += 1
        } else {
            records[index].pinMatched = digit == pin[0] ? 1 : 0
        }
        if records[index].pinMatched == pin.count {
            records[index].admitted = true
            mixer.admit(records[index].session)
        }
    }

    func report(loop: LoopState) -> BridgeReport {
        let members = records.map { record in
            let statistics = active[record.session] != nil ? mixer.statistics(of: record.session) ?? record.statistics : record.statistics
            return BridgeMemberReport(
                session: record.session, label: record.label, joinedAtMs: Double(record.joinedAt - openedAt) / 1e6,
                leftAtMs: record.leftAt.map { Double($0 - openedAt) / 1e6 }, admitted: record.admitted, digits: record.digits,
                dtmfForwarded: record.dtmfForwarded, framesMixed: statistics.framesMixed, framesConcealed: statistics.framesConcealed)
        }
        return BridgeReport(
            id: id, label: configuration.label, dtmfMode: configuration.dtmfMode, maxParticipants: configuration.maxParticipants,
            peakParticipants: peak, refused: refused, ticks: mixer.ticks, tickLateness: tickLateness.summary,
            clippedSamples: mixer.clippedSamples, members: members)
    }
}

extension LoopState {
    func bridge(_ id: UInt64) throws(MediaEngineError) -> BridgeState {
        guard let bridge = bridges[id] else { throw MediaEngineError(.unknownBridge, "no open bridge \(id)") }
        return bridge
    }

    /// Puts the bridge's next tick on the heap.
    func reschedule(_ bridge: BridgeState) {
        bridge.generation &+= 1
        heap.push(Deadline(time: bridge.nextDeadline, session: bridge.id, generation: bridge.generation, isBridge: true))
    }
}
