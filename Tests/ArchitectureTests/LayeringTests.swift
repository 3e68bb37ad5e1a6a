import Foundation
import Testing

/// DESIGN §1: pure targets do no I/O and depend on no NIOPosix, GRDB, Hummingbird or
/// AsyncHTTPClient. This reads the manifest as SwiftPM sees it and walks each pure target's
/// dependency closure (targets of this package and the products they name).
@Suite struct LayeringTests {
    static let pureTargets = ["SIPCore", "SDP", "SIPTransaction", "RTPCore", "CallQuality", "Pcap", "RTPAnalysis", "FuzzProperties", "EarshotWire", "OrganizerCore"]
    static let forbidden = ["NIOPosix", "NIO", "NIOCore", "GRDB", "Hummingbird", "HummingbirdCore", "AsyncHTTPClient", "WSClient", "HummingbirdWebSocket"]

    struct Manifest: Decodable {
        struct Target: Decodable {
            let name: String
            let type: String
            let dependencies: [Dependency]
        }
        let targets: [Target]
    }

    /// `dump-package` encodes a dependency as `{"byName": [name, cond]}`,
    /// `{"target": [name, cond]}` or `{"product": [name, package, moduleAliases, cond]}`.
    struct Dependency: Decodable {
        let name: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            guard let key = container.allKeys.first else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "empty dependency"))
            }
            var list = try container.nestedUnkeyedContainer(forKey: key)
            name = try list.decode(String.self)
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func packageRoot() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func dumpPackage() throws -> Manifest {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A scratch path of its own: `swift test` holds the lock on .build while tests run.
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("earshot-dump-package-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        process.arguments = [
            "swift", "package", "--package-path", packageRoot().path,
            "--scratch-path", scratch.path, "--disable-dependency-cache", "dump-package",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try JSONDecoder().decode(Manifest.self, from: data)
    }

    /// Every name reachable from `target` through this package's targets.
    static func closure(of target: String, in manifest: Manifest) -> Set<String> {
        let byName = Dictionary(uniqueKeysWithValues: manifest.targets.map { ($0.name, $0) })
        var seen: Set<String> = []
        var stack = [target]
        while let next = stack.popLast() {
            for dep in byName[next]?.dependencies ?? [] where seen.insert(dep.name).inserted {
                stack.append(dep.name)
            }
        }
        return seen
    }

    @Test func pureTargetsExistAndAvoidIOLibraries() throws {
        let manifest = try Self.dumpPackage()
        let names = Set(manifest.targets.map(\.name))
        for pure in Self.pureTargets {
            #expect(names.contains(pure), "pure target \(pure) missing from the manifest")
            let reach = Self.closure(of: pure, in: manifest)
            let bad = reach.intersection(Self.forbidden)
            #expect(bad.isEmpty, "pure target \(pure) reaches \(bad.sorted())")
        }
    }

    @Test func closureFindsTransitiveDependencies() throws {
        // The checker itself must be able to fail: RTPAnalysis reaches RTPCore through its list,
        // and the executable reaches ArgumentParser through EarshotCLI.
        let manifest = try Self.dumpPackage()
        #expect(Self.closure(of: "RTPAnalysis", in: manifest).contains("RTPCore"))
        #expect(Self.closure(of: "earshot", in: manifest).contains("ArgumentParser"))
    }

    @Test func pureSourcesImportNoIOModules() throws {
        // A second line of defence: a pure target's sources may not import an I/O module
        // even if the manifest were to grow one by accident of a transitive product.
        let fm = FileManager.default
        let importPattern = try Regex(#"(?m)^\s*(?:@\w+\s+)*(?:public |package |internal )?import\s+(\w+)"#)
        for pure in Self.pureTargets {
            let dir = Self.packageRoot().appendingPathComponent("Sources/\(pure)")
            let files = try fm.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }
            for file in files {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                for match in text.matches(of: importPattern) {
                    let module = String(match.output[1].substring ?? "")
                    #expect(!Self.forbidden.contains(module) && module != "NIOCore" && module != "Dispatch",
                            "\(pure)/\(file) imports \(module)")
                }
            }
        }
    }
}
