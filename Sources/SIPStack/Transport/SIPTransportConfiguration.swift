import NIOCore
import NIOSSL

/// One socket to listen on.
public struct SIPListenerConfiguration: Sendable, Hashable {
    public var kind: SIPTransportKind
    /// An IP address literal: "127.0.0.1", "::1", "0.0.0.0", "::".
    public var host: String
    /// 0 lets the kernel choose; `SIPTransportLayer.boundListeners` reports the result.
    public var port: UInt16
    /// Written in Via sent-by instead of `host`; needed when `host` is a wildcard.
    public var advertisedHost: String?

    public init(kind: SIPTransportKind, host: String, port: UInt16 = 0, advertisedHost: String? = nil) {
        self.kind = kind
        self.host = host
        self.port = port
        self.advertisedHost = advertisedHost
    }
}

public struct SIPTransportConfiguration: Sendable {
    public var listeners: [SIPListenerConfiguration]
    /// Certificate and key of TLS listeners; required when a listener is `.tls`.
    public var tlsServer: TLSConfiguration?
    /// Outgoing TLS. The default verifies the server certificate against the system trust
    /// roots and the destination's name or IP address; see `clientTLS(trustRoots:)`.
    public var tlsClient: TLSConfiguration
    /// Largest message sent or accepted, in bytes (RFC 3261 §18.1.1 caps UDP at 65,535).
    public var maximumMessageSize: Int
    public var connectTimeout: TimeAmount
    /// A TCP/TLS connection with no traffic either way for this long is closed; nil keeps it.
    public var idleConnectionTimeout: TimeAmount?
    /// RFC 3261 §18.1.2: discard a response whose top Via sent-by is not one of this layer's
    /// listeners. Turn off when the user agent writes a sent-by the listeners do not know.
    public var checksResponseSentBy: Bool

    public init(
        listeners: [SIPListenerConfiguration],
        tlsServer: TLSConfiguration? = nil,
        tlsClient: TLSConfiguration = .makeClientConfiguration(),
        maximumMessageSize: Int = 65_535,
        connectTimeout: TimeAmount = .seconds(5),
        idleConnectionTimeout: TimeAmount? = .seconds(300),
        checksResponseSentBy: Bool = true
    ) {
        self.listeners = listeners
        self.tlsServer = tlsServer
        self.tlsClient = tlsClient
        self.maximumMessageSize = maximumMessageSize
        self.connectTimeout = connectTimeout
        self.idleConnectionTimeout = idleConnectionTimeout
        self.checksResponseSentBy = checksResponseSentBy
    }

    /// A client configuration that trusts only `trustRoots` (a private CA), with full
    /// certificate and hostname verification.
    public static func clientTLS(trustRoots: [NIOSSLCertificate]) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(trustRoots)
        configuration.certificateVerification = .fullVerification
        return configuration
    }
}

/// What the layer has seen since it was created.
public struct SIPTransportCounters: Sendable, Hashable {
    /// Messages handed to `onMessage`.
    public var received = 0
    /// Messages written to a socket (responses the layer generated, such as 513, included).
    public var sent = 0
    /// Datagrams or framed stream messages that did not parse, requests without a usable Via,
    /// and streams whose framing failed (missing or invalid Content-Length).
    public var parseFailures = 0
    /// Messages over `maximumMessageSize`.
    public var oversize = 0
    /// Responses discarded per RFC 3261 §18.1.2 (no Via, or a sent-by that is not ours).
    public var droppedResponses = 0
    public var connectionsOpened = 0
    public var connectionsClosed = 0
    /// RFC 5626 §3.5.1 CRLFCRLF pings answered with CRLF.
    public var keepAlivesAnswered = 0

    public init() {}
}
