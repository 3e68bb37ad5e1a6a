import EarshotWire
import Foundation
import Testing

enum WireFixture {
    /// Exact in binary (.125), so that round trips compare equal.
    static let date = Date(timeIntervalSince1970: 1_800_000_000.125)

    static func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }
    static func data(_ text: String) -> Data { Data(text.utf8) }

    static let result = RunResult(
        runID: "run-1", agentID: "ag-b", role: .callee, testType: .dtmf, status: .failed,
        cause: RunCause(code: "dtmf_mismatch", detail: "sent 123#, received 12#", agentID: "ag-b"),
        startedAt: date, endedAt: date.addingTimeInterval(10.5),
        call: CallSummary(callID: "abc@host", inviteTo180Ms: 12, inviteTo200Ms: 40.5, answerToFirstRTPMs: 21,
                          plannedDurationS: 10, actualDurationS: 10.02, ending: "normal", sessionIntervalS: 90,
                          refreshMethod: "UPDATE",
                          refreshes: [CallSummary.Refresh(atS: 45, method: "UPDATE", statusCode: 200, outcome: "refreshed")]),
        streams: [StreamMetrics(from: "ag-a", to: "ag-b", codec: "PCMU", ptime: 20, packetsSent: 500, packetsExpected: 500,
                                packetsReceived: 498, packetsLost: 2, duplicates: 1, reordered: 3, lossPct: 0.4,
                                burstRatio: 1.1, maxBurst: 1, jitterMeanMs: 1.5, jitterMaxMs: 4, rttMs: 20, oneWayMs: 10,
                                oneWaySource: "estimated_rtt_half", jbDiscards: 0, effectiveLossPct: 0.4, rFactor: 92.1,
                                mosCQ: 4.38, mosLQ: 4.2,
                                impairments: StreamMetrics.Impairments(iS: 1.4, iD: 0.2, ieEff: 1, a: 0),
                                dscpSent: 46, dscpReceived: 46, audioOK: true, firstPacketMs: 18)],
        dtmf: DTMFSummary(sent: "", received: "12#", receivedDigits: [DTMFDigit(digit: "1", offsetMs: 1040)]),
        evidence: Evidence(ladder: [LadderEntry(atMs: 0, direction: "received", summary: "INVITE", peer: "10.0.0.1:5060",
                                                text: "INVITE sip:b SIP/2.0")],
                           mediaSeconds: [MediaSecond(second: 0, sent: 50, received: 49, lost: 1, jitterMs: 1.2)],
                           notes: ["digit 3 never arrived"]),
        raw: .object(["engine": .string("earshot 0.4"), "ok": .bool(true)]))

    static let assignment = Assignment(
        runID: "run-1", suite: "mesh", testType: .soak, role: .caller, startAt: date, deadline: date.addingTimeInterval(260),
        peers: [Peer(agentID: "ag-b", name: "b", role: .callee, contact: "sip:earshot@10.0.0.2:5060", aor: "sip:b@example.com",
                     toneHz: 1850)],
        call: CallSpec(target: "sip:earshot@10.0.0.2:5060", proxy: "10.0.0.9:5060", transport: "tcp", codec: "PCMA",
                       durationS: 200, dtmf: "123#", sessionExpires: 90,
                       credentials: SIPCredentials(username: "a", password: "secret", aor: "sip:a@example.com")),
        answer: AnswerSpec(expectedDTMF: "123#", durationS: 200),
        register: RegisterSpec(registrar: "10.0.0.9:5060", aor: "sip:a@example.com"),
        options: OptionsSpec(target: "sip:10.0.0.9", timeoutS: 2), alwaysEvidence: true)

    static let agentMessages: [AgentMessage] = [
        .enroll(EnrollRequest(token: "tok", name: "a", site: "hq")),
        .hello(AgentHello(agentID: "ag-a", credential: "cred", name: "a", version: "0.4.0", site: "hq", subnet: "10.0.0.0/24",
                          labels: ["floor": "3"], sipContacts: [SIPContact(uri: "sip:earshot@10.0.0.1:5060", transport: "udp")],
                          capabilities: AgentCapabilities(maxConcurrentCalls: 8, bridge: true),
                          clock: ClockQuality(synchronized: true, maxErrorMs: 3.5), activeRuns: ["run-0"], spooled: 2)),
        .heartbeat(Heartbeat(seq: 42, sentAt: date, activeRuns: ["run-1"], spooled: 1)),
        .accepted(AssignmentAnswer(runID: "run-1", accepted: false, reason: "capacity")),
        .result(result),
    ]

    static let organizerMessages: [OrganizerMessage] = [
        .enrolled(Enrolled(agentID: "ag-a", credential: "cred", site: "hq")),
        .welcome(Welcome(agentID: "ag-a", heartbeatIntervalS: 10, offlineAfterMissed: 3, serverTime: date,
                         acknowledgedRuns: ["run-0"])),
        .heartbeatAck(HeartbeatAck(seq: 42, serverTime: date)),
        .assign(assignment),
        .cancel(RunCancel(runID: "run-1", reason: "cancelled_by_operator")),
        .resultAck(ResultAck(runID: "run-1", agentID: "ag-a", stored: false, reason: "unknown run")),
        .error(WireError(code: .unauthorized, message: "bad credential", fatal: true)),
    ]
}

