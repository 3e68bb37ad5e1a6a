import SIPCore

/// The SIP messages of one call, kept as evidence (DESIGN §3): each with its time since the
/// call started (supplied by the caller), direction, transport, remote address, first line,
/// and the message text with its body cut to `bodyLimit` bytes.
///
/// JSON: `{"body_limit":512,"entries":[{"offset_us":12000,"direction":"sent","transport":"udp",
/// "remote":"127.0.0.1:5060","first_line":"INVITE sip:bob@127.0.0.1 SIP/2.0","text":"...",
/// "body_bytes":180,"body_truncated":false,"note":"..."}]}`.
public struct SIPLadder: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Direction: String, Sendable, Hashable, Codable {
        case sent, received

        /// → for sent, ← for received.
        public var arrow: String { self == .sent ? "→" : "←" }
    }

    public struct Entry: Sendable, Hashable, Codable {
        /// Time since the call started.
        public var offset: Duration
        public var direction: Direction
        /// "udp", "tcp", "tls".
        public var transport: String
        /// The peer's "address:port" ("[::1]:5060" for IPv6).
        public var remote: String
        /// "INVITE sip:bob@example.net SIP/2.0", "SIP/2.0 200 OK".
        public var firstLine: String
        /// The serialized message, its body cut to the ladder's limit.
        public var text: String
        /// The body's full size in bytes.
        public var bodyBytes: Int
        public var bodyTruncated: Bool
        /// Why the message matters ("refresh 1", "retransmission", ...).
        public var note: String?

        public init(offset: Duration, direction: Direction, transport: String, remote: String, firstLine: String,
                    text: String, bodyBytes: Int, bodyTruncated: Bool, note: String? = nil) {
            self.offset = offset
            self.direction = direction
            self.transport = transport
            self.remote = remote
            self.firstLine = firstLine
            self.text = text
            self.bodyBytes = bodyBytes
            self.bodyTruncated = bodyTruncated
            self.note = note
        }

        /// `+0.012s → INVITE sip:bob@example.net (udp 127.0.0.1:5060)` or
        /// `+0.250s ← 200 OK (udp 127.0.0.1:5060)`, then ` — note` when there is one.
        public var line: String {
            var out = "+\(SIPLadder.seconds(offset))s \(direction.arrow) \(shortFirstLine) (\(transport) \(remote))"
            if let note { out += " — \(note)" }
            return out
        }

        /// The first line without its SIP-Version.
        public var shortFirstLine: String {
            if firstLine.hasPrefix("SIP/"), let space = firstLine.firstIndex(of: " ") {
                return String(firstLine[firstLine.index(after: space)...])
            }
            if let space = firstLine.lastIndex(of: " "), firstLine[firstLine.index(after: space)...].hasPrefix("SIP/") {
                return String(firstLine[..<space])
            }
            return firstLine
        }

        private enum CodingKeys: String, CodingKey {
            case offsetMicroseconds = "offset_us", direction, transport, remote, firstLine = "first_line", text,
                 bodyBytes = "body_bytes", bodyTruncated = "body_truncated", note
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            let (seconds, attoseconds) = offset.components
            try container.encode(seconds * 1_000_000 + attoseconds / 1_000_000_000_000, forKey: .offsetMicroseconds)
            try container.encode(direction, forKey: .direction)
            try container.encode(transport, forKey: .transport)
            try container.encode(remote, forKey: .remote)
            try container.encode(firstLine, forKey: .firstLine)
            try container.encode(text, forKey: .text)
            try container.encode(bodyBytes, forKey: .bodyBytes)
            try container.encode(bodyTruncated, forKey: .bodyTruncated)
            try container.encodeIfPresent(note, forKey: .note)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            offset = .microseconds(try container.decode(Int64.self, forKey: .offsetMicroseconds))
            direction = try container.decode(Direction.self, forKey: .direction)
            transport = try container.decode(String.self, forKey: .transport)
            remote = try container.decode(String.self, forKey: .remote)
            firstLine = try container.decode(String.self, forKey: .firstLine)
            text = try container.decode(String.self, forKey: .text)
            bodyBytes = try container.decode(Int.self, forKey: .bodyBytes)
            bodyTruncated = try container.decode(Bool.self, forKey: .bodyTruncated)
            note = try container.decodeIfPresent(String.self, forKey: .note)
        }
    }

    public private(set) var entries: [Entry] = []
    /// Body bytes kept per message.
    public let bodyLimit: Int

    public init(bodyLimit: Int = 512) {
        self.bodyLimit = max(0, bodyLimit)
    }

    /// Records a message: serialized (RFC 3261 §7 canonical form), with its body cut to
    /// `bodyLimit` bytes (cut at a UTF-8 boundary; invalid bytes shown as U+FFFD).
    public mutating func record(_ message: SIPMessage, direction: Direction, at offset: Duration, transport: String,
                                remote: String, note: String? = nil) {
        let bytes = message.serialize()
        let body = message.body
        let headerEnd = bytes.count - body.count
        var cut = min(body.count, bodyLimit)
        // Do not split a UTF-8 sequence: back off continuation bytes (10xxxxxx).
        while cut > 0, cut < body.count, body[cut] & 0xC0 == 0x80 { cut -= 1 }
        let kept = bytes[..<(headerEnd + cut)]
        entries.append(Entry(offset: offset, direction: direction, transport: transport.lowercased(), remote: remote,
                             firstLine: message.firstLine, text: String(decoding: kept, as: UTF8.self),
                             bodyBytes: body.count, bodyTruncated: cut < body.count, note: note))
    }

    /// One line per message, in the order recorded.
    public func render() -> String { entries.map(\.line).joined(separator: "\n") }

    public var description: String { render() }

    /// Seconds with three decimals ("0.012", "182.500").
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let negative = seconds < 0 || attoseconds < 0
        let milliseconds = abs(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        let fraction = milliseconds % 1000
        let padded = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return (negative ? "-" : "") + "\(milliseconds / 1000).\(padded)"
    }

    private enum CodingKeys: String, CodingKey { case entries, bodyLimit = "body_limit" }
}
