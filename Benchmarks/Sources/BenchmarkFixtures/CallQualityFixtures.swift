import CallQuality

/// The inputs both the Swift benchmarks and the Python peer (Benchmarks/Peers/emodel_peer.py)
/// score; `bench-fixtures` prints Swift's R for them so the report can show both agree.
public enum CallQualityFixtures {
    /// The E-model inputs of the peer (Benchmarks/Peers/emodel_peer.py): PCMU with PLC, 2 % loss,
    /// BurstR 1.5, Ta = 150 ms (T = Ta, Tr = 2 Ta), everything else G.107 defaults.
    public static func peerEModelParameters() -> EModelParameters {
        var p = EModelParameters()
        p.packetLossRobustness = 25.1
        p.packetLossPercent = 2
        p.burstRatio = 1.5
        p.absoluteDelayMs = 150
        p.meanOneWayDelayMs = 150
        p.roundTripDelayMs = 300
        return p
    }

    /// The measurement of the peer's `from_measurement("PCMU", True, 3000, 45, 15, 1.4, ("rtt", 160), 60, 20, 0)`.
    public static func peerMeasurement() -> StreamMeasurement {
        StreamMeasurement(codec: .pcmu, concealment: true, packetsExpected: 3000, packetsLost: 45, jitterBufferDiscards: 15,
                          burstRatio: 1.4, networkDelay: .roundTrip(rttMs: 160), jitterBufferDelayMs: 60, ptimeMs: 20)
    }
}
