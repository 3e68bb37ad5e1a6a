import EarshotWire
import Foundation

/// Text of the console commands, from API values. Pure: the clock (`now`), the time zone and
/// the width are given, so the same values always give the same text.
struct ConsoleRender: Sendable {
    var now: Date
    var timeZone: TimeZone
    /// Terminal width; nil: do not cut.
    var width: Int?

    init(now: Date = Date(), timeZone: TimeZone = .current, width: Int? = nil) {
        self.now = now
        self.timeZone = timeZone
        self.width = width
    }

    static let none = "—"

    // MARK: values

    static func number(_ value: Double?, _ digits: Int) -> String {
        guard let value, value.isFinite else { return none }
        return String(format: "%.\(digits)f", value)
    }

    /// `2026-12-06 21:10:46` in the render's time zone.
    func time(_ date: Date?) -> String {
        guard let date else { return Self.none }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0,
                      c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// `5s ago`, `1h30m ago`, `in 4m`.
    func relative(_ date: Date?) -> String {
        guard let date else { return Self.none }
        let seconds = now.timeIntervalSince(date)
        let span = WireDuration(seconds: abs(seconds).rounded())
        return seconds >= 0 ? "\(span) ago" : "in \(span)"
    }

    static func labels(_ labels: [String: String]) -> String {
        labels.isEmpty ? none : labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// Counts by status in a fixed order: `6 passed, 1 failed`.
    static func statusCounts(_ counts: [String: Int]) -> String {
        let order = RunStatus.allCases.map(\.rawValue)
        let known = order.compactMap { key in counts[key].flatMap { $0 > 0 ? "\($0) \(key.replacingOccurrences(of: "_", with: " "))" : nil } }
        let other = counts.keys.filter { !order.contains($0) && counts[$0]! > 0 }.sorted().map { "\(counts[$0]!) \($0)" }
        let all = known + other
        return all.isEmpty ? "none" : all.joined(separator: ", ")
    }

    // MARK: status

    func status(_ info: StatusInfo, organizer: String) -> String {
        let uptime = WireDuration(seconds: max(0, info.now.timeIntervalSince(info.startedAt)).rounded())
        var lines = [
            "organizer  \(organizer) — earshot \(info.version), protocol \(info.protocolVersion), up \(uptime)",
            "agents     \(info.agents.total) total: \(info.agents.online) online, \(info.agents.offline) offline, \(info.agents.revoked) revoked",
            "suites     \(info.suites) (\(info.suitesPaused) paused)",
            "runs       \(info.runsInFlight) in flight; last hour: \(Self.statusCounts(info.runsLastHour))",
        ]
        if let alerts = info.alerts {
            lines.append("alerts     \(alerts.isEmpty ? "none firing" : Self.statusCounts(alerts))")
        }
        if let deliveries = info.deliveries, !deliveries.isEmpty {
            lines.append("webhooks   deliveries \(Self.statusCounts(deliveries))")
        }
        if let database = info.database { lines.append("database   \(database)") }
        lines += info.warnings.map { "warning: \($0)" }
        return lines.joined(separator: "\n")
    }

    // MARK: agents

    func agents(_ agents: [AgentInfo]) -> String {
        guard !agents.isEmpty else { return "no agents (create an enrollment token: earshot agents token --site SITE)" }
        var table = TextTable([
            .init("name", shrinkable: true), .init("id"), .init("site", shrinkable: true), .init("state"),
            .init("since"), .init("last seen"), .init("version", shrinkable: true), .init("runs", .right),
            .init("sip contact", shrinkable: true, minimumWidth: 8), .init("labels", shrinkable: true),
        ])
        for agent in agents {
            table.add([agent.name, agent.id, agent.site, agent.state.rawValue, relative(agent.stateSince),
                       relative(agent.lastSeenAt), agent.version ?? Self.none, String(agent.activeRuns),
                       agent.sipContacts.first?.uri ?? Self.none, Self.labels(agent.labels)])
        }
        return table.render(width: width)
    }

    func agent(_ agent: AgentInfo) -> String {
        var lines = [
            "agent      \(agent.name) (\(agent.id))",
            "state      \(agent.state.rawValue) since \(time(agent.stateSince)) (\(relative(agent.stateSince)))",
            "site       \(agent.site)\(agent.subnet.map { ", subnet \($0)" } ?? "")",
            "labels     \(Self.labels(agent.labels))",
            "version    \(agent.version ?? Self.none)",
            "enrolled   \(time(agent.enrolledAt))",
            "last seen  \(time(agent.lastSeenAt)) (\(relative(agent.lastSeenAt)))\(agent.remoteAddress.map { " from \($0)" } ?? "")",
            "runs       \(agent.activeRuns) active, \(agent.spooled) results spooled",
        ]
        for contact in agent.sipContacts { lines.append("sip        \(contact.uri) (\(contact.transport))") }
        if let capabilities = agent.capabilities {
            lines.append("can        \(capabilities.tests.map(\.rawValue).joined(separator: ", ")); codecs \(capabilities.codecs.joined(separator: ", ")); transports \(capabilities.transports.joined(separator: ", ")); \(capabilities.maxConcurrentCalls) calls at once\(capabilities.bridge ? "; bridge" : "")")
        }
        if let clock = agent.clock {
            let synchronized = clock.synchronized.map { $0 ? "synchronised" : "NOT synchronised" } ?? "unknown"
            lines.append("clock      \(synchronized)\(clock.maxErrorMs.map { String(format: ", max error %.1f ms", $0) } ?? "")")
        }
        return lines.joined(separator: "\n")
    }

    func token(_ token: EnrollmentToken, organizer: String) -> String {
        """
        enrollment token for site \(token.site), valid until \(time(token.expiresAt)) (shown once):
        \(token.token)

        start an agent with it:
          earshot-agent run --organizer \(ConnectionOptions.agentEndpoint(organizer)) --enroll \(token.token) --site \(token.site) --name NAME
        """
    }

    // MARK: suites

    func suites(_ suites: [SuiteInfo]) -> String {
        guard !suites.isEmpty else { return "no suites (earshot suites apply -f suite.yaml, or earshot suites default)" }
        var table = TextTable([
            .init("name"), .init("type"), .init("topology", shrinkable: true), .init("members", .right),
            .init("units", .right), .init("interval", .right), .init("duration", .right), .init("state"),
            .init("last round"), .init("next round"), .init("warning", shrinkable: true, minimumWidth: 8),
        ])
        for suite in suites {
            table.add([suite.spec.name, suite.spec.type.rawValue, Self.topology(suite.spec.topology), String(suite.memberCount),
                       String(suite.unitCount), suite.spec.interval.description, suite.spec.duration.description,
                       suite.spec.paused ? "paused" : "active", relative(suite.lastRoundAt), relative(suite.nextRoundAt),
                       suite.warning ?? ""])
        }
        return table.render(width: width)
    }

    static func topology(_ topology: Topology) -> String {
        switch topology.kind {
        case .star: "star around \(topology.hub ?? "?")"
        case .pairs: "pairs " + (topology.pairs ?? []).map { $0.joined(separator: "→") }.joined(separator: ",")
        case .sample: "sample \(topology.k ?? 0)"
        case .mesh, .each: topology.kind.rawValue
        }
    }

    static func members(_ selector: MemberSelector) -> String {
        if selector.selectsAll { return "all agents" }
        var parts: [String] = []
        if let agents = selector.agents, !agents.isEmpty { parts.append("agents " + agents.joined(separator: ", ")) }
        if let sites = selector.sites, !sites.isEmpty { parts.append("sites " + sites.joined(separator: ", ")) }
        if let labels = selector.labels, !labels.isEmpty { parts.append("labels " + Self.labels(labels)) }
        return parts.joined(separator: "; ")
    }

    /// What a suite's `unit_count` counts.
    static func unitNoun(_ spec: SuiteSpec) -> String {
        if spec.type == .conference { return "participants" }
        return spec.topology.kind == .each ? "members" : "pairs"
    }

    /// `built-in bridge rotating over the bridge-capable agents; up to 10 participants joining over 2s; DTMF relay`.
    static func conferenceSettings(_ c: ConferenceSettings) -> String {
        var parts: [String]
        switch c.bridge {
        case .agent: parts = ["built-in bridge on \(c.bridgeAgent ?? "the first bridge-capable agent")"]
        case .rotate: parts = ["built-in bridge rotating over the bridge-capable agents"]
        case .uri: parts = ["external room \(c.uri ?? none)"]
        }
        parts.append("up to \(c.maxParticipants) participants joining over \(c.joinSpread)")
        if let pin = c.pin { parts.append("PIN \(pin)") }
        var dtmf = "DTMF \(c.dtmfMode.rawValue)"
        if let from = c.dtmfFrom { dtmf += " from \(from)" }
        parts.append(dtmf)
        return parts.joined(separator: "; ")
    }

    static func thresholds(_ t: Thresholds) -> String {
        var parts: [String] = []
        if let v = t.mosMin { parts.append("MOS ≥ \(number(v, 2))") }
        if let v = t.lossPctMax { parts.append("loss ≤ \(compact(v)) %") }
        if let v = t.jitterMsMax { parts.append("jitter ≤ \(compact(v)) ms") }
        if let v = t.rttMsMax { parts.append("RTT ≤ \(compact(v)) ms") }
        if let v = t.setupMsMax { parts.append("setup ≤ \(compact(v)) ms") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    /// `3`, `2.5`: no trailing zeros.
    static func compact(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    func suite(_ suite: SuiteInfo) -> String {
        let spec = suite.spec
        var lines = [
            "suite      \(spec.name) — \(spec.type.rawValue)\(spec.paused ? " (paused)" : "")",
        ]
        if let description = spec.description { lines.append("about      \(description)") }
        lines += [
            "members    \(Self.members(spec.members)) — \(suite.memberCount) now, \(suite.unitCount) \(Self.unitNoun(spec))",
        ]
        if let conference = spec.conference, spec.type == .conference {
            lines.append("conference \(Self.conferenceSettings(conference))")
        } else {
            lines.append("topology   \(Self.topology(spec.topology))")
        }
        lines += [
            "schedule   every \(spec.interval)\(spec.period.map { ", each pair within \($0)" } ?? ""); last round \(time(suite.lastRoundAt)), next \(time(suite.nextRoundAt))",
            "call       \(spec.duration) of \(spec.codec) over \(spec.transport)\(spec.dtmf.map { ", DTMF \($0)" } ?? "")\(spec.sessionExpires.map { ", Session-Expires \($0) s" } ?? "")",
        ]
        if let target = spec.target { lines.append("target     \(target)") }
        if let via = spec.via {
            var parts: [String] = []
            if let v = via.registrar { parts.append("registrar \(v)") }
            if let v = via.proxy { parts.append("proxy \(v)") }
            if let v = via.domain { parts.append("domain \(v)") }
            if let v = via.transport { parts.append("transport \(v)") }
            if let credentials = via.credentials { parts.append("credentials for \(credentials.keys.sorted().joined(separator: ", "))") }
            lines.append("via        \(parts.joined(separator: ", "))")
        }
        lines.append("thresholds \(Self.thresholds(spec.thresholds))")
        lines.append("updated    \(time(suite.updatedAt)) (created \(time(suite.createdAt)))")
        if let warning = suite.warning {
            lines.append("warning: \(warning)\(suite.achievablePeriodS.map { " (achievable period \(WireDuration(seconds: $0)))" } ?? "")")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: runs

    func runs(_ runs: [RunSummary]) -> String {
        guard !runs.isEmpty else { return "no runs match" }
        var table = TextTable([
            .init("id"), .init("suite", shrinkable: true), .init("type"), .init("status"),
            .init("participants", shrinkable: true, minimumWidth: 10), .init("start"), .init("planned", .right),
            .init("mos", .right), .init("loss %", .right), .init("cause", shrinkable: true),
        ])
        for run in runs {
            table.add([run.id, run.suite, run.testType.rawValue, run.status.rawValue, Self.participantList(run),
                       time(run.startAt), WireDuration(seconds: run.plannedDurationS).description, Self.number(run.mosMin, 2),
                       Self.number(run.lossPctMax, 2), Self.cause(run.cause)])
        }
        return table.render(width: width)
    }

    /// `alice → bob` for a call; `5 agents: alice, bob, carol, dave, erin` for a conference
    /// (its participants in join order, then the bridge host).
    static func participantList(_ run: RunSummary) -> String {
        guard run.testType == .conference else { return run.participants.joined(separator: " → ") }
        return "\(run.participants.count) agent\(run.participants.count == 1 ? "" : "s"): " + run.participants.joined(separator: ", ")
    }

    static func cause(_ cause: RunCause?) -> String {
        guard let cause else { return "" }
        var text = cause.code
        if let status = cause.statusCode { text += " \(status)" }
        if let detail = cause.detail, !detail.isEmpty { text += ": \(detail)" }
        return text
    }

    func round(_ round: RoundInfo) -> String {
        var lines = ["round \(round.roundID) of suite \(round.suite): \(round.runIDs.count) runs started"]
        if !round.runIDs.isEmpty { lines.append("runs: \(round.runIDs.joined(separator: " "))") }
        for run in round.notRun {
            lines.append("not run: \(Self.participantList(run)) — \(Self.cause(run.cause))")
        }
        if let warning = round.warning { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n")
    }
}
