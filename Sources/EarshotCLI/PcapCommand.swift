import ArgumentParser
import Foundation
import Pcap
import RTPAnalysis
import RTPCore

/// `earshot pcap …`: capture-file tools for a voice engineer.
struct PcapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pcap",
        abstract: "Capture-file tools.",
        subcommands: [PcapAnalyzeCommand.self]
    )
}

/// `earshot pcap analyze FILE`: the RTP streams of a pcap/pcapng capture with loss, jitter,
/// bursts and MOS per stream. The rules are `RTPAnalyzer`'s; docs/pcap-analyze.md has every
/// field and the differences from tshark.
///
/// Options are read as text and checked here, so every bad value is one clear message and exit
/// code 2 (ArgumentParser's own validation errors exit 64).
struct PcapAnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "RTP streams in a capture: loss, jitter, bursts, MOS per SSRC.",
        usage: "earshot pcap analyze <file> [--port <n>] [--clock <pt>=<rate>]... [--jb <ms>] [--plc] [--min-packets <n>] [--format json]",
        discussion: """
            Reads pcap or pcapng (Ethernet, Linux cooked v1/v2, raw IP, loopback; IPv4 and IPv6) \
            in 1 MiB chunks, so captures of any size work. Every UDP datagram is classified as \
            RTCP (RFC 5761 packet types that decode as a compound packet), RTP (a valid header \
            in a flow of at least --min-packets packets in a row with small sequence and \
            timestamp steps) or other UDP; packets that are not UDP are set aside and counted.

            Per stream (SSRC, source, destination): payload types, packets, unique loss (a \
            duplicate never hides a lost packet), duplicates, reordering, max delta, RFC 3550 \
            interarrival jitter (mean and max of J), burst ratio, a fixed jitter buffer's late \
            discards, and the ITU-T G.107 MOS-LQ for PCMU/PCMA/G729/G723 — plus MOS-CQ when \
            RTCP report blocks give a round-trip time. Telephone events (RFC 4733) count in \
            the sequence numbers but not in the jitter.

            Dynamic payload types (96–127) have no known clock without SDP: their jitter is \
            not reported unless --clock names it: --clock 96=8000, --clock 97=opus/48000, \
            --clock 101=telephone-event, --clock 96=PCMU/8000 (also names the codec for MOS).

            Exit status: 0 analysed (even with no streams); 1 the file cannot be read as a \
            capture; 2 a bad option value.
            """
    )

    @Argument(help: "The capture: pcap or pcapng.")
    var file: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Only UDP from or to this port (RTP), and RTCP on it or the next port.", valueName: "n"))
    var port: String?

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Clock (and name) of a payload type: PT=RATE, PT=NAME/RATE or PT=NAME; repeatable.", valueName: "pt=rate"))
    var clock: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Fixed jitter-buffer delay to emulate, ms (default 60).", valueName: "ms"))
    var jb: String?

    @Flag(help: "The receiver conceals lost packets (G.711 packet-loss concealment): G.113's Bpl 25.1 instead of 4.3.")
    var plc = false

    @Option(name: .customLong("min-packets"), parsing: .unconditional,
            help: ArgumentHelp("Packets in a row with small steps before a flow counts as a stream (default 5).", valueName: "n"))
    var minPackets: String?

    @Option(help: ArgumentHelp("text (default) or json.", valueName: "format"))
    var format: String?

    /// Bytes read from the file at a time.
    static let chunkSize = 1 << 20

    func run() throws {
        try reportingFailures {
            print(try output())
        }
    }

    /// What the command prints, or the failure it exits with.
    func output() throws(CommandFailure) -> String {
        let format = try outputFormat()
        let configuration = try analyzerConfiguration()
        let (report, captureFormat) = try analyze(configuration)
        switch format {
        case .json:
            do {
                return try Output.json(PcapAnalyzeOutput(file: file, format: captureFormat, report: report))
            } catch {
                throw .input("could not encode the result: \(error)")
            }
        case .text:
            return PcapAnalyzeText.render(report, file: file, format: captureFormat)
        }
    }

    func outputFormat() throws(CommandFailure) -> OutputFormat {
        guard let format else { return .text }
        guard let parsed = OutputFormat(rawValue: format.lowercased()) else {
            throw .usage("--format must be text or json, not '\(format)'")
        }
        return parsed
    }

    /// The command line as an analyzer configuration; every option check is here.
    func analyzerConfiguration() throws(CommandFailure) -> RTPAnalyzer.Configuration {
        var filterPort: UInt16?
        if let port {
            guard let value = UInt16(port.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw .usage("--port expects a UDP port 1–65535, not '\(port)'")
            }
            filterPort = value
        }
        let payloadTypes: PayloadTypeMap
        do {
            payloadTypes = try PayloadTypeMap(parsing: clock)
        } catch {
            throw .usage("--clock: \(error.message)")
        }
        let jitterBuffer = try MOSCommand.number(jb, "--jb", suffix: "ms") ?? RTPAnalyzer.Configuration.defaultJitterBufferMs
        guard jitterBuffer >= 0, jitterBuffer <= 10_000 else {
            throw .usage("--jb \(jb ?? "") is out of range (0…10000 ms)")
        }
        var detection = StreamDetectionRule()
        if let minPackets {
            guard let value = Int(minPackets), (1...1000).contains(value) else {
                throw .usage("--min-packets expects a number of packets 1–1000, not '\(minPackets)'")
            }
            detection.minimumPackets = value
        }
        return RTPAnalyzer.Configuration(port: filterPort, payloadTypes: payloadTypes, detection: detection,
                                         jitterBufferMs: jitterBuffer, concealment: plc)
    }

    /// Streams the file through the reader and the analyzer, chunk by chunk.
    func analyze(_ configuration: RTPAnalyzer.Configuration) throws(CommandFailure) -> (RTPAnalysisReport, CaptureFormat?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue,
              let handle = FileHandle(forReadingAtPath: file)
        else {
            throw .input("cannot read \(file): no such file")
        }
        defer { try? handle.close() }
        var reader = UDPDatagramReader()
        var analyzer = RTPAnalyzer(configuration: configuration)
        do {
            while true {
                let chunk: Data
                do {
                    chunk = try handle.read(upToCount: Self.chunkSize) ?? Data()
                } catch {
                    throw CommandFailure.input("cannot read \(file): \(error.localizedDescription)")
                }
                if chunk.isEmpty { break }
                reader.append(chunk)
                while let datagram = try reader.next() { analyzer.add(datagram) }
            }
            reader.finish()
            while let datagram = try reader.next() { analyzer.add(datagram) }
        } catch let failure as CommandFailure {
            throw failure
        } catch let error as PcapError {
            throw .input("\(file): \(error)")
        } catch {
            throw .input("\(file): \(error)")
        }
        return (analyzer.report(captureTally: reader.tally), reader.captureReader.format)
    }
}

