internal import Crypto

/// What a party knows about the user's password.
public enum DigestSecret: Hashable, Sendable {
    case password(String)
    /// H(username ":" realm ":" password), lowercase hex, in the hash function of the algorithm
    /// in use — what a registrar stores instead of the password (RFC 7616 §3.4.2; the MD5 one is
    /// what htdigest files and Kamailio's `ha1` column hold). The `-sess` algorithms derive
    /// their session HA1 from it.
    case ha1(String)
}

/// The Digest arithmetic of RFC 7616 §3.4.1–§3.4.3 (RFC 2617 §3.2.2.1–§3.2.2.3, RFC 2069 §2.1.2
/// when there is no qop). Every value is lowercase hex, and every string is hashed as its UTF-8
/// bytes. Pure: the client nonce and the count are arguments.
public enum DigestComputation {
    /// H(data) as lowercase hex.
    public static func hash(_ algorithm: DigestAlgorithm, _ data: some Collection<UInt8>) -> String {
        let bytes = Array(data)
        return bytes.withUnsafeBytes { buffer in
            switch algorithm.hashFunction {
            case .md5:
                var function = Insecure.MD5()
                function.update(bufferPointer: buffer)
                return hex(function.finalize())
            case .sha256:
                var function = SHA256()
                function.update(bufferPointer: buffer)
                return hex(function.finalize())
            }
        }
    }

    /// H(s1 ":" s2 ":" ...), the shape of every Digest hash input.
    public static func hash(_ algorithm: DigestAlgorithm, joining parts: [String]) -> String {
        hash(algorithm, parts.joined(separator: ":").utf8)
    }

    /// HA1 = H(A1) (RFC 7616 §3.4.2):
    ///
    /// ```
    /// A1 = unq(username) ":" unq(realm) ":" passwd
    /// A1 = H( unq(username) ":" unq(realm) ":" passwd ) ":" unq(nonce-prime) ":" unq(cnonce-prime)   ; -sess
    /// ```
    ///
    /// A missing `cnonce` counts as empty for `-sess` (credentials without qop have none).
    public static func ha1(
        _ algorithm: DigestAlgorithm, username: String, realm: String, secret: DigestSecret,
        nonce: String, cnonce: String?
    ) -> String {
        let userSecret: String
        switch secret {
        case .password(let password):
            userSecret = hash(algorithm, joining: [username, realm, password])
        case .ha1(let stored):
            userSecret = AuthParamGrammar.lowercased(stored)
        }
        guard algorithm.isSession else { return userSecret }
        return hash(algorithm, joining: [userSecret, nonce, cnonce ?? ""])
    }

    /// HA2 = H(A2) (RFC 7616 §3.4.3):
    ///
    /// ```
    /// A2 = Method ":" request-uri                                  ; qop=auth or no qop
    /// A2 = Method ":" request-uri ":" H(entity-body)               ; qop=auth-int
    /// ```
    ///
    /// In SIP the Method is the request's, and the entity-body is the message body — possibly
    /// empty, whose hash is H("") (RFC 3261 §22.4).
    public static func ha2(
        _ algorithm: DigestAlgorithm, method: String, uri: String, qop: DigestQop?, entityBody: [UInt8] = []
    ) -> String {
        if qop == .authInt {
            return hash(algorithm, joining: [method, uri, hash(algorithm, entityBody)])
        }
        return hash(algorithm, joining: [method, uri])
    }

