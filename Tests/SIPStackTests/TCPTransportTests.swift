import Foundation
import NIOCore
import SIPCore
import SIPStack
import Testing

@Suite("TCP transport")
struct TCPTransportTests {
    /// RFC 3261 §18.1.1 / §18.2.2: three requests and their responses share one connection,
    /// and the server can send a request back over the connection it accepted.
    @Test func requestsAndResponsesReuseOneConnection() async throws {
        let server = try await Node.start([.tcp], answering: true)
        let client = try await Node.start([.tcp])
        let destination = SIPDestination(host: "127.0.0.1", port: server.port(.tcp), kind: .tcp)
        for cseq in 1...3 {
            try await client.layer.send(request(callID: "reuse@test", cseq: cseq, via: client.via(.tcp, branch: "t\(cseq)")),
                                        to: destination)
        }
        let responses = await client.inbox.first(3)
        #expect(responses.map { $0.response?.statusCode } == [200, 200, 200])
        #expect(responses.map { $0.response?.headers.values(.cseq) } == [["1 OPTIONS"], ["2 OPTIONS"], ["3 OPTIONS"]])
        let requests = await server.inbox.first(3)
        let connection = try #require(requests.first?.connection)
        #expect(requests.map(\.connection) == [connection, connection, connection])
        #expect(requests.map(\.kind) == [.tcp, .tcp, .tcp])
        let ephemeral = requests[0].sourcePort
        #expect(requests[0].request?.headers.values(.via) == [
            "SIP/2.0/TCP 127.0.0.1:\(client.port(.tcp));branch=z9hG4bK-t1;rport=\(ephemeral);received=127.0.0.1"
        ])

        // The server reaches the client over the connection the client opened.
        try await server.layer.send(request(callID: "reverse@test", via: server.via(.tcp, branch: "r1")),
                                    to: SIPDestination(host: "127.0.0.1", port: ephemeral, kind: .tcp))
        let reverse = try #require(await client.inbox.first(4).last)
        #expect(reverse.request?.headers.values(.callID) == ["reverse@test"])
        #expect(reverse.connection == responses[0].connection)

        #expect(client.layer.counters.connectionsOpened == 1)
        #expect(server.layer.counters.connectionsOpened == 1)
        #expect(client.layer.counters.sent == 3)
        #expect(await eventually { server.layer.counters.sent == 4 })
        await client.layer.stop()
        await server.layer.stop()
    }

    /// RFC 3261 §18.2.2: when the request's connection is gone, the response goes on a new
    /// connection to the received address and the sent-by port (the client's listener).
    @Test func responseOpensANewConnectionWhenTheRequestsIsClosed() async throws {
        let server = try await Node.start([.tcp])
        let client = try await Node.start([.tcp])
        try await client.layer.send(request(callID: "fallback@test", via: client.via(.tcp, branch: "fb")),
                                    to: SIPDestination(host: "127.0.0.1", port: server.port(.tcp), kind: .tcp))
        let incoming = try #require(await server.inbox.first(1).first)
        let connection = try #require(incoming.connection)
        await server.layer.closeConnection(connection)
        #expect(await eventually { client.layer.counters.connectionsClosed == 1 })
        #expect(!server.layer.isConnectionOpen(connection))

        try await server.layer.send(okResponse(to: try #require(incoming.request)), replyingTo: incoming)
        let response = try #require(await client.inbox.first(1).first)
        #expect(response.response?.statusCode == 200)
        #expect(response.listener.port == client.port(.tcp))
        #expect(response.connection != nil && response.connection != connection)
        #expect(server.layer.counters.connectionsOpened == 2)
        #expect(client.layer.counters.connectionsOpened == 2)
        await client.layer.stop()
        await server.layer.stop()
    }

    /// RFC 3261 §18.3: Content-Length frames messages whatever the segmentation.
    @Test func framesTwoMessagesInOneWriteAndOneSplitOverManyWrites() async throws {
        let server = try await Node.start([.tcp])
        let raw = try await RawStreamClient.connect(port: server.port(.tcp))
        let via = "SIP/2.0/TCP client.invalid;branch=z9hG4bK-"
        try await raw.write(requestText(callID: "f1@test", via: via + "f1") + requestText(callID: "f2@test", via: via + "f2"))
        #expect(await server.inbox.first(2).count == 2)

        let body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
        for byte in Array(requestText(callID: "f3@test", via: via + "f3", body: body).utf8) {
            try await raw.write([byte])
        }
        let messages = await server.inbox.first(3)
        #expect(messages.map { $0.request?.headers.values(.callID) } == [["f1@test"], ["f2@test"], ["f3@test"]])
        #expect(messages.last?.request?.body == Array(body.utf8))
        #expect(Set(messages.map(\.connection)).count == 1)
        #expect(server.layer.counters.parseFailures == 0)
        #expect(raw.isOpen)
        await raw.close()
        await server.layer.stop()
    }

    /// A request over the limit is answered 513 Message Too Large (RFC 3261 §21.5.14) and
    /// the connection closed: its end cannot be found without reading 70,000 bytes.
    @Test func oversizeRequestIsAnswered513ThenClosed() async throws {
        let server = try await Node.start([.tcp])
        let raw = try await RawStreamClient.connect(port: server.port(.tcp))
        let head = requestText(callID: "big@test", via: "SIP/2.0/TCP client.invalid;branch=z9hG4bK-big")
            .replacingOccurrences(of: "Content-Length: 0", with: "Content-Length: 70000")
        try await raw.write(head + String(repeating: "x", count: 1000))

        #expect(await eventually { !raw.isOpen })
        let response = try SIPResponse(parsing: raw.received)
        #expect(response.statusCode == 513)
        #expect(response.reasonPhrase == "Message Too Large")
        #expect(response.headers.values(.callID) == ["big@test"])
        #expect(response.headers.values(.cseq) == ["1 OPTIONS"])
        #expect(try response.headers.to?.tag != nil)
        let counters = server.layer.counters
        #expect(counters.oversize == 1)
        #expect(counters.received == 0)
        #expect(counters.sent == 1)
        await server.layer.stop()
    }

    /// Unframeable or unparseable bytes close the connection; nothing is guessed.
    @Test func garbageClosesTheConnectionAndIsCounted() async throws {
        let server = try await Node.start([.tcp])
        let unparseable = try await RawStreamClient.connect(port: server.port(.tcp))
        try await unparseable.write("GARBAGE LINE\r\nContent-Length: 0\r\n\r\n")
        #expect(await eventually { !unparseable.isOpen })
        let unframeable = try await RawStreamClient.connect(port: server.port(.tcp))
        try await unframeable.write("hello there\r\n\r\n")  // no Content-Length on a stream
        #expect(await eventually { !unframeable.isOpen })

        #expect(await eventually { server.layer.counters.connectionsClosed == 2 })
        let counters = server.layer.counters
        #expect(counters.parseFailures == 2)
        #expect(counters.received == 0)
        #expect(counters.connectionsOpened == 2)
        #expect(unparseable.received.isEmpty && unframeable.received.isEmpty)
        await server.layer.stop()
    }

    /// RFC 5626 §3.5.1: a CRLFCRLF ping gets one CRLF back and the connection stays usable.
    @Test func keepAlivePingIsAnsweredWithOneCRLF() async throws {
        let server = try await Node.start([.tcp])
        let raw = try await RawStreamClient.connect(port: server.port(.tcp))
        try await raw.write("\r\n\r\n")
        #expect(await eventually { raw.received.count >= 2 })
        try await raw.write(requestText(callID: "after-ping@test", via: "SIP/2.0/TCP client.invalid;branch=z9hG4bK-p"))
        let messages = await server.inbox.first(1)
        #expect(messages.map { $0.request?.headers.values(.callID) } == [["after-ping@test"]])
        #expect(raw.received == [0x0D, 0x0A])
        #expect(server.layer.counters.keepAlivesAnswered == 1)
        #expect(raw.isOpen)
        await raw.close()
        await server.layer.stop()
    }

    /// A connection with no traffic for `idleConnectionTimeout` is closed; the next request
    /// opens a new one. (The timeout leaves room for a loaded machine: at 200 ms a new
    /// connection once timed out before the sending task was scheduled to write on it, and at
    /// 1 s before a starved server had answered on it.)
    @Test func idleConnectionIsClosed() async throws {
        let server = try await Node.start([.tcp], answering: true)
        let client = try await Node.start([.tcp], idleTimeout: .seconds(4))
        let destination = SIPDestination(host: "127.0.0.1", port: server.port(.tcp), kind: .tcp)
        try await client.layer.send(request(callID: "idle@test", cseq: 1, via: client.via(.tcp, branch: "i1")), to: destination)
        #expect(await client.inbox.first(1).count == 1)
        #expect(await eventually(seconds: 40) { client.layer.counters.connectionsClosed == 1 })
        #expect(await eventually(seconds: 40) { server.layer.counters.connectionsClosed == 1 })

        try await client.layer.send(request(callID: "idle@test", cseq: 2, via: client.via(.tcp, branch: "i2")), to: destination)
        #expect(await client.inbox.first(2).map { $0.response?.headers.values(.cseq) } == [["1 OPTIONS"], ["2 OPTIONS"]])
        #expect(client.layer.counters.connectionsOpened == 2)
        await client.layer.stop()
        await server.layer.stop()
    }

    @Test func connectingToAClosedPortIsATypedError() async throws {
        // A port bound but not listening refuses connections, and stays ours for the test
        // (a port freed by a stopped listener was once taken by a parallel test's server).
        let held = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(held) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try #require(bind(held, $0, length) == 0)
                try #require(getsockname(held, $0, &length) == 0)
            }
        }
        let port = UInt16(bigEndian: address.sin_port)
        let client = try await Node.start([.tcp])
        let message = try request(callID: "refused@test", via: client.via(.tcp, branch: "x"))
        do {
            try await client.layer.send(message, to: SIPDestination(host: "127.0.0.1", port: port, kind: .tcp))
            Issue.record("the send succeeded")
        } catch {
            #expect(error.code == .connectFailed)
        }
        #expect(client.layer.counters.connectionsOpened == 0)
        await client.layer.stop()
    }
}
