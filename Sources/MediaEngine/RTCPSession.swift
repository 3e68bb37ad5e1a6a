import RTPCore

/// Wall-clock NTP time derived from the monotonic clock: one reading of CLOCK_REALTIME at a
/// known monotonic instant, then monotonic differences. RTT (A − LSR − DLSR) then depends
/// only on the monotonic clock, immune to wall-clock steps during a call.
struct NTPClock: Sendable, Hashable {
    let monotonicBase: Int64
    let unixSeconds: Int64
    let unixNanoseconds: UInt32

    func timestamp(at monotonic: Int64) -> NTPTimestamp {
        let total = Int64(unixNanoseconds) + (monotonic - monotonicBase)
        var seconds = total / 1_000_000_000
        var nanos = total % 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds -= 1
        }
        return NTPTimestamp(unixSeconds: unixSeconds + seconds, nanoseconds: UInt32(nanos))
    }
}

/// RTCP of one session (RFC 3550 §6): when to report, what to report, and what the remote's
/// reports say about our stream.
struct RTCPSession: Sendable {
    /// The remote's reception report about our stream (RFC 3550 §6.4.1), the last one received.
    struct RemoteView: Sendable, Hashable {
        var reports = 0
        var fractionLost: UInt8 = 0
        var cumulativeLost: Int32 = 0
        var extendedHighestSequence: UInt32 = 0
        /// Interarrival jitter in timestamp units (A.8).
        var jitter: UInt32 = 0
    }

    struct RoundTrips: Sendable, Hashable {
        var count = 0
        var sumMs = 0.0
        var minMs = Double.infinity
        var maxMs = 0.0
        var lastMs: Double?

        mutating func add(_ ms: Double) {
            count += 1
            sumMs += ms
            minMs = min(minMs, ms)
            maxMs = max(maxMs, ms)
            lastMs = ms
        }

        var meanMs: Double? { count == 0 ? nil : sumMs / Double(count) }
    }

    let intervalNanoseconds: Int64
    let cname: String

    private(set) var nextDeadline: Int64?
    private(set) var sent = 0
    private(set) var received = 0
    private(set) var byeSent = false
    private(set) var byeReceived = false
    private(set) var byeReason: String?
    private(set) var remoteCNAME: String?
    /// The last SR from the remote: its NTP timestamp in compact form (our LSR) and when it arrived.
    private(set) var lastSenderReport: (compact: UInt32, arrival: Int64)?
    /// The remote's own counts from its last SR (sender's packet and octet count).
    private(set) var remoteSenderPackets: UInt32?
    private(set) var remoteSenderOctets: UInt32?
    private(set) var remoteView: RemoteView?
    private(set) var roundTrips = RoundTrips()

    init(intervalNanoseconds: Int64, cname: String) {
        self.intervalNanoseconds = intervalNanoseconds
        self.cname = cname
    }

    /// RFC 3550 §6.3.1: the interval is randomised to U(0.5, 1.5) × the calculated interval,
    /// so that participants do not synchronise; §6.2: the first report goes out after half the
    /// minimum interval. Two members and a fixed bandwidth share make the calculated interval
    /// the configured one; without membership changes, reconsideration (§6.3.3) changes nothing.
    mutating func schedule(after now: Int64, first: Bool, random: inout SplitMix64) {
        let base = first ? intervalNanoseconds / 2 : intervalNanoseconds
        let factor = 0.5 + Double(random.next() >> 11) / Double(1 << 53)
        nextDeadline = now + Int64(Double(base) * factor)
    }

    mutating func cancel() { nextDeadline = nil }

