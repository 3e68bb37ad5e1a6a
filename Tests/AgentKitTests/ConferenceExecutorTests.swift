@testable import AgentKit
import EarshotWire
import Foundation
import InteropTestSupport
import SIPCore
import SIPStack
import SIPTransaction
import Testing

/// Conference runs between real executors on loopback (issue 6): one bridge agent and its
/// participants, each with its own user agent and media engine.
@Suite("Conference runs on loopback")
struct ConferenceExecutorTests {
    static func executor(_ id: String, ports: ClosedRange<UInt16>, maxCalls: Int = 20, bridge: Bool = true,
                         rooms: [RoomConfiguration] = []) async throws -> (AssignmentExecutor, ResultBox) {
        let executor = try await AssignmentExecutor.start(
            ExecutorConfiguration(sipHost: "127.0.0.1", sipPort: 0, rtpPorts: ports, maxConcurrentCalls: maxCalls,
                                  timers: ExecutorTests.timers, bridge: bridge, rooms: rooms),
            agentID: id)
        let box = ResultBox()
        await executor.setResultSink { box.add($0) }
        return (executor, box)
    }

    /// The bridge's and every participant's assignment of one conference run.
    static func assignments(_ run: String, bridgeID: String?, uri: String, members: [ConferenceMember], durationS: Double,
                            start: Date, pin: String? = nil, dtmf: String? = nil, dtmfSender: String? = nil,
                            mode: ConferenceBridgeMode = .agent) -> (bridge: Assignment?, participants: [Assignment]) {
        var peers = members.map { Peer(agentID: $0.agentID, name: $0.name, role: .participant, toneHz: $0.toneHz) }
        if let bridgeID { peers.append(Peer(agentID: bridgeID, name: "bridge", role: .bridge)) }
        let conference = ConferenceAssignment(conferenceID: "conf-\(run)", mode: mode, uri: uri, members: members, durationS: durationS,
                                              pin: pin, dtmf: dtmf, dtmfSender: dtmfSender, maxParticipants: 10)
        let deadline = start.addingTimeInterval(durationS + 20)
        func part(_ role: ParticipantRole) -> Assignment {
            Assignment(runID: run, suite: "conf", testType: .conference, role: role, startAt: start, deadline: deadline, peers: peers,
                       conference: conference)
        }
        return (bridgeID == nil ? nil : part(.bridge), members.map { _ in part(.participant) })
    }

    static func members(_ ids: [String], offsets: [Double]) -> [ConferenceMember] {
        let tones = [697, 941, 1209, 1477, 1633]
        return ids.indices.map { ConferenceMember(agentID: ids[$0], name: ids[$0], toneHz: tones[$0], joinOffsetS: offsets[$0]) }
    }

