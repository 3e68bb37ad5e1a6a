import Foundation
import MediaEngine
import NIOPosix
import RTPCore
import SIPCore
import SIPStack
import SIPTransaction
import Synchronization
import Testing

/// Per-call settings: extra INVITE headers from the caller, and a callee that chooses how to
/// answer each call from what its INVITE carries (how an agent ties a call to its run).
@Suite struct UserAgentPerCallTests {
    static func agent(ports: ClosedRange<UInt16>, tone: Int) throws -> (SIPUserAgent, MediaEngine) {
        let media = try MediaEngine(configuration: MediaEngine.Configuration(portRange: ports, bindAddress: "127.0.0.1"))
        let agent = SIPUserAgent(
            configuration: UserAgentConfiguration(listeners: [SIPListenerConfiguration(kind: .udp, host: "127.0.0.1")],
                                                  timers: UserAgentFaultTests.fastTimers, toneFrequency: tone),
            media: media, group: MultiThreadedEventLoopGroup.singleton)
        return (agent, media)
    }

    @Test func calleeSeesTheCallersHeadersAndAnswersWithItsOwnSettings() async throws {
        let (caller, callerMedia) = try Self.agent(ports: 25100...25149, tone: 1000)
        let (callee, calleeMedia) = try Self.agent(ports: 25150...25199, tone: 1100)
        let seen = Mutex<[String]>([])
        let ended = Mutex<[CallReport]>([])
        await callee.setIncomingCallPolicy { info in
            seen.withLock { $0.append(info.header("x-earshot-run") ?? "none") }
            // The run's plan: answer with 1850 Hz and expect 1750 Hz.
            return info.header("X-Earshot-Run") == "run-42" ? IncomingCallSettings(toneFrequency: 1850, expectedRemoteTone: 1750)
                                                            : IncomingCallSettings(rejectWith: 404)
        }
        await callee.setIncomingCallHandler { report in ended.withLock { $0.append(report) } }
        try await caller.start()
        try await callee.start()
        let port = try #require(await callee.boundListeners.first?.port)
        var headers = SIPHeaders()
        headers.add(SIPHeaderName("X-Earshot-Run"), "run-42")
        let report = await caller.placeCall(CallRequest(
            target: try SIPURI(parsing: "sip:earshot@127.0.0.1:\(port)"),
            destination: SIPDestination(host: "127.0.0.1", port: port, kind: .udp), duration: .milliseconds(1500),
            expectedRemoteTone: 1850, extraHeaders: headers, toneFrequency: 1750))
        #expect(await eventually(seconds: 30) { !ended.withLock { $0.isEmpty } })
        let answered = try #require(ended.withLock { $0.first })

        #expect(seen.withLock { $0 } == ["run-42"])
        #expect(report.ending.cause.code == "normal")
        #expect(report.inviteHeader("X-Earshot-Run") == "run-42")
        #expect(answered.inviteHeader("x-earshot-run") == "run-42")
        #expect(report.media?.session.toneHz == 1750)
        #expect(answered.media?.session.toneHz == 1850)
        #expect(answered.media?.received.audio.expectedToneHz == 1750)
        #expect(report.media?.received.audio.expectedToneHz == 1850)
        #expect(report.status == "passed")
        #expect(answered.status == "passed")
        // Per-second counters cover the call (1.5 s of media: two seconds, the last partial).
        let seconds = try #require(answered.media?.seconds)
        #expect(seconds.count >= 2)
        #expect(seconds.map(\.received).reduce(0, +) == answered.media?.received.statistics.packetsReceived)

        // Without the header the policy rejects.
        let stranger = await caller.placeCall(CallRequest(
            target: try SIPURI(parsing: "sip:earshot@127.0.0.1:\(port)"),
            destination: SIPDestination(host: "127.0.0.1", port: port, kind: .udp), duration: .milliseconds(500)))
        #expect(stranger.ending.cause == .rejected(status: 404, reason: "Not Found"))
        #expect(seen.withLock { $0 } == ["run-42", "none"])

        await caller.shutdown()
        await callee.shutdown()
        await callerMedia.shutdown()
        await calleeMedia.shutdown()
    }
}
