import SIPCore

/// Builds the out-of-dialog requests a user agent sends (INVITE, REGISTER, OPTIONS, ...) with
/// the headers RFC 3261 §8.1.1 requires, and the Vias of every request it sends.
public struct RequestFactory: Sendable {
    /// The transport token of our Via ("UDP", "TCP", "TLS").
    public var transport: String
    /// The sent-by of our Via (§18.1.1): the address and port we listen on.
    public var host: SIPHost
    public var port: UInt16?
    /// Our Contact: where the peer sends requests in the dialog (§8.1.1.8).
    public var contact: SIPNameAddress
    /// `earshot/<version>` (§20.41).
    public var userAgent: String
    /// Methods listed in Allow on requests that may establish a dialog (empty: no Allow).
    public var allow: [SIPMethod]
    /// Option tags listed in Supported (empty: no Supported).
    public var supported: [String]
    public var maxForwards: Int = 70

    public init(transport: String, host: SIPHost, port: UInt16?, contact: SIPNameAddress, version: String,
                allow: [SIPMethod] = [], supported: [String] = []) {
        self.transport = transport
        self.host = host
        self.port = port
        self.contact = contact
        self.userAgent = "earshot/\(version)"
        self.allow = allow
        self.supported = supported
    }

    /// A Via for a new client transaction: our sent-by, a fresh `z9hG4bK` branch (§8.1.1.7)
    /// and an empty `rport` asking for symmetric response routing (RFC 3581 §3).
    public func via(using rng: inout some RandomNumberGenerator) -> SIPVia {
        var via = SIPVia(transport: transport, host: host, port: port, branch: SIPIdentifiers.branch(using: &rng))
        via.parameters.set("rport")
        return via
    }

    /// User-Agent, Allow and Supported: the headers every request and response of ours carries.
    public var commonHeaders: SIPHeaders {
        var headers = SIPHeaders()
        headers.add(.userAgent, userAgent)
        if !allow.isEmpty { headers.add(.allow, allow.map(\.rawValue).joined(separator: ", ")) }
        if !supported.isEmpty { headers.add(.supported, supported.joined(separator: ", ")) }
        return headers
    }

    /// An out-of-dialog request (§8.1.1): Via (new branch, rport), Max-Forwards, From (a
    /// random tag added when `from` has none, §8.1.1.3), To (no tag, §8.1.1.2), Call-ID
    /// (random when nil, §8.1.1.4), CSeq, Contact (§8.1.1.8), User-Agent, Allow, Supported,
    /// `extraHeaders`, Content-Type (with a body) and Content-Length.
    public func request(method: SIPMethod, uri: URI, from: SIPNameAddress, to: SIPNameAddress, callID: String? = nil,
                        sequence: UInt32 = 1, body: [UInt8] = [], contentType: SIPMediaType? = nil,
                        extraHeaders: SIPHeaders = [], using rng: inout some RandomNumberGenerator) -> SIPRequest {
        var headers = SIPHeaders()
        headers.prependVia(via(using: &rng))
        headers.setMaxForwards(maxForwards)
        var from = from
        if from.tag == nil { from.tag = SIPIdentifiers.tag(using: &rng) }
        headers.setFrom(from)
        var to = to
        to.tag = nil
        headers.setTo(to)
        headers.set(.callID, callID ?? SIPIdentifiers.callID(using: &rng))
        headers.setCSeq(SIPCSeq(sequence: sequence, method: method))
        headers.addContact(contact)
        for field in commonHeaders { headers.add(field) }
        for field in extraHeaders { headers.add(field) }
        if let contentType, !body.isEmpty { headers.setContentType(contentType) }
        headers.set(.contentLength, "\(body.count)")
        return SIPRequest(method: method, uri: uri, headers: headers, body: body)
    }
}
