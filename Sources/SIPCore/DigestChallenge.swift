/// The value of a WWW-Authenticate (401) or Proxy-Authenticate (407) header using the Digest
/// scheme (RFC 3261 §22.4, §20.44, §20.28).
///
/// ```
/// challenge     = ("Digest" LWS digest-cln *(COMMA digest-cln))      ; RFC 3261 §25.1
/// digest-cln    = realm / domain / nonce / opaque / stale / algorithm
///                 / qop-options / auth-param
/// realm         = "realm" EQUAL quoted-string
/// domain        = "domain" EQUAL LDQUOT URI *( 1*SP URI ) RDQUOT
/// nonce         = "nonce" EQUAL quoted-string
/// opaque        = "opaque" EQUAL quoted-string
/// stale         = "stale" EQUAL ( "true" / "false" )
/// algorithm     = "algorithm" EQUAL ( "MD5" / "MD5-sess" / token )
/// qop-options   = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT
/// charset       = "charset" EQUAL "UTF-8"                             ; RFC 7616 §3.3
/// userhash      = "userhash" EQUAL ( "true" / "false" )              ; RFC 7616 §3.3
/// ```
///
/// Parsing is liberal where peers commonly stray and the meaning is unambiguous: names and
/// enumerated values are case-insensitive, and a token is accepted where the grammar asks for a
/// quoted-string (and vice versa). Serialization is canonical (fixed parameter order, the
/// grammar's quoting), so `DigestChallenge(parsing: c.description) == c` for every `c`.
public struct DigestChallenge: Hashable, Sendable, CustomStringConvertible {
    /// The protection space shown to the user and mixed into HA1.
    public var realm: String
    /// URIs of the protection space (RFC 7616 §3.3); empty when absent.
    public var domain: [String]
    public var nonce: String
    /// Returned unchanged by the client in its credentials.
    public var opaque: String?
    /// The previous request's nonce had expired but its digest was right: retry with the new
    /// nonce without asking the user again (RFC 7616 §3.3). Absent means `false`.
    public var stale: Bool
    /// `nil` when the challenge has no `algorithm=`, which means MD5.
    public var algorithm: DigestAlgorithm?
    /// Offered qop values in the server's order; empty for an RFC 2069 challenge without qop.
    public var qopOptions: [DigestQop]
    /// `charset=UTF-8`: username and password are UTF-8 (RFC 7616 §3.3).
    public var charsetUTF8: Bool
    /// The server supports hashed usernames (RFC 7616 §3.4.4).
    public var userhash: Bool
    /// Parameters this type does not interpret, in the order they appeared.
    public var extensionParameters: [AuthParam]

    public init(
        realm: String,
        nonce: String,
        domain: [String] = [],
        opaque: String? = nil,
        stale: Bool = false,
        algorithm: DigestAlgorithm? = nil,
        qopOptions: [DigestQop] = [],
        charsetUTF8: Bool = false,
        userhash: Bool = false,
        extensionParameters: [AuthParam] = []
    ) {
        self.realm = realm
        self.nonce = nonce
        self.domain = domain
        self.opaque = opaque
        self.stale = stale
        self.algorithm = algorithm
        self.qopOptions = qopOptions
        self.charsetUTF8 = charsetUTF8
        self.userhash = userhash
        self.extensionParameters = extensionParameters
    }

    /// The algorithm in force: `algorithm`, or MD5 when absent (RFC 2617 §3.2.1).
    public var effectiveAlgorithm: DigestAlgorithm { algorithm ?? .default }

    /// Parses a header value such as `Digest realm="atlanta.com", nonce="84a4cc6f", qop="auth"`.
    public init(parsing value: String) throws(DigestError) {
        try self.init(parsing: Array(value.utf8))
    }

    public init(parsing bytes: some Collection<UInt8>) throws(DigestError) {
        var parameters = try DigestParameters(parsing: Array(bytes))
        realm = try parameters.takeRequired("realm")
        nonce = try parameters.takeRequired("nonce")
        domain = parameters.take("domain").map { Self.splitDomain($0.param.value) } ?? []
        opaque = parameters.take("opaque")?.param.value
        stale = try parameters.takeBoolean("stale") ?? false
        algorithm = try parameters.takeAlgorithm()
        qopOptions = try parameters.take("qop").map(Self.splitQopOptions) ?? []
        if let charset = parameters.take("charset") {
            guard AuthParamGrammar.equalsIgnoringCase(charset.param.value, "UTF-8") else {
                throw .invalid("charset", at: charset.valueOffset)
            }
            charsetUTF8 = true
        } else {
            charsetUTF8 = false
        }
        userhash = try parameters.takeBoolean("userhash") ?? false
        extensionParameters = parameters.remaining
    }

    // domain = "domain" EQUAL LDQUOT URI *( 1*SP URI ) RDQUOT
    private static func splitDomain(_ value: String) -> [String] {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    // qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT
    // RFC 7616's own example writes "auth, auth-int", so whitespace around the commas is allowed.
    private static func splitQopOptions(_ located: AuthParamGrammar.Located) throws(DigestError) -> [DigestQop] {
        var options: [DigestQop] = []
        for element in located.param.value.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = element.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            guard AuthParamGrammar.isToken(trimmed) else { throw .invalid("qop", at: located.valueOffset) }
            options.append(DigestQop(trimmed))
        }
        return options
    }

    public var encodedSize: Int {
        write(into: AuthParamGrammar.ByteCounter()).count
    }

    public func encode(into buffer: inout [UInt8]) {
        buffer = write(into: consume buffer)
    }

    public var description: String {
        String(decoding: write(into: [UInt8]()), as: UTF8.self)
    }

    private func write<Output: AuthParamGrammar.Sink>(into output: consuming Output) -> Output {
        var writer = AuthParamGrammar.Writer(scheme: "Digest", into: consume output)
        writer.quoted("realm", realm)
        if !domain.isEmpty { writer.quoted("domain", domain.joined(separator: " ")) }
        writer.quoted("nonce", nonce)
        if let opaque { writer.quoted("opaque", opaque) }
        if stale { writer.token("stale", "TRUE") }
        if let algorithm { writer.token("algorithm", algorithm.name) }
        if !qopOptions.isEmpty { writer.quoted("qop", qopOptions.map(\.rawValue).joined(separator: ",")) }
        if charsetUTF8 { writer.token("charset", "UTF-8") }
        if userhash { writer.token("userhash", "true") }
        for parameter in extensionParameters { writer.parameter(parameter) }
        return writer.output
    }
}

extension Substring {
    /// Without leading and trailing SP/HTAB.
    fileprivate func trimmingWhitespace() -> String {
        let isWSP: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isWSP($0) }), let last = lastIndex(where: { !isWSP($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
