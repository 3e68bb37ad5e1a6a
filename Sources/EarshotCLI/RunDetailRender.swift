import EarshotWire
import Foundation

/// `earshot runs show`: one run with its participants, per-direction metrics, call setup,
/// session-timer refreshes, DTMF, cause and the SIP ladder as a diagram.
extension ConsoleRender {
    func runDetail(_ detail: RunDetail, messages: Bool = false) -> String {
        let run = detail.run
        var names: [String: String] = [:]
        for participant in detail.participants { names[participant.agentID] = participant.name }
        func name(_ id: String) -> String { names[id] ?? id }

        var sections: [String] = []
        var head = ["run \(run.id) — \(run.testType.rawValue) in suite \(run.suite): \(run.status.rawValue.uppercased())"]
        head.append("  \(Self.participantList(run))\(run.roundID.map { " · round \($0)" } ?? "")")
        var times = "  planned \(time(run.plannedAt)), start \(time(run.startAt))"
        if let ended = run.endedAt { times += ", ended \(time(ended))" }
        head.append(times)
        if let cause = run.cause {
            head.append("  cause: \(Self.cause(cause))\(cause.agentID.map { " (at \(name($0)))" } ?? "")")
        }
        sections.append(head.joined(separator: "\n"))

        if !detail.participants.isEmpty {
            var table = TextTable([.init("participant", shrinkable: true), .init("role"), .init("site", shrinkable: true),
                                   .init("status"), .init("reported"), .init("cause", shrinkable: true)])
            for p in detail.participants {
                table.add([p.name, p.role.rawValue, p.site ?? Self.none, p.status?.rawValue ?? "pending", time(p.reportedAt),
                           Self.cause(p.cause)])
            }
            sections.append("Participants\n" + table.render(width: width))
        }

        if let conference = detail.conference {
            // The legs carry every direction (up and down).
            sections += self.conference(conference, name: name)
        } else if !detail.directions.isEmpty {
            sections.append("Media (each direction as its receiver measured it)\n" + directions(detail.directions, name: name))
        }

        // A conference's own sections above cover its legs and DTMF (one participant's call
        // and digits would tell half the story).
        if detail.conference == nil {
            if let call = detail.call { sections.append(self.call(call, planned: run.plannedDurationS)) }
            if let dtmf = detail.dtmf { sections.append(self.dtmf(dtmf)) }
        }
        if let register = detail.register {
            sections.append("Register\n  \(register.statusCode.map(String.init) ?? "no answer") in \(Self.number(register.timeMs, 1)) ms, \(register.authRoundTrips) auth round trips, expires granted \(register.expiresGrantedS.map { "\($0) s" } ?? Self.none)")
        }
        if let options = detail.options {
            var text = "Options\n  \(options.statusCode.map(String.init) ?? "no answer") in \(Self.number(options.rttMs, 1)) ms"
            if !options.allow.isEmpty { text += "\n  Allow: \(options.allow.joined(separator: ", "))" }
            if !options.supported.isEmpty { text += "\n  Supported: \(options.supported.joined(separator: ", "))" }
            sections.append(text)
        }
        if let thresholds = detail.thresholds { sections.append("Thresholds\n  \(Self.thresholds(thresholds))") }

        // Evidence in participant order (caller first), then any other reporter.
        let order = detail.participants.map(\.agentID) + detail.evidence.keys.sorted().filter { id in
            !detail.participants.contains { $0.agentID == id }
        }
        for agentID in order {
            guard let evidence = detail.evidence[agentID] else { continue }
            let role = detail.participants.first { $0.agentID == agentID }?.role.rawValue
            let others = detail.participants.filter { $0.agentID != agentID }.map(\.name)
            let local = name(agentID)
            if !evidence.ladder.isEmpty {
                sections.append("SIP ladder at \(local)\(role.map { " (\($0))" } ?? "")\n"
                    + Self.ladder(evidence.ladder, local: local, peer: others.count == 1 ? others[0] : nil, messages: messages))
            }
            if !evidence.mediaSeconds.isEmpty {
                sections.append("Media per second at \(local)\n" + mediaSeconds(evidence.mediaSeconds))
            }
            if !evidence.notes.isEmpty {
                sections.append("Notes at \(local)\n" + evidence.notes.map { "  \($0)" }.joined(separator: "\n"))
            }
        }
        return sections.joined(separator: "\n\n")
    }

