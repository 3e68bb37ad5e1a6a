import ArgumentParser
import Foundation
import Testing

@testable import EarshotCLI

/// `earshot mos`: parsed through the real root command and run in-process (values, exit
/// codes), and once through the built binary. Expected numbers come from the independent
/// Python reference (Tests/CallQualityTests/emodel_reference.py).
@Suite struct MOSCommandTests {
    /// Parses `earshot mos <arguments>` as the executable would.
    static func command(_ arguments: [String]) throws -> MOSCommand {
        let parsed = try Earshot.parseAsRoot(["mos"] + arguments)
        return try #require(parsed as? MOSCommand)
    }

    static func json(_ arguments: [String]) throws -> [String: Any] {
        let text = try command(arguments + ["--format", "json"]).output()
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The exit code the command fails with (0 when it succeeds).
    static func exitCode(_ arguments: [String]) throws -> Int32 {
        let command = try command(arguments)
        do {
            _ = try command.output()
            return 0
        } catch {
            return error.code
        }
    }

    static func close(_ value: Any?, _ expected: Double, _ tolerance: Double = 1e-6) -> Bool {
        guard let number = value as? Double else { return false }
        return abs(number - expected) < tolerance
    }

    // MARK: values

    /// --rtt: Ta = 200/2 + 60 (jb) + 20 (default ptime) + 0 (G.711 look-ahead) = 180 ms.
    @Test func rttBuildsTheDelayBudget() throws {
        let object = try Self.json(["--codec", "PCMU", "--loss", "2", "--rtt", "200", "--jb", "60"])
        #expect(Self.close(object["r_factor"], 57.67325787320379))
        #expect(Self.close(object["mos_cq"], 2.978805010240575))
        #expect(Self.close(object["r_factor_lq"], 63.04747756454555))
        #expect(Self.close(object["mos_lq"], 3.2563610250942174))
        #expect(object["quality"] as? String == "poor")
        let impairments = try #require(object["impairments"] as? [String: Double])
        #expect(Self.close(impairments["Is"], 1.4135680813438616))
        #expect(Self.close(impairments["Id"], 5.523265466084725))
        #expect(Self.close(impairments["Idte"], 3.2778952175623015))
        #expect(Self.close(impairments["Idle"], 0.8990916026664593))
        #expect(Self.close(impairments["Idd"], 1.346278645855964))
        #expect(Self.close(impairments["Ie_eff"], 30.158730158730158))
        #expect(impairments["A"] == 0)
        #expect(Set(impairments.keys) == ["Ro", "Is", "Iolr", "Ist", "Iq", "Id", "Idte", "Idle", "Idd", "Ie_eff", "A"])
        let inputs = try #require(object["inputs"] as? [String: Any])
        #expect(inputs["codec"] as? String == "PCMU")
        #expect(inputs["loss_pct"] as? Double == 2)
        #expect(inputs["burst_ratio"] as? Double == 1)
        #expect(inputs["plc"] as? Bool == false)
        #expect(inputs["one_way_ms"] as? Double == 180)
        #expect(inputs["rtt_ms"] as? Double == 200)
        #expect(inputs["network_one_way_ms"] as? Double == 100)
        #expect(inputs["jb_ms"] as? Double == 60)
        #expect(inputs["ptime_ms"] as? Double == 20)
        #expect(inputs["lookahead_ms"] as? Double == 0)
        #expect(inputs["advantage"] as? Double == 0)
        #expect(inputs["Ie"] as? Double == 0)
        #expect(inputs["Bpl"] as? Double == 4.3)
        #expect(inputs["delay_source"] as? String == "estimated_rtt_half")
    }

    /// --delay is Ta as-is; --plc selects the G.711 PLC row (Bpl 25.1).
    @Test func delayIsUsedAsIs() throws {
        let object = try Self.json(["--codec", "PCMA", "--loss", "1", "--plc", "--delay", "150"])
        #expect(Self.close(object["r_factor"], 85.89928523030395))
        #expect(Self.close(object["mos_cq"], 4.226066974058037))
        #expect(Self.close(object["mos_lq"], 4.328231621852638))
        #expect(object["quality"] as? String == "high")
        let inputs = try #require(object["inputs"] as? [String: Any])
        #expect(inputs["one_way_ms"] as? Double == 150)
        #expect(inputs["delay_source"] as? String == "given")
        #expect(inputs["Bpl"] as? Double == 25.1)
        #expect(inputs["plc"] as? Bool == true)
        for key in ["rtt_ms", "jb_ms", "ptime_ms", "lookahead_ms"] {
            #expect(inputs[key] is NSNull, "\(key)")
        }
    }

    /// G.723.1 defaults to 30 ms ptime and adds 7.5 ms look-ahead: Ta = 50 + 40 + 30 + 7.5.
    @Test func g7231DefaultsAndAdvantage() throws {
        let object = try Self.json([
            "--codec", "G723.1", "--loss", "3", "--burst-ratio", "2", "--rtt", "100", "--advantage", "5",
        ])
        #expect(Self.close(object["r_factor"], 66.47709330277434))
        #expect(Self.close(object["mos_cq"], 3.427737927239723))
        let inputs = try #require(object["inputs"] as? [String: Any])
        #expect(inputs["one_way_ms"] as? Double == 127.5)
        #expect(inputs["ptime_ms"] as? Double == 30)
        #expect(inputs["lookahead_ms"] as? Double == 7.5)
        #expect(inputs["jb_ms"] as? Double == 40)
        #expect(inputs["advantage"] as? Double == 5)
        #expect(inputs["Ie"] as? Double == 15)
        #expect(inputs["Bpl"] as? Double == 16.1)
    }

    @Test func unitSuffixesAndAliases() throws {
        let plain = try Self.json(["--codec", "PCMU", "--loss", "2", "--delay", "150"])
        let suffixed = try Self.json(["--codec", "g711u", "--loss", "2%", "--delay", "150ms"])
        #expect(plain["r_factor"] as? Double == suffixed["r_factor"] as? Double)
    }

    @Test func widebandScoredOnlyWithExplicitValues() throws {
        #expect(try Self.exitCode(["--codec", "G722", "--loss", "1", "--delay", "0"]) == 2)
        let object = try Self.json(["--codec", "G722", "--loss", "1", "--delay", "0", "--ie", "5", "--bpl", "10"])
        let inputs = try #require(object["inputs"] as? [String: Any])
        #expect(inputs["impairment_source"] as? String == "explicit")
        #expect(inputs["Ie"] as? Double == 5)
        #expect(Self.close(object["r_factor_lq"], object["r_factor"] as? Double ?? .nan))
    }

    @Test func textShowsEveryTermAndTheInputs() throws {
        let text = try Self.command(["--codec", "G729A", "--loss", "1", "--rtt", "100"]).output()
        for expected in [
            "R factor", "MOS-CQ", "MOS-LQ", "Ro ", "Is ", "Iolr", "Ist", "Iq", "Id ", "Idte", "Idle", "Idd",
            "Ie,eff", "A ", "R = Ro − Is − Id − Ie,eff + A",
            "G729A: Ie 11, Bpl 19 (G.113 Appendix I; receiver conceals loss)",
            "Ppl 1 %, BurstR 1",
            "Ta 115 ms = 50 (rtt 100/2, estimated) + 40 jb + 20 ptime + 5 look-ahead",
        ] {
            #expect(text.contains(expected), "missing \(expected)")
        }
    }

    // MARK: exit code 2

    @Test(arguments: [
        ["--codec", "PCMU", "--loss", "-5", "--delay", "0"],
        ["--codec", "PCMU", "--loss", "100.5", "--delay", "0"],
        ["--codec", "PCMU", "--loss", "abc", "--delay", "0"],
        ["--codec", "PCMU", "--loss", "nan", "--delay", "0"],
        ["--codec", "PCMU", "--loss", "1", "--burst-ratio", "0.5", "--delay", "0"],
        ["--codec", "PCMU", "--loss", "1", "--delay", "-1"],
        ["--codec", "PCMU", "--loss", "1", "--delay", "10001"],
        ["--codec", "PCMU", "--loss", "1", "--rtt", "-100"],
        ["--codec", "PCMU", "--loss", "1", "--rtt", "100", "--jb", "-1"],
        ["--codec", "PCMU", "--loss", "1", "--rtt", "100", "--ptime", "0"],
        ["--codec", "G729A", "--loss", "1", "--rtt", "100", "--ptime", "25"],
        ["--codec", "PCMU", "--loss", "1", "--delay", "0", "--advantage", "21"],
        ["--codec", "PCMU", "--loss", "1", "--delay", "0", "--advantage", "-1"],
        ["--codec", "GSM", "--loss", "1", "--delay", "0"],
        ["--codec", "OPUS", "--loss", "1", "--delay", "0"],
        ["--codec", "PCMU", "--loss", "1", "--delay", "100", "--rtt", "200"],
        ["--codec", "PCMU", "--loss", "1"],
        ["--codec", "PCMU", "--delay", "0"],
        ["--loss", "1", "--delay", "0"],
        ["--codec", "PCMU", "--loss", "1", "--delay", "100", "--jb", "40"],
        ["--codec", "PCMU", "--loss", "1", "--delay", "0", "--ie", "5"],
        ["--codec", "PCMU", "--loss", "1", "--delay", "0", "--ie", "96", "--bpl", "10"],
        ["--codec", "PCMU", "--loss", "1", "--delay", "0", "--format", "xml"],
    ])
    func outOfRangeExitsTwo(arguments: [String]) throws {
        #expect(try Self.exitCode(arguments) == 2)
    }

    @Test func messagesNameTheProblem() throws {
        let cases: [([String], String)] = [
            (["--codec", "PCMU", "--loss", "-5", "--delay", "0"], "packet loss -5 is out of range (0…100 %)"),
            (["--codec", "PCMU", "--loss", "1", "--delay", "1", "--rtt", "2"], "give --delay (mouth-to-ear) or --rtt (network round trip), not both"),
            (["--codec", "PCMU", "--loss", "x", "--delay", "0"], "--loss expects a number, not 'x'"),
            (["--codec", "G722", "--loss", "1", "--delay", "0"], "give --ie and --bpl explicitly"),
            (["--codec", "PCMU", "--loss", "1"], "missing delay"),
        ]
        for (arguments, fragment) in cases {
            let error = #expect(throws: CommandFailure.self) { try Self.command(arguments).output() }
            #expect(error?.message.contains(fragment) == true, "\(arguments): \(error?.message ?? "")")
        }
    }

    /// The full path of `run()`: the failure becomes ArgumentParser's `ExitCode(2)`.
    @Test func runExitsTwo() throws {
        let command = try Self.command(["--codec", "PCMU", "--loss", "101", "--delay", "0"])
        let error = #expect(throws: ExitCode.self) { try command.run() }
        #expect(error?.rawValue == 2)
    }

    /// Errors ArgumentParser raises itself while parsing (an unknown option, an option without
    /// its value) are mapped to exit 2 by `main`, like the command's own range checks.
    @Test func parserErrorsExitTwo() throws {
        for arguments in [["--codec", "PCMU", "--loss", "1", "--delay", "0", "--bogus"], ["--codec", "PCMU", "--loss"]] {
            let run = try Self.runBinary(["mos"] + arguments)
            #expect(run.status == 2, "\(arguments)")
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.contains("Error:"), "\(run.stderr)")
        }
    }

    // MARK: the built binary

    /// The `earshot` executable beside the running test bundle.
    static func binary() throws -> URL {
        var directories: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
        directories.append(
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug")
        )
        let found = directories.map { $0.appendingPathComponent("earshot") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(found, "earshot binary not found in \(directories.map(\.path))")
    }

    static func runBinary(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try ConsoleProcess.run(arguments)
    }

    @Test func binaryPrintsJSONAndExitsZero() throws {
        let run = try Self.runBinary(["mos", "--codec", "PCMU", "--loss", "2", "--rtt", "200", "--jb", "60", "--format", "json"])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(Self.close(object["r_factor"], 57.67325787320379))
        #expect(Self.close(object["mos_lq"], 3.2563610250942174))
    }

    @Test func binaryOutOfRangeExitsTwoWithMessageOnStderr() throws {
        let run = try Self.runBinary(["mos", "--codec", "PCMU", "--loss", "120", "--delay", "0"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "error: packet loss 120 is out of range (0…100 %)\n")
    }
}
