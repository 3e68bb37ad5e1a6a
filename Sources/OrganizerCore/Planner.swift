// The planner: suites → runs, within every agent's concurrency budget, spread over the
// interval, every unit re-tested within a stated period (docs/planner.md).
import EarshotWire
import Foundation

/// An agent as the planner sees it.
public struct PlannerAgent: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var site: String
    public var labels: [String: String]
    /// Calls it runs at once (each call counts one for its caller and one for its callee).
    public var budget: Int
    /// Offline members keep their place in the timetable (so a flapping agent does not
    /// reshuffle everyone's schedule); their units are reported as skipped.
    public var online: Bool

    public init(id: String, name: String, site: String = "", labels: [String: String] = [:], budget: Int,
                online: Bool = true) {
        self.id = id
        self.name = name
        self.site = site
        self.labels = labels
        self.budget = budget
        self.online = online
    }
}

extension UnitKey: Codable, CustomStringConvertible {
    enum CodingKeys: String, CodingKey { case caller, callee }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(caller: try c.decode(String.self, forKey: .caller),
                  callee: try c.decodeIfPresent(String.self, forKey: .callee))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(caller, forKey: .caller)
        try c.encodeIfPresent(callee, forKey: .callee)
    }

    /// `a → b`, or `a` alone.
    public var description: String { callee.map { "\(caller) → \($0)" } ?? caller }
}

/// One run of a round: its unit and when it starts.
public struct PlannedRun: Sendable, Hashable {
    public var unit: UnitKey
    /// Seconds after the round's start. The run keeps its participants busy for the slot
    /// length from there.
    public var offsetS: Double

    public init(unit: UnitKey, offsetS: Double) {
        self.unit = unit
        self.offsetS = offsetS
    }
}

/// A unit that could not be placed: pass it back as `backlog` next round.
public struct DeferredUnit: Sendable, Hashable, Codable {
    public var unit: UnitKey
    /// When it was first due (most overdue = earliest goes first).
    public var since: Date

    public init(unit: UnitKey, since: Date) {
        self.unit = unit
        self.since = since
    }
}

/// A unit of this round that cannot run at all: record it as `not_run` with `reason`
/// (`agent_offline`, or `capacity` for an agent with a budget of 0) and the agent.
public struct SkippedUnit: Sendable, Hashable {
    public var unit: UnitKey
    public var reason: String
    public var agentID: String
    /// A sentence for people (conference plans: "over the conference cap of 10"); nil from
    /// `planRound`, whose reasons speak for themselves.
    public var detail: String?

    public init(unit: UnitKey, reason: String, agentID: String, detail: String? = nil) {
        self.unit = unit
        self.reason = reason
        self.agentID = agentID
        self.detail = detail
    }
}

/// What the budgets allow for a suite: the period it can guarantee, and why not the
/// requested one.
public struct PlanAssessment: Sendable, Equatable {
    /// Units of the topology (ordered pairs, or members for `each`).
    public var unitCount: Int
    /// spec.period ?? spec.interval, seconds.
    public var requestedPeriodS: Double
    /// The longest time between two starts of the same unit while membership and budgets
    /// stay as they are (reservations by other suites can delay deferred units further).
    public var achievablePeriodS: Double
    /// A sentence for people when the requested period cannot be met (or the topology has
    /// nothing to test); nil otherwise.
    public var warning: String?
    /// Calls of the busiest member per full cycle of the topology.
    public var callsPerAgent: Int
    /// Concurrent calls per member the timetable uses (at most the lowest budget).
    public var lanes: Int
    /// Time slots per round and their spacing, seconds.
    public var slots: Int
    public var slotSpacingS: Double
    /// Random extra delay added to each start, seconds (0 when the period leaves no room).
    public var jitterS: Double
    /// Rounds one full cycle of the topology spans (1 when it fits in a round).
    public var roundsPerCycle: Int
}

