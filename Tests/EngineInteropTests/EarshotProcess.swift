import Foundation
import InteropTestSupport
import Testing

/// `earshot call` and `earshot answer` run as the user would run them, with JSON output.
struct EarshotRun {
    let process: SpawnedProcess

    /// The final JSON report of `earshot call --format json`.
    var report: [String: Any]? { Harness.jsonObject(process.output) }
}

enum Earshot {
    /// Per-test RTP port ranges so parallel tests never compete for ports.
    static func rtpPorts(_ slot: Int) -> String {
        let low = 20000 + slot * 200
        return "\(low)-\(low + 199)"
    }

    /// Runs `earshot call …` to completion (bounded) and returns its process.
    static func call(_ arguments: [String], in scratch: ScratchDirectory, name: String = "call", timeout: Double) throws -> SpawnedProcess {
        let process = try SpawnedProcess(try Harness.earshotBinary(), ["call"] + arguments,
                                         outputPath: scratch.path("\(name).out"), errorPath: scratch.path("\(name).err"))
        let finished = process.wait(seconds: timeout)
        if !finished { process.signal(SIGKILL) }
        try #require(finished, "earshot call did not finish in \(timeout) s\nstderr: \(process.errors)")
        return process
    }

    /// Starts `earshot answer --format json …` and waits until it is listening (and registered).
    static func answer(_ arguments: [String], in scratch: ScratchDirectory, name: String = "answer") throws -> SpawnedProcess {
        try Harness.start(try Harness.earshotBinary(), ["answer", "--format", "json"] + arguments, in: scratch, name: name,
                          ready: "{", timeout: 30).waitingForEvent("ready", timeout: 30)
    }
}

extension SpawnedProcess {
    /// The JSON event lines `earshot answer --format json` printed so far.
    var events: [[String: Any]] { Harness.jsonLines(output) }

    func events(named name: String) -> [[String: Any]] { events.filter { $0["event"] as? String == name } }

    /// Waits for an event line; throws with the process's output when it does not come.
    @discardableResult
    func waitingForEvent(_ name: String, count: Int = 1, timeout: Double) throws -> SpawnedProcess {
        let ok = waitUntil(seconds: timeout, interval: 0.05) { self.events(named: name).count >= count || self.hasExited }
        guard ok, events(named: name).count >= count else {
            throw SpawnError(description: "no \(name) event: exit \(String(describing: exitCode))\nstdout: \(output)\nstderr: \(errors)")
        }
        return self
    }

    /// The call reports printed so far.
    var callReports: [[String: Any]] { events(named: "call").compactMap { $0["report"] as? [String: Any] } }
}
