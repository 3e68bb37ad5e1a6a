import EarshotWire
import Foundation
import OrganizerCore
import Testing

/// StandardWebhooks, WebhookRenderer and DeliveryPolicy (`swift test --filter WebhooksTests`).
@Suite enum WebhooksTests {}

extension WebhooksTests {
    /// A decoded JSON document, to compare bodies by value rather than by bytes.
    indirect enum JSON: Decodable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
        ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByBooleanLiteral {
        case null, bool(Bool), number(Double), string(String), array([JSON]), object([String: JSON])

        init(stringLiteral v: String) { self = .string(v) }
        init(integerLiteral v: Int) { self = .number(Double(v)) }
        init(booleanLiteral v: Bool) { self = .bool(v) }
        init(arrayLiteral e: JSON...) { self = .array(e) }
        init(dictionaryLiteral e: (String, JSON)...) { self = .object(Dictionary(uniqueKeysWithValues: e)) }

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([JSON].self) { self = .array(a) }
            else { self = .object(try c.decode([String: JSON].self)) }
        }

        init(_ bytes: [UInt8]) throws { self = try JSONDecoder().decode(JSON.self, from: Data(bytes)) }

        subscript(_ key: String) -> JSON? { if case .object(let o) = self { o[key] } else { nil } }
        subscript(_ i: Int) -> JSON? { if case .array(let a) = self, a.indices.contains(i) { a[i] } else { nil } }
        var count: Int? { if case .array(let a) = self { a.count } else { nil } }
    }

    enum Fixture {
        /// The Standard Webhooks test vector: standard-webhooks/standard-webhooks,
        /// libraries/python/tests/test_webhooks.py `test_sign_function` (also svix's). Checked with
        /// python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(base64.b64decode(
        ///   "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}",
        ///   hashlib.sha256).digest()).decode())'
        static let specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        static let specID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
        static let specTimestamp = 1_614_265_330
        static let specBody = Array(#"{"test": 2432232314}"#.utf8)
        static let specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

        /// `whsec_` + base64 of the bytes 0…23.
        static let secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"

        static let startedAt = Date(timeIntervalSince1970: 1_795_999_000)  // 2026-11-30T00:36:40.000Z
        static let t0 = Date(timeIntervalSince1970: 1_796_000_000.25)  // 2026-11-30T00:53:20.250Z
        static let renderer = WebhookRenderer(baseURL: "http://127.0.0.1:8760/")

        static let scope = AlertScope.pair("alice", "bob", callerSite: "hq", calleeSite: "branch")
        static let measurement = AlertMeasurement(metric: "mos_cq", value: 3.21, threshold: 3.6, direction: "alice→bob",
                                                  detail: "MOS-CQ 3.21 < 3.60 (alice→bob)", runID: "run_9", at: t0)
        static let summary = "MOS-CQ 3.21 < 3.60 on alice→bob (2 runs in a row)"

        static func alert(_ state: AlertState = .firing, resolvedAt: Date? = nil) -> AlertInfo {
            AlertInfo(id: "al_1", rule: .mosLow, scope: scope, severity: .warning, state: state, startedAt: startedAt,
                      updatedAt: t0, resolvedAt: resolvedAt, summary: summary, measurement: measurement, transitions: 1)
        }

        static func transition(from: AlertState?, to: AlertState, summary: String = summary) -> AlertTransitionInfo {
            AlertTransitionInfo(id: "tr_1", alertID: "al_1", rule: .mosLow, scope: scope, severity: .warning, from: from,
                                to: to, at: t0, summary: summary, measurement: measurement)
        }

        static func render(from: AlertState?, to: AlertState, _ format: WebhookFormat) throws -> (RenderedPayload, JSON) {
            let p = renderer.render(transition(from: from, to: to), alert: alert(to), format: format, endpointName: "ops")
            return (p, try JSON(p.body))
        }

        /// The labels of the fixture alert; fingerprints by python3 (FNV-1a 64 as prometheus/common):
        ///   def fp(ls):
        ///     h=14695981039346656037
        ///     for k in sorted(ls):
        ///       for b in k.encode()+b'\xff'+ls[k].encode()+b'\xff': h^=b; h=(h*1099511628211)&(2**64-1)
        ///     return '%016x'%h
        static let labels: JSON = [
            "alertname": "mos_low", "severity": "warning", "scope": "pair", "source": "earshot",
            "caller": "alice", "callee": "bob", "caller_site": "hq", "callee_site": "branch",
        ]
        static let fingerprint = "ac5af58b4c2217a8"
        static let flappingLabels: JSON = [
            "alertname": "mos_low", "severity": "warning", "scope": "pair", "source": "earshot",
            "caller": "alice", "callee": "bob", "caller_site": "hq", "callee_site": "branch", "flapping": "true",
        ]
        static let flappingFingerprint = "6ab5cb6773aca003"
        static let annotations: JSON = [
            "summary": "MOS-CQ 3.21 < 3.60 on alice→bob (2 runs in a row)",
            "description": "MOS-CQ 3.21 < 3.60 (alice→bob)",
            "run_url": "http://127.0.0.1:8760/v1/runs/run_9",
        ]
    }

    @Suite struct Signing {
        typealias F = Fixture

        @Test func signsTheSpecVector() throws {
            #expect(try StandardWebhooks.signature(secret: F.specSecret, id: F.specID, timestamp: F.specTimestamp,
                                                   body: F.specBody) == F.specSignature)
        }

        @Test func verifiesTheSpecVector() {
            let now = Date(timeIntervalSince1970: Double(F.specTimestamp) + 10)
            #expect(StandardWebhooks.verify(secret: F.specSecret, id: F.specID, timestamp: "1614265330",
                                            signatureHeader: F.specSignature, body: F.specBody, now: now) == .valid)
        }

        /// python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(bytes(range(24)),
        ///   b"msg_earshot1.1796000000.{\"type\":\"earshot.test\"}",hashlib.sha256).digest()).decode())'
        /// python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(bytes(range(24)),
        ///   b"msg_2.1796000001."+"{\"summary\":\"MOS-CQ 3.21 < 3.60 on alice→bob\"}".encode(),hashlib.sha256).digest()).decode())'
        @Test func signsVectorsComputedWithPython() throws {
            #expect(try StandardWebhooks.signature(secret: F.secret, id: "msg_earshot1", timestamp: 1_796_000_000,
                                                   body: Array(#"{"type":"earshot.test"}"#.utf8))
                    == "v1,Lf+uQZhCaWb+42hpwzWtTBnI/o+LdLyxygX+wQTG5CQ=")
            #expect(try StandardWebhooks.signature(secret: F.secret, id: "msg_2", timestamp: 1_796_000_001,
                                                   body: Array(#"{"summary":"MOS-CQ 3.21 < 3.60 on alice→bob"}"#.utf8))
                    == "v1,Bnl39hVNPsLIEXWd05bfnWRHZM1D20u5vliq59fZEqQ=")
        }

        @Test func secretsRoundTrip() throws {
            let secret = StandardWebhooks.secret(randomBytes: Array(0..<24))
            #expect(secret == F.secret)
            #expect(try StandardWebhooks.key(fromSecret: secret) == Array(0..<24))
            // Unpadded base64 (here 20 bytes, "…ExM" without "=") is accepted, as the reference libraries pad it.
            #expect(try StandardWebhooks.key(fromSecret: "whsec_AAECAwQFBgcICQoLDA0ODxAREhM") == Array(0..<20))
            #expect(try StandardWebhooks.key(fromSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n").count == 24)
        }

        @Test func badSecretsAreRefusedWithAReason() {
            #expect(throws: WebhookSignatureError.self) { try StandardWebhooks.key(fromSecret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") }
            #expect(throws: WebhookSignatureError.self) { try StandardWebhooks.key(fromSecret: "whsec_not base64!") }
            #expect(throws: WebhookSignatureError.self) { try StandardWebhooks.key(fromSecret: "whsec_") }
            // "short" = 5 bytes: under the 16-byte minimum.
            #expect(throws: WebhookSignatureError("the secret's key is 5 bytes; at least 16 are needed (24 recommended)")) {
                try StandardWebhooks.key(fromSecret: "whsec_c2hvcnQ=")
            }
            #expect(throws: WebhookSignatureError.self) {
                try StandardWebhooks.signature(secret: "whsec_c2hvcnQ=", id: "msg_1", timestamp: 1, body: [])
            }
        }

        @Test func idsWithAFullStopCannotBeSignedOrVerified() {
            #expect(throws: WebhookSignatureError.self) {
                try StandardWebhooks.signature(secret: F.secret, id: "msg.1", timestamp: 1, body: [])
            }
            #expect(throws: WebhookSignatureError.self) {
                try StandardWebhooks.signature(secret: F.secret, id: "", timestamp: 1, body: [])
            }
            let v = StandardWebhooks.verify(secret: F.specSecret, id: "msg.1", timestamp: "1614265330",
                                            signatureHeader: F.specSignature, body: F.specBody,
                                            now: Date(timeIntervalSince1970: 1_614_265_330))
            guard case .malformed = v else { Issue.record("expected malformed, got \(v)"); return }
        }

        @Test func oneMatchingV1AmongSeveralIsEnough() {
            // Rotation: an old secret's signature, an asymmetric v1a one and an unknown version, then ours.
            let header = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5Bdq== "
                + "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= \(F.specSignature)"
            #expect(StandardWebhooks.verify(secret: F.specSecret, id: F.specID, timestamp: "1614265330", signatureHeader: header,
                                            body: F.specBody, now: Date(timeIntervalSince1970: 1_614_265_330)) == .valid)
        }

        @Test func theRightBytesUnderAnotherVersionDoNotCount() {
            let header = "v2," + F.specSignature.dropFirst(3)
            #expect(StandardWebhooks.verify(secret: F.specSecret, id: F.specID, timestamp: "1614265330", signatureHeader: header,
                                            body: F.specBody, now: Date(timeIntervalSince1970: 1_614_265_330)) == .mismatch)
        }

        @Test func tamperingOrAnotherSecretIsAMismatch() {
            let now = Date(timeIntervalSince1970: 1_614_265_330)
            #expect(StandardWebhooks.verify(secret: F.specSecret, id: F.specID, timestamp: "1614265330",
                                            signatureHeader: F.specSignature, body: Array(#"{"test": 2432232315}"#.utf8),
                                            now: now) == .mismatch)
            #expect(StandardWebhooks.verify(secret: F.secret, id: F.specID, timestamp: "1614265330",
                                            signatureHeader: F.specSignature, body: F.specBody, now: now) == .mismatch)
            #expect(StandardWebhooks.verify(secret: F.specSecret, id: "msg_other", timestamp: "1614265330",
                                            signatureHeader: F.specSignature, body: F.specBody, now: now) == .mismatch)
            // The spec's python tests: the last base64 digit changed.
            #expect(StandardWebhooks.verify(secret: F.specSecret, id: F.specID, timestamp: "1614265330",
                                            signatureHeader: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", body: F.specBody,
                                            now: now) == .mismatch)
        }

        @Test func theTimestampMustBeWithinToleranceBothWays() {
            func check(_ now: Double, tolerance: Double = 300) -> StandardWebhooks.Verification {
                StandardWebhooks.verify(secret: F.specSecret, id: F.specID, timestamp: "1614265330",
                                        signatureHeader: F.specSignature, body: F.specBody,
                                        now: Date(timeIntervalSince1970: now), tolerance: tolerance)
            }
            #expect(check(1_614_265_330 + 300) == .valid)
            #expect(check(1_614_265_330 - 300) == .valid)
            #expect(check(1_614_265_330 + 301) == .timestampOutOfTolerance(offS: 301))
            #expect(check(1_614_265_330 - 301) == .timestampOutOfTolerance(offS: -301))
            #expect(check(1_614_265_330 + 61, tolerance: 60) == .timestampOutOfTolerance(offS: 61))
            // Out of tolerance is reported even when the signature is right: the timestamp is checked first.
            #expect(check(1_700_000_000) == .timestampOutOfTolerance(offS: 1_700_000_000 - 1_614_265_330))
        }

        @Test func malformedHeadersAreNamed() {
            let now = Date(timeIntervalSince1970: 1_614_265_330)
            for ts in ["abc", "1614265330.5", "", "-1614265330", "1e9", "99999999999999999999"] {
                let v = StandardWebhooks.verify(secret: F.specSecret, id: F.specID, timestamp: ts,
                                                signatureHeader: F.specSignature, body: F.specBody, now: now)
                #expect(v == .malformed("webhook-timestamp \"\(ts)\" is not an integer of Unix seconds"))
            }
            #expect(StandardWebhooks.verify(secret: F.specSecret, id: F.specID, timestamp: "1614265330", signatureHeader: "  ",
                                            body: F.specBody, now: now) == .malformed("webhook-signature is empty"))
            #expect(StandardWebhooks.verify(secret: F.specSecret, id: F.specID, timestamp: "1614265330",
                                            signatureHeader: "g0hM9SsE+OTPJTGt", body: F.specBody, now: now)
                    == .malformed("webhook-signature has no <version>,<base64> entry (expected v1,<base64>)"))
            let badSecret = StandardWebhooks.verify(secret: "nope", id: F.specID, timestamp: "1614265330",
                                                    signatureHeader: F.specSignature, body: F.specBody, now: now)
            guard case .malformed(let reason) = badSecret else { Issue.record("expected malformed, got \(badSecret)"); return }
            #expect(reason.hasPrefix("secret: the secret must start with whsec_"))
        }

        @Test func signatureAndVerifyAgreeAcrossTimestamps() throws {
            for ts in [0, 1, 1_796_000_000, 4_102_444_800] {
                let sig = try StandardWebhooks.signature(secret: F.secret, id: "msg_x", timestamp: ts, body: Array("{}".utf8))
                #expect(StandardWebhooks.verify(secret: F.secret, id: "msg_x", timestamp: String(ts), signatureHeader: sig,
                                                body: Array("{}".utf8), now: Date(timeIntervalSince1970: Double(ts))) == .valid)
            }
        }
    }

    @Suite struct Rendering {
        typealias F = Fixture

        @Test func labelsCarryTheRuleSeverityAndScope() throws {
            let r = F.renderer
            #expect(try JSON(Array(JSONEncoder().encode(r.labels(F.alert())))) == F.labels)
            #expect(r.labels(F.alert(.flapping))["flapping"] == "true")
            #expect(r.labels(F.alert(.resolved))["flapping"] == nil)
            var agent = F.alert()
            agent.rule = .agentOffline
            agent.severity = .critical
            agent.scope = .agent("alice", site: "hq")
            #expect(r.labels(agent) == ["alertname": "agent_offline", "severity": "critical", "scope": "agent",
                                        "agent": "alice", "site": "hq", "source": "earshot"])
            agent.scope = .suite("mesh")
            agent.rule = .coverageStale
            #expect(r.labels(agent) == ["alertname": "coverage_stale", "severity": "critical", "scope": "suite",
                                        "suite": "mesh", "source": "earshot"])
            agent.scope = .site("branch-2")
            #expect(r.labels(agent)["site"] == "branch-2")
            #expect(r.labels(agent)["scope"] == "site")
        }

        /// prometheus/common model/signature_test.go TestMetricToFingerprint: 14695981039346656037
        /// (empty) and 5799056148416392346 for {name: "garland, briggs", fear: "love is not enough"}.
        @Test func fingerprintsAreAlertmanagers() {
            #expect(WebhookRenderer.fingerprint([:]) == String(UInt64(14_695_981_039_346_656_037), radix: 16))
            #expect(WebhookRenderer.fingerprint(["name": "garland, briggs", "fear": "love is not enough"])
                    == String(UInt64(5_799_056_148_416_392_346), radix: 16))
            #expect(WebhookRenderer.fingerprint(["name": "garland, briggs", "fear": "love is not enough"]) == "507a62d79ee76c9a")
            #expect(WebhookRenderer.fingerprint(F.renderer.labels(F.alert())) == F.fingerprint)
            #expect(WebhookRenderer.fingerprint(F.renderer.labels(F.alert(.flapping))) == F.flappingFingerprint)
        }

        @Test func nativeBodyIsTheDocumentedPayload() throws {
            let (p, json) = try F.render(from: nil, to: .firing, .native)
            #expect(p.event == "alert.firing")
            #expect(p.contentType == "application/json")
            let decoded = try WireJSON.decoder().decode(NativeWebhookPayload.self, from: Data(p.body))
            #expect(decoded == NativeWebhookPayload(
                type: "alert.firing", timestamp: F.t0,
                data: .init(alert: F.alert(), transition: F.transition(from: nil, to: .firing),
                            runURL: "http://127.0.0.1:8760/v1/runs/run_9", alertURL: "http://127.0.0.1:8760/v1/alerts/al_1")))
            #expect(json["timestamp"] == "2026-11-30T00:53:20.250Z")
            #expect(json["data"]?["alert"]?["started_at"] == "2026-11-30T00:36:40.000Z")
            #expect(json["data"]?["transition"]?["alert_id"] == "al_1")
            #expect(json["data"]?["transition"]?["from"] == nil)
            // Sorted keys, unescaped slashes.
            #expect(String(decoding: p.body, as: UTF8.self).hasPrefix(#"{"data":{"alert":{"id":"al_1","measurement":{"at":"#))
            #expect(String(decoding: p.body, as: UTF8.self).contains(#""alert_url":"http://127.0.0.1:8760/v1/alerts/al_1""#))
        }

        @Test func alertmanagerFiringIsTheWebhookV4Body() throws {
            let (p, json) = try F.render(from: nil, to: .firing, .alertmanager)
            #expect(p.event == "alert.firing")
            #expect(json == [
                "version": "4",
                "groupKey": #"{}/{source="earshot"}:{alert_id="al_1", alertname="mos_low"}"#,
                "truncatedAlerts": 0,
                "status": "firing",
                "receiver": "ops",
                "groupLabels": ["alertname": "mos_low"],
                "commonLabels": F.labels,
                "commonAnnotations": F.annotations,
                "externalURL": "http://127.0.0.1:8760",
                "alerts": [[
                    "status": "firing", "labels": F.labels, "annotations": F.annotations,
                    "startsAt": "2026-11-30T00:36:40.000Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://127.0.0.1:8760/v1/alerts/al_1", "fingerprint": .string(F.fingerprint),
                ]],
            ])
        }

        @Test func alertmanagerResolvedEndsAtTheTransition() throws {
            let (p, json) = try F.render(from: .firing, to: .resolved, .alertmanager)
            #expect(p.event == "alert.resolved")
            #expect(json["status"] == "resolved")
            #expect(json["alerts"]?.count == 1)
            #expect(json["alerts"]?[0] == [
                "status": "resolved", "labels": F.labels, "annotations": F.annotations,
                "startsAt": "2026-11-30T00:36:40.000Z", "endsAt": "2026-11-30T00:53:20.250Z",
                "generatorURL": "http://127.0.0.1:8760/v1/alerts/al_1", "fingerprint": .string(F.fingerprint),
            ])
        }

        @Test func alertmanagerFlappingAlsoResolvesTheFiringVariant() throws {
            let (p, json) = try F.render(from: .firing, to: .flapping, .alertmanager)
            #expect(p.event == "alert.flapping")
            #expect(json["status"] == "firing")
            #expect(json["alerts"]?.count == 2)
            #expect(json["alerts"]?[0]?["labels"] == F.flappingLabels)
            #expect(json["alerts"]?[0]?["status"] == "firing")
            #expect(json["alerts"]?[0]?["fingerprint"] == .string(F.flappingFingerprint))
            #expect(json["alerts"]?[1]?["labels"] == F.labels)
            #expect(json["alerts"]?[1]?["status"] == "resolved")
            #expect(json["alerts"]?[1]?["endsAt"] == "2026-11-30T00:53:20.250Z")
            // Common labels: those both alerts share (no flapping label).
            #expect(json["commonLabels"] == F.labels)
            #expect(json["commonAnnotations"] == F.annotations)
        }

        @Test func alertmanagerAPIFiringOmitsEndsAt() throws {
            let (p, json) = try F.render(from: nil, to: .firing, .alertmanagerAPI)
            #expect(p.event == "alert.firing")
            #expect(json == [[
                "labels": F.labels, "annotations": F.annotations, "startsAt": "2026-11-30T00:36:40.000Z",
                "generatorURL": "http://127.0.0.1:8760/v1/alerts/al_1",
            ]])
        }

        @Test func alertmanagerAPIResolveFromFlappingEndsTheFlappingAlert() throws {
            let (_, json) = try F.render(from: .flapping, to: .resolved, .alertmanagerAPI)
            #expect(json == [[
                "labels": F.flappingLabels, "annotations": F.annotations, "startsAt": "2026-11-30T00:36:40.000Z",
                "endsAt": "2026-11-30T00:53:20.250Z", "generatorURL": "http://127.0.0.1:8760/v1/alerts/al_1",
            ]])
            let (_, back) = try F.render(from: .flapping, to: .firing, .alertmanagerAPI)
            #expect(back.count == 2)
            #expect(back[0]?["labels"] == F.labels)
            #expect(back[0]?["endsAt"] == nil)
            #expect(back[1]?["labels"] == F.flappingLabels)
            #expect(back[1]?["endsAt"] == "2026-11-30T00:53:20.250Z")
        }

        @Test func alertmanagerRefreshKeepsActiveAlertsAlive() throws {
            var other = F.alert(.flapping)
            other.id = "al_2"
            other.measurement = nil
            let resolved = F.alert(.resolved, resolvedAt: F.t0)
            let p = F.renderer.alertmanagerRefresh([F.alert(), resolved, other], now: F.t0, validFor: 180)
            #expect(p.event == "alert.refresh")
            let json = try JSON(p.body)
            #expect(json == [
                ["labels": F.labels, "annotations": F.annotations, "startsAt": "2026-11-30T00:36:40.000Z",
                 "endsAt": "2026-11-30T00:56:20.250Z", "generatorURL": "http://127.0.0.1:8760/v1/alerts/al_1"],
                ["labels": F.flappingLabels, "annotations": ["summary": .string(F.summary), "description": .string(F.summary)],
                 "startsAt": "2026-11-30T00:36:40.000Z", "endsAt": "2026-11-30T00:56:20.250Z",
                 "generatorURL": "http://127.0.0.1:8760/v1/alerts/al_2"],
            ])
            #expect(try JSON(F.renderer.alertmanagerRefresh([resolved], now: F.t0, validFor: 60).body) == [])
        }

        @Test func slackFiringHasTheRedPrefixAndEscapes() throws {
            let (p, json) = try F.render(from: nil, to: .firing, .slack)
            #expect(p.event == "alert.firing")
            #expect(json == [
                "text": ":red_circle: FIRING mos_low on alice→bob: MOS-CQ 3.21 &lt; 3.60 on alice→bob (2 runs in a row)",
                "blocks": [
                    ["type": "section", "text": [
                        "type": "mrkdwn",
                        "text": ":red_circle: *FIRING* `mos_low` on <http://127.0.0.1:8760/v1/alerts/al_1|alice→bob>\nMOS-CQ 3.21 &lt; 3.60 on alice→bob (2 runs in a row)",
                    ]],
                    ["type": "context", "elements": [[
                        "type": "mrkdwn",
                        "text": "severity warning · MOS-CQ 3.21 &lt; 3.60 (alice→bob) · <http://127.0.0.1:8760/v1/runs/run_9|run> · at 2026-11-30T00:53:20.250Z",
                    ]]],
                ],
            ])
        }

        @Test func slackPrefixesFollowTheState() throws {
            #expect(try F.render(from: .firing, to: .resolved, .slack).1["text"]
                    == ":large_green_circle: RESOLVED mos_low on alice→bob: MOS-CQ 3.21 &lt; 3.60 on alice→bob (2 runs in a row)")
            let flapping = try F.render(from: .firing, to: .flapping, .slack).1
            guard case .string(let text) = flapping["text"] else { Issue.record("no text"); return }
            #expect(text.hasPrefix(":warning: FLAPPING mos_low on alice→bob: "))
        }

        @Test func teamsIsAMessageCard() throws {
            let (p, json) = try F.render(from: .firing, to: .resolved, .teams)
            #expect(p.event == "alert.resolved")
            #expect(json == [
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": "RESOLVED mos_low on alice→bob",
                "themeColor": "2E7D32",
                "title": "RESOLVED: mos_low on alice→bob",
                "text": .string(F.summary),
                "sections": [["facts": [
                    ["name": "Rule", "value": "mos_low"],
                    ["name": "Severity", "value": "warning"],
                    ["name": "Scope", "value": "pair=alice>bob"],
                    ["name": "State", "value": "firing → resolved"],
                    ["name": "At", "value": "2026-11-30T00:53:20.250Z"],
                    ["name": "Measurement", "value": "MOS-CQ 3.21 < 3.60 (alice→bob)"],
                    ["name": "Run", "value": "http://127.0.0.1:8760/v1/runs/run_9"],
                ]]],
                "potentialAction": [[
                    "@type": "OpenUri", "name": "Open alert",
                    "targets": [["os": "default", "uri": "http://127.0.0.1:8760/v1/alerts/al_1"]],
                ]],
            ])
            #expect(try F.render(from: nil, to: .firing, .teams).1["themeColor"] == "CC0000")
            #expect(try F.render(from: .resolved, to: .flapping, .teams).1["themeColor"] == "F2A900")
        }

        @Test func testEventsRenderInEveryFormat() throws {
            let r = F.renderer
            let native = r.renderTest(format: .native, endpointName: "ops", at: F.t0)
            #expect(native.event == "earshot.test")
            #expect(try JSON(native.body) == ["type": "earshot.test", "timestamp": "2026-11-30T00:53:20.250Z",
                                              "data": ["message": "a test delivery from earshot"]])

            let testLabels: JSON = ["alertname": "earshot_test", "severity": "info", "source": "earshot"]
            let testNotes: JSON = ["summary": "a test delivery from earshot",
                                   "description": "Earshot sent this to the endpoint ops to check delivery; it needs no action."]
            let api = try JSON(r.renderTest(format: .alertmanagerAPI, endpointName: "ops", at: F.t0).body)
            #expect(api == [["labels": testLabels, "annotations": testNotes, "startsAt": "2026-11-30T00:53:20.250Z",
                             "endsAt": "2026-11-30T00:54:20.250Z", "generatorURL": "http://127.0.0.1:8760"]])

            let am = try JSON(r.renderTest(format: .alertmanager, endpointName: "ops", at: F.t0).body)
            #expect(am["version"] == "4")
            #expect(am["receiver"] == "ops")
            #expect(am["status"] == "firing")
            // python3 fp() above of the test labels.
            #expect(am["alerts"]?[0]?["fingerprint"] == "3abb46369c10aadd")
            #expect(am["alerts"]?[0]?["endsAt"] == "0001-01-01T00:00:00Z")

            let slack = try JSON(r.renderTest(format: .slack, endpointName: "a<b", at: F.t0).body)
            #expect(slack["text"] == ":information_source: Earshot test delivery to a&lt;b: a test delivery from earshot")
            let teams = try JSON(r.renderTest(format: .teams, endpointName: "ops", at: F.t0).body)
            #expect(teams["@type"] == "MessageCard")
            #expect(teams["themeColor"] == "0078D7")
            #expect(teams["sections"]?[0]?["facts"] == [["name": "Endpoint", "value": "ops"],
                                                        ["name": "At", "value": "2026-11-30T00:53:20.250Z"]])
            for format in WebhookFormat.allCases {
                #expect(r.renderTest(format: format, endpointName: "ops", at: F.t0).event == "earshot.test")
            }
        }

        @Test func aNonFiniteMeasurementStillRenders() throws {
            var t = F.transition(from: nil, to: .firing)
            t.measurement?.value = .nan
            let p = F.renderer.render(t, alert: F.alert(), format: .native, endpointName: "ops")
            #expect(try JSON(p.body)["data"]?["transition"]?["measurement"]?["value"] == "NaN")
        }

        /// docs/webhooks.md "A request on the wire": its native body and signature come from here.
        /// python3 -c 'import hmac,hashlib,base64,sys;b=sys.stdin.buffer.read();print(base64.b64encode(hmac.new(
        ///   bytes(range(24)),b"msg_2b7c90e4f1a6d3085e9c4b71.1796000001."+b,hashlib.sha256).digest()).decode())' < body
        @Test func theDocumentedRequestIsReproducible() throws {
            let at = Date(timeIntervalSince1970: 1_796_000_000.412)
            let scope = AlertScope.pair("alice", "bob", callerSite: "hq", calleeSite: "branch-2")
            let m = AlertMeasurement(metric: "mos_cq", value: 3.21, threshold: 3.6, direction: "bob→alice",
                                     detail: "MOS-CQ 3.21 < 3.60 (bob→alice)", runID: "run_5e0b9d2c7a41f3e8b6d09c12", at: at)
            let summary = "MOS-CQ 3.21 < 3.60 on alice→bob (2 runs in a row)"
            let alert = AlertInfo(id: "al_3f9c2a71d04e8b5c61a0f2d7", rule: .mosLow, scope: scope, severity: .warning,
                                  state: .firing, startedAt: at, updatedAt: at, summary: summary, measurement: m, transitions: 1)
            let t = AlertTransitionInfo(id: "tr_8d1e4b0a9c3f7e25d6b1a048", alertID: alert.id, rule: .mosLow, scope: scope,
                                        severity: .warning, from: nil, to: .firing, at: at, summary: summary, measurement: m)
            let body = WebhookRenderer(baseURL: "http://127.0.0.1:8760").render(t, alert: alert, format: .native,
                                                                                endpointName: "ops").body
            #expect(body.count == 1342)
            #expect(try StandardWebhooks.signature(secret: F.secret, id: "msg_2b7c90e4f1a6d3085e9c4b71", timestamp: 1_796_000_001,
                                                   body: body) == "v1,oTcogaoJi92rn+alrz8aqhBKt9uTjQffCV6O5sc26h4=")
            #expect(try JSON(WebhookRenderer(baseURL: "http://127.0.0.1:8760").render(t, alert: alert, format: .alertmanager,
                                                                                     endpointName: "ops").body)["alerts"]?[0]?["fingerprint"]
                    == "85da18892926e6cb")
        }

        @Test func linksUseTheBaseWithoutTrailingSlashes() {
            let r = WebhookRenderer(baseURL: "https://earshot.example//")
            #expect(r.base == "https://earshot.example")
            #expect(r.alertURL("al_7") == "https://earshot.example/v1/alerts/al_7")
            #expect(r.runURL("run_7") == "https://earshot.example/v1/runs/run_7")
        }
    }

    @Suite struct Delivery {
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let policy = DeliveryPolicy(initialBackoff: 1, maxBackoff: 300, horizon: 86400, maxRetryAfter: 3600)

        func outcome(_ attempt: Int = 1, _ status: Int?, retryAfter: String? = nil, random: Double = 0,
                     createdAt: Date? = nil) -> DeliveryPolicy.Outcome {
            policy.outcome(attempt: attempt, statusCode: status, retryAfter: retryAfter, now: now,
                           createdAt: createdAt ?? now, random: random)
        }

        @Test func backoffDoublesUpToTheMaximum() {
            #expect((1...12).map { policy.backoffBound(attempt: $0) } == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300])
            #expect(policy.backoffBound(attempt: 0) == 1)
            #expect(policy.backoffBound(attempt: 5000) == 300)
        }

        @Test func jitterIsFullAndAtLeastATenth() {
            #expect(outcome(1, 500, random: 0) == .retry(at: now.addingTimeInterval(0.1)))
            #expect(outcome(1, 500, random: 0.999) == .retry(at: now.addingTimeInterval(0.999)))
            #expect(outcome(3, 500, random: 0.999) == .retry(at: now.addingTimeInterval(3.996)))
            #expect(outcome(3, 500, random: 0.5) == .retry(at: now.addingTimeInterval(2)))
            #expect(outcome(20, nil, random: 0.5) == .retry(at: now.addingTimeInterval(150)))
            #expect(outcome(20, nil, random: 0) == .retry(at: now.addingTimeInterval(0.1)))
            #expect(policy.jitteredDelay(attempt: 2, random: .nan) == 0.1)
            #expect(policy.jitteredDelay(attempt: 2, random: 7) == 2)
        }

        @Test func statusCodesDecide() {
            for code in [200, 201, 202, 204, 299] { #expect(outcome(1, code) == .delivered) }
            #expect(outcome(4, 410) == .disableEndpoint(reason: "410 Gone from the receiver"))
            for code in [100, 301, 302, 400, 401, 404, 429, 500, 502, 503, 504] {
                #expect(outcome(1, code, random: 0.5) == .retry(at: now.addingTimeInterval(0.5)))
            }
            #expect(outcome(1, nil, random: 0.5) == .retry(at: now.addingTimeInterval(0.5)))
        }

        @Test func retryAfterSecondsIsHonouredAndCapped() {
            #expect(outcome(1, 429, retryAfter: "120") == .retry(at: now.addingTimeInterval(120)))
            #expect(outcome(1, 503, retryAfter: " 30 ") == .retry(at: now.addingTimeInterval(30)))
            // A shorter Retry-After than the drawn backoff: the backoff wins.
            #expect(outcome(9, 503, retryAfter: "0", random: 0.5) == .retry(at: now.addingTimeInterval(128)))
            #expect(outcome(1, 429, retryAfter: "99999") == .retry(at: now.addingTimeInterval(3600)))
            // Unreadable: ignored.
            #expect(outcome(1, 429, retryAfter: "soon", random: 0.5) == .retry(at: now.addingTimeInterval(0.5)))
        }

        /// RFC 9110 §5.6.7's example instant, 1994-11-06T08:49:37Z = 784111777 (python3 -c 'import datetime;
        /// print(datetime.datetime(1994,11,6,8,49,37,tzinfo=datetime.timezone.utc).timestamp())').
        @Test func retryAfterHTTPDatesInAllThreeFormats() {
            let before = Date(timeIntervalSince1970: 784_111_777 - 90)
            #expect(DeliveryPolicy.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT", now: before) == 90)
            #expect(DeliveryPolicy.retryAfterSeconds("Sunday, 06-Nov-94 08:49:37 GMT", now: before) == 90)
            #expect(DeliveryPolicy.retryAfterSeconds("Sun Nov  6 08:49:37 1994", now: before) == 90)
            // In the past: 0, never negative.
            #expect(DeliveryPolicy.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT",
                                                     now: Date(timeIntervalSince1970: 784_111_777 + 5)) == 0)
            // A leap day and the end of a year.
            #expect(DeliveryPolicy.retryAfterSeconds("Thu, 29 Feb 2024 00:00:00 GMT", now: Date(timeIntervalSince1970: 1_709_164_800 - 1)) == 1)
            #expect(DeliveryPolicy.retryAfterSeconds("Fri, 31 Dec 1999 23:59:59 GMT", now: Date(timeIntervalSince1970: 946_684_799 - 10)) == 10)
        }

        @Test func unreadableRetryAfterIsNil() {
            for bad in [nil, "", "soon", "-5", "1.5", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
                        "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Foo 1994 08:49:37 GMT", "Funday, 06-Nov-94 08:49:37 GMT",
                        "Sun Nov  6 08:49 1994"] as [String?] {
                #expect(DeliveryPolicy.retryAfterSeconds(bad, now: now) == nil, "\(bad ?? "nil")")
            }
            #expect(DeliveryPolicy.retryAfterSeconds("0", now: now) == 0)
            #expect(DeliveryPolicy.retryAfterSeconds("86400", now: now) == 86400)
        }

        /// RFC 9110 §5.6.7: a two-digit year more than 50 years ahead belongs to the century before.
        @Test func rfc850TwoDigitYears() {
            // now = 2026-11-30: "30" is 2030 (4 years ahead), "94" would be 2094 (68 ahead) so 1994.
            let in2030 = DeliveryPolicy.retryAfterSeconds("Tuesday, 01-Jan-30 00:00:00 GMT", now: now)
            #expect(in2030 == Double(1_893_456_000 - 1_796_000_000))
            #expect(DeliveryPolicy.retryAfterSeconds("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == 0)
            #expect(DeliveryPolicy.retryAfterSeconds("Sunday, 06-Nov-94 08:49:37 GMT",
                                                     now: Date(timeIntervalSince1970: 784_111_777 - 1)) == 1)
        }

        @Test func deadAfterTheHorizon() {
            let created = now.addingTimeInterval(-86400 + 10)
            // 10 s left: a 300/256 s wait fits; a 30 s one does not.
            #expect(outcome(30, 500, random: 1.0 / 256, createdAt: created) == .retry(at: now.addingTimeInterval(1.171875)))
            #expect(outcome(30, 503, random: 0.1, createdAt: created)
                    == .dead(reason: "not delivered within the horizon of 1d (30 attempts, last: HTTP 503)"))
            // Exactly at the horizon still counts as within it.
            #expect(outcome(30, nil, retryAfter: "10", createdAt: created) == .retry(at: now.addingTimeInterval(10)))
            #expect(outcome(30, nil, retryAfter: "11", createdAt: created)
                    == .dead(reason: "not delivered within the horizon of 1d (30 attempts, last: no answer)"))
            let short = DeliveryPolicy(initialBackoff: 1, maxBackoff: 300, horizon: 5)
            #expect(short.outcome(attempt: 1, statusCode: 500, retryAfter: "60", now: now, createdAt: now, random: 0)
                    == .dead(reason: "not delivered within the horizon of 5s (1 attempt, last: HTTP 500)"))
            // Delivered and 410 are not subject to the horizon.
            #expect(outcome(99, 200, createdAt: now.addingTimeInterval(-999_999)) == .delivered)
        }

        @Test func defaultsAreTheDocumentedOnes() {
            let d = DeliveryPolicy()
            #expect(d == DeliveryPolicy(initialBackoff: 1, maxBackoff: 300, horizon: 86400, maxRetryAfter: 3600))
            #expect(StandardWebhooks.defaultTolerance == 300)
        }
    }
}