/// One round of one suite.
public struct RoundPlan: Sendable, Equatable {
    public var round: Int
    public var runs: [PlannedRun]
    /// Not placed this round (budgets full, reservations): pass back as `backlog`.
    public var deferred: [DeferredUnit]
    /// Units whose participant is offline (or has no budget): record as not_run.
    public var skipped: [SkippedUnit]
    public var assessment: PlanAssessment

    public var achievablePeriodS: Double { assessment.achievablePeriodS }
    public var warning: String? { assessment.warning }
}

public enum Planner {
    /// The members of a suite among the known agents (online or not), sorted by id.
    public static func members(of spec: SuiteSpec, among agents: [PlannerAgent]) -> [PlannerAgent] {
        agents.filter { spec.members.matches(name: $0.name, id: $0.id, site: $0.site, labels: $0.labels) }
            .sorted { $0.id < $1.id }
    }

    /// The units of a round: mesh = every ordered pair; star = the hub with each member both
    /// ways; pairs = the listed pairs (by agent name or id) whose agents are members;
    /// sample = k pairs of the mesh, rotating with the round so every pair comes up; each =
    /// every member alone. Independent of `round` except for `sample`.
    public static func units(for spec: SuiteSpec, members: [PlannerAgent], round: Int) -> [UnitKey] {
        let topo = Topo(spec: spec, members: sorted(members))
        return topo.roundGroups(round: round, layout: nil).flatMap { $0.1.map(topo.key) }
    }

    /// How many units the topology yields (without listing a mesh's n·(n−1) pairs).
    public static func unitCount(for spec: SuiteSpec, members: [PlannerAgent]) -> Int {
        Topo(spec: spec, members: sorted(members)).unitCount
    }

    /// The busy time of one run: the call plus a margin for setup and teardown; one
    /// transaction plus the margin for register and options.
    public static func slotLength(for spec: SuiteSpec, setupMarginS: Double = 5) -> Double {
        switch spec.type {
        case .register, .options: 5 + setupMarginS
        default: spec.duration.seconds + setupMarginS
        }
    }

    /// Rounds are numbered from the reference date (2001-01-01) in steps of the interval, so
    /// that a restarted organizer resumes the same timetable.
    public static func roundIndex(at date: Date, interval: WireDuration) -> Int {
        let w = max(interval.seconds, 1)
        return Int((date.timeIntervalSinceReferenceDate / w).rounded(.down))
    }

    public static func roundStart(index: Int, interval: WireDuration) -> Date {
        Date(timeIntervalSinceReferenceDate: Double(index) * max(interval.seconds, 1))
    }

    /// The achievable period and its warning, without planning a round.
    public static func assess(_ spec: SuiteSpec, members: [PlannerAgent], slotLength: Double) -> PlanAssessment {
        let topo = Topo(spec: spec, members: sorted(members))
        return topo.assessment(layout: Layout(topo: topo, spec: spec, slotLength: slotLength))
    }

