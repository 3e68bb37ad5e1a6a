import Foundation
import SIPCore
import SIPTransaction

/// How a call ended, classified (DESIGN §2: "a classified cause"). Encodes as
/// `{"cause": "...", "by": ..., "status_code": ..., "reason_phrase": ..., "after_s": ..., "description": "..."}`
/// with stable snake_case causes, so reports and alerts can match on them.
public enum CallEnding: Sendable, Hashable, Encodable, CustomStringConvertible {
    public enum Party: String, Sendable, Hashable, Encodable { case local, remote }

    /// A BYE after the planned duration (local) or from the peer (remote).
    case normal(by: Party)
    /// A final 3xx–6xx to the INVITE.
    case rejected(statusCode: Int, reasonPhrase: String)
    /// Ringing, never answered (CANCEL → 487, or the INVITE timed out after a provisional).
    case noAnswer
    /// The caller cancelled before we answered (callee side).
    case cancelled
    /// Our digest credentials were refused.
    case authenticationFailed(statusCode: Int, reasonPhrase: String)
    /// RFC 4028: the session was not refreshed — ours went unanswered or was refused, or the
    /// peer's never came. `afterSeconds` counts from the answer.
    case sessionExpired(detail: String, afterSeconds: Double)
    /// No response at all to a request (Timer B/F), with no provisional either.
    case transactionTimeout(method: String)
    /// The transport failed (connection refused, TLS handshake, ICMP).
    case transportError(String)
    /// Our 2xx was never ACKed (RFC 3261 §13.3.1.4).
    case ackTimeout
    /// The peer broke the protocol (no dialog, no usable SDP).
    case protocolError(String)
    /// The media engine could not run the call (ports exhausted, socket error).
    case mediaError(String)

    public var cause: String {
        switch self {
        case .normal: "normal"
        case .rejected: "rejected"
        case .noAnswer: "no_answer"
        case .cancelled: "cancelled"
        case .authenticationFailed: "authentication_failed"
        case .sessionExpired: "session_expired"
        case .transactionTimeout: "transaction_timeout"
        case .transportError: "transport_error"
        case .ackTimeout: "ack_timeout"
        case .protocolError: "protocol_error"
        case .mediaError: "media_error"
        }
    }

    public var isNormal: Bool { if case .normal = self { true } else { false } }

    public var description: String {
        switch self {
        case .normal(let party): party == .local ? "normal: we hung up" : "normal: the far end hung up"
        case .rejected(let code, let reason): "rejected: \(code) \(reason)"
        case .noAnswer: "no answer"
        case .cancelled: "cancelled by the caller before the answer"
        case .authenticationFailed(let code, let reason): "authentication failed: \(code) \(reason) (wrong user name or password?)"
        case .sessionExpired(let detail, let after): "session expired at \(Self.clock(after)), \(detail)"
        case .transactionTimeout(let method): "no response to \(method) (timeout)"
        case .transportError(let detail): "transport error: \(detail)"
        case .ackTimeout: "our 200 OK was never acknowledged (no ACK)"
        case .protocolError(let detail): "protocol error: \(detail)"
        case .mediaError(let detail): "media error: \(detail)"
        }
    }

    /// `mm:ss` as voice engineers quote drops ("dropped at 30:02").
    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return String(format: "%02d:%02d", whole / 60, whole % 60)
    }

    enum CodingKeys: String, CodingKey {
        case cause, by, statusCode = "status_code", reasonPhrase = "reason_phrase", afterS = "after_s", description
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cause, forKey: .cause)
        var by: Party?
        var status: Int?
        var reason: String?
        var after: Double?
        switch self {
        case .normal(let party): by = party
        case .rejected(let code, let phrase), .authenticationFailed(let code, let phrase):
            status = code
            reason = phrase
        case .sessionExpired(_, let seconds): after = seconds
        default: break
        }
        try c.encode(by, forKey: .by)
        try c.encode(status, forKey: .statusCode)
        try c.encode(reason, forKey: .reasonPhrase)
        try c.encode(after, forKey: .afterS)
        try c.encode(description, forKey: .description)
    }
}

/// The SIP ladder of one call: every message in and out, with its time, direction, transport
/// and peer, the body truncated. Kept as evidence (DESIGN §3).
public struct SIPLadder: Sendable, Encodable {
    public enum Direction: String, Sendable, Encodable { case sent, received }

    public struct Entry: Sendable, Encodable {
        /// Seconds since the call started (the first INVITE sent or received).
        public var atS: Double
        public var direction: Direction
        public var transport: String
        public var remote: String
        public var firstLine: String
        /// The whole message, its body cut at the ladder's limit.
        public var message: String
        public var bodyTruncated: Bool

        enum CodingKeys: String, CodingKey {
            case atS = "at_s", direction, transport, remote, firstLine = "first_line", message, bodyTruncated = "body_truncated"
        }
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    mutating func append(_ message: SIPMessage, direction: Direction, at offset: Duration, transport: String, remote: String,
                         bodyLimit: Int) {
        let body = message.body
        let truncated = body.count > bodyLimit
        var text: String
        switch message {
        case .request(var request):
            request.body = Array(body.prefix(bodyLimit))
            text = String(decoding: request.serialize(), as: UTF8.self)
        case .response(var response):
            response.body = Array(body.prefix(bodyLimit))
            text = String(decoding: response.serialize(), as: UTF8.self)
        }
        if truncated { text += "\n[… \(body.count - bodyLimit) more body bytes]" }
        entries.append(Entry(atS: offset.secondsValue, direction: direction, transport: transport, remote: remote,
                             firstLine: message.firstLine, message: text, bodyTruncated: truncated))
    }

    /// One line per message: `+0.012s → INVITE sip:bob@… (UDP 127.0.0.1:5060)`.
    public func rendered() -> String {
        entries.map { entry in
            let arrow = entry.direction == .sent ? "→" : "←"
            return String(format: "%+9.3fs ", entry.atS) + "\(arrow) \(entry.firstLine)  (\(entry.transport) \(entry.remote))"
        }.joined(separator: "\n")
    }
}
