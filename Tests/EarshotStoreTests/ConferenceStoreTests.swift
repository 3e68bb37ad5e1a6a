@testable import EarshotStore
import EarshotWire
import Foundation
import GRDB
import InteropTestSupport
import OrganizerCore
import Testing

/// A conference of alpha (a1), bravo (a2) and charlie (a3) on the bridge agent b1.
enum ConferenceStoreFixture {
    static let members = ["a1", "a2", "a3"]

    static func run(_ id: String, bridge: String? = "b1", start: Date = t0) -> NewRun {
        NewRun(id: id, suite: "conf", roundID: "r9", testType: .conference, plannedAt: start, startAt: start,
               deadline: start.addingTimeInterval(60), plannedDurationS: 20, thresholds: .defaults,
               participants: (bridge.map { [($0, ParticipantRole.bridge)] } ?? []) + members.map { ($0, .participant) })
    }

    static func leg(_ id: String, name: String, tone: Int, far: String, status: RunStatus = .passed,
                    cause: RunCause? = RunCause(code: "normal")) -> ConferenceLeg {
        ConferenceLeg(agentID: id, name: name, site: "hq", toneHz: tone, joinMs: 40, joinedAtMs: 45, status: status,
                      cause: cause, up: stream(id, far, mos: 4.2, loss: 0.5), down: stream(far, id, mos: 4.1, jitter: 3))
    }

    static func summary(bridge: String? = "b1") -> ConferenceSummary {
        let far = bridge ?? externalRoomLabel
        let legs = [leg("a1", name: "alpha", tone: 1750, far: far), leg("a2", name: "bravo", tone: 1850, far: far),
                    leg("a3", name: "charlie", tone: 1950, far: far, status: .failed,
                        cause: RunCause(code: "agent_lost", detail: "went offline during the conference", agentID: "a3"))]
        var hearing: [HearingCell] = []
        for l in members {
            for s in members {
                let state: HearingCell.State = l == s ? (l == "a3" ? .unknown : .clean) : (l == "a3" || s == "a3" ? .unknown : .heard)
                hearing.append(HearingCell(listener: l, speaker: s, state: state, fraction: state == .heard ? 0.98 : nil,
                                           levelDb: state == .heard ? -26.5 : nil))
            }
        }
        return ConferenceSummary(conferenceID: "conf-c1", mode: bridge == nil ? .uri : .rotate, bridgeAgentID: bridge,
                                 uri: bridge == nil ? "sip:room100@pbx.example.com" : "sip:conf-c1@10.0.0.9:5060",
                                 legs: legs, hearing: hearing,
                                 dtmf: ConferenceDTMF(sender: "a1", sent: "159#", received: ["a2": "159#"],
                                                      mode: bridge == nil ? nil : .relay, bridgeReceived: bridge == nil ? nil : "159#"),
                                 peakParticipants: bridge == nil ? nil : 3, refused: bridge == nil ? nil : 0)
    }

    static func completion(_ id: String, bridge: String? = "b1") -> RunCompletion {
        let s = summary(bridge: bridge)
        return RunCompletion(runID: id, status: .failed,
                             cause: RunCause(code: "leg_failed", detail: "charlie (hq): agent_lost", agentID: "a3"),
                             endedAt: at(30), directions: s.legs.flatMap { [$0.up, $0.down].compactMap { $0 } },
                             conference: s)
    }

    static func storeWithBridge() async throws -> SQLiteStorage {
        let store = try await storeWithAgents()
        _ = try await store.createAgent(newAgent("b1", "bridge"))
        return store
    }

    /// The `caller_id`/`callee_id` columns of a run, read straight from the file.
    static func pairColumns(_ store: SQLiteStorage, _ id: String) async throws -> [String?] {
        let queue = try DatabaseQueue(path: try #require(store.location))
        defer { try? queue.close() }
        return try await queue.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT caller_id, callee_id FROM runs WHERE id = ?", arguments: [id]) else {
                return []
            }
            return [row["caller_id"], row["callee_id"]]
        }
    }
}

@Suite struct ConferenceStoreTests {
    typealias F = ConferenceStoreFixture

