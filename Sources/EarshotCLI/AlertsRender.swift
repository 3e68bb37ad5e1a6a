import EarshotWire
import Foundation

/// Text of `earshot alerts …` and `earshot webhooks …` (docs/cli.md). Pure, like the rest of
/// `ConsoleRender`: the clock, time zone and width are the render's.
extension ConsoleRender {
    // MARK: alerts

    /// A scope's key without its kind: `alice>bob`, `alice`, `branch-2`, `mesh`.
    static func scope(_ scope: AlertScope) -> String {
        let key = scope.key
        guard let equals = key.firstIndex(of: "=") else { return key }
        return String(key[key.index(after: equals)...])
    }

    static func state(_ alert: AlertInfo) -> String {
        alert.state.rawValue + (alert.silencedBy == nil ? "" : " (silenced)")
    }

    func alerts(_ alerts: [AlertInfo]) -> String {
        guard !alerts.isEmpty else { return "no alerts match (resolved ones too: earshot alerts list --state all)" }
        var table = TextTable([
            .init("id"), .init("rule"), .init("scope", shrinkable: true), .init("severity"), .init("state"),
            .init("since"), .init("summary", shrinkable: true, minimumWidth: 10),
        ])
        for alert in alerts {
            table.add([alert.id, alert.rule.rawValue, Self.scope(alert.scope), alert.severity.rawValue, Self.state(alert),
                       relative(alert.startedAt), alert.summary])
        }
        return table.render(width: width)
    }

    func alertDetail(_ detail: AlertDetail) -> String {
        let alert = detail.alert
        var lines = [
            "alert      \(alert.id) — \(alert.rule.rawValue) on \(alert.scope.kind.rawValue) \(Self.scope(alert.scope)) (\(alert.severity.rawValue))",
            "state      \(alert.state.rawValue) since \(time(alert.startedAt)) (\(relative(alert.startedAt))); \(Self.count(alert.transitions, "transition")), last \(time(alert.updatedAt))",
        ]
        if let resolved = alert.resolvedAt { lines.append("resolved   \(time(resolved)) (\(relative(resolved)))") }
        lines.append("summary    \(alert.summary)")
        if let measurement = alert.measurement {
            lines.append("measured   \(measurement.detail) at \(time(measurement.at))\(measurement.runID.map { ", run \($0)" } ?? "")")
        }
        let sites = alert.scope.sites
        if !sites.isEmpty, alert.scope.kind != .site { lines.append("sites      \(sites.joined(separator: ", "))") }
        if let silence = alert.silencedBy { lines.append("silenced   by \(silence) (earshot alerts unsilence \(silence))") }

        lines += ["", "transitions (newest first)"]
        if detail.transitions.isEmpty {
            lines.append("none")
        } else {
            var table = TextTable([
                .init("time"), .init("change"), .init("detail", shrinkable: true, minimumWidth: 10), .init("run"), .init("silenced"),
            ])
            for transition in detail.transitions {
                table.add([time(transition.at), "\(transition.from?.rawValue ?? Self.none)→\(transition.to.rawValue)",
                           transition.measurement?.detail ?? transition.summary, transition.measurement?.runID ?? Self.none,
                           transition.silenced ? "yes" : "no"])
            }
            lines.append(table.render(width: width))
        }

        lines += ["", "deliveries (newest first)"]
        if detail.deliveries.isEmpty {
            lines.append("none (no webhook matched, or every transition was silenced)")
        } else {
            var table = TextTable([
                .init("id"), .init("endpoint", shrinkable: true), .init("event"), .init("status"), .init("attempts", .right),
                .init("last", shrinkable: true),
            ])
            for delivery in detail.deliveries {
                table.add([delivery.id, delivery.endpointName, delivery.event, delivery.status.rawValue,
                           String(delivery.attemptCount), Self.last(delivery)])
            }
            lines.append(table.render(width: width))
        }
        return lines.joined(separator: "\n")
    }

    /// `1 attempt`, `2 attempts`.
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    // MARK: silences

