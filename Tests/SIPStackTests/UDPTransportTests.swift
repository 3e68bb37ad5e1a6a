import InteropTestSupport
import NIOCore
import NIOPosix
import SIPCore
import SIPStack
import Testing

@Suite("UDP transport")
struct UDPTransportTests {
    /// RFC 3581 §4: a request whose Via has an empty rport gets received and rport filled with
    /// the packet's source, and the response goes to that source port — not to the sent-by
    /// port 5999, where nothing listens — from the listening socket.
    @Test func rportFilledAndResponseReturnsToSourcePort() async throws {
        let server = try await Node.start([.udp], answering: true)
        let raw = try #require(LoopbackSocket(ipv6: false))
        let via = "SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-r1;rport"
        #expect(raw.send(Array(requestText(callID: "rport-1@test", via: via).utf8), to: server.port(.udp)))

        let incoming = try #require(await server.inbox.first(1).first)
        let request = try #require(incoming.request)
        let stamped = "SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-r1;rport=\(raw.port);received=127.0.0.1"
        #expect(request.headers.values(.via) == [stamped])
        #expect(incoming.kind == .udp)
        #expect(incoming.sourceHost == "127.0.0.1")
        #expect(incoming.sourcePort == raw.port)
        #expect(incoming.connection == nil)
        #expect(incoming.listener == server.layer.boundListeners[0])

        let datagram = try #require(await raw.receive())
        let response = try SIPResponse(parsing: datagram)
        #expect(response.statusCode == 200)
        #expect(response.headers.values(.via) == [stamped])
        #expect(response.headers.values(.callID) == ["rport-1@test"])
        #expect(await eventually { server.layer.counters.sent == 1 })
        #expect(server.layer.counters.received == 1)
        await server.layer.stop()
    }

