import RTPCore
import Testing

@Suite("NTP timestamps and round-trip time (RFC 3550 §4, §6.4.1)")
struct NTPTests {
    @Test func unixEpochIsNTPSecond2208988800() {
        let t = NTPTimestamp(unixSeconds: 0, nanoseconds: 0)
        #expect(t.seconds == 2_208_988_800)
        #expect(t.fraction == 0)
    }

    @Test(arguments: [
        (UInt32(500_000_000), UInt32(0x8000_0000)),
        (250_000_000, 0x4000_0000),
        (1, 4),  // 2^32 / 10^9 = 4.29...: truncated
        (999_999_999, 0xFFFF_FFFB),
    ])
    func nanosecondsBecomeABinaryFraction(nanoseconds: UInt32, fraction: UInt32) {
        #expect(NTPTimestamp(unixSeconds: 1_700_000_000, nanoseconds: nanoseconds).fraction == fraction)
    }

    @Test func nanosecondsOfASecondOrMoreCarry() {
        let carried = NTPTimestamp(unixSeconds: 10, nanoseconds: 2_500_000_000)
        #expect(carried == NTPTimestamp(unixSeconds: 12, nanoseconds: 500_000_000))
    }

    @Test func rawValueAndCompactForm() {
        let t = NTPTimestamp(seconds: 0x1234_B710, fraction: 0x8000_1234)
        #expect(t.rawValue == 0x1234_B710_8000_1234)
        #expect(NTPTimestamp(rawValue: t.rawValue) == t)
        // RFC 3550 §6.4.1: the middle 32 bits
        #expect(t.compact == 0xB710_8000)
        #expect(t.description == "0x1234b71080001234")
        #expect(NTPTimestamp(seconds: 1, fraction: 0) < NTPTimestamp(seconds: 1, fraction: 1))
    }

    @Test func theRFCsWorkedExample() throws {
        // RFC 3550 §6.4.1, figure 2: A=0xb710:8000 (46864.500 s), LSR=0xb705:2000 (46853.125 s),
        // DLSR=0x0005:4000 (5.250 s) → delay 0x0006:2000 (6.125 s).
        #expect(NTPTimestamp.seconds(compact: 0xB710_8000) == 46864.5)
        #expect(NTPTimestamp.seconds(compact: 0xB705_2000) == 46853.125)
        #expect(NTPTimestamp.seconds(compact: 0x0005_4000) == 5.25)
        let rtt = try #require(RTCPRoundTrip.rtt(arrival: 0xB710_8000, lsr: 0xB705_2000, dlsr: 0x0005_4000))
        #expect(rtt == 6.125)
    }

    @Test func noSenderReportYetMeansNoEstimate() {
        #expect(RTCPRoundTrip.rtt(arrival: 0xB710_8000, lsr: 0, dlsr: 0) == nil)
    }

    @Test func compactSecondsWrapEvery65536Seconds() {
        // LSR just before the wrap, A just after: 2 s elapsed, 0.5 s held by the receiver.
        #expect(RTCPRoundTrip.rtt(arrival: 0x0001_0000, lsr: 0xFFFF_0000, dlsr: 0x0000_8000) == 1.5)
    }

    @Test func negativeResults() {
        // −1 unit: compact-form rounding on a near-zero round trip → 0
        #expect(RTCPRoundTrip.rtt(arrival: 0x0001_0000, lsr: 0x0000_8000, dlsr: 0x0000_8001) == 0)
        // −1 s: a DLSR longer than the time since our SR cannot belong to it
        #expect(RTCPRoundTrip.rtt(arrival: 0x0002_0000, lsr: 0x0001_0000, dlsr: 0x0002_0000) == nil)
    }

    @Test func compactDurationForDLSR() {
        #expect(NTPTimestamp.compactDuration(nanoseconds: 5_250_000_000) == 0x0005_4000)
        #expect(NTPTimestamp.compactDuration(nanoseconds: 0) == 0)
        // one unit is 1/65536 s = 15,258.79 ns; durations are truncated
        #expect(NTPTimestamp.compactDuration(nanoseconds: 15_258) == 0)
        #expect(NTPTimestamp.compactDuration(nanoseconds: 15_259) == 1)
        #expect(NTPTimestamp.compactDuration(nanoseconds: UInt64.max) == UInt32.max)
    }

    @Test func unixTimeResolvesTheEraNearAPivot() {
        // 2036-02-07T06:28:16Z is NTP era 1, second 0.
        let eraOneStart: Int64 = 4_294_967_296 - 2_208_988_800
        let after = NTPTimestamp(unixSeconds: eraOneStart + 4, nanoseconds: 250_000_000)
        #expect(after.seconds == 4)
        let back = after.unixTime(near: eraOneStart - 1000)
        #expect(back.seconds == eraOneStart + 4)
        #expect(back.nanoseconds == 250_000_000)

        let today = NTPTimestamp(unixSeconds: 1_750_000_000, nanoseconds: 0)
        #expect(today.unixTime(near: 1_700_000_000).seconds == 1_750_000_000)
    }
}
