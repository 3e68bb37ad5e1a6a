import EarshotStore
import EarshotWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OrganizerCore

/// The alert and webhook paths of the API (the list at the top of EarshotWire/Alerts.swift).
extension APIRoutes {
    func registerAlerts(on router: Router<BasicRequestContext>) {
        router.get("/v1/alerts") { request, _ in
            let query = try Self.alertQuery(request.uri.queryParameters)
            return try jsonResponse(await runtime.alerts.annotate(try await runtime.storage.alerts(query)))
        }
        router.get("/v1/alerts/:id") { _, context in
            let id = try context.parameters.require("id")
            guard var detail = try await runtime.storage.alert(id) else {
                throw APIFailure.notFound("no alert \(id) (GET /v1/alerts?state=all lists them)")
            }
            detail.alert = await runtime.alerts.annotate([detail.alert])[0]
            return try jsonResponse(detail)
        }

        router.get("/v1/alert-rules") { _, _ in try jsonResponse(await runtime.alerts.rules()) }
        router.put("/v1/alert-rules/:name") { request, context in
            let name = try Self.ruleName(context)
            let patch = try await decodeJSON(AlertRulePatch.self, request, context)
            return try jsonResponse(try await runtime.alerts.setRulePatch(name, patch))
        }
        router.delete("/v1/alert-rules/:name") { _, context in
            try jsonResponse(try await runtime.alerts.setRulePatch(try Self.ruleName(context), nil))
        }

        router.get("/v1/silences") { request, _ in
            let all = request.uri.queryParameters["all"].map { $0 == "true" || $0 == "1" } ?? false
            return try jsonResponse(try await runtime.storage.silences(activeAt: all ? nil : Date()))
        }
        router.post("/v1/silences") { request, context in
            let body = try await decodeJSON(SilenceRequest.self, request, context)
            let silence = try Self.silence(body, now: Date())
            try await runtime.storage.addSilence(silence)
            try await runtime.alerts.silencesChanged()
            runtime.logger.notice("silence created", metadata: [
                "silence": .string(silence.id), "ends": .string(WireJSON.formatDate(silence.endsAt)),
            ])
            return try jsonResponse(silence, status: .created)
        }
        router.delete("/v1/silences/:id") { _, context in
            let id = try context.parameters.require("id")
            guard try await runtime.storage.expireSilence(id: id, at: Date()) else {
                throw APIFailure.notFound("no silence \(id) (GET /v1/silences?all=true lists them)")
            }
            try await runtime.alerts.silencesChanged()
            runtime.logger.notice("silence expired", metadata: ["silence": .string(id)])
            return Response(status: .noContent)
        }

        router.get("/v1/webhooks") { _, _ in
            try jsonResponse(try await runtime.storage.webhookEndpoints().map { Self.withoutSecret($0.info) })
        }
        router.post("/v1/webhooks") { request, context in
            let body = try await decodeJSON(WebhookEndpointRequest.self, request, context)
            let record = try Self.endpoint(body, now: Date())
            if try await runtime.storage.webhookEndpoint(body.name) != nil {
                throw APIFailure.conflict("name: a webhook named \(body.name) exists; delete it first or pick another name")
            }
            try await runtime.storage.addWebhookEndpoint(record)
            try await runtime.alerts.endpointsChanged()
            runtime.logger.notice("webhook endpoint added", metadata: [
                "endpoint": .string(record.info.id), "name": .string(record.info.name), "format": .string(record.info.format.rawValue),
            ])
            var info = record.info
            info.secret = record.secret
            return try jsonResponse(info, status: .created)
        }
        router.get("/v1/webhooks/:id") { _, context in
            try jsonResponse(Self.withoutSecret(try await endpoint(context).info))
        }
        router.delete("/v1/webhooks/:id") { _, context in
            let record = try await endpoint(context)
            _ = try await runtime.storage.deleteWebhookEndpoint(id: record.info.id, at: Date())
            try await runtime.alerts.endpointsChanged()
            runtime.logger.notice("webhook endpoint deleted", metadata: ["endpoint": .string(record.info.id),
                                                                         "name": .string(record.info.name)])
            return Response(status: .noContent)
        }
        router.post("/v1/webhooks/:id/enable") { _, context in
            let record = try await endpoint(context)
            let updated = try await runtime.storage.setWebhookEndpointEnabled(id: record.info.id, enabled: true, reason: nil,
                                                                              at: Date())
            try await runtime.alerts.endpointsChanged()
            runtime.deliveryWake.signal()
            runtime.logger.notice("webhook endpoint enabled", metadata: ["endpoint": .string(record.info.id)])
            return try jsonResponse(Self.withoutSecret(updated.info))
        }
        router.post("/v1/webhooks/:id/test") { _, context in
            let record = try await endpoint(context)
            guard record.info.enabled else {
                throw APIFailure.conflict(
                    "webhook \(record.info.name) is disabled (\(record.info.disabledReason ?? "no reason given")); enable it first")
            }
            let now = Date()
            let payload = WebhookRenderer(baseURL: runtime.publicURL())
                .renderTest(format: record.info.format, endpointName: record.info.name, at: now)
            let delivery = NewDelivery(id: AlertService.makeID("msg_"), endpointID: record.info.id, event: payload.event,
                                       payload: payload, createdAt: now, dueAt: now)
            try await runtime.storage.enqueueDeliveries([delivery])
            runtime.deliveryWake.signal()
            let stored = try await runtime.storage.delivery(delivery.id)
                ?? WebhookDelivery(id: delivery.id, endpointID: record.info.id, endpointName: record.info.name,
                                   event: payload.event, status: .pending, createdAt: now, nextAttemptAt: now)
            return try jsonResponse(stored, status: .created)
        }

        router.get("/v1/deliveries") { request, _ in
            try jsonResponse(try await runtime.storage.deliveries(try Self.deliveryQuery(request.uri.queryParameters)))
        }
        router.get("/v1/deliveries/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let delivery = try await runtime.storage.delivery(id) else {
                throw APIFailure.notFound("no delivery \(id) (GET /v1/deliveries lists them)")
            }
            return try jsonResponse(delivery)
        }
        // POST /v1/deliveries/retry shares the trie node of /v1/deliveries/:id.
        router.post("/v1/deliveries/:id") { request, context in
            guard try context.parameters.require("id") == "retry" else { throw HTTPError(.notFound) }
            var body = try await decodeJSON(DeliveryRetryRequest.self, request, context)
            guard body.ids?.isEmpty == false || body.endpoint != nil else {
                throw APIFailure.badRequest("ids or endpoint: name the deliveries, or the endpoint whose deliveries to retry")
            }
            if let name = body.endpoint {
                guard let record = try await runtime.storage.webhookEndpoint(name) else {
                    throw APIFailure.notFound("endpoint: no webhook \(name) (GET /v1/webhooks lists them)")
                }
                body.endpoint = record.info.id
            }
            if body.statuses?.contains(.delivered) == true {
                throw APIFailure.badRequest("statuses: only dead, cancelled or pending deliveries are retried")
            }
            let ids = try await runtime.storage.retryDeliveries(body, at: Date())
            if !ids.isEmpty { runtime.deliveryWake.signal() }
            runtime.logger.notice("deliveries retried", metadata: ["count": .stringConvertible(ids.count)])
            return try jsonResponse(DeliveryRetryResult(retried: ids.count, ids: ids))
        }
    }

    private func endpoint(_ context: BasicRequestContext) async throws -> WebhookEndpointRecord {
        let id = try context.parameters.require("id")
        guard let record = try await runtime.storage.webhookEndpoint(id) else {
            throw APIFailure.notFound("no webhook \(id) (GET /v1/webhooks lists them)")
        }
        return record
    }

    static func withoutSecret(_ info: WebhookEndpointInfo) -> WebhookEndpointInfo {
        var info = info
        info.secret = nil
        return info
    }

    // MARK: validation

    static func ruleName(_ context: BasicRequestContext) throws -> AlertRuleName {
        let name = try context.parameters.require("name")
        guard let rule = AlertRuleName(rawValue: name) else {
            throw APIFailure.notFound("no alert rule \(name) (rules: \(AlertRuleName.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return rule
    }

    static func limit(_ q: Parameters, max: Int = 10_000) throws -> Int? {
        guard let l = q["limit"] else { return nil }
        guard let limit = Int(l), (1...max).contains(limit) else { throw APIFailure.badRequest("limit: 1–\(max)") }
        return limit
    }

    static func alertQuery(_ q: Parameters) throws -> AlertQuery {
        var query = AlertQuery()
        if let s = q["state"] {
            if s != "all" {
                var states: [AlertState] = []
                for part in s.split(separator: ",") {
                    guard let state = AlertState(rawValue: String(part)) else {
                        throw APIFailure.badRequest(
                            "state: one of \(AlertState.allCases.map(\.rawValue).joined(separator: ", ")) or all")
                    }
                    states.append(state)
                }
                query.states = states
            } else {
                query.states = AlertState.allCases
            }
        }
        if let r = q["rule"] {
            guard let rule = AlertRuleName(rawValue: String(r)) else {
                throw APIFailure.badRequest("rule: one of \(AlertRuleName.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.rule = rule
        }
        query.scope = q["scope"].map(String.init)
        if let limit = try limit(q) { query.limit = limit }
        return query
    }

    static func deliveryQuery(_ q: Parameters) throws -> DeliveryQuery {
        var query = DeliveryQuery()
        query.endpoint = q["endpoint"].map(String.init)
        if let s = q["status"] {
            guard let status = DeliveryStatus(rawValue: String(s)) else {
                throw APIFailure.badRequest("status: one of \(DeliveryStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = status
        }
        query.alertID = q["alert"].map(String.init)
        if let limit = try limit(q) { query.limit = limit }
        return query
    }

    /// A new silence from the request: non-empty matchers, ending after now (default in 1 h).
    static func silence(_ body: SilenceRequest, now: Date) throws -> Silence {
        guard !body.matchers.isEmpty else {
            throw APIFailure.badRequest("matchers: give at least one of rule, agent, site, suite, pair (a silence of everything is not allowed)")
        }
        if let pair = body.matchers.pair, pair.split(separator: ">", omittingEmptySubsequences: false).count != 2
            || pair.hasPrefix(">") || pair.hasSuffix(">") {
            throw APIFailure.badRequest("matchers.pair: caller>callee, e.g. alice>bob")
        }
        if body.duration != nil, body.until != nil { throw APIFailure.badRequest("duration, until: give one of them") }
        let endsAt: Date
        if let until = body.until {
            guard until > now else { throw APIFailure.badRequest("until: must be in the future") }
            endsAt = until
        } else {
            let seconds = body.duration?.seconds ?? 3600
            guard seconds > 0, seconds <= 366 * 86400 else { throw APIFailure.badRequest("duration: between 1s and 366d") }
            endsAt = now.addingTimeInterval(seconds)
        }
        if let comment = body.comment, comment.count > 1000 { throw APIFailure.badRequest("comment: at most 1000 characters") }
        return Silence(id: AlertService.makeID("si_"), matchers: body.matchers, comment: body.comment, createdAt: now, endsAt: endsAt)
    }

    /// A new endpoint from the request: a valid name and http(s) URL, and a usable secret
    /// (one is generated when none is given).
    static func endpoint(_ body: WebhookEndpointRequest, now: Date) throws -> WebhookEndpointRecord {
        guard OrganizerRuntime.validAgentName(body.name) else {
            throw APIFailure.badRequest("name: use 1–64 letters, digits, '-', '_' or '.'")
        }
        guard OrganizerConfiguration.isHTTPURL(body.url) else {
            throw APIFailure.badRequest("url: \"\(body.url)\" is not an http or https URL")
        }
        let secret: String
        if let given = body.secret {
            do {
                _ = try StandardWebhooks.key(fromSecret: given)
            } catch {
                throw APIFailure.badRequest("secret: \(error) (a whsec_ secret: whsec_ + base64 of 24–64 random bytes; omit it to have one generated)")
            }
            secret = given
        } else {
            secret = StandardWebhooks.secret(randomBytes: Secrets.randomBytes(24))
        }
        if let rules = body.rules, rules.isEmpty {
            throw APIFailure.badRequest("rules: leave it out for every rule, or name at least one")
        }
        let info = WebhookEndpointInfo(id: AlertService.makeID("wh_"), name: body.name, url: body.url, format: body.format,
                                       rules: body.rules, minSeverity: body.minSeverity, createdAt: now)
        return WebhookEndpointRecord(info: info, secret: secret)
    }
}
