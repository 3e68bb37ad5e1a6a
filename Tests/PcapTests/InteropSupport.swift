import Foundation
import Pcap
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Wireshark tools the interop tests drive, found on PATH.
enum Tools {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let tshark = find("tshark")
    static let editcap = find("editcap")
    static var available: Bool { tshark != nil && editcap != nil }
    static let skipReason: Comment = "tshark/editcap not installed — run scripts/install-test-deps (scripts/test does)"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a tool to completion; output goes through files so no pipe can fill up and block.
    @discardableResult
    static func run(_ tool: String?, _ arguments: [String]) throws -> String {
        guard let tool else { throw Failure(description: "tool not installed") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-tool-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: scratch.path + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.path + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: scratch.path + ".out")
            try? FileManager.default.removeItem(atPath: scratch.path + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + ".err"))
        try process.run()
        process.waitUntilExit()
        let out = try String(contentsOfFile: scratch.path + ".out", encoding: .utf8)
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOfFile: scratch.path + ".err", encoding: .utf8)) ?? ""
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(err)")
        }
        return out
    }
}

/// A scratch directory removed when the test is done with it.
final class ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-pcap-\(UUID().uuidString)")
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

func readFile(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// One UDP datagram as a line of `tshark -T fields`, and the same line built from our reader,
/// so the two can be compared as plain values.
struct FieldsLine: Hashable, CustomStringConvertible {
    var number: Int
    var time: String
    var source: String
    var sourcePort: String
    var destination: String
    var destinationPort: String
    var udpLength: String
    var payloadHex: String

    static let tsharkFields = ["frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "udp.srcport",
                               "ip.dst", "ipv6.dst", "udp.dstport", "udp.length", "udp.payload"]

    init(tshark line: Substring) throws {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard f.count == Self.tsharkFields.count, let number = Int(f[0]) else {
            throw Tools.Failure(description: "unexpected tshark line: \(line)")
        }
        self.number = number
        time = f[1]
        source = f[2].isEmpty ? f[3] : f[2]
        sourcePort = f[4]
        destination = f[5].isEmpty ? f[6] : f[5]
        destinationPort = f[7]
        udpLength = f[8]
        payloadHex = f[9]
    }

    init(_ datagram: UDPDatagram) {
        number = datagram.packetNumber
        time = datagram.timestamp?.description ?? "-"
        source = datagram.source.address.description
        sourcePort = String(datagram.source.port)
        destination = datagram.destination.address.description
        destinationPort = String(datagram.destination.port)
        udpLength = String(datagram.payload.count + 8)
        payloadHex = datagram.payload.map { String(format: "%02x", $0) }.joined()
    }

    var description: String { "#\(number) \(time) \(source):\(sourcePort) → \(destination):\(destinationPort) len \(udpLength) \(payloadHex.prefix(16))" }

    /// tshark's view of a capture file: every UDP datagram that is not inside an ICMP error.
    static func tshark(_ path: String, extraFields: [String] = [], options: [String] = []) throws -> [String] {
        let fields = (tsharkFields + extraFields).flatMap { ["-e", $0] }
        let output = try Tools.run(Tools.tshark, ["-n", "-r", path, "-Y", "udp && !icmp && !icmpv6", "-T", "fields",
                                                  "-E", "separator=/t", "-E", "occurrence=f"] + options + fields)
        return output.split(separator: "\n").map(String.init)
    }

    static func fromTshark(_ path: String) throws -> [FieldsLine] {
        try tshark(path).map { try FieldsLine(tshark: $0[...]) }
    }

    static func fromReader(_ path: String) throws -> [FieldsLine] {
        try UDPDatagramReader.readAll(readFile(path)).datagrams.map(FieldsLine.init)
    }
}

// MARK: - Loopback sockets

/// A UDP socket bound to a loopback address, for sending known datagrams past a live capture.
final class LoopbackSocket {
    let descriptor: Int32
    let endpoint: IPEndpoint

    /// Binds to 127.0.0.1 or ::1 on `port` (0: any free port). Nil when the family is unavailable.
    init?(ipv6: Bool, port: UInt16 = 0) {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var bound = withLoopbackAddress(ipv6: ipv6, port: port) { bind(fd, $0, $1) }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        if bound == 0 {
            bound = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        guard bound == 0 else {
            close(fd)
            return nil
        }
        let boundPort = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        descriptor = fd
        endpoint = IPEndpoint(ipv6 ? .v6(.loopback) : .v4(.loopback), boundPort)
    }

    deinit { close(descriptor) }

    func send(_ payload: [UInt8], to port: UInt16) -> Bool {
        withLoopbackAddress(ipv6: endpoint.address.isIPv6, port: port) {
            sendto(descriptor, payload, payload.count, 0, $0, $1)
        } == payload.count
    }
}

/// Calls `body` with 127.0.0.1:`port` or [::1]:`port` as a `sockaddr`.
private func withLoopbackAddress<T>(ipv6: Bool, port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    if ipv6 {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// A child process started with posix_spawn and a clean signal state.
///
/// Foundation's `Process` hands the child the test runner's blocked-signal mask, in which
/// SIGINT and SIGTERM are blocked — tshark would then never hear that it should stop and close
/// its file. Standard output and error go to files the test can poll.
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
        guard result == 0 else { throw Tools.Failure(description: "posix_spawn \(executable): \(result)") }
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

/// Polls `condition` every `interval` seconds until it holds or `seconds` pass; returns whether
/// it held. A deadline for waiting on an external process, not a timing assertion.
func waitUntil(seconds: Double, interval: Double = 0.02, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return condition()
}
