import EarshotStore
import EarshotWire
import Foundation
import Testing

@Suite struct EnrollmentTokenTests {
    @Test func aTokenIsUsedOnce() async throws {
        let store = try SQLiteStorage.temporary()
        try await store.addEnrollmentToken(hash: "h1", site: "branch", labels: ["floor": "2"], expiresAt: at(3600), createdAt: t0)
        let first = try await store.consumeEnrollmentToken(hash: "h1", now: at(10))
        #expect(first?.site == "branch")
        #expect(first?.labels == ["floor": "2"])
        #expect(try await store.consumeEnrollmentToken(hash: "h1", now: at(11)) == nil)
        #expect(try await store.consumeEnrollmentToken(hash: "unknown", now: at(11)) == nil)
    }

    @Test func anExpiredTokenIsRefused() async throws {
        let store = try SQLiteStorage.temporary()
        try await store.addEnrollmentToken(hash: "h1", site: "hq", labels: [:], expiresAt: at(60), createdAt: t0)
        #expect(try await store.consumeEnrollmentToken(hash: "h1", now: at(60)) == nil)
        // Still unused: one minute earlier it works.
        #expect(try await store.consumeEnrollmentToken(hash: "h1", now: at(59))?.site == "hq")
    }

    @Test func ofManyRacingConsumersExactlyOneWins() async throws {
        let store = try SQLiteStorage.temporary()
        // A second store on the same file: the race crosses connections, as two organizer
        // processes would.
        let other = try SQLiteStorage(path: try #require(store.location))
        for round in 0..<5 {
            try await store.addEnrollmentToken(hash: "h\(round)", site: "hq", labels: [:], expiresAt: at(3600), createdAt: t0)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<8 {
                    let s = i.isMultiple(of: 2) ? store : other
                    group.addTask { try await s.consumeEnrollmentToken(hash: "h\(round)", now: at(1)) != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1, "round \(round)")
        }
    }
}

@Suite struct AgentTests {
    @Test func createListAndFind() async throws {
        let store = try SQLiteStorage.temporary()
        let info = try await store.createAgent(newAgent("a2", "bravo", site: "branch", labels: ["os": "linux"], at: at(5)))
        #expect(info == AgentInfo(id: "a2", name: "bravo", site: "branch", labels: ["os": "linux"], state: .enrolled,
                                  enrolledAt: at(5), stateSince: at(5)))
        _ = try await store.createAgent(newAgent("a1", "alpha"))
        #expect(try await store.agents().map(\.id) == ["a1", "a2"])
        #expect(try await store.agent("bravo")?.info.id == "a2")
        #expect(try await store.agent("a2")?.credentialHash == "hash-of-a2")
        #expect(try await store.agent("nobody") == nil)
        #expect(try await store.agentEvents(agentID: "a2", since: nil, limit: 10)
            == [AgentEvent(agentID: "a2", kind: "enrolled", at: at(5), detail: "site branch")])
    }

    @Test func aLiveNameConflictsButARevokedOneIsFree() async throws {
        let store = try SQLiteStorage.temporary()
        _ = try await store.createAgent(newAgent("a1", "alpha"))
        await #expect(throws: StorageError(.conflict, "an agent named alpha is already enrolled: pick another name or revoke that agent first")) {
            _ = try await store.createAgent(newAgent("a9", "alpha"))
        }
        await #expect(throws: StorageError(.conflict, "an agent with id a1 exists already")) {
            _ = try await store.createAgent(newAgent("a1", "other"))
        }
        let revoked = try await store.revokeAgent(id: "a1", at: at(100))
        #expect(revoked.state == .revoked)
        #expect(revoked.stateSince == at(100))
        let again = try await store.createAgent(newAgent("a9", "alpha", at: at(200)))
        #expect(again.id == "a9")
        // The name now finds the live agent; the id still finds the revoked one.
        #expect(try await store.agent("alpha")?.info.id == "a9")
        #expect(try await store.agent("a1")?.info.state == .revoked)
    }

    @Test func onlineOfflineAndHeartbeats() async throws {
        let store = try SQLiteStorage.temporary()
        _ = try await store.createAgent(newAgent("a1", "alpha"))
        try await store.agentConnected(id: "a1", hello: hello("a1", "alpha", activeRuns: ["r1"], spooled: 2),
                                       remoteAddress: "10.1.0.2", at: at(10))
        var info = try #require(try await store.agent("a1")?.info)
        #expect(info.state == .online)
        #expect(info.stateSince == at(10))
        #expect(info.version == "0.4.0")
        #expect(info.subnet == "10.1.0.0/24")
        #expect(info.labels == ["rack": "r1"])
        #expect(info.sipContacts == [SIPContact(uri: "sip:earshot@10.1.0.2:5060", transport: "udp")])
        #expect(info.capabilities == AgentCapabilities())
        #expect(info.remoteAddress == "10.1.0.2")
        #expect(info.activeRuns == 1)
        #expect(info.spooled == 2)

        // A second hello while online (a reconnect the organizer saw first) is no new event.
        try await store.agentConnected(id: "a1", hello: hello("a1", "alpha"), remoteAddress: "10.1.0.2", at: at(15))
        try await store.agentSeen(id: "a1", at: at(20), activeRuns: 3, spooled: 0)
        info = try #require(try await store.agent("a1")?.info)
        #expect(info.lastSeenAt == at(20))
        #expect(info.activeRuns == 3)
        #expect(info.stateSince == at(10))

        try await store.agentOffline(id: "a1", at: at(60), reason: "3 heartbeats missed")
        try await store.agentOffline(id: "a1", at: at(70), reason: "again")
        info = try #require(try await store.agent("a1")?.info)
        #expect(info.state == .offline)
        #expect(info.stateSince == at(60))
        try await store.agentConnected(id: "a1", hello: hello("a1", "alpha"), remoteAddress: nil, at: at(90))

        let events = try await store.agentEvents(agentID: "alpha", since: nil, limit: 10)
        #expect(events.map(\.kind) == ["enrolled", "online", "offline", "online"])
        #expect(events[2] == AgentEvent(agentID: "a1", kind: "offline", at: at(60), detail: "3 heartbeats missed"))
        #expect(events[1].detail == "from 10.1.0.2")
        // The latest two, still in time order; and a cursor read from a time on.
        #expect(try await store.agentEvents(agentID: nil, since: nil, limit: 2).map(\.at) == [at(60), at(90)])
        #expect(try await store.agentEvents(agentID: "a1", since: at(10), limit: 2).map(\.kind) == ["online", "offline"])
    }

    @Test func unknownAgentsAndRevokedHellos() async throws {
        let store = try SQLiteStorage.temporary()
        await #expect(throws: StorageError(.notFound, "no agent zz")) {
            try await store.agentSeen(id: "zz", at: t0, activeRuns: 0, spooled: 0)
        }
        await #expect(throws: StorageError(.notFound, "no agent zz")) {
            try await store.agentOffline(id: "zz", at: t0, reason: "x")
        }
        await #expect(throws: StorageError(.notFound, "no agent zz")) {
            _ = try await store.revokeAgent(id: "zz", at: t0)
        }
        _ = try await store.createAgent(newAgent("a1", "alpha"))
        _ = try await store.revokeAgent(id: "a1", at: at(1))
        await #expect(throws: StorageError(.conflict, "agent a1 is revoked")) {
            try await store.agentConnected(id: "a1", hello: hello("a1", "alpha"), remoteAddress: nil, at: at(2))
        }
        // Revoking twice changes nothing and adds no event.
        _ = try await store.revokeAgent(id: "alpha", at: at(3))
        #expect(try await store.agentEvents(agentID: "a1", since: nil, limit: 10).map(\.kind) == ["enrolled", "revoked"])
    }

    @Test func labelsAreSetAndRemoved() async throws {
        let store = try SQLiteStorage.temporary()
        _ = try await store.createAgent(newAgent("a1", "alpha", labels: ["os": "linux", "rack": "r1"]))
        let info = try await store.changeLabels(id: "alpha", change: LabelChange(set: ["rack": "r2", "zone": "eu"], remove: ["os"]), at: at(5))
        #expect(info.labels == ["rack": "r2", "zone": "eu"])
        #expect(try await store.agent("a1")?.info.labels == ["rack": "r2", "zone": "eu"])
        // No change, no event.
        _ = try await store.changeLabels(id: "a1", change: LabelChange(set: ["zone": "eu"]), at: at(6))
        let events = try await store.agentEvents(agentID: "a1", since: nil, limit: 10)
        #expect(events.map(\.kind) == ["enrolled", "labels_changed"])
        #expect(events[1].at == at(5))
        #expect(events[1].detail == #"{"remove":["os"],"set":{"rack":"r2","zone":"eu"}}"#)
    }
}

