import EarshotWire
import Foundation
import OrganizerCore
import Testing

@Suite struct AlertEngineHysteresisTests {
    typealias F = AlertFixture
    let mosKey = F.key(.mosLow, F.pairAB)

    @Test func mosLowFiresOnTheSecondBreachWithTheWorstDirection() throws {
        var e = F.engine()
        let first = e.observeRun(F.mosRun("r1", at: 0, 3.2))
        #expect(first.transitions.isEmpty)
        #expect(first.updated.map(\.key) == [mosKey])
        #expect(e.tracks[mosKey]?.breaches == 1)
        #expect(e.tracks[mosKey]?.alertID == "al_1")

        let second = e.observeRun(F.mosRun("r2", at: 30, 3.21))
        #expect(F.moves(second) == ["mos_low|pair=alice>bob|nil→firing"])
        let ev = try #require(second.transitions.first)
        #expect(ev.at == F.at(30))
        #expect(ev.track.alertID == "al_1")
        #expect(ev.track.startedAt == F.at(30))
        #expect(ev.track.transitions == 1)
        #expect(ev.track.rawFiring)
        let m = try #require(ev.measurement)
        #expect(m.metric == "mos_cq")
        #expect(m.value == 3.21)
        #expect(m.threshold == 3.6)
        #expect(m.direction == "bob→alice")
        #expect(m.runID == "r2")
        #expect(m.detail == "MOS-CQ 3.21 < 3.60 (bob→alice)")
        #expect(ev.summary == "mos_low firing: MOS-CQ 3.21 < 3.60 (bob→alice) on alice→bob (2 runs in a row)")
        #expect(e.tracks[mosKey]?.info()?.state == .firing)
    }

    @Test func aValueInTheBandBreaksTheBreachStreak() {
        var e = F.engine()
        _ = e.observeRun(F.mosRun("r1", at: 0, 3.0))
        let band = e.observeRun(F.mosRun("r2", at: 30, 3.7))
        // Between fire (3.6) and clear (3.8): neither; the never-fired key is forgotten.
        #expect(band.removed == [mosKey])
        #expect(e.tracks[mosKey] == nil)
        #expect(e.observeRun(F.mosRun("r3", at: 60, 3.0)).transitions.isEmpty)
        #expect(F.moves(e.observeRun(F.mosRun("r4", at: 90, 3.0))) == ["mos_low|pair=alice>bob|nil→firing"])
        // A new key after it was forgotten: a new id.
        #expect(e.tracks[mosKey]?.alertID == "al_2")
    }

    @Test func clearsOnlyAfterThreeConsecutiveClearsAndTheBandResetsTheCount() throws {
        var e = F.engine()
        _ = e.observeRun(F.mosRun("r1", at: 0, 3.0))
        _ = e.observeRun(F.mosRun("r2", at: 30, 3.0))
        #expect(e.tracks[mosKey]?.state == .firing)
        #expect(e.observeRun(F.mosRun("r3", at: 60, 4.0)).transitions.isEmpty)
        #expect(e.observeRun(F.mosRun("r4", at: 90, 4.0)).transitions.isEmpty)
        #expect(e.tracks[mosKey]?.clears == 2)
        // 3.7 is above fire but below clear: still firing, the clear streak starts over.
        let band = e.observeRun(F.mosRun("r5", at: 120, 3.7))
        #expect(band.transitions.isEmpty)
        #expect(e.tracks[mosKey]?.clears == 0)
        #expect(e.tracks[mosKey]?.state == .firing)
        #expect(e.observeRun(F.mosRun("r6", at: 150, 3.8)).transitions.isEmpty)
        #expect(e.observeRun(F.mosRun("r7", at: 180, 3.9)).transitions.isEmpty)
        let resolved = e.observeRun(F.mosRun("r8", at: 210, 4.1))
        #expect(F.moves(resolved) == ["mos_low|pair=alice>bob|firing→resolved"])
        let ev = try #require(resolved.transitions.first)
        #expect(ev.measurement?.threshold == 3.8)
        #expect(ev.measurement?.detail == "MOS-CQ 4.10 ≥ 3.80 (bob→alice)")
        #expect(ev.track.resolvedAt == F.at(210))
        #expect(ev.track.startedAt == F.at(30))
        #expect(ev.track.transitions == 2)
        #expect(ev.summary == "mos_low resolved: MOS-CQ 4.10 ≥ 3.80 (bob→alice) on alice→bob (3 runs in a row)")
    }

    @Test func aResolvedAlertFiresAgainAsANewEpisodeUnderTheSameID() throws {
        var e = F.engine([F.quick(.lossHigh)])
        _ = e.observeRun(F.lossRun("r1", at: 0, 5))
        _ = e.observeRun(F.lossRun("r2", at: 60, 0))
        let again = e.observeRun(F.lossRun("r3", at: 120, 6))
        #expect(F.moves(again) == ["loss_high|pair=alice>bob|resolved→firing"])
        let t = try #require(again.transitions.first?.track)
        #expect(t.alertID == "al_1")
        #expect(t.startedAt == F.at(120))
        #expect(t.resolvedAt == nil)
        #expect(t.transitions == 3)
        #expect(t.measurement?.detail == "loss 6% > 3% (alice→bob)")
        #expect(t.measurement?.unit == "%")
    }

