import Foundation

/// The agent↔organizer protocol (DESIGN §3; docs/protocol.md). JSON text frames over a
/// WebSocket at `/v1/agent`. Every frame is one envelope:
///
///     {"v": 1, "type": "hello", "body": {...}}
///
/// `v` is the protocol version of the sender. A receiver that does not support it answers
/// with an `error` frame of code `version_mismatch` that lists the versions it supports and
/// closes; it never drops the frame silently.
public enum WireProtocol {
    /// The version this build speaks.
    public static let version = 1
    /// The versions this build accepts from a peer.
    public static let supported: ClosedRange<Int> = 1...1
    /// Largest frame either side accepts (a result with a full SIP ladder fits easily).
    public static let maximumFrameBytes = 4 * 1024 * 1024
}

/// Agent → organizer.
public enum AgentMessage: Sendable, Equatable {
    /// First frame of an agent that has no credential yet: exchange a one-time token.
    case enroll(EnrollRequest)
    /// First frame of an enrolled agent (or the second, after `enrolled`).
    case hello(AgentHello)
    case heartbeat(Heartbeat)
    /// The agent took (or refused) an assignment.
    case accepted(AssignmentAnswer)
    /// One participant's result of one run; idempotent by (run, agent).
    case result(RunResult)
}

/// Organizer → agent.
public enum OrganizerMessage: Sendable, Equatable {
    case enrolled(Enrolled)
    case welcome(Welcome)
    case heartbeatAck(HeartbeatAck)
    case assign(Assignment)
    case cancel(RunCancel)
    /// The result of (run, agent) is committed: the agent may delete it from its spool.
    case resultAck(ResultAck)
    case error(WireError)
}

public struct EnrollRequest: Codable, Sendable, Equatable {
    public var token: String
    public var name: String
    public var site: String?

    public init(token: String, name: String, site: String? = nil) {
        self.token = token
        self.name = name
        self.site = site
    }
}

public struct Enrolled: Codable, Sendable, Equatable {
    public var agentID: String
    /// The long-lived secret the agent stores (mode 0600) and sends in every `hello`. The
    /// organizer keeps only its hash.
    public var credential: String
    public var site: String

    enum CodingKeys: String, CodingKey { case agentID = "agent_id", credential, site }

    public init(agentID: String, credential: String, site: String) {
        self.agentID = agentID
        self.credential = credential
        self.site = site
    }
}

public struct Welcome: Codable, Sendable, Equatable {
    public var agentID: String
    public var heartbeatIntervalS: Double
    /// Heartbeats that may be missed before the organizer marks the agent offline.
    public var offlineAfterMissed: Int
    public var serverTime: Date
    /// Runs of this agent the organizer already holds a committed result for: spooled copies
    /// of these can be deleted without sending.
    public var acknowledgedRuns: [String]

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", heartbeatIntervalS = "heartbeat_interval_s"
        case offlineAfterMissed = "offline_after_missed", serverTime = "server_time"
        case acknowledgedRuns = "acknowledged_runs"
    }

    public init(agentID: String, heartbeatIntervalS: Double, offlineAfterMissed: Int, serverTime: Date,
                acknowledgedRuns: [String] = []) {
        self.agentID = agentID
        self.heartbeatIntervalS = heartbeatIntervalS
        self.offlineAfterMissed = offlineAfterMissed
        self.serverTime = serverTime
        self.acknowledgedRuns = acknowledgedRuns
    }
}

public struct Heartbeat: Codable, Sendable, Equatable {
    public var seq: UInt64
    public var sentAt: Date
    /// Runs the agent is executing now.
    public var activeRuns: [String]
    /// Results waiting in the agent's spool.
    public var spooled: Int

    enum CodingKeys: String, CodingKey { case seq, sentAt = "sent_at", activeRuns = "active_runs", spooled }

    public init(seq: UInt64, sentAt: Date, activeRuns: [String] = [], spooled: Int = 0) {
        self.seq = seq
        self.sentAt = sentAt
        self.activeRuns = activeRuns
        self.spooled = spooled
    }
}

public struct HeartbeatAck: Codable, Sendable, Equatable {
    public var seq: UInt64
    public var serverTime: Date

    enum CodingKeys: String, CodingKey { case seq, serverTime = "server_time" }

    public init(seq: UInt64, serverTime: Date) {
        self.seq = seq
        self.serverTime = serverTime
    }
}

