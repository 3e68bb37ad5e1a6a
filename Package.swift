// swift-tools-version: 6.1
// Earshot — synthetic deployment validation for voice networks.
//
// Layering (DESIGN §1): pure protocol targets at the bottom do no I/O and read no clock;
// I/O targets (NIO, GRDB, Hummingbird) drive them; executables are thin.
// `ArchitectureTests` reads `swift package dump-package` and fails when a pure target
// depends on NIOPosix, GRDB, Hummingbird or AsyncHTTPClient.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "earshot",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "earshot", targets: ["earshot"]),
        .library(name: "SIPCore", targets: ["SIPCore"]),
        .library(name: "SDP", targets: ["SDP"]),
        .library(name: "RTPCore", targets: ["RTPCore"]),
        .library(name: "CallQuality", targets: ["CallQuality"]),
        .library(name: "Pcap", targets: ["Pcap"]),
        .library(name: "RTPAnalysis", targets: ["RTPAnalysis"]),
        .library(name: "FuzzProperties", targets: ["FuzzProperties"]),
        .library(name: "SIPTransaction", targets: ["SIPTransaction"]),
        .library(name: "SIPStack", targets: ["SIPStack"]),
        .library(name: "MediaEngine", targets: ["MediaEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // MARK: pure protocol kernel
        .target(
            name: "SIPCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(name: "SDP", swiftSettings: strict),
        .target(name: "RTPCore", swiftSettings: strict),
        .target(name: "CallQuality", swiftSettings: strict),
        .target(name: "Pcap", swiftSettings: strict),
        .target(name: "RTPAnalysis", dependencies: ["Pcap", "RTPCore", "CallQuality"], swiftSettings: strict),
        // The properties the fuzz targets in Fuzz/ check, shared with FuzzCorpusTests (docs/fuzzing.md).
        .target(name: "FuzzProperties", dependencies: ["SIPCore", "SDP", "RTPCore", "Pcap"], swiftSettings: strict),

        // RFC 3261 §17 transactions, §12 dialogs, RFC 4028 session timers: values that take
        // events and return actions. No clock, no sockets.
        .target(name: "SIPTransaction", dependencies: ["SIPCore", "SDP"], swiftSettings: strict),

        // MARK: I/O
        // Socket options and calls NIO does not expose (IP_TOS/IP_RECVTOS, recvmmsg with cmsgs, timerfd).
        .target(name: "CEarshotNet"),
        // RTP/RTCP sessions on a dedicated media loop (docs/engine-media.md says why not NIO channels).
        .target(
            name: "MediaEngine",
            dependencies: ["RTPCore", "CallQuality", "CEarshotNet"],
            swiftSettings: strict
        ),
        // SIP transports (UDP/TCP/TLS on NIO), the transaction driver, the user agent.
        .target(
            name: "SIPStack",
            dependencies: [
                "SIPCore", "SDP", "SIPTransaction", "MediaEngine", "RTPCore", "CallQuality", "CEarshotNet",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // MARK: command line
        .target(
            name: "EarshotCLI",
            dependencies: [
                "SIPCore", "SDP", "RTPCore", "CallQuality", "Pcap", "RTPAnalysis", "SIPStack", "SIPTransaction", "MediaEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "earshot", dependencies: ["EarshotCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")], swiftSettings: strict),

        // MARK: tests
        .testTarget(name: "SIPCoreTests", dependencies: ["SIPCore"], resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "SDPTests", dependencies: ["SDP"], swiftSettings: strict),
        .testTarget(name: "RTPCoreTests", dependencies: ["RTPCore"], exclude: ["generate_g711_vectors.py"], swiftSettings: strict),
        .testTarget(name: "CallQualityTests", dependencies: ["CallQuality"], exclude: ["emodel_reference.py"], swiftSettings: strict),
        // Shared by test targets that drive real tools (processes, loopback sockets, scratch dirs).
        .target(name: "InteropTestSupport", dependencies: ["Pcap"], path: "Tests/InteropTestSupport", swiftSettings: strict),
        .testTarget(name: "PcapTests", dependencies: ["Pcap", "InteropTestSupport"], swiftSettings: strict),
        .testTarget(name: "RTPAnalysisTests", dependencies: ["RTPAnalysis", "Pcap", "RTPCore", "CallQuality", "InteropTestSupport"], swiftSettings: strict),
        .testTarget(name: "EarshotCLITests", dependencies: ["EarshotCLI", "earshot"], swiftSettings: strict),
        .testTarget(name: "SIPTransactionTests", dependencies: ["SIPTransaction", "SIPCore", "SDP"], swiftSettings: strict),
        .testTarget(name: "MediaEngineTests", dependencies: ["MediaEngine", "RTPCore", "CallQuality", "InteropTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "SIPStackTests",
            dependencies: [
                "SIPStack", "SIPCore", "SIPTransaction", "MediaEngine", "InteropTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // The engine against real peers: sipp, Kamailio, baresip, tshark, network namespaces.
        .testTarget(
            name: "EngineInteropTests",
            dependencies: ["SIPStack", "MediaEngine", "EarshotCLI", "earshot", "Pcap", "RTPAnalysis", "InteropTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(name: "ArchitectureTests", swiftSettings: strict),
        .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzProperties", "SIPCore", "SDP", "RTPCore", "Pcap"], swiftSettings: strict),
    ]
)
