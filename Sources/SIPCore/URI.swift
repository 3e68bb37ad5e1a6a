/// A URI as SIP carries it: a SIP/SIPS URI, a tel URI, or any other absolute URI, kept opaque
/// (RFC 3261 §19.1, §25.1 absoluteURI; RFC 3966).
public enum URI: Sendable, Hashable, CustomStringConvertible {
    case sip(SIPURI)
    case tel(TelURI)
    case other(AbsoluteURI)

    public init(parsing text: String) throws(SIPParseError) {
        self = try URI.parse(Array(text.utf8)[...])
    }

    /// The scheme in lower case ("sip", "sips", "tel", "http", ...).
    public var scheme: String {
        switch self {
        case .sip(let uri): uri.isSecure ? "sips" : "sip"
        case .tel: "tel"
        case .other(let uri): uri.scheme.lowercased()
        }
    }

    public var sipURI: SIPURI? { if case .sip(let uri) = self { uri } else { nil } }

    public var description: String {
        switch self {
        case .sip(let uri): uri.description
        case .tel(let uri): uri.description
        case .other(let uri): uri.description
        }
    }

    /// RFC 3261 §19.1.4 equivalence for SIP/SIPS URIs, RFC 3966 §4 for tel URIs; other URIs
    /// compare scheme case-insensitively and the rest exactly.
    public func isEquivalent(to other: URI) -> Bool {
        switch (self, other) {
        case (.sip(let a), .sip(let b)): a.isEquivalent(to: b)
        case (.tel(let a), .tel(let b)): a.isEquivalent(to: b)
        case (.other(let a), .other(let b)): a.scheme.lowercased() == b.scheme.lowercased() && a.rest == b.rest
        default: false
        }
    }

    /// absoluteURI / SIP-URI / SIPS-URI from bytes without surrounding white space.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> URI {
        var cursor = ByteCursor(bytes)
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        guard let first = cursor.peek(), ASCII.isAlpha(first) else {
            throw SIPParseError(.invalidScheme, at: bytes.startIndex)
        }
        let schemeRange = cursor.scan(SIPGrammar.scheme)
        guard cursor.consume(ASCII.colon) else { throw SIPParseError(.invalidScheme, at: cursor.index) }
        let scheme = bytes[schemeRange]
        let rest = bytes[cursor.index...]
        if equalsLowercase(scheme, "sip") { return .sip(try SIPURI.parse(rest, secure: false)) }
        if equalsLowercase(scheme, "sips") { return .sip(try SIPURI.parse(rest, secure: true)) }
        if equalsLowercase(scheme, "tel") { return .tel(try TelURI.parse(rest)) }
        guard !rest.isEmpty else { throw SIPParseError(.invalidURI, at: rest.startIndex) }
        for i in rest.indices where !SIPGrammar.uric.contains(rest[i]) && rest[i] != ASCII.percent {
            throw SIPParseError(.invalidURI, at: i)
        }
        try Escaping.validate(rest)
        return .other(AbsoluteURI(scheme: String(decoding: scheme, as: UTF8.self), rest: String(decoding: rest, as: UTF8.self)))
    }

    static func equalsLowercase(_ bytes: ArraySlice<UInt8>, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        return lower.withUTF8Buffer { buffer in
            zip(bytes, buffer).allSatisfy { ASCII.lower($0) == $1 }
        }
    }
}

/// host = hostname / IPv4address / IPv6reference      (RFC 3261 §25.1)
public enum SIPHost: Sendable, Hashable, CustomStringConvertible {
    case name(String)
    case ipv4(String)
    /// Without the brackets of the IPv6reference.
    case ipv6(String)

    /// The host as written in a URI (IPv6 in brackets).
    public var description: String {
        switch self {
        case .name(let name): name
        case .ipv4(let address): address
        case .ipv6(let address): "[\(address)]"
        }
    }

    /// Host names and IPv6 addresses compare case-insensitively (RFC 3261 §19.1.4).
    var comparisonKey: String {
        switch self {
        case .name(let name): name.lowercased()
        case .ipv4(let address): address
        case .ipv6(let address): "[\(address.lowercased())]"
        }
    }

