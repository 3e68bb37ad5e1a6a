import RTPCore
import Testing

/// A 160-sample frame of one value.
private func constant(_ value: Int16, count: Int = 160) -> [Int16] { Array(repeating: value, count: count) }

private let ms: Int64 = 1_000_000

extension PlayoutBuffer {
    mutating func insert(ssrc: UInt32 = 7, timestamp: UInt32, _ samples: [Int16], arrival: Int64) {
        samples.withUnsafeBufferPointer { insert(ssrc: ssrc, timestamp: timestamp, samples: $0, arrival: arrival) }
    }

    /// Pulls at `now`: the outcome and the frame's first sample.
    mutating func pull(now: Int64) -> (PlayoutBuffer.Pull, Int16) {
        var frame: [Int16] = []
        let outcome = pull(now: now, into: &frame)
        return (outcome, frame[0])
    }
}

@Suite struct PlayoutBufferTests {
    /// In order, 40 ms delay: idle until the first packet's arrival + 40 ms, then one frame per pull.
    @Test func playsAfterTheDelayInTimestampOrder() {
        var buffer = PlayoutBuffer(delayNanoseconds: 40 * ms)
        #expect(buffer.pull(now: 0) == (.idle, 0))
        for k in 0..<3 { buffer.insert(timestamp: 1000 + UInt32(k) * 160, constant(Int16(k + 1)), arrival: Int64(k) * 20 * ms + 5 * ms) }
        #expect(buffer.pull(now: 20 * ms) == (.idle, 0))
        #expect(buffer.pull(now: 40 * ms) == (.idle, 0))
        #expect(buffer.pull(now: 60 * ms) == (.frame, 1))
        #expect(buffer.pull(now: 80 * ms) == (.frame, 2))
        #expect(buffer.pull(now: 100 * ms) == (.frame, 3))
        #expect(buffer.pull(now: 120 * ms) == (.concealed, 0))
        #expect(buffer.statistics.framesPlayed == 3)
        #expect(buffer.statistics.framesConcealed == 1)
        #expect(buffer.isPlaying)
    }

    /// Reordered within the delay: both play, in timestamp order. Too late: dropped, its frame concealed.
    @Test func reorderedPlaysLateIsDropped() {
        var buffer = PlayoutBuffer(delayNanoseconds: 40 * ms)
        buffer.insert(timestamp: 0, constant(10), arrival: 0)
        buffer.insert(timestamp: 320, constant(30), arrival: 40 * ms)
        buffer.insert(timestamp: 160, constant(20), arrival: 41 * ms)
        #expect(buffer.pull(now: 40 * ms) == (.frame, 10))
        #expect(buffer.pull(now: 60 * ms) == (.frame, 20))
        #expect(buffer.pull(now: 80 * ms) == (.frame, 30))
        #expect(buffer.pull(now: 100 * ms) == (.concealed, 0))  // ts 480 not there yet
        buffer.insert(timestamp: 480, constant(40), arrival: 101 * ms)
        #expect(buffer.statistics.latePackets == 1)
        buffer.insert(timestamp: 640, constant(50), arrival: 102 * ms)
        #expect(buffer.pull(now: 120 * ms) == (.frame, 50))
        #expect(buffer.statistics == {
            var s = PlayoutBuffer.Statistics()
            s.framesPlayed = 4
            s.framesConcealed = 1
            s.latePackets = 1
            return s
        }())
    }

    /// Packets of 10 ms fill a 20 ms frame in two halves; a half that never came stays silent.
    @Test func smallerPacketsFillFrames() {
        var buffer = PlayoutBuffer(delayNanoseconds: 0)
        buffer.insert(timestamp: 0, constant(5, count: 80), arrival: 0)
        buffer.insert(timestamp: 80, constant(6, count: 80), arrival: 0)
        buffer.insert(timestamp: 160, constant(7, count: 80), arrival: 0)
        var frame: [Int16] = []
        #expect(buffer.pull(now: 0, into: &frame) == .frame)
        #expect(frame == constant(5, count: 80) + constant(6, count: 80))
        #expect(buffer.pull(now: 20 * ms, into: &frame) == .frame)
        #expect(frame == constant(7, count: 80) + constant(0, count: 80))
    }

    /// A new SSRC, and a timestamp far ahead, start afresh with their own playout delay.
    @Test func resyncsOnNewSourceAndTimestampJump() {
        var buffer = PlayoutBuffer(delayNanoseconds: 20 * ms)
        buffer.insert(ssrc: 1, timestamp: 0, constant(1), arrival: 0)
        #expect(buffer.pull(now: 20 * ms) == (.frame, 1))
        buffer.insert(ssrc: 2, timestamp: 90_000, constant(2), arrival: 25 * ms)
        #expect(buffer.pull(now: 40 * ms) == (.idle, 0))  // 25 + 20 ms not reached
        #expect(buffer.pull(now: 60 * ms) == (.frame, 2))
        #expect(buffer.statistics.resyncs == 1)
        // 10 s ahead of the next frame (beyond 25 frames of slack): a restarted timeline.
        buffer.insert(ssrc: 2, timestamp: 90_160 + 80_000, constant(3), arrival: 70 * ms)
        #expect(buffer.statistics.resyncs == 2)
        #expect(buffer.pull(now: 80 * ms) == (.idle, 0))
        #expect(buffer.pull(now: 100 * ms) == (.frame, 3))
    }

    /// A sender whose timeline fell behind: after 8 late packets in a row the buffer re-anchors.
    @Test func resyncsAfterLatePacketsInARow() {
        var buffer = PlayoutBuffer(delayNanoseconds: 0)
        buffer.insert(timestamp: 16_000, constant(1), arrival: 0)
        #expect(buffer.pull(now: 0) == (.frame, 1))
        for k in 0..<7 { buffer.insert(timestamp: 14_000 + UInt32(k) * 160, constant(2), arrival: Int64(k) * ms) }
        #expect(buffer.statistics.latePackets == 7)
        #expect(buffer.statistics.resyncs == 0)
        buffer.insert(timestamp: 14_000 + 7 * 160, constant(9), arrival: 8 * ms)
        #expect(buffer.statistics.latePackets == 8)
        #expect(buffer.statistics.resyncs == 1)
        #expect(buffer.pull(now: 20 * ms) == (.frame, 9))
    }
}