    @Test func repeatedObservationsOfASettledAlertChangeNothing() {
        var e = F.engine([F.quick(.lossHigh)])
        _ = e.observeRun(F.lossRun("r1", at: 0, 5))
        // Firing: more breaches are capped at fire_after, nothing to store.
        #expect(e.observeRun(F.lossRun("r2", at: 60, 7)).isEmpty)
        _ = e.observeRun(F.lossRun("r3", at: 120, 0))
        #expect(e.observeRun(F.lossRun("r4", at: 180, 0)).isEmpty)
        #expect(e.observeRun(F.lossRun("r5", at: 240, 0.5)).isEmpty)
    }

    @Test func mosLQIsUsedForADirectionWithoutMOSCQ() throws {
        var e = F.engine([F.quick(.mosLow)])
        let c = e.observeRun(F.run("r1", at: 0, dirs: [F.dir(F.alice, F.bob, mos: nil, lq: 3.1),
                                                          F.dir(F.bob, F.alice, mos: nil, lq: 4.0)]))
        let m = try #require(c.transitions.first?.measurement)
        #expect(m.metric == "mos_lq")
        #expect(m.value == 3.1)
        #expect(m.direction == "alice→bob")
        #expect(m.detail == "MOS-LQ 3.10 < 3.60 (alice→bob)")
    }

    @Test func jitterAndRTTTakeTheWorstDirection() throws {
        var e = F.engine([F.quick(.jitterHigh), F.quick(.rttHigh)])
        let c = e.observeRun(F.run("r1", at: 0, dirs: [F.dir(F.alice, F.bob, jitter: 12, rtt: 320),
                                                          F.dir(F.bob, F.alice, jitter: 41.5, rtt: 310)]))
        #expect(F.moves(c) == ["jitter_high|pair=alice>bob|nil→firing", "rtt_high|pair=alice>bob|nil→firing"])
        #expect(c.transitions[0].measurement?.detail == "jitter 41.5 ms > 30 ms (bob→alice)")
        #expect(c.transitions[1].measurement?.detail == "RTT 320 ms > 300 ms (alice→bob)")
        #expect(c.transitions[1].measurement?.value == 320)
    }

    @Test func aRunWithoutMediaOrNotRunIsNoObservation() {
        var e = F.engine()
        _ = e.observeRun(F.mosRun("r1", at: 0, 3.0))
        // No media: test_failed counts it, the MOS streak stays as it was.
        let noMedia = e.observeRun(F.run("r2", at: 30, status: .failed, dirs: [], cause: RunCause(code: "no_answer")))
        #expect(noMedia.updated.map(\.key) == [F.key(.testFailed, F.pairAB)])
        #expect(e.tracks[mosKey]?.breaches == 1)
        // not_run: nothing at all, bad figures or not.
        let notRun = F.run("r3", at: 60, status: .notRun, dirs: [F.dir(F.alice, F.bob, mos: 1.0, loss: 50)],
                           cause: RunCause(code: "agent_offline"))
        #expect(e.observeRun(notRun).isEmpty)
        #expect(F.moves(e.observeRun(F.mosRun("r4", at: 90, 3.0))) == ["mos_low|pair=alice>bob|nil→firing"])
    }
}

@Suite struct AlertEngineScopeTests {
    typealias F = AlertFixture

    @Test func pairRulesFireOnlyForThePairWithBadMetrics() {
        var e = F.engine()
        var moves: [String] = []
        for k in 0..<2 {
            moves += F.moves(e.observeRun(F.lossRun("ab\(k)", at: Double(k) * 60, 8)))
            moves += F.moves(e.observeRun(F.lossRun("ac\(k)", at: Double(k) * 60 + 1, 0.2, callee: F.carol)))
        }
        #expect(moves == ["loss_high|pair=alice>bob|nil→firing"])
        #expect(e.tracks.keys.sorted() == [F.key(.lossHigh, F.pairAB)])
        #expect(e.tracks[F.key(.lossHigh, F.pairAB)]?.scope.sites == ["hq", "branch"])
    }

    @Test func agentScopeCountsOnlyTheDirectionsOfThatAgent() {
        var rule = F.quick(.lossHigh)
        rule.scope = .agent
        var e = F.engine([rule])
        let bridge = AlertFixture.P(agentID: "ag_conf", name: "conf", site: "hq", role: .bridge)
        let alice = AlertFixture.P(agentID: "ag_alice", name: "alice", site: "hq", role: .participant)
        let bob = AlertFixture.P(agentID: "ag_bob", name: "bob", site: "branch", role: .participant)
        let run = F.run("r1", at: 0, type: .conference, participants: [bridge, alice, bob])
        var conf = run
        conf.directions = [F.dir(alice, bridge), F.dir(bridge, alice), F.dir(bob, bridge, loss: 9), F.dir(bridge, bob)]
        let c = e.observeRun(conf)
        #expect(F.moves(c) == ["loss_high|agent=conf|nil→firing", "loss_high|agent=bob|nil→firing"])
        #expect(c.transitions.map { $0.measurement?.direction } == ["bob→conf", "bob→conf"])
    }

