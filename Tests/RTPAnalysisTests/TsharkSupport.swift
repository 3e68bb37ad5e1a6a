import Foundation
import Pcap
import Testing
#if canImport(Glibc)
import Glibc
#endif

// Running tshark from the tests. Adapted from Tests/PcapTests/InteropSupport.swift (test
// targets cannot import each other): tools found on PATH, a scratch directory, posix_spawn
// with a clean signal mask for live captures, loopback UDP sockets.

enum Tshark {
    static let path: String? = {
        let search = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return search.split(separator: ":").map { "\($0)/tshark" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static var available: Bool { path != nil }
    static let skipReason: Comment = "tshark not installed — run scripts/install-test-deps (scripts/test does)"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One row of `tshark -z rtp,streams` (Wireshark 4.0 columns).
    struct Stream: CustomStringConvertible {
        var source: String
        var sourcePort: UInt16
        var destination: String
        var destinationPort: UInt16
        var ssrc: UInt32
        var payload: String
        var packets: Int
        var lost: Int
        var minDeltaMs: Double
        var meanDeltaMs: Double
        var maxDeltaMs: Double
        var minJitterMs: Double
        var meanJitterMs: Double
        var maxJitterMs: Double
        var problems: Bool

        var description: String {
            "\(source):\(sourcePort) → \(destination):\(destinationPort) 0x\(String(ssrc, radix: 16)) \(payload) pkts \(packets) "
                + "lost \(lost) max Δ \(maxDeltaMs) jitter \(meanJitterMs)/\(maxJitterMs)"
        }

        /// `   0.000000   0.981000   127.0.0.1 16100   127.0.0.1 16200 0x11223344   g711U   48   2 (4.0%)
        ///     1.000   20.872   60.000   0.136   0.644   0.960 X`: the payload column may hold
        /// spaces, so fields are taken from both ends.
        init?(line: Substring) {
            var f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let problems = f.last == "X"
            if problems { f.removeLast() }
            guard f.count >= 17, Double(f[0]) != nil, Double(f[1]) != nil,
                  let sourcePort = UInt16(f[3]), let destinationPort = UInt16(f[5]), f[6].hasPrefix("0x"),
                  let ssrc = UInt32(f[6].dropFirst(2), radix: 16)
            else { return nil }
            let tail = Array(f.suffix(9))
            guard let packets = Int(tail[0]), let lost = Int(tail[1]),
                  let minDelta = Double(tail[3]), let meanDelta = Double(tail[4]), let maxDelta = Double(tail[5]),
                  let minJitter = Double(tail[6]), let meanJitter = Double(tail[7]), let maxJitter = Double(tail[8])
            else { return nil }
            self.source = f[2]
            self.sourcePort = sourcePort
            self.destination = f[4]
            self.destinationPort = destinationPort
            self.ssrc = ssrc
            self.payload = f[7..<(f.count - 9)].joined(separator: " ")
            self.packets = packets
            self.lost = lost
            self.minDeltaMs = minDelta
            self.meanDeltaMs = meanDelta
            self.maxDeltaMs = maxDelta
            self.minJitterMs = minJitter
            self.meanJitterMs = meanJitter
            self.maxJitterMs = maxJitter
            self.problems = problems
        }
    }

    /// tshark's RTP streams of a capture file, RTP found by its UDP heuristic (no SDP needed).
    static func streams(_ file: String) throws -> (streams: [Stream], table: String) {
        let table = try run(["-q", "-n", "-r", file, "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams"])
        return (table.split(separator: "\n").compactMap(Stream.init(line:)), table)
    }

    /// Runs tshark to completion; output goes through files so no pipe can fill up and block.
    static func run(_ arguments: [String]) throws -> String {
        guard let path else { throw Failure(description: "tshark not installed") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-tshark-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: scratch.path + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.path + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: scratch.path + ".out")
            try? FileManager.default.removeItem(atPath: scratch.path + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + ".err"))
        try process.run()
        process.waitUntilExit()
        let out = try String(contentsOfFile: scratch.path + ".out", encoding: .utf8)
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOfFile: scratch.path + ".err", encoding: .utf8)) ?? ""
            throw Failure(description: "tshark \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(err)")
        }
        return out
    }
}

/// A scratch directory removed when the test is done with it.
final class ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-rtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

// MARK: - Live capture on loopback

/// A UDP socket bound to 127.0.0.1, for sending a real RTP stream past a live capture.
final class LoopbackSocket {
    let descriptor: Int32
    let port: UInt16

    init?() {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = Self.loopback(port: 0)
        var bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        if bound == 0 {
            bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        guard bound == 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    func send(_ payload: [UInt8], to port: UInt16) -> Bool {
        var address = Self.loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == payload.count
    }
}

/// A child process started with posix_spawn and a clean signal state: Foundation's `Process`
/// hands the child the test runner's blocked-signal mask (SIGINT and SIGTERM blocked), and
/// tshark would then never stop and close its file.
final class SpawnedProcess {
    let pid: pid_t
    let outputPath: String
    let errorPath: String
    private var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String], outputPath: String, errorPath: String) throws {
        self.outputPath = outputPath
        self.errorPath = errorPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw Tshark.Failure(description: "posix_spawn \(executable): \(result)") }
        self.pid = pid
    }

    var hasExited: Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exitStatus = status }
        return exitStatus != nil
    }

    func signal(_ signal: Int32) {
        if !hasExited { kill(pid, signal) }
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// A process still running when the test is done is killed and reaped.
    deinit {
        if !hasExited {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}

/// Polls `condition` every `interval` seconds until it holds or `seconds` pass: a deadline for
/// waiting on an external process, not a timing assertion.
func waitUntil(seconds: Double, interval: Double = 0.02, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return condition()
}