    /// Parses a host at the cursor: "[" IPv6 "]" or hostname / IPv4address characters.
    static func parse(_ cursor: inout ByteCursor) throws(SIPParseError) -> SIPHost {
        let start = cursor.index
        if cursor.consume(ASCII.leftBracket) {
            while cursor.index < cursor.end && cursor.bytes[cursor.index] != ASCII.rightBracket { cursor.index += 1 }
            guard cursor.consume(ASCII.rightBracket) else { throw SIPParseError(.invalidHost, at: start) }
            return .ipv6(try parseIPv6(cursor.bytes[(start + 1)..<(cursor.index - 1)]))
        }
        let range = cursor.scan(SIPGrammar.hostname)
        guard !range.isEmpty else { throw SIPParseError(.invalidHost, at: start) }
        let text = cursor.bytes[range]
        if isIPv4(text) { return .ipv4(String(decoding: text, as: UTF8.self)) }
        // hostname = *( domainlabel "." ) toplabel [ "." ]: labels do not begin or end with "-".
        var previous = ASCII.dot
        for i in range {
            let byte = cursor.bytes[i]
            if (byte == ASCII.dot && (previous == ASCII.dot || previous == 0x2D)) || (byte == 0x2D && previous == ASCII.dot) {
                throw SIPParseError(.invalidHost, at: i)
            }
            previous = byte
        }
        if previous == 0x2D { throw SIPParseError(.invalidHost, at: range.upperBound - 1) }
        return .name(String(decoding: text, as: UTF8.self))
    }

