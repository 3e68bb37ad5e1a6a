// Character classes of the RFC 3261 §25.1 ABNF and a byte cursor shared by every parser in
// this module. Everything works on bytes; strings are made only for finished fields.

/// A set of ASCII bytes as two 64-bit masks: membership is a shift and an AND.
struct ByteSet: Sendable {
    let low: UInt64
    let high: UInt64

    init(_ characters: String, alphanumeric: Bool = false) {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var all = Array(characters.utf8)
        if alphanumeric { all += Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8) }
        for byte in all {
            precondition(byte < 128)
            if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
        }
        self.low = low
        self.high = high
    }

    private init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    func union(_ other: ByteSet) -> ByteSet { ByteSet(low: low | other.low, high: high | other.high) }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        if byte < 64 { return low & (1 &<< UInt64(byte)) != 0 }
        if byte < 128 { return high & (1 &<< UInt64(byte &- 64)) != 0 }
        return false
    }
}

enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let percent: UInt8 = 0x25
    static let comma: UInt8 = 0x2C
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let lessThan: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let greaterThan: UInt8 = 0x3E
    static let question: UInt8 = 0x3F
    static let at: UInt8 = 0x40
    static let leftBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rightBracket: UInt8 = 0x5D
    static let ampersand: UInt8 = 0x26
    static let star: UInt8 = 0x2A
    static let dot: UInt8 = 0x2E
    static let plus: UInt8 = 0x2B
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= zero && b <= nine }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) }
    /// WSP = SP / HTAB
    @inline(__always) static func isWSP(_ b: UInt8) -> Bool { b == space || b == tab }
    /// Bytes of LWS inside a header value: SP, HTAB, and the CR LF of a fold. A raw header value
    /// holds CR or LF only as part of a fold (the message parser ends a value at any other line
    /// break), so treating them as white space is exact.
    @inline(__always) static func isLWS(_ b: UInt8) -> Bool { b == space || b == tab || b == cr || b == lf }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }
    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8 {
        isDigit(b) ? b - zero : (b | 0x20) - 0x61 + 10
    }
}

/// RFC 3261 §25.1 character classes.
enum SIPGrammar {
    /// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
    static let token = ByteSet("-.!%*_+`'~", alphanumeric: true)
    static let tokenOrColon = token.union(ByteSet(":"))
    /// unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
    static let unreserved = ByteSet("-_.!~*'()", alphanumeric: true)
    /// user = 1*( unreserved / escaped / user-unreserved ); user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
    static let user = unreserved.union(ByteSet("&=+$,;?/"))
    /// password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
    static let password = unreserved.union(ByteSet("&=+$,"))
    /// paramchar = param-unreserved / unreserved / escaped; param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$"
    static let paramChar = unreserved.union(ByteSet("[]/:&+$"))
    static let paramCharOrEscape = paramChar.union(ByteSet("%"))
    /// hname / hvalue = *( hnv-unreserved / unreserved / escaped ); hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$"
    static let headerChar = unreserved.union(ByteSet("[]/?:+$"))
    static let headerCharOrEscape = headerChar.union(ByteSet("%"))
    /// reserved = ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / ","
    static let reserved = ByteSet(";/?:@&=+$,")
    /// uric = reserved / unreserved / escaped (RFC 2396), plus "[" "]" "#" which real URIs carry.
    static let uric = reserved.union(unreserved).union(ByteSet("[]#"))
    /// word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" /
    ///        "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}")
    static let word = token.union(ByteSet("()<>:\\\"/[]?{}"))
    /// hostname characters: alphanum / "-" / "."
    static let hostname = ByteSet("-.", alphanumeric: true)
    /// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    static let scheme = ByteSet("+-.", alphanumeric: true)
    /// RFC 3966 phonedigit-hex and visual separators, "*", "#" and "+" of a telephone-subscriber.
    static let telephoneSubscriber = ByteSet("-.()*#+abcdefABCDEF0123456789")
}

