import Foundation
import SIPCore
import SIPTransaction
import Testing

@Suite("Call ending causes")
struct CallEndingTests {
    func json(_ ending: CallEnding) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(ending), as: UTF8.self)
    }

    @Test(arguments: [
        (CallEnding(.normal(by: .local), at: .seconds(20)), #"{"at_ms":20000,"by":"local","cause":"normal"}"#,
         "normal hang-up at 00:20, local BYE"),
        (CallEnding(.normal(by: .remote), at: .milliseconds(61_500)), #"{"at_ms":61500,"by":"remote","cause":"normal"}"#,
         "normal hang-up at 01:01, remote BYE"),
        (CallEnding(.rejected(status: 404, reason: "Not Found"), at: .milliseconds(120)),
         #"{"at_ms":120,"cause":"rejected","reason":"Not Found","status":404}"#, "rejected at 00:00, 404 Not Found"),
        (CallEnding(.busy(status: 486, reason: "Busy Here")), #"{"cause":"busy","reason":"Busy Here","status":486}"#,
         "busy, 486 Busy Here"),
        (CallEnding(.noAnswer(detail: "487 Request Terminated after CANCEL"), at: .seconds(30)),
         #"{"at_ms":30000,"cause":"no_answer","detail":"487 Request Terminated after CANCEL"}"#,
         "no answer at 00:30, 487 Request Terminated after CANCEL"),
        (CallEnding(.cancelled, at: .seconds(3)), #"{"at_ms":3000,"cause":"cancelled"}"#, "cancelled at 00:03"),
        (CallEnding(.sessionExpired(detail: "refresh UPDATE unanswered"), at: .seconds(182)),
         #"{"at_ms":182000,"cause":"session_expired","detail":"refresh UPDATE unanswered"}"#,
         "session expired at 03:02, refresh UPDATE unanswered"),
        (CallEnding(.transportError(detail: "connection refused by 127.0.0.1:5061")),
         #"{"cause":"transport_error","detail":"connection refused by 127.0.0.1:5061"}"#,
         "transport error, connection refused by 127.0.0.1:5061"),
        (CallEnding(.transactionTimeout(method: "INVITE"), at: .seconds(32)),
         #"{"at_ms":32000,"cause":"transaction_timeout","method":"INVITE"}"#, "transaction timeout at 00:32, INVITE unanswered"),
        (CallEnding(.ackTimeout, at: .seconds(32)), #"{"at_ms":32000,"cause":"ack_timeout"}"#,
         "ACK timeout at 00:32, no ACK for the 2xx"),
        (CallEnding(.mediaTimeout(detail: nil), at: .seconds(3725)), #"{"at_ms":3725000,"cause":"media_timeout"}"#,
         "media timeout at 1:02:05"),
        (CallEnding(.authenticationFailed(status: 401, reason: "Unauthorized")),
         #"{"cause":"authentication_failed","reason":"Unauthorized","status":401}"#, "authentication failed, 401 Unauthorized"),
    ])
    func encodesStablyAndDescribes(ending: CallEnding, expectedJSON: String, expectedDescription: String) throws {
        #expect(try json(ending) == expectedJSON)
        #expect(ending.description == expectedDescription)
        #expect(try JSONDecoder().decode(CallEnding.self, from: Data(expectedJSON.utf8)) == ending)
    }

    @Test func unknownCauseDoesNotDecode() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(CallEnding.self, from: Data(#"{"cause":"gremlins"}"#.utf8))
        }
    }

    @Test func finalResponsesAreClassified() throws {
        typealias Cause = CallEnding.Cause
        #expect(Cause.finalResponse(status: 486, reason: "Busy Here") == .busy(status: 486, reason: "Busy Here"))
        #expect(Cause.finalResponse(status: 600, reason: "Busy Everywhere").code == "busy")
        #expect(Cause.finalResponse(status: 487, reason: "Request Terminated", cancelReason: .noAnswer)
                == .noAnswer(detail: "487 Request Terminated after CANCEL"))
        #expect(Cause.finalResponse(status: 487, reason: "Request Terminated", cancelReason: .local) == .cancelled)
        #expect(Cause.finalResponse(status: 487, reason: "Request Terminated").code == "rejected")
        #expect(Cause.finalResponse(status: 407, reason: "Proxy Authentication Required")
                == .authenticationFailed(status: 407, reason: "Proxy Authentication Required"))
        #expect(Cause.finalResponse(status: 408, reason: "Request Timeout") == .noAnswer(detail: "408 Request Timeout"))
        let notFound = try Fixtures.inviteResponse("404 Not Found")
        #expect(Cause.finalResponse(notFound) == .rejected(status: 404, reason: "Not Found"))
    }

    @Test func clockFormat() {
        #expect(CallEnding.clock(.zero) == "00:00")
        #expect(CallEnding.clock(.milliseconds(59_999)) == "00:59")
        #expect(CallEnding.clock(.seconds(1802)) == "30:02")
        #expect(CallEnding.clock(.seconds(36_000)) == "10:00:00")
    }
}

@Suite("SIP ladder evidence")
struct SIPLadderTests {
    func callLadder(bodyLimit: Int = 512) throws -> SIPLadder {
        var ladder = SIPLadder(bodyLimit: bodyLimit)
        let invite = try Fixtures.invite()
        ladder.record(.request(invite), direction: .sent, at: .milliseconds(12), transport: "UDP", remote: "127.0.0.1:5060")
        ladder.record(.response(try Fixtures.inviteResponse("180 Ringing")), direction: .received, at: .milliseconds(40),
                      transport: "udp", remote: "127.0.0.1:5060")
        ladder.record(.response(try Fixtures.inviteResponse("200 OK")), direction: .received, at: .milliseconds(1250),
                      transport: "udp", remote: "127.0.0.1:5060")
        ladder.record(.request(try SIPRequest.cancel(invite)), direction: .sent, at: .seconds(182), transport: "udp",
                      remote: "[::1]:5060", note: "refresh UPDATE unanswered")
        return ladder
    }

    @Test func rendersOneLinePerMessage() throws {
        #expect(try callLadder().render() == """
            +0.012s → INVITE sip:bob@example.net (udp 127.0.0.1:5060)
            +0.040s ← 180 Ringing (udp 127.0.0.1:5060)
            +1.250s ← 200 OK (udp 127.0.0.1:5060)
            +182.000s → CANCEL sip:bob@example.net (udp [::1]:5060) — refresh UPDATE unanswered
            """)
    }

    @Test func bodiesAreCutToTheLimit() throws {
        let full = try callLadder()
        let invite = full.entries[0]
        #expect(invite.bodyBytes == Fixtures.sdp.utf8.count)
        #expect(!invite.bodyTruncated)
        #expect(invite.text.hasSuffix("\r\n\r\n" + Fixtures.sdp))
        #expect(invite.firstLine == "INVITE sip:bob@example.net SIP/2.0")
        let cut = try callLadder(bodyLimit: 10)
        #expect(cut.entries[0].bodyTruncated)
        #expect(cut.entries[0].text.hasSuffix("Content-Length: \(Fixtures.sdp.utf8.count)\r\n\r\nv=0\r\no=ali"))
        #expect(cut.entries[1].bodyBytes == 0 && !cut.entries[1].bodyTruncated)
    }

    @Test func cutsNeverSplitUTF8() throws {
        var ladder = SIPLadder(bodyLimit: 2)
        var options = try Fixtures.options()
        options.body = Array("héllo".utf8) // h, then é as two bytes
        ladder.record(.request(options), direction: .received, at: .zero, transport: "tcp", remote: "127.0.0.1:40000")
        #expect(ladder.entries[0].text.hasSuffix("\r\n\r\nh"))
        #expect(ladder.entries[0].bodyTruncated)
    }

    @Test func codableWithStableKeys() throws {
        let ladder = try callLadder()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(ladder)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["body_limit"] as? Int == 512)
        let entries = try #require(object["entries"] as? [[String: Any]])
        #expect(entries.count == 4)
        #expect(Set(entries[3].keys) == ["offset_us", "direction", "transport", "remote", "first_line", "text", "body_bytes",
                                         "body_truncated", "note"])
        #expect(entries[0]["offset_us"] as? Int == 12_000)
        #expect(entries[0]["direction"] as? String == "sent")
        #expect(entries[1]["first_line"] as? String == "SIP/2.0 180 Ringing")
        #expect(try JSONDecoder().decode(SIPLadder.self, from: data) == ladder)
    }
}
