/// The identity of a header field: case-insensitive, with compact forms mapped to their long
/// names (RFC 3261 §7.3.3, §20), so `v`, `VIA` and `Via` are the same name.
public struct SIPHeaderName: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// Index into `HeaderRegistry.specs`, or -1 for an unknown header.
    let id: Int
    /// For unknown headers only: the spelling first seen and its lower-cased form (the
    /// identity). Known headers carry nothing to retain, which keeps parsing cheap.
    private let custom: Custom?

    private final class Custom: Sendable {
        let spelling: String
        let key: String
        init(_ spelling: String) {
            self.spelling = spelling
            self.key = spelling.lowercased()
        }
    }

    public init(_ name: String) {
        if let id = Array(name.utf8).withUnsafeBufferPointer({ HeaderRegistry.lookup($0) }) {
            self.init(known: id)
        } else {
            self.init(id: -1, custom: Custom(name))
        }
    }

    private init(id: Int, custom: Custom?) {
        self.id = id
        self.custom = custom
    }

    public init(stringLiteral value: String) { self.init(value) }

    init(known id: Int) { self.init(id: id, custom: nil) }

    /// A parsed name: the bytes `range` of `buffer`, looked up without making a slice.
    init(_ buffer: [UInt8], _ range: Range<Int>) {
        if let id = buffer.withUnsafeBufferPointer({ HeaderRegistry.lookup(UnsafeBufferPointer(rebasing: $0[range])) }) {
            self.init(known: id)
        } else {
            self.init(id: -1, custom: Custom(String(decoding: buffer[range], as: UTF8.self)))
        }
    }



    /// The registered spelling for known headers ("Call-ID", "CSeq"), the spelling first seen
    /// for unknown ones.
    public var canonical: String { custom?.spelling ?? HeaderRegistry.specs[id].canonical }

    public var description: String { canonical }

    /// Whether this header is one the module knows (has a registry entry).
    public var isKnown: Bool { id >= 0 }

    /// The one-letter compact form (RFC 3261 §7.3.3 and the IANA registry), if any.
    public var compactForm: String? {
        guard id >= 0, let compact = HeaderRegistry.specs[id].compact else { return nil }
        return String(UnicodeScalar(compact))
    }

    /// The grammar of this header is a comma-separated list (RFC 3261 §7.3.1), so several
    /// values may share one line and the values of several lines may be combined.
    public var isList: Bool { id >= 0 && HeaderRegistry.specs[id].isList }

    /// The header may appear at most once (RFC 3261 §20: its grammar has no list form).
    public var isSingleValued: Bool { id >= 0 && HeaderRegistry.specs[id].isSingle }

    public static func == (lhs: SIPHeaderName, rhs: SIPHeaderName) -> Bool {
        lhs.id == rhs.id && (lhs.id >= 0 || lhs.custom?.key == rhs.custom?.key)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        if id < 0 { hasher.combine(custom?.key) }
    }
}

