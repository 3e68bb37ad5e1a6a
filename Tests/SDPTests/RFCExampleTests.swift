import SDP
import Testing

/// The offer/answer examples of RFC 3264 §10 and RFC 4317, reproduced. Every description
/// parses and round-trips; where the exchange involves audio, our engine plays one side
/// and must reach the result the RFC shows — except where the RFC's party supports a codec
/// or a second stream that Earshot deliberately does not (iLBC, G.723, video, a separate
/// telephone-event stream); those lines are answered with port 0 instead, as RFC 3264 §6
/// prescribes, and each test says so.
///
/// The RFCs write `s= ` with a single space (RFC 4317 §1); so do these copies.
@Suite struct RFC3264ExampleTests {
    // §10.1 Basic Exchange
    static let aliceOffer = crlf(
        """
        v=0
        o=alice 2890844526 2890844526 IN IP4 host.anywhere.com
        s=\u{20}
        c=IN IP4 host.anywhere.com
        t=0 0
        m=audio 49170 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=video 51372 RTP/AVP 31
        a=rtpmap:31 H261/90000
        m=video 53000 RTP/AVP 32
        a=rtpmap:32 MPV/90000
        """)
    static let bobAnswer = crlf(
        """
        v=0
        o=bob 2890844730 2890844730 IN IP4 host.example.com
        s=\u{20}
        c=IN IP4 host.example.com
        t=0 0
        m=audio 49920 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=video 0 RTP/AVP 31
        m=video 53000 RTP/AVP 32
        a=rtpmap:32 MPV/90000
        """)
    static let bobSecondOffer = crlf(
        """
        v=0
        o=bob 2890844730 2890844731 IN IP4 host.example.com
        s=\u{20}
        c=IN IP4 host.example.com
        t=0 0
        m=audio 65422 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=video 0 RTP/AVP 31
        m=video 53000 RTP/AVP 32
        a=rtpmap:32 MPV/90000
        m=audio 51434 RTP/AVP 110
        a=rtpmap:110 telephone-events/8000
        a=recvonly
        """)
    static let aliceSecondAnswer = crlf(
        """
        v=0
        o=alice 2890844526 2890844527 IN IP4 host.anywhere.com
        s=\u{20}
        c=IN IP4 host.anywhere.com
        t=0 0
        m=audio 49170 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=video 0 RTP/AVP 31
        a=rtpmap:31 H261/90000
        m=video 53000 RTP/AVP 32
        a=rtpmap:32 MPV/90000
        m=audio 53122 RTP/AVP 110
        a=rtpmap:110 telephone-events/8000
        a=sendonly
        """)

    // §10.2 One of N Codec Selection
    static let oneOfNOffer = crlf(
        """
        v=0
        o=alice 2890844526 2890844526 IN IP4 host.anywhere.com
        s=\u{20}
        c=IN IP4 host.anywhere.com
        t=0 0
        m=audio 62986 RTP/AVP 0 4 18
        a=rtpmap:0 PCMU/8000
        a=rtpmap:4 G723/8000
        a=rtpmap:18 G729/8000
        a=inactive
        """)
    static let oneOfNAnswer = crlf(
        """
        v=0
        o=bob 2890844730 2890844731 IN IP4 host.example.com
        s=\u{20}
        c=IN IP4 host.example.com
        t=0 0
        m=audio 54344 RTP/AVP 0 4
        a=rtpmap:0 PCMU/8000
        a=rtpmap:4 G723/8000
        a=inactive
        """)
    static let oneOfNSecondOffer = crlf(
        """
        v=0
        o=alice 2890844526 2890844527 IN IP4 host.anywhere.com
        s=\u{20}
        c=IN IP4 host.anywhere.com
        t=0 0
        m=audio 62986 RTP/AVP 4
        a=rtpmap:4 G723/8000
        a=sendrecv
        """)
    static let oneOfNSecondAnswer = crlf(
        """
        v=0
        o=bob 2890844730 2890844732 IN IP4 host.example.com
        s=\u{20}
        c=IN IP4 host.example.com
        t=0 0
        m=audio 54344 RTP/AVP 4
        a=rtpmap:4 G723/8000
        a=sendrecv
        """)