/// The JSON document: the file, its format, then the report's settings, streams and tally.
struct PcapAnalyzeOutput: Encodable {
    var file: String
    var format: CaptureFormat?
    var report: RTPAnalysisReport

    enum CodingKeys: String, CodingKey {
        case file, format
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file)
        try c.encode(format.map { $0 == .pcap ? "pcap" : "pcapng" }, forKey: .format)
        try report.encode(to: encoder)
    }
}

/// The text form: one table row per stream, the notes, then where every packet went.
enum PcapAnalyzeText {
    static func render(_ report: RTPAnalysisReport, file: String, format: CaptureFormat?) -> String {
        var lines: [String] = []
        let formatName = format.map { $0 == .pcap ? "pcap" : "pcapng" } ?? "empty"
        let count = report.streams.count
        lines.append("\(file) (\(formatName)): \(count == 0 ? "no" : String(count)) RTP stream\(count == 1 ? "" : "s")")
        if !report.streams.isEmpty {
            lines.append("")
            lines += table(report.streams)
            let notes = report.streams.flatMap { stream in stream.notes.map { "  \(stream.key.ssrcHex): \($0)" } }
            if !notes.isEmpty {
                lines.append("")
                lines.append("notes")
                lines += notes
            }
        }
        lines.append("")
        lines += tally(report)
        return lines.joined(separator: "\n")
    }

    static let tableHeader = ["SSRC", "source → destination", "PT", "codec", "pkts", "lost", "dup", "reord", "max Δ ms",
                              "jitter ms mean/max", "burst", "jb disc", "RTT ms", "MOS-LQ", "MOS-CQ"]
    static let rightAligned: Set<Int> = [2, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14]

