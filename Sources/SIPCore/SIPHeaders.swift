/// One header line as received: its name as written and its value bytes exactly as they were on
/// the wire (folds included, leading and trailing white space excluded).
///
/// message-header = field-name HCOLON field-value CRLF          (RFC 3261 §7.3, §25.1)
///
/// For a parsed message `rawValue` is a slice of the datagram, so unknown headers survive
/// byte-exact and offsets in typed-parse errors point into the datagram. Two fields are equal
/// when their names are the same header and their values are equal after unfolding (RFC 3261
/// §7.3.1: a fold has the semantics of SP), so the spelling of the name does not matter.
public struct SIPHeaderField: Sendable, Equatable, CustomStringConvertible {
    public let name: SIPHeaderName
    /// The bytes from the first byte of the name to the last byte of the value: one slice of
    /// the datagram, so a parsed field retains the buffer once.
    private let line: ArraySlice<UInt8>
    private let nameEnd: Int
    private let valueStart: Int

    /// The name as it appeared on the wire ("v", "MaX-fOrWaRdS"); the canonical name for
    /// fields built in code.
    public var nameAsWritten: ArraySlice<UInt8> { line[line.startIndex..<nameEnd] }
    public var rawValue: ArraySlice<UInt8> { line[valueStart..<line.endIndex] }

    /// A field built in code. CR and LF in `value` become SP: a value can never inject a header.
    public init(_ name: SIPHeaderName, _ value: String) {
        var bytes = Array(name.canonical.utf8)
        let nameEnd = bytes.count
        bytes.append(ASCII.colon)
        let valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        for i in valueStart..<bytes.count where bytes[i] == ASCII.cr || bytes[i] == ASCII.lf { bytes[i] = ASCII.space }
        let trimmed = bytes[valueStart...].trimmingLWS()
        self.init(name: name, line: bytes[0..<trimmed.endIndex], nameEnd: nameEnd, valueStart: trimmed.startIndex)
    }

    /// A parsed field: `line` runs from the name's first byte to the value's last.
    init(name: SIPHeaderName, line: ArraySlice<UInt8>, nameEnd: Int, valueStart: Int) {
        self.name = name
        self.line = line
        self.nameEnd = nameEnd
        self.valueStart = valueStart
    }

    /// The value with every fold (CRLF and the white space after it) replaced by one SP.
    public var unfoldedValue: [UInt8] { Folding.unfold(rawValue) }

    /// The unfolded value as text (invalid UTF-8 is replaced, so use `rawValue` for bytes).
    public var value: String { String(decoding: Folding.unfold(rawValue), as: UTF8.self) }

    /// The elements of a list header split on top-level commas; the whole value otherwise.
    public var elements: [ArraySlice<UInt8>] {
        name.isList ? ListSplitter.split(rawValue) : [rawValue]
    }

    public var description: String { "\(name): \(value)" }

    public static func == (lhs: SIPHeaderField, rhs: SIPHeaderField) -> Bool {
        lhs.name == rhs.name && Folding.unfoldedEqual(lhs.rawValue, rhs.rawValue)
    }
}

/// The header section of a message: every field in order, as received, with lookups by
/// canonical name and helpers to build or rewrite messages.
public struct SIPHeaders: Sendable, Equatable, RandomAccessCollection, ExpressibleByArrayLiteral {
    public private(set) var fields: [SIPHeaderField]

    public init(_ fields: [SIPHeaderField] = []) { self.fields = fields }
    public init(arrayLiteral elements: (SIPHeaderName, String)...) {
        self.fields = elements.map { SIPHeaderField($0.0, $0.1) }
    }

    public var startIndex: Int { fields.startIndex }
    public var endIndex: Int { fields.endIndex }
    public subscript(position: Int) -> SIPHeaderField { fields[position] }

    // MARK: lookup

    /// All fields with this name, in order.
    public func fields(_ name: SIPHeaderName) -> [SIPHeaderField] { fields.filter { $0.name == name } }

    public func first(_ name: SIPHeaderName) -> SIPHeaderField? { fields.first { $0.name == name } }

    public func contains(_ name: SIPHeaderName) -> Bool { fields.contains { $0.name == name } }

    /// How many lines carry this header (not how many list elements).
    public func count(_ name: SIPHeaderName) -> Int { fields.reduce(0) { $0 + ($1.name == name ? 1 : 0) } }

