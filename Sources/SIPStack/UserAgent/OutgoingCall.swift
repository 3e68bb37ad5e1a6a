import Foundation
import MediaEngine
import SDP
import SIPCore
import SIPTransaction

/// A test call to place: where, how long, what to send.
public struct CallRequest: Sendable {
    /// The Request-URI and To (`sip:bob@192.0.2.1:5060`, `sip:alice@example.com`).
    public var target: SIPURI
    /// Where the INVITE goes: the target's host, or an outbound proxy.
    public var destination: SIPDestination
    public var duration: Duration
    /// PCMU (0) or PCMA (8).
    public var payloadType: UInt8
    public var dtmf: String?
    /// When the digits are sent, after the answer.
    public var dtmfDelay: Duration
    /// Digest credentials for 401/407 challenges.
    public var username: String?
    public var password: String?
    /// The tone the far end sends; nil: its SDP's `a=x-earshot-tone`, else no tone check.
    public var expectedRemoteTone: Int?
    /// CANCEL when no final response arrives within this time.
    public var noAnswerTimeout: Duration
    /// Our From address of record; nil: `sip:<user>@<local address>`.
    public var from: SIPURI?
    /// Headers added to the INVITE (e.g. `X-Earshot-Run: <run id>`, which ties the call to an
    /// organizer run at the callee), after the ones the user agent writes.
    public var extraHeaders: SIPHeaders
    /// Our identifying tone for this call; nil: the user agent's `toneFrequency`.
    public var toneFrequency: Int?
    /// RFC 4028 settings for this call; nil: the user agent's `sessionTimer`.
    public var sessionTimer: SessionTimerSettings?
    /// Digits sent (RFC 4733) `pinDelay` after the answer, before `dtmf`: a conference PIN.
    public var pin: String?
    public var pinDelay: Duration
    /// Frequencies to watch in what arrives (`MediaParameters.watchTones`): a conference
    /// participant's peers' tones and its own.
    public var watchTones: [Int]

    public init(target: SIPURI, destination: SIPDestination, duration: Duration = .seconds(20), payloadType: UInt8 = 0,
                dtmf: String? = nil, dtmfDelay: Duration = .seconds(2), username: String? = nil, password: String? = nil,
                expectedRemoteTone: Int? = nil, noAnswerTimeout: Duration = .seconds(32), from: SIPURI? = nil,
                extraHeaders: SIPHeaders = [], toneFrequency: Int? = nil, sessionTimer: SessionTimerSettings? = nil,
                pin: String? = nil, pinDelay: Duration = .milliseconds(500), watchTones: [Int] = []) {
        self.target = target
        self.destination = destination
        self.duration = duration
        self.payloadType = payloadType
        self.dtmf = dtmf
        self.dtmfDelay = dtmfDelay
        self.username = username
        self.password = password
        self.expectedRemoteTone = expectedRemoteTone
        self.noAnswerTimeout = noAnswerTimeout
        self.from = from
        self.extraHeaders = extraHeaders
        self.toneFrequency = toneFrequency
        self.sessionTimer = sessionTimer
        self.pin = pin
        self.pinDelay = pinDelay
        self.watchTones = watchTones
    }
}

/// The SDP attribute with which Earshot tells its peer which identifying tone it sends, so the
/// far end's audio check knows what to look for. Other user agents ignore it (RFC 8866 §5.13).
let earshotToneAttribute = "x-earshot-tone"

