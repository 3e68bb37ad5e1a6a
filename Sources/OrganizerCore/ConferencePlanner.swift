// Conference runs (issue 6): who takes part, who hosts the bridge, which tone each sends and
// when each joins. CONTRACT (the lead's; the core helper implements it). docs/planner.md
// "Conference suites".
import EarshotWire
import Foundation

/// One conference run of a round.
public struct ConferencePlan: Sendable, Equatable {
    /// Participants' agent ids in join order (at most `max_participants`).
    public var participants: [String]
    /// The agent hosting the built-in bridge; nil for `bridge: uri`.
    public var bridgeAgentID: String?
    /// Start of the run, seconds after the round's start.
    public var offsetS: Double
    /// Every participant with its distinct tone and join offset (the assignment's `members`).
    public var members: [ConferenceMember]
    /// Members left out, with why (offline, over the cap, no budget, no bridge agent).
    public var skipped: [SkippedUnit]
    /// Why no run could be planned (fewer than two participants, no bridge-capable agent);
    /// nil when `participants` has at least two.
    public var notPlanned: String?

    public init(participants: [String], bridgeAgentID: String?, offsetS: Double, members: [ConferenceMember],
                skipped: [SkippedUnit] = [], notPlanned: String? = nil) {
        self.participants = participants
        self.bridgeAgentID = bridgeAgentID
        self.offsetS = offsetS
        self.members = members
        self.skipped = skipped
        self.notPlanned = notPlanned
    }
}

extension Planner {
    /// The identifying tones, in slot order: `IdentifyingTone.frequencies` of RTPCore (which
    /// OrganizerCore, being pure and dependency-free, does not import). Slot i is participant
    /// i in join order, so a conference of up to 17 has distinct tones.
    public static let conferenceTones: [Int] = [
        1750, 1850, 1950, 1550, 2250, 2350, 2450, 550, 450, 350, 2750, 2850, 2950, 3050, 3150, 3250, 3350,
    ]

    /// `IdentifyingTone.frequency(slot:)`: the tone of join slot `slot` (wrapping after 17).
    public static func conferenceTone(slot: Int) -> Int {
        let n = conferenceTones.count
        return conferenceTones[((slot % n) + n) % n]
    }

