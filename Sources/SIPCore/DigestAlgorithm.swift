/// The `algorithm` of a Digest challenge or credentials (RFC 7616 §3.3, §6.1 registry).
///
/// A struct with static members rather than an enum because the registry grows
/// (SHA-512-256 is registered but swift-crypto has no SHA-512/256, so it is not offered here).
public struct DigestAlgorithm: Hashable, Sendable, CustomStringConvertible {
    enum HashFunction: Hashable, Sendable {
        case md5
        case sha256
    }

    let hashFunction: HashFunction
    /// The `-sess` variants hash the nonce and cnonce into A1 (RFC 7616 §3.4.2).
    public let isSession: Bool

    public static let md5 = DigestAlgorithm(hashFunction: .md5, isSession: false)
    public static let md5Sess = DigestAlgorithm(hashFunction: .md5, isSession: true)
    public static let sha256 = DigestAlgorithm(hashFunction: .sha256, isSession: false)
    public static let sha256Sess = DigestAlgorithm(hashFunction: .sha256, isSession: true)

    /// The algorithm a challenge or credentials without `algorithm=` means (RFC 2617 §3.2.1).
    public static let `default` = md5

    public static let allSupported: [DigestAlgorithm] = [.md5, .md5Sess, .sha256, .sha256Sess]

    /// The canonical token: `MD5`, `MD5-sess`, `SHA-256`, `SHA-256-sess`.
    public var name: String {
        switch (hashFunction, isSession) {
        case (.md5, false): "MD5"
        case (.md5, true): "MD5-sess"
        case (.sha256, false): "SHA-256"
        case (.sha256, true): "SHA-256-sess"
        }
    }

    /// Recognises a token case-insensitively; `nil` for algorithms not supported here.
    public init?(name: String) {
        guard let match = Self.allSupported.first(where: { AuthParamGrammar.equalsIgnoringCase($0.name, name) })
        else { return nil }
        self = match
    }

    private init(hashFunction: HashFunction, isSession: Bool) {
        self.hashFunction = hashFunction
        self.isSession = isSession
    }

    /// Length of the hex digest: 32 for MD5, 64 for SHA-256.
    public var hexDigestLength: Int {
        switch hashFunction {
        case .md5: 32
        case .sha256: 64
        }
    }

    public var description: String { name }
}

/// A quality-of-protection value (RFC 7616 §3.3 `qop`). Compared case-insensitively; stored
/// lowercased. Values other than `auth` and `auth-int` are kept so a challenge round-trips.
public struct DigestQop: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = AuthParamGrammar.lowercased(rawValue)
    }

    /// Authentication of the request line (method and URI).
    public static let auth = DigestQop("auth")
    /// Authentication with integrity protection of the body.
    public static let authInt = DigestQop("auth-int")

    public var description: String { rawValue }
}