public struct AssignmentAnswer: Codable, Sendable, Equatable {
    public var runID: String
    public var accepted: Bool
    /// Why not (e.g. `capacity`, `unsupported_test`, `bad_assignment`).
    public var reason: String?

    enum CodingKeys: String, CodingKey { case runID = "run_id", accepted, reason }

    public init(runID: String, accepted: Bool, reason: String? = nil) {
        self.runID = runID
        self.accepted = accepted
        self.reason = reason
    }
}

public struct RunCancel: Codable, Sendable, Equatable {
    public var runID: String
    public var reason: String

    enum CodingKeys: String, CodingKey { case runID = "run_id", reason }

    public init(runID: String, reason: String) {
        self.runID = runID
        self.reason = reason
    }
}

public struct ResultAck: Codable, Sendable, Equatable {
    public var runID: String
    public var agentID: String
    /// False when the organizer refused the result for good (unknown run, not a participant):
    /// the agent deletes it anyway, and logs why.
    public var stored: Bool
    public var reason: String?

    enum CodingKeys: String, CodingKey { case runID = "run_id", agentID = "agent_id", stored, reason }

    public init(runID: String, agentID: String, stored: Bool = true, reason: String? = nil) {
        self.runID = runID
        self.agentID = agentID
        self.stored = stored
        self.reason = reason
    }
}

/// A protocol error. `fatal` errors are followed by a close; the agent must not retry
/// `version_mismatch`, `revoked` or `enrollment_refused` in a loop without operator action
/// (it backs off to its maximum delay and logs the message).
public struct WireError: Codable, Sendable, Equatable, Error {
    public enum Code: String, Codable, Sendable {
        case versionMismatch = "version_mismatch"
        case unauthorized
        case revoked
        case enrollmentRefused = "enrollment_refused"
        case badMessage = "bad_message"
        case frameTooLarge = "frame_too_large"
        case duplicateSession = "duplicate_session"
        case internalError = "internal_error"
    }

    public var code: Code
    public var message: String
    public var fatal: Bool
    /// For `version_mismatch`: the versions the sender of the error accepts.
    public var supportedVersions: [Int]?

    enum CodingKeys: String, CodingKey { case code, message, fatal, supportedVersions = "supported_versions" }

    public init(code: Code, message: String, fatal: Bool, supportedVersions: [Int]? = nil) {
        self.code = code
        self.message = message
        self.fatal = fatal
        self.supportedVersions = supportedVersions
    }
}

// MARK: - Envelope coding

/// Why a frame could not be decoded. `versionMismatch` is separate so that the receiver can
/// answer with the versions it supports.
public enum WireDecodingError: Error, Equatable, CustomStringConvertible {
    case versionMismatch(received: Int)
    case unknownType(String)
    case malformed(String)
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .versionMismatch(let v):
            "protocol version \(v) is not supported (this side speaks \(WireProtocol.supported.lowerBound)...\(WireProtocol.supported.upperBound))"
        case .unknownType(let t): "unknown message type \"\(t)\""
        case .malformed(let why): "malformed message: \(why)"
        case .tooLarge(let n): "frame of \(n) bytes exceeds \(WireProtocol.maximumFrameBytes)"
        }
    }

    /// The error frame that answers this decoding failure.
    public var wireError: WireError {
        switch self {
        case .versionMismatch:
            WireError(code: .versionMismatch, message: description, fatal: true,
                      supportedVersions: Array(WireProtocol.supported))
        case .tooLarge:
            WireError(code: .frameTooLarge, message: description, fatal: true)
        case .unknownType, .malformed:
            WireError(code: .badMessage, message: description, fatal: false)
        }
    }
}

/// JSON coders with the conventions of the protocol and the API: snake_case keys spelled
/// out in CodingKeys, dates as ISO 8601 with fractional seconds, sorted keys.
public enum WireJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(formatDate(date))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 date: \(text)")
            }
            return date
        }
        return d
    }

    /// `2026-12-06T21:10:46.123Z` (UTC, milliseconds, rounded to the nearest: the format
    /// style truncates, and most decimal milliseconds are a hair below themselves in binary).
    public static func formatDate(_ date: Date) -> String {
        date.addingTimeInterval(0.0005).formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }

    public static func parseDate(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: .iso8601.year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted)) {
            return d
        }
        return try? Date(text, strategy: .iso8601)
    }
}

private struct EnvelopeHead: Decodable {
    var v: Int
    var type: String
}

private struct Envelope<Body: Encodable>: Encodable {
    var v: Int
    var type: String
    var body: Body
}

