import SIPCore
import SIPTransaction
import Testing

/// Wire text from lines joined by CRLF, with the blank line and Content-Length computed.
func message(_ lines: [String], body: String = "") -> [UInt8] {
    Array((lines.joined(separator: "\r\n") + "\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
}

func request(_ lines: [String], body: String = "") throws -> SIPRequest {
    try SIPRequest(parsing: message(lines, body: body))
}

func response(_ lines: [String], body: String = "") throws -> SIPResponse {
    try SIPResponse(parsing: message(lines, body: body))
}

/// The serialized message as text.
func text(_ request: SIPRequest) -> String { String(decoding: request.serialize(), as: UTF8.self) }
func text(_ response: SIPResponse) -> String { String(decoding: response.serialize(), as: UTF8.self) }

/// SplitMix64: a seeded generator, so identifiers in tests are fixed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A virtual-time driver: runs the actions of a machine, keeps its timers by deadline and
/// fires the earliest one on `step`. Records when each message was sent.
struct VirtualDriver {
    var now: Duration = .zero
    var deadlines: [TransactionTimer: Duration] = [:]
    var sent: [(at: Duration, message: SIPMessage)] = []
    var log: [TransactionAction] = []

    mutating func run(_ actions: [TransactionAction]) {
        for action in actions {
            log.append(action)
            switch action {
            case .send(let message): sent.append((now, message))
            case .startTimer(let timer, let duration): deadlines[timer] = now + duration
            case .cancelTimer(let timer): deadlines[timer] = nil
            default: break
            }
        }
    }

    /// Advances to the earliest deadline and fires it; false when no timer runs.
    mutating func step(_ fire: (TransactionTimer) -> [TransactionAction]) -> Bool {
        guard let (timer, deadline) = deadlines.min(by: { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue < $1.key.rawValue) }) else { return false }
        now = deadline
        deadlines[timer] = nil
        run(fire(timer))
        return true
    }

    var sendTimes: [Duration] { sent.map(\.at) }
    var terminated: Bool { log.last == .terminated }
}

enum Fixtures {
    /// An INVITE as Earshot sends it (one Via with rport, a Route to an outbound proxy).
    static let inviteLines = [
        "INVITE sip:bob@example.net SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport",
        "Route: <sip:outbound.example.com;lr>",
        "Max-Forwards: 70",
        "From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl",
        "To: <sip:bob@example.net>",
        "Call-ID: 3848276298220188511@atlanta.example.com",
        "CSeq: 1 INVITE",
        "Contact: <sip:alice@192.0.2.10:5060>",
        "Content-Type: application/sdp",
    ]
    static let sdp = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

    static func invite() throws -> SIPRequest { try request(inviteLines, body: sdp) }

    static func inviteResponse(_ status: String, toTag: String? = "314159", extra: [String] = []) throws -> SIPResponse {
        try response([
            "SIP/2.0 \(status)",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport=5060;received=192.0.2.10",
            "From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl",
            toTag.map { "To: <sip:bob@example.net>;tag=\($0)" } ?? "To: <sip:bob@example.net>",
            "Call-ID: 3848276298220188511@atlanta.example.com",
            "CSeq: 1 INVITE",
        ] + extra)
    }

    static func options() throws -> SIPRequest {
        try request([
            "OPTIONS sip:carol@chicago.example.com SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKhjhs8ass877;rport",
            "Max-Forwards: 70",
            "To: <sip:carol@chicago.example.com>",
            "From: Alice <sip:alice@example.com>;tag=1928301774",
            "Call-ID: a84b4c76e66710",
            "CSeq: 63104 OPTIONS",
            "Accept: application/sdp",
        ])
    }

    static func optionsResponse(_ status: String) throws -> SIPResponse {
        try response([
            "SIP/2.0 \(status)",
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKhjhs8ass877;rport=5060;received=192.0.2.10",
            "To: <sip:carol@chicago.example.com>;tag=93810874",
            "From: Alice <sip:alice@example.com>;tag=1928301774",
            "Call-ID: a84b4c76e66710",
            "CSeq: 63104 OPTIONS",
        ])
    }

    /// An INVITE received by Earshot through two record-routing proxies.
    static let receivedInviteLines = [
        "INVITE sip:bob@198.51.100.20:5062 SIP/2.0",
        "Via: SIP/2.0/UDP p2.example.net;branch=z9hG4bK2d4790.1",
        "Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK4b43c2ff8.1",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;received=192.0.2.10",
        "Max-Forwards: 68",
        "Record-Route: <sip:p2.example.net;lr>",
        "Record-Route: <sip:p1.example.com;lr>",
        "To: Bob <sip:bob@example.net>",
        "From: Alice <sip:alice@example.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.example.com",
        "CSeq: 314159 INVITE",
        "Contact: <sip:alice@192.0.2.10:5060>",
        "Timestamp: 54",
        "Content-Type: application/sdp",
    ]

    static func receivedInvite() throws -> SIPRequest { try request(receivedInviteLines, body: sdp) }

    /// An ACK for a non-2xx to `receivedInvite` (same branch, §17.1.1.3).
    static func receivedACK(toTag: String = "a6c85cf") throws -> SIPRequest {
        try request([
            "ACK sip:bob@198.51.100.20:5062 SIP/2.0",
            "Via: SIP/2.0/UDP p2.example.net;branch=z9hG4bK2d4790.1",
            "Max-Forwards: 70",
            "To: Bob <sip:bob@example.net>;tag=\(toTag)",
            "From: Alice <sip:alice@example.com>;tag=1928301774",
            "Call-ID: a84b4c76e66710@pc33.example.com",
            "CSeq: 314159 ACK",
        ])
    }
}
