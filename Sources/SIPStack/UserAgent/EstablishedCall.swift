import MediaEngine
import SDP
import SIPCore
import SIPTransaction

extension SIPUserAgent {
    /// The confirmed dialog until it ends, for both roles: hang up when the plan says so,
    /// answer the peer's BYE, re-INVITE and UPDATE, refresh or expire the session (RFC 4028),
    /// re-ACK retransmitted 2xx (caller), stop 2xx retransmissions on ACK (callee).
    func runEstablishedCall(_ call: CallContext, factory: RequestFactory, session: MediaSession,
                            invite: SIPRequest, offer: SessionDescription) async -> CallEnding {
        call.localSDP = call.localSDP ?? offer
        var generation = 0
        for await event in call.stream {
            switch event {
            case .hangupDue:
                return await sendBye(call, factory: factory) ? call.ending(.normal(by: .local)) : call.ending(.normal(by: .local))
            case .shutdown:
                _ = await sendBye(call, factory: factory)
                return call.ending(.normal(by: .local))
            case .dtmfDue:
                if let digits = call.dtmfPlanned {
                    try? await media.sendDTMF(session, digits: digits)
                    call.dtmfSent = digits
                }
            case .strayResponse(let response):
                // §13.2.2.4: every retransmission of the 2xx gets the same ACK again.
                if (200...299).contains(response.statusCode), (try? response.headers.cseq)??.method == .invite,
                   let ack = call.lastACK {
                    try? await sendRequest(ack, to: call.destination)
                }
            case .retransmitTimer(let timer):
                guard var retransmitter = call.retransmitter, let incoming = call.inviteIncoming else { continue }
                let actions = retransmitter.timerFired(timer)
                call.retransmitter = retransmitter
                for action in actions {
                    switch action {
                    case .send(.response(let response)): try? await sendResponse(response, replyingTo: incoming)
                    case .startTimer(let next, let delay): call.schedule(.retransmitTimer(next), after: delay)
                    case .timedOut:
                        _ = await sendBye(call, factory: factory)
                        return call.ending(.ackTimeout)
                    default: continue
                    }
                }
            case .ackTimeout:
                _ = await sendBye(call, factory: factory)
                return call.ending(.ackTimeout)
            case .cancelled:
                continue  // too late: the call is answered (§9.2)
            case .request(let request, let key, let incoming):
                if let ending = await handleInDialog(request, key: key, incoming: incoming, call: call, session: session,
                                                     generation: &generation) {
                    return ending
                }
            case .sessionTimerDue(let due):
                guard due == generation, let plan = call.sessionTimer else { continue }
                if plan.weRefresh {
                    // RFC 4028 §10: refresh at half the interval; UPDATE when the peer allows it.
                    let method = plan.refreshMethod
                    let request = makeRefresh(call, method: method, factory: factory, plan: plan)
                    let at = (call.elapsed - (call.answeredAt ?? .zero)).secondsValue
                    let destination = call.destination
                    let callEvents = call.events
                    let sentGeneration = generation
                    call.pendingRefreshAt = at
                    call.pendingRefreshMethod = method
                    Task { [weak self] in
                        guard let self else { return }
                        let outcome = await self.runClientTransaction(request, to: destination)
                        callEvents.yield(.refreshAnswered(method: method, outcome: outcome, generation: sentGeneration))
                    }
                } else {
                    // §10: no refresh arrived before the expiry margin: the session is over.
                    _ = await sendBye(call, factory: factory)
                    let at = (call.elapsed - (call.answeredAt ?? .zero))
                    return call.ending(.sessionExpired(detail: "no session refresh received"))
                }
            case .refreshAnswered(let method, let outcome, let due):
                guard due == generation, let plan = call.sessionTimer else { continue }
                let at = call.pendingRefreshAt ?? (call.elapsed - (call.answeredAt ?? .zero)).secondsValue
                call.pendingRefreshAt = nil
                call.pendingRefreshMethod = nil
                switch outcome {
                case .final(let response) where (200...299).contains(response.statusCode):
                    call.refreshes.append(.init(atS: at, method: method.rawValue, statusCode: response.statusCode,
                                                outcome: "refreshed", direction: "sent"))
                    if method == .invite, let ack = try? call.dialog?.makeACK(for: call.invite ?? invite, via: factory.via(using: &random)) {
                        // a re-INVITE's 2xx is ACKed like any (§14.1)
                        try? await sendRequest(ack, to: call.destination)
                        call.lastACK = ack
                    }
                    if var dialog = call.dialog, let sent = call.lastRefresh {
                        try? dialog.receiveResponse(response, to: sent)
                        call.dialog = dialog
                    }
                    let updated = plan.refreshed(by: response)
                    call.sessionTimer = updated
                    generation += 1
                    call.schedule(.sessionTimerDue(generation: generation), after: updated.firstDeadline)
                case .final(let response) where response.statusCode == 422:
                    // §7.4 for refreshes: retry at once with the peer's Min-SE.
                    call.refreshes.append(.init(atS: at, method: method.rawValue, statusCode: 422, outcome: "interval too small", direction: "sent"))
                    if let minSE = response.headers.minSEValue {
                        call.sessionTimer = plan.with(interval: max(Int(minSE), plan.interval))
                    }
                    call.events.yield(.sessionTimerDue(generation: generation))
                case .final(let response):
                    // §10: a refresh answered with an error ends the session (408/481 certainly;
                    // any other failure leaves it unrefreshed, so it expires the same).
                    call.refreshes.append(.init(atS: at, method: method.rawValue, statusCode: response.statusCode,
                                                outcome: "rejected", direction: "sent"))
                    _ = await sendBye(call, factory: factory)
                    return call.ending(.sessionExpired(detail: "refresh \(method.rawValue) rejected \(response.statusCode) \(response.reasonPhrase)"))
                case .timedOut, .transportFailed:
                    call.refreshes.append(.init(atS: at, method: method.rawValue, statusCode: nil, outcome: "unanswered", direction: "sent"))
                    _ = await sendBye(call, factory: factory)
                    return call.ending(.sessionExpired(detail: "refresh \(method.rawValue) unanswered"))
                }
            case .answerDue:
                continue
            }
        }
        return call.ending(.normal(by: .local))
    }