@Suite struct SuiteStoreTests {
    @Test func putListPauseDelete() async throws {
        let store = try SQLiteStorage.temporary()
        let mesh = SuiteSpec(name: "mesh", type: .p2p, interval: .minutes(5))
        let created = try await store.putSuite(mesh, at: t0)
        #expect(created == SuiteInfo(spec: mesh, createdAt: t0, updatedAt: t0))
        _ = try await store.putSuite(SuiteSpec(name: "dtmf-check", type: .dtmf), at: at(1))
        #expect(try await store.suites().map(\.spec.name) == ["dtmf-check", "mesh"])

        var changed = mesh
        changed.duration = .seconds(30)
        let replaced = try await store.putSuite(changed, at: at(10))
        #expect(replaced.createdAt == t0)
        #expect(replaced.updatedAt == at(10))
        #expect(replaced.spec.duration == .seconds(30))

        let paused = try await store.setSuitePaused("mesh", paused: true, at: at(20))
        #expect(paused.spec.paused)
        #expect(try await store.suite("mesh")?.spec.paused == true)
        #expect(try await store.setSuitePaused("mesh", paused: false, at: at(21)).spec.paused == false)

        try await store.suiteRoundPlanned("mesh", at: at(30), nextRoundAt: at(330), warning: "period 10m not met", achievablePeriodS: 900)
        let planned = try #require(try await store.suite("mesh"))
        #expect(planned.lastRoundAt == at(30))
        #expect(planned.nextRoundAt == at(330))
        #expect(planned.warning == "period 10m not met")
        #expect(planned.achievablePeriodS == 900)

        #expect(try await store.deleteSuite("mesh"))
        #expect(try await !store.deleteSuite("mesh"))
        #expect(try await store.suite("mesh") == nil)
        await #expect(throws: StorageError(.notFound, "no suite mesh")) {
            _ = try await store.setSuitePaused("mesh", paused: true, at: at(40))
        }
        await #expect(throws: StorageError(.notFound, "no suite mesh")) {
            try await store.suiteRoundPlanned("mesh", at: at(40), nextRoundAt: nil, warning: nil, achievablePeriodS: nil)
        }
    }
}
