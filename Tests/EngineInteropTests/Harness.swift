import Foundation
import InteropTestSupport
import Testing

/// Paths and process helpers for the interop tests: the built `earshot` binary, the project's
/// peer scripts (scripts/peers/*, installed by scripts/install-test-deps) and READY lines.
enum Harness {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func script(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("scripts/peers/\(name)").path
    }

    static func fixture(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/EngineInteropTests/Fixtures/\(name)").path
    }

    /// The `earshot` executable beside the running test bundle (swift build --build-tests builds it).
    static func earshotBinary() throws -> String {
        var directories: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        directories.append(repositoryRoot.appendingPathComponent(".build/debug"))
        let found = directories.map { $0.appendingPathComponent("earshot").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "earshot binary not found in \(directories.map(\.path))")
    }

    /// Whether a peer test should run: when its tool is installed, and always under scripts/test
    /// (which installs every peer and sets EARSHOT_REQUIRE_PEERS=1), so that a missing install
    /// step fails the run instead of skipping the proof.
    static func shouldRun(_ ready: Bool) -> Bool {
        ready || ProcessInfo.processInfo.environment["EARSHOT_REQUIRE_PEERS"] == "1"
    }

    /// Whether an executable is on PATH (the peers come from scripts/install-test-deps).
    static func installed(_ tool: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
            || FileManager.default.isExecutableFile(atPath: "/usr/sbin/\(tool)")
    }

    /// Starts a process and waits for a line starting with `ready` on its standard output.
    static func start(
        _ executable: String, _ arguments: [String], in scratch: ScratchDirectory, name: String,
        ready: String? = "READY", timeout: Double = 60
    ) throws -> SpawnedProcess {
        let process = try SpawnedProcess(
            executable, arguments, outputPath: scratch.path("\(name).out"), errorPath: scratch.path("\(name).err"))
        if let ready {
            let ok = waitUntil(seconds: timeout, interval: 0.05) {
                process.output.split(separator: "\n").contains { $0.hasPrefix(ready) } || process.hasExited
            }
            guard ok, !process.hasExited else {
                throw SpawnError(description: "\(name) did not become ready: exit \(String(describing: process.exitCode))\nstdout: \(process.output)\nstderr: \(process.errors)")
            }
        }
        return process
    }

    /// The value of `key=value` on the first line starting with `prefix`.
    static func field(_ key: String, inLineStarting prefix: String, of text: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        for token in line.split(separator: " ") where token.hasPrefix("\(key)=") {
            return String(token.dropFirst(key.count + 1))
        }
        return nil
    }

    /// Parses a JSON object from text (the whole text, or the last line that is one).
    static func jsonObject(_ text: String) -> [String: Any]? {
        if let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] { return object }
        for line in text.split(separator: "\n").reversed() {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] { return object }
        }
        return nil
    }

    /// JSON objects, one per line (`earshot answer --format json` prints one per call).
    static func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// A free port on loopback for `kind` ("udp"/"tcp"), even when `even` (RTP conventions).
    static func freePort(udp: Bool = true) -> UInt16 {
        let fd = socket(AF_INET, udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// Dictionary navigation for JSON reports: `report["a.b.c"]`.
extension Dictionary where Key == String, Value == Any {
    func value(at path: String) -> Any? {
        var current: Any? = self
        for part in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(part)]
        }
        return current
    }

    func double(_ path: String) -> Double? { (value(at: path) as? NSNumber)?.doubleValue }
    func int(_ path: String) -> Int? { (value(at: path) as? NSNumber)?.intValue }
    func string(_ path: String) -> String? { value(at: path) as? String }
    func bool(_ path: String) -> Bool? { (value(at: path) as? NSNumber)?.boolValue }
}
