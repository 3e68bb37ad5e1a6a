import Pcap
import RTPCore

/// A stream's round-trip time from the RTCP in a capture, and how it was obtained.
///
/// RFC 3550 §6.4.1 defines the round trip at the *sender* of a stream: a receiver's report
/// block carries LSR (the middle 32 bits of the NTP timestamp of the sender's last SR) and
/// DLSR (how long the receiver held it); the sender computes `A − LSR − DLSR` with A its own
/// clock when the report arrives. A capture sees both reports but may sit anywhere on the
/// path, so the analysis works with the capture's clock instead:
///
/// * **Capture round trips** (preferred). An SR is matched to a later report block by its
///   LSR, both with capture timestamps; `(t_report − t_SR) − DLSR` is the time from the
///   capture point to the far end and back, independent of any host's NTP clock. Reports
///   about the stream (from its receiver) give the loop capture → receiver → capture;
///   reports about the reverse stream (from this stream's sender) give capture → sender →
///   capture. Their sum is the whole round trip wherever the capture was taken; one alone
///   equals it when the capture was taken at the other end (e.g. on the sender's host).
/// * **Sender NTP clock** (fallback, when the SR a report refers to is not in the capture):
///   A = the report's capture time as compact NTP (`NTPTimestamp(unixSeconds:nanoseconds:)
///   .compact`), i.e. RFC 3550's formula with the capture host standing in for the sender.
///   Right only when the capture was taken on the sender's host and the sender's RTCP NTP
///   clock is wall-clock time.
///
/// Samples below −`RTCPRoundTrip.roundingTolerance`/65536 s or above `RoundTripEstimate
/// .maximumPlausibleSeconds` are discarded (clocks that disagree, a report that is not
/// about this SR); the estimate is the mean of the rest.
public struct RoundTripEstimate: Hashable, Sendable {
    public enum Method: String, Hashable, Sendable, Codable {
        case captureBothDirections = "capture_both_directions"
        /// Only reports about this stream, from its receiver: right when captured at the sender.
        case captureTowardReceiver = "capture_toward_receiver"
        /// Only reports about the reverse stream, from this stream's sender: right when captured at the receiver.
        case captureTowardSender = "capture_toward_sender"
        case senderNTPClock = "sender_ntp_clock"
    }

    public static let maximumPlausibleSeconds: Double = 60

    public var rttMs: Double
    public var method: Method
    /// Report blocks the estimate is the mean of (both directions together).
    public var samples: Int
    /// Mean capture → receiver → capture loop, ms.
    public var towardReceiverMs: Double?
    /// Mean capture → sender → capture loop, ms.
    public var towardSenderMs: Double?
}

/// Collects SR sightings and report-block round-trip samples as RTCP datagrams go by.
struct RoundTripTracker: Sendable {
    private struct Sighting: Sendable {
        var ntpCompact: UInt32
        var arrival: Int64
        var source: IPAddress
    }

    struct PathKey: Hashable, Sendable {
        /// The SSRC the report block is about.
        var reportedSSRC: UInt32
        /// The reporting host (the datagram's source) and the reported sender (its destination).
        var from: IPAddress
        var to: IPAddress
    }

    struct Samples: Sendable {
        var count = 0
        var sumSeconds: Double = 0

        mutating func add(_ seconds: Double) {
            count += 1
            sumSeconds += seconds
        }

        mutating func merge(_ other: Samples) {
            count += other.count
            sumSeconds += other.sumSeconds
        }

        var meanMs: Double? { count == 0 ? nil : sumSeconds / Double(count) * 1000 }
    }

    /// Bounds on what an adversarial capture can make this keep.
    private static let sightingsPerSSRC = 16
    private static let maximumKeys = 4096

    private var senderReports: [UInt32: [Sighting]] = [:]
    private var captureSamples: [PathKey: Samples] = [:]
    private var ntpSamples: [PathKey: Samples] = [:]
    /// Report blocks with an LSR whose round trip was implausible.
    private(set) var rejectedSamples = 0

    mutating func record(_ compound: RTCPCompoundPacket, from source: IPAddress, to destination: IPAddress,
                         arrival: Int64, captureTime: CaptureTimestamp) {
        for packet in compound.packets {
            switch packet {
            case .senderReport(let report):
                addSamples(report.reports, from: source, to: destination, arrival: arrival, captureTime: captureTime)
                addSighting(ssrc: report.ssrc, Sighting(ntpCompact: report.ntpTimestamp.compact, arrival: arrival, source: source))
            case .receiverReport(let report):
                addSamples(report.reports, from: source, to: destination, arrival: arrival, captureTime: captureTime)
            default:
                break
            }
        }
    }

