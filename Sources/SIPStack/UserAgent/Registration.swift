import Foundation
import SIPCore
import SIPTransaction

/// A registration to keep (RFC 3261 §10).
public struct RegistrationRequest: Sendable {
    /// The registrar's URI (Request-URI of the REGISTER), e.g. `sip:127.0.0.1:5070`.
    public var registrar: SIPURI
    public var destination: SIPDestination
    /// The address of record (To and From), e.g. `sip:alice@example.com`.
    public var addressOfRecord: SIPURI
    public var username: String
    public var password: String
    /// Seconds asked for; the registrar may grant less (§10.2.4, §10.3 step 7).
    public var expires: Int
    /// The user part of the Contact we bind (nil: the user agent's `user`). A conference
    /// bridge binds `sip:<room>@host:port`, so the Request-URI a proxy retargets to (§16.5)
    /// still names the room.
    public var contactUser: String?

    public init(registrar: SIPURI, destination: SIPDestination, addressOfRecord: SIPURI, username: String, password: String,
                expires: Int = 600, contactUser: String? = nil) {
        self.registrar = registrar
        self.destination = destination
        self.addressOfRecord = addressOfRecord
        self.username = username
        self.password = password
        self.expires = expires
        self.contactUser = contactUser
    }
}

/// How a REGISTER went (DESIGN §2 `register`: status, time, auth round trips, expiry granted).
public struct RegistrationResult: Sendable, Encodable {
    public var addressOfRecord: String
    public var registered: Bool
    public var statusCode: Int?
    public var reasonPhrase: String?
    public var timeMs: Double
    public var authRoundTrips: Int
    public var expiresGranted: Int?
    /// A sentence for people: "registered for 600 s", "401 Unauthorized twice: wrong password?".
    public var detail: String

    enum CodingKeys: String, CodingKey {
        case addressOfRecord = "address_of_record", registered, statusCode = "status_code", reasonPhrase = "reason_phrase"
        case timeMs = "time_ms", authRoundTrips = "auth_round_trips", expiresGranted = "expires_granted", detail
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(addressOfRecord, forKey: .addressOfRecord)
        try c.encode(registered, forKey: .registered)
        try c.encode(statusCode, forKey: .statusCode)
        try c.encode(reasonPhrase, forKey: .reasonPhrase)
        try c.encode(timeMs, forKey: .timeMs)
        try c.encode(authRoundTrips, forKey: .authRoundTrips)
        try c.encode(expiresGranted, forKey: .expiresGranted)
        try c.encode(detail, forKey: .detail)
    }
}

/// A registration we hold: refreshed before it expires, removed on shutdown.
struct RegistrationState {
    var request: RegistrationRequest
    var callID: String
    var fromTag: String
    var sequence: UInt32
    var refresh: Task<Void, Never>?
}

extension SIPUserAgent {
    /// Registers, answering 401/407 challenges with digest credentials, and keeps the
    /// registration fresh: re-REGISTER at half the granted expiry (well before it runs out,
    /// §10.2.4 leaves the moment to the UA). Returns the first attempt's result.
    public func register(_ request: RegistrationRequest) async -> RegistrationResult {
        let key = request.addressOfRecord.description
        var state = registrations[key] ?? RegistrationState(
            request: request, callID: SIPIdentifiers.callID(using: &random), fromTag: SIPIdentifiers.tag(using: &random),
            sequence: 0)
        state.request = request
        state.refresh?.cancel()
        registrations[key] = state
        let result = await sendRegister(key: key, expires: request.expires)
        if result.registered, let granted = result.expiresGranted, granted > 0 {
            scheduleRefresh(key: key, after: .seconds(max(granted / 2, 1)))
        } else {
            registrations[key] = nil
        }
        return result
    }

    private func scheduleRefresh(key: String, after delay: Duration) {
        registrations[key]?.refresh = Task { [weak self] in
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled, let self else { return }
            await self.refreshRegistration(key: key)
        }
    }

    private func refreshRegistration(key: String) async {
        guard let state = registrations[key] else { return }
        let result = await sendRegister(key: key, expires: state.request.expires)
        let retry: Duration = result.registered ? .seconds(max((result.expiresGranted ?? state.request.expires) / 2, 1)) : .seconds(30)
        if registrations[key] != nil { scheduleRefresh(key: key, after: retry) }
    }

