import Foundation
import MediaEngine
import NIOPosix
import SIPCore
import SIPStack
import SIPTransaction
import Synchronization
import Testing

/// Conference calls in the user agent (issue 6): a callee answering onto a MediaEngine bridge
/// (486 when it is full), a caller sending a PIN before its test digits and watching tones.
@Suite struct UserAgentConferenceTests {
    static func agent(ports: ClosedRange<UInt16>, tone: Int) throws -> (SIPUserAgent, MediaEngine) {
        try UserAgentPerCallTests.agent(ports: ports, tone: tone)
    }

    static func call(_ port: UInt16, user: String = "conf-1", duration: Duration, tone: Int, watch: [Int] = [],
                     pin: String? = nil, dtmf: String? = nil, dtmfDelay: Duration = .seconds(2), agent: String? = nil) throws -> CallRequest {
        var headers = SIPHeaders()
        if let agent { headers.add(SIPHeaderName("X-Earshot-Agent"), agent) }
        return CallRequest(
            target: try SIPURI(parsing: "sip:\(user)@127.0.0.1:\(port)"),
            destination: SIPDestination(host: "127.0.0.1", port: port, kind: .udp), duration: duration, dtmf: dtmf,
            dtmfDelay: dtmfDelay, noAnswerTimeout: .seconds(10), extraHeaders: headers, toneFrequency: tone, pin: pin,
            watchTones: watch)
    }

    @Test func pinIsSentBeforeTheDigitsAndTheReportTellsThemApart() async throws {
        let (caller, callerMedia) = try Self.agent(ports: 25400...25449, tone: 1000)
        let (callee, calleeMedia) = try Self.agent(ports: 25450...25499, tone: 1100)
        let ended = Mutex<[CallReport]>([])
        await callee.setIncomingCallHandler { report in ended.withLock { $0.append(report) } }
        try await caller.start()
        try await callee.start()
        let port = try #require(await callee.boundListeners.first?.port)
        // The digits are due 0.6 s after the answer, while the PIN (0.5 s + 4 × 200 ms) is still
        // going: they wait for it.
        let report = await caller.placeCall(try Self.call(port, user: "earshot", duration: .seconds(3), tone: 1000, pin: "4321",
                                                          dtmf: "12", dtmfDelay: .milliseconds(600)))
        #expect(await eventually(seconds: 30) { !ended.withLock { $0.isEmpty } })
        let answered = try #require(ended.withLock { $0.first })

        #expect(report.ending.cause.code == "normal")
        #expect(report.pinSent == "4321")
        #expect(report.dtmfSent == "12")
        let sent = try #require(report.media?.sent.dtmfDigitsSent)
        #expect(sent.compactMap(\.digit) == ["4", "3", "2", "1", "1", "2"])
        #expect(report.digitsSentAfterPIN.compactMap(\.digit) == ["1", "2"])
        // The first test digit starts after the PIN's last one has ended (100 ms; the 300 ms pause
        // after it is planned on the wall clock, so a loaded machine can shorten what is left of it).
        #expect(sent[4].offsetMs >= sent[3].offsetMs + 100)
        #expect(answered.dtmfReceived == "432112")
        #expect(answered.pinSent == nil)

        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(json.contains("\"pin_sent\":\"4321\""))
        #expect(json.contains("\"dtmf_sent\":\"12\""))

        await caller.shutdown()
        await callee.shutdown()
        await callerMedia.shutdown()
        await calleeMedia.shutdown()
    }

    @Test func callersAnsweredOntoABridgeHearEachOtherAndTheFullBridgeIsBusy() async throws {
        let (bridgeAgent, bridgeMedia) = try Self.agent(ports: 25500...25549, tone: 1100)
        let (alice, aliceMedia) = try Self.agent(ports: 25550...25599, tone: 700)
        let (bob, bobMedia) = try Self.agent(ports: 25600...25649, tone: 900)
        let (carol, carolMedia) = try Self.agent(ports: 25650...25699, tone: 1300)
        let bridge = try await bridgeMedia.openBridge(BridgeConfiguration(label: "conf-1", maxParticipants: 2))
        let ended = Mutex<[CallReport]>([])
        await bridgeAgent.setIncomingCallPolicy { info in
            IncomingCallSettings(bridge: bridge, memberLabel: info.header("X-Earshot-Agent"))
        }
        await bridgeAgent.setIncomingCallHandler { report in ended.withLock { $0.append(report) } }
        for agent in [bridgeAgent, alice, bob, carol] { try await agent.start() }
        let port = try #require(await bridgeAgent.boundListeners.first?.port)
        let tones = [700, 900]

        let aliceRequest = try Self.call(port, duration: .seconds(4), tone: 700, watch: tones, agent: "ag_alice")
        let bobRequest = try Self.call(port, duration: .seconds(4), tone: 900, watch: tones, agent: "ag_bob")
        async let aliceCall = alice.placeCall(aliceRequest)
        async let bobCall = bob.placeCall(bobRequest)
        // Joins once both are in: the bridge (cap 2) is full.
        try await Task.sleep(for: .seconds(2))
        let refused = await carol.placeCall(try Self.call(port, duration: .seconds(1), tone: 1300, agent: "ag_carol"))
        let (a, b) = await (aliceCall, bobCall)
        #expect(await eventually(seconds: 30) { ended.withLock { $0.count } == 3 })
        let report = try await bridgeMedia.closeBridge(bridge)

        #expect(refused.ending.cause == .busy(status: 486, reason: "Busy Here"))
        let calleeRefusal = try #require(ended.withLock { $0.first { $0.inviteHeader("X-Earshot-Agent") == "ag_carol" } })
        #expect(calleeRefusal.ending.cause.code == "rejected")
        #expect(calleeRefusal.media == nil)
        #expect(report.refused == 1)
        #expect(report.peakParticipants == 2)
        #expect(Set(report.members.map(\.label)) == ["ag_alice", "ag_bob"])
        #expect(report.members.allSatisfy { $0.admitted && $0.framesMixed > 50 })

        for (call, own, other) in [(a, 700, 900), (b, 900, 700)] {
            #expect(call.ending.cause.code == "normal")
            // The bridge announces no tone of its own.
            #expect(call.media?.received.audio.expectedToneHz == nil)
            let observed = try #require(call.media?.received.tones)
            #expect(observed.map(\.hz).sorted() == [700, 900])
            let heard = try #require(observed.first { $0.hz == other })
            let echo = try #require(observed.first { $0.hz == own })
            // Seconds 1 and 2: both are in the conference.
            #expect(heard.framesPerSecond[1] >= 45 && heard.framesPerSecond[2] >= 45)
            #expect(echo.framesPerSecond.reduce(0, +) <= 10)
        }
        // The member sessions' reports come back with each answered call.
        let answered = ended.withLock { $0.filter { $0.media != nil } }
        #expect(answered.count == 2)
        #expect(Set(answered.compactMap { $0.media?.session.id }) == Set(report.members.map(\.session)))

        for agent in [bridgeAgent, alice, bob, carol] { await agent.shutdown() }
        for media in [bridgeMedia, aliceMedia, bobMedia, carolMedia] { await media.shutdown() }
    }
}
