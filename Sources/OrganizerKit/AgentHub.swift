import EarshotWire
import Foundation
import NIOWebSocket

/// What a connection's writer sends next.
enum Outgoing: Sendable {
    case message(OrganizerMessage)
    /// Send a close frame with this code and reason, then stop.
    case close(WebSocketErrorCode, String)
}

/// A connected, authenticated agent as the hub knows it.
struct AgentSession: Sendable {
    var connectionID: UInt64
    var agentID: String
    var hello: AgentHello
    var remoteAddress: String?
    var outbox: AsyncStream<Outgoing>.Continuation
    var connectedAt: Date
}

/// The agents connected now (one session per agent), and when each agent was last heard from.
///
/// An agent counts as alive from its hello until `interval × missed` passes without a frame,
/// connected or not: a dropped socket that comes back within the window is no event. When the
/// window passes, `expire(now:)` returns it once and the organizer stores the `offline` event.
actor AgentHub {
    private var sessions: [String: AgentSession] = [:]
    /// Agents counted online, with the time of their last frame (or of the organizer's start,
    /// for agents a previous process left online).
    private var lastSeen: [String: ContinuousClock.Instant] = [:]
    private var nextConnectionID: UInt64 = 1
    let offlineAfter: Duration

    init(offlineAfter: Duration) {
        self.offlineAfter = offlineAfter
    }

    func newConnectionID() -> UInt64 {
        defer { nextConnectionID += 1 }
        return nextConnectionID
    }

    /// Registers an authenticated connection. A previous connection of the same agent gets a
    /// `duplicate_session` error and is closed: the newest connection wins.
    func attach(_ session: AgentSession) {
        if let old = sessions[session.agentID], old.connectionID != session.connectionID {
            let error = WireError(code: .duplicateSession,
                                  message: "a newer connection of this agent replaced this one", fatal: true)
            old.outbox.yield(.message(.error(error)))
            old.outbox.yield(.close(.normalClosure, WireError.Code.duplicateSession.rawValue))
        }
        sessions[session.agentID] = session
        lastSeen[session.agentID] = .now
    }

    /// The connection ended. Only removes the session if it is still this connection's.
    func detach(agentID: String, connectionID: UInt64) {
        if sessions[agentID]?.connectionID == connectionID {
            sessions[agentID] = nil
        }
    }

    /// A frame arrived from the agent.
    func seen(agentID: String) {
        if lastSeen[agentID] != nil || sessions[agentID] != nil {
            lastSeen[agentID] = .now
        }
    }

    /// What was last stored of each agent's heartbeats: storage is written when the counts
    /// change, or every `persistEvery` (liveness itself is tracked here, in memory).
    private var persisted: [String: (at: ContinuousClock.Instant, activeRuns: Int, spooled: Int)] = [:]
    static let persistEvery: Duration = .seconds(30)

    /// Whether this heartbeat should be written to storage (and notes that it will be).
    func shouldPersistHeartbeat(agentID: String, activeRuns: Int, spooled: Int) -> Bool {
        let now = ContinuousClock.now
        if let last = persisted[agentID], last.activeRuns == activeRuns, last.spooled == spooled,
           now - last.at < Self.persistEvery {
            return false
        }
        persisted[agentID] = (now, activeRuns, spooled)
        return true
    }

    /// Agents a previous organizer process left online: they get the offline window from now
    /// to reconnect.
    func seedOnline(_ agentIDs: [String]) {
        for id in agentIDs where lastSeen[id] == nil {
            lastSeen[id] = .now
        }
    }

    /// Agents silent for longer than the offline window. Each is returned once; its session
    /// (if still connected but silent) is closed.
    func expire() -> [String] {
        let now = ContinuousClock.now
        var out: [String] = []
        for (id, seen) in lastSeen where now - seen > offlineAfter {
            out.append(id)
        }
        for id in out {
            lastSeen[id] = nil
            if let s = sessions.removeValue(forKey: id) {
                s.outbox.yield(.close(.goingAway, "no heartbeat"))
            }
        }
        return out.sorted()
    }

    /// Sends to the agent's current connection. False when it is not connected.
    @discardableResult
    func send(_ message: OrganizerMessage, to agentID: String) -> Bool {
        guard let s = sessions[agentID] else { return false }
        s.outbox.yield(.message(message))
        return true
    }

    /// Sends each message to its agent's current connection (one hop for many frames).
    /// Returns the positions of those whose agent is not connected.
    @discardableResult
    func send(_ batch: [(agentID: String, message: OrganizerMessage)]) -> [Int] {
        var undelivered: [Int] = []
        for (i, item) in batch.enumerated() {
            guard let s = sessions[item.agentID] else {
                undelivered.append(i)
                continue
            }
            s.outbox.yield(.message(item.message))
        }
        return undelivered
    }

    /// Sends a fatal error and closes the agent's connection (revocation). It no longer counts
    /// as online.
    func disconnect(agentID: String, error: WireError, code: WebSocketErrorCode) {
        lastSeen[agentID] = nil
        guard let s = sessions.removeValue(forKey: agentID) else { return }
        s.outbox.yield(.message(.error(error)))
        s.outbox.yield(.close(code, error.code.rawValue))
    }

    /// Closes every connection (shutdown).
    func closeAll(reason: String) {
        for s in sessions.values {
            s.outbox.yield(.close(.goingAway, reason))
        }
        sessions.removeAll()
    }

    func isConnected(_ agentID: String) -> Bool { sessions[agentID] != nil }

    /// When each agent counted online was last heard from, as wall-clock times (the alert
    /// engine's site correlation looks at agents gone silent but not yet offline).
    func lastSeenDates(now: Date = Date()) -> [String: Date] {
        let clock = ContinuousClock.now
        return lastSeen.mapValues { now.addingTimeInterval(-(clock - $0).seconds) }
    }

    /// The connected agents' hellos, by agent id.
    func connected() -> [String: AgentHello] {
        sessions.mapValues(\.hello)
    }

    /// The address each connected agent's WebSocket comes from, as the organizer sees it.
    func remoteAddresses() -> [String: String] {
        sessions.compactMapValues(\.remoteAddress)
    }

    var connectedCount: Int { sessions.count }
}
