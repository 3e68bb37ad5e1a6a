import EarshotWire
import Foundation
import OrganizerCore
import Synchronization

/// Agents, runs and an engine with deterministic alert ids (`al_1`, `al_2`, …) for the alert
/// engine's tests. Times are seconds after `t0`.
enum AlertFixture {
    typealias P = RunObservation.Participant

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static func at(_ s: Double) -> Date { t0.addingTimeInterval(s) }

    static let alice = P(agentID: "ag_alice", name: "alice", site: "hq", role: .caller)
    static let bob = P(agentID: "ag_bob", name: "bob", site: "branch", role: .callee)
    static let carol = P(agentID: "ag_carol", name: "carol", site: "branch", role: .callee)

    final class IDs: Sendable {
        let n = Atomic<Int>(0)
        func next(_ prefix: String) -> String { "\(prefix)\(n.wrappingAdd(1, ordering: .relaxed).newValue)" }
    }

    static func engine(_ rules: [AlertRule] = [], tracks: [AlertTrack] = []) -> AlertEngine {
        let ids = IDs()
        return AlertEngine(rules: rules, tracks: tracks, makeID: { ids.next($0) })
    }

    /// A rule with every count at 1 (fires and clears on one observation), for tests about
    /// something else than the counts.
    static func quick(_ name: AlertRuleName, flapTransitions: Int = 4, flapWindow: WireDuration = .minutes(10)) -> AlertRule {
        var r = AlertRule.defaultRule(name)
        r.fireAfter = 1
        r.clearAfter = 1
        r.flapTransitions = flapTransitions
        r.flapWindow = flapWindow
        return r
    }

    static func dir(_ from: P, _ to: P, mos: Double? = 4.3, lq: Double? = nil, loss: Double = 0, jitter: Double? = 2,
                    rtt: Double? = 20) -> StreamMetrics {
        StreamMetrics(from: from.agentID, to: to.agentID, codec: "PCMU", ptime: 20, packetsExpected: 500,
                      packetsReceived: 500, packetsLost: 0, lossPct: loss, jitterMeanMs: jitter, rttMs: rtt, mosCQ: mos,
                      mosLQ: lq)
    }

    static func run(_ id: String, at s: Double, status: RunStatus = .passed, caller: P = alice, callee: P = bob,
                    dirs: [StreamMetrics]? = nil, suite: String = "mesh", type: TestType = .p2p, cause: RunCause? = nil,
                    call: CallSummary? = nil, participants: [P]? = nil) -> RunObservation {
        RunObservation(runID: id, suite: suite, testType: type, status: status, cause: cause, endedAt: at(s),
                       directions: dirs ?? [dir(caller, callee), dir(callee, caller)], call: call,
                       participants: participants ?? [caller, callee])
    }

    /// A p2p run alice→bob whose bob→alice direction has this MOS-CQ.
    static func mosRun(_ id: String, at s: Double, _ mos: Double) -> RunObservation {
        run(id, at: s, dirs: [dir(alice, bob), dir(bob, alice, mos: mos)])
    }

    /// A p2p run whose alice→bob direction has this loss %.
    static func lossRun(_ id: String, at s: Double, _ loss: Double, callee: P = bob) -> RunObservation {
        run(id, at: s, callee: callee, dirs: [dir(alice, callee, loss: loss), dir(callee, alice)])
    }

    static func agent(_ name: String, site: String, online: Bool = true, lastSeen: Double? = nil,
                      offlineSince: Double? = nil, revoked: Bool = false) -> AgentSnapshot {
        AgentSnapshot(id: "ag_\(name)", name: name, site: site, online: online, revoked: revoked,
                      lastSeenAt: lastSeen.map(at), offlineSince: offlineSince.map(at),
                      offlineReason: online ? nil : "no heartbeat for 3s (3 missed)")
    }

    /// `rule|scope|from→to` of each transition, for compact expectations.
    static func moves(_ c: AlertChanges) -> [String] {
        c.transitions.map { "\($0.track.rule.rawValue)|\($0.track.scope.key)|\($0.from?.rawValue ?? "nil")→\($0.to.rawValue)" }
    }

    static func key(_ rule: AlertRuleName, _ scope: AlertScope) -> AlertKey { AlertKey(rule: rule, scopeKey: scope.key) }
    static let pairAB = AlertScope.pair("alice", "bob", callerSite: "hq", calleeSite: "branch")
}
