import EarshotStore
import EarshotWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// An API error with its HTTP status; rendered as an `APIError` body.
struct APIFailure: Error, Sendable {
    var status: HTTPResponse.Status
    var body: APIError

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.body = APIError(error: code, message: message)
    }

    static func badRequest(_ message: String) -> APIFailure { APIFailure(.badRequest, "bad_request", message) }
    static func notFound(_ message: String) -> APIFailure { APIFailure(.notFound, "not_found", message) }
    static func conflict(_ message: String) -> APIFailure { APIFailure(.conflict, "conflict", message) }
    static let unauthorized = APIFailure(
        .unauthorized, "unauthorized",
        "missing or unknown bearer token: send Authorization: Bearer <token> (an admin or read-only token of this organizer)")
    static let forbidden = APIFailure(.forbidden, "forbidden", "a read-only token can only GET; this needs an admin token")

    init(storage error: StorageError) {
        switch error.kind {
        case .notFound: self.init(.notFound, "not_found", error.message)
        case .conflict: self.init(.conflict, "conflict", error.message)
        case .invalid: self.init(.badRequest, "bad_request", error.message)
        case .io: self.init(.internalServerError, "internal", "storage failed: \(error.message)")
        }
    }
}

/// A JSON response with the API's coders.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try WireJSON.encoder().encode(value)
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// Outermost middleware: every error becomes an `APIError` body with the right status; nothing
/// escapes as an empty 500, and internal details stay in the log.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let failure as APIFailure {
            return try errorResponse(failure)
        } catch let error as StorageError {
            if error.kind == .io {
                logger.error("storage error", metadata: ["path": .string(request.uri.path), "error": .string(error.description)])
            }
            return try errorResponse(APIFailure(storage: error))
        } catch is NIOTooManyBytesError {
            return try errorResponse(APIFailure(.contentTooLarge, "payload_too_large", "the request body is too large"))
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                return try errorResponse(.notFound("no such resource: \(request.method) \(request.uri.path) (see organizer/openapi.yaml)"))
            case .methodNotAllowed:
                return try errorResponse(APIFailure(.methodNotAllowed, "bad_request",
                                                    "\(request.method) is not allowed on \(request.uri.path)"))
            case .contentTooLarge:
                return try errorResponse(APIFailure(.contentTooLarge, "payload_too_large", "the request body is too large"))
            default:
                let code = error.status.code >= 500 ? "internal" : "bad_request"
                return try errorResponse(APIFailure(error.status, code, error.body ?? error.status.reasonPhrase))
            }
        } catch {
            logger.error("request failed", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            return try errorResponse(APIFailure(.internalServerError, "internal", "internal error (see the organizer's log)"))
        }
    }

    private func errorResponse(_ failure: APIFailure) throws -> Response {
        try jsonResponse(failure.body, status: failure.status)
    }
}

/// Bearer tokens: admin tokens may do everything, read-only tokens only GET/HEAD. The agent
/// socket (`/v1/agent`) has its own authentication and is not checked here.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let adminHashes: [String]
    let readHashes: [String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/v1/"), path != "/v1/agent" else { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIFailure.unauthorized
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let hash = Secrets.hash(token)
        // Check every configured hash (no early exit) so timing says nothing about which matched.
        var isAdmin = false
        var isReader = false
        for h in adminHashes where Secrets.constantTimeEqual(h, hash) { isAdmin = true }
        for h in readHashes where Secrets.constantTimeEqual(h, hash) { isReader = true }
        guard isAdmin || isReader else { throw APIFailure.unauthorized }
        if !isAdmin, request.method != .get, request.method != .head {
            throw APIFailure.forbidden
        }
        return try await next(request, context)
    }
}
