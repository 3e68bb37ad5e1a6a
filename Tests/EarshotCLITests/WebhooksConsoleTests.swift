import ArgumentParser
import EarshotWire
import Foundation
import Testing

@testable import EarshotCLI

/// `earshot webhooks …`: argument checks, the text from fixed resources, and following a
/// test delivery.
@Suite struct WebhooksConsoleTests {
    typealias F = ConsoleFixtures
    typealias A = AlertsFixtures

    // MARK: arguments

    @Test func addBuildsTheEndpointRequest() throws {
        let add = try AlertsConsoleTests.parse(
            ["webhooks", "add", "ops", "--url", "https://hooks.example.com/earshot", "--payload", "alertmanager", "--rule", "mos_low",
             "--rule", "agent_offline", "--min-severity", "warning", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            as: WebhooksCommand.Add.self)
        #expect(try add.endpointRequest() == WebhookEndpointRequest(
            name: "ops", url: "https://hooks.example.com/earshot", format: .alertmanager,
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", rules: [.mosLow, .agentOffline], minSeverity: .warning))
        let plain = try AlertsConsoleTests.parse(["webhooks", "add", "am", "--url", "http://127.0.0.1:9093"], as: WebhooksCommand.Add.self)
        #expect(try plain.endpointRequest() == WebhookEndpointRequest(name: "am", url: "http://127.0.0.1:9093"))
    }

    @Test func addRejectsBadNamesURLsFormatsAndSecrets() {
        AlertsConsoleTests.usage("--payload must be one of native, alertmanager, slack, teams, alertmanager_api, got pagerduty") {
            _ = try AlertsConsoleTests.parse(["webhooks", "add", "ops", "--url", "http://x", "--payload", "pagerduty"],
                                             as: WebhooksCommand.Add.self).endpointRequest()
        }
        AlertsConsoleTests.usage("--url must be an http:// or https:// URL with a host, got ftp://x/y") {
            _ = try AlertsConsoleTests.parse(["webhooks", "add", "ops", "--url", "ftp://x/y"], as: WebhooksCommand.Add.self).endpointRequest()
        }
        AlertsConsoleTests.usage("the name must be letters, digits, - _ or . (got ops team)") {
            _ = try AlertsConsoleTests.parse(["webhooks", "add", "ops team", "--url", "http://x"], as: WebhooksCommand.Add.self)
                .endpointRequest()
        }
        AlertsConsoleTests.usage("--secret must start with whsec_ (followed by base64), or leave it out for a new one") {
            _ = try AlertsConsoleTests.parse(["webhooks", "add", "ops", "--url", "http://x", "--secret", "hunter2"],
                                             as: WebhooksCommand.Add.self).endpointRequest()
        }
        AlertsConsoleTests.usage("--min-severity must be one of info, warning, critical, got high") {
            _ = try AlertsConsoleTests.parse(["webhooks", "add", "ops", "--url", "http://x", "--min-severity", "high"],
                                             as: WebhooksCommand.Add.self).endpointRequest()
        }
    }

    @Test func deliveriesAndRetryFilters() throws {
        let list = try AlertsConsoleTests.parse(["webhooks", "deliveries", "--endpoint", "ops", "--status", "dead", "--limit", "10"],
                                                as: WebhooksCommand.Deliveries.self)
        #expect(try list.query().queryString == "?endpoint=ops&status=dead&limit=10")
        AlertsConsoleTests.usage("--status must be one of pending, delivered, dead, cancelled, got failed") {
            _ = try AlertsConsoleTests.parse(["webhooks", "deliveries", "--status", "failed"], as: WebhooksCommand.Deliveries.self).query()
        }
        let byID = try AlertsConsoleTests.parse(["webhooks", "retry", "msg_1", "msg_2"], as: WebhooksCommand.Retry.self)
        #expect(try byID.retryRequest() == DeliveryRetryRequest(ids: ["msg_1", "msg_2"]))
        let byEndpoint = try AlertsConsoleTests.parse(["webhooks", "retry", "--endpoint", "ops", "--status", "dead", "--status", "cancelled"],
                                                      as: WebhooksCommand.Retry.self)
        #expect(try byEndpoint.retryRequest() == DeliveryRetryRequest(endpoint: "ops", statuses: [.dead, .cancelled]))
        AlertsConsoleTests.usage("say what to retry: delivery ids, or --endpoint NAME [--status dead]") {
            _ = try AlertsConsoleTests.parse(["webhooks", "retry"], as: WebhooksCommand.Retry.self).retryRequest()
        }
        AlertsConsoleTests.usage("--status goes with --endpoint") {
            _ = try AlertsConsoleTests.parse(["webhooks", "retry", "msg_1", "--status", "dead"], as: WebhooksCommand.Retry.self).retryRequest()
        }
    }

    // MARK: text

    @Test func webhooksTable() {
        #expect(F.render().webhooks(A.endpoints) == """
            NAME  FORMAT            URL                                ENABLED                                                        PENDING  DELIVERED  DEAD
            ops   native            https://hooks.example.com/earshot  yes                                                                  0         12     1
            chat  alertmanager_api  http://127.0.0.1:9093              no: 410 Gone from the receiver (earshot webhooks enable chat)        2          0     0
            """)
        #expect(F.render().webhooks([]) == "no webhooks (earshot webhooks add NAME --url URL)")
    }

    @Test func addPrintsTheSecretOnceWithTheHints() {
        var endpoint = A.endpoints[0]
        endpoint.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        #expect(F.render().webhookAdded(endpoint) == """
            added webhook ops (wh_1): native to https://hooks.example.com/earshot
            signing secret (shown once; store it with the receiver):
            whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

            check a receiver's signature check: earshot webhooks verify --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --headers FILE --body FILE
            send a test delivery: earshot webhooks test ops --wait
            """)
    }

    @Test func deliveriesTable() {
        #expect(F.render().deliveries([A.delivered, A.pending, A.dead]) == """
            ID      ENDPOINT  EVENT         STATUS     ATTEMPTS  LAST                NEXT/DELIVERED  ALERT
            msg_a1  ops       alert.firing  delivered         2  200                 4m58s ago       al_1
            msg_b2  chat      alert.firing  pending           3  connection refused  in 30s          al_1
            msg_c3  chat      earshot.test  dead             20  500                 —               —
            """)
    }

    @Test func deliveryWithItsAttempts() {
        #expect(F.render().delivery(A.delivered) == """
            delivery   msg_a1 — alert.firing to ops (wh_1)
            status     delivered 2026-12-06 21:05:02 (4m58s ago) after 2 attempts
            created    2026-12-06 21:05:00 (5m ago)
            alert      al_1 (transition tr_1)

            attempts
            #  TIME                 RESULT
            1  2026-12-06 21:05:00  503 in 12.5 ms, Retry-After 2s
            2  2026-12-06 21:05:02  200 in 4.0 ms
            """)
        #expect(F.render().deliveryStatus(A.pending) == "pending after 3 attempts; next attempt 2026-12-06 21:10:30 (in 30s)")
        #expect(F.render().deliveryStatus(A.dead) == "dead after 20 attempts, last 500 (earshot webhooks retry msg_c3)")
        #expect(ConsoleRender.attempt(DeliveryAttempt(number: 1, at: F.now, statusCode: nil, error: "connection refused", durationMs: 0.75))
            == "connection refused after 0.8 ms")
    }

    // MARK: test --wait

    /// Feeds `states` to the follower one poll at a time (interval 0: no waiting).
    static func follow(_ states: [WebhookDelivery], timeout: Double = 60) async throws -> (DeliveryFollower.Followed, [String], Int) {
        final class Box: @unchecked Sendable {
            var lines: [String] = []
            var polls = 0
        }
        let box = Box()
        let follower = DeliveryFollower(timeout: timeout, interval: 0.5)
        let followed = try await follower.follow(states[0], fetch: { id in
            #expect(id == states[0].id)
            box.polls += 1
            return states[min(box.polls, states.count - 1)]
        }, say: { box.lines.append($0) }, sleep: { _ in })
        return (followed, box.lines, box.polls)
    }

    static func state(_ status: DeliveryStatus, attempts: [(Int?, String?)]) -> WebhookDelivery {
        var delivery = WebhookDelivery(id: "msg_t", endpointID: "wh_1", endpointName: "ops", event: "earshot.test", status: status,
                                       createdAt: F.now, attemptCount: attempts.count)
        delivery.attempts = attempts.enumerated().map { index, outcome in
            DeliveryAttempt(number: index + 1, at: F.at(Double(index)), statusCode: outcome.0, error: outcome.1, durationMs: 2)
        }
        delivery.lastStatusCode = attempts.last?.0
        return delivery
    }

    @Test func waitFollowsADeliveryUntilDelivered() async throws {
        let (followed, lines, polls) = try await Self.follow([
            Self.state(.pending, attempts: []),
            Self.state(.pending, attempts: [(nil, "connection refused")]),
            Self.state(.pending, attempts: [(nil, "connection refused")]),
            Self.state(.delivered, attempts: [(nil, "connection refused"), (200, nil)]),
        ])
        #expect(!followed.timedOut)
        #expect(followed.delivery.status == .delivered)
        #expect(polls == 3)
        #expect(lines == [
            "attempt 1: connection refused after 2.0 ms",
            "attempt 2: 200 in 2.0 ms",
            "pending → delivered",
        ])
    }

    @Test func waitStopsOnDeadAndOnTimeout() async throws {
        let (dead, deadLines, _) = try await Self.follow([
            Self.state(.pending, attempts: [(500, nil)]),
            Self.state(.dead, attempts: [(500, nil), (500, nil)]),
        ])
        #expect(dead.delivery.status == .dead)
        #expect(!dead.timedOut)
        #expect(deadLines == ["attempt 1: 500 in 2.0 ms", "attempt 2: 500 in 2.0 ms", "pending → dead"])
        // 2 s at 0.5 s a poll: 4 polls, then it gives up with the delivery still pending.
        let (late, _, polls) = try await Self.follow([Self.state(.pending, attempts: [])], timeout: 2)
        #expect(late.timedOut)
        #expect(late.delivery.status == .pending)
        #expect(polls == 4)
    }
}
