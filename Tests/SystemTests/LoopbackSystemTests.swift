import Foundation
import GRDB
import InteropTestSupport
import Testing

/// The whole system on loopback: `earshot-organizer` and `earshot-agent` processes, operated
/// with the `earshot` CLI. These wait synchronously (processes, sleeps), so scripts/test runs
/// them in their own `swift test` pass, one at a time.
@Suite("System on loopback", .serialized)
struct LoopbackSystemTests {
    /// Three agents enroll with one-time tokens, a mesh suite runs, every ordered pair passes
    /// with both directions measured, and the report holds the 6 pairs.
    @Test func meshOfThreeAgents() throws {
        let scratch = try ScratchDirectory(prefix: "sys-mesh")
        let organizer = try OrganizerProcess(scratch: scratch)
        try organizer.start()
        defer { organizer.stop() }
        var enrollmentTokens: [String] = []
        let agents = try ["alpha", "bravo", "charlie"].map { name in
            let agent = AgentProcess(name: name, site: name == "charlie" ? "branch" : "hq", scratch: scratch)
            let token = try organizer.enrollmentToken(site: agent.site)
            enrollmentTokens.append(token)
            try agent.start(organizer: organizer.agentURL, token: token)
            return agent
        }
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(["alpha", "bravo", "charlie"]), "agents online\n\(agents.map(\.logs).joined())")

        // The state directory holds the agent's own credential, readable by it alone.
        for agent in agents {
            let attributes = try FileManager.default.attributesOfItem(atPath: agent.state + "/credential.json")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }

        let suite = scratch.path("mesh.yaml")
        try """
            name: mesh
            type: p2p
            topology: {kind: mesh}
            interval: 1h
            duration: 8s
            """.write(toFile: suite, atomically: true, encoding: .utf8)
        let applied = try organizer.cli(["suites", "apply", "-f", suite])
        #expect(applied.status == 0, "\(applied.stderr)")
        let round = try organizer.cliJSON(["suites", "run", "mesh"]) as? [String: Any]
        let runIDs = try #require(round?["run_ids"] as? [String])
        #expect(runIDs.count == 6)

