import Foundation
import FuzzProperties
import Testing

/// Replays the committed fuzz corpora (`Fuzz/Corpus/<target>/`) through the same property
/// checks the libFuzzer targets run, so every input the fuzzer found interesting — and every
/// input that once broke a parser — is a regression test in an ordinary `swift test`.
///
/// Naming convention of the hand-written seeds: `ok-*` must be accepted by the target's
/// parser, `bad-*` must be refused; files named by libFuzzer (SHA-1) may go either way. Every
/// file must keep every property.
@Suite struct FuzzCorpusTests {
    static let corpusRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus")

    struct Replay {
        var files = 0
        var accepted = 0
        var rejected = 0
        var violations: [String] = []
        var seedsAccepted = 0
        var seedsRejected = 0
    }

    static func replay(_ target: FuzzTarget) throws -> Replay {
        let directory = corpusRoot.appendingPathComponent(target.name)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        var replay = Replay()
        for name in names where !name.hasPrefix(".") {
            let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
            replay.files += 1
            switch target.check(bytes) {
            case .accepted:
                replay.accepted += 1
                if name.hasPrefix("bad-") { replay.violations.append("\(name): accepted, but the seed is meant to be refused") }
                if name.hasPrefix("ok-") { replay.seedsAccepted += 1 }
            case .rejected:
                replay.rejected += 1
                if name.hasPrefix("ok-") { replay.violations.append("\(name): refused, but the seed is meant to parse") }
                if name.hasPrefix("bad-") { replay.seedsRejected += 1 }
            case .violated(let why):
                replay.violations.append("\(name): \(why)")
            }
        }
        print("\(target.name): \(replay.files) corpus files, \(replay.accepted) accepted, \(replay.rejected) rejected")
        return replay
    }

    @Test(arguments: FuzzTarget.all)
    func corpusKeepsEveryProperty(_ target: FuzzTarget) throws {
        let replay = try Self.replay(target)
        #expect(replay.files > 0, "no corpus for \(target.name)")
        #expect(replay.accepted > 0, "\(target.name): nothing in the corpus parses, so the round-trip properties never ran")
        #expect(replay.rejected > 0, "\(target.name): nothing in the corpus is refused, so the error paths never ran")
        #expect(replay.seedsAccepted > 0, "\(target.name): no ok-* seed")
        #expect(replay.violations.isEmpty, Comment(rawValue: "\(target.name):\n" + replay.violations.joined(separator: "\n")))
    }
}
