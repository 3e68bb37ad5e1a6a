extension SessionDescription {
    /// How strictly to read a description.
    public struct ParseOptions: Hashable, Sendable {
        /// Whether fields must appear in the order RFC 8866 §5 fixes within the session
        /// section and within each media section.
        public var requiresFieldOrder: Bool

        /// RFC 8866 §5 order required; the default.
        public static let strict = ParseOptions(requiresFieldOrder: true)
        /// Fields accepted in any order inside their section (session fields before the
        /// first `m=`, media fields after their `m=`), for peers that write `c=` after `t=`
        /// or `a=` before `c=` — RFC 3264 §9's own capability example does. Everything
        /// else (duplicates, missing `v=`/`o=`/`s=`/`t=`, malformed values) is still an error.
        public static let lenientOrder = ParseOptions(requiresFieldOrder: false)
    }

    /// Parses a description; lines may end in CRLF or a bare LF (RFC 8866 §5 asks parsers
    /// to accept both). Trailing empty lines are ignored.
    public init(parsing text: String, options: ParseOptions = .strict) throws(SDPError) {
        try self.init(parsing: Array(text.utf8), options: options)
    }

    /// Parses a description from the bytes of a message body. Text fields are decoded as
    /// UTF-8 (RFC 8866 §5's default charset); invalid sequences become U+FFFD.
    public init(parsing bytes: [UInt8], options: ParseOptions = .strict) throws(SDPError) {
        var parser = try Parser(bytes: bytes, options: options)
        self = try parser.parse()
    }
}

/// A one-pass reader over the lines of a description, tracking RFC 8866 §5 order.
struct Parser {
    struct Line {
        let number: Int
        let type: UInt8
        let value: String
        let raw: String
    }

    private let lines: [Line]
    private let endLine: Int
    private let options: SessionDescription.ParseOptions

    init(bytes: [UInt8], options: SessionDescription.ParseOptions) throws(SDPError) {
        self.options = options
        var segments: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        while start <= bytes.endIndex {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.endIndex
            var segment = bytes[start..<end]
            if segment.last == 0x0D { segment = segment.dropLast() }
            segments.append(segment)
            start = end + 1
        }
        while segments.last?.isEmpty == true { segments.removeLast() }
        endLine = segments.count + 1

        var lines: [Line] = []
        lines.reserveCapacity(segments.count)
        for (offset, segment) in segments.enumerated() {
            let raw = String(decoding: segment, as: UTF8.self)
            let number = offset + 1
            // RFC 8866 §5: `<type>=<value>`, type a single letter, no whitespace around "=";
            // byte-string excludes NUL, CR and LF.
            guard segment.count >= 2,
                let type = segment.first, type >= UInt8(ascii: "a"), type <= UInt8(ascii: "z"),
                segment[segment.startIndex + 1] == UInt8(ascii: "="),
                !segment.contains(0x00), !segment.contains(0x0D)
            else { throw SDPError(.malformedLine, line: number, content: raw) }
            let value = String(decoding: segment.dropFirst(2), as: UTF8.self)
            lines.append(Line(number: number, type: type, value: value, raw: raw))
        }
        self.lines = lines
    }

    // MARK: order

    /// Session-level rank of each type letter in RFC 8866 §5's order.
    private static func sessionRank(_ type: UInt8) -> Int? {
        switch type {
        case UInt8(ascii: "v"): 0
        case UInt8(ascii: "o"): 1
        case UInt8(ascii: "s"): 2
        case UInt8(ascii: "i"): 3
        case UInt8(ascii: "u"): 4
        case UInt8(ascii: "e"): 5
        case UInt8(ascii: "p"): 6
        case UInt8(ascii: "c"): 7
        case UInt8(ascii: "b"): 8
        case UInt8(ascii: "t"): 9
        case UInt8(ascii: "r"): 10
        case UInt8(ascii: "z"): 11
        case UInt8(ascii: "k"): 12
        case UInt8(ascii: "a"): 13
        case UInt8(ascii: "m"): 14
        default: nil
        }
    }

    /// Media-level rank: `m= i=* c=* b=* k=* a=*` (RFC 8866 §5).
    private static func mediaRank(_ type: UInt8) -> Int? {
        switch type {
        case UInt8(ascii: "i"): 1
        case UInt8(ascii: "c"): 2
        case UInt8(ascii: "b"): 3
        case UInt8(ascii: "k"): 4
        case UInt8(ascii: "a"): 5
        default: nil
        }
    }

