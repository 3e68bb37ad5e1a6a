import ArgumentParser
import EarshotWire
import Foundation
import Testing

@testable import EarshotCLI

/// Durations, `--since`, labels, the connection options, run filters and suite files.
@Suite struct ConsoleArgumentTests {
    typealias F = ConsoleFixtures

    @Test func durations() throws {
        #expect(try ConsoleArguments.duration("24h", option: "--ttl").seconds == 86_400)
        #expect(try ConsoleArguments.duration("1h30m", option: "--ttl").seconds == 5_400)
        #expect(try ConsoleArguments.duration("500ms", option: "--ttl").seconds == 0.5)
        #expect(try ConsoleArguments.duration("90", option: "--ttl").seconds == 90)
        #expect(try ConsoleArguments.duration("7d", option: "--ttl").seconds == 604_800)
        for bad in ["", "abc", "-5s", "5x", "1h30"] {
            #expect(throws: CommandFailure.self) { try ConsoleArguments.duration(bad, option: "--ttl") }
        }
        do {
            _ = try ConsoleArguments.duration("soon", option: "--timeout")
            Issue.record("accepted soon")
        } catch let failure as CommandFailure {
            #expect(failure.code == 2)
            #expect(failure.message == "--timeout must be a duration such as 90s, 10m, 24h or 1h30m, got soon")
        }
    }

    @Test func sinceIsADurationBackFromNowOrADate() {
        #expect(ConsoleArguments.pointInTime("1h", now: F.now) == F.at(-3600))
        #expect(ConsoleArguments.pointInTime("30m", now: F.now) == F.at(-1800))
        #expect(ConsoleArguments.pointInTime("now", now: F.now) == F.now)
        #expect(ConsoleArguments.pointInTime("2026-12-06T20:10:00Z", now: F.now) == F.at(-3600))
        #expect(ConsoleArguments.pointInTime("2026-12-06T21:10:00.500Z", now: F.now) == F.at(0.5))
        #expect(ConsoleArguments.pointInTime("2026-12-06T22:10:00+01:00", now: F.now) == F.now)
        #expect(ConsoleArguments.pointInTime("2026-12-06", now: F.now) == F.at(-(21 * 3600 + 600)))
        #expect(ConsoleArguments.pointInTime("yesterday", now: F.now) == nil)
        #expect(ConsoleArguments.pointInTime("-1h", now: F.now) == nil)
        #expect(throws: CommandFailure.self) { try ConsoleArguments.pointInTime("2026-13-45", option: "--since", now: F.now) }
    }

