import SIPCore

/// A dialog's identity (RFC 3261 §12): Call-ID, local tag, remote tag.
public struct DialogID: Hashable, Sendable, CustomStringConvertible {
    public var callID: String
    public var localTag: String
    public var remoteTag: String

    public init(callID: String, localTag: String, remoteTag: String) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
    }

    /// The dialog a received request belongs to, seen as its UAS: local tag = To tag, remote
    /// tag = From tag (§12.2.2). nil for a request without a To tag (out of dialog).
    public init?(receivedRequest request: SIPRequest) {
        guard let callID = try? request.headers.callID, let to = try? request.headers.to, let localTag = to.tag,
              let from = try? request.headers.from else { return nil }
        self.init(callID: callID, localTag: localTag, remoteTag: from.tag ?? "")
    }

    /// The dialog a received response belongs to, seen as its UAC: local tag = From tag,
    /// remote tag = To tag (§12.1.2). nil without a To tag (a 100, or no dialog).
    public init?(receivedResponse response: SIPResponse) {
        guard let callID = try? response.headers.callID, let to = try? response.headers.to, let remoteTag = to.tag,
              let from = try? response.headers.from, let localTag = from.tag else { return nil }
        self.init(callID: callID, localTag: localTag, remoteTag: remoteTag)
    }

    public var description: String { "\(callID);local=\(localTag);remote=\(remoteTag)" }
}

/// The state of a dialog (RFC 3261 §12) as a value the user agent holds: identity, URIs,
/// sequence numbers, remote target, route set and secure flag, with the request construction
/// of §12.2.1.1 and the checks of §12.2.2.
public struct Dialog: Sendable, Hashable {
    public enum State: String, Sendable, Hashable { case early, confirmed }

    public private(set) var state: State
    public let callID: String
    public let localTag: String
    /// Empty for an RFC 2543 peer that sent no tag (§12.1.1, §12.1.2).
    public private(set) var remoteTag: String
    /// Our address (From of our requests) without tag; its URI is the local URI (§12.1).
    public let localAddress: SIPNameAddress
    /// The peer's address (To of our requests) without tag; its URI is the remote URI.
    public let remoteAddress: SIPNameAddress
    /// The CSeq number of our last request; nil until we send one (a UAS's start, §12.1.1).
    public private(set) var localSequence: UInt32?
    /// The CSeq number of the peer's last request; nil until it sends one (a UAC's start, §12.1.2).
    public private(set) var remoteSequence: UInt32?
    /// Where our requests go: the peer's Contact (§12.1.1, §12.1.2), refreshed by target
    /// refresh requests and their 2xx (§12.2).
    public private(set) var remoteTarget: URI
    /// Record-Route of the dialog-creating message: in order for a UAS, reversed for a UAC.
    public private(set) var routeSet: [SIPNameAddress]
    /// TLS and a SIPS Request-URI (§12.1.1, §12.1.2).
    public let isSecure: Bool
    /// The Contact we put in the dialog-creating message, sent again in target refreshes.
    public var localContact: SIPNameAddress?
    /// Whether we created the dialog as UAC (the "owner" of the Call-ID for §14.1 timing).
    public let isUAC: Bool

    public var id: DialogID { DialogID(callID: callID, localTag: localTag, remoteTag: remoteTag) }
    public var localURI: URI { localAddress.uri }
    public var remoteURI: URI { remoteAddress.uri }

    /// The URI the next request is sent to (§12.2.1.1, §8.1.2): the first route when there is
    /// a route set (loose or strict), the remote target otherwise.
    public var nextHop: URI { routeSet.first?.uri ?? remoteTarget }

    /// A dialog as UAC (§12.1.2) from the request we sent and a 2xx (confirmed) or a 101-199
    /// with a To tag (early): route set = the response's Record-Route reversed, remote target
    /// = its Contact, local sequence = the request's CSeq, remote sequence empty, local tag =
    /// From tag of the request, remote tag = To tag of the response, local URI = From, remote
    /// URI = To; secure when `overTLS` and the Request-URI is SIPS.
    public init(uacRequest request: SIPRequest, response: SIPResponse, overTLS: Bool = false) throws(SIPTransactionError) {
        let status = response.statusCode
        guard (101...299).contains(status) else { throw .notApplicable("a \(status) creates no dialog (RFC 3261 §12.1)") }
        let from = try request.headers.requiredFrom
        let to = try response.headers.requiredTo
        guard let localTag = from.tag else { throw .missingDialogTag }
        guard let remoteTag = to.tag else {
            // A 1xx without a To tag creates no early dialog (§12.1); a 2xx without one comes
            // from an RFC 2543 peer and gets an empty remote tag (§12.1.2).
            guard status >= 200 else { throw .missingDialogTag }
            try self.init(uacRequest: request, response: response, overTLS: overTLS, localTag: localTag, remoteTag: "")
            return
        }
        try self.init(uacRequest: request, response: response, overTLS: overTLS, localTag: localTag, remoteTag: remoteTag)
    }

