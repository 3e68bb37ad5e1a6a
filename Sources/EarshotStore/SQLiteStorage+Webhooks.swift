import EarshotWire
import Foundation
import GRDB
import OrganizerCore

// Webhook endpoints and the delivery outbox (DESIGN §6, docs/storage.md "Alerts and webhooks").
extension SQLiteStorage {
    public func addWebhookEndpoint(_ endpoint: WebhookEndpointRecord) async throws {
        try await write { db in
            let e = endpoint.info
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM webhook_endpoints WHERE name = ? AND deleted_at IS NULL",
                                 arguments: [e.name]) != nil {
                throw StorageError(.conflict, "a webhook endpoint named \(e.name) exists already: pick another name or delete it first")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM webhook_endpoints WHERE id = ?", arguments: [e.id]) != nil {
                throw StorageError(.conflict, "a webhook endpoint with id \(e.id) exists already")
            }
            try db.execute(sql: """
                INSERT INTO webhook_endpoints (id, name, url, format, secret, rules, min_severity, enabled, disabled_reason,
                    created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    e.id, e.name, e.url, e.format.rawValue, endpoint.secret, try JSONColumns().textOrNull(e.rules),
                    e.minSeverity?.rawValue, e.enabled, e.disabledReason, e.createdAt.unix,
                ])
        }
    }

    public func webhookEndpoints() async throws -> [WebhookEndpointRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY name")
                .map { try Self.endpointRecord(db, $0) }
        }
    }

    public func webhookEndpoint(_ idOrName: String) async throws -> WebhookEndpointRecord? {
        try await read { db in try Self.resolveEndpoint(db, idOrName) }
    }

    public func deleteWebhookEndpoint(id: String, at: Date) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE webhook_endpoints SET deleted_at = ?, enabled = 0 WHERE id = ? AND deleted_at IS NULL",
                           arguments: [at.unix, id])
            guard db.changesCount > 0 else { return false }
            try Self.cancelPending(db, endpointID: id, reason: "the endpoint was deleted")
            return true
        }
    }

    public func setWebhookEndpointEnabled(id: String, enabled: Bool, reason: String?, at: Date) async throws
        -> WebhookEndpointRecord {
        try await write { db in
            guard let endpoint = try Self.resolveEndpoint(db, id) else {
                throw StorageError(.notFound, "no webhook endpoint \(id)")
            }
            let endpointID = endpoint.info.id
            if enabled {
                try db.execute(sql: "UPDATE webhook_endpoints SET enabled = 1, disabled_reason = NULL WHERE id = ?",
                               arguments: [endpointID])
            } else {
                let why = reason ?? "disabled"
                try db.execute(sql: "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ? WHERE id = ?",
                               arguments: [why, endpointID])
                try Self.cancelPending(db, endpointID: endpointID, reason: why)
            }
            return try Self.resolveEndpoint(db, endpointID)!
        }
    }

    public func enqueueDeliveries(_ deliveries: [NewDelivery]) async throws {
        guard !deliveries.isEmpty else { return }
        try await write { db in try Self.insertDeliveries(db, deliveries) }
    }

    public func dueDeliveries(now: Date, limit: Int) async throws -> [DueDelivery] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.id, d.endpoint_id, d.event, d.body, d.content_type, d.created_at, d.attempt_count, e.url, e.format,
                    e.secret
                FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND e.enabled = 1 AND e.deleted_at IS NULL
                ORDER BY d.next_attempt_at, d.created_at, d.rowid LIMIT ?
                """, arguments: [now.unix, max(0, limit)]).map { row in
                let format: String = row["format"]
                let body: Data = row["body"]
                return DueDelivery(
                    id: row["id"], endpointID: row["endpoint_id"], url: row["url"],
                    format: WebhookFormat(rawValue: format) ?? .native, secret: row["secret"],
                    payload: RenderedPayload(body: [UInt8](body), contentType: row["content_type"], event: row["event"]),
                    createdAt: row.requiredDate("created_at"), attempts: row["attempt_count"])
            }
        }
    }

    public func nextDeliveryDue() async throws -> Date? {
        try await read { db in
            try Double.fetchOne(db, sql: """
                SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                WHERE d.status = 'pending' AND e.enabled = 1 AND e.deleted_at IS NULL
                """).map { Date(timeIntervalSince1970: $0) }
        }
    }

    public func recordAttempt(deliveryID: String, attempt: DeliveryAttempt, outcome: DeliveryPolicy.Outcome) async throws {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT endpoint_id, status FROM webhook_deliveries WHERE id = ?",
                                             arguments: [deliveryID]) else {
                throw StorageError(.notFound, "no delivery \(deliveryID)")
            }
            let endpointID: String = row["endpoint_id"]
            // A delivery cancelled or retired while its attempt was in flight keeps that status
            // unless the attempt delivered it.
            let wasPending = (row["status"] as String) == DeliveryStatus.pending.rawValue
            try db.execute(sql: """
                INSERT INTO delivery_attempts (delivery_id, number, at, status_code, error, duration_ms, retry_after_s)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [deliveryID, attempt.number, attempt.at.unix, attempt.statusCode, attempt.error,
                                 attempt.durationMs, attempt.retryAfterS])
            try db.execute(sql: """
                UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, last_status_code = ?, last_error = ?
                WHERE id = ?
                """, arguments: [attempt.statusCode, attempt.error, deliveryID])
            switch outcome {
            case .delivered:
                try db.execute(sql: """
                    UPDATE webhook_deliveries SET status = 'delivered', delivered_at = ?, next_attempt_at = NULL, last_error = NULL
                    WHERE id = ?
                    """, arguments: [attempt.at.unix, deliveryID])
            case .retry(let at):
                if wasPending {
                    try db.execute(sql: "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?",
                                   arguments: [at.unix, deliveryID])
                }
            case .dead(let reason):
                if wasPending {
                    try db.execute(sql: """
                        UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL, last_error = ? WHERE id = ?
                        """, arguments: [reason, deliveryID])
                }
            case .disableEndpoint(let reason):
                try db.execute(sql: "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ? WHERE id = ?",
                               arguments: [reason, endpointID])
                // This delivery too: the receiver is gone.
                try Self.cancelPending(db, endpointID: endpointID, reason: reason)
            }
        }
    }

    public func deliveries(_ query: DeliveryQuery) async throws -> [WebhookDelivery] {
        try await read { db in
            var filters: [String] = []
            var arguments = StatementArguments()
            if let endpoint = query.endpoint {
                filters.append("(e.id = ? OR e.name = ?)")
                arguments += [endpoint, endpoint]
            }
            if let status = query.status {
                filters.append("d.status = ?")
                arguments += [status.rawValue]
            }
            if let alert = query.alertID {
                filters.append("d.alert_id = ?")
                arguments += [alert]
            }
            return try Self.fetchDeliveries(db, filter: filters.isEmpty ? "1" : filters.joined(separator: " AND "),
                                            arguments: arguments, limit: max(0, query.limit), withAttempts: false)
        }
    }

    public func delivery(_ id: String) async throws -> WebhookDelivery? {
        try await read { db in
            try Self.fetchDeliveries(db, filter: "d.id = ?", arguments: [id], limit: 1, withAttempts: true).first
        }
    }

    public func retryDeliveries(_ request: DeliveryRetryRequest, at: Date) async throws -> [String] {
        try await write { db in
            // Deliveries of a deleted endpoint are not sent again.
            var filters = ["e.deleted_at IS NULL"]
            var arguments = StatementArguments()
            if let ids = request.ids {
                guard !ids.isEmpty else { return [] }
                filters.append("d.id IN (\(databaseQuestionMarks(count: ids.count)))")
                arguments += StatementArguments(ids)
            }
            if let endpoint = request.endpoint {
                guard let record = try Self.resolveEndpoint(db, endpoint) else {
                    throw StorageError(.notFound, "no webhook endpoint \(endpoint)")
                }
                filters.append("d.endpoint_id = ?")
                arguments += [record.info.id]
            }
            // By id: whatever their status, unless statuses are given; otherwise dead ones.
            let statuses = request.statuses ?? (request.ids == nil ? [.dead] : nil)
            if let statuses {
                guard !statuses.isEmpty else { return [] }
                filters.append("d.status IN (\(databaseQuestionMarks(count: statuses.count)))")
                arguments += StatementArguments(statuses.map(\.rawValue))
            }
            let ids = try String.fetchAll(db, sql: """
                SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                WHERE \(filters.joined(separator: " AND ")) ORDER BY d.created_at, d.rowid
                """, arguments: arguments)
            let update = try db.cachedStatement(sql: """
                UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, delivered_at = NULL WHERE id = ?
                """)
            for id in ids { try update.execute(arguments: [at.unix, id]) }
            return ids
        }
    }

    // MARK: - helpers

    /// The outbox rows (pending, due at `dueAt`). An endpoint that does not exist fails the
    /// whole transaction.
    static func insertDeliveries(_ db: Database, _ deliveries: [NewDelivery]) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO webhook_deliveries (id, endpoint_id, event, alert_id, transition_id, body, content_type, status,
                created_at, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
            """)
        for d in deliveries {
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM webhook_endpoints WHERE id = ?", arguments: [d.endpointID]) != nil else {
                throw StorageError(.notFound, "delivery \(d.id) is for webhook endpoint \(d.endpointID), which does not exist")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM webhook_deliveries WHERE id = ?", arguments: [d.id]) != nil {
                throw StorageError(.conflict, "a delivery with id \(d.id) exists already")
            }
            try insert.execute(arguments: [
                d.id, d.endpointID, d.event, d.alertID, d.transitionID, Data(d.payload.body), d.payload.contentType,
                d.createdAt.unix, d.dueAt.unix,
            ])
        }
    }

    private static func cancelPending(_ db: Database, endpointID: String, reason: String) throws {
        try db.execute(sql: """
            UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, last_error = ?
            WHERE endpoint_id = ? AND status = 'pending'
            """, arguments: [reason, endpointID])
    }

    /// A live endpoint by id or name.
    private static func resolveEndpoint(_ db: Database, _ idOrName: String) throws -> WebhookEndpointRecord? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT * FROM webhook_endpoints WHERE (id = ? OR name = ?) AND deleted_at IS NULL ORDER BY id = ? DESC LIMIT 1
            """, arguments: [idOrName, idOrName, idOrName]) else { return nil }
        return try endpointRecord(db, row)
    }

    /// The secret goes in the record only (`info.secret` stays nil); `info.deliveries` has
    /// every status, zeros included.
    private static func endpointRecord(_ db: Database, _ row: Row) throws -> WebhookEndpointRecord {
        let id: String = row["id"]
        var counts = Dictionary(uniqueKeysWithValues: DeliveryStatus.allCases.map { ($0.rawValue, 0) })
        for count in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? GROUP BY status",
                                      arguments: [id]) {
            counts[count["status"]] = count["n"]
        }
        let format: String = row["format"]
        let severity: String? = row["min_severity"]
        let info = WebhookEndpointInfo(
            id: id, name: row["name"], url: row["url"], format: WebhookFormat(rawValue: format) ?? .native,
            rules: try JSONColumns().value([AlertRuleName].self, row["rules"]),
            minSeverity: severity.flatMap(AlertSeverity.init(rawValue:)), enabled: row["enabled"],
            disabledReason: row["disabled_reason"], createdAt: row.requiredDate("created_at"), secret: nil, deliveries: counts)
        return WebhookEndpointRecord(info: info, secret: row["secret"])
    }

    /// Newest first; with their attempts (oldest first) when asked.
    static func fetchDeliveries(_ db: Database, filter: String, arguments: StatementArguments, limit: Int?,
                                withAttempts: Bool) throws -> [WebhookDelivery] {
        var arguments = arguments
        var limitClause = ""
        if let limit {
            limitClause = "LIMIT ?"
            arguments += [limit]
        }
        var out = try Row.fetchAll(db, sql: """
            SELECT d.id, d.endpoint_id, e.name AS endpoint_name, d.event, d.alert_id, d.transition_id, d.status, d.created_at,
                d.next_attempt_at, d.delivered_at, d.attempt_count, d.last_status_code, d.last_error
            FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
            WHERE \(filter) ORDER BY d.created_at DESC, d.rowid DESC \(limitClause)
            """, arguments: arguments).map { row in
            let status: String = row["status"]
            return WebhookDelivery(
                id: row["id"], endpointID: row["endpoint_id"], endpointName: row["endpoint_name"], event: row["event"],
                alertID: row["alert_id"], transitionID: row["transition_id"],
                status: DeliveryStatus(rawValue: status) ?? .pending, createdAt: row.requiredDate("created_at"),
                nextAttemptAt: row.date("next_attempt_at"), deliveredAt: row.date("delivered_at"),
                attemptCount: row["attempt_count"], lastStatusCode: row["last_status_code"], lastError: row["last_error"])
        }
        if withAttempts {
            let attempts = try db.cachedStatement(sql: "SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY id")
            for i in out.indices {
                out[i].attempts = try Row.fetchAll(attempts, arguments: [out[i].id]).map { row in
                    DeliveryAttempt(number: row["number"], at: row.requiredDate("at"), statusCode: row["status_code"],
                                    error: row["error"], durationMs: row["duration_ms"], retryAfterS: row["retry_after_s"])
                }
            }
        }
        return out
    }
}