@Suite struct EnvelopeRoundTripTests {
    typealias F = WireFixture

    @Test(arguments: WireFixture.agentMessages)
    func agentMessageRoundTrips(message: AgentMessage) throws {
        let data = try message.encoded()
        let decoded = try AgentMessage(decoding: data)
        #expect(decoded == message)
        #expect(F.text(data).hasPrefix("{\"body\":{"))
        #expect(F.text(data).hasSuffix("\"type\":\"\(message.type)\",\"v\":1}"))
    }

    @Test(arguments: WireFixture.organizerMessages)
    func organizerMessageRoundTrips(message: OrganizerMessage) throws {
        let data = try message.encoded()
        #expect(try OrganizerMessage(decoding: data) == message)
        #expect(F.text(data).contains("\"type\":\"\(message.type)\""))
    }

    @Test func typeNamesAreTheDocumentedOnes() {
        #expect(F.agentMessages.map(\.type) == ["enroll", "hello", "heartbeat", "accepted", "result"])
        #expect(F.organizerMessages.map(\.type) == ["enrolled", "welcome", "heartbeat_ack", "assign", "cancel", "result_ack", "error"])
    }

    @Test func keysAreSnakeCase() throws {
        let text = F.text(try AgentMessage.heartbeat(Heartbeat(seq: 1, sentAt: F.date, activeRuns: [], spooled: 0)).encoded())
        #expect(text == "{\"body\":{\"active_runs\":[],\"sent_at\":\"2027-01-15T08:00:00.125Z\",\"seq\":1,\"spooled\":0},\"type\":\"heartbeat\",\"v\":1}")
    }

    @Test func resultKeepsEveryFieldIncludingNestedOnes() throws {
        let data = try AgentMessage.result(F.result).encoded()
        guard case .result(let back) = try AgentMessage(decoding: data) else {
            Issue.record("not a result")
            return
        }
        #expect(back.streams[0].impairments == StreamMetrics.Impairments(iS: 1.4, iD: 0.2, ieEff: 1, a: 0))
        #expect(back.call?.refreshes.first?.outcome == "refreshed")
        #expect(back.raw?["engine"] == .string("earshot 0.4"))
        let text = F.text(data)
        for key in ["\"mos_cq\":4.38", "\"one_way_source\":\"estimated_rtt_half\"", "\"ie_eff\":1", "\"media_seconds\"",
                    "\"received_digits\"", "\"invite_to_200_ms\":40.5", "\"status_code\":200"] {
            #expect(text.contains(key), "missing \(key)")
        }
    }
}

@Suite struct EnvelopeErrorTests {
    typealias F = WireFixture

    @Test func newerVersionIsAVersionMismatchListingWhatWeSupport() throws {
        let frame = F.data("{\"v\":2,\"type\":\"heartbeat\",\"body\":{\"seq\":1,\"sent_at\":\"2027-01-15T08:00:00.123Z\",\"active_runs\":[],\"spooled\":0}}")
        #expect(throws: WireDecodingError.versionMismatch(received: 2)) { try AgentMessage(decoding: frame) }
        let error = WireDecodingError.versionMismatch(received: 2)
        #expect(error.wireError.code == .versionMismatch)
        #expect(error.wireError.supportedVersions == [1])
        #expect(error.wireError.fatal)
        #expect(error.description == "protocol version 2 is not supported (this side speaks 1...1)")
        // The error frame itself encodes the supported versions.
        let text = F.text(try OrganizerMessage.error(error.wireError).encoded())
        #expect(text.contains("\"supported_versions\":[1]"))
        #expect(text.contains("\"code\":\"version_mismatch\""))
    }

