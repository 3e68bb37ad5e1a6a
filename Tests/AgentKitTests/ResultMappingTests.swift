@testable import AgentKit
import EarshotWire
import Foundation
import MediaEngine
import SIPCore
import SIPTransaction
import Testing

@Suite("Result mapping (values)")
struct ResultMappingTests {
    @Test func causeCarriesTheEngineCodeSentenceAndStatus() {
        let busy = ResultMapping.cause(of: CallEnding(.busy(status: 486, reason: "Busy Here"), at: .milliseconds(1500)))
        #expect(busy == RunCause(code: "busy", detail: "busy at 00:01, 486 Busy Here", statusCode: 486))
        let expired = ResultMapping.cause(of: CallEnding(.sessionExpired(detail: "refresh UPDATE unanswered"), at: .seconds(1802)))
        #expect(expired == RunCause(code: "session_expired", detail: "session expired at 30:02, refresh UPDATE unanswered"))
        let normal = ResultMapping.cause(of: CallEnding(.normal(by: .remote), at: .seconds(20)))
        #expect(normal == RunCause(code: "normal", detail: "normal hang-up at 00:20, remote BYE"))
        let rejected = ResultMapping.cause(of: CallEnding(.rejected(status: 404, reason: "Not Found")))
        #expect(rejected.code == "rejected" && rejected.statusCode == 404)
    }

    @Test func ladderEntriesKeepTimeDirectionAndFirstLine() throws {
        let invite = try SIPRequest(parsing: Array("""
            INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r
            From: <sip:alice@127.0.0.1>;tag=a\r
            To: <sip:bob@127.0.0.1>\r
            Call-ID: c1\r
            CSeq: 1 INVITE\r
            Max-Forwards: 70\r
            Content-Length: 0\r
            \r

            """.utf8))
        let ringing = try SIPResponse(answering: invite, statusCode: 180, toTag: "b")
        var ladder = SIPLadder(bodyLimit: 64)
        ladder.record(.request(invite), direction: .sent, at: .zero, transport: "UDP", remote: "127.0.0.1:5062")
        ladder.record(.response(ringing), direction: .received, at: .microseconds(12_500), transport: "udp", remote: "127.0.0.1:5062",
                      note: "first provisional")
        let entries = ResultMapping.ladder(ladder)
        #expect(entries.map(\.atMs) == [0, 12.5])
        #expect(entries.map(\.direction) == ["sent", "received"])
        #expect(entries.map(\.summary) == ["INVITE sip:bob@127.0.0.1:5062", "180 Ringing — first provisional"])
        #expect(entries.map(\.peer) == ["udp 127.0.0.1:5062", "udp 127.0.0.1:5062"])
        #expect(entries[0].text.hasPrefix("INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r\n"))
        #expect(entries[1].text.contains("To: <sip:bob@127.0.0.1>;tag=b"))
    }

    @Test func mediaSecondsAreCopiedAndCappedKeepingBothEnds() {
        let seconds = (0..<10).map { MediaReport.Second(second: $0, sent: 50, received: 50 - $0 % 2, lost: $0 % 2, jitterMs: $0 == 0 ? nil : 0.25) }
        let all = ResultMapping.mediaSeconds(seconds)
        #expect(all.count == 10)
        #expect(all[3] == MediaSecond(second: 3, sent: 50, received: 49, lost: 1, jitterMs: 0.25))
        #expect(all[0].jitterMs == nil)
        let capped = ResultMapping.mediaSeconds(seconds, limit: 4)
        #expect(capped.map(\.second) == [0, 1, 8, 9])
    }

    @Test func failureCarriesCauseAndEvidence() {
        let context = RunContext(runID: "r9", agentID: "ag_2", role: .callee, testType: .p2p, peer: "ag_1",
                                 startedAt: Date(timeIntervalSince1970: 10), endedAt: Date(timeIntervalSince1970: 40))
        let result = ResultMapping.failure(context, code: "timeout", detail: "no INVITE for run r9")
        #expect(result.status == .failed)
        #expect(result.cause == RunCause(code: "timeout", detail: "no INVITE for run r9", agentID: "ag_2"))
        #expect(result.evidence?.notes == ["no INVITE for run r9"])
        #expect(result.streams.isEmpty)
        #expect(result.role == .callee && result.testType == .p2p)
        let notRun = ResultMapping.failure(context, status: .notRun, code: "cancelled", detail: "operator")
        #expect(notRun.status == .notRun)
    }

    @Test func contextFromAnAssignmentNamesThePeer() {
        let assignment = Assignment(
            runID: "r1", suite: "mesh", testType: .dtmf, role: .callee, startAt: Date(timeIntervalSince1970: 0),
            deadline: Date(timeIntervalSince1970: 60),
            peers: [Peer(agentID: "ag_me", name: "me", role: .callee), Peer(agentID: "ag_other", name: "other", role: .caller)],
            answer: AnswerSpec(expectedDTMF: "12#", durationS: 10), alwaysEvidence: true)
        let context = RunContext(assignment, agentID: "ag_me")
        #expect(context.peer == "ag_other")
        #expect(context.expectedDTMF == "12#")
        #expect(context.alwaysEvidence)
        #expect(context.testType == .dtmf)
    }
}