    /// SR + SDES CNAME (+ BYE) as one compound packet (RFC 3550 §6.1: every compound starts
    /// with a report and carries a CNAME), with a report block about the remote when it has
    /// passed A.1 validation.
    mutating func makeReport(
        now: Int64, clock: NTPClock, sender: RTPSender, receiver: inout RTPReceiver?, bye: Bool
    ) -> RTCPCompoundPacket {
        var blocks: [RTCPReportBlock] = []
        if let remoteSSRC = receiver?.remoteSSRC, let fields = receiver?.makeReportBlockFields() {
            // §6.4.1: LSR is the middle 32 bits of the last SR's NTP timestamp, DLSR the time
            // since it arrived in 1/65536 s; both 0 when no SR has arrived.
            let lsr = lastSenderReport?.compact ?? 0
            let dlsr = lastSenderReport.map { NTPTimestamp.compactDuration(nanoseconds: UInt64(max(0, now - $0.arrival))) } ?? 0
            blocks.append(RTCPReportBlock(
                ssrc: remoteSSRC, fractionLost: fields.fractionLost, cumulativeLost: fields.cumulativeLost,
                extendedHighestSequence: fields.extendedHighestSequence, jitter: fields.interarrivalJitter,
                lastSenderReport: lsr, delaySinceLastSenderReport: dlsr))
        }
        var packets: [RTCPPacket] = [
            .senderReport(RTCPSenderReport(
                ssrc: sender.ssrc, ntpTimestamp: clock.timestamp(at: now), rtpTimestamp: sender.rtpTimestamp(at: now),
                packetCount: UInt32(truncatingIfNeeded: sender.packets), octetCount: UInt32(truncatingIfNeeded: sender.payloadOctets),
                reports: blocks)),
            .sourceDescription(RTCPSourceDescription(source: sender.ssrc, cname: cname)),
        ]
        if bye {
            // §6.6: BYE goes last in the compound.
            packets.append(.goodbye(RTCPGoodbye(sources: [sender.ssrc])))
            byeSent = true
        }
        sent += 1
        return RTCPCompoundPacket(packets: packets)
    }

    /// Takes in a decoded compound from the remote.
    mutating func receive(_ compound: RTCPCompoundPacket, arrival: Int64, clock: NTPClock, ourSSRC: UInt32?,
                          remoteSSRC: UInt32?) {
        received += 1
        for packet in compound.packets {
            switch packet {
            case .senderReport(let report):
                if remoteSSRC == nil || report.ssrc == remoteSSRC {
                    lastSenderReport = (report.ntpTimestamp.compact, arrival)
                    remoteSenderPackets = report.packetCount
                    remoteSenderOctets = report.octetCount
                }
                take(report.reports, arrival: arrival, clock: clock, ourSSRC: ourSSRC)
            case .receiverReport(let report):
                take(report.reports, arrival: arrival, clock: clock, ourSSRC: ourSSRC)
            case .sourceDescription(let description):
                for chunk in description.chunks where remoteSSRC == nil || chunk.source == remoteSSRC {
                    if let cname = chunk.items.first(where: { $0.type == .cname }) { remoteCNAME = cname.text }
                }
            case .goodbye(let goodbye):
                if remoteSSRC == nil || goodbye.sources.contains(remoteSSRC!) {
                    byeReceived = true
                    byeReason = goodbye.reasonText
                }
            default:
                break
            }
        }
    }

    /// Report blocks about our SSRC: the remote's view of our stream, and the round trip
    /// A − LSR − DLSR (§6.4.1) with A our NTP time now.
    private mutating func take(_ blocks: [RTCPReportBlock], arrival: Int64, clock: NTPClock, ourSSRC: UInt32?) {
        guard let ourSSRC else { return }
        for block in blocks where block.ssrc == ourSSRC {
            var view = remoteView ?? RemoteView()
            view.reports += 1
            view.fractionLost = block.fractionLost
            view.cumulativeLost = block.cumulativeLost
            view.extendedHighestSequence = block.extendedHighestSequence
            view.jitter = block.jitter
            remoteView = view
            if let rtt = RTCPRoundTrip.rtt(arrival: clock.timestamp(at: arrival).compact, lsr: block.lastSenderReport,
                                           dlsr: block.delaySinceLastSenderReport) {
                roundTrips.add(rtt * 1000)
            }
        }
    }
}
