/// CSeq = "CSeq" HCOLON 1*DIGIT LWS Method                       (RFC 3261 §20.16)
/// The number "MUST be expressible as a 32-bit unsigned integer and MUST be less than 2**31"
/// (§8.1.1.5); leading zeros are accepted (RFC 4475 §3.1.1.1: `0009`).
public struct SIPCSeq: Sendable, Hashable, CustomStringConvertible {
    public var sequence: UInt32
    public var method: SIPMethod

    public static let maximumSequence: UInt32 = 0x7FFF_FFFF

    public init(sequence: UInt32, method: SIPMethod) {
        self.sequence = sequence
        self.method = method
    }

    public init(parsing text: String) throws(SIPParseError) {
        self = try SIPCSeq.parse(Array(text.utf8)[...])
    }

    public var description: String { "\(sequence) \(method)" }

    static func parse(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> SIPCSeq {
        var cursor = ByteCursor(bytes)
        cursor.skipLWS()
        let number = try cursor.decimal(limit: UInt64(maximumSequence))
        guard cursor.skipLWS() else { throw SIPParseError(.unexpectedCharacter, at: cursor.index) }
        guard let method = cursor.token() else { throw SIPParseError(.invalidMethod, at: cursor.index) }
        cursor.skipLWS()
        guard cursor.isAtEnd else { throw SIPParseError(.unexpectedCharacter, at: cursor.index) }
        return SIPCSeq(sequence: UInt32(number), method: SIPMethod(token: bytes[method]))
    }
}

/// media-type = m-type SLASH m-subtype *(SEMI m-parameter)       (RFC 3261 §20.15, §25.1)
/// m-parameter = m-attribute EQUAL m-value; m-value = token / quoted-string
public struct SIPMediaType: Sendable, Hashable, CustomStringConvertible {
    public var type: String
    public var subtype: String
    public var parameters: SIPParameters

    public init(type: String, subtype: String, parameters: SIPParameters = []) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public init(parsing text: String) throws(SIPParseError) {
        self = try SIPMediaType.parse(Array(text.utf8)[...])
    }

    public static let sdp = SIPMediaType(type: "application", subtype: "sdp")

    /// `type/subtype` in lower case, for comparisons (media types are case-insensitive).
    public var essence: String { "\(type)/\(subtype)".lowercased() }

    public var description: String { "\(type)/\(subtype)" + parameters.description }

    static func parse(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> SIPMediaType {
        var cursor = ByteCursor(bytes)
        cursor.skipLWS()
        guard let type = cursor.token() else { throw SIPParseError(.invalidMediaType, at: cursor.index) }
        cursor.skipLWS()
        guard cursor.consume(ASCII.slash) else { throw SIPParseError(.invalidMediaType, at: cursor.index) }
        cursor.skipLWS()
        guard let subtype = cursor.token() else { throw SIPParseError(.invalidMediaType, at: cursor.index) }
        let parameters = try ParameterParser.headerParameters(&cursor)
        return SIPMediaType(type: cursor.string(type), subtype: cursor.string(subtype), parameters: parameters)
    }
}

/// Session-Expires = ("Session-Expires" / "x") HCOLON delta-seconds *(SEMI se-params)
/// se-params = refresher-param / generic-param
/// refresher-param = "refresher" EQUAL ("uas" / "uac")                 (RFC 4028 §4)
public struct SIPSessionExpires: Sendable, Hashable, CustomStringConvertible {
    /// Which side refreshes the session (RFC 4028 §7, §9).
    public enum Refresher: String, Sendable, Hashable {
        case uac, uas
    }

    public var delta: UInt32
    public var refresher: Refresher?
    /// Parameters other than `refresher`.
    public var parameters: SIPParameters

    public init(delta: UInt32, refresher: Refresher? = nil, parameters: SIPParameters = []) {
        self.delta = delta
        self.refresher = refresher
        self.parameters = parameters
    }

    public init(parsing text: String) throws(SIPParseError) {
        self = try SIPSessionExpires.parse(Array(text.utf8)[...])
    }

    public var description: String {
        var out = "\(delta)"
        if let refresher { out += ";refresher=\(refresher.rawValue)" }
        return out + parameters.description
    }