    private static let singleInSession: Set<UInt8> = Set("vosiuck".utf8)
    private static let singleInMedia: Set<UInt8> = Set("ik".utf8)

    private func error(_ code: SDPError.Code, _ line: Line?) -> SDPError {
        SDPError(code, line: line?.number ?? endLine, content: line?.raw ?? "")
    }

    // MARK: parse

    mutating func parse() throws(SDPError) -> SessionDescription {
        guard let first = lines.first, first.type == UInt8(ascii: "v") else {
            throw error(.missingVersion, lines.first)
        }
        guard first.value == "0" else { throw error(.invalidVersion, first) }
        let originLine = lines.count > 1 ? lines[1] : nil
        guard let originLine, originLine.type == UInt8(ascii: "o") else { throw error(.missingOrigin, originLine) }
        let nameLine = lines.count > 2 ? lines[2] : nil
        guard let nameLine, nameLine.type == UInt8(ascii: "s") else { throw error(.missingSessionName, nameLine) }

        var session = SessionDescription(
            origin: try origin(originLine), sessionName: nameLine.value, times: [])
        var lastRank = 2
        var seen: Set<UInt8> = Set("vos".utf8)
        var index = 3

        // Session section.
        while index < lines.count, lines[index].type != UInt8(ascii: "m") {
            let line = lines[index]
            index += 1
            guard let rank = Self.sessionRank(line.type) else { throw error(.unknownType, line) }
            if Self.singleInSession.contains(line.type), seen.contains(line.type) {
                throw error(.duplicateField, line)
            }
            if options.requiresFieldOrder {
                try checkSessionOrder(line, rank: rank, lastRank: lastRank, hasTime: !session.times.isEmpty)
            }
            seen.insert(line.type)
            lastRank = rank
            try apply(line, to: &session)
        }
        if session.times.isEmpty { throw error(.missingTime, index < lines.count ? lines[index] : nil) }

        // Media sections.
        var mediaLines: [Line] = []
        while index < lines.count {
            let mLine = lines[index]
            index += 1
            var media = try self.media(mLine)
            mediaLines.append(mLine)
            var lastRank = 0
            var seen: Set<UInt8> = []
            while index < lines.count, lines[index].type != UInt8(ascii: "m") {
                let line = lines[index]
                index += 1
                guard let rank = Self.mediaRank(line.type) else {
                    throw error(Self.sessionRank(line.type) == nil ? .unknownType : .outOfOrder, line)
                }
                if Self.singleInMedia.contains(line.type), seen.contains(line.type) {
                    throw error(.duplicateField, line)
                }
                if options.requiresFieldOrder, rank < lastRank { throw error(.outOfOrder, line) }
                seen.insert(line.type)
                lastRank = rank
                try apply(line, to: &media)
            }
            session.media.append(media)
        }

        // RFC 8866 §5.7: a connection field at session level or in every media description.
        // A stream with port 0 sends nothing, so it is not held to this.
        if session.connection == nil {
            for (media, line) in zip(session.media, mediaLines) where media.port != 0 && media.connections.isEmpty {
                throw error(.missingConnection, line)
            }
        }
        return session
    }

    /// RFC 8866 §5 session order, with the time-description group `t= r=* [z=]` repeatable.
    private func checkSessionOrder(_ line: Line, rank: Int, lastRank: Int, hasTime: Bool) throws(SDPError) {
        switch line.type {
        case UInt8(ascii: "t"):
            if lastRank > 11 { throw error(.outOfOrder, line) }
        case UInt8(ascii: "r"), UInt8(ascii: "z"):
            // r= follows t= or r=; z= follows t= or r= once per time description.
            if lastRank != 9 && lastRank != 10 { throw error(.outOfOrder, line) }
        default:
            if rank < lastRank { throw error(.outOfOrder, line) }
            if rank > 11, !hasTime { throw error(.missingTime, line) }
        }
    }

