import RTPCore

/// Per-session settings taken from the engine's configuration.
struct SessionSettings: Sendable, Hashable {
    var rtcpIntervalNanoseconds: Int64
    var startAlignmentNanoseconds: Int64
    var jitterBufferMs: Double
    var concealment: Bool
    var cname: String
    var earlyPacketLimit: Int
    var dscp: UInt8
}

/// Everything one RTP session does — sender schedule, receiver classification, RTCP, the
/// report — with time, randomness and sockets left to the caller: the media loop hands in
/// datagrams and the monotonic time and sends what lands in the `Outbox`. Tests drive it
/// directly.
struct SessionCore: Sendable {
    private struct EarlyDatagram: Sendable {
        var bytes: [UInt8]
        var source: MediaEndpoint
        var tos: UInt8?
        var arrival: Int64
        var onRTCPSocket: Bool
    }

    let id: UInt64
    let local: MediaEndpoint
    let settings: SessionSettings
    private(set) var random: SplitMix64
    private(set) var parameters: MediaParameters?
    private(set) var startTime: Int64?
    private(set) var sender: RTPSender?
    private(set) var receiver: RTPReceiver?
    private(set) var rtcp: RTCPSession
    private(set) var junk = JunkCounters()
    /// Where RTP and RTCP go: the remote from the SDP, or the latched sources.
    private(set) var rtpDestination: MediaEndpoint?
    private(set) var rtcpDestination: MediaEndpoint?
    private(set) var latchedRTP: MediaEndpoint?
    private(set) var latchedRTCP: MediaEndpoint?
    private var early: [EarlyDatagram] = []
    private(set) var earlyPackets = 0
    /// Pacing lateness of every RTP packet sent, µs after its grid time (filled by the loop,
    /// which reads the clock as it sends).
    var lateness = LatenessHistogram()
    var sendErrors = 0
    private(set) var stoppedAt: Int64?
    /// Per-second counters since `start` (the evidence's `media_seconds`).
    var seconds = SecondCounters()
    /// Bridge member: the mixer's payload for the next packet.
    var bridgeFrame = BridgeFrame()

    /// An accepted RTP packet, for a bridge (the mixer and the DTMF relay).
    struct Accepted {
        var kind: RTPReceiver.Accepted
        var view: RTPPacketView
    }

    init(id: UInt64, local: MediaEndpoint, settings: SessionSettings, seed: UInt64) {
        self.id = id
        self.local = local
        self.settings = settings
        self.random = SplitMix64(seed: seed)
        self.rtcp = RTCPSession(intervalNanoseconds: settings.rtcpIntervalNanoseconds, cname: settings.cname)
    }

    var isStarted: Bool { startTime != nil }

    /// The earliest time this session wants to run again.
    var nextDeadline: Int64? {
        switch (sender?.nextDeadline, rtcp.nextDeadline) {
        case let (a?, b?): min(a, b)
        case let (a?, nil): a
        case let (nil, b?): b
        case (nil, nil): nil
        }
    }

    // MARK: Start

    static func validate(_ p: MediaParameters) throws(MediaEngineError) {
        guard p.law != nil else {
            throw MediaEngineError(.invalidParameters, "payload type \(p.payloadType) is not G.711 (0 PCMU or 8 PCMA)")
        }
        guard (10...120).contains(p.ptimeMs), p.ptimeMs % 10 == 0 else {
            throw MediaEngineError(.invalidParameters, "ptime \(p.ptimeMs) ms: need a multiple of 10 in 10...120")
        }
        for tone in [p.toneFrequency] + (p.expectedRemoteToneFrequency.map { [$0] } ?? []) where !(1..<4000).contains(tone) {
            throw MediaEngineError(.invalidParameters, "tone \(tone) Hz: need 1...3999 Hz at 8 kHz")
        }
        if let event = p.telephoneEventPayloadType {
            guard event < 128, event != p.payloadType, !RTPPacket.rtcpConflictingPayloadTypes.contains(event) else {
                throw MediaEngineError(.invalidParameters, "telephone-event payload type \(event) is not usable")
            }
        }
        guard p.remote.port != 0 else {
            throw MediaEngineError(.invalidParameters, "remote port 0 (a rejected or inactive stream)")
        }
        guard p.watchTones.count <= ToneWatch.maximumTones else {
            throw MediaEngineError(.invalidParameters, "\(p.watchTones.count) watched tones: at most \(ToneWatch.maximumTones)")
        }
        for tone in p.watchTones where !(1..<4000).contains(tone) {
            throw MediaEngineError(.invalidParameters, "watched tone \(tone) Hz: need 1...3999 Hz at 8 kHz")
        }
        if p.bridge != nil, p.ptimeMs != 20 {
            throw MediaEngineError(.invalidParameters, "ptime \(p.ptimeMs) ms: a bridge member needs 20 ms (the mixer's period)")
        }
    }