    /// Removes our binding (Expires: 0, §10.2.2).
    public func unregister(aor key: String) async -> RegistrationResult? {
        guard registrations[key] != nil else { return nil }
        registrations[key]?.refresh?.cancel()
        let result = await sendRegister(key: key, expires: 0)
        registrations[key] = nil
        return result
    }

    private func sendRegister(key: String, expires: Int) async -> RegistrationResult {
        guard var state = registrations[key] else {
            return RegistrationResult(addressOfRecord: key, registered: false, timeMs: 0, authRoundTrips: 0, detail: "not registering")
        }
        let request = state.request
        let started = ContinuousClock.now
        let localHost = localAddress(toward: request.destination)
        let factory = requestFactory(for: request.destination.kind, localHost: localHost, user: request.contactUser)
        let aor = SIPNameAddress(uri: .sip(request.addressOfRecord), parameters: [SIPParameter("tag", state.fromTag)])
        let to = SIPNameAddress(uri: .sip(request.addressOfRecord))
        var authRoundTrips = 0
        var credentials: (DigestCredentials, Bool)?
        var challengesSeen = 0
        while true {
            state.sequence += 1
            registrations[key] = state
            var extra = SIPHeaders()
            extra.add(.expires, "\(expires)")
            var register = factory.request(method: .register, uri: .sip(request.registrar), from: aor, to: to, callID: state.callID,
                                           sequence: state.sequence, extraHeaders: extra, using: &random)
            if let credentials { register.headers.setCredentials(credentials.0, forProxy: credentials.1) }
            let outcome = await runClientTransaction(register, to: request.destination)
            let elapsed = (ContinuousClock.now - started).milliseconds
            switch outcome {
            case .timedOut:
                return RegistrationResult(addressOfRecord: key, registered: false, timeMs: elapsed, authRoundTrips: authRoundTrips,
                                          detail: "no response from the registrar (timeout after \(Int(configuration.timers.timeout.secondsValue)) s)")
            case .transportFailed(let reason):
                return RegistrationResult(addressOfRecord: key, registered: false, timeMs: elapsed, authRoundTrips: authRoundTrips,
                                          detail: "transport error: \(reason)")
            case .final(let response):
                if (200...299).contains(response.statusCode) {
                    let granted = Self.grantedExpiry(response, contact: factory.contact, asked: expires)
                    return RegistrationResult(
                        addressOfRecord: key, registered: expires > 0, statusCode: response.statusCode, reasonPhrase: response.reasonPhrase,
                        timeMs: elapsed, authRoundTrips: authRoundTrips, expiresGranted: granted,
                        detail: expires == 0 ? "unregistered" : "registered for \(granted) s")
                }
                if response.statusCode == 401 || response.statusCode == 407, challengesSeen < 2 {
                    challengesSeen += 1
                    let proxy = response.statusCode == 407
                    let challenges = proxy ? response.headers.proxyChallenges : response.headers.wwwChallenges
                    // A second challenge that is not `stale` means the credentials were refused.
                    if challengesSeen == 2, !(challenges.first?.stale ?? false) {
                        return RegistrationResult(
                            addressOfRecord: key, registered: false, statusCode: response.statusCode, reasonPhrase: response.reasonPhrase,
                            timeMs: elapsed, authRoundTrips: authRoundTrips,
                            detail: "authentication failed: the registrar refused the credentials of \(request.username) (\(response.statusCode) \(response.reasonPhrase) again) — wrong password?")
                    }
                    if let challenge = challenges.first,
                       let answer = try? DigestCredentials(
                        answering: challenge, method: "REGISTER", uri: request.registrar.description, username: request.username,
                        password: request.password, cnonce: randomTag(), nonceCount: nonceCounter.next(for: challenge.nonce)) {
                        credentials = (answer, proxy)
                        authRoundTrips += 1
                        state = registrations[key] ?? state
                        continue
                    }
                }
                return RegistrationResult(
                    addressOfRecord: key, registered: false, statusCode: response.statusCode, reasonPhrase: response.reasonPhrase,
                    timeMs: elapsed, authRoundTrips: authRoundTrips,
                    detail: "registration failed: \(response.statusCode) \(response.reasonPhrase)")
            }
        }
    }

