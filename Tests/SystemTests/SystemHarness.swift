import Foundation
import InteropTestSupport
import Testing

/// Organizer, agents and the CLI as real processes (the binaries `swift build --build-tests`
/// builds next to the test bundle). Every process gets its files in a scratch directory;
/// handles kill their process when released.
enum System {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func binary(_ name: String) throws -> String {
        var directories: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        directories.append(repositoryRoot.appendingPathComponent(".build/debug"))
        let found = directories.map { $0.appendingPathComponent(name).path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "\(name) not found in \(directories.map(\.path))")
    }

    static func script(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("scripts/peers/\(name)").path
    }

    /// A TCP port free on 127.0.0.1 now.
    static func freeTCPPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether root-only tests (network namespaces) can run; under scripts/test they must.
    static var canUseNetns: Bool {
        getuid() == 0 || ProcessInfo.processInfo.environment["EARSHOT_REQUIRE_PEERS"] == "1"
    }
}

/// Runs a command to completion; its stdout, stderr and exit code.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
}

func runCommand(_ executable: String, _ arguments: [String], timeout: Double = 120) throws -> CommandResult {
    let scratch = try ScratchDirectory(prefix: "cmd")
    let process = try SpawnedProcess(executable, arguments, outputPath: scratch.path("out"), errorPath: scratch.path("err"))
    guard process.wait(seconds: timeout) else {
        process.signal(SIGKILL)
        throw SpawnError(description: "\(executable) \(arguments.joined(separator: " ")) did not finish in \(timeout) s")
    }
    return CommandResult(status: process.exitCode ?? -1, stdout: process.output, stderr: process.errors)
}

/// An organizer process on a database file, reachable at `baseURL`.
final class OrganizerProcess {
    let scratch: ScratchDirectory
    let database: String
    let host: String
    private(set) var port: Int
    let adminToken = "admin-\(UUID().uuidString)"
    let readToken = "read-\(UUID().uuidString)"
    var namespace: String?
    private(set) var process: SpawnedProcess?
    private var starts = 0
    /// Whether the organizer ever came up (then its address is known to agents: keep it).
    private var everAnswered = false

    var baseURL: String { "http://\(host):\(port)" }
    var agentURL: String { "ws://\(host):\(port)/v1/agent" }

    init(scratch: ScratchDirectory, host: String = "127.0.0.1", port: Int? = nil, namespace: String? = nil,
         extraConfig: String = "") throws {
        self.scratch = scratch
        self.host = host
        self.port = port ?? System.freeTCPPort()
        self.namespace = namespace
        database = scratch.path("earshot.sqlite")
        let config = """
            heartbeat_interval: 1s
            offline_after_missed: 3
            deadline_margin: 15s
            \(extraConfig)
            """
        try config.write(toFile: scratch.path("organizer.yaml"), atomically: true, encoding: .utf8)
    }

    /// Starts (or restarts) the process and waits until the API answers.
    func start() throws {
        starts += 1
        let binary = try System.binary("earshot-organizer")
        var arguments = ["run", "--config", scratch.path("organizer.yaml"), "--db", database,
                         "--listen", "\(host):\(port)", "--admin-token", adminToken, "--read-token", readToken]
        var executable = binary
        if let namespace {
            arguments = ["netns", "exec", namespace, binary] + arguments
            executable = "/usr/sbin/ip"
        }
        let p = try SpawnedProcess(executable, arguments, outputPath: scratch.path("organizer-\(starts).out"),
                                   errorPath: scratch.path("organizer-\(starts).err"))
        process = p
        let up = waitUntil(seconds: 60, interval: 0.1) {
            p.hasExited || ((try? self.cli(["status"]))?.status == 0)
        }
        // The port was free when it was picked; a test running beside this one can take it
        // before the organizer binds it. On a first start (nobody knows the address yet) pick
        // another and try again.
        if p.hasExited, !everAnswered, starts <= 3, namespace == nil, p.errors.contains("Address already in use") {
            port = System.freeTCPPort()
            return try start()
        }
        if up, !p.hasExited { everAnswered = true }
        guard up, !p.hasExited else {
            throw SpawnError(description: "organizer did not start: exit \(String(describing: p.exitCode))\n\(p.errors)")
        }
    }

    func kill9() {
        process?.signal(SIGKILL)
        _ = process?.wait(seconds: 10)
    }

