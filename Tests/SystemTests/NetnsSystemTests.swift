import Foundation
import InteropTestSupport
import Testing

/// The system across subnets: scripts/peers/netns builds site-a, site-b and site-c (behind
/// NAT) joined by a router; the organizer runs in site-a, one agent per site.
@Suite("System across network namespaces", .serialized, .enabled(if: System.canUseNetns, "needs root (network namespaces)"))
struct NetnsSystemTests {
    static func topology(_ name: String, links: [String] = [], scratch: ScratchDirectory, maxSeconds: Int = 600) throws -> NetnsTopology {
        try NetnsTopology(script: System.script("netns"), name: name, links: links, maxSeconds: maxSeconds, scratch: scratch)
    }

    /// Organizer in site-a; agents in a, b and c (c behind NAT dials out through it). The mesh
    /// runs; pairs an agent can reach pass with both directions measured; calls *to* the NATed
    /// agent cannot be placed directly and end `not_run` with a cause that says why.
    @Test func meshAcrossSitesWithANATedAgent() throws {
        let scratch = try ScratchDirectory(prefix: "sys-netns")
        let net = try Self.topology("es-sys", scratch: scratch)
        defer { net.down() }
        let organizer = try OrganizerProcess(scratch: scratch, host: net.ipA, port: 8760, namespace: net.siteA)
        try organizer.start()
        defer { organizer.stop() }
        let agents = try startSiteAgents(net, organizer: organizer, scratch: scratch)
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(agents.map(\.name)), "\(agents.map(\.logs).joined())")
        // The organizer sees site-c's agent at the NAT's public address.
        let listed = try organizer.agents()
        #expect(listed["site-c"]?["remote_address"] as? String == net.natPublicIP)

