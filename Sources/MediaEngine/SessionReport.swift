import CallQuality
import RTPCore

extension SessionCore {
    /// The report as of monotonic `now` (E-model per reference/emodel.md, the same conventions
    /// as `pcap analyze`: Ppl from unique loss plus jitter-buffer discards, BurstR from the loss
    /// runs, Ta = RTT/2 + jitter buffer + ptime + look-ahead, flagged `estimated_rtt_half`).
    func report(now: Int64) -> MediaReport {
        let p = parameters
        let end = stoppedAt ?? now
        let rtt = rtcp.roundTrips
        let rttMs = rtt.meanMs
        let codec: Codec? = switch p?.payloadType {
        case 0: .pcmu
        case 8: .pcma
        default: nil
        }
        let session = MediaReport.Session(
            id: id, localAddress: local.host, rtpPort: local.port, rtcpPort: local.port &+ 1,
            remote: rtpDestination?.description, rtcpRemote: rtcpDestination?.description,
            latchedSource: latchedRTP?.description, ssrc: sender?.ssrc, remoteSSRC: receiver?.remoteSSRC,
            payloadType: p?.payloadType, telephoneEventPayloadType: p?.telephoneEventPayloadType, toneHz: p?.toneFrequency,
            startMonotonicNs: startTime, durationMs: startTime.map { Double(end - $0) / 1e6 }, stopped: stoppedAt != nil)

        let sentDigits = (sender?.digitsSent ?? []).map {
            MediaReport.Digit(digit: String($0.digit), event: DTMFDigit(character: $0.digit)?.rawValue ?? 0,
                              offsetMs: Double($0.offsetNanoseconds) / 1e6, endOffsetMs: nil,
                              durationMs: Double($0.durationMs), ending: nil)
        }
        let sent = MediaReport.Sent(
            packets: sender?.packets ?? 0, octets: sender?.payloadOctets ?? 0, audioPackets: sender?.audioPackets ?? 0,
            eventPackets: sender?.eventPackets ?? 0, dtmfDigitsSent: sentDigits,
            dtmf: String(sentDigits.compactMap { $0.digit?.first }), dscpSent: settings.dscp,
            pacingLateness: lateness, skippedTicks: sender?.skippedTicks ?? 0, sendErrors: sendErrors)

        var notes: [String] = []
        let statistics = receiver?.sequence.snapshot() ?? ReceiverStatistics(clockRate: 8000).snapshot()
        let timing = receiver?.timing.snapshot()
        let jitterBuffer = receiver?.jitterBuffer.summary ?? JitterBufferEmulator(mode: .fixed(delayMs: settings.jitterBufferMs), clockRate: 8000).summary
        let assessment = codec.flatMap {
            Self.assess(codec: $0, expected: statistics.packetsExpected, lost: statistics.packetsLost,
                        discards: jitterBuffer.lateDiscards, burstRatio: statistics.burstRatio, rttMs: rttMs,
                        ptimeMs: p?.ptimeMs, settings: settings, notes: &notes)
        }
        if assessment != nil, rttMs == nil { notes.append("no MOS-CQ: no RTCP round trip yet (LSR/DLSR)") }
        let toneReports = receiver?.toneReports
        let tracker = toneReports?.audio ?? ToneTracker().report
        let hasAudio = (timing?.packetsReceived ?? 0) > 0
        let receivedDigits = (receiver?.digits ?? []).map(Self.digit)
        var received = MediaReport.Received(
            codec: codec?.name, ptime: p?.ptimeMs, statistics: statistics,
            audioPackets: receiver?.audioPackets ?? 0, telephoneEventPackets: receiver?.eventPackets ?? 0,
            jitterMeanMs: hasAudio ? timing?.jitterMeanMs : nil, jitterMaxMs: hasAudio ? timing?.jitterMaxMs : nil,
            jitterMs: hasAudio ? timing?.jitterMs : nil,
            rttMs: rttMs, oneWayMs: rttMs.map { $0 / 2 }, oneWaySource: rttMs == nil ? nil : DelayBudget.Source.estimatedRTTHalf.rawValue,
            jbMs: settings.jitterBufferMs, jbDiscards: jitterBuffer.lateDiscards, jitterBuffer: jitterBuffer,
            assessment: assessment, dscpReceived: receiver?.firstDSCP, dscpValues: receiver?.dscpValues ?? [],
            audioOK: tracker.verdict == .continuous,
            audio: MediaReport.AudioCheck(kind: p?.expectedRemoteToneFrequency == nil ? "signal" : "tone",
                                          expectedToneHz: p?.expectedRemoteToneFrequency, tracker: tracker),
            firstPacketMs: zip(receiver?.firstArrival, startTime).map { Double($0 - $1) / 1e6 },
            dtmfDigitsReceived: receivedDigits, dtmf: String(receivedDigits.compactMap { $0.digit?.first }),
            senderReportedPackets: rtcp.remoteSenderPackets, senderReportedOctets: rtcp.remoteSenderOctets,
            byeReceived: rtcp.byeReceived, notes: notes)
        if let watch = toneReports?.watch {
            received.tones = watch.frequencies.indices.map { i in
                ToneObservation(hz: watch.frequencies[i], framesPerSecond: watch.framesPerSecond[i],
                                framesInSecond: watch.framesInSecond, meanLevelDb: watch.meanLevelDb(i),
                                tracker: watch.trackers[i].report)
            }
        }

        var remoteView: MediaReport.RemoteView?
        if let view = rtcp.remoteView {
            var remoteNotes: [String] = []
            // The remote counts from the first of our sequence numbers it saw (normally our
            // first); its extended highest sequence carries its cycle count in the high bits.
            let expected = sender.map { Int(Int64(view.extendedHighestSequence) - Int64($0.initialSequence) + 1) }
                .flatMap { $0 > 0 ? $0 : nil }
            let lost = max(0, Int(view.cumulativeLost))
            remoteView = MediaReport.RemoteView(
                reportsReceived: view.reports, fractionLost: Double(view.fractionLost) / 256,
                cumulativeLost: view.cumulativeLost, extendedHighestSequence: view.extendedHighestSequence,
                jitterMs: Double(view.jitter) * 1000 / 8000, packetsExpected: expected,
                lossPct: expected.map { 100 * Double(lost) / Double($0) },
                assessment: codec.flatMap { codec in
                    expected.flatMap {
                        Self.assess(codec: codec, expected: $0, lost: min(lost, $0), discards: 0, burstRatio: 1,
                                    rttMs: rttMs, ptimeMs: p?.ptimeMs, settings: settings, notes: &remoteNotes)
                    }
                })
        }
        return MediaReport(
            session: session, sent: sent, received: received, remoteView: remoteView,
            rtt: MediaReport.RoundTrip(samples: rtt.count, lastMs: rtt.lastMs, meanMs: rttMs,
                                       minMs: rtt.count > 0 ? rtt.minMs : nil, maxMs: rtt.count > 0 ? rtt.maxMs : nil),
            junk: junk,
            rtcp: MediaReport.RTCPCounts(sent: rtcp.sent, received: rtcp.received, byeSent: rtcp.byeSent,
                                         byeReceived: rtcp.byeReceived, byeReason: rtcp.byeReason, remoteCNAME: rtcp.remoteCNAME),
            earlyPackets: earlyPackets, seconds: seconds.seconds(end: end, totals: secondTotals()))
    }

