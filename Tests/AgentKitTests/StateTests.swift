@testable import AgentKit
import EarshotWire
import Foundation
import InteropTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Agent state: credential and spool")
struct StateTests {
    static func result(_ run: String, status: RunStatus = .passed) -> RunResult {
        RunResult(runID: run, agentID: "ag_1", role: .caller, testType: .p2p, status: status,
                  cause: status == .passed ? nil : RunCause(code: "timeout", detail: "no INVITE"),
                  startedAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    // MARK: credential

    @Test func credentialIsWrittenWithMode0600AndReadBack() throws {
        let scratch = try ScratchDirectory(prefix: "agent-credential")
        let store = CredentialStore(stateDirectory: scratch.path("state"))
        #expect(try store.load() == nil)
        let credential = StoredCredential(agentID: "ag_7", credential: "secret-xyz", site: "hq", organizer: "ws://127.0.0.1:8760/v1/agent",
                                          enrolledAt: Date(timeIntervalSince1970: 1_800_000_000.5))
        let previous = umask(0o022)
        defer { umask(previous) }
        try store.save(credential)
        #expect(store.mode() == 0o600)
        #expect(try store.load() == credential)
        // A second store over the same directory (a restart) reads the same.
        #expect(try CredentialStore(stateDirectory: scratch.path("state")).load()?.credential == "secret-xyz")
        // The JSON uses the protocol's names.
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(text.contains("\"agent_id\":\"ag_7\""))
        #expect(!FileManager.default.fileExists(atPath: store.path + ".tmp"))
    }

    @Test func brokenCredentialFileSaysWhatToDo() throws {
        let scratch = try ScratchDirectory(prefix: "agent-credential")
        try FileManager.default.createDirectory(atPath: scratch.path("state"), withIntermediateDirectories: true)
        _ = try scratch.write(Array("{not json".utf8), to: "state/credential.json")
        let store = CredentialStore(stateDirectory: scratch.path("state"))
        #expect {
            try store.load()
        } throws: { error in
            guard case .unreadable(let path, let why)? = error as? AgentStateError else { return false }
            return path == store.path && why.contains("enroll again")
        }
    }

    // MARK: spool

    @Test func spoolStoresListsAndDeletesOnAck() throws {
        let scratch = try ScratchDirectory(prefix: "agent-spool")
        let spool = try ResultSpool(directory: scratch.path("spool"))
        try spool.store(Self.result("run-a"))
        try spool.store(Self.result("run-b", status: .failed))
        try spool.store(Self.result("run-c"))
        #expect(spool.count == 3)
        #expect(spool.runIDs() == ["run-a", "run-b", "run-c"])
        #expect(spool.pending().map(\.status) == [.passed, .failed, .passed])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("spool")).sorted() == ["run-a.json", "run-b.json", "run-c.json"])
        spool.remove(runID: "run-b")
        spool.remove(runID: "never-there")
        #expect(spool.runIDs() == ["run-a", "run-c"])
        #expect(!FileManager.default.fileExists(atPath: scratch.path("spool/run-b.json")))
        // Rewriting a run keeps one file.
        try spool.store(Self.result("run-a", status: .degraded))
        #expect(spool.count == 2)
        #expect(spool.pending().first?.status == .degraded)
    }

    @Test func spoolSurvivesReopening() throws {
        let scratch = try ScratchDirectory(prefix: "agent-spool")
        do {
            let spool = try ResultSpool(directory: scratch.path("spool"))
            try spool.store(Self.result("r1"))
            try spool.store(Self.result("r2"))
        }
        // A crash mid-write leaves a .tmp; a file of something else is set aside.
        _ = try scratch.write(Array("partial".utf8), to: "spool/r3.json.tmp")
        _ = try scratch.write(Array("garbage".utf8), to: "spool/r4.json")
        let reopened = try ResultSpool(directory: scratch.path("spool"))
        #expect(reopened.count == 2)
        #expect(Set(reopened.runIDs()) == ["r1", "r2"])
        #expect(reopened.pending().map(\.runID).sorted() == ["r1", "r2"])
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.path("spool")).sorted()
        #expect(names == ["r1.json", "r2.json", "r4.json.bad"])
    }

