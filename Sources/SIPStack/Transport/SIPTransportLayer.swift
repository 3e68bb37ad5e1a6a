import NIOCore
import NIOPosix
import NIOSSL
import SIPCore
import Synchronization

/// SIP over UDP, TCP and TLS (RFC 3261 §18, RFC 3581) on SwiftNIO.
///
/// Requests and responses leave UDP from the listening socket they belong to, so the port a
/// peer sees is the one in our Via (symmetric signalling, which RFC 3581 relies on). TCP and
/// TLS connections, opened by either side, are kept and reused in both directions until they
/// idle out. `onMessage` is called on the event loop of the socket; it must not block.
///
/// Call `stop()` before dropping the layer: channels hold it until they are closed.
public final class SIPTransportLayer: Sendable {
    public let configuration: SIPTransportConfiguration
    private let group: any EventLoopGroup
    private let state = Mutex(State())
    /// The handler boxed in a struct: a closure stored straight into a `Mutex` and read back as
    /// `@Sendable (SIPIncoming) -> Void` was re-wrapped in conversion thunks on every read, so each
    /// message cost more than the last (a stack overflow after ~131k messages).
    private struct Handler: Sendable {
        var call: @Sendable (SIPIncoming) -> Void
    }
    private let handler = Mutex(Handler(call: { _ in }))

    public init(configuration: SIPTransportConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
    }

    /// Called with every message received. Set it before `start()`.
    public var onMessage: @Sendable (SIPIncoming) -> Void {
        get { handler.withLock { $0.call } }
        set { handler.withLock { $0.call = newValue } }
    }

    /// The listeners, in configuration order, with the ports actually bound. Empty before `start()`.
    public var boundListeners: [SIPBoundListener] { state.withLock { $0.listeners.map(\.bound) } }

    public var counters: SIPTransportCounters { state.withLock { $0.counters } }

    /// The sent-by for a Via (and the host/port for a Contact) of a request sent over `kind`
    /// (RFC 3261 §18.1.1): the first listener of that kind, of the IPv6 family when `ipv6`,
    /// else of any family. Nil when there is no listener of that kind.
    public func sentBy(for kind: SIPTransportKind, ipv6: Bool = false) -> (host: SIPHost, port: UInt16)? {
        let listeners = boundListeners.filter { $0.kind == kind }
        return (listeners.first { $0.isIPv6 == ipv6 } ?? listeners.first)?.sentBy
    }

    // MARK: lifecycle

    /// Binds every listener. On failure nothing stays bound.
    public func start() async throws(SIPTransportError) {
        let claimed = state.withLock { state -> Bool in
            guard case .idle = state.phase else { return false }
            state.phase = .starting
            return true
        }
        guard claimed else { throw SIPTransportError(.alreadyStarted) }
        let serverTLS: NIOSSLContext?
        do {
            serverTLS = try makeServerTLSContext()
            let clientTLS = try NIOSSLContext(configuration: configuration.tlsClient)
            state.withLock { $0.tlsClient = clientTLS }
        } catch {
            state.withLock { $0.phase = .idle }
            throw error as? SIPTransportError ?? SIPTransportError(.startFailed, "TLS configuration: \(error)")
        }

        var bound: [ListenerRecord] = []
        for listener in configuration.listeners {
            do {
                let channel = try await bind(listener, serverTLS: serverTLS)
                let port = channel.localAddress?.port.map { UInt16(truncatingIfNeeded: $0) } ?? listener.port
                bound.append(ListenerRecord(
                    bound: SIPBoundListener(kind: listener.kind, host: listener.host, port: port,
                                            advertisedHost: listener.advertisedHost),
                    channel: channel))
            } catch {
                for record in bound { try? await record.channel.close() }
                state.withLock { $0.phase = .idle }
                throw SIPTransportError(.startFailed, "bind \(listener.kind) \(listener.host):\(listener.port): \(error)")
            }
        }
        state.withLock {
            $0.listeners = bound
            $0.phase = .running
        }
    }

