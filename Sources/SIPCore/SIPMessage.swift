/// A SIP method. Methods are case-sensitive tokens (RFC 3261 §7.1): `RE%47IST%45R` is an
/// unknown method, not REGISTER (RFC 4475 §3.1.1.5).
public struct SIPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let invite = SIPMethod("INVITE")
    public static let ack = SIPMethod("ACK")
    public static let bye = SIPMethod("BYE")
    public static let cancel = SIPMethod("CANCEL")
    public static let options = SIPMethod("OPTIONS")
    public static let register = SIPMethod("REGISTER")
    public static let prack = SIPMethod("PRACK")
    public static let update = SIPMethod("UPDATE")
    public static let info = SIPMethod("INFO")
    public static let subscribe = SIPMethod("SUBSCRIBE")
    public static let notify = SIPMethod("NOTIFY")
    public static let refer = SIPMethod("REFER")
    public static let message = SIPMethod("MESSAGE")
    public static let publish = SIPMethod("PUBLISH")

    /// A method token from received bytes (validated by the caller); known methods share storage.
    init(token bytes: ArraySlice<UInt8>) {
        self.rawValue = String(decoding: bytes, as: UTF8.self)
    }
}

/// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT      (RFC 3261 §7.1, §25.1)
public struct SIPVersion: Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let v2_0 = SIPVersion(major: 2, minor: 0)
    public var description: String { "SIP/\(major).\(minor)" }

    /// "SIP" is matched case-insensitively (ABNF literals are); each number is at most 9 digits.
    init(parsing bytes: ArraySlice<UInt8>) throws(SIPParseError) {
        var cursor = ByteCursor(bytes)
        let start = bytes.startIndex
        guard bytes.count >= 4,
              ASCII.lower(bytes[start]) == 0x73, ASCII.lower(bytes[start + 1]) == 0x69,
              ASCII.lower(bytes[start + 2]) == 0x70, bytes[start + 3] == ASCII.slash
        else { throw SIPParseError(.invalidVersion, at: start) }
        cursor.index += 4
        do throws(SIPParseError) {
            major = Int(try cursor.decimal(limit: 999_999_999))
            guard cursor.consume(ASCII.dot) else { throw SIPParseError(.invalidVersion, at: cursor.index) }
            minor = Int(try cursor.decimal(limit: 999_999_999))
        } catch {
            throw SIPParseError(.invalidVersion, at: error.offset)
        }
        guard cursor.isAtEnd else { throw SIPParseError(.invalidVersion, at: cursor.index) }
    }
}

/// How a received datagram was framed (RFC 3261 §18.3), kept so the validator can judge
/// Content-Length against what actually arrived. Not part of message equality; nil for
/// messages built in code.
public struct SIPFraming: Sendable, Hashable {
    /// Bytes up to and including the empty line that ends the header section.
    public let headerLength: Int
    /// Whether the header section ended with an empty line (a datagram may end without one).
    public let headerSectionTerminated: Bool
    /// The Content-Length the message declared, if any.
    public let declaredContentLength: Int?
    /// Bytes after the header section in the datagram.
    public let availableBodyLength: Int

    /// Octets after the body, discarded per §18.3 (RFC 4475 §3.1.1.8).
    public var trailingBytes: Int { max(0, availableBodyLength - (declaredContentLength ?? availableBodyLength)) }
    /// Octets the Content-Length promised but the datagram did not carry (RFC 4475 §3.1.2.2).
    public var missingBodyBytes: Int { max(0, (declaredContentLength ?? 0) - availableBodyLength) }
}

/// Request = Request-Line *( message-header ) CRLF [ message-body ]
/// Request-Line = Method SP Request-URI SP SIP-Version CRLF       (RFC 3261 §7.1)
public struct SIPRequest: Sendable, Equatable {
    public var method: SIPMethod
    public var uri: URI
    public var version: SIPVersion
    public var headers: SIPHeaders
    public var body: [UInt8]
    public internal(set) var framing: SIPFraming?

    public init(method: SIPMethod, uri: URI, version: SIPVersion = .v2_0, headers: SIPHeaders = [], body: [UInt8] = []) {
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// Parses one datagram that must hold a request.
    public init(parsing bytes: [UInt8]) throws(SIPParseError) {
        guard case .request(let request) = try SIPMessage(parsing: bytes) else {
            throw SIPParseError(.notARequest, at: 0)
        }
        self = request
    }

    /// Equal start line, equal headers in order (Content-Length excluded: it is framing, and the
    /// serializer always writes the right one), equal body.
    public static func == (lhs: SIPRequest, rhs: SIPRequest) -> Bool {
        lhs.method == rhs.method && lhs.uri == rhs.uri && lhs.version == rhs.version
            && lhs.body == rhs.body && SIPMessage.sameHeaders(lhs.headers, rhs.headers)
    }
}

/// Response = Status-Line *( message-header ) CRLF [ message-body ]
/// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF   (RFC 3261 §7.2)
public struct SIPResponse: Sendable, Equatable {
    public var version: SIPVersion
    public var statusCode: Int
    public var reasonPhrase: String
    public var headers: SIPHeaders
    public var body: [UInt8]
    public internal(set) var framing: SIPFraming?

