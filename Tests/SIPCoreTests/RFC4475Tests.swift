import SIPCore
import Testing

/// Every RFC 4475 torture message, with the outcome this implementation commits to and why.
///
/// * `.accepted`: parses, round-trips (`parse(serialize(parse(m))) == parse(m)`, serialization
///   is a fixed point), and the default user-agent verdict is "process it".
/// * `.rejected`: parses and round-trips, and the verdict answers with the status the RFC
///   names, decided by the named problem.
/// * `.discarded`: a response that parses, but that an element drops.
/// * `.unparseable`: the parser refuses it with this code at this offset, and
///   `SIPValidator.check(datagram:)` answers 400 (requests) or discards (responses).
enum TortureOutcome: Sendable {
    case accepted
    case rejected(status: Int, problem: SIPProblem.Kind, header: SIPHeaderName? = nil, code: SIPParseError.Code? = nil)
    case discarded(problem: SIPProblem.Kind, header: SIPHeaderName? = nil, code: SIPParseError.Code? = nil)
    case unparseable(SIPParseError.Code, at: String)
}

struct TortureCase: Sendable {
    let outcome: TortureOutcome
    /// What the RFC asks, and which of its allowed outcomes we chose.
    let why: String
}

let tortureCases: [String: TortureCase] = [
    // §3.1.1 valid messages: all must be accepted.
    "wsinv": TortureCase(outcome: .accepted, why: "folding, LWS around ':' ';' '=' '/', compact names, leading zeros"),
    "intmeth": TortureCase(outcome: .accepted, why: "all token characters in method, branch, tags; default policy has no method list (501 tested separately)"),
    "esc01": TortureCase(outcome: .accepted, why: "%-escapes in user parts and URI parameters"),
    "escnull": TortureCase(outcome: .accepted, why: "%00 in user parts, kept as NUL on decoding"),
    "esc02": TortureCase(outcome: .accepted, why: "RE%47IST%45R is an unknown method; C%6Fntact an unknown header"),
    "lwsdisp": TortureCase(outcome: .accepted, why: "no LWS before '<' (ABNF bug, accept)"),
    "longreq": TortureCase(outcome: .accepted, why: "3515 bytes, 34 Via lines, no size limit below that"),
    "dblreq": TortureCase(outcome: .accepted, why: "REGISTER framed by Content-Length 0; the trailing INVITE is discarded (§18.3)"),
    "semiuri": TortureCase(outcome: .accepted, why: "user part 'user;par=u%40example.net'"),
    "transports": TortureCase(outcome: .accepted, why: "UNKNOWN is a legal transport token"),
    "mpart01": TortureCase(outcome: .accepted, why: "binary multipart body with NULs framed by Content-Length"),
    "unreason": TortureCase(outcome: .accepted, why: "UTF-8 reason phrase"),
    "noreason": TortureCase(outcome: .accepted, why: "empty reason phrase"),
    // §3.1.2 invalid messages.
    "badinv01": TortureCase(outcome: .rejected(status: 400, problem: .malformedHeader, header: .via, code: .invalidParameter),
                            why: "';;,;,,' in Via: 400"),
    "clerr": TortureCase(outcome: .rejected(status: 400, problem: .contentLengthExceedsBody, header: .contentLength),
                         why: "Content-Length 9999 over UDP: 400"),
    "ncl": TortureCase(outcome: .unparseable(.invalidContentLength, at: "-999"), why: "negative Content-Length: framing error"),
    "scalar02": TortureCase(outcome: .rejected(status: 400, problem: .malformedHeader, header: .cseq, code: .numberOutOfRange),
                            why: "CSeq 2^65: 400 (Max-Forwards 300 treated as absent, expiries as defaults)"),
    "scalarlg": TortureCase(outcome: .discarded(problem: .malformedHeader, header: .cseq, code: .numberOutOfRange),
                            why: "response with CSeq beyond 2^32-1: discard"),
    "quotbal": TortureCase(outcome: .rejected(status: 400, problem: .malformedHeader, header: .to, code: .unterminatedQuotedString),
                           why: "unterminated quote in To display name: 400 (we do not guess the closing quote)"),
    "ltgtruri": TortureCase(outcome: .unparseable(.invalidRequestURI, at: "<sip:"), why: "<> around the Request-URI: reject (400)"),
    "lwsruri": TortureCase(outcome: .unparseable(.invalidRequestURI, at: " lr SIP"), why: "LWS inside the Request-URI: reject (400)"),
    "lwsstart": TortureCase(outcome: .accepted, why: "multiple SP in the request line: liberal acceptance allowed; serialized with single SPs"),
    "trws": TortureCase(outcome: .accepted, why: "trailing SP after SIP-Version: liberal acceptance allowed"),
    "escruri": TortureCase(outcome: .rejected(status: 400, problem: .headersInRequestURI),
                           why: "escaped headers in the Request-URI: 400 allowed, and they are never turned into headers"),
    "baddate": TortureCase(outcome: .accepted, why: "EST in Date: 'better to ignore' — Date is not interpreted"),
    "regbadct": TortureCase(outcome: .rejected(status: 400, problem: .malformedHeader, header: .contact, code: .uriNeedsAngleBrackets),
                            why: "URI with '?' outside <>: 400"),
    "badaspec": TortureCase(outcome: .rejected(status: 400, problem: .malformedHeader, header: .to, code: .unexpectedWhitespace),
                            why: "spaces inside <>: 400"),
    "baddn": TortureCase(outcome: .rejected(status: 400, problem: .malformedHeader, header: .from, code: .invalidDisplayName),
                         why: "unquoted ',' in display names: 400 (datagram without the closing empty line is tolerated)"),
    "badvers": TortureCase(outcome: .rejected(status: 505, problem: .versionNotSupported), why: "SIP/7.0: 505"),
    "mismatch01": TortureCase(outcome: .rejected(status: 400, problem: .cseqMethodMismatch, header: .cseq), why: "OPTIONS with CSeq INVITE: 400"),
    "mismatch02": TortureCase(outcome: .rejected(status: 400, problem: .cseqMethodMismatch, header: .cseq),
                              why: "unknown method with CSeq mismatch: 400 is acceptable; 501 when the policy lists methods (tested separately)"),
    "bigcode": TortureCase(outcome: .unparseable(.invalidStatusCode, at: "4294967301"), why: "status code 4294967301: drop"),
    // §3.2, §3.3, §3.4: transaction-layer and application-layer cases.
    "badbranch": TortureCase(outcome: .accepted, why: "branch is only the magic cookie: the parser must not break"),
    "insuf": TortureCase(outcome: .rejected(status: 400, problem: .missingHeader, header: .to), why: "no Call-ID, From, To: 400"),
    "unkscm": TortureCase(outcome: .rejected(status: 416, problem: .unsupportedURIScheme), why: "unknown Request-URI scheme: parse, then 416"),
    "novelsc": TortureCase(outcome: .rejected(status: 416, problem: .unsupportedURIScheme), why: "soap.beep is never acceptable here: 416"),
    "unksm2": TortureCase(outcome: .accepted, why: "non-SIP URIs in To/From/Contact parse; the 400 is a registrar's AOR decision"),
    "bext01": TortureCase(outcome: .rejected(status: 420, problem: .badExtension, header: .require),
                          why: "unknown Require option tags: 420 with Unsupported"),
    "invut": TortureCase(outcome: .accepted, why: "unknown Content-Type: 415 only with an acceptedContentTypes policy (tested separately)"),
    "regaut01": TortureCase(outcome: .accepted, why: "unknown Authorization scheme is well formed"),
    "multi01": TortureCase(outcome: .rejected(status: 400, problem: .duplicateHeader, header: .maxForwards),
                           why: "several Call-ID, To, From, Max-Forwards, CSeq: 400"),
    "mcl01": TortureCase(outcome: .unparseable(.conflictingContentLength, at: "5\r\nContent-Type"), why: "two Content-Length values: framing error"),
    "bcast": TortureCase(outcome: .discarded(problem: .multipleViasInResponse, header: .via),
                         why: "a UAC discards a response with two Vias (§8.1.3.3); the parser does not fail"),
    "zeromf": TortureCase(outcome: .accepted, why: "Max-Forwards 0: an endpoint processes it (a proxy's 483 is tested separately)"),
    "cparam01": TortureCase(outcome: .accepted, why: "unknownparam is a Contact header parameter"),
    "cparam02": TortureCase(outcome: .accepted, why: "unknownparam is a URI parameter"),
    "regescrt": TortureCase(outcome: .accepted, why: "escaped Route header kept in the Contact URI"),
    "sdp01": TortureCase(outcome: .accepted, why: "Accept mismatch is an application decision (406), not well-formedness"),
    "inv2543": TortureCase(outcome: .accepted, why: "RFC 2543 syntax: no branch, tag, Content-Length or Max-Forwards"),
    "test": TortureCase(outcome: .unparseable(.invalidRequestLine, at: "\r\nTO :"), why: "request line without SIP-Version"),
]

