import ArgumentParser
import EarshotWire
import Foundation
import Testing

@testable import EarshotCLI

/// `earshot webhooks verify`: header parsing, and the signature check against fixed vectors
/// (computed with Python's hmac/hashlib/base64: HMAC-SHA256 over "id.timestamp.body", key =
/// base64-decoded secret after `whsec_`; Standard Webhooks "Signature scheme").
@Suite struct WebhookVerifyTests {
    /// The Standard Webhooks specification's example (checked with python3 hmac).
    enum Spec {
        static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
        static let timestamp = 1_614_265_330
        static let body = Array(#"{"test": 2432232314}"#.utf8)
        static let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    }

    /// Our own: key bytes 0…23, an earshot.test body (python3: hmac.new(bytes(range(24)), b"msg_2b7cTe1Gx0aQ.1796591400." + body, sha256)).
    enum Own {
        static let secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
        static let id = "msg_2b7cTe1Gx0aQ"
        static let timestamp = 1_796_591_400
        static let body = #"{"type":"earshot.test","timestamp":"2026-12-06T21:10:00.000Z","data":{"message":"a test delivery from earshot"}}"#
        static let signature = "v1,Y6jM+gLTEZx/Wkgl9t/4nRqKoGZ6ii7VaAY+Fv/Ti1g="
    }

    static func at(_ unix: Int) -> Date { Date(timeIntervalSince1970: Double(unix)) }

    // MARK: headers