    /// IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each 0-255.
    static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        var parts = 0
        var digits = 0
        var value = 0
        for byte in bytes {
            if ASCII.isDigit(byte) {
                digits += 1
                value = value * 10 + Int(byte - ASCII.zero)
                if digits > 3 || value > 255 { return false }
            } else if byte == ASCII.dot {
                if digits == 0 { return false }
                parts += 1
                digits = 0
                value = 0
            } else {
                return false
            }
        }
        return parts == 3 && digits > 0
    }

    /// IPv6address (RFC 3261 §25.1 / RFC 4291 §2.2): up to eight hex groups, one "::", an
    /// optional trailing IPv4 part. Returns the address as written.
    static func parseIPv6(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> String {
        let fail = SIPParseError(.invalidHost, at: bytes.startIndex)
        guard !bytes.isEmpty else { throw fail }
        var groups = 0
        var sawDoubleColon = false
        var i = bytes.startIndex
        if bytes[i] == ASCII.colon {
            guard bytes.count >= 2, bytes[i + 1] == ASCII.colon else { throw fail }
            sawDoubleColon = true
            i += 2
        }
        while i < bytes.endIndex {
            let groupStart = i
            while i < bytes.endIndex && ASCII.isHex(bytes[i]) { i += 1 }
            if i < bytes.endIndex && bytes[i] == ASCII.dot {
                // Embedded IPv4 ends the address and counts as two groups.
                guard isIPv4(bytes[groupStart...]) else { throw fail }
                groups += 2
                i = bytes.endIndex
                break
            }
            let length = i - groupStart
            guard length >= 1 && length <= 4 else { throw fail }
            groups += 1
            if i == bytes.endIndex { break }
            guard bytes[i] == ASCII.colon else { throw fail }
            i += 1
            if i < bytes.endIndex && bytes[i] == ASCII.colon {
                guard !sawDoubleColon else { throw fail }
                sawDoubleColon = true
                i += 1
            } else if i == bytes.endIndex {
                throw fail
            }
        }
        guard sawDoubleColon ? groups <= 7 : groups == 8 else { throw fail }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A URI header (`?name=value&...`), as written with its escapes.
public struct URIHeader: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// SIP-URI  = "sip:"  [ userinfo ] hostport uri-parameters [ headers ]
/// SIPS-URI = "sips:" [ userinfo ] hostport uri-parameters [ headers ]
/// userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
/// hostport = host [ ":" port ]                               (RFC 3261 §19.1.1, §25.1)
///
/// Components are stored as written, escapes included, so serialization reproduces the URI;
/// `decodedUser` and `isEquivalent(to:)` apply %-decoding.
public struct SIPURI: Sendable, Hashable, CustomStringConvertible {
    public var isSecure: Bool
    public var user: String?
    public var password: String?
    public var host: SIPHost
    public var port: UInt16?
    public var parameters: SIPParameters
    public var headers: [URIHeader]

    public init(user: String? = nil, password: String? = nil, host: SIPHost, port: UInt16? = nil,
                parameters: SIPParameters = [], headers: [URIHeader] = [], isSecure: Bool = false) {
        self.isSecure = isSecure
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    public init(parsing text: String) throws(SIPParseError) {
        guard case .sip(let uri) = try URI.parse(Array(text.utf8)[...]) else {
            throw SIPParseError(.invalidScheme, at: 0)
        }
        self = uri
    }

    /// The user part with %-escapes decoded; an escaped NUL stays a NUL (RFC 4475 §3.1.1.4).
    public var decodedUser: [UInt8]? { user.map { Escaping.decode($0.utf8) } }

    public var transport: String? { parameters.value("transport") }
    public var maddr: String? { parameters.value("maddr") }
    /// The `lr` parameter: the element is a loose router (RFC 3261 §19.1.1).
    public var isLooseRouter: Bool { parameters.contains("lr") }

    public var description: String {
        var out = isSecure ? "sips:" : "sip:"
        if let user {
            out += user
            if let password { out += ":" + password }
            out += "@"
        }
        out += host.description
        if let port { out += ":\(port)" }
        out += parameters.description
        for (i, header) in headers.enumerated() {
            out += i == 0 ? "?" : "&"
            out += header.name + "=" + header.value
        }
        return out
    }

    /// The part after "sip:" / "sips:".
    static func parse(_ bytes: ArraySlice<UInt8>, secure: Bool) throws(SIPParseError) -> SIPURI {
        var cursor = ByteCursor(bytes)
        var user: String?
        var password: String?
        // "@" appears in no other component (it is not a param, header or host character),
        // so the first "@" ends the userinfo — whose user part may hold ";", "?" and "/"
        // (RFC 4475 §3.1.1.2, §3.1.1.9).
        if let at = bytes.firstIndex(of: ASCII.at) {
            let userinfo = bytes[bytes.startIndex..<at]
            let colon = userinfo.firstIndex(of: ASCII.colon)
            let userBytes = userinfo[userinfo.startIndex..<(colon ?? userinfo.endIndex)]
            guard !userBytes.isEmpty else { throw SIPParseError(.invalidUserInfo, at: userinfo.startIndex) }
            try validate(userBytes, SIPGrammar.user)
            user = String(decoding: userBytes, as: UTF8.self)
            if let colon {
                let passwordBytes = userinfo[(colon + 1)...]
                try validate(passwordBytes, SIPGrammar.password)
                password = String(decoding: passwordBytes, as: UTF8.self)
            }
            cursor.index = at + 1
        }
        let host = try SIPHost.parse(&cursor)
        var port: UInt16?
        if cursor.consume(ASCII.colon) {
            do throws(SIPParseError) {
                port = UInt16(try cursor.decimal(limit: UInt64(UInt16.max)))
            } catch {
                throw SIPParseError(.invalidPort, at: error.offset)
            }
        }
        var parameters = SIPParameters()
        while cursor.consume(ASCII.semicolon) {
            // uri-parameter = pname [ "=" pvalue ]; pname = 1*paramchar; pvalue = 1*paramchar
            let name = cursor.scan(SIPGrammar.paramCharOrEscape)
            guard !name.isEmpty else { throw SIPParseError(.invalidURIParameter, at: cursor.index) }
            try Escaping.validate(bytes[name])
            var value: String?
            if cursor.consume(ASCII.equals) {
                let valueRange = cursor.scan(SIPGrammar.paramCharOrEscape)
                guard !valueRange.isEmpty else { throw SIPParseError(.invalidURIParameter, at: cursor.index) }
                try Escaping.validate(bytes[valueRange])
                value = cursor.string(valueRange)
            }
            parameters.append(SIPParameter(cursor.string(name), value))
        }
        var headers: [URIHeader] = []
        if cursor.consume(ASCII.question) {
            // headers = "?" header *( "&" header ); header = hname "=" hvalue
            repeat {
                let name = cursor.scan(SIPGrammar.headerCharOrEscape)
                guard !name.isEmpty, cursor.consume(ASCII.equals) else {
                    throw SIPParseError(.invalidURIHeader, at: cursor.index)
                }
                let value = cursor.scan(SIPGrammar.headerCharOrEscape)
                try Escaping.validate(bytes[name.lowerBound..<value.upperBound])
                headers.append(URIHeader(cursor.string(name), cursor.string(value)))
            } while cursor.consume(ASCII.ampersand)
        }
        guard cursor.isAtEnd else { throw SIPParseError(.invalidURI, at: cursor.index) }
        return SIPURI(user: user, password: password, host: host, port: port,
                      parameters: parameters, headers: headers, isSecure: secure)
    }

    private static func validate(_ bytes: ArraySlice<UInt8>, _ allowed: ByteSet) throws(SIPParseError) {
        for i in bytes.indices where !allowed.contains(bytes[i]) && bytes[i] != ASCII.percent {
            throw SIPParseError(.invalidUserInfo, at: i)
        }
        try Escaping.validate(bytes)
    }
}

/// telephone-uri = "tel:" telephone-subscriber *( ";" par )       (RFC 3966 §3)
/// The number and parameters are kept as written.
public struct TelURI: Sendable, Hashable, CustomStringConvertible {
    public var number: String
    public var parameters: SIPParameters

    public init(number: String, parameters: SIPParameters = []) {
        self.number = number
        self.parameters = parameters
    }

    /// A global number begins with "+" (RFC 3966 §5.1.4); a local one needs `phone-context`.
    public var isGlobal: Bool { number.hasPrefix("+") }

    public var description: String { "tel:" + number + parameters.description }

    /// RFC 3966 §4: numbers equal after removing visual separators, hex digits
    /// case-insensitive; parameters equal as a set (names and values case-insensitive).
    public func isEquivalent(to other: TelURI) -> Bool {
        func digits(_ number: String) -> String {
            String(number.unicodeScalars.filter { !"-.()".unicodeScalars.contains($0) }).lowercased()
        }
        func set(_ parameters: SIPParameters) -> Set<String> {
            Set(parameters.map { "\($0.name.lowercased())=\($0.value?.lowercased() ?? "")" })
        }
        return digits(number) == digits(other.number) && set(parameters) == set(other.parameters)
    }

    static func parse(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> TelURI {
        var cursor = ByteCursor(bytes)
        let number = cursor.scan(SIPGrammar.telephoneSubscriber)
        guard !number.isEmpty else { throw SIPParseError(.invalidUserInfo, at: bytes.startIndex) }
        var parameters = SIPParameters()
        while cursor.consume(ASCII.semicolon) {
            let name = cursor.scan(SIPGrammar.paramCharOrEscape)
            guard !name.isEmpty else { throw SIPParseError(.invalidURIParameter, at: cursor.index) }
            var value: String?
            if cursor.consume(ASCII.equals) {
                let valueRange = cursor.scan(SIPGrammar.paramCharOrEscape)
                guard !valueRange.isEmpty else { throw SIPParseError(.invalidURIParameter, at: cursor.index) }
                value = cursor.string(valueRange)
            }
            parameters.append(SIPParameter(cursor.string(name), value))
        }
        guard cursor.isAtEnd else { throw SIPParseError(.invalidURI, at: cursor.index) }
        try Escaping.validate(bytes)
        return TelURI(number: cursor.string(number), parameters: parameters)
    }
}

/// absoluteURI = scheme ":" ( hier-part / opaque-part ) — any scheme other than sip, sips
/// and tel, kept opaque (RFC 4475 §3.3.2: never fail on an unknown scheme).
public struct AbsoluteURI: Sendable, Hashable, CustomStringConvertible {
    public var scheme: String
    /// Everything after the first ":".
    public var rest: String

    public init(scheme: String, rest: String) {
        self.scheme = scheme
        self.rest = rest
    }

    public var description: String { scheme + ":" + rest }
}