extension SIPHeaderName {
    public static let accept = SIPHeaderName(known: HeaderRegistry.index("Accept"))
    public static let acceptContact = SIPHeaderName(known: HeaderRegistry.index("Accept-Contact"))
    public static let acceptEncoding = SIPHeaderName(known: HeaderRegistry.index("Accept-Encoding"))
    public static let acceptLanguage = SIPHeaderName(known: HeaderRegistry.index("Accept-Language"))
    public static let alertInfo = SIPHeaderName(known: HeaderRegistry.index("Alert-Info"))
    public static let allow = SIPHeaderName(known: HeaderRegistry.index("Allow"))
    public static let allowEvents = SIPHeaderName(known: HeaderRegistry.index("Allow-Events"))
    public static let authenticationInfo = SIPHeaderName(known: HeaderRegistry.index("Authentication-Info"))
    public static let authorization = SIPHeaderName(known: HeaderRegistry.index("Authorization"))
    public static let callID = SIPHeaderName(known: HeaderRegistry.index("Call-ID"))
    public static let callInfo = SIPHeaderName(known: HeaderRegistry.index("Call-Info"))
    public static let contact = SIPHeaderName(known: HeaderRegistry.index("Contact"))
    public static let contentDisposition = SIPHeaderName(known: HeaderRegistry.index("Content-Disposition"))
    public static let contentEncoding = SIPHeaderName(known: HeaderRegistry.index("Content-Encoding"))
    public static let contentLanguage = SIPHeaderName(known: HeaderRegistry.index("Content-Language"))
    public static let contentLength = SIPHeaderName(known: HeaderRegistry.index("Content-Length"))
    public static let contentType = SIPHeaderName(known: HeaderRegistry.index("Content-Type"))
    public static let cseq = SIPHeaderName(known: HeaderRegistry.index("CSeq"))
    public static let date = SIPHeaderName(known: HeaderRegistry.index("Date"))
    public static let errorInfo = SIPHeaderName(known: HeaderRegistry.index("Error-Info"))
    public static let event = SIPHeaderName(known: HeaderRegistry.index("Event"))
    public static let expires = SIPHeaderName(known: HeaderRegistry.index("Expires"))
    public static let from = SIPHeaderName(known: HeaderRegistry.index("From"))
    public static let identity = SIPHeaderName(known: HeaderRegistry.index("Identity"))
    public static let inReplyTo = SIPHeaderName(known: HeaderRegistry.index("In-Reply-To"))
    public static let maxForwards = SIPHeaderName(known: HeaderRegistry.index("Max-Forwards"))
    public static let minExpires = SIPHeaderName(known: HeaderRegistry.index("Min-Expires"))
    public static let minSE = SIPHeaderName(known: HeaderRegistry.index("Min-SE"))
    public static let mimeVersion = SIPHeaderName(known: HeaderRegistry.index("MIME-Version"))
    public static let organization = SIPHeaderName(known: HeaderRegistry.index("Organization"))
    public static let path = SIPHeaderName(known: HeaderRegistry.index("Path"))
    public static let priority = SIPHeaderName(known: HeaderRegistry.index("Priority"))
    public static let proxyAuthenticate = SIPHeaderName(known: HeaderRegistry.index("Proxy-Authenticate"))
    public static let proxyAuthorization = SIPHeaderName(known: HeaderRegistry.index("Proxy-Authorization"))
    public static let proxyRequire = SIPHeaderName(known: HeaderRegistry.index("Proxy-Require"))
    public static let rack = SIPHeaderName(known: HeaderRegistry.index("RAck"))
    public static let reason = SIPHeaderName(known: HeaderRegistry.index("Reason"))
    public static let recordRoute = SIPHeaderName(known: HeaderRegistry.index("Record-Route"))
    public static let referTo = SIPHeaderName(known: HeaderRegistry.index("Refer-To"))
    public static let referredBy = SIPHeaderName(known: HeaderRegistry.index("Referred-By"))
    public static let replyTo = SIPHeaderName(known: HeaderRegistry.index("Reply-To"))
    public static let require = SIPHeaderName(known: HeaderRegistry.index("Require"))
    public static let retryAfter = SIPHeaderName(known: HeaderRegistry.index("Retry-After"))
    public static let route = SIPHeaderName(known: HeaderRegistry.index("Route"))
    public static let rseq = SIPHeaderName(known: HeaderRegistry.index("RSeq"))
    public static let server = SIPHeaderName(known: HeaderRegistry.index("Server"))
    public static let serviceRoute = SIPHeaderName(known: HeaderRegistry.index("Service-Route"))
    public static let sessionExpires = SIPHeaderName(known: HeaderRegistry.index("Session-Expires"))
    public static let subject = SIPHeaderName(known: HeaderRegistry.index("Subject"))
    public static let supported = SIPHeaderName(known: HeaderRegistry.index("Supported"))
    public static let timestamp = SIPHeaderName(known: HeaderRegistry.index("Timestamp"))
    public static let to = SIPHeaderName(known: HeaderRegistry.index("To"))
    public static let unsupported = SIPHeaderName(known: HeaderRegistry.index("Unsupported"))
    public static let userAgent = SIPHeaderName(known: HeaderRegistry.index("User-Agent"))
    public static let via = SIPHeaderName(known: HeaderRegistry.index("Via"))
    public static let warning = SIPHeaderName(known: HeaderRegistry.index("Warning"))
    public static let wwwAuthenticate = SIPHeaderName(known: HeaderRegistry.index("WWW-Authenticate"))
}

/// The headers this module knows by name: spelling, compact form, and whether the grammar is a
/// list (`isList`) or a single value that must not repeat (`isSingle`). Headers that are
/// neither (Authorization, WWW-Authenticate, ...) may repeat but are never split on commas,
/// because commas separate their parameters.
enum HeaderRegistry {
    struct Spec: Sendable {
        let canonical: String
        let lowerBytes: [UInt8]
        let compact: UInt8?
        let isList: Bool
        let isSingle: Bool
    }

    private static func spec(_ name: String, _ compact: Character? = nil, list: Bool = false, single: Bool = false) -> Spec {
        Spec(canonical: name, lowerBytes: Array(name.lowercased().utf8),
             compact: compact.map { $0.asciiValue! }, isList: list, isSingle: single)
    }

