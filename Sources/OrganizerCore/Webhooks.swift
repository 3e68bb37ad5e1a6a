import EarshotWire
import Foundation

// Webhook delivery, the pure parts (DESIGN §6, docs/webhooks.md): Standard Webhooks signing
// and verification, the payload formats, the retry policy. No clock, no I/O, no randomness of
// its own: times and random numbers are arguments.
//
// Contract (lead); the implementation is the webhooks task's.

public struct WebhookSignatureError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The Standard Webhooks scheme (https://www.standardwebhooks.com, spec "Signature scheme"):
/// `webhook-id`, `webhook-timestamp` (Unix seconds), `webhook-signature: v1,<base64 HMAC-SHA256
/// of "id.timestamp.body">`, the key being the base64 after `whsec_`.
public enum StandardWebhooks {
    public static let secretPrefix = "whsec_"
    /// Receivers reject timestamps further than this from their clock (the spec's 5 minutes).
    public static let defaultTolerance: Double = 300

    /// `whsec_` + base64 of the bytes (24 random bytes from the caller's generator).
    public static func secret(randomBytes: [UInt8]) -> String { secretPrefix }

    /// The key bytes of a `whsec_` secret. Throws when the prefix or the base64 is wrong, or the
    /// key is shorter than 16 bytes.
    public static func key(fromSecret secret: String) throws -> [UInt8] {
        throw WebhookSignatureError("not implemented")
    }

    /// `v1,<base64>` for this message.
    public static func signature(secret: String, id: String, timestamp: Int, body: [UInt8]) throws -> String {
        throw WebhookSignatureError("not implemented")
    }

    public enum Verification: Equatable, Sendable {
        case valid
        /// The timestamp is outside the tolerance (seconds off).
        case timestampOutOfTolerance(offS: Double)
        /// No `v1,` signature in the header matched.
        case mismatch
        case malformed(String)
    }

    /// Checks a received message. `signatureHeader` may hold several space-separated
    /// signatures (key rotation); one match is enough. Constant-time comparison.
    public static func verify(secret: String, id: String, timestamp: String, signatureHeader: String, body: [UInt8],
                              now: Date, tolerance: Double = defaultTolerance) -> Verification {
        .malformed("not implemented")
    }
}

/// A delivery's body and content type, rendered once when the transition is stored (retries
/// send the same bytes).
public struct RenderedPayload: Sendable, Equatable {
    public var body: [UInt8]
    public var contentType: String
    /// `alert.firing`, `alert.resolved`, `alert.flapping`, `earshot.test`.
    public var event: String

    public init(body: [UInt8], contentType: String = "application/json", event: String) {
        self.body = body
        self.contentType = contentType
        self.event = event
    }
}

/// The payload formats (`WebhookFormat`). `baseURL` is the organizer's public URL for links
/// (`{base}/v1/alerts/{id}`, `{base}/v1/runs/{id}`).
public struct WebhookRenderer: Sendable {
    public var baseURL: String

    public init(baseURL: String) { self.baseURL = baseURL }

    /// The body for one transition of `alert` (the alert as it is after the transition).
    /// alertmanager / alertmanager_api map firing and flapping to `firing` (label `flapping="true"`
    /// for flapping) and resolved to `resolved` with `endsAt` = the transition time.
    public func render(_ transition: AlertTransitionInfo, alert: AlertInfo, format: WebhookFormat,
                       endpointName: String) -> RenderedPayload {
        RenderedPayload(body: [], event: "alert.\(transition.to.rawValue)")
    }

    /// A test event (`earshot webhooks test`); for alertmanager_api a short-lived
    /// `earshot_test` alert that ends at `at` + 1 minute.
    public func renderTest(format: WebhookFormat, endpointName: String, at: Date) -> RenderedPayload {
        RenderedPayload(body: [], event: "earshot.test")
    }

    /// alertmanager_api only: the firing and flapping alerts, posted again every resend
    /// interval so Alertmanager keeps them active (`endsAt` = now + `validFor`).
    public func alertmanagerRefresh(_ alerts: [AlertInfo], now: Date, validFor: Double) -> RenderedPayload {
        RenderedPayload(body: [], event: "alert.refresh")
    }

    /// The labels an alert carries in the Alertmanager formats: `alertname` (the rule),
    /// `severity`, `scope`, and the scope's fields (`agent`, `caller`, `callee`, `site`,
    /// `caller_site`, `callee_site`, `suite`), plus `source="earshot"`.
    public func labels(_ alert: AlertInfo) -> [String: String] { [:] }
}

/// When to try again (docs/webhooks.md "Delivery").
public struct DeliveryPolicy: Sendable, Equatable {
    /// The first retry's upper bound; each further retry doubles it (full jitter: a uniform
    /// draw in [0, bound]), up to `maxBackoff`.
    public var initialBackoff: Double
    public var maxBackoff: Double
    /// After this long since the delivery was created it is dead-lettered.
    public var horizon: Double
    /// A `Retry-After` longer than this is capped to it.
    public var maxRetryAfter: Double

    public init(initialBackoff: Double = 1, maxBackoff: Double = 300, horizon: Double = 86400, maxRetryAfter: Double = 3600) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.horizon = horizon
        self.maxRetryAfter = maxRetryAfter
    }

    public enum Outcome: Equatable, Sendable {
        case delivered
        /// 410 Gone: disable the endpoint, cancel its pending deliveries.
        case disableEndpoint(reason: String)
        case retry(at: Date)
        case dead(reason: String)
    }

    /// What to do after attempt number `attempt` (1-based) answered `statusCode` (nil: no
    /// answer), with the receiver's `Retry-After` header if any. `random` in [0, 1).
    /// 2xx → delivered; 410 → disable; anything else → retry at now + max(Retry-After,
    /// jittered backoff) unless that is past createdAt + horizon → dead.
    public func outcome(attempt: Int, statusCode: Int?, retryAfter: String?, now: Date, createdAt: Date,
                        random: Double) -> Outcome {
        .dead(reason: "not implemented")
    }

    /// `Retry-After` as seconds from `now`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
    /// Nil when absent or unreadable; never negative.
    public static func retryAfterSeconds(_ header: String?, now: Date) -> Double? { nil }
}
