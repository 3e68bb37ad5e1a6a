import NIOCore
import NIOSSL
import NIOTLS  // TLSUserEvent; NIOSSL depends on it but does not re-export it
import SIPCore

/// One UDP listening socket: one datagram is one message (RFC 3261 §18.3).
final class SIPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let layer: SIPTransportLayer
    private let configuration: SIPListenerConfiguration
    private var listener: SIPBoundListener

    init(layer: SIPTransportLayer, configuration: SIPListenerConfiguration) {
        self.layer = layer
        self.configuration = configuration
        self.listener = SIPBoundListener(kind: .udp, host: configuration.host, port: configuration.port,
                                         advertisedHost: configuration.advertisedHost)
    }

    func channelActive(context: ChannelHandlerContext) {
        if let port = context.channel.localAddress?.port { listener.port = UInt16(truncatingIfNeeded: port) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        // CRLF keep-alives over UDP (RFC 5626 uses STUN there, but CRLFs are seen): ignored.
        guard bytes.contains(where: { $0 != 0x0D && $0 != 0x0A }) else { return }
        _ = layer.receive(bytes, kind: .udp, source: envelope.remoteAddress, listener: listener, connection: nil)
    }

    /// ICMP errors surface as read errors on a UDP socket; the socket stays open.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// One TCP or TLS connection: frames the stream by Content-Length (RFC 3261 §18.3), answers
/// RFC 5626 §3.5.1 pings, and closes the connection when framing or parsing fails — after a
/// stream loses a message boundary there is no telling where the next message starts.
final class SIPStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let layer: SIPTransportLayer
    private let id: SIPConnectionID
    private let kind: SIPTransportKind
    private let accepted: Bool
    private var listener: SIPBoundListener?
    private var framer: SIPStreamFramer
    private var remote: SocketAddress?
    /// The bytes the framer has not yet returned as events, starting at stream offset
    /// `unconsumedOffset`: what is left of an oversize request to answer it with 513.
    private var unconsumed: [UInt8] = []
    private var unconsumedOffset = 0
    private var bytesReceived = 0
    private var closing = false

    init(layer: SIPTransportLayer, id: SIPConnectionID, kind: SIPTransportKind, accepted: Bool,
         listener: SIPBoundListener?, framing: SIPStreamFramer.Configuration) {
        self.layer = layer
        self.id = id
        self.kind = kind
        self.accepted = accepted
        self.listener = listener
        self.framer = SIPStreamFramer(configuration: framing)
    }

    func channelActive(context: ChannelHandlerContext) {
        remote = context.channel.remoteAddress
        if listener == nil, let local = context.channel.localAddress, let (host, port) = Addressing.endpoint(local) {
            listener = SIPBoundListener(kind: kind, host: host, port: port)
        }
        layer.connectionOpened(id, channel: context.channel, remote: remote, kind: kind, accepted: accepted)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        layer.connectionClosed(id)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let chunk = unwrapInboundIn(data).readableBytesView
        framer.append(chunk)
        unconsumed.append(contentsOf: chunk)
        bytesReceived += chunk.count
        while !closing {
            let event: SIPStreamFramer.Event?
            do {
                event = try framer.next()
            } catch {
                framingFailed(error, context: context)
                return
            }
            guard let event else { break }
            switch event {
            case .message(let bytes):
                guard let remote, let listener else { continue }
                if layer.receive(bytes, kind: kind, source: remote, listener: listener, connection: id) == .malformed {
                    close(context)
                }
            case .keepAlivePing:
                // RFC 5626 §3.5.1: a CRLFCRLF ping is answered with one CRLF.
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [0x0D, 0x0A])), promise: nil)
                layer.count(\.keepAlivesAnswered)
            case .keepAlivePong:
                break  // a pong, or a stray CRLF before a start-line (RFC 3261 §7.5)
            }
        }
        let consumed = bytesReceived - framer.bufferedByteCount
        unconsumed.removeFirst(min(unconsumed.count, consumed - unconsumedOffset))
        unconsumedOffset = consumed
    }

    /// Oversize: answer a request whose header section arrived with 513 Message Too Large
    /// (RFC 3261 §21.5.14) and close; anything else that cannot be framed just closes.
    private func framingFailed(_ error: StreamFramingError, context: ChannelHandlerContext) {
        guard error.code == .messageTooLarge || error.code == .headerSectionTooLarge else {
            layer.count(\.parseFailures)
            close(context)
            return
        }
        layer.count(\.oversize)
        let start = error.messageOffset - unconsumedOffset
        guard error.code == .messageTooLarge, start >= 0, start < unconsumed.count,
              case .request(let request)? = try? SIPMessage(parsing: Array(unconsumed[start...]))
        else {
            close(context)
            return
        }
        let tag = String(UInt64.random(in: 1...UInt64.max), radix: 36)
        let response = ViaRules.statelessResponse(to: request, statusCode: 513, toTag: tag)
        closing = true
        unconsumed = []
        let channel = context.channel
        let layer = self.layer
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: response.serialize()))).whenComplete { result in
            if case .success = result { layer.count(\.sent) }
            channel.close(promise: nil)
        }
    }

    private func close(_ context: ChannelHandlerContext) {
        closing = true
        unconsumed = []
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            close(context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Resets, TLS alerts and the like: the connection is done.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context)
    }
}

/// Completes `promise` when the TLS handshake of an outgoing connection finishes, or fails it
/// with the first error (an untrusted certificate, for one) or when the connection closes first.
final class TLSHandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(SIPTransportError(.connectFailed, "connection closed during the TLS handshake"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(SIPTransportError(.connectFailed, "connection closed during the TLS handshake"))
    }
}