    /// Plans round `round` of a suite, starting at `roundStart` and lasting the interval.
    ///
    /// - `reservations`: per agent id, intervals in which it is already busy with calls of
    ///   other suites (or this suite's calls still running from the last round); each one
    ///   counts one call against the budget.
    /// - `backlog`: the previous round's `deferred`; placed, most overdue first, in capacity
    ///   the timetable leaves free.
    /// - `slotLength`: the busy time of one run (`slotLength(for:)`).
    ///
    /// No member is ever over its budget at any instant, counting reservations.
    public static func planRound(suite spec: SuiteSpec, members: [PlannerAgent], round: Int, roundStart: Date,
                                 backlog: [DeferredUnit] = [], reservations: [String: [DateInterval]] = [:],
                                 slotLength: Double, random: inout some RandomNumberGenerator) -> RoundPlan {
        let topo = Topo(spec: spec, members: sorted(members))
        let layout = Layout(topo: topo, spec: spec, slotLength: slotLength)
        let assessment = topo.assessment(layout: layout)
        var placer = Placer(topo: topo, layout: layout, roundStart: roundStart, reservations: reservations)
        var plan = RoundPlan(round: round, runs: [], deferred: [], skipped: [], assessment: assessment)
        let groups = topo.roundGroups(round: round, layout: layout)
        plan.runs.reserveCapacity(groups.reduce(0) { $0 + $1.1.count })
        var displaced: [(pair: Pair, since: Date)] = []

        for (slot, group) in groups {
            for pair in group {
                if let (reason, agent) = topo.unavailable(pair) {
                    plan.skipped.append(SkippedUnit(unit: topo.key(pair), reason: reason, agentID: agent))
                } else if slot < layout.slots, placer.fits(pair, slot: slot) {
                    placer.take(pair, slot: slot)
                    plan.runs.append(PlannedRun(unit: topo.key(pair), offsetS: layout.start(slot: slot, random: &random)))
                } else {
                    displaced.append((pair, roundStart.addingTimeInterval(Double(min(slot, layout.slots - 1)) * layout.spacing)))
                }
            }
        }

        // Catch-up in what the timetable left free: the backlog (minus units this round
        // already covers), then this round's displaced units; most overdue first.
        var extra = displaced
        if !backlog.isEmpty {
            var inRound = Set<Pair>()
            for (_, group) in groups { inRound.formUnion(group) }
            var seen = Set<Pair>()
            for item in backlog {
                guard let pair = topo.pair(item.unit), !inRound.contains(pair), seen.insert(pair).inserted else { continue }
                if let (reason, agent) = topo.unavailable(pair) {
                    plan.skipped.append(SkippedUnit(unit: item.unit, reason: reason, agentID: agent))
                } else {
                    extra.append((pair, item.since))
                }
            }
        }
        extra.sort { $0.since < $1.since }
        for (pair, since) in extra {
            if let slot = (0..<layout.slots).first(where: { placer.fits(pair, slot: $0) }) {
                placer.take(pair, slot: slot)
                plan.runs.append(PlannedRun(unit: topo.key(pair), offsetS: layout.start(slot: slot, random: &random)))
            } else {
                plan.deferred.append(DeferredUnit(unit: topo.key(pair), since: since))
            }
        }
        return plan
    }

    static func sorted(_ members: [PlannerAgent]) -> [PlannerAgent] {
        var seen = Set<String>()
        return members.sorted { $0.id < $1.id }.filter { seen.insert($0.id).inserted }
    }
}

// MARK: - internals

/// Two member indices; `callee` is -1 for a unit of one member.
struct Pair: Hashable {
    var caller: Int32
    var callee: Int32
}

/// The topology as a cycle of groups: every unit appears in exactly one group per cycle, and
/// no member appears twice in a group, so a group is a set of calls each member can run
/// with one unit of its budget.
struct Topo {
    enum Shape {
        /// Round-robin tournament (circle method) on n members, both orientations: 2(n'−1)
        /// perfect matchings, n' = n rounded up to even (the extra one is a bye).
        case mesh
        /// k units of the mesh's matchings (flattened) per round.
        case sample(Int)
        /// Explicit groups.
        case groups([[Pair]])
    }

    let spec: SuiteSpec
    let members: [PlannerAgent]
    let shape: Shape
    let ids: [String]
    let budgets: [Int32]
    /// Per member: nil when it can run, else why not (`agent_offline`, `capacity`).
    let unavailableReason: [String?]
    /// Budget ≥ 1 of every member: the lanes the timetable may use (no limit for `each`,
    /// where every member is in one group per cycle).
    let laneLimit: Int
    var notes: [String] = []

