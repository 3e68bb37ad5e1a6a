import EarshotStore
import EarshotWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Yams

/// The HTTP API of organizer/openapi.yaml (the list at the top of EarshotWire/API.swift).
struct APIRoutes: Sendable {
    let runtime: OrganizerRuntime

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/status") { _, _ in try await status() }

        router.get("/v1/agents") { _, _ in try jsonResponse(try await runtime.storage.agents()) }
        router.get("/v1/agents/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let record = try await runtime.storage.agent(id) else { throw APIFailure.notFound("no agent \(id)") }
            return try jsonResponse(record.info)
        }
        // POST /v1/agents/tokens shares the trie node of /v1/agents/:id.
        router.post("/v1/agents/:id") { request, context in
            guard try context.parameters.require("id") == "tokens" else {
                throw HTTPError(.notFound)
            }
            return try await createToken(request, context: context)
        }
        router.post("/v1/agents/:id/revoke") { _, context in
            try jsonResponse(try await runtime.revoke(try context.parameters.require("id")))
        }
        router.post("/v1/agents/:id/labels") { request, context in
            let id = try context.parameters.require("id")
            let change = try await decodeJSON(LabelChange.self, request, context)
            guard let record = try await runtime.storage.agent(id) else { throw APIFailure.notFound("no agent \(id)") }
            for key in change.set.keys + change.remove where key.isEmpty || key.count > 64 {
                throw APIFailure.badRequest("set/remove: label keys are 1–64 characters")
            }
            return try jsonResponse(try await runtime.storage.changeLabels(id: record.info.id, change: change, at: Date()))
        }

        router.get("/v1/suites") { _, _ in
            let suites = try await runtime.storage.suites()
            return try jsonResponse(try await runtime.scheduler.annotate(suites))
        }
        router.get("/v1/suites/:name") { _, context in
            try jsonResponse(try await runtime.scheduler.annotate([try await suite(context)])[0])
        }
        router.put("/v1/suites/:name") { request, context in try await putSuite(request, context: context) }
        router.delete("/v1/suites/:name") { _, context in
            let name = try context.parameters.require("name")
            guard try await runtime.storage.deleteSuite(name) else { throw APIFailure.notFound("no suite \(name)") }
            await runtime.scheduler.removed(name)
            runtime.logger.info("suite deleted", metadata: ["suite": .string(name)])
            return Response(status: .noContent)
        }
        // POST /v1/suites/default (restore) shares the trie node of /v1/suites/:name.
        router.post("/v1/suites/:name") { _, context in
            guard try context.parameters.require("name") == "default" else { throw HTTPError(.notFound) }
            // DESIGN §4: the full mesh plus one conference of all agents (up to the cap).
            let interval = runtime.configuration.defaultInterval
            var restored: [SuiteInfo] = []
            for spec in [SuiteSpec.defaultMesh(interval: interval), SuiteSpec.defaultConference(interval: interval)] {
                restored.append(try await runtime.storage.putSuite(spec, at: Date()))
                await runtime.scheduler.applied(spec.name)
            }
            runtime.logger.info("default suites restored", metadata: ["suites": .string(restored.map(\.spec.name).joined(separator: ","))])
            return try jsonResponse(try await runtime.scheduler.annotate(restored))
        }
        router.post("/v1/suites/:name/run") { _, context in
            let info = try await suite(context)
            return try jsonResponse(try await runtime.scheduler.runRound(info.spec), status: .created)
        }
        router.post("/v1/suites/:name/pause") { _, context in try await setPaused(context, true) }
        router.post("/v1/suites/:name/resume") { _, context in try await setPaused(context, false) }