private struct BodyOf<Body: Decodable>: Decodable {
    var body: Body
}

extension AgentMessage {
    public var type: String {
        switch self {
        case .enroll: "enroll"
        case .hello: "hello"
        case .heartbeat: "heartbeat"
        case .accepted: "accepted"
        case .result: "result"
        }
    }

    public func encoded(version: Int = WireProtocol.version) throws -> Data {
        let e = WireJSON.encoder()
        switch self {
        case .enroll(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .hello(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .heartbeat(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .accepted(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .result(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        }
    }

    public init(decoding data: Data) throws(WireDecodingError) {
        let (type, d) = try decodeHead(data)
        do {
            switch type {
            case "enroll": self = .enroll(try d.decode(BodyOf<EnrollRequest>.self, from: data).body)
            case "hello": self = .hello(try d.decode(BodyOf<AgentHello>.self, from: data).body)
            case "heartbeat": self = .heartbeat(try d.decode(BodyOf<Heartbeat>.self, from: data).body)
            case "accepted": self = .accepted(try d.decode(BodyOf<AssignmentAnswer>.self, from: data).body)
            case "result": self = .result(try d.decode(BodyOf<RunResult>.self, from: data).body)
            default: throw WireDecodingError.unknownType(type)
            }
        } catch let error as WireDecodingError {
            throw error
        } catch {
            throw .malformed("\(type): \(describe(error))")
        }
    }
}

extension OrganizerMessage {
    public var type: String {
        switch self {
        case .enrolled: "enrolled"
        case .welcome: "welcome"
        case .heartbeatAck: "heartbeat_ack"
        case .assign: "assign"
        case .cancel: "cancel"
        case .resultAck: "result_ack"
        case .error: "error"
        }
    }

    public func encoded(version: Int = WireProtocol.version) throws -> Data {
        let e = WireJSON.encoder()
        switch self {
        case .enrolled(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .welcome(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .heartbeatAck(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .assign(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .cancel(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .resultAck(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        case .error(let b): return try e.encode(Envelope(v: version, type: type, body: b))
        }
    }

    /// An `error` frame is decoded whatever its version, so that an agent always learns why it
    /// was refused.
    public init(decoding data: Data) throws(WireDecodingError) {
        let d = WireJSON.decoder()
        if let head = try? d.decode(EnvelopeHead.self, from: data), head.type == "error",
           let body = try? d.decode(BodyOf<WireError>.self, from: data).body {
            self = .error(body)
            return
        }
        let (type, _) = try decodeHead(data)
        do {
            switch type {
            case "enrolled": self = .enrolled(try d.decode(BodyOf<Enrolled>.self, from: data).body)
            case "welcome": self = .welcome(try d.decode(BodyOf<Welcome>.self, from: data).body)
            case "heartbeat_ack": self = .heartbeatAck(try d.decode(BodyOf<HeartbeatAck>.self, from: data).body)
            case "assign": self = .assign(try d.decode(BodyOf<Assignment>.self, from: data).body)
            case "cancel": self = .cancel(try d.decode(BodyOf<RunCancel>.self, from: data).body)
            case "result_ack": self = .resultAck(try d.decode(BodyOf<ResultAck>.self, from: data).body)
            default: throw WireDecodingError.unknownType(type)
            }
        } catch let error as WireDecodingError {
            throw error
        } catch {
            throw .malformed("\(type): \(describe(error))")
        }
    }
}

private func decodeHead(_ data: Data) throws(WireDecodingError) -> (String, JSONDecoder) {
    guard data.count <= WireProtocol.maximumFrameBytes else { throw .tooLarge(data.count) }
    let d = WireJSON.decoder()
    let head: EnvelopeHead
    do {
        head = try d.decode(EnvelopeHead.self, from: data)
    } catch {
        throw .malformed("not an envelope {\"v\", \"type\", \"body\"}: \(describe(error))")
    }
    guard WireProtocol.supported.contains(head.v) else { throw .versionMismatch(received: head.v) }
    return (head.type, d)
}

/// A decoding error as one line: the path to the bad field and what was wrong.
public func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ p: [any CodingKey]) -> String {
        p.isEmpty ? "top level" : p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .typeMismatch(let t, let c): return "\(path(c.codingPath)): expected \(t)"
    case .valueNotFound(let t, let c): return "\(path(c.codingPath)): missing \(t) value"
    case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])): missing"
    case .dataCorrupted(let c): return "\(path(c.codingPath)): \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
}
