// The auth-param grammar shared by challenges (WWW-Authenticate, Proxy-Authenticate) and
// credentials (Authorization, Proxy-Authorization): RFC 3261 §25.1, which follows RFC 2617 §1.2
// and RFC 7235 §2.1. Digest is the only scheme SIP uses; this file knows nothing about it.

/// One `name=value` pair of a challenge or credentials header value.
///
/// Digest parameters the model types understand become typed fields; everything else is kept
/// here, in order, so a proxy or a test can see and re-send what a peer wrote.
public struct AuthParam: Hashable, Sendable {
    /// The parameter name as written. Names compare case-insensitively (RFC 7235 §2.1).
    public var name: String
    /// The value with quoted-pairs resolved and folded lines replaced by one SP.
    public var value: String
    /// Whether the value was (or will be) written as a quoted-string rather than a token.
    /// A value that is not a valid token is always quoted when serialized.
    public var isQuoted: Bool

    public init(name: String, value: String, isQuoted: Bool = true) {
        self.name = name
        self.value = value
        self.isQuoted = isQuoted
    }
}

/// Lexing and writing of the auth-param grammar. Internal: the public surface is
/// `DigestChallenge` and `DigestCredentials`.
enum AuthParamGrammar {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let comma: UInt8 = 0x2C
    static let equals: UInt8 = 0x3D