    init(spec: SuiteSpec, members: [PlannerAgent]) {
        self.spec = spec
        self.members = members
        ids = members.map(\.id)
        budgets = members.map { Int32(clamping: $0.budget) }
        unavailableReason = members.map { !$0.online ? "agent_offline" : $0.budget < 1 ? "capacity" : nil }
        let n = members.count
        let lowest = members.map(\.budget).filter { $0 >= 1 }.min() ?? 1
        var notes: [String] = []
        switch spec.topology.kind {
        case .mesh:
            shape = .mesh
            laneLimit = lowest
        case .sample:
            let k = max(1, spec.topology.k ?? 1)
            shape = k >= n * max(n - 1, 0) ? .mesh : .sample(k)
            laneLimit = lowest
        case .each:
            shape = .groups(n == 0 ? [] : (0..<n).map { [Pair(caller: Int32($0), callee: -1)] })
            laneLimit = max(1, n)
        case .star:
            let hubName = spec.topology.hub ?? ""
            if let hub = members.firstIndex(where: { $0.name == hubName || $0.id == hubName }) {
                let spokes = (0..<n).filter { $0 != hub }
                shape = .groups(spokes.map { [Pair(caller: Int32(hub), callee: Int32($0))] }
                    + spokes.map { [Pair(caller: Int32($0), callee: Int32(hub))] })
            } else {
                shape = .groups([])
                notes.append("topology.hub: \(hubName.isEmpty ? "no hub" : "hub \(hubName)") is not a member of the suite")
            }
            laneLimit = lowest
        case .pairs:
            var index: [String: Int] = [:]
            for (i, m) in members.enumerated() {
                index[m.id] = i
                if index[m.name] == nil { index[m.name] = i }
            }
            var groups: [[Pair]] = []
            var used: [Set<Int>] = []
            var unknown: [String] = []
            var seen = Set<Pair>()
            for listed in spec.topology.pairs ?? [] {
                guard listed.count == 2 else { continue }
                guard let a = index[listed[0]], let b = index[listed[1]], a != b else {
                    unknown.append(listed.joined(separator: "→"))
                    continue
                }
                let pair = Pair(caller: Int32(a), callee: Int32(b))
                guard seen.insert(pair).inserted else { continue }
                // Greedy edge colouring: the first group where neither agent is busy.
                if let g = used.firstIndex(where: { !$0.contains(a) && !$0.contains(b) }) {
                    groups[g].append(pair)
                    used[g].formUnion([a, b])
                } else {
                    groups.append([pair])
                    used.append([a, b])
                }
            }
            if !unknown.isEmpty {
                notes.append("topology.pairs: \(unknown.joined(separator: ", ")) name agents that are not members")
            }
            shape = .groups(groups)
            laneLimit = lowest
        }
        self.notes = notes
    }

    var n: Int { members.count }
    /// n rounded up to even.
    var evenN: Int { n + (n % 2) }
    /// Matchings of one orientation.
    var halfCycle: Int { max(evenN - 1, 0) }
    /// Real pairs per mesh matching.
    var pairsPerMatching: Int { n / 2 }

    var meshUnitCount: Int { n * max(n - 1, 0) }

    var unitCount: Int {
        switch shape {
        case .mesh, .sample: meshUnitCount
        case .groups(let g): g.reduce(0) { $0 + $1.count }
        }
    }

    /// Groups per cycle (the timetable's cycle).
    var cycleLength: Int {
        switch shape {
        case .mesh: n < 2 ? 0 : 2 * halfCycle
        case .sample(let k): n < 2 ? 0 : (min(k, meshUnitCount) + pairsPerMatching - 1) / pairsPerMatching + 1
        case .groups(let g): g.count
        }
    }

    /// Calls of the busiest member per cycle.
    var callsPerAgent: Int {
        switch shape {
        case .mesh, .sample: return 2 * max(n - 1, 0)
        case .groups(let groups):
            var count = [Int](repeating: 0, count: n)
            for g in groups {
                for p in g {
                    count[Int(p.caller)] += 1
                    if p.callee >= 0 { count[Int(p.callee)] += 1 }
                }
            }
            return count.max() ?? 0
        }
    }

