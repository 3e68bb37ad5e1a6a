import ArgumentParser
import Foundation
import Testing
@testable import EarshotCLI

/// `earshot sip parse` run as the built binary (exit codes, stdout, stderr) on RFC 4475
/// fixtures, plus argument parsing in-process.
@Suite("earshot sip parse")
struct SIPParseCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SIPCoreTests/Fixtures/rfc4475")

    /// The `earshot` executable next to the test bundle (the test target depends on it).
    static func binary() throws -> URL {
        var candidates: [URL] = []
        var directory = Bundle.main.bundleURL
        for _ in 0..<3 {
            candidates.append(directory.appendingPathComponent("earshot"))
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug/earshot"))
        return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                            "earshot binary not found near \(Bundle.main.bundleURL.path)")
    }

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        }
    }

    static func run(_ arguments: [String], stdin: Data? = nil) throws -> Run {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self))
    }

    static func fixture(_ tag: String) -> String { fixtures.appendingPathComponent("\(tag).dat").path }

    @Test("arguments parse into the sip parse command")
    func argumentParsing() throws {
        let command = try Earshot.parseAsRoot(["sip", "parse", "-", "--format", "json", "--role", "proxy", "--supported", "timer,100rel"])
        let parse = try #require(command as? SIPParseCommand)
        #expect(parse.file == "-")
        #expect(parse.format == .json)
        #expect(parse.role == .proxy)
        #expect(parse.supported == "timer,100rel")
        #expect(throws: (any Error).self) { try Earshot.parseAsRoot(["sip", "parse", "x", "--role", "registrar"]) }
    }

    @Test("wsinv as JSON: start line, canonical headers in order, body length, ok verdict")
    func wsinvJSON() throws {
        let result = try Self.run(["sip", "parse", Self.fixture("wsinv"), "--format", "json"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let json = try result.json()
        #expect(json["kind"] as? String == "request")
        let start = try #require(json["start_line"] as? [String: Any])
        #expect(start["method"] as? String == "INVITE")
        #expect(start["request_uri"] as? String == "sip:vivekg@chair-dnrc.example.com;unknownparam")
        #expect(start["version"] as? String == "SIP/2.0")
        let headers = try #require(json["headers"] as? [String: [String]])
        #expect(headers["Via"] == [
            "SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw",
            "SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8",
            "SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239",
        ])
        #expect(headers["Max-Forwards"] == ["0068"])
        #expect(headers["CSeq"] == ["0009 INVITE"])
        #expect(headers["Subject"] == [""])
        #expect(headers["UnknownHeaderWithUnusualValue"] == [";;,,;;,;"])
        #expect(headers["Content-Length"] == ["150"])
        #expect(json["body_length"] as? Int == 150)
        let verdict = try #require(json["verdict"] as? [String: Any])
        #expect(verdict["ok"] as? Bool == true)
        #expect(verdict["status"] is NSNull)
        #expect(verdict["action"] as? String == "accept")
        #expect((verdict["problems"] as? [String])?.isEmpty == true)
    }

    @Test("a response as JSON: status line fields")
    func responseJSON() throws {
        let json = try Self.run(["sip", "parse", Self.fixture("noreason"), "--format", "json"]).json()
        #expect(json["kind"] as? String == "response")
        let start = try #require(json["start_line"] as? [String: Any])
        #expect(start["status_code"] as? Int == 100)
        #expect(start["reason_phrase"] as? String == "")
        #expect(start["method"] == nil)
    }

    @Test("bext01: the verdict carries 420, the problem and the Unsupported tags")
    func badExtensionJSON() throws {
        let result = try Self.run(["sip", "parse", Self.fixture("bext01"), "--format", "json"])
        #expect(result.status == 0)
        let verdict = try #require(try result.json()["verdict"] as? [String: Any])
        #expect(verdict["ok"] as? Bool == false)
        #expect(verdict["status"] as? Int == 420)
        #expect(verdict["reason"] as? String == "Bad Extension")
        #expect(verdict["unsupported"] as? [String] == ["nothingSupportsThis", "nothingSupportsThisEither"])
        #expect((verdict["problems"] as? [String])?.first?.contains("Require") == true)
        // With --supported listing them, the same message is accepted.
        let accepted = try Self.run(["sip", "parse", Self.fixture("bext01"), "--format", "json",
                                     "--supported", "nothingSupportsThis,nothingSupportsThisEither"])
        #expect((try accepted.json()["verdict"] as? [String: Any])?["ok"] as? Bool == true)
    }

    @Test("badvers: 505 in the verdict; text output names it")
    func versionText() throws {
        let result = try Self.run(["sip", "parse", Self.fixture("badvers")])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("request  OPTIONS sip:t.watson@example.org SIP/7.0\n"))
        #expect(result.stdout.contains("  Max-Forwards: 70\n"))
        #expect(result.stdout.contains("verdict  505 Version Not Supported\n"))
    }

    @Test("malformed input: exit 1, error and byte offset on stderr, nothing on stdout")
    func malformed() throws {
        let result = try Self.run(["sip", "parse", Self.fixture("ltgtruri"), "--format", "json"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "error: \(Self.fixture("ltgtruri")): invalid Request-URI at byte 7\n")
        let ncl = try Self.run(["sip", "parse", Self.fixture("ncl")])
        #expect(ncl.status == 1)
        #expect(ncl.stderr.contains("Content-Length is not a non-negative integer at byte"))
    }

    @Test("standard input with -")
    func standardInput() throws {
        let message = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n"
        let result = try Self.run(["sip", "parse", "-", "--format", "json"], stdin: Data(message.utf8))
        #expect(result.status == 0)
        let json = try result.json()
        #expect((json["headers"] as? [String: [String]])?["Content-Length"] == ["0"])
        #expect((json["verdict"] as? [String: Any])?["ok"] as? Bool == true)
        let garbage = try Self.run(["sip", "parse", "-"], stdin: Data("hello\r\n\r\n".utf8))
        #expect(garbage.status == 1)
        #expect(garbage.stderr == "error: stdin: request line is not Method SP Request-URI SP SIP-Version at byte 5\n")
    }

    @Test("an unreadable file is bad input (exit 1)")
    func missingFile() throws {
        let result = try Self.run(["sip", "parse", "/nonexistent/message.sip"])
        #expect(result.status == 1)
        #expect(result.stderr == "error: cannot read /nonexistent/message.sip\n")
    }
}
