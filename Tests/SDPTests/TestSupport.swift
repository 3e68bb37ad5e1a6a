import SDP
import Testing

/// Turns a readable multi-line literal into wire text: every line ends in CRLF.
func crlf(_ text: String) -> String {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
    return lines.joined(separator: "\r\n") + (text.hasSuffix("\n") ? "" : "\r\n")
}

/// Parses or records the error as a test issue.
func parse(_ text: String, options: SessionDescription.ParseOptions = .strict, sourceLocation: SourceLocation = #_sourceLocation)
    throws -> SessionDescription
{
    do {
        return try SessionDescription(parsing: text, options: options)
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The error parsing `text` throws, or nil (recorded as an issue) when it parses.
func parseError(_ text: String, options: SessionDescription.ParseOptions = .strict, sourceLocation: SourceLocation = #_sourceLocation)
    -> SDPError?
{
    do {
        _ = try SessionDescription(parsing: text, options: options)
        Issue.record("parsed, expected an error", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// parse(serialize(parse(x))) == parse(x), and serialization is stable after one pass.
func expectRoundTrip(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let first = try parse(text, sourceLocation: sourceLocation)
    let wire = first.serialize()
    let second = try parse(wire, sourceLocation: sourceLocation)
    #expect(second == first, sourceLocation: sourceLocation)
    #expect(second.serialize() == wire, sourceLocation: sourceLocation)
    #expect(first.encodedSize == wire.utf8.count, sourceLocation: sourceLocation)
}

/// `m=` lines of a description as `media port proto fmt...`, for comparing with RFC examples.
func mLines(_ sdp: SessionDescription) -> [String] {
    sdp.media.map { ([$0.media, "\($0.port)", $0.proto] + $0.formats).joined(separator: " ") }
}

/// Deterministic generator for garbage inputs (SplitMix64); the seed is the test's argument.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let ipv4Host = HostAddress.ipv4(HostAddress.IPv4(0xC000_020A))  // 192.0.2.10