    /// §10.2.4: the expiry of our binding is the Contact's `expires` in the 2xx, else its
    /// Expires header, else what we asked.
    static func grantedExpiry(_ response: SIPResponse, contact: SIPNameAddress, asked: Int) -> Int {
        let ours = contact.uri
        if let contacts = (try? response.headers.contacts) ?? nil {
            for address in contacts.addresses where address.uri.isEquivalent(to: ours) {
                if let expires = address.expires { return Int(expires) }
            }
            if contacts.addresses.count == 1, let expires = contacts.addresses[0].expires { return Int(expires) }
        }
        if let expires = response.headers.expiresValue { return Int(expires) }
        return asked
    }

    // MARK: OPTIONS (RFC 3261 §11)

    func answerOptions(_ request: SIPRequest, on key: TransactionKey) async {
        guard let response = try? SIPResponse(answering: request, statusCode: 200, toTag: randomTag(), headers: capabilityHeaders()) else { return }
        await respond(response, on: key)
    }

    /// Sends OPTIONS and reports status, round trip and what the peer advertises.
    public func options(_ target: SIPURI, destination: SIPDestination) async -> OptionsResult {
        let localHost = localAddress(toward: destination)
        let factory = requestFactory(for: destination.kind, localHost: localHost)
        let from = SIPNameAddress(uri: .sip(SIPURI(user: configuration.user, host: SIPHost(addressOrName: localHost))))
        var extra = SIPHeaders()
        extra.add(.accept, "application/sdp")
        let request = factory.request(method: .options, uri: .sip(target), from: from, to: SIPNameAddress(uri: .sip(target)),
                                      extraHeaders: extra, using: &random)
        let started = ContinuousClock.now
        let outcome = await runClientTransaction(request, to: destination)
        let rtt = (ContinuousClock.now - started).milliseconds
        switch outcome {
        case .final(let response):
            return OptionsResult(target: target.description, statusCode: response.statusCode, reasonPhrase: response.reasonPhrase,
                                 rttMs: rtt, allow: response.headers.values(.allow).flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
                                 supported: (try? response.headers.supported) ?? [], accept: response.headers.values(.accept),
                                 userAgent: response.headers.first(.userAgent)?.value ?? response.headers.first(.server)?.value,
                                 detail: "\(response.statusCode) \(response.reasonPhrase)")
        case .timedOut:
            return OptionsResult(target: target.description, statusCode: nil, reasonPhrase: nil, rttMs: nil, allow: [], supported: [],
                                 accept: [], userAgent: nil, detail: "no response (timeout)")
        case .transportFailed(let reason):
            return OptionsResult(target: target.description, statusCode: nil, reasonPhrase: nil, rttMs: nil, allow: [], supported: [],
                                 accept: [], userAgent: nil, detail: "transport error: \(reason)")
        }
    }
}

/// DESIGN §2 `options`: status, RTT, Allow/Supported advertised.
public struct OptionsResult: Sendable, Encodable {
    public var target: String
    public var statusCode: Int?
    public var reasonPhrase: String?
    public var rttMs: Double?
    public var allow: [String]
    public var supported: [String]
    public var accept: [String]
    public var userAgent: String?
    public var detail: String

    enum CodingKeys: String, CodingKey {
        case target, statusCode = "status_code", reasonPhrase = "reason_phrase", rttMs = "rtt_ms", allow, supported, accept
        case userAgent = "user_agent", detail
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(target, forKey: .target)
        try c.encode(statusCode, forKey: .statusCode)
        try c.encode(reasonPhrase, forKey: .reasonPhrase)
        try c.encode(rttMs, forKey: .rttMs)
        try c.encode(allow, forKey: .allow)
        try c.encode(supported, forKey: .supported)
        try c.encode(accept, forKey: .accept)
        try c.encode(userAgent, forKey: .userAgent)
        try c.encode(detail, forKey: .detail)
    }
}
