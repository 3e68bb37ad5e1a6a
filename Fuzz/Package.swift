// swift-tools-version: 6.1
// libFuzzer targets for Earshot's parsers (docs/fuzzing.md). Run them with `scripts/fuzz`;
// a plain `swift build` of this package is not enough, the targets need
// `-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library` (the script passes them).
//
// The properties each target checks live in the main package's `FuzzProperties` library, so
// `swift test` (FuzzCorpusTests) replays the committed corpora against exactly the same checks.
import Foundation
import PackageDescription

let fuzzTargets = ["FuzzSIP", "FuzzSDP", "FuzzRTP", "FuzzRTCP", "FuzzPcap"]

// A path dependency is named after its directory (`earshot`, or whatever the clone is called).
let earshot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "earshot-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(
            name: "FuzzDriver",
            dependencies: [.product(name: "FuzzProperties", package: earshot)]
        ),
    ] + fuzzTargets.map { name in
        // SwiftPM links an executable with `--defsym main=<Module>_main`; -parse-as-library
        // keeps the module from having a top-level `main` of its own, so that symbol is
        // ours and hands control to libFuzzer's driver.
        .executableTarget(
            name: name,
            dependencies: ["FuzzDriver", .product(name: "FuzzProperties", package: earshot)],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
