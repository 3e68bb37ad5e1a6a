/// What this end can do for one audio stream, and where it listens. Offers and answers are
/// built from it; identifiers and versions come from the caller (this module reads no
/// clock and draws no random numbers — DESIGN §1).
public struct AudioCapabilities: Hashable, Sendable {
    /// Where we receive RTP; written into `o=` and the session-level `c=`.
    public var address: HostAddress
    /// Our RTP port.
    public var port: UInt16
    /// Codecs in our order of preference (PCMU and PCMA).
    public var codecs: [AudioCodec]
    /// RFC 4733 events we send and receive; `nil` to neither offer nor accept them.
    public var telephoneEvent: TelephoneEvent?
    /// `a=ptime` we ask the peer to send with (RFC 8866 §6.4), in milliseconds.
    public var ptime: Int?
    /// `a=maxptime`, in milliseconds.
    public var maxptime: Int?
    /// What we want to do: `sendonly` to hold the peer, `inactive` to stop both ways.
    public var direction: MediaDirection
    /// Our RTCP port when it is not `port + 1`; written as `a=rtcp` (RFC 3605).
    public var rtcpPort: UInt16?
    /// Whether we offer / accept RTP and RTCP on one port (RFC 5761 `a=rtcp-mux`).
    public var rtcpMux: Bool
    /// `o=` username.
    public var username: String
    /// `s=` value.
    public var sessionName: String

    public init(
        address: HostAddress,
        port: UInt16,
        codecs: [AudioCodec] = [.pcmu, .pcma],
        telephoneEvent: TelephoneEvent? = TelephoneEvent(),
        ptime: Int? = 20,
        maxptime: Int? = nil,
        direction: MediaDirection = .sendrecv,
        rtcpPort: UInt16? = nil,
        rtcpMux: Bool = false,
        username: String = "-",
        sessionName: String = "-"
    ) {
        self.address = address
        self.port = port
        self.codecs = codecs
        self.telephoneEvent = telephoneEvent
        self.ptime = ptime
        self.maxptime = maxptime
        self.direction = direction
        self.rtcpPort = rtcpPort
        self.rtcpMux = rtcpMux
        self.username = username
        self.sessionName = sessionName
    }
}

/// The audio stream both ends agreed on, as the media engine needs it.
public struct NegotiatedAudio: Hashable, Sendable {
    /// Index of the `m=` line in the offer and the answer.
    public var mediaIndex: Int
    /// Where to send RTP: the media-level `c=` or else the session-level one. A domain
    /// name is returned as such; the caller resolves it.
    public var remoteAddress: HostAddress
    public var remotePort: UInt16
    /// Where to send RTCP: `a=rtcp` (RFC 3605) if present, else the RTP address.
    public var remoteRTCPAddress: HostAddress
    /// `a=rtcp`'s port, the RTP port with rtcp-mux, else RTP port + 1 (RFC 3550 §11);
    /// `nil` when the RTP port is 65535 and nothing says where RTCP goes.
    public var remoteRTCPPort: UInt16?
    /// Both sides agreed to RFC 5761 multiplexing.
    public var rtcpMux: Bool
    /// The payload type to put in the RTP we send (the number the peer listed).
    public var payloadType: UInt8
    public var codec: AudioCodec
    public var clockRate: Int
    /// The peer's `a=ptime`, or 20 ms (RFC 3551 §4.5's default for G.711 frames).
    public var ptime: Int
    /// Our side: `sends` — we send RTP; `receives` — we should expect RTP.
    public var direction: MediaDirection
    /// RFC 4733 events payload type, when both sides listed telephone-event.
    public var telephoneEventPayloadType: UInt8?

    public init(
        mediaIndex: Int, remoteAddress: HostAddress, remotePort: UInt16, remoteRTCPAddress: HostAddress,
        remoteRTCPPort: UInt16?, rtcpMux: Bool, payloadType: UInt8, codec: AudioCodec, clockRate: Int,
        ptime: Int, direction: MediaDirection, telephoneEventPayloadType: UInt8?
    ) {
        self.mediaIndex = mediaIndex
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.remoteRTCPAddress = remoteRTCPAddress
        self.remoteRTCPPort = remoteRTCPPort
        self.rtcpMux = rtcpMux
        self.payloadType = payloadType
        self.codec = codec
        self.clockRate = clockRate
        self.ptime = ptime
        self.direction = direction
        self.telephoneEventPayloadType = telephoneEventPayloadType
    }
}

