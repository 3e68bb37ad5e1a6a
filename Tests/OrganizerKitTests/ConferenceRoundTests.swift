import EarshotStore
import EarshotWire
import Foundation
import InteropTestSupport
import OrganizerKit
import Testing

/// Conference rounds end to end over the agent protocol: scripted agents (one advertising the
/// bridge capability) get their assignments; the default suites include the conference.
@Suite struct ConferenceRoundTests {
    /// Enrolls and says hello, advertising `bridge` as asked.
    static func agent(_ org: TestOrganizer, name: String, port: Int, bridge: Bool = false) async throws -> (ProtocolClient, Enrolled) {
        let token = try await org.enrollmentToken()
        let client = try await ProtocolClient.connect(port: org.port)
        client.send(.enroll(EnrollRequest(token: token, name: name)))
        guard case .enrolled(let enrolled) = try await client.next() else { throw TestFailure("no enrolled") }
        var hello = ProtocolClient.hello(enrolled, name: name, port: port)
        hello.capabilities.bridge = bridge
        client.send(.hello(hello))
        guard case .welcome = try await client.next() else { throw TestFailure("no welcome") }
        return (client, enrolled)
    }

    static func suite(bridgeAgent: String?, dtmfFrom: String? = "beta") -> SuiteSpec {
        SuiteSpec(name: "conf", type: .conference, members: MemberSelector(agents: ["alpha", "beta", "gamma"]),
                  interval: .minutes(60), duration: .seconds(6), dtmf: "159#", paused: true,
                  conference: ConferenceSettings(bridge: .agent, bridgeAgent: bridgeAgent, joinSpread: .seconds(2),
                                                 dtmfMode: .relay, dtmfFrom: dtmfFrom))
    }

    @Test func conferenceRoundAssignsTheBridgeFirstThenEveryParticipant() async throws {
        try await TestOrganizer.with { org in
            let (alpha, a) = try await Self.agent(org, name: "alpha", port: 5061)
            let (beta, b) = try await Self.agent(org, name: "beta", port: 5062)
            let (gamma, c) = try await Self.agent(org, name: "gamma", port: 5063)
            let (hub, h) = try await Self.agent(org, name: "hub", port: 5070, bridge: true)
            #expect(try await org.request(.PUT, "/v1/suites/conf", body: org.json(Self.suite(bridgeAgent: "hub"))).status == 201)
            let info = try await org.request(.GET, "/v1/suites/conf").decode(SuiteInfo.self)
            #expect(info.memberCount == 3)
            #expect(info.unitCount == 3)

            let reply = try await org.request(.POST, "/v1/suites/conf/run")
            #expect(reply.status == 201)
            let round = try reply.decode(RoundInfo.self)
            #expect(round.notRun == [])
            let runID = try #require(round.runIDs.first, "round: \(round)")
            #expect(round.runIDs.count == 1)

            let bridgeTask = try await RunRoundTests.nextAssignment(hub)
            #expect(bridgeTask.runID == runID)
            #expect(bridgeTask.role == .bridge)
            #expect(bridgeTask.testType == .conference)
            let conference = try #require(bridgeTask.conference)
            #expect(conference.conferenceID == "conf-\(runID)")
            #expect(conference.uri == "sip:conf-\(runID)@127.0.0.1:5070;transport=udp")
            #expect(conference.mode == .agent)
            #expect(conference.durationS == 6)
            #expect(conference.dtmf == "159#")
            #expect(conference.dtmfSender == b.agentID)
            #expect(conference.dtmfMode == .relay)
            #expect(conference.registrar == nil)
            // Every member, sorted by id, a distinct tone each, joins spread over 2 s from 0.
            let ids = [a.agentID, b.agentID, c.agentID].sorted()
            #expect(conference.members.map(\.agentID) == ids)
            #expect(Set(conference.members.map(\.toneHz)).count == 3)
            #expect(conference.members.first?.joinOffsetS == 0)
            #expect(conference.members.map(\.joinOffsetS) == conference.members.map(\.joinOffsetS).sorted())
            #expect(conference.members.allSatisfy { $0.joinOffsetS <= 2 })
            #expect(!conference.members.contains { $0.agentID == h.agentID })
            #expect(bridgeTask.peers.map(\.role) == [.participant, .participant, .participant, .bridge])
            #expect(bridgeTask.peers.last?.agentID == h.agentID)

            for client in [alpha, beta, gamma] {
                let task = try await RunRoundTests.nextAssignment(client)
                #expect(task.runID == runID)
                #expect(task.role == .participant)
                #expect(task.conference == conference)
                #expect(task.startAt == bridgeTask.startAt)
                #expect(abs(task.deadline.timeIntervalSince(task.startAt) - 36) < 0.002)
            }
            let detail = try await org.request(.GET, "/v1/runs/\(runID)").decode(RunDetail.self)
            #expect(detail.participants.map(\.role) == [.participant, .participant, .participant, .bridge])
            #expect(detail.participants.last?.name == "hub")
            for client in [alpha, beta, gamma, hub] { client.close() }
        }
    }

    @Test func withoutABridgeCapableAgentTheConferenceIsNotRun() async throws {
        try await TestOrganizer.with { org in
            let (alpha, _) = try await Self.agent(org, name: "alpha", port: 5061)
            let (beta, _) = try await Self.agent(org, name: "beta", port: 5062)
            #expect(try await org.request(.PUT, "/v1/suites/conf", body: org.json(Self.suite(bridgeAgent: nil))).status == 201)
            let round = try await org.request(.POST, "/v1/suites/conf/run").decode(RoundInfo.self)
            #expect(round.runIDs == [])
            let notRun = try #require(round.notRun.last, "round: \(round)")
            #expect(notRun.cause?.code == "conference_not_planned")
            #expect(notRun.testType == .conference)
            #expect(round.warning?.hasPrefix("conference not held: ") == true)
            let stored = try await org.request(.GET, "/v1/runs/\(notRun.id)").decode(RunDetail.self)
            #expect(stored.run.status == .notRun)
            alpha.close()
            beta.close()
        }
    }
}