    // Kept as plain loops over small helpers: Swift 6.3.1's optimizer crashed ("Found ownership
    // error", CopyPropagation) on an earlier version of this function written with nested
    // closures, in release builds only.
    static func table(_ streams: [RTPStreamReport]) -> [String] {
        var rows = [tableHeader]
        for stream in streams { rows.append(tableRow(stream)) }
        var widths = [Int](repeating: 0, count: tableHeader.count)
        for row in rows {
            for index in row.indices { widths[index] = max(widths[index], row[index].count) }
        }
        var lines: [String] = []
        for row in rows { lines.append(aligned(row, widths: widths)) }
        return lines
    }

    static func tableRow(_ s: RTPStreamReport) -> [String] {
        let stats = s.statistics
        var jitter = "-"
        if let mean = s.jitterMeanMs { jitter = "\(fixed(mean, 3)) / \(fixed(s.jitterMaxMs ?? 0, 3))" }
        var payloadTypes: [String] = []
        for entry in s.payloadTypes { payloadTypes.append(String(entry.payloadType)) }
        return [
            s.key.ssrcHex,
            "\(s.key.source) → \(s.key.destination)",
            payloadTypes.joined(separator: ","),
            s.codec ?? s.encodingName ?? "-",
            String(s.packets),
            "\(stats.packetsLost) (\(fixed(stats.lossPercent, 2))%)",
            String(stats.duplicates),
            String(stats.reordered),
            fixed(stats.maxDeltaMs, 3),
            jitter,
            fixed(stats.burstRatio, 2),
            optional(s.jitterBuffer?.lateDiscards),
            optional(s.roundTrip?.rttMs, digits: 1),
            optional(s.mosLQ, digits: 2),
            optional(s.mosCQ, digits: 2),
        ]
    }

    private static func aligned(_ row: [String], widths: [Int]) -> String {
        var cells: [String] = []
        for index in row.indices {
            let cell = row[index]
            let pad = String(repeating: " ", count: widths[index] - cell.count)
            cells.append(rightAligned.contains(index) ? pad + cell : cell + pad)
        }
        return cells.joined(separator: "  ").trimmingTrailingSpaces()
    }

    private static func optional(_ value: Int?) -> String {
        guard let value else { return "-" }
        return String(value)
    }

    private static func optional(_ value: Double?, digits: Int) -> String {
        guard let value else { return "-" }
        return fixed(value, digits)
    }

    static func tally(_ report: RTPAnalysisReport) -> [String] {
        let t = report.tally, c = t.capture
        var udp = ["\(t.rtpPackets) RTP in \(t.streams) stream\(t.streams == 1 ? "" : "s")"]
        if t.telephoneEventPackets > 0 { udp[0] += " (\(t.telephoneEventPackets) telephone events)" }
        udp.append("\(t.rtcpPackets) RTCP")
        if t.rtcpMalformed > 0 { udp.append("\(t.rtcpMalformed) malformed RTCP") }
        udp.append("\(t.nonRTP) other UDP" + (t.rtpLikeUnconfirmed > 0 ? " (\(t.rtpLikeUnconfirmed) RTP-like, not a stream)" : ""))
        if let port = report.configuration.port { udp.append("\(t.portFiltered) not on port \(port)/\(port &+ 1)") }
        var lines = ["capture: \(c.packets) packets; \(c.udpDatagrams) UDP: " + udp.joined(separator: ", ")]
        if c.setAside > 0 {
            var reasons: [String] = []
            for (name, value) in [("not IP", c.nonIP), ("IP not UDP", c.nonUDP), ("fragments", c.fragments),
                                  ("cut by snap length", c.truncated), ("malformed", c.malformed),
                                  ("unsupported link type", c.unsupportedLinkType)] where value > 0 {
                reasons.append("\(value) \(name)")
            }
            lines.append("set aside: \(c.setAside) (\(reasons.joined(separator: ", ")))")
        }
        if c.truncatedRecordsAtEnd > 0 { lines.append("the file ends inside a packet record (capture cut short); analysed up to there") }
        if t.withoutTimestamp > 0 { lines.append("\(t.withoutTimestamp) packets without a timestamp took the previous packet's time") }
        let settings = report.configuration
        lines.append("jitter buffer: fixed \(short(settings.jitterBufferMs)) ms; "
                     + (settings.concealment ? "receiver conceals loss (PLC)" : "no loss concealment assumed"))
        return lines
    }

    private static func fixed(_ x: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", x)
    }

    private static func short(_ x: Double) -> String {
        String(format: "%g", x)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