/// The result of an offer/answer exchange for audio.
public enum AudioOutcome: Hashable, Sendable {
    /// Media flows as `direction` says.
    case active(NegotiatedAudio)
    /// We would send, but the peer will not receive: it marked the stream `sendonly` or
    /// `inactive` (RFC 3264 §8.4) or gave `c=0.0.0.0` / `::` (RFC 2543 hold). The stream
    /// stays negotiated; `direction` already has sending turned off.
    case held(NegotiatedAudio)
    /// No audio stream was agreed.
    case rejected(AudioRejection)

    /// The negotiated stream, active or held.
    public var audio: NegotiatedAudio? {
        switch self {
        case .active(let audio), .held(let audio): audio
        case .rejected: nil
        }
    }
}

/// Why no audio stream was agreed. Struct with static members, so reasons can be added.
public struct AudioRejection: Hashable, Sendable, CustomStringConvertible {
    private let reason: String
    private init(_ reason: String) { self.reason = reason }

    /// The offer has no `m=audio` line with a non-zero port.
    public static let noAudioStream = AudioRejection("no active audio stream offered")
    /// No offered payload type is a codec we support (RFC 3264 §6: answered with port 0).
    public static let noCommonCodec = AudioRejection("no common audio codec")
    /// The audio stream uses a transport we do not speak (`RTP/SAVP`, DTLS-SRTP, ...).
    public static let unsupportedTransport = AudioRejection("unsupported audio transport")
    /// The stream has no connection address we can send to (no `c=`, or not `IN IP4/IP6`).
    public static let noUsableAddress = AudioRejection("no usable connection address")
    /// The answerer set our audio stream's port to 0.
    public static let declinedByAnswerer = AudioRejection("audio declined by the answerer (port 0)")
    /// The answer breaks RFC 3264 §6: a different number of `m=` lines, or a different
    /// media type on our audio line.
    public static let answerMismatch = AudioRejection("answer does not match the offer (RFC 3264 §6)")

    public var description: String { reason }
}

/// An answer to send, and what it means for our media.
public struct AudioAnswer: Hashable, Sendable {
    public var sdp: SessionDescription
    public var outcome: AudioOutcome
}

/// RFC 3264 offer/answer for one audio stream with PCMU, PCMA and telephone-event.
public enum OfferAnswer {
    /// The transports we answer: plain RTP (AVPF without feedback is plain RTP to us).
    static let supportedTransports: Set<String> = ["RTP/AVP", "RTP/AVPF"]

    // MARK: offer

    /// RFC 3264 §5: an initial offer with one `m=audio` line listing `local.codecs` in
    /// preference order, then telephone-event.
    public static func makeOffer(_ local: AudioCapabilities, sessionID: UInt64, sessionVersion: UInt64) -> SessionDescription {
        var sdp = session(local, sessionID: sessionID, sessionVersion: sessionVersion)
        sdp.media = [offeredAudio(local)]
        return sdp
    }

    /// RFC 3264 §8: a re-offer (hold, resume, new port, session refresh). The `o=` line is
    /// the previous one with the version incremented — or unchanged when nothing else
    /// changed (§8: "If the version in the origin line does not increment, the SDP MUST
    /// be identical"). Every `m=` line of `previous` keeps its place (§8.1); the audio
    /// line is replaced by ours and the others stay disabled with port 0.
    public static func makeOffer(_ local: AudioCapabilities, revising previous: SessionDescription) -> SessionDescription {
        var sdp = session(local, sessionID: previous.origin.sessionID, sessionVersion: previous.origin.sessionVersion)
        let audio = offeredAudio(local)
        let audioIndex = previous.media.firstIndex(where: isActiveAudio) ?? previous.media.firstIndex(where: isAudio)
        sdp.media = previous.media.enumerated().map { index, media in
            index == audioIndex ? audio : disabled(media)
        }
        if audioIndex == nil { sdp.media.append(audio) }
        return sdp.revising(previous)
    }

