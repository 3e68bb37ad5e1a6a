/// One `;name[=value]` parameter, as written (a quoted value keeps its quotes, an escaped URI
/// parameter keeps its escapes) so that serialization reproduces it.
public struct SIPParameter: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }

    /// The value with surrounding quotes removed and quoted-pairs resolved.
    public var unquotedValue: String? {
        guard let value else { return nil }
        let bytes = Array(value.utf8)
        if bytes.count >= 2, bytes.first == ASCII.quote, bytes.last == ASCII.quote {
            return QuotedString.unquote(bytes[...])
        }
        return value
    }

    public var description: String { value.map { "\(name)=\($0)" } ?? name }
}

/// An ordered parameter list (URI parameters, header parameters). Names match
/// case-insensitively and after %-decoding (RFC 3261 §19.1.4), so `;%6C%72` is `lr`.
public struct SIPParameters: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral, CustomStringConvertible {
    public private(set) var items: [SIPParameter]

    public init(_ items: [SIPParameter] = []) { self.items = items }
    public init(arrayLiteral elements: SIPParameter...) { self.items = elements }

    public var startIndex: Int { items.startIndex }
    public var endIndex: Int { items.endIndex }
    public subscript(position: Int) -> SIPParameter { items[position] }

    /// The first parameter with this name.
    public subscript(name: String) -> SIPParameter? {
        items.first { Self.matches($0.name, name) }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// The value of a parameter as written; nil when absent or valueless.
    public func value(_ name: String) -> String? { self[name]?.value }

    /// Sets (or adds at the end) a parameter; `value` nil makes it a flag (`;lr`).
    public mutating func set(_ name: String, _ value: String? = nil) {
        if let i = items.firstIndex(where: { Self.matches($0.name, name) }) {
            items[i] = SIPParameter(items[i].name, value)
        } else {
            items.append(SIPParameter(name, value))
        }
    }

    /// Sets the parameter to `value`, or removes it when `value` is nil — the setter of
    /// optional valued parameters such as `tag` and `branch`.
    public mutating func update(_ name: String, to value: String?) {
        if let value { set(name, value) } else { remove(name) }
    }

    public mutating func remove(_ name: String) {
        items.removeAll { Self.matches($0.name, name) }
    }

    mutating func append(_ parameter: SIPParameter) { items.append(parameter) }

    /// `;a=1;b` — each parameter preceded by ";".
    public var description: String {
        var out = ""
        for item in items {
            out += ";"
            out += item.description
        }
        return out
    }

    static func matches(_ written: String, _ wanted: String) -> Bool {
        if written.utf8.contains(ASCII.percent) {
            return Escaping.comparisonKey(written, caseInsensitive: true) == Escaping.comparisonKey(wanted, caseInsensitive: true)
        }
        return written.utf8.elementsEqual(wanted.utf8) { ASCII.lower($0) == ASCII.lower($1) }
    }
}

enum ParameterParser {
    /// Header parameters after a value: *( SEMI generic-param )
    /// generic-param = token [ EQUAL gen-value ]; gen-value = token / host / quoted-string
    /// SEMI and EQUAL allow LWS on both sides (RFC 3261 §25.1). Stops at the end of the slice.
    static func headerParameters(_ cursor: inout ByteCursor) throws(SIPParseError) -> SIPParameters {
        var parameters = SIPParameters()
        while true {
            cursor.skipLWS()
            guard let byte = cursor.peek() else { return parameters }
            guard byte == ASCII.semicolon else { throw SIPParseError(.unexpectedCharacter, at: cursor.index) }
            cursor.index += 1
            cursor.skipLWS()
            guard let name = cursor.token() else { throw SIPParseError(.invalidParameter, at: cursor.index) }
            let afterName = cursor.index
            cursor.skipLWS()
            if cursor.consume(ASCII.equals) {
                cursor.skipLWS()
                let value = try genericValue(&cursor)
                parameters.append(SIPParameter(cursor.string(name), cursor.string(value)))
            } else {
                cursor.index = afterName
                parameters.append(SIPParameter(cursor.string(name)))
            }
        }
    }

    /// gen-value = token / host / quoted-string; the returned range is the value as written.
    static func genericValue(_ cursor: inout ByteCursor) throws(SIPParseError) -> Range<Int> {
        guard let byte = cursor.peek() else { throw SIPParseError(.invalidParameter, at: cursor.index) }
        if byte == ASCII.quote { return try cursor.quotedString() }
        if byte == ASCII.leftBracket {
            let start = cursor.index
            while cursor.index < cursor.end && cursor.bytes[cursor.index] != ASCII.rightBracket { cursor.index += 1 }
            guard cursor.consume(ASCII.rightBracket) else { throw SIPParseError(.invalidHost, at: start) }
            _ = try SIPHost.parseIPv6(cursor.bytes[(start + 1)..<(cursor.index - 1)])
            return start..<cursor.index
        }
        // token, plus ":" so that an unbracketed IPv6address reads as one value
        // (via-received = "received" EQUAL (IPv4address / IPv6address), RFC 5118 §4.5).
        let value = cursor.scan(SIPGrammar.tokenOrColon)
        guard !value.isEmpty else { throw SIPParseError(.invalidParameter, at: cursor.index) }
        return value
    }
}