    private func makeServerTLSContext() throws -> NIOSSLContext? {
        guard configuration.listeners.contains(where: { $0.kind == .tls }) else { return nil }
        guard let tlsServer = configuration.tlsServer else {
            throw SIPTransportError(.startFailed, "a TLS listener needs tlsServer")
        }
        return try NIOSSLContext(configuration: tlsServer)
    }

    /// Closes the listeners and every connection. Sends fail with `.notRunning` afterwards.
    public func stop() async {
        let channels: [any Channel] = state.withLock { state in
            state.phase = .stopped
            return state.listeners.map(\.channel) + state.connections.values.map(\.channel)
        }
        for channel in channels { try? await channel.close() }
    }

    /// Closes one TCP/TLS connection (no-op when it is already gone).
    public func closeConnection(_ id: SIPConnectionID) async {
        guard let channel = state.withLock({ $0.connections[id]?.channel }) else { return }
        try? await channel.close()
    }

    /// Whether a TCP/TLS connection is still open.
    public func isConnectionOpen(_ id: SIPConnectionID) -> Bool {
        state.withLock { $0.connections[id]?.channel.isActive ?? false }
    }

    // MARK: sending

    /// Sends a request (RFC 3261 §18.1.1). UDP leaves from the listening socket of the
    /// destination's address family. TCP/TLS reuse an open connection to the destination or
    /// open one, which then also carries requests from the peer.
    public func send(_ request: SIPRequest, to destination: SIPDestination) async throws(SIPTransportError) {
        let bytes = request.serialize()
        try checkSize(bytes)
        let address = try Addressing.resolve(destination.host, port: destination.port,
                                             preferIPv6: prefersIPv6(for: destination.kind))
        switch destination.kind {
        case .udp:
            try await sendDatagram(bytes, to: address, from: nil)
        case .tcp, .tls:
            let serverName = destination.kind == .tls ? destination.serverName ?? hostName(destination.host) : nil
            try await sendOnConnection(bytes, to: address, kind: destination.kind, serverName: serverName)
        }
    }

    /// A connection found open may have been closed by the peer a moment ago, and a new one may
    /// have been closed (idle timeout) before this task got to write on it: when the write fails
    /// on a reused connection, or on a new one that is no longer active, one new connection is
    /// tried.
    private func sendOnConnection(_ bytes: [UInt8], to address: SocketAddress, kind: SIPTransportKind,
                                  serverName: String?) async throws(SIPTransportError) {
        let (channel, reused) = try await connection(to: address, kind: kind, serverName: serverName)
        do {
            try await write(bytes, on: channel)
        } catch where reused || !channel.isActive {
            // The pooled channel may still look active while it closes: never take it again.
            let (fresh, _) = try await connection(to: address, kind: kind, serverName: serverName,
                                                  excluding: ObjectIdentifier(channel))
            try await write(bytes, on: fresh)
        }
    }

    /// Sends a response (RFC 3261 §18.2.2, RFC 3581 §4). Over TCP/TLS on the connection the
    /// request came in on while it is open, else on a connection to the top Via's `received`
    /// (or sent-by host) and sent-by port. Over UDP to `received` at the `rport` port when
    /// present (else the sent-by host and port, else 5060), from the listening socket the
    /// request arrived on. With no `incoming`, the top Via's transport decides.
    public func send(_ response: SIPResponse, replyingTo incoming: SIPIncoming?) async throws(SIPTransportError) {
        let top: SIPVia?
        do {
            top = try response.headers.topVia
        } catch {
            throw SIPTransportError(.noRoute, "top Via: \(error)")
        }
        guard let via = top else { throw SIPTransportError(.noRoute, "response has no Via") }
        guard let kind = incoming?.kind ?? SIPTransportKind(viaToken: via.transport) else {
            throw SIPTransportError(.noRoute, "unsupported transport \(via.transport)")
        }
        let bytes = response.serialize()
        try checkSize(bytes)
        switch kind {
        case .udp:
            let target = ViaRules.datagramResponseTarget(via)
            let address = try Addressing.resolve(target.host, port: target.port)
            try await sendDatagram(bytes, to: address, from: incoming?.listener)
        case .tcp, .tls:
            if let id = incoming?.connection,
               let channel = state.withLock({ $0.connections[id]?.channel }), channel.isActive {
                try await write(bytes, on: channel)
                return
            }
            let target = ViaRules.streamResponseTarget(via, kind: kind)
            let address = try Addressing.resolve(target.host, port: target.port)
            let serverName = kind == .tls ? hostName(via.host.bare) : nil
            try await sendOnConnection(bytes, to: address, kind: kind, serverName: serverName)
        }
    }