    private func apply(_ line: Line, to session: inout SessionDescription) throws(SDPError) {
        switch line.type {
        case UInt8(ascii: "i"): session.information = line.value
        case UInt8(ascii: "u"): session.uri = line.value
        case UInt8(ascii: "e"): session.emailAddresses.append(line.value)
        case UInt8(ascii: "p"): session.phoneNumbers.append(line.value)
        case UInt8(ascii: "c"): session.connection = try connection(line)
        case UInt8(ascii: "b"): session.bandwidths.append(try bandwidth(line))
        case UInt8(ascii: "t"): session.times.append(try time(line))
        case UInt8(ascii: "r"):
            guard !session.times.isEmpty else { throw error(.outOfOrder, line) }
            guard Self.isRepeat(line.value) else { throw error(.invalidTime, line) }
            session.times[session.times.count - 1].repeats.append(line.value)
        case UInt8(ascii: "z"):
            guard let last = session.times.last, last.zoneAdjustments == nil else { throw error(.outOfOrder, line) }
            guard Self.isZoneAdjustment(line.value) else { throw error(.invalidTime, line) }
            session.times[session.times.count - 1].zoneAdjustments = line.value
        case UInt8(ascii: "k"): break  // RFC 8866 §5.12: obsolete, MUST be discarded.
        case UInt8(ascii: "a"): session.attributes.append(try attribute(line))
        default: throw error(.duplicateField, line)  // v=, o=, s= again
        }
    }

    private func apply(_ line: Line, to media: inout MediaDescription) throws(SDPError) {
        switch line.type {
        case UInt8(ascii: "i"): media.information = line.value
        case UInt8(ascii: "c"): media.connections.append(try connection(line))
        case UInt8(ascii: "b"): media.bandwidths.append(try bandwidth(line))
        case UInt8(ascii: "k"): break  // RFC 8866 §5.12: obsolete, MUST be discarded.
        default: media.attributes.append(try attribute(line))
        }
    }

    // MARK: fields

    /// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` — §5.2
    private func origin(_ line: Line) throws(SDPError) -> SessionOrigin {
        let f = line.value.split(separator: " ", omittingEmptySubsequences: true)
        guard f.count == 6, let id = Parsing.decimal(f[1]), let version = Parsing.decimal(f[2]) else {
            throw error(.invalidOrigin, line)
        }
        return SessionOrigin(
            username: String(f[0]), sessionID: id, sessionVersion: version,
            networkType: String(f[3]), addressType: String(f[4]), address: String(f[5]))
    }

    private func connection(_ line: Line) throws(SDPError) -> ConnectionInformation {
        guard let c = Parsing.connection(line.value) else { throw error(.invalidConnection, line) }
        return c
    }

    /// `b=<bwtype>:<bandwidth>` — §5.8; `bandwidth = 1*DIGIT`
    private func bandwidth(_ line: Line) throws(SDPError) -> Bandwidth {
        let parts = line.value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, Parsing.isToken(parts[0]), let value = Parsing.decimal(parts[1]) else {
            throw error(.invalidBandwidth, line)
        }
        return Bandwidth(type: String(parts[0]), value: value)
    }

    /// `t=<start-time> <stop-time>` — §5.9
    private func time(_ line: Line) throws(SDPError) -> TimeDescription {
        let f = line.value.split(separator: " ", omittingEmptySubsequences: true)
        guard f.count == 2, let start = Parsing.decimal(f[0]), let stop = Parsing.decimal(f[1]) else {
            throw error(.invalidTime, line)
        }
        return TimeDescription(start: start, stop: stop)
    }

    /// `r=<repeat interval> <active duration> <offsets from start-time>` — §5.10
    private static func isRepeat(_ value: String) -> Bool {
        let f = value.split(separator: " ", omittingEmptySubsequences: true)
        return f.count >= 3 && f.allSatisfy(isTypedTime) && f[0].first != "0"
    }

    /// `z=<adjustment time> <offset> <adjustment time> <offset> ....` — §5.11
    private static func isZoneAdjustment(_ value: String) -> Bool {
        let f = value.split(separator: " ", omittingEmptySubsequences: true)
        guard !f.isEmpty, f.count % 2 == 0 else { return false }
        return stride(from: 0, to: f.count, by: 2).allSatisfy { i in
            Parsing.decimal(f[i]) != nil && isTypedTime(f[i + 1].first == "-" ? f[i + 1].dropFirst() : f[i + 1])
        }
    }

    /// `typed-time = 1*DIGIT [fixed-len-time-unit]`, units `d h m s` (case-sensitive).
    private static func isTypedTime(_ text: Substring) -> Bool {
        let digits = "dhms".contains(text.last ?? " ") ? text.dropLast() : text
        return Parsing.decimal(digits) != nil
    }

