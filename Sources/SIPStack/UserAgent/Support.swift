import CEarshotNet
import Foundation
import MediaEngine
import RTPCore
import SDP
import SIPCore
import SIPTransaction

extension SIPDestination {
    /// The destination a SIP URI names (RFC 3263 reduced to what a test agent needs: an IP
    /// literal or `localhost`, the URI's port or the transport's default, `;transport=`).
    public init?(uri: SIPURI, defaultKind: SIPTransportKind = .udp) {
        var kind = defaultKind
        if let transport = uri.transport?.lowercased() {
            guard let parsed = SIPTransportKind(rawValue: transport) else { return nil }
            kind = parsed
        } else if uri.isSecure {
            kind = .tls
        }
        var host = uri.host.description
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.lowercased() == "localhost" { host = "127.0.0.1" }
        guard HostAddress(host) != nil else { return nil }
        self.init(host: host, port: uri.port ?? kind.defaultPort, kind: kind)
    }
}

extension SIPUserAgent {
    /// The local address the kernel would use toward `destination` (a connected UDP socket
    /// sends nothing; `getsockname` tells the source address the route picks). Falls back to
    /// the listener's host.
    func localAddress(toward destination: SIPDestination) -> String {
        if let listener = transport.boundListeners.first(where: { $0.kind == destination.kind }),
           listener.host != "0.0.0.0", listener.host != "::" {
            return listener.advertisedHost ?? listener.host
        }
        return Self.routeSource(toward: destination.host) ?? "127.0.0.1"
    }

    static func routeSource(toward host: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let result = buffer.withUnsafeMutableBufferPointer { earshot_route_source(host, $0.baseAddress, $0.count) }
        guard result == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Our Via/Contact for requests over `kind`: the listener's port and the address peers reach.
    func requestFactory(for kind: SIPTransportKind, localHost: String, user: String? = nil) -> RequestFactory {
        let listener = transport.boundListeners.first { $0.kind == kind } ?? transport.boundListeners.first
        let port = listener?.port
        let host = SIPHost(addressOrName: localHost)
        var contactURI = SIPURI(user: user ?? configuration.user, host: host, port: port)
        if kind != .udp { contactURI.parameters.set("transport", kind.rawValue) }
        return RequestFactory(
            transport: kind.viaToken, host: host, port: port,
            contact: SIPNameAddress(uri: .sip(contactURI)), version: SIPStackVersion.string,
            allow: Self.allowedMethods, supported: ["timer"])
    }

    /// Puts the call's ending, timings, media and ladder together.
    func report(for call: CallContext, ending: CallEnding, media: MediaReport?) -> CallReport {
        let answered = call.answeredAt
        let ended = call.endedAt ?? call.elapsed
        var problems: [String] = []
        var status = ending.isNormal ? "passed" : "failed"
        if ending.isNormal {
            if let received = media?.received {
                if received.statistics.packetsReceived == 0 {
                    problems.append("no RTP received (one-way audio)")
                    status = "failed"
                } else if received.audioOK == false {
                    problems.append("the far end's identifying tone was not heard continuously")
                    status = "degraded"
                }
            } else {
                problems.append("no media report")
                status = "failed"
            }
        }
        let firstRTP = media?.received.firstPacketMs
        let setup = CallReport.Setup(
            inviteTo180Ms: zip(call.inviteSentAt, call.ringingAt).map { ($1 - $0).milliseconds },
            inviteTo200Ms: zip(call.inviteSentAt, answered).map { ($1 - $0).milliseconds },
            answerToFirstRTPMs: firstRTP,
            authRoundTrips: call.authRoundTrips,
            sessionIntervalRetries: call.sessionIntervalRetries)
        // The last negotiated timer (nil once a refresh turned it off, or when none was).
        let sessionTimer = call.timerState.timer.map { timer in
            // `refresher` in the dialog's terms: the caller is the UAC.
            let weAreUAC = call.role == .caller
            return CallReport.SessionTimerReport(
                intervalS: Int(timer.seconds), refresher: timer.weAreRefresher == weAreUAC ? "uac" : "uas",
                weRefresh: timer.weAreRefresher, refreshMethod: call.timerState.refreshMethod.rawValue, refreshes: call.refreshes)
        }
        return CallReport(
            callID: call.callID, role: call.role.rawValue, localURI: call.localURI, remoteURI: call.remoteURI,
            transport: call.destination.kind.rawValue, status: status, ending: ending, setup: setup,
            plannedDurationS: call.plannedDuration?.secondsValue,
            actualDurationS: answered.map { (ended - $0).secondsValue },
            sessionTimer: sessionTimer, dtmfSent: call.dtmfSent, pinSent: call.pinSent,
            dtmfReceived: media.map { $0.received.dtmf },
            directions: .init(outbound: media?.remoteView, inbound: media?.received),
            media: media, problems: problems, ladder: call.ladder, inviteHeaders: call.invite?.headers ?? [])
    }

    /// The caller-side report (sets the URIs first).
    func finishedReport(_ call: CallContext, ending: CallEnding, session: MediaReport?, from: SIPNameAddress, to: SIPNameAddress) -> CallReport {
        call.localURI = from.uri.description
        call.remoteURI = to.uri.description
        return report(for: call, ending: ending, media: session)
    }
}

private func zip(_ a: Duration?, _ b: Duration?) -> (Duration, Duration)? {
    guard let a, let b else { return nil }
    return (a, b)
}

extension MediaEngine {
    /// Gives a session's ports back when the call never got to media.
    func release(_ session: MediaSession) async {
        _ = try? await stop(session)
    }
}

extension SessionDescription {
    /// Adds `a=name:value` to the first audio m= section (our own attributes, e.g. the tone).
    mutating func addMediaAttribute(_ name: String, _ value: String) {
        guard let index = media.firstIndex(where: { $0.media == "audio" }) else { return }
        media[index].attributes.append(Attribute(name: name, value: value))
    }

    /// The value of `a=name:value` on the first audio m= section, or the session level.
    func mediaAttribute(_ name: String) -> String? {
        if let audio = media.first(where: { $0.media == "audio" }), let value = audio.attribute(named: name)?.value { return value }
        return attributes.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    func serialized() -> String { serialize() }
}

/// Lenient reads for the user agent: a header that does not parse counts as absent (the
/// message was already accepted by the transport; a broken optional header must not end a call).
extension SIPHeaders {
    var callIDValue: String? { (try? callID) ?? nil }
    var sessionExpiresValue: SIPSessionExpires? { (try? sessionExpires) ?? nil }
    var minSEValue: UInt32? { (try? minSE) ?? nil }
    var allowValue: [SIPMethod]? { (try? allow) ?? nil }
    var expiresValue: UInt32? { (try? expires) ?? nil }
    var supportedValue: [String] { (try? supported) ?? [] }
    var wwwChallenges: [DigestChallenge] { (try? wwwAuthenticate) ?? [] }
    var proxyChallenges: [DigestChallenge] { (try? proxyAuthenticate) ?? [] }
    var cseqValue: SIPCSeq? { (try? cseq) ?? nil }
}