    /// The request-digest (RFC 7616 §3.4.1, with KD(secret, data) = H(secret ":" data)):
    ///
    /// ```
    /// response = KD( HA1, unq(nonce) ":" nc ":" unq(cnonce) ":" unq(qop) ":" HA2 )   ; with qop
    /// response = KD( HA1, unq(nonce) ":" HA2 )                                        ; RFC 2069, no qop
    /// ```
    public static func response(
        _ algorithm: DigestAlgorithm, ha1: String, ha2: String, nonce: String,
        qop: DigestQop?, nonceCount: UInt32?, cnonce: String?
    ) -> String {
        guard let qop else { return hash(algorithm, joining: [ha1, nonce, ha2]) }
        let nc = nonceCount.map(DigestHex.nonceCount) ?? ""
        return hash(algorithm, joining: [ha1, nonce, nc, cnonce ?? "", qop.rawValue, ha2])
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        for byte in digest {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension DigestCredentials {
    /// Answers a challenge (RFC 3261 §22.2–§22.3, RFC 7616 §3.4): the client side of Digest.
    ///
    /// Chooses `qop=auth` when offered, else `auth-int` (hashing `entityBody`), else — for a
    /// challenge without qop — RFC 2069 credentials without `cnonce`/`nc`. Echoes `opaque` and
    /// `algorithm`; with `userhash` the username is sent as H(username ":" realm).
    ///
    /// - Parameters:
    ///   - cnonce: the client nonce; the caller draws it from its randomness source.
    ///   - nonceCount: from a `DigestNonceCounter` (`next(for: challenge.nonce)`).
    /// - Throws: `unsupportedQop` when the challenge offers qop values, none of them
    ///   `auth` or `auth-int`.
    public init(
        answering challenge: DigestChallenge, method: String, uri: String, username: String,
        secret: DigestSecret, cnonce: String, nonceCount: UInt32, entityBody: [UInt8] = []
    ) throws(DigestError) {
        let qop: DigestQop?
        if challenge.qopOptions.isEmpty {
            qop = nil
        } else if challenge.qopOptions.contains(.auth) {
            qop = .auth
        } else if challenge.qopOptions.contains(.authInt) {
            qop = .authInt
        } else {
            throw DigestError(.unsupportedQop, parameter: challenge.qopOptions.map(\.rawValue).joined(separator: ","))
        }
        let algorithm = challenge.effectiveAlgorithm
        let sentCnonce = qop == nil && !algorithm.isSession ? nil : cnonce
        let ha1 = DigestComputation.ha1(
            algorithm, username: username, realm: challenge.realm, secret: secret,
            nonce: challenge.nonce, cnonce: sentCnonce
        )
        let ha2 = DigestComputation.ha2(algorithm, method: method, uri: uri, qop: qop, entityBody: entityBody)
        let sentNonceCount = qop == nil ? nil : nonceCount
        self.init(
            username: challenge.userhash
                ? DigestComputation.hash(algorithm, joining: [username, challenge.realm]) : username,
            realm: challenge.realm,
            nonce: challenge.nonce,
            uri: uri,
            response: DigestComputation.response(
                algorithm, ha1: ha1, ha2: ha2, nonce: challenge.nonce,
                qop: qop, nonceCount: sentNonceCount, cnonce: sentCnonce
            ),
            algorithm: challenge.algorithm,
            cnonce: sentCnonce,
            opaque: challenge.opaque,
            qop: qop,
            nonceCount: sentNonceCount,
            userhash: challenge.userhash
        )
    }

    /// `init(answering:...)` with the user's password.
    public init(
        answering challenge: DigestChallenge, method: String, uri: String, username: String,
        password: String, cnonce: String, nonceCount: UInt32, entityBody: [UInt8] = []
    ) throws(DigestError) {
        try self.init(
            answering: challenge, method: method, uri: uri, username: username,
            secret: .password(password), cnonce: cnonce, nonceCount: nonceCount, entityBody: entityBody
        )
    }

    /// The response these credentials should carry, recomputed from their own fields.
    ///
    /// With `userhash` the `username` field is a hash, so a `.password` secret cannot be
    /// combined with it: look the user up by the hash and pass their `.ha1`.
    public func expectedResponse(method: String, secret: DigestSecret, entityBody: [UInt8] = []) -> String {
        let algorithm = effectiveAlgorithm
        let ha1 = DigestComputation.ha1(
            algorithm, username: username, realm: realm, secret: secret, nonce: nonce, cnonce: cnonce
        )
        let ha2 = DigestComputation.ha2(algorithm, method: method, uri: uri, qop: qop, entityBody: entityBody)
        return DigestComputation.response(
            algorithm, ha1: ha1, ha2: ha2, nonce: nonce, qop: qop, nonceCount: nonceCount, cnonce: cnonce
        )
    }

    /// Server-side check of the request-digest (RFC 7616 §3.4.1): `true` when `response`
    /// matches. Compares in constant time. Whether `nonce` is one the server issued and still
    /// fresh, whether `nc` went up, and whether `uri` matches the Request-URI (RFC 7616 §3.4.6)
    /// are the caller's checks: they need the server's state.
    public func isValid(method: String, secret: DigestSecret, entityBody: [UInt8] = []) -> Bool {
        let expected = expectedResponse(method: method, secret: secret, entityBody: entityBody)
        let received = AuthParamGrammar.lowercased(response)
        guard expected.utf8.count == received.utf8.count else { return false }
        var difference: UInt8 = 0
        for (lhs, rhs) in zip(expected.utf8, received.utf8) { difference |= lhs ^ rhs }
        return difference == 0
    }
}

/// Client-side `nc` bookkeeping (RFC 7616 §3.4: nc is "the count of the number of requests
/// (including the current request) that the client has sent with the nonce value in this
/// request"). One counter per nonce; a new nonce starts at 1.
public struct DigestNonceCounter: Hashable, Sendable {
    private var counts: [String: UInt32] = [:]

    public init() {}

    /// Counts one more request with `nonce` and returns its `nc`: 1, 2, 3, ...
    /// Saturates at `UInt32.max` (the 8-hex-digit limit); a server then rejects the count as a
    /// replay and sends a fresh nonce.
    public mutating func next(for nonce: String) -> UInt32 {
        let current = counts[nonce, default: 0]
        let next = current == .max ? current : current + 1
        counts[nonce] = next
        return next
    }

    /// Requests sent so far with `nonce` (0 for a nonce never used).
    public func count(for nonce: String) -> UInt32 {
        counts[nonce, default: 0]
    }

    /// Drops a nonce the server no longer accepts (after a `stale=TRUE` challenge).
    public mutating func forget(_ nonce: String) {
        counts.removeValue(forKey: nonce)
    }
}
