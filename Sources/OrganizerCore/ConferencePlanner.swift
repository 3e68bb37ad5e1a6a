// Conference runs (issue 6): who takes part, who hosts the bridge, which tone each sends and
// when each joins. CONTRACT (the lead's; the core helper implements it).
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
    /// Plans round `round` of a conference suite: the online members (sorted by id, capped),
    /// the bridge host (`bridge_agent`; `rotate`: candidate `round mod count`; `agent` without a
    /// name: the first candidate that is a member, else the first candidate), tones
    /// `IdentifyingTone.frequency(slot: i)` in join order (distinct up to 17 participants),
    /// joins spread evenly over `join_spread`. `bridgeCandidates`: online agents with the
    /// `bridge` capability. A participant or bridge host whose budget is used up at the run's
    /// time (`reservations`) is skipped.
    public static func planConference(suite spec: SuiteSpec, members: [PlannerAgent], bridgeCandidates: [PlannerAgent],
                                      round: Int, roundStart: Date, reservations: [String: [DateInterval]] = [:],
                                      slotLength: Double, random: inout some RandomNumberGenerator) -> ConferencePlan {
        ConferencePlan(participants: [], bridgeAgentID: nil, offsetS: 0, members: [], notPlanned: "not implemented yet")
    }
}