    /// Matching `m` (0 ..< 2(n'−1)) of the circle method: in the second half every pair
    /// is reversed, so each ordered pair comes up exactly once per cycle.
    func matching(_ m: Int) -> [Pair] {
        let r = m % halfCycle
        let reversed = m >= halfCycle
        let fixed = evenN - 1
        var out: [Pair] = []
        out.reserveCapacity(pairsPerMatching)
        func add(_ a: Int, _ b: Int, _ flip: Bool) {
            guard a < n, b < n else { return }   // the bye of an odd membership
            let forward = flip != reversed
            out.append(forward ? Pair(caller: Int32(a), callee: Int32(b)) : Pair(caller: Int32(b), callee: Int32(a)))
        }
        add(fixed, r, r % 2 == 1)
        for i in 1..<(evenN / 2) {
            add((r + i) % halfCycle, (r - i + halfCycle) % halfCycle, i % 2 == 1)
        }
        return out
    }

    func group(_ m: Int) -> [Pair] {
        switch shape {
        case .mesh: matching(m)
        case .sample: []
        case .groups(let g): g[m]
        }
    }

    /// This round's groups with their slot. Without a layout (unit listing), slot 0.
    func roundGroups(round: Int, layout: Layout?) -> [(Int, [Pair])] {
        let c = cycleLength
        guard c > 0 else { return [] }
        if case .sample(let k) = shape {
            // Positions [round·k, round·k + k) of the flattened mesh, split where a matching
            // ends (so each piece is vertex-disjoint).
            let total = meshUnitCount
            let count = min(k, total)
            let start = Int((Int64(round) * Int64(k)) % Int64(total) + Int64(total)) % total
            var pieces: [[Pair]] = []
            var current: [Pair] = []
            var lastMatching = -1
            var cache: (Int, [Pair]) = (-1, [])
            for i in 0..<count {
                let p = (start + i) % total
                let m = p / pairsPerMatching
                if cache.0 != m { cache = (m, matching(m)) }
                if m != lastMatching, !current.isEmpty {
                    pieces.append(current)
                    current = []
                }
                lastMatching = m
                current.append(cache.1[p % pairsPerMatching])
            }
            if !current.isEmpty { pieces.append(current) }
            guard let layout else { return pieces.map { (0, $0) } }
            return pieces.enumerated().map { (layout.slotOf(index: $0.offset), $0.element) }
        }
        guard let layout else { return (0..<c).map { (0, group($0)) } }
        if layout.fits {
            return (0..<c).map { (layout.slotOf(index: $0), group($0)) }
        }
        let q = layout.perRound
        let first = Int64(round) * Int64(q)
        return (0..<q).map { i in
            let g = first + Int64(i)
            let m = Int((g % Int64(c) + Int64(c)) % Int64(c))
            return (layout.slotOf(index: i), group(m))
        }
    }

    func key(_ p: Pair) -> UnitKey {
        UnitKey(caller: ids[Int(p.caller)], callee: p.callee >= 0 ? ids[Int(p.callee)] : nil)
    }

    func pair(_ unit: UnitKey) -> Pair? {
        guard let a = index(unit.caller) else { return nil }
        guard let callee = unit.callee else { return Pair(caller: Int32(a), callee: -1) }
        guard let b = index(callee), a != b else { return nil }
        return Pair(caller: Int32(a), callee: Int32(b))
    }

