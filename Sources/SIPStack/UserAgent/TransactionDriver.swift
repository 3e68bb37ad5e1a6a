import SIPCore
import SIPTransaction

/// How a client transaction ended, as the transaction user sees it (RFC 3261 §8.1.3).
enum ClientOutcome: Sendable {
    case final(SIPResponse)
    /// Timer B or F fired: treated as a 408 by the TU (§8.1.3.1).
    case timedOut
    /// The transport could not deliver the request (§8.1.3.1, §17.1.4).
    case transportFailed(String)
}

/// The transaction layer's state inside the user agent's actor: the pure transactions of
/// `SIPTransaction`, their running timers, and who waits for them. Timers are tasks that sleep
/// and then call back into the actor; a timer that fires after its transaction ended is ignored.
/// The running timers of one transaction: a task per timer that sleeps, then calls back.
struct TransactionTimerTasks {
    private var tasks: [TransactionTimer: Task<Void, Never>] = [:]

    /// Starts (or restarts) `timer`; `fire` runs after `delay` unless cancelled first.
    mutating func start(_ timer: TransactionTimer, after delay: Duration, fire: @escaping @Sendable () async -> Void) {
        tasks[timer]?.cancel()
        tasks[timer] = Task {
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            await fire()
        }
    }

    mutating func cancel(_ timer: TransactionTimer) {
        tasks.removeValue(forKey: timer)?.cancel()
    }

    /// A timer that fired: true when it was still running (a cancelled one is ignored).
    mutating func fired(_ timer: TransactionTimer) -> Bool {
        tasks.removeValue(forKey: timer) != nil
    }

    mutating func cancelAll() {
        tasks.values.forEach { $0.cancel() }
        tasks.removeAll()
    }
}

struct ClientEntry {
    var transaction: ClientTransaction
    var destination: SIPDestination
    var timers = TransactionTimerTasks()
    /// Every response the transaction passes up (provisional, final, retransmitted 2xx).
    var onResponse: @Sendable (SIPResponse) async -> Void
    var continuation: CheckedContinuation<ClientOutcome, Never>?
}

struct ServerEntry {
    var transaction: ServerTransaction
    var incoming: SIPIncoming
    var timers = TransactionTimerTasks()
}

extension SIPUserAgent {
    // MARK: client transactions

    /// Sends `request` through a new client transaction and returns its final outcome.
    /// `onResponse` sees every response passed up, in order (provisionals, the final one, and
    /// for an INVITE every retransmitted 2xx — the TU ACKs each, RFC 6026 §8.4).
    func runClientTransaction(
        _ request: SIPRequest, to destination: SIPDestination,
        onResponse: @escaping @Sendable (SIPResponse) async -> Void = { _ in }
    ) async -> ClientOutcome {
        let transaction: ClientTransaction
        do {
            transaction = try ClientTransaction(request: request, reliable: destination.kind.isReliable, timers: configuration.timers)
        } catch {
            return .transportFailed("cannot start a transaction: \(error)")
        }
        let key = transaction.key
        return await withCheckedContinuation { continuation in
            clientTransactions[key] = ClientEntry(
                transaction: transaction, destination: destination, onResponse: onResponse, continuation: continuation)
            Task { await self.clientStart(key) }
        }
    }

    private func clientStart(_ key: TransactionKey) async {
        guard var entry = clientTransactions[key] else { return }
        let actions = entry.transaction.start()
        clientTransactions[key] = entry
        await executeClient(actions, key: key)
    }

    func clientReceived(_ response: SIPResponse, incoming: SIPIncoming) async {
        guard let key = TransactionKey(clientResponse: response), var entry = clientTransactions[key] else {
            // A 2xx retransmission after the INVITE transaction is gone, or a stray: the
            // dialog layer may still want it (re-ACK, RFC 3261 §13.2.2.4).
            await strayResponse(response)
            return
        }
        let actions = entry.transaction.receive(response)
        clientTransactions[key] = entry
        await executeClient(actions, key: key)
    }

    private func clientTimerFired(_ key: TransactionKey, _ timer: TransactionTimer) async {
        guard var entry = clientTransactions[key], entry.timers.fired(timer) else { return }
        let actions = entry.transaction.timerFired(timer)
        clientTransactions[key] = entry
        await executeClient(actions, key: key)
    }

