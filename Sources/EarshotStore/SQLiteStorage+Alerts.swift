import EarshotWire
import Foundation
import OrganizerCore

// Alerts, silences, webhook endpoints and the delivery outbox (DESIGN §6). Placeholder: the
// store task implements these (schema migration v2).
extension SQLiteStorage {
    private func notYet() -> StorageError { StorageError(.io, "alert storage not implemented yet") }

    public func lastSucceeded(suite: String) async throws -> [UnitKey: Date] { [:] }
    public func alertTracks() async throws -> [AlertTrack] { [] }
    public func recordAlerts(_ batch: AlertBatch) async throws { throw notYet() }
    public func alerts(_ query: AlertQuery) async throws -> [AlertInfo] { [] }
    public func alert(_ id: String) async throws -> AlertDetail? { nil }
    public func alertRulePatches() async throws -> [AlertRuleName: AlertRulePatch] { [:] }
    public func setAlertRulePatch(_ rule: AlertRuleName, _ patch: AlertRulePatch?, at: Date) async throws { throw notYet() }
    public func addSilence(_ silence: Silence) async throws { throw notYet() }
    public func silences(activeAt now: Date?) async throws -> [Silence] { [] }
    public func expireSilence(id: String, at: Date) async throws -> Bool { false }
    public func addWebhookEndpoint(_ endpoint: WebhookEndpointRecord) async throws { throw notYet() }
    public func webhookEndpoints() async throws -> [WebhookEndpointRecord] { [] }
    public func webhookEndpoint(_ idOrName: String) async throws -> WebhookEndpointRecord? { nil }
    public func deleteWebhookEndpoint(id: String, at: Date) async throws -> Bool { false }
    public func setWebhookEndpointEnabled(id: String, enabled: Bool, reason: String?, at: Date) async throws -> WebhookEndpointRecord {
        throw notYet()
    }
    public func enqueueDeliveries(_ deliveries: [NewDelivery]) async throws { throw notYet() }
    public func dueDeliveries(now: Date, limit: Int) async throws -> [DueDelivery] { [] }
    public func nextDeliveryDue() async throws -> Date? { nil }
    public func recordAttempt(deliveryID: String, attempt: DeliveryAttempt, outcome: DeliveryPolicy.Outcome) async throws {
        throw notYet()
    }
    public func deliveries(_ query: DeliveryQuery) async throws -> [WebhookDelivery] { [] }
    public func delivery(_ id: String) async throws -> WebhookDelivery? { nil }
    public func retryDeliveries(_ request: DeliveryRetryRequest, at: Date) async throws -> [String] { [] }
}
