import AsyncHTTPClient
import EarshotWire
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Why a call to the organizer's API failed, with the sentence a user acts on and the exit
/// code (2: cannot reach it, or it refused the token; 1: it answered that the request is
/// wrong — not found, bad request, conflict).
struct OrganizerClientError: Error, Equatable, CustomStringConvertible {
    enum Kind: Equatable { case unreachable, unauthorized, forbidden, api, badResponse }

    let kind: Kind
    let message: String
    /// The HTTP status, when the organizer answered.
    let status: Int?
    /// The API's stable error code (`not_found`, `conflict`, …), when it sent one.
    let code: String?

    var description: String { message }

    var exitCode: Int32 {
        switch kind {
        case .unreachable, .unauthorized, .forbidden, .badResponse: 2
        case .api: 1
        }
    }

    var failure: CommandFailure { CommandFailure(message: message, code: exitCode) }

    static func unreachable(_ baseURL: String, reason: String) -> OrganizerClientError {
        OrganizerClientError(
            kind: .unreachable,
            message: "cannot reach the organizer at \(baseURL): \(reason) (is earshot-organizer running? --organizer / EARSHOT_ORGANIZER)",
            status: nil, code: nil)
    }

    static func unauthorized(apiMessage: String?, tokenGiven: Bool) -> OrganizerClientError {
        let detail = tokenGiven
            ? "\(apiMessage ?? "401 unauthorized"); check --token / EARSHOT_TOKEN"
            : "no token given: pass --token or set EARSHOT_TOKEN"
        return OrganizerClientError(kind: .unauthorized, message: "the organizer refused the token (\(detail))",
                                    status: 401, code: "unauthorized")
    }

    static func forbidden(apiMessage: String?) -> OrganizerClientError {
        OrganizerClientError(
            kind: .forbidden,
            message: "the organizer refused this request for the token (\(apiMessage ?? "a read-only token cannot change anything")): use an admin token (--token / EARSHOT_TOKEN)",
            status: 403, code: "forbidden")
    }
}

/// The organizer's HTTP API (the list at the top of EarshotWire/API.swift), JSON with
/// `WireJSON`'s conventions, bearer token. One instance per command; `shutdown()` at the end
/// (`ConnectionOptions.withClient` does it).
final class OrganizerClient: Sendable {
    let baseURL: String
    let token: String?
    private let http: HTTPClient
    /// Per request, connection included.
    let timeout: TimeAmount

