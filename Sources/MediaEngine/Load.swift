import CallQuality
import RTPCore

/// Many sessions at once, for benchmarks (100 / 500 / 1,000 concurrent calls): open, pair,
/// start and stop them in bulk, and sum their reports.
extension MediaEngine {
    /// One call of a load: a session on each engine, sending to each other.
    public struct LoadCall: Sendable, Hashable {
        public let caller: MediaSession
        public let callee: MediaSession
    }

    /// Opens `count` sessions (each a port pair; a fresh engine hands out its range from the
    /// bottom, two ports per session).
    public func openSessions(count: Int, localAddress: String? = nil) async throws(MediaEngineError) -> [MediaSession] {
        var sessions: [MediaSession] = []
        sessions.reserveCapacity(count)
        for _ in 0..<count { sessions.append(try await openSession(localAddress: localAddress)) }
        return sessions
    }

    /// Starts `sessions[i]` towards `remotes[i]` with `template` (its `remote` and, when
    /// `ssrc` is set, its SSRC — which then grows by i — are replaced per session). For a
    /// load between two processes: each opens its sessions, they exchange port lists, each
    /// starts towards the other's.
    public func startAll(_ sessions: [MediaSession], remotes: [MediaEndpoint], template: MediaParameters) async throws(MediaEngineError) {
        guard sessions.count == remotes.count else {
            throw MediaEngineError(.invalidParameters, "\(sessions.count) sessions but \(remotes.count) remotes")
        }
        for (i, session) in sessions.enumerated() {
            var p = template
            p.remote = remotes[i]
            p.rtcpRemotePort = nil
            p.ssrc = template.ssrc.map { $0 &+ UInt32(truncatingIfNeeded: i) }
            try await start(session, p)
        }
    }

    /// `count` calls between `caller` and `callee` (which may be the same engine), on
    /// `host` (a loopback address in tests and benchmarks): each side sends its tone and
    /// checks the other's.
    public static func openCalls(
        count: Int, caller: MediaEngine, callee: MediaEngine, host: String = "127.0.0.1",
        payloadType: UInt8 = 0, callerTone: Int = 1750, calleeTone: Int = 1850
    ) async throws(MediaEngineError) -> [LoadCall] {
        let callers = try await caller.openSessions(count: count, localAddress: host)
        let callees = try await callee.openSessions(count: count, localAddress: host)
        func endpoints(_ sessions: [MediaSession]) throws(MediaEngineError) -> [MediaEndpoint] {
            var result: [MediaEndpoint] = []
            for session in sessions {
                guard let endpoint = MediaEndpoint(host: host, port: session.rtpPort) else {
                    throw MediaEngineError(.invalidAddress, "\"\(host)\" is not a numeric address")
                }
                result.append(endpoint)
            }
            return result
        }
        let any = try endpoints(callees)[0]
        try await callee.startAll(callees, remotes: try endpoints(callers), template: MediaParameters(
            remote: any, payloadType: payloadType, toneFrequency: calleeTone, expectedRemoteToneFrequency: callerTone))
        try await caller.startAll(callers, remotes: try endpoints(callees), template: MediaParameters(
            remote: any, payloadType: payloadType, toneFrequency: callerTone, expectedRemoteToneFrequency: calleeTone))
        return zip(callers, callees).map { LoadCall(caller: $0, callee: $1) }
    }

    /// Stops every session (sessions already gone are skipped) and sums their reports.
    public func stopAll(_ sessions: [MediaSession]) async -> LoadSummary {
        var summary = LoadSummary()
        for session in sessions {
            guard let report = try? await stop(session) else { continue }
            summary.add(report)
        }
        return summary
    }
}

/// The sum of many sessions' reports.
public struct LoadSummary: Sendable, Encodable {
    public var sessions = 0
    public var packetsSent = 0
    public var packetsReceived = 0
    public var packetsExpected = 0
    public var packetsLost = 0
    public var duplicates = 0
    public var jbDiscards = 0
    /// Sessions whose audio check passed.
    public var audioOK = 0
    public var jitterMaxMs = 0.0
    public var minimumMOSCQ: Double?
    public var junk = JunkCounters()
    public var sendErrors = 0
    /// Pacing lateness of every packet of every session, µs.
    public var lateness = LatenessHistogram()

    public init() {}

    public mutating func add(_ report: MediaReport) {
        sessions += 1
        packetsSent += report.sent.packets
        let s = report.received.statistics
        packetsReceived += s.packetsReceived
        packetsExpected += s.packetsExpected
        packetsLost += s.packetsLost
        duplicates += s.duplicates
        jbDiscards += report.received.jbDiscards
        if report.received.audioOK { audioOK += 1 }
        jitterMaxMs = max(jitterMaxMs, report.received.jitterMaxMs ?? 0)
        if let mos = report.received.assessment?.mosCQ { minimumMOSCQ = min(minimumMOSCQ ?? mos, mos) }
        junk.merge(report.junk)
        sendErrors += report.sent.sendErrors
        lateness.merge(report.sent.pacingLateness)
    }

    enum CodingKeys: String, CodingKey {
        case sessions, packetsSent = "packets_sent", packetsReceived = "packets_received"
        case packetsExpected = "packets_expected", packetsLost = "packets_lost", duplicates, jbDiscards = "jb_discards"
        case audioOK = "audio_ok", jitterMaxMs = "jitter_max_ms", minimumMOSCQ = "min_mos_cq", junk
        case sendErrors = "send_errors", lateness = "pacing_lateness_us"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sessions, forKey: .sessions)
        try c.encode(packetsSent, forKey: .packetsSent)
        try c.encode(packetsReceived, forKey: .packetsReceived)
        try c.encode(packetsExpected, forKey: .packetsExpected)
        try c.encode(packetsLost, forKey: .packetsLost)
        try c.encode(duplicates, forKey: .duplicates)
        try c.encode(jbDiscards, forKey: .jbDiscards)
        try c.encode(audioOK, forKey: .audioOK)
        try c.encode(jitterMaxMs, forKey: .jitterMaxMs)
        try c.encode(minimumMOSCQ, forKey: .minimumMOSCQ)
        try c.encode(junk, forKey: .junk)
        try c.encode(sendErrors, forKey: .sendErrors)
        try c.encode(lateness.summary, forKey: .lateness)
    }
}