    func index(_ id: String) -> Int? {
        var lo = 0, hi = ids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ids[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < ids.count && ids[lo] == id ? lo : nil
    }

    /// (reason, agent id) when a participant cannot run.
    func unavailable(_ p: Pair) -> (String, String)? {
        if let reason = unavailableReason[Int(p.caller)] { return (reason, ids[Int(p.caller)]) }
        if p.callee >= 0, let reason = unavailableReason[Int(p.callee)] { return (reason, ids[Int(p.callee)]) }
        return nil
    }

    var kindName: String { spec.topology.kind.rawValue }

    func assessment(layout: Layout) -> PlanAssessment {
        let requested = (spec.period ?? spec.interval).seconds
        var warnings = notes
        let c = cycleLength
        if n == 0 {
            warnings.append("no agent matches the suite's members")
        } else if c == 0, notes.isEmpty, spec.topology.kind != .each {
            warnings.append("\(kindName) of \(n) agent\(n == 1 ? "" : "s") has no pairs to test")
        }
        let achievable = c == 0 ? requested : layout.achievable
        if c > 0, achievable > requested + 1e-6 {
            let mixed = Set(members.map(\.budget).filter { $0 >= 1 }).count > 1
            let budgetText = "budget \(layout.lanes)\(mixed ? " (the lowest of its members)" : "")"
            if case .sample(let k) = shape {
                if layout.overflow {
                    warnings.append("sample of \(k) pairs per round is more than the budgets allow in one round; the rest are deferred")
                }
                warnings.append("sample of \(k) pairs per round covers the \(meshUnitCount) pairs of the mesh in \(layout.roundsPerCycle) rounds: each pair every \(number(achievable)) s > period \(number(requested)) s")
            } else {
                warnings.append("\(kindName) of \(n) agents needs \(callsPerAgent) call slots per agent; with \(budgetText) and \(number(layout.slotLength)) s slots the full \(kindName) takes \(number(achievable)) s > period \(number(requested)) s")
            }
        }
        return PlanAssessment(unitCount: unitCount, requestedPeriodS: requested, achievablePeriodS: achievable,
                              warning: warnings.isEmpty ? nil : warnings.joined(separator: "; "),
                              callsPerAgent: callsPerAgent, lanes: layout.lanes, slots: layout.slots,
                              slotSpacingS: layout.spacing, jitterS: layout.jitter,
                              roundsPerCycle: layout.roundsPerCycle)
    }
}

/// Where a round's groups go in time. The interval holds `slots` time slots `spacing`
/// apart (≥ the slot length); each slot holds up to `lanes` groups, so a member is in at
/// most `lanes` calls at once. When the whole cycle fits in a round, it uses as few lanes
/// as it can and spreads over the interval; otherwise it packs `slots × lanes` groups per
/// round and the cycle continues next round where this one stopped.
struct Layout {
    let slotLength: Double
    let interval: Double
    let fits: Bool
    let lanes: Int
    let slots: Int
    let spacing: Double
    /// Groups per round (non-fitting case).
    let perRound: Int
    /// More groups than a round holds (for `sample`: k is more than the budgets allow).
    let overflow: Bool
    /// Rounds a call overlaps (⌈slot length / interval⌉, 1 when calls end inside their round).
    let overlap: Int
    let jitter: Double
    let achievable: Double
    let roundsPerCycle: Int

    init(topo: Topo, spec: SuiteSpec, slotLength rawSlot: Double) {
        let w = max(spec.interval.seconds, 1)
        let l = max(rawSlot, 0.001)
        slotLength = l
        interval = w
        let requested = (spec.period ?? spec.interval).seconds
        let maxSlots = max(1, Int((w / l).rounded(.down)))
        // A call longer than the interval is still running when the next round starts:
        // split the budget between the overlapping rounds.
        overlap = l > w ? Int((l / w).rounded(.up)) : 1
        let laneLimit = max(1, topo.laneLimit / overlap)
        let c = topo.cycleLength
        overflow = c > maxSlots * laneLimit
        if !overflow {
            // Fewest lanes that fit, spread over the whole interval.
            fits = true
            lanes = c == 0 ? 1 : (c + maxSlots - 1) / maxSlots
            slots = c == 0 ? 1 : (c + lanes - 1) / lanes
            spacing = w / Double(slots)
            perRound = c
        } else {
            fits = false
            lanes = laneLimit
            slots = maxSlots
            spacing = w / Double(maxSlots)
            perRound = maxSlots * laneLimit
        }
        let room = max(0, spacing - l)
        if case .sample(let k) = topo.shape {
            // Round r takes positions [r·k, r·k + k) of the flattened mesh: a pair comes back
            // after ⌊U/k⌋ or ⌈U/k⌉ rounds, possibly from the first slot to the last.
            let rounds = (topo.meshUnitCount + k - 1) / k
            jitter = 0
            achievable = Double(rounds) * w + Double(slots - 1) * spacing
            roundsPerCycle = rounds
        } else if fits {
            // The whole cycle every round, each group in the same slot: the gap is the
            // interval plus the jitter, which the period's slack allows.
            jitter = min(room, max(0, requested - w))
            achievable = w + jitter
            roundsPerCycle = 1
        } else {
            // Global group g is in round ⌊g/q⌋, slot (g mod q)/lanes; a unit recurs C groups
            // later. The worst gap over the q positions in a round:
            let q = perRound
            let a = c / q, r = c % q
            var worst = Double(a) * w
            if r > 0 {
                for x in 0..<q {
                    let y = x + r
                    let gap = y < q
                        ? Double(a) * w + Double(y / lanes - x / lanes) * spacing
                        : Double(a + 1) * w + Double((y - q) / lanes - x / lanes) * spacing
                    worst = max(worst, gap)
                }
            }
            jitter = worst < requested ? min(room, requested - worst) : 0
            achievable = worst + jitter
            roundsPerCycle = (c + q - 1) / q
        }
    }

