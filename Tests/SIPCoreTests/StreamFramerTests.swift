import SIPCore
import Testing

@Suite("SIP stream framing (TCP/TLS, RFC 3261 §18.3, RFC 5626 keep-alives)")
struct StreamFramerTests {
    typealias Event = SIPStreamFramer.Event

    // MARK: Messages of one call, written out byte for byte

    static let invite = Array(
        """
        INVITE sip:bob@biloxi.com SIP/2.0\r
        Via: SIP/2.0/TCP pc33.atlanta.com;branch=z9hG4bKnashds8\r
        Max-Forwards: 70\r
        To: Bob <sip:bob@biloxi.com>\r
        From: Alice <sip:alice@atlanta.com>;tag=1928301774\r
        Call-ID: a84b4c76e66710@pc33.atlanta.com\r
        CSeq: 314159 INVITE\r
        Contact: <sip:alice@pc33.atlanta.com;transport=tcp>\r
        Content-Type: application/sdp\r
        Content-Length: 243\r
        \r
        v=0\r
        o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com\r
        s=Session SDP\r
        c=IN IP4 pc33.atlanta.com\r
        t=0 0\r
        m=audio 49172 RTP/AVP 0 8 101\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:8 PCMA/8000\r
        a=rtpmap:101 telephone-event/8000\r
        a=ptime:20\r
        a=sendrecv\r

        """.utf8
    )

    // Compact forms (`l:` for Content-Length, RFC 3261 §7.3.3), lower case, LWS before the colon.
    static let ok = Array(
        """
        SIP/2.0 200 OK\r
        v: SIP/2.0/TCP pc33.atlanta.com;branch=z9hG4bKnashds8\r
        t: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r
        f: Alice <sip:alice@atlanta.com>;tag=1928301774\r
        i: a84b4c76e66710@pc33.atlanta.com\r
        CSeq: 314159 INVITE\r
        m: <sip:bob@192.0.2.4;transport=tcp>\r
        c: application/sdp\r
        L \t:   180\r
        \r
        v=0\r
        o=bob 2808844564 2808844564 IN IP4 192.0.2.4\r
        s=-\r
        c=IN IP4 192.0.2.4\r
        t=0 0\r
        m=audio 3456 RTP/AVP 0 101\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:101 telephone-event/8000\r
        a=ptime:20\r

        """.utf8
    )

    // A body holding CRLFCRLF, and a Content-Length folded onto a continuation line.
    static let message = Array(
        """
        MESSAGE sip:bob@biloxi.com SIP/2.0\r
        Via: SIP/2.0/TCP pc33.atlanta.com;branch=z9hG4bK776sgdkse\r
        Max-Forwards: 70\r
        To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r
        From: Alice <sip:alice@atlanta.com>;tag=1928301774\r
        Call-ID: a84b4c76e66710@pc33.atlanta.com\r
        CSeq: 314160 MESSAGE\r
        Content-Type: text/plain\r
        CONTENT-LENGTH:\r
           32\r
        \r
        Hello Bob,\r
        \r
        see you at 10.\r
        \r

        """.utf8
    )

    static let bye = Array(
        """
        BYE sip:bob@192.0.2.4;transport=tcp SIP/2.0\r
        Via: SIP/2.0/TCP pc33.atlanta.com;branch=z9hG4bKnashds10\r
        Max-Forwards: 70\r
        From: Alice <sip:alice@atlanta.com>;tag=1928301774\r
        To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r
        Call-ID: a84b4c76e66710@pc33.atlanta.com\r
        CSeq: 231 BYE\r
        content-length  :  0 \r
        \r

        """.utf8
    )

    static let ping = Array("\r\n\r\n".utf8)
    static let pong = Array("\r\n".utf8)

    /// What a peer sent, in the pieces it was written in, and what must come out.
    static let conversation: [[UInt8]] = [
        ping, invite, pong, ok, ping, ping, pong, message, bye, ping,
        Array(bye.prefix(50)),  // a partial trailing message: no event yet
    ]

    static let conversationEvents: [Event] = [
        .keepAlivePing, .message(invite), .keepAlivePong, .message(ok), .keepAlivePing, .keepAlivePing,
        .keepAlivePong, .message(message), .message(bye), .keepAlivePing,
    ]

    // MARK: Feeding strategies

    /// Everything a framer produced from a stream: events, the error that ended it, and how many
    /// bytes it still held at the end.
    struct Outcome: Equatable, CustomStringConvertible {
        var events: [Event] = []
        var error: StreamFramingError?
        var buffered = 0

