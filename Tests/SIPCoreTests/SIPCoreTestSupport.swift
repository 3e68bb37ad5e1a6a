import Foundation
import SIPCore
import Testing

/// The RFC 4475 torture messages, byte-exact from the RFC's Appendix A archive.
enum TortureFixtures {
    struct Entry: Decodable, Sendable {
        let file: String
        let expected: String
        let section: String
        let title: String
        let bytes: Int
        let note: String
    }

    static let directory: URL = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/rfc4475")

    static let index: [String: Entry] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("index.json"))
        return try! JSONDecoder().decode([String: Entry].self, from: data)
    }()

    static var tags: [String] { index.keys.sorted() }

    static func bytes(_ tag: String) throws -> [UInt8] {
        let entry = try #require(index[tag])
        return [UInt8](try Data(contentsOf: directory.appendingPathComponent(entry.file)))
    }
}

/// Builds wire bytes from lines joined by CRLF (the final empty element gives the blank line).
func wire(_ lines: String...) -> [UInt8] {
    Array(lines.joined(separator: "\r\n").utf8)
}

/// The offset of the first occurrence of `needle` in `haystack`.
func offset(of needle: String, in haystack: [UInt8]) -> Int? {
    let pattern = Array(needle.utf8)
    guard !pattern.isEmpty, pattern.count <= haystack.count else { return nil }
    for start in 0...(haystack.count - pattern.count) where haystack[start..<(start + pattern.count)].elementsEqual(pattern) {
        return start
    }
    return nil
}

/// A minimal valid request, for tests that vary one thing.
func basicRequest(method: String = "OPTIONS", uri: String = "sip:bob@example.com", extra: [String] = [], body: String = "") -> [UInt8] {
    var lines = [
        "\(method) \(uri) SIP/2.0",
        "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK776asdhds",
        "Max-Forwards: 70",
        "To: <sip:bob@example.com>",
        "From: Alice <sip:alice@example.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.example.com",
        "CSeq: 314159 \(method)",
    ]
    lines += extra
    lines.append("Content-Length: \(body.utf8.count)")
    lines.append("")
    return Array((lines.joined(separator: "\r\n") + "\r\n" + body).utf8)
}
