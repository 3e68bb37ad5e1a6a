import EarshotWire
import Foundation
import Logging
@testable import OrganizerKit
import Testing

@Suite struct ConfigurationTests {
    @Test func parsesEveryKey() throws {
        let yaml = """
            listen: 0.0.0.0:9000
            database: /var/lib/earshot/earshot.sqlite
            admin_tokens: [aaaaaaaaaaaaaaaaaaaa]
            read_tokens: [bbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccc]
            heartbeat_interval: 5s
            offline_after_missed: 4
            result_ack_window: 10ms
            tls: { certificate: /etc/earshot/cert.pem, key: /etc/earshot/key.pem }
            log_level: debug
            retention: { raw_days: 7 }
            default_interval: 2m
            max_body_bytes: 2048
            first_round_delay: 1s
            deadline_margin: 45s
            """
        let c = try OrganizerConfiguration.parse(yaml: yaml)
        #expect(c.host == "0.0.0.0")
        #expect(c.port == 9000)
        #expect(c.database == "/var/lib/earshot/earshot.sqlite")
        #expect(c.adminTokens == ["aaaaaaaaaaaaaaaaaaaa"])
        #expect(c.readTokens.count == 2)
        #expect(c.heartbeatInterval == .seconds(5))
        #expect(c.offlineAfterMissed == 4)
        #expect(c.resultAckWindow == .seconds(0.01))
        #expect(c.tls == OrganizerConfiguration.TLS(certificate: "/etc/earshot/cert.pem", key: "/etc/earshot/key.pem"))
        #expect(c.logLevel == .debug)
        #expect(c.retention.rawDays == 7)
        #expect(c.defaultInterval == .minutes(2))
        #expect(c.maxBodyBytes == 2048)
        #expect(c.firstRoundDelay == .seconds(1))
        #expect(c.deadlineMargin == .seconds(45))
    }

    @Test func emptyFileGivesDefaults() throws {
        let c = try OrganizerConfiguration.parse(yaml: "")
        #expect(c == OrganizerConfiguration())
        #expect(c.listen == "127.0.0.1:8760")
        #expect(c.heartbeatInterval == .seconds(10))
        #expect(c.offlineAfterMissed == 3)
        #expect(c.retention.rawDays == 30)
    }

    @Test func unknownKeyIsNamed() {
        #expect {
            _ = try OrganizerConfiguration.parse(yaml: "listen: 127.0.0.1:1\nheartbeat: 5s\n", file: "o.yaml")
        } throws: { error in
            let e = error as? ConfigurationError
            return e?.file == "o.yaml" && e?.message.hasPrefix("unknown key \"heartbeat\"") == true
        }
    }

    @Test(arguments: [
        ("heartbeat_interval: soon", "heartbeat_interval"),
        ("offline_after_missed: many", "offline_after_missed"),
        ("listen: nowhere", "listen"),
        ("log_level: loud", "log_level"),
        ("retention: { raw_days: 0 }", "retention.raw_days"),
        ("tls: { certificate: a.pem }", "tls.key"),
        ("tls: { cert: a.pem, key: b.pem }", "tls.cert"),
        ("admin_tokens: [short]", "admin_tokens"),
    ])
    func badValueNamesItsKey(yaml: String, key: String) {
        #expect {
            _ = try OrganizerConfiguration.parse(yaml: yaml)
        } throws: { error in
            guard let e = error as? ConfigurationError else { return false }
            return e.message.contains(key)
        }
    }

    @Test func listenForms() {
        #expect(OrganizerConfiguration.parseListen("127.0.0.1:8760")! == ("127.0.0.1", 8760))
        #expect(OrganizerConfiguration.parseListen("[::1]:80")! == ("::1", 80))
        #expect(OrganizerConfiguration.parseListen(":9000")! == ("0.0.0.0", 9000))
        #expect(OrganizerConfiguration.parseListen("9000")! == ("0.0.0.0", 9000))
        #expect(OrganizerConfiguration.parseListen("host:99999") == nil)
        #expect(OrganizerConfiguration.parseListen("::1:80") == nil)
    }

    @Test func roundTripsThroughJSON() throws {
        var c = OrganizerConfiguration(port: 0, adminTokens: ["x-admin-token-0123456789"])
        c.tls = .init(certificate: "c.pem", key: "k.pem")
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(OrganizerConfiguration.self, from: data) == c)
    }

    @Test func secretsHashAndCompare() {
        let token = Secrets.generate(prefix: "ese_")
        #expect(token.hasPrefix("ese_"))
        #expect(token.count == 4 + 43)
        #expect(Secrets.generate(prefix: "ese_") != token)
        #expect(Secrets.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Secrets.matches("abc", hash: Secrets.hash("abc")))
        #expect(!Secrets.matches("abd", hash: Secrets.hash("abc")))
        #expect(!Secrets.constantTimeEqual("abc", "abcd"))
        #expect(Secrets.constantTimeEqual("", ""))
    }

    @Test func adminTokenFileIsCreatedOnceWithMode0600() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-admin-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = AdminTokenFile.defaultPath(database: dir.appendingPathComponent("earshot.sqlite").path)
        #expect(path == dir.appendingPathComponent("admin-token").path)
        let first = try AdminTokenFile.loadOrCreate(at: path)
        #expect(first.created)
        #expect(first.token.hasPrefix("esa_"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let second = try AdminTokenFile.loadOrCreate(at: path)
        #expect(!second.created)
        #expect(second.token == first.token)
    }
}