    private mutating func addSighting(ssrc: UInt32, _ sighting: Sighting) {
        guard senderReports[ssrc] != nil || senderReports.count < Self.maximumKeys else { return }
        var list = senderReports[ssrc, default: []]
        if list.count == Self.sightingsPerSSRC { list.removeFirst() }
        list.append(sighting)
        senderReports[ssrc] = list
    }

    private mutating func addSamples(_ blocks: [RTCPReportBlock], from source: IPAddress, to destination: IPAddress,
                                     arrival: Int64, captureTime: CaptureTimestamp) {
        let tolerance = Double(RTCPRoundTrip.roundingTolerance) / 65536
        for block in blocks where block.lastSenderReport != 0 {
            let key = PathKey(reportedSSRC: block.ssrc, from: source, to: destination)
            let hold = NTPTimestamp.seconds(compact: block.delaySinceLastSenderReport)
            // The latest SR of that SSRC, from the host this report goes to, with that LSR.
            if let sighting = senderReports[block.ssrc]?.last(where: { $0.ntpCompact == block.lastSenderReport && $0.source == destination }) {
                let rtt = (Double(arrival) - Double(sighting.arrival)) / 1e9 - hold
                if rtt >= -tolerance, rtt <= RoundTripEstimate.maximumPlausibleSeconds {
                    insert(max(0, rtt), key, into: &captureSamples)
                } else {
                    rejectedSamples += 1
                }
                continue
            }
            // The SR is not in the capture: RFC 3550 §6.4.1 with the capture time as A.
            let arrivalNTP = NTPTimestamp(unixSeconds: captureTime.seconds, nanoseconds: captureTime.nanoseconds)
            if let rtt = RTCPRoundTrip.rtt(arrival: arrivalNTP.compact, lsr: block.lastSenderReport, dlsr: block.delaySinceLastSenderReport),
               rtt <= RoundTripEstimate.maximumPlausibleSeconds {
                insert(rtt, key, into: &ntpSamples)
            } else {
                rejectedSamples += 1
            }
        }
    }

    private func canInsert(_ key: PathKey, into samples: [PathKey: Samples]) -> Bool {
        samples[key] != nil || samples.count < Self.maximumKeys
    }

    private func insert(_ seconds: Double, _ key: PathKey, into samples: inout [PathKey: Samples]) {
        guard canInsert(key, into: samples) else { return }
        samples[key, default: Samples()].add(seconds)
    }

    /// The estimate for `stream`, nil when no usable report block concerns it.
    func estimate(for stream: RTPStreamKey) -> RoundTripEstimate? {
        let sender = stream.source.address, receiver = stream.destination.address
        let towardReceiver = captureSamples[PathKey(reportedSSRC: stream.ssrc, from: receiver, to: sender)] ?? Samples()
        var towardSender = Samples()
        for (key, samples) in captureSamples where key.from == sender && key.to == receiver && key.reportedSSRC != stream.ssrc {
            towardSender.merge(samples)
        }
        switch (towardReceiver.meanMs, towardSender.meanMs) {
        case let (toReceiver?, toSender?):
            return RoundTripEstimate(rttMs: toReceiver + toSender, method: .captureBothDirections,
                                     samples: towardReceiver.count + towardSender.count,
                                     towardReceiverMs: toReceiver, towardSenderMs: toSender)
        case let (toReceiver?, nil):
            return RoundTripEstimate(rttMs: toReceiver, method: .captureTowardReceiver, samples: towardReceiver.count,
                                     towardReceiverMs: toReceiver, towardSenderMs: nil)
        case let (nil, toSender?):
            return RoundTripEstimate(rttMs: toSender, method: .captureTowardSender, samples: towardSender.count,
                                     towardReceiverMs: nil, towardSenderMs: toSender)
        case (nil, nil):
            let ntp = ntpSamples[PathKey(reportedSSRC: stream.ssrc, from: receiver, to: sender)] ?? Samples()
            guard let rtt = ntp.meanMs else { return nil }
            return RoundTripEstimate(rttMs: rtt, method: .senderNTPClock, samples: ntp.count, towardReceiverMs: nil, towardSenderMs: nil)
        }
    }
}
