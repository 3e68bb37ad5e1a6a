/// One thing wrong with a message, with the response it calls for on its own.
public struct SIPProblem: Sendable, Hashable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        /// Which check found it; lower ranks decide the response first.
        let rank: Int
        let status: Int

        public static let unparseable = Kind(description: "unparseable", rank: 1, status: 400)
        public static let versionNotSupported = Kind(description: "version not supported", rank: 0, status: 505)
        public static let contentLengthExceedsBody = Kind(description: "Content-Length exceeds body", rank: 1, status: 400)
        public static let missingHeader = Kind(description: "missing header", rank: 1, status: 400)
        public static let duplicateHeader = Kind(description: "single-valued header repeated", rank: 1, status: 400)
        public static let malformedHeader = Kind(description: "malformed header", rank: 1, status: 400)
        public static let headersInRequestURI = Kind(description: "headers in Request-URI", rank: 1, status: 400)
        public static let methodNotImplemented = Kind(description: "method not implemented", rank: 2, status: 501)
        public static let cseqMethodMismatch = Kind(description: "CSeq method differs from request method", rank: 3, status: 400)
        public static let unsupportedURIScheme = Kind(description: "unsupported URI scheme", rank: 4, status: 416)
        public static let tooManyHops = Kind(description: "Max-Forwards is zero", rank: 5, status: 483)
        public static let badExtension = Kind(description: "required extension not supported", rank: 6, status: 420)
        public static let unsupportedMediaType = Kind(description: "unsupported media type", rank: 7, status: 415)
        public static let multipleViasInResponse = Kind(description: "response with more than one Via", rank: 1, status: 0)
    }

    public let kind: Kind
    public let header: SIPHeaderName?
    public let error: SIPParseError?
    public let detail: String

    init(_ kind: Kind, _ detail: String, header: SIPHeaderName? = nil, error: SIPParseError? = nil) {
        self.kind = kind
        self.detail = detail
        self.header = header
        self.error = error
    }

    /// The status a UAS answers for this problem alone (0 where the only action is to discard).
    public var status: Int { kind.status }
    public var description: String { detail }
}

/// What an element does with a received message after the well-formedness checks.
public struct SIPVerdict: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        /// Process the message.
        case accept
        /// Answer the request with this status instead of processing it.
        case respond(status: Int, reason: String)
        /// Drop the message silently (malformed responses, RFC 3261 §18.1.2, §8.1.3.3).
        case discard
    }

    public let action: Action
    /// Every problem found, decisive one first.
    public let problems: [SIPProblem]
    /// Observations that do not change the action (trailing octets dropped, RFC 2543 peer, ...).
    public let notes: [String]
    /// For a 420: the option tags to list in Unsupported (RFC 3261 §8.2.2.3).
    public let unsupported: [String]
    /// For a 501/405: the methods to list in Allow (RFC 3261 §8.2.1).
    public let allow: [SIPMethod]

    public var isOK: Bool { action == .accept }
    public var status: Int? { if case .respond(let status, _) = action { status } else { nil } }
    public var reason: String? {
        switch action {
        case .accept: nil
        case .respond(_, let reason): reason
        case .discard: "discard"
        }
    }
}

/// The checks an element applies to a received message before processing it: RFC 3261 §18.3
/// (framing), §8.1.1 and §20 (mandatory and single-valued headers, header grammar), §8.2.1-§8.2.3
/// (UAS: method, Request-URI scheme, Require, Content-Type), §16.3 (proxy), §8.1.3.3 (UAC).
///
/// The order follows the RFC: version (505), syntax (400), method (501), CSeq/method
/// consistency (400), URI scheme (416), hop count (483, proxy), Require/Proxy-Require (420),
/// Content-Type (415). The first failing check decides the response; all problems are listed.
public enum SIPValidator {
    public struct Policy: Sendable {
        /// Whose checks apply: a UAS's (§8.2) or a proxy's (§16.3).
        public struct Role: Hashable, Sendable {
            let name: String
            public static let userAgent = Role(name: "user agent")
            public static let proxy = Role(name: "proxy")
        }

