import EarshotStore
import EarshotWire
import Foundation
import NIOWebSocket
import OrganizerKit
import Testing
import WSCore

@Suite struct AgentProtocolTests {
    @Test func enrollmentTokenIsSingleUseAndTheCredentialWorks() async throws {
        try await TestOrganizer.with { org in
            let token = try await org.enrollmentToken(site: "branch")
            let first = try await ProtocolClient.connect(port: org.port)
            first.send(.enroll(EnrollRequest(token: token, name: "edge-1")))
            guard case .enrolled(let enrolled) = try await first.next() else { throw TestFailure("expected enrolled") }
            #expect(enrolled.site == "branch")
            #expect(enrolled.agentID.hasPrefix("ag_"))
            #expect(enrolled.credential.hasPrefix("esc_"))
            first.send(.hello(ProtocolClient.hello(enrolled, name: "edge-1")))
            guard case .welcome(let welcome) = try await first.next() else { throw TestFailure("expected welcome") }
            #expect(welcome.agentID == enrolled.agentID)
            #expect(welcome.heartbeatIntervalS == 10)
            #expect(welcome.offlineAfterMissed == 3)
            #expect(welcome.acknowledgedRuns == [])

            // The stored agent carries no secret, and is online.
            let info = try await org.request(.GET, "/v1/agents/edge-1").decode(AgentInfo.self)
            #expect(info.id == enrolled.agentID)
            #expect(info.state == .online)
            #expect(info.site == "branch")
            let record = try await org.storage.agent(enrolled.agentID)
            #expect(record?.credentialHash == Secrets.hash(enrolled.credential))
            let raw = try await org.request(.GET, "/v1/agents").text
            #expect(!raw.contains(enrolled.credential))

            // The same token a second time: refused, fatal, closed.
            let second = try await ProtocolClient.connect(port: org.port)
            second.send(.enroll(EnrollRequest(token: token, name: "edge-2")))
            guard case .error(let refused) = try await second.next() else { throw TestFailure("expected error") }
            #expect(refused.code == .enrollmentRefused)
            #expect(refused.fatal)
            #expect(try await second.closed()?.closeCode == .policyViolation)

            // The credential works for a new connection (which replaces the first one).
            let again = try await ProtocolClient.connect(port: org.port)
            again.send(.hello(ProtocolClient.hello(enrolled, name: "edge-1")))
            guard case .welcome = try await again.next() else { throw TestFailure("expected welcome") }
            guard case .error(let replaced) = try await first.next() else { throw TestFailure("expected duplicate_session") }
            #expect(replaced.code == .duplicateSession)
            _ = try await first.closed()

            // A wrong credential is refused.
            let wrong = try await ProtocolClient.connect(port: org.port)
            wrong.send(.hello(ProtocolClient.hello(enrolled, name: "edge-1", credential: "esc_wrong")))
            guard case .error(let unauthorized) = try await wrong.next() else { throw TestFailure("expected error") }
            #expect(unauthorized.code == .unauthorized)
            #expect(unauthorized.fatal)
            #expect(try await wrong.closed()?.closeCode == .policyViolation)
            again.close()
        }
    }

