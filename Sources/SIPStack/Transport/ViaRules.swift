import SIPCore

/// The Via processing of RFC 3261 §18 and RFC 3581, as functions of headers and addresses.
enum ViaRules {
    /// RFC 3261 §18.2.1: add `received` with the packet's source address when the top Via's
    /// sent-by host is a domain name or an address other than the source. RFC 3581 §4: when
    /// the top Via has `rport`, set it to the source port and add `received` even when the
    /// address is the same. Returns false when the request has no Via to stamp.
    static func stampReceived(_ headers: inout SIPHeaders, sourceHost: String, sourcePort: UInt16) throws(SIPParseError) -> Bool {
        guard var via = try headers.topVia else { return false }
        let sentByIsSource: Bool =
            switch via.host {
            case .name: false
            case .ipv4(let address), .ipv6(let address): Addressing.canonicalIP(address) == sourceHost
            }
        guard !sentByIsSource || via.hasRPort else { return true }
        via.received = sourceHost
        if via.hasRPort { via.parameters.set("rport", String(sourcePort)) }
        headers.removeFirstValue(.via)
        headers.prependVia(via)
        return true
    }

    /// RFC 3261 §18.1.2: whether a response's top Via names one of our listeners, so the
    /// response is ours to pass up. A listener bound to a wildcard address without an
    /// advertised host matches any host on its port.
    static func isOurs(_ via: SIPVia, listeners: [SIPBoundListener]) -> Bool {
        let kind = SIPTransportKind(viaToken: via.transport)
        let port = via.port ?? kind?.defaultPort ?? 5060
        let host = Addressing.canonicalIP(via.host.bare) ?? via.host.bare.lowercased()
        return listeners.contains { listener in
            guard listener.port == port, kind == nil || listener.kind == kind else { return false }
            let advertised = listener.advertisedHost ?? listener.host
            if listener.advertisedHost == nil, Addressing.isWildcard(listener.host) { return true }
            return (Addressing.canonicalIP(advertised) ?? advertised.lowercased()) == host
        }
    }

    /// Where a response goes over UDP (RFC 3261 §18.2.2, RFC 3581 §4): the `received` address
    /// (else the sent-by host), at the `rport` port when the Via has one filled in, else the
    /// sent-by port, else 5060. (maddr and multicast are not supported.)
    static func datagramResponseTarget(_ via: SIPVia) -> (host: String, port: UInt16) {
        (via.received ?? via.host.bare, via.rport ?? via.port ?? SIPTransportKind.udp.defaultPort)
    }

    /// Where a response goes over TCP/TLS when the request's connection is gone (RFC 3261
    /// §18.2.2): the `received` address (else the sent-by host) at the sent-by port or the
    /// transport's default.
    static func streamResponseTarget(_ via: SIPVia, kind: SIPTransportKind) -> (host: String, port: UInt16) {
        (via.received ?? via.host.bare, via.port ?? kind.defaultPort)
    }

    /// RFC 3261 §8.2.6.2 / §8.2.6.1: a response a transport generates on its own (513 to an
    /// oversize request): Via, From, To (with a tag added), Call-ID and CSeq copied.
    static func statelessResponse(to request: SIPRequest, statusCode: Int, toTag: String) -> SIPResponse {
        var headers = SIPHeaders()
        for field in request.headers where field.name == .via { headers.add(field) }
        for name in [SIPHeaderName.from, .to, .callID, .cseq] {
            guard let field = request.headers.first(name) else { continue }
            if name == .to, var to = try? request.headers.to, to.tag == nil {
                to.parameters.set("tag", toTag)
                headers.add(.to, to.description)
            } else {
                headers.add(field)
            }
        }
        return SIPResponse(statusCode: statusCode, headers: headers)
    }
}
