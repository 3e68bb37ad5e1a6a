/// The address of From, To, Contact, Route, Record-Route and Reply-To values, with the header
/// parameters that follow it (tag, expires, q, lr, ...).
///
/// ( name-addr / addr-spec ) *( SEMI generic-param )
/// name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
/// addr-spec    = SIP-URI / SIPS-URI / absoluteURI
/// display-name = *(token LWS)/ quoted-string                     (RFC 3261 §20.10, §25.1)
///
/// In the addr-spec form (no `<>`), parameters after the URI are header parameters, never URI
/// parameters (RFC 3261 §20; RFC 4475 §3.3.12), and a URI with "?" must be bracketed.
public struct SIPNameAddress: Sendable, Hashable, CustomStringConvertible {
    /// The display name with quotes removed and quoted-pairs resolved; token display names
    /// are joined with single spaces.
    public var displayName: String?
    public var uri: URI
    public var parameters: SIPParameters

    public init(displayName: String? = nil, uri: URI, parameters: SIPParameters = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public init(parsing text: String) throws(SIPParseError) {
        self = try SIPNameAddress.parse(Array(text.utf8)[...])
    }

    /// The `tag` parameter of From and To (RFC 3261 §19.3).
    public var tag: String? {
        get { parameters.value("tag") }
        set { parameters.update("tag", to: newValue) }
    }

    /// The Contact `expires` parameter (RFC 3261 §20.10). Values beyond 2^32-1 read as
    /// 2^32-1; what a registrar grants is its own policy.
    public var expires: UInt32? {
        guard let text = parameters.value("expires") else { return nil }
        var cursor = ByteCursor(Array(text.utf8)[...])
        do throws(SIPParseError) {
            return UInt32(try cursor.decimal(limit: UInt64(UInt32.max)))
        } catch {
            return error.code == .numberOutOfRange ? UInt32.max : nil
        }
    }

    /// The Contact `q` parameter in thousandths (q=0.33 → 330), exact where a Double is not.
    public var qThousandths: Int? {
        guard let text = parameters.value("q") else { return nil }
        return try? Self.parseQValue(Array(text.utf8)[...])
    }

    /// The Contact `q` parameter, 0...1.
    public var q: Double? { qThousandths.map { Double($0) / 1000 } }

    /// `"Display" <uri>;params` — always the name-addr form, which is valid for every URI.
    public var description: String {
        var out = ""
        if let displayName { out += QuotedString.quote(displayName) + " " }
        out += "<" + uri.description + ">"
        out += parameters.description
        return out
    }

    static func parse(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> SIPNameAddress {
        var cursor = ByteCursor(bytes)
        cursor.skipLWS()
        guard let first = cursor.peek() else { throw SIPParseError(.emptyValue, at: cursor.index) }
        var displayName: String?
        var bracketed = false

        if first == ASCII.quote {
            let range = try cursor.quotedString()
            displayName = QuotedString.unquote(bytes[range])
            cursor.skipLWS()
            guard cursor.consume(ASCII.lessThan) else { throw SIPParseError(.invalidDisplayName, at: cursor.index) }
            bracketed = true
        } else if cursor.consume(ASCII.lessThan) {
            bracketed = true
        } else {
            // Either *(token LWS) "<" or an addr-spec, which begins with scheme ":".
            let start = cursor.index
            var words: [Range<Int>] = []
            while let word = cursor.token() {
                if words.isEmpty && cursor.peek() == ASCII.colon {
                    break
                }
                words.append(word)
                cursor.skipLWS()
                // RFC 4475 §3.1.1.6: no LWS before "<" is a known ABNF bug; accept it.
                if cursor.consume(ASCII.lessThan) {
                    bracketed = true
                    break
                }
            }
            if bracketed {
                displayName = words.map { cursor.string($0) }.joined(separator: " ")
            } else if words.isEmpty && cursor.peek() == ASCII.colon {
                cursor.index = start
            } else {
                throw SIPParseError(.invalidDisplayName, at: cursor.index)
            }
        }

        let uri: URI
        if bracketed {
            let open = cursor.index - 1
            guard let close = bytes[cursor.index...].firstIndex(of: ASCII.greaterThan) else {
                throw SIPParseError(.unterminatedAngleBracket, at: open)
            }
            let inner = bytes[cursor.index..<close]
            // RFC 4475 §3.1.2.14: LWS inside <> is not addr-spec.
            if let blank = inner.firstIndex(where: { ASCII.isLWS($0) }) {
                throw SIPParseError(.unexpectedWhitespace, at: blank)
            }
            uri = try URI.parse(inner)
            cursor.index = close + 1
        } else {
            let start = cursor.index
            while let byte = cursor.peek(), !ASCII.isLWS(byte), byte != ASCII.semicolon, byte != ASCII.comma {
                cursor.index += 1
            }
            let spec = bytes[start..<cursor.index]
            // RFC 3261 §20: a URI containing "?" (headers) must be enclosed in <> (RFC 4475 §3.1.2.13).
            if let question = spec.firstIndex(of: ASCII.question), case .sip = try? URI.parse(spec) {
                throw SIPParseError(.uriNeedsAngleBrackets, at: question)
            }
            uri = try URI.parse(spec)
        }
        let parameters = try ParameterParser.headerParameters(&cursor)
        return SIPNameAddress(displayName: displayName, uri: uri, parameters: parameters)
    }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )       (RFC 3261 §25.1)
    static func parseQValue(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> Int {
        let fail = SIPParseError(.invalidQValue, at: bytes.startIndex)
        guard let first = bytes.first, first == ASCII.zero || first == ASCII.zero + 1 else { throw fail }
        var value = Int(first - ASCII.zero) * 1000
        var rest = bytes.dropFirst()
        guard !rest.isEmpty else { return value }
        guard rest.first == ASCII.dot, rest.count <= 4 else { throw fail }
        rest = rest.dropFirst()
        var scale = 100
        for byte in rest {
            guard ASCII.isDigit(byte), first == ASCII.zero || byte == ASCII.zero else { throw fail }
            value += Int(byte - ASCII.zero) * scale
            scale /= 10
        }
        return value
    }
}

/// Contact = ("Contact" / "m" ) HCOLON ( STAR / (contact-param *(COMMA contact-param)))
/// contact-param = (name-addr / addr-spec) *(SEMI contact-params)    (RFC 3261 §20.10)
public enum SIPContacts: Sendable, Hashable {
    /// `Contact: *` — every binding, in a REGISTER with Expires: 0 (RFC 3261 §10.2.2).
    case wildcard
    case addresses([SIPNameAddress])

    public var addresses: [SIPNameAddress] {
        if case .addresses(let list) = self { list } else { [] }
    }

    /// One contact-param, its q and expires validated (expires may exceed 2^32-1: see
    /// `SIPNameAddress.expires`).
    static func parseContact(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> SIPNameAddress {
        let address = try SIPNameAddress.parse(bytes)
        for parameter in address.parameters {
            guard let value = parameter.value else { continue }
            let name = parameter.name.lowercased()
            let valueBytes = Array(value.utf8)[...]
            let offset = bytes.startIndex
            if name == "q" {
                do throws(SIPParseError) { _ = try SIPNameAddress.parseQValue(valueBytes) } catch { throw SIPParseError(.invalidQValue, at: offset) }
            } else if name == "expires" {
                guard valueBytes.allSatisfy(ASCII.isDigit) else { throw SIPParseError(.invalidNumber, at: offset) }
            }
        }
        return address
    }
}