    static let all = [
        aliceOffer, bobAnswer, bobSecondOffer, aliceSecondAnswer, oneOfNOffer, oneOfNAnswer, oneOfNSecondOffer,
        oneOfNSecondAnswer,
    ]

    @Test(arguments: all)
    func parsesAndSerializesByteForByte(_ text: String) throws {
        #expect(try parse(text).serialize() == text)
        try expectRoundTrip(text)
    }

    /// Bob's side of §10.1 played by our answerer (audio only: both video streams are
    /// rejected, where the RFC's Bob accepted MPV).
    @Test func basicExchangeAsBob() throws {
        let bob = AudioCapabilities(
            address: .domainName("host.example.com"), port: 49920, codecs: [.pcmu], telephoneEvent: nil, ptime: nil,
            username: "bob", sessionName: " ")
        let answer = OfferAnswer.makeAnswer(
            to: try parse(Self.aliceOffer), local: bob, sessionID: 2_890_844_730, sessionVersion: 2_890_844_730)
        let rfc = try parse(Self.bobAnswer)
        #expect(answer.sdp.origin == rfc.origin)
        #expect(answer.sdp.sessionName == rfc.sessionName)
        #expect(answer.sdp.connection == rfc.connection)
        #expect(answer.sdp.times == rfc.times)
        #expect(mLines(answer.sdp) == ["audio 49920 RTP/AVP 0", "video 0 RTP/AVP 31", "video 0 RTP/AVP 32"])
        #expect(answer.sdp.media[0].rtpMaps == rfc.media[0].rtpMaps)
        #expect(answer.sdp.media[1] == rfc.media[1])  // the rejected H.261 line, exactly as in the RFC
        let audio = try #require(answer.outcome.audio)
        #expect(answer.outcome == .active(audio))
        #expect(audio.remoteAddress == .domainName("host.anywhere.com"))
        #expect(audio.remotePort == 49170)
        #expect(audio.remoteRTCPPort == 49171)
        #expect(audio.codec == .pcmu && audio.payloadType == 0)
    }

    /// Alice's side of §10.1: our offerer processes Bob's answer from the RFC.
    @Test func basicExchangeAsAlice() throws {
        let outcome = OfferAnswer.processAnswer(try parse(Self.bobAnswer), to: try parse(Self.aliceOffer))
        let audio = try #require(outcome.audio)
        #expect(outcome == .active(audio))
        #expect(audio.remoteAddress == .domainName("host.example.com"))
        #expect(audio.remotePort == 49920)
        #expect(audio.payloadType == 0 && audio.codec == .pcmu && audio.clockRate == 8000)
        #expect(audio.ptime == 20)
        #expect(audio.telephoneEventPayloadType == nil)
    }

