import SDP
import Testing

@Suite struct ParserTests {
    /// RFC 8866 §5's example description, every session-level field present.
    static let rfc8866Example = crlf(
        """
        v=0
        o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1
        s=Call to John Smith
        i=SDP Offer #1
        u=http://www.jdoe.example.com/home.html
        e=Jane Doe <jane@jdoe.example.com>
        p=+1 617 555-6011
        c=IN IP4 198.51.100.1
        t=0 0
        m=audio 49170 RTP/AVP 0
        m=audio 49180 RTP/AVP 0
        m=video 51372 RTP/AVP 99
        c=IN IP6 2001:db8::2
        a=rtpmap:99 h263-1998/90000
        """)

    @Test func rfc8866ExampleFieldByField() throws {
        let sdp = try parse(Self.rfc8866Example)
        #expect(
            sdp.origin
                == SessionOrigin(
                    username: "jdoe", sessionID: 3_724_394_400, sessionVersion: 3_724_394_405,
                    networkType: "IN", addressType: "IP4", address: "198.51.100.1"))
        #expect(sdp.sessionName == "Call to John Smith")
        #expect(sdp.information == "SDP Offer #1")
        #expect(sdp.uri == "http://www.jdoe.example.com/home.html")
        #expect(sdp.emailAddresses == ["Jane Doe <jane@jdoe.example.com>"])
        #expect(sdp.phoneNumbers == ["+1 617 555-6011"])
        #expect(sdp.connection == ConnectionInformation(addressType: "IP4", address: "198.51.100.1"))
        #expect(sdp.times == [TimeDescription(start: 0, stop: 0)])
        #expect(mLines(sdp) == ["audio 49170 RTP/AVP 0", "audio 49180 RTP/AVP 0", "video 51372 RTP/AVP 99"])
        #expect(sdp.media[2].connections == [ConnectionInformation(addressType: "IP6", address: "2001:db8::2")])
        #expect(sdp.media[2].rtpMap(for: 99) == RTPMap(payloadType: 99, encodingName: "h263-1998", clockRate: 90000))
        // Canonical CRLF input comes back byte for byte.
        #expect(sdp.serialize() == Self.rfc8866Example)
    }

    @Test func connectionResolutionMediaOverridesSession() throws {
        let sdp = try parse(Self.rfc8866Example)
        #expect(sdp.connection(of: sdp.media[0])?.host == HostAddress("198.51.100.1"))
        #expect(sdp.connection(of: sdp.media[2])?.host == HostAddress("2001:db8::2"))
        #expect(sdp.connection(of: sdp.media[2])?.host?.description == "2001:db8::2")
    }

    @Test func bareLFAndCRLFParseTheSame() throws {
        let lf = Self.rfc8866Example.replacingCRLF()
        #expect(!lf.contains("\r"))
        #expect(try parse(lf) == parse(Self.rfc8866Example))
        // Mixed endings and no final line ending are accepted too.
        let mixed = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\ns=-\r\nc=IN IP4 192.0.2.1\nt=0 0"
        #expect(try parse(mixed).times.count == 1)
        // Trailing empty lines are ignored.
        #expect(try parse(Self.rfc8866Example + "\r\n\r\n") == parse(Self.rfc8866Example))
    }

    @Test func bytesAndStringEntryPointsAgree() throws {
        let fromBytes = try SessionDescription(parsing: Array(Self.rfc8866Example.utf8))
        #expect(try fromBytes == parse(Self.rfc8866Example))
    }

    @Test func timeRepeatAndZoneLines() throws {
        // RFC 8866 §5.10/§5.11 style schedule, two time descriptions, b= at both levels.
        let text = crlf(
            """
            v=0
            o=- 2890844526 2890842807 IN IP4 198.51.100.1
            s=Seminar
            c=IN IP4 233.252.0.1/127
            b=CT:128
            t=3724394400 3724398000
            r=604800 3600 0 90000
            r=7d 1h 0 25h
            z=3730928400 -1h 3749680800 0
            t=3724484400 0
            k=prompt
            a=recvonly
            m=audio 49170 RTP/AVP 0
            b=AS:64
            k=clear:secret
            """)
        let sdp = try parse(text)
        #expect(
            sdp.times == [
                TimeDescription(
                    start: 3_724_394_400, stop: 3_724_398_000, repeats: ["604800 3600 0 90000", "7d 1h 0 25h"],
                    zoneAdjustments: "3730928400 -1h 3749680800 0"),
                TimeDescription(start: 3_724_484_400, stop: 0),
            ])
        #expect(sdp.bandwidths == [Bandwidth(type: "CT", value: 128)])
        #expect(sdp.media[0].bandwidths == [Bandwidth(type: "AS", value: 64)])
        #expect(sdp.connection?.ttl == 127)
        // RFC 8866 §5.12: k= is obsolete and MUST be discarded on receipt.
        #expect(!sdp.serialize().contains("k="))
        #expect(sdp.serialize() == text.replacingOccurrences(of: "k=prompt\r\n", with: "")
            .replacingOccurrences(of: "k=clear:secret\r\n", with: ""))
        try expectRoundTrip(text)
    }

    @Test func zoneDirectlyAfterTimeIsAccepted() throws {
        // RFC 4566 put z= after the time descriptions without requiring r=.
        let sdp = try parse(crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nz=3730928400 -1h"))
        #expect(sdp.times[0].zoneAdjustments == "3730928400 -1h")
    }

    @Test(arguments: [
        // (c= value, address, addressType, ttl, count)
        ("IN IP4 233.252.0.1/127/3", "233.252.0.1", "IP4", 127, 3),
        ("IN IP4 233.252.0.1/0", "233.252.0.1", "IP4", 0, nil),
        ("IN IP6 ff15::101/3", "ff15::101", "IP6", nil, 3),
        ("IN IP6 FF15::101", "FF15::101", "IP6", nil, nil),
        ("IN IP4 192.0.2.7", "192.0.2.7", "IP4", nil, nil),
        ("IN IP4 host.atlanta.example.com", "host.atlanta.example.com", "IP4", nil, nil),
        ("IN IP6 2001:DB8::1", "2001:DB8::1", "IP6", nil, nil),
        ("IN IP6 ::ffff:192.0.2.1", "::ffff:192.0.2.1", "IP6", nil, nil),
    ] as [(String, String, String, Int?, Int?)])
    func connectionForms(value: String, address: String, type: String, ttl: Int?, count: Int?) throws {
        let text = crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=\(value)\nt=0 0\nm=audio 49170 RTP/AVP 0")
        let sdp = try parse(text)
        #expect(sdp.connection == ConnectionInformation(addressType: type, address: address, ttl: ttl, addressCount: count))
        #expect(sdp.serialize() == text)
        #expect(sdp.connection?.host != nil)
    }

    @Test func connectionHostIsTyped() throws {
        #expect(ConnectionInformation(addressType: "IP4", address: "192.0.2.7").host == .ipv4(.init(0xC000_0207)))
        #expect(ConnectionInformation(addressType: "IP6", address: "::1").host == .ipv6(.init(high: 0, low: 1)))
        #expect(ConnectionInformation(addressType: "IP4", address: "a.example").host == .domainName("a.example"))
        #expect(ConnectionInformation(networkType: "TN", addressType: "RFC2543", address: "+1-555").host == nil)
        #expect(ConnectionInformation(addressType: "IP4", address: "0.0.0.0").host?.isUnspecified == true)
        #expect(ConnectionInformation(addressType: "IP6", address: "::").host?.isUnspecified == true)
        #expect(ConnectionInformation(addressType: "IP4", address: "233.252.0.1").host?.isMulticast == true)
    }

    @Test func otherNetworkTypesAreKeptVerbatim() throws {
        let text = crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=TN RFC2543 +1-617-555-6011\nt=0 0\nm=audio 49170 RTP/AVP 0")
        let sdp = try parse(text)
        #expect(
            sdp.connection == ConnectionInformation(networkType: "TN", addressType: "RFC2543", address: "+1-617-555-6011"))
        #expect(sdp.serialize() == text)
    }

    @Test func attributesKeptInOrderAndUnknownOnesExactly() throws {
        let text = crlf(
            """
            v=0
            o=- 1 1 IN IP4 192.0.2.1
            s=-
            c=IN IP4 192.0.2.1
            t=0 0
            a=msid-semantic: WMS stream
            a=group:BUNDLE 0
            a=X-custom:  two leading spaces and trailing  \u{20}
            a=flag
            a=empty:
            m=audio 49170 RTP/AVP 96 0 101
            a=rtpmap:96 opus/48000/2
            a=fmtp:96 minptime=10;useinbandfec=1
            a=rtpmap:0 PCMU/8000
            a=rtpmap:101 telephone-event/8000
            a=fmtp:101 0-16
            a=silenceSupp:off - - - -
            a=ptime:20
            a=maxptime:150
            a=rtcp:49175 IN IP6 2001:db8::5
            a=rtcp-mux
            a=sendonly
            """)
        let sdp = try parse(text)
        #expect(
            sdp.attributes == [
                Attribute(name: "msid-semantic", value: " WMS stream"),
                Attribute(name: "group", value: "BUNDLE 0"),
                Attribute(name: "X-custom", value: "  two leading spaces and trailing   "),
                Attribute(name: "flag"),
                Attribute(name: "empty", value: ""),
            ])
        let audio = sdp.media[0]
        #expect(audio.attributes.map(\.name) == [
            "rtpmap", "fmtp", "rtpmap", "rtpmap", "fmtp", "silenceSupp", "ptime", "maxptime", "rtcp", "rtcp-mux", "sendonly",
        ])
        #expect(audio.payloadTypes == [96, 0, 101])
        #expect(audio.rtpMap(for: 96) == RTPMap(payloadType: 96, encodingName: "opus", clockRate: 48000, encodingParameters: "2"))
        #expect(audio.rtpMap(for: 8) == nil)
        #expect(audio.formatParameters(for: "96")?.parameters == "minptime=10;useinbandfec=1")
        #expect(audio.formatParameters(for: "101") == FormatParameters(format: "101", parameters: "0-16"))
        #expect(audio.ptime == 20)
        #expect(audio.maxptime == 150)
        #expect(
            audio.rtcp
                == RTCPAttribute(port: 49175, connection: ConnectionInformation(addressType: "IP6", address: "2001:db8::5")))
        #expect(audio.rtcpMux)
        #expect(audio.direction == .sendonly)
        #expect(sdp.serialize() == text)
    }

    @Test func directionMediaOverridesSession() throws {
        let sdp = try parse(
            crlf(
                """
                v=0
                o=- 1 1 IN IP4 192.0.2.1
                s=-
                c=IN IP4 192.0.2.1
                t=0 0
                a=inactive
                m=audio 49170 RTP/AVP 0
                m=audio 49180 RTP/AVP 0
                a=sendonly
                """))
        #expect(sdp.direction == .inactive)
        #expect(sdp.direction(of: sdp.media[0]) == .inactive)
        #expect(sdp.direction(of: sdp.media[1]) == .sendonly)
        var plain = sdp
        plain.attributes = []
        #expect(plain.direction(of: plain.media[0]) == .sendrecv)
    }

    @Test func ptimeAcceptsRealNumbers() throws {
        let sdp = try parse(crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 1 RTP/AVP 0\na=ptime:22.5"))
        #expect(sdp.media[0].ptime == 23)
    }

    @Test func portCountAndNonRTPFormats() throws {
        let text = crlf(
            """
            v=0
            o=- 1 1 IN IP4 192.0.2.1
            s=-
            c=IN IP4 192.0.2.1
            t=0 0
            m=video 49170/2 RTP/AVP 31
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel
            m=message 7394 TCP/MSRP *
            """)
        let sdp = try parse(text)
        #expect(sdp.media[0].portCount == 2)
        #expect(sdp.media[1].formats == ["webrtc-datachannel"])
        #expect(!sdp.media[1].isRTP)
        #expect(sdp.media[1].payloadTypes.isEmpty)
        #expect(sdp.media[2].formats == ["*"])
        #expect(sdp.serialize() == text)
    }

    @Test func emptySessionNameAndPortZeroWithoutConnection() throws {
        // RFC 3264 §10.1 and RFC 4317 write "s=" (with one space); some peers send it empty.
        let sdp = try parse(crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=\nt=0 0\nm=video 0 RTP/AVP 31"))
        #expect(sdp.sessionName == "")
        #expect(sdp.media[0].port == 0)
    }

    @Test func lenientOrderAcceptsRFC3264CapabilityExample() throws {
        // RFC 3264 §9, Figure 1, writes c= after t=: strict parsing says so, lenient reads it.
        let text = crlf(
            """
            v=0
            o=carol 28908764872 28908764872 IN IP4 100.3.6.6
            s=-
            t=0 0
            c=IN IP4 192.0.2.4
            m=audio 0 RTP/AVP 0 1 3
            a=rtpmap:0 PCMU/8000
            a=rtpmap:1 1016/8000
            a=rtpmap:3 GSM/8000
            m=video 0 RTP/AVP 31 34
            a=rtpmap:31 H261/90000
            a=rtpmap:34 H263/90000
            """)
        let strict = parseError(text)
        #expect(strict?.code == .outOfOrder)
        #expect(strict?.line == 5)
        #expect(strict?.content == "c=IN IP4 192.0.2.4")
        let sdp = try parse(text, options: .lenientOrder)
        #expect(sdp.connection?.address == "192.0.2.4")
        // Written back in RFC 8866 order, which the strict parser then accepts.
        #expect(try parse(sdp.serialize()) == sdp)
        #expect(sdp.serialize().contains("c=IN IP4 192.0.2.4\r\nt=0 0\r\n"))
    }

    @Test func lenientOrderInsideMedia() throws {
        let text = crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 5 RTP/AVP 0\na=sendrecv\nc=IN IP4 192.0.2.9\nb=AS:80")
        #expect(parseError(text)?.line == 7)
        let sdp = try parse(text, options: .lenientOrder)
        #expect(sdp.media[0].connections.first?.address == "192.0.2.9")
        #expect(sdp.media[0].bandwidths == [Bandwidth(type: "AS", value: 80)])
        #expect(sdp.serialize().hasSuffix("m=audio 5 RTP/AVP 0\r\nc=IN IP4 192.0.2.9\r\nb=AS:80\r\na=sendrecv\r\n"))
    }
}

@Suite struct HostAddressTests {
    @Test(arguments: [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // RFC 5952 §4.2.2: one zero group stays
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  // §4.2.3: the longest run
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // §4.2.3: the first of equal runs
        ("2001:0db8::0001", "2001:db8::1"),  // §4.1: no leading zeros
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("ff15::101", "ff15::101"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),  // §5: IPv4-mapped keeps dotted form
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ])
    func ipv6CanonicalText(input: String, canonical: String) throws {
        let address = try #require(HostAddress.IPv6(input))
        #expect(address.description == canonical)
        #expect(HostAddress.IPv6(canonical) == address)
    }

    @Test(arguments: [
        "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::ffff:1.2.3.256", ":1", "1:", "g::1", "+1::",
        "", ":::", "1:2:3:4:5:6:7::8:9", "::1.2.3.4:5",
    ])
    func invalidIPv6(input: String) {
        #expect(HostAddress.IPv6(input) == nil)
    }

    @Test func ipv4() {
        #expect(HostAddress.IPv4("192.0.2.1")?.value == 0xC000_0201)
        #expect(HostAddress.IPv4("255.255.255.255")?.description == "255.255.255.255")
        #expect(HostAddress.IPv4("0.0.0.0").map { HostAddress.ipv4($0).isUnspecified } == true)
        for bad in ["010.0.0.1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "1.2.3.", "a.b.c.d", "", " 1.2.3.4"] {
            #expect(HostAddress.IPv4(bad) == nil, "\(bad)")
        }
    }

    @Test func hostAddressClassification() {
        #expect(HostAddress("192.0.2.1") == .ipv4(.init(0xC000_0201)))
        #expect(HostAddress("2001:db8::1")?.addressType == "IP6")
        #expect(HostAddress("host.example.com") == .domainName("host.example.com"))
        #expect(HostAddress("host.example.com")?.addressType == "IP4")
        #expect(HostAddress("10.0.0.256") == nil)  // numeric but not an address: not a name either
        #expect(HostAddress("bad host") == nil)
        #expect(HostAddress("-") == nil)  // a name needs a letter
        #expect(HostAddress("my-host_1.example") == .domainName("my-host_1.example"))
        #expect(HostAddress("::")?.isUnspecified == true)
        #expect(HostAddress("ff02::1")?.isMulticast == true)
        #expect(HostAddress("224.0.0.1")?.isMulticast == true)
        #expect(HostAddress("223.255.255.255")?.isMulticast == false)
    }
}

extension String {
    func replacingCRLF() -> String { replacingOccurrences(of: "\r\n", with: "\n") }

    /// Foundation-free literal replacement for tests.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