    @Test func olderVersionToTheAgentIsAMismatchToo() {
        let frame = F.data("{\"v\":0,\"type\":\"heartbeat_ack\",\"body\":{\"seq\":1,\"server_time\":\"2027-01-15T08:00:00Z\"}}")
        #expect(throws: WireDecodingError.versionMismatch(received: 0)) { try OrganizerMessage(decoding: frame) }
    }

    @Test func errorFrameDecodesWhateverItsVersion() throws {
        let frame = F.data("{\"v\":7,\"type\":\"error\",\"body\":{\"code\":\"version_mismatch\",\"message\":\"speak 7\",\"fatal\":true,\"supported_versions\":[7,8]}}")
        let message = try OrganizerMessage(decoding: frame)
        #expect(message == .error(WireError(code: .versionMismatch, message: "speak 7", fatal: true, supportedVersions: [7, 8])))
    }

    @Test func unknownTypeIsNamed() {
        let frame = F.data("{\"v\":1,\"type\":\"bogus\",\"body\":{}}")
        #expect(throws: WireDecodingError.unknownType("bogus")) { try AgentMessage(decoding: frame) }
        #expect(throws: WireDecodingError.unknownType("bogus")) { try OrganizerMessage(decoding: frame) }
        let wire = WireDecodingError.unknownType("bogus").wireError
        #expect(wire.code == .badMessage)
        #expect(!wire.fatal)
        #expect(wire.message == "unknown message type \"bogus\"")
    }

    @Test func agentTypeSentToTheAgentIsUnknown() {
        let frame = F.data("{\"v\":1,\"type\":\"hello\",\"body\":{}}")
        #expect(throws: WireDecodingError.unknownType("hello")) { try OrganizerMessage(decoding: frame) }
    }

    @Test func malformedBodyNamesTheBadField() {
        let wrongType = F.data("{\"v\":1,\"type\":\"heartbeat\",\"body\":{\"seq\":\"x\",\"sent_at\":\"2027-01-15T08:00:00Z\",\"active_runs\":[],\"spooled\":0}}")
        #expect(malformed(wrongType)?.hasPrefix("heartbeat: body.seq: expected") == true)
        let missing = F.data("{\"v\":1,\"type\":\"accepted\",\"body\":{\"run_id\":\"r\"}}")
        #expect(malformed(missing) == "accepted: body.accepted: missing")
        let badDate = F.data("{\"v\":1,\"type\":\"heartbeat\",\"body\":{\"seq\":1,\"sent_at\":\"yesterday\",\"active_runs\":[],\"spooled\":0}}")
        #expect(malformed(badDate) == "heartbeat: body.sent_at: not an ISO 8601 date: yesterday")
        let nested = F.data("{\"v\":1,\"type\":\"hello\",\"body\":{\"agent_id\":\"a\",\"credential\":\"c\",\"name\":\"n\",\"version\":\"1\",\"site\":\"s\",\"labels\":{},\"sip_contacts\":[{\"uri\":\"sip:x\"}],\"capabilities\":{\"codecs\":[],\"transports\":[],\"max_concurrent_calls\":1,\"tests\":[],\"bridge\":false},\"clock\":{},\"active_runs\":[],\"spooled\":0}}")
        #expect(malformed(nested) == "hello: body.sip_contacts.[0].transport: missing")
        let wire = WireDecodingError.malformed("x").wireError
        #expect(wire.code == .badMessage)
        #expect(wire.message == "malformed message: x")
    }

    @Test func notAnEnvelope() {
        #expect(malformed(F.data("not json"))?.hasPrefix("not an envelope {\"v\", \"type\", \"body\"}: ") == true)
        #expect(malformed(F.data("{\"type\":\"hello\",\"body\":{}}")) == "not an envelope {\"v\", \"type\", \"body\"}: v: missing")
        #expect(malformed(F.data("{\"v\":1,\"type\":\"heartbeat\"}")) == "heartbeat: body: missing")
    }

