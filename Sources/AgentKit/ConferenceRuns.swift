import EarshotWire
import Foundation
import Logging
import MediaEngine
import SIPCore
import SIPStack
import SIPTransaction

/// A bridge open on this agent: a conference run's (`runID` set) or a standing room's.
struct OpenBridge {
    /// One INVITE answered onto the bridge.
    struct Leg {
        var callID: String
        /// The bridge member's label: the caller's `X-Earshot-Agent`, else its From URI.
        var label: String
        var agentID: String?
        var from: String
        var joinedAt: Date
        /// The call's report, once it ended.
        var report: CallReport?
    }

    var bridge: MediaBridge
    var label: String
    var runID: String?
    /// The members a conference run expects (empty for a room).
    var members: [ConferenceMember]
    var openedAt: Date
    /// Legs in the order their INVITEs came.
    var legs: [Leg] = []

    var activeCallIDs: [String] { legs.filter { $0.report == nil }.map(\.callID) }
}

extension BridgeDTMFMode {
    init(_ mode: DTMFRelayMode) {
        switch mode {
        case .relay: self = .relay
        case .regenerate: self = .regenerate
        case .drop: self = .drop
        }
    }
}

/// Conference runs (issue 6): a participant calls the conference and listens for every
/// member's tone; a bridge agent opens a MediaEngine bridge and answers the participants onto
/// it; standing rooms are bridges open for the agent's lifetime.
extension AssignmentExecutor {
    /// The bridge opens this long before `start_at`.
    static let bridgeLead: TimeInterval = 1
    /// After the conference's end, how long the bridge waits for the participants' BYEs.
    static let bridgeGrace: TimeInterval = 3
    /// The bridge reports at the latest this long before the deadline.
    static let bridgeDeadlineMargin: TimeInterval = 1
    /// Expiry asked for when a bridge or a room registers (refreshed at half).
    static let bridgeRegistrationExpiry = 300

    /// Why a conference assignment cannot be taken, or nil.
    func checkConference(_ a: Assignment) -> (code: String, detail: String)? {
        guard let conference = a.conference else {
            return ("bad_assignment", "a conference \(a.role.rawValue) assignment without its conference")
        }
        if Self.payloadType(conference.codec) == nil {
            return ("unsupported_test", "codec \(conference.codec) (PCMU and PCMA are supported)")
        }
        guard conference.durationS > 0 else { return ("bad_assignment", "conference duration \(conference.durationS) s") }
        switch a.role {
        case .bridge:
            guard configuration.bridge else {
                return ("unsupported_test", "conference bridge: this agent does not host bridges (it runs with --no-bridge)")
            }
            guard !conference.conferenceID.isEmpty, bridges[conference.conferenceID] == nil else {
                return ("bad_assignment", "conference id \"\(conference.conferenceID)\" is empty or already open here")
            }
            if let registrar = conference.registrar,
               Self.registrationRequest(registrar: registrar, transport: conference.transport, aor: conference.uri,
                                        credentials: conference.credentials, expires: Self.bridgeRegistrationExpiry) == nil {
                return ("bad_assignment", "cannot register \(conference.uri) at \(registrar): need a SIP URI and HOST:PORT with an IP address")
            }
        default:
            guard conference.member(agentID) != nil else {
                return ("bad_assignment", "this agent (\(agentID)) is not among the conference's members")
            }
            guard let target = try? SIPURI(parsing: conference.uri),
                  Self.destination(of: target, proxy: conference.proxy, transport: conference.transport) != nil else {
                return ("bad_assignment", "cannot reach conference \(conference.uri): the host must be an IP address (or give a proxy)")
            }
        }
        return nil
    }

    // MARK: participant