    @Test func bridgeAndThreeParticipantsHearEachOtherAndRelayDTMF() async throws {
        let (bridge, bridgeResults) = try await Self.executor("ag_BR", ports: 27000...27099)
        let ids = ["ag_P1", "ag_P2", "ag_P3"]
        var participants: [(AssignmentExecutor, ResultBox)] = []
        for (i, id) in ids.enumerated() {
            let low = UInt16(27100 + i * 50)
            participants.append(try await Self.executor(id, ports: low...(low + 49)))
        }
        let contact = try await ExecutorTests.contact(bridge)
        let port = contact.split(separator: ":")[2].prefix { $0.isNumber }
        let run = "run-conf-3"
        let members = Self.members(ids, offsets: [0, 0.7, 1.4])
        let start = Date().addingTimeInterval(4)
        let (bridgePart, parts) = Self.assignments(run, bridgeID: "ag_BR", uri: "sip:conf-\(run)@127.0.0.1:\(port);transport=udp",
                                                   members: members, durationS: 12, start: start, dtmf: "159", dtmfSender: "ag_P1")
        #expect(await bridge.offer(try #require(bridgePart)).accepted)
        for (i, (executor, _)) in participants.enumerated() { #expect(await executor.offer(parts[i]).accepted) }

        let bridgeResult = try #require(try await bridgeResults.result(run, seconds: 60))
        var results: [String: RunResult] = [:]
        for (i, (_, box)) in participants.enumerated() { results[ids[i]] = try #require(try await box.result(run, seconds: 60)) }

        // The bridge: three legs, attributed (in arrival order: on a loaded machine two INVITEs
        // planned half a second apart can arrive the other way round), P1's digits relayed.
        #expect(bridgeResult.role == .bridge && bridgeResult.testType == .conference)
        #expect(bridgeResult.status == .passed, "\(String(describing: bridgeResult.cause))")
        let report = try #require(bridgeResult.bridge)
        #expect(report.conferenceID == "conf-\(run)")
        #expect(report.legs.compactMap(\.agentID).sorted() == ["ag_P1", "ag_P2", "ag_P3"])
        #expect(report.legs.allSatisfy { $0.admitted && $0.framesMixed > 150 && $0.leftAtMs != nil && !$0.callID.isEmpty })
        let byAgent = Dictionary(report.legs.map { ($0.agentID ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        #expect(["ag_P1", "ag_P2", "ag_P3"].map { byAgent[$0]?.dtmfReceived } == ["159", "", ""])
        #expect((byAgent["ag_P1"]?.dtmfForwarded ?? 0) > 0)
        #expect(report.peakParticipants == 3 && report.refused == 0)
        // About 13 s of mixing (opened 1 s early, 12 s of conference: a window long enough that one late-packet gap under a loaded test pass stays under 10 %); lateness in whole µs.
        #expect(report.ticks > 550)
        #expect(report.tickLatenessP99Us.map { $0 >= 0 && $0 == $0.rounded() } == true)
        // Nobody joined before its planned offset (ms after start_at).
        for member in members {
            #expect((byAgent[member.agentID]?.joinedAtMs ?? -1) >= member.joinOffsetS * 1000, "\(member.agentID) joined early")
        }
        #expect(bridgeResult.streams.map(\.from).sorted() == ["ag_P1", "ag_P2", "ag_P3"])
        #expect(bridgeResult.streams.allSatisfy { $0.to == "ag_BR" && $0.measuredBy == "receiver" && $0.packetsReceived > 150 })
        #expect(bridgeResult.streams.allSatisfy { $0.audioOK == true && $0.mosCQ != nil })

        for (i, id) in ids.enumerated() {
            let result = try #require(results[id])
            #expect(result.role == .participant && result.agentID == id)
            #expect(result.status == .passed, "\(id): \(String(describing: result.cause))")
            let conference = try #require(result.conference)
            #expect(conference.joinMs != nil)
            #expect((conference.joinedAtMs ?? -1) >= members[i].joinOffsetS * 1000)
            let others = ids.filter { $0 != id }
            #expect(conference.heard.map(\.agentID) == others)
            #expect(conference.heard.allSatisfy { $0.verdict == "continuous" && $0.fraction >= 0.9 && $0.levelDb != nil },
                    "\(id) heard \(conference.heard)")
            #expect(conference.heard.map(\.toneHz) == members.filter { $0.agentID != id }.map(\.toneHz))
            #expect(conference.ownTone?.verdict == "absent")
            #expect(conference.ownTone?.agentID == id)
            // Both directions of its leg: the bridge → it (measured here), it → the bridge (RTCP).
            let down = try #require(result.streams.first { $0.measuredBy == "receiver" })
            #expect(down.from == "ag_BR" && down.to == id && down.packetsReceived > 150)
            let up = try #require(result.streams.first { $0.measuredBy == "rtcp" })
            #expect(up.from == id && up.to == "ag_BR")
        }
        #expect(results["ag_P1"]?.dtmf?.sent == "159")
        #expect(results["ag_P1"]?.dtmf?.received == "")
        #expect(results["ag_P2"]?.dtmf?.received == "159")
        #expect(results["ag_P3"]?.dtmf?.received == "159")
        #expect(results["ag_P2"]?.dtmf?.sent == "")
        #expect(results["ag_P1"]?.conference?.pinSent == nil)

        await bridge.shutdown()
        for (executor, _) in participants { await executor.shutdown() }
    }

    @Test func aLateJoinerIsHeardFromItsJoinOnAndAPINIsRequiredAndSent() async throws {
        let (bridge, bridgeResults) = try await Self.executor("ag_BR", ports: 27300...27349)
        let (early, earlyResults) = try await Self.executor("ag_E", ports: 27350...27399)
        let (late, lateResults) = try await Self.executor("ag_L", ports: 27400...27449)
        let contact = try await ExecutorTests.contact(bridge)
        let port = contact.split(separator: ":")[2].prefix { $0.isNumber }
        let run = "run-conf-pin"
        let members = Self.members(["ag_E", "ag_L"], offsets: [0, 3])
        let (bridgePart, parts) = Self.assignments(run, bridgeID: "ag_BR", uri: "sip:conf-\(run)@127.0.0.1:\(port)",
                                                   members: members, durationS: 12, start: Date().addingTimeInterval(4), pin: "2468")
        #expect(await bridge.offer(try #require(bridgePart)).accepted)
        #expect(await early.offer(parts[0]).accepted)
        #expect(await late.offer(parts[1]).accepted)
        let bridgeResult = try #require(try await bridgeResults.result(run, seconds: 60))
        let e = try #require(try await earlyResults.result(run, seconds: 60))
        let l = try #require(try await lateResults.result(run, seconds: 60))

        // The PIN went to the bridge (which admitted both on it) and to nobody else.
        let legs = try #require(bridgeResult.bridge?.legs)
        #expect(legs.map(\.agentID) == ["ag_E", "ag_L"])
        #expect(legs.allSatisfy { $0.admitted && $0.dtmfReceived == "2468" && $0.dtmfForwarded == 0 })
        for result in [e, l] {
            #expect(result.status == .passed, "\(String(describing: result.cause))")
            #expect(result.conference?.pinSent == "2468")
            #expect(result.dtmf == nil)
        }
        // The late joiner came in 3 s after the start; the early one hears it from then on.
        #expect((l.conference?.joinedAtMs ?? 0) >= 2900)
        #expect(e.conference?.heard.map(\.agentID) == ["ag_L"])
        #expect(e.conference?.heard.first?.verdict == "continuous")
        #expect(l.conference?.heard.first?.verdict == "continuous")
        #expect(e.conference?.ownTone?.verdict == "absent")
        // The bridge saw the late one join not before its offset (ms after start_at).
        #expect(legs[1].joinedAtMs >= 3000)

        await bridge.shutdown()
        await early.shutdown()
        await late.shutdown()
    }

    @Test func aStandingRoomAnswersWithoutAnAssignmentAndReportsNothing() async throws {
        let (room, roomResults) = try await Self.executor("ag_ROOM", ports: 27450...27499,
                                                          rooms: [RoomConfiguration(name: "room100", pin: "55")])
        #expect(await room.openRoomNames == ["room100"])
        let (a, aResults) = try await Self.executor("ag_A", ports: 27500...27549)
        let (b, bResults) = try await Self.executor("ag_B", ports: 27550...27599)
        let contact = try await ExecutorTests.contact(room)
        let port = contact.split(separator: ":")[2].prefix { $0.isNumber }
        let run = "run-room"
        // External-room mode: no bridge agent, the participants call the room's URI and send its PIN.
        let (bridgePart, parts) = Self.assignments(run, bridgeID: nil, uri: "sip:room100@127.0.0.1:\(port)",
                                                   members: Self.members(["ag_A", "ag_B"], offsets: [0, 0.5]), durationS: 6,
                                                   start: Date().addingTimeInterval(1), pin: "55", dtmf: "7", dtmfSender: "ag_B",
                                                   mode: .uri)
        #expect(bridgePart == nil)
        #expect(await a.offer(parts[0]).accepted)
        #expect(await b.offer(parts[1]).accepted)
        let ra = try #require(try await aResults.result(run, seconds: 60))
        let rb = try #require(try await bResults.result(run, seconds: 60))
        for (result, other) in [(ra, "ag_B"), (rb, "ag_A")] {
            #expect(result.status == .passed, "\(String(describing: result.cause))")
            #expect(result.conference?.heard.map(\.agentID) == [other])
            #expect(result.conference?.heard.first?.verdict == "continuous")
            #expect(result.conference?.ownTone?.verdict == "absent")
            #expect(result.streams.first { $0.measuredBy == "receiver" }?.from == externalRoomLabel)
        }
        #expect(ra.dtmf?.received == "7")
        #expect(rb.dtmf?.sent == "7")
        // The room is the "PBX": it reports nothing, and stays open.
        try await Task.sleep(for: .seconds(1))
        #expect(roomResults.all.isEmpty)
        #expect(await room.openRoomNames == ["room100"])
        #expect(await room.activeRunIDs.isEmpty)

        await room.shutdown()
        await a.shutdown()
        await b.shutdown()
    }

    @Test func refusesConferenceAssignmentsItCannotRun() async throws {
        let (plain, results) = try await Self.executor("ag_X", ports: 27600...27649, maxCalls: 2, bridge: false)
        let now = Date()
        let members = Self.members(["ag_X", "ag_Y", "ag_Z"], offsets: [0, 0, 0])
        let (bridgePart, parts) = Self.assignments("c1", bridgeID: "ag_X", uri: "sip:conf-c1@127.0.0.1:5060", members: members,
                                                   durationS: 5, start: now.addingTimeInterval(100))
        let noBridge = await plain.offer(try #require(bridgePart))
        #expect(noBridge.reason == "unsupported_test: conference bridge: this agent does not host bridges (it runs with --no-bridge)")
        var bare = parts[0]
        bare.runID = "c2"
        bare.conference = nil
        #expect(await plain.offer(bare).reason == "bad_assignment: a conference participant assignment without its conference")
        var stranger = parts[0]
        stranger.runID = "c3"
        stranger.conference?.members.removeFirst()
        #expect(await plain.offer(stranger).reason == "bad_assignment: this agent (ag_X) is not among the conference's members")

        // A bridge counts one call per member: three do not fit a budget of two.
        let (host, _) = try await Self.executor("ag_H", ports: 27650...27699, maxCalls: 2)
        var big = try #require(bridgePart)
        big.runID = "c4"
        #expect(await host.offer(big).reason == "capacity: 0 calls already planned or running in that time; the budget is 2")
        #expect(AssignmentExecutor.calls(of: big) == 3)
        #expect(AssignmentExecutor.calls(of: parts[0]) == 1)

        // A participant whose join time has passed with the conference: not run.
        var missed = Self.assignments("c5", bridgeID: nil, uri: "sip:conf-c5@127.0.0.1:5060", members: members, durationS: 2,
                                      start: now.addingTimeInterval(-5)).participants[0]
        missed.deadline = now.addingTimeInterval(30)
        #expect(await plain.offer(missed).accepted)
        let result = try #require(try await results.result("c5"))
        #expect(result.status == .notRun)
        #expect(result.cause?.code == "timeout")
        #expect(result.cause?.detail?.hasPrefix("the conference was over before this participant could join") == true)

        await plain.shutdown()
        await host.shutdown()
    }
}

/// A registrar that accepts every REGISTER (200, the Contact and Expires it was sent) and keeps
/// what it got: a UDP socket on 127.0.0.1 read by its own thread (not the cooperative pool).
final class RecordingRegistrar: @unchecked Sendable {
    private let socket: LoopbackSocket
    private let lock = NSLock()
    private var received: [SIPRequest] = []
    private var running = true
    private let done = DispatchSemaphore(value: 0)
    let port: UInt16

    init() throws {
        guard let socket = LoopbackSocket(ipv6: false) else { throw RegistrarError() }
        var bound = sockaddr_in()
        var boundLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket.descriptor, $0, &boundLength) }
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(socket.descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.socket = socket
        port = UInt16(bigEndian: bound.sin_port)
        Thread.detachNewThread { [self] in serve() }
    }

    struct RegistrarError: Error {}

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 65_535)
        while lock.withLock({ running }) {
            var source = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(socket.descriptor, &buffer, buffer.count, 0, $0, &length) }
            }
            guard count > 0, let request = try? SIPRequest(parsing: Array(buffer[0..<count])), request.method == .register else { continue }
            lock.withLock { received.append(request) }
            var headers = SIPHeaders()
            if let contact = request.headers.first(.contact)?.value {
                headers.add(.contact, contact + ";expires=\(request.headers.first(.expires)?.value ?? "300")")
            }
            if let response = try? SIPResponse(answering: request, statusCode: 200, toTag: "reg1", headers: headers) {
                _ = socket.send(response.serialize(), to: UInt16(bigEndian: source.sin_port))
            }
        }
        done.signal()
    }