/// Vectors whose committed outcome is not met yet, with the reason. A gap that starts passing
/// fails the test, so this table only shrinks. It is empty.
let tortureKnownGaps: [String: String] = [:]

@Suite("RFC 4475 torture messages")
struct RFC4475Tests {
    @Test("the table covers exactly the 50 archive messages")
    func tableCoversIndex() {
        #expect(TortureFixtures.index.count == 50)
        #expect(Set(tortureCases.keys) == Set(TortureFixtures.index.keys))
        for (tag, entry) in TortureFixtures.index {
            let valid = entry.expected == "valid"
            if valid, case .unparseable = tortureCases[tag]?.outcome {
                Issue.record("\(tag) is valid per RFC 4475 but the table says unparseable")
            }
        }
    }

    @Test("each message gets its committed outcome", arguments: TortureFixtures.tags)
    func torture(tag: String) throws {
        let bytes = try TortureFixtures.bytes(tag)
        let entry = try #require(TortureFixtures.index[tag])
        #expect(bytes.count == entry.bytes)
        let expected = try #require(tortureCases[tag])
        let failures = Self.failures(tag: tag, bytes: bytes, expected: expected.outcome)
        if let gap = tortureKnownGaps[tag] {
            #expect(!failures.isEmpty, "\(tag) is listed as a known gap (\(gap)) but now passes: remove it from the table")
        } else {
            #expect(failures.isEmpty, "\(tag) (§\(entry.section), \(expected.why)): \(failures.joined(separator: "; "))")
        }
    }