    /// Starts counting at monotonic `now` and sending at `origin` (packet 0's due time; by
    /// default `now` rounded up to the start alignment — the loop picks a less busy phase).
    /// Datagrams that arrived early are replayed first.
    mutating func start(_ p: MediaParameters, now: Int64, origin: Int64? = nil, frames: SignalFrames,
                        clock: NTPClock) throws(MediaEngineError) {
        guard startTime == nil else { throw MediaEngineError(.alreadyStarted, "session \(id) is already started") }
        try Self.validate(p)
        try checkReachable(p.remote)
        let law = p.law ?? .muLaw
        let alignment = max(1, settings.startAlignmentNanoseconds)
        let origin = max(now, origin ?? (now + alignment - 1) / alignment * alignment)
        // RFC 3550 §5.1: initial sequence number and timestamp SHOULD be random; §8.1 SSRC random.
        let ssrc = p.ssrc ?? UInt32(truncatingIfNeeded: random.next())
        let initialSequence = UInt16(truncatingIfNeeded: random.next())
        let initialTimestamp = UInt32(truncatingIfNeeded: random.next())
        parameters = p
        startTime = now
        sender = RTPSender(
            ssrc: ssrc, payloadType: p.payloadType, eventPayloadType: p.telephoneEventPayloadType, ptimeMs: p.ptimeMs,
            origin: origin, startTime: now, initialSequence: initialSequence, initialTimestamp: initialTimestamp, frames: frames,
            bridged: p.bridge != nil)
        receiver = RTPReceiver(
            payloadType: p.payloadType, law: law, eventPayloadType: p.telephoneEventPayloadType, ptimeMs: p.ptimeMs,
            expectedTone: p.expectedRemoteToneFrequency, startTime: now, jitterBufferMs: settings.jitterBufferMs,
            watchTones: p.watchTones)
        rtpDestination = p.remote
        rtcpDestination = p.rtcpRemote
        rtcp.schedule(after: now, first: true, random: &random)
        seconds.start(at: now)
        let held = early
        early = []
        for d in held {
            receive(d.bytes[...], source: d.source, tos: d.tos, truncated: false, arrival: d.arrival,
                    onRTCPSocket: d.onRTCPSocket, clock: clock)
        }
    }

    /// A re-INVITE moved the remote: send there from now on, and latch afresh.
    mutating func updateRemote(_ remote: MediaEndpoint, rtcpPort: UInt16?) throws(MediaEngineError) {
        guard var p = parameters else { throw MediaEngineError(.notStarted, "session \(id) is not started") }
        p.remote = remote
        p.rtcpRemotePort = rtcpPort
        try Self.validate(p)
        try checkReachable(remote)
        parameters = p
        rtpDestination = p.remote
        rtcpDestination = p.rtcpRemote
        latchedRTP = nil
        latchedRTCP = nil
    }

    private func checkReachable(_ remote: MediaEndpoint) throws(MediaEngineError) {
        guard local.canReach(remote) else {
            throw MediaEngineError(.invalidAddress, "a socket on \(local.host) cannot send to \(remote) (another address family)")
        }
    }

    mutating func queueDigits(_ digits: String, durationMs: Int, gapMs: Int) throws(MediaEngineError) {
        guard var sender, let p = parameters else { throw MediaEngineError(.notStarted, "session \(id) is not started") }
        guard p.telephoneEventPayloadType != nil else {
            throw MediaEngineError(.invalidParameters, "no telephone-event payload type was negotiated")
        }
        guard !sender.isStopped else { throw MediaEngineError(.invalidParameters, "session \(id) has stopped sending") }
        guard (10...8000).contains(durationMs), (0...10_000).contains(gapMs) else {
            throw MediaEngineError(.invalidParameters, "digit duration \(durationMs) ms / gap \(gapMs) ms out of range (10...8000 / 0...10000)")
        }
        var requests: [RTPSender.DigitRequest] = []
        for character in digits {
            guard let digit = DTMFDigit(character: character) else {
                throw MediaEngineError(.invalidParameters, "\"\(character)\" is not a DTMF digit (0-9 * # A-D)")
            }
            requests.append(RTPSender.DigitRequest(digit: digit, durationMs: durationMs, gapMs: gapMs))
        }
        sender.queue(requests)
        self.sender = sender
    }

    /// Bridge regenerate mode: a digit another member sent, of its measured length (no gap
    /// after it: the audio resumes at once). Ignored without a telephone-event payload type.
    mutating func queueRegenerated(_ digit: DTMFDigit, durationMs: Int) -> Bool {
        guard parameters?.telephoneEventPayloadType != nil, sender?.isStopped == false else { return false }
        sender?.queue([RTPSender.DigitRequest(digit: digit, durationMs: min(8000, max(10, durationMs)), gapMs: 0)])
        return true
    }

    /// Bridge relay mode: another member's telephone-event packet, passed on at the next tick.
    mutating func relay(_ event: RTPSender.RelayedEvent) -> Bool {
        guard parameters?.telephoneEventPayloadType != nil, sender?.isStopped == false else { return false }
        sender?.relay(event)
        return true
    }

    /// Digits the receiver has completed so far.
    var receivedDigits: [RTPReceiver.ReceivedDigit] { receiver?.digits ?? [] }

    // MARK: Time