    private init(uacRequest request: SIPRequest, response: SIPResponse, overTLS: Bool, localTag: String, remoteTag: String) throws(SIPTransactionError) {
        let headers = response.headers
        state = response.statusCode >= 200 ? .confirmed : .early
        callID = try request.headers.requiredCallID
        self.localTag = localTag
        self.remoteTag = remoteTag
        localAddress = Self.address(try request.headers.requiredFrom)
        remoteAddress = Self.address(try request.headers.requiredTo)
        localSequence = try request.headers.requiredCSeq.sequence
        remoteSequence = nil
        routeSet = try headers.optional { h throws(SIPParseError) in try h.recordRoute }?.reversed() ?? []
        remoteTarget = try Self.contactURI(headers) ?? request.uri
        isSecure = overTLS && request.uri.scheme == "sips"
        localContact = try request.headers.optional { h throws(SIPParseError) in try h.contacts }?.addresses.first
        isUAC = true
    }

    /// A dialog as UAS (§12.1.1) from the request received and the response we send (2xx, or
    /// 101-199 for an early dialog), which carries our To tag and Contact: route set = the
    /// request's Record-Route in order, remote target = its Contact, remote sequence = its
    /// CSeq, local sequence empty, local tag = the response's To tag, remote tag = the
    /// request's From tag, local URI = To, remote URI = From; secure when `overTLS` and the
    /// Request-URI is SIPS.
    public init(uasRequest request: SIPRequest, response: SIPResponse, overTLS: Bool = false) throws(SIPTransactionError) {
        let status = response.statusCode
        guard (101...299).contains(status) else { throw .notApplicable("a \(status) creates no dialog (RFC 3261 §12.1)") }
        let headers = request.headers
        guard let localTag = try response.headers.requiredTo.tag else { throw .missingDialogTag }
        state = status >= 200 ? .confirmed : .early
        callID = try headers.requiredCallID
        self.localTag = localTag
        remoteTag = try headers.requiredFrom.tag ?? ""
        localAddress = Self.address(try headers.requiredTo)
        remoteAddress = Self.address(try headers.requiredFrom)
        localSequence = nil
        remoteSequence = try headers.requiredCSeq.sequence
        routeSet = try headers.optional { h throws(SIPParseError) in try h.recordRoute } ?? []
        guard let target = try Self.contactURI(headers) else { throw .missingHeader(.contact) }
        remoteTarget = target
        isSecure = overTLS && request.uri.scheme == "sips"
        localContact = try response.headers.optional { h throws(SIPParseError) in try h.contacts }?.addresses.first
        isUAC = false
    }

    /// A 2xx for the INVITE that created this early dialog (UAC): the dialog becomes
    /// confirmed and the route set and remote target are recomputed from the 2xx (§13.2.2.4,
    /// §12.1.2).
    public mutating func confirm(with response: SIPResponse) throws(SIPTransactionError) {
        guard (200...299).contains(response.statusCode) else { return }
        if isUAC {
            routeSet = try response.headers.optional { h throws(SIPParseError) in try h.recordRoute }?.reversed() ?? []
            if let target = try Self.contactURI(response.headers) { remoteTarget = target }
        }
        state = .confirmed
    }

    // MARK: requests we send (§12.2.1)

    /// A request within the dialog (§12.2.1.1):
    /// * To = remote URI and tag, From = local URI and tag, Call-ID of the dialog;
    /// * CSeq = local sequence + 1 (1 when empty), except ACK and CANCEL, which reuse the
    ///   current number (an ACK carries its INVITE's number, §13.2.2.4; a CANCEL is better
    ///   built with `SIPRequest.cancel(_:)`, §9.1);
    /// * empty route set: Request-URI = remote target, no Route;
    /// * first route with `lr` (loose router): Request-URI = remote target, Route = route set;
    /// * first route without `lr` (strict router): Request-URI = first route's URI without the
    ///   parameters a Request-URI may not carry (`method`, URI headers, §19.1.1 Table 1), Route
    ///   = the rest of the route set then the remote target;
    /// * Contact (our `localContact`) on target refresh requests (INVITE, UPDATE, SUBSCRIBE,
    ///   NOTIFY, REFER, §12.2.1.1, RFC 3311 §5.1);
    /// * `extraHeaders` (User-Agent, Session-Expires, ...), Content-Type, Content-Length.
    public mutating func makeRequest(method: SIPMethod, via: SIPVia, body: [UInt8] = [], contentType: SIPMediaType? = nil,
                                     extraHeaders: SIPHeaders = [], maxForwards: Int = 70) -> SIPRequest {
        let sequence: UInt32
        if method == .ack || method == .cancel {
            sequence = localSequence ?? 1
        } else {
            sequence = (localSequence ?? 0) + 1
            localSequence = sequence
        }
        return build(method: method, sequence: sequence, via: via, body: body, contentType: contentType,
                     extraHeaders: extraHeaders, maxForwards: maxForwards)
    }

