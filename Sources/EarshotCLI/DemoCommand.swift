import AgentKit
import ArgumentParser
import EarshotStore
import EarshotWire
import Foundation
import Logging
import OrganizerKit

/// What `earshot demo` sets up: agent names and the three suites. Pure.
enum DemoPlan {
    static let names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
    static let agentRange = 2...10
    /// Session-Expires 90 makes the caller refresh at 45 s; 50 s of call hold one refresh.
    static let soakDuration = WireDuration.seconds(50)

    /// The agent hosting the conference's built-in bridge (not a participant, not in the mesh).
    static let bridgeName = "bridge"
    /// The conference: every demo agent for 15 s, joining over 2 s, DTMF relayed by the bridge.
    static let conferenceDuration = WireDuration.seconds(15)
    static let conferenceDTMF = "159#"

    static func agentNames(_ count: Int) -> [String] { Array(names.prefix(count)) }

    /// A p2p mesh of every agent, a conference of every agent on the built-in bridge hosted
    /// by `bridgeName` (the first agent sends DTMF through it), a DTMF call (first → second
    /// agent), a soak (second → third, or second → first with two agents). Paused: they run
    /// once, now, and never on a schedule.
    static func suites(agents: [String], duration: WireDuration) -> [SuiteSpec] {
        precondition(agents.count >= 2)
        let first = agents[0], second = agents[1], third = agents.count > 2 ? agents[2] : agents[0]
        return [
            SuiteSpec(name: "demo-mesh", type: .p2p, description: "earshot demo: every ordered pair",
                      members: MemberSelector(agents: agents), topology: .mesh, interval: .minutes(60), duration: duration,
                      paused: true),
            SuiteSpec(name: "demo-conference", type: .conference,
                      description: "earshot demo: every agent in one conference on the built-in bridge, DTMF through it",
                      members: MemberSelector(agents: agents), interval: .minutes(60), duration: conferenceDuration,
                      dtmf: conferenceDTMF, paused: true,
                      conference: ConferenceSettings(bridge: .agent, bridgeAgent: bridgeName, joinSpread: .seconds(2),
                                                     dtmfMode: .relay, dtmfFrom: first)),
            SuiteSpec(name: "demo-dtmf", type: .dtmf, description: "earshot demo: RFC 4733 digits in a call",
                      members: MemberSelector(agents: [first, second]), topology: Topology(kind: .pairs, pairs: [[first, second]]),
                      interval: .minutes(60), duration: max(duration, .seconds(5)), dtmf: "123#", paused: true),
            SuiteSpec(name: "demo-soak", type: .soak, description: "earshot demo: a call held across a session-timer refresh",
                      members: MemberSelector(agents: [second, third]), topology: Topology(kind: .pairs, pairs: [[second, third]]),
                      interval: .minutes(60), duration: soakDuration, sessionExpires: 90, paused: true),
        ]
    }

    /// Each agent its own RTP range (200 ports: 100 concurrent calls).
    static func rtpPorts(index: Int) -> ClosedRange<UInt16> {
        let low = 41_000 + index * 200
        return UInt16(low)...UInt16(low + 199)
    }
}

/// The result of `earshot demo` (`--format json`).
struct DemoOutcome: Codable, Sendable {
    var ok: Bool
    var organizer: String
    var database: String
    var databaseKept: Bool
    var agents: [String]
    var report: Report
    var runs: [RunSummary]
    /// Runs that did not pass.
    var failed: [RunSummary]
    /// Details of the conference, DTMF and soak runs and of the first failed runs (fetched before the
    /// organizer stopped).
    var details: [RunDetail]
    var elapsedS: Double

    enum CodingKeys: String, CodingKey {
        case ok, organizer, database, databaseKept = "database_kept", agents, report, runs, failed, details
        case elapsedS = "elapsed_s"
    }
}

