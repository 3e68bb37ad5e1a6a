/// Why a Digest challenge or credentials value was rejected.
///
/// Callers compare `code` (and `parameter` where it names the culprit); `offset` points at the
/// byte of the header *value* where the problem was found, for error messages.
public struct DigestError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// The value names another scheme (`Basic`, `Bearer`, ...); `parameter` holds it.
        case notDigestScheme
        /// The value is empty or does not start with a scheme token.
        case expectedScheme
        /// A parameter name (token) was expected: after the scheme, or after a comma.
        case expectedParameterName
        /// A parameter name is not followed by `=`.
        case expectedEquals
        /// `=` is followed by neither a token nor a quoted-string.
        case expectedParameterValue
        /// Something other than `,` or the end follows a parameter value.
        case expectedComma
        /// A quoted-string has no closing `"`.
        case unterminatedQuotedString
        /// A control character, bare CR/LF or invalid UTF-8 inside a quoted-string.
        case invalidCharacter
        /// The same parameter name appears twice (RFC 7235 §2.1).
        case duplicateParameter
        /// A parameter the grammar requires is absent (`realm`, `nonce`, `username`, `uri`,
        /// `response`; `cnonce` and `nc` when `qop` is present).
        case missingParameter
        /// A known parameter has a value outside its grammar (`stale=maybe`, `nc=1`,
        /// a `response` that is not hex of the algorithm's length, ...).
        case invalidParameterValue
        /// `algorithm` names something other than MD5, MD5-sess, SHA-256 or SHA-256-sess.
        case unsupportedAlgorithm
        /// The challenge offers only qop values this implementation does not compute.
        case unsupportedQop
    }

    public let code: Code
    /// The parameter concerned, lowercased (or the scheme/algorithm/qop value for the
    /// `notDigestScheme`, `unsupportedAlgorithm` and `unsupportedQop` codes).
    public let parameter: String?
    /// Byte offset into the header value, when the error has a position.
    public let offset: Int?

    init(_ code: Code, parameter: String? = nil, offset: Int? = nil) {
        self.code = code
        self.parameter = parameter
        self.offset = offset
    }

    static func missing(_ parameter: String) -> DigestError {
        DigestError(.missingParameter, parameter: parameter)
    }

    static func invalid(_ parameter: String, at offset: Int?) -> DigestError {
        DigestError(.invalidParameterValue, parameter: parameter, offset: offset)
    }

    public var description: String {
        var text: String
        switch code {
        case .notDigestScheme: text = "not a Digest challenge or credentials"
        case .expectedScheme: text = "expected an authentication scheme"
        case .expectedParameterName: text = "expected a parameter name"
        case .expectedEquals: text = "expected '=' after the parameter name"
        case .expectedParameterValue: text = "expected a token or quoted-string value"
        case .expectedComma: text = "expected ',' or the end of the value"
        case .unterminatedQuotedString: text = "unterminated quoted-string"
        case .invalidCharacter: text = "invalid character in quoted-string"
        case .duplicateParameter: text = "duplicate parameter"
        case .missingParameter: text = "missing required parameter"
        case .invalidParameterValue: text = "invalid parameter value"
        case .unsupportedAlgorithm: text = "unsupported algorithm"
        case .unsupportedQop: text = "no supported qop offered"
        }
        if let parameter { text += " '\(parameter)'" }
        if let offset { text += " at offset \(offset)" }
        return text
    }
}