/// A read position in a slice of received bytes. Offsets are indices of the underlying buffer,
/// so errors report the byte offset in the original datagram.
struct ByteCursor {
    let bytes: ArraySlice<UInt8>
    var index: Int
    let end: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
        self.end = bytes.endIndex
    }

    var isAtEnd: Bool { index >= end }

    @inline(__always) func peek() -> UInt8? { index < end ? bytes[index] : nil }

    @inline(__always) mutating func consume(_ byte: UInt8) -> Bool {
        if index < end && bytes[index] == byte {
            index += 1
            return true
        }
        return false
    }

    /// Skips LWS (SP, HTAB and folds). Returns whether anything was skipped.
    @discardableResult
    mutating func skipLWS() -> Bool {
        let start = index
        while index < end && ASCII.isLWS(bytes[index]) { index += 1 }
        return index > start
    }

    @discardableResult
    mutating func scan(_ set: ByteSet) -> Range<Int> {
        let start = index
        while index < end && set.contains(bytes[index]) { index += 1 }
        return start..<index
    }

    /// A non-empty token, or nil without moving.
    mutating func token() -> Range<Int>? {
        let range = scan(SIPGrammar.token)
        return range.isEmpty ? nil : range
    }

    /// quoted-string = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE  (RFC 3261 §25.1)
    /// The cursor must be at the opening quote. Returns the range including both quotes.
    mutating func quotedString() throws(SIPParseError) -> Range<Int> {
        let start = index
        precondition(bytes[index] == ASCII.quote)
        index += 1
        while index < end {
            let byte = bytes[index]
            if byte == ASCII.quote {
                index += 1
                return start..<index
            }
            if byte == ASCII.backslash {
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): anything but CR and LF
                guard index + 1 < end, bytes[index + 1] != ASCII.cr, bytes[index + 1] != ASCII.lf else {
                    throw SIPParseError(.unterminatedQuotedString, at: start)
                }
                index += 2
                continue
            }
            index += 1
        }
        throw SIPParseError(.unterminatedQuotedString, at: start)
    }

    /// 1*DIGIT with leading zeros allowed. `limit` bounds the value; larger values report
    /// `.numberOutOfRange` at the first digit (no silent wrap, no trap).
    mutating func decimal(limit: UInt64) throws(SIPParseError) -> UInt64 {
        let start = index
        var value: UInt64 = 0
        var overflow = false
        while index < end, ASCII.isDigit(bytes[index]) {
            if !overflow {
                value = value * 10 + UInt64(bytes[index] - ASCII.zero)
                if value > limit { overflow = true }
            }
            index += 1
        }
        if index == start { throw SIPParseError(.invalidNumber, at: start) }
        if overflow { throw SIPParseError(.numberOutOfRange, at: start) }
        return value
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }
}

extension ArraySlice<UInt8> {
    /// The slice without leading and trailing LWS.
    func trimmingLWS() -> ArraySlice<UInt8> {
        var start = startIndex
        var end = endIndex
        while start < end && ASCII.isLWS(self[start]) { start += 1 }
        while end > start && ASCII.isLWS(self[end - 1]) { end -= 1 }
        return self[start..<end]
    }
}

enum Escaping {
    /// Validates that every "%" in `bytes` starts an escape = "%" HEX HEX.
    static func validate(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == ASCII.percent {
                guard i + 2 < bytes.endIndex, ASCII.isHex(bytes[i + 1]), ASCII.isHex(bytes[i + 2]) else {
                    throw SIPParseError(.invalidEscape, at: i)
                }
                i += 3
            } else {
                i += 1
            }
        }
    }

    /// %HH decoded to bytes. A NUL from %00 is kept (RFC 4475 §3.1.1.4: never truncate there).
    static func decode<S: Collection<UInt8>>(_ bytes: S) -> [UInt8] {
        let bytes = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == ASCII.percent, i + 2 < bytes.count, ASCII.isHex(bytes[i + 1]), ASCII.isHex(bytes[i + 2]) {
                out.append(ASCII.hexValue(bytes[i + 1]) << 4 | ASCII.hexValue(bytes[i + 2]))
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// RFC 3261 §19.1.4: "Characters other than those in the 'reserved' set are equivalent to
    /// their '%' HEX HEX encoding." Decodes escapes of non-reserved characters, keeps escapes of
    /// reserved ones (upper-cased hex), and optionally lower-cases, giving a comparison key.
    static func comparisonKey(_ text: String, caseInsensitive: Bool) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            var byte = bytes[i]
            if byte == ASCII.percent, i + 2 < bytes.count, ASCII.isHex(bytes[i + 1]), ASCII.isHex(bytes[i + 2]) {
                let decoded = ASCII.hexValue(bytes[i + 1]) << 4 | ASCII.hexValue(bytes[i + 2])
                if SIPGrammar.reserved.contains(decoded) {
                    out.append(ASCII.percent)
                    out.append(upperHex(decoded >> 4))
                    out.append(upperHex(decoded & 0xF))
                    i += 3
                    continue
                }
                byte = decoded
                i += 3
            } else {
                i += 1
            }
            out.append(caseInsensitive ? ASCII.lower(byte) : byte)
        }
        return out
    }

    private static func upperHex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? ASCII.zero + nibble : 0x41 + nibble - 10 }
}

enum QuotedString {
    /// The content of a quoted-string (range includes the quotes) with quoted-pairs resolved.
    static func unquote(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex + 1
        let end = bytes.endIndex - 1
        while i < end {
            if bytes[i] == ASCII.backslash, i + 1 < end {
                out.append(bytes[i + 1])
                i += 2
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` as a quoted-string: DQUOTE, with `"` and `\` escaped, DQUOTE.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        out.append("\"")
        return out
    }
}
