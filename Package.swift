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
        .library(name: "EarshotWire", targets: ["EarshotWire"]),
        .library(name: "OrganizerCore", targets: ["OrganizerCore"]),
        .library(name: "EarshotStore", targets: ["EarshotStore"]),
        .library(name: "OrganizerKit", targets: ["OrganizerKit"]),
        .library(name: "AgentKit", targets: ["AgentKit"]),
        .executable(name: "earshot-organizer", targets: ["earshot-organizer"]),
        .executable(name: "earshot-agent", targets: ["earshot-agent"]),
        .executable(name: "earshot-loadgen", targets: ["earshot-loadgen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
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

        // MARK: organizer and agents (DESIGN §§3–5)
        // The agent↔organizer protocol and the API's resources: versioned Codable values. Pure.
        .target(name: "EarshotWire", swiftSettings: strict),
        // Planner, run merging and classification, report aggregation: values in, values out. Pure.
        // Alert engine and webhook signing/formats (DESIGN §6) too. Crypto only for HMAC-SHA256.
        .target(
            name: "OrganizerCore",
            dependencies: ["EarshotWire", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // The storage protocol and its SQLite (GRDB) implementation.
        .target(
            name: "EarshotStore",
            dependencies: [
                "EarshotWire", "OrganizerCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The organizer daemon: HTTP API, agent WebSocket hub, scheduler, orchestration.
        .target(
            name: "OrganizerKit",
            dependencies: [
                "EarshotWire", "OrganizerCore", "EarshotStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        // The agent daemon: organizer connection, assignments run with the engine, result spool.
        .target(
            name: "AgentKit",
            dependencies: [
                "EarshotWire", "SIPStack", "SIPCore", "SIPTransaction", "MediaEngine", "CallQuality", "RTPCore", "CEarshotNet",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "earshot-organizer",
            dependencies: [
                "OrganizerKit", "EarshotStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "earshot-agent",
            dependencies: ["AgentKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // Speaks the agent protocol without media: thousands of simulated agents for benchmarks.
        .executableTarget(
            name: "earshot-loadgen",
            dependencies: [
                "EarshotWire",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        // MARK: command line
        .target(
            name: "EarshotCLI",
            dependencies: [
                "SIPCore", "SDP", "RTPCore", "CallQuality", "Pcap", "RTPAnalysis", "SIPStack", "SIPTransaction", "MediaEngine",
                "EarshotWire", "OrganizerCore", "OrganizerKit", "AgentKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
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
                "SIPStack", "SIPCore", "SIPTransaction", "MediaEngine", "RTPCore", "InteropTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // The engine against real peers: sipp, Kamailio, baresip, tshark, network namespaces.
        .testTarget(
            name: "EngineInteropTests",
            dependencies: ["SIPStack", "MediaEngine", "RTPCore", "EarshotCLI", "earshot", "Pcap", "RTPAnalysis", "InteropTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(name: "ArchitectureTests", swiftSettings: strict),
        .testTarget(name: "EarshotWireTests", dependencies: ["EarshotWire"], swiftSettings: strict),
        .testTarget(name: "OrganizerCoreTests", dependencies: ["OrganizerCore", "EarshotWire"], swiftSettings: strict),
        .testTarget(
            name: "EarshotStoreTests",
            dependencies: ["EarshotStore", "EarshotWire", "OrganizerCore", "InteropTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "OrganizerKitTests",
            dependencies: [
                "OrganizerKit", "EarshotWire", "EarshotStore", "OrganizerCore", "InteropTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "AgentKitTests",
            dependencies: ["AgentKit", "EarshotWire", "SIPStack", "MediaEngine", "RTPCore", "SIPCore", "SIPTransaction", "InteropTestSupport"],
            swiftSettings: strict
        ),
        // Organizer + agents + CLI as real processes: loopback, network namespaces, kill -9.
        .testTarget(
            name: "SystemTests",
            dependencies: ["EarshotWire", "EarshotStore", "InteropTestSupport", "earshot", "earshot-organizer", "earshot-agent",
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzProperties", "SIPCore", "SDP", "RTPCore", "Pcap"], swiftSettings: strict),
    ]
)
