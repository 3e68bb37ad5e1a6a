import EarshotWire
import Foundation
import OrganizerCore

/// The participants, deadline and assignments of one conference run (issue 6; docs/runs.md
/// "Conference runs").
///
/// * Participants: every planned participant (role `participant`, join order), then the agent
///   hosting the built-in bridge (role `bridge`). The bridge host is never a participant of its
///   own conference (the store holds an agent once per run; the planner leaves it out).
/// * The conference is `conf-<run id>`. Participants call
///   - the bridge host directly: `sip:conf-<run id>@<its contact's host:port>;transport=<t>`;
///   - with `via.registrar`: the conference's address of record there, which the bridge
///     registers (contact = itself) before the start: the account `via.credentials.conf` (a
///     conference-room account), else the bridge agent's own entry; its `aor`, else
///     `sip:<username>@<domain>`; without credentials `sip:conf-<run id>@<domain>`;
///   - for `bridge: uri`: the suite's URI (a PBX room), there is no bridge agent.
/// * DTMF: the suite's `dtmf`, sent by `dtmf_from` (name or id) when it is in this run, else
///   by the first participant to join.
struct ConferenceRunBuilder {
    let spec: SuiteSpec
    let settings: ConferenceSettings
    let plan: ConferencePlan
    let startAt: Date
    let directory: AgentDirectory
    let deadline: Date
    let participants: [RunParticipant]

    /// The user part participants call.
    static func conferenceID(runID: String) -> String { "conf-\(runID)" }

    /// Credentials entry naming the conference account in `via.credentials`.
    static let conferenceAccount = "conf"

    init(spec: SuiteSpec, plan: ConferencePlan, startAt: Date, agents: [String: PlannerAgent], hellos: [String: AgentHello],
         deadlineMargin: Double) {
        self.spec = spec
        settings = spec.conference ?? ConferenceSettings()
        self.plan = plan
        self.startAt = startAt
        directory = AgentDirectory(spec: spec, agents: agents, hellos: hellos)
        deadline = startAt.addingTimeInterval(spec.duration.seconds + deadlineMargin)
        let bridge = plan.bridgeAgentID
        participants = plan.participants.filter { $0 != bridge }.map { RunParticipant(agentID: $0, role: .participant) }
            + (bridge.map { [RunParticipant(agentID: $0, role: .bridge)] } ?? [])
    }

    /// The SIP account the conference is registered under (built-in bridge via a registrar).
    var conferenceCredentials: SIPCredentials? {
        guard let credentials = spec.via?.credentials else { return nil }
        return credentials[Self.conferenceAccount] ?? plan.bridgeAgentID.flatMap { credentials[directory.name($0)] }
    }

    /// What participants call (see the type's comment).
    func uri(conferenceID: String) -> String {
        if settings.bridge == .uri { return settings.uri ?? "" }
        if spec.via?.registrar != nil, let domain = directory.domain {
            if let credentials = conferenceCredentials {
                return credentials.aor ?? "sip:\(credentials.username)@\(domain)"
            }
            return "sip:\(conferenceID)@\(domain)"
        }
        let hostPort = plan.bridgeAgentID.flatMap(directory.contact).flatMap(Self.hostPort(ofSIPURI:)) ?? "invalid"
        return "sip:\(conferenceID)@\(hostPort);transport=\(directory.transport)"
    }

    /// The participant that sends the suite's digits: `dtmf_from` when it takes part, else the first.
    var dtmfSender: String? {
        guard spec.dtmf != nil else { return nil }
        if let wanted = settings.dtmfFrom,
           let member = plan.members.first(where: { $0.agentID == wanted || $0.name == wanted }) {
            return member.agentID
        }
        return plan.members.first?.agentID
    }

    /// The conference part every participant (and the bridge) gets.
    func conference(runID: String) -> ConferenceAssignment {
        let id = Self.conferenceID(runID: runID)
        let builtIn = settings.bridge != .uri
        return ConferenceAssignment(
            conferenceID: id, mode: settings.bridge, uri: uri(conferenceID: id), proxy: spec.via?.proxy,
            transport: directory.transport, codec: spec.codec, members: plan.members, durationS: spec.duration.seconds,
            pin: settings.pin, dtmf: spec.dtmf, dtmfSender: dtmfSender, dtmfMode: settings.dtmfMode,
            maxParticipants: settings.maxParticipants, registrar: builtIn ? spec.via?.registrar : nil)
    }

    /// One assignment per agent, by agent id: the bridge first, then the participants in join order.
    /// A participant's `credentials` are its own account (for a proxy's challenge); the
    /// bridge's the conference account it registers.
    func assignments(runID: String) -> [(String, Assignment)] {
        let shared = conference(runID: runID)
        let tones = Dictionary(plan.members.map { ($0.agentID, $0.toneHz) }, uniquingKeysWith: { first, _ in first })
        let peers = participants.map { directory.peer($0.agentID, role: $0.role, tone: tones[$0.agentID]) }
        func assignment(_ p: RunParticipant) -> Assignment {
            var conference = shared
            conference.credentials = p.role == .bridge ? (shared.registrar == nil ? nil : conferenceCredentials)
                : directory.credentials(p.agentID)
            return Assignment(runID: runID, suite: spec.name, testType: .conference, role: p.role, startAt: startAt,
                              deadline: deadline, peers: peers, conference: conference)
        }
        let ordered = participants.filter { $0.role == .bridge } + participants.filter { $0.role != .bridge }
        return ordered.map { ($0.agentID, assignment($0)) }
    }

    /// Agent id → site of everyone in the run, for the judged legs.
    var sites: [String: String] {
        var out: [String: String] = [:]
        for p in participants {
            if let site = directory.agents[p.agentID]?.site ?? directory.hellos[p.agentID]?.site { out[p.agentID] = site }
        }
        return out
    }

    /// `sip:earshot@10.0.0.2:5060;transport=tcp` → `10.0.0.2:5060`; `sip:[::1]:5062` → `[::1]:5062`.
    static func hostPort(ofSIPURI uri: String) -> String? {
        var rest = Substring(uri)
        if rest.hasPrefix("<") { rest = rest.dropFirst() }
        if let colon = rest.firstIndex(of: ":"), rest[..<colon].lowercased().hasPrefix("sip") { rest = rest[rest.index(after: colon)...] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        let end = rest.firstIndex { $0 == ";" || $0 == ">" || $0 == "?" } ?? rest.endIndex
        let hostPort = rest[..<end]
        return hostPort.isEmpty ? nil : String(hostPort)
    }
}