    var requests: [SIPRequest] { lock.withLock { received } }

    func stop() {
        lock.withLock { running = false }
        done.wait()
    }
}

extension ConferenceExecutorTests {
    @Test func theBridgeAndARoomRegisterWithTheirNameAsContactUser() async throws {
        let registrar = try RecordingRegistrar()
        defer { registrar.stop() }
        let (bridge, results) = try await Self.executor(
            "ag_BR", ports: 27700...27749, rooms: [RoomConfiguration(name: "room7", registrar: "127.0.0.1:\(registrar.port)")])
        let run = "run-reg"
        var (bridgePart, _) = Self.assignments(run, bridgeID: "ag_BR", uri: "sip:conf-\(run)@example.net",
                                               members: Self.members(["ag_A"], offsets: [0]), durationS: 1,
                                               start: Date().addingTimeInterval(1.5))
        bridgePart?.conference?.registrar = "127.0.0.1:\(registrar.port)"
        #expect(await bridge.offer(try #require(bridgePart)).accepted)
        let result = try #require(try await results.result(run, seconds: 30))
        #expect(result.status == .passed)
        #expect(result.bridge?.legs.isEmpty == true)
        #expect(result.evidence?.notes.first == "registered sip:conf-\(run)@example.net at 127.0.0.1:\(registrar.port): registered for 300 s")
        await bridge.shutdown()

        func contactUser(_ request: SIPRequest) -> String? {
            guard let value = request.headers.first(.contact)?.value,
                  let start = value.range(of: "sip:"), let at = value[start.upperBound...].firstIndex(of: "@") else { return nil }
            return String(value[start.upperBound..<at])
        }
        let requests = registrar.requests
        let conference = requests.filter { $0.headers.first(.to)?.value.contains("conf-\(run)@example.net") == true }
        // Registered for the conference, then removed at its end (Expires: 0).
        #expect(conference.map { $0.headers.first(.expires)?.value } == ["300", "0"])
        #expect(conference.map(contactUser) == ["conf-\(run)", "conf-\(run)"])
        // The room: registered at start (AOR at the registrar's host), removed at shutdown.
        let room = requests.filter { $0.headers.first(.to)?.value.contains("sip:room7@127.0.0.1") == true }
        #expect(room.map { $0.headers.first(.expires)?.value } == ["300", "0"])
        #expect(room.first.flatMap(contactUser) == "room7")
    }
}
