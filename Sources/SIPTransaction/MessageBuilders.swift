import SIPCore

extension SIPResponse {
    /// A response to `request` as a UAS builds it (RFC 3261 §8.2.6):
    /// * Via (every value, in order), From, Call-ID and CSeq copied from the request (§8.2.6.2);
    /// * To copied; when the request's To has no tag, `toTag` is added — required for every
    ///   status but 100 (§8.2.6.2), optional for a 100;
    /// * a 100 (Trying) copies the request's Timestamp (§8.2.6.1);
    /// * `copyRecordRoute` copies every Record-Route line in order, as a UAS must in a
    ///   dialog-creating response (§12.1.1);
    /// * `contact` is added (mandatory in a dialog-creating response, §12.1.1, §13.3.1.4);
    /// * `headers` are appended, then Content-Type (with a body) and Content-Length.
    public init(answering request: SIPRequest, statusCode: Int, reasonPhrase: String? = nil, toTag: String? = nil,
                contact: SIPNameAddress? = nil, copyRecordRoute: Bool = false, headers extra: SIPHeaders = [],
                body: [UInt8] = [], contentType: SIPMediaType? = nil) throws(SIPTransactionError) {
        var headers = SIPHeaders()
        let source = request.headers
        guard source.contains(.via) else { throw .missingHeader(.via) }
        headers.copy(.via, from: source)
        if copyRecordRoute { headers.copy(.recordRoute, from: source) }
        guard source.contains(.from) else { throw .missingHeader(.from) }
        headers.copy(.from, from: source)
        var to = try source.requiredTo
        if to.tag != nil {
            headers.copy(.to, from: source)
        } else if let toTag {
            to.tag = toTag
            headers.setTo(to)
        } else if statusCode == 100 {
            headers.copy(.to, from: source)
        } else {
            throw .missingToTag
        }
        guard source.contains(.callID) else { throw .missingHeader(.callID) }
        headers.copy(.callID, from: source)
        guard source.contains(.cseq) else { throw .missingHeader(.cseq) }
        headers.copy(.cseq, from: source)
        if statusCode == 100 { headers.copy(.timestamp, from: source) }
        if let contact { headers.addContact(contact) }
        for field in extra { headers.add(field) }
        if let contentType, !body.isEmpty { headers.setContentType(contentType) }
        headers.set(.contentLength, "\(body.count)")
        self.init(statusCode: statusCode, reasonPhrase: reasonPhrase, headers: headers, body: body)
    }
}

extension SIPRequest {
    /// The ACK a client INVITE transaction sends for a 300-699 response (RFC 3261 §17.1.1.3):
    /// Request-URI, Call-ID and From of the INVITE, To of the response (with its tag), one Via
    /// equal to the INVITE's top Via, CSeq with the INVITE's number and method ACK, the
    /// INVITE's Route lines, Max-Forwards 70 (§8.1.1.6), no body.
    public static func ack(forNonSuccess response: SIPResponse, to invite: SIPRequest) throws(SIPTransactionError) -> SIPRequest {
        guard invite.method == .invite else { throw .notApplicable("an ACK acknowledges an INVITE, not \(invite.method)") }
        guard (300...699).contains(response.statusCode) else {
            throw .notApplicable("the transaction ACKs only 300-699 responses, not \(response.statusCode)")
        }
        var headers = SIPHeaders()
        headers.add(.via, try invite.headers.topViaText)
        headers.copy(.route, from: invite.headers)
        headers.setMaxForwards(70)
        guard invite.headers.contains(.from) else { throw .missingHeader(.from) }
        headers.copy(.from, from: invite.headers)
        guard response.headers.contains(.to) else { throw .missingHeader(.to) }
        headers.copy(.to, from: response.headers)
        guard invite.headers.contains(.callID) else { throw .missingHeader(.callID) }
        headers.copy(.callID, from: invite.headers)
        headers.setCSeq(SIPCSeq(sequence: try invite.headers.requiredCSeq.sequence, method: .ack))
        headers.set(.contentLength, "0")
        return SIPRequest(method: .ack, uri: invite.uri, headers: headers)
    }

    /// The CANCEL of a request (RFC 3261 §9.1): Request-URI, Call-ID, To, From (tags
    /// included) and CSeq number of the request, CSeq method CANCEL, one Via equal to the
    /// request's top Via, the request's Route lines, Max-Forwards 70, no body. A UA sends it
    /// only after a provisional response arrived (§9.1).
    public static func cancel(_ request: SIPRequest) throws(SIPTransactionError) -> SIPRequest {
        guard request.method != .ack, request.method != .cancel else {
            throw .notApplicable("\(request.method) cannot be cancelled (RFC 3261 §9.1)")
        }
        var headers = SIPHeaders()
        headers.add(.via, try request.headers.topViaText)
        headers.copy(.route, from: request.headers)
        headers.setMaxForwards(70)
        for name in [SIPHeaderName.from, .to, .callID] {
            guard request.headers.contains(name) else { throw .missingHeader(name) }
            headers.copy(name, from: request.headers)
        }
        headers.setCSeq(SIPCSeq(sequence: try request.headers.requiredCSeq.sequence, method: .cancel))
        headers.set(.contentLength, "0")
        return SIPRequest(method: .cancel, uri: request.uri, headers: headers)
    }

    /// The same request sent again as a new transaction after a 401/407 or a 422 (RFC 3261
    /// §8.1.3.5, §22.2; RFC 4028 §7.3): the top Via replaced by `via` (a new branch), the CSeq
    /// number incremented, everything else (Call-ID, From tag, To, body) unchanged.
    public func resubmitted(via: SIPVia) throws(SIPTransactionError) -> SIPRequest {
        var copy = self
        let cseq = try headers.requiredCSeq
        copy.headers.removeFirstValue(.via)
        copy.headers.prependVia(via)
        copy.headers.setCSeq(SIPCSeq(sequence: cseq.sequence + 1, method: cseq.method))
        return copy
    }
}