    @Test func oversizeFrameIsRefusedBeforeParsing() {
        let frame = Data(repeating: UInt8(ascii: " "), count: WireProtocol.maximumFrameBytes + 1)
        #expect(throws: WireDecodingError.tooLarge(WireProtocol.maximumFrameBytes + 1)) { try AgentMessage(decoding: frame) }
        #expect(throws: WireDecodingError.tooLarge(WireProtocol.maximumFrameBytes + 1)) { try OrganizerMessage(decoding: frame) }
        let wire = WireDecodingError.tooLarge(5_000_000).wireError
        #expect(wire.code == .frameTooLarge)
        #expect(wire.fatal)
        #expect(wire.message == "frame of 5000000 bytes exceeds 4194304")
    }

    func malformed(_ data: Data) -> String? {
        do {
            _ = try AgentMessage(decoding: data)
        } catch {
            if case .malformed(let why) = error { return why }
            return "other error: \(error)"
        }
        return nil
    }
}

@Suite struct WireJSONTests {
    typealias F = WireFixture

    @Test func datesAreISO8601WithMillisecondsInUTC() throws {
        #expect(WireJSON.formatDate(F.date) == "2027-01-15T08:00:00.125Z")
        #expect(WireJSON.formatDate(Date(timeIntervalSince1970: 1_800_000_000)) == "2027-01-15T08:00:00.000Z")
        let data = try WireJSON.encoder().encode(["at": F.date])
        #expect(F.text(data) == "{\"at\":\"2027-01-15T08:00:00.125Z\"}")
    }

    @Test func millisecondsAreRoundedNotTruncated() throws {
        // 1_800_000_000.123 is 1_800_000_000.12299990654 in binary: truncation said .122.
        #expect(WireJSON.formatDate(Date(timeIntervalSince1970: 1_800_000_000.123)) == "2027-01-15T08:00:00.123Z")
        #expect(WireJSON.formatDate(Date(timeIntervalSince1970: 1_800_000_000.9996)) == "2027-01-15T08:00:01.000Z")
        #expect(WireJSON.formatDate(Date(timeIntervalSince1970: 1_800_000_000.0004)) == "2027-01-15T08:00:00.000Z")
        // Formatting what was parsed gives the same text back.
        for text in ["2027-01-15T08:00:00.123Z", "2027-01-15T08:00:00.999Z", "2027-01-15T08:00:00.001Z", "2026-12-06T21:10:46.457Z"] {
            #expect(WireJSON.parseDate(text).map(WireJSON.formatDate) == text)
        }
    }

    @Test func datesParseWithAndWithoutFractions() throws {
        let millis = try #require(WireJSON.parseDate("2027-01-15T08:00:00.123Z"))
        #expect(abs(millis.timeIntervalSince1970 - 1_800_000_000.123) < 0.0005)
        #expect(WireJSON.parseDate("2027-01-15T08:00:00Z") == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(WireJSON.parseDate("15/01/2027") == nil)
        let decoded = try WireJSON.decoder().decode([String: Date].self, from: F.data("{\"at\":\"2027-01-15T08:00:00.123Z\"}"))
        #expect(decoded["at"].map { abs($0.timeIntervalSince1970 - 1_800_000_000.123) < 0.0005 } == true)
    }

    @Test func jsonValueRoundTripsEveryKind() throws {
        let value = JSONValue.object([
            "null": .null, "yes": .bool(true), "no": .bool(false), "pi": .number(3.25), "zero": .number(0), "one": .number(1),
            "text": .string("héllo"), "list": .array([.number(1), .bool(true), .string("1"), .null, .array([]), .object([:])]),
            "nested": .object(["deep": .object(["x": .number(-2.5)])]),
        ])
        let data = try WireJSON.encoder().encode(value)
        let back = try WireJSON.decoder().decode(JSONValue.self, from: data)
        #expect(back == value)
        #expect(back["nested"]?["deep"]?["x"] == .number(-2.5))
        #expect(back["missing"] == nil)
        #expect(JSONValue.string("x")["key"] == nil)
    }

    @Test func jsonValueKeepsBooleansAndNumbersApart() throws {
        let back = try WireJSON.decoder().decode(JSONValue.self, from: F.data("[1, true, 0, false, 1.5]"))
        #expect(back == .array([.number(1), .bool(true), .number(0), .bool(false), .number(1.5)]))
    }
}
