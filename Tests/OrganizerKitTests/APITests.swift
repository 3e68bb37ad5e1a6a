import AsyncHTTPClient
import EarshotStore
import EarshotWire
import Foundation
import OrganizerKit
import Testing

@Suite struct APITests {
    @Test func authentication() async throws {
        try await TestOrganizer.with { org in
            let missing = try await org.request(.GET, "/v1/status", token: nil)
            #expect(missing.status == 401)
            #expect(missing.apiError?.error == "unauthorized")

            let wrong = try await org.request(.GET, "/v1/agents", token: "not-a-token-of-this-organizer")
            #expect(wrong.status == 401)
            #expect(wrong.apiError?.error == "unauthorized")

            let read = try await org.request(.GET, "/v1/status", token: TestOrganizer.reader)
            #expect(read.status == 200)
            let status = try read.decode(StatusInfo.self)
            #expect(status.version == Organizer.version)
            #expect(status.protocolVersion == WireProtocol.version)
            #expect(status.agents.total == 0)

            let readWrite = try await org.request(.POST, "/v1/agents/tokens", token: TestOrganizer.reader,
                                                  body: org.json(EnrollmentTokenRequest(site: "hq")))
            #expect(readWrite.status == 403)
            #expect(readWrite.apiError?.error == "forbidden")
            let readPut = try await org.request(.PUT, "/v1/suites/x", token: TestOrganizer.reader,
                                                body: org.json(SuiteSpec(name: "x", type: .p2p)))
            #expect(readPut.status == 403)

            let admin = try await org.request(.POST, "/v1/agents/tokens", body: org.json(EnrollmentTokenRequest(site: "hq")))
            #expect(admin.status == 201)
            let token = try admin.decode(EnrollmentToken.self)
            #expect(token.site == "hq")
            #expect(token.token.hasPrefix("ese_"))
            // The organizer keeps only the hash: the token is nowhere else in the API.
            let agents = try await org.request(.GET, "/v1/agents")
            #expect(!agents.text.contains(token.token))
        }
    }