    /// The values of a header in order, as raw bytes: list headers (Via, Contact, Route, ...)
    /// split on commas outside quotes and `<>`, one element per value; other headers one value
    /// per line.
    public func rawValues(_ name: SIPHeaderName) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        for field in fields where field.name == name { out += field.elements }
        return out
    }

    /// `rawValues(_:)` unfolded and decoded as text.
    public func values(_ name: SIPHeaderName) -> [String] {
        rawValues(name).map { String(decoding: Folding.unfold($0), as: UTF8.self) }
    }

    /// The distinct names in order of first appearance.
    public var names: [SIPHeaderName] {
        var seen = Set<SIPHeaderName>()
        return fields.compactMap { seen.insert($0.name).inserted ? $0.name : nil }
    }

    // MARK: building and rewriting

    /// Appends a line at the end.
    public mutating func add(_ name: SIPHeaderName, _ value: String) {
        fields.append(SIPHeaderField(name, value))
    }

    public mutating func add(_ field: SIPHeaderField) { fields.append(field) }

    /// Inserts a line above the first line of the same name, or at the top when there is none —
    /// where a proxy puts its Via (RFC 3261 §16.6 step 8) or a UA its topmost Route.
    public mutating func prepend(_ name: SIPHeaderName, _ value: String) {
        let position = fields.firstIndex { $0.name == name } ?? 0
        fields.insert(SIPHeaderField(name, value), at: position)
    }

    /// Replaces every line of this name by one line with `value`, kept at the position of the
    /// first such line (appended when there was none).
    public mutating func set(_ name: SIPHeaderName, _ value: String) {
        let field = SIPHeaderField(name, value)
        if let first = fields.firstIndex(where: { $0.name == name }) {
            fields[first] = field
            var i = first + 1
            while i < fields.count {
                if fields[i].name == name { fields.remove(at: i) } else { i += 1 }
            }
        } else {
            fields.append(field)
        }
    }

    /// Removes every line of this name.
    public mutating func remove(_ name: SIPHeaderName) {
        fields.removeAll { $0.name == name }
    }

    /// Removes the first value of a header: the first element of a list line (the rest of the
    /// line stays), or the whole first line. This is how a UAC or proxy pops its own Via from a
    /// response (RFC 3261 §16.7 step 3) even when the sender combined Vias on one line.
    public mutating func removeFirstValue(_ name: SIPHeaderName) {
        guard let index = fields.firstIndex(where: { $0.name == name }) else { return }
        let elements = fields[index].elements
        if elements.count <= 1 {
            fields.remove(at: index)
        } else {
            let rest = elements.dropFirst().map { String(decoding: Folding.unfold($0), as: UTF8.self) }
            fields[index] = SIPHeaderField(name, rest.joined(separator: ", "))
        }
    }

    mutating func append(parsed field: SIPHeaderField) { fields.append(field) }
    mutating func reserveCapacity(_ n: Int) { fields.reserveCapacity(n) }
}

enum Folding {
    /// RFC 3261 §7.3.1: a fold (CRLF followed by SP/HTAB) has the semantics of SP. Replaces each
    /// line break and the white space after it with one SP.
    static func unfold(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let byte = raw[i]
            if byte == ASCII.cr || byte == ASCII.lf {
                while i < raw.endIndex && ASCII.isLWS(raw[i]) { i += 1 }
                out.append(ASCII.space)
            } else {
                out.append(byte)
                i += 1
            }
        }
        return out
    }

    /// Whether `unfold(a) == unfold(b)`, without allocating.
    static func unfoldedEqual(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        var i = a.startIndex
        var j = b.startIndex
        func next(_ s: ArraySlice<UInt8>, _ k: inout Int) -> UInt8? {
            guard k < s.endIndex else { return nil }
            let byte = s[k]
            if byte == ASCII.cr || byte == ASCII.lf {
                while k < s.endIndex && ASCII.isLWS(s[k]) { k += 1 }
                return ASCII.space
            }
            k += 1
            return byte
        }
        while true {
            let x = next(a, &i)
            let y = next(b, &j)
            if x != y { return false }
            if x == nil { return true }
        }
    }

    /// The length of `unfold(raw)`.
    static func unfoldedCount(_ raw: ArraySlice<UInt8>) -> Int {
        var count = 0
        var i = raw.startIndex
        while i < raw.endIndex {
            let byte = raw[i]
            if byte == ASCII.cr || byte == ASCII.lf {
                while i < raw.endIndex && ASCII.isLWS(raw[i]) { i += 1 }
            } else {
                i += 1
            }
            count += 1
        }
        return count
    }
}

enum ListSplitter {
    /// Splits a list header value on commas outside quoted strings and `<...>` (RFC 3261 §7.3.1).
    /// Elements are trimmed of LWS; empty elements are kept so a typed parse can reject them
    /// (`Via: a,,b` is malformed, not two values). An unterminated quote or bracket runs to the
    /// end of the value, where the typed parse reports it.
    static func split(_ raw: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = raw.startIndex
        var i = raw.startIndex
        var inQuotes = false
        var inBrackets = false
        while i < raw.endIndex {
            let byte = raw[i]
            if inQuotes {
                if byte == ASCII.backslash { i += 1 } else if byte == ASCII.quote { inQuotes = false }
            } else if byte == ASCII.quote {
                inQuotes = true
            } else if byte == ASCII.lessThan {
                inBrackets = true
            } else if byte == ASCII.greaterThan {
                inBrackets = false
            } else if byte == ASCII.comma && !inBrackets {
                out.append(raw[start..<i].trimmingLWS())
                start = i + 1
            }
            i += 1
        }
        out.append(raw[start..<raw.endIndex].trimmingLWS())
        return out
    }
}