    // Compact forms: RFC 3261 §7.3.3 (i m e l c f s k t v), RFC 3265 (o u), RFC 3515 (r),
    // RFC 3892 (b), RFC 4028 (x), RFC 4474 (y), RFC 3841 (a j d).
    static let specs: [Spec] = [
        spec("Accept", list: true),
        spec("Accept-Contact", "a", list: true),
        spec("Accept-Encoding", list: true),
        spec("Accept-Language", list: true),
        spec("Alert-Info", list: true),
        spec("Allow", list: true),
        spec("Allow-Events", "u", list: true),
        spec("Authentication-Info"),
        spec("Authorization"),
        spec("Call-ID", "i", single: true),
        spec("Call-Info", list: true),
        spec("Contact", "m", list: true),
        spec("Content-Disposition", single: true),
        spec("Content-Encoding", "e", list: true),
        spec("Content-Language", list: true),
        spec("Content-Length", "l", single: true),
        spec("Content-Type", "c", single: true),
        spec("CSeq", single: true),
        spec("Date", single: true),
        spec("Error-Info", list: true),
        spec("Event", "o", single: true),
        spec("Expires", single: true),
        spec("From", "f", single: true),
        spec("Identity", "y", single: true),
        spec("In-Reply-To", list: true),
        spec("Max-Forwards", single: true),
        spec("Min-Expires", single: true),
        spec("Min-SE", single: true),
        spec("MIME-Version", single: true),
        spec("Organization", single: true),
        spec("Path", list: true),
        spec("Priority", single: true),
        spec("Proxy-Authenticate"),
        spec("Proxy-Authorization"),
        spec("Proxy-Require", list: true),
        spec("RAck", single: true),
        spec("Reason", list: true),
        spec("Record-Route", list: true),
        spec("Refer-To", "r", single: true),
        spec("Referred-By", "b", single: true),
        spec("Reject-Contact", "j", list: true),
        spec("Reply-To", single: true),
        spec("Request-Disposition", "d", list: true),
        spec("Require", list: true),
        spec("Retry-After", single: true),
        spec("Route", list: true),
        spec("RSeq", single: true),
        spec("Server", single: true),
        spec("Service-Route", list: true),
        spec("Session-Expires", "x", single: true),
        spec("Subject", "s", single: true),
        spec("Supported", "k", list: true),
        spec("Timestamp", single: true),
        spec("To", "t", single: true),
        spec("Unsupported", list: true),
        spec("User-Agent", single: true),
        spec("Via", "v", list: true),
        spec("Warning", list: true),
        spec("WWW-Authenticate"),
    ]

    static func index(_ canonical: String) -> Int {
        specs.firstIndex { $0.canonical == canonical }!
    }

    static let contentLengthID = index("Content-Length")

    /// Lookup tables built once from `specs`, flat so a lookup touches no nested arrays:
    /// `candidates[firstByLength[n]..<firstByLength[n + 1]]` are the ids of names of length n,
    /// and `names[nameStart[id]...]` their lower-cased bytes.
    private final class Tables: Sendable {
        let firstByLength: [Int]
        let candidates: [Int]
        let nameStart: [Int]
        let names: [UInt8]
        let byCompact: [Int]

        init(_ specs: [Spec]) {
            var nameStart: [Int] = []
            var names: [UInt8] = []
            for spec in specs {
                nameStart.append(names.count)
                names += spec.lowerBytes
            }
            var firstByLength = [Int](repeating: 0, count: 34)
            var candidates: [Int] = []
            for length in 0..<33 {
                firstByLength[length] = candidates.count
                candidates += specs.indices.filter { specs[$0].lowerBytes.count == length }
            }
            firstByLength[33] = candidates.count
            var byCompact = [Int](repeating: -1, count: 128)
            for (i, spec) in specs.enumerated() {
                if let compact = spec.compact { byCompact[Int(compact)] = i }
            }
            self.firstByLength = firstByLength
            self.candidates = candidates
            self.nameStart = nameStart
            self.names = names
            self.byCompact = byCompact
        }
    }

    private static let tables = Tables(specs)

    /// The registry index of a header name as written (any case, long or compact form).
    static func lookup(_ written: UnsafeBufferPointer<UInt8>) -> Int? {
        let count = written.count
        guard count > 0, count < 33 else { return nil }
        let tables = Self.tables
        if count == 1 {
            let letter = ASCII.lower(written[0])
            guard letter < 128 else { return nil }
            let id = tables.byCompact[Int(letter)]
            return id >= 0 ? id : nil
        }
        return tables.names.withUnsafeBufferPointer { names -> Int? in
            candidates: for slot in tables.firstByLength[count]..<tables.firstByLength[count + 1] {
                let id = tables.candidates[slot]
                let start = tables.nameStart[id]
                for j in 0..<count where ASCII.lower(written[j]) != names[start + j] { continue candidates }
                return id
            }
            return nil
        }
    }

}
