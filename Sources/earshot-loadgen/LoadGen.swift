import ArgumentParser
import EarshotWire
import Foundation

/// Speaks the agent protocol without media (docs/protocol.md): thousands of simulated agents
/// against one organizer, for the benchmarks of BENCHMARKS.md (scripts/bench-organizer).
@main
struct LoadGen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "earshot-loadgen",
        abstract: "Simulated agents (no media) against an organizer: connections, heartbeats, result ingest.",
        subcommands: [AgentsCommand.self, IngestCommand.self])
}

struct OrganizerOptions: ParsableArguments {
    @Option(help: "The agent WebSocket, e.g. ws://127.0.0.1:8760/v1/agent.")
    var organizer: String

    @Option(help: "The HTTP API base, e.g. http://127.0.0.1:8760 (default: from --organizer).")
    var api: String?

    @Option(name: .customLong("admin-token"), help: "The organizer's admin bearer token (or EARSHOT_ADMIN_TOKEN).")
    var adminToken: String?

    @Option(help: "Handshakes (connect → welcome) in progress at once.")
    var ramp: Int = 200

    @Option(help: "A tag for agent names, labels and the suite (default: random).")
    var tag: String?

    var apiBase: String {
        if let api { return api.hasSuffix("/") ? String(api.dropLast()) : api }
        var base = organizer.replacingOccurrences(of: "wss://", with: "https://").replacingOccurrences(of: "ws://", with: "http://")
        if let range = base.range(of: "/v1/agent") { base.removeSubrange(range.lowerBound...) }
        return base
    }

    func apiClient() throws -> OrganizerAPI {
        guard let token = adminToken ?? ProcessInfo.processInfo.environment["EARSHOT_ADMIN_TOKEN"], !token.isEmpty else {
            throw ValidationError("--admin-token (or EARSHOT_ADMIN_TOKEN) is needed to create enrollment tokens")
        }
        return OrganizerAPI(base: apiBase, token: token)
    }

    var resolvedTag: String {
        tag ?? String(UUID().uuidString.prefix(8)).lowercased()
    }
}

func parseDuration(_ text: String, _ option: String) throws -> Duration {
    guard let d = WireDuration(parsing: text), d.seconds > 0 else {
        throw ValidationError("\(option): \"\(text)\" is not a duration (e.g. 10s, 500ms, 2m)")
    }
    return .milliseconds(Int64((d.seconds * 1000).rounded()))
}

/// Enrolls `count` agents: one token each through the API (`concurrency` requests at once).
func enrollmentTokens(_ api: OrganizerAPI, count: Int, site: String, labels: [String: String],
                      concurrency: Int = 16) async throws -> [String] {
    var tokens: [String] = []
    tokens.reserveCapacity(count)
    try await withThrowingTaskGroup(of: String.self) { group in
        var started = 0
        while started < min(concurrency, count) {
            group.addTask { try await api.createEnrollmentToken(site: site, labels: labels).token }
            started += 1
        }
        while let token = try await group.next() {
            tokens.append(token)
            if started < count {
                group.addTask { try await api.createEnrollmentToken(site: site, labels: labels).token }
                started += 1
            }
        }
    }
    return tokens
}

/// Starts `agents` and waits until all have a welcome (or gave up), or `timeout` passes.
func waitForConnections(_ fleet: Fleet, expected: Int, timeout: Duration) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if fleet.counters["connected"] + fleet.counters["connection_errors"] >= expected { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return false
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// CPU seconds (user + system) of this process, from /proc/self/stat.
func ownCPUSeconds() -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