extension SIPUserAgent {
    /// Places a call, keeps it up for the planned duration (refreshing the session when
    /// RFC 4028 asks us to), hangs up and reports. Never throws: every failure is a classified
    /// ending in the report.
    public func placeCall(_ request: CallRequest) async -> CallReport {
        let callID = SIPIdentifiers.callID(using: &random)
        let call = CallContext(callID: callID, role: .caller, destination: request.destination, ladderBodyLimit: configuration.ladderBodyLimit)
        calls[callID] = call
        defer {
            call.finish()
            calls[callID] = nil
        }
        call.plannedDuration = request.duration
        call.dtmfPlanned = request.dtmf
        let tone = request.toneFrequency ?? configuration.toneFrequency
        let timerSettings = request.sessionTimer ?? configuration.sessionTimer
        call.toneFrequency = tone
        let localHost = localAddress(toward: request.destination)
        let factory = requestFactory(for: request.destination.kind, localHost: localHost)
        let fromURI = request.from ?? SIPURI(user: configuration.user, host: SIPHost(addressOrName: localHost))
        let from = SIPNameAddress(displayName: configuration.displayName, uri: .sip(fromURI),
                                  parameters: [SIPParameter("tag", SIPIdentifiers.tag(using: &random))])
        let to = SIPNameAddress(uri: .sip(request.target))

        // Media first: the offer carries our port.
        let session: MediaSession
        do {
            session = try await media.openSession(localAddress: localHost)
        } catch {
            return finishedReport(call, ending: call.ending(.mediaError(detail: String(describing: error))), session: nil, from: from, to: to)
        }
        var offer = OfferAnswer.makeOffer(
            AudioCapabilities(address: HostAddress(localHost) ?? HostAddress("127.0.0.1")!, port: session.rtpPort,
                              codecs: request.payloadType == 8 ? [.pcma, .pcmu] : [.pcmu, .pcma]),
            sessionID: UInt64(random.next() >> 1), sessionVersion: 1)
        offer.addMediaAttribute(earshotToneAttribute, "\(tone)")
        let offerBody = Array(offer.serialized().utf8)

        if let interval = timerSettings.sessionExpires {
            call.negotiator = SessionTimerNegotiator(policy: SessionTimerPolicy(
                sessionExpires: UInt32(interval), minSE: UInt32(timerSettings.minSE), refresher: .us))
        }
        var sequence: UInt32 = 1
        var authorization: (credentials: DigestCredentials, proxy: Bool)?
        var invite: SIPRequest
        var response: SIPResponse
        var attempts = 0
        while true {
            attempts += 1
            let extra = request.extraHeaders
            invite = factory.request(method: .invite, uri: .sip(request.target), from: from, to: to, callID: callID,
                                     sequence: sequence, body: offerBody, contentType: SIPMediaType(type: "application", subtype: "sdp"),
                                     extraHeaders: extra, using: &random)
            // RFC 4028 §7.1: Supported: timer always (the factory adds it); Session-Expires and
            // Min-SE when we ask for a session timer.
            if timerSettings.sessionExpires != nil { call.negotiator.apply(to: &invite) }
            if let authorization { invite.headers.setCredentials(authorization.credentials, forProxy: authorization.proxy) }
            if call.inviteSentAt == nil { call.inviteSentAt = call.elapsed }
            call.invite = invite
            let sentInvite = invite
            let timeout = request.noAnswerTimeout
            let inviteDestination = request.destination
            let noAnswer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                await self?.cancelInvite(sentInvite, destination: inviteDestination)
            }
            let outcome = await runClientTransaction(invite, to: request.destination) { [weak self] response in
                await self?.noteResponse(response, callID: callID)
            }
            noAnswer.cancel()
            switch outcome {
            case .timedOut:
                await media.release(session)
                let ending: CallEnding = call.ending(call.provisionalSeen ? .noAnswer(detail: "no final response") : .transactionTimeout(method: "INVITE"))
                return finishedReport(call, ending: ending, session: nil, from: from, to: to)
            case .transportFailed(let reason):
                await media.release(session)
                return finishedReport(call, ending: call.ending(.transportError(detail: reason)), session: nil, from: from, to: to)
            case .final(let final):
                response = final
            }
            if (200...299).contains(response.statusCode) { break }
            if (response.statusCode == 401 || response.statusCode == 407), attempts <= 2,
               let username = request.username, let password = request.password {
                let proxy = response.statusCode == 407
                let challenges = proxy ? response.headers.proxyChallenges : response.headers.wwwChallenges
                if let challenge = challenges.first,
                   let credentials = try? DigestCredentials(
                    answering: challenge, method: "INVITE", uri: request.target.description, username: username,
                    password: password, cnonce: randomTag(), nonceCount: nonceCounter.next(for: challenge.nonce)) {
                    authorization = (credentials, proxy)
                    sequence += 1
                    call.authRoundTrips += 1
                    continue
                }
            }
            if response.statusCode == 422, call.negotiator.receive422(response) {
                // RFC 4028 §7.3: retry with the interval raised to the 422's Min-SE.
                sequence += 1
                call.sessionIntervalRetries += 1
                continue
            }
            await media.release(session)
            // 486/600 busy, 401/407 refused credentials, 487 after our CANCEL no answer, 408 no answer.
            let cancelReason: CallEnding.CancelReason? = call.cancelledForNoAnswer ? .noAnswer : call.cancelledLocally ? .local : nil
            let ending = call.ending(.finalResponse(response, cancelReason: cancelReason))
            return finishedReport(call, ending: ending, session: nil, from: from, to: to)
        }

        // 2xx: the dialog, the ACK, the media.
        if call.answeredAt == nil { call.answeredAt = call.elapsed }
        do {
            var dialog = try Dialog(uacRequest: invite, response: response, overTLS: request.destination.kind == .tls)
            dialog.localContact = factory.contact
            call.dialog = dialog
        } catch {
            await media.release(session)
            return finishedReport(call, ending: call.ending(.protocolError(detail: "2xx does not make a dialog: \(error)")), session: nil, from: from, to: to)
        }
        call.destination = nextHop(for: call.dialog!, fallback: request.destination)
        let ack = try? call.dialog!.makeACK(for: invite, via: factory.via(using: &random))
        if let ack { try? await sendRequest(ack, to: call.destination) }
        call.lastACK = ack

