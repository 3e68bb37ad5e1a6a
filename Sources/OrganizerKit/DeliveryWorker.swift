import AsyncHTTPClient
import EarshotStore
import EarshotWire
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OrganizerCore
import ServiceLifecycle

/// Sends the outbox (docs/webhooks.md "Delivery"): due deliveries are POSTed, up to
/// `webhooks.workers` at a time, signed per Standard Webhooks; each attempt and its outcome
/// (`DeliveryPolicy`) are stored. Everything it needs is in storage, so deliveries queued
/// before a crash are sent after the restart (at least once: an attempt cut off by the crash
/// is made again, with the same `webhook-id`).
///
/// Also re-posts the firing alerts to `alertmanager_api` endpoints every
/// `webhooks.alertmanager_resend` (best effort, not stored), so Alertmanager keeps them active.
///
/// Graceful shutdown: no new attempts start; those in flight finish (each bounded by
/// `webhooks.timeout`).
struct DeliveryWorker: Service {
    let storage: any Storage
    let configuration: OrganizerConfiguration.Webhooks
    let wake: WakeSignal
    let logger: Logger
    let baseURL: @Sendable () -> String
    /// The alerts a resend would include (firing, flapping, not silenced).
    let activeAlerts: @Sendable () async throws -> [AlertInfo]

    static let userAgent = "earshot/\(Organizer.version)"

    var policy: DeliveryPolicy {
        DeliveryPolicy(initialBackoff: configuration.backoffInitial.seconds, maxBackoff: configuration.backoffMax.seconds,
                       horizon: configuration.horizon.seconds)
    }