    /// A request inside the dialog. Returns the ending when it ends the call.
    private func handleInDialog(_ request: SIPRequest, key: TransactionKey?, incoming: SIPIncoming, call: CallContext,
                                session: MediaSession, generation: inout Int) async -> CallEnding? {
        if request.method == .ack {
            if var retransmitter = call.retransmitter {
                _ = retransmitter.receiveACK(request)
                call.retransmitter = retransmitter
            }
            return nil
        }
        guard let key else { return nil }
        if var dialog = call.dialog {
            if case .reject(let status, let reason) = (try? dialog.receive(request)) ?? .accept {
                if let response = try? SIPResponse(answering: request, statusCode: status, reasonPhrase: reason) {
                    await respond(response, on: key)
                }
                return nil
            }
            call.dialog = dialog
        }
        switch request.method {
        case .bye:
            await replyInDialog(request, on: key, status: 200, call: call)
            if call.endedAt == nil { call.endedAt = call.elapsed }
            if let method = call.pendingRefreshMethod, let sentAt = call.pendingRefreshAt {
                // The gateway that drops calls at 30 minutes: our refresh got no answer and the
                // far end tore the session down (RFC 4028 §10 on its side).
                let at = (call.elapsed - (call.answeredAt ?? .zero)).secondsValue
                call.refreshes.append(.init(atS: sentAt, method: method.rawValue, statusCode: nil, outcome: "unanswered", direction: "sent"))
                return call.ending(.sessionExpired(detail: "refresh \(method.rawValue) unanswered, the far end ended the call (BYE)"))
            }
            return call.ending(.normal(by: .remote))
        case .invite, .update:
            // A refresh or a session change from the peer: answer with our session (a new
            // version when the request carries an offer) and the session-timer headers
            // (RFC 4028 §9), and restart the expiry timer.
            var headers = SIPHeaders()
            var body: [UInt8] = []
            if !request.body.isEmpty, let previous = call.localSDP {
                var answer = previous.revising(previous)
                answer.addMediaAttribute(earshotToneAttribute, "\(configuration.toneFrequency)")
                call.localSDP = answer
                body = Array(answer.serialized().utf8)
                headers.add(.contentType, "application/sdp")
            } else if request.method == .invite, let previous = call.localSDP {
                // An offerless re-INVITE: our offer goes in the 2xx (§14.2).
                body = Array(previous.revising(previous).serialized().utf8)
                headers.add(.contentType, "application/sdp")
            }
            let at = (call.elapsed - (call.answeredAt ?? .zero)).secondsValue
            if let requested = request.headers.sessionExpiresValue {
                let plan = SessionTimerPlan.uas(request: request, requested: requested, minSE: configuration.sessionTimer.minSE,
                                                previous: call.sessionTimer)
                call.sessionTimer = plan
                headers.add(.require, "timer")
                headers.add(.sessionExpires, plan.headerValue)
                generation += 1
                call.schedule(.sessionTimerDue(generation: generation), after: plan.firstDeadline)
            } else if let plan = call.sessionTimer {
                generation += 1
                call.schedule(.sessionTimerDue(generation: generation), after: plan.firstDeadline)
            }
            call.refreshes.append(.init(atS: at, method: request.method.rawValue, statusCode: 200, outcome: "refreshed", direction: "received"))
            await replyInDialog(request, on: key, status: 200, call: call, headers: headers, body: body)
            if request.method == .invite, let response = serverTransactions[key]?.transaction.finalResponse,
               (200...299).contains(response.statusCode), !incoming.kind.isReliable || true {
                // The 2xx to a re-INVITE is retransmitted until ACKed, like the first (§13.3.1.4).
                if var retransmitter = try? AcceptedInviteRetransmitter(response: response, timers: configuration.timers) {
                    for action in retransmitter.start() {
                        if case .startTimer(let timer, let delay) = action { call.schedule(.retransmitTimer(timer), after: delay) }
                    }
                    call.retransmitter = retransmitter
                    call.inviteIncoming = incoming
                }
            }
            return nil
        case .options:
            await replyInDialog(request, on: key, status: 200, call: call, headers: capabilityHeaders())
            return nil
        case .info:
            await replyInDialog(request, on: key, status: 200, call: call)
            return nil
        default:
            await replyInDialog(request, on: key, status: 501, call: call)
            return nil
        }
    }

