import Foundation
import InteropTestSupport
import Testing

/// Issue 6 proofs: conference runs with organizer, agents and CLI as real processes — the
/// built-in bridge hosted by an agent, an external room behind Kamailio, a participant killed
/// mid-conference, and one site's link impaired across network namespaces.
@Suite("Conference system tests", .serialized)
struct ConferenceSystemTests {
    /// A conference suite's YAML.
    static func suiteYAML(name: String, members: [String], duration: String = "12s", dtmf: String? = "159#",
                          conference: String, thresholds: String? = nil, via: String? = nil) -> String {
        var text = """
            name: \(name)
            type: conference
            members: {agents: [\(members.joined(separator: ", "))]}
            interval: 1h
            paused: true
            duration: \(duration)
            conference:
            \(conference.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
            """
        if let dtmf { text += "\ndtmf: \"\(dtmf)\"" }
        if let thresholds { text += "\nthresholds: \(thresholds)" }
        if let via { text += "\nvia: \(via)" }
        return text
    }

    /// Applies `yaml`, runs it now, waits for the run's verdict; the run detail.
    static func runConference(_ organizer: OrganizerProcess, yaml: String, suite: String, scratch: ScratchDirectory,
                              seconds: Double = 120) throws -> [String: Any] {
        let file = scratch.path("\(suite).yaml")
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let applied = try organizer.cli(["suites", "apply", "-f", file])
        try #require(applied.status == 0, "apply: \(applied.stderr)")
        let round = try organizer.cliJSON(["suites", "run", suite]) as? [String: Any]
        let runID = try #require((round?["run_ids"] as? [String])?.first, "no run planned: \(String(describing: round))")
        var detail: [String: Any] = [:]
        let done = waitUntil(seconds: seconds, interval: 1) {
            detail = ((try? organizer.cliJSON(["runs", "show", runID])) as? [String: Any]) ?? [:]
            let status = (detail["run"] as? [String: Any])?["status"] as? String ?? ""
            return ["passed", "degraded", "failed", "not_run"].contains(status)
        }
        try #require(done, "run \(runID) did not finish: \(detail["run"] ?? "")\n\(organizer.logs.suffix(3000))")
        if let data = try? JSONSerialization.data(withJSONObject: detail, options: [.prettyPrinted, .sortedKeys]) {
            try? data.write(to: URL(fileURLWithPath: scratch.path("\(suite)-detail.json")))
        }
        return detail
    }

    /// The summary's parts, keyed for assertions.
    struct Conference {
        var status: String
        var cause: String?
        var legs: [String: [String: Any]]
        /// "listener>speaker" → state
        var cells: [String: String]
        var levels: [String: Double]
        var dtmfSent: String?
        var dtmfReceived: [String: String]
        var names: [String: String]

        init(_ detail: [String: Any]) throws {
            let run = detail["run"] as? [String: Any] ?? [:]
            status = run["status"] as? String ?? ""
            cause = (run["cause"] as? [String: Any])?["code"] as? String
            let summary = try #require(detail["conference"] as? [String: Any], "no conference in \(detail.keys.sorted())")
            var names: [String: String] = [:]
            var legs: [String: [String: Any]] = [:]
            for leg in summary["legs"] as? [[String: Any]] ?? [] {
                let id = leg["agent_id"] as? String ?? ""
                names[id] = leg["name"] as? String ?? id
                legs[names[id]!] = leg
            }
            self.names = names
            self.legs = legs
            var cells: [String: String] = [:]
            var levels: [String: Double] = [:]
            for cell in summary["hearing"] as? [[String: Any]] ?? [] {
                let key = "\(names[cell["listener"] as? String ?? ""] ?? "?")>\(names[cell["speaker"] as? String ?? ""] ?? "?")"
                cells[key] = cell["state"] as? String
                if let level = cell["level_db"] as? Double { levels[key] = level }
            }
            self.cells = cells
            self.levels = levels
            let dtmf = summary["dtmf"] as? [String: Any]
            dtmfSent = dtmf?["sent"] as? String
            var received: [String: String] = [:]
            for (id, digits) in dtmf?["received"] as? [String: String] ?? [:] { received[names[id] ?? id] = digits }
            dtmfReceived = received
        }

        func state(_ listener: String, hears speaker: String) -> String? { cells["\(listener)>\(speaker)"] }
    }

