/// What one input did to a fuzz target.
///
/// A parser may accept or refuse any input; what it may not do is crash, hang, or break one of
/// the properties the target checks (round trips, agreement between two decoders, independence
/// from how a stream was split). `violated` carries the first broken property, worded so that a
/// failing test or a fuzzer crash report says what went wrong without a debugger.
public enum FuzzOutcome: Hashable, Sendable {
    /// The target's main parser accepted the input and every property held.
    case accepted
    /// The main parser refused the input with a typed error and every property held.
    case rejected
    /// A property did not hold: a bug.
    case violated(String)
}

/// One libFuzzer target of `Fuzz/` and its corpus directory `Fuzz/Corpus/<name>/`.
///
/// The fuzz executables and `FuzzCorpusTests` both call ``check(_:)``, so the corpus replayed
/// by `swift test` is held to exactly the properties the fuzzer hunted with (docs/fuzzing.md).
public struct FuzzTarget: Hashable, Sendable, CustomStringConvertible {
    /// The executable and corpus directory name, e.g. `FuzzSIP`.
    public let name: String
    private let property: @Sendable ([UInt8]) throws(PropertyViolation) -> Bool

    private init(_ name: String, _ property: @escaping @Sendable ([UInt8]) throws(PropertyViolation) -> Bool) {
        self.name = name
        self.property = property
    }

    /// SIP datagram parser, serializer, typed headers, validator, stream framer, digest
    /// challenge and credentials.
    public static let sip = FuzzTarget("FuzzSIP", SIPProperties.check)
    /// SDP parser (strict and lenient order), serializer, RFC 3264 answerer and offerer.
    public static let sdp = FuzzTarget("FuzzSDP", SDPProperties.check)
    /// RTP packet and view, header-extension elements, RFC 4733 telephone-event payloads.
    public static let rtp = FuzzTarget("FuzzRTP", RTPProperties.check)
    /// RTCP compound packets and every packet type in them.
    public static let rtcp = FuzzTarget("FuzzRTCP", RTCPProperties.check)
    /// pcap and pcapng reading down to UDP datagrams, whole and streamed.
    public static let pcap = FuzzTarget("FuzzPcap", PcapProperties.check)

    public static let all: [FuzzTarget] = [.sip, .sdp, .rtp, .rtcp, .pcap]

    /// Runs the target's parsers and properties on one input.
    public func check(_ bytes: [UInt8]) -> FuzzOutcome {
        do throws(PropertyViolation) {
            return try property(bytes) ? .accepted : .rejected
        } catch {
            return .violated(error.description)
        }
    }

    public var description: String { name }

    public static func == (lhs: FuzzTarget, rhs: FuzzTarget) -> Bool { lhs.name == rhs.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// A property that did not hold.
struct PropertyViolation: Error, CustomStringConvertible {
    let description: String
}

/// Fails with `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(PropertyViolation) {
    guard condition else { throw PropertyViolation(description: message()) }
}

/// Where to cut an input in two for the "split anywhere" properties: a function of the bytes
/// (FNV-1a), so a reported input reproduces exactly, and spread over every position as the
/// fuzzer mutates.
func splitPoint(of bytes: [UInt8]) -> Int {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    return Int(hash % UInt64(bytes.count + 1))
}

/// `bytes` inside a larger buffer, so decoders taking `ArraySlice` are exercised with a
/// start index other than zero.
func offsetSlice(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    let buffer = [0xEE] + bytes + [0xEE]
    return buffer[1..<(1 + bytes.count)]
}

/// A short, printable rendering of bytes for violation messages.
func hex(_ bytes: some Collection<UInt8>, limit: Int = 64) -> String {
    let digits = Array("0123456789abcdef")
    var out = ""
    for byte in bytes.prefix(limit) {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return bytes.count > limit ? out + "… (\(bytes.count) bytes)" : out
}
