import EarshotWire
import Foundation
import OrganizerKit
import Testing

@testable import EarshotCLI

/// A conference with real agents on loopback (in this process): three participants on the
/// built-in bridge of a fourth agent, each hearing the other two and none its own tone, the
/// DTMF of one reaching the others; `runs show` (the built binary) renders the matrix.
@Suite struct ConferenceLoopbackTests {
    @Test(.timeLimit(.minutes(3))) func threeParticipantsOnABridgeHearEachOtherAndGetTheDigits() async throws {
        try await LoopbackSystem.with(names: ["alice", "bob", "carol", "hub"]) { try await exercise($0) }
    }

    func exercise(_ system: LoopbackSystem) async throws {
        let spec = SuiteSpec(name: "conf", type: .conference, members: MemberSelector(agents: ["alice", "bob", "carol"]),
                             interval: .minutes(60), duration: .seconds(8), dtmf: "159#", paused: true,
                             conference: ConferenceSettings(bridge: .agent, bridgeAgent: "hub", joinSpread: .seconds(2),
                                                            dtmfMode: .relay, dtmfFrom: "alice"))
        _ = try await system.client.putSuite(spec)
        let round = try await system.client.runSuite("conf")
        let runID = try #require(round.runIDs.first, "round: \(round)")
        var detail = try await system.client.run(runID)
        let end = ContinuousClock.now + .seconds(90)
        while !detail.run.status.isFinal, ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(500))
            detail = try await system.client.run(runID)
        }
        let render = ConsoleRender(timeZone: TimeZone(identifier: "UTC")!)
        #expect(detail.run.status == .passed, "\(render.runDetail(detail))")
        let conference = try #require(detail.conference, "\(render.runDetail(detail))")
        let ids = Dictionary(detail.participants.map { ($0.name, $0.agentID) }, uniquingKeysWith: { a, _ in a })
        #expect(conference.bridgeAgentID == ids["hub"])
        #expect(Set(conference.legs.map(\.name)) == ["alice", "bob", "carol"])
        #expect(conference.legs.allSatisfy { $0.status == .passed && $0.up != nil && $0.down != nil })
        // A full matrix: everyone hears the two others, nobody its own tone.
        #expect(conference.hearing.count == 9)
        for cell in conference.hearing {
            #expect(cell.state == (cell.listener == cell.speaker ? .clean : .heard), "\(cell)")
        }
        let dtmf = try #require(conference.dtmf)
        #expect(dtmf.sender == ids["alice"])
        #expect(dtmf.sent == "159#")
        #expect(dtmf.received == [ids["bob"]!: "159#", ids["carol"]!: "159#"])

        let environment = ["EARSHOT_ORGANIZER": system.organizer.baseURL, "EARSHOT_TOKEN": system.organizer.adminToken]
        let shown = try await ConsoleProcess.runAsync(["runs", "show", runID], environment: environment)
        #expect(shown.status == 0)
        #expect(shown.stdout.hasPrefix("run \(runID) — conference in suite conf: PASSED\n  4 agents: "))
        #expect(shown.stdout.contains("\nHearing (rows: listener, columns: speaker)\nlistener \\ speaker  "))
        #expect(shown.stdout.contains("\nDTMF through the bridge (relay)\n  alice sent 159#; the bridge received 159#\n"))
    }
}
