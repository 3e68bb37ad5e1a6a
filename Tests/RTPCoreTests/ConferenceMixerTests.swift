import RTPCore
import Testing

private let ms: Int64 = 1_000_000

/// Drives a mixer with constant frames per member, one tick every 20 ms, no playout delay.
private struct MixerRig {
    var mixer: ConferenceMixer
    var laws: [UInt64: G711Law] = [:]
    var tick: Int64 = 0

    init(limiter: Bool = true) { mixer = ConferenceMixer(delayNanoseconds: 0, limiter: limiter) }

    mutating func add(_ id: UInt64, _ law: G711Law = .muLaw, admitted: Bool = true) {
        laws[id] = law
        mixer.add(id, law: law, admitted: admitted)
    }

    /// Every member in `frames` sends its frame for this tick; then the tick; returns each
    /// member's decoded output.
    mutating func step(_ frames: [UInt64: [Int16]]) -> [UInt64: [Int16]] {
        for (id, samples) in frames {
            var codes: [UInt8] = []
            laws[id]!.encode(samples, into: &codes)
            mixer.receive(id, ssrc: UInt32(id), timestamp: UInt32(truncatingIfNeeded: tick * 160), payload: codes[...],
                          arrival: tick * 20 * ms)
        }
        mixer.tick(now: tick * 20 * ms)
        tick += 1
        var out: [UInt64: [Int16]] = [:]
        for id in laws.keys where mixer.contains(id) {
            var codes: [UInt8] = []
            mixer.output(for: id, into: &codes)
            var samples: [Int16] = []
            laws[id]!.decode(codes, into: &samples)
            out[id] = samples
        }
        return out
    }
}

private func constant(_ value: Int16) -> [Int16] { Array(repeating: value, count: 160) }

@Suite struct ConferenceMixerTests {
    /// Each hears the sum of the others, never itself (µ-law quantisation: within 3 %).
    @Test func eachHearsTheOthersNotItself() {
        var rig = MixerRig()
        rig.add(1)
        rig.add(2)
        rig.add(3)
        let out = rig.step([1: constant(1000), 2: constant(2000), 3: constant(4000)])
        #expect(abs(Int(out[1]![0]) - 6000) < 180)
        #expect(abs(Int(out[2]![0]) - 5000) < 150)
        #expect(abs(Int(out[3]![0]) - 3000) < 90)
        #expect(out[1]!.allSatisfy { $0 == out[1]![0] })
        #expect(rig.mixer.clippedSamples == 0)
        #expect(rig.mixer.statistics(of: 1) == {
            var s = ConferenceMixer.MemberStatistics()
            s.framesMixed = 1
            return s
        }())
    }

    /// Alone in the bridge: silence.
    @Test func aloneHearsSilence() {
        var rig = MixerRig()
        rig.add(1)
        let out = rig.step([1: constant(9000)])
        #expect(out[1] == constant(0))
    }

    /// PCMA and PCMU members in one mix: each output in its own law.
    @Test func mixesLaws() {
        var rig = MixerRig()
        rig.add(1, .aLaw)
        rig.add(2, .muLaw)
        rig.add(3, .aLaw)
        let out = rig.step([1: constant(1000), 2: constant(2000), 3: constant(-500)])
        #expect(abs(Int(out[1]![0]) - 1500) < 50)
        #expect(abs(Int(out[2]![0]) - 500) < 20)
        #expect(abs(Int(out[3]![0]) - 3000) < 90)
    }

    /// 20000 + 20000 is beyond 16 bits: counted; hard clipping flattens the frame, the limiter
    /// scales it as a whole (keeping the 2:1 ratio between its samples).
    @Test func clippingIsCountedAndLimited() {
        let half = (0..<160).map { Int16($0 % 2 == 0 ? 20000 : 0) }
        for limiter in [false, true] {
            var rig = MixerRig(limiter: limiter)
            rig.add(1)
            rig.add(2)
            rig.add(3)
            let out = rig.step([1: constant(0), 2: constant(20000), 3: half])
            #expect(rig.mixer.clippedSamples == 80)  // member 1's even samples: 40000
            let even = Int(out[1]![0]), odd = Int(out[1]![1])
            if limiter {
                #expect(abs(even - 32767) < 1100 && abs(odd - 16383) < 600)
            } else {
                #expect(abs(even - 32767) < 1100 && abs(odd - 20000) < 700)
            }
            // Members 2 and 3 hear 20000 / 0 + 0: in range.
            #expect(abs(Int(out[2]![0]) - 20000) < 700)
        }
    }

    /// A member joining mid-stream is heard from its first frame on; one leaving is gone at once.
    @Test func joinAndLeaveMidStream() {
        var rig = MixerRig()
        rig.add(1)
        rig.add(2)
        var out = rig.step([1: constant(1000), 2: constant(2000)])
        #expect(abs(Int(out[1]![0]) - 2000) < 60)
        rig.add(3)
        out = rig.step([1: constant(1000), 2: constant(2000), 3: constant(4000)])
        #expect(abs(Int(out[1]![0]) - 6000) < 180)
        #expect(abs(Int(out[3]![0]) - 3000) < 90)
        let left = rig.mixer.remove(2)
        #expect(left?.framesMixed == 2)
        rig.laws[2] = nil
        out = rig.step([1: constant(1000), 3: constant(4000)])
        #expect(abs(Int(out[1]![0]) - 4000) < 120)
        #expect(abs(Int(out[3]![0]) - 1000) < 30)
        #expect(rig.mixer.memberCount == 2)
        #expect(out[2] == nil)
    }

    /// Not admitted (PIN pending): not in the mix and hears silence; admitted, both ways.
    @Test func admission() {
        var rig = MixerRig()
        rig.add(1)
        rig.add(2, admitted: false)
        var out = rig.step([1: constant(1000), 2: constant(2000)])
        #expect(out[1] == constant(0))
        #expect(out[2] == constant(0))
        #expect(rig.mixer.statistics(of: 2)?.framesMixed == 0)
        rig.mixer.admit(2)
        out = rig.step([1: constant(1000), 2: constant(2000)])
        #expect(abs(Int(out[1]![0]) - 2000) < 60)
        #expect(abs(Int(out[2]![0]) - 1000) < 30)
        #expect(rig.mixer.admittedCount == 2)
    }

    /// A frame that did not arrive is concealed (silence) and counted.
    @Test func missingFrameIsConcealed() {
        var rig = MixerRig()
        rig.add(1)
        rig.add(2)
        _ = rig.step([1: constant(1000), 2: constant(2000)])
        let out = rig.step([1: constant(1000)])
        #expect(out[1] == constant(0))
        #expect(rig.mixer.statistics(of: 2)?.framesConcealed == 1)
        #expect(rig.mixer.statistics(of: 2)?.framesMixed == 2)
        #expect(rig.mixer.ticks == 2)
    }
}