        var finished: [[String: Any]] = []
        let done = waitUntil(seconds: 90, interval: 0.5) {
            finished = ((try? organizer.runs(["--suite", "mesh"])) ?? []).filter {
                runIDs.contains($0["id"] as? String ?? "") && ["passed", "degraded", "failed", "not_run"].contains($0["status"] as? String ?? "")
            }
            return finished.count == 6
        }
        #expect(done, "runs finished: \(finished.count)\n\(organizer.logs.suffix(3000))")
        #expect(finished.map { $0["status"] as? String } == Array(repeating: "passed", count: 6),
                "\(finished.map { "\($0["id"] ?? "") \($0["status"] ?? "") \($0["cause"] ?? "")" })")

        // Both directions of each run, measured by their receivers, lossless on loopback.
        for id in runIDs {
            let detail = try organizer.cliJSON(["runs", "show", id]) as? [String: Any]
            let directions = detail?["directions"] as? [[String: Any]] ?? []
            #expect(directions.count == 2)
            for direction in directions {
                #expect(direction["measured_by"] as? String == "receiver")
                #expect(direction["packets_lost"] as? Int == 0)
                #expect((direction["packets_received"] as? Int ?? 0) >= 390)
                // MOS-CQ needs a round trip from RTCP (an 8 s call has one); MOS-LQ does not.
                #expect((direction["mos_cq"] as? Double ?? 0) > 4.0, "\(direction)")
                #expect((direction["mos_lq"] as? Double ?? 0) > 4.0)
                #expect(direction["audio_ok"] as? Bool == true)
            }
            let participants = detail?["participants"] as? [[String: Any]] ?? []
            #expect(Set(participants.compactMap { $0["role"] as? String }) == ["caller", "callee"])
        }

        let report = try organizer.cliJSON(["report", "--suite", "mesh"]) as? [String: Any]
        let cells = (report?["cells"] as? [[String: Any]] ?? []).filter { ($0["runs"] as? Int ?? 0) > 0 }
        #expect(cells.count == 6)
        #expect(cells.allSatisfy { $0["pass_rate_pct"] as? Double == 100 })
        #expect(Set(cells.map { "\($0["from"] ?? "")>\($0["to"] ?? "")" }) == [
            "alpha>bravo", "alpha>charlie", "bravo>alpha", "bravo>charlie", "charlie>alpha", "charlie>bravo",
        ])
        // Nothing left in the spools: every result was acknowledged.
        #expect(waitUntil(seconds: 10) { agents.allSatisfy { $0.spooled.isEmpty } })

        // No secret in the logs, the API's output or the database: the bearer tokens, the
        // one-time enrollment tokens and the agents' credentials (the organizer keeps hashes).
        let credentials = try agents.map { agent in
            let data = try Data(contentsOf: URL(fileURLWithPath: agent.state + "/credential.json"))
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            return try #require(object?["credential"] as? String)
        }
        let secrets = [organizer.adminToken, organizer.readToken] + enrollmentTokens + credentials
        let agentsJSON = try organizer.cli(["agents", "list"]).stdout
        organizer.stop()
        let database = (try? Data(contentsOf: URL(fileURLWithPath: organizer.database))) ?? Data()
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: organizer.database + "-wal"))) ?? Data()
        for secret in secrets {
            #expect(!organizer.logs.contains(secret), "a secret in the organizer's log")
            #expect(!agents.contains { $0.logs.contains(secret) }, "a secret in an agent's log")
            #expect(!agentsJSON.contains(secret), "a secret in the API's output")
            #expect(database.range(of: Data(secret.utf8)) == nil && wal.range(of: Data(secret.utf8)) == nil,
                    "a secret in the database")
        }
    }

    /// kill -9 of the organizer in the middle of busy runs, three times. Afterwards: every
    /// result an agent saw acknowledged is stored, the spools drain, the database is intact.
    @Test func organizerKilledRepeatedlyDuringRuns() throws {
        let scratch = try ScratchDirectory(prefix: "sys-kill")
        let organizer = try OrganizerProcess(scratch: scratch)
        try organizer.start()
        defer { organizer.stop() }
        let agents = try ["k1", "k2", "k3"].map { name in
            let agent = AgentProcess(name: name, site: "hq", scratch: scratch)
            try agent.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: "hq"))
            return agent
        }
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(["k1", "k2", "k3"]))
        let suite = scratch.path("busy.yaml")
        try """
            name: busy
            type: p2p
            interval: 4s
            duration: 2s
            """.write(toFile: suite, atomically: true, encoding: .utf8)
        #expect(try organizer.cli(["suites", "apply", "-f", suite]).status == 0)

        for round in 0..<3 {
            Thread.sleep(forTimeInterval: 5 + Double(round))
            organizer.kill9()
            Thread.sleep(forTimeInterval: 1.5)
            try organizer.start()
        }
        // Let the last runs finish and every spool drain; then stop scheduling.
        Thread.sleep(forTimeInterval: 6)
        #expect(try organizer.cli(["suites", "pause", "busy"]).status == 0)
        #expect(waitUntil(seconds: 60, interval: 0.5) { agents.allSatisfy { $0.spooled.isEmpty } },
                "spools: \(agents.map { "\($0.name)=\($0.spooled.count)" })")
        organizer.stop()

        // What the agents saw acknowledged (their logs), against what the database holds.
        let acknowledged = agents.flatMap { agent in acknowledgedResults(in: agent.logs).map { "\($0)/\(agent.name)" } }
        #expect(acknowledged.count >= 6, "too few acknowledged results to prove anything: \(acknowledged.count)")
        let database = try DatabaseQueue(path: organizer.database)
        let integrity = try database.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
        let stored = try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT p.run_id AS run, a.name AS name FROM participants p JOIN agents a ON a.id = p.agent_id
                WHERE p.result IS NOT NULL
                """).map { "\($0["run"] as String)/\($0["name"] as String)" }
        }
        let missing = Set(acknowledged).subtracting(stored)
        print("kill -9 ×3: \(acknowledged.count) results acknowledged to the agents, \(stored.count) stored, missing \(missing.count); integrity \(integrity ?? "-")")
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.sorted())")
    }

    /// An agent killed mid-call: its run fails with a cause within the run's deadline (not
    /// hung), and the agent shows offline after the missed heartbeats.
    @Test func agentKilledMidCall() throws {
        let scratch = try ScratchDirectory(prefix: "sys-agentkill")
        let organizer = try OrganizerProcess(scratch: scratch)
        try organizer.start()
        defer { organizer.stop() }
        let caller = AgentProcess(name: "caller", site: "hq", scratch: scratch)
        let callee = AgentProcess(name: "callee", site: "hq", scratch: scratch)
        try caller.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: "hq"))
        try callee.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: "hq"))
        defer { caller.stop(); callee.stop() }
        #expect(organizer.waitOnline(["caller", "callee"]))
        let suite = scratch.path("long.yaml")
        try """
            name: long
            type: p2p
            topology: {kind: pairs, pairs: [[caller, callee]]}
            interval: 1h
            duration: 20s
            """.write(toFile: suite, atomically: true, encoding: .utf8)
        #expect(try organizer.cli(["suites", "apply", "-f", suite]).status == 0)
        let round = try organizer.cliJSON(["suites", "run", "long"]) as? [String: Any]
        let runID = try #require((round?["run_ids"] as? [String])?.first)
        // Kill the callee once media flows.
        #expect(waitUntil(seconds: 30, interval: 0.25) {
            ((try? organizer.runs(["--suite", "long"])) ?? []).contains { $0["id"] as? String == runID && $0["status"] as? String == "running" }
        })
        Thread.sleep(forTimeInterval: 4)
        let killedAt = Date()
        callee.kill9()

        #expect(waitUntil(seconds: 10, interval: 0.25) {
            ((try? organizer.agents()) ?? [:])["callee"]?["state"] as? String == "offline"
        }, "callee offline after 3 missed 1 s heartbeats")
        let offlineAfter = Date().timeIntervalSince(killedAt)
        #expect(offlineAfter < 10)

        var run: [String: Any] = [:]
        // Deadline: start + 20 s + 15 s margin (organizer.yaml); the verdict must come by then.
        #expect(waitUntil(seconds: 45, interval: 0.5) {
            run = ((try? organizer.runs(["--suite", "long"])) ?? []).first { $0["id"] as? String == runID } ?? [:]
            return run["status"] as? String == "failed"
        }, "run: \(run)")
        let cause = run["cause"] as? [String: Any]
        #expect(["agent_lost", "timeout"].contains(cause?["code"] as? String ?? ""), "cause \(String(describing: cause))")
        // The caller's side reports once its call has ended (its BYE to the dead callee times
        // out: 64·T1); the run stays failed, and keeps the caller's evidence (the ladder).
        var detail: [String: Any] = [:]
        #expect(waitUntil(seconds: 90, interval: 1) {
            detail = ((try? organizer.cliJSON(["runs", "show", runID])) as? [String: Any]) ?? [:]
            let participants = detail["participants"] as? [[String: Any]] ?? []
            return participants.first { $0["role"] as? String == "caller" }?["reported_at"] != nil
        }, "the caller reports")
        #expect((detail["run"] as? [String: Any])?["status"] as? String == "failed")
        let evidence = detail["evidence"] as? [String: Any] ?? [:]
        if let data = try? JSONSerialization.data(withJSONObject: detail, options: [.prettyPrinted]) {
            try? data.write(to: URL(fileURLWithPath: scratch.path("run-detail.json")))
            try? data.write(to: URL(fileURLWithPath: "/tmp/agentkill-detail.json"))
        }
        let ladder = (evidence.values.first as? [String: Any])?["ladder"] as? [[String: Any]] ?? []
        #expect((ladder.first?["summary"] as? String ?? "").hasPrefix("INVITE"), "failed run keeps the caller's ladder: \(ladder.prefix(2))")
        #expect(ladder.contains { ($0["summary"] as? String ?? "").contains("BYE") }, "\(ladder.map { $0["summary"] ?? "" })")
    }
}

/// Run ids an agent logged as acknowledged (`result_ack ... run=<id> stored=true`).
func acknowledgedResults(in logs: String) -> [String] {
    logs.split(separator: "\n").filter { $0.contains("result acknowledged") || $0.contains("result_ack") }.compactMap { line in
        guard !line.contains("stored=false") else { return nil }
        for token in line.split(separator: " ") {
            for key in ["run=", "run_id="] where token.hasPrefix(key) {
                return String(token.dropFirst(key.count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"',"))
            }
        }
        return nil
    }
}
