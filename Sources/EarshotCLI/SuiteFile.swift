import EarshotWire
import Foundation
import Yams

/// Suites read from YAML (or JSON, a subset of YAML): one document, several documents
/// separated by `---`, or documents that are lists of suites. Every suite is checked with
/// `SuiteSpec.problems()` before anything is sent.
enum SuiteFile {
    /// The text of `path` (`-`: standard input).
    static func read(_ path: String) throws -> String {
        if path == "-" {
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure.usage("cannot read \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file")")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The suites of `text`, in order. `source` names the file in messages.
    static func parse(_ text: String, source: String) throws -> [SuiteSpec] {
        let documents: [Node]
        do {
            documents = Array(try Yams.compose_all(yaml: text))
        } catch {
            throw CommandFailure.input("\(source): not valid YAML: \(describe(yaml: error))")
        }
        var suites: [SuiteSpec] = []
        let decoder = YAMLDecoder()
        for (index, document) in documents.enumerated() {
            let place = documents.count > 1 ? "\(source), document \(index + 1)" : source
            do {
                if case .sequence = document {
                    suites += try decoder.decode([SuiteSpec].self, from: document)
                } else if case .mapping = document {
                    suites.append(try decoder.decode(SuiteSpec.self, from: document))
                } else {
                    throw CommandFailure.input("\(place): expected a suite (a mapping with name and type) or a list of suites")
                }
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure.input("\(place): \(OrganizerClient.describe(decoding: error))")
            }
        }
        guard !suites.isEmpty else { throw CommandFailure.input("\(source): no suite in it") }
        var problems: [String] = []
        var seen: Set<String> = []
        for suite in suites {
            problems += suite.problems().map { "\(source): suite \(suite.name): \($0)" }
            if !seen.insert(suite.name).inserted { problems.append("\(source): suite \(suite.name) is defined twice") }
        }
        guard problems.isEmpty else { throw CommandFailure.input(problems.joined(separator: "\n")) }
        return suites
    }

    static func describe(yaml error: any Error) -> String {
        if let yaml = error as? YamlError { return "\(yaml)".replacingOccurrences(of: "\n", with: " ") }
        return "\(error)"
    }
}