    /// The ACK for a 2xx to `invite` (§13.2.2.4): built like any request of the dialog, with a
    /// new branch (`via`), the INVITE's CSeq number with method ACK, and the INVITE's
    /// Authorization and Proxy-Authorization lines. `body` is the answer when the INVITE
    /// carried no offer.
    public func makeACK(for invite: SIPRequest, via: SIPVia, body: [UInt8] = [], contentType: SIPMediaType? = nil,
                        extraHeaders: SIPHeaders = []) throws(SIPTransactionError) -> SIPRequest {
        let sequence = try invite.headers.requiredCSeq.sequence
        var extra = SIPHeaders()
        extra.copy(.authorization, from: invite.headers)
        extra.copy(.proxyAuthorization, from: invite.headers)
        for field in extraHeaders { extra.add(field) }
        return build(method: .ack, sequence: sequence, via: via, body: body, contentType: contentType,
                     extraHeaders: extra, maxForwards: 70)
    }

    private func build(method: SIPMethod, sequence: UInt32, via: SIPVia, body: [UInt8], contentType: SIPMediaType?,
                       extraHeaders: SIPHeaders, maxForwards: Int) -> SIPRequest {
        var headers = SIPHeaders()
        headers.prependVia(via)
        let uri: URI
        if let first = routeSet.first, let firstURI = first.uri.sipURI, !firstURI.isLooseRouter {
            // §12.2.1.1 strict routing: the first route becomes the Request-URI.
            var stripped = firstURI
            stripped.parameters.remove("method")
            stripped.headers = []
            uri = .sip(stripped)
            for route in routeSet.dropFirst() { headers.addRoute(route) }
            headers.addRoute(SIPNameAddress(uri: remoteTarget))
        } else {
            uri = remoteTarget
            for route in routeSet { headers.addRoute(route) }
        }
        headers.setMaxForwards(maxForwards)
        var from = localAddress
        from.tag = localTag
        headers.setFrom(from)
        var to = remoteAddress
        if !remoteTag.isEmpty { to.tag = remoteTag }
        headers.setTo(to)
        headers.set(.callID, callID)
        headers.setCSeq(SIPCSeq(sequence: sequence, method: method))
        if Self.targetRefreshMethods.contains(method), let localContact { headers.addContact(localContact) }
        for field in extraHeaders { headers.add(field) }
        if let contentType, !body.isEmpty { headers.setContentType(contentType) }
        headers.set(.contentLength, "\(body.count)")
        return SIPRequest(method: method, uri: uri, headers: headers, body: body)
    }

    /// A response to a request we sent in this dialog (§12.2.1.2): a 2xx to a target refresh
    /// request replaces the remote target with its Contact; a 2xx to the INVITE of an early
    /// dialog confirms it.
    public mutating func receiveResponse(_ response: SIPResponse, to request: SIPRequest) throws(SIPTransactionError) {
        guard (200...299).contains(response.statusCode) else { return }
        if state == .early, request.method == .invite {
            try confirm(with: response)
        } else if Self.targetRefreshMethods.contains(request.method), let target = try Self.contactURI(response.headers) {
            remoteTarget = target
        }
    }

    /// §12.2.1.2: a 481 or a 408 (or a timeout) to a request in the dialog ends the dialog.
    public static func responseTerminatesDialog(_ statusCode: Int) -> Bool { statusCode == 481 || statusCode == 408 }

    // MARK: requests we receive (§12.2.2)

    /// What a UAS does with a request in the dialog.
    public enum RequestCheck: Sendable, Hashable {
        case accept
        /// Answer with this status instead of processing (§12.2.2: 500 for a lower CSeq).
        case reject(statusCode: Int, reasonPhrase: String)
    }

    /// Checks and records a request received in the dialog (§12.2.2): a CSeq number lower
    /// than the remote sequence is out of order and answered 500; otherwise the remote
    /// sequence becomes the request's and a target refresh request with a Contact replaces
    /// the remote target. ACK and CANCEL are not numbered on their own (they carry the
    /// INVITE's number) and only pass the check.
    public mutating func receive(_ request: SIPRequest) throws(SIPTransactionError) -> RequestCheck {
        let sequence = try request.headers.requiredCSeq.sequence
        if request.method == .ack || request.method == .cancel { return .accept }
        if let remoteSequence, sequence < remoteSequence {
            return .reject(statusCode: 500, reasonPhrase: "Server Internal Error")
        }
        remoteSequence = sequence
        if Self.targetRefreshMethods.contains(request.method), let target = try Self.contactURI(request.headers) {
            remoteTarget = target
        }
        return .accept
    }

    /// Methods that are target refresh requests (RFC 3261 §12.2, RFC 3311 §5.1, RFC 6665 §4.1,
    /// RFC 3515).
    public static let targetRefreshMethods: Set<SIPMethod> = [.invite, .update, .subscribe, .notify, .refer]

    // MARK: helpers

    /// The address without its tag (the tag is dialog state of its own).
    private static func address(_ address: SIPNameAddress) -> SIPNameAddress {
        var copy = address
        copy.tag = nil
        return copy
    }

    /// The URI of the first Contact, nil when there is none (or `*`).
    private static func contactURI(_ headers: SIPHeaders) throws(SIPTransactionError) -> URI? {
        try headers.optional { h throws(SIPParseError) in try h.contacts }?.addresses.first?.uri
    }
}