    /// Checks one vector; returns what did not hold (empty when everything did).
    static func failures(tag: String, bytes: [UInt8], expected: TortureOutcome) -> [String] {
        var failures: [String] = []
        let (parsed, verdict) = SIPValidator.check(datagram: bytes)

        if case .unparseable(let code, let marker) = expected {
            do {
                _ = try SIPMessage(parsing: bytes)
                failures.append("parsed, expected \(code)")
            } catch {
                if error.code != code { failures.append("error \(error.code), expected \(code)") }
                if let at = offset(of: marker, in: bytes), error.offset != at {
                    failures.append("error at \(error.offset), expected \(at)")
                }
            }
            let isResponse = bytes.starts(with: Array("SIP/".utf8))
            let wanted: SIPVerdict.Action = isResponse ? .discard : .respond(status: 400, reason: "Bad Request")
            if verdict.action != wanted { failures.append("verdict \(verdict.action), expected \(wanted)") }
            return failures
        }

        guard let message = parsed else {
            return ["did not parse: \(verdict.problems.map(\.detail))"]
        }
        // Round trip: parse(serialize(parse(m))) == parse(m), and serialization is canonical.
        let serialized = message.serialize()
        if serialized.count != message.encodedSize { failures.append("encodedSize \(message.encodedSize) != \(serialized.count)") }
        do {
            let reparsed = try SIPMessage(parsing: serialized)
            if reparsed != message { failures.append("round trip changed the message") }
            if reparsed.serialize() != serialized { failures.append("serialization is not a fixed point") }
        } catch {
            failures.append("serialized form does not parse: \(error)")
        }

        func matches(_ problem: SIPProblem?, _ kind: SIPProblem.Kind, _ header: SIPHeaderName?, _ code: SIPParseError.Code?) -> Bool {
            guard let problem, problem.kind == kind else { return false }
            if let header, problem.header != header { return false }
            if let code, problem.error?.code != code { return false }
            return true
        }

        switch expected {
        case .accepted:
            if !verdict.isOK { failures.append("verdict \(verdict.action): \(verdict.problems.map(\.detail))") }
        case .rejected(let status, let kind, let header, let code):
            if verdict.status != status { failures.append("status \(String(describing: verdict.status)), expected \(status)") }
            if !matches(verdict.problems.first, kind, header, code) {
                failures.append("decisive problem \(verdict.problems.first.map { "\($0.kind) \(String(describing: $0.header)) \(String(describing: $0.error?.code))" } ?? "none"), expected \(kind) \(String(describing: header)) \(String(describing: code))")
            }
        case .discarded(let kind, let header, let code):
            if verdict.action != .discard { failures.append("verdict \(verdict.action), expected discard") }
            if !matches(verdict.problems.first, kind, header, code) {
                failures.append("decisive problem \(verdict.problems.first.map(\.detail) ?? "none"), expected \(kind)")
            }
        case .unparseable:
            break
        }
        return failures
    }