        var description: String {
            let names = events.map { event -> String in
                switch event {
                case .message(let bytes): "message(\(bytes.count))"
                case .keepAlivePing: "ping"
                case .keepAlivePong: "pong"
                }
            }
            return "\(names) error: \(error.map(String.init(describing:)) ?? "none") buffered: \(buffered)"
        }
    }

    static func frame<Chunks: Sequence>(
        _ chunks: Chunks, configuration: SIPStreamFramer.Configuration = .init()
    ) -> Outcome where Chunks.Element: Collection, Chunks.Element.Element == UInt8 {
        var framer = SIPStreamFramer(configuration: configuration)
        var outcome = Outcome()
        for chunk in chunks {
            framer.append(chunk)
            do {
                while let event = try framer.next() { outcome.events.append(event) }
            } catch {
                outcome.error = error
                #expect(framer.hasFailed)
                return outcome
            }
        }
        outcome.buffered = framer.bufferedByteCount
        return outcome
    }

    /// SplitMix64 (Steele, Lea, Flood 2014): a seeded generator, so every split is reproducible.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomSplit(_ stream: [UInt8], seed: UInt64) -> [ArraySlice<UInt8>] {
        var generator = SplitMix64(state: seed)
        let cutCount = Int.random(in: 0...min(40, stream.count), using: &generator)
        let cuts = Set((0..<cutCount).map { _ in Int.random(in: 0...stream.count, using: &generator) }).sorted()
        var chunks: [ArraySlice<UInt8>] = []
        var start = 0
        for cut in cuts + [stream.count] {
            chunks.append(stream[start..<cut])  // empty chunks included on purpose
            start = cut
        }
        return chunks
    }

    /// Frames `pieces` all at once, byte by byte, piece by piece and at 300 seeded random split
    /// points, checks that every strategy agrees, and returns the common outcome.
    static func frameEveryWay(
        _ pieces: [[UInt8]], configuration: SIPStreamFramer.Configuration = .init(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Outcome {
        let stream = pieces.flatMap { $0 }
        let whole = frame([stream], configuration: configuration)
        let byteByByte = frame(stream.map { [$0] }, configuration: configuration)
        let pieceByPiece = frame(pieces, configuration: configuration)
        #expect(byteByByte == whole, "byte by byte", sourceLocation: sourceLocation)
        #expect(pieceByPiece == whole, "piece by piece", sourceLocation: sourceLocation)
        for seed in UInt64(1)...300 {
            let random = frame(randomSplit(stream, seed: seed), configuration: configuration)
            if random != whole {
                Issue.record("random split seed \(seed): \(random) != \(whole)", sourceLocation: sourceLocation)
                break
            }
        }
        return whole
    }

    // MARK: Framing

    @Test func pipelinedConversationFramesIdenticallyHoweverSplit() {
        let outcome = Self.frameEveryWay(Self.conversation)
        #expect(outcome.events == Self.conversationEvents)
        #expect(outcome.error == nil)
        #expect(outcome.buffered == 50)  // the partial BYE waits
    }

    @Test func arbitraryStreamsFrameIdenticallyHoweverSplit() {
        // Streams stitched from whole messages, keep-alives, stray CR/LF and cut-off messages
        // (which desynchronise the framing): whatever happens must not depend on the split.
        let pieces: [[UInt8]] = [
            Self.invite, Self.ok, Self.bye, Self.message, Self.ping, Self.pong,
            Array("\r".utf8), Array("\n".utf8), Array("\r\n\r".utf8),
            Array(Self.invite.prefix(300)), Array(Self.ok.prefix(17)), Array(Self.message.suffix(40)),
            Self.request("Content-Length: 3\r\n", body: "abc"), Self.request("l: 2\r\n"),
        ]
        var outcomes: Set<String> = []
        for seed in UInt64(1)...30 {
            var generator = SplitMix64(state: seed)
            let stream = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }
            let outcome = Self.frameEveryWay(stream)
            outcomes.insert(outcome.error.map { "\($0.code)" } ?? "ok")
        }
        #expect(outcomes.count >= 2)  // the seeds reach both clean streams and failures
    }

    @Test func theSplitGeneratorIsDeterministicAndSplits() {
        var a = SplitMix64(state: 0)
        #expect(a.next() == 0xE220_A839_7B1D_CDAF)  // SplitMix64 reference output for seed 0
        let stream = Self.conversation.flatMap { $0 }
        #expect(Self.randomSplit(stream, seed: 7) == Self.randomSplit(stream, seed: 7))
        let splitting = (UInt64(1)...300).filter { Self.randomSplit(stream, seed: $0).count > 1 }
        #expect(splitting.count > 280)
        #expect(Self.randomSplit(stream, seed: 7).flatMap { $0 } == stream)
    }

    @Test func bodyContainingCRLFCRLFIsNotCutShort() throws {
        var framer = SIPStreamFramer()
        framer.append(Self.message + Self.bye)
        #expect(try framer.next() == .message(Self.message))
        #expect(try framer.next() == .message(Self.bye))
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test(arguments: ["\n\n", "\n\r\n", "\r\n\n"])
    func bareLineFeedsEndTheHeaderSectionWhereTheParserEndsIt(_ emptyLine: String) throws {
        // Found by FuzzSIP: the parser reads a bare LF as a line break, the framer only knew
        // CRLFCRLF, so it ran past the parser's empty line and framed "body" bytes as headers.
        let request = Array(("OPTIONS sip:carol@chicago.com SIP/2.0\nCall-ID: 1@x\nl: 2\r\nCSeq: 1 OPTIONS" + emptyLine + "hi").utf8)
        let trailing = Array("X: y\r\n\r\n".utf8)  // would be headers had the framer missed the empty line
        let outcome = Self.frameEveryWay([request, Self.bye])
        #expect(outcome.events == [.message(request), .message(Self.bye)])
        #expect(outcome.error == nil)
        let parsed = try SIPMessage(parsing: request)
        #expect(parsed.body == Array("hi".utf8))
        #expect(parsed.framing?.trailingBytes == 0)
        // Without Content-Length on the bare-LF lines, the framer must still find the end.
        let missing = Self.frameEveryWay([Array(("OPTIONS sip:c@x SIP/2.0\nCSeq: 1 OPTIONS" + emptyLine).utf8), trailing])
        #expect(missing.error?.code == .missingContentLength)
    }

    @Test func partialMessageCompletesLater() throws {
        var framer = SIPStreamFramer()
        let headerEnd = Self.invite.count - 243
        framer.append(Self.invite[..<headerEnd])  // the whole header section, no body yet
        #expect(try framer.next() == nil)
        framer.append(Self.invite[headerEnd..<(Self.invite.count - 1)])
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == Self.invite.count - 1)
        framer.append(Self.invite.suffix(1))
        #expect(try framer.next() == .message(Self.invite))
        #expect(try framer.next() == nil)
    }

    @Test func emptyAppendsAndEmptyStream() throws {
        var framer = SIPStreamFramer()
        #expect(try framer.next() == nil)
        framer.append([UInt8]())
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == 0)
    }

    // MARK: Keep-alives (RFC 5626 §3.5.1)

    @Test func acceptorWaitsToTellAPongFromHalfAPing() throws {
        var framer = SIPStreamFramer()
        framer.append(Self.pong)
        #expect(try framer.next() == nil)  // could be the first half of a ping
        #expect(framer.bufferedByteCount == 2)
        framer.append(Array("\r".utf8))
        #expect(try framer.next() == nil)
        framer.append(Array("\n".utf8))
        #expect(try framer.next() == .keepAlivePing)

        framer.append(Self.pong)
        framer.append(Self.bye.prefix(1))  // "B": so the CRLF was a pong
        #expect(try framer.next() == .keepAlivePong)
        #expect(try framer.next() == nil)
    }

    @Test func acceptorReadsCRLFRuns() {
        // 3 CRLFs = ping + pong; 4 = two pings; 5 = two pings + a pong once the next byte shows.
        let crlf = Self.pong
        #expect(Self.frameEveryWay([crlf, crlf, crlf, Self.bye]).events == [.keepAlivePing, .keepAlivePong, .message(Self.bye)])
        #expect(Self.frameEveryWay([crlf, crlf, crlf, crlf, Self.bye]).events == [.keepAlivePing, .keepAlivePing, .message(Self.bye)])
        let pending = Self.frameEveryWay([crlf, crlf, crlf, crlf, crlf])
        #expect(pending.events == [.keepAlivePing, .keepAlivePing])
        #expect(pending.buffered == 2)
    }

    @Test func initiatorReportsEveryCRLFAsAPongAtOnce() throws {
        let initiator = SIPStreamFramer.Configuration(keepAliveRole: .initiator)
        var framer = SIPStreamFramer(configuration: initiator)
        framer.append(Self.pong)
        #expect(try framer.next() == .keepAlivePong)  // a client timing its ping needs this now
        #expect(try framer.next() == nil)

        let outcome = Self.frameEveryWay([Self.ping, Self.ok, Self.pong, Self.bye, Self.pong], configuration: initiator)
        #expect(
            outcome.events == [
                .keepAlivePong, .keepAlivePong, .message(Self.ok), .keepAlivePong, .message(Self.bye), .keepAlivePong,
            ]
        )
        #expect(outcome.buffered == 0)
    }

    // MARK: Content-Length

    static func request(_ contentLengthLines: String, body: String = "") -> [UInt8] {
        Array(
            ("OPTIONS sip:carol@chicago.com SIP/2.0\r\nCall-ID: 1@x\r\n" + contentLengthLines + "CSeq: 1 OPTIONS\r\n\r\n" + body)
                .utf8
        )
    }

    @Test(arguments: [
        ("Content-Length: 5\r\n", "hello"),
        ("content-length:5\r\n", "hello"),
        ("CONTENT-LENGTH \t :\t 5  \r\n", "hello"),
        ("l: 5\r\n", "hello"),
        ("L:5\r\n", "hello"),
        ("Content-Length:\r\n\t5\r\n", "hello"),
        ("Content-Length: 00005\r\n", "hello"),
        ("Content-Length: 0\r\n", ""),
        ("X-Content-Length: 9\r\nContent-Length: 5\r\nLength: 7\r\nll: 8\r\n", "hello"),
    ])
    func findsContentLength(lines: String, body: String) {
        let request = Self.request(lines, body: body)
        let outcome = Self.frameEveryWay([request, Self.bye])
        #expect(outcome.events == [.message(request), .message(Self.bye)])
        #expect(outcome.error == nil)
    }

    @Test func startLineIsNotAHeader() {
        // A start-line and header values that merely contain "l:" or "Content-Length:".
        let request = Array(
            "MESSAGE sip:l:5@x SIP/2.0\r\nSubject: Content-Length: 99\r\nl: 2\r\n\r\nhi".utf8
        )
        #expect(Self.frameEveryWay([request]).events == [.message(request)])
    }

    struct BadLength: Sendable, CustomTestStringConvertible {
        let lines: String
        let code: StreamFramingError.Code
        var testDescription: String { "\(code): \(lines.debugDescription)" }
    }

    @Test(arguments: [
        BadLength(lines: "", code: .missingContentLength),
        BadLength(lines: "Content-Type: text/plain\r\n", code: .missingContentLength),
        BadLength(lines: "Content-Length: -5\r\n", code: .invalidContentLength),
        BadLength(lines: "Content-Length: +5\r\n", code: .invalidContentLength),
        BadLength(lines: "Content-Length: abc\r\n", code: .invalidContentLength),
        BadLength(lines: "Content-Length: 0x10\r\n", code: .invalidContentLength),
        BadLength(lines: "Content-Length: 5.0\r\n", code: .invalidContentLength),
        BadLength(lines: "Content-Length:\r\n", code: .invalidContentLength),
        BadLength(lines: "Content-Length: 1 2\r\n", code: .invalidContentLength),
        BadLength(lines: "Content-Length: 5, 5\r\n", code: .invalidContentLength),
        BadLength(lines: "Content-Length: 5\r\nl: 5\r\n", code: .multipleContentLengths),
        BadLength(lines: "Content-Length: 5\r\nContent-Length: 6\r\n", code: .multipleContentLengths),
        BadLength(lines: "Content-Length: 99999999999999999999999999\r\n", code: .messageTooLarge),
        BadLength(lines: "Content-Length: 65537\r\n", code: .messageTooLarge),
    ])
    func badContentLengthFailsTheStream(_ example: BadLength) {
        let bad = Self.request(example.lines, body: "hello")
        let outcome = Self.frameEveryWay([Self.ping, Self.invite, bad, Self.bye])
        #expect(outcome.events == [.keepAlivePing, .message(Self.invite)])  // what came before stands
        #expect(outcome.error == StreamFramingError(code: example.code, messageOffset: 4 + Self.invite.count))
    }

    // MARK: Limits

    @Test func oversizeBodyFailsAsSoonAsTheHeaderIsRead() throws {
        var framer = SIPStreamFramer()  // 64 KiB
        let header = Self.request("Content-Length: 70000\r\n")
        framer.append(header)  // not one byte of the 70000
        let error = #expect(throws: StreamFramingError.self) { try framer.next() }
        #expect(error == StreamFramingError(code: .messageTooLarge, messageOffset: 0))
        #expect(framer.bufferedByteCount == 0)
    }

    @Test func messageSizeLimitIsInclusive() {
        let configuration = SIPStreamFramer.Configuration(maximumMessageSize: 200)
        let headerLength = Self.request("Content-Length: 100\r\n").count
        let fits = Self.request("Content-Length: \(200 - headerLength)\r\n", body: String(repeating: "x", count: 200 - headerLength))
        #expect(fits.count == 200)
        #expect(Self.frameEveryWay([fits], configuration: configuration).events == [.message(fits)])

        let tooBig = Self.request("Content-Length: \(201 - headerLength)\r\n", body: String(repeating: "x", count: 201 - headerLength))
        let outcome = Self.frameEveryWay([fits, tooBig], configuration: configuration)
        #expect(outcome.events == [.message(fits)])
        #expect(outcome.error == StreamFramingError(code: .messageTooLarge, messageOffset: 200))
    }

    @Test func headerSectionLimitIsInclusive() {
        let configuration = SIPStreamFramer.Configuration(maximumHeaderSectionSize: 128)
        let base = Self.request("Content-Length: 0\r\n")
        let padding = "X-Pad: \r\n".utf8.count
        let fits = Self.request("Content-Length: 0\r\nX-Pad: " + String(repeating: "p", count: 128 - base.count - padding) + "\r\n")
        #expect(fits.count == 128)
        #expect(Self.frameEveryWay([fits], configuration: configuration).events == [.message(fits)])

        let tooBig = Self.request("Content-Length: 0\r\nX-Pad: " + String(repeating: "p", count: 129 - base.count - padding) + "\r\n")
        let outcome = Self.frameEveryWay([fits, tooBig], configuration: configuration)
        #expect(outcome.events == [.message(fits)])
        #expect(outcome.error == StreamFramingError(code: .headerSectionTooLarge, messageOffset: 128))
    }

    @Test func endlessHeaderFailsWithoutBufferingMoreThanTheLimit() throws {
        let configuration = SIPStreamFramer.Configuration(maximumHeaderSectionSize: 256)
        var framer = SIPStreamFramer(configuration: configuration)
        let endless = Array("INVITE sip:bob@biloxi.com SIP/2.0\r\nX-Flood: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 10_000)
        var fed = 0
        var failure: StreamFramingError?
        for byte in endless {
            framer.append(CollectionOfOne(byte))
            fed += 1
            do {
                #expect(try framer.next() == nil)
            } catch {
                failure = error
                break
            }
            #expect(framer.bufferedByteCount < 256)
        }
        #expect(failure == StreamFramingError(code: .headerSectionTooLarge, messageOffset: 0))
        #expect(fed == 256)  // failed on the byte that reached the limit, not at the end
    }

    @Test func aFailedFramerStaysFailedAndDropsInput() throws {
        var framer = SIPStreamFramer()
        framer.append(Self.request(""))
        let first = #expect(throws: StreamFramingError.self) { try framer.next() }
        #expect(first?.code == .missingContentLength)
        #expect(framer.hasFailed)
        framer.append(Self.bye)
        #expect(framer.bufferedByteCount == 0)
        let second = #expect(throws: StreamFramingError.self) { try framer.next() }
        #expect(second == first)
        #expect(first?.description == "missing Content-Length on a stream transport (message at stream offset 0)")
    }

    @Test func longStreamsCompactTheBuffer() throws {
        // Many messages through one framer, fed in awkward 1000-byte chunks: the framer keeps
        // up and holds no more than one partial message plus a chunk.
        let stream = Array(repeating: Self.conversation.dropLast().flatMap { $0 }, count: 40).flatMap { $0 }
        var framer = SIPStreamFramer()
        var events = 0
        var index = 0
        while index < stream.count {
            framer.append(stream[index..<min(index + 1000, stream.count)])
            index += 1000
            while try framer.next() != nil { events += 1 }
            #expect(framer.bufferedByteCount <= Self.invite.count + 1000)
        }
        #expect(events == 40 * Self.conversationEvents.count)
        #expect(framer.bufferedByteCount == 0)
    }
}