    @Test func siteScopeGivesOneAlertPerSiteOfTheParticipants() {
        var rule = F.quick(.testFailed)
        rule.scope = .site
        var e = F.engine([rule])
        let c = e.observeRun(F.run("r1", at: 0, status: .failed, callee: F.bob, dirs: [], cause: RunCause(code: "rejected", statusCode: 503)))
        #expect(F.moves(c) == ["test_failed|site=hq|nil→firing", "test_failed|site=branch|nil→firing"])
        #expect(c.transitions[0].measurement?.detail == "failed: rejected 503")
    }

    @Test func suiteScopeAndTheSuitesFilter() {
        var rule = F.quick(.testFailed)
        rule.scope = .suite
        rule.suites = ["mesh"]
        var e = F.engine([rule])
        let other = F.run("r1", at: 0, status: .failed, suite: "soak", cause: RunCause(code: "no_answer"))
        #expect(e.observeRun(other).isEmpty)
        let mesh = e.observeRun(F.run("r2", at: 10, status: .failed, suite: "mesh", cause: RunCause(code: "no_answer")))
        #expect(F.moves(mesh) == ["test_failed|suite=mesh|nil→firing"])
    }

    @Test func testFailedFiresAfterTwoFailuresAndClearsAfterTwoPasses() throws {
        var e = F.engine()
        let failed = { (id: String, s: Double) in
            F.run(id, at: s, status: .failed, cause: RunCause(code: "no_answer", detail: "no final answer in 32 s"))
        }
        #expect(e.observeRun(failed("r1", 0)).transitions.isEmpty)
        let fire = e.observeRun(failed("r2", 60))
        #expect(F.moves(fire) == ["test_failed|pair=alice>bob|nil→firing"])
        #expect(fire.transitions.first?.measurement?.detail == "failed: no_answer (no final answer in 32 s)")
        #expect(e.observeRun(F.run("r3", at: 120, status: .degraded)).transitions.isEmpty)
        #expect(F.moves(e.observeRun(F.run("r4", at: 180))) == ["test_failed|pair=alice>bob|firing→resolved"])
    }

    @Test func aRunOfOneParticipantFallsBackToTheAgentScope() {
        var e = F.engine([F.quick(.testFailed)])
        let registrant = AlertFixture.P(agentID: "ag_alice", name: "alice", site: "hq", role: .registrant)
        let c = e.observeRun(F.run("r1", at: 0, status: .failed, dirs: [], type: .options,
                                   cause: RunCause(code: "options_failed"), participants: [registrant]))
        #expect(F.moves(c) == ["test_failed|agent=alice|nil→firing"])
    }
}

@Suite struct AlertEngineSignallingRuleTests {
    typealias F = AlertFixture
    let registrant = AlertFixture.P(agentID: "ag_alice", name: "alice", site: "hq", role: .registrant)

    @Test func aFailedRegisterRunFiresForTheRegistrantAndAPassedOneResolves() throws {
        var e = F.engine()
        let failed = F.run("r1", at: 0, status: .failed, dirs: [], type: .register,
                           cause: RunCause(code: "rejected", detail: "Forbidden", statusCode: 403), participants: [registrant])
        let fire = e.observeRun(failed)
        #expect(F.moves(fire).contains("registration_failed|agent=alice|nil→firing"))
        let ev = try #require(fire.transitions.first { $0.track.rule == .registrationFailed })
        #expect(ev.measurement?.detail == "registration failed: rejected 403 (Forbidden)")
        #expect(ev.track.severity == .critical)
        #expect(ev.track.scope == .agent("alice", site: "hq"))
        let ok = e.observeRun(F.run("r2", at: 60, dirs: [], type: .register, participants: [registrant]))
        #expect(F.moves(ok).contains("registration_failed|agent=alice|firing→resolved"))
    }

