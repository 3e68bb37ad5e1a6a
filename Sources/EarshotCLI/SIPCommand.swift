import ArgumentParser
import Foundation
import SIPCore

/// `earshot sip …`: SIP tools for a voice engineer.
struct SIPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip",
        abstract: "SIP message tools.",
        subcommands: [SIPParseCommand.self]
    )
}

/// `earshot sip parse FILE|-`: parse one SIP message (one datagram) and say what a UAS would do
/// with it. Exit 0 when the message parses (whatever the verdict), 1 when it does not.
struct SIPParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse a SIP message and check it as a receiving element would.",
        discussion: """
            Reads one SIP message (the content of one UDP datagram) from FILE or, with -, from \
            standard input. Prints the start line, the headers under their canonical names \
            (compact forms expanded, list headers split into values), the body length, and the \
            well-formedness verdict: ok, or the status a UAS would answer (400, 416, 420, 505, ...) \
            with the problems found. A message that cannot be parsed at all exits with status 1 \
            and the error and its byte offset on stderr.
            """
    )

    @Argument(help: "File holding one SIP message, or - for standard input.")
    var file: String

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(help: "Check as a user agent (Require, 501/415 rules) or a proxy (Proxy-Require, 483): ua or proxy.")
    var role: SIPRole = .ua

    @Option(help: "Comma-separated option tags the receiver supports (Require / Proxy-Require).")
    var supported: String = "timer"

    func run() throws {
        try reportingFailures {
            let bytes = try readInput()
            let message: SIPMessage
            do throws(SIPParseError) {
                message = try SIPMessage(parsing: bytes)
            } catch {
                throw CommandFailure.input("\(file == "-" ? "stdin" : file): \(error.code) at byte \(error.offset)")
            }
            let policy = SIPValidator.Policy(
                role: role == .proxy ? .proxy : .userAgent,
                supportedOptionTags: Set(supported.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            )
            let report = SIPParseReport(message, verdict: SIPValidator.check(message, policy: policy))
            switch format {
            case .json: try Output.printJSON(report)
            case .text: print(report.text, terminator: "")
            }
        }
    }

    private func readInput() throws -> [UInt8] {
        if file == "-" {
            return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CommandFailure.input("cannot read \(file)")
        }
        return [UInt8](data)
    }
}

enum SIPRole: String, ExpressibleByArgument, CaseIterable, Sendable {
    case ua, proxy
}

/// What `earshot sip parse` prints. JSON field names are snake_case (DESIGN §2).
struct SIPParseReport: Encodable {
    struct StartLine: Encodable {
        var method: String?
        var requestURI: String?
        var version: String
        var statusCode: Int?
        var reasonPhrase: String?

        enum CodingKeys: String, CodingKey {
            case method, version
            case requestURI = "request_uri"
            case statusCode = "status_code"
            case reasonPhrase = "reason_phrase"
        }
    }

    struct Verdict: Encodable {
        var ok: Bool
        var status: Int?
        var reason: String?
        var action: String
        var problems: [String]
        var notes: [String]
        var unsupported: [String]
        var allow: [String]

        // Explicit nulls: "status": null says "no response needed", which scripts can test.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ok, forKey: .ok)
            try container.encode(status, forKey: .status)
            try container.encode(reason, forKey: .reason)
            try container.encode(action, forKey: .action)
            try container.encode(problems, forKey: .problems)
            try container.encode(notes, forKey: .notes)
            if !unsupported.isEmpty { try container.encode(unsupported, forKey: .unsupported) }
            if !allow.isEmpty { try container.encode(allow, forKey: .allow) }
        }

        enum CodingKeys: String, CodingKey {
            case ok, status, reason, action, problems, notes, unsupported, allow
        }
    }

    var kind: String
    var startLine: StartLine
    /// Canonical header name → values in order (list headers split into their elements).
    var headers: [String: [String]]
    /// Each header line in order: canonical name and unfolded value.
    var headerLines: [(name: String, value: String)]
    var bodyLength: Int
    var verdict: Verdict

    enum CodingKeys: String, CodingKey {
        case kind, headers, verdict
        case startLine = "start_line"
        case bodyLength = "body_length"
    }

    init(_ message: SIPMessage, verdict: SIPVerdict) {
        switch message {
        case .request(let request):
            kind = "request"
            startLine = StartLine(method: request.method.rawValue, requestURI: request.uri.description,
                                  version: request.version.description)
        case .response(let response):
            kind = "response"
            startLine = StartLine(version: response.version.description, statusCode: response.statusCode,
                                  reasonPhrase: response.reasonPhrase)
        }
        let fields = message.headers
        var grouped: [String: [String]] = [:]
        for name in fields.names { grouped[name.canonical] = fields.values(name) }
        headers = grouped
        headerLines = fields.map { ($0.name.canonical, $0.value) }
        bodyLength = message.body.count
        let action = switch verdict.action {
        case .accept: "accept"
        case .respond: "respond"
        case .discard: "discard"
        }
        self.verdict = Verdict(ok: verdict.isOK, status: verdict.status, reason: verdict.reason, action: action,
                               problems: verdict.problems.map(\.detail), notes: verdict.notes,
                               unsupported: verdict.unsupported, allow: verdict.allow.map(\.rawValue))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(startLine, forKey: .startLine)
        try container.encode(headers, forKey: .headers)
        try container.encode(bodyLength, forKey: .bodyLength)
        try container.encode(verdict, forKey: .verdict)
    }

    var text: String {
        var out = ""
        if let method = startLine.method {
            out += "request  \(method) \(startLine.requestURI ?? "") \(startLine.version)\n"
        } else {
            out += "response \(startLine.version) \(startLine.statusCode ?? 0) \(startLine.reasonPhrase ?? "")\n"
        }
        out += "headers  \(headerLines.count)\n"
        for line in headerLines { out += "  \(line.name): \(line.value)\n" }
        out += "body     \(bodyLength) bytes\n"
        switch (verdict.ok, verdict.status) {
        case (true, _): out += "verdict  ok\n"
        case (false, let status?): out += "verdict  \(status) \(verdict.reason ?? "")\n"
        case (false, nil): out += "verdict  discard\n"
        }
        for problem in verdict.problems { out += "  problem: \(problem)\n" }
        for note in verdict.notes { out += "  note: \(note)\n" }
        if !verdict.unsupported.isEmpty { out += "  Unsupported: \(verdict.unsupported.joined(separator: ", "))\n" }
        if !verdict.allow.isEmpty { out += "  Allow: \(verdict.allow.joined(separator: ", "))\n" }
        return out
    }
}
