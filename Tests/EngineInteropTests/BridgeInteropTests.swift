import Foundation
import InteropTestSupport
import MediaEngine
import NIOPosix
import RTPCore
import SIPCore
import SIPStack
import Synchronization
import Testing

/// Issue 6 proof: baresip (an independent user agent) joins Earshot's built-in conference
/// bridge playing a tone. The Earshot participants hear baresip's tone in their mix, and what
/// baresip records is the mix of the Earshot participants' tones — without its own (the
/// bridge subtracts every member's own audio). baresip's recording is checked by
/// scripts/peers/audio_check.py (its own Goertzel, in Python), not by Earshot's code.
///
/// Unlike the other engine interop tests this one is async (the bridge is an in-process user
/// agent): scripts/test runs it in the conference pass, not beside the interop tests that wait
/// synchronously and hold the cooperative threads its user agents need.
@Suite struct BridgeInteropTests {
    static let baresipInstalled = Harness.shouldRun(Harness.installed("baresip"))

    /// Fraction of frames with the tone between seconds `from` and `to` of a receiver's timeline.
    static func fraction(_ tone: ToneObservation?, from: Int, to: Int) -> Double {
        guard let tone else { return -1 }
        let range = from..<min(to, tone.framesPerSecond.count)
        let with = range.reduce(0) { $0 + tone.framesPerSecond[$1] }
        let all = range.reduce(0) { $0 + tone.framesInSecond[$1] }
        return all == 0 ? -1 : Double(with) / Double(all)
    }