    @Test func aCallThatCouldNotRegisterFiresForTheAgentAtFault() {
        var e = F.engine()
        let callerFault = F.run("r1", at: 0, status: .failed, dirs: [], cause: RunCause(code: "registration_failed"))
        #expect(F.moves(e.observeRun(callerFault)).contains("registration_failed|agent=alice|nil→firing"))
        let calleeFault = F.run("r2", at: 10, status: .failed, dirs: [],
                                cause: RunCause(code: "registration_failed", statusCode: 401, agentID: "ag_bob"))
        let c = e.observeRun(calleeFault)
        #expect(c.transitions.filter { $0.track.rule == .registrationFailed }.map { $0.track.scope.key } == ["agent=bob"])
        #expect(c.transitions.first { $0.track.rule == .registrationFailed }?.measurement?.detail == "registration failed 401")
        // A passed call clears both.
        let passed = e.observeRun(F.run("r3", at: 20))
        #expect(Set(F.moves(passed)) == ["registration_failed|agent=alice|firing→resolved",
                                         "registration_failed|agent=bob|firing→resolved"])
    }

    @Test func anExpiredSessionFiresAndCallsWithATimerResolveAfterTwo() {
        var e = F.engine()
        let expired = F.run("r1", at: 0, status: .failed, cause: RunCause(code: "session_expired", detail: "UPDATE unanswered"),
                            call: CallSummary(ending: "session_expired", sessionIntervalS: 90))
        let fire = e.observeRun(expired)
        #expect(F.moves(fire).contains("session_refresh_failed|pair=alice>bob|nil→firing"))
        #expect(fire.transitions.first { $0.track.rule == .sessionRefreshFailed }?.measurement?.detail
            == "session expired: UPDATE unanswered")
        // A call without session timers says nothing about refreshes.
        let noTimer = e.observeRun(F.run("r2", at: 60, call: CallSummary(ending: "normal")))
        #expect(e.tracks[F.key(.sessionRefreshFailed, F.pairAB)]?.clears == 0)
        #expect(!F.moves(noTimer).contains { $0.hasPrefix("session_refresh_failed") })
        let refreshed = CallSummary(ending: "normal", sessionIntervalS: 90,
                                    refreshes: [CallSummary.Refresh(atS: 45, method: "UPDATE", statusCode: 200, outcome: "ok")])
        #expect(e.observeRun(F.run("r3", at: 120, call: refreshed)).transitions.isEmpty)
        let resolved = e.observeRun(F.run("r4", at: 180, call: refreshed))
        #expect(F.moves(resolved) == ["session_refresh_failed|pair=alice>bob|firing→resolved"])
        #expect(resolved.transitions.first?.summary
            == "session_refresh_failed resolved: session timer 90 s held (1 refresh) on alice→bob (2 runs in a row)")
    }

    @Test func aTimedOutRefreshInTheCallSummaryBreaches() {
        var e = F.engine()
        let call = CallSummary(ending: "normal", sessionIntervalS: 90,
                               refreshes: [CallSummary.Refresh(atS: 45, method: "UPDATE", outcome: "timeout")])
        let c = e.observeRun(F.run("r1", at: 0, call: call))
        #expect(c.transitions.first?.measurement?.detail == "session refresh UPDATE at 45 s: timeout")
        #expect(F.moves(c) == ["session_refresh_failed|pair=alice>bob|nil→firing"])
    }
}

@Suite struct AlertEngineFlappingTests {
    typealias F = AlertFixture
    let key = AlertFixture.key(.lossHigh, AlertFixture.pairAB)

    @Test func aTogglingLinkGivesExactlyOneFlappingTransitionThenQuiet() throws {
        var e = F.engine([F.quick(.lossHigh, flapTransitions: 4, flapWindow: .minutes(10))])
        var moves: [String] = []
        for k in 0..<12 {
            moves += F.moves(e.observeRun(F.lossRun("r\(k)", at: Double(k) * 30, k % 2 == 0 ? 8 : 0)))
        }
        #expect(moves == ["loss_high|pair=alice>bob|nil→firing", "loss_high|pair=alice>bob|firing→resolved",
                          "loss_high|pair=alice>bob|resolved→firing", "loss_high|pair=alice>bob|firing→flapping"])
        let t = try #require(e.tracks[key])
        #expect(t.state == .flapping)
        #expect(t.transitions == 4)
        #expect(t.updatedAt == F.at(90))
        #expect(t.flips.count == 12)
        #expect(t.summary.hasSuffix("(4 changes in 10m)"))
        // The last observation (330 s) was clear.
        #expect(!t.rawFiring)
    }

    @Test func aFlappingAlertSettlesOnceItsWindowPassesQuietly() throws {
        var e = F.engine([F.quick(.lossHigh, flapTransitions: 4, flapWindow: .minutes(10))])
        for k in 0..<5 { _ = e.observeRun(F.lossRun("r\(k)", at: Double(k) * 30, k % 2 == 0 ? 8 : 0)) }
        // Flips at 0, 30, 60, 90, 120; raw firing (the last run was bad).
        #expect(e.tracks[key]?.state == .flapping)
        #expect(e.tick(now: F.at(700)).transitions.isEmpty)
        #expect(e.tick(now: F.at(720)).transitions.isEmpty)
        let settle = e.tick(now: F.at(720.5))
        #expect(F.moves(settle) == ["loss_high|pair=alice>bob|flapping→firing"])
        let t = try #require(settle.transitions.first?.track)
        #expect(t.flips.isEmpty)
        #expect(t.measurement?.detail == "stable for 10m: loss 8% > 3% (alice→bob)")
        #expect(t.measurement?.runID == "r4")
        #expect(e.tick(now: F.at(800)).isEmpty)
        // Back to the ordinary machine: a good run resolves it.
        #expect(F.moves(e.observeRun(F.lossRun("r9", at: 900, 0))) == ["loss_high|pair=alice>bob|firing→resolved"])
    }

    @Test func aFlappingAlertWhoseLinkHealedSettlesResolved() {
        var e = F.engine([F.quick(.lossHigh, flapTransitions: 3, flapWindow: .minutes(5))])
        for k in 0..<4 { _ = e.observeRun(F.lossRun("r\(k)", at: Double(k) * 10, k % 2 == 0 ? 8 : 0)) }
        #expect(e.tracks[key]?.state == .flapping)
        let settle = e.tick(now: F.at(400))
        #expect(F.moves(settle) == ["loss_high|pair=alice>bob|flapping→resolved"])
        #expect(settle.transitions.first?.track.resolvedAt == F.at(400))
    }

    @Test func changesFurtherApartThanTheWindowAreNotFlapping() {
        var e = F.engine([F.quick(.lossHigh, flapTransitions: 3, flapWindow: .minutes(5))])
        var moves: [String] = []
        for k in 0..<6 {
            moves += F.moves(e.observeRun(F.lossRun("r\(k)", at: Double(k) * 200, k % 2 == 0 ? 8 : 0)))
        }
        #expect(!moves.contains { $0.hasSuffix("flapping") })
        #expect(moves.count == 6)
        // tick drops the flips that left the window.
        let pruned = e.tick(now: F.at(1250))
        #expect(pruned.updated.first?.flips == [F.at(1000)])
    }
}

