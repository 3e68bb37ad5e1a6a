import ArgumentParser
import EarshotWire
import Foundation
import Testing

@testable import EarshotCLI

/// `earshot alerts …`: argument checks and the text from fixed resources (UTC, fixed clock).
@Suite struct AlertsConsoleTests {
    typealias F = ConsoleFixtures
    typealias A = AlertsFixtures

    static func usage(_ expected: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("accepted; expected: \(expected)")
        } catch let failure as CommandFailure {
            #expect(failure.code == 2)
            #expect(failure.message == expected)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    static func parse<T>(_ arguments: [String], as type: T.Type) throws -> T {
        try #require(try Earshot.parseAsRoot(arguments) as? T)
    }

    // MARK: arguments

    @Test func listFiltersBecomeTheQuery() throws {
        let list = try Self.parse(["alerts", "list", "--state", "all", "--rule", "mos_low", "--scope", "pair=alice>bob",
                                   "--limit", "5"], as: AlertsCommand.List.self)
        let query = try list.query()
        #expect(query == AlertListQuery(state: "all", rule: .mosLow, scope: "pair=alice>bob", limit: 5))
        #expect(query.queryString == "?state=all&rule=mos_low&scope=pair%3Dalice%3Ebob&limit=5")
        // `earshot alerts` alone is the list.
        #expect(try Self.parse(["alerts"], as: AlertsCommand.List.self).query() == AlertListQuery())
        #expect(try Self.parse(["alerts", "list", "--state", "firing,resolved"], as: AlertsCommand.List.self).query().state
            == "firing,resolved")
        Self.usage("--state must be one of firing, resolved, flapping, all (or a list: firing,resolved), got open") {
            _ = try Self.parse(["alerts", "list", "--state", "open"], as: AlertsCommand.List.self).query()
        }
        Self.usage("--rule must be one of agent_offline, test_failed, mos_low, loss_high, jitter_high, rtt_high, registration_failed, session_refresh_failed, coverage_stale, site_down, got mos") {
            _ = try Self.parse(["alerts", "list", "--rule", "mos"], as: AlertsCommand.List.self).query()
        }
        Self.usage("--limit must be at least 1, got 0") {
            _ = try Self.parse(["alerts", "list", "--limit", "0"], as: AlertsCommand.List.self).query()
        }
    }

    @Test func badFormatNamesAreRejectedByTheParser() {
        #expect(throws: (any Error).self) { try Earshot.parseAsRoot(["alerts", "list", "--format", "yaml"]) }
        #expect(throws: (any Error).self) { try Earshot.parseAsRoot(["webhooks", "deliveries", "--format", "csv"]) }
        #expect(throws: (any Error).self) { try Earshot.parseAsRoot(["alerts", "rules", "--format", "xml"]) }
    }

    @Test func silenceBuildsMatchersForAnHourByDefault() throws {
        let command = try Self.parse(["alerts", "silence", "--rule", "loss_high", "--agent", "alice", "--pair", "alice > bob",
                                      "--comment", "router swap"], as: AlertsCommand.SilenceCommand.self)
        #expect(try command.silenceRequest(now: F.now) == SilenceRequest(
            matchers: SilenceMatchers(rule: .lossHigh, agent: "alice", pair: "alice>bob"), duration: .seconds(3_600),
            comment: "router swap"))
        let forTwo = try Self.parse(["alerts", "silence", "--site", "hq", "--for", "2h30m"], as: AlertsCommand.SilenceCommand.self)
        #expect(try forTwo.silenceRequest(now: F.now) == SilenceRequest(matchers: SilenceMatchers(site: "hq"), duration: .seconds(9_000)))
        let until = try Self.parse(["alerts", "silence", "--suite", "mesh", "--until", "2026-12-06T23:00:00Z"],
                                   as: AlertsCommand.SilenceCommand.self)
        #expect(try until.silenceRequest(now: F.now) == SilenceRequest(matchers: SilenceMatchers(suite: "mesh"), until: F.at(6_600)))
    }

    @Test func silenceNeedsAMatcherAndSaneTimes() throws {
        Self.usage("say what to silence: give at least one of --rule, --agent, --site, --suite, --pair") {
            _ = try Self.parse(["alerts", "silence", "--for", "1h"], as: AlertsCommand.SilenceCommand.self).silenceRequest(now: F.now)
        }
        Self.usage("--for must be a duration such as 90s, 10m, 24h or 1h30m, got soon") {
            _ = try Self.parse(["alerts", "silence", "--agent", "a", "--for", "soon"], as: AlertsCommand.SilenceCommand.self)
                .silenceRequest(now: F.now)
        }
        Self.usage("--for must be longer than 0") {
            _ = try Self.parse(["alerts", "silence", "--agent", "a", "--for", "0s"], as: AlertsCommand.SilenceCommand.self)
                .silenceRequest(now: F.now)
        }
        Self.usage("give --for or --until, not both") {
            _ = try Self.parse(["alerts", "silence", "--agent", "a", "--for", "1h", "--until", "2026-12-07T00:00:00Z"],
                               as: AlertsCommand.SilenceCommand.self).silenceRequest(now: F.now)
        }
        Self.usage("--until 2026-12-06T20:00:00Z is in the past") {
            _ = try Self.parse(["alerts", "silence", "--agent", "a", "--until", "2026-12-06T20:00:00Z"],
                               as: AlertsCommand.SilenceCommand.self).silenceRequest(now: F.now)
        }
        Self.usage("--pair must be caller>callee (e.g. alice>bob), got alice") {
            _ = try Self.parse(["alerts", "silence", "--pair", "alice"], as: AlertsCommand.SilenceCommand.self).silenceRequest(now: F.now)
        }
        Self.usage("--agent must not be empty") {
            _ = try Self.parse(["alerts", "silence", "--agent", " "], as: AlertsCommand.SilenceCommand.self).silenceRequest(now: F.now)
        }
    }

    @Test func rulesSetBuildsAPatchOfTheFlagsGiven() throws {
        let command = try Self.parse(["alerts", "rules", "set", "mos_low", "--fire", "3.5", "--clear", "3.7", "--fire-after", "3",
                                      "--flap-window", "10m", "--enabled", "false", "--severity", "critical"],
                                     as: AlertsCommand.Rules.Change.self)
        let (rule, patch) = try command.patch()
        #expect(rule == .mosLow)
        #expect(patch == AlertRulePatch(enabled: false, severity: .critical, fire: 3.5, clear: 3.7, fireAfter: 3,
                                        flapWindow: .minutes(10)))
        let stale = try Self.parse(["alerts", "rules", "set", "coverage_stale", "--stale-intervals", "5", "--scope", "pair"],
                                   as: AlertsCommand.Rules.Change.self)
        #expect(try stale.patch().1 == AlertRulePatch(scope: .pair, staleIntervals: 5))
    }

    @Test func rulesSetRejectsNoFlagsAndBadValues() throws {
        Self.usage("say what to change: --enabled, --severity, --scope, --fire, --clear, --fire-after, --clear-after, --flap-window, --flap-transitions, --stale-intervals or --min-agents") {
            _ = try Self.parse(["alerts", "rules", "set", "mos_low"], as: AlertsCommand.Rules.Change.self).patch()
        }
        Self.usage("--severity must be one of info, warning, critical, got urgent") {
            _ = try Self.parse(["alerts", "rules", "set", "mos_low", "--severity", "urgent"], as: AlertsCommand.Rules.Change.self).patch()
        }
        Self.usage("--flap-window must be a duration such as 90s, 10m, 24h or 1h30m, got ten") {
            _ = try Self.parse(["alerts", "rules", "set", "mos_low", "--flap-window", "ten"], as: AlertsCommand.Rules.Change.self).patch()
        }
        Self.usage("--flap-transitions must be at least 2, got 1") {
            _ = try Self.parse(["alerts", "rules", "set", "mos_low", "--flap-transitions", "1"], as: AlertsCommand.Rules.Change.self)
                .patch()
        }
        Self.usage("the rule name must be one of agent_offline, test_failed, mos_low, loss_high, jitter_high, rtt_high, registration_failed, session_refresh_failed, coverage_stale, site_down, got mos-low") {
            _ = try Self.parse(["alerts", "rules", "set", "mos-low", "--fire", "3"], as: AlertsCommand.Rules.Change.self).patch()
        }
        // --enabled takes true or false only (the parser says so).
        #expect(throws: (any Error).self) { try Earshot.parseAsRoot(["alerts", "rules", "set", "mos_low", "--enabled", "maybe"]) }
        // `earshot alerts rules` alone lists.
        _ = try Self.parse(["alerts", "rules"], as: AlertsCommand.Rules.List.self)
        _ = try Self.parse(["alerts", "rules", "reset", "mos_low"], as: AlertsCommand.Rules.Reset.self)
    }

    // MARK: text

    @Test func alertsTable() {
        #expect(F.render().alerts(A.alerts) == """
            ID    RULE           SCOPE      SEVERITY  STATE                SINCE      SUMMARY
            al_1  mos_low        alice>bob  warning   firing               5m ago     MOS-CQ 3.21 < 3.60 on alice→bob (2 runs in a row)
            al_2  agent_offline  carol      critical  flapping (silenced)  1h30m ago  offline: no heartbeat for 3s (3 missed)
            """)
        // 100 columns: the summary gives up 23 characters.
        #expect(F.render(width: 100).alerts(A.alerts).split(separator: "\n").map(String.init) == [
            "ID    RULE           SCOPE      SEVERITY  STATE                SINCE      SUMMARY",
            "al_1  mos_low        alice>bob  warning   firing               5m ago     MOS-CQ 3.21 < 3.60 on ali…",
            "al_2  agent_offline  carol      critical  flapping (silenced)  1h30m ago  offline: no heartbeat for…",
        ])
        #expect(F.render().alerts([]) == "no alerts match (resolved ones too: earshot alerts list --state all)")
    }

    @Test func alertShowHasTransitionsAndDeliveries() {
        #expect(F.render().alertDetail(A.detail) == """
            alert      al_1 — mos_low on pair alice>bob (warning)
            state      firing since 2026-12-06 21:05:00 (5m ago); 1 transition, last 2026-12-06 21:05:00
            summary    MOS-CQ 3.21 < 3.60 on alice→bob (2 runs in a row)
            measured   MOS-CQ 3.21 < 3.60 (alice→bob) at 2026-12-06 21:05:00, run r-7
            sites      hq, branch-2

            transitions (newest first)
            TIME                 CHANGE    DETAIL                          RUN  SILENCED
            2026-12-06 21:05:00  —→firing  MOS-CQ 3.21 < 3.60 (alice→bob)  r-7  no

            deliveries (newest first)
            ID      ENDPOINT  EVENT         STATUS     ATTEMPTS  LAST
            msg_a1  ops       alert.firing  delivered         2  200
            msg_b2  chat      alert.firing  pending           3  connection refused
            """)
        let quiet = AlertDetail(alert: A.offline, transitions: [], deliveries: [])
        #expect(F.render().alertDetail(quiet) == """
            alert      al_2 — agent_offline on agent carol (critical)
            state      flapping since 2026-12-06 19:40:00 (1h30m ago); 5 transitions, last 2026-12-06 21:09:00
            summary    offline: no heartbeat for 3s (3 missed)
            sites      hq
            silenced   by si_1 (earshot alerts unsilence si_1)

            transitions (newest first)
            none

            deliveries (newest first)
            none (no webhook matched, or every transition was silenced)
            """)
    }

    @Test func silencesAndTheSilencedLine() {
        #expect(F.render().silences(A.silences) == """
            ID    MATCHERS                       CREATED              ENDS                                COMMENT
            si_1  agent=carol                    2026-12-06 21:00:00  2026-12-06 22:00:00 (in 50m)        maintenance
            si_0  rule=loss_high pair=alice>bob  2026-12-06 19:10:00  2026-12-06 20:10:00 (ended 1h ago)
            """)
        #expect(F.render().silenced(A.silences[0]) == "silenced agent=carol until 2026-12-06 22:00:00 (in 50m) — si_1")
        #expect(F.render().silences([]) == "no silences (earshot alerts silence --rule R --for 1h …)")
    }

    @Test func rulesTable() {
        var loss = AlertRule.defaultRule(.lossHigh)
        loss.enabled = false
        loss.flapWindow = .minutes(10)
        loss.flapTransitions = 6
        loss.suites = ["mesh", "soak"]
        let rules = [AlertRule.defaultRule(.mosLow), loss, AlertRule.defaultRule(.coverageStale), AlertRule.defaultRule(.siteDown)]
        #expect(F.render().alertRules(rules) == """
            NAME            ON   SEVERITY  SCOPE  FIRE  CLEAR  AFTER  FLAP      EXTRA
            mos_low         yes  warning   pair    3.6    3.8  2/3    4 in 30m
            loss_high       no   warning   pair      3      1  2/3    6 in 10m  suites=mesh,soak
            coverage_stale  yes  warning   suite     —      —  1/1    4 in 30m  stale_intervals=3
            site_down       yes  critical  site      —      —  1/1    4 in 30m  min_agents=2
            """)
    }

    @Test func jsonIsTheResourceInSnakeCase() throws {
        let json = try ConsoleJSON.string([A.offline])
        #expect(json.contains("\"silenced_by\" : \"si_1\""))
        #expect(json.contains("\"started_at\" : \"2026-12-06T19:40:00.000Z\""))
        #expect(try WireJSON.decoder().decode([AlertInfo].self, from: Data(json.utf8)) == [A.offline])
    }
}