/// `earshot demo`: an organizer on a temporary SQLite file and N agents on loopback in this
/// process; a mesh, a conference, a DTMF call and a short soak; progress; the report; exit 0
/// when every run passed.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Organizer + agents on loopback in one process: a p2p mesh, a conference, a DTMF call, a soak, then the report.",
        discussion: """
            Nothing to install or configure and no root: the organizer listens on 127.0.0.1 (a free port) \
            with a temporary SQLite database, the agents enroll through its API with one-time tokens (plus \
            one more, "bridge", that hosts the conference's built-in bridge). \
            Takes about a minute (the soak holds a call for 50 s so that its session timer refreshes once). \
            Exit 0 when every run passed, 1 otherwise (the failed runs are shown), 2 when the system could \
            not be started.
            """
    )

    @Option(help: ArgumentHelp("Agents to start (2–10).", valueName: "n"))
    var agents: Int = 3

    @Option(help: ArgumentHelp("Call duration of the mesh and the DTMF call.", valueName: "duration"))
    var duration: String = "10s"

    @Flag(name: .customLong("keep-db"), inversion: .prefixedNo,
          help: "Keep the demo's database (and the agents' state) in its temporary directory afterwards, to browse with earshot-organizer run --db PATH (default), or remove it.")
    var keepDB = true

    @Flag(help: "Log the organizer's and agents' notices to stderr.")
    var verbose = false

    @Option(help: "table or json")
    var format: ConsoleFormat = .table

    func settings() throws -> (names: [String], duration: WireDuration) {
        guard DemoPlan.agentRange.contains(agents) else {
            throw CommandFailure.usage("--agents must be \(DemoPlan.agentRange.lowerBound)–\(DemoPlan.agentRange.upperBound), got \(agents)")
        }
        let duration = try ConsoleArguments.duration(duration, option: "--duration")
        guard duration.seconds >= 1, duration.seconds <= 600 else {
            throw CommandFailure.usage("--duration must be between 1s and 10m, got \(self.duration)")
        }
        return (DemoPlan.agentNames(agents), duration)
    }

    func run() async throws {
        do {
            let (names, duration) = try settings()
            let progress = ProgressView.standard(jsonOnStdout: format == .json)
            let outcome = try await Demo(names: names, duration: duration, keepDatabase: keepDB,
                                         logLevel: verbose ? .notice : .critical, progress: progress).run()
            let render = ConsoleRender.terminal()
            try printConsole(outcome, format: format) { render.demo(outcome) }
            if !outcome.ok { throw ExitCode(1) }
        } catch let failure as CommandFailure {
            throw failure.exit()
        } catch let error as OrganizerClientError {
            throw CommandFailure(message: "demo: \(error.message)", code: 2).exit()
        } catch let error as DemoError {
            throw CommandFailure(message: "demo: \(error.message)", code: 2).exit()
        }
    }
}

struct DemoError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// An organizer on a temporary SQLite file and agents on loopback, in this process, the
/// agents enrolled through the API and online. `earshot demo` runs one; tests use it too.
final class LoopbackSystem {
    let directory: URL
    let database: String
    let organizer: RunningOrganizer
    /// With the organizer's admin token.
    let client: OrganizerClient
    private(set) var agents: [RunningAgent] = []
    let keepDatabase: Bool

    private init(directory: URL, database: String, organizer: RunningOrganizer, keepDatabase: Bool) {
        self.directory = directory
        self.database = database
        self.organizer = organizer
        self.keepDatabase = keepDatabase
        client = OrganizerClient(baseURL: organizer.baseURL, token: organizer.adminToken)
    }