    /// Bob's re-offer in §10.1 moves his audio port and adds a telephone-events stream.
    /// Our Alice answers from her previous answer: same `o=` line with the version
    /// incremented to 2890844527, exactly as the RFC shows; the added stream is declined
    /// with port 0 (one audio stream per call in Earshot).
    @Test func basicExchangeReofferAsAlice() throws {
        let alice = AudioCapabilities(
            address: .domainName("host.anywhere.com"), port: 49170, codecs: [.pcmu], telephoneEvent: nil, ptime: nil,
            username: "alice", sessionName: " ")
        let aliceFirst = try parse(Self.aliceOffer)
        let answer = OfferAnswer.makeAnswer(to: try parse(Self.bobSecondOffer), local: alice, revising: aliceFirst)
        let rfc = try parse(Self.aliceSecondAnswer)
        #expect(answer.sdp.origin == rfc.origin)
        #expect(
            mLines(answer.sdp) == [
                "audio 49170 RTP/AVP 0", "video 0 RTP/AVP 31", "video 0 RTP/AVP 32", "audio 0 RTP/AVP 110",
            ])
        #expect(answer.outcome.audio?.remotePort == 65422)
        #expect(answer.outcome.audio?.remoteAddress == .domainName("host.example.com"))
    }

    /// §10.2 as Bob: the inactive offer is answered inactive with PCMU (Bob's G.723 is not
    /// ours); the G.723-only re-offer then has no common codec and is declined with port 0.
    @Test func oneOfNAsBob() throws {
        let bob = AudioCapabilities(
            address: .domainName("host.example.com"), port: 54344, codecs: [.pcmu], telephoneEvent: nil, ptime: nil,
            username: "bob", sessionName: " ")
        let first = OfferAnswer.makeAnswer(
            to: try parse(Self.oneOfNOffer), local: bob, sessionID: 2_890_844_730, sessionVersion: 2_890_844_731)
        #expect(mLines(first.sdp) == ["audio 54344 RTP/AVP 0"])
        #expect(first.sdp.media[0].direction == .inactive)
        #expect(first.outcome == .held(try #require(first.outcome.audio)))
        #expect(first.outcome.audio?.direction == .inactive)
        let second = OfferAnswer.makeAnswer(to: try parse(Self.oneOfNSecondOffer), local: bob, revising: first.sdp)
        #expect(second.outcome == .rejected(.noCommonCodec))
        #expect(mLines(second.sdp) == ["audio 0 RTP/AVP 4"])
        #expect(second.sdp.origin.sessionVersion == 2_890_844_732)  // as in the RFC's second answer
    }

    /// §10.2 as Alice: Bob's answer lists PCMU first, and the stream is inactive.
    @Test func oneOfNAsAlice() throws {
        let outcome = OfferAnswer.processAnswer(try parse(Self.oneOfNAnswer), to: try parse(Self.oneOfNOffer))
        #expect(outcome.audio?.codec == .pcmu)
        #expect(outcome.audio?.direction == .inactive)
        // Alice offered inactive herself, so she is not "held": she chose silence.
        #expect(outcome == .active(try #require(outcome.audio)))
        // The G.723 lock-down of the second exchange is not a codec we speak.
        let second = OfferAnswer.processAnswer(try parse(Self.oneOfNSecondAnswer), to: try parse(Self.oneOfNSecondOffer))
        #expect(second == .rejected(.noCommonCodec))
    }
}

@Suite struct RFC4317ExampleTests {
    static func alice(_ mLines: String, version: Int = 2_890_844_526, connection: String = "host.atlanta.example.com") -> String {
        crlf(
            "v=0\no=alice 2890844526 \(version) IN IP4 host.atlanta.example.com\ns= \nc=IN IP4 \(connection)\nt=0 0\n"
                + mLines)
    }
    static func bob(_ mLines: String, version: Int = 2_808_844_564, connection: String = "host.biloxi.example.com") -> String {
        crlf("v=0\no=bob 2808844564 \(version) IN IP4 host.biloxi.example.com\ns= \nc=IN IP4 \(connection)\nt=0 0\n" + mLines)
    }

