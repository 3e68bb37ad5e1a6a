import EarshotWire
import Foundation
@testable import OrganizerKit
import Testing

@Suite struct AlertConfigurationTests {
    @Test func parsesAlertsAndWebhooks() throws {
        let yaml = """
            public_url: https://earshot.example.net/
            alerts:
              evaluate_interval: 2s
              rules:
                mos_low: { fire: 3.5, clear: 3.7, fire_after: 2, clear_after: 3 }
                loss_high: { fire: 3, clear: 1, flap_window: 10m, flap_transitions: 4 }
                coverage_stale: { stale_intervals: 4 }
            webhooks:
              backoff_initial: 2s
              backoff_max: 10m
              horizon: 12h
              timeout: 5s
              alertmanager_resend: 30s
              workers: 8
            """
        let c = try OrganizerConfiguration.parse(yaml: yaml)
        #expect(c.publicURL == "https://earshot.example.net/")
        #expect(c.publicBaseURL(boundPort: 1234) == "https://earshot.example.net")
        #expect(c.alerts.evaluateInterval == .seconds(2))
        #expect(c.alerts.rules[.mosLow] == AlertRulePatch(fire: 3.5, clear: 3.7, fireAfter: 2, clearAfter: 3))
        #expect(c.alerts.rules[.lossHigh] == AlertRulePatch(fire: 3, clear: 1, flapWindow: .minutes(10), flapTransitions: 4))
        #expect(c.alerts.rules[.coverageStale] == AlertRulePatch(staleIntervals: 4))
        #expect(c.alerts.rules.count == 3)
        let mos = try #require(c.alerts.effectiveRules.first { $0.name == .mosLow })
        #expect(mos.fire == 3.5)
        #expect(mos.clear == 3.7)
        #expect(mos.severity == .warning)
        #expect(c.alerts.effectiveRules.count == AlertRuleName.allCases.count)
        #expect(c.webhooks == OrganizerConfiguration.Webhooks(
            backoffInitial: .seconds(2), backoffMax: .minutes(10), horizon: .seconds(43200), timeout: .seconds(5),
            alertmanagerResend: .seconds(30), workers: 8))
    }

    @Test func defaults() throws {
        let c = try OrganizerConfiguration.parse(yaml: "listen: 127.0.0.1:9999\n")
        #expect(c.publicURL == nil)
        #expect(c.publicBaseURL(boundPort: nil) == "http://127.0.0.1:9999")
        #expect(c.publicBaseURL(boundPort: 4321) == "http://127.0.0.1:4321")
        #expect(c.alerts.evaluateInterval == .seconds(1))
        #expect(c.alerts.rules.isEmpty)
        #expect(c.alerts.effectiveRules == AlertRule.defaults)
        #expect(c.webhooks.backoffInitial == .seconds(1))
        #expect(c.webhooks.backoffMax == .minutes(5))
        #expect(c.webhooks.horizon == .seconds(86400))
        #expect(c.webhooks.timeout == .seconds(10))
        #expect(c.webhooks.alertmanagerResend == .minutes(1))
        #expect(c.webhooks.workers == 4)
    }

    @Test func roundTripsThroughJSON() throws {
        var c = OrganizerConfiguration()
        c.publicURL = "http://10.0.0.1:8760"
        c.alerts.rules[.rttHigh] = AlertRulePatch(fire: 400, clear: 300)
        c.webhooks.workers = 2
        let back = try JSONDecoder().decode(OrganizerConfiguration.self, from: JSONEncoder().encode(c))
        #expect(back == c)
    }

    private func message(_ yaml: String) -> String? {
        do {
            _ = try OrganizerConfiguration.parse(yaml: yaml, file: "o.yaml")
            return nil
        } catch {
            return error.message
        }
    }

    @Test func problemsNameTheirKeys() {
        #expect(message("alerts: { rules: { mos_too_low: { fire: 3 } } }")?.contains("unknown rule \"mos_too_low\"") == true)
        #expect(message("alerts: { rules: { mos_low: { fire: 3.9 } } }")?.hasPrefix("alerts.rules.mos_low.clear:") == true)
        #expect(message("alerts: { rules: { mos_low: { fire: 4, clear: 3 } } }")?.hasPrefix("alerts.rules.mos_low.clear:") == true)
        #expect(message("alerts: { rules: { agent_offline: { fire_after: 0 } } }")
                == "alerts.rules.agent_offline.fire_after: must be at least 1")
        #expect(message("alerts: { rules: { site_down: { scope: agent } } }")
                == "alerts.rules.site_down.scope: site_down is scoped by site")
        #expect(message("alerts: { evaluate_interval: 1ms }") == "alerts.evaluate_interval: must be at least 50ms")
        #expect(message("alerts: { interval: 1s }")?.hasPrefix("unknown key \"alerts.interval\"") == true)
        #expect(message("alerts: { rules: { mos_low: { fires: 3 } } }")?.hasPrefix("unknown key \"alerts.rules.mos_low.fires\"") == true)
        #expect(message("webhooks: { retries: 3 }")?.hasPrefix("unknown key \"webhooks.retries\"") == true)
        #expect(message("webhooks: { workers: 0 }") == "webhooks.workers: between 1 and 64")
        #expect(message("webhooks: { backoff_initial: 10s, backoff_max: 5s }")
                == "webhooks.backoff_max: must not be shorter than backoff_initial")
        #expect(message("webhooks: { horizon: 0s }") == "webhooks.horizon: must be longer than 0")
        #expect(message("webhooks: { timeout: 0s }") == "webhooks.timeout: must be at least 10ms")
        #expect(message("public_url: ftp://x")?.hasPrefix("public_url:") == true)
        #expect(message("public_url: earshot.example.net")?.hasPrefix("public_url:") == true)
    }
}