    // MARK: what individual vectors must yield beyond the verdict

    @Test("wsinv: folded, spaced and compact headers read as intended")
    func wsinvFields() throws {
        let request = try SIPRequest(parsing: try TortureFixtures.bytes("wsinv"))
        let headers = request.headers
        #expect(request.method == .invite)
        #expect(try headers.maxForwards == 68)
        #expect(try headers.cseq == SIPCSeq(sequence: 9, method: .invite))
        #expect(try headers.to?.tag == "1918181833n")
        let from = try #require(try headers.from)
        #expect(from.displayName == "J Rosenberg \\\"")
        #expect(from.tag == "98asjd8")
        let vias = try headers.via
        #expect(vias.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(vias.map(\.host) == [.ipv4("192.0.2.2"), .name("spindle.example.com"), .ipv4("192.168.255.111")])
        #expect(vias.map(\.branch) == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"])
        let contact = try #require(try headers.contacts?.addresses.first)
        #expect(contact.displayName == "Quoted string \"\"")
        #expect(contact.parameters.value("newparam") == "newvalue")
        #expect(contact.parameters.contains("secondparam"))
        #expect(contact.qThousandths == 330)
        #expect(try headers.route.first?.uri.sipURI?.isLooseRouter == true)
        #expect(headers.values("Subject") == [""])
        // Unknown headers are kept byte-exact; folding survives in the raw value.
        #expect(Array(try #require(headers.first("UnknownHeaderWithUnusualValue")).rawValue) == Array(";;,,;;,;".utf8))
        #expect(Array(try #require(headers.first("NewFangledHeader")).rawValue) == Array("newfangled value\r\n continued newfangled value".utf8))
        #expect(headers.values("NewFangledHeader") == ["newfangled value continued newfangled value"])
        #expect(request.body.count == 150)
    }

    @Test("intmeth: every token character, quoted-pairs with NUL, BEL and DEL")
    func intmethFields() throws {
        let request = try SIPRequest(parsing: try TortureFixtures.bytes("intmeth"))
        #expect(request.method.rawValue == "!interesting-Method0123456789_*+`.%indeed'~")
        let uri = try #require(request.uri.sipURI)
        #expect(uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        #expect(uri.host == .name("example.com"))
        #expect(try request.headers.topVia?.branch == "z9hG4bK-.!%66*_+`'~")
        #expect(try request.headers.to?.displayName == "BEL:\u{07} NUL:\u{00} DEL:\u{7F}")
        let from = try #require(try request.headers.from)
        #expect(from.displayName == "token1~` token2'+_ token3*%!.-")
        #expect(from.tag == "_token~1'+`*%!-.")
        #expect(from.parameters["fromParam''~+*_!.-%"]?.unquotedValue == "работающий")
        #expect(try request.headers.callID == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
        #expect(try request.headers.cseq?.method == request.method)
        // With a method list, an endpoint answers 501 with Allow (RFC 4475 §3.1.1.2).
        let policy = SIPValidator.Policy(implementedMethods: [.invite, .ack, .bye, .options])
        let verdict = SIPValidator.check(.request(request), policy: policy)
        #expect(verdict.status == 501)
        #expect(verdict.allow == [.ack, .bye, .invite, .options])
    }

    @Test("esc01 and escnull: escapes decode for comparison, NUL included")
    func escapes() throws {
        let esc01 = try SIPRequest(parsing: try TortureFixtures.bytes("esc01"))
        let uri = try #require(esc01.uri.sipURI)
        #expect(uri.user == "sips%3Auser%40example.com")
        #expect(uri.decodedUser == Array("sips:user@example.com".utf8))
        let to = try #require(try esc01.headers.to?.uri)
        #expect(to.isEquivalent(to: try URI(parsing: "sip:user@example.com")))
        let contact = try #require(try esc01.headers.contacts?.addresses.first?.uri.sipURI)
        #expect(contact.parameters.contains("lr"))
        #expect(contact.parameters.value("name") == "v%61lue%25%34%31")
        #expect(contact.isEquivalent(to: try SIPURI(parsing: "sip:caller@host5.example.net;lr;name=value%2541")))

        let escnull = try SIPRequest(parsing: try TortureFixtures.bytes("escnull"))
        #expect(try escnull.headers.to?.uri.sipURI?.decodedUser == Array("null-\u{0}-null".utf8))
        let contacts = try #require(try escnull.headers.contacts?.addresses)
        #expect(contacts.compactMap(\.uri.sipURI?.decodedUser) == [[0], [0, 0]])
        #expect(!contacts[0].uri.isEquivalent(to: contacts[1].uri))
    }