    func run() async throws {
        var config = HTTPClient.Configuration(redirectConfiguration: .disallow)
        config.timeout = .init(connect: .milliseconds(Int64(configuration.timeout.seconds * 1000)))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await resendLoop(client: client) }
                await deliveryLoop(client: client)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wake.signal()
        }
        try? await client.shutdown()
    }

    // MARK: deliveries

    private func deliveryLoop(client: HTTPClient) async {
        let inFlight = LockedValue<Set<String>>([])
        let workers = configuration.workers
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                var wait: Duration = .seconds(1)
                do {
                    let busy = inFlight.value
                    if busy.count < workers {
                        let due = try await storage.dueDeliveries(now: Date(), limit: workers + busy.count)
                            .filter { !busy.contains($0.id) }
                            .prefix(workers - busy.count)
                        for delivery in due {
                            inFlight.withLock { _ = $0.insert(delivery.id) }
                            group.addTask {
                                await send(delivery, client: client)
                                inFlight.withLock { _ = $0.remove(delivery.id) }
                                wake.signal()
                            }
                        }
                    }
                    if let next = try await storage.nextDeliveryDue() {
                        let s = next.timeIntervalSinceNow
                        // Due now: it is in flight (its end wakes this loop) or waits for a free worker.
                        if s > 0 { wait = .milliseconds(Int64(min(1, s) * 1000) + 1) }
                    }
                } catch {
                    logger.error("webhooks: could not read the outbox", metadata: ["error": .string("\(error)")])
                }
                await wake.wait(timeout: wait)
            }
            // Leaving the group waits for the attempts in flight.
        }
    }

    /// The URL a delivery is POSTed to.
    static func targetURL(_ url: String, format: WebhookFormat) -> String {
        guard format == .alertmanagerAPI else { return url }
        return (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/api/v2/alerts"
    }

    /// One signed POST: status code and `Retry-After`, or the transport error.
    struct Answer: Sendable {
        var statusCode: Int?
        var retryAfter: String?
        var error: String?
    }

    func post(url: String, id: String, secret: String, payload: RenderedPayload, client: HTTPClient,
              at start: Date) async -> Answer {
        let timestamp = Int(start.timeIntervalSince1970)
        let signature: String
        do {
            signature = try StandardWebhooks.signature(secret: secret, id: id, timestamp: timestamp, body: payload.body)
        } catch {
            return Answer(error: "cannot sign: \(error)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: payload.contentType)
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: signature)
        request.headers.add(name: "user-agent", value: Self.userAgent)
        request.body = .bytes(ByteBuffer(bytes: payload.body))
        do {
            let response = try await client.execute(
                request, deadline: .now() + .milliseconds(Int64(configuration.timeout.seconds * 1000)))
            // The answer's body is read (up to 64 KiB) and dropped.
            _ = try? await response.body.collect(upTo: 1 << 16)
            return Answer(statusCode: Int(response.status.code), retryAfter: response.headers.first(name: "retry-after"))
        } catch {
            return Answer(error: Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            if e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout { return "timed out" }
            return "\(e)"
        }
        return "\(error)"
    }

    private func send(_ delivery: DueDelivery, client: HTTPClient) async {
        let start = Date()
        let url = Self.targetURL(delivery.url, format: delivery.format)
        let answer = await post(url: url, id: delivery.id, secret: delivery.secret, payload: delivery.payload,
                                client: client, at: start)
        let end = Date()
        let number = delivery.attempts + 1
        let outcome: DeliveryPolicy.Outcome
        if answer.statusCode == nil, let error = answer.error, error.hasPrefix("cannot sign") {
            outcome = .dead(reason: error)
        } else {
            outcome = policy.outcome(attempt: number, statusCode: answer.statusCode, retryAfter: answer.retryAfter, now: end,
                                     createdAt: delivery.createdAt, random: Double.random(in: 0..<1))
        }
        let attempt = DeliveryAttempt(number: number, at: start, statusCode: answer.statusCode, error: answer.error,
                                      durationMs: end.timeIntervalSince(start) * 1000,
                                      retryAfterS: DeliveryPolicy.retryAfterSeconds(answer.retryAfter, now: end))
        do {
            try await storage.recordAttempt(deliveryID: delivery.id, attempt: attempt, outcome: outcome)
        } catch {
            logger.error("webhooks: could not record an attempt (it will be made again)",
                         metadata: ["delivery": .string(delivery.id), "error": .string("\(error)")])
            return
        }
        var metadata: Logger.Metadata = [
            "delivery": .string(delivery.id), "endpoint": .string(delivery.endpointID), "event": .string(delivery.payload.event),
            "attempt": .stringConvertible(number), "status": .string(answer.statusCode.map(String.init) ?? "-"),
        ]
        if let error = answer.error { metadata["error"] = .string(error) }
        switch outcome {
        case .delivered:
            logger.info("webhook delivered", metadata: metadata)
        case .retry(let at):
            metadata["next_attempt"] = .string(WireJSON.formatDate(at))
            logger.notice("webhook attempt failed; will retry", metadata: metadata)
        case .dead(let reason):
            metadata["reason"] = .string(reason)
            logger.warning("webhook dead-lettered", metadata: metadata)
        case .disableEndpoint(let reason):
            metadata["reason"] = .string(reason)
            logger.warning("webhook endpoint disabled by the receiver", metadata: metadata)
        }
    }

    // MARK: alertmanager_api refresh

    private func resendLoop(client: HTTPClient) async {
        let every = configuration.alertmanagerResend.seconds
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(Int64(every * 1000)))
            } catch {
                return
            }
            await resend(client: client)
        }
    }

    /// Posts the active alerts to every enabled alertmanager_api endpoint (those its rules and
    /// severity filter let through).
    func resend(client: HTTPClient) async {
        do {
            let targets = try await storage.webhookEndpoints().filter { $0.info.enabled && $0.info.format == .alertmanagerAPI }
            guard !targets.isEmpty else { return }
            let alerts = try await activeAlerts()
            let renderer = WebhookRenderer(baseURL: baseURL())
            for target in targets {
                let chosen = alerts.filter {
                    WebhookEndpointRequest.matches(rules: target.info.rules, minSeverity: target.info.minSeverity,
                                                   rule: $0.rule, severity: $0.severity)
                }
                guard !chosen.isEmpty, let record = try await storage.webhookEndpoint(target.info.id) else { continue }
                let now = Date()
                let payload = renderer.alertmanagerRefresh(chosen, now: now,
                                                           validFor: 3 * configuration.alertmanagerResend.seconds)
                let answer = await post(url: Self.targetURL(record.info.url, format: .alertmanagerAPI),
                                        id: Secrets.identifier(prefix: "msg_"), secret: record.secret, payload: payload,
                                        client: client, at: now)
                if let code = answer.statusCode, (200..<300).contains(code) {
                    logger.debug("alertmanager refresh sent", metadata: ["endpoint": .string(target.info.name),
                                                                         "alerts": .stringConvertible(chosen.count)])
                } else {
                    logger.notice("alertmanager refresh failed", metadata: [
                        "endpoint": .string(target.info.name), "status": .string(answer.statusCode.map(String.init) ?? "-"),
                        "error": .string(answer.error ?? "-"),
                    ])
                }
            }
        } catch {
            logger.warning("alertmanager refresh: could not read the alerts or endpoints", metadata: ["error": .string("\(error)")])
        }
    }
}