    static func parse(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> SIPSessionExpires {
        var cursor = ByteCursor(bytes)
        let (delta, all) = try DeltaSeconds.withParameters(&cursor)
        var refresher: Refresher?
        var rest = SIPParameters()
        for parameter in all {
            if parameter.name.lowercased() == "refresher" {
                guard let value = parameter.value.flatMap({ Refresher(rawValue: $0.lowercased()) }) else {
                    throw SIPParseError(.invalidRefresher, at: bytes.startIndex)
                }
                refresher = value
            } else {
                rest.append(parameter)
            }
        }
        return SIPSessionExpires(delta: delta, refresher: refresher, parameters: rest)
    }
}

enum DeltaSeconds {
    /// delta-seconds = 1*DIGIT, up to 2^32-1, then *(SEMI generic-param).
    static func withParameters(_ cursor: inout ByteCursor) throws(SIPParseError) -> (UInt32, SIPParameters) {
        cursor.skipLWS()
        let value = try cursor.decimal(limit: UInt64(UInt32.max))
        let parameters = try ParameterParser.headerParameters(&cursor)
        return (UInt32(value), parameters)
    }
}

// MARK: - typed access to a message's headers

extension SIPHeaders {
    /// Parses the first line of `name` with `parse`, tagging errors with the header.
    private func single<T>(_ name: SIPHeaderName, _ parse: (ArraySlice<UInt8>) throws(SIPParseError) -> T) throws(SIPParseError) -> T? {
        guard let field = first(name) else { return nil }
        do throws(SIPParseError) {
            return try parse(field.rawValue)
        } catch {
            throw error.attributed(to: name)
        }
    }

    /// Parses every element of every line of a list header.
    private func list<T>(_ name: SIPHeaderName, _ parse: (ArraySlice<UInt8>) throws(SIPParseError) -> T) throws(SIPParseError) -> [T] {
        var out: [T] = []
        for field in fields where field.name == name {
            for element in field.elements {
                do throws(SIPParseError) {
                    guard !element.isEmpty else { throw SIPParseError(.emptyListElement, at: element.startIndex) }
                    out.append(try parse(element))
                } catch {
                    throw error.attributed(to: name)
                }
            }
        }
        return out
    }

    /// A list of tokens (Allow, Supported, Require, ...); an empty value is an empty list.
    private func tokens(_ name: SIPHeaderName) throws(SIPParseError) -> [String] {
        var out: [String] = []
        for field in fields where field.name == name {
            let elements = field.elements
            if elements.count == 1 && elements[0].isEmpty { continue }
            for element in elements {
                guard !element.isEmpty else {
                    throw SIPParseError(.emptyListElement, at: element.startIndex, header: name)
                }
                guard element.allSatisfy(SIPGrammar.token.contains) else {
                    let bad = element.firstIndex { !SIPGrammar.token.contains($0) } ?? element.startIndex
                    throw SIPParseError(.invalidToken, at: bad, header: name)
                }
                out.append(String(decoding: element, as: UTF8.self))
            }
        }
        return out
    }

    /// Every Via hop, topmost first (RFC 3261 §20.42).
    public var via: [SIPVia] { get throws(SIPParseError) { try list(.via, SIPVia.parse) } }

    /// The topmost Via: the hop a response goes back to (RFC 3261 §18.2.2).
    public var topVia: SIPVia? {
        get throws(SIPParseError) {
            guard let field = first(.via), let element = field.elements.first else { return nil }
            do throws(SIPParseError) { return try SIPVia.parse(element) } catch { throw error.attributed(to: .via) }
        }
    }

    public var from: SIPNameAddress? { get throws(SIPParseError) { try single(.from, SIPNameAddress.parse) } }
    public var to: SIPNameAddress? { get throws(SIPParseError) { try single(.to, SIPNameAddress.parse) } }