    /// `a=<attribute-name>[:<attribute-value>]` — §5.13; the value is kept byte for byte.
    private func attribute(_ line: Line) throws(SDPError) -> Attribute {
        let value = line.value
        let attribute: Attribute
        if let colon = value.firstIndex(of: ":") {
            attribute = Attribute(name: String(value[..<colon]), value: String(value[value.index(after: colon)...]))
        } else {
            attribute = Attribute(name: value)
        }
        guard Parsing.isToken(attribute.name[...]), attribute.hasValidValue else {
            throw error(.invalidAttribute, line)
        }
        return attribute
    }

    /// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` — §5.14
    private func media(_ line: Line) throws(SDPError) -> MediaDescription {
        let f = line.value.split(separator: " ", omittingEmptySubsequences: true)
        guard f.count >= 4, Parsing.isToken(f[0]), !f[2].isEmpty else { throw error(.invalidMedia, line) }
        let portParts = f[1].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let port = Parsing.port(portParts[0]) else { throw error(.invalidPort, line) }
        var count: Int?
        if portParts.count == 2 {
            guard let n = Parsing.decimal(portParts[1]), n >= 1, n <= 65535 else { throw error(.invalidPort, line) }
            count = Int(n)
        }
        let media = MediaDescription(
            media: String(f[0]), port: port, portCount: count, proto: String(f[2]),
            formats: f[3...].map(String.init))
        if media.isRTP {
            for format in media.formats {
                guard let pt = Parsing.decimal(format[...]), pt < 128 else { throw error(.invalidPayloadType, line) }
            }
        }
        return media
    }
}

/// Small grammar helpers shared by the parser and the typed attributes.
enum Parsing {
    /// `1*DIGIT` that fits in 64 bits (no sign, no spaces).
    static func decimal(_ text: Substring) -> UInt64? {
        guard !text.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in text.utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    static func port(_ text: Substring) -> UInt16? {
        guard let value = decimal(text), value <= 65535 else { return nil }
        return UInt16(value)
    }

    /// RFC 8866 §9 `token`.
    static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                default: "!#$%&'*+-.^_`{|}~".utf8.contains(byte)
                }
            }
    }

    /// `<nettype> <addrtype> <connection-address>` — RFC 8866 §5.7, used by `c=` and `a=rtcp`.
    /// For `IN IP4` / `IN IP6` the address must be a literal of that family or a domain
    /// name; `/ttl` is accepted only on IPv4 multicast and `/numaddr` only on multicast.
    static func connection(_ text: String) -> ConnectionInformation? {
        let f = text.split(separator: " ", omittingEmptySubsequences: true)
        guard f.count == 3, isToken(f[0]), isToken(f[1]) else { return nil }
        let networkType = String(f[0])
        let addressType = String(f[1])
        guard networkType.uppercased() == "IN" else {
            return ConnectionInformation(networkType: networkType, addressType: addressType, address: String(f[2]))
        }
        let parts = f[2].split(separator: "/", omittingEmptySubsequences: false)
        let base = parts[0]
        switch addressType.uppercased() {
        case "IP4":
            // IP4-multicast = m1 3( "." decimal-uchar ) "/" ttl [ "/" numaddr ]
            guard parts.count <= 3 else { return nil }
            let v4 = HostAddress.IPv4(base)
            guard v4 != nil || HostAddress.isDomainName(base) else { return nil }
            var ttl: Int?
            var count: Int?
            if parts.count >= 2 {
                guard let v4, HostAddress.ipv4(v4).isMulticast, let t = decimal(parts[1]), t <= 255 else { return nil }
                ttl = Int(t)
            }
            if parts.count == 3 {
                guard let n = decimal(parts[2]), n >= 1, n <= 65535 else { return nil }
                count = Int(n)
            }
            return ConnectionInformation(
                networkType: networkType, addressType: addressType, address: String(base), ttl: ttl, addressCount: count)
        case "IP6":
            // IP6-multicast = IP6-address [ "/" numaddr ]
            guard parts.count <= 2 else { return nil }
            let v6 = HostAddress.IPv6(base)
            guard v6 != nil || HostAddress.isDomainName(base) else { return nil }
            var count: Int?
            if parts.count == 2 {
                guard let v6, HostAddress.ipv6(v6).isMulticast, let n = decimal(parts[1]), n >= 1, n <= 65535 else {
                    return nil
                }
                count = Int(n)
            }
            return ConnectionInformation(
                networkType: networkType, addressType: addressType, address: String(base), addressCount: count)
        default:
            return ConnectionInformation(networkType: networkType, addressType: addressType, address: String(f[2]))
        }
    }
}
