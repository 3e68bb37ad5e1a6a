// Support for tests that drive real tools (tshark, dumpcap, editcap today; sipp, Kamailio,
// baresip later): scratch directories, loopback UDP sockets, child processes with a clean
// signal state, and bounded waits. Shared by the test targets so each does not grow its own copy.
import Foundation
public import Pcap
#if canImport(Glibc)
import Glibc
#endif

/// A child process could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// A scratch directory removed when the test is done with it.
public final class ScratchDirectory {
    public let url: URL

    /// `prefix` names the directory after the suite using it, so leftovers can be traced.
    public init(prefix: String = "test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Removed when released, unless EARSHOT_KEEP_SCRATCH=1 (to read a failed test's logs).
    deinit {
        if ProcessInfo.processInfo.environment["EARSHOT_KEEP_SCRATCH"] == "1" { return }
        try? FileManager.default.removeItem(at: url)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    public func write(_ bytes: [UInt8], to name: String) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// A UDP socket bound to a loopback address, for sending known datagrams past a live capture.
public final class LoopbackSocket {
    public let descriptor: Int32
    public let endpoint: IPEndpoint

    /// Binds to 127.0.0.1 or ::1 on `port` (0: any free port). Nil when the family is unavailable.
    public init?(ipv6: Bool, port: UInt16 = 0) {
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

    public func send(_ payload: [UInt8], to port: UInt16) -> Bool {
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
public final class SpawnedProcess {
    public let pid: pid_t
    public let outputPath: String
    public let errorPath: String
    private var exitStatus: Int32?

    public init(_ executable: String, _ arguments: [String], outputPath: String, errorPath: String) throws {
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
        guard result == 0 else { throw SpawnError(description: "posix_spawn \(executable): \(result)") }
        self.pid = pid
    }

    public var hasExited: Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exitStatus = status }
        return exitStatus != nil
    }

    /// The exit code when the process exited normally, nil while running or when killed by a signal.
    public var exitCode: Int32? {
        guard hasExited, let status = exitStatus, status & 0x7f == 0 else { return nil }
        return (status >> 8) & 0xff
    }

    /// Waits up to `seconds` for the process to exit; returns whether it did.
    public func wait(seconds: Double) -> Bool {
        waitUntil(seconds: seconds, interval: 0.05) { hasExited }
    }

    public func signal(_ signal: Int32) {
        if !hasExited { kill(pid, signal) }
    }

    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    public var errors: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// A process still running when the test is done is asked to stop (SIGTERM, so peer scripts
    /// can stop their own children), then killed after 5 s, and reaped.
    deinit {
        if !hasExited {
            kill(pid, SIGTERM)
            if !waitUntil(seconds: 5, interval: 0.02, { hasExited }) {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
    }
}

/// Polls `condition` every `interval` seconds until it holds or `seconds` pass; returns whether
/// it held. A deadline for waiting on an external process, not a timing assertion.
public func waitUntil(seconds: Double, interval: Double = 0.02, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return condition()
}