    /// Puts every RTP packet due by `now` and a due RTCP report into `outbox`.
    mutating func runDue(now: Int64, clock: NTPClock, into outbox: inout Outbox) {
        closeSeconds(upTo: now)
        sender?.emitDue(now: now, into: &outbox, bridgeFrame: bridgeFrame)
        if let due = rtcp.nextDeadline, due <= now, let sender {
            outbox.append(rtcp: rtcp.makeReport(now: now, clock: clock, sender: sender, receiver: &receiver, bye: false))
            rtcp.schedule(after: now, first: false, random: &random)
        }
    }

    /// Ends the outgoing stream: no more RTP, and an SR with the final counts so that the
    /// remote can compare what it received with what was sent. RTCP keeps going; `finish`
    /// still sends BYE.
    mutating func stopSending(now: Int64, clock: NTPClock, into outbox: inout Outbox) {
        guard var sender, !sender.isStopped else { return }
        sender.emitDue(now: now, into: &outbox)
        sender.stop()
        self.sender = sender
        outbox.append(rtcp: rtcp.makeReport(now: now, clock: clock, sender: sender, receiver: &receiver, bye: false))
    }

    /// Ends the session: a final SR + SDES + BYE (RFC 3550 §6.6; with two members the BYE
    /// goes at once, §6.3.7), events still pending are flushed.
    mutating func finish(now: Int64, clock: NTPClock, into outbox: inout Outbox) {
        guard stoppedAt == nil else { return }
        stoppedAt = now
        rtcp.cancel()
        receiver?.expireEvents(now: now, timeout: nil)
        guard var sender else { return }
        sender.stop()
        self.sender = sender
        outbox.append(rtcp: rtcp.makeReport(now: now, clock: clock, sender: sender, receiver: &receiver, bye: true))
    }

    // MARK: Receive

    /// Classifies and records one datagram from the RTP socket (`onRTCPSocket` false) or the
    /// RTCP socket. Junk is counted and otherwise ignored.
    @discardableResult
    mutating func receive(_ datagram: ArraySlice<UInt8>, source: MediaEndpoint, tos: UInt8?, truncated: Bool,
                          arrival: Int64, onRTCPSocket: Bool, clock: NTPClock) -> Accepted? {
        if truncated {
            junk.oversize += 1
            return nil
        }
        guard isStarted, stoppedAt == nil else {
            if stoppedAt == nil, early.count < settings.earlyPacketLimit {
                early.append(EarlyDatagram(bytes: Array(datagram), source: source, tos: tos, arrival: arrival, onRTCPSocket: onRTCPSocket))
                earlyPackets += 1
            } else {
                junk.beforeStart += 1
            }
            return nil
        }
        closeSeconds(upTo: arrival)
        // RFC 5761 §4: RTCP on the RTP port (rtcp-mux) is told apart by its packet type.
        if onRTCPSocket || RTCPHeader.isRTCP(datagram) {
            receiveRTCP(datagram, source: source, arrival: arrival, clock: clock)
            return nil
        }
        return receiveRTP(datagram, source: source, tos: tos, arrival: arrival)
    }

    private var latching: Bool { parameters?.latchToSource ?? false }

    /// Format first (so garbage is counted as what it is wherever it came from), then the
    /// source, then payload type and SSRC.
    private mutating func receiveRTP(_ datagram: ArraySlice<UInt8>, source: MediaEndpoint, tos: UInt8?, arrival: Int64) -> Accepted? {
        guard let view = RTPReceiver.parse(datagram, junk: &junk) else { return nil }
        if latching, let latched = latchedRTP, latched != source {
            junk.unexpectedSource += 1
            return nil
        }
        // Mutated in place (optional chaining): a copy would duplicate its buffers per packet.
        guard let kind = receiver?.receive(view, in: datagram, tos: tos, arrival: arrival, junk: &junk) else { return nil }
        if latching, latchedRTP == nil {
            // Symmetric RTP (RFC 4961) with latching: answer where the media comes from.
            latchedRTP = source
            rtpDestination = source
        }
        return Accepted(kind: kind, view: view)
    }

    private mutating func receiveRTCP(_ datagram: ArraySlice<UInt8>, source: MediaEndpoint, arrival: Int64, clock: NTPClock) {
        let compound: RTCPCompoundPacket
        do {
            // RFC 3550 A.2: the first packet must be SR or RR; reduced-size RTCP (RFC 5506)
            // is accepted too, as some peers send it.
            compound = try RTCPCompoundPacket(parsing: datagram)
        } catch {
            junk.malformedRTCP += 1
            return
        }
        if latching, let latched = latchedRTCP, latched != source {
            junk.unexpectedSource += 1
            return
        }
        if latching, latchedRTCP == nil {
            latchedRTCP = source
            rtcpDestination = source
        }
        rtcp.receive(compound, arrival: arrival, clock: clock, ourSSRC: sender?.ssrc, remoteSSRC: receiver?.remoteSSRC)
    }

    /// Ends events whose end reports never came (RFC 4733 §2.5.2.2), for a live report.
    mutating func expireEvents(now: Int64) {
        receiver?.expireEvents(now: now, timeout: .milliseconds(500))
    }
}
