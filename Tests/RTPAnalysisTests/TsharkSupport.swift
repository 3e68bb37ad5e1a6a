import Foundation
import InteropTestSupport
import Pcap
import Testing
#if canImport(Glibc)
import Glibc
#endif

// Running tshark from the tests. Adapted from Tests/PcapTests/InteropSupport.swift (test
// targets cannot import each other): tools found on PATH, a scratch directory, posix_spawn
// with a clean signal mask for live captures, loopback UDP sockets.

enum Tshark {
    static let path: String? = {
        let search = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return search.split(separator: ":").map { "\($0)/tshark" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static var available: Bool { path != nil }
    static let skipReason: Comment = "tshark not installed — run scripts/install-test-deps (scripts/test does)"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One row of `tshark -z rtp,streams` (Wireshark 4.0 columns).
    struct Stream: CustomStringConvertible {
        var source: String
        var sourcePort: UInt16
        var destination: String
        var destinationPort: UInt16
        var ssrc: UInt32
        var payload: String
        var packets: Int
        var lost: Int
        var minDeltaMs: Double
        var meanDeltaMs: Double
        var maxDeltaMs: Double
        var minJitterMs: Double
        var meanJitterMs: Double
        var maxJitterMs: Double
        var problems: Bool

        var description: String {
            "\(source):\(sourcePort) → \(destination):\(destinationPort) 0x\(String(ssrc, radix: 16)) \(payload) pkts \(packets) "
                + "lost \(lost) max Δ \(maxDeltaMs) jitter \(meanJitterMs)/\(maxJitterMs)"
        }

        /// `   0.000000   0.981000   127.0.0.1 16100   127.0.0.1 16200 0x11223344   g711U   48   2 (4.0%)
        ///     1.000   20.872   60.000   0.136   0.644   0.960 X`: the payload column may hold
        /// spaces, so fields are taken from both ends.
        init?(line: Substring) {
            var f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let problems = f.last == "X"
            if problems { f.removeLast() }
            guard f.count >= 17, Double(f[0]) != nil, Double(f[1]) != nil,
                  let sourcePort = UInt16(f[3]), let destinationPort = UInt16(f[5]), f[6].hasPrefix("0x"),
                  let ssrc = UInt32(f[6].dropFirst(2), radix: 16)
            else { return nil }
            let tail = Array(f.suffix(9))
            guard let packets = Int(tail[0]), let lost = Int(tail[1]),
                  let minDelta = Double(tail[3]), let meanDelta = Double(tail[4]), let maxDelta = Double(tail[5]),
                  let minJitter = Double(tail[6]), let meanJitter = Double(tail[7]), let maxJitter = Double(tail[8])
            else { return nil }
            self.source = f[2]
            self.sourcePort = sourcePort
            self.destination = f[4]
            self.destinationPort = destinationPort
            self.ssrc = ssrc
            self.payload = f[7..<(f.count - 9)].joined(separator: " ")
            self.packets = packets
            self.lost = lost
            self.minDeltaMs = minDelta
            self.meanDeltaMs = meanDelta
            self.maxDeltaMs = maxDelta
            self.minJitterMs = minJitter
            self.meanJitterMs = meanJitter
            self.maxJitterMs = maxJitter
            self.problems = problems
        }
    }

    /// tshark's RTP streams of a capture file, RTP found by its UDP heuristic (no SDP needed).
    static func streams(_ file: String) throws -> (streams: [Stream], table: String) {
        let table = try run(["-q", "-n", "-r", file, "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams"])
        return (table.split(separator: "\n").compactMap(Stream.init(line:)), table)
    }

    /// Runs tshark to completion; output goes through files so no pipe can fill up and block.
    static func run(_ arguments: [String]) throws -> String {
        guard let path else { throw Failure(description: "tshark not installed") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-tshark-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: scratch.path + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.path + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: scratch.path + ".out")
            try? FileManager.default.removeItem(atPath: scratch.path + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + ".err"))
        try process.run()
        process.waitUntilExit()
        let out = try String(contentsOfFile: scratch.path + ".out", encoding: .utf8)
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOfFile: scratch.path + ".err", encoding: .utf8)) ?? ""
            throw Failure(description: "tshark \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(err)")
        }
        return out
    }
}
