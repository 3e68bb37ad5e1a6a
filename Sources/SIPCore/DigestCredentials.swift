/// The value of an Authorization or Proxy-Authorization header using the Digest scheme
/// (RFC 3261 §22.4, §20.7, §20.28).
///
/// ```
/// credentials      = ("Digest" LWS digest-response)                   ; RFC 3261 §25.1
/// digest-response  = dig-resp *(COMMA dig-resp)
/// dig-resp         = username / realm / nonce / digest-uri / dresponse / algorithm
///                    / cnonce / opaque / message-qop / nonce-count / auth-param
/// username         = "username" EQUAL quoted-string
/// digest-uri       = "uri" EQUAL LDQUOT Request-URI RDQUOT
/// dresponse        = "response" EQUAL LDQUOT 32LHEX RDQUOT             ; 64 for SHA-256 (RFC 7616)
/// cnonce           = "cnonce" EQUAL quoted-string
/// message-qop      = "qop" EQUAL qop-value
/// nonce-count      = "nc" EQUAL 8LHEX
/// userhash         = "userhash" EQUAL ( "true" / "false" )            ; RFC 7616 §3.4
/// ```
///
/// `cnonce` and `nc` are required when `qop` is present (RFC 7616 §3.4). As for challenges,
/// parsing accepts token/quoted-string either way and any letter case in hex and enumerated
/// values; serialization is canonical and `response` is stored lowercase.
public struct DigestCredentials: Hashable, Sendable, CustomStringConvertible {
    /// The user name — or, when `userhash` is set, H(username ":" realm) (RFC 7616 §3.4.4).
    public var username: String
    public var realm: String
    public var nonce: String
    /// The Request-URI of the request being authorized ("digest-uri").
    public var uri: String
    /// The request-digest, lowercase hex of the algorithm's length.
    public var response: String
    /// `nil` when absent, which means MD5.
    public var algorithm: DigestAlgorithm?
    public var cnonce: String?
    public var opaque: String?
    /// The qop the client chose; `nil` for RFC 2069 credentials.
    public var qop: DigestQop?
    /// `nc`: how many requests the client has sent with this nonce, this one included.
    public var nonceCount: UInt32?
    public var userhash: Bool
    /// Parameters this type does not interpret, in the order they appeared.
    public var extensionParameters: [AuthParam]

    public init(
        username: String,
        realm: String,
        nonce: String,
        uri: String,
        response: String,
        algorithm: DigestAlgorithm? = nil,
        cnonce: String? = nil,
        opaque: String? = nil,
        qop: DigestQop? = nil,
        nonceCount: UInt32? = nil,
        userhash: Bool = false,
        extensionParameters: [AuthParam] = []
    ) {
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithm = algorithm
        self.cnonce = cnonce
        self.opaque = opaque
        self.qop = qop
        self.nonceCount = nonceCount
        self.userhash = userhash
        self.extensionParameters = extensionParameters
    }

    /// The algorithm in force: `algorithm`, or MD5 when absent (RFC 2617 §3.2.2).
    public var effectiveAlgorithm: DigestAlgorithm { algorithm ?? .default }

    /// Parses a header value such as `Digest username="bob", realm="biloxi.com", ...`.
    public init(parsing value: String) throws(DigestError) {
        try self.init(parsing: Array(value.utf8))
    }

    public init(parsing bytes: some Collection<UInt8>) throws(DigestError) {
        var parameters = try DigestParameters(parsing: Array(bytes))
        username = try parameters.takeRequired("username")
        realm = try parameters.takeRequired("realm")
        nonce = try parameters.takeRequired("nonce")
        uri = try parameters.takeRequired("uri")
        algorithm = try parameters.takeAlgorithm()

        guard let responseParameter = parameters.take("response") else { throw .missing("response") }
        let response = responseParameter.param.value
        guard response.utf8.count == (algorithm ?? .default).hexDigestLength, DigestHex.isHex(response) else {
            throw .invalid("response", at: responseParameter.valueOffset)
        }
        self.response = AuthParamGrammar.lowercased(response)

        cnonce = parameters.take("cnonce")?.param.value
        opaque = parameters.take("opaque")?.param.value
        if let qopParameter = parameters.take("qop") {
            guard AuthParamGrammar.isToken(qopParameter.param.value) else {
                throw .invalid("qop", at: qopParameter.valueOffset)
            }
            qop = DigestQop(qopParameter.param.value)
        } else {
            qop = nil
        }
        if let ncParameter = parameters.take("nc") {
            let digits = ncParameter.param.value
            guard digits.utf8.count == 8, DigestHex.isHex(digits), let value = UInt32(digits, radix: 16) else {
                throw .invalid("nc", at: ncParameter.valueOffset)
            }
            nonceCount = value
        } else {
            nonceCount = nil
        }
        if qop != nil {
            if cnonce == nil { throw .missing("cnonce") }
            if nonceCount == nil { throw .missing("nc") }
        }
        userhash = try parameters.takeBoolean("userhash") ?? false
        extensionParameters = parameters.remaining
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
        writer.quoted("username", username)
        writer.quoted("realm", realm)
        writer.quoted("nonce", nonce)
        writer.quoted("uri", uri)
        writer.quoted("response", response)
        if let algorithm { writer.token("algorithm", algorithm.name) }
        if let cnonce { writer.quoted("cnonce", cnonce) }
        if let opaque { writer.quoted("opaque", opaque) }
        if let qop { writer.parameter(AuthParam(name: "qop", value: qop.rawValue, isQuoted: false)) }
        if let nonceCount { writer.token("nc", DigestHex.nonceCount(nonceCount)) }
        if userhash { writer.token("userhash", "true") }
        for parameter in extensionParameters { writer.parameter(parameter) }
        return writer.output
    }
}
