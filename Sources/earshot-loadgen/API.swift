import EarshotWire
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The few organizer API calls the load generator needs (admin bearer token).
struct OrganizerAPI: Sendable {
    var base: String
    var token: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func createEnrollmentToken(site: String, labels: [String: String]) async throws -> EnrollmentToken {
        try await call("POST", "/v1/agents/tokens", body: EnrollmentTokenRequest(site: site, ttl: .minutes(60), labels: labels))
    }

    func putSuite(_ spec: SuiteSpec) async throws -> SuiteInfo {
        try await call("PUT", "/v1/suites/\(spec.name)", body: spec)
    }

    func runSuite(_ name: String) async throws -> RoundInfo {
        try await call("POST", "/v1/suites/\(name)/run", body: Optional<String>.none)
    }

    func deleteSuite(_ name: String) async throws {
        _ = try await send("DELETE", "/v1/suites/\(name)", body: nil)
    }

    private func call<Body: Encodable, Answer: Decodable>(_ method: String, _ path: String, body: Body?) async throws -> Answer {
        let data = try await send(method, path, body: try body.map { try WireJSON.encoder().encode($0) })
        do {
            return try WireJSON.decoder().decode(Answer.self, from: data)
        } catch {
            throw Failure(description: "\(method) \(path): unexpected answer (\(describe(error))): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
    }

    private func send(_ method: String, _ path: String, body: Data?) async throws -> Data {
        guard let url = URL(string: base + path) else { throw Failure(description: "bad API URL \(base + path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        request.timeoutInterval = 60
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let text = String(decoding: data.prefix(500), as: UTF8.self)
            throw Failure(description: "\(method) \(path): HTTP \(status) \(text)")
        }
        return data
    }
}