        router.get("/v1/runs") { request, _ in try jsonResponse(try await runtime.storage.runs(try runQuery(request))) }
        router.get("/v1/runs/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let detail = try await runtime.storage.run(id) else { throw APIFailure.notFound("no run \(id)") }
            return try jsonResponse(detail)
        }
        router.get("/v1/report") { request, _ in
            let q = request.uri.queryParameters
            let now = Date()
            let until = try q["until"].map { try Self.parseTime(String($0), key: "until", now: now) } ?? now
            let since = try q["since"].map { try Self.parseTime(String($0), key: "since", now: now) }
                ?? until.addingTimeInterval(-86400)
            guard since <= until else { throw APIFailure.badRequest("since: must not be after until") }
            return try jsonResponse(try await runtime.storage.report(since: since, until: until, suite: q["suite"].map(String.init)))
        }
        registerAlerts(on: router)
        router.get("/v1/agent") { _, _ -> Response in
            throw APIFailure(.upgradeRequired, "bad_request",
                             "/v1/agent is the agent WebSocket: connect with a WebSocket upgrade (docs/protocol.md)")
        }
    }

    // MARK: handlers

    private func status() async throws -> Response {
        let now = Date()
        let agents = try await runtime.storage.agents()
        let suites = try await runtime.storage.suites()
        let recent = try await runtime.storage.runs(RunQuery(since: now.addingTimeInterval(-3600), limit: 100_000))
        var byStatus: [String: Int] = [:]
        for run in recent where run.status.isFinal { byStatus[run.status.rawValue, default: 0] += 1 }
        var warnings = suites.compactMap { s in s.warning.map { "suite \(s.spec.name): \($0)" } }
        if runtime.adminTokenHashes.isEmpty { warnings.append("no admin token configured: the API cannot be changed") }
        let info = StatusInfo(
            version: Organizer.version, startedAt: runtime.startedAt, now: now,
            agents: .init(total: agents.count, online: agents.filter { $0.state == .online }.count,
                          offline: agents.filter { $0.state == .offline || $0.state == .enrolled }.count,
                          revoked: agents.filter { $0.state == .revoked }.count),
            suites: suites.count, suitesPaused: suites.filter(\.spec.paused).count, runsLastHour: byStatus,
            runsInFlight: await runtime.coordinator.inFlightCount, database: runtime.storage.location, warnings: warnings,
            alerts: try await alertCounts(), deliveries: try await deliveryCounts())
        return try jsonResponse(info)
    }

    /// Active alerts by state.
    private func alertCounts() async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for a in try await runtime.storage.alerts(AlertQuery(limit: 100_000)) { out[a.state.rawValue, default: 0] += 1 }
        return out
    }

    /// Pending and dead deliveries over every endpoint.
    private func deliveryCounts() async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for e in try await runtime.storage.webhookEndpoints() {
            for status in [DeliveryStatus.pending, .dead] {
                if let n = e.info.deliveries[status.rawValue], n > 0 { out[status.rawValue, default: 0] += n }
            }
        }
        return out
    }

    private func createToken(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await decodeJSON(EnrollmentTokenRequest.self, request, context)
        let site = body.site.trimmingCharacters(in: .whitespaces)
        guard !site.isEmpty, site.count <= 64 else { throw APIFailure.badRequest("site: 1–64 characters") }
        let ttl = body.ttl?.seconds ?? 86400
        guard ttl >= 1, ttl <= 366 * 86400 else { throw APIFailure.badRequest("ttl: between 1s and 366d") }
        let now = Date()
        let token = Secrets.generate(prefix: "ese_")
        let expires = now.addingTimeInterval(ttl)
        try await runtime.storage.addEnrollmentToken(hash: Secrets.hash(token), site: site, labels: body.labels ?? [:],
                                                     expiresAt: expires, createdAt: now)
        runtime.logger.info("enrollment token created", metadata: ["site": .string(site), "expires": .string(WireJSON.formatDate(expires))])
        return try jsonResponse(EnrollmentToken(token: token, site: site, expiresAt: expires), status: .created)
    }

    private func suite(_ context: BasicRequestContext) async throws -> SuiteInfo {
        let name = try context.parameters.require("name")
        guard let info = try await runtime.storage.suite(name) else {
            throw APIFailure.notFound("no suite \(name) (GET /v1/suites lists them)")
        }
        return info
    }

    private func putSuite(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let contentType = request.headers[.contentType]?.lowercased() ?? "application/json"
        let spec: SuiteSpec
        if contentType.contains("yaml") {
            let buffer = try await request.body.collect(upTo: runtime.configuration.maxBodyBytes)
            spec = try Self.decodeSuiteYAML(String(buffer: buffer))
        } else if contentType.contains("json") {
            spec = try await decodeJSON(SuiteSpec.self, request, context)
        } else {
            throw APIFailure(.unsupportedMediaType, "unsupported_media_type",
                             "send the suite as application/json or application/yaml")
        }
        guard spec.name == name else {
            throw APIFailure.badRequest("name: the body names suite \"\(spec.name)\" but the path names \"\(name)\"")
        }
        let problems = spec.problems()
        guard problems.isEmpty else { throw APIFailure.badRequest(problems.joined(separator: "; ")) }
        let existed = try await runtime.storage.suite(name) != nil
        let info = try await runtime.storage.putSuite(spec, at: Date())
        await runtime.scheduler.applied(name)
        runtime.logger.info("suite applied", metadata: ["suite": .string(name), "type": .string(spec.type.rawValue),
                                                        "created": .stringConvertible(!existed)])
        return try jsonResponse(try await runtime.scheduler.annotate([info])[0], status: existed ? .ok : .created)
    }

    private func setPaused(_ context: BasicRequestContext, _ paused: Bool) async throws -> Response {
        let info = try await suite(context)
        let updated = try await runtime.storage.setSuitePaused(info.spec.name, paused: paused, at: Date())
        if !paused { await runtime.scheduler.applied(info.spec.name) }
        runtime.logger.info(paused ? "suite paused" : "suite resumed", metadata: ["suite": .string(info.spec.name)])
        return try jsonResponse(try await runtime.scheduler.annotate([updated])[0])
    }

    private func runQuery(_ request: Request) throws -> RunQuery {
        let q = request.uri.queryParameters
        let now = Date()
        var query = RunQuery()
        query.suite = q["suite"].map(String.init)
        if let s = q["status"] {
            guard let status = RunStatus(rawValue: String(s)) else {
                throw APIFailure.badRequest("status: one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = status
        }
        query.agent = q["agent"].map(String.init)
        query.roundID = q["round"].map(String.init)
        query.since = try q["since"].map { try Self.parseTime(String($0), key: "since", now: now) }
        query.until = try q["until"].map { try Self.parseTime(String($0), key: "until", now: now) }
        if let l = q["limit"] {
            guard let limit = Int(l), (1...10_000).contains(limit) else { throw APIFailure.badRequest("limit: 1–10000") }
            query.limit = limit
        }
        return query
    }

    // MARK: decoding

    func decodeJSON<T: Decodable>(_ type: T.Type, _ request: Request, _ context: BasicRequestContext) async throws -> T {
        let buffer = try await request.body.collect(upTo: runtime.configuration.maxBodyBytes)
        do {
            return try WireJSON.decoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIFailure.badRequest("invalid JSON body: \(describe(error))")
        }
    }

    static func decodeSuiteYAML(_ text: String) throws -> SuiteSpec {
        do {
            return try YAMLDecoder().decode(SuiteSpec.self, from: text)
        } catch let error as DecodingError {
            throw APIFailure.badRequest("invalid suite YAML: \(describe(error))")
        } catch {
            throw APIFailure.badRequest("invalid YAML: \(error)")
        }
    }

    /// An ISO 8601 time, or a duration meaning that long ago (`1h`, `30m`, `7d`).
    static func parseTime(_ text: String, key: String, now: Date) throws -> Date {
        if let date = WireJSON.parseDate(text) { return date }
        if let ago = WireDuration(parsing: text) { return now.addingTimeInterval(-ago.seconds) }
        throw APIFailure.badRequest("\(key): an ISO 8601 time (2026-01-31T12:00:00Z) or a duration ago (1h, 7d)")
    }
}
