import MediaEngine
import RTPCore

/// Polls `condition` every 10 ms until it holds or `seconds` pass (a bounded wait for an
/// event, not a timing assertion).
func eventually(seconds: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

func loopback(_ port: UInt16) -> MediaEndpoint {
    MediaEndpoint(host: "127.0.0.1", port: port)!
}

/// An engine on 127.0.0.1 with its own port range (tests run in parallel) and a short RTCP
/// interval. Test ranges lie in 23000–23999, below Linux's ephemeral ports (32768–60999), so
/// that no outgoing socket of another program takes a port a test names.
func makeEngine(ports: ClosedRange<UInt16>, rtcpInterval: Double = 0.3, seed: UInt64 = 42) throws -> MediaEngine {
    try MediaEngine(configuration: MediaEngine.Configuration(
        portRange: ports, bindAddress: "127.0.0.1", rtcpIntervalSeconds: rtcpInterval, seed: seed))
}

/// Waits until `session` has sent at least `packets` RTP packets.
func waitUntilSent(_ engine: MediaEngine, _ session: MediaSession, packets: Int, seconds: Double = 30) async throws -> Bool {
    try await eventually(seconds: seconds) { try await engine.report(session).sent.packets >= packets }
}
