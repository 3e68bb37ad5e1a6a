import EarshotStore
import EarshotWire
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// One agent WebSocket at `/v1/agent` (docs/protocol.md): authentication (enroll / hello),
/// heartbeats, assignment answers and results.
///
/// Three tasks: the reader (frames in, in order), the writer (the only task that writes to the
/// socket, fed by an `AsyncStream` that the hub, the scheduler and the ingest path yield to)
/// and a watchdog that closes a connection that never authenticates.
struct AgentConnection: Sendable {
    let runtime: OrganizerRuntime
    let remoteAddress: String?

    /// How long a new connection may take to send its first valid frame.
    static let authenticationTimeout: Duration = .seconds(30)

    private enum Ended: Sendable { case reader, writer, watchdog }

    /// The connection's phase, shared by its tasks.
    private final class PhaseBox: Sendable {
        private let value = Mutex<Phase>(.awaitingFirstFrame)
        var current: Phase { value.withLock { $0 } }
        func set(_ p: Phase) { value.withLock { $0 = p } }
    }

    private enum Phase: Sendable {
        case awaitingFirstFrame
        /// Enrolled on this connection: a hello with the new credential must follow.
        case enrolled(agentID: String)
        case authenticated(agentID: String, connectionID: UInt64)
    }

    func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async {
        let (outbox, continuation) = AsyncStream<Outgoing>.makeStream()
        let phase = PhaseBox()
        var tagged = logger
        tagged[metadataKey: "remote"] = .string(remoteAddress ?? "?")
        let logger = tagged

        await withTaskGroup(of: Ended.self) { group in
            group.addTask {
                await Self.write(outbox, to: outbound, logger: logger)
                return .writer
            }
            group.addTask {
                await read(inbound, outbox: continuation, phase: phase, logger: logger)
                return .reader
            }
            group.addTask {
                try? await Task.sleep(for: Self.authenticationTimeout)
                if !Task.isCancelled, case .awaitingFirstFrame = phase.current {
                    Self.fail(WireError(code: .unauthorized, message: "no enroll or hello within 30 s", fatal: true),
                              close: .policyViolation, on: continuation)
                }
                return .watchdog
            }
            while let ended = await group.next() {
                switch ended {
                case .reader: continuation.finish()
                case .writer: group.cancelAll()
                case .watchdog: break
                }
            }
        }
        if case .authenticated(let agentID, let connectionID) = phase.current {
            await runtime.hub.detach(agentID: agentID, connectionID: connectionID)
            logger.info("agent disconnected", metadata: ["agent": .string(agentID)])
        }
    }

    private static func write(_ outbox: AsyncStream<Outgoing>, to outbound: WebSocketOutboundWriter, logger: Logger) async {
        for await item in outbox {
            do {
                switch item {
                case .message(let message):
                    let data = try message.encoded()
                    try await outbound.writeTextMessage(String(decoding: data, as: UTF8.self))
                case .close(let code, let reason):
                    try await outbound.close(code, reason: reason)
                    return
                }
            } catch {
                logger.debug("agent socket write failed", metadata: ["error": .string("\(error)")])
                return
            }
        }
    }

    private static func fail(_ error: WireError, close code: WebSocketErrorCode, on outbox: AsyncStream<Outgoing>.Continuation) {
        outbox.yield(.message(.error(error)))
        if error.fatal { outbox.yield(.close(code, error.code.rawValue)) }
    }

    private func read(_ inbound: WebSocketInboundStream, outbox: AsyncStream<Outgoing>.Continuation,
                      phase: PhaseBox, logger: Logger) async {
        var logger = logger
        do {
            for try await message in inbound.messages(maxSize: WireProtocol.maximumFrameBytes) {
                let data: Data
                switch message {
                case .text(let text): data = Data(text.utf8)
                case .binary:
                    Self.fail(WireError(code: .badMessage, message: "frames are JSON text, not binary", fatal: false),
                              close: .unacceptableData, on: outbox)
                    continue
                }
                let decoded: AgentMessage
                do {
                    decoded = try AgentMessage(decoding: data)
                } catch {
                    logger.notice("bad frame from agent", metadata: ["error": .string(error.description)])
                    Self.fail(error.wireError, close: error.closeCode, on: outbox)
                    if error.wireError.fatal { return }
                    continue
                }
                let current = phase.current
                let next = await dispatch(decoded, phase: current, outbox: outbox, logger: &logger)
                guard let next else { return }
                phase.set(next)
            }
        } catch is CancellationError {
            return
        } catch {
            // The only error of the message stream that is the peer's doing: a message over the
            // limit. The stream's own close code (1009) follows when the reader ends.
            if "\(error)".contains("messageTooLarge") {
                logger.notice("oversize frame from agent", metadata: ["limit": .stringConvertible(WireProtocol.maximumFrameBytes)])
                Self.fail(WireError(code: .frameTooLarge,
                                    message: "a message exceeds \(WireProtocol.maximumFrameBytes) bytes; the connection is closed",
                                    fatal: true),
                          close: .messageTooLarge, on: outbox)
            } else {
                logger.debug("agent socket read ended", metadata: ["error": .string("\(error)")])
            }
        }
    }