    init(baseURL: String, token: String?, timeout: TimeAmount = .seconds(30)) {
        self.baseURL = baseURL
        self.token = token
        self.timeout = timeout
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: timeout))
        // A refused connection fails the request at once instead of being retried until the
        // connect timeout: the user sees "connection refused", not "timed out".
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: resources

    func status() async throws -> StatusInfo { try await get("/v1/status") }
    func agents() async throws -> [AgentInfo] { try await get("/v1/agents") }
    func agent(_ reference: String) async throws -> AgentInfo { try await get("/v1/agents/\(Self.segment(reference))") }

    func createToken(_ request: EnrollmentTokenRequest) async throws -> EnrollmentToken {
        try await send(.POST, "/v1/agents/tokens", body: request)
    }

    func revoke(_ reference: String) async throws -> AgentInfo {
        try await send(.POST, "/v1/agents/\(Self.segment(reference))/revoke", body: Optional<String>.none)
    }

    func label(_ reference: String, _ change: LabelChange) async throws -> AgentInfo {
        try await send(.POST, "/v1/agents/\(Self.segment(reference))/labels", body: change)
    }

    func suites() async throws -> [SuiteInfo] { try await get("/v1/suites") }
    func suite(_ name: String) async throws -> SuiteInfo { try await get("/v1/suites/\(Self.segment(name))") }

    func putSuite(_ spec: SuiteSpec) async throws -> SuiteInfo {
        try await send(.PUT, "/v1/suites/\(Self.segment(spec.name))", body: spec)
    }

    func deleteSuite(_ name: String) async throws {
        _ = try await request(.DELETE, "/v1/suites/\(Self.segment(name))", body: nil)
    }

    func runSuite(_ name: String) async throws -> RoundInfo {
        try await send(.POST, "/v1/suites/\(Self.segment(name))/run", body: Optional<String>.none)
    }

    func pauseSuite(_ name: String) async throws -> SuiteInfo {
        try await send(.POST, "/v1/suites/\(Self.segment(name))/pause", body: Optional<String>.none)
    }

    func resumeSuite(_ name: String) async throws -> SuiteInfo {
        try await send(.POST, "/v1/suites/\(Self.segment(name))/resume", body: Optional<String>.none)
    }

    /// The default mesh and the default conference.
    func restoreDefaultSuites() async throws -> [SuiteInfo] {
        try await send(.POST, "/v1/suites/default", body: Optional<String>.none)
    }

    func runs(_ query: RunQuery) async throws -> [RunSummary] { try await get("/v1/runs" + query.queryString) }
    func run(_ id: String) async throws -> RunDetail { try await get("/v1/runs/\(Self.segment(id))") }

    func report(since: Date?, until: Date?, suite: String?) async throws -> Report {
        var items: [(String, String)] = []
        if let since { items.append(("since", WireJSON.formatDate(since))) }
        if let until { items.append(("until", WireJSON.formatDate(until))) }
        if let suite { items.append(("suite", suite)) }
        return try await get("/v1/report" + Self.query(items))
    }

    // MARK: alerts and webhooks (EarshotWire/Alerts.swift)

    func alerts(_ query: AlertListQuery) async throws -> [AlertInfo] { try await get("/v1/alerts" + query.queryString) }
    func alert(_ id: String) async throws -> AlertDetail { try await get("/v1/alerts/\(Self.segment(id))") }
    func alertRules() async throws -> [AlertRule] { try await get("/v1/alert-rules") }

    func setAlertRule(_ name: AlertRuleName, _ patch: AlertRulePatch) async throws -> AlertRule {
        try await send(.PUT, "/v1/alert-rules/\(name.rawValue)", body: patch)
    }

    func resetAlertRule(_ name: AlertRuleName) async throws -> AlertRule {
        try await send(.DELETE, "/v1/alert-rules/\(name.rawValue)", body: Optional<String>.none)
    }

    func silences(all: Bool) async throws -> [Silence] { try await get("/v1/silences" + (all ? "?all=true" : "")) }
    func silence(_ request: SilenceRequest) async throws -> Silence { try await send(.POST, "/v1/silences", body: request) }

    func unsilence(_ id: String) async throws {
        _ = try await request(.DELETE, "/v1/silences/\(Self.segment(id))", body: nil)
    }

    func webhooks() async throws -> [WebhookEndpointInfo] { try await get("/v1/webhooks") }
    func webhook(_ reference: String) async throws -> WebhookEndpointInfo { try await get("/v1/webhooks/\(Self.segment(reference))") }

    func addWebhook(_ request: WebhookEndpointRequest) async throws -> WebhookEndpointInfo {
        try await send(.POST, "/v1/webhooks", body: request)
    }

    func deleteWebhook(_ reference: String) async throws {
        _ = try await request(.DELETE, "/v1/webhooks/\(Self.segment(reference))", body: nil)
    }

    func enableWebhook(_ reference: String) async throws -> WebhookEndpointInfo {
        try await send(.POST, "/v1/webhooks/\(Self.segment(reference))/enable", body: Optional<String>.none)
    }

    func testWebhook(_ reference: String) async throws -> WebhookDelivery {
        try await send(.POST, "/v1/webhooks/\(Self.segment(reference))/test", body: Optional<String>.none)
    }

    func deliveries(_ query: DeliveryListQuery) async throws -> [WebhookDelivery] {
        try await get("/v1/deliveries" + query.queryString)
    }

    func delivery(_ id: String) async throws -> WebhookDelivery { try await get("/v1/deliveries/\(Self.segment(id))") }

    func retryDeliveries(_ request: DeliveryRetryRequest) async throws -> DeliveryRetryResult {
        try await send(.POST, "/v1/deliveries/retry", body: request)
    }

    // MARK: plumbing

    private func get<T: Decodable>(_ path: String) async throws -> T {
        try decode(try await request(.GET, path, body: nil), path: path)
    }

    private func send<T: Decodable, B: Encodable>(_ method: HTTPMethod, _ path: String, body: B?) async throws -> T {
        let data = try body.map { try WireJSON.encoder().encode($0) }
        return try decode(try await request(method, path, body: data), path: path)
    }

    private func decode<T: Decodable>(_ data: Data, path: String) throws -> T {
        do {
            return try WireJSON.decoder().decode(T.self, from: data)
        } catch {
            throw OrganizerClientError(
                kind: .badResponse,
                message: "the organizer at \(baseURL) answered \(path) with JSON this earshot cannot read (\(Self.describe(decoding: error))); are both the same version?",
                status: nil, code: nil)
        }
    }

    /// The body of a 2xx answer; everything else becomes an `OrganizerClientError`.
    private func request(_ method: HTTPMethod, _ path: String, body: Data?) async throws -> Data {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "earshot/\(EarshotVersion.string)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw OrganizerClientError.unreachable(baseURL, reason: Self.describe(connection: error))
        }
        let data = Data(bytes.readableBytesView)
        let status = Int(response.status.code)
        if (200..<300).contains(status) { return data.isEmpty ? Data("null".utf8) : data }
        let apiError = try? WireJSON.decoder().decode(APIError.self, from: data)
        switch status {
        case 401: throw OrganizerClientError.unauthorized(apiMessage: apiError?.message, tokenGiven: token != nil)
        case 403: throw OrganizerClientError.forbidden(apiMessage: apiError?.message)
        default:
            let text = apiError.map { "\($0.error): \($0.message)" }
                ?? String(decoding: data.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw OrganizerClientError(kind: .api,
                                       message: "the organizer answered \(method.rawValue) \(path) with \(status) (\(text.isEmpty ? response.status.reasonPhrase : text))",
                                       status: status, code: apiError?.error)
        }
    }

    /// "Connection refused", "connect timeout", … — the part of a NIO error a person reads.
    static func describe(connection error: any Error) -> String {
        if let connection = error as? NIOConnectionError {
            if let dns = connection.dnsAError ?? connection.dnsAAAAError { return "cannot resolve \(connection.host): \(dns)" }
            if let first = connection.connectionErrors.first { return describe(connection: first.error) }
            return "no address to connect to for \(connection.host)"
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return "connection timed out"
            case .deadlineExceeded, .readTimeout: return "no answer in time"
            case .remoteConnectionClosed: return "the connection was closed before an answer"
            default: return "\(client)"
            }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "connection timed out" }
        return "\(error)"
    }

    static func describe(decoding error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch decoding {
        case .keyNotFound(let key, let context): return "missing \(path(context).isEmpty ? "" : path(context) + ".")\(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// A path segment with everything but unreserved characters percent-encoded.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func query(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(segment($0.0))=\(segment($0.1))" }.joined(separator: "&")
    }
}

