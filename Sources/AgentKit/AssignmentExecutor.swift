import CEarshotNet
import EarshotWire
import Foundation
import Logging
import MediaEngine
import NIOCore
import NIOPosix
import SIPCore
import SIPStack
import SIPTransaction

/// How the executor's engine listens and how much it may do at once.
public struct ExecutorConfiguration: Sendable {
    /// SIP listening address; UDP and TCP on `sipPort` (0: a free port each).
    public var sipHost: String
    public var sipPort: UInt16
    /// The address peers reach us at when `sipHost` is a wildcard (default: the source address
    /// of the route toward `routeProbeHost`, else 127.0.0.1).
    public var advertisedHost: String?
    /// A host whose route picks the advertised address (the organizer's).
    public var routeProbeHost: String?
    public var rtpPorts: ClosedRange<UInt16>
    public var maxConcurrentCalls: Int
    public var timers: TransactionTimers
    /// Hosts conference bridges (role `bridge`); without it such assignments are refused.
    public var bridge: Bool
    /// Standing rooms opened at start and kept for the executor's lifetime.
    public var rooms: [RoomConfiguration]

    public init(sipHost: String = "0.0.0.0", sipPort: UInt16 = 5060, advertisedHost: String? = nil,
                routeProbeHost: String? = nil, rtpPorts: ClosedRange<UInt16> = 40000...40999, maxConcurrentCalls: Int = 20,
                timers: TransactionTimers = .rfc3261, bridge: Bool = true, rooms: [RoomConfiguration] = []) {
        self.sipHost = sipHost
        self.sipPort = sipPort
        self.advertisedHost = advertisedHost
        self.routeProbeHost = routeProbeHost
        self.rtpPorts = rtpPorts
        self.maxConcurrentCalls = maxConcurrentCalls
        self.timers = timers
        self.bridge = bridge
        self.rooms = rooms
    }
}