    /// Joins at `start_at` + its join offset, stays until `start_at + duration_s`, reports its leg.
    func runParticipant(_ a: Assignment) async {
        let context = participantContext(a)
        guard let conference = a.conference, let member = conference.member(agentID) else {
            return await finish(ResultMapping.failure(context, code: "bad_assignment", detail: "this agent is not a member of the conference"))
        }
        guard await Self.sleep(until: a.startAt.addingTimeInterval(member.joinOffsetS)), runs[a.runID]?.cancelReason == nil else {
            return await finish(ResultMapping.failure(context, status: .notRun, code: "cancelled", detail: "cancelled before joining"))
        }
        let stay = a.startAt.addingTimeInterval(conference.durationS).timeIntervalSinceNow
        guard stay > 0.5 else {
            return await finish(ResultMapping.failure(context, status: .notRun, code: "timeout",
                                                      detail: "the conference was over before this participant could join (the agent was late by \(String(format: "%.1f", -stay)) s)"))
        }
        guard let request = Self.participantRequest(conference, runID: a.runID, agentID: agentID, member: member, stayS: stay) else {
            return await finish(ResultMapping.failure(context, code: "bad_assignment", detail: "cannot reach conference \(conference.uri)"))
        }
        runs[a.runID]?.inCall = true
        let started = Date()
        logger.info("run \(a.runID): joining conference \(conference.uri) with tone \(member.toneHz) Hz for \(String(format: "%.1f", stay)) s")
        let report = await userAgent.placeCall(request)
        var ended = context
        ended.startedAt = started
        ended.endedAt = Date()
        await finish(ResultMapping.participantResult(of: report, ended, conference: conference, member: member,
                                                     callStartedAt: started, startAt: a.startAt))
    }

    /// The far end of a participant's leg: the bridge agent (the peer with role `bridge`), or
    /// `externalRoomLabel` for an external room.
    func participantContext(_ a: Assignment) -> RunContext {
        let bridge = a.conference?.mode == .uri ? nil : a.peers.first { $0.role == .bridge }?.agentID
        return RunContext(runID: a.runID, agentID: agentID, role: .participant, testType: .conference, peer: bridge ?? externalRoomLabel,
                          alwaysEvidence: a.alwaysEvidence)
    }

    /// A participant's call: `X-Earshot-Run` and `X-Earshot-Agent`, its tone, every member's
    /// tone watched, the PIN, and — for the DTMF sender — the digits once every member should
    /// have joined (the last join offset + 2 s, counted from its own answer).
    static func participantRequest(_ c: ConferenceAssignment, runID: String, agentID: String, member: ConferenceMember,
                                   stayS: Double) -> CallRequest? {
        guard let target = try? SIPURI(parsing: c.uri), let payloadType = payloadType(c.codec),
              let destination = destination(of: target, proxy: c.proxy, transport: c.transport) else { return nil }
        var headers = SIPHeaders()
        headers.add(SIPHeaderName(runHeaderName), runID)
        headers.add(SIPHeaderName(agentHeaderName), agentID)
        let sends = (c.dtmfSender == agentID || c.dtmfSender == member.name) && !(c.dtmf ?? "").isEmpty
        let dtmfDelay = ResultMapping.dtmfDelay(conference: c, sender: member)
        return CallRequest(
            target: target, destination: destination, duration: .nanoseconds(Int64(stayS * 1e9)), payloadType: payloadType,
            dtmf: sends ? c.dtmf : nil, dtmfDelay: .nanoseconds(Int64(dtmfDelay * 1e9)),
            username: c.credentials?.username, password: c.credentials?.password, expectedRemoteTone: nil,
            noAnswerTimeout: .nanoseconds(Int64(min(15, max(2, stayS)) * 1e9)),
            from: c.credentials?.aor.flatMap { try? SIPURI(parsing: $0) }, extraHeaders: headers, toneFrequency: member.toneHz,
            pin: c.pin, pinDelay: .milliseconds(500), watchTones: c.members.map(\.toneHz))
    }

    // MARK: bridge