    @Test(.enabled(if: baresipInstalled, "baresip missing: run scripts/install-test-deps"))
    func baresipJoinsTheBridgeHearsTheMixAndIsHeard() async throws {
        let scratch = try ScratchDirectory(prefix: "bridge-baresip")
        // The bridge: a user agent answering every INVITE onto one bridge.
        let bridgeMedia = try MediaEngine(configuration: MediaEngine.Configuration(portRange: 31000...31099, bindAddress: "127.0.0.1"))
        let bridgeAgent = SIPUserAgent(
            configuration: UserAgentConfiguration(listeners: [SIPListenerConfiguration(kind: .udp, host: "127.0.0.1")], toneFrequency: 1000),
            media: bridgeMedia, group: MultiThreadedEventLoopGroup.singleton)
        let bridge = try await bridgeMedia.openBridge(BridgeConfiguration(label: "conf-interop", maxParticipants: 10))
        let answered = Mutex<[CallReport]>([])
        await bridgeAgent.setIncomingCallPolicy { info in
            IncomingCallSettings(bridge: bridge, memberLabel: info.header("X-Earshot-Agent") ?? info.from)
        }
        await bridgeAgent.setIncomingCallHandler { report in answered.withLock { $0.append(report) } }
        try await bridgeAgent.start()
        let port = try #require(await bridgeAgent.boundListeners.first?.port)
        let uri = "sip:conf-interop@127.0.0.1:\(port)"

        // baresip dials in first, playing 440 Hz (-12 dBFS), and records what it receives.
        let peer = try BaresipPeer.start(tone: 440, rtpPorts: Earshot.rtpPorts(48), dial: uri, in: scratch)
        // Polled without blocking a cooperative thread: the bridge's user agent needs them.
        var joined = false
        for _ in 0..<300 where !joined {
            joined = ((try? String(contentsOfFile: "\(peer.logdir)/events.log", encoding: .utf8)) ?? "").contains("\"CALL_ESTABLISHED\"")
            if !joined { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(joined, "baresip did not join the bridge: \(peer.process.output)")

        // Two Earshot participants, 1750 and 1850 Hz, each watching both tones and baresip's.
        let callerMedia = try MediaEngine(configuration: MediaEngine.Configuration(portRange: 31100...31199, bindAddress: "127.0.0.1"))
        let caller = SIPUserAgent(
            configuration: UserAgentConfiguration(listeners: [SIPListenerConfiguration(kind: .udp, host: "127.0.0.1")], toneFrequency: 1750),
            media: callerMedia, group: MultiThreadedEventLoopGroup.singleton)
        try await caller.start()
        let tones = [1750, 1850, 440]
        func request(_ tone: Int, _ name: String) throws -> CallRequest {
            var headers = SIPHeaders()
            headers.add(SIPHeaderName("X-Earshot-Agent"), name)
            return CallRequest(target: try SIPURI(parsing: uri), destination: SIPDestination(host: "127.0.0.1", port: port, kind: .udp),
                               duration: .seconds(8), extraHeaders: headers, toneFrequency: tone, watchTones: tones)
        }
        async let first = caller.placeCall(try request(1750, "alice"))
        async let second = caller.placeCall(try request(1850, "bob"))
        let (alice, bob) = try await (first, second)
        try peer.command("hangup")
        let result = try peer.stop()
        let bridgeReport = try await bridgeMedia.closeBridge(bridge)
        for _ in 0..<300 where answered.withLock({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(answered.withLock { $0.count } == 3, "the bridge reported its three legs")
        await caller.shutdown()
        await bridgeAgent.shutdown()
        await callerMedia.shutdown()
        await bridgeMedia.shutdown()

        #expect(alice.status == "passed" || alice.status == "degraded", "\(alice.problems)")
        #expect(result.established == 1, "\(result)")
        // Each Earshot participant, from its second 2 to 7: baresip's 440 Hz and the other
        // participant's tone in (almost) every frame, its own tone in (almost) none.
        for (report, own, other) in [(alice, 1750, 1850), (bob, 1850, 1750)] {
            let watched = report.media?.received.tones ?? []
            let observation = { (hz: Int) in watched.first { $0.hz == hz } }
            #expect(Self.fraction(observation(440), from: 2, to: 7) >= 0.9, "\(own) hears baresip: \(String(describing: observation(440)))")
            #expect(Self.fraction(observation(other), from: 2, to: 7) >= 0.9, "\(own) hears \(other)")
            #expect(Self.fraction(observation(own), from: 2, to: 7) <= 0.05, "\(own) hears itself")
            #expect(report.media?.received.statistics.packetsLost == 0)
        }
        // The bridge saw three members, in join order, baresip first.
        #expect(bridgeReport.members.count == 3)
        #expect(bridgeReport.peakParticipants == 3)
        #expect(Set(bridgeReport.members.dropFirst().map(\.label)) == ["alice", "bob"])

        // What baresip recorded (its decoder's output), checked by Python: both Earshot tones
        // in the frames of the time all three were in, at about the sent −20 dBov each, and
        // not baresip's own 440 Hz.
        let recordings = (try? FileManager.default.contentsOfDirectory(atPath: "\(peer.logdir)/rec")) ?? []
        let file = try #require(recordings.sorted().first { $0.hasSuffix("-dec.wav") }, "no recording in \(peer.logdir)/rec")
        let check = try SpawnedProcess("/usr/bin/env", ["python3", Harness.script("audio_check.py"), "tones",
                                                        "\(peer.logdir)/rec/\(file)", "2", "1750", "1850", "440"],
                                       outputPath: scratch.path("tones.out"), errorPath: scratch.path("tones.err"))
        try #require(check.wait(seconds: 60), "audio_check.py did not finish")
        var levels: [Int: (fraction: Double, level: Double?)] = [:]
        for line in check.output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let hz = Int(parts[0]), let fraction = Double(parts[1]) else { continue }
            levels[hz] = (fraction, Double(parts[2]))
        }
        // The recording runs from baresip's answer to its hang-up; the participants were in for
        // 8 of its ≈ 9–10 s after second 2.
        #expect((levels[1750]?.fraction ?? 0) >= 0.6, "baresip hears 1750 Hz: \(check.output)")
        #expect((levels[1850]?.fraction ?? 0) >= 0.6, "baresip hears 1850 Hz: \(check.output)")
        #expect((levels[440]?.fraction ?? 1) <= 0.05, "baresip hears itself: \(check.output)")
        for hz in [1750, 1850] {
            let level = try #require(levels[hz]?.level)
            #expect(level > -26 && level < -17, "\(hz) Hz at \(level) dBFS (sent at −20 dBov)")
        }
    }
}
