import MediaEngine
import SDP
import SIPCore
import SIPTransaction

/// An INVITE as the incoming-call policy sees it, before it is answered: enough to tell which
/// test the call belongs to (`X-Earshot-Run`) and to choose how to answer it.
public struct IncomingCallInfo: Sendable {
    public var callID: String
    public var requestURI: String
    public var from: String
    public var to: String
    /// The sender's `address:port`.
    public var source: String
    public var transport: SIPTransportKind
    /// Every header of the INVITE.
    public var headers: SIPHeaders

    public init(callID: String, requestURI: String, from: String, to: String, source: String, transport: SIPTransportKind,
                headers: SIPHeaders) {
        self.callID = callID
        self.requestURI = requestURI
        self.from = from
        self.to = to
        self.source = source
        self.transport = transport
        self.headers = headers
    }

    /// The first value of header `name` (case-insensitive), e.g. `header("X-Earshot-Run")`.
    public func header(_ name: String) -> String? { headers.first(SIPHeaderName(name))?.value }
}

/// How to answer one incoming call. A nil field takes the user agent's configuration.
public struct IncomingCallSettings: Sendable, Hashable {
    /// Our identifying tone in this call.
    public var toneFrequency: Int?
    /// The tone the caller must send; it takes precedence over the caller's `a=x-earshot-tone`
    /// (the expectation comes from whoever planned the test).
    public var expectedRemoteTone: Int?
    public var ringTime: Duration?
    /// Reject the call with this status instead of answering.
    public var rejectWith: Int?
    /// Answer onto this conference bridge (a member: it hears the mix, its audio goes into
    /// it); a full bridge answers 486 Busy Here. Nil: an ordinary test call.
    public var bridge: MediaBridge?
    /// The member's label in the bridge report (the caller's agent id or URI).
    public var memberLabel: String?

    public init(toneFrequency: Int? = nil, expectedRemoteTone: Int? = nil, ringTime: Duration? = nil, rejectWith: Int? = nil,
                bridge: MediaBridge? = nil, memberLabel: String? = nil) {
        self.toneFrequency = toneFrequency
        self.expectedRemoteTone = expectedRemoteTone
        self.ringTime = ringTime
        self.rejectWith = rejectWith
        self.bridge = bridge
        self.memberLabel = memberLabel
    }
}

extension SIPUserAgent {
    /// Called for every new INVITE before it is answered; the settings it returns apply to
    /// that call. Without a policy every call is answered with the configuration's settings.
    public func setIncomingCallPolicy(_ policy: @escaping @Sendable (IncomingCallInfo) async -> IncomingCallSettings) {
        incomingCallPolicy = policy
    }

    /// A new INVITE: the call runs as its own task and reports through the incoming-call handler.
    func startIncomingCall(_ invite: SIPRequest, transaction key: TransactionKey, incoming: SIPIncoming) {
        let callID = invite.headers.callIDValue ?? randomCallID()
        let destination = SIPDestination(host: incoming.sourceHost, port: incoming.sourcePort, kind: incoming.kind)
        let call = CallContext(callID: callID, role: .callee, destination: destination, ladderBodyLimit: configuration.ladderBodyLimit)
        call.invite = invite
        call.inviteIncoming = incoming
        call.inviteSentAt = .zero
        calls[callID] = call
        // The ladder starts with the INVITE (recorded before the call existed).
        call.ladder.record(.request(invite), direction: .received, at: .zero, transport: incoming.kind.viaToken,
                           remote: "\(incoming.sourceHost):\(incoming.sourcePort)")
        Task {
            let report = await self.answerCall(call, invite: invite, key: key, incoming: incoming)
            self.calls[callID] = nil
            call.finish()
            self.onIncomingCallEnded?(report)
        }
    }