    /// Opens the bridge 1 s before `start_at` (registering the conference URI first when a
    /// registrar is given), answers the members onto it, ends after the conference (or at the
    /// deadline), and reports every leg.
    func runBridge(_ a: Assignment) async {
        guard let conference = a.conference else { return }
        var context = RunContext(runID: a.runID, agentID: agentID, role: .bridge, testType: .conference,
                                 alwaysEvidence: a.alwaysEvidence)
        let id = conference.conferenceID
        guard await Self.sleep(until: a.startAt.addingTimeInterval(-Self.bridgeLead)) else {
            return await finish(ResultMapping.failure(context, status: .notRun, code: "cancelled", detail: "cancelled before the bridge opened"))
        }
        let openedAt = Date()
        context.startedAt = openedAt
        let bridge: MediaBridge
        do {
            bridge = try await media.openBridge(BridgeConfiguration(
                label: id, maxParticipants: conference.maxParticipants, dtmfMode: BridgeDTMFMode(conference.dtmfMode),
                pin: conference.pin))
        } catch {
            context.endedAt = Date()
            return await finish(ResultMapping.failure(context, code: "bridge_failed", detail: "cannot open the conference bridge \(id): \(error)"))
        }
        bridges[id] = OpenBridge(bridge: bridge, label: id, runID: a.runID, members: conference.members, openedAt: openedAt)
        logger.info("run \(a.runID): bridge \(id) open for \(conference.members.count) members, DTMF \(conference.dtmfMode.rawValue)\(conference.pin == nil ? "" : ", PIN required")")

        var registeredAOR: String?
        var notes: [String] = []
        if let registrar = conference.registrar,
           let request = Self.registrationRequest(registrar: registrar, transport: conference.transport, aor: conference.uri,
                                                  credentials: conference.credentials, expires: Self.bridgeRegistrationExpiry,
                                                  contactUser: id) {
            let registration = await userAgent.register(request)
            guard registration.registered else {
                bridges[id] = nil
                _ = try? await media.closeBridge(bridge)
                context.endedAt = Date()
                var result = ResultMapping.failure(
                    context, code: "registration_failed",
                    detail: "bridge \(id): REGISTER \(conference.uri) at \(registrar) failed, participants cannot reach it: \(registration.detail)")
                result.cause?.statusCode = registration.statusCode
                return await finish(result)
            }
            registeredAOR = request.addressOfRecord.description
            notes.append("registered \(conference.uri) at \(registrar): \(registration.detail)")
        }

        // Every participant leaves at start + duration; then wait for their BYEs (a little
        // grace), never past the deadline.
        let over = a.startAt.addingTimeInterval(conference.durationS)
        let end = min(over.addingTimeInterval(Self.bridgeGrace), a.deadline.addingTimeInterval(-Self.bridgeDeadlineMargin))
        if await Self.sleep(until: min(over, end)) {
            while Date() < end, !Task.isCancelled, !(bridges[id]?.activeCallIDs.isEmpty ?? true) {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        // Not cancellable from here on: the legs still up get a BYE and report, the bridge closes.
        await Task { await self.closeConference(id, registeredAOR: registeredAOR) }.value
        guard let open = bridges.removeValue(forKey: id) else { return }
        ignoredCalls.formUnion(open.activeCallIDs)
        context.endedAt = Date()
        do {
            let report = try await media.closeBridge(bridge)
            await finish(ResultMapping.bridgeResult(report, legs: open.legs, conference: conference, context, openedAt: openedAt,
                                                    startAt: a.startAt, notes: notes))
        } catch {
            await finish(ResultMapping.failure(context, code: "bridge_failed", detail: "the bridge \(id) failed: \(error)"))
        }
    }

    /// BYE to the legs of bridge `key` still up, a wait (≤ 5 s) for their reports, unregister.
    private func closeConference(_ key: String, registeredAOR: String?) async {
        await endLegs(of: key)
        if let registeredAOR { _ = await userAgent.unregister(aor: registeredAOR) }
    }

    /// BYE to the legs of bridge `key` still up; returns when they have ended (≤ 5 s).
    private func endLegs(of key: String) async {
        for callID in bridges[key]?.activeCallIDs ?? [] { await userAgent.endCall(callID: callID) }
        let deadline = ContinuousClock.now + .seconds(5)
        while !(bridges[key]?.activeCallIDs.isEmpty ?? true), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// An INVITE for a bridge of ours (its Request-URI's user part, else its To's, names the
    /// conference or the room): answered onto it, labelled with its `X-Earshot-Agent`, else its
    /// From URI. A conference INVITE (one with `X-Earshot-Agent`, or for a conference of ours)
    /// when no such bridge is open here — not yet, any more, or it failed — answers 480
    /// (RFC 3261 §21.4.18) and is not reported. Nil: not a conference call.
    func bridgeCall(_ info: IncomingCallInfo) -> IncomingCallSettings? {
        let users = [info.requestURI, info.to].compactMap { (try? SIPURI(parsing: $0))?.user }
        guard let key = users.first(where: { bridges[$0] != nil }), var open = bridges[key] else {
            let planned = users.contains { user in
                runs.values.contains { $0.assignment.role == .bridge && $0.assignment.conference?.conferenceID == user }
            }
            guard planned || info.header(agentHeaderName) != nil else { return nil }
            logger.notice("INVITE for conference \(users.first ?? "?") from \(info.from), which is not open here; 480")
            ignoredCalls.insert(info.callID)
            return IncomingCallSettings(rejectWith: 480)
        }
        let agent = info.header(agentHeaderName).flatMap { $0.isEmpty ? nil : $0 }
        let label = agent ?? info.from
        let member = agent.flatMap { id in open.members.first { $0.agentID == id } }
        open.legs.append(OpenBridge.Leg(callID: info.callID, label: label, agentID: agent, from: info.from, joinedAt: Date()))
        bridges[key] = open
        if open.runID == nil { logger.info("room \(key): \(label) calling from \(info.source)") }
        return IncomingCallSettings(expectedRemoteTone: member?.toneHz, bridge: open.bridge, memberLabel: label)
    }

    /// A call on one of our bridges ended: kept for the conference's report, or (a room's)
    /// logged and forgotten. False: not a bridge call.
    func bridgeCallEnded(_ report: CallReport) -> Bool {
        if ignoredCalls.remove(report.callID) != nil { return true }
        for (key, open) in bridges {
            guard let index = open.legs.firstIndex(where: { $0.callID == report.callID }) else { continue }
            if open.runID != nil {
                bridges[key]?.legs[index].report = report
            } else {
                let leg = open.legs[index]
                bridges[key]?.legs.remove(at: index)
                let stayed = report.actualDurationS.map { String(format: "after %.1f s", $0) } ?? "without joining"
                let digits = report.dtmfReceived.map { $0.isEmpty ? "" : ", digits \"\($0)\"" } ?? ""
                logger.info("room \(key): \(leg.label) left \(stayed) (\(report.ending.description))\(digits)")
            }
            return true
        }
        return false
    }

    // MARK: standing rooms

    /// Opens the configured rooms; those with a registrar register in the background (and
    /// retry until they succeed; the user agent refreshes them).
    func openRooms() async throws(AgentStartError) {
        for room in configuration.rooms {
            do {
                let bridge = try await media.openBridge(BridgeConfiguration(
                    label: room.name, maxParticipants: room.maxParticipants ?? BridgeConfiguration(label: room.name).maxParticipants,
                    dtmfMode: BridgeDTMFMode(room.dtmfMode ?? .relay), pin: room.pin))
                bridges[room.name] = OpenBridge(bridge: bridge, label: room.name, runID: nil, members: [], openedAt: Date())
            } catch {
                throw .media("cannot open the bridge of room \(room.name): \(error)")
            }
            logger.notice("room \(room.name) open\(room.pin == nil ? "" : " (PIN required)")")
            if room.registrar != nil { roomTasks.append(Task { await self.keepRegistered(room) }) }
        }
    }

    private func keepRegistered(_ room: RoomConfiguration) async {
        let credentials = room.username != nil || room.password != nil
            ? SIPCredentials(username: room.username ?? room.name, password: room.password ?? "") : nil
        guard let registrar = room.registrar, let aor = room.addressOfRecord(),
              let request = Self.registrationRequest(registrar: registrar, aor: aor, credentials: credentials,
                                                     expires: Self.bridgeRegistrationExpiry, contactUser: room.name) else {
            logger.error("room \(room.name): cannot register \(room.aor ?? room.name) at \(room.registrar ?? "?"): need a SIP URI and HOST:PORT with an IP address")
            return
        }
        var retry = 1.0
        while !Task.isCancelled {
            let result = await userAgent.register(request)
            if result.registered {
                logger.notice("room \(room.name) registered at \(registrar) as \(aor): \(result.detail)")
                return
            }
            logger.warning("room \(room.name): REGISTER \(aor) at \(registrar) failed (\(result.detail)); retrying in \(Int(retry)) s")
            do { try await Task.sleep(for: .seconds(retry)) } catch { return }
            retry = min(30, retry * 2)
        }
    }

    /// Ends the rooms' calls and closes their bridges (at shutdown).
    func closeRooms() async {
        roomTasks.forEach { $0.cancel() }
        roomTasks.removeAll()
        for (key, open) in bridges where open.runID == nil {
            await endLegs(of: key)
            ignoredCalls.formUnion(bridges.removeValue(forKey: key)?.activeCallIDs ?? [])
            _ = try? await media.closeBridge(open.bridge)
            logger.notice("room \(key) closed")
        }
    }

    /// The rooms open now (names).
    public var openRoomNames: [String] { bridges.values.filter { $0.runID == nil }.map(\.label).sorted() }
}
