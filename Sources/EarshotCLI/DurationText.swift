import EarshotWire
import Foundation

/// Durations on the command line: `20s`, `500ms`, `1m30s`, `2h`, or a bare number of seconds.
/// Read as text so that a bad value is one clear message with exit code 2. The grammar is the
/// suites' (`WireDuration`), to the millisecond.
enum DurationText {
    static func parse(_ text: String) -> Duration? {
        guard let duration = WireDuration(parsing: text) else { return nil }
        return .milliseconds(Int64((duration.seconds * 1000).rounded()))
    }
}