        let suite = scratch.path("mesh.yaml")
        try """
            name: sites
            type: p2p
            interval: 1h
            duration: 4s
            """.write(toFile: suite, atomically: true, encoding: .utf8)
        #expect(try organizer.cli(["suites", "apply", "-f", suite]).status == 0)
        let round = try organizer.cliJSON(["suites", "run", "sites"]) as? [String: Any]
        let planned = (round?["run_ids"] as? [String] ?? []) + ((round?["not_run"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? [])
        #expect(planned.count == 6)

        var runs: [[String: Any]] = []
        #expect(waitUntil(seconds: 120, interval: 1) {
            // This round's runs (the suite's first timetabled round comes later in the hour).
            runs = ((try? organizer.runs(["--suite", "sites"])) ?? []).filter { planned.contains($0["id"] as? String ?? "") }
            return runs.count == 6 && runs.allSatisfy { ["passed", "degraded", "failed", "not_run"].contains($0["status"] as? String ?? "") }
        }, "\(runs.map { "\($0["participants"] ?? "") \($0["status"] ?? "")" })")
        var byPair: [String: [String: Any]] = [:]
        for run in runs {
            let names = run["participants"] as? [String] ?? []
            byPair[names.joined(separator: ">")] = run
        }
        for pair in ["site-a>site-b", "site-b>site-a", "site-c>site-a", "site-c>site-b"] {
            #expect(byPair[pair]?["status"] as? String == "passed", "\(pair): \(byPair[pair] ?? [:])")
        }
        for pair in ["site-a>site-c", "site-b>site-c"] {
            #expect(byPair[pair]?["status"] as? String == "not_run", "\(pair): \(byPair[pair] ?? [:])")
            let cause = byPair[pair]?["cause"] as? [String: Any]
            #expect(cause?["code"] as? String == "unreachable")
        }
        // A NATed caller's media: both directions measured, through the NAT by latching.
        let natRun = try #require(byPair["site-c>site-a"]?["id"] as? String)
        let detail = try organizer.cliJSON(["runs", "show", natRun]) as? [String: Any]
        let directions = detail?["directions"] as? [[String: Any]] ?? []
        #expect(directions.count == 2)
        #expect(directions.allSatisfy { ($0["packets_received"] as? Int ?? 0) >= 190 && $0["packets_lost"] as? Int == 0 })
    }

    /// An agent cut off from the organizer for three minutes: its run in flight completes, the
    /// result waits in its spool, and arrives (stored, with its own report time) after the
    /// agent is back.
    @Test func agentCutOffForMinutesDeliversItsResultsAfter() throws {
        let scratch = try ScratchDirectory(prefix: "sys-cut")
        let net = try Self.topology("es-cut", scratch: scratch)
        defer { net.down() }
        let organizer = try OrganizerProcess(scratch: scratch, host: net.ipA, port: 8760, namespace: net.siteA)
        try organizer.start()
        defer { organizer.stop() }
        let a = AgentProcess(name: "cut-a", site: "a", scratch: scratch, namespace: net.siteA, sipListen: "\(net.ipA):5060")
        let b = AgentProcess(name: "cut-b", site: "b", scratch: scratch, namespace: net.siteB, sipListen: "\(net.ipB):5060")
        try a.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: "a"))
        try b.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: "b"))
        defer { a.stop(); b.stop() }
        #expect(organizer.waitOnline(["cut-a", "cut-b"]))
        let suite = scratch.path("cut.yaml")
        try """
            name: cut
            type: p2p
            topology: {kind: pairs, pairs: [[cut-b, cut-a]]}
            interval: 1h
            duration: 30s
            """.write(toFile: suite, atomically: true, encoding: .utf8)
        #expect(try organizer.cli(["suites", "apply", "-f", suite]).status == 0)
        let round = try organizer.cliJSON(["suites", "run", "cut"]) as? [String: Any]
        let runID = try #require((round?["run_ids"] as? [String])?.first)
        #expect(waitUntil(seconds: 30, interval: 0.25) {
            ((try? organizer.runs(["--suite", "cut"])) ?? []).contains { $0["id"] as? String == runID && $0["status"] as? String == "running" }
        })
        // Cut site-b off from the organizer (only the organizer's port: the call goes on).
        let rule = ["FORWARD", "-s", net.ipB, "-d", net.ipA, "-p", "tcp", "--dport", "8760", "-j", "DROP"]
        let back = ["FORWARD", "-s", net.ipA, "-d", net.ipB, "-p", "tcp", "--sport", "8760", "-j", "DROP"]
        try net.iptables(net.router, ["-I"] + rule)
        try net.iptables(net.router, ["-I"] + back)
        let cutAt = Date()
        #expect(waitUntil(seconds: 15, interval: 0.5) { ((try? organizer.agents()) ?? [:])["cut-b"]?["state"] as? String == "offline" })
        // The call ends (30 s) while cut: the caller's result waits in its spool.
        #expect(waitUntil(seconds: 60, interval: 1) { !b.spooled.isEmpty }, "cut-b spool stays empty: \(b.logs.suffix(2000))")
        Thread.sleep(forTimeInterval: max(0, 180 - Date().timeIntervalSince(cutAt)))
        try net.iptables(net.router, ["-D"] + rule)
        try net.iptables(net.router, ["-D"] + back)
        let restoredAt = Date()

        #expect(organizer.waitOnline(["cut-b"], seconds: 120))
        #expect(waitUntil(seconds: 60, interval: 1) { b.spooled.isEmpty }, "spool drained")
        let detail = try organizer.cliJSON(["runs", "show", runID]) as? [String: Any]
        let participants = detail?["participants"] as? [[String: Any]] ?? []
        let caller = participants.first { $0["name"] as? String == "cut-b" }
        let reportedAt = (caller?["reported_at"] as? String).flatMap(apiDate)
        #expect(reportedAt != nil, "cut-b's result stored: \(participants)")
        if let reportedAt { #expect(reportedAt >= restoredAt.addingTimeInterval(-1)) }
        #expect(caller?["status"] as? String == "passed", "the call itself was fine: \(String(describing: caller))")
    }
}

/// An API time stamp (ISO 8601 with milliseconds).
func apiDate(_ text: String) -> Date? {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.date(from: text) ?? ISO8601DateFormatter().date(from: text)
}
