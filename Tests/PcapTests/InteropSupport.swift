import Foundation
import InteropTestSupport
import Pcap
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Wireshark tools the interop tests drive, found on PATH.
enum Tools {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let tshark = find("tshark")
    static let editcap = find("editcap")
    static var available: Bool { tshark != nil && editcap != nil }
    static let skipReason: Comment = "tshark/editcap not installed — run scripts/install-test-deps (scripts/test does)"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a tool to completion; output goes through files so no pipe can fill up and block.
    @discardableResult
    static func run(_ tool: String?, _ arguments: [String]) throws -> String {
        guard let tool else { throw Failure(description: "tool not installed") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-tool-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: scratch.path + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.path + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: scratch.path + ".out")
            try? FileManager.default.removeItem(atPath: scratch.path + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path + ".err"))
        try process.run()
        process.waitUntilExit()
        let out = try String(contentsOfFile: scratch.path + ".out", encoding: .utf8)
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOfFile: scratch.path + ".err", encoding: .utf8)) ?? ""
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(err)")
        }
        return out
    }
}

func readFile(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// One UDP datagram as a line of `tshark -T fields`, and the same line built from our reader,
/// so the two can be compared as plain values.
struct FieldsLine: Hashable, CustomStringConvertible {
    var number: Int
    var time: String
    var source: String
    var sourcePort: String
    var destination: String
    var destinationPort: String
    var udpLength: String
    var payloadHex: String

    static let tsharkFields = ["frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "udp.srcport",
                               "ip.dst", "ipv6.dst", "udp.dstport", "udp.length", "udp.payload"]

    init(tshark line: Substring) throws {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard f.count == Self.tsharkFields.count, let number = Int(f[0]) else {
            throw Tools.Failure(description: "unexpected tshark line: \(line)")
        }
        self.number = number
        time = f[1]
        source = f[2].isEmpty ? f[3] : f[2]
        sourcePort = f[4]
        destination = f[5].isEmpty ? f[6] : f[5]
        destinationPort = f[7]
        udpLength = f[8]
        payloadHex = f[9]
    }

    init(_ datagram: UDPDatagram) {
        number = datagram.packetNumber
        time = datagram.timestamp?.description ?? "-"
        source = datagram.source.address.description
        sourcePort = String(datagram.source.port)
        destination = datagram.destination.address.description
        destinationPort = String(datagram.destination.port)
        udpLength = String(datagram.payload.count + 8)
        payloadHex = datagram.payload.map { String(format: "%02x", $0) }.joined()
    }

    var description: String { "#\(number) \(time) \(source):\(sourcePort) → \(destination):\(destinationPort) len \(udpLength) \(payloadHex.prefix(16))" }

    /// tshark's view of a capture file: every UDP datagram that is not inside an ICMP error.
    static func tshark(_ path: String, extraFields: [String] = [], options: [String] = []) throws -> [String] {
        let fields = (tsharkFields + extraFields).flatMap { ["-e", $0] }
        let output = try Tools.run(Tools.tshark, ["-n", "-r", path, "-Y", "udp && !icmp && !icmpv6", "-T", "fields",
                                                  "-E", "separator=/t", "-E", "occurrence=f"] + options + fields)
        return output.split(separator: "\n").map(String.init)
    }

    static func fromTshark(_ path: String) throws -> [FieldsLine] {
        try tshark(path).map { try FieldsLine(tshark: $0[...]) }
    }

    static func fromReader(_ path: String) throws -> [FieldsLine] {
        try UDPDatagramReader.readAll(readFile(path)).datagrams.map(FieldsLine.init)
    }
}