    @Test("esc02: % is literal where escaping is not in the grammar")
    func esc02Fields() throws {
        let request = try SIPRequest(parsing: try TortureFixtures.bytes("esc02"))
        #expect(request.method.rawValue == "RE%47IST%45R")
        #expect(request.method != .register)
        #expect(try request.headers.contacts?.addresses.count == 2)
        #expect(request.headers.count("C%6Fntact") == 1)
        #expect(try request.headers.from?.displayName == "%Z%45")
    }

    @Test("semiuri, cparam01/02, regescrt: where parameters and headers belong")
    func parameterPlacement() throws {
        let semiuri = try SIPRequest(parsing: try TortureFixtures.bytes("semiuri"))
        let uri = try #require(semiuri.uri.sipURI)
        #expect(uri.user == "user;par=u%40example.net")
        #expect(uri.decodedUser == Array("user;par=u@example.net".utf8))
        #expect(uri.parameters.isEmpty)
        #expect(semiuri.headers.values(.accept).count == 6)

        let cparam01 = try SIPRequest(parsing: try TortureFixtures.bytes("cparam01"))
        let c1 = try #require(try cparam01.headers.contacts?.addresses.first)
        #expect(c1.parameters.contains("unknownparam"))
        #expect(c1.uri.sipURI?.parameters.isEmpty == true)

        let cparam02 = try SIPRequest(parsing: try TortureFixtures.bytes("cparam02"))
        let c2 = try #require(try cparam02.headers.contacts?.addresses.first)
        #expect(c2.parameters.isEmpty)
        #expect(c2.uri.sipURI?.parameters.contains("unknownparam") == true)

        let regescrt = try SIPRequest(parsing: try TortureFixtures.bytes("regescrt"))
        let c3 = try #require(try regescrt.headers.contacts?.addresses.first?.uri.sipURI)
        #expect(c3.headers == [URIHeader("Route", "%3Csip:sip.example.com%3E")])
        #expect(c3.description == "sip:user@example.com?Route=%3Csip:sip.example.com%3E")
    }

    @Test("dblreq and mpart01: Content-Length frames the body, never string functions")
    func framing() throws {
        let dblreq = try SIPRequest(parsing: try TortureFixtures.bytes("dblreq"))
        #expect(dblreq.method == .register)
        #expect(dblreq.body.isEmpty)
        #expect(dblreq.framing?.trailingBytes == 450)
        #expect(!dblreq.serialize().contains(Array("INVITE".utf8)))

        let mpart = try SIPRequest(parsing: try TortureFixtures.bytes("mpart01"))
        #expect(mpart.body.count == 553)
        #expect(mpart.body.contains(0))
        #expect(mpart.body.suffix(22) == Array("--7a9cbec02ceef655--\r\n".utf8)[...])
        #expect(try mpart.headers.contentType?.parameters.value("boundary") == "7a9cbec02ceef655")
    }

    @Test("lwsstart and trws: liberal acceptance, canonical re-serialization")
    func liberalRequestLine() throws {
        let lwsstart = try SIPRequest(parsing: try TortureFixtures.bytes("lwsstart"))
        #expect(lwsstart.serialize().starts(with: Array("INVITE sip:user@example.com SIP/2.0\r\n".utf8)))
        let trws = try SIPRequest(parsing: try TortureFixtures.bytes("trws"))
        #expect(trws.serialize().starts(with: Array("OPTIONS sip:remote-target@example.com SIP/2.0\r\n".utf8)))
    }

    @Test("unreason and noreason: reason phrases kept exactly")
    func reasonPhrases() throws {
        let unreason = try SIPResponse(parsing: try TortureFixtures.bytes("unreason"))
        #expect(unreason.statusCode == 200)
        #expect(unreason.reasonPhrase == "= 2**3 * 5**2 но сто девяносто девять - простое")
        let noreason = try SIPResponse(parsing: try TortureFixtures.bytes("noreason"))
        #expect(noreason.statusCode == 100)
        #expect(noreason.reasonPhrase == "")
        #expect(noreason.serialize().starts(with: Array("SIP/2.0 100 \r\n".utf8)))
    }