    // §2.1 Audio and Video 1
    static let offer21 = alice(
        """
        m=audio 49170 RTP/AVP 0 8 97
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        a=rtpmap:97 iLBC/8000
        m=video 51372 RTP/AVP 31 32
        a=rtpmap:31 H261/90000
        a=rtpmap:32 MPV/90000
        """)
    static let answer21 = bob(
        """
        m=audio 49174 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=video 49170 RTP/AVP 32
        a=rtpmap:32 MPV/90000
        """)
    // §2.2 Audio and Video 2
    static let answer22 = bob(
        """
        m=audio 49172 RTP/AVP 0 8
        a=rtpmap:0 PCMU/8000
        a=rtpmap:8 PCMA/8000
        m=video 0 RTP/AVP 31
        a=rtpmap:31 H261/90000
        """)
    static let secondOffer22 = alice(
        """
        m=audio 51372 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=video 0 RTP/AVP 31
        a=rtpmap:31 H261/90000
        """, version: 2_890_844_527)
    static let secondAnswer22 = bob(
        """
        m=audio 49172 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=video 0 RTP/AVP 31
        a=rtpmap:31 H261/90000
        """, version: 2_808_844_565)
    // §2.3 Audio and Video 3: Bob picks iLBC under another dynamic number.
    static let answer23 = bob(
        """
        m=audio 49172 RTP/AVP 99
        a=rtpmap:99 iLBC/8000
        m=video 51374 RTP/AVP 31
        a=rtpmap:31 H261/90000
        """)
    // §2.4 Two Audio Streams
    static let offer24 = alice(
        """
        m=audio 49170 RTP/AVP 0 97
        a=rtpmap:0 PCMU/8000
        a=rtpmap:97 iLBC/8000
        m=audio 49172 RTP/AVP 98
        a=rtpmap:98 telephone-event/8000
        a=sendonly
        """)
    // §2.6 Audio Only 1
    static let offer26 = alice(
        """
        m=audio 49170 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=audio 51372 RTP/AVP 97 101
        a=rtpmap:97 iLBC/8000
        a=rtpmap:101 telephone-event/8000
        """)
    static let answer26 = bob(
        """
        m=audio 0 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=audio 49170 RTP/AVP 97 101
        a=rtpmap:97 iLBC/8000
        a=rtpmap:101 telephone-event/8000
        """)
    // §2.8 Audio and Video 6: media-level c= for the video.
    static let answer28 = bob(
        """
        m=audio 49174 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        m=video 49172 RTP/AVP 32
        c=IN IP4 otherhost.biloxi.example.com
        a=rtpmap:32 MPV/90000
        """)
    // §3.1 Hold and Unhold 1: Bob answers sendonly from a placeholder host.
    static let offer31 = alice(
        """
        m=audio 49170 RTP/AVP 0 97
        a=rtpmap:0 PCMU/8000
        a=rtpmap:97 iLBC/8000
        """)
    static let answer31 = bob(
        """
        m=audio 49172 RTP/AVP 97
        a=rtpmap:97 iLBC/8000
        a=sendonly
        """, connection: "placeholder.biloxi.example.com")
    // §4.1 Second Audio Stream Added: media-level c= on the new stream.
    static let secondOffer41 = bob(
        """
        m=audio 49170 RTP/AVP 97
        a=rtpmap:97 iLBC/8000
        m=audio 48282 RTP/AVP 98
        c=IN IP4 mediaserver.biloxi.example.com
        a=rtpmap:98 telephone-event/8000
        a=recvonly
        """, version: 2_808_844_565)
    // §5.1 No Media, Then Audio Added
    static let offer51 = alice("")
    // §5.2 Hold and Unhold 2: offer black-holed with 0.0.0.0.
    static let offer52 = alice(
        """
        m=audio 23442 RTP/AVP 97
        a=rtpmap:97 iLBC/8000
        """, connection: "0.0.0.0")
    // §5.3 Hold and Unhold 3: answer black-holed with 0.0.0.0 (PCMU here instead of iLBC
    // so that our offerer has a codec to agree on; the address is what is under test).
    static let offer53 = alice(
        """
        m=audio 49170 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        """)
    static let answer53 = bob(
        """
        m=audio 9322 RTP/AVP 0
        a=rtpmap:0 PCMU/8000
        """, connection: "0.0.0.0")

    static let all = [
        offer21, answer21, answer22, secondOffer22, secondAnswer22, answer23, offer24, offer26, answer26, answer28,
        offer31, answer31, secondOffer41, offer51, offer52, offer53, answer53,
    ]

    static let ourBob = AudioCapabilities(
        address: .domainName("host.biloxi.example.com"), port: 49174, codecs: [.pcmu, .pcma], telephoneEvent: nil,
        ptime: nil, username: "bob", sessionName: " ")