        public var role: Role
        /// Request-URI schemes the element handles; others get 416.
        public var supportedURISchemes: Set<String>
        /// Option tags the element implements; others in Require (UA) / Proxy-Require (proxy) get 420.
        public var supportedOptionTags: Set<String>
        /// Methods a UAS implements; others get 501 with Allow. nil: no method check.
        public var implementedMethods: Set<SIPMethod>?
        /// Body types a UAS accepts (`type/subtype`, lower case); others get 415. nil: no check.
        public var acceptedContentTypes: Set<String>?
        /// Reject requests without Max-Forwards (RFC 3261 §8.1.1). Off by default: RFC 2543
        /// peers omit it and RFC 4475 §3.4.1 asks for backward compatibility.
        public var requiresMaxForwards: Bool

        /// Earshot's user agent: sip/sips/tel URIs, session timers (RFC 4028 `timer`).
        public init(role: Role = .userAgent, supportedURISchemes: Set<String> = ["sip", "sips", "tel"],
                    supportedOptionTags: Set<String> = ["timer"], implementedMethods: Set<SIPMethod>? = nil,
                    acceptedContentTypes: Set<String>? = nil, requiresMaxForwards: Bool = false) {
            self.role = role
            self.supportedURISchemes = supportedURISchemes
            self.supportedOptionTags = supportedOptionTags
            self.implementedMethods = implementedMethods
            self.acceptedContentTypes = acceptedContentTypes
            self.requiresMaxForwards = requiresMaxForwards
        }
    }

    /// Parses a datagram and checks it. A datagram that does not parse is answered 400 when it
    /// looks like a request and discarded when it looks like a response.
    public static func check(datagram: [UInt8], policy: Policy = Policy()) -> (message: SIPMessage?, verdict: SIPVerdict) {
        do throws(SIPParseError) {
            let message = try SIPMessage(parsing: datagram)
            return (message, check(message, policy: policy))
        } catch {
            let problem = SIPProblem(.unparseable, "unparseable: \(error)", header: error.header, error: error)
            let start = datagram.firstIndex { $0 != ASCII.cr && $0 != ASCII.lf } ?? datagram.endIndex
            let looksLikeResponse = datagram[start...].starts(with: Array("SIP/".utf8))
            let action: SIPVerdict.Action = looksLikeResponse ? .discard : .respond(status: 400, reason: "Bad Request")
            return (nil, SIPVerdict(action: action, problems: [problem], notes: [], unsupported: [], allow: []))
        }
    }

    public static func check(_ message: SIPMessage, policy: Policy = Policy()) -> SIPVerdict {
        var checker = Checker(policy: policy)
        switch message {
        case .request(let request): checker.check(request)
        case .response(let response): checker.check(response)
        }
        let problems = checker.problems.enumerated().sorted {
            ($0.element.kind.rank, $0.offset) < ($1.element.kind.rank, $1.offset)
        }.map(\.element)
        let action: SIPVerdict.Action
        if let decisive = problems.first {
            if message.isRequest {
                action = .respond(status: decisive.status, reason: SIPResponse.defaultReasonPhrase(for: decisive.status))
            } else {
                action = .discard
            }
        } else {
            action = .accept
        }
        let decisiveKind = problems.first?.kind
        return SIPVerdict(action: action, problems: problems, notes: checker.notes,
                          unsupported: decisiveKind == .badExtension ? checker.unsupported : [],
                          allow: decisiveKind == .methodNotImplemented ? checker.allow : [])
    }

    private struct Checker {
        let policy: Policy
        var problems: [SIPProblem] = []
        var notes: [String] = []
        var unsupported: [String] = []
        var allow: [SIPMethod] = []

        init(policy: Policy) { self.policy = policy }

