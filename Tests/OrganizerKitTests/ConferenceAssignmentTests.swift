import EarshotWire
import Foundation
import OrganizerCore
@testable import OrganizerKit
import Testing

/// The assignments of a conference run (ConferenceRunBuilder): pure, from a plan made by hand.
@Suite struct ConferenceAssignmentTests {
    static let agents: [String: PlannerAgent] = [
        "ag_a": PlannerAgent(id: "ag_a", name: "alpha", site: "hq", budget: 4),
        "ag_b": PlannerAgent(id: "ag_b", name: "beta", site: "hq", budget: 4),
        "ag_c": PlannerAgent(id: "ag_c", name: "gamma", site: "branch", budget: 4),
        "ag_h": PlannerAgent(id: "ag_h", name: "hub", site: "dc", budget: 40),
    ]
    static func hello(_ id: String, _ contact: String) -> AgentHello {
        AgentHello(agentID: id, credential: "", name: agents[id]!.name, version: "1", site: agents[id]!.site,
                   sipContacts: [SIPContact(uri: contact, transport: "udp")])
    }
    static let hellos: [String: AgentHello] = [
        "ag_a": hello("ag_a", "sip:earshot@10.0.0.1:5060"),
        "ag_b": hello("ag_b", "sip:earshot@10.0.0.2:5060"),
        "ag_c": hello("ag_c", "sip:earshot@10.0.0.3:5060"),
        "ag_h": hello("ag_h", "sip:earshot@10.0.0.9:5070"),
    ]
    static let members = [
        ConferenceMember(agentID: "ag_a", name: "alpha", toneHz: 600, joinOffsetS: 0),
        ConferenceMember(agentID: "ag_b", name: "beta", toneHz: 750, joinOffsetS: 1),
        ConferenceMember(agentID: "ag_c", name: "gamma", toneHz: 900, joinOffsetS: 2),
    ]
    static let plan = ConferencePlan(participants: ["ag_a", "ag_b", "ag_c"], bridgeAgentID: "ag_h", offsetS: 0, members: members)
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func suite(_ settings: ConferenceSettings, dtmf: String? = "159#", via: SIPInfrastructure? = nil) -> SuiteSpec {
        SuiteSpec(name: "conf", type: .conference, duration: .seconds(20), dtmf: dtmf, via: via, conference: settings)
    }