    /// `reasonPhrase` defaults to the RFC 3261 §21 phrase of the code.
    public init(statusCode: Int, reasonPhrase: String? = nil, version: SIPVersion = .v2_0,
                headers: SIPHeaders = [], body: [UInt8] = []) {
        self.version = version
        self.statusCode = statusCode
        self.reasonPhrase = reasonPhrase ?? SIPResponse.defaultReasonPhrase(for: statusCode)
        self.headers = headers
        self.body = body
    }

    /// Parses one datagram that must hold a response.
    public init(parsing bytes: [UInt8]) throws(SIPParseError) {
        guard case .response(let response) = try SIPMessage(parsing: bytes) else {
            throw SIPParseError(.notAResponse, at: 0)
        }
        self = response
    }

    public static func == (lhs: SIPResponse, rhs: SIPResponse) -> Bool {
        lhs.version == rhs.version && lhs.statusCode == rhs.statusCode && lhs.reasonPhrase == rhs.reasonPhrase
            && lhs.body == rhs.body && SIPMessage.sameHeaders(lhs.headers, rhs.headers)
    }

    /// RFC 3261 §21 reason phrases (plus RFC 3265, 3329, 4028, 6665 ones a UA meets).
    public static func defaultReasonPhrase(for statusCode: Int) -> String {
        switch statusCode {
        case 100: "Trying"
        case 180: "Ringing"
        case 181: "Call Is Being Forwarded"
        case 182: "Queued"
        case 183: "Session Progress"
        case 200: "OK"
        case 202: "Accepted"
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Moved Temporarily"
        case 305: "Use Proxy"
        case 380: "Alternative Service"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 413: "Request Entity Too Large"
        case 414: "Request-URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Unsupported URI Scheme"
        case 420: "Bad Extension"
        case 421: "Extension Required"
        case 422: "Session Interval Too Small"
        case 423: "Interval Too Brief"
        case 480: "Temporarily Unavailable"
        case 481: "Call/Transaction Does Not Exist"
        case 482: "Loop Detected"
        case 483: "Too Many Hops"
        case 484: "Address Incomplete"
        case 485: "Ambiguous"
        case 486: "Busy Here"
        case 487: "Request Terminated"
        case 488: "Not Acceptable Here"
        case 489: "Bad Event"
        case 491: "Request Pending"
        case 493: "Undecipherable"
        case 500: "Server Internal Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Server Time-out"
        case 505: "Version Not Supported"
        case 513: "Message Too Large"
        case 600: "Busy Everywhere"
        case 603: "Decline"
        case 604: "Does Not Exist Anywhere"
        case 606: "Not Acceptable"
        default: ""
        }
    }
}

/// SIP-message = Request / Response      (RFC 3261 §7, §25.1)
public enum SIPMessage: Sendable, Equatable {
    case request(SIPRequest)
    case response(SIPResponse)

    /// Parses one datagram (RFC 3261 §18.3: one UDP datagram carries one message; the body is
    /// framed by Content-Length, octets beyond it are discarded). Stream transports frame first
    /// and pass each message here.
    public init(parsing bytes: [UInt8]) throws(SIPParseError) {
        self = try SIPMessageParser.parse(bytes)
    }

    public var isRequest: Bool { if case .request = self { true } else { false } }

    public var headers: SIPHeaders {
        get {
            switch self {
            case .request(let request): request.headers
            case .response(let response): response.headers
            }
        }
        set {
            switch self {
            case .request(var request):
                request.headers = newValue
                self = .request(request)
            case .response(var response):
                response.headers = newValue
                self = .response(response)
            }
        }
    }

    public var body: [UInt8] {
        switch self {
        case .request(let request): request.body
        case .response(let response): response.body
        }
    }

    public var framing: SIPFraming? {
        switch self {
        case .request(let request): request.framing
        case .response(let response): response.framing
        }
    }

    /// Header sequences equal field by field, ignoring Content-Length lines.
    static func sameHeaders(_ a: SIPHeaders, _ b: SIPHeaders) -> Bool {
        a.lazy.filter { $0.name != .contentLength }.elementsEqual(b.lazy.filter { $0.name != .contentLength })
    }
}
