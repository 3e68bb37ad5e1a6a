import Foundation
import MediaEngine
import NIOCore
import NIOPosix
import NIOSSL
import SIPCore
import SIPTransaction

/// What a user agent is and how it behaves. One value per agent; nothing here is global
/// (the RFC 3261 timers included).
public struct UserAgentConfiguration: Sendable {
    /// The listeners: UDP, TCP and TLS on chosen addresses (port 0 picks one).
    public var listeners: [SIPListenerConfiguration]
    /// User part of our From/Contact (`sip:<user>@<host>`).
    public var user: String
    /// Host written in From when no registration gives an address of record.
    public var domain: String?
    public var displayName: String?
    public var timers: TransactionTimers
    public var tlsServer: TLSConfiguration?
    public var tlsClient: TLSConfiguration
    /// RFC 4028 behaviour for calls we place and answer.
    public var sessionTimer: SessionTimerSettings
    /// Our identifying tone (the far end's audio check looks for it).
    public var toneFrequency: Int
    /// How long an answering agent rings before the 200 (0: answer at once).
    public var ringTime: Duration
    /// A status to answer every INVITE with instead of accepting it (tests of rejection).
    public var rejectWith: Int?
    /// The tone callers send when their SDP does not announce one (a=x-earshot-tone).
    public var expectedRemoteTone: Int?
    /// Largest SIP message accepted or sent (RFC 3261 §18.1.1 makes 65,535 the UDP maximum).
    public var maximumMessageSize: Int
    /// Bytes of a body kept in the ladder.
    public var ladderBodyLimit: Int
    /// RFC 3261 §18.1.2: drop responses whose Via sent-by is not one of our listeners. Off for
    /// a caller that dials TCP/TLS without a listener of that kind.
    public var checksResponseSentBy: Bool = true

    public init(
        listeners: [SIPListenerConfiguration],
        user: String = "earshot",
        domain: String? = nil,
        displayName: String? = nil,
        timers: TransactionTimers = .rfc3261,
        tlsServer: TLSConfiguration? = nil,
        tlsClient: TLSConfiguration = .makeClientConfiguration(),
        sessionTimer: SessionTimerSettings = SessionTimerSettings(),
        toneFrequency: Int = 1750,
        ringTime: Duration = .zero,
        rejectWith: Int? = nil,
        expectedRemoteTone: Int? = nil,
        maximumMessageSize: Int = 65_535,
        ladderBodyLimit: Int = 512
    ) {
        self.listeners = listeners
        self.user = user
        self.domain = domain
        self.displayName = displayName
        self.timers = timers
        self.tlsServer = tlsServer
        self.tlsClient = tlsClient
        self.sessionTimer = sessionTimer
        self.toneFrequency = toneFrequency
        self.ringTime = ringTime
        self.rejectWith = rejectWith
        self.expectedRemoteTone = expectedRemoteTone
        self.maximumMessageSize = maximumMessageSize
        self.ladderBodyLimit = ladderBodyLimit
    }
}

/// RFC 4028 settings: the interval we ask for (nil: we do not ask, but still support timers
/// and honour a peer's request) and the smallest we accept.
public struct SessionTimerSettings: Sendable, Hashable {
    public var sessionExpires: Int?
    public var minSE: Int
    public init(sessionExpires: Int? = nil, minSE: Int = 90) {
        self.sessionExpires = sessionExpires
        self.minSE = minSE
    }
}

/// Counters of what the user agent saw that it could not use.
public struct UserAgentCounters: Sendable, Hashable, Encodable {
    public var malformedRequests = 0
    public var strayResponses = 0
    public var requestsOutsideDialog = 0
    enum CodingKeys: String, CodingKey {
        case malformedRequests = "malformed_requests", strayResponses = "stray_responses"
        case requestsOutsideDialog = "requests_outside_dialog"
    }
}

