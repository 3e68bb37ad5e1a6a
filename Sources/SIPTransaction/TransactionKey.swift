import SIPCore

/// The identity of a transaction, as the transaction layer matches messages to transactions.
///
/// * Client transactions (RFC 3261 §17.1.3): a response matches when the branch of its top Via
///   equals the branch of the request's top Via and its CSeq method equals the request's
///   method (a CANCEL shares the INVITE's branch but is a transaction of its own).
/// * Server transactions (§17.2.3), for a top Via branch with the `z9hG4bK` magic cookie: the
///   branch, the sent-by of the top Via and the method, where an ACK matches the INVITE.
/// * Server transactions for RFC 2543 peers (branch without the cookie, §17.2.3): Request-URI,
///   From tag, Call-ID, CSeq number, top Via and method (ACK matching INVITE). The To tag,
///   which the RFC also compares, is left out: an INVITE has none and its ACK carries the
///   response's, so including it would need the response; within one Call-ID, From tag and
///   CSeq number that is no loss for a user agent.
public enum TransactionKey: Hashable, Sendable, CustomStringConvertible {
    case client(branch: String, method: SIPMethod)
    case server(branch: String, sentBy: String, method: SIPMethod)
    case legacyServer(requestURI: String, fromTag: String, callID: String, sequence: UInt32, via: String, method: SIPMethod)

    /// The key of a client transaction for a request we send (its top Via must carry a branch).
    public init(clientRequest request: SIPRequest) throws(SIPTransactionError) {
        guard let branch = try request.headers.requiredTopVia.branch else { throw .missingBranch }
        self = .client(branch: branch, method: request.method)
    }

    /// The client transaction a received response belongs to (§17.1.3), nil when the response
    /// has no top Via branch or CSeq (it matches nothing and is dropped, §18.1.2).
    public init?(clientResponse response: SIPResponse) {
        guard let via = try? response.headers.topVia, let branch = via.branch,
              let cseq = try? response.headers.cseq else { return nil }
        self = .client(branch: branch, method: cseq.method)
    }

    /// The server transaction a received request belongs to, or creates (§17.2.3). An ACK gets
    /// the key of the INVITE it acknowledges. nil when the request lacks a Via or CSeq.
    public init?(serverRequest request: SIPRequest) {
        self.init(serverRequest: request, method: request.method == .ack ? .invite : request.method)
    }

    /// The key of the INVITE server transaction a CANCEL cancels (RFC 3261 §9.2: matched like
    /// a request with the same branch, sent-by and the INVITE method).
    public init?(cancelled cancel: SIPRequest) {
        guard cancel.method == .cancel else { return nil }
        self.init(serverRequest: cancel, method: .invite)
    }

    private init?(serverRequest request: SIPRequest, method: SIPMethod) {
        guard let via = try? request.headers.topVia else { return nil }
        if via.hasRFC3261Branch, let branch = via.branch {
            self = .server(branch: branch, sentBy: Self.sentBy(via), method: method)
            return
        }
        guard let cseq = try? request.headers.cseq, let callID = try? request.headers.callID,
              let from = try? request.headers.from else { return nil }
        self = .legacyServer(requestURI: request.uri.description, fromTag: from.tag ?? "", callID: callID,
                             sequence: cseq.sequence, via: via.description, method: method)
    }

    /// sent-by = host [ ":" port ], host compared case-insensitively (§17.2.3, §19.1.4).
    static func sentBy(_ via: SIPVia) -> String {
        let host = via.host.description.lowercased()
        return via.port.map { "\(host):\($0)" } ?? host
    }

    public var description: String {
        switch self {
        case .client(let branch, let method): "client \(method) \(branch)"
        case .server(let branch, let sentBy, let method): "server \(method) \(branch) \(sentBy)"
        case .legacyServer(let uri, let tag, let callID, let sequence, _, let method):
            "server(2543) \(method) \(uri) \(tag) \(callID) \(sequence)"
        }
    }
}
