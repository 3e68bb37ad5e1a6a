import Crypto
import Foundation

/// Secrets the organizer hands out (enrollment tokens, agent credentials, a generated admin
/// token) and the hashes it keeps of them. A secret is never stored or logged: only its
/// SHA-256, compared in constant time.
public enum Secrets {
    /// 32 random bytes, base64url without padding, behind a readable prefix
    /// (`ese_` enrollment, `esc_` credential, `esa_` admin token).
    public static func generate(prefix: String) -> String {
        prefix + base64URL(randomBytes(32))
    }

    /// A short random identifier (`ag_…`, `run_…`): 12 bytes, lowercase hex.
    public static func identifier(prefix: String) -> String {
        prefix + randomBytes(12).map { String(format: "%02x", $0) }.joined()
    }

    /// `count` bytes from the system's cryptographically secure generator.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Lowercase hex SHA-256 of the secret's UTF-8.
    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Equal without an early exit: the time does not depend on where the strings differ.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var diff = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            let p = i < x.count ? x[i] : 0
            let q = i < y.count ? y[i] : 0
            diff |= p ^ q
        }
        return diff == 0 && x.count == y.count
    }

    /// Whether `secret` hashes to `expectedHash` (constant time on the hashes).
    public static func matches(_ secret: String, hash expectedHash: String) -> Bool {
        constantTimeEqual(hash(secret), expectedHash)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// `earshot-organizer run` without a configured admin token: one is generated once and kept in
/// `<database directory>/admin-token` (mode 0600) so that the CLI on the same machine can read it.
public enum AdminTokenFile {
    /// The token in `path`, creating the file (0600) with a new token when it does not exist.
    /// Returns the token and whether it was created now.
    public static func loadOrCreate(at path: String) throws -> (token: String, created: Bool) {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else {
                throw ConfigurationError(file: path, message: "the admin token file is empty; delete it to generate a new token")
            }
            return (text, false)
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let token = Secrets.generate(prefix: "esa_")
        guard fm.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError(file: path, message: "cannot create the admin token file")
        }
        return (token, true)
    }

    /// `<directory of the database>/admin-token`.
    public static func defaultPath(database: String) -> String {
        let dir = (database as NSString).deletingLastPathComponent
        return ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent("admin-token")
    }
}
