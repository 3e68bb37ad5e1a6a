import EarshotWire
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What an enrolled agent keeps: its id and the long-lived secret the organizer gave it in
/// `enrolled` (the organizer stores only a hash). `<state>/credential.json`, mode 0600.
public struct StoredCredential: Codable, Sendable, Equatable {
    public var agentID: String
    public var credential: String
    public var site: String
    /// The organizer the credential belongs to.
    public var organizer: String
    public var enrolledAt: Date
    /// The name it enrolled with (used when no name is configured).
    public var name: String?

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", credential, site, organizer, enrolledAt = "enrolled_at", name
    }

    public init(agentID: String, credential: String, site: String, organizer: String, enrolledAt: Date, name: String? = nil) {
        self.agentID = agentID
        self.credential = credential
        self.site = site
        self.organizer = organizer
        self.enrolledAt = enrolledAt
        self.name = name
    }
}

/// Reads and writes `credential.json` in the state directory.
public struct CredentialStore: Sendable {
    public let path: String

    public init(stateDirectory: String) {
        path = (stateDirectory as NSString).appendingPathComponent("credential.json")
    }

    /// The stored credential; nil when the agent has not enrolled yet.
    public func load() throws(AgentStateError) -> StoredCredential? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path, "cannot read the file (permissions?)")
        }
        do {
            return try WireJSON.decoder().decode(StoredCredential.self, from: data)
        } catch {
            throw .unreadable(path, "not a credential file (\(describe(error))); remove it and enroll again with a new token")
        }
    }

    /// Writes atomically with mode 0600 (the secret is readable by the agent's user only).
    public func save(_ credential: StoredCredential) throws(AgentStateError) {
        do {
            try AtomicFile.makeDirectory((path as NSString).deletingLastPathComponent)
            let data = try WireJSON.encoder().encode(credential)
            try AtomicFile.write(data, to: path, mode: 0o600)
        } catch let failure as AtomicFile.Failure {
            throw .unwritable(path, failure.description)
        } catch {
            throw .unwritable(path, "\(error)")
        }
    }

    /// The file's permission bits (for checks and tests).
    public func mode() -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }
}

/// A problem with the agent's state directory: what, where, and what to do.
public enum AgentStateError: Error, Equatable, CustomStringConvertible {
    case unreadable(String, String)
    case unwritable(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path, let why): "cannot read \(path): \(why)"
        case .unwritable(let path, let why): "cannot write \(path): \(why) — check the state directory's owner and free space"
        }
    }
}
