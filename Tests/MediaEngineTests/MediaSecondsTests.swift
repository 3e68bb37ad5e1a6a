import Foundation
@testable import MediaEngine
import RTPCore
import Testing

/// Per-second counters (the evidence's `media_seconds`) from a session driven without sockets.
@Suite("Media seconds")
struct MediaSecondsTests {
    typealias Core = SessionCoreTests

    /// Start at 1.0005 s; we send every 20 ms from 1.001 s (125 packets up to 3.481 s); the
    /// peer's packets n = 0…120 arrive every 20 ms from 1.010 s, n = 60…64 are lost, n = 110
    /// is 10 ms late. Seconds end at 2.0005 s and 3.0005 s.
    static func drive() throws -> SessionCore {
        var core = try Core.started()
        let start: Int64 = 1_000_500_000
        let origin: Int64 = 1_001_000_000
        var events: [(time: Int64, send: Bool, sequence: Int)] = []
        for k in 0..<125 { events.append((origin + Int64(k) * 20_000_000, true, k)) }
        for n in 0...120 where !(60...64).contains(n) {
            let late: Int64 = n == 110 ? 10_000_000 : 0
            events.append((start + 9_500_000 + Int64(n) * 20_000_000 + late, false, n))
        }
        events.sort { $0.time < $1.time }
        var outbox = Outbox()
        for event in events {
            if event.send {
                core.runDue(now: event.time, clock: Core.clock, into: &outbox)
            } else {
                core.receive(Core.rtp(sequence: UInt16(100 + event.sequence))[...], source: Core.peer, tos: nil, truncated: false,
                             arrival: event.time, onRTCPSocket: false, clock: Core.clock)
            }
        }
        return core
    }

    @Test func eachSecondCountsWhatHappenedInIt() throws {
        let core = try Self.drive()
        let report = core.report(now: 3_481_000_000)
        let seconds = report.seconds
        #expect(seconds.map(\.second) == [0, 1, 2])
        #expect(seconds.map(\.sent) == [50, 50, 25])
        #expect(seconds.map(\.received) == [50, 45, 21])
        #expect(seconds.map(\.lost) == [0, 5, 0])
        #expect(seconds[0].jitterMs == 0)
        #expect(seconds[1].jitterMs == 0)
        // RFC 3550 A.8: n = 110 late by 80 timestamp units (J = 80/16 = 5), n = 111 on time
        // (|D| = 80: J = 5 + 75/16), then nine on-time packets (J × 15/16 each).
        let units = (5.0 + 75.0 / 16) * pow(15.0 / 16, 9)
        #expect(abs((seconds[2].jitterMs ?? -1) - units / 8) < 1e-9)
        // The seconds add up to the session's totals.
        #expect(seconds.map(\.sent).reduce(0, +) == report.sent.packets)
        #expect(seconds.map(\.received).reduce(0, +) == report.received.statistics.packetsReceived)
        #expect(seconds.map(\.lost).reduce(0, +) == report.received.statistics.packetsLost)
    }

    @Test func quietSecondsAreReportedAsZero() throws {
        let core = try Self.drive()
        // Nothing handled after 3.481 s; the report at 6.2 s covers seconds 2 (what changed),
        // 3 and 4 (quiet), and the partial second 5.
        let seconds = core.report(now: 6_200_000_000).seconds
        #expect(seconds.map(\.second) == [0, 1, 2, 3, 4, 5])
        #expect(seconds.map(\.sent) == [50, 50, 25, 0, 0, 0])
        #expect(seconds.map(\.received) == [50, 45, 21, 0, 0, 0])
    }

    @Test func noSecondsBeforeStart() throws {
        let core = SessionCore(id: 2, local: MediaEndpoint(host: "127.0.0.1", port: 40010)!, settings: Core.settings, seed: 3)
        #expect(core.report(now: 5_000_000_000).seconds.isEmpty)
    }
}
