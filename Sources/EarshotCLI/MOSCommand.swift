import ArgumentParser
import CallQuality
import Foundation

/// `earshot mos`: score a call with the full ITU-T G.107 E-model from a codec, a loss rate
/// and a delay, and show every term, so a voice engineer can see why a call scores what
/// it scores.
///
/// Numeric options are read as text and checked here rather than by ArgumentParser, so that
/// every bad value (not a number, out of range, contradictory) is one clear message and exit
/// code 2 — ArgumentParser's own validation errors exit 64.
struct MOSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mos",
        abstract: "Score a call with the ITU-T G.107 E-model: R, MOS-CQ, MOS-LQ and every impairment.",
        usage: """
            earshot mos --codec <codec> --loss <pct> [--burst-ratio <x>] [--plc] --delay <ms> [--advantage <a>] [--format json]
            earshot mos --codec <codec> --loss <pct> [--burst-ratio <x>] [--plc] --rtt <ms> [--jb <ms>] [--ptime <ms>] [--advantage <a>] [--format json]
            """,
        discussion: """
            Codec values are G.113 Appendix I: PCMU/PCMA Ie 0 with Bpl 4.3 (no concealment) or \
            25.1 (--plc); G729A (+VAD) Ie 11, Bpl 19.0; G723.1 (6.3 kbit/s +VAD) Ie 15, Bpl 16.1. \
            Wideband codecs (G722, OPUS) are outside G.107 and are scored only with explicit \
            --ie and --bpl.

            The delay is required, in one of two forms:
              --delay MS   mouth-to-ear delay Ta, used as-is (--delay 0: no delay)
              --rtt MS     network round trip: Ta = rtt/2 + jb + ptime + look-ahead
            with --jb default \(Int(MOSCommand.defaultJitterBufferMs)) ms, --ptime default 20 ms (30 ms for G723.1) \
            and look-ahead G711 0 ms, G729A 5 ms, G723.1 7.5 ms.

            The echo paths follow Ta: T = Ta, Tr = 2·Ta. MOS-CQ uses the delay; MOS-LQ is the same \
            model with Ta = T = Tr = 0. Every other parameter is at its G.107 default.

            Exit status: 0 scored; 2 a value out of range or options that contradict each other.
            """
    )

    /// Jitter-buffer delay assumed with --rtt when --jb is not given: a common fixed
    /// playout buffer for enterprise VoIP (two 20 ms packets).
    static let defaultJitterBufferMs: Double = 40

    @Option(help: ArgumentHelp("PCMU, PCMA, G729A or G723.1 (also G711U, G711A, G729, G723).", valueName: "codec"))
    var codec: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Packet loss, percent 0–100.", valueName: "pct"))
    var loss: String?

    @Option(
        name: .customLong("burst-ratio"), parsing: .unconditional,
        help: ArgumentHelp("BurstR ≥ 1: 1 random loss (default), above 1 bursty.", valueName: "x")
    )
    var burstRatio: String?

    @Flag(help: "The receiver conceals lost packets (G.711 packet-loss concealment).")
    var plc = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Mouth-to-ear delay Ta in ms, used as-is.", valueName: "ms"))
    var delay: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Network round-trip time in ms; Ta = rtt/2 + jb + ptime + look-ahead.", valueName: "ms"))
    var rtt: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Jitter-buffer delay in ms, with --rtt (default 40).", valueName: "ms"))
    var jb: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Packetisation in ms, with --rtt (default 20; G723.1 30).", valueName: "ms"))
    var ptime: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Advantage factor A, 0–20 (default 0, wired).", valueName: "a"))
    var advantage: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Equipment impairment Ie 0–95, replacing the G.113 value (with --bpl).", valueName: "ie"))
    var ie: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Packet-loss robustness Bpl > 0, replacing the G.113 value (with --ie).", valueName: "bpl"))
    var bpl: String?

    @Option(help: ArgumentHelp("text (default) or json.", valueName: "format"))
    var format: String?

    func run() throws {
        try reportingFailures {
            print(try output())
        }
    }

    /// What the command prints, or the failure it exits with.
    func output() throws(CommandFailure) -> String {
        let format = try outputFormat()
        let assessment = CallQualityAssessment(inputs: try modelInputs())
        switch format {
        case .json:
            do {
                return try Output.json(assessment)
            } catch {
                throw .input("could not encode the result: \(error)")
            }
        case .text:
            return Self.text(assessment)
        }
    }

    func outputFormat() throws(CommandFailure) -> OutputFormat {
        guard let format else { return .text }
        guard let parsed = OutputFormat(rawValue: format.lowercased()) else {
            throw .usage("--format must be text or json, not '\(format)'")
        }
        return parsed
    }

    /// The command line as E-model inputs; every check that can fail is here.
    func modelInputs() throws(CommandFailure) -> ModelInputs {
        guard let codecName = codec else {
            throw .usage("missing --codec (PCMU, PCMA, G729A or G723.1)")
        }
        guard let lossPercent = try Self.number(loss, "--loss", suffix: "%") else {
            throw .usage("missing --loss PCT (packet loss in percent, 0–100)")
        }
        let burst = try Self.number(burstRatio, "--burst-ratio") ?? 1
        let advantageFactor = try Self.number(advantage, "--advantage") ?? 0
        let mouthToEar = try Self.number(delay, "--delay", suffix: "ms")
        let roundTrip = try Self.number(rtt, "--rtt", suffix: "ms")
        let jitterBuffer = try Self.number(jb, "--jb", suffix: "ms")
        let packetisation = try Self.number(ptime, "--ptime", suffix: "ms")
        let explicitIe = try Self.number(ie, "--ie")
        let explicitBpl = try Self.number(bpl, "--bpl")

        let codec = try Self.checked { () throws(CallQualityError) in try Codec.named(codecName) }
        let impairment: ModelInputs.CodecImpairment
        switch (explicitIe, explicitBpl) {
        case let (ie?, bpl?):
            impairment = try Self.checked { () throws(CallQualityError) in
                try .init(codec: codec, equipmentImpairment: ie, packetLossRobustness: bpl, concealment: plc)
            }
        case (nil, nil):
            impairment = try Self.checked { () throws(CallQualityError) in try .init(codec: codec, concealment: plc) }
        default:
            throw .usage("--ie and --bpl go together: give both or neither")
        }

        let budget: DelayBudget
        switch (mouthToEar, roundTrip) {
        case let (ta?, nil):
            guard jitterBuffer == nil, packetisation == nil else {
                throw .usage("--jb and --ptime build the delay from --rtt; --delay is already the whole mouth-to-ear delay")
            }
            budget = try Self.checked { () throws(CallQualityError) in try DelayBudget(mouthToEarMs: ta) }
        case let (nil, rtt?):
            budget = try Self.checked { () throws(CallQualityError) in
                try DelayBudget(
                    network: .roundTrip(rttMs: rtt),
                    jitterBufferMs: jitterBuffer ?? Self.defaultJitterBufferMs,
                    ptimeMs: packetisation,
                    codec: codec
                )
            }
        case (.some, .some):
            throw .usage("give --delay (mouth-to-ear) or --rtt (network round trip), not both")
        case (nil, nil):
            throw .usage(
                "missing delay: give --delay MS (mouth-to-ear, used as-is; --delay 0 for none) "
                    + "or --rtt MS (network round trip)"
            )
        }

        return try Self.checked { () throws(CallQualityError) in
            try ModelInputs(
                codec: impairment, packetLossPercent: lossPercent, burstRatio: burst,
                delay: budget, advantage: advantageFactor
            )
        }
    }

    /// Runs the model-input checks, turning their errors into usage failures (exit 2).
    private static func checked<T>(_ body: () throws(CallQualityError) -> T) throws(CommandFailure) -> T {
        do {
            return try body()
        } catch where error.code == .codecNeedsExplicitImpairment {
            throw .usage(error.message.replacingOccurrences(of: "give Ie and Bpl", with: "give --ie and --bpl"))
        } catch {
            throw .usage(error.message)
        }
    }

    /// A number from an option's text; nil when the option was not given. An optional unit
    /// suffix is accepted (`2%`, `150ms`); NaN and infinities are not numbers here.
    static func number(_ text: String?, _ option: String, suffix: String? = nil) throws(CommandFailure) -> Double? {
        guard let text else { return nil }
        var body = text.trimmingCharacters(in: .whitespaces)
        if let suffix, body.lowercased().hasSuffix(suffix) {
            body = String(body.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
        }
        guard let value = Double(body), value.isFinite else {
            throw .usage("\(option) expects a number, not '\(text)'")
        }
        return value
    }

    // MARK: text output

    static func text(_ a: CallQualityAssessment) -> String {
        let inputs = a.inputs, codec = inputs.codec, d = inputs.delay
        guard let cq = a.conversational else { return "" }  // the command always has a delay
        let lq = a.listening
        var lines: [String] = []
        lines.append("E-model (ITU-T G.107)")
        lines.append("")
        lines.append("  R factor  \(fixed(cq.rFactor, 2).leftPadded(7))   \(cq.quality.rawValue.replacingOccurrences(of: "_", with: " "))")
        lines.append("  MOS-CQ    \(fixed(cq.mos, 2).leftPadded(7))   conversational, Ta \(short(d.mouthToEarMs ?? 0)) ms")
        lines.append("  MOS-LQ    \(fixed(lq.mos, 2).leftPadded(7))   listening, no delay (R \(fixed(lq.rFactor, 2)))")
        lines.append("")
        lines.append("  term            CQ         LQ")
        let rows: [(String, KeyPath<Impairments, Double>, String)] = [
            ("Ro", \.Ro, "basic signal-to-noise ratio"),
            ("Is", \.Is, "simultaneous: Iolr + Ist + Iq"),
            ("  Iolr", \.Iolr, "overall loudness"),
            ("  Ist", \.Ist, "sidetone"),
            ("  Iq", \.Iq, "quantizing distortion"),
            ("Id", \.Id, "delay: Idte + Idle + Idd"),
            ("  Idte", \.Idte, "talker echo"),
            ("  Idle", \.Idle, "listener echo"),
            ("  Idd", \.Idd, "absolute delay"),
            ("Ie,eff", \.IeEff, "codec and packet loss"),
            ("A", \.A, "advantage"),
        ]
        for (name, path, meaning) in rows {
            let cqValue = fixed(cq.impairments[keyPath: path], 3).leftPadded(9)
            let lqValue = fixed(lq.impairments[keyPath: path], 3).leftPadded(9)
            lines.append("  \(name.rightPadded(8))\(cqValue)  \(lqValue)   \(meaning)")
        }
        lines.append("  R = Ro − Is − Id − Ie,eff + A")
        lines.append("")
        lines.append("  inputs")
        let source = codec.source == .g113 ? "G.113 Appendix I" : "given"
        let concealment = codec.concealment ? "receiver conceals loss" : "no loss concealment"
        lines.append("    codec       \(codec.codec.name): Ie \(short(codec.equipmentImpairment)), Bpl \(short(codec.packetLossRobustness)) (\(source); \(concealment))")
        lines.append("    loss        Ppl \(short(inputs.packetLossPercent)) %, BurstR \(short(inputs.burstRatio))")
        let ta = short(d.mouthToEarMs ?? 0)
        if d.source == .given {
            lines.append("    delay       Ta \(ta) ms (given); T = Ta, Tr = 2·Ta")
        } else {
            lines.append(
                "    delay       Ta \(ta) ms = \(short(d.networkOneWayMs ?? 0)) (rtt \(short(d.rttMs ?? 0))/2, estimated) "
                    + "+ \(short(d.jitterBufferMs ?? 0)) jb + \(short(d.ptimeMs ?? 0)) ptime "
                    + "+ \(short(d.lookAheadMs ?? 0)) look-ahead; T = Ta, Tr = 2·Ta"
            )
        }
        lines.append("    advantage   A \(short(inputs.advantage))")
        lines.append("    other       G.107 defaults (SLR 8, RLR 2, STMR 15, TELR 65, WEPL 110, qdu 1, …)")
        return lines.joined(separator: "\n")
    }

    private static func fixed(_ x: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", x)
    }

    /// Up to six significant digits, no trailing zeros: 4.3, 150, 0.5.
    private static func short(_ x: Double) -> String {
        String(format: "%g", x)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    fileprivate func rightPadded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