    /// `rule=mos_low agent=alice pair=alice>bob`, in a fixed order.
    static func matchers(_ m: SilenceMatchers) -> String {
        var parts: [String] = []
        if let v = m.rule { parts.append("rule=\(v.rawValue)") }
        if let v = m.agent { parts.append("agent=\(v)") }
        if let v = m.site { parts.append("site=\(v)") }
        if let v = m.suite { parts.append("suite=\(v)") }
        if let v = m.pair { parts.append("pair=\(v)") }
        return parts.isEmpty ? "everything" : parts.joined(separator: " ")
    }

    func silenced(_ silence: Silence) -> String {
        "silenced \(Self.matchers(silence.matchers)) until \(time(silence.endsAt)) (\(relative(silence.endsAt))) — \(silence.id)"
    }

    func silences(_ silences: [Silence]) -> String {
        guard !silences.isEmpty else { return "no silences (earshot alerts silence --rule R --for 1h …)" }
        var table = TextTable([
            .init("id"), .init("matchers", shrinkable: true, minimumWidth: 10), .init("created"), .init("ends"),
            .init("comment", shrinkable: true),
        ])
        for silence in silences {
            let ends = silence.endsAt > now ? relative(silence.endsAt) : "ended \(relative(silence.endsAt))"
            table.add([silence.id, Self.matchers(silence.matchers), time(silence.createdAt), "\(time(silence.endsAt)) (\(ends))",
                       silence.comment ?? ""])
        }
        return table.render(width: width)
    }

    // MARK: rules

    func alertRules(_ rules: [AlertRule]) -> String {
        var table = TextTable([
            .init("name"), .init("on"), .init("severity"), .init("scope"), .init("fire", .right), .init("clear", .right),
            .init("after"), .init("flap"), .init("extra", shrinkable: true),
        ])
        for rule in rules {
            var extra: [String] = []
            if let v = rule.staleIntervals { extra.append("stale_intervals=\(v)") }
            if let v = rule.minAgents { extra.append("min_agents=\(v)") }
            if let v = rule.suites { extra.append("suites=\(v.joined(separator: ","))") }
            table.add([rule.name.rawValue, rule.enabled ? "yes" : "no", rule.severity.rawValue, rule.scope.rawValue,
                       rule.fire.map(Self.compact) ?? Self.none, rule.clear.map(Self.compact) ?? Self.none,
                       "\(rule.fireAfter)/\(rule.clearAfter)", "\(rule.flapTransitions) in \(rule.flapWindow)",
                       extra.joined(separator: " ")])
        }
        return table.render(width: width)
    }

    // MARK: webhooks

    func webhookAdded(_ endpoint: WebhookEndpointInfo) -> String {
        var lines = ["added webhook \(endpoint.name) (\(endpoint.id)): \(endpoint.format.rawValue) to \(endpoint.url)"]
        if let secret = endpoint.secret {
            lines += [
                "signing secret (shown once; store it with the receiver):",
                secret,
                "",
                "check a receiver's signature check: earshot webhooks verify --secret \(secret) --headers FILE --body FILE",
            ]
        }
        lines.append("send a test delivery: earshot webhooks test \(endpoint.name) --wait")
        return lines.joined(separator: "\n")
    }

    static func enabled(_ endpoint: WebhookEndpointInfo) -> String {
        endpoint.enabled ? "yes" : "no: \(endpoint.disabledReason ?? "disabled") (earshot webhooks enable \(endpoint.name))"
    }

    func webhooks(_ endpoints: [WebhookEndpointInfo]) -> String {
        guard !endpoints.isEmpty else { return "no webhooks (earshot webhooks add NAME --url URL)" }
        var table = TextTable([
            .init("name"), .init("format"), .init("url", shrinkable: true, minimumWidth: 10), .init("enabled", shrinkable: true),
            .init("pending", .right), .init("delivered", .right), .init("dead", .right),
        ])
        for endpoint in endpoints {
            table.add([endpoint.name, endpoint.format.rawValue, endpoint.url, Self.enabled(endpoint),
                       String(endpoint.deliveries["pending"] ?? 0), String(endpoint.deliveries["delivered"] ?? 0),
                       String(endpoint.deliveries["dead"] ?? 0)])
        }
        return table.render(width: width)
    }