@Suite struct AlertEngineSiteTests {
    typealias F = AlertFixture
    static let h = 1.0

    /// The roster at `now`: agents whose heartbeats stopped at `stop` go offline 3 heartbeat
    /// intervals later; the others were heard 0.1 s ago.
    static func roster(_ agents: [(name: String, site: String, stop: Double?)], now: Double) -> [AgentSnapshot] {
        agents.map { a in
            guard let stop = a.stop, now >= stop else { return F.agent(a.name, site: a.site, lastSeen: now - 0.1) }
            let offlineAt = stop + 3 * h
            return now < offlineAt ? F.agent(a.name, site: a.site, lastSeen: stop)
                : F.agent(a.name, site: a.site, online: false, lastSeen: stop, offlineSince: offlineAt)
        }
    }

    @Test func aWholeSiteCutOffGivesOneSiteDownAndNoAgentOffline() throws {
        var e = F.engine()
        let fleet: [(name: String, site: String, stop: Double?)] = [
            ("b1", "branch", 100.0), ("b2", "branch", 100.25), ("b3", "branch", 100.875), ("h1", "hq", nil), ("h2", "hq", nil),
        ]
        var all = AlertChanges()
        for step in 0...64 {  // 98.0 … 106.0 s, every 0.125 s (exact in binary)
            let now = 98.0 + Double(step) * 0.125
            all.merge(e.observeAgents(Self.roster(fleet, now: now), heartbeatIntervalS: Self.h, now: F.at(now)))
        }
        #expect(F.moves(all) == ["site_down|site=branch|nil→firing"])
        let ev = try #require(all.transitions.first)
        #expect(ev.at == F.at(103.875))
        #expect(ev.measurement?.value == 3)
        #expect(ev.measurement?.detail == "all 3 agents offline: b1, b2, b3")
        #expect(ev.track.severity == .critical)
        #expect(!e.tracks.keys.contains { $0.rule == .agentOffline })

        // The site comes back as a whole: resolved, still no agent_offline.
        let back = e.observeAgents(Self.roster(fleet.map { ($0.name, $0.site, nil) }, now: 120), heartbeatIntervalS: Self.h,
                                   now: F.at(120))
        #expect(F.moves(back) == ["site_down|site=branch|firing→resolved"])
        #expect(back.transitions.first?.measurement?.detail == "3 of 3 agents online")
    }

    @Test func oneAgentKilledWithFreshSiblingsFiresAtOnce() throws {
        var e = F.engine()
        let fleet: [(name: String, site: String, stop: Double?)] = [("b1", "branch", 100.0), ("b2", "branch", nil), ("b3", "branch", nil)]
        var moves: [String] = []
        var firstAt: Date?
        for step in 0...40 {
            let now = 100.0 + Double(step) / 10
            let c = e.observeAgents(Self.roster(fleet, now: now), heartbeatIntervalS: Self.h, now: F.at(now))
            if firstAt == nil, !c.transitions.isEmpty { firstAt = F.at(now) }
            moves += F.moves(c)
        }
        #expect(moves == ["agent_offline|agent=b1|nil→firing"])
        #expect(firstAt == F.at(103))
        let t = try #require(e.tracks[F.key(.agentOffline, .agent("b1", site: "branch"))])
        #expect(t.measurement?.metric == "offline_s")
        #expect(t.measurement?.value == 0)
        #expect(t.measurement?.detail == "offline: no heartbeat for 3s (3 missed)")
        #expect(t.summary == "agent_offline firing: offline: no heartbeat for 3s (3 missed) on agent b1 (site branch)")
        let back = e.observeAgents(Self.roster(fleet.map { ($0.name, $0.site, nil) }, now: 110), heartbeatIntervalS: Self.h,
                                   now: F.at(110))
        #expect(F.moves(back) == ["agent_offline|agent=b1|firing→resolved"])
    }