        guard let answer = try? SessionDescription(parsing: String(decoding: response.body, as: UTF8.self), options: .lenientOrder),
              let audio = OfferAnswer.processAnswer(answer, to: offer).audio,
              let remote = MediaEndpoint(host: audio.remoteAddress.description, port: audio.remotePort) else {
            await sendBye(call, factory: factory)
            await media.release(session)
            return finishedReport(call, ending: call.ending(.protocolError(detail: "the answer has no usable audio")), session: nil, from: from, to: to)
        }
        let remoteTone = request.expectedRemoteTone ?? answer.mediaAttribute(earshotToneAttribute).flatMap { Int($0) }
        do {
            try await media.start(session, MediaParameters(
                remote: remote, rtcpRemotePort: audio.remoteRTCPPort, payloadType: audio.payloadType,
                telephoneEventPayloadType: audio.telephoneEventPayloadType, toneFrequency: tone,
                expectedRemoteToneFrequency: remoteTone, latchToSource: false, ptimeMs: audio.ptime,
                watchTones: request.watchTones))
        } catch {
            await sendBye(call, factory: factory)
            await media.release(session)
            return finishedReport(call, ending: call.ending(.mediaError(detail: String(describing: error))), session: nil, from: from, to: to)
        }

        // Session timer (RFC 4028 §7.2): what the 2xx says decides who refreshes.
        var pendingTimerActions: [SessionTimerState.Action] = []
        call.timerState.peerAllow = response.headers.allowValue
        let negotiated = (try? call.negotiator.negotiated(uacResponse: response)) ?? nil
        pendingTimerActions = call.timerState.handle(.callEstablished(negotiated, at: call.elapsed))
        call.schedule(.hangupDue, after: request.duration)
        // The PIN first (RFC 4733 events, `pinDelay` after the answer); the test digits at
        // `dtmfDelay`, but never before the PIN is over.
        var dtmfDelay = request.dtmfDelay
        if let pin = request.pin, !pin.isEmpty {
            call.pinPlanned = pin
            call.schedule(.pinDue, after: request.pinDelay)
            dtmfDelay = max(dtmfDelay, request.pinDelay + Self.dtmfSpan(pin) + Self.dtmfAfterPINGap)
        }
        if let digits = request.dtmf, !digits.isEmpty { call.schedule(.dtmfDue, after: dtmfDelay) }

        let ending = await runEstablishedCall(call, initialTimerActions: pendingTimerActions, factory: factory, session: session, invite: invite, offer: offer)
        let report = try? await media.stop(session)
        return finishedReport(call, ending: ending, session: report, from: from, to: to)
    }

    /// How long `digits` take at the engine's default pacing (each event 100 ms, then 100 ms
    /// of audio before the next; `MediaEngine.sendDTMF`).
    static func dtmfSpan(_ digits: String) -> Duration { .milliseconds(200 * digits.count) }

    /// Between the PIN's last event and the first test digit: room for the last event's three
    /// end packets (RFC 4733 §2.5.1.4) and a bridge that admits on the PIN.
    static let dtmfAfterPINGap: Duration = .milliseconds(300)

    /// Setup times (DESIGN §2): the first 180 and the 2xx, measured from the first INVITE.
    func noteResponse(_ response: SIPResponse, callID: String) {
        guard let call = calls[callID] else { return }
        if response.statusCode > 100, response.statusCode < 200 { call.provisionalSeen = true }
        if response.statusCode == 180 || response.statusCode == 183, call.ringingAt == nil { call.ringingAt = call.elapsed }
        if (200...299).contains(response.statusCode), call.answeredAt == nil { call.answeredAt = call.elapsed }
    }

    /// Ends the calls whose INVITE carries header `name` with `value` (e.g. the calls of a run
    /// an organizer cancelled): BYE when established, CANCEL while our INVITE is unanswered,
    /// 480 while we ring. Returns how many calls were told to end.
    public func endCalls(withHeader name: String, value: String) async -> Int {
        let header = SIPHeaderName(name)
        var ended = 0
        for call in calls.values where call.invite?.headers.first(header)?.value == value {
            ended += 1
            end(call)
        }
        return ended
    }

    /// Ends the call `callID` like `endCalls(withHeader:value:)` (a bridge's legs at the end of
    /// its conference); false when there is no such call.
    @discardableResult
    public func endCall(callID: String) -> Bool {
        guard let call = calls[callID] else { return false }
        end(call)
        return true
    }

    private func end(_ call: CallContext) {
        if call.role == .caller, call.dialog == nil, let invite = call.invite {
            call.cancelledLocally = true
            if let cancel = try? SIPRequest.cancel(invite) {
                let destination = call.destination
                Task { [weak self] in _ = await self?.runClientTransaction(cancel, to: destination) }
            }
        } else if call.dialog == nil {
            call.events.yield(.shutdown)
        } else {
            call.events.yield(.hangupDue)
        }
    }

    func cancelInvite(_ invite: SIPRequest, destination: SIPDestination) async {
        if let callID = invite.headers.callIDValue { calls[callID]?.cancelledForNoAnswer = true }
        guard let cancel = try? SIPRequest.cancel(invite) else { return }
        _ = await runClientTransaction(cancel, to: destination)
    }

    /// The next hop for requests in the dialog (§12.2.1.1, §8.1.2): the first route, else
    /// the remote target; resolved to an address, or the original destination when it cannot be.
    func nextHop(for dialog: Dialog, fallback: SIPDestination) -> SIPDestination {
        guard let uri = dialog.nextHop.sipURI else { return fallback }
        return SIPDestination(uri: uri, defaultKind: fallback.kind) ?? fallback
    }
}