    private static func offeredAudio(_ local: AudioCapabilities) -> MediaDescription {
        var used = Set(local.codecs.compactMap(\.staticPayloadType))
        if let te = local.telephoneEvent { used.insert(te.payloadType) }
        var nextDynamic: UInt8 = 96
        let formats: [(UInt8, AudioCodec)] = local.codecs.map { codec in
            if let pt = codec.staticPayloadType { return (pt, codec) }
            while used.contains(nextDynamic) { nextDynamic += 1 }
            used.insert(nextDynamic)
            return (nextDynamic, codec)
        }
        return audioMedia(
            local, proto: "RTP/AVP", formats: formats, telephoneEvent: local.telephoneEvent?.payloadType,
            direction: local.direction, rtcpMux: local.rtcpMux)
    }

    // MARK: answer

    /// RFC 3264 §6: answers every `m=` line of `offer`, in order. The first audio line we
    /// can serve is accepted with the first offered codec we support, under the offer's
    /// payload type numbers (§6.1), plus telephone-event when offered; every other line —
    /// video, a second audio stream, no common codec, SRTP — is rejected with port 0 and
    /// the same media type (§6), which is a valid answer, not an error.
    public static func makeAnswer(
        to offer: SessionDescription, local: AudioCapabilities, sessionID: UInt64, sessionVersion: UInt64
    ) -> AudioAnswer {
        var sdp = session(local, sessionID: sessionID, sessionVersion: sessionVersion)
        sdp.times = offer.times  // §6: "The "t=" line in the answer MUST equal that of the offer."
        var negotiated: NegotiatedAudio?
        var held = false
        var rejection: AudioRejection?

        for (index, media) in offer.media.enumerated() {
            guard negotiated == nil, media.port != 0, isAudio(media) else {
                sdp.media.append(disabled(media))
                continue
            }
            switch accept(media, at: index, of: offer, local: local) {
            case .accepted(let answer, let audio, let isHeld):
                sdp.media.append(answer)
                negotiated = audio
                held = isHeld
            case .refused(let reason):
                sdp.media.append(disabled(media))
                rejection = rejection.map { moreTelling($0, reason) } ?? reason
            }
        }
        let outcome: AudioOutcome =
            if let negotiated { held ? .held(negotiated) : .active(negotiated) } else {
                .rejected(rejection ?? .noAudioStream)
            }
        return AudioAnswer(sdp: sdp, outcome: outcome)
    }

    /// ``makeAnswer(to:local:sessionID:sessionVersion:)`` for a re-offer, keeping the `o=`
    /// line of our `previous` description and incrementing its version when the answer
    /// changed (RFC 3264 §8).
    public static func makeAnswer(
        to offer: SessionDescription, local: AudioCapabilities, revising previous: SessionDescription
    ) -> AudioAnswer {
        var answer = makeAnswer(
            to: offer, local: local, sessionID: previous.origin.sessionID,
            sessionVersion: previous.origin.sessionVersion)
        answer.sdp = answer.sdp.revising(previous)
        return answer
    }

    private enum Acceptance {
        case accepted(MediaDescription, NegotiatedAudio, held: Bool)
        case refused(AudioRejection)
    }