/// The files shipped in organizer/ parse and are valid.
@Suite struct ExampleFileTests {
    static let organizerDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("organizer")

    @Test func exampleConfigurationLoads() throws {
        let c = try OrganizerConfiguration.load(yamlFile: Self.organizerDirectory.appendingPathComponent("organizer.example.yaml").path)
        #expect(c.listen == "127.0.0.1:8760")
        #expect(c.database == "/var/lib/earshot/earshot.sqlite")
        #expect(c.heartbeatInterval == .seconds(10))
        #expect(c.offlineAfterMissed == 3)
        #expect(c.tls == nil)
        var defaults = OrganizerConfiguration()
        defaults.database = c.database
        #expect(c == defaults)
    }

    @Test func exampleSuitesAreValid() throws {
        let dir = Self.organizerDirectory.appendingPathComponent("suites")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count == 10)
        var types = Set<TestType>()
        for file in files {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            let spec = try APIRoutes.decodeSuiteYAML(text)
            #expect(spec.name + ".yaml" == file)
            #expect(spec.problems() == [], "\(file)")
            types.insert(spec.type)
        }
        #expect(types == [.p2p, .register, .options, .soak, .dtmf, .conference])
    }
}

extension ExampleFileTests {
    /// organizer/openapi.yaml documents exactly the API's paths.
    @Test func openAPIListsEveryPath() throws {
        let text = try String(contentsOf: Self.organizerDirectory.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let paths = text.split(separator: "\n").filter { $0.hasPrefix("  /v1/") }.map { String($0.dropFirst(2).dropLast()) }
        #expect(paths == [
            "/v1/status", "/v1/agents", "/v1/agents/tokens", "/v1/agents/{agent}", "/v1/agents/{agent}/revoke",
            "/v1/agents/{agent}/labels", "/v1/suites", "/v1/suites/default", "/v1/suites/{name}", "/v1/suites/{name}/run",
            "/v1/suites/{name}/pause", "/v1/suites/{name}/resume", "/v1/runs", "/v1/runs/{id}", "/v1/report", "/v1/agent",
            "/v1/alerts", "/v1/alerts/{id}", "/v1/alert-rules", "/v1/alert-rules/{name}", "/v1/silences", "/v1/silences/{id}",
            "/v1/webhooks", "/v1/webhooks/{endpoint}", "/v1/webhooks/{endpoint}/enable", "/v1/webhooks/{endpoint}/test",
            "/v1/deliveries", "/v1/deliveries/{id}", "/v1/deliveries/retry",
        ])
        for scheme in ["bearerAuth", "APIError", "SuiteSpec", "RunDetail", "RoundInfo", "StatusInfo", "Report", "AlertInfo",
                       "AlertDetail", "AlertRule", "AlertRulePatch", "Silence", "SilenceRequest", "WebhookEndpointRequest",
                       "WebhookEndpointInfo", "WebhookDelivery", "DeliveryRetryRequest", "DeliveryRetryResult"] {
            #expect(text.contains("    \(scheme):"), "\(scheme)")
        }
    }
}
