/// A message could not be sent, or the layer could not start.
public struct SIPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let description: String
        private init(_ description: String) { self.description = description }

        /// `start()` was not called, or `stop()` was.
        public static let notRunning = Code("transport not running")
        public static let alreadyStarted = Code("transport already started")
        /// A listener could not be bound, or the TLS configuration is unusable.
        public static let startFailed = Code("transport could not start")
        /// No UDP listener of the destination's address family to send from.
        public static let noListener = Code("no listener for this transport")
        /// Neither an IP literal nor "localhost".
        public static let unresolvedHost = Code("host is not an IP address")
        public static let messageTooLarge = Code("message too large")
        public static let connectFailed = Code("connection failed")
        public static let connectTimeout = Code("connection timed out")
        /// The TLS handshake failed: an untrusted or mismatching certificate, for example.
        public static let tlsHandshakeFailed = Code("TLS handshake failed")
        /// The write failed (the connection closed under it, or the socket refused it).
        public static let sendFailed = Code("send failed")
        /// A response with no usable top Via (RFC 3261 §18.2.2 has nowhere to send it).
        public static let noRoute = Code("no route for response")
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? code.description : "\(code): \(detail)" }
}