    private func answerCall(_ call: CallContext, invite: SIPRequest, key: TransactionKey, incoming: SIPIncoming) async -> CallReport {
        let to = (try? invite.headers.to) ?? nil
        let from = (try? invite.headers.from) ?? nil
        call.localURI = to?.uri.description ?? ""
        call.remoteURI = from?.uri.description ?? ""
        let localTag = SIPIdentifiers.tag(using: &random)
        let localHost = incoming.listener.host
        var settings = IncomingCallSettings()
        if let policy = incomingCallPolicy {
            settings = await policy(IncomingCallInfo(
                callID: call.callID, requestURI: invite.uri.description, from: call.remoteURI, to: call.localURI,
                source: "\(incoming.sourceHost):\(incoming.sourcePort)", transport: incoming.kind, headers: invite.headers))
        }
        let tone = settings.toneFrequency ?? configuration.toneFrequency
        let ringTime = settings.ringTime ?? configuration.ringTime
        call.toneFrequency = tone
        call.bridged = settings.bridge != nil
        let factory = requestFactory(for: incoming.kind, localHost: advertisedHost(incoming))

        func fail(_ status: Int, _ ending: CallEnding, headers: SIPHeaders = []) async -> CallReport {
            if let response = try? SIPResponse(answering: invite, statusCode: status, toTag: localTag, headers: headers) {
                await respond(response, on: key)
            }
            return report(for: call, ending: ending, media: nil)
        }

        if let status = settings.rejectWith ?? configuration.rejectWith {
            return await fail(status, call.ending(.rejected(status: status, reason: SIPResponse.defaultReasonPhrase(for: status))))
        }
        // RFC 4028 §9: a timer when the caller asks for one (or we are configured to ask);
        // too small an interval is refused with 422 and our Min-SE. The caller refreshes
        // when it can (policy `.peer`).
        call.negotiator = SessionTimerNegotiator(policy: SessionTimerPolicy(
            sessionExpires: UInt32(configuration.sessionTimer.sessionExpires ?? 1800),
            minSE: UInt32(configuration.sessionTimer.minSE), refresher: .peer))
        var timerAnswer: SessionTimerAnswer?
        if invite.headers.sessionExpiresValue != nil || configuration.sessionTimer.sessionExpires != nil {
            timerAnswer = try? call.negotiator.answer(invite)
        }
        if case .reject(let minSE) = timerAnswer {
            var headers = SIPHeaders()
            headers.add(.minSE, "\(minSE)")
            return await fail(422, call.ending(.rejected(status: 422, reason: "Session Interval Too Small")), headers: headers)
        }
        guard let offer = try? SessionDescription(parsing: String(decoding: invite.body, as: UTF8.self), options: .lenientOrder) else {
            return await fail(invite.body.isEmpty ? 488 : 400, call.ending(.protocolError(detail: invite.body.isEmpty
                ? "INVITE without an offer (not supported)" : "unparseable SDP offer")))
        }
        // A conference member's session lives on its bridge's loop; a full bridge is busy
        // (486, RFC 3261 §21.4.24), any other media failure is 503.
        func mediaFailed(_ error: MediaEngineError) async -> CallReport {
            if error.code == .bridgeFull {
                return await fail(486, call.ending(.rejected(status: 486, reason: "Busy Here (the conference is full)")))
            }
            return await fail(503, call.ending(.mediaError(detail: String(describing: error))))
        }
        let session: MediaSession
        do {
            let address = localHost == "0.0.0.0" || localHost == "::" ? nil : localHost
            if let bridge = settings.bridge {
                session = try await media.openSession(localAddress: address, on: bridge)
            } else {
                session = try await media.openSession(localAddress: address)
            }
        } catch {
            return await mediaFailed(error)
        }
        let capabilities = AudioCapabilities(address: HostAddress(advertisedHost(incoming)) ?? HostAddress("127.0.0.1")!,
                                             port: session.rtpPort)
        let answerOutcome = OfferAnswer.makeAnswer(to: offer, local: capabilities, sessionID: UInt64(random.next() >> 1), sessionVersion: 1)
        var answer = answerOutcome.sdp
        guard let audio = answerOutcome.outcome.audio,
              let remote = MediaEndpoint(host: audio.remoteAddress.description, port: audio.remotePort) else {
            await media.release(session)
            return await fail(488, call.ending(.protocolError(detail: "no acceptable audio in the offer")))
        }
        // A bridge sends the mix of the others, not an identifying tone of its own.
        if settings.bridge == nil { answer.addMediaAttribute(earshotToneAttribute, "\(tone)") }
        call.localSDP = answer

        // 180, ring, 200.
        let contact = factory.contact
        if let ringing = try? SIPResponse(answering: invite, statusCode: 180, toTag: localTag, contact: contact, copyRecordRoute: true) {
            call.ringingAt = call.elapsed
            await respond(ringing, on: key)
        }
        if ringTime > .zero {
            call.schedule(.answerDue, after: ringTime)
            for await event in call.stream {
                if case .answerDue = event { break }
                if case .cancelled = event {
                    await media.release(session)
                    if let response = try? SIPResponse(answering: invite, statusCode: 487, toTag: localTag) {
                        await respond(response, on: key)
                    }
                    return report(for: call, ending: call.ending(.cancelled), media: nil)
                }
                if case .shutdown = event {
                    await media.release(session)
                    return await fail(480, call.ending(.normal(by: .local)))
                }
            }
        }
        var headers = capabilityHeaders(includeAccept: false)
        var negotiated: NegotiatedSessionTimer?
        if case .accept(let timer, let timerHeaders) = timerAnswer {
            negotiated = timer
            for field in timerHeaders { headers.add(field) }
        }
        guard let ok = try? SIPResponse(answering: invite, statusCode: 200, toTag: localTag, contact: contact, copyRecordRoute: true,
                                        headers: headers, body: Array(answer.serialized().utf8),
                                        contentType: SIPMediaType(type: "application", subtype: "sdp")) else {
            await media.release(session)
            return report(for: call, ending: call.ending(.protocolError(detail: "could not build the 200")), media: nil)
        }
        do {
            var dialog = try Dialog(uasRequest: invite, response: ok, overTLS: incoming.kind == .tls)
            dialog.localContact = contact
            call.dialog = dialog
        } catch {
            await media.release(session)
            return await fail(400, call.ending(.protocolError(detail: "the INVITE does not make a dialog: \(error)")))
        }
        call.destination = nextHop(for: call.dialog!, fallback: call.destination)
        let remoteTone = settings.expectedRemoteTone ?? offer.mediaAttribute(earshotToneAttribute).flatMap { Int($0) }
            ?? configuration.expectedRemoteTone
        do {
            // Latching (symmetric RTP, "comedia"): a caller behind NAT sends from an address its
            // SDP cannot know; we answer to where its packets come from.
            try await media.start(session, MediaParameters(
                remote: remote, rtcpRemotePort: audio.remoteRTCPPort, payloadType: audio.payloadType,
                telephoneEventPayloadType: audio.telephoneEventPayloadType, toneFrequency: tone,
                expectedRemoteToneFrequency: remoteTone, latchToSource: true, ptimeMs: audio.ptime,
                bridge: settings.bridge, memberLabel: settings.memberLabel ?? (settings.bridge == nil ? nil : call.remoteURI)))
        } catch {
            await media.release(session)
            return await mediaFailed(error)
        }
        call.answeredAt = call.elapsed
        await respond(ok, on: key)
        if var retransmitter = try? AcceptedInviteRetransmitter(response: ok, timers: configuration.timers) {
            for action in retransmitter.start() {
                if case .startTimer(let timer, let delay) = action { call.schedule(.retransmitTimer(timer), after: delay) }
            }
            call.retransmitter = retransmitter
        }
        call.timerState.peerAllow = invite.headers.allowValue
        let timerActions = call.timerState.handle(.callEstablished(negotiated, at: call.elapsed))

        let ending = await runEstablishedCall(call, initialTimerActions: timerActions, factory: factory, session: session, invite: invite, offer: answer)
        let mediaReport = try? await media.stop(session)
        return report(for: call, ending: ending, media: mediaReport)
    }

    /// The host peers should use to reach us on the listener a message came in on.
    func advertisedHost(_ incoming: SIPIncoming) -> String {
        let host = incoming.listener.advertisedHost ?? incoming.listener.host
        if host == "0.0.0.0" || host == "::" {
            return localAddress(toward: SIPDestination(host: incoming.sourceHost, port: incoming.sourcePort, kind: incoming.kind))
        }
        return host
    }
}