    /// Starts the organizer, then `names.count` agents (site `demo`, label demo=true), and waits
    /// until the roster shows them all online. On failure everything started is stopped again.
    static func start(names: [String], keepDatabase: Bool = false, logLevel: Logger.Level = .critical,
                      onOrganizer: (LoopbackSystem) -> Void = { _ in }) async throws -> LoopbackSystem {
        func logger(_ label: String) -> Logger {
            var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = logLevel
            return logger
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("earshot-demo-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DemoError(message: "cannot create \(directory.path): \(error.localizedDescription)")
        }
        let database = directory.appendingPathComponent("earshot.sqlite").path
        let storage: SQLiteStorage
        do {
            storage = try SQLiteStorage(path: database)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw DemoError(message: "cannot open the database \(database): \(error)")
        }
        var configuration = OrganizerConfiguration(host: "127.0.0.1", port: 0, database: database)
        configuration.heartbeatInterval = .seconds(2)
        configuration.logLevel = logLevel
        let organizer: RunningOrganizer
        do {
            organizer = try await Organizer.start(configuration: configuration, storage: storage, logger: logger("earshot.organizer"))
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw DemoError(message: "the organizer did not start: \(error)")
        }
        let system = LoopbackSystem(directory: directory, database: database, organizer: organizer, keepDatabase: keepDatabase)
        onOrganizer(system)
        do {
            for (index, name) in names.enumerated() {
                let token = try await system.client.createToken(EnrollmentTokenRequest(site: "demo", ttl: .minutes(10)))
                let agentConfiguration = AgentConfiguration(
                    organizerURL: ConnectionOptions.agentEndpoint(organizer.baseURL), enrollmentToken: token.token,
                    stateDirectory: directory.appendingPathComponent("agents/\(name)").path, name: name, site: "demo",
                    labels: ["demo": "true"], sipHost: "127.0.0.1", sipPort: 0, rtpPorts: DemoPlan.rtpPorts(index: index),
                    maxConcurrentCalls: 20)
                do {
                    system.agents.append(try await Agent.start(agentConfiguration, logger: logger("earshot.agent.\(name)")))
                } catch {
                    throw DemoError(message: "agent \(name) did not start: \(error)")
                }
            }
            try await system.waitOnline(names, timeout: .seconds(30))
        } catch {
            await system.stop()
            throw error
        }
        return system
    }

    /// Starts a system, runs `body` with it and always stops it.
    static func with<T>(names: [String], _ body: (LoopbackSystem) async throws -> T) async throws -> T {
        let system = try await start(names: names)
        do {
            let result = try await body(system)
            await system.stop()
            return result
        } catch {
            await system.stop()
            throw error
        }
    }

    /// Agents first (their last results are sent), then the organizer; the temporary
    /// directory goes unless the database is kept.
    func stop() async {
        for agent in agents { await agent.shutdown() }
        agents = []
        await organizer.shutdown()
        await client.shutdown()
        if !keepDatabase { try? FileManager.default.removeItem(at: directory) }
    }

    /// Until every named agent is online in the roster.
    func waitOnline(_ names: [String], timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let online = Set(try await client.agents().filter { $0.state == .online }.map(\.name))
            let missing = names.filter { !online.contains($0) }
            if missing.isEmpty { return }
            if clock.now >= deadline {
                throw DemoError(message: "agents not online after \(WireDuration(seconds: timeout.seconds)): \(missing.joined(separator: ", "))")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// One demo: start, run the four suites, report, stop.
struct Demo {
    let names: [String]
    let duration: WireDuration
    let keepDatabase: Bool
    let logLevel: Logger.Level
    let progress: ProgressView

    func run() async throws -> DemoOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let startedAt = Date()
        func elapsed() -> Duration { clock.now - started }
        let system = try await LoopbackSystem.start(names: names + [DemoPlan.bridgeName], keepDatabase: keepDatabase,
                                                    logLevel: logLevel) { system in
            progress.note("organizer at \(system.organizer.baseURL), database \(system.database)", elapsed: elapsed())
        }
        let client = system.client
        do {
            progress.note("\(names.count) agents online: \(names.joined(separator: ", ")), and \(DemoPlan.bridgeName) to host the conference bridge", elapsed: elapsed())
            var rounds: [(label: String, round: RoundInfo)] = []
            for spec in DemoPlan.suites(agents: names, duration: duration) {
                _ = try await client.putSuite(spec)
                let round = try await client.runSuite(spec.name)
                let label = String(spec.name.dropFirst("demo-".count))
                rounds.append((label, round))
                progress.note("\(label): \(round.runIDs.count) run\(round.runIDs.count == 1 ? "" : "s") (\(spec.type.rawValue), \(spec.duration))\(round.notRun.isEmpty ? "" : ", \(round.notRun.count) not run")", elapsed: elapsed())
            }
            let longest = max(duration.seconds, DemoPlan.soakDuration.seconds, DemoPlan.conferenceDuration.seconds)
            let waited = try await RoundWaiter(client: client)
                .wait(for: rounds, timeout: .seconds(Int64(longest) + 120), progress: progress, started: started)
            progress.finish()
            let runs = waited.rounds.flatMap(\.runs)
            let failed = runs.filter { $0.status != .passed }
            var details: [RunDetail] = []
            let shown = runs.filter { $0.testType != .p2p && $0.status.isFinal }
                + failed.filter { $0.testType == .p2p && $0.status.isFinal }.prefix(3)
            for run in shown {
                if let detail = try? await client.run(run.id) { details.append(detail) }
            }
            let report = try await client.report(since: startedAt.addingTimeInterval(-60), until: nil, suite: nil)
            var outcome = DemoOutcome(ok: failed.isEmpty && !waited.timedOut && !runs.isEmpty, organizer: system.organizer.baseURL,
                                      database: system.database, databaseKept: keepDatabase, agents: names, report: report,
                                      runs: runs, failed: failed, details: details, elapsedS: 0)
            await system.stop()
            outcome.elapsedS = (elapsed().seconds * 10).rounded() / 10
            return outcome
        } catch {
            await system.stop()
            throw error
        }
    }
}

extension ConsoleRender {
    func demo(_ outcome: DemoOutcome) -> String {
        var sections = [report(outcome.report, metric: nil)]
        var summary = ["runs: \(Self.statusCounts(Dictionary(grouping: outcome.runs, by: \.status.rawValue).mapValues(\.count))) in \(WireDuration(seconds: outcome.elapsedS.rounded()))"]
        summary += outcome.details.filter { $0.run.testType != .p2p }.map(Self.highlight)
        sections.append(summary.joined(separator: "\n"))
        for detail in outcome.details {
            guard let conference = detail.conference, !conference.legs.isEmpty else { continue }
            var names: [String: String] = [:]
            for p in detail.participants { names[p.agentID] = p.name }
            sections.append("Conference hearing matrix (rows: listener, columns: speaker)\n"
                + hearing(conference, name: { names[$0] ?? $0 }) + "\n" + Self.hearingLegend)
        }
        if !outcome.failed.isEmpty {
            sections.append("runs that did not pass:\n" + runs(outcome.failed))
            sections += outcome.details.filter { $0.run.status != .passed }.map { runDetail($0) }
        }
        sections.append(outcome.databaseKept
            ? "database: \(outcome.database) (kept; browse it with: earshot-organizer run --db \(outcome.database))"
            : "database: \(outcome.database) (removed on exit: --no-keep-db)")
        sections.append(outcome.ok ? "demo passed: every run passed" : "demo FAILED: \(outcome.failed.count) of \(outcome.runs.count) runs did not pass")
        return sections.joined(separator: "\n\n")
    }

    /// `3 participants, 6 of 6 heard, no echo; DTMF 159# reached 2 of 2 (relay)`.
    static func conferenceFacts(_ c: ConferenceSummary) -> String {
        let others = c.hearing.filter { $0.listener != $0.speaker }
        let heard = others.filter { $0.state == .heard }.count
        let echoes = c.hearing.filter { $0.state == .echo }.count
        var text = "\(c.legs.count) participants, \(heard) of \(others.count) heard"
        text += echoes == 0 ? ", no echo" : ", \(echoes) ECHO"
        if let dtmf = c.dtmf {
            let receivers = dtmf.received.filter { $0.key != dtmf.sender }
            let got = receivers.values.filter { $0 == dtmf.sent }.count
            text += "; DTMF \(dtmf.sent) reached \(got) of \(receivers.count)\(dtmf.mode.map { " (\($0.rawValue))" } ?? "")"
        }
        return text
    }

    /// `dtmf  alice → bob  passed: DTMF sent 123#, received 123#`;
    /// `soak  bob → carol  passed: 50.0 s, session timer 90 s by UPDATE; refreshed at 45.0 s (UPDATE → 200 ok)`.
    static func highlight(_ detail: RunDetail) -> String {
        var line = "\(detail.run.testType.rawValue)  \(participantList(detail.run))  \(detail.run.status.rawValue)"
        var facts: [String] = []
        if detail.conference == nil, let dtmf = detail.dtmf {
            facts.append("DTMF sent \(dtmf.sent.isEmpty ? none : dtmf.sent), received \(dtmf.received.isEmpty ? none : dtmf.received)")
        }
        if let conference = detail.conference { facts.append(Self.conferenceFacts(conference)) }
        if detail.run.testType == .soak, let call = detail.call {
            var text = "\(number(call.actualDurationS, 1)) s"
            if let interval = call.sessionIntervalS { text += ", session timer \(interval) s by \(call.refreshMethod ?? "?")" }
            let refreshes = call.refreshes.map { "\(number($0.atS, 1)) s (\($0.method) → \($0.statusCode.map(String.init) ?? "no answer") \($0.outcome))" }
            text += refreshes.isEmpty ? "; no refresh" : "; refreshed at " + refreshes.joined(separator: ", ")
            facts.append(text)
        }
        if detail.run.status != .passed, let runCause = detail.run.cause { facts.append(Self.cause(runCause)) }
        if !facts.isEmpty { line += ": " + facts.joined(separator: "; ") }
        return line
    }
}
