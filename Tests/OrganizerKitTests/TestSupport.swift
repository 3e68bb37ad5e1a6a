import AsyncHTTPClient
import EarshotStore
import EarshotWire
import Foundation
import InteropTestSupport
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import OrganizerKit
import Testing
import WSCore
import WSClient

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// An organizer on 127.0.0.1:0 with a temporary SQLite store (or a given file), plus an
/// HTTP helper.
struct TestOrganizer {
    static let admin = "admin-token-for-tests-0123456789"
    static let reader = "read-token-for-tests-0123456789"

    let running: RunningOrganizer
    let storage: any Storage

    static func start(storage: (any Storage)? = nil, heartbeat: Double = 10, missed: Int = 3,
                      firstRoundDelay: Double = 3600, deadlineMargin: Double = 30,
                      _ configure: (inout OrganizerConfiguration) -> Void = { _ in }) async throws -> TestOrganizer {
        var config = OrganizerConfiguration(host: "127.0.0.1", port: 0, adminTokens: [admin], readTokens: [reader])
        config.heartbeatInterval = .seconds(heartbeat)
        config.offlineAfterMissed = missed
        config.firstRoundDelay = .seconds(firstRoundDelay)
        config.deadlineMargin = .seconds(deadlineMargin)
        configure(&config)
        var logger = Logger(label: "test.organizer")
        logger.logLevel = ProcessInfo.processInfo.environment["EARSHOT_TEST_LOG"] != nil ? .debug : .critical
        let store = try storage ?? SQLiteStorage.temporary()
        let running = try await Organizer.start(configuration: config, storage: store, logger: logger)
        return TestOrganizer(running: running, storage: store)
    }

    /// Runs `body` against a fresh organizer and always shuts it down.
    static func with<T>(storage: (any Storage)? = nil, heartbeat: Double = 10, missed: Int = 3,
                        firstRoundDelay: Double = 3600, deadlineMargin: Double = 30,
                        _ body: (TestOrganizer) async throws -> T) async throws -> T {
        let org = try await start(storage: storage, heartbeat: heartbeat, missed: missed, firstRoundDelay: firstRoundDelay,
                                  deadlineMargin: deadlineMargin)
        do {
            let result = try await body(org)
            await org.shutdown()
            return result
        } catch {
            await org.shutdown()
            throw error
        }
    }

    var port: Int { running.port }

    func shutdown() async { await running.shutdown() }

    struct Reply {
        var status: Int
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try WireJSON.decoder().decode(T.self, from: body) }
        var apiError: APIError? { try? decode(APIError.self) }
    }

    enum Method: String { case GET, POST, PUT, DELETE }

    func request(_ method: Method, _ path: String, token: String? = admin, body: Data? = nil,
                 contentType: String = "application/json") async throws -> Reply {
        var req = HTTPClientRequest(url: running.baseURL + path)
        req.method = HTTPMethod(rawValue: method.rawValue)
        if let token { req.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            req.headers.add(name: "Content-Type", value: contentType)
            req.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(req, timeout: .seconds(20))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), body: Data(buffer.readableBytesView))
    }

    func json<T: Encodable>(_ value: T) throws -> Data { try WireJSON.encoder().encode(value) }

    /// A new enrollment token for a site.
    func enrollmentToken(site: String = "lab") async throws -> String {
        let reply = try await request(.POST, "/v1/agents/tokens", body: json(EnrollmentTokenRequest(site: site)))
        guard reply.status == 201 else { throw TestFailure("token: \(reply.status) \(reply.text)") }
        return try reply.decode(EnrollmentToken.self).token
    }

    /// Enrolls and says hello: a connected scripted agent.
    func connectedAgent(name: String, site: String = "lab", sipPort: Int = 5060) async throws -> (ProtocolClient, Enrolled) {
        let token = try await enrollmentToken(site: site)
        let client = try await ProtocolClient.connect(port: port)
        client.send(.enroll(EnrollRequest(token: token, name: name)))
        guard case .enrolled(let enrolled) = try await client.next() else { throw TestFailure("no enrolled") }
        client.send(.hello(ProtocolClient.hello(enrolled, name: name, port: sipPort)))
        guard case .welcome = try await client.next() else { throw TestFailure("no welcome") }
        return (client, enrolled)
    }

    /// Polls until `condition` holds (or fails after `seconds`); never asserts a duration.
    func eventually(_ what: String, seconds: Double = 15, _ condition: () async throws -> Bool) async throws {
        let end = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < end {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("timed out waiting for \(what)")
    }
}