        mutating func check(_ request: SIPRequest) {
            let headers = request.headers
            checkFraming(request.framing, isRequest: true)
            if request.version != .v2_0 {
                problems.append(SIPProblem(.versionNotSupported, "\(request.version) is not SIP/2.0 (RFC 3261 §8.2.2 / §21.5.20)"))
            }
            var mandatory: [SIPHeaderName] = [.to, .from, .cseq, .callID, .via]
            if policy.requiresMaxForwards { mandatory.append(.maxForwards) }
            checkPresence(headers, mandatory)
            if !policy.requiresMaxForwards && !headers.contains(.maxForwards) {
                notes.append("no Max-Forwards (an RFC 2543 peer); treated as 70")
            }
            checkDuplicates(headers)
            let parsed = checkSyntax(headers)

            if case .sip(let uri) = request.uri, !uri.headers.isEmpty {
                problems.append(SIPProblem(.headersInRequestURI,
                    "Request-URI carries headers, which it must not (RFC 3261 §19.1.1 table; RFC 4475 §3.1.2.11)"))
            }
            if policy.role == .userAgent, let implemented = policy.implementedMethods,
               !implemented.contains(request.method), request.method != .ack {
                allow = implemented.sorted { $0.rawValue < $1.rawValue }
                problems.append(SIPProblem(.methodNotImplemented, "method \(request.method) is not implemented (RFC 3261 §8.2.1)"))
            }
            if let cseq = parsed.cseq, cseq.method != request.method {
                problems.append(SIPProblem(.cseqMethodMismatch,
                    "CSeq method \(cseq.method) differs from request method \(request.method) (RFC 3261 §8.1.1.5)", header: .cseq))
            }
            if !policy.supportedURISchemes.contains(request.uri.scheme) {
                problems.append(SIPProblem(.unsupportedURIScheme,
                    "Request-URI scheme \(request.uri.scheme) is not supported (RFC 3261 §8.2.2.1, §16.3)"))
            }
            if policy.role == .proxy, parsed.maxForwards == 0 {
                problems.append(SIPProblem(.tooManyHops, "Max-Forwards is 0 (RFC 3261 §16.3 step 3)", header: .maxForwards))
            }
            // §8.2.2.3: a UAS checks Require; §16.3 step 5: a proxy checks Proxy-Require.
            // CANCEL carries neither (§9.1) and ACK gets no response.
            if request.method != .ack && request.method != .cancel {
                let required = policy.role == .proxy ? parsed.proxyRequire : parsed.require
                let unknown = required.filter { !policy.supportedOptionTags.contains($0) }
                if !unknown.isEmpty {
                    unsupported = unknown
                    let header: SIPHeaderName = policy.role == .proxy ? .proxyRequire : .require
                    problems.append(SIPProblem(.badExtension,
                        "\(header) lists unsupported \(unknown.joined(separator: ", ")) (RFC 3261 §8.2.2.3)", header: header))
                }
            }
            if policy.role == .userAgent, let accepted = policy.acceptedContentTypes, !request.body.isEmpty,
               let type = parsed.contentType, !accepted.contains(type.essence) {
                problems.append(SIPProblem(.unsupportedMediaType,
                    "Content-Type \(type.essence) is not accepted (RFC 3261 §8.2.3)", header: .contentType))
            }
        }

        mutating func check(_ response: SIPResponse) {
            let headers = response.headers
            checkFraming(response.framing, isRequest: false)
            if response.version != .v2_0 {
                problems.append(SIPProblem(.versionNotSupported, "\(response.version) is not SIP/2.0"))
            }
            checkPresence(headers, [.to, .from, .cseq, .callID, .via])
            checkDuplicates(headers)
            let parsed = checkSyntax(headers)
            // §8.1.3.3: "If more than one Via header field value is present in a response, the
            // UAC SHOULD discard the message" (RFC 4475 §3.3.10).
            if policy.role == .userAgent, parsed.viaCount > 1 {
                problems.append(SIPProblem(.multipleViasInResponse,
                    "response carries \(parsed.viaCount) Via values; a UAC discards it (RFC 3261 §8.1.3.3)", header: .via))
            }
        }

        /// §18.3: a datagram shorter than Content-Length is an error (400 / discard);
        /// octets beyond it are discarded.
        mutating func checkFraming(_ framing: SIPFraming?, isRequest: Bool) {
            guard let framing else { return }
            if framing.missingBodyBytes > 0 {
                problems.append(SIPProblem(.contentLengthExceedsBody,
                    "Content-Length \(framing.declaredContentLength ?? 0) exceeds the \(framing.availableBodyLength) body bytes received (RFC 3261 §18.3)",
                    header: .contentLength))
            }
            if framing.trailingBytes > 0 {
                notes.append("\(framing.trailingBytes) bytes after the body discarded (RFC 3261 §18.3)")
            }
            if !framing.headerSectionTerminated {
                notes.append("header section not closed by an empty line")
            }
        }

