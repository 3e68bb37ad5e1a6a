import NIOCore
import SIPCore

/// The SIP transports this stack speaks (RFC 3261 §18; TLS per §26.2.1).
public enum SIPTransportKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case udp
    case tcp
    case tls

    /// The transport token of a Via sent-protocol (RFC 3261 §20.42).
    public var viaToken: String {
        switch self {
        case .udp: "UDP"
        case .tcp: "TCP"
        case .tls: "TLS"
        }
    }

    /// Reads a Via transport token; tokens compare case-insensitively.
    public init?(viaToken: String) {
        switch viaToken.uppercased() {
        case "UDP": self = .udp
        case "TCP": self = .tcp
        case "TLS": self = .tls
        default: return nil
        }
    }

    /// Stream transports frame by Content-Length and answer on the connection (RFC 3261 §18.2.2).
    public var isReliable: Bool { self != .udp }

    /// 5060 for UDP and TCP, 5061 for TLS (RFC 3261 §18.1.1, §19.1.2).
    public var defaultPort: UInt16 { self == .tls ? 5061 : 5060 }

    public var description: String { viaToken }
}

/// Where a request goes. The user agent resolves names (RFC 3263); the transport takes IPv4
/// and IPv6 literals (brackets optional) and "localhost".
public struct SIPDestination: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public var kind: SIPTransportKind
    /// TLS only: the name sent as SNI and matched against the server certificate. When nil
    /// the certificate must name the destination's IP address (an IP subjectAltName).
    public var serverName: String?

    public init(host: String, port: UInt16, kind: SIPTransportKind, serverName: String? = nil) {
        self.host = host
        self.port = port
        self.kind = kind
        self.serverName = serverName
    }

    public var description: String {
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(bracketed):\(port);transport=\(kind.viaToken)"
    }
}

/// Names one TCP or TLS connection for the lifetime of the transport layer.
public struct SIPConnectionID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "connection #\(rawValue)" }
}

/// A listening socket after `start()`: the port is the one actually bound (a configured 0
/// becomes the kernel's choice).
public struct SIPBoundListener: Sendable, Hashable, CustomStringConvertible {
    public var kind: SIPTransportKind
    /// The address bound.
    public var host: String
    public var port: UInt16
    /// What goes into Via sent-by and Contact instead of `host` (NAT, wildcard binds).
    public var advertisedHost: String?

    public init(kind: SIPTransportKind, host: String, port: UInt16, advertisedHost: String? = nil) {
        self.kind = kind
        self.host = host
        self.port = port
        self.advertisedHost = advertisedHost
    }

    /// The sent-by a request leaving through this listener carries (RFC 3261 §18.1.1).
    public var sentBy: (host: SIPHost, port: UInt16) {
        (SIPHost(addressOrName: advertisedHost ?? host), port)
    }

    var isIPv6: Bool { host.contains(":") }

    public var description: String { "\(kind.viaToken) \(SIPHost(addressOrName: host)):\(port)" }
}

/// One message received, after the RFC 3261 §18 / RFC 3581 receive rules ran.
public struct SIPIncoming: Sendable {
    /// For a request, the top Via already carries `received` and a filled `rport` where
    /// RFC 3261 §18.2.1 and RFC 3581 §4 call for them.
    public var message: SIPMessage
    public var kind: SIPTransportKind
    /// The packet's source (for a stream, the peer end of the connection).
    public var source: SocketAddress
    /// `source` as text: an IP address without brackets (IPv4-mapped IPv6 unmapped).
    public var sourceHost: String
    public var sourcePort: UInt16
    /// The local end: the listener the message came in on, or for a connection this layer
    /// opened, the listener of that kind (or the connection's own local address when there is none).
    public var listener: SIPBoundListener
    /// The connection a stream message arrived on; nil for UDP.
    public var connection: SIPConnectionID?

    public init(message: SIPMessage, kind: SIPTransportKind, source: SocketAddress, sourceHost: String,
                sourcePort: UInt16, listener: SIPBoundListener, connection: SIPConnectionID?) {
        self.message = message
        self.kind = kind
        self.source = source
        self.sourceHost = sourceHost
        self.sourcePort = sourcePort
        self.listener = listener
        self.connection = connection
    }
}