    static func answerAsBob(_ offer: String) throws -> AudioAnswer {
        OfferAnswer.makeAnswer(to: try parse(offer), local: ourBob, sessionID: 2_808_844_564, sessionVersion: 2_808_844_564)
    }

    @Test(arguments: all)
    func parsesAndSerializesByteForByte(_ text: String) throws {
        #expect(try parse(text).serialize() == text)
        try expectRoundTrip(text)
    }

    /// §2.1 as Bob: PCMU chosen from "0 8 97", exactly Bob's audio line; video declined.
    @Test func audioAndVideo1AsBob() throws {
        let answer = try Self.answerAsBob(Self.offer21)
        let rfc = try parse(Self.answer21)
        #expect(answer.sdp.origin == rfc.origin)
        #expect(mLines(answer.sdp)[0] == mLines(rfc)[0])
        #expect(answer.sdp.media[0].rtpMaps == rfc.media[0].rtpMaps)
        #expect(mLines(answer.sdp)[1] == "video 0 RTP/AVP 31")
        #expect(answer.outcome.audio?.remoteAddress == .domainName("host.atlanta.example.com"))
    }

    /// §2.1 as Alice.
    @Test func audioAndVideo1AsAlice() throws {
        let outcome = OfferAnswer.processAnswer(try parse(Self.answer21), to: try parse(Self.offer21))
        let audio = try #require(outcome.audio)
        #expect(outcome == .active(audio))
        #expect(audio.remoteAddress == .domainName("host.biloxi.example.com"))
        #expect(audio.remotePort == 49174 && audio.remoteRTCPPort == 49175)
        #expect(audio.codec == .pcmu)
    }

    /// §2.2: Bob accepts PCMU and PCMA; Alice sends the first (PCMU), then locks it down
    /// with a second offer whose version is incremented and whose declined video line
    /// stays in place with port 0 — which our re-offer reproduces.
    @Test func audioAndVideo2() throws {
        let offer = try parse(Self.offer21)
        let outcome = OfferAnswer.processAnswer(try parse(Self.answer22), to: offer)
        #expect(outcome.audio?.codec == .pcmu)
        #expect(outcome.audio?.remotePort == 49172)

        let alice = AudioCapabilities(
            address: .domainName("host.atlanta.example.com"), port: 51372, codecs: [.pcmu], telephoneEvent: nil,
            ptime: nil, username: "alice", sessionName: " ")
        let reoffer = OfferAnswer.makeOffer(alice, revising: offer)
        let rfc = try parse(Self.secondOffer22)
        #expect(reoffer.origin == rfc.origin)
        #expect(mLines(reoffer) == mLines(rfc))
        let final = OfferAnswer.processAnswer(try parse(Self.secondAnswer22), to: reoffer)
        #expect(final.audio?.codec == .pcmu)
        #expect(final.audio?.payloadType == 0)
    }

    /// §2.3: Bob answers iLBC (under 99); we offered no iLBC, so there is no common codec.
    @Test func audioAndVideo3AnswerWithCodecWeLack() throws {
        #expect(OfferAnswer.processAnswer(try parse(Self.answer23), to: try parse(Self.offer21)) == .rejected(.noCommonCodec))
    }

    /// §2.4 as Bob: PCMU on the first stream; the telephone-event-only stream carries no
    /// codec and is declined (the RFC's Bob accepted it as a second stream).
    @Test func twoAudioStreamsAsBob() throws {
        let answer = try Self.answerAsBob(Self.offer24)
        #expect(mLines(answer.sdp) == ["audio 49174 RTP/AVP 0", "audio 0 RTP/AVP 98"])
        #expect(answer.outcome.audio?.mediaIndex == 0)
        #expect(answer.outcome.audio?.telephoneEventPayloadType == nil)
    }