    @Test func versionMismatchIsAFatalErrorFrame() async throws {
        try await TestOrganizer.with { org in
            let client = try await ProtocolClient.connect(port: org.port)
            client.sendRaw(#"{"v": 99, "type": "hello", "body": {}}"#)
            guard case .error(let error) = try await client.next() else { throw TestFailure("expected error") }
            #expect(error.code == .versionMismatch)
            #expect(error.fatal)
            #expect(error.supportedVersions == [1])
            #expect(error.message.contains("99"))
            #expect(try await client.closed()?.closeCode == .protocolError)
        }
    }

    @Test func malformedFrameIsNotFatal() async throws {
        try await TestOrganizer.with { org in
            let (client, _) = try await org.connectedAgent(name: "m1")
            client.sendRaw("this is not json")
            guard case .error(let e1) = try await client.next() else { throw TestFailure("expected error") }
            #expect(e1.code == .badMessage)
            #expect(!e1.fatal)
            client.sendRaw(#"{"v": 1, "type": "heartbeat", "body": {"seq": "one"}}"#)
            guard case .error(let e2) = try await client.next() else { throw TestFailure("expected error") }
            #expect(e2.code == .badMessage)
            #expect(e2.message.contains("seq"))
            client.sendRaw(#"{"v": 1, "type": "teleport", "body": {}}"#)
            guard case .error(let e3) = try await client.next() else { throw TestFailure("expected error") }
            #expect(e3.message.contains("teleport"))
            // The connection still works.
            client.send(.heartbeat(Heartbeat(seq: 7, sentAt: Date())))
            guard case .heartbeatAck(let ack) = try await client.next() else { throw TestFailure("expected ack") }
            #expect(ack.seq == 7)
            client.close()
        }
    }

    @Test func firstFrameMustAuthenticate() async throws {
        try await TestOrganizer.with { org in
            let client = try await ProtocolClient.connect(port: org.port)
            client.send(.heartbeat(Heartbeat(seq: 1, sentAt: Date())))
            guard case .error(let e) = try await client.next() else { throw TestFailure("expected error") }
            #expect(e.code == .unauthorized)
            #expect(e.fatal)
            #expect(try await client.closed()?.closeCode == .policyViolation)
        }
    }

    @Test func oversizeFrameClosesWith1009() async throws {
        try await TestOrganizer.with { org in
            let (client, _) = try await org.connectedAgent(name: "big")
            let huge = "{\"v\":1,\"type\":\"heartbeat\",\"body\":{\"pad\":\"" + String(repeating: "x", count: WireProtocol.maximumFrameBytes) + "\"}}"
            client.sendRaw(huge)
            guard case .error(let e) = try await client.next(seconds: 30) else { throw TestFailure("expected error") }
            #expect(e.code == .frameTooLarge)
            #expect(e.fatal)
            #expect(try await client.closed(seconds: 30)?.closeCode == .messageTooLarge)
            // The organizer is fine.
            #expect(try await org.request(.GET, "/v1/status").status == 200)
        }
    }

    @Test func revokeClosesTheSocketAndRefusesTheAgent() async throws {
        try await TestOrganizer.with { org in
            let (client, enrolled) = try await org.connectedAgent(name: "doomed")
            let revoked = try await org.request(.POST, "/v1/agents/doomed/revoke")
            #expect(revoked.status == 200)
            #expect(try revoked.decode(AgentInfo.self).state == .revoked)
            guard case .error(let e) = try await client.next() else { throw TestFailure("expected error") }
            #expect(e.code == .revoked)
            #expect(e.fatal)
            #expect(try await client.closed()?.closeCode == .policyViolation)

            let again = try await ProtocolClient.connect(port: org.port)
            again.send(.hello(ProtocolClient.hello(enrolled, name: "doomed")))
            guard case .error(let refused) = try await again.next() else { throw TestFailure("expected error") }
            #expect(refused.code == .revoked)
            _ = try await again.closed()
        }
    }

    @Test func heartbeatsKeepAnAgentOnlineAndSilenceMarksItOffline() async throws {
        // 1 s heartbeats, offline after 3 missed (3 s of silence).
        try await TestOrganizer.with(heartbeat: 1, missed: 3) { org in
            let (client, enrolled) = try await org.connectedAgent(name: "beat")
            let beating = Task {
                var seq: UInt64 = 0
                while !Task.isCancelled {
                    seq += 1
                    client.send(.heartbeat(Heartbeat(seq: seq, sentAt: Date(), activeRuns: [], spooled: 2)))
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            // Heartbeats for longer than an offline window: still online, acks flowing, spool size stored.
            var acks = 0
            let end = ContinuousClock.now + .seconds(4.5)
            while ContinuousClock.now < end {
                if case .heartbeatAck = try await client.next() { acks += 1 }
            }
            #expect(acks >= 10)
            let during = try await org.request(.GET, "/v1/agents/beat").decode(AgentInfo.self)
            #expect(during.state == .online)
            #expect(during.spooled == 2)
            let eventsDuring = try await org.storage.agentEvents(agentID: enrolled.agentID, since: nil, limit: 100)
            #expect(!eventsDuring.contains { $0.kind == "offline" })

            // Silence (the socket stays open): offline, with an event.
            beating.cancel()
            try await org.eventually("the agent going offline") {
                try await org.request(.GET, "/v1/agents/beat").decode(AgentInfo.self).state == .offline
            }
            let events = try await org.storage.agentEvents(agentID: enrolled.agentID, since: nil, limit: 100)
            #expect(events.contains { $0.kind == "offline" })
            client.close()
        }
    }
}