    @Test func headersFromARawRequestHead() {
        let head = "POST /hooks/earshot HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nContent-Type: application/json\r\n"
            + "Webhook-Id: msg_1\r\nWEBHOOK-TIMESTAMP:1614265330\r\nwebhook-signature: v1,abc=\r\n"
            + "webhook-signature: v1,def=\r\nX-Folded: one\r\n two\r\n\r\n{\"not\": \"a header: no\"}"
        #expect(WebhookVerify.headers(head) == [
            "host": "127.0.0.1:9000", "content-type": "application/json", "webhook-id": "msg_1",
            "webhook-timestamp": "1614265330", "webhook-signature": "v1,abc= v1,def=", "x-folded": "one two",
        ])
        // Bare lines, LF only, leading blank lines.
        #expect(WebhookVerify.headers("\nwebhook-id: msg_2\nwebhook-timestamp: 5\n") == ["webhook-id": "msg_2", "webhook-timestamp": "5"])
        // A request line with an absolute URL is not a header.
        #expect(WebhookVerify.headers("POST http://x:1/h HTTP/1.1\nwebhook-id: m\n") == ["webhook-id": "m"])
        #expect(WebhookVerify.isRequestLine("POST /h HTTP/1.1"))
        #expect(!WebhookVerify.isRequestLine("Webhook-Id: msg_1"))
    }

    @Test func missingHeadersAreReasonsNotCrashes() {
        let result = WebhookVerify.check(secret: Spec.secret, id: Spec.id, timestamp: "1614265330", signature: nil, body: Spec.body,
                                         now: Self.at(Spec.timestamp), tolerance: 300)
        #expect(result == WebhookVerify.Result(valid: false, reason: "no webhook-signature header", id: Spec.id, timestamp: 1_614_265_330))
        let words = WebhookVerify.check(secret: Spec.secret, id: Spec.id, timestamp: "yesterday", signature: Spec.signature,
                                        body: Spec.body, now: Self.at(Spec.timestamp), tolerance: 300)
        #expect(words == WebhookVerify.Result(valid: false, reason: "webhook-timestamp is not Unix seconds: yesterday", id: Spec.id))
        #expect(WebhookVerify.text(words, now: Self.at(Spec.timestamp)) == "invalid: webhook-timestamp is not Unix seconds: yesterday")
    }

    @Test func verifyNeedsHeadersOrAllThreeFlags() throws {
        let partial = try AlertsConsoleTests.parse(["webhooks", "verify", "--secret", Spec.secret, "--id", Spec.id, "--body", "-"],
                                                   as: WebhooksCommand.Verify.self)
        AlertsConsoleTests.usage("give --headers FILE, or all of --id, --timestamp and --signature") {
            _ = try partial.message(readFile: { _ in Data() })
        }
        let flags = try AlertsConsoleTests.parse(["webhooks", "verify", "--secret", Spec.secret, "--headers", "h.txt", "--id", "msg_flag"],
                                                 as: WebhooksCommand.Verify.self)
        let message = try flags.message(readFile: { path in
            #expect(path == "h.txt")
            return Data("webhook-id: msg_file\nwebhook-timestamp: 7\nwebhook-signature: v1,x\n".utf8)
        })
        #expect(message.id == "msg_flag")
        #expect(message.timestamp == "7")
        #expect(message.signature == "v1,x")
        #expect(throws: (any Error).self) { try Earshot.parseAsRoot(["webhooks", "verify", "--headers", "h.txt"]) }
    }

    // MARK: signatures (need OrganizerCore's StandardWebhooks)

    static func verify(_ arguments: [String], files: [String: [UInt8]], clock: Date) throws -> WebhookVerify.Result {
        let command = try AlertsConsoleTests.parse(["webhooks", "verify"] + arguments, as: WebhooksCommand.Verify.self)
        return try command.result(clock: clock, readFile: { path in
            guard let bytes = files[path] else { throw CommandFailure.usage("cannot read \(path)") }
            return Data(bytes)
        })
    }

    static var specHeaders: [UInt8] {
        Array("POST /webhook HTTP/1.1\r\nwebhook-id: \(Spec.id)\r\nwebhook-timestamp: \(Spec.timestamp)\r\nwebhook-signature: \(Spec.signature)\r\n\r\n".utf8)
    }

    @Test func theSpecificationsVectorIsValid() throws {
        let result = try Self.verify(["--secret", Spec.secret, "--headers", "h", "--body", "b", "--now", "1614265332"],
                                     files: ["h": Self.specHeaders, "b": Spec.body], clock: Self.at(0))
        #expect(result == WebhookVerify.Result(valid: true, reason: "signature v1 matches", id: Spec.id, timestamp: Spec.timestamp))
        #expect(WebhookVerify.text(result, now: Self.at(Spec.timestamp + 2))
            == "valid: signature v1 matches (webhook-id msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp 1614265330 = 2s ago)")
        let json = try ConsoleJSON.string(result)
        #expect(json == """
            {
              "id" : "msg_p5jXN8AQM9LWM0D4loKWxJek",
              "reason" : "signature v1 matches",
              "timestamp" : 1614265330,
              "valid" : true
            }
            """)
    }

    @Test func ourVectorWithFlagsAndARotatedSignatureList() throws {
        let files = ["b": Array(Own.body.utf8)]
        let flags = ["--secret", Own.secret, "--id", Own.id, "--timestamp", String(Own.timestamp), "--body", "b"]
        let result = try Self.verify(flags + ["--signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \(Own.signature)"],
                                     files: files, clock: Self.at(Own.timestamp))
        #expect(result.valid)
        // One byte more (a trailing newline from an editor) breaks it.
        let newline = try Self.verify(flags + ["--signature", Own.signature], files: ["b": Array((Own.body + "\n").utf8)],
                                      clock: Self.at(Own.timestamp))
        #expect(!newline.valid)
        #expect(newline.reason == "no v1 signature matches (a different secret, or the body, id or timestamp was changed on the way)")
    }

    @Test func aTamperedBodyAWrongSecretAndAnOldTimestampAreInvalid() throws {
        var tampered = Spec.body
        tampered[tampered.count - 2] = UInt8(ascii: "5")
        let bad = try Self.verify(["--secret", Spec.secret, "--headers", "h", "--body", "b", "--now", String(Spec.timestamp)],
                                  files: ["h": Self.specHeaders, "b": tampered], clock: Self.at(0))
        #expect(bad == WebhookVerify.Result(
            valid: false, reason: "no v1 signature matches (a different secret, or the body, id or timestamp was changed on the way)",
            id: Spec.id, timestamp: Spec.timestamp))
        let otherSecret = try Self.verify(["--secret", Own.secret, "--headers", "h", "--body", "b", "--now", String(Spec.timestamp)],
                                          files: ["h": Self.specHeaders, "b": Spec.body], clock: Self.at(0))
        #expect(!otherSecret.valid)
        // Without --now the clock is today's: the 2021 capture is far outside 300 s.
        let old = try Self.verify(["--secret", Spec.secret, "--headers", "h", "--body", "b"],
                                  files: ["h": Self.specHeaders, "b": Spec.body], clock: Self.at(Spec.timestamp + 3_600))
        #expect(old == WebhookVerify.Result(
            valid: false,
            reason: "timestamp 1614265330 is 1h ago, outside the tolerance of 300 s (an old capture? --now 1614265330)",
            id: Spec.id, timestamp: Spec.timestamp))
        // A wider tolerance accepts it.
        let tolerant = try Self.verify(["--secret", Spec.secret, "--headers", "h", "--body", "b", "--tolerance", "3600"],
                                       files: ["h": Self.specHeaders, "b": Spec.body], clock: Self.at(Spec.timestamp + 3_600))
        #expect(tolerant.valid)
    }

    @Test func aBadSecretIsAUsageError() throws {
        do {
            _ = try Self.verify(["--secret", "whsec_!!!", "--headers", "h", "--body", "b"],
                                files: ["h": Self.specHeaders, "b": Spec.body], clock: Self.at(Spec.timestamp))
            Issue.record("accepted a bad secret")
        } catch let failure as CommandFailure {
            #expect(failure.code == 2)
            #expect(failure.message.hasPrefix("--secret: "))
        }
    }

    /// The binary: exit 0 valid, 1 invalid, 2 usage; the body read from a file byte for byte.
    @Test func binaryExitCodes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let headers = directory.appendingPathComponent("headers.txt"), body = directory.appendingPathComponent("body.json")
        try Data(Self.specHeaders).write(to: headers)
        try Data(Spec.body).write(to: body)
        let common = ["webhooks", "verify", "--secret", Spec.secret, "--headers", headers.path, "--body", body.path]
        let valid = try await ConsoleProcess.runAsync(common + ["--now", "1614265332"])
        #expect(valid.status == 0, "\(valid.stderr)")
        #expect(valid.stdout == "valid: signature v1 matches (webhook-id msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp 1614265330 = 2s ago)\n")
        let old = try await ConsoleProcess.runAsync(common + ["--format", "json"])
        #expect(old.status == 1)
        let result = try WireJSON.decoder().decode(WebhookVerify.Result.self, from: Data(old.stdout.utf8))
        #expect(!result.valid)
        #expect(result.reason.hasPrefix("timestamp 1614265330 is "))
        let usage = try await ConsoleProcess.runAsync(["webhooks", "verify", "--secret", Spec.secret, "--body", body.path])
        #expect(usage.status == 2)
        #expect(usage.stderr == "error: give --headers FILE, or all of --id, --timestamp and --signature\n")
    }
}