    @Test func aSiteBelowMinAgentsGivesAgentOfflineAlerts() {
        var site = AlertRule.defaultRule(.siteDown)
        site.minAgents = 3
        var e = F.engine([site])
        let fleet: [(name: String, site: String, stop: Double?)] = [("b1", "branch", 100.0), ("b2", "branch", 100.5), ("s1", "solo", 100.0)]
        var moves: [String] = []
        for step in 0...20 {
            let now = 103.0 + Double(step) / 10
            moves += F.moves(e.observeAgents(Self.roster(fleet, now: now), heartbeatIntervalS: Self.h, now: F.at(now)))
        }
        #expect(moves == ["agent_offline|agent=b1|nil→firing", "agent_offline|agent=s1|nil→firing",
                          "agent_offline|agent=b2|nil→firing"])
    }

    @Test func theWaitForASilentSiblingIsBounded() {
        var e = F.engine()
        // b2 is still online but has been silent for 5 s (a roster that has not caught up).
        let roster = { (now: Double) in
            [F.agent("b1", site: "branch", online: false, lastSeen: 97, offlineSince: 100),
             F.agent("b2", site: "branch", lastSeen: 95)]
        }
        #expect(e.observeAgents(roster(100), heartbeatIntervalS: 1, now: F.at(100)).isEmpty)
        #expect(e.observeAgents(roster(102), heartbeatIntervalS: 1, now: F.at(102)).isEmpty)
        #expect(F.moves(e.observeAgents(roster(102.1), heartbeatIntervalS: 1, now: F.at(102.1)))
            == ["agent_offline|agent=b1|nil→firing"])
        #expect(e.tracks[F.key(.agentOffline, .agent("b1", site: "branch"))]?.measurement?.value ?? 0 > 2.09)
    }

    @Test func agentsComingBackAfterASiteDownGetTheReconnectGrace() {
        var e = F.engine()
        let down = [F.agent("b1", site: "branch", online: false, lastSeen: 90, offlineSince: 100),
                    F.agent("b2", site: "branch", online: false, lastSeen: 90, offlineSince: 100)]
        #expect(F.moves(e.observeAgents(down, heartbeatIntervalS: 1, now: F.at(101))) == ["site_down|site=branch|nil→firing"])
        // b1 reconnects at 200; b2 is still on its way (jittered reconnect backoff).
        let partly = [F.agent("b1", site: "branch", lastSeen: 200), down[1]]
        #expect(F.moves(e.observeAgents(partly, heartbeatIntervalS: 1, now: F.at(200))) == ["site_down|site=branch|firing→resolved"])
        #expect(e.observeAgents(partly, heartbeatIntervalS: 1, now: F.at(230)).isEmpty)
        #expect(e.observeAgents(partly, heartbeatIntervalS: 1, now: F.at(261)).isEmpty)
        // Past 60 s + one heartbeat: b2 is really missing.
        #expect(F.moves(e.observeAgents(partly, heartbeatIntervalS: 1, now: F.at(261.5))) == ["agent_offline|agent=b2|nil→firing"])
    }

    @Test func aSiteStillCountingToFireAfterHoldsBackItsAgents() {
        var site = AlertRule.defaultRule(.siteDown)
        site.fireAfter = 3
        var e = F.engine([site])
        let down = [F.agent("b1", site: "branch", online: false, lastSeen: 90, offlineSince: 100),
                    F.agent("b2", site: "branch", online: false, lastSeen: 90, offlineSince: 100)]
        #expect(e.observeAgents(down, heartbeatIntervalS: 1, now: F.at(110)).transitions.isEmpty)
        #expect(e.observeAgents(down, heartbeatIntervalS: 1, now: F.at(111)).transitions.isEmpty)
        #expect(F.moves(e.observeAgents(down, heartbeatIntervalS: 1, now: F.at(112))) == ["site_down|site=branch|nil→firing"])
        #expect(e.tracks.keys.map(\.rule) == [.siteDown])
    }

    @Test func aHealthyRosterChangesNothingTickAfterTick() {
        var e = F.engine()
        for s in stride(from: 100.0, through: 110.0, by: 1) {
            let roster = [F.agent("h1", site: "hq", lastSeen: s - 0.5), F.agent("h2", site: "hq", lastSeen: s - 0.2),
                          F.agent("b1", site: "branch", lastSeen: s - 0.7)]
            #expect(e.observeAgents(roster, heartbeatIntervalS: 1, now: F.at(s)).isEmpty)
        }
        #expect(e.tracks.isEmpty)
    }

    @Test func aRevokedAgentResolvesAndDoesNotCountForItsSite() {
        var e = F.engine()
        let h1 = F.agent("h1", site: "hq", lastSeen: 99.9)
        let killed = F.agent("b1", site: "branch", online: false, lastSeen: 97, offlineSince: 100)
        let b2 = F.agent("b2", site: "branch", lastSeen: 99.9)
        #expect(F.moves(e.observeAgents([h1, killed, b2], heartbeatIntervalS: 1, now: F.at(100)))
            == ["agent_offline|agent=b1|nil→firing"])
        var revoked = killed
        revoked.revoked = true
        let c = e.observeAgents([h1, revoked, b2], heartbeatIntervalS: 1, now: F.at(110))
        #expect(F.moves(c) == ["agent_offline|agent=b1|firing→resolved"])
        #expect(c.transitions.first?.measurement?.detail == "agent revoked")
        // branch has one live agent left (< min_agents 2): b2 going offline is an agent_offline.
        let b2Down = F.agent("b2", site: "branch", online: false, lastSeen: 117, offlineSince: 120)
        #expect(F.moves(e.observeAgents([h1, revoked, b2Down], heartbeatIntervalS: 1, now: F.at(120)))
            == ["agent_offline|agent=b2|nil→firing"])
    }
}

