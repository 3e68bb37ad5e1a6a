import ArgumentParser
import EarshotWire
import Foundation

/// `earshot-loadgen agents`: N agents connected and heartbeating for a while; heartbeat →
/// heartbeat_ack latency.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "Enroll and connect N simulated agents, heartbeat for a while, print a JSON summary.",
        discussion: """
            Each agent gets an enrollment token from POST /v1/agents/tokens, enrolls over the WebSocket, says \
            hello and heartbeats every --heartbeat (each from a random phase, so the fleet's heartbeats are \
            spread). The heartbeat latency is from writing a heartbeat to reading its heartbeat_ack, measured \
            in this process (it includes the load generator's own scheduling). Agents advertise no test types \
            and refuse assignments.
            """)

    @OptionGroup var organizer: OrganizerOptions

    @Option(help: "Agents to simulate.")
    var count: Int = 100

    @Option(help: "Heartbeat interval.")
    var heartbeat: String = "10s"

    @Option(help: "How long to stay connected once all are connected.")
    var duration: String = "60s"

    @Option(name: .customLong("connect-timeout"), help: "How long connecting all agents may take.")
    var connectTimeout: String = "300s"

    struct Summary: Codable {
        var mode = "agents"
        var tag: String
        var agents: Int
        var connected: Int
        var enrollSeconds: Double
        var connectSeconds: Double
        var steadySeconds: Double
        var heartbeatIntervalS: Double
        var heartbeatLatency: LatencySummary
        var counters: [String: Int]
        var loadgenCPUSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case mode, tag, agents, connected, enrollSeconds = "enroll_s", connectSeconds = "connect_s"
            case steadySeconds = "steady_s", heartbeatIntervalS = "heartbeat_interval_s"
            case heartbeatLatency = "heartbeat_latency", counters, loadgenCPUSeconds = "loadgen_cpu_s"
        }
    }

    func run() async throws {
        let interval = try parseDuration(heartbeat, "--heartbeat")
        let steady = try parseDuration(duration, "--duration")
        let connectLimit = try parseDuration(connectTimeout, "--connect-timeout")
        guard count > 0 else { throw ValidationError("--count must be at least 1") }
        let api = try organizer.apiClient()
        let tag = organizer.resolvedTag
        let clock = ContinuousClock()

        note("creating \(count) enrollment tokens")
        let enrollStart = clock.now
        let tokens = try await enrollmentTokens(api, count: count, site: "loadgen", labels: ["loadgen": tag])
        let enrollTime = clock.now - enrollStart

        let fleet = Fleet(organizerURL: organizer.organizer, heartbeatInterval: interval, connectConcurrency: organizer.ramp,
                          resultConcurrency: 1, answerAssignments: false, tests: [])
        note("connecting \(count) agents")
        let connectStart = clock.now
        var connectTime = Duration.zero
        var steadyTime = Duration.zero
        await withTaskGroup(of: Void.self) { group in
            for (i, token) in tokens.enumerated() {
                let agent = SimulatedAgent(index: i, name: "lg-\(tag)-\(i)", site: "loadgen", labels: ["loadgen": tag],
                                           identity: .token(token), fleet: fleet)
                group.addTask { await agent.run() }
            }
            _ = try? await waitForConnections(fleet, expected: count, timeout: connectLimit)
            connectTime = clock.now - connectStart
            note("\(fleet.counters["connected"]) connected in \(String(format: "%.1f", seconds(connectTime))) s; holding for \(duration)")
            let steadyStart = clock.now
            try? await Task.sleep(for: steady)
            steadyTime = clock.now - steadyStart
            group.cancelAll()
        }
        try printJSON(Summary(
            tag: tag, agents: count, connected: fleet.counters["connected"], enrollSeconds: round3(seconds(enrollTime)),
            connectSeconds: round3(seconds(connectTime)), steadySeconds: round3(seconds(steadyTime)),
            heartbeatIntervalS: seconds(interval), heartbeatLatency: fleet.heartbeatLatency.summary(),
            counters: fleet.counters.all, loadgenCPUSeconds: ownCPUSeconds().map(round3)))
    }
}