    @Test("unksm2, unkscm, novelsc: unknown schemes parse as opaque URIs")
    func unknownSchemes() throws {
        let unksm2 = try SIPRequest(parsing: try TortureFixtures.bytes("unksm2"))
        #expect(try unksm2.headers.to?.uri == .other(AbsoluteURI(scheme: "isbn", rest: "2983792873")))
        #expect(try unksm2.headers.from?.uri == .other(AbsoluteURI(scheme: "http", rest: "//www.example.com")))
        #expect(try unksm2.headers.contacts?.addresses.first?.uri.scheme == "name")
        let unkscm = try SIPRequest(parsing: try TortureFixtures.bytes("unkscm"))
        #expect(unkscm.uri == .other(AbsoluteURI(scheme: "nobodyKnowsThisScheme", rest: "totallyopaquecontent")))
        let novelsc = try SIPRequest(parsing: try TortureFixtures.bytes("novelsc"))
        #expect(novelsc.uri.scheme == "soap.beep")
    }

    @Test("bext01: 420 lists the Require tags; a proxy lists Proxy-Require's")
    func badExtension() throws {
        let message = try SIPMessage(parsing: try TortureFixtures.bytes("bext01"))
        #expect(SIPValidator.check(message).unsupported == ["nothingSupportsThis", "nothingSupportsThisEither"])
        let proxy = SIPValidator.check(message, policy: SIPValidator.Policy(role: .proxy))
        #expect(proxy.status == 420)
        #expect(proxy.unsupported == ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"])
    }

    @Test("mismatch02: 501 before the CSeq check when the UAS lists its methods")
    func mismatch02WithMethods() throws {
        let message = try SIPMessage(parsing: try TortureFixtures.bytes("mismatch02"))
        let verdict = SIPValidator.check(message, policy: SIPValidator.Policy(implementedMethods: [.invite, .ack, .bye]))
        #expect(verdict.status == 501)
        #expect(verdict.problems.map(\.kind) == [.methodNotImplemented, .cseqMethodMismatch])
    }

    @Test("zeromf: a proxy answers 483; invut: 415 when the UAS lists body types")
    func roleSpecificAnswers() throws {
        let zeromf = try SIPMessage(parsing: try TortureFixtures.bytes("zeromf"))
        #expect(SIPValidator.check(zeromf, policy: SIPValidator.Policy(role: .proxy)).status == 483)
        let invut = try SIPMessage(parsing: try TortureFixtures.bytes("invut"))
        #expect(SIPValidator.check(invut, policy: SIPValidator.Policy(acceptedContentTypes: ["application/sdp"])).status == 415)
    }

    @Test("scalar02: Max-Forwards 300 and huge expiries are notes, CSeq decides")
    func scalar02Notes() throws {
        let verdict = SIPValidator.check(try SIPMessage(parsing: try TortureFixtures.bytes("scalar02")))
        #expect(verdict.problems.count == 1)
        #expect(verdict.notes.contains("Max-Forwards above 255; treated as absent"))
        #expect(verdict.notes.contains { $0.hasPrefix("Expires malformed") })
        #expect(verdict.notes.contains { $0.hasPrefix("Contact expires 280297596632815") })
    }

    @Test("insuf and multi01 list every problem")
    func everyProblemListed() throws {
        let insuf = SIPValidator.check(try SIPMessage(parsing: try TortureFixtures.bytes("insuf")))
        #expect(insuf.problems.filter { $0.kind == .missingHeader }.compactMap(\.header) == [.to, .from, .callID])
        let multi = SIPValidator.check(try SIPMessage(parsing: try TortureFixtures.bytes("multi01")))
        #expect(Set(multi.problems.filter { $0.kind == .duplicateHeader }.compactMap(\.header)) == [.callID, .cseq, .from, .to, .maxForwards])
    }

    @Test("inv2543: strict policy demands Max-Forwards")
    func strictMaxForwards() throws {
        let bytes = try TortureFixtures.bytes("inv2543")
        let message = try SIPMessage(parsing: bytes)
        #expect(try !message.headers.topVia!.hasRFC3261Branch)
        // No Content-Length: the body is the rest of the datagram (RFC 3261 §18.3).
        let bodyStart = try #require(offset(of: "\r\n\r\n", in: bytes)) + 4
        #expect(message.body.count == 105)
        #expect(message.body[...] == bytes[bodyStart...])
        let strict = SIPValidator.check(message, policy: SIPValidator.Policy(requiresMaxForwards: true))
        #expect(strict.status == 400)
        #expect(strict.problems.first?.header == .maxForwards)
    }
}