    @Test func labelsAreKeyValuePairs() throws {
        #expect(try ConsoleArguments.labels(["floor=3", "role = desk", "empty="], option: "labels")
            == ["floor": "3", "role": "desk", "empty": ""])
        #expect(throws: CommandFailure.self) { try ConsoleArguments.labels(["floor"], option: "labels") }
        #expect(throws: CommandFailure.self) { try ConsoleArguments.labels(["=3"], option: "labels") }
        #expect(throws: CommandFailure.self) { try ConsoleArguments.labels(["a=1", "a=2"], option: "labels") }
    }

    @Test func organizerComesFromTheFlagThenTheEnvironmentThenTheDefault() throws {
        let none = try #require(try Earshot.parseAsRoot(["status"]) as? StatusCommand)
        #expect(try none.connection.resolved(environment: [:]).url == "http://127.0.0.1:8760")
        #expect(try none.connection.resolved(environment: [:]).token == nil)
        let environment = ["EARSHOT_ORGANIZER": "https://org.example:9000/", "EARSHOT_TOKEN": "t-env"]
        #expect(try none.connection.resolved(environment: environment).url == "https://org.example:9000")
        #expect(try none.connection.resolved(environment: environment).token == "t-env")
        let flags = try #require(try Earshot.parseAsRoot(["status", "--organizer", "10.0.0.5:8760", "--token", "t-flag"]) as? StatusCommand)
        #expect(try flags.connection.resolved(environment: environment).url == "http://10.0.0.5:8760")
        #expect(try flags.connection.resolved(environment: environment).token == "t-flag")
        let before = try #require(try Earshot.parseAsRoot(["--organizer", "10.0.0.6:8760", "--token", "t-root", "agents", "list"]) as? AgentsCommand.List)
        #expect(try before.connection.resolved(environment: environment).url == "http://10.0.0.6:8760")
        #expect(try before.connection.resolved(environment: environment).token == "t-root")
        let bad = try #require(try Earshot.parseAsRoot(["status", "--organizer", "ftp://x"]) as? StatusCommand)
        #expect(throws: CommandFailure.self) { try bad.connection.resolved(environment: [:]) }
    }

    @Test func organizerURLsAreNormalisedAndTheAgentsFormIsAccepted() {
        #expect(ConnectionOptions.normalise("127.0.0.1:8760") == "http://127.0.0.1:8760")
        #expect(ConnectionOptions.normalise("http://127.0.0.1:8760/") == "http://127.0.0.1:8760")
        #expect(ConnectionOptions.normalise("ws://10.0.0.5:8760/v1/agent") == "http://10.0.0.5:8760")
        #expect(ConnectionOptions.normalise("wss://org.example:8760/v1/agent/") == "https://org.example:8760")
        #expect(ConnectionOptions.normalise("http://[::1]:8760") == "http://[::1]:8760")
        #expect(ConnectionOptions.normalise("ftp://x") == nil)
        #expect(ConnectionOptions.normalise("http://") == nil)
        #expect(ConnectionOptions.normalise("http://h:1/?q=1") == nil)
        #expect(ConnectionOptions.agentEndpoint("http://10.0.0.5:8760") == "ws://10.0.0.5:8760/v1/agent")
        #expect(ConnectionOptions.agentEndpoint("https://org.example:8760") == "wss://org.example:8760/v1/agent")
    }

    @Test func tokenTextShowsHowToStartTheAgent() {
        let token = EnrollmentToken(token: "ese_abc", site: "hq", expiresAt: ConsoleFixtures.at(3600))
        #expect(ConsoleFixtures.render().token(token, organizer: "http://10.0.0.5:8760") == """
            enrollment token for site hq, valid until 2026-12-06 22:10:00 (shown once):
            ese_abc

            start an agent with it:
              earshot-agent run --organizer ws://10.0.0.5:8760/v1/agent --enroll ese_abc --site hq --name NAME
            """)
    }

    @Test func everyOperatorCommandParses() throws {
        #expect(try Earshot.parseAsRoot(["agents", "list", "--site", "hq", "--format", "json"]) is AgentsCommand.List)
        #expect(try Earshot.parseAsRoot(["agents"]) is AgentsCommand.List)
        #expect(try Earshot.parseAsRoot(["agents", "show", "alice"]) is AgentsCommand.Show)
        #expect(try Earshot.parseAsRoot(["agents", "token", "--site", "hq", "--ttl", "2h"]) is AgentsCommand.Token)
        #expect(try Earshot.parseAsRoot(["agents", "revoke", "a1"]) is AgentsCommand.Revoke)
        #expect(try Earshot.parseAsRoot(["agents", "label", "alice", "floor=3", "--remove", "old"]) is AgentsCommand.Label)
        #expect(try Earshot.parseAsRoot(["suites", "apply", "-f", "a.yaml", "-f", "b.yaml"]) is SuitesCommand.Apply)
        let run = try #require(try Earshot.parseAsRoot(["suites", "run", "mesh", "--wait"]) as? SuitesCommand.Run)
        #expect(run.wait)
        for sub in ["pause", "resume", "delete", "show"] {
            #expect(try Earshot.parseAsRoot(["suites", sub, "mesh"]) is any AsyncParsableCommand)
        }
        #expect(try Earshot.parseAsRoot(["suites", "default"]) is SuitesCommand.Default)
        #expect(try Earshot.parseAsRoot(["runs", "show", "r-1"]) is RunsCommand.Show)
        let report = try #require(try Earshot.parseAsRoot(["report", "--since", "7d", "--metric", "loss", "--format", "csv"]) as? ReportCommand)
        #expect(report.metric == .loss)
        #expect(report.format == .csv)
        #expect(throws: (any Error).self) { try Earshot.parseAsRoot(["status", "--format", "csv"]) }
        #expect(throws: (any Error).self) { try Earshot.parseAsRoot(["report", "--metric", "volume"]) }
        let validate = try #require(try Earshot.parseAsRoot(["validate", "-f", "s.yaml", "--min-pass-rate", "90", "--markdown", "r.md"]) as? ValidateCommand)
        #expect(validate.minPassRate == 90)
        #expect(validate.markdown == "r.md")
    }

    @Test func agentCommandsCheckTheirValuesBeforeAnyRequest() throws {
        let token = try #require(try Earshot.parseAsRoot(["agents", "token", "--site", "hq", "--ttl", "2h", "--label", "floor=3"]) as? AgentsCommand.Token)
        #expect(try token.tokenRequest() == EnrollmentTokenRequest(site: "hq", ttl: .seconds(7200), labels: ["floor": "3"]))
        let noTTL = try #require(try Earshot.parseAsRoot(["agents", "token", "--site", "hq", "--ttl", "0s"]) as? AgentsCommand.Token)
        #expect(throws: CommandFailure.self) { try noTTL.tokenRequest() }
        let blank = try #require(try Earshot.parseAsRoot(["agents", "token", "--site", " "]) as? AgentsCommand.Token)
        #expect(throws: CommandFailure.self) { try blank.tokenRequest() }
        #expect(throws: (any Error).self) { try Earshot.parseAsRoot(["agents", "token"]) }

        let label = try #require(try Earshot.parseAsRoot(["agents", "label", "alice", "floor=3", "--remove", "old"]) as? AgentsCommand.Label)
        #expect(try label.change() == LabelChange(set: ["floor": "3"], remove: ["old"]))
        let nothing = try #require(try Earshot.parseAsRoot(["agents", "label", "alice"]) as? AgentsCommand.Label)
        #expect(throws: CommandFailure.self) { try nothing.change() }
        let both = try #require(try Earshot.parseAsRoot(["agents", "label", "alice", "a=1", "--remove", "a"]) as? AgentsCommand.Label)
        #expect(throws: CommandFailure.self) { try both.change() }

        let online = try #require(try Earshot.parseAsRoot(["agents", "list", "--state", "online"]) as? AgentsCommand.List)
        #expect(try online.wantedState() == .online)
        let bad = try #require(try Earshot.parseAsRoot(["agents", "list", "--state", "sleeping"]) as? AgentsCommand.List)
        #expect(throws: CommandFailure.self) { try bad.wantedState() }
    }

    @Test func runFiltersBecomeAQueryString() throws {
        let list = try #require(try Earshot.parseAsRoot(["runs", "list", "--suite", "mesh a", "--status", "not_run", "--agent", "alice",
                                                         "--since", "1h", "--limit", "5"]) as? RunsCommand.List)
        let query = try list.query(now: F.now)
        #expect(query.queryString == "?suite=mesh%20a&status=not_run&agent=alice&since=2026-12-06T20%3A10%3A00.000Z&limit=5")
        let bad = try #require(try Earshot.parseAsRoot(["runs", "list", "--status", "done"]) as? RunsCommand.List)
        #expect(throws: CommandFailure.self) { try bad.query(now: F.now) }
        let backwards = try #require(try Earshot.parseAsRoot(["runs", "list", "--since", "1h", "--until", "2h"]) as? RunsCommand.List)
        #expect(throws: CommandFailure.self) { try backwards.query(now: F.now) }
    }

    // MARK: suite files

    @Test func suiteFileWithSeveralDocumentsAndALists() throws {
        let text = """
            name: mesh
            type: p2p
            interval: 5m
            ---
            - name: dtmf
              type: dtmf
              topology: {kind: pairs, pairs: [[alice, bob]]}
              dtmf: "123#"
            - name: soak
              type: soak
              duration: 50s
              session_expires: 90
            """
        let suites = try SuiteFile.parse(text, source: "suites.yaml")
        #expect(suites.map(\.name) == ["mesh", "dtmf", "soak"])
        #expect(suites[0].interval == .minutes(5))
        #expect(suites[1].topology.pairs == [["alice", "bob"]])
        #expect(suites[1].dtmf == "123#")
        #expect(suites[2].duration == .seconds(50))
        #expect(suites[2].sessionExpires == 90)
    }

    @Test func suiteFileProblemsAreListedWithTheirSuite() {
        let text = """
            - name: bad name!
              type: p2p
              codec: G729
            - name: ok
              type: soak
              session_expires: 30
            """
        do {
            _ = try SuiteFile.parse(text, source: "s.yaml")
            Issue.record("accepted bad suites")
        } catch let failure as CommandFailure {
            #expect(failure.message == """
                s.yaml: suite bad name!: name: use 1–64 letters, digits, '-', '_' or '.'
                s.yaml: suite bad name!: codec: PCMU or PCMA
                s.yaml: suite ok: session_expires: at least 90 (RFC 4028 Min-SE)
                """)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func suiteFileThatIsNotASuite() {
        #expect(throws: CommandFailure.self) { try SuiteFile.parse("just text", source: "s.yaml") }
        #expect(throws: CommandFailure.self) { try SuiteFile.parse("", source: "s.yaml") }
        #expect(throws: CommandFailure.self) { try SuiteFile.parse("name: x\n", source: "s.yaml") }
        #expect(throws: CommandFailure.self) { try SuiteFile.parse("name: [unclosed\n", source: "s.yaml") }
        do {
            _ = try SuiteFile.parse("name: x\ntype: p2p\n---\nname: x\ntype: p2p\n", source: "s.yaml")
            Issue.record("accepted a duplicate")
        } catch let failure as CommandFailure {
            #expect(failure.message == "s.yaml: suite x is defined twice")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func validateRenamesAndPausesTheSuiteUnlessKept() throws {
        let spec = SuiteSpec(name: "mesh", type: .p2p)
        let temporary = try #require(try Earshot.parseAsRoot(["validate", "-f", "s.yaml"]) as? ValidateCommand)
        let applied = try temporary.suiteToApply(from: [spec], suffix: "1a2b")
        #expect(applied.name == "mesh-validate-1a2b")
        #expect(applied.paused)
        let kept = try #require(try Earshot.parseAsRoot(["validate", "-f", "s.yaml", "--keep"]) as? ValidateCommand)
        #expect(try kept.suiteToApply(from: [spec], suffix: "1a2b") == spec)
        #expect(throws: CommandFailure.self) { try temporary.suiteToApply(from: [spec, SuiteSpec(name: "b", type: .p2p)], suffix: "1") }
        let picked = try #require(try Earshot.parseAsRoot(["validate", "-f", "s.yaml", "--suite", "b"]) as? ValidateCommand)
        #expect(try picked.suiteToApply(from: [spec, SuiteSpec(name: "b", type: .p2p)], suffix: "1").name == "b-validate-1")
        let long = SuiteSpec(name: String(repeating: "n", count: 64), type: .p2p)
        #expect(try temporary.suiteToApply(from: [long], suffix: "ffffffff").name.count == 64)
        let badRate = try #require(try Earshot.parseAsRoot(["validate", "-f", "s.yaml", "--min-pass-rate", "120"]) as? ValidateCommand)
        #expect(throws: CommandFailure.self) { try badRate.criteria() }
    }
}