    /// RFC 3261 §18.2.1: received is added when sent-by is a name or another address, and
    /// the Via is left as it was when sent-by is the source address and there is no rport.
    @Test func receivedAddedOnlyWhenSentByIsNotTheSource() async throws {
        let server = try await Node.start([.udp])
        let raw = try #require(LoopbackSocket(ipv6: false))
        let vias = [
            "SIP/2.0/UDP client.invalid:5070;branch=z9hG4bK-n1",
            "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-n2",
            "SIP/2.0/UDP 127.0.0.1:\(raw.port);branch=z9hG4bK-n3",
        ]
        for (index, via) in vias.enumerated() {
            #expect(raw.send(Array(requestText(callID: "n\(index)@test", via: via).utf8), to: server.port(.udp)))
            _ = await server.inbox.first(index + 1)
        }
        let received = await server.inbox.first(3).map { $0.request?.headers.values(.via) ?? [] }
        #expect(received == [
            ["SIP/2.0/UDP client.invalid:5070;branch=z9hG4bK-n1;received=127.0.0.1"],
            ["SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-n2;received=127.0.0.1"],
            ["SIP/2.0/UDP 127.0.0.1:\(raw.port);branch=z9hG4bK-n3"],
        ])
        await server.layer.stop()
    }

    /// Layer to layer over IPv4 and IPv6 loopback: the request leaves from the client's
    /// listening port (rport shows it), the response comes back to the client's listener.
    @Test(arguments: ["127.0.0.1", "::1"])
    func requestAndResponseBetweenLayers(host: String) async throws {
        let server = try await Node.start([.udp], host: host, answering: true)
        let client = try await Node.start([.udp], host: host)
        let ipv6 = host == "::1"
        let via = client.via(.udp, branch: "l1", ipv6: ipv6)
        try await client.layer.send(request(callID: "layers@test", via: via),
                                    to: SIPDestination(host: host, port: server.port(.udp), kind: .udp))

        let atServer = try #require(await server.inbox.first(1).first)
        let bracketed = ipv6 ? "[::1]" : "127.0.0.1"
        let stamped = "SIP/2.0/UDP \(bracketed):\(client.port(.udp));branch=z9hG4bK-l1;rport=\(client.port(.udp));received=\(host)"
        #expect(atServer.request?.headers.values(.via) == [stamped])
        #expect(atServer.sourcePort == client.port(.udp))

        let atClient = try #require(await client.inbox.first(1).first)
        #expect(atClient.response?.statusCode == 200)
        #expect(atClient.response?.headers.values(.via) == [stamped])
        #expect(atClient.sourcePort == server.port(.udp))
        #expect(client.layer.counters.sent == 1)
        #expect(client.layer.counters.received == 1)
        await client.layer.stop()
        await server.layer.stop()
    }

    /// RFC 3261 §18.1.2: responses with no Via or with a sent-by that is not ours are dropped
    /// and counted; a datagram that does not parse is counted and dropped.
    @Test func foreignResponsesAndGarbageAreCountedAndDropped() async throws {
        let client = try await Node.start([.udp])
        let raw = try #require(LoopbackSocket(ipv6: false))
        func response(via: String?) -> [UInt8] {
            let lines = ["SIP/2.0 200 OK"] + (via.map { ["Via: \($0)"] } ?? []) + [
                "From: <sip:alice@example.com>;tag=a1", "To: <sip:bob@example.com>;tag=b1",
                "Call-ID: drop@test", "CSeq: 1 OPTIONS", "Content-Length: 0", "", "",
            ]
            return Array(lines.joined(separator: "\r\n").utf8)
        }
        let port = client.port(.udp)
        #expect(raw.send(response(via: "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-x"), to: port))
        #expect(raw.send(response(via: nil), to: port))
        #expect(raw.send(Array("NOT SIP AT ALL\r\n\r\n".utf8), to: port))
        #expect(raw.send(Array("\r\n\r\n".utf8), to: port))  // a keep-alive: ignored, not counted
        #expect(raw.send(response(via: "SIP/2.0/UDP 127.0.0.1:\(port);branch=z9hG4bK-ours"), to: port))

        let delivered = await client.inbox.first(1)
        #expect(delivered.map { $0.response?.headers.values(.via) } == [["SIP/2.0/UDP 127.0.0.1:\(port);branch=z9hG4bK-ours"]])
        let counters = client.layer.counters
        #expect(counters.droppedResponses == 2)
        #expect(counters.parseFailures == 1)
        #expect(counters.received == 1)
        await client.layer.stop()
    }

    /// A port already taken is a start failure, not a silently shared socket, and a layer
    /// that failed to start binds nothing.
    @Test func aTakenPortFailsTheStart() async throws {
        let first = try await Node.start([.udp])
        await #expect(throws: SIPTransportError.self) {
            _ = try await Node.start([.tcp, .udp], port: first.port(.udp))
        }
        let second = SIPTransportLayer(
            configuration: SIPTransportConfiguration(listeners: [
                SIPListenerConfiguration(kind: .udp, host: "127.0.0.1", port: first.port(.udp))
            ]),
            group: MultiThreadedEventLoopGroup.singleton)
        do {
            try await second.start()
            Issue.record("the second bind succeeded")
        } catch {
            #expect(error.code == .startFailed)
        }
        #expect(second.boundListeners.isEmpty)
        await first.layer.stop()
    }

    @Test func sendingNeedsAListenerOfTheFamilyAndARunningLayer() async throws {
        let client = try await Node.start([.udp])
        let message = try request(callID: "nolistener@test", via: client.via(.udp, branch: "f1"))
        await #expect(throws: SIPTransportError(.noListener, "no IPv6 UDP listener")) {
            try await client.layer.send(message, to: SIPDestination(host: "::1", port: 5060, kind: .udp))
        }
        await #expect(throws: SIPTransportError(.unresolvedHost, "sip.example.com")) {
            try await client.layer.send(message, to: SIPDestination(host: "sip.example.com", port: 5060, kind: .udp))
        }
        await client.layer.stop()
        await #expect(throws: SIPTransportError(.notRunning)) {
            try await client.layer.send(message, to: SIPDestination(host: "127.0.0.1", port: 5060, kind: .udp))
        }
        #expect(client.layer.counters.sent == 0)
    }
}
