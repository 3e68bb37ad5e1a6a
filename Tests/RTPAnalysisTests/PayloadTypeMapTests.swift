import RTPAnalysis
import Testing

/// `--clock PT=RATE` and its rtpmap-like forms.
@Suite struct PayloadTypeMapTests {
    @Test func acceptedForms() throws {
        let map = try PayloadTypeMap(parsing: ["96=8000", "97=opus/48000", "101=telephone-event", "102=PCMA", "0=16000"])
        #expect(map.meaning(of: 96) == PayloadTypeMeaning(encodingName: nil, clockRate: 8000, source: .given))
        #expect(map.meaning(of: 97) == PayloadTypeMeaning(encodingName: "opus", clockRate: 48000, source: .given))
        #expect(map.meaning(of: 101) == PayloadTypeMeaning(encodingName: "telephone-event", clockRate: 8000, isTelephoneEvent: true, source: .given))
        #expect(map.meaning(of: 102)?.clockRate == 8000)
        // A mapping overrides the static table; unmapped static types keep RFC 3551's values.
        #expect(map.meaning(of: 0)?.clockRate == 16000)
        #expect(map.meaning(of: 8) == PayloadTypeMeaning(encodingName: "PCMA", clockRate: 8000, source: .static))
        #expect(map.meaning(of: 18)?.encodingName == "G729")
        #expect(map.meaning(of: 98) == nil)
        #expect(map.meaning(of: 2) == nil)
    }

    @Test(arguments: [
        ("96=abc", PayloadTypeMapError.Code.clockRateRequired),
        ("96", .malformed),
        ("96=", .malformed),
        ("=8000", .malformed),
        ("x=8000", .payloadTypeOutOfRange),
        ("128=8000", .payloadTypeOutOfRange),
        ("-1=8000", .payloadTypeOutOfRange),
        ("96=8", .clockRateOutOfRange),
        ("96=0", .clockRateOutOfRange),
        ("96=opus/abc", .clockRateOutOfRange),
        ("96=opus/", .clockRateOutOfRange),
        ("96=2000000", .clockRateOutOfRange),
        ("96=/8000", .malformed),
        ("96=8k", .malformed),
    ])
    func refused(text: String, code: PayloadTypeMapError.Code) {
        #expect(throws: PayloadTypeMapError.self) { _ = try PayloadTypeMap(parsing: [text]) }
        do {
            _ = try PayloadTypeMap(parsing: [text])
        } catch {
            #expect(error.code == code, "\(text): \(error.message)")
            #expect(error.message.contains(text) || text.isEmpty, "\(error.message)")
        }
    }

    @Test func aPayloadTypeMappedTwice() {
        do {
            _ = try PayloadTypeMap(parsing: ["96=8000", "96=16000"])
            Issue.record("accepted")
        } catch {
            #expect(error.code == .duplicatePayloadType)
            #expect(error.message == "payload type 96 is mapped twice")
        }
    }
}
