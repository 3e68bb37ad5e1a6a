/// Why a SIP message, header value or URI could not be parsed, and where.
///
/// `offset` is the byte offset of the failure. For a message parsed with
/// `SIPMessage(parsing:)` every offset — including those of typed header values parsed later
/// (`try message.headers.via`) — counts from the first byte of the datagram, because header
/// values are slices of the received bytes. For a value parsed on its own it counts from the
/// start of that value.
public struct SIPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. Compare against the static members (`error.code == .invalidVersion`);
    /// new codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }

        // MARK: message structure (RFC 3261 §7)
        public static let emptyMessage = Code("empty message")
        public static let truncatedStartLine = Code("start line not terminated by CRLF")
        public static let invalidRequestLine = Code("request line is not Method SP Request-URI SP SIP-Version")
        public static let invalidMethod = Code("method is not a token")
        public static let invalidRequestURI = Code("invalid Request-URI")
        public static let invalidVersion = Code("invalid SIP-Version")
        public static let invalidStatusCode = Code("status code is not three digits in 100-699")
        public static let invalidReasonPhrase = Code("control character in reason phrase")
        public static let invalidHeaderName = Code("header name is not a token")
        public static let missingColon = Code("header line has no ':'")
        public static let unexpectedContinuation = Code("continuation line before the first header")
        public static let bareCarriageReturn = Code("CR not followed by LF")
        public static let invalidContentLength = Code("Content-Length is not a non-negative integer")
        public static let conflictingContentLength = Code("Content-Length given twice with different values")
        public static let notARequest = Code("message is a response, a request was expected")
        public static let notAResponse = Code("message is a request, a response was expected")

        // MARK: URIs (RFC 3261 §19.1, §25.1; RFC 3966)
        public static let invalidScheme = Code("URI scheme missing or invalid")
        public static let invalidUserInfo = Code("invalid character in URI user or password")
        public static let invalidHost = Code("invalid host")
        public static let invalidPort = Code("invalid port")
        public static let invalidEscape = Code("'%' not followed by two hex digits")
        public static let invalidURIParameter = Code("invalid URI parameter")
        public static let invalidURIHeader = Code("invalid URI header")
        public static let invalidURI = Code("invalid character in URI")
        public static let uriNeedsAngleBrackets = Code("URI with '?' must be enclosed in <> (RFC 3261 §20)")

        // MARK: header values (RFC 3261 §20, §25.1)
        public static let unterminatedQuotedString = Code("unterminated quoted string")
        public static let unterminatedAngleBracket = Code("'<' without matching '>'")
        public static let unexpectedWhitespace = Code("whitespace inside <>")
        public static let invalidDisplayName = Code("display name is neither tokens nor a quoted string")
        public static let invalidParameter = Code("invalid parameter")
        public static let unexpectedCharacter = Code("unexpected character")
        public static let emptyValue = Code("empty value")
        public static let emptyListElement = Code("empty element in a comma-separated list")
        public static let invalidToken = Code("expected a token")
        public static let invalidNumber = Code("expected decimal digits")
        public static let numberOutOfRange = Code("number out of range")
        public static let invalidSentProtocol = Code("Via sent-protocol is not name/version/transport")
        public static let invalidCallID = Code("invalid Call-ID")
        public static let invalidMediaType = Code("invalid media type")
        public static let invalidQValue = Code("q is not a qvalue in 0-1 (RFC 3261 §25.1)")
        public static let invalidRefresher = Code("refresher is not uac or uas (RFC 4028 §4)")
        public static let invalidWildcard = Code("Contact '*' mixed with addresses or parameters")
    }

    public let code: Code
    public let offset: Int
    /// The header whose value failed to parse, when the error came from typed header access.
    public let header: SIPHeaderName?

    public init(_ code: Code, at offset: Int, header: SIPHeaderName? = nil) {
        self.code = code
        self.offset = offset
        self.header = header
    }

    /// The same error attributed to a header.
    func attributed(to header: SIPHeaderName) -> SIPParseError {
        SIPParseError(code, at: offset, header: header)
    }

    public var description: String {
        if let header { return "\(header): \(code) at byte \(offset)" }
        return "\(code) at byte \(offset)"
    }
}