    private func executeClient(_ actions: [TransactionAction], key: TransactionKey) async {
        for action in actions {
            guard var entry = clientTransactions[key] else { return }
            switch action {
            case .send(let message):
                guard case .request(let request) = message else { continue }
                do {
                    try await sendRequest(request, to: entry.destination)
                } catch {
                    guard var failed = clientTransactions[key] else { return }
                    let more = failed.transaction.transportError()
                    clientTransactions[key] = failed
                    failed.continuation?.resume(returning: .transportFailed(error.description))
                    clientTransactions[key]?.continuation = nil
                    await executeClient(more.filter { if case .transportFailed = $0 { false } else { true } }, key: key)
                    return
                }
            case .startTimer(let timer, let duration):
                entry.timers.start(timer, after: duration) { [weak self] in await self?.clientTimerFired(key, timer) }
                clientTransactions[key] = entry
            case .cancelTimer(let timer):
                entry.timers.cancel(timer)
                clientTransactions[key] = entry
            case .deliverResponse(let response):
                let handler = entry.onResponse
                if response.statusCode >= 200, let continuation = entry.continuation {
                    entry.continuation = nil
                    clientTransactions[key] = entry
                    await handler(response)
                    continuation.resume(returning: .final(response))
                } else if response.statusCode >= 200 {
                    // A retransmitted 2xx in the RFC 6026 Accepted state: the dialog re-ACKs it
                    // (§13.2.2.4), like one arriving after the transaction ended.
                    await strayResponse(response)
                } else {
                    await handler(response)
                }
            case .deliverRequest:
                continue
            case .timedOut:
                entry.continuation?.resume(returning: .timedOut)
                entry.continuation = nil
                clientTransactions[key] = entry
            case .transportFailed:
                entry.continuation?.resume(returning: .transportFailed("transport error"))
                entry.continuation = nil
                clientTransactions[key] = entry
            case .terminated:
                entry.timers.cancelAll()
                entry.continuation?.resume(returning: .timedOut)
                clientTransactions[key] = nil
            }
        }
    }

    // MARK: server transactions

    /// A request from the transport: a retransmission or ACK goes to its transaction; a new
    /// request creates one (§17.2.3); an ACK that matches none goes to the dialog (an ACK for a
    /// 2xx, §17.2.3 / §13.3.1.4).
    func serverReceived(_ request: SIPRequest, incoming: SIPIncoming) async {
        if let key = TransactionKey(serverRequest: request), var entry = serverTransactions[key] {
            let actions = entry.transaction.receive(request)
            serverTransactions[key] = entry
            await executeServer(actions, key: key)
            return
        }
        if request.method == .ack {
            await handleRequest(request, transaction: nil, incoming: incoming)
            return
        }
        if request.method == .cancel, let target = TransactionKey(cancelled: request) {
            await handleCancel(request, cancelling: target, incoming: incoming)
            return
        }
        let transaction: ServerTransaction
        do {
            transaction = try ServerTransaction(request: request, reliable: incoming.kind.isReliable, timers: configuration.timers)
        } catch {
            counters.malformedRequests += 1
            return
        }
        let key = transaction.key
        serverTransactions[key] = ServerEntry(transaction: transaction, incoming: incoming)
        guard var entry = serverTransactions[key] else { return }
        let actions = entry.transaction.start()
        serverTransactions[key] = entry
        await executeServer(actions, key: key)
    }

    /// The TU's response to a server transaction's request.
    func respond(_ response: SIPResponse, on key: TransactionKey) async {
        guard var entry = serverTransactions[key] else { return }
        let actions = entry.transaction.respond(response)
        serverTransactions[key] = entry
        await executeServer(actions, key: key)
    }

    private func serverTimerFired(_ key: TransactionKey, _ timer: TransactionTimer) async {
        guard var entry = serverTransactions[key], entry.timers.fired(timer) else { return }
        let actions = entry.transaction.timerFired(timer)
        serverTransactions[key] = entry
        await executeServer(actions, key: key)
    }

    private func executeServer(_ actions: [TransactionAction], key: TransactionKey) async {
        for action in actions {
            guard var entry = serverTransactions[key] else { return }
            switch action {
            case .send(let message):
                guard case .response(let response) = message else { continue }
                do {
                    try await sendResponse(response, replyingTo: entry.incoming)
                } catch {
                    guard var failed = serverTransactions[key] else { return }
                    let more = failed.transaction.transportError()
                    serverTransactions[key] = failed
                    await executeServer(more, key: key)
                    return
                }
            case .startTimer(let timer, let duration):
                entry.timers.start(timer, after: duration) { [weak self] in await self?.serverTimerFired(key, timer) }
                serverTransactions[key] = entry
            case .cancelTimer(let timer):
                entry.timers.cancel(timer)
                serverTransactions[key] = entry
            case .deliverRequest(let request):
                await handleRequest(request, transaction: key, incoming: entry.incoming)
            case .deliverResponse:
                continue
            case .timedOut:
                await serverTransactionTimedOut(entry.transaction.request)
            case .transportFailed:
                await serverTransactionTimedOut(entry.transaction.request)
            case .terminated:
                entry.timers.cancelAll()
                serverTransactions[key] = nil
            }
        }
    }
}