    /// The E-model of one direction (reference/emodel.md; the same as RTPAnalysis'
    /// `StreamAccumulator.assess` for a stream whose codec and ptime are known from SDP).
    static func assess(codec: Codec, expected: Int, lost: Int, discards: Int, burstRatio: Double, rttMs: Double?,
                       ptimeMs: Int?, settings: SessionSettings, notes: inout [String]) -> CallQualityAssessment? {
        guard expected > 0 else {
            notes.append("no MOS: no packets counted yet (RFC 3550 A.1 probation not passed)")
            return nil
        }
        let measurement = StreamMeasurement(
            codec: codec, concealment: settings.concealment, packetsExpected: expected, packetsLost: lost,
            jitterBufferDiscards: discards, burstRatio: burstRatio,
            networkDelay: rttMs.map { .roundTrip(rttMs: $0) } ?? .unknown,
            jitterBufferDelayMs: settings.jitterBufferMs, ptimeMs: ptimeMs.map(Double.init))
        do {
            return try CallQualityAssessment(measurement: measurement)
        } catch {
            notes.append("no MOS: \(error.message)")
            return nil
        }
    }

    /// A received digit as reports carry it.
    static func digit(_ d: RTPReceiver.ReceivedDigit) -> MediaReport.Digit {
        MediaReport.Digit(digit: d.digit.map { String($0) }, event: d.event, offsetMs: Double(d.offsetNanoseconds) / 1e6,
                          endOffsetMs: Double(d.endOffsetNanoseconds) / 1e6, durationMs: d.durationMs,
                          ending: name(of: d.ending))
    }

    private static func name(of ending: TelephoneEventReceiver.Ending) -> String {
        switch ending {
        case .endBit: "end_bit"
        case .nextEvent: "next_event"
        case .timeout: "timeout"
        case .flushed: "flushed"
        }
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