    func slotOf(index i: Int) -> Int { i / lanes }

    /// A start in slot `slot`: the slot's start plus a random delay up to the jitter.
    func start(slot: Int, random: inout some RandomNumberGenerator) -> Double {
        let base = Double(slot) * spacing
        return jitter > 0 ? base + Double.random(in: 0...jitter, using: &random) : base
    }
}

/// Per member and slot: calls placed, and the peak of its reservations.
struct Placer {
    let topo: Topo
    let layout: Layout
    let roundStart: Date
    /// Per member index, its reservations (empty for most).
    let reservations: [[DateInterval]]
    let anyReservations: Bool
    let budgets: [Int32]
    let slots: Int
    var load: [Int32]
    var reservedPeak: [Int: Int] = [:]

    init(topo: Topo, layout: Layout, roundStart: Date, reservations: [String: [DateInterval]]) {
        self.topo = topo
        self.layout = layout
        self.roundStart = roundStart
        var byIndex = [[DateInterval]](repeating: [], count: topo.n)
        var any = false
        for (id, busy) in reservations where !busy.isEmpty {
            if let i = topo.index(id) {
                byIndex[i] = busy
                any = true
            }
        }
        self.reservations = byIndex
        anyReservations = any
        // Calls that overlap the next round may use only their share of the budget.
        budgets = layout.overlap == 1 ? topo.budgets : topo.budgets.map { max(1, $0 / Int32(layout.overlap)) }
        slots = layout.slots
        load = [Int32](repeating: 0, count: topo.n * layout.slots)
    }

    mutating func fits(_ p: Pair, slot: Int) -> Bool {
        free(Int(p.caller), slot: slot) && (p.callee < 0 || free(Int(p.callee), slot: slot))
    }

    mutating func take(_ p: Pair, slot: Int) {
        load[Int(p.caller) * slots + slot] += 1
        if p.callee >= 0 { load[Int(p.callee) * slots + slot] += 1 }
    }

    mutating func free(_ i: Int, slot: Int) -> Bool {
        let used = load[i * slots + slot]
        return anyReservations ? Int(used) + peak(i, slot: slot) < Int(budgets[i]) : used < budgets[i]
    }

    /// The most reservations of member `i` that overlap at one instant of the slot's window
    /// (the slot start to its start plus spacing, or the slot length when longer).
    mutating func peak(_ i: Int, slot: Int) -> Int {
        let busy = reservations[i]
        if busy.isEmpty { return 0 }
        let key = i * slots + slot
        if let known = reservedPeak[key] { return known }
        let from = roundStart.addingTimeInterval(Double(slot) * layout.spacing)
        let most = Planner.peakReserved(busy, in: DateInterval(start: from, duration: max(layout.spacing, layout.slotLength)))
        reservedPeak[key] = most
        return most
    }
}
