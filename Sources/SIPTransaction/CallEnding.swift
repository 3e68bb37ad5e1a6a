import SIPCore

/// How and when a call ended: a classified cause with a stable snake_case code, the time
/// since the call started (as the user agent counts it), and a human description such as
/// "session expired at 03:02, refresh UPDATE unanswered".
///
/// JSON: `{"cause":"session_expired","detail":"refresh UPDATE unanswered","at_ms":182000}`;
/// the other fields by cause: `by` (normal: "local"/"remote"), `status` and `reason`
/// (rejected, busy, authentication_failed), `method` (transaction_timeout), `detail`
/// (no_answer, session_expired, transport_error, media_timeout; optional where marked).
public struct CallEnding: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Party: String, Sendable, Hashable, Codable { case local, remote }

    /// Why a CANCEL was sent, which decides what its 487 means.
    public enum CancelReason: String, Sendable, Hashable, Codable {
        /// The callee did not answer in time (our ring timeout).
        case noAnswer = "no_answer"
        /// We hung up before the answer.
        case local
    }

    public enum Cause: Sendable, Hashable {
        /// A BYE ended an established call.
        case normal(by: Party)
        /// A final response other than the ones below.
        case rejected(status: Int, reason: String)
        /// 486 (Busy Here) or 600 (Busy Everywhere).
        case busy(status: Int, reason: String)
        /// Nobody answered: our CANCEL after the ring timeout (487), or a 408 from the far end.
        case noAnswer(detail: String?)
        /// We cancelled before the answer for another reason.
        case cancelled
        /// RFC 4028: the session expired ("refresh UPDATE unanswered", "refresh UPDATE
        /// rejected 405", "no refresh received").
        case sessionExpired(detail: String)
        case transportError(detail: String)
        /// A request got no final response (Timer B or F, RFC 3261 §17.1).
        case transactionTimeout(method: String)
        /// Our 2xx was never ACKed (RFC 3261 §13.3.1.4).
        case ackTimeout
        /// No media arrived for too long.
        case mediaTimeout(detail: String?)
        /// 401/407 after we sent credentials, or a challenge we could not answer.
        case authenticationFailed(status: Int, reason: String)
        /// The peer broke the protocol: a 2xx that makes no dialog, an answer without usable audio.
        case protocolError(detail: String)
        /// The media engine could not run the call (ports exhausted, socket error).
        case mediaError(detail: String)

        /// The stable code in JSON and reports.
        public var code: String {
            switch self {
            case .normal: "normal"
            case .rejected: "rejected"
            case .busy: "busy"
            case .noAnswer: "no_answer"
            case .cancelled: "cancelled"
            case .sessionExpired: "session_expired"
            case .transportError: "transport_error"
            case .transactionTimeout: "transaction_timeout"
            case .ackTimeout: "ack_timeout"
            case .mediaTimeout: "media_timeout"
            case .authenticationFailed: "authentication_failed"
            case .protocolError: "protocol_error"
            case .mediaError: "media_error"
            }
        }

        /// The cause of a final non-2xx response to our INVITE: 486/600 busy, 401/407
        /// authentication failed, 487 after our CANCEL no answer or cancelled (by
        /// `cancelReason`), 408 no answer, anything else rejected.
        public static func finalResponse(status: Int, reason: String, cancelReason: CancelReason? = nil) -> Cause {
            switch status {
            case 486, 600: .busy(status: status, reason: reason)
            case 401, 407: .authenticationFailed(status: status, reason: reason)
            case 487 where cancelReason == .noAnswer: .noAnswer(detail: "\(status) \(reason) after CANCEL")
            case 487 where cancelReason == .local: .cancelled
            case 408: .noAnswer(detail: "\(status) \(reason)")
            default: .rejected(status: status, reason: reason)
            }
        }

        /// `finalResponse(status:reason:cancelReason:)` for a response.
        public static func finalResponse(_ response: SIPResponse, cancelReason: CancelReason? = nil) -> Cause {
            finalResponse(status: response.statusCode, reason: response.reasonPhrase, cancelReason: cancelReason)
        }

        var summary: String {
            switch self {
            case .normal: "normal hang-up"
            case .rejected: "rejected"
            case .busy: "busy"
            case .noAnswer: "no answer"
            case .cancelled: "cancelled"
            case .sessionExpired: "session expired"
            case .transportError: "transport error"
            case .transactionTimeout: "transaction timeout"
            case .ackTimeout: "ACK timeout"
            case .mediaTimeout: "media timeout"
            case .authenticationFailed: "authentication failed"
            case .protocolError: "protocol error"
            case .mediaError: "media error"
            }
        }

        var detailText: String? {
            switch self {
            case .normal(let by): "\(by.rawValue) BYE"
            case .rejected(let status, let reason), .busy(let status, let reason), .authenticationFailed(let status, let reason):
                reason.isEmpty ? "\(status)" : "\(status) \(reason)"
            case .noAnswer(let detail), .mediaTimeout(let detail): detail
            case .cancelled: nil
            case .sessionExpired(let detail), .transportError(let detail), .protocolError(let detail), .mediaError(let detail): detail
            case .transactionTimeout(let method): "\(method) unanswered"
            case .ackTimeout: "no ACK for the 2xx"
            }
        }
    }

    public var cause: Cause
    /// Time since the call started, when known.
    public var at: Duration?

    /// A BYE ended the call (whoever sent it): the test call did what it should.
    public var isNormal: Bool { if case .normal = cause { true } else { false } }

    public init(_ cause: Cause, at: Duration? = nil) {
        self.cause = cause
        self.at = at
    }

    /// "session expired at 03:02, refresh UPDATE unanswered", "busy, 486 Busy Here".
    public var description: String {
        var out = cause.summary
        if let at { out += " at " + Self.clock(at) }
        if let detail = cause.detailText { out += ", " + detail }
        return out
    }

    /// mm:ss, or h:mm:ss from one hour; seconds rounded down.
    public static func clock(_ duration: Duration) -> String {
        let total = max(0, duration.components.seconds)
        let (hours, minutes, seconds) = (total / 3600, total % 3600 / 60, total % 60)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return hours > 0 ? "\(hours):\(two(minutes)):\(two(seconds))" : "\(two(minutes)):\(two(seconds))"
    }

    // MARK: Codable

    private enum CodingKeys: String, CodingKey {
        case cause, by, status, reason, method, detail, atMilliseconds = "at_ms"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cause.code, forKey: .cause)
        switch cause {
        case .normal(let by): try container.encode(by, forKey: .by)
        case .rejected(let status, let reason), .busy(let status, let reason), .authenticationFailed(let status, let reason):
            try container.encode(status, forKey: .status)
            try container.encode(reason, forKey: .reason)
        case .noAnswer(let detail), .mediaTimeout(let detail): try container.encodeIfPresent(detail, forKey: .detail)
        case .sessionExpired(let detail), .transportError(let detail), .protocolError(let detail), .mediaError(let detail):
            try container.encode(detail, forKey: .detail)
        case .transactionTimeout(let method): try container.encode(method, forKey: .method)
        case .cancelled, .ackTimeout: break
        }
        try container.encodeIfPresent(at.map(Self.milliseconds), forKey: .atMilliseconds)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let code = try container.decode(String.self, forKey: .cause)
        func status() throws -> Int { try container.decode(Int.self, forKey: .status) }
        func reason() throws -> String { try container.decodeIfPresent(String.self, forKey: .reason) ?? "" }
        func detail() throws -> String? { try container.decodeIfPresent(String.self, forKey: .detail) }
        switch code {
        case "normal": cause = .normal(by: try container.decode(Party.self, forKey: .by))
        case "rejected": cause = .rejected(status: try status(), reason: try reason())
        case "busy": cause = .busy(status: try status(), reason: try reason())
        case "no_answer": cause = .noAnswer(detail: try detail())
        case "cancelled": cause = .cancelled
        case "session_expired": cause = .sessionExpired(detail: try detail() ?? "")
        case "transport_error": cause = .transportError(detail: try detail() ?? "")
        case "protocol_error": cause = .protocolError(detail: try detail() ?? "")
        case "media_error": cause = .mediaError(detail: try detail() ?? "")
        case "transaction_timeout": cause = .transactionTimeout(method: try container.decode(String.self, forKey: .method))
        case "ack_timeout": cause = .ackTimeout
        case "media_timeout": cause = .mediaTimeout(detail: try detail())
        case "authentication_failed": cause = .authenticationFailed(status: try status(), reason: try reason())
        default:
            throw DecodingError.dataCorruptedError(forKey: .cause, in: container, debugDescription: "unknown cause \(code)")
        }
        at = try container.decodeIfPresent(Int64.self, forKey: .atMilliseconds).map { .milliseconds($0) }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
