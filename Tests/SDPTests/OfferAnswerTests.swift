import SDP
import Testing

@Suite struct OfferTests {
    static let local = AudioCapabilities(address: ipv4Host, port: 40000)

    @Test func defaultOfferIsExactly() {
        let offer = OfferAnswer.makeOffer(Self.local, sessionID: 42, sessionVersion: 1)
        #expect(
            offer.serialize()
                == crlf(
                    """
                    v=0
                    o=- 42 1 IN IP4 192.0.2.10
                    s=-
                    c=IN IP4 192.0.2.10
                    t=0 0
                    m=audio 40000 RTP/AVP 0 8 101
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:101 telephone-event/8000
                    a=fmtp:101 0-16
                    a=ptime:20
                    a=sendrecv
                    """))
    }

    @Test func offerFollowsPreferenceAndOptions() throws {
        var local = Self.local
        local.address = try #require(HostAddress("2001:db8::10"))
        local.codecs = [.pcma, .pcmu]
        local.telephoneEvent = TelephoneEvent(payloadType: 96, events: "0-15")
        local.ptime = 30
        local.maxptime = 60
        local.direction = .sendonly
        local.rtcpPort = 40005
        local.rtcpMux = true
        local.username = "earshot"
        local.sessionName = "test call"
        let offer = OfferAnswer.makeOffer(local, sessionID: 7, sessionVersion: 9)
        #expect(
            offer.serialize()
                == crlf(
                    """
                    v=0
                    o=earshot 7 9 IN IP6 2001:db8::10
                    s=test call
                    c=IN IP6 2001:db8::10
                    t=0 0
                    m=audio 40000 RTP/AVP 8 0 96
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:0 PCMU/8000
                    a=rtpmap:96 telephone-event/8000
                    a=fmtp:96 0-15
                    a=ptime:30
                    a=maxptime:60
                    a=rtcp:40005
                    a=rtcp-mux
                    a=sendonly
                    """))
        #expect(try parse(offer.serialize()) == offer)
    }

    @Test func rtcpAttributeOnlyWhenNotPortPlusOne() {
        var local = Self.local
        local.rtcpPort = 40001
        #expect(OfferAnswer.makeOffer(local, sessionID: 1, sessionVersion: 1).media[0].rtcp == nil)
    }

    @Test func noTelephoneEvent() {
        var local = Self.local
        local.telephoneEvent = nil
        let offer = OfferAnswer.makeOffer(local, sessionID: 1, sessionVersion: 1)
        #expect(offer.media[0].formats == ["0", "8"])
        #expect(offer.media[0].rtpMaps.count == 2)
        #expect(offer.media[0].formatParameters(for: "101") == nil)
    }
}

@Suite struct AnswerTests {
    static let local = AudioCapabilities(address: ipv4Host, port: 40000)

    static func offer(
        _ mLines: String, connection: String = "c=IN IP4 198.51.100.7", session: String = ""
    ) throws -> SessionDescription {
        try parse(crlf("v=0\no=peer 100 1 IN IP4 198.51.100.7\ns=-\n\(connection)\nt=0 0\n\(session)\(mLines)"))
    }

    static func answer(_ offer: SessionDescription, local: AudioCapabilities = local) -> AudioAnswer {
        OfferAnswer.makeAnswer(to: offer, local: local, sessionID: 500, sessionVersion: 1)
    }