    // token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )   (RFC 3261 §25.1)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"), UInt8(ascii: "*"),
            UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "`"), UInt8(ascii: "'"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    /// ASCII-only lowercasing: parameter names, scheme names and the enumerated values
    /// (`MD5`, `auth`, `true`) are case-insensitive; user data is never folded.
    static func lowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.count == rhs.utf8.count && lowercased(lhs) == lowercased(rhs)
    }

    /// A parameter together with where it was found, for error offsets.
    struct Located {
        var param: AuthParam
        /// Lowercased name, for lookups.
        var key: String
        var nameOffset: Int
        var valueOffset: Int
    }

    /// Splits `auth-scheme LWS auth-param *(COMMA auth-param)` into its scheme and parameters.
    ///
    /// ```
    /// challenge       = auth-scheme LWS auth-param *(COMMA auth-param)
    /// auth-param      = auth-param-name EQUAL ( token / quoted-string )
    /// quoted-string   = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
    /// qdtext          = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
    /// quoted-pair     = "\" (%x00-09 / %x0B-0C / %x0E-7F)
    /// LWS = [*WSP CRLF] 1*WSP    EQUAL = SWS "=" SWS    COMMA = SWS "," SWS
    /// ```
    ///
    /// The scheme is checked by the caller *before* the parameters are lexed, so that
    /// `Basic dXNlcjpwYXNz` reports the scheme rather than a lexing error.
    struct Scanner {
        private let bytes: [UInt8]
        private var position = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// The auth-scheme token, after any leading LWS.
        mutating func scheme() throws(DigestError) -> String {
            skipLWS()
            let start = position
            while position < bytes.count, isTokenByte(bytes[position]) { position += 1 }
            guard position > start else { throw .init(.expectedScheme, offset: start) }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        /// The parameters after the scheme; duplicate names (case-insensitive) are an error
        /// (RFC 7235 §2.1: "Each parameter name MUST only occur once per challenge").
        mutating func parameters() throws(DigestError) -> [Located] {
            let afterScheme = position
            skipLWS()
            if position == bytes.count { return [] }
            guard position > afterScheme else { throw .init(.expectedParameterName, offset: position) }

            var result: [Located] = []
            var seen: Set<String> = []
            while true {
                let located = try parameter()
                guard seen.insert(located.key).inserted else {
                    throw .init(.duplicateParameter, parameter: located.key, offset: located.nameOffset)
                }
                result.append(located)
                skipLWS()
                if position == bytes.count { return result }
                guard bytes[position] == comma else { throw .init(.expectedComma, offset: position) }
                position += 1
                skipLWS()
            }
        }

        private mutating func parameter() throws(DigestError) -> Located {
            let nameStart = position
            while position < bytes.count, isTokenByte(bytes[position]) { position += 1 }
            guard position > nameStart else { throw .init(.expectedParameterName, offset: nameStart) }
            let name = String(decoding: bytes[nameStart..<position], as: UTF8.self)
            skipLWS()
            guard position < bytes.count, bytes[position] == equals else {
                throw .init(.expectedEquals, parameter: name, offset: position)
            }
            position += 1
            skipLWS()
            let valueStart = position
            let value: String
            let isQuoted: Bool
            if position < bytes.count, bytes[position] == quote {
                value = try quotedString(parameter: name)
                isQuoted = true
            } else {
                while position < bytes.count, isTokenByte(bytes[position]) { position += 1 }
                guard position > valueStart else {
                    throw .init(.expectedParameterValue, parameter: name, offset: valueStart)
                }
                value = String(decoding: bytes[valueStart..<position], as: UTF8.self)
                isQuoted = false
            }
            return Located(
                param: AuthParam(name: name, value: value, isQuoted: isQuoted),
                key: lowercased(name), nameOffset: nameStart, valueOffset: valueStart
            )
        }

        /// Reads a quoted-string starting at its opening DQUOTE and returns its content with
        /// quoted-pairs resolved. A folded line (CRLF 1*WSP) inside the quotes reads as one SP
        /// (RFC 3261 §7.3.1); any other CR, LF or control character is an error.
        private mutating func quotedString(parameter: String) throws(DigestError) -> String {
            let open = position
            position += 1
            var content: [UInt8] = []
            while true {
                guard position < bytes.count else {
                    throw .init(.unterminatedQuotedString, parameter: parameter, offset: open)
                }
                let byte = bytes[position]
                switch byte {
                case quote:
                    position += 1
                    guard let text = String(validating: content, as: UTF8.self) else {
                        throw .init(.invalidCharacter, parameter: parameter, offset: open)
                    }
                    return text
                case backslash:
                    guard position + 1 < bytes.count else {
                        throw .init(.unterminatedQuotedString, parameter: parameter, offset: open)
                    }
                    let escaped = bytes[position + 1]
                    guard escaped != cr, escaped != lf, escaped < 0x80 else {
                        throw .init(.invalidCharacter, parameter: parameter, offset: position + 1)
                    }
                    content.append(escaped)
                    position += 2
                case cr:
                    guard let afterFold = foldEnd(at: position) else {
                        throw .init(.invalidCharacter, parameter: parameter, offset: position)
                    }
                    content.append(space)
                    position = afterFold
                case tab:
                    content.append(byte)
                    position += 1
                case 0x00..<0x20, 0x7F:
                    throw .init(.invalidCharacter, parameter: parameter, offset: position)
                default:
                    content.append(byte)
                    position += 1
                }
            }
        }

        /// If a folded line (CRLF followed by at least one WSP) starts at `index`, the index
        /// just past its whitespace.
        private func foldEnd(at index: Int) -> Int? {
            guard index + 2 < bytes.count, bytes[index] == cr, bytes[index + 1] == lf,
                bytes[index + 2] == space || bytes[index + 2] == tab
            else { return nil }
            var end = index + 3
            while end < bytes.count, bytes[end] == space || bytes[end] == tab { end += 1 }
            return end
        }

        private mutating func skipLWS() {
            while position < bytes.count {
                if bytes[position] == space || bytes[position] == tab {
                    position += 1
                } else if let afterFold = foldEnd(at: position) {
                    position = afterFold
                } else {
                    return
                }
            }
        }
    }

    /// Where serialized bytes go: the caller's buffer, or a counter for `encodedSize`, so the
    /// size is computed by the same code that writes.
    protocol Sink {
        mutating func append(_ byte: UInt8)
        mutating func append<Bytes: Sequence<UInt8>>(contentsOf bytes: Bytes)
    }

    struct ByteCounter: Sink {
        var count = 0
        mutating func append(_ byte: UInt8) { count += 1 }
        mutating func append<Bytes: Sequence<UInt8>>(contentsOf bytes: Bytes) {
            for _ in bytes { count += 1 }
        }
    }

    /// Writes `Scheme name=value, name="value", ...`.
    ///
    /// Callers hand over their buffer with `consume` and take it back from `output`, so that
    /// writing into a caller's array does not copy it.
    struct Writer<Output: Sink> {
        private(set) var output: Output
        private var wroteParameter = false

        init(scheme: String, into output: consuming Output) {
            self.output = output
            self.output.append(contentsOf: scheme.utf8)
        }

        private mutating func separator() {
            output.append(contentsOf: (wroteParameter ? ", " : " ").utf8)
            wroteParameter = true
        }

        mutating func token(_ name: String, _ value: String) {
            separator()
            output.append(contentsOf: name.utf8)
            output.append(equals)
            output.append(contentsOf: value.utf8)
        }

        /// Writes a quoted-string, escaping `"`, `\` and control characters. CR and LF, which no
        /// quoted-string can carry (RFC 3261 §25.1 quoted-pair excludes them), are written as SP
        /// so that a value can never inject a header line.
        mutating func quoted(_ name: String, _ value: String) {
            separator()
            output.append(contentsOf: name.utf8)
            output.append(equals)
            output.append(quote)
            for byte in value.utf8 {
                switch byte {
                case quote, backslash, 0x00..<tab, 0x0B, 0x0C, 0x0E..<0x20, 0x7F:
                    // qdtext has no room for these; quoted-pair does (a parsed `"\<NUL>"` must
                    // serialize to something that parses back).
                    output.append(backslash)
                    output.append(byte)
                case cr, lf:
                    output.append(space)
                default:
                    output.append(byte)
                }
            }
            output.append(quote)
        }

        mutating func parameter(_ param: AuthParam) {
            if !param.isQuoted, isToken(param.value) {
                token(param.name, param.value)
            } else {
                quoted(param.name, param.value)
            }
        }
    }
}

extension Array: AuthParamGrammar.Sink where Element == UInt8 {}
