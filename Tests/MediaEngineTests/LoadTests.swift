import MediaEngine
import Testing

@Suite("Load (benchmark mode)")
struct LoadTests {
    /// 40 calls between two engines (one with two loops): everything arrives, every audio
    /// check passes, every packet sent has a pacing sample, per session and per engine.
    @Test func fortyCallsBetweenTwoEngines() async throws {
        let caller = try MediaEngine(configuration: MediaEngine.Configuration(
            portRange: 23300...23399, loopCount: 2, bindAddress: "127.0.0.1", rtcpIntervalSeconds: 0.5, seed: 1))
        let callee = try MediaEngine(configuration: MediaEngine.Configuration(
            portRange: 23400...23499, bindAddress: "127.0.0.1", rtcpIntervalSeconds: 0.5, seed: 2))
        let calls = try await MediaEngine.openCalls(count: 40, caller: caller, callee: callee)
        #expect(calls.count == 40)
        let expectedPorts: [UInt16] = (0..<40).map { UInt16(23300 + 2 * $0) }
        #expect(calls.map(\.caller.rtpPort) == expectedPorts)
        #expect(try await eventually(seconds: 10) {
            let sent = try await caller.statistics().total.packetsSent
            return sent >= 40 * 25
        })
        let callerSummary = await caller.stopAll(calls.map(\.caller))
        let calleeSummary = await callee.stopAll(calls.map(\.callee))
        let callerStatistics = try await caller.statistics()
        #expect(callerStatistics.loops.count == 2)
        #expect(callerStatistics.loops.allSatisfy { $0.packetsSent > 0 })
        #expect(callerStatistics.total.sessions == 0)
        #expect(callerStatistics.total.packetsSent == callerSummary.packetsSent)
        #expect(callerStatistics.total.lateness.count == callerSummary.packetsSent)
        for summary in [callerSummary, calleeSummary] {
            #expect(summary.sessions == 40)
            #expect(summary.packetsLost == 0)
            #expect(summary.duplicates == 0)
            #expect(summary.audioOK == 40)
            #expect(summary.junk.total == 0)
            #expect(summary.sendErrors == 0)
            #expect(summary.lateness.count == summary.packetsSent)
            #expect(summary.packetsReceived == summary.packetsExpected)
        }
        // Every packet a callee received was sent by a caller, and the callers stopped first.
        #expect(calleeSummary.packetsReceived <= callerSummary.packetsSent)
        await caller.shutdown()
        await callee.shutdown()
    }
}
