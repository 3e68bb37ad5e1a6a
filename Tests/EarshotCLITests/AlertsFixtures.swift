import EarshotWire
import Foundation

@testable import EarshotCLI

/// Fixed alert and webhook resources for the console's tests (the clock is ConsoleFixtures.now).
enum AlertsFixtures {
    typealias F = ConsoleFixtures

    static let mosMeasurement = AlertMeasurement(metric: "mos_cq", value: 3.21, threshold: 3.6, direction: "alice→bob",
                                                 detail: "MOS-CQ 3.21 < 3.60 (alice→bob)", runID: "r-7", at: F.at(-300))

    static let mosLow = AlertInfo(
        id: "al_1", rule: .mosLow, scope: .pair("alice", "bob", callerSite: "hq", calleeSite: "branch-2"), severity: .warning,
        state: .firing, startedAt: F.at(-300), updatedAt: F.at(-300), summary: "MOS-CQ 3.21 < 3.60 on alice→bob (2 runs in a row)",
        measurement: mosMeasurement, transitions: 1)

    static let offline = AlertInfo(
        id: "al_2", rule: .agentOffline, scope: .agent("carol", site: "hq"), severity: .critical, state: .flapping,
        startedAt: F.at(-5_400), updatedAt: F.at(-60), summary: "offline: no heartbeat for 3s (3 missed)", silencedBy: "si_1",
        transitions: 5)

    static let alerts = [mosLow, offline]

    static let delivered = WebhookDelivery(
        id: "msg_a1", endpointID: "wh_1", endpointName: "ops", event: "alert.firing", alertID: "al_1", transitionID: "tr_1",
        status: .delivered, createdAt: F.at(-300), deliveredAt: F.at(-298), attemptCount: 2, lastStatusCode: 200,
        attempts: [
            DeliveryAttempt(number: 1, at: F.at(-300), statusCode: 503, error: nil, durationMs: 12.5, retryAfterS: 2),
            DeliveryAttempt(number: 2, at: F.at(-298), statusCode: 200, error: nil, durationMs: 4),
        ])

    static let pending = WebhookDelivery(
        id: "msg_b2", endpointID: "wh_2", endpointName: "chat", event: "alert.firing", alertID: "al_1", transitionID: "tr_1",
        status: .pending, createdAt: F.at(-300), nextAttemptAt: F.at(30), attemptCount: 3, lastError: "connection refused")

    static let dead = WebhookDelivery(
        id: "msg_c3", endpointID: "wh_2", endpointName: "chat", event: "earshot.test", status: .dead, createdAt: F.at(-90_000),
        attemptCount: 20, lastStatusCode: 500)

    static let detail = AlertDetail(
        alert: mosLow,
        transitions: [
            AlertTransitionInfo(id: "tr_1", alertID: "al_1", rule: .mosLow, scope: mosLow.scope, severity: .warning, from: nil,
                                to: .firing, at: F.at(-300), summary: mosLow.summary, measurement: mosMeasurement),
        ],
        deliveries: [delivered, pending])

    static let endpoints = [
        WebhookEndpointInfo(id: "wh_1", name: "ops", url: "https://hooks.example.com/earshot", format: .native, createdAt: F.at(-86_400),
                            deliveries: ["pending": 0, "delivered": 12, "dead": 1]),
        WebhookEndpointInfo(id: "wh_2", name: "chat", url: "http://127.0.0.1:9093", format: .alertmanagerAPI, enabled: false,
                            disabledReason: "410 Gone from the receiver", createdAt: F.at(-3_600), deliveries: ["pending": 2]),
    ]

    static let silences = [
        Silence(id: "si_1", matchers: SilenceMatchers(agent: "carol"), comment: "maintenance", createdAt: F.at(-600),
                endsAt: F.at(3_000)),
        Silence(id: "si_0", matchers: SilenceMatchers(rule: .lossHigh, pair: "alice>bob"), comment: nil, createdAt: F.at(-7_200),
                endsAt: F.at(-3_600)),
    ]
}