    @Test func aConferenceVerdictIsStoredAndReadBackEqual() async throws {
        let store = try await F.storeWithBridge()
        try await store.createRuns([F.run("c1")])
        #expect(try await F.pairColumns(store, "c1") == ["a1", "b1"])

        let bridgeReport = BridgeRunReport(conferenceID: "conf-c1", dtmfMode: .relay, maxParticipants: 10, peakParticipants: 3,
                                           legs: [BridgeLegReport(agentID: "a1", from: "sip:a1@h", callID: "x1", joinedAtMs: 40,
                                                                  dtmfReceived: "159#", dtmfForwarded: 8, framesMixed: 1000)])
        let bridgeResult = RunResult(runID: "c1", agentID: "b1", role: .bridge, testType: .conference, status: .passed,
                                     streams: [stream("a1", "b1", mos: 4.2)], bridge: bridgeReport)
        let participant = RunResult(runID: "c1", agentID: "a1", role: .participant, testType: .conference, status: .passed,
                                    streams: [stream("b1", "a1", mos: 4.1)], dtmf: DTMFSummary(sent: "159#"),
                                    conference: ParticipantConferenceReport(
                                        joinMs: 40, joinedAtMs: 45, leftAtMs: 20000,
                                        heard: [ToneHeard(agentID: "a2", toneHz: 1850, fraction: 0.98, levelDb: -26.5,
                                                          verdict: "continuous")],
                                        ownTone: ToneHeard(agentID: "a1", toneHz: 1750, fraction: 0, levelDb: nil, verdict: "absent")))
        #expect(try await store.ingest([bridgeResult, participant], receivedAt: at(25)) == [.stored, .stored])
        let open = try #require(try await store.openRuns().first)
        #expect(open.participants.map(\.role) == [.bridge, .participant, .participant, .participant])
        #expect(open.results["b1"] == bridgeResult)
        #expect(open.results["a1"] == participant)

        let completion = F.completion("c1")
        try await store.finishRun(completion)
        let detail = try #require(try await store.run("c1"))
        #expect(detail.conference == F.summary())
        #expect(detail.run.status == .failed)
        #expect(detail.run.cause?.code == "leg_failed")
        #expect(detail.run.testType == .conference)
        #expect(detail.run.participants == ["bridge", "alpha", "bravo", "charlie"])
        // Every leg's direction is a stream_metrics row, in the verdict's order.
        #expect(detail.directions == completion.directions)
        #expect(detail.directions.map { "\($0.from)→\($0.to)" } == ["a1→b1", "b1→a1", "a2→b1", "b1→a2", "a3→b1", "b1→a3"])
        #expect(detail.run.mosMin == 4.1)
        #expect(detail.run.lossPctMax == 0.5)
        #expect(try await store.lastTested(suite: "conf") == [UnitKey(caller: "a1", callee: "b1"): at(30)])

        // Judged again (a late result): the new summary replaces the old one.
        var again = completion
        again.status = .passed
        again.conference?.legs[2].status = .passed
        try await store.finishRun(again)
        #expect(try await store.run("c1")?.conference?.legs.map(\.status) == [.passed, .passed, .passed])
    }

    @Test func anExternalRoomRunHasNoCallee() async throws {
        let store = try await storeWithAgents()
        try await store.createRuns([F.run("c2", bridge: nil)])
        #expect(try await F.pairColumns(store, "c2") == ["a1", nil])
        try await store.finishRun(F.completion("c2", bridge: nil))
        let detail = try #require(try await store.run("c2"))
        #expect(detail.conference == F.summary(bridge: nil))
        #expect(detail.directions.map(\.to) == ["room", "a1", "room", "a2", "room", "a3"])
    }