    /// Plans round `round` of a conference suite: the online members (sorted by id, capped),
    /// the bridge host (`bridge_agent`; `rotate`: candidate `round mod count`; `agent` without a
    /// name: the first candidate that is a member, else the first candidate), tones
    /// `IdentifyingTone.frequency(slot: i)` in join order (distinct up to 17 participants),
    /// joins spread evenly over `join_spread`. `bridgeCandidates`: online agents with the
    /// `bridge` capability. A participant or bridge host whose budget is used up at the run's
    /// time (`reservations`) is skipped.
    ///
    /// Details (docs/planner.md "Conference suites"):
    /// - The bridge host is never also a participant (a run holds an agent once): a member
    ///   that hosts the bridge sits this conference out as a speaker.
    /// - The host needs one call of its budget per participant; participants beyond its free
    ///   budget are skipped (`capacity`). A host picked by the planner (`rotate`, or `agent`
    ///   without a name) that has fewer than two calls free is passed over for the next
    ///   candidate; a named `bridge_agent` without them leaves the round `notPlanned`.
    /// - `skipped` reasons are codes (`agent_offline`, `capacity`, `conference_cap`) with a
    ///   sentence in `detail`; the unit is the member alone.
    /// - The start is random inside the round only as far as the period's slack allows
    ///   (as `planRound` does): with the default period every round starts at offset 0.
    public static func planConference(suite spec: SuiteSpec, members: [PlannerAgent], bridgeCandidates: [PlannerAgent],
                                      round: Int, roundStart: Date, reservations: [String: [DateInterval]] = [:],
                                      slotLength: Double, random: inout some RandomNumberGenerator) -> ConferencePlan {
        let settings = spec.conference ?? ConferenceSettings()
        let window = conferenceWindow(spec: spec, slotLength: slotLength, random: &random)
        let busy = DateInterval(start: roundStart.addingTimeInterval(window.offsetS),
                                duration: max(window.lengthS, 0.001))
        func free(_ agent: PlannerAgent) -> Int {
            agent.budget - peakReserved(reservations[agent.id] ?? [], in: busy)
        }
        var plan = ConferencePlan(participants: [], bridgeAgentID: nil, offsetS: window.offsetS, members: [])
        let sortedMembers = sorted(members)
        let candidates = sorted(bridgeCandidates.filter(\.online))

        // 1. The bridge host.
        var host: PlannerAgent?
        switch settings.bridge {
        case .uri:
            if (settings.uri ?? "").isEmpty {
                plan.notPlanned = "conference.uri is not set: an external room needs its URI"
                return plan
            }
        case .agent, .rotate:
            if candidates.isEmpty {
                plan.notPlanned = "no online agent has the bridge capability (start one with --bridge)"
                return plan
            }
            if settings.bridge == .agent, let named = settings.bridgeAgent {
                guard let agent = candidates.first(where: { $0.name == named || $0.id == named }) else {
                    plan.notPlanned = "bridge_agent \(named) is not an online agent with the bridge capability"
                    return plan
                }
                guard free(agent) >= 2 else {
                    plan.notPlanned = "bridge_agent \(named) has \(max(free(agent), 0)) of its \(agent.budget) calls free at the run's time; hosting needs one per participant (at least 2)"
                    return plan
                }
                host = agent
            } else {
                let order: [PlannerAgent]
                if settings.bridge == .rotate {
                    let first = ((round % candidates.count) + candidates.count) % candidates.count
                    order = Array(candidates[first...] + candidates[..<first])
                } else {
                    let memberIDs = Set(sortedMembers.map(\.id))
                    order = candidates.filter { memberIDs.contains($0.id) } + candidates.filter { !memberIDs.contains($0.id) }
                }
                guard let agent = order.first(where: { free($0) >= 2 }) else {
                    plan.notPlanned = "no bridge-capable agent has two calls of its budget free at the run's time"
                    return plan
                }
                host = agent
            }
        }
        plan.bridgeAgentID = host?.id

        // 2. The participants: online members with a call free, sorted by id, capped.
        var room = settings.maxParticipants
        var capReason = ("conference_cap", "over the conference cap of \(settings.maxParticipants)")
        if let host, free(host) < room {
            room = free(host)
            capReason = ("capacity", "over the bridge agent \(host.name)'s free budget of \(free(host)) calls")
        }
        var chosen: [PlannerAgent] = []
        for agent in sortedMembers where agent.id != host?.id {
            let unit = UnitKey(caller: agent.id, callee: nil)
            if !agent.online {
                plan.skipped.append(SkippedUnit(unit: unit, reason: "agent_offline", agentID: agent.id, detail: "offline"))
            } else if free(agent) < 1 {
                plan.skipped.append(SkippedUnit(unit: unit, reason: "capacity", agentID: agent.id,
                                                detail: "no call of its budget of \(agent.budget) free at the run's time"))
            } else if chosen.count >= room {
                plan.skipped.append(SkippedUnit(unit: unit, reason: capReason.0, agentID: agent.id, detail: capReason.1))
            } else {
                chosen.append(agent)
            }
        }
        guard chosen.count >= 2 else {
            let available = chosen.count
            plan.notPlanned = "\(available) participant\(available == 1 ? "" : "s") available; a conference needs at least 2"
            return plan
        }

        // 3. Tones and join offsets in join order.
        let n = chosen.count
        let spread = settings.joinSpread.seconds
        plan.participants = chosen.map(\.id)
        plan.members = chosen.enumerated().map { i, agent in
            ConferenceMember(agentID: agent.id, name: agent.name, toneHz: conferenceTone(slot: i),
                             joinOffsetS: Double(i) * spread / Double(n - 1))
        }
        return plan
    }

    /// The run's offset in the round and how long it keeps its agents busy. A conference is
    /// one run per round, i.e. a cycle of one group: the start is random only within the
    /// period's slack and the room the interval leaves (docs/planner.md "Randomness").
    static func conferenceWindow(spec: SuiteSpec, slotLength: Double,
                                 random: inout some RandomNumberGenerator) -> (offsetS: Double, lengthS: Double) {
        let w = max(spec.interval.seconds, 1)
        let requested = (spec.period ?? spec.interval).seconds
        let jitter = min(max(0, w - slotLength), max(0, requested - w))
        let offset = jitter > 0 ? Double.random(in: 0...jitter, using: &random) : 0
        return (offset, slotLength)
    }

    /// The most reservations that overlap at one instant of `window`.
    static func peakReserved(_ busy: [DateInterval], in window: DateInterval) -> Int {
        var events: [(Date, Int)] = []
        for b in busy where b.start < window.end && b.end > window.start {
            events.append((max(b.start, window.start), 1))
            events.append((min(b.end, window.end), -1))
        }
        events.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var current = 0, most = 0
        for e in events {
            current += e.1
            most = max(most, current)
        }
        return most
    }
}