    @Test func spoolIsBoundedDroppingTheOldest() throws {
        let scratch = try ScratchDirectory(prefix: "agent-spool")
        let spool = try ResultSpool(directory: scratch.path("spool"), limit: 3)
        for n in 1...5 { try spool.store(Self.result("run-\(n)")) }
        #expect(spool.count == 3)
        #expect(spool.dropped == 2)
        #expect(spool.runIDs() == ["run-3", "run-4", "run-5"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("spool")).count == 3)
        // Rewriting a result that is already there drops nothing.
        try spool.store(Self.result("run-4", status: .failed))
        #expect(spool.dropped == 2)
        #expect(spool.count == 3)
    }

    @Test func runIDsBecomeSafeFileNames() throws {
        #expect(ResultSpool.fileName(for: "r_2026-12-06.1") == "r_2026-12-06.1.json")
        #expect(ResultSpool.fileName(for: "../etc/passwd") == "%2E.%2Fetc%2Fpasswd.json")
        #expect(ResultSpool.fileName(for: "a b") == "a%20b.json")
        let scratch = try ScratchDirectory(prefix: "agent-spool")
        let spool = try ResultSpool(directory: scratch.path("spool"))
        try spool.store(Self.result("../x/y"))
        let reopened = try ResultSpool(directory: scratch.path("spool"))
        #expect(reopened.runIDs() == ["../x/y"])
    }

    // MARK: configuration

    @Test func configurationParsingAndValidation() throws {
        #expect(try AgentConfiguration.parseLabels("floor=2, rack = b") == ["floor": "2", "rack": "b"])
        #expect(throws: AgentConfigurationError.invalid("label \"rack\" must be key=value")) {
            try AgentConfiguration.parseLabels("floor=2,rack")
        }
        #expect(try AgentConfiguration.parsePortRange("40000-40999") == 40000...40999)
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration.parsePortRange("80-90") }
        let v4 = try AgentConfiguration.parseListen("10.1.0.2:5070")
        #expect(v4.host == "10.1.0.2" && v4.port == 5070)
        let v6 = try AgentConfiguration.parseListen("[::1]:0")
        #expect(v6.host == "::1" && v6.port == 0)
        let bare = try AgentConfiguration.parseListen("0.0.0.0")
        #expect(bare.host == "0.0.0.0" && bare.port == 5060)

        var configuration = AgentConfiguration(organizerURL: "http://x/v1/agent", stateDirectory: "/tmp/s", name: "a")
        #expect(throws: AgentConfigurationError.self) { try configuration.validate() }
        configuration.organizerURL = "ws://127.0.0.1:8760/v1/agent"
        try configuration.validate()
        configuration.maxConcurrentCalls = 0
        #expect(throws: AgentConfigurationError.invalid("max concurrent calls must be at least 1, got 0")) { try configuration.validate() }
    }

    @Test func startWithoutCredentialOrTokenSaysHowToEnroll() async throws {
        let scratch = try ScratchDirectory(prefix: "agent-start")
        let configuration = AgentConfiguration(organizerURL: "ws://127.0.0.1:9/v1/agent", stateDirectory: scratch.path("state"),
                                               name: "lonely", sipHost: "127.0.0.1", sipPort: 0)
        await #expect {
            _ = try await Agent.start(configuration)
        } throws: { error in
            guard case .state(let message)? = error as? AgentStartError else { return false }
            return message.hasPrefix("no credential in \(scratch.path("state"))/credential.json: start once with an enrollment token")
        }
        // Nothing was created: no spool, no listener left behind.
        #expect(!FileManager.default.fileExists(atPath: scratch.path("state/spool")))
    }
}