    @Test func typicalOfferIsAnsweredExactly() throws {
        let offer = try Self.offer(
            "m=audio 30000 RTP/AVP 8 0 96\na=rtpmap:8 PCMA/8000\na=rtpmap:0 PCMU/8000\na=rtpmap:96 telephone-event/8000\na=fmtp:96 0-15\na=ptime:30")
        let answer = Self.answer(offer)
        #expect(
            answer.sdp.serialize()
                == crlf(
                    """
                    v=0
                    o=- 500 1 IN IP4 192.0.2.10
                    s=-
                    c=IN IP4 192.0.2.10
                    t=0 0
                    m=audio 40000 RTP/AVP 8 96
                    a=rtpmap:8 PCMA/8000
                    a=rtpmap:96 telephone-event/8000
                    a=fmtp:96 0-16
                    a=ptime:20
                    a=sendrecv
                    """))
        let audio = try #require(answer.outcome.audio)
        #expect(answer.outcome == .active(audio))
        #expect(
            audio
                == NegotiatedAudio(
                    mediaIndex: 0, remoteAddress: .ipv4(.init(0xC633_6407)), remotePort: 30000,
                    remoteRTCPAddress: .ipv4(.init(0xC633_6407)), remoteRTCPPort: 30001, rtcpMux: false,
                    payloadType: 8, codec: .pcma, clockRate: 8000, ptime: 30, direction: .sendrecv,
                    telephoneEventPayloadType: 96))
    }

    @Test func staticPayloadTypesNeedNoRtpmap() throws {
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 8 0"))
        #expect(answer.outcome.audio?.codec == .pcma)
        #expect(answer.outcome.audio?.payloadType == 8)
        #expect(answer.outcome.audio?.ptime == 20)  // no a=ptime in the offer
        #expect(answer.outcome.audio?.telephoneEventPayloadType == nil)
        #expect(mLines(answer.sdp) == ["audio 40000 RTP/AVP 8"])
    }

    @Test func rtpmapNamesAreCaseInsensitiveAndDynamicNumbersAreKept() throws {
        let offer = try Self.offer("m=audio 30000 RTP/AVP 97 98\na=rtpmap:97 pcmu/8000\na=rtpmap:98 Telephone-Event/8000")
        let answer = Self.answer(offer)
        #expect(mLines(answer.sdp) == ["audio 40000 RTP/AVP 97 98"])
        #expect(answer.outcome.audio?.codec == .pcmu)
        #expect(answer.outcome.audio?.payloadType == 97)
        #expect(answer.outcome.audio?.telephoneEventPayloadType == 98)
    }

    @Test func rtpmapMustAgreeOnClockRateAndName() throws {
        // PCMU at 16 kHz is not our PCMU, an rtpmap renaming PT 0 wins over the static table,
        // and a telephone-event at another clock rate than the codec is not usable.
        let offer = try Self.offer(
            "m=audio 30000 RTP/AVP 96 0 8 101\na=rtpmap:96 PCMU/16000\na=rtpmap:0 G722/8000\na=rtpmap:101 telephone-event/48000")
        let answer = Self.answer(offer)
        #expect(answer.outcome.audio?.payloadType == 8)
        #expect(answer.outcome.audio?.telephoneEventPayloadType == nil)
        #expect(mLines(answer.sdp) == ["audio 40000 RTP/AVP 8"])
    }

    @Test func answererHonoursOfferersPreferenceNotOurs() throws {
        var local = Self.local
        local.codecs = [.pcma, .pcmu]
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0 8"), local: local)
        #expect(answer.outcome.audio?.codec == .pcmu)
    }

    @Test func onlyCodecsWeHaveAreAccepted() throws {
        var local = Self.local
        local.codecs = [.pcma]
        local.telephoneEvent = nil
        let answer = Self.answer(
            try Self.offer("m=audio 30000 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000"), local: local)
        #expect(mLines(answer.sdp) == ["audio 40000 RTP/AVP 8"])
        #expect(answer.outcome.audio?.telephoneEventPayloadType == nil)
    }

    @Test func onlyG729IsRejectedWithPortZero() throws {
        let offer = try Self.offer("m=audio 30000 RTP/AVP 18\na=rtpmap:18 G729/8000\na=fmtp:18 annexb=no")
        let answer = Self.answer(offer)
        #expect(answer.outcome == .rejected(.noCommonCodec))
        #expect(
            answer.sdp.serialize()
                == crlf("v=0\no=- 500 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 0 RTP/AVP 18"))
    }

    @Test func audioAndVideoVideoRejected() throws {
        let offer = try Self.offer(
            "m=audio 30000 RTP/AVP 0\nm=video 30002 RTP/AVP 31 34\na=rtpmap:31 H261/90000\na=rtpmap:34 H263/90000")
        let answer = Self.answer(offer)
        #expect(mLines(answer.sdp) == ["audio 40000 RTP/AVP 0", "video 0 RTP/AVP 31"])
        #expect(answer.sdp.media[1].attributes.isEmpty)
        #expect(answer.outcome.audio?.mediaIndex == 0)
    }

    @Test func acceptedLineEchoesTheOfferedMediaTypeSpelling() throws {
        // Found by FuzzSDP: "m=Audio" was accepted (media types compare case-insensitively)
        // but answered "m=audio", while a rejected line keeps the offer's spelling.
        let answer = Self.answer(try Self.offer("m=Audio 30000 RTP/AVP 0\nm=AUDIO 30002 RTP/AVP 8"))
        #expect(mLines(answer.sdp) == ["Audio 40000 RTP/AVP 0", "AUDIO 0 RTP/AVP 8"])
        #expect(answer.outcome.audio?.mediaIndex == 0)
    }

    @Test func videoFirstKeepsNumberAndOrderOfLines() throws {
        let offer = try Self.offer(
            "m=video 30002 RTP/AVP 31\nm=audio 30000 RTP/AVP 0\nm=audio 30004 RTP/AVP 8\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel")
        let answer = Self.answer(offer)
        #expect(
            mLines(answer.sdp) == [
                "video 0 RTP/AVP 31", "audio 40000 RTP/AVP 0", "audio 0 RTP/AVP 8",
                "application 0 UDP/DTLS/SCTP webrtc-datachannel",
            ])
        #expect(answer.outcome.audio?.mediaIndex == 1)
    }

    @Test func disabledOfferedStreamStaysDisabled() throws {
        let answer = Self.answer(try Self.offer("m=audio 0 RTP/AVP 0\nm=audio 30000 RTP/AVP 8"))
        #expect(mLines(answer.sdp) == ["audio 0 RTP/AVP 0", "audio 40000 RTP/AVP 8"])
        #expect(answer.outcome.audio?.mediaIndex == 1)
    }

    @Test func srtpIsRejected() throws {
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x"))
        #expect(answer.outcome == .rejected(.unsupportedTransport))
        #expect(mLines(answer.sdp) == ["audio 0 RTP/SAVP 0"])
    }

    @Test func mostTellingReasonWins() throws {
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/SAVP 0\nm=audio 30002 RTP/AVP 18"))
        #expect(answer.outcome == .rejected(.noCommonCodec))
    }

    @Test func noMediaAndNoAudio() throws {
        #expect(Self.answer(try Self.offer("")).outcome == .rejected(.noAudioStream))
        #expect(Self.answer(try Self.offer("")).sdp.media.isEmpty)
        #expect(Self.answer(try Self.offer("m=video 5000 RTP/AVP 31")).outcome == .rejected(.noAudioStream))
        #expect(Self.answer(try Self.offer("m=audio 0 RTP/AVP 0")).outcome == .rejected(.noAudioStream))
    }

    @Test func nonInternetConnectionIsUnusable() throws {
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0", connection: "c=TN RFC2543 +1-555"))
        #expect(answer.outcome == .rejected(.noUsableAddress))
        #expect(mLines(answer.sdp) == ["audio 0 RTP/AVP 0"])
    }

    @Test func ipv6Offer() throws {
        let offer = try Self.offer("m=audio 30000 RTP/AVP 0\na=rtcp:30011 IN IP6 2001:db8::99", connection: "c=IN IP6 2001:DB8::7")
        let audio = try #require(Self.answer(offer).outcome.audio)
        #expect(audio.remoteAddress == HostAddress("2001:db8::7"))
        #expect(audio.remoteAddress.description == "2001:db8::7")
        #expect(audio.remoteRTCPAddress == HostAddress("2001:db8::99"))
        #expect(audio.remoteRTCPPort == 30011)
    }

    @Test func ipv6AnswererWritesIP6() throws {
        var local = Self.local
        local.address = try #require(HostAddress("2001:db8::10"))
        let sdp = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0"), local: local).sdp
        #expect(sdp.origin.addressType == "IP6")
        #expect(sdp.connection == ConnectionInformation(addressType: "IP6", address: "2001:db8::10"))
    }

    @Test func mediaLevelConnectionOverridesSession() throws {
        let offer = try Self.offer("m=audio 30000 RTP/AVP 0\nc=IN IP4 203.0.113.5")
        #expect(Self.answer(offer).outcome.audio?.remoteAddress == HostAddress("203.0.113.5"))
        // Session-level c= only.
        #expect(Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0")).outcome.audio?.remoteAddress == HostAddress("198.51.100.7"))
        // Media-level c= only.
        let mediaOnly = try parse(
            crlf("v=0\no=p 1 1 IN IP4 198.51.100.7\ns=-\nt=0 0\nm=audio 30000 RTP/AVP 0\nc=IN IP4 203.0.113.6"))
        #expect(Self.answer(mediaOnly).outcome.audio?.remoteAddress == HostAddress("203.0.113.6"))
    }

    @Test func rtcpPortAndMux() throws {
        var audio = try #require(Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0\na=rtcp:31000")).outcome.audio)
        #expect(audio.remoteRTCPPort == 31000)
        #expect(audio.remoteRTCPAddress == HostAddress("198.51.100.7"))
        // rtcp-mux offered but not wanted by us: not agreed, RTCP on port + 1.
        audio = try #require(Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0\na=rtcp-mux")).outcome.audio)
        #expect(!audio.rtcpMux)
        #expect(audio.remoteRTCPPort == 30001)
        var local = Self.local
        local.rtcpMux = true
        let muxed = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0\na=rtcp:30001\na=rtcp-mux"), local: local)
        #expect(muxed.outcome.audio?.rtcpMux == true)
        #expect(muxed.outcome.audio?.remoteRTCPPort == 30000)
        #expect(muxed.sdp.media[0].rtcpMux)
        // RTP on 65535 and no a=rtcp: nowhere to send RTCP.
        #expect(Self.answer(try Self.offer("m=audio 65535 RTP/AVP 0")).outcome.audio?.remoteRTCPPort == nil)
    }

    // MARK: direction (RFC 3264 §6.1) and hold

    @Test(arguments: [
        // offered, our preference, answered
        (MediaDirection.sendrecv, MediaDirection.sendrecv, MediaDirection.sendrecv),
        (.sendonly, .sendrecv, .recvonly),
        (.recvonly, .sendrecv, .sendonly),
        (.inactive, .sendrecv, .inactive),
        (.sendrecv, .sendonly, .sendonly),
        (.sendrecv, .recvonly, .recvonly),
        (.sendrecv, .inactive, .inactive),
        (.sendonly, .sendonly, .inactive),
        (.recvonly, .recvonly, .inactive),
    ])
    func answerDirection(offered: MediaDirection, preference: MediaDirection, answered: MediaDirection) throws {
        var local = Self.local
        local.direction = preference
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0\na=\(offered.rawValue)"), local: local)
        #expect(answer.sdp.media[0].direction == answered)
        #expect(answer.outcome.audio?.direction == answered)
    }

    @Test func holdBySendonly() throws {
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0\na=sendonly"))
        let audio = try #require(answer.outcome.audio)
        #expect(answer.outcome == .held(audio))
        #expect(audio.direction == .recvonly)
    }

    @Test func holdByInactive() throws {
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0\na=inactive"))
        #expect(answer.outcome == .held(try #require(answer.outcome.audio)))
        #expect(answer.outcome.audio?.direction == .inactive)
        #expect(answer.sdp.media[0].direction == .inactive)
    }

    @Test func holdBySessionLevelSendonly() throws {
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0", session: "a=sendonly\n"))
        #expect(answer.outcome == .held(try #require(answer.outcome.audio)))
        #expect(answer.sdp.media[0].direction == .recvonly)
    }

    @Test func holdByZeroAddressRFC2543() throws {
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0", connection: "c=IN IP4 0.0.0.0"))
        let audio = try #require(answer.outcome.audio)
        #expect(answer.outcome == .held(audio))
        #expect(audio.remoteAddress.isUnspecified)
        #expect(audio.direction == .recvonly)  // nothing is sent to 0.0.0.0
        #expect(answer.sdp.media[0].direction == .sendrecv)  // attributes said sendrecv
    }

    @Test func remoteRecvonlyIsNotHold() throws {
        let answer = Self.answer(try Self.offer("m=audio 30000 RTP/AVP 0\na=recvonly"))
        #expect(answer.outcome == .active(try #require(answer.outcome.audio)))
        #expect(answer.outcome.audio?.direction == .sendonly)
    }

    @Test func answerTimeEqualsOffer() throws {
        let offer = try parse(
            crlf("v=0\no=p 1 1 IN IP4 198.51.100.7\ns=-\nc=IN IP4 198.51.100.7\nt=3724394400 3724398000\nm=audio 1 RTP/AVP 0"))
        #expect(Self.answer(offer).sdp.times == [TimeDescription(start: 3_724_394_400, stop: 3_724_398_000)])
    }
}

