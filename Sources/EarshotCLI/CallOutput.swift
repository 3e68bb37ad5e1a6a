import Foundation
import CallQuality
import MediaEngine
import RTPCore
import SIPStack
import SIPTransaction

/// Printing call reports and `answer` events.
enum CallOutput {
    static func print(_ report: CallReport, format: OutputFormat, ladder: Bool) throws {
        switch format {
        case .json:
            write(try Output.json(report))
        case .text:
            write(text(report, ladder: ladder))
        }
    }

    /// One JSON line per event (`{"event": name, ...fields}`), or a text line.
    static func event(_ name: String, _ payload: some Encodable, format: OutputFormat, text: () -> String) {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            guard let body = try? encoder.encode(payload),
                  var object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return }
            object["event"] = name
            if let line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
                write(String(decoding: line, as: UTF8.self))
            }
        case .text:
            write(text())
        }
    }

    /// Unbuffered: `answer` runs for long under scripts that wait for its lines.
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func text(_ report: CallReport, ladder: Bool) -> String {
        func ms(_ value: Double?) -> String { value.map { String(format: "%.1f ms", $0) } ?? "—" }
        func num(_ value: Double?, _ digits: Int = 2) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "—" }
        var lines: [String] = []
        lines.append("call \(report.callID) (\(report.role)) \(report.localURI) → \(report.remoteURI) over \(report.transport)")
        lines.append("status: \(report.status) — \(report.ending.description)")
        lines.append("setup: INVITE→180 \(ms(report.setup.inviteTo180Ms)), INVITE→200 \(ms(report.setup.inviteTo200Ms)), answer→first RTP \(ms(report.setup.answerToFirstRTPMs))")
        lines.append("duration: planned \(num(report.plannedDurationS, 1)) s, actual \(num(report.actualDurationS, 1)) s")
        if let timer = report.sessionTimer {
            lines.append("session timer: \(timer.intervalS) s, refresher \(timer.refresher)\(timer.weRefresh ? " (us, by \(timer.refreshMethod))" : ""), \(timer.refreshes.count) refreshes")
            for refresh in timer.refreshes {
                lines.append("  \(String(format: "%7.1f", refresh.atS)) s \(refresh.direction) \(refresh.method) → \(refresh.statusCode.map(String.init) ?? "no answer") \(refresh.outcome)")
            }
        }
        if let inbound = report.directions.inbound {
            lines.append("received (far end → us): \(inbound.statistics.packetsReceived)/\(inbound.statistics.packetsExpected) packets, loss \(num(inbound.statistics.lossPercent))%, jitter mean \(ms(inbound.jitterMeanMs)) max \(ms(inbound.jitterMaxMs)), RTT \(ms(inbound.rttMs)), MOS-CQ \(num(inbound.assessment?.mosCQ)), audio \(inbound.audioOK ? "ok" : "NOT ok"), DSCP \(inbound.dscpReceived.map(String.init) ?? "—")")
        }
        if let outbound = report.directions.outbound {
            lines.append("sent (us → far end, from its RTCP): loss \(num(outbound.lossPct))%, jitter \(ms(outbound.jitterMs)), reports \(outbound.reportsReceived)")
        } else {
            lines.append("sent (us → far end): no RTCP reports from the far end")
        }
        if let sent = report.dtmfSent { lines.append("DTMF sent: \(sent)") }
        if let received = report.dtmfReceived, !received.isEmpty { lines.append("DTMF received: \(received)") }
        for problem in report.problems { lines.append("problem: \(problem)") }
        if ladder {
            lines.append("SIP ladder:")
            lines.append(report.ladder.render())
        }
        return lines.joined(separator: "\n")
    }
}
