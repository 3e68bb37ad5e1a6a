import Foundation
import InteropTestSupport
import MediaEngine
import NIOCore
import NIOPosix
import SIPCore
import SIPStack
import SIPTransaction
import Synchronization
import Testing

/// The user agent against a scripted peer (a bare transport layer that runs no transactions):
/// the faults a real peer will not produce on demand — an ACK that never comes, a 2xx
/// retransmitted because our ACK was "lost".
@Suite struct UserAgentFaultTests {
    /// RFC 3261 timers shrunk so that 64·T1 is 1.28 s.
    static let fastTimers = TransactionTimers(t1: .milliseconds(20), t2: .milliseconds(80), t4: .milliseconds(100))

    static func agent(ports: ClosedRange<UInt16>, timers: TransactionTimers = fastTimers) throws -> (SIPUserAgent, MediaEngine) {
        let media = try MediaEngine(configuration: MediaEngine.Configuration(portRange: ports, bindAddress: "127.0.0.1"))
        let agent = SIPUserAgent(
            configuration: UserAgentConfiguration(listeners: [SIPListenerConfiguration(kind: .udp, host: "127.0.0.1")], timers: timers),
            media: media, group: MultiThreadedEventLoopGroup.singleton)
        return (agent, media)
    }

    static func offer(port: UInt16) -> String {
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio \(port) RTP/AVP 0 101\r\n"
            + "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"
    }

    // §13.3.1.4: the 2xx is retransmitted (T1, doubling to T2) until 64·T1; then the call is
    // ended with BYE and reported as ack_timeout.
    @Test func calleeWithoutACKRetransmitsTheOKThenHangsUp() async throws {
        // T1 100 ms, T2 400 ms: 64·T1 = 6.4 s. Timers of tens of ms fire late on a loaded
        // machine while the give-up is wall-clock (seen: 9 of 17 at T1 = 20 ms).
        let timers = TransactionTimers(t1: .milliseconds(100), t2: .milliseconds(400), t4: .milliseconds(500))
        let (agent, media) = try Self.agent(ports: 24600...24699, timers: timers)
        let ended = Mutex<[CallReport]>([])
        await agent.setIncomingCallHandler { report in ended.withLock { $0.append(report) } }
        try await agent.start()
        let peer = try await Node.start([.udp])
        let agentPort = try #require(await agent.boundListeners.first?.port)
        let peerPort = try #require(peer.layer.boundListeners.first?.port)
        let invite = try SIPRequest(parsing: Array("""
            INVITE sip:bob@127.0.0.1:\(agentPort) SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(peerPort);branch=z9hG4bK-noack-1;rport\r
            Max-Forwards: 70\r
            From: <sip:peer@127.0.0.1>;tag=peer1\r
            To: <sip:bob@127.0.0.1>\r
            Call-ID: noack-1@127.0.0.1\r
            CSeq: 1 INVITE\r
            Contact: <sip:peer@127.0.0.1:\(peerPort)>\r
            Content-Type: application/sdp\r
            Content-Length: \(Self.offer(port: 24798).utf8.count)\r
            \r
            \(Self.offer(port: 24798))
            """.utf8))
        try await peer.layer.send(invite, to: SIPDestination(host: "127.0.0.1", port: agentPort, kind: .udp))

        // 6.4 s of retransmissions, then the BYE's own transaction (the peer never answers it:
        // Timer F, another 6.4 s) before the report; a loaded parallel pass stretches both.
        #expect(await eventually(seconds: 60) { !ended.withLock { $0.isEmpty } })
        let report = try #require(ended.withLock { $0.first })
        #expect(report.ending.cause.code == "ack_timeout")
        let lines = peer.inbox.all.compactMap { incoming -> String? in
            switch incoming.message {
            case .response(let response): "\(response.statusCode)"
            case .request(let request): request.method.rawValue
            }
        }
        let oks = lines.filter { $0 == "200" }.count
        // Sent at 0, then +100, +200, +400, +400, … ms until 6,400 ms: 18 at most. Each
        // interval starts when the previous timer fired, so lateness adds up while the give-up
        // is 64·T1 of wall clock: 14 were seen with the unit suite running in parallel. The exact
        // schedule is checked on the pure retransmitter (SIPTransactionTests); here: the 2xx is
        // retransmitted many times, then the call ends with BYE.
        #expect(oks >= 8 && oks <= 18, "\(lines)")
        #expect(lines.contains("BYE"), "the callee ends the session with BYE (§13.3.1.4): \(lines)")
        await agent.shutdown()
        await media.shutdown()
        await peer.layer.stop()
    }

    // §13.2.2.4: every retransmission of the 2xx is ACKed again, with the same ACK.
    @Test func callerReACKsEveryRetransmittedOK() async throws {
        let (agent, media) = try Self.agent(ports: 24700...24799)
        try await agent.start()
        let peer = try await Node.start([.udp])
        let peerPort = try #require(peer.layer.boundListeners.first?.port)
        // The scripted callee answers the INVITE with 200 three times (the first and two
        // "retransmissions"), and any BYE with 200. A retransmitted INVITE (Timer A, when a
        // loaded machine delays the answer past 500 ms) is not answered again.
        let answered = Mutex(false)
        peer.layer.onMessage = { [weak layer = peer.layer, inbox = peer.inbox] incoming in
            inbox.record(incoming)
            guard let layer, case .request(let request) = incoming.message else { return }
            if request.method == .invite, answered.withLock({ done in defer { done = true }; return done }) { return }
            Task {
                switch request.method {
                case .invite:
                    let ok = try SIPResponse(
                        answering: request, statusCode: 200, toTag: "callee1",
                        contact: SIPNameAddress(uri: .sip(try SIPURI(parsing: "sip:callee@127.0.0.1:\(peerPort)"))),
                        body: Array(Self.offer(port: 24898).utf8), contentType: SIPMediaType(type: "application", subtype: "sdp"))
                    for _ in 0..<3 {
                        try await layer.send(ok, replyingTo: incoming)
                        try await Task.sleep(for: .milliseconds(50))
                    }
                case .bye:
                    try await layer.send(try SIPResponse(answering: request, statusCode: 200), replyingTo: incoming)
                default:
                    break
                }
            }
        }
        let report = await agent.placeCall(CallRequest(
            target: try SIPURI(parsing: "sip:callee@127.0.0.1:\(peerPort)"),
            destination: SIPDestination(host: "127.0.0.1", port: peerPort, kind: .udp), duration: .seconds(1)))
        let acks = peer.inbox.all.compactMap { incoming -> SIPRequest? in
            if case .request(let request) = incoming.message, request.method == .ack { request } else { nil }
        }
        #expect(report.ending.cause.code == "normal")
        #expect(acks.count == 3, "one ACK per 2xx received")
        #expect(Set(acks.map { $0.headers.first(.via)?.value ?? "" }).count == 1, "the same ACK each time (one branch)")
        #expect(acks.first.flatMap { try? $0.headers.cseq }?.sequence == 1)
        await agent.shutdown()
        await media.shutdown()
        await peer.layer.stop()
    }
}