@Suite struct OffererTests {
    static let local = AudioCapabilities(address: ipv4Host, port: 40000)
    static let offer = OfferAnswer.makeOffer(local, sessionID: 42, sessionVersion: 1)

    static func answer(_ mLines: String, connection: String = "c=IN IP4 198.51.100.7") throws -> SessionDescription {
        try parse(crlf("v=0\no=peer 9 9 IN IP4 198.51.100.7\ns=-\n\(connection)\nt=0 0\n\(mLines)"))
    }

    @Test func processesTypicalAnswer() throws {
        let outcome = OfferAnswer.processAnswer(
            try Self.answer("m=audio 30000 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\na=ptime:30\na=sendrecv"),
            to: Self.offer)
        #expect(
            outcome
                == .active(
                    NegotiatedAudio(
                        mediaIndex: 0, remoteAddress: .ipv4(.init(0xC633_6407)), remotePort: 30000,
                        remoteRTCPAddress: .ipv4(.init(0xC633_6407)), remoteRTCPPort: 30001, rtcpMux: false,
                        payloadType: 8, codec: .pcma, clockRate: 8000, ptime: 30, direction: .sendrecv,
                        telephoneEventPayloadType: 101)))
    }

    @Test func firstCodecOfTheAnswerWins() throws {
        let outcome = OfferAnswer.processAnswer(try Self.answer("m=audio 30000 RTP/AVP 8 0"), to: Self.offer)
        #expect(outcome.audio?.codec == .pcma)
    }

    @Test func answerUsingAnotherNumberForOurCodec() throws {
        // The answer's number is what the peer expects in the RTP we send.
        let outcome = OfferAnswer.processAnswer(
            try Self.answer("m=audio 30000 RTP/AVP 99\na=rtpmap:99 PCMU/8000"), to: Self.offer)
        #expect(outcome.audio?.payloadType == 99)
        #expect(outcome.audio?.codec == .pcmu)
    }

    @Test func codecWeDidNotOfferIsNotAccepted() throws {
        var local = Self.local
        local.codecs = [.pcmu]
        let offer = OfferAnswer.makeOffer(local, sessionID: 1, sessionVersion: 1)
        #expect(OfferAnswer.processAnswer(try Self.answer("m=audio 30000 RTP/AVP 8"), to: offer) == .rejected(.noCommonCodec))
    }

    @Test func telephoneEventOnlyWhenBothListIt() throws {
        var local = Self.local
        local.telephoneEvent = nil
        let offer = OfferAnswer.makeOffer(local, sessionID: 1, sessionVersion: 1)
        let outcome = OfferAnswer.processAnswer(
            try Self.answer("m=audio 30000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000"), to: offer)
        #expect(outcome.audio?.telephoneEventPayloadType == nil)
    }

    @Test func declinedAndMismatched() throws {
        #expect(
            OfferAnswer.processAnswer(try Self.answer("m=audio 0 RTP/AVP 0"), to: Self.offer)
                == .rejected(.declinedByAnswerer))
        #expect(
            OfferAnswer.processAnswer(try Self.answer("m=audio 3000 RTP/AVP 0\nm=audio 0 RTP/AVP 0"), to: Self.offer)
                == .rejected(.answerMismatch))
        #expect(OfferAnswer.processAnswer(try Self.answer(""), to: Self.offer) == .rejected(.answerMismatch))
        #expect(
            OfferAnswer.processAnswer(try Self.answer("m=video 3000 RTP/AVP 31"), to: Self.offer)
                == .rejected(.answerMismatch))
        var noAudio = Self.offer
        noAudio.media = []
        #expect(OfferAnswer.processAnswer(try Self.answer(""), to: noAudio) == .rejected(.noAudioStream))
    }

    @Test func remoteHoldsUs() throws {
        let outcome = OfferAnswer.processAnswer(try Self.answer("m=audio 30000 RTP/AVP 0\na=sendonly"), to: Self.offer)
        #expect(outcome == .held(try #require(outcome.audio)))
        #expect(outcome.audio?.direction == .recvonly)
        let blackHole = OfferAnswer.processAnswer(
            try Self.answer("m=audio 9322 RTP/AVP 0", connection: "c=IN IP4 0.0.0.0"), to: Self.offer)
        #expect(blackHole == .held(try #require(blackHole.audio)))
        #expect(blackHole.audio?.direction == .recvonly)
    }

    @Test func weHoldTheRemote() throws {
        var local = Self.local
        local.direction = .sendonly
        let hold = OfferAnswer.makeOffer(local, revising: Self.offer)
        #expect(hold.origin.sessionVersion == 2)
        #expect(hold.media[0].direction == .sendonly)
        let outcome = OfferAnswer.processAnswer(try Self.answer("m=audio 30000 RTP/AVP 0\na=recvonly"), to: hold)
        #expect(outcome == .active(try #require(outcome.audio)))
        #expect(outcome.audio?.direction == .sendonly)
        // Resume.
        let resume = OfferAnswer.makeOffer(Self.local, revising: hold)
        #expect(resume.origin.sessionVersion == 3)
        #expect(resume.media == Self.offer.media)
    }

    @Test func answerDirectionLimitsOurs() throws {
        var local = Self.local
        local.direction = .recvonly
        let offer = OfferAnswer.makeOffer(local, sessionID: 1, sessionVersion: 1)
        // A peer answering sendrecv to our recvonly offer still gets nothing from us.
        let outcome = OfferAnswer.processAnswer(try Self.answer("m=audio 30000 RTP/AVP 0\na=sendrecv"), to: offer)
        #expect(outcome == .active(try #require(outcome.audio)))
        #expect(outcome.audio?.direction == .recvonly)
    }

    @Test func fullExchangeAgreesOnBothSides() throws {
        var bob = AudioCapabilities(address: try #require(HostAddress("2001:db8::b0b")), port: 50000)
        bob.codecs = [.pcma, .pcmu]
        bob.telephoneEvent = TelephoneEvent(payloadType: 110)
        bob.rtcpMux = true
        var alice = Self.local
        alice.rtcpMux = true
        let offer = OfferAnswer.makeOffer(alice, sessionID: 1, sessionVersion: 1)
        let answer = OfferAnswer.makeAnswer(to: try parse(offer.serialize()), local: bob, sessionID: 2, sessionVersion: 1)
        let atAlice = try #require(OfferAnswer.processAnswer(try parse(answer.sdp.serialize()), to: offer).audio)
        let atBob = try #require(answer.outcome.audio)
        #expect(atAlice.codec == .pcmu && atBob.codec == .pcmu)  // Alice's preference
        #expect(atAlice.payloadType == 0 && atBob.payloadType == 0)
        #expect(atAlice.telephoneEventPayloadType == 101 && atBob.telephoneEventPayloadType == 101)
        #expect(atAlice.remoteAddress == HostAddress("2001:db8::b0b") && atAlice.remotePort == 50000)
        #expect(atBob.remoteAddress == ipv4Host && atBob.remotePort == 40000)
        #expect(atAlice.rtcpMux && atBob.rtcpMux)
        #expect(atAlice.remoteRTCPPort == 50000 && atBob.remoteRTCPPort == 40000)
        #expect(atAlice.direction == .sendrecv && atBob.direction == .sendrecv)
    }
}