    /// Handles one decoded frame; returns the next phase, or nil to end the connection (after
    /// a fatal error was queued).
    private func dispatch(_ message: AgentMessage, phase: Phase, outbox: AsyncStream<Outgoing>.Continuation,
                          logger: inout Logger) async -> Phase? {
        let rt = runtime
        switch (phase, message) {
        case (.awaitingFirstFrame, .enroll(let request)):
            do {
                let enrolled = try await rt.enroll(request, logger: logger)
                outbox.yield(.message(.enrolled(enrolled)))
                return .enrolled(agentID: enrolled.agentID)
            } catch let error as WireError {
                Self.fail(error, close: .policyViolation, on: outbox)
                return nil
            } catch {
                logger.error("enrollment failed", metadata: ["error": .string("\(error)")])
                Self.fail(WireError(code: .internalError, message: "enrollment failed inside the organizer; try again",
                                    fatal: true), close: .unexpectedServerError, on: outbox)
                return nil
            }

        case (.awaitingFirstFrame, .hello(let hello)), (.enrolled, .hello(let hello)):
            if case .enrolled(let id) = phase, id != hello.agentID {
                Self.fail(WireError(code: .unauthorized, message: "hello names another agent than the one just enrolled",
                                    fatal: true), close: .policyViolation, on: outbox)
                return nil
            }
            do {
                let connectionID = await rt.hub.newConnectionID()
                let welcome = try await rt.authenticate(hello, remoteAddress: remoteAddress, logger: logger)
                logger[metadataKey: "agent"] = .string(hello.agentID)
                // Queue the welcome before the session is visible, so it is the first frame.
                outbox.yield(.message(.welcome(welcome)))
                await rt.hub.attach(AgentSession(connectionID: connectionID, agentID: hello.agentID, hello: hello,
                                                 remoteAddress: remoteAddress, outbox: outbox, connectedAt: Date()))
                logger.info("agent connected", metadata: ["name": .string(hello.name), "version": .string(hello.version)])
                await rt.coordinator.agentConnected(hello.agentID, activeRuns: hello.activeRuns)
                return .authenticated(agentID: hello.agentID, connectionID: connectionID)
            } catch let error as WireError {
                logger.notice("agent refused", metadata: ["agent": .string(hello.agentID), "code": .string(error.code.rawValue)])
                Self.fail(error, close: .policyViolation, on: outbox)
                return nil
            } catch {
                logger.error("hello failed", metadata: ["error": .string("\(error)")])
                Self.fail(WireError(code: .internalError, message: "the organizer could not record the connection; retry",
                                    fatal: true), close: .unexpectedServerError, on: outbox)
                return nil
            }

        case (.awaitingFirstFrame, _), (.enrolled, _):
            Self.fail(WireError(code: .unauthorized,
                                message: "the first frame must be enroll or hello (and hello must follow enrolled)",
                                fatal: true), close: .policyViolation, on: outbox)
            return nil

        case (.authenticated(let agentID, _), .heartbeat(let hb)):
            await rt.hub.seen(agentID: agentID)
            outbox.yield(.message(.heartbeatAck(HeartbeatAck(seq: hb.seq, serverTime: Date()))))
            await rt.heartbeat(agentID: agentID, heartbeat: hb, logger: logger)
            return phase

        case (.authenticated(let agentID, _), .accepted(let answer)):
            await rt.hub.seen(agentID: agentID)
            await rt.coordinator.answered(answer, by: agentID)
            return phase

        case (.authenticated(let agentID, _), .result(let result)):
            await rt.hub.seen(agentID: agentID)
            await rt.ingest.submit(result, from: agentID)
            return phase

        case (.authenticated, .enroll), (.authenticated, .hello):
            Self.fail(WireError(code: .badMessage, message: "already authenticated on this connection", fatal: false),
                      close: .policyViolation, on: outbox)
            return phase
        }
    }
}

extension WireDecodingError {
    /// The close code that follows a fatal decoding error.
    var closeCode: WebSocketErrorCode {
        switch self {
        case .versionMismatch: .protocolError
        case .tooLarge: .messageTooLarge
        case .malformed, .unknownType: .unacceptableData
        }
    }
}