/// `earshot-loadgen ingest`: results through the organizer's ingest path, acknowledgement
/// latency and rate.
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Send RunResults through the agent protocol; print results/s and ack latency as JSON.",
        discussion: """
            --mode stored (default): enrolls --agents agents labelled loadgen=<tag>, creates the suite \
            loadgen-<tag> (p2p mesh of them, interval 1d) with PUT /v1/suites/{name}, and asks for rounds \
            with POST /v1/suites/{name}/run until --results results have been assigned. Each agent accepts \
            its assignments at once and answers with a synthetic passed result (one received direction with \
            every metric, a call summary for the caller) — so what is measured is the organizer's whole \
            path: frame decoding, the ingest batcher, the SQLite commit, the result_ack, and the run merge. \
            --mode unknown: no suite; each agent sends results for run ids the organizer does not know and \
            the organizer answers stored=false (the path without the commit of a result).

            At most --concurrency results are unacknowledged at once across all agents. The rate is \
            acknowledged results ÷ (last ack − first result sent); latency is per result, from writing \
            its frame to reading its result_ack.
            """)

    enum Mode: String, ExpressibleByArgument { case stored, unknown }

    @OptionGroup var organizer: OrganizerOptions

    @Option(help: "Results to send.")
    var results: Int = 100_000

    @Option(help: "Results unacknowledged at once, across all agents.")
    var concurrency: Int = 1000

    @Option(help: "Simulated agents (a mesh of N agents makes N(N-1) runs, 2 results each, per round).")
    var agents: Int = 40

    @Option(help: "stored: real runs of a suite; unknown: results for unknown runs (stored=false).")
    var mode: Mode = .stored

    @Option(help: "Heartbeat interval of the simulated agents.")
    var heartbeat: String = "10s"

    @Option(help: "Give up waiting for acknowledgements after this long once everything was sent.")
    var drain: String = "120s"

    struct Summary: Codable {
        var mode: String
        var tag: String
        var agents: Int
        var concurrency: Int
        var resultsSent: Int
        var resultsStored: Int
        var resultsRefused: Int
        var rounds: Int
        var runsCreated: Int
        var seconds: Double?
        var resultsPerSecond: Double?
        var ackLatency: LatencySummary
        var heartbeatLatency: LatencySummary
        var counters: [String: Int]
        var loadgenCPUSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case mode, tag, agents, concurrency, resultsSent = "results_sent", resultsStored = "results_stored"
            case resultsRefused = "results_refused", rounds, runsCreated = "runs_created", seconds
            case resultsPerSecond = "results_per_s", ackLatency = "ack_latency", heartbeatLatency = "heartbeat_latency"
            case counters, loadgenCPUSeconds = "loadgen_cpu_s"
        }
    }

    func run() async throws {
        guard results > 0, concurrency > 0 else { throw ValidationError("--results and --concurrency must be at least 1") }
        guard mode == .unknown || agents >= 2 else { throw ValidationError("--agents: a mesh needs at least 2") }
        let interval = try parseDuration(heartbeat, "--heartbeat")
        let drainLimit = try parseDuration(drain, "--drain")
        let api = try organizer.apiClient()
        let tag = organizer.resolvedTag
        let suiteName = "loadgen-\(tag)"

        note("enrolling \(agents) agents")
        let tokens = try await enrollmentTokens(api, count: agents, site: "loadgen", labels: ["loadgen": tag])
        let fleet = Fleet(organizerURL: organizer.organizer, heartbeatInterval: interval, connectConcurrency: organizer.ramp,
                          resultConcurrency: concurrency, answerAssignments: mode == .stored, tests: mode == .stored ? [.p2p] : [])
        var rounds = 0
        var runsCreated = 0
        var failure: (any Error)?
        await withTaskGroup(of: Void.self) { group in
            for (i, token) in tokens.enumerated() {
                let agent = SimulatedAgent(index: i, name: "lg-\(tag)-\(i)", site: "loadgen", labels: ["loadgen": tag],
                                           identity: .token(token), fleet: fleet)
                group.addTask { await agent.run() }
            }
            do {
                guard try await waitForConnections(fleet, expected: agents, timeout: .seconds(120)),
                      fleet.counters["connected"] == agents else {
                    throw OrganizerAPI.Failure(description: "only \(fleet.counters["connected"]) of \(agents) agents connected")
                }
                switch mode {
                case .stored:
                    (rounds, runsCreated) = try await driveRounds(api, suiteName: suiteName, tag: tag, fleet: fleet)
                case .unknown:
                    try await sendUnknown(fleet)
                }
                let deadline = ContinuousClock.now + drainLimit
                while fleet.resultAckLatency.count < min(results, fleet.counters["results_sent"]) || fleet.counters["results_sent"] < results,
                      ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
            } catch {
                failure = error
            }
            group.cancelAll()
        }
        if mode == .stored { try? await api.deleteSuite(suiteName) }
        if let failure { note("\(failure)") }
        let acked = fleet.resultAckLatency.count
        let span = fleet.ingestSpanMs
        try printJSON(Summary(
            mode: mode.rawValue, tag: tag, agents: agents, concurrency: concurrency, resultsSent: fleet.counters["results_sent"],
            resultsStored: fleet.counters["results_stored"], resultsRefused: fleet.counters["results_refused"], rounds: rounds,
            runsCreated: runsCreated, seconds: span.map { round3($0 / 1000) },
            resultsPerSecond: span.flatMap { $0 > 0 ? (Double(acked) / ($0 / 1000)).rounded() : nil },
            ackLatency: fleet.resultAckLatency.summary(), heartbeatLatency: fleet.heartbeatLatency.summary(),
            counters: fleet.counters.all, loadgenCPUSeconds: ownCPUSeconds().map(round3)))
        if failure != nil { throw ExitCode(1) }
    }

    /// Asks for rounds while fewer than `results` results were assigned, keeping about two
    /// rounds of assignments ahead of what was sent.
    private func driveRounds(_ api: OrganizerAPI, suiteName: String, tag: String, fleet: Fleet) async throws -> (Int, Int) {
        let spec = SuiteSpec(name: suiteName, type: .p2p, description: "earshot-loadgen ingest benchmark",
                             members: MemberSelector(labels: ["loadgen": tag]), topology: .mesh, interval: .seconds(86400),
                             duration: .seconds(1), thresholds: .defaults)
        _ = try await api.putSuite(spec)
        var rounds = 0
        var runs = 0
        var failures = 0
        let perRound = agents * (agents - 1) * 2
        while runs * 2 < results {
            let backlog = fleet.counters["assignments"] - fleet.counters["results_sent"]
            if backlog > perRound * 2 {
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            do {
                let round = try await api.runSuite(suiteName)
                rounds += 1
                runs += round.runIDs.count
                failures = 0
                if round.runIDs.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            } catch {
                failures += 1
                if failures >= 50 { throw error }
                if failures == 1 { note("run \(suiteName): \(error) (retrying)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return (rounds, runs)
    }

    /// `--mode unknown`: every agent sends its share of results for unknown runs.
    private func sendUnknown(_ fleet: Fleet) async throws {
        let perAgent = (results + agents - 1) / agents
        fleet.counters.add("unknown_mode")
        await withTaskGroup(of: Void.self) { group in
            for agent in fleet.connectedAgents() {
                group.addTask {
                    for n in 0..<perAgent {
                        guard !Task.isCancelled else { return }
                        do {
                            try await agent.sendUnknownResult(n)
                        } catch {
                            fleet.counters.add("send_errors")
                            return
                        }
                    }
                }
            }
        }
    }
}