    /// The plan is stored with the run, so that an organizer restarted while the conference
    /// runs judges it with the plan (who should hear whom).
    @Test func theConferencePlanIsStoredWithTheRunForARestartedOrganizer() async throws {
        let store = try await F.storeWithBridge()
        let plan = ConferenceAssignment(
            conferenceID: "conf-c3", mode: .agent, uri: "sip:conf-c3@10.0.0.9:5060",
            members: [ConferenceMember(agentID: "a1", name: "alpha", toneHz: 1750, joinOffsetS: 0),
                      ConferenceMember(agentID: "a2", name: "bravo", toneHz: 1850, joinOffsetS: 1),
                      ConferenceMember(agentID: "a3", name: "charlie", toneHz: 1950, joinOffsetS: 2)],
            durationS: 20, dtmf: "159#", dtmfSender: "a1")
        var run = F.run("c3")
        run.conferencePlan = plan
        try await store.createRuns([run, F.run("c4")])
        let open = try await store.openRuns()
        #expect(open.map(\.summary.id) == ["c3", "c4"])
        #expect(open.first?.conferencePlan == plan)
        #expect(open.last?.conferencePlan == nil)
        #expect(try await store.runsForJudging(ids: ["c3"]).first?.conferencePlan?.members.map(\.toneHz) == [1750, 1850, 1950])
    }

    @Test func otherRunsHaveNoConference() async throws {
        let store = try await storeWithAgents()
        try await finishedRun(store, "p1", caller: "a1", callee: "a2", status: .passed, endedAt: at(20), forward: 4.3, backward: 4.2)
        #expect(try await store.run("p1")?.conference == nil)
        #expect(try await F.pairColumns(store, "p1") == ["a1", "a2"])
    }

    @Test func aVersion2DatabaseIsMigratedWithItsDataIntact() async throws {
        let dir = try ScratchDirectory(prefix: "store")
        let path = dir.path("earshot.sqlite")
        // The database as the code before issue 6 left it: migrations v1 and v2, one finished p2p run.
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v2")
            try await queue.write { db in
                #expect(try db.columns(in: "runs").map(\.name).contains("conference") == false)
                try db.execute(sql: """
                    INSERT INTO agents (id, name, site, labels, state, sip_contacts, credential_hash, enrolled_at)
                    VALUES ('a1', 'alpha', 'hq', '{}', 'online', '[]', 'h1', 1800000000),
                           ('a2', 'bravo', 'hq', '{}', 'online', '[]', 'h2', 1800000000);
                    INSERT INTO runs (id, suite, round_id, test_type, status, cause, planned_at, start_at, deadline, ended_at,
                        planned_duration_s, thresholds, caller_id, callee_id, call, dtmf, mos_min, loss_pct_max)
                    VALUES ('old', 'mesh', 'r1', 'p2p', 'passed', NULL, 1800000000, 1800000000, 1800000060, 1800000015,
                        10, '{"mos_min":3.6}', 'a1', 'a2', '{"ending":"normal","refreshes":[]}', NULL, 4.1, 1.2);
                    INSERT INTO participants (run_id, agent_id, ordinal, role, status, reported_at)
                    VALUES ('old', 'a1', 0, 'caller', 'passed', 1800000012), ('old', 'a2', 1, 'callee', 'passed', 1800000013);
                    INSERT INTO stream_metrics (run_id, from_agent, to_agent, ended_at, measured_by, packets_expected,
                        packets_received, packets_lost, duplicates, reordered, loss_pct, max_burst, jb_discards, mos_cq)
                    VALUES ('old', 'a1', 'a2', 1800000015, 'receiver', 500, 494, 6, 0, 0, 1.2, 2, 0, 4.1);
                    """)
            }
            #expect(try await queue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") } == ["v1", "v2"])
            try queue.close()
        }

        let store = try SQLiteStorage(path: path)
        let detail = try #require(try await store.run("old"))
        #expect(detail.run.status == .passed)
        #expect(detail.run.mosMin == 4.1)
        #expect(detail.run.participants == ["alpha", "bravo"])
        #expect(detail.call == CallSummary(ending: "normal"))
        #expect(detail.directions.map(\.packetsReceived) == [494])
        #expect(detail.conference == nil)
        #expect(try await store.agents().map(\.name) == ["alpha", "bravo"])

        // The new column takes a conference from now on.
        _ = try await store.createAgent(newAgent("a3", "charlie"))
        _ = try await store.createAgent(newAgent("b1", "bridge"))
        try await store.createRuns([F.run("c1")])
        try await store.finishRun(F.completion("c1"))
        #expect(try await store.run("c1")?.conference == F.summary())

        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        #expect(try await queue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
            == ["v1", "v2", "v3"])
    }
}