    private func checkSize(_ bytes: [UInt8]) throws(SIPTransportError) {
        guard bytes.count <= configuration.maximumMessageSize else {
            throw SIPTransportError(.messageTooLarge, "\(bytes.count) bytes, limit \(configuration.maximumMessageSize)")
        }
    }

    /// The name a TLS certificate must carry: the host when it is a name ("localhost"
    /// included); for an IP literal none, and the certificate must carry the address.
    private func hostName(_ host: String) -> String? {
        Addressing.canonicalIP(host) == nil ? Addressing.unbracketed(host) : nil
    }

    /// "localhost" goes to ::1 only when the kind has IPv6 listeners and no IPv4 one.
    private func prefersIPv6(for kind: SIPTransportKind) -> Bool {
        let listeners = boundListeners.filter { $0.kind == kind }
        return !listeners.isEmpty && listeners.allSatisfy(\.isIPv6)
    }

    private func sendDatagram(_ bytes: [UInt8], to address: SocketAddress, from listener: SIPBoundListener?) async throws(SIPTransportError) {
        let ipv6 = address.protocol == .inet6
        let channel = try state.withLock { state throws(SIPTransportError) -> any Channel in
            guard case .running = state.phase else { throw SIPTransportError(.notRunning) }
            let udp = state.listeners.filter { $0.bound.kind == .udp }
            let record = udp.first { $0.bound == listener } ?? udp.first { $0.bound.isIPv6 == ipv6 }
            guard let record else { throw SIPTransportError(.noListener, "no \(ipv6 ? "IPv6" : "IPv4") UDP listener") }
            return record.channel
        }
        do {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)))
        } catch {
            throw SIPTransportError(.sendFailed, "UDP to \(address): \(error)")
        }
        state.withLock { $0.counters.sent += 1 }
    }

    private func write(_ bytes: [UInt8], on channel: any Channel) async throws(SIPTransportError) {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        } catch {
            throw SIPTransportError(.sendFailed, "\(error)")
        }
        state.withLock { $0.counters.sent += 1 }
    }

    // MARK: connections

    /// An open connection to `address`, reused (`reused` true) or opened (one connect at a
    /// time per destination).
    private func connection(to address: SocketAddress, kind: SIPTransportKind, serverName: String?,
                            excluding failed: ObjectIdentifier? = nil) async throws(SIPTransportError) -> (channel: any Channel, reused: Bool) {
        let key = RemoteKey(kind: kind, address: address, serverName: serverName)
        enum Plan {
            case use(any Channel)
            case wait(EventLoopFuture<any Channel>)
            case connect(SIPConnectionID, EventLoopPromise<any Channel>, SIPBoundListener?, NIOSSLContext?)
        }
        let plan = try state.withLock { state throws(SIPTransportError) -> Plan in
            guard case .running = state.phase else { throw SIPTransportError(.notRunning) }
            if let id = state.byRemote[key], let channel = state.connections[id]?.channel, channel.isActive,
               ObjectIdentifier(channel) != failed {
                return .use(channel)
            }
            if let pending = state.connecting[key] { return .wait(pending) }
            let promise = group.next().makePromise(of: (any Channel).self)
            state.connecting[key] = promise.futureResult
            let listeners = state.listeners.map(\.bound).filter { $0.kind == kind }
            let listener = listeners.first { $0.isIPv6 == (address.protocol == .inet6) } ?? listeners.first
            return .connect(state.makeConnectionID(), promise, listener, state.tlsClient)
        }
        let future: EventLoopFuture<any Channel>
        switch plan {
        case .use(let channel):
            return (channel, true)
        case .wait(let pending):
            future = pending
        case .connect(let id, let promise, let listener, let tlsContext):
            connect(id: id, to: address, kind: kind, serverName: serverName, listener: listener, tls: tlsContext)
                .whenComplete { result in
                    self.state.withLock { state in
                        state.connecting[key] = nil
                        if case .success = result { state.byRemote[key] = id }
                    }
                    promise.completeWith(result)
                }
            future = promise.futureResult
        }
        do {
            return (try await future.get(), false)
        } catch let error as SIPTransportError {
            throw error
        } catch {
            throw SIPTransportError(.connectFailed, "\(error)")
        }
    }

    private func connect(id: SIPConnectionID, to address: SocketAddress, kind: SIPTransportKind, serverName: String?,
                         listener: SIPBoundListener?, tls: NIOSSLContext?) -> EventLoopFuture<any Channel> {
        let loop = group.next()
        let handshake: EventLoopPromise<Void>? = kind == .tls ? loop.makePromise() : nil
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let handshake {
                        guard let tls else { throw SIPTransportError(.tlsHandshakeFailed, "no client TLS context") }
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        try pipeline.addHandler(TLSHandshakeWatcher(promise: handshake))
                    }
                    try self.addStreamHandlers(pipeline, id: id, kind: kind, outbound: true, listener: listener)
                }
            }
        let connected = bootstrap.connect(to: address).flatMapErrorThrowing { error -> any Channel in
            handshake?.fail(error)
            if let error = error as? ChannelError, case .connectTimeout = error {
                throw SIPTransportError(.connectTimeout, "\(kind) \(address)")
            }
            throw SIPTransportError(.connectFailed, "\(kind) \(address): \(error)")
        }
        guard let handshake else { return connected }
        return connected.flatMap { channel in
            handshake.futureResult.map { channel }.flatMapError { error in
                channel.close(promise: nil)
                return loop.makeFailedFuture(SIPTransportError(.tlsHandshakeFailed, "\(address): \(error)"))
            }
        }
    }

    private func bind(_ listener: SIPListenerConfiguration, serverTLS: NIOSSLContext?) async throws -> any Channel {
        switch listener.kind {
        case .udp:
            // No SO_REUSEADDR: for UDP, Linux would let a second layer bind the same port and
            // silently take its traffic.
            return try await DatagramBootstrap(group: group)
                // One datagram is one message (§18.3): read up to the largest UDP payload.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SIPDatagramHandler(layer: self, configuration: listener))
                    }
                }
                .bind(host: listener.host, port: Int(listener.port)).get()
        case .tcp, .tls:
            let layer = self
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if listener.kind == .tls, let serverTLS {
                            try pipeline.addHandler(NIOSSLServerHandler(context: serverTLS))
                        }
                        let id = layer.state.withLock { $0.makeConnectionID() }
                        let local = channel.localAddress.flatMap(\.port).map { UInt16(truncatingIfNeeded: $0) } ?? listener.port
                        try layer.addStreamHandlers(
                            pipeline, id: id, kind: listener.kind, outbound: false,
                            listener: SIPBoundListener(kind: listener.kind, host: listener.host, port: local,
                                                       advertisedHost: listener.advertisedHost))
                    }
                }
                .bind(host: listener.host, port: Int(listener.port)).get()
        }
    }

    private func addStreamHandlers(_ pipeline: ChannelPipeline.SynchronousOperations, id: SIPConnectionID,
                                   kind: SIPTransportKind, outbound: Bool, listener: SIPBoundListener?) throws {
        if let idle = configuration.idleConnectionTimeout {
            try pipeline.addHandler(IdleStateHandler(allTimeout: idle))
        }
        try pipeline.addHandler(SIPStreamHandler(
            layer: self, id: id, kind: kind, accepted: !outbound, listener: listener,
            framing: SIPStreamFramer.Configuration(
                maximumHeaderSectionSize: configuration.maximumMessageSize,
                maximumMessageSize: configuration.maximumMessageSize,
                keepAliveRole: outbound ? .initiator : .acceptor)))
    }

    // MARK: called by the channel handlers

    /// An accepted connection becomes reusable for requests to the peer's address at once; one
    /// this layer opened, once `connection(to:)` has it (after the TLS handshake).
    func connectionOpened(_ id: SIPConnectionID, channel: any Channel, remote: SocketAddress?, kind: SIPTransportKind,
                          accepted: Bool) {
        let stopped = state.withLock { state -> Bool in
            state.counters.connectionsOpened += 1
            state.connections[id] = ConnectionRecord(channel: channel)
            if accepted, let remote {
                let key = RemoteKey(kind: kind, address: remote, serverName: nil)
                if state.byRemote[key] == nil { state.byRemote[key] = id }
            }
            if case .stopped = state.phase { return true }
            return false
        }
        if stopped { channel.close(promise: nil) }
    }

    func connectionClosed(_ id: SIPConnectionID) {
        state.withLock { state in
            guard state.connections.removeValue(forKey: id) != nil else { return }
            state.counters.connectionsClosed += 1
            state.byRemote = state.byRemote.filter { $0.value != id }
        }
    }

    func count(_ counter: WritableKeyPath<SIPTransportCounters, Int>) {
        state.withLock { $0.counters[keyPath: counter] += 1 }
    }

    enum Disposition {
        case delivered
        /// Dropped by rule (a response that is not ours); the stream stays usable.
        case dropped
        /// Unparseable or without a usable Via: a stream must be closed.
        case malformed
    }

    /// The receive rules every transport shares: parse, stamp a request's top Via (RFC 3261
    /// §18.2.1, RFC 3581 §4), check a response's (§18.1.2), pass up.
    func receive(_ bytes: [UInt8], kind: SIPTransportKind, source: SocketAddress, listener: SIPBoundListener,
                 connection: SIPConnectionID?) -> Disposition {
        guard bytes.count <= configuration.maximumMessageSize else {
            count(\.oversize)
            return .malformed
        }
        guard let (sourceHost, sourcePort) = Addressing.endpoint(source),
              var message = try? SIPMessage(parsing: bytes),
              // §18.3: a datagram shorter than its Content-Length is discarded.
              (message.framing?.missingBodyBytes ?? 0) == 0
        else {
            count(\.parseFailures)
            return .malformed
        }
        switch message {
        case .request(var request):
            guard (try? ViaRules.stampReceived(&request.headers, sourceHost: sourceHost, sourcePort: sourcePort)) == true else {
                count(\.parseFailures)
                return .malformed
            }
            message = .request(request)
        case .response(let response):
            let listeners = boundListeners
            guard let via = try? response.headers.topVia,
                  !configuration.checksResponseSentBy || ViaRules.isOurs(via, listeners: listeners)
            else {
                count(\.droppedResponses)
                return .dropped
            }
        }
        count(\.received)
        let incoming = SIPIncoming(message: message, kind: kind, source: source, sourceHost: sourceHost,
                                   sourcePort: sourcePort, listener: listener, connection: connection)
        let call = handler.withLock { $0.call }
        call(incoming)
        return .delivered
    }
}

extension SIPTransportLayer {
    fileprivate enum Phase {
        case idle
        case starting
        case running
        case stopped
    }

    fileprivate struct ListenerRecord {
        var bound: SIPBoundListener
        var channel: any Channel
    }

    fileprivate struct ConnectionRecord {
        var channel: any Channel
    }

    /// A connection's far end; `serverName` keeps TLS connections verified for different
    /// names apart.
    fileprivate struct RemoteKey: Hashable {
        var kind: SIPTransportKind
        var address: SocketAddress
        var serverName: String?
    }

    fileprivate struct State {
        var phase = Phase.idle
        var listeners: [ListenerRecord] = []
        var connections: [SIPConnectionID: ConnectionRecord] = [:]
        var byRemote: [RemoteKey: SIPConnectionID] = [:]
        var connecting: [RemoteKey: EventLoopFuture<any Channel>] = [:]
        var counters = SIPTransportCounters()
        var tlsClient: NIOSSLContext?
        private var lastConnectionID: UInt64 = 0

        mutating func makeConnectionID() -> SIPConnectionID {
            lastConnectionID += 1
            return SIPConnectionID(rawValue: lastConnectionID)
        }
    }
}
