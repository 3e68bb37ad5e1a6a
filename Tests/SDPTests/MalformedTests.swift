import SDP
import Testing

/// Every malformed input gets its specific code, line number and offending line.
@Suite struct MalformedTests {
    static let head = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let code: SDPError.Code
        let line: Int
        let content: String
        var testDescription: String { name }

        init(_ name: String, _ text: String, _ code: SDPError.Code, line: Int, _ content: String) {
            self.name = name
            self.text = text
            self.code = code
            self.line = line
            self.content = content
        }

        /// A valid head (lines 1–5) followed by `tail`; the bad line is at `line`.
        static func after(_ name: String, _ tail: String, _ code: SDPError.Code, line: Int, _ content: String) -> Case {
            Case(name, MalformedTests.head + tail, code, line: line, content)
        }
    }

    static let cases: [Case] = [
        // v=
        Case("empty input", "", .missingVersion, line: 1, ""),
        Case("only line endings", "\r\n\r\n", .missingVersion, line: 1, ""),
        Case("starts with o=", "o=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0", .missingVersion, line: 1, "o=- 1 1 IN IP4 192.0.2.1"),
        Case("version 1", "v=1\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0", .invalidVersion, line: 1, "v=1"),
        Case("version with space", "v= 0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0", .invalidVersion, line: 1, "v= 0"),
        // line shape (RFC 8866 §5)
        Case("space before =", "v =0\n", .malformedLine, line: 1, "v =0"),
        Case("upper-case type", "V=0\n", .malformedLine, line: 1, "V=0"),
        Case("HTTP instead of SDP", "HTTP/1.1 200 OK\r\n", .malformedLine, line: 1, "HTTP/1.1 200 OK"),
        .after("blank line inside", "\nm=audio 1 RTP/AVP 0", .malformedLine, line: 6, ""),
        .after("no =", "a\n", .malformedLine, line: 6, "a"),
        .after("NUL inside", "a=x\u{0}y\n", .malformedLine, line: 6, "a=x\u{0}y"),
        .after("lone CR inside", "a=x\ry\n", .malformedLine, line: 6, "a=x\ry"),
        .after("unknown type", "x=whatever\n", .unknownType, line: 6, "x=whatever"),
        .after("unknown type in media", "m=audio 1 RTP/AVP 0\ny=1\n", .unknownType, line: 7, "y=1"),
        // required fields and their order
        Case("missing o=", "v=0\ns=-\nt=0 0", .missingOrigin, line: 2, "s=-"),
        Case("only v=", "v=0", .missingOrigin, line: 2, ""),
        Case("missing s=", "v=0\no=- 1 1 IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\nt=0 0", .missingSessionName, line: 3,
            "c=IN IP4 192.0.2.1"),
        Case("missing t= before m=", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nm=audio 1 RTP/AVP 0",
            .missingTime, line: 5, "m=audio 1 RTP/AVP 0"),
        Case("missing t= before a=", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\na=sendrecv", .missingTime, line: 4, "a=sendrecv"),
        Case("missing t= at the end", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n", .missingTime, line: 5, ""),
        Case("c= after t=", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nc=IN IP4 192.0.2.1", .outOfOrder, line: 5,
            "c=IN IP4 192.0.2.1"),
        Case("e= before i=", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\ne=a@example.com\ni=info\nt=0 0", .outOfOrder, line: 5,
            "i=info"),
        .after("t= after a=", "a=recvonly\nt=0 0\n", .outOfOrder, line: 7, "t=0 0"),
        .after("r= after a=", "a=recvonly\nr=7d 1h 0\n", .outOfOrder, line: 7, "r=7d 1h 0"),
        .after("z= twice", "z=3730928400 -1h\nz=3730928400 -1h\n", .outOfOrder, line: 7, "z=3730928400 -1h"),
        .after("t= inside media", "m=audio 1 RTP/AVP 0\nt=0 0\n", .outOfOrder, line: 7, "t=0 0"),
        .after("a= before c= in media", "m=audio 1 RTP/AVP 0\na=sendrecv\nc=IN IP4 192.0.2.2\n", .outOfOrder, line: 8,
            "c=IN IP4 192.0.2.2"),
        .after("b= after a= in media", "m=audio 1 RTP/AVP 0\na=sendrecv\nb=AS:64\n", .outOfOrder, line: 8, "b=AS:64"),
        .after("second s=", "s=again\n", .duplicateField, line: 6, "s=again"),
        Case("second c=", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.2\nt=0 0",
            .duplicateField, line: 5, "c=IN IP4 192.0.2.2"),
        .after("second i= in media", "m=audio 1 RTP/AVP 0\ni=a\ni=b\n", .duplicateField, line: 8, "i=b"),
        Case("no c= anywhere", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 49170 RTP/AVP 0", .missingConnection,
            line: 5, "m=audio 49170 RTP/AVP 0"),
        Case("second media lacks c=",
            "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 1 RTP/AVP 0\nc=IN IP4 192.0.2.1\nm=audio 2 RTP/AVP 0",
            .missingConnection, line: 7, "m=audio 2 RTP/AVP 0"),
        // o=
        Case("o= with five fields", "v=0\no=- 1 1 IN IP4\ns=-\nt=0 0", .invalidOrigin, line: 2, "o=- 1 1 IN IP4"),
        Case("o= non-numeric id", "v=0\no=- abc 1 IN IP4 192.0.2.1\ns=-\nt=0 0", .invalidOrigin, line: 2,
            "o=- abc 1 IN IP4 192.0.2.1"),
        Case("o= version beyond 64 bits", "v=0\no=- 1 18446744073709551616 IN IP4 192.0.2.1\ns=-\nt=0 0",
            .invalidOrigin, line: 2, "o=- 1 18446744073709551616 IN IP4 192.0.2.1"),
        // c=
        Case("c= missing address", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4\nt=0 0", .invalidConnection, line: 4,
            "c=IN IP4"),
        Case("c= bad IPv4", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 300.1.1.1\nt=0 0", .invalidConnection,
            line: 4, "c=IN IP4 300.1.1.1"),
        Case("c= TTL on unicast", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1/127\nt=0 0",
            .invalidConnection, line: 4, "c=IN IP4 192.0.2.1/127"),
        Case("c= TTL beyond 255", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 233.252.0.1/256\nt=0 0",
            .invalidConnection, line: 4, "c=IN IP4 233.252.0.1/256"),
        Case("c= zero addresses", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 233.252.0.1/127/0\nt=0 0",
            .invalidConnection, line: 4, "c=IN IP4 233.252.0.1/127/0"),
        Case("c= bad IPv6", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP6 2001:db8::1::2\nt=0 0", .invalidConnection,
            line: 4, "c=IN IP6 2001:db8::1::2"),
        Case("c= IPv6 under IP4", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 2001:db8::1\nt=0 0",
            .invalidConnection, line: 4, "c=IN IP4 2001:db8::1"),
        Case("c= count on unicast IPv6", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP6 2001:db8::1/2\nt=0 0",
            .invalidConnection, line: 4, "c=IN IP6 2001:db8::1/2"),
        Case("c= not an address", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 -\nt=0 0", .invalidConnection,
            line: 4, "c=IN IP4 -"),
        .after("c= bad in media", "m=audio 1 RTP/AVP 0\nc=IN IP4 1.2.3\n", .invalidConnection, line: 7, "c=IN IP4 1.2.3"),
        // b=, t=, r=, z=
        Case("b= without value", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nb=AS\nt=0 0", .invalidBandwidth, line: 4, "b=AS"),
        Case("b= non-numeric", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nb=AS:fast\nt=0 0", .invalidBandwidth, line: 4,
            "b=AS:fast"),
        Case("t= one field", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0", .invalidTime, line: 4, "t=0"),
        Case("t= negative", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=-1 0", .invalidTime, line: 4, "t=-1 0"),
        .after("r= two fields", "r=7d 1h\n", .invalidTime, line: 6, "r=7d 1h"),
        .after("r= bad unit", "r=7d 1x 0\n", .invalidTime, line: 6, "r=7d 1x 0"),
        .after("z= odd fields", "z=3730928400\n", .invalidTime, line: 6, "z=3730928400"),
        // m=
        .after("m= three fields", "m=audio 49170 RTP/AVP\n", .invalidMedia, line: 6, "m=audio 49170 RTP/AVP"),
        .after("m= empty", "m=\n", .invalidMedia, line: 6, "m="),
        .after("m= port too big", "m=audio 70000 RTP/AVP 0\n", .invalidPort, line: 6, "m=audio 70000 RTP/AVP 0"),
        .after("m= port not a number", "m=audio abc RTP/AVP 0\n", .invalidPort, line: 6, "m=audio abc RTP/AVP 0"),
        .after("m= negative port", "m=audio -1 RTP/AVP 0\n", .invalidPort, line: 6, "m=audio -1 RTP/AVP 0"),
        .after("m= port count zero", "m=audio 49170/0 RTP/AVP 0\n", .invalidPort, line: 6, "m=audio 49170/0 RTP/AVP 0"),
        .after("m= payload type name", "m=audio 49170 RTP/AVP PCMU\n", .invalidPayloadType, line: 6,
            "m=audio 49170 RTP/AVP PCMU"),
        .after("m= payload type 128", "m=audio 49170 RTP/AVP 0 128\n", .invalidPayloadType, line: 6,
            "m=audio 49170 RTP/AVP 0 128"),
        .after("m= SAVP payload type", "m=audio 49170 RTP/SAVP 0 x\n", .invalidPayloadType, line: 6,
            "m=audio 49170 RTP/SAVP 0 x"),
        // a=
        .after("a= empty", "a=\n", .invalidAttribute, line: 6, "a="),
        .after("a= empty name", "a=:value\n", .invalidAttribute, line: 6, "a=:value"),
        .after("a= name with space", "a=two words\n", .invalidAttribute, line: 6, "a=two words"),
        .after("rtpmap PT not numeric", "m=audio 1 RTP/AVP 0\na=rtpmap:x PCMU/8000\n", .invalidAttribute, line: 7,
            "a=rtpmap:x PCMU/8000"),
        .after("rtpmap signed PT", "m=audio 1 RTP/AVP 0\na=rtpmap:+0 PCMU/8000\n", .invalidAttribute, line: 7,
            "a=rtpmap:+0 PCMU/8000"),
        .after("m= signed payload type", "m=audio 49170 RTP/AVP +0\n", .invalidPayloadType, line: 6,
            "m=audio 49170 RTP/AVP +0"),
        .after("rtpmap without rate", "m=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU\n", .invalidAttribute, line: 7,
            "a=rtpmap:0 PCMU"),
        .after("rtpmap rate zero", "m=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU/0\n", .invalidAttribute, line: 7,
            "a=rtpmap:0 PCMU/0"),
        .after("rtpmap PT 200", "m=audio 1 RTP/AVP 0\na=rtpmap:200 PCMU/8000\n", .invalidAttribute, line: 7,
            "a=rtpmap:200 PCMU/8000"),
        .after("fmtp without format", "m=audio 1 RTP/AVP 0\na=fmtp:\n", .invalidAttribute, line: 7, "a=fmtp:"),
        .after("ptime not a number", "m=audio 1 RTP/AVP 0\na=ptime:twenty\n", .invalidAttribute, line: 7,
            "a=ptime:twenty"),
        .after("ptime zero", "m=audio 1 RTP/AVP 0\na=ptime:0\n", .invalidAttribute, line: 7, "a=ptime:0"),
        .after("maxptime negative", "m=audio 1 RTP/AVP 0\na=maxptime:-20\n", .invalidAttribute, line: 7,
            "a=maxptime:-20"),
        .after("rtcp port too big", "m=audio 1 RTP/AVP 0\na=rtcp:65536\n", .invalidAttribute, line: 7, "a=rtcp:65536"),
        .after("rtcp half an address", "m=audio 1 RTP/AVP 0\na=rtcp:5001 IN IP4\n", .invalidAttribute, line: 7,
            "a=rtcp:5001 IN IP4"),
    ]

    @Test(arguments: cases)
    func specificError(_ c: Case) throws {
        let error = try #require(parseError(c.text))
        #expect(error.code == c.code, "\(error)")
        #expect(error.line == c.line, "\(error)")
        #expect(error.content == c.content, "\(error)")
        // The same error through the byte entry point and with bare-LF → CRLF endings.
        #expect(throws: error) { try SessionDescription(parsing: Array(c.text.utf8)) }
        if !c.text.contains("\r") {
            let withCRLF = c.text.replacingOccurrences(of: "\n", with: "\r\n")
            #expect(throws: error) { try SessionDescription(parsing: withCRLF) }
        }
    }

    @Test func lenientOrderStillReportsEverythingElse() {
        // Only the order rule is relaxed: duplicates and malformed values remain errors.
        let duplicate = parseError(Self.head + "s=again\n", options: .lenientOrder)
        #expect(duplicate?.code == .duplicateField)
        let badPort = parseError(Self.head + "m=audio 70000 RTP/AVP 0\n", options: .lenientOrder)
        #expect(badPort?.code == .invalidPort)
        let noTime = parseError("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nm=audio 0 RTP/AVP 0\n", options: .lenientOrder)
        #expect(noTime?.code == .missingTime)
        #expect(noTime?.line == 4)
        let repeatFirst = parseError("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nr=7d 1h 0\nt=0 0\n", options: .lenientOrder)
        #expect(repeatFirst?.code == .outOfOrder)
    }

    @Test func errorDescriptionNamesLineAndContent() throws {
        let error = try #require(parseError(Self.head + "m=audio 70000 RTP/AVP 0\n"))
        #expect(error.description == "SDP line 6: port is not a number in 0...65535: m=audio 70000 RTP/AVP 0")
    }

    @Test func invalidUTF8IsRepairedNotFatal() throws {
        var bytes = Array((Self.head).utf8)
        bytes += Array("a=tool:caf".utf8) + [0xE9] + [0x0D, 0x0A]  // Latin-1 é
        let sdp = try SessionDescription(parsing: bytes)
        #expect(sdp.attributes == [Attribute(name: "tool", value: "caf\u{FFFD}")])
    }
}