        mutating func checkPresence(_ headers: SIPHeaders, _ names: [SIPHeaderName]) {
            for name in names where !headers.contains(name) {
                problems.append(SIPProblem(.missingHeader, "missing \(name) (RFC 3261 §8.1.1)", header: name))
            }
        }

        mutating func checkDuplicates(_ headers: SIPHeaders) {
            for name in headers.names where name.isSingleValued {
                let count = headers.count(name)
                if count > 1 {
                    problems.append(SIPProblem(.duplicateHeader, "\(name) appears \(count) times (RFC 3261 §7.3.1, §20)", header: name))
                }
            }
        }

        struct Parsed {
            var cseq: SIPCSeq?
            var maxForwards: Int?
            var require: [String] = []
            var proxyRequire: [String] = []
            var contentType: SIPMediaType?
            var viaCount = 0
        }

        /// Parses every header this module types; a grammar error is a 400 (RFC 3261 §8.2, §16.3 step 1).
        mutating func checkSyntax(_ headers: SIPHeaders) -> Parsed {
            var parsed = Parsed()
            func attempt<T>(_ name: SIPHeaderName, _ body: () throws(SIPParseError) -> T) -> T? {
                do throws(SIPParseError) {
                    return try body()
                } catch {
                    problems.append(SIPProblem(.malformedHeader, "malformed \(error)", header: name, error: error))
                    return nil
                }
            }
            parsed.viaCount = attempt(.via) { () throws(SIPParseError) in try headers.via }?.count ?? 0
            _ = attempt(.from) { () throws(SIPParseError) in try headers.from }
            _ = attempt(.to) { () throws(SIPParseError) in try headers.to }
            _ = attempt(.callID) { () throws(SIPParseError) in try headers.callID }
            parsed.cseq = attempt(.cseq) { () throws(SIPParseError) in try headers.cseq } ?? nil
            if let contacts = attempt(.contact, { () throws(SIPParseError) in try headers.contacts }) ?? nil {
                for contact in contacts.addresses where contact.parameters.value("expires") != nil && contact.expires == UInt32.max {
                    notes.append("Contact expires \(contact.parameters.value("expires") ?? "") exceeds 2^32-1; the registrar applies its own limit")
                }
            }
            _ = attempt(.route) { () throws(SIPParseError) in try headers.route }
            _ = attempt(.recordRoute) { () throws(SIPParseError) in try headers.recordRoute }
            parsed.contentType = attempt(.contentType) { () throws(SIPParseError) in try headers.contentType } ?? nil
            _ = attempt(.allow) { () throws(SIPParseError) in try headers.allow }
            _ = attempt(.supported) { () throws(SIPParseError) in try headers.supported }
            parsed.require = attempt(.require) { () throws(SIPParseError) in try headers.require } ?? []
            parsed.proxyRequire = attempt(.proxyRequire) { () throws(SIPParseError) in try headers.proxyRequire } ?? []
            _ = attempt(.unsupported) { () throws(SIPParseError) in try headers.unsupported }
            _ = attempt(.sessionExpires) { () throws(SIPParseError) in try headers.sessionExpires }
            _ = attempt(.minSE) { () throws(SIPParseError) in try headers.minSE }

            // RFC 4475 §3.1.2.4: an out-of-range Max-Forwards alone may be treated as absent.
            do throws(SIPParseError) {
                parsed.maxForwards = try headers.maxForwards
            } catch where error.code == .numberOutOfRange {
                notes.append("Max-Forwards above 255; treated as absent")
            } catch {
                problems.append(SIPProblem(.malformedHeader, "malformed \(error)", header: .maxForwards, error: error))
            }
            // RFC 3261 §20.19: "Malformed values SHOULD be treated as equivalent to 3600."
            do throws(SIPParseError) {
                _ = try headers.expires
            } catch {
                notes.append("Expires malformed (\(error.code)); treated as 3600")
            }
            return parsed
        }
    }
}
