import EarshotStore
import EarshotWire
import Foundation
import Logging
import OrganizerKit
import Testing

@testable import EarshotCLI

/// The console against a real organizer started in this process on port 0 (no agents):
/// tokens refused with 401/403, suites applied from a file and listed, `validate` of a suite
/// that matches no agent.
@Suite struct ConsoleOrganizerTests {
    static let readToken = "esr_console_read_token"

    /// A running organizer on a temporary database; `body` gets it, then it is shut down.
    static func withOrganizer(_ body: (RunningOrganizer) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-cli-org-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = directory.appendingPathComponent("earshot.sqlite").path
        let storage = try SQLiteStorage(path: database)
        var logger = Logger(label: "test.organizer")
        logger.logLevel = .critical
        let configuration = OrganizerConfiguration(host: "127.0.0.1", port: 0, database: database, readTokens: [readToken],
                                                   logLevel: .critical)
        let organizer = try await Organizer.start(configuration: configuration, storage: storage, logger: logger)
        do {
            try await body(organizer)
        } catch {
            await organizer.shutdown()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        await organizer.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    static func expectFailure(kind: OrganizerClientError.Kind, message: String? = nil,
                              _ call: () async throws -> Void) async {
        do {
            try await call()
            Issue.record("the call succeeded")
        } catch let error as OrganizerClientError {
            #expect(error.kind == kind)
            if let message { #expect(error.message == message) }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func tokensAreCheckedWithClearMessages() async throws {
        try await Self.withOrganizer { organizer in
            let wrong = OrganizerClient(baseURL: organizer.baseURL, token: "esa_wrong")
            await Self.expectFailure(
                kind: .unauthorized,
                message: "the organizer refused the token (missing or unknown bearer token: send Authorization: Bearer <token> (an admin or read-only token of this organizer); check --token / EARSHOT_TOKEN)"
            ) { _ = try await wrong.status() }
            await wrong.shutdown()

            let none = OrganizerClient(baseURL: organizer.baseURL, token: nil)
            await Self.expectFailure(
                kind: .unauthorized, message: "the organizer refused the token (no token given: pass --token or set EARSHOT_TOKEN)"
            ) { _ = try await none.agents() }
            await none.shutdown()

            let reader = OrganizerClient(baseURL: organizer.baseURL, token: Self.readToken)
            #expect(try await reader.agents().isEmpty)
            await Self.expectFailure(
                kind: .forbidden,
                message: "the organizer refused this request for the token (a read-only token can only GET; this needs an admin token): use an admin token (--token / EARSHOT_TOKEN)"
            ) { _ = try await reader.createToken(EnrollmentTokenRequest(site: "hq")) }
            await reader.shutdown()

            let admin = OrganizerClient(baseURL: organizer.baseURL, token: organizer.adminToken)
            let status = try await admin.status()
            #expect(status.agents.total == 0)
            await Self.expectFailure(kind: .api) { _ = try await admin.agent("nobody") }
            let token = try await admin.createToken(EnrollmentTokenRequest(site: "hq", ttl: .minutes(5)))
            #expect(token.site == "hq")
            #expect(!token.token.isEmpty)
            await admin.shutdown()
        }
    }

    @Test func binaryExitsTwoOnAWrongToken() async throws {
        try await Self.withOrganizer { organizer in
            let run = try await ConsoleProcess.runAsync(["status", "--organizer", organizer.baseURL],
                                             environment: ["EARSHOT_TOKEN": "esa_wrong"])
            #expect(run.status == 2)
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.hasPrefix("error: the organizer refused the token (missing or unknown bearer token"))
            let ok = try await ConsoleProcess.runAsync(["status", "--organizer", organizer.baseURL, "--format", "json"],
                                            environment: ["EARSHOT_TOKEN": organizer.adminToken])
            #expect(ok.status == 0)
            let status = try WireJSON.decoder().decode(StatusInfo.self, from: Data(ok.stdout.utf8))
            #expect(status.agents == StatusInfo.Counts(total: 0, online: 0, offline: 0, revoked: 0))
        }
    }

    @Test func suitesFromAFileAreAppliedListedAndDeleted() async throws {
        try await Self.withOrganizer { organizer in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("suites.yaml")
            try """
                name: mesh
                type: p2p
                interval: 5m
                paused: true
                ---
                - name: dtmf
                  type: dtmf
                  topology: {kind: pairs, pairs: [[alice, bob]]}
                  paused: true
                """.write(to: file, atomically: true, encoding: .utf8)
            let environment = ["EARSHOT_ORGANIZER": organizer.baseURL, "EARSHOT_TOKEN": organizer.adminToken]
            let applied = try await ConsoleProcess.runAsync(["suites", "apply", "-f", file.path], environment: environment)
            #expect(applied.status == 0, "\(applied.stderr)")
            #expect(applied.stdout == """
                applied mesh: p2p, 0 members, 0 units, every 5m
                warning: no agent matches the suite's members
                applied dtmf: dtmf, 0 members, 0 units, every 5m
                warning: topology.pairs: alice→bob name agents that are not members; no agent matches the suite's members

                """)
            let listed = try await ConsoleProcess.runAsync(["suites", "list", "--format", "json"], environment: environment)
            let suites = try WireJSON.decoder().decode([SuiteInfo].self, from: Data(listed.stdout.utf8))
            #expect(Set(suites.map(\.spec.name)) == ["mesh", "dtmf"])
            #expect(suites.first { $0.spec.name == "dtmf" }?.spec.dtmf == "123#")
            let deleted = try await ConsoleProcess.runAsync(["suites", "delete", "mesh"], environment: environment)
            #expect(deleted.status == 0)
            #expect(deleted.stdout == "deleted mesh\n")
            let missing = try await ConsoleProcess.runAsync(["suites", "show", "mesh"], environment: environment)
            #expect(missing.status == 1)
            #expect(missing.stderr.hasPrefix("error: the organizer answered GET /v1/suites/mesh with 404"))
        }
    }

    @Test func validateOfASuiteWithoutAgentsFailsAndCleansUp() async throws {
        try await Self.withOrganizer { organizer in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("mesh.yaml")
            try "name: mesh\ntype: p2p\n".write(to: file, atomically: true, encoding: .utf8)
            let markdown = directory.appendingPathComponent("report.md")
            let run = try await ConsoleProcess.runAsync(
                ["validate", "-f", file.path, "--format", "json", "--markdown", markdown.path, "--timeout", "20s"],
                environment: ["EARSHOT_ORGANIZER": organizer.baseURL, "EARSHOT_TOKEN": organizer.adminToken])
            #expect(run.status == 1, "\(run.stderr)")
            let outcome = try WireJSON.decoder().decode(ValidationOutcome.self, from: Data(run.stdout.utf8))
            #expect(!outcome.ok)
            #expect(outcome.total == 0)
            #expect(outcome.suite.hasPrefix("mesh-validate-"))
            #expect(outcome.failures == ["the suite planned no runs (do its members match any online agent?)"])
            let written = try String(contentsOf: markdown, encoding: .utf8)
            #expect(written.hasPrefix("# Earshot validation: \(outcome.suite) — FAILED\n"))
            let admin = OrganizerClient(baseURL: organizer.baseURL, token: organizer.adminToken)
            #expect(try await admin.suites().isEmpty)
            await admin.shutdown()
        }
    }
}
