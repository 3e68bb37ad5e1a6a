import Foundation
import InteropTestSupport
import NIOCore
import NIOPosix
import NIOSSL
import SIPCore
import SIPStack
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Polls `condition` until it holds or `seconds` pass, without blocking the test's thread.
func eventually(seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// What a transport layer passed up, in order.
final class Inbox: Sendable {
    private let messages = Mutex<[SIPIncoming]>([])

    func record(_ incoming: SIPIncoming) { messages.withLock { $0.append(incoming) } }

    var all: [SIPIncoming] { messages.withLock { $0 } }

    /// The first `count` messages once they are in (fewer if they do not come within `seconds`).
    func first(_ count: Int, seconds: Double = 20) async -> [SIPIncoming] {
        _ = await eventually(seconds: seconds) { self.all.count >= count }
        return Array(all.prefix(count))
    }
}

/// A transport layer under test with its inbox.
struct Node {
    let layer: SIPTransportLayer
    let inbox: Inbox

    /// Starts a layer with one listener per kind on `host`, port 0. With `answering`, every
    /// request is answered 200 through `send(_:replyingTo:)`.
    static func start(
        _ kinds: [SIPTransportKind], host: String = "127.0.0.1", answering: Bool = false,
        port: UInt16 = 0, tlsServer: TLSConfiguration? = nil,
        tlsClient: TLSConfiguration = .makeClientConfiguration(), idleTimeout: TimeAmount? = .seconds(300)
    ) async throws -> Node {
        let configuration = SIPTransportConfiguration(
            listeners: kinds.map { SIPListenerConfiguration(kind: $0, host: host, port: port) },
            tlsServer: tlsServer, tlsClient: tlsClient, idleConnectionTimeout: idleTimeout)
        let layer = SIPTransportLayer(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton)
        let inbox = Inbox()
        layer.onMessage = { [weak layer] incoming in
            inbox.record(incoming)
            guard answering, case .request(let request) = incoming.message, let layer else { return }
            Task { try await layer.send(okResponse(to: request), replyingTo: incoming) }
        }
        try await layer.start()
        return Node(layer: layer, inbox: inbox)
    }

    func port(_ kind: SIPTransportKind) -> UInt16 {
        layer.boundListeners.first { $0.kind == kind }?.port ?? 0
    }

    /// A Via for a request this node sends over `kind`, as a user agent writes it (RFC 3261
    /// §18.1.1 sent-by, RFC 3581 §3 empty rport).
    func via(_ kind: SIPTransportKind, branch: String, ipv6: Bool = false) -> String {
        let sentBy = layer.sentBy(for: kind, ipv6: ipv6)!
        return "SIP/2.0/\(kind.viaToken) \(sentBy.host):\(sentBy.port);branch=z9hG4bK-\(branch);rport"
    }
}

func requestText(callID: String, cseq: Int = 1, via: String, body: String = "") -> String {
    [
        "OPTIONS sip:bob@example.com SIP/2.0",
        "Via: \(via)",
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=a1",
        "To: <sip:bob@example.com>",
        "Call-ID: \(callID)",
        "CSeq: \(cseq) OPTIONS",
        "Content-Length: \(body.utf8.count)",
        "",
        body,
    ].joined(separator: "\r\n")
}

func request(callID: String, cseq: Int = 1, via: String) throws -> SIPRequest {
    try SIPRequest(parsing: Array(requestText(callID: callID, cseq: cseq, via: via).utf8))
}

/// RFC 3261 §8.2.6.2: Via, From, To, Call-ID and CSeq copied from the request.
func okResponse(to request: SIPRequest) -> SIPResponse {
    var headers = SIPHeaders()
    for field in request.headers where field.name == .via { headers.add(field) }
    for name in [SIPHeaderName.from, .to, .callID, .cseq] {
        if let field = request.headers.first(name) { headers.add(field) }
    }
    return SIPResponse(statusCode: 200, headers: headers)
}

extension SIPIncoming {
    var request: SIPRequest? { if case .request(let request) = message { request } else { nil } }
    var response: SIPResponse? { if case .response(let response) = message { response } else { nil } }
}

extension LoopbackSocket {
    var port: UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// The next datagram, or nil when none arrives within `seconds`. Polls without blocking and
    /// sleeps between tries: a blocking poll would hold one of Swift Testing's cooperative threads
    /// (two on this machine), and the task that sends the awaited datagram may need it. 30 s by
    /// default: it returns as soon as the datagram is there, and a fresh clone's parallel unit
    /// pass was seen to starve the answering task for more than 5 s.
    func receive(seconds: Double = 30) async -> [UInt8]? {
        var descriptor = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
        let ready = await eventually(seconds: seconds) {
            descriptor.revents = 0
            return poll(&descriptor, 1, 0) == 1
        }
        guard ready else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(self.descriptor, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[..<count]) : nil
    }
}

/// A bare TCP (or TLS) client that writes what a test gives it and keeps what comes back,
/// for exercising a listener with bytes no well-behaved stack would send.
final class RawStreamClient: Sendable {
    let channel: any Channel
    private let sink: ByteSink

    static func connect(port: UInt16, tls: NIOSSLContext? = nil) async throws -> RawStreamClient {
        let sink = ByteSink()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    try channel.pipeline.syncOperations.addHandler(Collector(sink: sink))
                }
            }
            .connect(host: "127.0.0.1", port: Int(port)).get()
        return RawStreamClient(channel: channel, sink: sink)
    }

    private init(channel: any Channel, sink: ByteSink) {
        self.channel = channel
        self.sink = sink
    }

    func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    var received: [UInt8] { sink.bytes }
    var isOpen: Bool { sink.isOpen }

    func close() async { try? await channel.close() }

    final class ByteSink: Sendable {
        private let state = Mutex<(bytes: [UInt8], open: Bool)>(([], true))
        var bytes: [UInt8] { state.withLock { $0.bytes } }
        var isOpen: Bool { state.withLock { $0.open } }
        func append(_ bytes: some Sequence<UInt8>) { state.withLock { $0.bytes.append(contentsOf: bytes) } }
        func closed() { state.withLock { $0.open = false } }
    }

    final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let sink: ByteSink
        init(sink: ByteSink) { self.sink = sink }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            sink.append(unwrapInboundIn(data).readableBytesView)
        }
        func channelInactive(context: ChannelHandlerContext) {
            sink.closed()
            context.fireChannelInactive()
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