    @Test func badRequestsGetClearErrors() async throws {
        try await TestOrganizer.with { org in
            let big = Data(repeating: UInt8(ascii: "a"), count: 2 << 20)
            let tooLarge = try await org.request(.PUT, "/v1/suites/big", body: big)
            #expect(tooLarge.status == 413)
            #expect(tooLarge.apiError?.error == "payload_too_large")

            let malformed = try await org.request(.PUT, "/v1/suites/x", body: Data("{\"name\": \"x\"".utf8))
            #expect(malformed.status == 400)
            #expect(malformed.apiError?.error == "bad_request")

            let missingField = try await org.request(.PUT, "/v1/suites/x", body: Data(#"{"name": "x"}"#.utf8))
            #expect(missingField.status == 400)
            #expect(missingField.apiError?.message.contains("type") == true)

            let wrongType = try await org.request(.PUT, "/v1/suites/x", body: Data(#"{"name": "x", "type": "p2p", "interval": "soon"}"#.utf8))
            #expect(wrongType.status == 400)
            #expect(wrongType.apiError?.message.contains("interval") == true)

            let invalid = try await org.request(.PUT, "/v1/suites/x", body: Data(#"{"name": "x", "type": "p2p", "codec": "G729"}"#.utf8))
            #expect(invalid.status == 400)
            #expect(invalid.apiError?.message.contains("codec") == true)

            let mismatch = try await org.request(.PUT, "/v1/suites/x", body: org.json(SuiteSpec(name: "y", type: .p2p)))
            #expect(mismatch.status == 400)
            #expect(mismatch.apiError?.message.contains("name") == true)

            let unknownSuite = try await org.request(.GET, "/v1/suites/nope")
            #expect(unknownSuite.status == 404)
            #expect(unknownSuite.apiError?.error == "not_found")
            #expect(try await org.request(.POST, "/v1/suites/nope/run").status == 404)
            #expect(try await org.request(.POST, "/v1/suites/nope/pause").status == 404)
            #expect(try await org.request(.DELETE, "/v1/suites/nope").status == 404)
            #expect(try await org.request(.GET, "/v1/runs/run_nope").status == 404)
            #expect(try await org.request(.GET, "/v1/agents/nobody").status == 404)
            #expect(try await org.request(.POST, "/v1/agents/nobody/revoke").status == 404)
            let unknownPath = try await org.request(.GET, "/v1/nothing-here")
            #expect(unknownPath.status == 404)
            #expect(unknownPath.apiError?.error == "not_found")

            let badStatus = try await org.request(.GET, "/v1/runs?status=great")
            #expect(badStatus.status == 400)
            #expect(badStatus.apiError?.message.hasPrefix("status:") == true)
            let badSince = try await org.request(.GET, "/v1/report?since=yesterday-ish")
            #expect(badSince.status == 400)
            #expect(badSince.apiError?.message.hasPrefix("since:") == true)

            let noTTL = try await org.request(.POST, "/v1/agents/tokens", body: Data(#"{"site": ""}"#.utf8))
            #expect(noTTL.status == 400)
            #expect(noTTL.apiError?.message.hasPrefix("site:") == true)

            let wrongMedia = try await org.request(.PUT, "/v1/suites/x", body: Data("name: x".utf8), contentType: "text/plain")
            #expect(wrongMedia.status == 415)
            #expect(wrongMedia.apiError?.error == "unsupported_media_type")

            let plainGet = try await org.request(.GET, "/v1/agent", token: nil)
            #expect(plainGet.status == 426)

            // Still serving after all of that.
            #expect(try await org.request(.GET, "/v1/status").status == 200)
        }
    }

    @Test func suitesLifecycle() async throws {
        try await TestOrganizer.with { org in
            var spec = SuiteSpec(name: "mesh-a", type: .p2p, interval: .minutes(10), duration: .seconds(20))
            let created = try await org.request(.PUT, "/v1/suites/mesh-a", body: org.json(spec))
            #expect(created.status == 201)
            #expect(try created.decode(SuiteInfo.self).spec == spec)

            spec.duration = .seconds(30)
            let replaced = try await org.request(.PUT, "/v1/suites/mesh-a", body: org.json(spec))
            #expect(replaced.status == 200)
            #expect(try replaced.decode(SuiteInfo.self).spec.duration == .seconds(30))

            let yaml = """
                name: reg
                type: register
                interval: 15m
                via:
                  registrar: 127.0.0.1:5060
                  domain: example.com
                thresholds:
                  setup_ms_max: 800
                """
            let applied = try await org.request(.PUT, "/v1/suites/reg", body: Data(yaml.utf8), contentType: "application/yaml")
            #expect(applied.status == 201)
            let reg = try applied.decode(SuiteInfo.self).spec
            #expect(reg.type == .register)
            #expect(reg.topology.kind == .each)
            #expect(reg.interval == .minutes(15))
            #expect(reg.via?.registrar == "127.0.0.1:5060")
            #expect(reg.thresholds.setupMsMax == 800)

            let badYAML = try await org.request(.PUT, "/v1/suites/reg", body: Data("name: reg\ntype: teleport\n".utf8),
                                                contentType: "application/yaml")
            #expect(badYAML.status == 400)
            #expect(badYAML.apiError?.message.contains("type") == true)

            let list = try await org.request(.GET, "/v1/suites", token: TestOrganizer.reader)
            #expect(try list.decode([SuiteInfo].self).map(\.spec.name).sorted() == ["mesh-a", "reg"])

            let paused = try await org.request(.POST, "/v1/suites/mesh-a/pause")
            #expect(paused.status == 200)
            let pausedInfo = try paused.decode(SuiteInfo.self)
            #expect(pausedInfo.spec.paused)
            #expect(pausedInfo.nextRoundAt == nil)
            let resumed = try await org.request(.POST, "/v1/suites/mesh-a/resume")
            #expect(try resumed.decode(SuiteInfo.self).spec.paused == false)

            let restored = try await org.request(.POST, "/v1/suites/default")
            #expect(restored.status == 200)
            let defaults = try restored.decode([SuiteInfo].self).map(\.spec)
            #expect(defaults == [SuiteSpec.defaultMesh(interval: .minutes(5)), SuiteSpec.defaultConference(interval: .minutes(5))])
            let fetched = try await org.request(.GET, "/v1/suites/default")
            #expect(try fetched.decode(SuiteInfo.self).spec.topology == .mesh)
            let conference = try await org.request(.GET, "/v1/suites/default-conference").decode(SuiteInfo.self)
            #expect(conference.spec.type == .conference)
            #expect(conference.spec.conference?.bridge == .rotate)
            #expect(conference.spec.conference?.maxParticipants == ConferenceSettings.defaultMaxParticipants)
            #expect(conference.spec.members.selectsAll)

            #expect(try await org.request(.DELETE, "/v1/suites/reg").status == 204)
            #expect(try await org.request(.GET, "/v1/suites/reg").status == 404)
            let after = try await org.request(.GET, "/v1/suites")
            #expect(try after.decode([SuiteInfo].self).map(\.spec.name).sorted() == ["default", "default-conference", "mesh-a"])
        }
    }

    @Test func labelsChange() async throws {
        try await TestOrganizer.with { org in
            let (client, enrolled) = try await org.connectedAgent(name: "lab-1")
            let change = LabelChange(set: ["rack": "r1", "role": "probe"], remove: [])
            let set = try await org.request(.POST, "/v1/agents/lab-1/labels", body: org.json(change))
            #expect(set.status == 200)
            #expect(try set.decode(AgentInfo.self).labels == ["rack": "r1", "role": "probe"])
            let removed = try await org.request(.POST, "/v1/agents/\(enrolled.agentID)/labels",
                                                body: org.json(LabelChange(remove: ["rack"])))
            #expect(try removed.decode(AgentInfo.self).labels == ["role": "probe"])
            let readOnly = try await org.request(.POST, "/v1/agents/lab-1/labels", token: TestOrganizer.reader,
                                                 body: org.json(change))
            #expect(readOnly.status == 403)
            client.close()
        }
    }

    @Test func startFailsClearlyWhenThePortIsTaken() async throws {
        try await TestOrganizer.with { org in
            var config = OrganizerConfiguration(host: "127.0.0.1", port: org.port, adminTokens: [TestOrganizer.admin])
            config.firstRoundDelay = .seconds(3600)
            await #expect(throws: (any Error).self) {
                let second = try await Organizer.start(configuration: config, storage: try SQLiteStorage.temporary())
                await second.shutdown()
            }
            // The first one still serves.
            let status = try await org.request(.GET, "/v1/status").status
            #expect(status == 200)
        }
    }

    @Test func missingTLSFilesAreAConfigurationError() async throws {
        var config = OrganizerConfiguration(host: "127.0.0.1", port: 0, adminTokens: [TestOrganizer.admin])
        config.tls = .init(certificate: "/nonexistent/cert.pem", key: "/nonexistent/key.pem")
        await #expect {
            let running = try await Organizer.start(configuration: config, storage: try SQLiteStorage.temporary())
            await running.shutdown()
        } throws: { error in
            (error as? ConfigurationError)?.message.hasPrefix("tls:") == true
        }
    }
}