@Suite struct AlertEngineCoverageTests {
    typealias F = AlertFixture

    @Test func aSuiteWithoutSuccessesForThreeIntervalsIsStale() throws {
        var e = F.engine()
        let obs = { (last: Double?) in
            [CoverageObservation(suite: "mesh", intervalS: 60, lastSuccessAt: last.map(F.at), expectedSince: F.at(0))]
        }
        #expect(e.observeCoverage(obs(100), now: F.at(280)).isEmpty)  // 180 s: not more than 3 × 60
        let fire = e.observeCoverage(obs(100), now: F.at(281))
        #expect(F.moves(fire) == ["coverage_stale|suite=mesh|nil→firing"])
        let m = try #require(fire.transitions.first?.measurement)
        #expect(m.metric == "since_success_s")
        #expect(m.value == 181)
        #expect(m.threshold == 180)
        #expect(m.detail == "last success 3m ago > 3 × 60s interval (suite mesh)")
        let clear = e.observeCoverage(obs(290), now: F.at(300))
        #expect(F.moves(clear) == ["coverage_stale|suite=mesh|firing→resolved"])
        #expect(clear.transitions.first?.measurement?.value == 10)
    }

    @Test func stalenessCountsFromExpectedSinceWhenLater() {
        var e = F.engine()
        // The last success is old, but the suite was resumed at 1000.
        let obs = [CoverageObservation(suite: "mesh", intervalS: 10, lastSuccessAt: F.at(0), expectedSince: F.at(1000))]
        #expect(e.observeCoverage(obs, now: F.at(1030)).isEmpty)
        let fire = e.observeCoverage(obs, now: F.at(1031))
        #expect(fire.transitions.first?.measurement?.value == 31)
        let never = [CoverageObservation(suite: "new", intervalS: 10, lastSuccessAt: nil, expectedSince: F.at(1000))]
        #expect(e.observeCoverage(never, now: F.at(1040)).transitions.first?.measurement?.detail
            == "no success yet, expected for 40s > 3 × 10s interval (suite new)")
    }

    @Test func aPairScopedRuleWatchesThePairsOnly() {
        var rule = AlertRule.defaultRule(.coverageStale)
        rule.scope = .pair
        var e = F.engine([rule])
        let obs = [
            CoverageObservation(suite: "mesh", intervalS: 60, lastSuccessAt: nil, expectedSince: F.at(0)),
            CoverageObservation(suite: "mesh", intervalS: 60, lastSuccessAt: nil, expectedSince: F.at(0),
                                caller: ("alice", "hq"), callee: ("bob", "branch")),
            CoverageObservation(suite: "mesh", intervalS: 60, lastSuccessAt: F.at(900), expectedSince: F.at(0),
                                caller: ("alice", "hq"), callee: ("carol", "branch")),
        ]
        #expect(F.moves(e.observeCoverage(obs, now: F.at(1000))) == ["coverage_stale|pair=alice>bob|nil→firing"])
    }

    @Test func aSuiteNoLongerObservedResolves() {
        var e = F.engine()
        let mesh = CoverageObservation(suite: "mesh", intervalS: 60, lastSuccessAt: nil, expectedSince: F.at(0))
        _ = e.observeCoverage([mesh], now: F.at(500))
        let gone = e.observeCoverage([], now: F.at(600))
        #expect(F.moves(gone) == ["coverage_stale|suite=mesh|firing→resolved"])
        #expect(gone.transitions.first?.measurement?.detail == "no longer expected to run (suite deleted or paused)")
    }
}