    /// §2.6 as Bob: we accept the first (PCMU) stream and decline the iLBC one — the mirror
    /// image of the RFC's Bob, who speaks iLBC. As Alice, the RFC's answer declines our
    /// first stream.
    @Test func audioOnly1() throws {
        let answer = try Self.answerAsBob(Self.offer26)
        #expect(mLines(answer.sdp) == ["audio 49174 RTP/AVP 0", "audio 0 RTP/AVP 97"])
        #expect(OfferAnswer.processAnswer(try parse(Self.answer26), to: try parse(Self.offer26)) == .rejected(.declinedByAnswerer))
    }

    /// §2.8: the answer's video has its own c=; the audio uses the session-level one.
    @Test func audioAndVideo6() throws {
        let answer = try parse(Self.answer28)
        #expect(answer.connection(of: answer.media[1])?.host == .domainName("otherhost.biloxi.example.com"))
        #expect(answer.connection(of: answer.media[0])?.host == .domainName("host.biloxi.example.com"))
        let outcome = OfferAnswer.processAnswer(answer, to: try parse(Self.offer21))
        #expect(outcome.audio?.remoteAddress == .domainName("host.biloxi.example.com"))
    }

    /// §3.1: Bob answers sendonly — Alice is held (she receives, does not send). With
    /// Bob's iLBC replaced by PCMU so that we have a codec in common.
    @Test func holdAndUnhold1AsAlice() throws {
        let answer = Self.answer31.replacingOccurrences(of: "97", with: "0")
            .replacingOccurrences(of: "iLBC", with: "PCMU")
        let outcome = OfferAnswer.processAnswer(try parse(answer), to: try parse(Self.offer31))
        let audio = try #require(outcome.audio)
        #expect(outcome == .held(audio))
        #expect(audio.direction == .recvonly)
        #expect(audio.remoteAddress == .domainName("placeholder.biloxi.example.com"))
    }

    /// §3.1 as Bob holding Alice: our answerer with a sendonly preference writes sendonly.
    @Test func holdAndUnhold1AsBob() throws {
        var bob = Self.ourBob
        bob.direction = .sendonly
        let answer = OfferAnswer.makeAnswer(to: try parse(Self.offer31), local: bob, sessionID: 1, sessionVersion: 1)
        #expect(answer.sdp.media[0].direction == .sendonly)
        #expect(answer.outcome == .active(try #require(answer.outcome.audio)))  // we hold; we are not held
    }

    /// §4.1: the added stream's own c= is where its media goes (our answerer declines a
    /// second audio stream; the connection resolution is what is checked here).
    @Test func secondAudioStreamAddedConnection() throws {
        let offer = try parse(Self.secondOffer41)
        #expect(offer.connection(of: offer.media[1])?.address == "mediaserver.biloxi.example.com")
        #expect(offer.connection(of: offer.media[0])?.address == "host.biloxi.example.com")
        #expect(offer.direction(of: offer.media[1]) == .recvonly)
    }

    /// §5.1: an offer without media is answered without media.
    @Test func noMedia() throws {
        let answer = try Self.answerAsBob(Self.offer51)
        #expect(answer.sdp.media.isEmpty)
        #expect(answer.outcome == .rejected(.noAudioStream))
    }

    /// §5.2: Alice's offer has c=0.0.0.0 — black-holed. (iLBC swapped for PCMU.)
    @Test func holdAndUnhold2AsBob() throws {
        let offer = Self.offer52.replacingOccurrences(of: "97", with: "0").replacingOccurrences(of: "iLBC", with: "PCMU")
        let answer = try Self.answerAsBob(offer)
        let audio = try #require(answer.outcome.audio)
        #expect(answer.outcome == .held(audio))
        #expect(audio.remotePort == 23442)
        #expect(!audio.direction.sends)
    }

    /// §5.3: Bob's answer has c=0.0.0.0 — Alice must not send.
    @Test func holdAndUnhold3AsAlice() throws {
        let outcome = OfferAnswer.processAnswer(try parse(Self.answer53), to: try parse(Self.offer53))
        let audio = try #require(outcome.audio)
        #expect(outcome == .held(audio))
        #expect(audio.direction == .recvonly)
        #expect(audio.remotePort == 9322)
    }
}
