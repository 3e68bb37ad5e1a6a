/// The work sizes shared by the benchmarks, the fixture files and the peer scripts
/// (Benchmarks/Peers reads the same numbers from the files it is given).
public enum BenchmarkSizes {
    public static let sipCaptureMessages = 10_000
    public static let rtpCapturePackets = 100_000
    public static let rtpCaptureStreams = 50
    public static let g711Samples = 1_000_000
    /// One realistic stream for the per-packet statistics benchmarks: 10,000 packets = 200 s.
    public static let statisticsStreamPackets = 10_000
}
