import EarshotStore
import EarshotWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
@testable import OrganizerKit
import ServiceLifecycle
import Synchronization

/// A webhook receiver for tests: a Hummingbird server on 127.0.0.1:0 that records every POST
/// and answers from a script (then 200 when the script is used up).
final class WebhookReceiver: Sendable {
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String] = [:]
        /// Waits this long before answering.
        var delay: Duration = .zero

        static let ok = Answer(status: 200)
        static func status(_ code: Int, _ headers: [String: String] = [:], delay: Duration = .zero) -> Answer {
            Answer(status: code, headers: headers, delay: delay)
        }
    }

    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var at: Date
        var answered: Int

        var id: String { headers["webhook-id"] ?? "" }
        func json<T: Decodable>(_ type: T.Type) throws -> T { try WireJSON.decoder().decode(T.self, from: Data(body)) }
    }

    private struct State {
        var script: [Answer]
        var received: [Received] = []
    }

    private let recorder: Recorder
    private let group: ServiceGroup
    private let task: Task<Void, Never>
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    var received: [Received] { recorder.state.withLock { $0.received } }

    func script(_ answers: [Answer]) { recorder.state.withLock { $0.script = answers } }

    private init(recorder: Recorder, group: ServiceGroup, task: Task<Void, Never>, port: Int) {
        self.recorder = recorder
        self.group = group
        self.task = task
        self.port = port
    }

    static func start(_ script: [Answer] = []) async throws -> WebhookReceiver {
        let box = Recorder(State(script: script))
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let answer = box.take(path: request.uri.path, headers: headers, body: Array(body.readableBytesView))
            if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
            var fields = HTTPFields()
            for (name, value) in answer.headers { fields[HTTPField.Name(name)!] = value }
            return Response(status: .init(code: answer.status), headers: fields)
        }
        router.post("/hook", use: handler)
        router.post("/api/v2/alerts", use: handler)
        var logger = Logger(label: "test.receiver")
        logger.logLevel = .critical
        let (portStream, portInput) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  portInput.yield(channel.localAddress?.port ?? 0)
                                  portInput.finish()
                              }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task<Void, Never> { try? await group.run() }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the receiver did not start") }
        return WebhookReceiver(recorder: box, group: group, task: task, port: port)
    }

    func shutdown() async {
        await group.triggerGracefulShutdown()
        await task.value
    }

    /// Shares the state with the route handler.
    private final class Recorder: Sendable {
        let state: Mutex<State>

        init(_ state: State) { self.state = Mutex(state) }

        func take(path: String, headers: [String: String], body: [UInt8]) -> Answer {
            state.withLock { s in
                let answer = s.script.isEmpty ? Answer.ok : s.script.removeFirst()
                s.received.append(Received(path: path, headers: headers, body: body, at: Date(), answered: answer.status))
                return answer
            }
        }
    }
}
