import EarshotWire
import Foundation
import OrganizerCore

/// `earshot webhooks verify`: checks a captured delivery the way a receiver must (Standard
/// Webhooks, "Verifying webhook authenticity": HMAC-SHA256 over `id.timestamp.body`, the
/// timestamp within a tolerance of the receiver's clock). No organizer involved.
enum WebhookVerify {
    /// The answer, also the `--format json` shape: `{valid, reason, id, timestamp}`.
    struct Result: Codable, Equatable, Sendable {
        var valid: Bool
        var reason: String
        var id: String?
        var timestamp: Int?
    }

    /// Header fields of a raw HTTP head, names lower-cased (RFC 9110 §5.1: case-insensitive).
    /// A request line (`POST /hook HTTP/1.1`) is skipped; reading stops at the first empty line
    /// after a field (the end of the head); a continuation line (RFC 9112 §5.2, obs-fold) joins
    /// the previous field; a field given twice is joined with a space (several signatures).
    static func headers(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        var lastName: String?
        // "\r\n" is one Character in Swift: split on any line break.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        if let first = lines.first, isRequestLine(first) { lines.removeFirst() }
        for line in lines {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !fields.isEmpty { break }
                continue
            }
            if line.first == " " || line.first == "\t", let name = lastName {
                fields[name] = (fields[name] ?? "") + " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty, !name.contains(" ") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            fields[name] = fields[name].map { $0 + " " + value } ?? value
            lastName = name
        }
        return fields
    }

    /// `METHOD target HTTP/x.y` (RFC 9112 §3).
    static func isRequestLine(_ line: String) -> Bool {
        let parts = line.split(separator: " ")
        return parts.count == 3 && parts[2].hasPrefix("HTTP/") && parts[0].allSatisfy { $0.isUppercase || $0 == "-" }
    }

    /// Checks one message. A missing header or a bad secret is a reason, not a crash; `now` is
    /// the receiver's clock (`--now` replays an old capture).
    static func check(secret: String, id: String?, timestamp: String?, signature: String?, body: [UInt8], now: Date,
                      tolerance: Double) -> Result {
        let seconds = timestamp.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        func invalid(_ reason: String) -> Result { Result(valid: false, reason: reason, id: id, timestamp: seconds) }
        for (value, header) in [(id, "webhook-id"), (timestamp, "webhook-timestamp"), (signature, "webhook-signature")]
        where value?.isEmpty ?? true {
            return invalid("no \(header) header")
        }
        guard let id, let timestamp, let signature else { return invalid("a webhook header is missing") }
        guard let seconds else { return invalid("webhook-timestamp is not Unix seconds: \(timestamp)") }
        let verification = StandardWebhooks.verify(secret: secret, id: id, timestamp: timestamp, signatureHeader: signature,
                                                   body: body, now: now, tolerance: tolerance)
        switch verification {
        case .valid:
            return Result(valid: true, reason: "signature v1 matches", id: id, timestamp: seconds)
        case .mismatch:
            return invalid("no v1 signature matches (a different secret, or the body, id or timestamp was changed on the way)")
        case .timestampOutOfTolerance:
            let sent = Date(timeIntervalSince1970: Double(seconds))
            return invalid("timestamp \(seconds) is \(ConsoleRender(now: now).relative(sent)), outside the tolerance of \(ConsoleRender.compact(tolerance)) s (an old capture? --now \(seconds))")
        case .malformed(let why):
            return invalid("malformed: \(why)")
        }
    }

    /// `valid: signature v1 matches (webhook-id msg_…, timestamp 1614265330 = 2s ago)` or
    /// `invalid: <reason>`.
    static func text(_ result: Result, now: Date) -> String {
        guard result.valid else { return "invalid: \(result.reason)" }
        var about: [String] = []
        if let id = result.id { about.append("webhook-id \(id)") }
        if let timestamp = result.timestamp {
            about.append("timestamp \(timestamp) = \(ConsoleRender(now: now).relative(Date(timeIntervalSince1970: Double(timestamp))))")
        }
        return "valid: \(result.reason)" + (about.isEmpty ? "" : " (\(about.joined(separator: ", ")))")
    }
}