/// Runs assignments with the agent's one SIP user agent and media engine (DESIGN §3): callers
/// place their call at `start_at` with `X-Earshot-Run: <run>`, callees wait for an INVITE
/// carrying their run id until the deadline; register and options tests use the same user
/// agent. Conference participants and bridges (ConferenceRuns.swift) and standing rooms
/// use the same user agent. Every run ends in exactly one `RunResult`, handed to `results`.
public actor AssignmentExecutor {
    public let configuration: ExecutorConfiguration
    let userAgent: SIPUserAgent
    let media: MediaEngine
    let logger: Logger
    var agentID: String
    private var sink: (@Sendable (RunResult) async -> Void)?

    /// An accepted assignment not finished yet.
    struct Run {
        var assignment: Assignment
        var task: Task<Void, Never>?
        var cancelReason: String?
        /// Callee: when its INVITE came (nil: still waiting).
        var inviteAt: Date?
        /// The call is up (or being set up): only the user agent can end it now.
        var inCall = false
    }
    var runs: [String: Run] = [:]
    /// Bridges open now (conference runs and standing rooms), by the user part they answer.
    var bridges: [String: OpenBridge] = [:]
    /// Calls for a bridge that will not report them (refused before it opened, or still
    /// ending when it closed): their reports are dropped.
    var ignoredCalls: Set<String> = []
    /// Standing rooms' registration retries.
    var roomTasks: [Task<Void, Never>] = []
    /// Runs finished lately (a re-sent `assign` after a reconnect must not run them twice).
    private var finished: [String] = []
    private var finishedSet: Set<String> = []
    /// Calls answered that no assignment announced (reported under their X-Earshot-Run).
    private var unassignedCalls = 0
    private var unassignedStarts: [String: Date] = [:]

    private init(configuration: ExecutorConfiguration, userAgent: SIPUserAgent, media: MediaEngine, agentID: String, logger: Logger) {
        self.configuration = configuration
        self.userAgent = userAgent
        self.media = media
        self.agentID = agentID
        self.logger = logger
    }

    /// Opens the media engine and starts listening.
    public static func start(_ configuration: ExecutorConfiguration, agentID: String = "",
                             logger: Logger = Logger(label: "earshot.agent.executor")) async throws(AgentStartError) -> AssignmentExecutor {
        let wildcard = configuration.sipHost == "0.0.0.0" || configuration.sipHost == "::"
        var advertised = configuration.advertisedHost
        if advertised == nil, wildcard {
            advertised = configuration.routeProbeHost.flatMap(routeSource(toward:)) ?? "127.0.0.1"
        }
        let media: MediaEngine
        do {
            // RTCP every 2 s (U(0.5, 1.5) × randomised, RFC 3550 §6.3.1) rather than the 5 s
            // §6.2 recommends: a test call of 10 s then has RTCP round trips both ways, which
            // MOS-CQ needs; two endpoints at 64 kbit/s make this about 0.2 % extra traffic.
            media = try MediaEngine(configuration: MediaEngine.Configuration(
                portRange: configuration.rtpPorts, bindAddress: wildcard ? (configuration.sipHost == "::" ? "::" : "0.0.0.0") : configuration.sipHost,
                rtcpIntervalSeconds: 2))
        } catch {
            throw .media("cannot start the media engine on RTP ports \(configuration.rtpPorts.lowerBound)-\(configuration.rtpPorts.upperBound): \(error)")
        }
        let listeners = [SIPTransportKind.udp, .tcp].map {
            SIPListenerConfiguration(kind: $0, host: configuration.sipHost, port: configuration.sipPort, advertisedHost: advertised)
        }
        let userAgent = SIPUserAgent(
            configuration: UserAgentConfiguration(listeners: listeners, user: "earshot", timers: configuration.timers,
                                                  toneFrequency: 1850),
            media: media, group: MultiThreadedEventLoopGroup.singleton)
        do {
            try await userAgent.start()
        } catch {
            await media.shutdown()
            throw .sip("cannot listen for SIP on \(configuration.sipHost):\(configuration.sipPort) (udp, tcp): \(error)")
        }
        let executor = AssignmentExecutor(configuration: configuration, userAgent: userAgent, media: media, agentID: agentID, logger: logger)
        await userAgent.setIncomingCallPolicy { [weak executor] info in
            await executor?.incomingCall(info) ?? IncomingCallSettings()
        }
        await userAgent.setIncomingCallHandler { [weak executor] report in
            Task { await executor?.incomingCallEnded(report) }
        }
        do {
            try await executor.openRooms()
        } catch {
            await userAgent.shutdown()
            await media.shutdown()
            throw error
        }
        return executor
    }

    /// Where results go (the agent spools, then sends them).
    public func setResultSink(_ sink: @escaping @Sendable (RunResult) async -> Void) { self.sink = sink }

    /// The agent's id, once it is known (enrolled or loaded).
    public func setAgentID(_ id: String) { agentID = id }

    /// The bound SIP listeners.
    public var listeners: [SIPBoundListener] { get async { await userAgent.boundListeners } }

    /// `sip:earshot@host:port;transport=udp` and `…;transport=tcp`, for `hello`.
    public func contacts() async -> [SIPContact] {
        await userAgent.boundListeners.map { listener in
            let host = listener.advertisedHost ?? listener.host
            let literal = host.contains(":") ? "[\(host)]" : host
            return SIPContact(uri: "sip:earshot@\(literal):\(listener.port);transport=\(listener.kind.rawValue)",
                              transport: listener.kind.rawValue)
        }
    }

    public var activeRunIDs: [String] { runs.keys.sorted() }

    /// Whether the run's call is being set up or up (the callee: its INVITE came).
    func isInCall(_ runID: String) -> Bool { runs[runID]?.inCall ?? false }

    /// Stops every run — calls in progress end with BYE and still report, runs not started
    /// report `not_run` — and stops listening.
    public func shutdown() async {
        for (runID, run) in runs {
            runs[runID]?.cancelReason = "the agent is shutting down"
            if !run.inCall { run.task?.cancel() }
        }
        await closeRooms()
        await userAgent.shutdown()
        for run in runs.values { await run.task?.value }
        // Answered calls report through the user agent's handler, a moment after their BYE.
        var waited = 0
        while !runs.isEmpty, waited < 60 {
            try? await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        await media.shutdown()
    }

    // MARK: assignments

    /// Accepts (and starts) or refuses an assignment. An assignment already running or
    /// finished is accepted again without running twice (the organizer re-sends after a
    /// reconnect).
    public func offer(_ assignment: Assignment) -> AssignmentAnswer {
        let runID = assignment.runID
        if runs[runID] != nil || finishedSet.contains(runID) { return AssignmentAnswer(runID: runID, accepted: true) }
        if let refusal = check(assignment) {
            logger.notice("refused run \(runID): \(refusal.detail)")
            return AssignmentAnswer(runID: runID, accepted: false, reason: "\(refusal.code): \(refusal.detail)")
        }
        runs[runID] = Run(assignment: assignment)
        switch (assignment.testType, assignment.role) {
        case (.register, _):
            runs[runID]?.task = Task { await self.runRegister(assignment) }
        case (.options, _):
            runs[runID]?.task = Task { await self.runOptions(assignment) }
        case (.conference, .bridge):
            runs[runID]?.task = Task { await self.runBridge(assignment) }
        case (.conference, _):
            runs[runID]?.task = Task { await self.runParticipant(assignment) }
        case (_, .caller):
            runs[runID]?.task = Task { await self.runCaller(assignment) }
        default:
            runs[runID]?.task = Task { await self.awaitInvite(assignment) }
        }
        logger.info("accepted run \(runID): \(assignment.testType.rawValue) as \(assignment.role.rawValue), start \(WireJSON.formatDate(assignment.startAt))")
        return AssignmentAnswer(runID: runID, accepted: true)
    }

    /// Why an assignment cannot be taken (`unsupported_test`, `bad_assignment`, `capacity`), or nil.
    func check(_ a: Assignment) -> (code: String, detail: String)? {
        switch (a.testType, a.role) {
        case (.p2p, .caller), (.soak, .caller), (.dtmf, .caller):
            guard let call = a.call else { return ("bad_assignment", "a caller assignment without its call") }
            if (try? SIPURI(parsing: call.target)) == nil { return ("bad_assignment", "call target \"\(call.target)\" is not a SIP URI") }
            if Self.payloadType(call.codec) == nil { return ("unsupported_test", "codec \(call.codec) (PCMU and PCMA are supported)") }
        case (.p2p, .callee), (.soak, .callee), (.dtmf, .callee):
            guard a.answer != nil else { return ("bad_assignment", "a callee assignment without its answer settings") }
        case (.register, _):
            guard let spec = a.register else { return ("bad_assignment", "a register assignment without its registrar") }
            if (try? SIPURI(parsing: spec.aor)) == nil { return ("bad_assignment", "address of record \"\(spec.aor)\" is not a SIP URI") }
        case (.options, _):
            guard let spec = a.options else { return ("bad_assignment", "an options assignment without its target") }
            if (try? SIPURI(parsing: spec.target)) == nil { return ("bad_assignment", "options target \"\(spec.target)\" is not a SIP URI") }
        case (.conference, .participant), (.conference, .bridge):
            if let refusal = checkConference(a) { return refusal }
        default:
            return ("unsupported_test", "\(a.testType.rawValue) as \(a.role.rawValue)")
        }
        guard a.deadline > a.startAt else { return ("bad_assignment", "deadline before the start") }
        let calls = Self.calls(of: a)
        if calls > 0 {
            let budget = configuration.maxConcurrentCalls
            let overlapping = Self.maximumOverlap(of: a, with: runs.values.map(\.assignment).filter { Self.calls(of: $0) > 0 })
            if overlapping + unassignedCalls + calls > budget {
                return ("capacity", "\(overlapping + unassignedCalls) calls already planned or running in that time; the budget is \(budget)")
            }
        }
        return nil
    }

    /// Calls of the budget an assignment takes: none for register and options, one per leg
    /// for a conference bridge (`members.count`), else one.
    static func calls(of a: Assignment) -> Int {
        switch (a.testType, a.role) {
        case (.register, _), (.options, _): 0
        case (.conference, .bridge): max(1, a.conference?.members.count ?? 1)
        default: 1
        }
    }

    /// The most calls of `others` running at once at any moment of `a`'s [start, deadline].
    static func maximumOverlap(of a: Assignment, with others: [Assignment]) -> Int {
        let moments = [a.startAt] + others.map(\.startAt).filter { $0 > a.startAt && $0 < a.deadline }
        return moments.map { moment in
            others.filter { $0.startAt <= moment && $0.deadline > moment }.map(Self.calls(of:)).reduce(0, +)
        }.max() ?? 0
    }

    static func payloadType(_ codec: String) -> UInt8? {
        switch codec.uppercased() {
        case "PCMU", "G711U", "G.711U": 0
        case "PCMA", "G711A", "G.711A": 8
        default: nil
        }
    }

    /// Stops a run: a call in progress ends with BYE (or CANCEL) and reports; a run not yet
    /// started reports `not_run` / `cancelled`.
    public func cancel(runID: String, reason: String) async {
        guard let run = runs[runID] else { return }
        runs[runID]?.cancelReason = reason
        if run.assignment.role == .bridge {
            // The bridge's own task ends its legs, closes it and reports.
            run.task?.cancel()
        } else {
            let ended = await userAgent.endCalls(withHeader: runHeaderName, value: runID)
            if ended == 0 { run.task?.cancel() }
        }
        logger.info("run \(runID) cancelled by the organizer: \(reason)")
    }

    func finish(_ result: RunResult) async {
        var result = result
        if let reason = runs[result.runID]?.cancelReason {
            result.status = result.startedAt == nil ? .notRun : .failed
            result.cause = RunCause(code: "cancelled", detail: "cancelled: \(reason)", agentID: agentID)
            if result.evidence == nil { result.evidence = Evidence(notes: ["cancelled: \(reason)"]) }
        }
        runs[result.runID] = nil
        remember(result.runID)
        logger.info("run \(result.runID) \(result.status.rawValue)\(result.cause.map { ": \($0.code)" } ?? "")")
        await sink?(result)
    }

    private func remember(_ runID: String) {
        guard finishedSet.insert(runID).inserted else { return }
        finished.append(runID)
        if finished.count > 4096 {
            finishedSet.remove(finished.removeFirst())
        }
    }

    /// Sleeps until the wall-clock `date`; false when cancelled first.
    static func sleep(until date: Date) async -> Bool {
        let delay = date.timeIntervalSinceNow
        if delay > 0 {
            do { try await Task.sleep(for: .nanoseconds(Int64(delay * 1e9))) } catch { return false }
        }
        return !Task.isCancelled
    }

    // MARK: caller

    private func runCaller(_ a: Assignment) async {
        let context = RunContext(a, agentID: agentID)
        guard await Self.sleep(until: a.startAt) else {
            return await finish(ResultMapping.failure(context, status: .notRun, code: "cancelled", detail: "cancelled before the start"))
        }
        guard let spec = a.call, let request = Self.callRequest(spec, runID: a.runID) else {
            return await finish(ResultMapping.failure(context, code: "bad_assignment", detail: "cannot reach \(a.call?.target ?? "no target"): the host must be an IP address (or give a proxy)"))
        }
        guard runs[a.runID]?.cancelReason == nil else {
            return await finish(ResultMapping.failure(context, status: .notRun, code: "cancelled", detail: "cancelled before the start"))
        }
        runs[a.runID]?.inCall = true
        let started = Date()
        let report = await userAgent.placeCall(request)
        await finish(ResultMapping.result(of: report, RunContext(a, agentID: agentID, startedAt: started, endedAt: Date())))
    }

    /// The engine's request for a caller assignment: `X-Earshot-Run`, tone, codec, DTMF,
    /// session timer, credentials, outbound proxy.
    static func callRequest(_ spec: CallSpec, runID: String) -> CallRequest? {
        guard let target = try? SIPURI(parsing: spec.target), let payloadType = payloadType(spec.codec),
              let destination = destination(of: target, proxy: spec.proxy, transport: spec.transport) else { return nil }
        var headers = SIPHeaders()
        headers.add(SIPHeaderName(runHeaderName), runID)
        let from = spec.credentials?.aor.flatMap { try? SIPURI(parsing: $0) }
        return CallRequest(
            target: target, destination: destination, duration: .nanoseconds(Int64(spec.durationS * 1e9)), payloadType: payloadType,
            dtmf: spec.dtmf, dtmfDelay: .seconds(min(2, max(0.5, spec.durationS / 4))),
            username: spec.credentials?.username, password: spec.credentials?.password,
            expectedRemoteTone: spec.expectedRemoteToneHz, noAnswerTimeout: .nanoseconds(Int64(spec.noAnswerTimeoutS * 1e9)),
            from: from, extraHeaders: headers, toneFrequency: spec.toneHz,
            sessionTimer: spec.sessionExpires.map { SessionTimerSettings(sessionExpires: $0, minSE: min(90, $0)) })
    }

    /// Where a call to `target` goes: the outbound proxy (HOST:PORT) when given, else the
    /// target's host; nil when that is not an IP address.
    static func destination(of target: SIPURI, proxy: String?, transport: String) -> SIPDestination? {
        let kind = SIPTransportKind(rawValue: transport.lowercased()) ?? .udp
        if let proxy {
            return (try? SIPURI(parsing: "sip:\(proxy);transport=\(kind.rawValue)")).flatMap { SIPDestination(uri: $0, defaultKind: kind) }
        }
        var hop = target
        if hop.transport == nil { hop.parameters.set("transport", kind.rawValue) }
        return SIPDestination(uri: hop, defaultKind: kind)
    }

    // MARK: callee

    /// Waits for the run's INVITE until the deadline; the call itself reports through
    /// `incomingCallEnded`.
    private func awaitInvite(_ a: Assignment) async {
        _ = await Self.sleep(until: a.deadline)
        guard let run = runs[a.runID], run.inviteAt == nil else { return }
        let context = RunContext(a, agentID: agentID, startedAt: a.startAt, endedAt: Date())
        if let reason = run.cancelReason {
            return await finish(ResultMapping.failure(RunContext(a, agentID: agentID), status: .notRun, code: "cancelled", detail: reason))
        }
        let caller = a.peers.first { $0.role == .caller }.map { " from \($0.name) (\($0.agentID))" } ?? ""
        await finish(ResultMapping.failure(
            context, code: "timeout",
            detail: "no INVITE for run \(a.runID)\(caller) by the deadline \(WireJSON.formatDate(a.deadline))"))
    }

    /// A new INVITE: attributed by its `X-Earshot-Run`, answered with the run's tone and
    /// expectation. Calls of runs we do not know are answered too and reported under their
    /// run id (the organizer decides what they mean).
    func incomingCall(_ info: IncomingCallInfo) -> IncomingCallSettings {
        if let settings = bridgeCall(info) { return settings }
        guard let runID = info.header(runHeaderName) else {
            logger.notice("answering a call without \(runHeaderName) from \(info.from) (\(info.source)); it is not reported")
            return IncomingCallSettings()
        }
        if let run = runs[runID], let answer = run.assignment.answer {
            runs[runID]?.inviteAt = Date()
            runs[runID]?.inCall = true
            run.task?.cancel()
            return IncomingCallSettings(toneFrequency: answer.toneHz, expectedRemoteTone: answer.expectedRemoteToneHz)
        }
        logger.notice("answering a call for run \(runID), which this agent was not assigned; reporting it under that run")
        unassignedCalls += 1
        unassignedStarts[info.callID] = Date()
        return IncomingCallSettings()
    }

    func incomingCallEnded(_ report: CallReport) async {
        if bridgeCallEnded(report) { return }
        guard let runID = report.inviteHeader(runHeaderName) else { return }
        let ended = Date()
        if let run = runs[runID], run.assignment.answer != nil {
            let context = RunContext(run.assignment, agentID: agentID, startedAt: run.inviteAt, endedAt: ended)
            await finish(ResultMapping.result(of: report, context))
            return
        }
        unassignedCalls = max(0, unassignedCalls - 1)
        let started = unassignedStarts.removeValue(forKey: report.callID)
        let context = RunContext(runID: runID, agentID: agentID, role: .callee, testType: .p2p, peer: nil,
                                 startedAt: started, endedAt: ended)
        await finish(ResultMapping.result(of: report, context))
    }

    // MARK: register, options

    private func runRegister(_ a: Assignment) async {
        guard await Self.sleep(until: a.startAt) else {
            return await finish(ResultMapping.failure(RunContext(a, agentID: agentID), status: .notRun, code: "cancelled", detail: "cancelled before the start"))
        }
        guard let spec = a.register,
              let request = Self.registrationRequest(registrar: spec.registrar, transport: spec.transport, aor: spec.aor,
                                                     credentials: spec.credentials, expires: spec.expiresS) else {
            return await finish(ResultMapping.failure(RunContext(a, agentID: agentID), code: "bad_assignment",
                                                      detail: "registrar \(a.register?.registrar ?? "none") is not HOST:PORT with an IP address"))
        }
        let started = Date()
        let result = await userAgent.register(request)
        // A test, not a standing registration: remove the binding again.
        if result.registered { _ = await userAgent.unregister(aor: request.addressOfRecord.description) }
        await finish(ResultMapping.result(of: result, RunContext(a, agentID: agentID, startedAt: started, endedAt: Date())))
    }

    /// A REGISTER of `aor` at `registrar` (HOST:PORT with an IP address), digest credentials
    /// defaulting to the AOR's user; `contactUser` names the Contact's user part (a bridge's room).
    static func registrationRequest(registrar: String, transport: String = "udp", aor: String, credentials: SIPCredentials?,
                                    expires: Int, contactUser: String? = nil) -> RegistrationRequest? {
        guard let aor = try? SIPURI(parsing: aor),
              let registrarURI = try? SIPURI(parsing: "sip:\(registrar);transport=\(transport.lowercased())"),
              let destination = SIPDestination(uri: registrarURI) else { return nil }
        var requestURI = registrarURI
        requestURI.parameters = []
        return RegistrationRequest(
            registrar: requestURI, destination: destination, addressOfRecord: aor,
            username: credentials?.username ?? aor.user ?? "earshot", password: credentials?.password ?? "",
            expires: expires, contactUser: contactUser)
    }

    private func runOptions(_ a: Assignment) async {
        guard await Self.sleep(until: a.startAt) else {
            return await finish(ResultMapping.failure(RunContext(a, agentID: agentID), status: .notRun, code: "cancelled", detail: "cancelled before the start"))
        }
        let kind = SIPTransportKind(rawValue: a.options?.transport.lowercased() ?? "udp") ?? .udp
        guard let spec = a.options, let target = try? SIPURI(parsing: spec.target),
              let destination = SIPDestination(uri: target, defaultKind: kind) else {
            return await finish(ResultMapping.failure(RunContext(a, agentID: agentID), code: "bad_assignment",
                                                      detail: "options target \(a.options?.target ?? "none") must name an IP address"))
        }
        let started = Date()
        let result = await userAgent.options(target, destination: destination)
        await finish(ResultMapping.result(of: result, RunContext(a, agentID: agentID, startedAt: started, endedAt: Date())))
    }
}

/// The agent could not start: what failed and what to do.
public enum AgentStartError: Error, Equatable, CustomStringConvertible {
    case configuration(String)
    case state(String)
    case media(String)
    case sip(String)

    public var description: String {
        switch self {
        case .configuration(let text): "configuration: \(text)"
        case .state(let text): "state directory: \(text)"
        case .media(let text): "media: \(text)"
        case .sip(let text): "SIP: \(text) — is another process using the port? (--sip-listen ADDR:PORT, port 0 picks a free one)"
        }
    }
}

/// The source address of the route toward `host` (an IP literal or a name resolved first).
func routeSource(toward host: String) -> String? {
    var numeric = host
    if numeric.hasPrefix("[") && numeric.hasSuffix("]") { numeric = String(numeric.dropFirst().dropLast()) }
    var v4 = in_addr(), v6 = in6_addr()
    if inet_pton(AF_INET, numeric, &v4) != 1, inet_pton(AF_INET6, numeric, &v6) != 1 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(numeric, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        numeric = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    var out = [CChar](repeating: 0, count: 64)
    let status = out.withUnsafeMutableBufferPointer { earshot_route_source(numeric, $0.baseAddress, $0.count) }
    guard status == 0 else { return nil }
    return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