    func directions(_ directions: [StreamMetrics], name: (String) -> String) -> String {
        var table = TextTable([
            .init("from", shrinkable: true), .init("to", shrinkable: true), .init("codec"), .init("received", .right),
            .init("lost", .right), .init("loss %", .right), .init("burst", .right), .init("jitter ms", .right),
            .init("rtt ms", .right), .init("one-way ms", .right), .init("mos-cq", .right), .init("mos-lq", .right),
            .init("audio"), .init("dscp", .right),
        ])
        for d in directions {
            let jitter = d.jitterMeanMs == nil && d.jitterMaxMs == nil
                ? Self.none : "\(Self.number(d.jitterMeanMs, 1))/\(Self.number(d.jitterMaxMs, 1))"
            var oneWay = Self.number(d.oneWayMs, 1)
            if d.oneWayMs != nil, d.oneWaySource == "estimated_rtt_half" { oneWay += "~" }
            let dscp = d.dscpSent == nil && d.dscpReceived == nil
                ? Self.none : "\(d.dscpSent.map(String.init) ?? "?")/\(d.dscpReceived.map(String.init) ?? "?")"
            let audio = d.audioOK.map { $0 ? "ok" : "MISSING" } ?? Self.none
            table.add([name(d.from), name(d.to) + (d.measuredBy == "rtcp" ? " (rtcp)" : ""), d.codec ?? Self.none,
                       "\(d.packetsReceived)/\(d.packetsExpected)", String(d.packetsLost), Self.number(d.lossPct, 2),
                       Self.number(d.burstRatio, 2), jitter, Self.number(d.rttMs, 1), oneWay, Self.number(d.mosCQ, 2),
                       Self.number(d.mosLQ, 2), audio, dscp])
        }
        return table.render(width: width)
    }

    func call(_ call: CallSummary, planned: Double) -> String {
        var lines = ["Call\(call.callID.map { " \($0)" } ?? "")"]
        lines.append("  setup: INVITE→180 \(Self.number(call.inviteTo180Ms, 1)) ms, INVITE→200 \(Self.number(call.inviteTo200Ms, 1)) ms, answer→first RTP \(Self.number(call.answerToFirstRTPMs, 1)) ms")
        lines.append("  duration: planned \(Self.number(call.plannedDurationS ?? planned, 1)) s, actual \(Self.number(call.actualDurationS, 1)) s")
        var ending = "  ending: \(call.ending)"
        if let status = call.endingStatusCode { ending += " \(status)" }
        if let detail = call.endingDetail, !detail.isEmpty { ending += " — \(detail)" }
        lines.append(ending)
        if let interval = call.sessionIntervalS {
            lines.append("  session timer: \(interval) s, refresh by \(call.refreshMethod ?? "?"), \(call.refreshes.count) refresh\(call.refreshes.count == 1 ? "" : "es")")
            for refresh in call.refreshes {
                lines.append("    at \(String(format: "%6.1f", refresh.atS)) s  \(refresh.method) → \(refresh.statusCode.map(String.init) ?? "no answer")  \(refresh.outcome)")
            }
        }
        return lines.joined(separator: "\n")
    }

