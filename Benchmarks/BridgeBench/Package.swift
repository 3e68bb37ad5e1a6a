// swift-tools-version: 6.1
// The conference-bridge benchmark (issue 6): a package of its own, so that it builds only
// MediaEngine and what it needs (not the harness in ../Package.swift). Run it through
// scripts/bench-bridge, which builds it in release mode and records the result.
import PackageDescription

let package = Package(
    name: "earshot-bench-bridge",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "earshot", path: "../..")],
    targets: [
        .executableTarget(
            name: "bench-bridge",
            dependencies: [
                .product(name: "MediaEngine", package: "earshot"),
                .product(name: "RTPCore", package: "earshot"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]
        ),
    ]
)