@Suite struct RevisionTests {
    static let local = AudioCapabilities(address: ipv4Host, port: 40000)

    @Test func unchangedKeepsVersionChangedIncrements() {
        let first = OfferAnswer.makeOffer(Self.local, sessionID: 42, sessionVersion: 7)
        // Session refresh: identical SDP, same version (RFC 3264 §8).
        let refresh = OfferAnswer.makeOffer(Self.local, revising: first)
        #expect(refresh == first)
        var moved = Self.local
        moved.port = 40002
        let changed = OfferAnswer.makeOffer(moved, revising: first)
        #expect(changed.origin == SessionOrigin(sessionID: 42, sessionVersion: 8, addressType: "IP4", address: "192.0.2.10"))
        #expect(changed.media[0].port == 40002)
    }

    @Test func originLineIsThePreviousOne() {
        var local = Self.local
        local.username = "first"
        let first = OfferAnswer.makeOffer(local, sessionID: 42, sessionVersion: 1)
        local.username = "second"
        local.address = .ipv4(.init(0xC000_0214))
        let next = OfferAnswer.makeOffer(local, revising: first)
        #expect(next.origin.username == "first")
        #expect(next.origin.address == "192.0.2.10")
        #expect(next.origin.sessionVersion == 2)
        #expect(next.connection?.address == "192.0.2.20")
    }