    func dtmf(_ dtmf: DTMFSummary) -> String {
        var lines = ["DTMF", "  sent \(dtmf.sent.isEmpty ? Self.none : dtmf.sent), received \(dtmf.received.isEmpty ? Self.none : dtmf.received) — \(dtmf.sent == dtmf.received ? "all delivered" : "MISMATCH")"]
        if !dtmf.sentDigits.isEmpty || !dtmf.receivedDigits.isEmpty {
            var table = TextTable([.init("digit"), .init("sent at ms", .right), .init("received", .right), .init("received at ms", .right)])
            for index in 0..<max(dtmf.sentDigits.count, dtmf.receivedDigits.count) {
                let sent = index < dtmf.sentDigits.count ? dtmf.sentDigits[index] : nil
                let received = index < dtmf.receivedDigits.count ? dtmf.receivedDigits[index] : nil
                table.add([sent?.digit ?? Self.none, Self.number(sent?.offsetMs, 1), received?.digit ?? Self.none,
                           Self.number(received?.offsetMs, 1)])
            }
            lines.append(table.render(width: width.map { $0 - 2 }).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
        return lines.joined(separator: "\n")
    }

    func mediaSeconds(_ seconds: [MediaSecond]) -> String {
        var table = TextTable([.init("second", .right), .init("sent", .right), .init("received", .right), .init("lost", .right),
                               .init("jitter ms", .right)])
        for s in seconds {
            table.add([String(s.second), String(s.sent), String(s.received), String(s.lost), Self.number(s.jitterMs, 1)])
        }
        return table.render(width: width)
    }

    /// The span between the two lifelines, arrows included.
    static let ladderSpan = 36

    /// A two-lifeline diagram of one participant's ladder:
    ///
    ///         time  alice                                  bob
    ///        0.000  |──────────────── INVITE ───────────────▶|
    ///        0.004  |◀───────────── 100 Trying ──────────────|
    ///
    /// `peer` names the right lifeline (else the one peer address of the entries, or "peer");
    /// when the entries have several peer addresses each line ends with its own. `messages`
    /// adds each message's text under its arrow.
    static func ladder(_ entries: [LadderEntry], local: String, peer: String?, messages: Bool = false) -> String {
        let span = ladderSpan
        let distinctPeers = Set(entries.compactMap(\.peer))
        let showPeer = distinctPeers.count > 1
        let right = peer ?? (distinctPeers.count == 1 ? distinctPeers.first! : "peer")
        let timeWidth = max(8, entries.map { seconds($0.atMs).count }.max() ?? 0)
        let pad = String(repeating: " ", count: timeWidth + 2)
        let localTitle = TextTable.truncate(local, to: span)
        var lines = [
            String(repeating: " ", count: timeWidth - 4) + "time  " + localTitle
                + String(repeating: " ", count: max(1, span + 2 - localTitle.count)) + right,
        ]
        for entry in entries {
            let time = seconds(entry.atMs)
            var line = String(repeating: " ", count: timeWidth - time.count) + time + "  |"
                + arrow(entry.summary, sent: entry.direction != "received", span: span) + "|"
            if showPeer, let address = entry.peer { line += " " + address }
            lines.append(line)
            if messages {
                // "\r\n" is one Character: normalise before splitting; no trailing blank lines.
                var textLines = entry.text.replacingOccurrences(of: "\r\n", with: "\n")
                    .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                while textLines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { textLines.removeLast() }
                for textLine in textLines { lines.append(TextTable.trimTrailing(pad + "    " + textLine)) }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `──── INVITE ───▶` (sent) or `◀─── 200 OK ────` (received), `span` characters.
    static func arrow(_ summary: String, sent: Bool, span: Int) -> String {
        let label = " " + TextTable.truncate(summary, to: span - 6) + " "
        let dashes = span - 1 - label.count
        let left = dashes / 2 + (sent ? dashes % 2 : 0)
        let rightDashes = dashes - left
        let body = String(repeating: "─", count: left) + label + String(repeating: "─", count: rightDashes)
        return sent ? body + "▶" : "◀" + body
    }

    /// `12.345` seconds from milliseconds.
    static func seconds(_ milliseconds: Double) -> String {
        String(format: "%.3f", milliseconds / 1000)
    }
}