    private static func accept(
        _ media: MediaDescription, at index: Int, of offer: SessionDescription, local: AudioCapabilities
    ) -> Acceptance {
        guard supportedTransports.contains(media.proto.uppercased()) else { return .refused(.unsupportedTransport) }
        // §6.1: the first offered format we support, honouring the offerer's preference.
        guard
            let (pt, codec) = media.payloadTypes.lazy
                .compactMap({ pt in AudioCodec.identify(pt, in: media, among: local.codecs).map { (pt, $0) } })
                .first
        else { return .refused(.noCommonCodec) }
        guard let remote = offer.connection(of: media)?.host else { return .refused(.noUsableAddress) }
        let telephoneEvent =
            local.telephoneEvent == nil ? nil : TelephoneEvent.payloadType(in: media, clockRate: codec.clockRate)

        // §6.1: sendonly → recvonly, recvonly → sendonly, inactive → inactive, sendrecv →
        // our preference; i.e. what we want, limited to the mirror image of the offer.
        let offered = offer.direction(of: media)
        let direction = local.direction.intersection(offered.reversed)
        let rtcpMux = local.rtcpMux && media.rtcpMux
        var answer = audioMedia(
            local, proto: media.proto, formats: [(pt, codec)], telephoneEvent: telephoneEvent,
            direction: direction, rtcpMux: rtcpMux)
        // §6: the answer's line has the offer's media type; echo its spelling ("Audio") as we
        // echo the transport, so a peer comparing them byte by byte finds its own line.
        answer.media = media.media
        let (audio, held) = negotiated(
            index: index, remote: media, remoteHost: remote, remoteDirection: offered,
            ourDirection: direction, wantedToSend: local.direction.sends, payloadType: pt, codec: codec,
            telephoneEvent: telephoneEvent, rtcpMux: rtcpMux)
        return .accepted(answer, audio, held: held)
    }

    /// When several audio lines fail, report the reason that says most about the offer.
    private static func moreTelling(_ a: AudioRejection, _ b: AudioRejection) -> AudioRejection {
        let order: [AudioRejection] = [.noCommonCodec, .unsupportedTransport, .noUsableAddress]
        return (order.firstIndex(of: a) ?? order.count) <= (order.firstIndex(of: b) ?? order.count) ? a : b
    }

    // MARK: offerer side

    /// RFC 3264 §7: what the answer to our `offer` means for our audio stream (the first
    /// `m=audio` line with a non-zero port, the one ``makeOffer(_:sessionID:sessionVersion:)``
    /// writes). We send with the first payload type in the answer that names a codec we
    /// offered, using the answer's number for it.
    public static func processAnswer(_ answer: SessionDescription, to offer: SessionDescription) -> AudioOutcome {
        guard let index = offer.media.firstIndex(where: isActiveAudio) else { return .rejected(.noAudioStream) }
        guard answer.media.count == offer.media.count, isAudio(answer.media[index]) else {
            return .rejected(.answerMismatch)
        }
        let ours = offer.media[index]
        let theirs = answer.media[index]
        guard theirs.port != 0 else { return .rejected(.declinedByAnswerer) }
        let offeredCodecs = ours.payloadTypes.compactMap {
            AudioCodec.identify($0, in: ours, among: [.pcmu, .pcma])
        }
        guard
            let (pt, codec) = theirs.payloadTypes.lazy
                .compactMap({ pt in AudioCodec.identify(pt, in: theirs, among: offeredCodecs).map { (pt, $0) } })
                .first
        else { return .rejected(.noCommonCodec) }
        guard let remote = answer.connection(of: theirs)?.host else { return .rejected(.noUsableAddress) }
        let offeredTelephoneEvent = TelephoneEvent.payloadType(in: ours, clockRate: codec.clockRate) != nil
        let telephoneEvent =
            offeredTelephoneEvent ? TelephoneEvent.payloadType(in: theirs, clockRate: codec.clockRate) : nil
        let offered = offer.direction(of: ours)
        let answered = answer.direction(of: theirs)
        let (audio, held) = negotiated(
            index: index, remote: theirs, remoteHost: remote, remoteDirection: answered,
            ourDirection: offered.intersection(answered.reversed), wantedToSend: offered.sends, payloadType: pt,
            codec: codec, telephoneEvent: telephoneEvent, rtcpMux: ours.rtcpMux && theirs.rtcpMux)
        return held ? .held(audio) : .active(audio)
    }

    // MARK: shared