/// A SIP user agent (RFC 3261 §8, §12–§15) with RTP media: places and answers calls, registers,
/// answers OPTIONS, refreshes sessions (RFC 4028). All of its state lives in this actor; the
/// transport hands messages over through an ordered stream, so messages are handled in
/// arrival order.
public actor SIPUserAgent {
    public let configuration: UserAgentConfiguration
    let transport: SIPTransportLayer
    let media: MediaEngine
    private let ownsGroup: Bool
    private let group: any EventLoopGroup
    private var inbox: AsyncStream<SIPIncoming>.Continuation?
    private var inboxTask: Task<Void, Never>?

    var clientTransactions: [TransactionKey: ClientEntry] = [:]
    var serverTransactions: [TransactionKey: ServerEntry] = [:]
    /// Calls by Call-ID (one dialog per call: we never fork).
    var calls: [String: CallContext] = [:]
    var registrations: [String: RegistrationState] = [:]
    var counters = UserAgentCounters()
    var random = SystemRandomNumberGenerator()
    var nonceCounter = DigestNonceCounter()
    /// Called when an answered call ends (the `answer` command prints its report).
    var onIncomingCallEnded: (@Sendable (CallReport) -> Void)?
    /// Chooses per-call answer settings for a new INVITE (`setIncomingCallPolicy`).
    var incomingCallPolicy: (@Sendable (IncomingCallInfo) async -> IncomingCallSettings)?

    public init(configuration: UserAgentConfiguration, media: MediaEngine, group: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        self.media = media
        self.ownsGroup = group == nil
        let group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        self.transport = SIPTransportLayer(
            configuration: SIPTransportConfiguration(
                listeners: configuration.listeners,
                tlsServer: configuration.tlsServer,
                tlsClient: configuration.tlsClient,
                maximumMessageSize: configuration.maximumMessageSize,
                // A caller over TCP/TLS without a listener of that kind (no certificate of its
                // own) gets its responses on the connection it opened; their Via cannot name a
                // listener, so the sent-by check (§18.1.2) is off for it.
                checksResponseSentBy: configuration.checksResponseSentBy
            ),
            group: group
        )
    }

    /// Binds the listeners and starts handling messages.
    public func start() async throws(SIPTransportError) {
        let (stream, continuation) = AsyncStream<SIPIncoming>.makeStream()
        inbox = continuation
        transport.onMessage = { incoming in continuation.yield(incoming) }
        try await transport.start()
        inboxTask = Task { [weak self] in
            for await incoming in stream {
                await self?.dispatch(incoming)
            }
        }
    }

    /// Unregisters (when registered), ends calls, stops listening.
    public func shutdown() async {
        for aor in registrations.keys.sorted() {
            _ = await unregister(aor: aor)
        }
        for callID in calls.keys.sorted() {
            calls[callID]?.events.yield(.shutdown)
        }
        try? await Task.sleep(for: .milliseconds(200))
        inbox?.finish()
        await transport.stop()
        inboxTask?.cancel()
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    public var boundListeners: [SIPBoundListener] { transport.boundListeners }
    public var transportCounters: SIPTransportCounters { transport.counters }
    public var userAgentCounters: UserAgentCounters { counters }

    public func setIncomingCallHandler(_ handler: @escaping @Sendable (CallReport) -> Void) {
        onIncomingCallEnded = handler
    }

    // MARK: dispatch

    private func dispatch(_ incoming: SIPIncoming) async {
        record(incoming.message, direction: .received, kind: incoming.kind,
               remote: "\(incoming.sourceHost):\(incoming.sourcePort)")
        switch incoming.message {
        case .request(let request):
            await serverReceived(request, incoming: incoming)
        case .response(let response):
            await clientReceived(response, incoming: incoming)
        }
    }

    /// A request passed up by a server transaction (or an ACK for a 2xx, `transaction` nil).
    func handleRequest(_ request: SIPRequest, transaction: TransactionKey?, incoming: SIPIncoming) async {
        let callID = request.headers.callIDValue ?? ""
        if let call = calls[callID] {
            call.events.yield(.request(request, transaction, incoming))
            return
        }
        guard let transaction else { return }  // an ACK for nothing we know
        switch request.method {
        case .invite:
            if (try? request.headers.to)??.tag != nil {
                // A re-INVITE for a dialog we do not have (§12.2.2).
                await reply(request, on: transaction, status: 481)
            } else {
                startIncomingCall(request, transaction: transaction, incoming: incoming)
            }
        case .options:
            await answerOptions(request, on: transaction)
        case .bye, .update, .info:
            counters.requestsOutsideDialog += 1
            await reply(request, on: transaction, status: 481)
        case .register:
            await reply(request, on: transaction, status: 405)
        default:
            await reply(request, on: transaction, status: 501)
        }
    }

    func handleCancel(_ cancel: SIPRequest, cancelling target: TransactionKey, incoming: SIPIncoming) async {
        // §9.2: 200 to the CANCEL (its own transaction), then 487 to the INVITE if unanswered.
        if let response = try? SIPResponse(answering: cancel, statusCode: serverTransactions[target] == nil ? 481 : 200, toTag: randomTag()) {
            try? await sendResponse(response, replyingTo: incoming)
        }
        guard let entry = serverTransactions[target], entry.transaction.finalResponse == nil else { return }
        let callID = entry.transaction.request.headers.callIDValue ?? ""
        calls[callID]?.events.yield(.cancelled(cancel))
    }

    func serverTransactionTimedOut(_ request: SIPRequest) async {
        if let callID = request.headers.callIDValue { calls[callID]?.events.yield(.ackTimeout) }
    }

    func strayResponse(_ response: SIPResponse) async {
        if let callID = response.headers.callIDValue, let call = calls[callID] {
            call.events.yield(.strayResponse(response))
        } else {
            counters.strayResponses += 1
        }
    }

    // MARK: sending, with the ladder

    func sendRequest(_ request: SIPRequest, to destination: SIPDestination) async throws(SIPTransportError) {
        record(.request(request), direction: .sent, kind: destination.kind, remote: "\(destination.host):\(destination.port)")
        try await transport.send(request, to: destination)
    }

    func sendResponse(_ response: SIPResponse, replyingTo incoming: SIPIncoming) async throws(SIPTransportError) {
        record(.response(response), direction: .sent, kind: incoming.kind, remote: "\(incoming.sourceHost):\(incoming.sourcePort)")
        try await transport.send(response, replyingTo: incoming)
    }

    func reply(_ request: SIPRequest, on key: TransactionKey, status: Int, headers: SIPHeaders = []) async {
        guard let response = try? SIPResponse(answering: request, statusCode: status, toTag: randomTag(), headers: headers) else { return }
        await respond(response, on: key)
    }

    /// Every message in and out of a call lands in that call's ladder (by Call-ID).
    func record(_ message: SIPMessage, direction: SIPLadder.Direction, kind: SIPTransportKind, remote: String) {
        let callID = message.headers.callIDValue ?? ""
        let now = ContinuousClock.now
        if let call = calls[callID] {
            call.ladder.record(message, direction: direction, at: now - call.startedAt, transport: kind.viaToken, remote: remote)
        }
    }

    // MARK: identifiers

    func randomTag() -> String { String(random.next() & 0xffff_ffff_ffff, radix: 16) }
    func randomBranch() -> String { SIPVia.magicCookie + String(random.next(), radix: 36) }
    func randomCallID() -> String { String(random.next(), radix: 36) + String(random.next(), radix: 36) }
}