    /// The last attempt's outcome: its HTTP status, else its error, else `—` (no attempt yet).
    static func last(_ delivery: WebhookDelivery) -> String {
        if let code = delivery.lastStatusCode { return String(code) }
        return delivery.lastError ?? none
    }

    func nextOrDelivered(_ delivery: WebhookDelivery) -> String {
        switch delivery.status {
        case .pending: relative(delivery.nextAttemptAt)
        case .delivered: relative(delivery.deliveredAt)
        case .dead, .cancelled: Self.none
        }
    }

    func deliveries(_ deliveries: [WebhookDelivery]) -> String {
        guard !deliveries.isEmpty else { return "no deliveries match" }
        var table = TextTable([
            .init("id"), .init("endpoint", shrinkable: true), .init("event"), .init("status"), .init("attempts", .right),
            .init("last", shrinkable: true), .init("next/delivered"), .init("alert"),
        ])
        for delivery in deliveries {
            table.add([delivery.id, delivery.endpointName, delivery.event, delivery.status.rawValue, String(delivery.attemptCount),
                       Self.last(delivery), nextOrDelivered(delivery), delivery.alertID ?? Self.none])
        }
        return table.render(width: width)
    }

    /// `503 in 12.5 ms, Retry-After 30s`, `connection refused after 5.0 ms`.
    static func attempt(_ attempt: DeliveryAttempt) -> String {
        var text: String
        switch (attempt.statusCode, attempt.error) {
        case let (code?, error?): text = "\(code) (\(error)) in \(number(attempt.durationMs, 1)) ms"
        case let (code?, nil): text = "\(code) in \(number(attempt.durationMs, 1)) ms"
        case let (nil, error?): text = "\(error) after \(number(attempt.durationMs, 1)) ms"
        case (nil, nil): text = "no answer after \(number(attempt.durationMs, 1)) ms"
        }
        if let retryAfter = attempt.retryAfterS { text += ", Retry-After \(WireDuration(seconds: retryAfter))" }
        return text
    }

    /// `delivered 2026-12-06 21:09:58 (2s ago) after 2 attempts`, `pending: next attempt …`.
    func deliveryStatus(_ delivery: WebhookDelivery) -> String {
        let attempts = Self.count(delivery.attemptCount, "attempt")
        switch delivery.status {
        case .delivered: return "delivered \(time(delivery.deliveredAt)) (\(relative(delivery.deliveredAt))) after \(attempts)"
        case .pending: return "pending after \(attempts); next attempt \(time(delivery.nextAttemptAt)) (\(relative(delivery.nextAttemptAt)))"
        case .dead: return "dead after \(attempts), last \(Self.last(delivery)) (earshot webhooks retry \(delivery.id))"
        case .cancelled: return "cancelled after \(attempts) (its endpoint was disabled or deleted)"
        }
    }

    func delivery(_ delivery: WebhookDelivery) -> String {
        var lines = [
            "delivery   \(delivery.id) — \(delivery.event) to \(delivery.endpointName) (\(delivery.endpointID))",
            "status     \(deliveryStatus(delivery))",
            "created    \(time(delivery.createdAt)) (\(relative(delivery.createdAt)))",
        ]
        if let alert = delivery.alertID {
            lines.append("alert      \(alert)\(delivery.transitionID.map { " (transition \($0))" } ?? "")")
        }
        lines += ["", "attempts"]
        if delivery.attempts.isEmpty {
            lines.append("none yet")
        } else {
            var table = TextTable([.init("#", .right), .init("time"), .init("result", shrinkable: true, minimumWidth: 10)])
            for attempt in delivery.attempts { table.add([String(attempt.number), time(attempt.at), Self.attempt(attempt)]) }
            lines.append(table.render(width: width))
        }
        return lines.joined(separator: "\n")
    }

    func retried(_ result: DeliveryRetryResult) -> String {
        result.retried == 0 ? "nothing to retry" : "retrying \(result.retried): \(result.ids.joined(separator: " "))"
    }
}
