import Foundation

/// A topology of scripts/peers/netns (`netns up --name NAME --replace`), with Earshot processes
/// started inside its namespaces and its counters read. `down()` tears it down (idempotent);
/// `--max-seconds` tears it down anyway if the test process dies first.
public final class NetnsTopology {
    public static let ip = "/usr/sbin/ip"
    public let name: String
    public let scratch: ScratchDirectory
    private let script: String
    private let variables: [String: String]
    private var isUp = true

    public var siteA: String { variables["NS_A"] ?? "" }
    public var siteB: String { variables["NS_B"] ?? "" }
    public var siteC: String { variables["NS_C"] ?? "" }
    public var router: String { variables["NS_R"] ?? "" }
    public var ipA: String { variables["IP_A"] ?? "" }
    public var ipB: String { variables["IP_B"] ?? "" }
    public var ipC: String { variables["IP_C"] ?? "" }
    public var natPublicIP: String { variables["NAT_PUBLIC_IP"] ?? "" }

    /// `links`: `--link` specs; `options`: more arguments of `netns up` (e.g. --nat-type).
    public init(script: String, name: String, links: [String], options: [String] = [], maxSeconds: Int = 300,
                scratch: ScratchDirectory) throws {
        self.script = script
        self.name = name
        self.scratch = scratch
        let arguments = ["up", "--name", name, "--replace", "--backend", "nfq", "--max-seconds", "\(maxSeconds)"] + options + links.flatMap { ["--link", $0] }
        let up = try Self.run(script, arguments, in: scratch, name: "netns-up", timeout: 60)
        guard up.exitCode == 0, let line = up.output.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }) else {
            throw SpawnError(description: "netns up failed: exit \(String(describing: up.exitCode))\n\(up.output)\n\(up.errors)")
        }
        var variables: [String: String] = [:]
        for token in line.split(separator: " ") {
            guard let equals = token.firstIndex(of: "=") else { continue }
            variables[String(token[..<equals])] = String(token[token.index(after: equals)...])
        }
        self.variables = variables
    }

    /// Tears the topology down; the emulator's final counters are in the RESULT line.
    public func down() {
        guard isUp else { return }
        isUp = false
        _ = try? Self.run(script, ["down", "--name", name], in: scratch, name: "netns-down", timeout: 60)
    }

    /// The emulator's counters now (`netns counters`): {"links": {"a:out": {...}, ...}}.
    public func counters() throws -> [String: Any]? {
        let process = try Self.run(script, ["counters", "--name", name], in: scratch, name: "netns-counters", timeout: 30)
        return (try? JSONSerialization.jsonObject(with: Data(process.output.utf8))) as? [String: Any]
    }

    public func iptables(_ namespace: String, _ arguments: [String]) throws {
        let process = try Self.run(Self.ip, ["netns", "exec", namespace, "iptables"] + arguments, in: scratch, name: "iptables", timeout: 30)
        guard process.exitCode == 0 else {
            throw SpawnError(description: "iptables \(arguments.joined(separator: " ")) in \(namespace): \(process.errors)")
        }
    }

    /// The packet counter of the rule tagged `--comment comment` (iptables-save -c: "[pkts:bytes] -A …").
    public func packetCount(in namespace: String, table: String, comment: String) throws -> Int {
        let process = try Self.run(Self.ip, ["netns", "exec", namespace, "iptables-save", "-c", "-t", table], in: scratch, name: "iptables-save", timeout: 30)
        guard let line = process.output.split(separator: "\n").first(where: { $0.contains("--comment \(comment)") }),
              line.hasPrefix("["), let colon = line.firstIndex(of: ":"),
              let count = Int(line[line.index(after: line.startIndex)..<colon]) else {
            throw SpawnError(description: "no rule \(comment) in \(namespace) \(table): \(process.output)")
        }
        return count
    }

    public enum Site: Sendable { case a, b, c }

    public func namespace(_ site: Site) -> String { switch site { case .a: siteA; case .b: siteB; case .c: siteC } }
    public func address(_ site: Site) -> String { switch site { case .a: ipA; case .b: ipB; case .c: ipC } }

    /// Runs a command to completion (bounded; killed when it overstays).
    public static func run(_ executable: String, _ arguments: [String], in scratch: ScratchDirectory, name: String, timeout: Double) throws -> SpawnedProcess {
        let process = try SpawnedProcess(executable, arguments, outputPath: scratch.path("\(name).out"), errorPath: scratch.path("\(name).err"))
        if !process.wait(seconds: timeout) {
            process.signal(SIGKILL)
            _ = process.wait(seconds: 5)
        }
        return process
    }

    deinit { down() }
}