/// A scripted protocol peer: speaks the agent protocol over a real WebSocket (it is the
/// protocol, not a mock of an agent). Frames received are queued for `next()`.
final class ProtocolClient: Sendable {
    enum Out: Sendable {
        case text(String)
        case close
    }

    private let mailbox: Mailbox
    private let outgoing: AsyncStream<Out>.Continuation
    private let task: Task<WebSocketCloseFrame?, any Error>

    private init(outgoing: AsyncStream<Out>.Continuation, task: Task<WebSocketCloseFrame?, any Error>, mailbox: Mailbox) {
        self.outgoing = outgoing
        self.task = task
        self.mailbox = mailbox
    }

    actor Mailbox {
        var frames: [String] = []
        var ended = false
        func put(_ s: String) { frames.append(s) }
        func end() { ended = true }
        func take() -> String? { frames.isEmpty ? nil : frames.removeFirst() }
    }

    static func connect(port: Int) async throws -> ProtocolClient {
        let (stream, continuation) = AsyncStream<Out>.makeStream()
        let mailbox = Mailbox()
        var logger = Logger(label: "test.ws")
        logger.logLevel = .critical
        let task = Task {
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/v1/agent",
                                              configuration: .init(maxFrameSize: 1 << 16), logger: logger) {
                inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await item in stream {
                            switch item {
                            case .text(let t): try await outbound.writeTextMessage(t)
                            case .close:
                                try await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                        }
                    }
                    for try await message in inbound.messages(maxSize: 16 << 20) {
                        if case .text(let t) = message { await mailbox.put(t) }
                    }
                    await mailbox.end()
                    group.cancelAll()
                }
            }
        }
        return ProtocolClient(outgoing: continuation, task: task, mailbox: mailbox)
    }

    func send(_ message: AgentMessage, version: Int = WireProtocol.version) {
        let data = try! message.encoded(version: version)
        outgoing.yield(.text(String(decoding: data, as: UTF8.self)))
    }

    func sendRaw(_ text: String) { outgoing.yield(.text(text)) }

    func close() { outgoing.yield(.close) }

    /// The next frame, decoded; throws after `seconds` without one or when the socket closed.
    func next(seconds: Double = 10) async throws -> OrganizerMessage {
        let text = try await nextText(seconds: seconds)
        return try OrganizerMessage(decoding: Data(text.utf8))
    }

    /// The next frame that is not a heartbeat ack.
    func nextSkippingAcks(seconds: Double = 10) async throws -> OrganizerMessage {
        while true {
            let m = try await next(seconds: seconds)
            if case .heartbeatAck = m { continue }
            return m
        }
    }

    func nextText(seconds: Double = 10) async throws -> String {
        let end = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < end {
            if let t = await mailbox.take() { return t }
            if await mailbox.ended { throw TestFailure("socket closed") }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("no frame within \(seconds) s")
    }

    /// Waits for the connection to end; the server's close frame.
    func closed(seconds: Double = 10) async throws -> WebSocketCloseFrame? {
        let task = self.task
        return try await withThrowingTaskGroup(of: WebSocketCloseFrame?.self) { group in
            group.addTask { try await task.value }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                throw TestFailure("the socket did not close within \(seconds) s")
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
    }

    static func hello(_ enrolled: Enrolled, name: String, credential: String? = nil, port: Int = 5060,
                      activeRuns: [String] = []) -> AgentHello {
        AgentHello(agentID: enrolled.agentID, credential: credential ?? enrolled.credential, name: name, version: "test",
                   site: enrolled.site, sipContacts: [SIPContact(uri: "sip:earshot@127.0.0.1:\(port)", transport: "udp")],
                   activeRuns: activeRuns)
    }
}
