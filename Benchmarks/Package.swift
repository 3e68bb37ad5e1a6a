// swift-tools-version: 6.1
// Earshot benchmarks — a separate package so that the main package never builds or resolves
// the benchmark harness. Run from the repository root:
//
//     swift package --package-path Benchmarks benchmark          # ours only (release build)
//     scripts/bench                                               # ours + peers, with ratios
//
// Results are recorded in BENCHMARKS.md; nothing here asserts a timing.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "earshot-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "earshot", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Deterministic inputs shared by the benchmarks and by the file generator the peers read,
        // so that ours and the peers work on byte-identical data.
        .target(
            name: "BenchmarkFixtures",
            dependencies: [
                .product(name: "SIPCore", package: "earshot"),
                .product(name: "RTPCore", package: "earshot"),
                .product(name: "Pcap", package: "earshot"),
                .product(name: "CallQuality", package: "earshot"),
            ],
            swiftSettings: strict
        ),
        // `bench-fixtures DIR`: writes the captures and samples the peers (tshark, audioop) read.
        .executableTarget(
            name: "bench-fixtures",
            dependencies: ["BenchmarkFixtures"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "EarshotBenchmarks",
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SIPCore", package: "earshot"),
                .product(name: "SDP", package: "earshot"),
                .product(name: "RTPCore", package: "earshot"),
                .product(name: "CallQuality", package: "earshot"),
                .product(name: "Pcap", package: "earshot"),
                .product(name: "EarshotWire", package: "earshot"),
                .product(name: "OrganizerCore", package: "earshot"),
            ],
            path: "Benchmarks/EarshotBenchmarks",
            swiftSettings: strict,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
