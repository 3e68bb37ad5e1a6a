import EarshotStore
import EarshotWire
import Foundation
import Logging
import OrganizerCore

/// Rounds of every unpaused suite: round r of a suite covers [start(r), start(r) + interval)
/// on the planner's timetable (numbered from a fixed date, so a restarted organizer resumes
/// it). A suite's first round after the organizer starts, or after it is applied or resumed,
/// starts `first_round_delay` from then; the following ones on the timetable.
///
/// Planning is one call (`plan(...)`): `Planner.planRound` over the suite's members, with the
/// budgets the agents advertise and the calls they already have in flight as reservations.
actor Scheduler {
    private struct SuiteState {
        /// When to plan the next round, and which.
        var nextPlanAt: Date
        var nextRound: Int
        /// Start of that round (shifted for a first round).
        var nextRoundStart: Date
        var backlog: [DeferredUnit] = []
        var lastRoundAt: Date?
    }

    private let configuration: OrganizerConfiguration
    private let storage: any Storage
    private let hub: AgentHub
    private let coordinator: RunCoordinator
    private let logger: Logger
    private var states: [String: SuiteState] = [:]
    /// Names applied or resumed since the last tick: their first round is due soon.
    private var fresh: Set<String> = []
    private var random = SystemRandomNumberGenerator()

    /// Rounds are planned this long before they start, so the assignments arrive in time.
    static let planLead: TimeInterval = 5
    /// The callee's assignment goes out this long before the run's start, the caller's half as long.
    static let calleeLead: TimeInterval = 2

    init(configuration: OrganizerConfiguration, storage: any Storage, hub: AgentHub, coordinator: RunCoordinator,
         logger: Logger) {
        self.configuration = configuration
        self.storage = storage
        self.hub = hub
        self.coordinator = coordinator
        self.logger = logger
    }

    // MARK: events from the API

    /// A suite was created, replaced or resumed: its first round comes soon.
    func applied(_ name: String) {
        states[name] = nil
        fresh.insert(name)
    }

    func removed(_ name: String) {
        states[name] = nil
        fresh.remove(name)
    }

    // MARK: the loop

    /// One pass: plans the rounds that are due. Called every second by the organizer.
    func tick(now: Date = Date()) async {
        let suites: [SuiteInfo]
        do {
            suites = try await storage.suites()
        } catch {
            logger.error("cannot read suites", metadata: ["error": .string("\(error)")])
            return
        }
        let names = Set(suites.map(\.spec.name))
        for gone in states.keys where !names.contains(gone) { states[gone] = nil }
        for info in suites {
            let spec = info.spec
            guard !spec.paused, spec.problems().isEmpty else {
                states[spec.name] = nil
                continue
            }
            if states[spec.name] == nil || fresh.contains(spec.name) {
                fresh.remove(spec.name)
                let start = now.addingTimeInterval(configuration.firstRoundDelay.seconds)
                states[spec.name] = SuiteState(nextPlanAt: start.addingTimeInterval(-Self.planLead),
                                               nextRound: Planner.roundIndex(at: start, interval: spec.interval),
                                               nextRoundStart: start)
            }
            guard let state = states[spec.name], state.nextPlanAt <= now else { continue }
            do {
                _ = try await plan(spec, round: state.nextRound, roundStart: state.nextRoundStart, now: now)
            } catch {
                logger.error("round planning failed", metadata: ["suite": .string(spec.name), "error": .string("\(error)")])
                // Try again with the next round.
            }
            let (next, nextStart) = Self.followingRound(after: state.nextRoundStart, interval: spec.interval, now: now)
            states[spec.name]?.nextRound = next
            states[spec.name]?.nextRoundStart = nextStart
            states[spec.name]?.nextPlanAt = nextStart.addingTimeInterval(-Self.planLead)
        }
    }

    /// `POST /v1/suites/{name}/run`: a round now, packed as tightly as the budgets allow.
    func runRound(_ spec: SuiteSpec) async throws -> RoundInfo {
        let now = Date()
        var compact = spec
        compact.period = nil
        let members = try await plannerMembers(spec)
        let slot = Planner.slotLength(for: spec)
        let lanes = max(1, members.map(\.budget).filter { $0 >= 1 }.min() ?? 1)
        // A conference is one run per round.
        let groups = spec.type == .conference ? 1 : max(1, Planner.units(for: spec, members: members, round: 0).count)
        compact.interval = .seconds(max(1, slot * ceil(Double(groups) / Double(lanes))))
        let round = Planner.roundIndex(at: now, interval: spec.interval)
        return try await plan(compact, round: round, roundStart: now.addingTimeInterval(Self.calleeLead), now: now,
                              members: members, manual: true)
    }

    /// Agents as the planner sees them: every non-revoked agent, online when connected now,
    /// with the budget it advertised.
    private func plannerAgents() async throws -> [PlannerAgent] {
        let agents = try await storage.agents()
        let connected = await hub.connected()
        return agents.filter { $0.state != .revoked }.map { a in
            PlannerAgent(id: a.id, name: a.name, site: a.site, labels: a.labels,
                         budget: connected[a.id]?.capabilities.maxConcurrentCalls ?? a.capabilities?.maxConcurrentCalls ?? 1,
                         online: connected[a.id] != nil)
        }
    }

    /// The suite's members among them (selector matches, sorted by id).
    private func plannerMembers(_ spec: SuiteSpec) async throws -> [PlannerAgent] {
        Planner.members(of: spec, among: try await plannerAgents())
    }

    /// The runs of a round before they are stored and handed to the coordinator.
    private struct RoundDraft {
        let spec: SuiteSpec
        let roundID: String
        let now: Date
        var newRuns: [NewRun] = []
        var tracked: [TrackedRun] = []
        var sends: [ScheduledSend] = []
        var notRun: [RunSummary] = []
        var warning: String?
        var achievablePeriodS: Double?
        var deferred = 0

        init(spec: SuiteSpec, roundID: String, now: Date) {
            self.spec = spec
            self.roundID = roundID
            self.now = now
        }

        /// A unit that cannot run this round: stored as `not_run` with its cause, and listed.
        mutating func recordNotRun(_ participants: [RunParticipant], at startAt: Date, cause: RunCause,
                                   name: (String) -> String) {
            let id = Secrets.identifier(prefix: "run_")
            newRuns.append(NewRun(id: id, suite: spec.name, roundID: roundID, testType: spec.type, status: .notRun,
                                  cause: cause, plannedAt: now, startAt: startAt, deadline: startAt,
                                  plannedDurationS: spec.duration.seconds, thresholds: spec.thresholds,
                                  participants: participants.map { ($0.agentID, $0.role) }))
            notRun.append(RunSummary(id: id, suite: spec.name, roundID: roundID, testType: spec.type, status: .notRun,
                                     cause: cause, plannedAt: now, startAt: startAt, endedAt: now,
                                     plannedDurationS: spec.duration.seconds, participants: participants.map { name($0.agentID) }))
        }

        /// A run to carry out: stored as scheduled, tracked, its assignments sent at their times.
        mutating func schedule(_ run: TrackedRun, assignments: [(String, Assignment)]) {
            newRuns.append(NewRun(id: run.id, suite: spec.name, roundID: roundID, testType: spec.type, plannedAt: now,
                                  startAt: run.startAt, deadline: run.deadline, plannedDurationS: spec.duration.seconds,
                                  thresholds: spec.thresholds, participants: run.participants.map { ($0.agentID, $0.role) },
                                  conferencePlan: run.conference?.plan))
            tracked.append(run)
            for (agentID, assignment) in assignments {
                // The answering side first (callee, bridge), a little before the start; the
                // calling side (caller, participants) just before it.
                let lead = assignment.role == .caller || assignment.role == .participant ? Scheduler.calleeLead / 2 : Scheduler.calleeLead
                sends.append(ScheduledSend(at: max(now, run.startAt.addingTimeInterval(-lead)), agentID: agentID,
                                           assignment: assignment))
            }
        }
    }

    /// Why a member is not in this round.
    private static func skipDetail(_ reason: String, name: String) -> String {
        switch reason {
        case "agent_offline": "\(name) was offline when the round was planned"
        case "capacity": "\(name) has no call budget"
        default: "\(name): \(reason.replacingOccurrences(of: "_", with: " "))"
        }
    }

    /// Plans one round, creates its runs and hands the assignments to the coordinator.
    @discardableResult
    private func plan(_ spec: SuiteSpec, round: Int, roundStart: Date, now: Date, members known: [PlannerAgent]? = nil,
                      manual: Bool = false) async throws -> RoundInfo {
        let everyone = try await plannerAgents()
        let members = known ?? Planner.members(of: spec, among: everyone)
        let byID = Dictionary((members + everyone).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let connected = await hub.connected()
        var draft = RoundDraft(spec: spec, roundID: Secrets.identifier(prefix: "rnd_"), now: now)
        if spec.type == .conference {
            let candidates = everyone.filter { $0.online && connected[$0.id]?.capabilities.bridge == true }
            await draftConference(&draft, round: round, roundStart: roundStart, members: members, bridgeCandidates: candidates,
                                  byID: byID, connected: connected)
        } else {
            await draftPairs(&draft, round: round, roundStart: roundStart, members: members, byID: byID, connected: connected,
                             manual: manual)
        }
        if !draft.newRuns.isEmpty { try await storage.createRuns(draft.newRuns) }
        await coordinator.track(draft.tracked, sends: draft.sends)

        let nextRoundAt = manual ? states[spec.name]?.nextRoundStart
            : Self.followingRound(after: roundStart, interval: spec.interval, now: now).start
        var warning = draft.warning
        if draft.deferred > 0 {
            let note = "\(draft.deferred) unit(s) did not fit this round and wait for the next"
            warning = warning.map { "\($0); \(note)" } ?? note
        }
        try await storage.suiteRoundPlanned(spec.name, at: now, nextRoundAt: nextRoundAt, warning: draft.warning,
                                            achievablePeriodS: draft.achievablePeriodS)
        states[spec.name]?.lastRoundAt = now
        logger.info("round planned", metadata: [
            "suite": .string(spec.name), "round": .string(draft.roundID), "runs": .stringConvertible(draft.tracked.count),
            "not_run": .stringConvertible(draft.notRun.count), "deferred": .stringConvertible(draft.deferred),
            "manual": .stringConvertible(manual),
        ])
        return RoundInfo(roundID: draft.roundID, suite: spec.name, runIDs: draft.tracked.map(\.id), notRun: draft.notRun,
                         warning: warning)
    }

    /// The pair (and single-agent) runs of a round: the planner's timetable.
    private func draftPairs(_ draft: inout RoundDraft, round: Int, roundStart: Date, members: [PlannerAgent],
                            byID: [String: PlannerAgent], connected: [String: AgentHello], manual: Bool) async {
        let spec = draft.spec
        let slot = Planner.slotLength(for: spec)
        let reservations = await coordinator.reservations()
        let backlog = manual ? [] : states[spec.name]?.backlog ?? []
        let plan = Planner.planRound(suite: spec, members: members, round: round, roundStart: roundStart,
                                     backlog: backlog, reservations: reservations, slotLength: slot, random: &random)
        if !manual { states[spec.name]?.backlog = plan.deferred }
        draft.warning = plan.warning
        draft.achievablePeriodS = plan.achievablePeriodS
        draft.deferred = plan.deferred.count
        func name(_ id: String) -> String { byID[id]?.name ?? id }
        func builder(_ unit: UnitKey, _ startAt: Date) -> RunBuilder {
            RunBuilder(spec: spec, unit: unit, startAt: startAt, agents: byID, hellos: connected,
                       deadlineMargin: configuration.deadlineMargin.seconds)
        }

        let seenFrom = await hub.remoteAddresses()
        var units = plan.runs
        if spec.via?.proxy == nil, [.p2p, .soak, .dtmf].contains(spec.type) {
            units.removeAll { planned in
                guard let callee = planned.unit.callee,
                      let why = Reachability.directCallProblem(contact: connected[callee]?.sipContacts.first?.uri,
                                                               seenFrom: seenFrom[callee]) else { return false }
                draft.recordNotRun(builder(planned.unit, roundStart).participants, at: roundStart,
                                   cause: RunCause(code: "unreachable", detail: "\(name(callee)) \(why)", agentID: callee),
                                   name: name)
                return true
            }
        }
        for planned in units {
            let startAt = roundStart.addingTimeInterval(planned.offsetS)
            let built = builder(planned.unit, startAt)
            let id = Secrets.identifier(prefix: "run_")
            draft.schedule(TrackedRun(id: id, suite: spec.name, testType: spec.type, startAt: startAt, deadline: built.deadline,
                                      busyUntil: startAt.addingTimeInterval(slot), thresholds: spec.thresholds,
                                      participants: built.participants, results: [:], expectedDTMF: spec.dtmf),
                           assignments: built.assignments(runID: id))
        }
        for skipped in plan.skipped {
            draft.recordNotRun(builder(skipped.unit, roundStart).participants, at: roundStart,
                               cause: RunCause(code: skipped.reason, detail: Self.skipDetail(skipped.reason, name: name(skipped.agentID)),
                                               agentID: skipped.agentID),
                               name: name)
        }
    }

    /// The one conference run of a round (`Planner.planConference`); members left out are
    /// recorded `not_run` each, like skipped units; a conference that cannot be held at all is
    /// one `not_run` run (`conference_not_planned`) with the participants it would have had.
    private func draftConference(_ draft: inout RoundDraft, round: Int, roundStart: Date, members: [PlannerAgent],
                                 bridgeCandidates: [PlannerAgent], byID: [String: PlannerAgent],
                                 connected: [String: AgentHello]) async {
        let spec = draft.spec
        let slot = Planner.slotLength(for: spec)
        let reservations = await coordinator.reservations()
        let plan = Planner.planConference(suite: spec, members: members, bridgeCandidates: bridgeCandidates, round: round,
                                          roundStart: roundStart, reservations: reservations, slotLength: slot,
                                          random: &random)
        draft.achievablePeriodS = (spec.period ?? spec.interval).seconds
        func name(_ id: String) -> String { byID[id]?.name ?? id }
        let startAt = roundStart.addingTimeInterval(plan.offsetS)
        let built = ConferenceRunBuilder(spec: spec, plan: plan, startAt: startAt, agents: byID, hellos: connected,
                                         deadlineMargin: configuration.deadlineMargin.seconds)
        for skipped in plan.skipped {
            let detail = skipped.detail.map { "\(name(skipped.agentID)): \($0)" } ?? Self.skipDetail(skipped.reason, name: name(skipped.agentID))
            draft.recordNotRun([RunParticipant(agentID: skipped.agentID, role: .participant)], at: startAt,
                               cause: RunCause(code: skipped.reason, detail: detail,
                                               agentID: skipped.agentID),
                               name: name)
        }
        // One conference of a suite at a time: two at once would share the external room (every
        // participant in it twice: its own tone and digits would come back) or its agents.
        let overlapping = await coordinator.openRuns(suite: spec.name, overlapping: DateInterval(start: startAt, duration: slot))
        if let open = overlapping.first, plan.notPlanned == nil {
            let why = "conference \(open) of this suite is still running at \(WireJSON.formatDate(startAt)); a conference suite holds one conference at a time"
            draft.warning = "conference not held: \(why)"
            draft.recordNotRun(built.participants, at: startAt, cause: RunCause(code: "conference_overlap", detail: why),
                               name: name)
            return
        }
        if let why = plan.notPlanned {
            draft.warning = "conference not held: \(why)"
            draft.recordNotRun(built.participants, at: startAt, cause: RunCause(code: "conference_not_planned", detail: why),
                               name: name)
            return
        }
        let id = Secrets.identifier(prefix: "run_")
        let assignments = built.assignments(runID: id)
        let facts = ConferenceFacts(plan: built.conference(runID: id), bridgeAgentID: plan.bridgeAgentID, sites: built.sites)
        draft.schedule(TrackedRun(id: id, suite: spec.name, testType: spec.type, startAt: startAt, deadline: built.deadline,
                                  busyUntil: startAt.addingTimeInterval(slot), thresholds: spec.thresholds,
                                  participants: built.participants, results: [:], expectedDTMF: spec.dtmf, conference: facts),
                       assignments: assignments)
    }

    /// The round after one that starts at `roundStart`: the next window on the timetable that
    /// starts more than half an interval later (so a shifted first round is not followed by
    /// another a moment later), and not before the planning lead from now.
    static func followingRound(after roundStart: Date, interval: WireDuration, now: Date) -> (index: Int, start: Date) {
        let index = Planner.roundIndex(at: roundStart.addingTimeInterval(interval.seconds / 2), interval: interval) + 1
        return (index, max(Planner.roundStart(index: index, interval: interval), now.addingTimeInterval(planLead)))
    }

    // MARK: suite views

    /// Fills what the store does not know: members and units now, the next round, the
    /// planner's live assessment.
    func annotate(_ suites: [SuiteInfo]) async throws -> [SuiteInfo] {
        guard !suites.isEmpty else { return [] }
        var out: [SuiteInfo] = []
        for var info in suites {
            let members = try await plannerMembers(info.spec)
            info.memberCount = members.count
            if info.spec.type == .conference {
                // One conference per round: its units are the participants it invites.
                info.unitCount = min(members.count, (info.spec.conference ?? ConferenceSettings()).maxParticipants)
                info.warning = members.count < 2 ? "a conference needs at least two members" : nil
                info.achievablePeriodS = (info.spec.period ?? info.spec.interval).seconds
            } else {
                info.unitCount = Planner.unitCount(for: info.spec, members: members)
                let assessment = Planner.assess(info.spec, members: members, slotLength: Planner.slotLength(for: info.spec))
                info.warning = assessment.warning
                info.achievablePeriodS = assessment.achievablePeriodS
            }
            if info.spec.paused {
                info.nextRoundAt = nil
            } else if let state = states[info.spec.name] {
                info.nextRoundAt = state.nextRoundStart
            } else if fresh.contains(info.spec.name) {
                info.nextRoundAt = Date().addingTimeInterval(configuration.firstRoundDelay.seconds)
            }
            out.append(info)
        }
        return out
    }
}

/// The participants, deadline and assignments of one planned unit.
struct RunBuilder {
    let spec: SuiteSpec
    let unit: UnitKey
    let startAt: Date
    let agents: [String: PlannerAgent]
    let hellos: [String: AgentHello]
    let deadline: Date
    let participants: [RunParticipant]

    static let callerTone = 1750
    static let calleeTone = 1850

    init(spec: SuiteSpec, unit: UnitKey, startAt: Date, agents: [String: PlannerAgent], hellos: [String: AgentHello],
         deadlineMargin: Double) {
        self.spec = spec
        self.unit = unit
        self.startAt = startAt
        self.agents = agents
        self.hellos = hellos
        var busy = spec.duration.seconds
        if spec.type == .register || spec.type == .options { busy = 10 }
        // Session timers: a refresh that fails is detected at most one session interval late.
        busy += Double(spec.sessionExpires ?? 0)
        deadline = startAt.addingTimeInterval(busy + deadlineMargin)
        switch spec.type {
        case .register: participants = [RunParticipant(agentID: unit.caller, role: .registrant)]
        case .options: participants = [RunParticipant(agentID: unit.caller, role: .pinger)]
        default:
            participants = [RunParticipant(agentID: unit.caller, role: .caller)]
                + (unit.callee.map { [RunParticipant(agentID: $0, role: .callee)] } ?? [])
        }
    }

    private var directory: AgentDirectory { AgentDirectory(spec: spec, agents: agents, hellos: hellos) }
    private func name(_ id: String) -> String { directory.name(id) }
    private func credentials(_ id: String) -> SIPCredentials? { directory.credentials(id) }
    private func aor(_ id: String) -> String? { directory.aor(id) }
    private func contact(_ id: String) -> String? { directory.contact(id) }
    private func peer(_ id: String, role: ParticipantRole, tone: Int?) -> Peer { directory.peer(id, role: role, tone: tone) }
    private var transport: String { directory.transport }

    private func registerSpec(_ id: String) -> RegisterSpec? {
        guard let registrar = spec.via?.registrar, let aor = aor(id) else { return nil }
        return RegisterSpec(registrar: registrar, aor: aor, credentials: credentials(id), transport: transport)
    }

    /// One assignment per participant, by agent id (callee first).
    func assignments(runID: String) -> [(String, Assignment)] {
        func base(_ role: ParticipantRole, peers: [Peer]) -> Assignment {
            Assignment(runID: runID, suite: spec.name, testType: spec.type, role: role, startAt: startAt,
                       deadline: deadline, peers: peers)
        }
        switch spec.type {
        case .register:
            var a = base(.registrant, peers: [peer(unit.caller, role: .registrant, tone: nil)])
            a.register = registerSpec(unit.caller)
            return [(unit.caller, a)]
        case .options:
            var a = base(.pinger, peers: [peer(unit.caller, role: .pinger, tone: nil)])
            a.options = OptionsSpec(target: spec.target ?? "", transport: transport)
            return [(unit.caller, a)]
        case .p2p, .soak, .dtmf, .conference:
            guard let calleeID = unit.callee else { return [] }
            let peers = [peer(unit.caller, role: .caller, tone: Self.callerTone),
                         peer(calleeID, role: .callee, tone: Self.calleeTone)]
            var callee = base(.callee, peers: peers)
            callee.answer = AnswerSpec(toneHz: Self.calleeTone, expectedRemoteToneHz: Self.callerTone,
                                       expectedDTMF: spec.dtmf, durationS: spec.duration.seconds)
            // Through a registrar, the callee registers first so that the proxy can find it.
            callee.register = registerSpec(calleeID)
            var caller = base(.caller, peers: peers)
            let target: String
            if spec.via?.proxy != nil || spec.via?.registrar != nil, let aor = aor(calleeID) {
                target = aor
            } else {
                target = contact(calleeID) ?? "sip:\(name(calleeID))@invalid"
            }
            caller.call = CallSpec(target: target, proxy: spec.via?.proxy, transport: transport, codec: spec.codec,
                                   durationS: spec.duration.seconds, dtmf: spec.dtmf, sessionExpires: spec.sessionExpires,
                                   credentials: credentials(unit.caller), toneHz: Self.callerTone,
                                   expectedRemoteToneHz: Self.calleeTone)
            return [(calleeID, callee), (unit.caller, caller)]
        }
    }
}

/// What a suite's assignments say about its agents: names, SIP accounts, addresses.
struct AgentDirectory {
    let spec: SuiteSpec
    let agents: [String: PlannerAgent]
    let hellos: [String: AgentHello]

    func name(_ id: String) -> String { agents[id]?.name ?? hellos[id]?.name ?? id }

    func credentials(_ id: String) -> SIPCredentials? { spec.via?.credentials?[name(id)] }

    /// The registrar's domain: `via.domain`, else the registrar's host.
    var domain: String? { spec.via.flatMap { $0.domain ?? $0.registrar?.split(separator: ":").first.map(String.init) } }

    /// The address of record of an agent at the suite's registrar.
    func aor(_ id: String) -> String? {
        guard spec.via != nil else { return nil }
        if let aor = credentials(id)?.aor { return aor }
        guard let domain else { return nil }
        return "sip:\(credentials(id)?.username ?? name(id))@\(domain)"
    }

    /// Where to reach an agent directly: its first contact of the suite's transport.
    func contact(_ id: String) -> String? {
        let contacts = hellos[id]?.sipContacts ?? []
        return (contacts.first { $0.transport == spec.transport } ?? contacts.first)?.uri
    }

    func peer(_ id: String, role: ParticipantRole, tone: Int?) -> Peer {
        Peer(agentID: id, name: name(id), role: role, contact: contact(id), aor: aor(id), toneHz: tone)
    }

    var transport: String { spec.via?.transport ?? spec.transport }
}

/// Whether another agent can call an agent directly (DESIGN §3: agents dial out to the
/// organizer, so an agent behind NAT is reachable by the organizer's socket only).
enum Reachability {
    /// Why a direct call to an agent cannot work, or nil. An agent whose SIP contact is an IP
    /// address other than the one its organizer connection comes from sits behind NAT (or
    /// advertises an address others cannot route to): an INVITE to its contact would not
    /// arrive. Such pairs are `not_run` (`unreachable`) unless the suite goes through a proxy.
    static func directCallProblem(contact: String?, seenFrom: String?) -> String? {
        guard let contact, let seenFrom, let host = host(ofSIPURI: contact), isIPLiteral(host), isIPLiteral(seenFrom),
              normalized(host) != normalized(seenFrom) else { return nil }
        return "is behind NAT or not routable: its SIP contact is \(host) but it reaches the organizer from \(seenFrom); "
            + "call it through a registrar/proxy (suite `via`) or advertise a reachable address"
    }

    /// `sip:user@10.0.0.2:5060;transport=udp` → `10.0.0.2`; `sip:[::1]:5060` → `::1`.
    static func host(ofSIPURI uri: String) -> String? {
        var rest = Substring(uri)
        if let colon = rest.firstIndex(of: ":"), rest[..<colon].lowercased().hasPrefix("sip") { rest = rest[rest.index(after: colon)...] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        let end = rest.firstIndex { $0 == ":" || $0 == ";" || $0 == ">" } ?? rest.endIndex
        let host = rest[..<end]
        return host.isEmpty ? nil : String(host)
    }

    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// IPv4-mapped IPv6 (`::ffff:10.0.0.2`) compares as IPv4.
    static func normalized(_ host: String) -> String {
        host.lowercased().hasPrefix("::ffff:") ? String(host.dropFirst(7)) : host.lowercased()
    }
}