@Suite struct AlertEngineRuleTests {
    typealias F = AlertFixture

    @Test func disablingARuleResolvesItsAlertsAndForgetsItsStreaks() {
        var e = F.engine()
        _ = e.observeRun(F.lossRun("r1", at: 0, 8))
        _ = e.observeRun(F.lossRun("r2", at: 60, 8))
        _ = e.observeRun(F.lossRun("r3", at: 70, 8, callee: F.carol))  // one breach of alice>carol
        var off = AlertRule.defaultRule(.lossHigh)
        off.enabled = false
        let c = e.setRules([off], now: F.at(100))
        #expect(F.moves(c) == ["loss_high|pair=alice>bob|firing→resolved"])
        #expect(c.transitions.first?.measurement?.detail == "rule disabled")
        #expect(c.transitions.first?.at == F.at(100))
        #expect(c.removed == [F.key(.lossHigh, .pair("alice", "carol", callerSite: nil, calleeSite: nil))])
        #expect(e.observeRun(F.lossRun("r4", at: 200, 9)).updated.allSatisfy { $0.rule != .lossHigh })
        #expect(e.tracks.keys.filter { $0.rule == .lossHigh } == [F.key(.lossHigh, F.pairAB)])
        #expect(e.tracks[F.key(.lossHigh, F.pairAB)]?.state == .resolved)
    }

    @Test func rulesFromPatchesChangeThresholdsAndCounts() throws {
        let json = #"{"fire": 10, "clear": 5, "fire_after": 1, "flap_window": "10m", "severity": "critical"}"#
        let patch = try WireJSON.decoder().decode(AlertRulePatch.self, from: Data(json.utf8))
        let rule = AlertRule.defaultRule(.lossHigh).applying(patch)
        #expect(rule.problems() == [])
        #expect(rule.flapWindow.seconds == 600)
        var e = F.engine()
        #expect(e.setRules([rule], now: F.at(0)).isEmpty)
        #expect(e.observeRun(F.lossRun("r1", at: 10, 8)).isEmpty)  // in the new band (5 < 8 ≤ 10)
        let c = e.observeRun(F.lossRun("r2", at: 20, 12))
        #expect(F.moves(c) == ["loss_high|pair=alice>bob|nil→firing"])
        #expect(c.transitions.first?.track.severity == .critical)
        #expect(c.transitions.first?.measurement?.detail == "loss 12% > 10% (alice→bob)")
    }

    @Test func aNewSeverityIsCarriedToTheRulesAlerts() {
        var e = F.engine([F.quick(.lossHigh)])
        _ = e.observeRun(F.lossRun("r1", at: 0, 8))
        var r = F.quick(.lossHigh)
        r.severity = .info
        let c = e.setRules([r], now: F.at(10))
        #expect(c.transitions.isEmpty)
        #expect(c.updated.map(\.severity) == [.info])
        #expect(e.tracks[F.key(.lossHigh, F.pairAB)]?.state == .firing)
    }

    @Test func aRuleScopeChangeResolvesTheAlertsOfTheOldScope() {
        var e = F.engine([F.quick(.testFailed)])
        _ = e.observeRun(F.run("r1", at: 0, status: .failed, cause: RunCause(code: "no_answer")))
        var r = F.quick(.testFailed)
        r.scope = .suite
        let c = e.setRules([r], now: F.at(10))
        #expect(F.moves(c) == ["test_failed|pair=alice>bob|firing→resolved"])
        #expect(c.transitions.first?.measurement?.detail == "rule scope changed to suite")
    }

    @Test func tracksStoredAsJSONContinueTheirStreaks() throws {
        var e = F.engine()
        _ = e.observeRun(F.mosRun("r1", at: 0, 3.0))
        let data = try WireJSON.encoder().encode(Array(e.tracks.values))
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""raw_firing":false"#))
        #expect(text.contains(#""breaches":1"#))
        let tracks = try WireJSON.decoder().decode([AlertTrack].self, from: data)
        #expect(tracks == Array(e.tracks.values))

        var restarted = F.engine(tracks: tracks)
        let c = restarted.observeRun(F.mosRun("r2", at: 30, 3.0))
        #expect(F.moves(c) == ["mos_low|pair=alice>bob|nil→firing"])
        #expect(c.transitions.first?.track.alertID == "al_1")
        #expect(c.transitions.first?.summary.hasSuffix("(2 runs in a row)") == true)
    }

    @Test func aDisabledRuleObservesNothing() {
        var off = AlertRule.defaultRule(.agentOffline)
        off.enabled = false
        var e = F.engine([off])
        let down = [F.agent("s1", site: "solo", online: false, lastSeen: 97, offlineSince: 100)]
        #expect(e.observeAgents(down, heartbeatIntervalS: 1, now: F.at(101)).isEmpty)
        #expect(e.tracks.isEmpty)
    }
}