    private static func negotiated(
        index: Int, remote media: MediaDescription, remoteHost: HostAddress, remoteDirection: MediaDirection,
        ourDirection: MediaDirection, wantedToSend: Bool, payloadType: UInt8, codec: AudioCodec,
        telephoneEvent: UInt8?, rtcpMux: Bool
    ) -> (NegotiatedAudio, held: Bool) {
        // RFC 3264 §8.4 / RFC 2543: c=0.0.0.0 means "send me nothing".
        let blackHoled = remoteHost.isUnspecified
        let direction = MediaDirection(sends: ourDirection.sends && !blackHoled, receives: ourDirection.receives)
        let held = wantedToSend && (!remoteDirection.receives || blackHoled)
        let rtcp = media.rtcp
        let rtcpPort: UInt16? =
            rtcpMux ? media.port : rtcp?.port ?? (media.port == .max ? nil : media.port + 1)
        let audio = NegotiatedAudio(
            mediaIndex: index,
            remoteAddress: remoteHost,
            remotePort: media.port,
            remoteRTCPAddress: rtcpMux ? remoteHost : rtcp?.connection?.host ?? remoteHost,
            remoteRTCPPort: rtcpPort,
            rtcpMux: rtcpMux,
            payloadType: payloadType,
            codec: codec,
            clockRate: codec.clockRate,
            ptime: media.ptime ?? 20,
            direction: direction,
            telephoneEventPayloadType: telephoneEvent)
        return (audio, held)
    }

    private static func session(_ local: AudioCapabilities, sessionID: UInt64, sessionVersion: UInt64) -> SessionDescription {
        SessionDescription(
            origin: SessionOrigin(
                username: local.username, sessionID: sessionID, sessionVersion: sessionVersion, host: local.address),
            sessionName: local.sessionName,
            connection: ConnectionInformation(host: local.address))
    }

    /// Our `m=audio` section: rtpmap for every format (also the static ones, which many
    /// peers expect), telephone-event with its fmtp, ptime, maxptime, rtcp, rtcp-mux and
    /// an explicit direction.
    private static func audioMedia(
        _ local: AudioCapabilities, proto: String, formats: [(UInt8, AudioCodec)], telephoneEvent: UInt8?,
        direction: MediaDirection, rtcpMux: Bool
    ) -> MediaDescription {
        var media = MediaDescription(
            media: "audio", port: local.port, proto: proto,
            formats: formats.map { "\($0.0)" } + (telephoneEvent.map { ["\($0)"] } ?? []))
        for (pt, codec) in formats {
            media.attributes.append(
                .rtpmap(RTPMap(payloadType: pt, encodingName: codec.encodingName, clockRate: codec.clockRate)))
        }
        if let te = telephoneEvent, let events = local.telephoneEvent?.events {
            let clockRate = formats.first?.1.clockRate ?? 8000
            media.attributes.append(
                .rtpmap(RTPMap(payloadType: te, encodingName: TelephoneEvent.encodingName, clockRate: clockRate)))
            media.attributes.append(.fmtp(FormatParameters(format: "\(te)", parameters: events)))
        }
        if let ptime = local.ptime { media.attributes.append(.ptime(ptime)) }
        if let maxptime = local.maxptime { media.attributes.append(.maxptime(maxptime)) }
        if let rtcpPort = local.rtcpPort, local.port == .max || rtcpPort != local.port + 1 {
            media.attributes.append(.rtcp(RTCPAttribute(port: rtcpPort)))
        }
        if rtcpMux { media.attributes.append(.rtcpMux) }
        media.attributes.append(.direction(direction))
        return media
    }

    /// RFC 3264 §6 / §8.2: a rejected or removed stream — same media type and transport,
    /// port 0, the first format (RFC 8866 needs at least one), no attributes.
    private static func disabled(_ media: MediaDescription) -> MediaDescription {
        MediaDescription(media: media.media, port: 0, proto: media.proto, formats: Array(media.formats.prefix(1)))
    }

    private static func isAudio(_ media: MediaDescription) -> Bool { media.media.lowercased() == "audio" }
    private static func isActiveAudio(_ media: MediaDescription) -> Bool { isAudio(media) && media.port != 0 }
}

extension SessionDescription {
    /// RFC 3264 §8: this description as the next version of `previous` from the same end.
    /// The `o=` line is `previous`'s; the version is `previous + 1` when anything else
    /// differs and unchanged when nothing does (a session refresh re-offers identical SDP).
    /// The version wraps at 2⁶⁴.
    public func revising(_ previous: SessionDescription) -> SessionDescription {
        var next = self
        next.origin = previous.origin
        if next != previous { next.origin.sessionVersion = previous.origin.sessionVersion &+ 1 }
        return next
    }
}