    /// Call-ID = ( "Call-ID" / "i" ) HCOLON callid; callid = word [ "@" word ]   (RFC 3261 §20.8)
    public var callID: String? {
        get throws(SIPParseError) {
            try single(.callID) { bytes throws(SIPParseError) in
                guard !bytes.isEmpty else { throw SIPParseError(.emptyValue, at: bytes.startIndex) }
                var sawAt = false
                for i in bytes.indices {
                    if bytes[i] == ASCII.at && !sawAt && i != bytes.startIndex && i != bytes.endIndex - 1 {
                        sawAt = true
                    } else if !SIPGrammar.word.contains(bytes[i]) {
                        throw SIPParseError(.invalidCallID, at: i)
                    }
                }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
    }

    public var cseq: SIPCSeq? { get throws(SIPParseError) { try single(.cseq, SIPCSeq.parse) } }

    /// Contact values; `.wildcard` for `Contact: *`, nil when there is no Contact.
    public var contacts: SIPContacts? {
        get throws(SIPParseError) {
            let lines = fields(.contact)
            guard !lines.isEmpty else { return nil }
            let elements = lines.flatMap(\.elements)
            if let star = elements.firstIndex(where: { $0.elementsEqual([ASCII.star]) }) {
                guard elements.count == 1 else {
                    throw SIPParseError(.invalidWildcard, at: elements[star].startIndex, header: .contact)
                }
                return .wildcard
            }
            return .addresses(try list(.contact, SIPContacts.parseContact))
        }
    }

    public var route: [SIPNameAddress] { get throws(SIPParseError) { try list(.route, SIPNameAddress.parse) } }
    public var recordRoute: [SIPNameAddress] { get throws(SIPParseError) { try list(.recordRoute, SIPNameAddress.parse) } }

    /// Max-Forwards = "Max-Forwards" HCOLON 1*DIGIT, 0-255 (RFC 3261 §20.22); leading zeros
    /// accepted (RFC 4475 §3.1.1.1: `0068`).
    public var maxForwards: Int? {
        get throws(SIPParseError) { try single(.maxForwards) { bytes throws(SIPParseError) in Int(try Self.wholeNumber(bytes, limit: 255)) } }
    }

    public var contentLength: Int? {
        get throws(SIPParseError) { try single(.contentLength, SIPMessageParser.parseContentLength) }
    }

    public var contentType: SIPMediaType? { get throws(SIPParseError) { try single(.contentType, SIPMediaType.parse) } }

    /// Allow = "Allow" HCOLON [Method *(COMMA Method)]; nil when absent (absent is not empty).
    public var allow: [SIPMethod]? {
        get throws(SIPParseError) { contains(.allow) ? try tokens(.allow).map(SIPMethod.init(rawValue:)) : nil }
    }

    /// Option tags (RFC 3261 §20.37, §20.32, §20.29, §20.40).
    public var supported: [String] { get throws(SIPParseError) { try tokens(.supported) } }
    public var require: [String] { get throws(SIPParseError) { try tokens(.require) } }
    public var proxyRequire: [String] { get throws(SIPParseError) { try tokens(.proxyRequire) } }
    public var unsupported: [String] { get throws(SIPParseError) { try tokens(.unsupported) } }

    public var sessionExpires: SIPSessionExpires? {
        get throws(SIPParseError) { try single(.sessionExpires, SIPSessionExpires.parse) }
    }

    /// Min-SE = "Min-SE" HCOLON delta-seconds *(SEMI generic-param)   (RFC 4028 §5)
    public var minSE: UInt32? {
        get throws(SIPParseError) {
            try single(.minSE) { bytes throws(SIPParseError) in
                var cursor = ByteCursor(bytes)
                return try DeltaSeconds.withParameters(&cursor).0
            }
        }
    }

    /// Expires = "Expires" HCOLON delta-seconds (RFC 3261 §20.19). Values beyond 2^32-1 throw
    /// `.numberOutOfRange`; §20.19 lets a receiver treat a malformed value as 3600.
    public var expires: UInt32? {
        get throws(SIPParseError) {
            try single(.expires) { bytes throws(SIPParseError) in UInt32(try Self.wholeNumber(bytes, limit: UInt64(UInt32.max))) }
        }
    }

    /// The raw values of an authentication header (WWW-Authenticate, Proxy-Authenticate,
    /// Authorization, Proxy-Authorization), one per line, unfolded. These are not split on
    /// commas: commas separate their auth-params (RFC 3261 §20.7, §25.1).
    public func credentialsValues(_ name: SIPHeaderName) -> [String] { values(name) }

    /// The whole value is 1*DIGIT (surrounding LWS allowed).
    static func wholeNumber(_ bytes: ArraySlice<UInt8>, limit: UInt64) throws(SIPParseError) -> UInt64 {
        var cursor = ByteCursor(bytes)
        cursor.skipLWS()
        let value = try cursor.decimal(limit: limit)
        cursor.skipLWS()
        guard cursor.isAtEnd else { throw SIPParseError(.invalidNumber, at: cursor.index) }
        return value
    }
}

extension SIPHeaders {
    /// Adds a Via above the existing ones (RFC 3261 §8.1.1.7, §16.6 step 8).
    public mutating func prependVia(_ via: SIPVia) { prepend(.via, via.description) }
    public mutating func setCSeq(_ cseq: SIPCSeq) { set(.cseq, cseq.description) }
    public mutating func setFrom(_ from: SIPNameAddress) { set(.from, from.description) }
    public mutating func setTo(_ to: SIPNameAddress) { set(.to, to.description) }
    public mutating func setMaxForwards(_ hops: Int) { set(.maxForwards, "\(hops)") }
    public mutating func setContentType(_ type: SIPMediaType) { set(.contentType, type.description) }
    public mutating func setSessionExpires(_ value: SIPSessionExpires) { set(.sessionExpires, value.description) }
    public mutating func addContact(_ contact: SIPNameAddress) { add(.contact, contact.description) }
    public mutating func addRoute(_ route: SIPNameAddress) { add(.route, route.description) }
}
