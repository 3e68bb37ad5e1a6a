import MediaEngine
import SDP
import SIPCore
import SIPTransaction

extension SIPUserAgent {
    /// The confirmed dialog until it ends, for both roles: hang up when the plan says so,
    /// answer the peer's BYE, re-INVITE and UPDATE, refresh or expire the session (RFC 4028),
    /// re-ACK retransmitted 2xx (caller), stop 2xx retransmissions on ACK (callee).
    func runEstablishedCall(_ call: CallContext, initialTimerActions: [SessionTimerState.Action], factory: RequestFactory,
                            session: MediaSession, invite: SIPRequest, offer: SessionDescription) async -> CallEnding {
        call.localSDP = call.localSDP ?? offer
        if let ending = await perform(initialTimerActions, call: call, factory: factory) { return ending }
        for await event in call.stream {
            switch event {
            case .hangupDue:
                await sendBye(call, factory: factory)
                return call.ending(.normal(by: .local))
            case .shutdown:
                await sendBye(call, factory: factory)
                return call.ending(.normal(by: .local))
            case .pinDue:
                if let digits = call.pinPlanned {
                    try? await media.sendDTMF(session, digits: digits)
                    call.pinSent = digits
                }
            case .dtmfDue:
                if let digits = call.dtmfPlanned {
                    try? await media.sendDTMF(session, digits: digits)
                    call.dtmfSent = digits
                }
            case .strayResponse(let response):
                // §13.2.2.4: every retransmission of the 2xx gets the same ACK again.
                if (200...299).contains(response.statusCode), response.headers.cseqValue?.method == .invite,
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
                        await sendBye(call, factory: factory)
                        return call.ending(.ackTimeout)
                    default: continue
                    }
                }
            case .ackTimeout:
                await sendBye(call, factory: factory)
                return call.ending(.ackTimeout)
            case .cancelled:
                continue  // too late: the call is answered (§9.2)
            case .request(let request, let key, let incoming):
                if let ending = await handleInDialog(request, key: key, incoming: incoming, call: call, factory: factory) {
                    return ending
                }
            case .sessionTimerDue(let due):
                guard due == call.timerGeneration else { continue }
                let actions = call.timerState.handle(.timerFired(at: call.elapsed))
                if let ending = await perform(actions, call: call, factory: factory) { return ending }
            case .refreshAnswered(let method, let outcome, let request):
                let at = call.pendingRefreshAt ?? sinceAnswer(call)
                call.pendingRefreshAt = nil
                call.pendingRefreshMethod = nil
                let actions: [SessionTimerState.Action]
                switch outcome {
                case .final(let response):
                    let success = (200...299).contains(response.statusCode)
                    call.refreshes.append(.init(atS: at, method: method.rawValue, statusCode: response.statusCode,
                                                outcome: success ? "refreshed" : "rejected", direction: "sent"))
                    var negotiated: NegotiatedSessionTimer?
                    if success {
                        if method == .invite, let ack = try? call.dialog?.makeACK(for: request, via: factory.via(using: &random)) {
                            try? await sendRequest(ack, to: call.destination)  // a re-INVITE's 2xx is ACKed (§14.1)
                            call.lastACK = ack
                        }
                        if var dialog = call.dialog {
                            try? dialog.receiveResponse(response, to: request)
                            call.dialog = dialog
                        }
                        if let allow = response.headers.allowValue { call.timerState.peerAllow = allow }
                        negotiated = (try? call.negotiator.negotiated(uacResponse: response)) ?? nil
                    } else if response.statusCode == 422 {
                        _ = call.negotiator.receive422(response)
                    }
                    actions = call.timerState.handle(.refreshAnswered(statusCode: response.statusCode, timer: negotiated, at: call.elapsed))
                case .timedOut, .transportFailed:
                    call.refreshes.append(.init(atS: at, method: method.rawValue, statusCode: nil, outcome: "unanswered", direction: "sent"))
                    actions = call.timerState.handle(.refreshUnanswered(at: call.elapsed))
                }
                if let ending = await perform(actions, call: call, factory: factory) { return ending }
            case .answerDue:
                continue
            }
        }
        return call.ending(.normal(by: .local))
    }

    /// Seconds since the answer, for refresh records.
    func sinceAnswer(_ call: CallContext) -> Double { (call.elapsed - (call.answeredAt ?? .zero)).secondsValue }

    /// Executes what the RFC 4028 machine asks for. Returns the ending when it ends the call.
    func perform(_ actions: [SessionTimerState.Action], call: CallContext, factory: RequestFactory) async -> CallEnding? {
        for action in actions {
            switch action {
            case .rescheduleAt(let time):
                call.timerGeneration += 1
                call.schedule(.sessionTimerDue(generation: call.timerGeneration), after: max(.zero, time - call.elapsed))
            case .cancelTimer:
                call.timerGeneration += 1
            case .sendRefresh(let method):
                let request = makeRefresh(call, method: method, factory: factory)
                call.pendingRefreshAt = sinceAnswer(call)
                call.pendingRefreshMethod = method
                let destination = call.destination
                let events = call.events
                Task { [weak self] in
                    guard let self else { return }
                    let outcome = await self.runClientTransaction(request, to: destination)
                    events.yield(.refreshAnswered(method: method, outcome: outcome, request: request))
                }
                let more = call.timerState.handle(.refreshSent(method, at: call.elapsed))
                if let ending = await perform(more, call: call, factory: factory) { return ending }
            case .sendBye(let ending):
                if let method = call.pendingRefreshMethod, let sentAt = call.pendingRefreshAt {
                    call.refreshes.append(.init(atS: sentAt, method: method.rawValue, statusCode: nil, outcome: "unanswered", direction: "sent"))
                    call.pendingRefreshMethod = nil
                    call.pendingRefreshAt = nil
                }
                call.endedAt = call.elapsed
                await sendBye(call, factory: factory)
                return ending
            }
        }
        return nil
    }

    /// A request inside the dialog. Returns the ending when it ends the call.
    private func handleInDialog(_ request: SIPRequest, key: TransactionKey?, incoming: SIPIncoming, call: CallContext,
                                factory: RequestFactory) async -> CallEnding? {
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
                if !call.bridged {
                    answer.addMediaAttribute(earshotToneAttribute, "\(call.toneFrequency ?? configuration.toneFrequency)")
                }
                call.localSDP = answer
                body = Array(answer.serialized().utf8)
                headers.add(.contentType, "application/sdp")
            } else if request.method == .invite, let previous = call.localSDP {
                // An offerless re-INVITE: our offer goes in the 2xx (§14.2).
                body = Array(previous.revising(previous).serialized().utf8)
                headers.add(.contentType, "application/sdp")
            }
            // RFC 4028 §9 for a refresh from the peer: our answer's Session-Expires (or a 422),
            // and the machine restarts the interval.
            var timerActions: [SessionTimerState.Action] = []
            if request.headers.sessionExpiresValue != nil || call.timerState.timer != nil {
                switch try? call.negotiator.answer(request) {
                case .reject(let minSE):
                    var rejection = SIPHeaders()
                    rejection.add(.minSE, "\(minSE)")
                    await replyInDialog(request, on: key, status: 422, call: call, headers: rejection)
                    return nil
                case .accept(let timer, let timerHeaders):
                    for field in timerHeaders { headers.add(field) }
                    timerActions = call.timerState.handle(.refreshReceived(timer, at: call.elapsed))
                case nil:
                    break
                }
            }
            call.refreshes.append(.init(atS: sinceAnswer(call), method: request.method.rawValue, statusCode: 200, outcome: "refreshed",
                                        direction: "received"))
            await replyInDialog(request, on: key, status: 200, call: call, headers: headers, body: body)
            if let ending = await perform(timerActions, call: call, factory: factory) { return ending }
            if request.method == .invite, let response = serverTransactions[key]?.transaction.finalResponse,
               (200...299).contains(response.statusCode) {
                // The 2xx to a re-INVITE is retransmitted until ACKed, like the first, on every
                // transport (§13.3.1.4: a hop further on may be UDP).
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

    /// UPDATE (RFC 3311) or re-INVITE refreshing the session (RFC 4028 §7.4): the session-timer
    /// headers of the interval in force; a re-INVITE carries our SDP again (same version: RFC
    /// 3264 §8 "no change"), an UPDATE no body.
    func makeRefresh(_ call: CallContext, method: SIPMethod, factory: RequestFactory) -> SIPRequest {
        var body: [UInt8] = []
        if method == .invite, let previous = call.localSDP {
            body = Array(previous.serialized().utf8)
        }
        var dialog = call.dialog!
        var request = dialog.makeRequest(method: method, via: factory.via(using: &random), body: body,
                                         contentType: body.isEmpty ? nil : SIPMediaType(type: "application", subtype: "sdp"))
        call.negotiator.apply(to: &request, current: call.timerState.timer)
        call.dialog = dialog
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