    private func replyInDialog(_ request: SIPRequest, on key: TransactionKey, status: Int, call: CallContext,
                               headers: SIPHeaders = [], body: [UInt8] = []) async {
        var extra = headers
        let contentType = extra.first(.contentType).flatMap { try? SIPMediaType(parsing: $0.value) }
        extra.remove(.contentType)
        for field in capabilityHeaders(includeAccept: false) where !extra.contains(field.name) { extra.add(field) }
        let contact = request.method == .invite || request.method == .update ? call.dialog?.localContact : nil
        guard let response = try? SIPResponse(answering: request, statusCode: status, toTag: call.dialog?.localTag ?? randomTag(),
                                              contact: contact, headers: extra, body: body, contentType: contentType) else { return }
        await respond(response, on: key)
    }

    /// UPDATE (RFC 3311) or re-INVITE refreshing the session: same SDP, a new version when
    /// it is an offer (RFC 4028 §7.4 lets the refresh carry no offer; re-INVITE must carry one
    /// to not force the peer to offer, so we send ours again).
    func makeRefresh(_ call: CallContext, method: SIPMethod, factory: RequestFactory, plan: SessionTimerPlan) -> SIPRequest {
        var headers = SIPHeaders()
        headers.add(.sessionExpires, plan.refreshHeaderValue)
        headers.add(.minSE, "\(configuration.sessionTimer.minSE)")
        headers.add(.supported, "timer")
        var body: [UInt8] = []
        if method == .invite, let previous = call.localSDP {
            let revised = previous.revising(previous)
            call.localSDP = revised
            body = Array(revised.serialized().utf8)
        }
        var dialog = call.dialog!
        let request = dialog.makeRequest(method: method, via: factory.via(using: &random), body: body,
                                         contentType: body.isEmpty ? nil : SIPMediaType(type: "application", subtype: "sdp"),
                                         extraHeaders: headers)
        call.dialog = dialog
        call.lastRefresh = request
        if method == .invite { call.invite = request }
        return request
    }

    /// BYE (§15.1.1); returns whether a 2xx came back.
    @discardableResult
    func sendBye(_ call: CallContext, factory: RequestFactory) async -> Bool {
        guard var dialog = call.dialog, !call.byeSent else { return false }
        call.byeSent = true
        let bye = dialog.makeRequest(method: .bye, via: factory.via(using: &random))
        call.dialog = dialog
        if call.endedAt == nil { call.endedAt = call.elapsed }
        let outcome = await runClientTransaction(bye, to: call.destination)
        if case .final(let response) = outcome { return (200...299).contains(response.statusCode) }
        return false
    }

    /// Allow, Supported, Accept (RFC 3261 §11.2, answered to OPTIONS and carried on dialog
    /// responses).
    func capabilityHeaders(includeAccept: Bool = true) -> SIPHeaders {
        var headers = SIPHeaders()
        headers.add(.allow, Self.allowedMethods.map(\.rawValue).joined(separator: ", "))
        headers.add(.supported, "timer")
        if includeAccept { headers.add(.accept, "application/sdp") }
        headers.add(.userAgent, "earshot/\(SIPStackVersion.string)")
        return headers
    }

    static let allowedMethods: [SIPMethod] = [.invite, .ack, .bye, .cancel, .options, .update, .info]
}

public enum SIPStackVersion {
    public static let string = "0.2.0"
}