    @Test func reofferKeepsEveryPreviousMediaLine() throws {
        // We answered audio + video earlier (video rejected); a re-offer keeps both lines
        // in place (RFC 3264 §8.1) with the video still disabled.
        let remoteOffer = try parse(
            crlf(
                "v=0\no=p 1 1 IN IP4 198.51.100.7\ns=-\nc=IN IP4 198.51.100.7\nt=0 0\nm=video 3 RTP/AVP 31\nm=audio 4 RTP/AVP 0"))
        let ourAnswer = OfferAnswer.makeAnswer(to: remoteOffer, local: Self.local, sessionID: 9, sessionVersion: 1).sdp
        var hold = Self.local
        hold.direction = .sendonly
        let reoffer = OfferAnswer.makeOffer(hold, revising: ourAnswer)
        #expect(mLines(reoffer) == ["video 0 RTP/AVP 31", "audio 40000 RTP/AVP 0 8 101"])
        #expect(reoffer.origin.sessionVersion == 2)
    }

    @Test func versionWraps() {
        var previous = OfferAnswer.makeOffer(Self.local, sessionID: 1, sessionVersion: .max)
        previous.sessionName = "old"
        #expect(OfferAnswer.makeOffer(Self.local, revising: previous).origin.sessionVersion == 0)
    }

    @Test func answerRevision() throws {
        let offer = try parse(
            crlf("v=0\no=p 1 1 IN IP4 198.51.100.7\ns=-\nc=IN IP4 198.51.100.7\nt=0 0\nm=audio 4 RTP/AVP 0"))
        let first = OfferAnswer.makeAnswer(to: offer, local: Self.local, sessionID: 9, sessionVersion: 1).sdp
        let again = OfferAnswer.makeAnswer(to: offer, local: Self.local, revising: first)
        #expect(again.sdp == first)
        var held = offer
        held.media[0].attributes = [.direction(.sendonly)]
        let holdAnswer = OfferAnswer.makeAnswer(to: held, local: Self.local, revising: first)
        #expect(holdAnswer.sdp.origin.sessionVersion == 2)
        #expect(holdAnswer.sdp.media[0].direction == .recvonly)
        #expect(holdAnswer.outcome == .held(try #require(holdAnswer.outcome.audio)))
    }
}