    func stop() {
        process?.signal(SIGTERM)
        _ = process?.wait(seconds: 20)
    }

    var logs: String {
        (1...max(starts, 1)).map { (try? String(contentsOfFile: scratch.path("organizer-\($0).err"), encoding: .utf8)) ?? "" }
            .joined(separator: "\n")
    }

    /// `earshot <arguments> --organizer URL --token T --format json` (run on the host unless
    /// the organizer is in a namespace, then inside it).
    func cli(_ arguments: [String], token: String? = nil, json: Bool = true, timeout: Double = 120) throws -> CommandResult {
        let binary = try System.binary("earshot")
        var args = arguments + ["--organizer", baseURL, "--token", token ?? adminToken]
        if json { args += ["--format", "json"] }
        if let namespace {
            return try runCommand("/usr/sbin/ip", ["netns", "exec", namespace, binary] + args, timeout: timeout)
        }
        return try runCommand(binary, args, timeout: timeout)
    }

    func cliJSON(_ arguments: [String]) throws -> Any {
        let result = try cli(arguments)
        guard result.status == 0, let json = result.json else {
            throw SpawnError(description: "earshot \(arguments.joined(separator: " ")) exit \(result.status): \(result.stderr)\n\(result.stdout)")
        }
        return json
    }

    /// A one-time enrollment token for `site`.
    func enrollmentToken(site: String) throws -> String {
        let json = try cliJSON(["agents", "token", "--site", site]) as? [String: Any]
        return try #require(json?["token"] as? String)
    }
}

/// An agent process with its own state directory.
final class AgentProcess {
    let name: String
    let site: String
    let state: String
    let scratch: ScratchDirectory
    let namespace: String?
    let sipListen: String
    private(set) var process: SpawnedProcess?
    private var starts = 0

    init(name: String, site: String, scratch: ScratchDirectory, namespace: String? = nil, sipListen: String = "127.0.0.1:0") {
        self.name = name
        self.site = site
        self.scratch = scratch
        self.namespace = namespace
        self.sipListen = sipListen
        state = scratch.path("agent-\(name)")
    }

    /// First start enrolls with `token`; later starts use the stored credential.
    func start(organizer: String, token: String? = nil, extra: [String] = []) throws {
        starts += 1
        let binary = try System.binary("earshot-agent")
        var arguments = ["run", "--organizer", organizer, "--state", state, "--name", name, "--site", site,
                         "--sip-listen", sipListen] + extra
        if let token { arguments += ["--enroll", token] }
        var executable = binary
        if let namespace {
            arguments = ["netns", "exec", namespace, binary] + arguments
            executable = "/usr/sbin/ip"
        }
        process = try SpawnedProcess(executable, arguments, outputPath: scratch.path("\(name)-\(starts).out"),
                                     errorPath: scratch.path("\(name)-\(starts).err"))
    }

    func kill9() {
        process?.signal(SIGKILL)
        _ = process?.wait(seconds: 10)
    }

    func stop() {
        process?.signal(SIGTERM)
        _ = process?.wait(seconds: 20)
    }

    var logs: String {
        (1...max(starts, 1)).map { i in
            ["out", "err"].map { (try? String(contentsOfFile: scratch.path("\(name)-\(i).\($0)"), encoding: .utf8)) ?? "" }
                .joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Results waiting in the spool.
    var spooled: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state + "/spool")) ?? []).filter { $0.hasSuffix(".json") }
    }
}

extension OrganizerProcess {
    /// Agents as the API lists them, by name.
    func agents() throws -> [String: [String: Any]] {
        let list = try cliJSON(["agents", "list"]) as? [[String: Any]] ?? []
        var out: [String: [String: Any]] = [:]
        for agent in list { if let name = agent["name"] as? String { out[name] = agent } }
        return out
    }

    func waitOnline(_ names: [String], seconds: Double = 60) -> Bool {
        waitUntil(seconds: seconds, interval: 0.25) {
            guard let agents = try? self.agents() else { return false }
            return names.allSatisfy { (agents[$0]?["state"] as? String) == "online" }
        }
    }

    func runs(_ filters: [String] = []) throws -> [[String: Any]] {
        try cliJSON(["runs", "list", "--limit", "1000"] + filters) as? [[String: Any]] ?? []
    }
}
