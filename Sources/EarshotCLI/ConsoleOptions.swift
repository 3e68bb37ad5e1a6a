import ArgumentParser
import EarshotWire
import Foundation

/// `--organizer URL` and `--token T` of every command that talks to the organizer
/// (DESIGN §7). Read from the command line, else `EARSHOT_ORGANIZER` / `EARSHOT_TOKEN`,
/// else the defaults (http://127.0.0.1:8760, no token).
struct ConnectionOptions: ParsableArguments {
    static let defaultOrganizer = "http://127.0.0.1:8760"

    @Option(help: ArgumentHelp("The organizer's base URL (env EARSHOT_ORGANIZER; default \(defaultOrganizer)).", valueName: "url"))
    var organizer: String?

    @Option(help: ArgumentHelp("Bearer token for the organizer's API (env EARSHOT_TOKEN).", valueName: "token"))
    var token: String?

    /// The base URL (no trailing slash) and token in effect.
    func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (url: String, token: String?) {
        let raw = organizer ?? environment["EARSHOT_ORGANIZER"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultOrganizer
        guard let url = Self.normalise(raw) else {
            throw CommandFailure.usage("--organizer must be an http:// or https:// URL with a host, got \(raw)")
        }
        let token = token ?? environment["EARSHOT_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return (url, token)
    }

    /// `http://host:port` without a trailing slash; a bare `host:port` gets `http://`. The
    /// agents' form of the address (`ws://host:port/v1/agent`, `wss://…`) is accepted too, so
    /// one EARSHOT_ORGANIZER can serve `earshot` and `earshot-agent` on the same machine.
    static func normalise(_ text: String) -> String? {
        var value = text.trimmingCharacters(in: .whitespaces)
        if !value.contains("://") { value = "http://" + value }
        let lower = value.lowercased()
        if lower.hasPrefix("ws://") { value = "http://" + value.dropFirst(5) }
        if lower.hasPrefix("wss://") { value = "https://" + value.dropFirst(6) }
        while value.hasSuffix("/") { value.removeLast() }
        if value.hasSuffix("/v1/agent") { value.removeLast("/v1/agent".count) }
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
              components.query == nil, components.fragment == nil else { return nil }
        return value
    }

    /// The agents' WebSocket endpoint of an organizer base URL: `ws://host:port/v1/agent`.
    static func agentEndpoint(_ baseURL: String) -> String {
        let lower = baseURL.lowercased()
        if lower.hasPrefix("https://") { return "wss://" + baseURL.dropFirst(8) + "/v1/agent" }
        if lower.hasPrefix("http://") { return "ws://" + baseURL.dropFirst(7) + "/v1/agent" }
        return baseURL + "/v1/agent"
    }

    func client() throws -> OrganizerClient {
        let (url, token) = try resolved()
        return OrganizerClient(baseURL: url, token: token)
    }
}

/// `--format` of the console commands that print data.
enum ConsoleFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json
}

/// `--format` of `earshot report`.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, csv, json
}

/// Parsing of the console's value arguments: durations, points in time, labels.
enum ConsoleArguments {
    /// `90`, `500ms`, `20s`, `5m`, `1h`, `1d`, `1h30m` (WireDuration's syntax).
    static func duration(_ text: String, option: String) throws -> WireDuration {
        guard let value = WireDuration(parsing: text) else {
            throw CommandFailure.usage("\(option) must be a duration such as 90s, 10m, 24h or 1h30m, got \(text)")
        }
        return value
    }

    /// A point in time: a duration back from `now` (`1h`, `30m`, `7d`), `now`, or an ISO 8601
    /// date (`2026-12-06T21:10:46Z`, `2026-12-06T21:10:46.123+01:00`, `2026-12-06`, which is
    /// midnight UTC).
    static func pointInTime(_ text: String, now: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "now" { return now }
        if let ago = WireDuration(parsing: trimmed) { return now.addingTimeInterval(-ago.seconds) }
        if let date = WireJSON.parseDate(trimmed) { return date }
        let withZone = ISO8601DateFormatter()
        withZone.formatOptions = [.withInternetDateTime]
        if let date = withZone.date(from: trimmed) { return date }
        withZone.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withZone.date(from: trimmed) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: trimmed)
    }

    static func pointInTime(_ text: String, option: String, now: Date) throws -> Date {
        guard let date = pointInTime(text, now: now) else {
            throw CommandFailure.usage("\(option) must be a duration back from now (1h, 30m, 7d) or an ISO 8601 date, got \(text)")
        }
        return date
    }

    /// `key=value` pairs. An empty key, a missing `=`, or a key given twice is a usage error.
    static func labels(_ items: [String], option: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "=") else {
                throw CommandFailure.usage("\(option): labels are key=value, got \(item)")
            }
            let key = item[..<equals].trimmingCharacters(in: .whitespaces)
            let value = item[item.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else { throw CommandFailure.usage("\(option): a label needs a key, got \(item)") }
            guard out[key] == nil else { throw CommandFailure.usage("\(option): label \(key) given twice") }
            out[key] = value
        }
        return out
    }
}

/// JSON of the console commands: the API's conventions (snake_case, ISO 8601 dates),
/// pretty-printed with sorted keys.
enum ConsoleJSON {
    static func string<T: Encodable>(_ value: T) throws -> String {
        let encoder = WireJSON.encoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning a `CommandFailure` into its message on stderr and its exit code.
    func reportingConsoleFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as CommandFailure {
            throw failure.exit()
        } catch let error as OrganizerClientError {
            throw error.failure.exit()
        }
    }
}
