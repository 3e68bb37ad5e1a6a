// Typed access to the authentication headers (RFC 3261 §22.2–§22.4, §20.7, §20.27, §20.28, §20.44):
// the digest challenge/credentials types parse and serialize the header *values*; these
// accessors connect them to a message's headers. Each header line holds exactly one challenge or
// credentials value (they are never split on commas — their parameters contain commas).

extension SIPHeaders {
    /// Challenges of a 401 (`WWW-Authenticate`), in order. A UAC answers the first one whose
    /// algorithm it supports (RFC 7616 §3.7: servers list preferred algorithms first).
    public var wwwAuthenticate: [DigestChallenge] {
        get throws(DigestError) { try challenges(.wwwAuthenticate) }
    }

    /// Challenges of a 407 (`Proxy-Authenticate`), in order.
    public var proxyAuthenticate: [DigestChallenge] {
        get throws(DigestError) { try challenges(.proxyAuthenticate) }
    }

    /// `Authorization` credentials a request carries (one per realm).
    public var authorization: [DigestCredentials] {
        get throws(DigestError) { try credentials(.authorization) }
    }

    /// `Proxy-Authorization` credentials a request carries (one per proxy realm).
    public var proxyAuthorization: [DigestCredentials] {
        get throws(DigestError) { try credentials(.proxyAuthorization) }
    }

    /// Adds credentials answering a challenge: `Authorization` for a 401's challenge,
    /// `Proxy-Authorization` for a 407's (RFC 3261 §22.2, §22.3). Earlier credentials for the same
    /// realm are replaced, so a retried request never carries a stale response.
    public mutating func setCredentials(_ credentials: DigestCredentials, forProxy: Bool) {
        let name: SIPHeaderName = forProxy ? .proxyAuthorization : .authorization
        let others = (try? self.credentials(name))?.filter { $0.realm != credentials.realm } ?? []
        remove(name)
        for other in others { add(name, other.description) }
        add(name, credentials.description)
    }

    private func challenges(_ name: SIPHeaderName) throws(DigestError) -> [DigestChallenge] {
        var result: [DigestChallenge] = []
        for value in credentialsValues(name) {
            result.append(try DigestChallenge(parsing: value))
        }
        return result
    }

    private func credentials(_ name: SIPHeaderName) throws(DigestError) -> [DigestCredentials] {
        var result: [DigestCredentials] = []
        for value in credentialsValues(name) {
            result.append(try DigestCredentials(parsing: value))
        }
        return result
    }
}