    static func startAgents(_ names: [String], site: String = "hq", organizer: OrganizerProcess, scratch: ScratchDirectory,
                            extra: [String: [String]] = [:]) throws -> [AgentProcess] {
        try names.map { name in
            let agent = AgentProcess(name: name, site: site, scratch: scratch)
            try agent.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: site), extra: extra[name] ?? [])
            return agent
        }
    }

    /// Five agents in a conference on loopback, the bridge hosted by a sixth: a full hearing
    /// matrix, no own-tone echo, DTMF from one participant received by the other four.
    @Test func fiveAgentsFullMatrixNoEchoAndDTMF() throws {
        let scratch = try ScratchDirectory(prefix: "sys-conf5")
        let organizer = try OrganizerProcess(scratch: scratch)
        try organizer.start()
        defer { organizer.stop() }
        let participants = ["p1", "p2", "p3", "p4", "p5"]
        let agents = try Self.startAgents(participants + ["host"], organizer: organizer, scratch: scratch)
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(participants + ["host"]), "\(agents.map(\.logs).joined())")

        let detail = try Self.runConference(organizer, yaml: Self.suiteYAML(
            name: "conf5", members: participants, conference: "bridge: agent\nbridge_agent: host\njoin_spread: 2s\ndtmf_from: p1"),
            suite: "conf5", scratch: scratch)
        let conference = try Conference(detail)
        #expect(conference.status == "passed", "cause \(conference.cause ?? "-")")
        #expect(Set(conference.legs.keys) == Set(participants))
        for name in participants {
            let leg = conference.legs[name] ?? [:]
            #expect(leg["status"] as? String == "passed", "\(name): \(leg)")
            for direction in ["up", "down"] {
                let stream = leg[direction] as? [String: Any] ?? [:]
                #expect(stream["packets_lost"] as? Int == 0, "\(name) \(direction): \(stream)")
                #expect((stream["packets_received"] as? Int ?? 0) >= 450, "\(name) \(direction): \(stream)")
                #expect((stream["mos_lq"] as? Double ?? 0) > 4.0, "\(name) \(direction)")
            }
            for other in participants {
                let state = conference.state(name, hears: other)
                if other == name {
                    #expect(state == "clean", "\(name) hears its own tone: \(state ?? "none")")
                } else {
                    #expect(state == "heard", "\(name) hears \(other): \(state ?? "none")")
                    // Each tone is sent at −20 dBov and mixed without gain.
                    let level = conference.levels["\(name)>\(other)"] ?? 0
                    #expect(level > -24 && level < -17, "\(name) hears \(other) at \(level) dB")
                }
            }
        }
        #expect(conference.dtmfSent == "159#")
        #expect(conference.dtmfReceived == ["p2": "159#", "p3": "159#", "p4": "159#", "p5": "159#"], "\(conference.dtmfReceived)")

        // The CLI renders the matrix.
        let runID = try #require((detail["run"] as? [String: Any])?["id"] as? String)
        let table = try organizer.cli(["runs", "show", runID], json: false)
        #expect(table.status == 0)
        #expect(table.stdout.contains("p1") && table.stdout.contains("p5"))
        // "ECHO" only in the legend, in no cell.
        #expect(table.stdout.components(separatedBy: "ECHO").count - 1 == 1, "\(table.stdout)")
    }

    /// A participant killed mid-conference: its leg fails with a cause, the others complete and
    /// still hear one another.
    @Test func participantKilledMidConference() throws {
        let scratch = try ScratchDirectory(prefix: "sys-confkill")
        let organizer = try OrganizerProcess(scratch: scratch)
        try organizer.start()
        defer { organizer.stop() }
        let participants = ["k1", "k2", "k3", "k4"]
        let agents = try Self.startAgents(participants + ["khost"], organizer: organizer, scratch: scratch)
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(participants + ["khost"]))
        let file = scratch.path("confkill.yaml")
        try Self.suiteYAML(name: "confkill", members: participants, duration: "20s", dtmf: nil,
                           conference: "bridge: agent\nbridge_agent: khost\njoin_spread: 1s")
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try organizer.cli(["suites", "apply", "-f", file]).status == 0)
        let round = try organizer.cliJSON(["suites", "run", "confkill"]) as? [String: Any]
        let runID = try #require((round?["run_ids"] as? [String])?.first)
        #expect(waitUntil(seconds: 30, interval: 0.25) {
            ((try? organizer.runs(["--suite", "confkill"])) ?? []).contains { $0["id"] as? String == runID && $0["status"] as? String == "running" }
        })
        Thread.sleep(forTimeInterval: 7)
        agents.first { $0.name == "k3" }?.kill9()

        var detail: [String: Any] = [:]
        #expect(waitUntil(seconds: 120, interval: 1) {
            detail = ((try? organizer.cliJSON(["runs", "show", runID])) as? [String: Any]) ?? [:]
            let status = (detail["run"] as? [String: Any])?["status"] as? String ?? ""
            return ["passed", "degraded", "failed", "not_run"].contains(status)
        }, "\(detail["run"] ?? "")")
        let conference = try Conference(detail)
        #expect(conference.status == "failed")
        let killed = conference.legs["k3"] ?? [:]
        #expect(killed["status"] as? String == "failed", "\(killed)")
        #expect(["agent_lost", "timeout"].contains((killed["cause"] as? [String: Any])?["code"] as? String ?? ""), "\(killed)")
        for name in ["k1", "k2", "k4"] {
            #expect(conference.legs[name]?["status"] as? String == "passed", "\(name): \(conference.legs[name] ?? [:])")
            for other in ["k1", "k2", "k4"] where other != name {
                #expect(conference.state(name, hears: other) == "heard", "\(name) hears \(other)")
            }
            // Nobody is blamed for not hearing the participant that died.
            #expect(conference.state(name, hears: "k3") != "missing", "\(name) > k3: \(conference.state(name, hears: "k3") ?? "")")
        }
    }

    /// External-room mode: the suite points at a conference URI behind Kamailio; the room is a
    /// standing room of an agent registered there (standing in for a PBX room) that demands a
    /// PIN, which the participants send as DTMF. Same results as the built-in mode.
    @Test(.enabled(if: System.canUseNetns || FileManager.default.isExecutableFile(atPath: "/usr/sbin/kamailio"),
                   "kamailio missing: run scripts/install-test-deps"))
    func externalRoomBehindKamailioWithPIN() throws {
        let scratch = try ScratchDirectory(prefix: "sys-confroom")
        let proxyPort = System.freeTCPPort()
        let kamailio = try SpawnedProcess(System.script("kamailio"), [
            "--port", "\(proxyPort)", "--realm", "earshot.test", "--user", "room100:room-pw", "--no-invite-auth",
            "--logdir", scratch.path("kamailio"), "--max-seconds", "600",
        ], outputPath: scratch.path("kamailio.out"), errorPath: scratch.path("kamailio.err"))
        defer { kamailio.signal(SIGTERM); _ = kamailio.wait(seconds: 10) }
        try #require(readyValue(of: kamailio, key: "udp", seconds: 30) != nil, "kamailio: \(kamailio.output)\(kamailio.errors)")

        let organizer = try OrganizerProcess(scratch: scratch)
        try organizer.start()
        defer { organizer.stop() }
        let participants = ["r1", "r2", "r3"]
        let room = ["--room", "room100:4321", "--room-registrar", "127.0.0.1:\(proxyPort)",
                    "--room-auth", "room100:room-pw", "--room-domain", "earshot.test"]
        let agents = try Self.startAgents(participants + ["pbx"], organizer: organizer, scratch: scratch, extra: ["pbx": room])
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(participants + ["pbx"]))
        // The room is registered before the run starts.
        let pbx = try #require(agents.last)
        #expect(waitUntil(seconds: 30, interval: 0.5) { pbx.logs.contains("room room100 registered at") }, "\(pbx.logs.suffix(2000))")

        let detail = try Self.runConference(organizer, yaml: Self.suiteYAML(
            name: "room", members: participants,
            conference: "bridge: uri\nuri: sip:room100@earshot.test\npin: \"4321\"\njoin_spread: 2s\ndtmf_from: r1",
            via: "{proxy: \"127.0.0.1:\(proxyPort)\", domain: earshot.test}"), suite: "room", scratch: scratch)
        let conference = try Conference(detail)
        #expect(conference.status == "passed", "cause \(conference.cause ?? "-")")
        #expect((detail["conference"] as? [String: Any])?["mode"] as? String == "uri")
        for name in participants {
            let leg = conference.legs[name] ?? [:]
            #expect(leg["status"] as? String == "passed", "\(name): \(leg)")
            // Both directions: down measured by the participant, up from the room's RTCP reports.
            #expect((leg["down"] as? [String: Any])?["packets_lost"] as? Int == 0)
            #expect((leg["up"] as? [String: Any])?["measured_by"] as? String == "rtcp", "\(leg["up"] ?? "")")
            for other in participants {
                #expect(conference.state(name, hears: other) == (other == name ? "clean" : "heard"), "\(name) > \(other)")
            }
        }
        // The PIN is not relayed: the others receive exactly the test digits.
        #expect(conference.dtmfReceived == ["r2": "159#", "r3": "159#"], "\(conference.dtmfReceived)")
    }

    /// Across the network-namespace sites, with random loss on site-c's link: site-c's legs
    /// degrade, the others do not, and the matrix still shows who hears whom.
    @Test(.enabled(if: System.canUseNetns, "needs root (network namespaces)"))
    func impairedSiteDegradesOnlyItsLegs() throws {
        let scratch = try ScratchDirectory(prefix: "sys-confnet")
        let net = try NetnsTopology(script: System.script("netns"), name: "es-conf", links: [], maxSeconds: 600, scratch: scratch)
        defer { net.down() }
        let organizer = try OrganizerProcess(scratch: scratch, host: net.ipA, port: 8760, namespace: net.siteA)
        try organizer.start()
        defer { organizer.stop() }
        let layout: [(String, NetnsTopology.Site, Int)] = [
            ("a-host", .a, 5060), ("a-1", .a, 5062), ("b-1", .b, 5060), ("b-2", .b, 5062), ("c-1", .c, 5060), ("c-2", .c, 5062),
        ]
        let agents = try layout.map { name, site, port in
            let siteName = "site-\(name.prefix(1))"
            let agent = AgentProcess(name: name, site: siteName, scratch: scratch, namespace: net.namespace(site),
                                     sipListen: "\(net.address(site)):\(port)")
            try agent.start(organizer: organizer.agentURL, token: try organizer.enrollmentToken(site: siteName))
            return agent
        }
        defer { agents.forEach { $0.stop() } }
        #expect(organizer.waitOnline(layout.map(\.0)), "\(agents.map(\.logs).joined().suffix(3000))")
        let loss = SiteLoss(net: net, site: "c", percent: 5)
        try loss.apply()
        defer { try? loss.remove() }

        let members = ["a-1", "b-1", "b-2", "c-1", "c-2"]
        let detail = try Self.runConference(organizer, yaml: Self.suiteYAML(
            name: "sites", members: members, duration: "20s", dtmf: nil,
            conference: "bridge: agent\nbridge_agent: a-host\njoin_spread: 2s", thresholds: "{loss_pct_max: 2}"),
            suite: "sites", scratch: scratch, seconds: 180)
        let conference = try Conference(detail)
        #expect(try loss.dropped() > 50, "the loss rules dropped packets")
        #expect(conference.status == "degraded", "cause \(conference.cause ?? "-")")
        for name in ["c-1", "c-2"] {
            let leg = conference.legs[name] ?? [:]
            #expect(leg["status"] as? String == "degraded", "\(name): \(leg)")
            for direction in ["up", "down"] {
                let lossPct = (leg[direction] as? [String: Any])?["loss_pct"] as? Double ?? 0
                #expect(lossPct > 2 && lossPct < 10, "\(name) \(direction) loss \(lossPct)")
            }
        }
        for name in ["a-1", "b-1", "b-2"] {
            let leg = conference.legs[name] ?? [:]
            #expect(leg["status"] as? String == "passed", "\(name): \(leg)")
            #expect((leg["up"] as? [String: Any])?["packets_lost"] as? Int == 0)
            #expect((leg["down"] as? [String: Any])?["packets_lost"] as? Int == 0)
        }
        // Who hears whom: everyone hears everyone (site-c's tones and ears have 5 % gaps).
        for listener in members {
            for speaker in members {
                let state = conference.state(listener, hears: speaker)
                if listener == speaker {
                    #expect(state == "clean", "\(listener) echo: \(state ?? "")")
                } else {
                    #expect(state == "heard" || state == "partial", "\(listener) > \(speaker): \(state ?? "")")
                }
            }
        }
    }
}
