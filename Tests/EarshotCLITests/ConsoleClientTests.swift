import EarshotWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@testable import EarshotCLI

/// The console's errors when the organizer cannot be reached, in-process and through the
/// built binary (exit code 2, the message on stderr).
@Suite struct ConsoleClientTests {
    /// A TCP port on 127.0.0.1 that nothing listens on: bound, read, and closed again.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func connectionRefusedSaysWhereAndWhatToCheck() async throws {
        let port = try Self.closedPort()
        let client = OrganizerClient(baseURL: "http://127.0.0.1:\(port)", token: nil)
        do {
            _ = try await client.status()
            Issue.record("status succeeded against a closed port")
        } catch let error as OrganizerClientError {
            #expect(error.kind == .unreachable)
            #expect(error.exitCode == 2)
            #expect(error.message == "cannot reach the organizer at http://127.0.0.1:\(port): Connection refused (is earshot-organizer running? --organizer / EARSHOT_ORGANIZER)")
        }
        await client.shutdown()
    }

    @Test func unauthorizedMessagesTellWhichTokenToCheck() {
        #expect(OrganizerClientError.unauthorized(apiMessage: "invalid bearer token", tokenGiven: true).message
            == "the organizer refused the token (invalid bearer token; check --token / EARSHOT_TOKEN)")
        #expect(OrganizerClientError.unauthorized(apiMessage: "missing bearer token", tokenGiven: false).message
            == "the organizer refused the token (no token given: pass --token or set EARSHOT_TOKEN)")
        #expect(OrganizerClientError.unauthorized(apiMessage: nil, tokenGiven: true).exitCode == 2)
        #expect(OrganizerClientError.forbidden(apiMessage: "read-only token").exitCode == 2)
    }

    @Test func pathSegmentsAreEscaped() {
        #expect(OrganizerClient.segment("alice") == "alice")
        #expect(OrganizerClient.segment("a b/c?d") == "a%20b%2Fc%3Fd")
        #expect(OrganizerClient.query([("since", "2026-12-06T20:10:00.000Z")]) == "?since=2026-12-06T20%3A10%3A00.000Z")
        #expect(OrganizerClient.query([]) == "")
    }

    @Test func binaryExitsTwoWithTheMessageOnStderr() throws {
        let port = try Self.closedPort()
        let run = try ConsoleProcess.run(["agents", "list", "--organizer", "http://127.0.0.1:\(port)"])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "error: cannot reach the organizer at http://127.0.0.1:\(port): Connection refused (is earshot-organizer running? --organizer / EARSHOT_ORGANIZER)\n")
    }

    @Test func binaryReadsTheOrganizerFromTheEnvironment() throws {
        let port = try Self.closedPort()
        let run = try ConsoleProcess.run(["status"], environment: ["EARSHOT_ORGANIZER": "127.0.0.1:\(port)"])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("error: cannot reach the organizer at http://127.0.0.1:\(port): Connection refused"))
    }

    @Test func validateExitsTwoOnABadFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("earshot-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.yaml")
        try "name: x\ntype: p2p\ncodec: G729\n".write(to: file, atomically: true, encoding: .utf8)
        let run = try ConsoleProcess.run(["validate", "-f", file.path, "--organizer", "http://127.0.0.1:1"])
        #expect(run.status == 2)
        #expect(run.stderr == "error: \(file.path): suite x: codec: PCMU or PCMA\n")
    }
}

/// The built `earshot` with a chosen environment (EARSHOT_* of the test's own environment removed).
enum ConsoleProcess {
    typealias Outcome = (status: Int32, stdout: String, stderr: String)

    /// For async tests: the blocking reads and the wait happen on a thread of their own, not
    /// on one of Swift Testing's two cooperative threads (an in-process organizer needs them).
    static func runAsync(_ arguments: [String], environment: [String: String] = [:]) async throws -> Outcome {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Outcome, any Error>) in
            let thread = Thread {
                do {
                    continuation.resume(returning: try run(arguments, environment: environment))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = try MOSCommandTests.binary()
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "EARSHOT_ORGANIZER")
        merged.removeValue(forKey: "EARSHOT_TOKEN")
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