    @Test func builtInBridgeIsCalledAtItsContactAndAssignedFirst() throws {
        let spec = Self.suite(ConferenceSettings(bridge: .rotate, joinSpread: .seconds(2), dtmfMode: .regenerate, dtmfFrom: "beta"))
        let b = ConferenceRunBuilder(spec: spec, plan: Self.plan, startAt: Self.start, agents: Self.agents, hellos: Self.hellos,
                                     deadlineMargin: 30)
        #expect(b.deadline == Self.start.addingTimeInterval(20 + 30))
        #expect(b.participants == [RunParticipant(agentID: "ag_a", role: .participant),
                                   RunParticipant(agentID: "ag_b", role: .participant),
                                   RunParticipant(agentID: "ag_c", role: .participant),
                                   RunParticipant(agentID: "ag_h", role: .bridge)])
        #expect(b.sites == ["ag_a": "hq", "ag_b": "hq", "ag_c": "branch", "ag_h": "dc"])
        let assignments = b.assignments(runID: "run_7")
        #expect(assignments.map(\.0) == ["ag_h", "ag_a", "ag_b", "ag_c"])
        #expect(assignments.map(\.1.role) == [.bridge, .participant, .participant, .participant])
        let bridge = assignments[0].1
        #expect(bridge.testType == .conference)
        #expect(bridge.startAt == Self.start)
        #expect(bridge.deadline == b.deadline)
        let conference = try #require(bridge.conference)
        #expect(conference == ConferenceAssignment(
            conferenceID: "conf-run_7", mode: .rotate, uri: "sip:conf-run_7@10.0.0.9:5070;transport=udp", proxy: nil,
            transport: "udp", codec: "PCMU", members: Self.members, durationS: 20, pin: nil, dtmf: "159#", dtmfSender: "ag_b",
            dtmfMode: .regenerate, maxParticipants: 10, registrar: nil, credentials: nil))
        // Every participant gets the same conference part; the peers name the bridge host.
        for (_, a) in assignments.dropFirst() { #expect(a.conference == conference) }
        #expect(bridge.peers.map(\.name) == ["alpha", "beta", "gamma", "hub"])
        #expect(bridge.peers.map(\.role) == [.participant, .participant, .participant, .bridge])
        #expect(bridge.peers.map(\.toneHz) == [600, 750, 900, nil])
        #expect(bridge.peers.last?.contact == "sip:earshot@10.0.0.9:5070")
    }

    @Test func throughARegistrarTheBridgeRegistersTheConferenceAccount() throws {
        let via = SIPInfrastructure(registrar: "pbx.example.com:5060", proxy: "proxy.example.com:5060", domain: "example.com",
                                    credentials: ["conf": SIPCredentials(username: "3000", password: "c"),
                                                  "alpha": SIPCredentials(username: "1001", password: "a")])
        let spec = Self.suite(ConferenceSettings(bridge: .agent, bridgeAgent: "hub", pin: "4711"), via: via)
        let b = ConferenceRunBuilder(spec: spec, plan: Self.plan, startAt: Self.start, agents: Self.agents, hellos: Self.hellos,
                                     deadlineMargin: 30)
        let assignments = Dictionary(uniqueKeysWithValues: b.assignments(runID: "run_8"))
        let bridge = try #require(assignments["ag_h"]?.conference)
        #expect(bridge.uri == "sip:3000@example.com")
        #expect(bridge.registrar == "pbx.example.com:5060")
        #expect(bridge.credentials == SIPCredentials(username: "3000", password: "c"))
        #expect(bridge.proxy == "proxy.example.com:5060")
        #expect(bridge.pin == "4711")
        // dtmf_from unset: the first to join sends.
        #expect(bridge.dtmfSender == "ag_a")
        let alpha = try #require(assignments["ag_a"]?.conference)
        #expect(alpha.uri == "sip:3000@example.com")
        #expect(alpha.credentials == SIPCredentials(username: "1001", password: "a"))
        #expect(assignments["ag_b"]?.conference?.credentials == nil)

        // Without a conference account: the bridge's own entry; without any: conf-<run id> at the domain.
        let own = SIPInfrastructure(registrar: "pbx.example.com:5060", credentials: ["hub": SIPCredentials(username: "2000", password: "h",
                                                                                                         aor: "sip:room@pbx.example.com")])
        let ownB = ConferenceRunBuilder(spec: Self.suite(ConferenceSettings(), via: own), plan: Self.plan, startAt: Self.start,
                                        agents: Self.agents, hellos: Self.hellos, deadlineMargin: 30)
        #expect(ownB.conference(runID: "r").uri == "sip:room@pbx.example.com")
        let open = SIPInfrastructure(registrar: "pbx.example.com:5060")
        let openB = ConferenceRunBuilder(spec: Self.suite(ConferenceSettings(), via: open), plan: Self.plan, startAt: Self.start,
                                         agents: Self.agents, hellos: Self.hellos, deadlineMargin: 30)
        #expect(openB.conference(runID: "r").uri == "sip:conf-r@pbx.example.com")
        #expect(openB.conferenceCredentials == nil)
    }

    @Test func externalRoomHasNoBridgeAgent() throws {
        let via = SIPInfrastructure(proxy: "proxy.example.com:5060", transport: "tcp")
        let spec = Self.suite(ConferenceSettings(bridge: .uri, uri: "sip:room100@pbx.example.com", pin: "1234#"), dtmf: nil, via: via)
        let plan = ConferencePlan(participants: ["ag_a", "ag_b"], bridgeAgentID: nil, offsetS: 4, members: Array(Self.members.prefix(2)))
        let b = ConferenceRunBuilder(spec: spec, plan: plan, startAt: Self.start, agents: Self.agents, hellos: Self.hellos,
                                     deadlineMargin: 10)
        #expect(b.participants.map(\.role) == [.participant, .participant])
        let assignments = b.assignments(runID: "run_9")
        #expect(assignments.map(\.0) == ["ag_a", "ag_b"])
        let c = try #require(assignments[0].1.conference)
        #expect(c.mode == .uri)
        #expect(c.uri == "sip:room100@pbx.example.com")
        #expect(c.proxy == "proxy.example.com:5060")
        #expect(c.transport == "tcp")
        #expect(c.pin == "1234#")
        #expect(c.dtmf == nil)
        #expect(c.dtmfSender == nil)
        #expect(c.registrar == nil)
        #expect(assignments[0].1.peers.map(\.role) == [.participant, .participant])
    }

    @Test func contactHostAndPort() {
        #expect(ConferenceRunBuilder.hostPort(ofSIPURI: "sip:earshot@10.0.0.2:5060;transport=tcp") == "10.0.0.2:5060")
        #expect(ConferenceRunBuilder.hostPort(ofSIPURI: "<sip:earshot@[::1]:5062>") == "[::1]:5062")
        #expect(ConferenceRunBuilder.hostPort(ofSIPURI: "sips:host.example.com") == "host.example.com")
        #expect(ConferenceRunBuilder.hostPort(ofSIPURI: "sip:") == nil)
    }
}
