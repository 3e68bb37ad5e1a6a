import NIOCore
import SIPCore

extension SIPHost {
    /// Classifies an address or name as the Via/URI host grammar does (RFC 3261 §25.1).
    init(addressOrName text: String) {
        let bare = Addressing.unbracketed(text)
        if bare.contains(":") {
            self = .ipv6(bare)
        } else if Addressing.isIPv4Literal(bare) {
            self = .ipv4(bare)
        } else {
            self = .name(bare)
        }
    }

    /// The host as an address or name without IPv6 brackets.
    var bare: String {
        switch self {
        case .name(let name): name
        case .ipv4(let address): address
        case .ipv6(let address): address
        }
    }
}

enum Addressing {
    static func unbracketed(_ text: String) -> String {
        text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
    }

    static func isIPv4Literal(_ text: String) -> Bool {
        (try? SocketAddress(ipAddress: text, port: 0))?.protocol == .inet
    }

    /// An IP literal in canonical text (so "::0001" and "::1" compare equal), IPv4-mapped IPv6
    /// addresses unmapped; nil for anything that is not an IP literal.
    static func canonicalIP(_ text: String) -> String? {
        guard let address = try? SocketAddress(ipAddress: unbracketed(text), port: 0) else { return nil }
        return endpoint(address)?.host
    }

    /// Host text (IPv4-mapped IPv6 unmapped) and port of a socket address.
    static func endpoint(_ address: SocketAddress) -> (host: String, port: UInt16)? {
        guard var host = address.ipAddress, let port = address.port else { return nil }
        if host.lowercased().hasPrefix("::ffff:"), host.contains(".") { host = String(host.dropFirst(7)) }
        return (host, UInt16(truncatingIfNeeded: port))
    }

    /// An IP literal, or "localhost" as 127.0.0.1 (or ::1 when `preferIPv6`). Names are the
    /// user agent's to resolve (RFC 3263), never the transport's.
    static func resolve(_ host: String, port: UInt16, preferIPv6: Bool = false) throws(SIPTransportError) -> SocketAddress {
        let bare = unbracketed(host)
        let literal = bare.lowercased() == "localhost" ? (preferIPv6 ? "::1" : "127.0.0.1") : bare
        do {
            return try SocketAddress(ipAddress: literal, port: Int(port))
        } catch {
            throw SIPTransportError(.unresolvedHost, host)
        }
    }

    static func isWildcard(_ host: String) -> Bool {
        canonicalIP(host).map { $0 == "0.0.0.0" || $0 == "::" } ?? false
    }
}