/// The filters of GET /v1/runs.
struct RunQuery: Sendable, Equatable {
    var suite: String?
    var status: RunStatus?
    var agent: String?
    var since: Date?
    var until: Date?
    var round: String?
    var limit: Int?

    var queryString: String {
        var items: [(String, String)] = []
        if let suite { items.append(("suite", suite)) }
        if let status { items.append(("status", status.rawValue)) }
        if let agent { items.append(("agent", agent)) }
        if let since { items.append(("since", WireJSON.formatDate(since))) }
        if let until { items.append(("until", WireJSON.formatDate(until))) }
        if let round { items.append(("round", round)) }
        if let limit { items.append(("limit", String(limit))) }
        return OrganizerClient.query(items)
    }
}

/// The filters of GET /v1/alerts (the organizer's default: firing and flapping).
struct AlertListQuery: Sendable, Equatable {
    /// `firing`, `resolved`, `flapping` or `all`.
    var state: String?
    var rule: AlertRuleName?
    /// A scope key (`pair=alice>bob`) or a part of one (`alice`).
    var scope: String?
    var limit: Int?

    var queryString: String {
        var items: [(String, String)] = []
        if let state { items.append(("state", state)) }
        if let rule { items.append(("rule", rule.rawValue)) }
        if let scope { items.append(("scope", scope)) }
        if let limit { items.append(("limit", String(limit))) }
        return OrganizerClient.query(items)
    }
}

/// The filters of GET /v1/deliveries.
struct DeliveryListQuery: Sendable, Equatable {
    var endpoint: String?
    var status: DeliveryStatus?
    var alert: String?
    var limit: Int?

    var queryString: String {
        var items: [(String, String)] = []
        if let endpoint { items.append(("endpoint", endpoint)) }
        if let status { items.append(("status", status.rawValue)) }
        if let alert { items.append(("alert", alert)) }
        if let limit { items.append(("limit", String(limit))) }
        return OrganizerClient.query(items)
    }
}

extension ConnectionOptions {
    /// A client for the duration of `body`, shut down afterwards whatever happens.
    func withClient<T>(_ body: (OrganizerClient) async throws -> T) async throws -> T {
        let client = try client()
        do {
            let value = try await body(client)
            await client.shutdown()
            return value
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
