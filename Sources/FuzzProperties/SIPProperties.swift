import SIPCore

/// The properties `FuzzSIP` checks on one input, read as a UDP datagram and as a TCP stream.
///
/// * Datagram: `SIPValidator.check(datagram:)` agrees with `SIPMessage(parsing:)` on whether
///   the bytes are a message (and never accepts one that is not); whatever parses serializes
///   to `encodedSize` bytes that parse back equal, and that serialization is a fixed point
///   (RFC 4475 round trip, STYLE "whatever parses must serialize and parse back equal").
/// * Typed headers: every typed value that parses (Via, From, To, Contact, Route,
///   Record-Route, CSeq, Content-Type, Session-Expires, the Request-URI, digest challenges
///   and credentials) prints as text that parses back to an equal value; a Request-URI is
///   equivalent to itself (RFC 3261 §19.1.4 comparison is reflexive).
/// * Stream: `SIPStreamFramer` gives the same events, error and left-over bytes whether the
///   stream arrives whole or cut in two (its documented contract), in both keep-alive roles
///   and with tight size limits; a framed message that parses has exactly its Content-Length
///   of body.
enum SIPProperties {
    static func check(_ bytes: [UInt8]) throws(PropertyViolation) -> Bool {
        try streamFraming(bytes)

        let (checked, verdict) = SIPValidator.check(datagram: bytes)
        let message: SIPMessage
        do throws(SIPParseError) {
            message = try SIPMessage(parsing: bytes)
        } catch {
            try require(checked == nil, "validator parsed a datagram the parser rejects (\(error))")
            try require(!verdict.isOK, "validator accepts an unparseable datagram (\(error))")
            return false
        }
        try require(checked == message, "validator parsed the datagram differently from SIPMessage(parsing:)")
        try roundTrip(message)
        try typedHeaders(message)
        return true
    }

    // MARK: datagram

    private static func roundTrip(_ message: SIPMessage) throws(PropertyViolation) {
        let serialized = message.serialize()
        try require(serialized.count == message.encodedSize,
                    "encodedSize \(message.encodedSize) but serialize() wrote \(serialized.count) bytes")
        var appended: [UInt8] = [0x7E]
        switch message {
        case .request(let request): request.encode(into: &appended)
        case .response(let response): response.encode(into: &appended)
        }
        try require(appended.dropFirst().elementsEqual(serialized), "encode(into:) differs from serialize()")

        let reparsed: SIPMessage
        do throws(SIPParseError) {
            reparsed = try SIPMessage(parsing: serialized)
        } catch {
            throw PropertyViolation(description: "serialized message does not parse: \(error)\n\(text(serialized))")
        }
        try require(reparsed == message, "parse(serialize(m)) != m\n\(text(serialized))")
        try require(reparsed.serialize() == serialized, "serialization is not a fixed point\n\(text(serialized))")
        _ = SIPValidator.check(reparsed)
    }

    private static func typedHeaders(_ message: SIPMessage) throws(PropertyViolation) {
        let headers = message.headers
        if case .request(let request) = message {
            try reparse(request.uri, "Request-URI", URI.init(parsing:))
            try require(request.uri.isEquivalent(to: request.uri), "Request-URI \(request.uri) not equivalent to itself")
        }
        if let vias = try? headers.via {
            for via in vias { try reparse(via, "Via", SIPVia.init(parsing:)) }
            try require((try? headers.topVia) == vias.first, "topVia differs from via.first")
        }
        for address in [try? headers.from, try? headers.to].compactMap({ $0 }) {
            try reparse(address, "From/To", SIPNameAddress.init(parsing:))
        }
        if let contacts = try? headers.contacts {
            for contact in contacts.addresses { try reparse(contact, "Contact", SIPNameAddress.init(parsing:)) }
        }
        for route in (try? headers.route) ?? [] { try reparse(route, "Route", SIPNameAddress.init(parsing:)) }
        for route in (try? headers.recordRoute) ?? [] { try reparse(route, "Record-Route", SIPNameAddress.init(parsing:)) }
        if let cseq = try? headers.cseq { try reparse(cseq, "CSeq", SIPCSeq.init(parsing:)) }
        if let type = try? headers.contentType { try reparse(type, "Content-Type", SIPMediaType.init(parsing:)) }
        if let expires = try? headers.sessionExpires {
            try reparse(expires, "Session-Expires", SIPSessionExpires.init(parsing:))
        }
        // Values with no printed form: reading them must not crash.
        _ = try? headers.callID
        _ = try? headers.maxForwards
        _ = try? headers.contentLength
        _ = try? headers.allow
        _ = try? headers.supported
        _ = try? headers.require
        _ = try? headers.proxyRequire
        _ = try? headers.unsupported
        _ = try? headers.minSE
        _ = try? headers.expires

        for name in [SIPHeaderName.wwwAuthenticate, .proxyAuthenticate] {
            for value in headers.credentialsValues(name) {
                guard let challenge = try? DigestChallenge(parsing: value) else { continue }
                try reparse(challenge, "\(name)", DigestChallenge.init(parsing:))
            }
        }
        for name in [SIPHeaderName.authorization, .proxyAuthorization] {
            for value in headers.credentialsValues(name) {
                guard let credentials = try? DigestCredentials(parsing: value) else { continue }
                try reparse(credentials, "\(name)", DigestCredentials.init(parsing:))
            }
        }
    }

    /// `value` printed and parsed again must be `value`.
    private static func reparse<Value: Equatable & CustomStringConvertible, Failure: Error>(
        _ value: Value, _ what: String, _ parse: (String) throws(Failure) -> Value
    ) throws(PropertyViolation) {
        let printed = value.description
        let again: Value
        do throws(Failure) {
            again = try parse(printed)
        } catch {
            throw PropertyViolation(description: "\(what) printed as \(printed.debugDescription) does not parse: \(error)")
        }
        try require(again == value, "\(what) \(printed.debugDescription) parses back as a different value")
    }

    // MARK: stream

    private struct FramedStream: Equatable {
        var events: [SIPStreamFramer.Event] = []
        var error: StreamFramingError?
        var leftOver = 0
    }

    private static let framerConfigurations = [
        SIPStreamFramer.Configuration(),
        SIPStreamFramer.Configuration(maximumHeaderSectionSize: 160, maximumMessageSize: 320, keepAliveRole: .initiator),
    ]

    private static func streamFraming(_ bytes: [UInt8]) throws(PropertyViolation) {
        let cut = splitPoint(of: bytes)
        for configuration in framerConfigurations {
            let whole = frame([bytes[...]], configuration)
            let split = frame([bytes[..<cut], bytes[cut...]], configuration)
            try require(whole == split, """
                framer events depend on the split at \(cut) (\(configuration.keepAliveRole == .acceptor ? "acceptor" : "initiator")): \
                whole \(summary(whole)), split \(summary(split))
                """)
            for case .message(let framed) in whole.events {
                guard let message = try? SIPMessage(parsing: framed), let framing = message.framing else { continue }
                try require(framing.missingBodyBytes == 0 && framing.trailingBytes == 0, """
                    framer and parser disagree on the body of a framed message: Content-Length \
                    \(framing.declaredContentLength.map(String.init) ?? "absent"), body \(framing.availableBodyLength)
                    """)
            }
        }
    }

    private static func frame(_ chunks: [ArraySlice<UInt8>], _ configuration: SIPStreamFramer.Configuration) -> FramedStream {
        var framer = SIPStreamFramer(configuration: configuration)
        var stream = FramedStream()
        for chunk in chunks {
            framer.append(chunk)
            do throws(StreamFramingError) {
                while let event = try framer.next() { stream.events.append(event) }
            } catch {
                stream.error = error
                return stream
            }
        }
        stream.leftOver = framer.bufferedByteCount
        return stream
    }

    private static func summary(_ stream: FramedStream) -> String {
        let events = stream.events.map { event in
            switch event {
            case .message(let bytes): "message(\(bytes.count))"
            case .keepAlivePing: "ping"
            case .keepAlivePong: "pong"
            }
        }
        return "[\(events.joined(separator: ", "))] error \(stream.error.map { "\($0)" } ?? "none") left \(stream.leftOver)"
    }

    private static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(600), as: UTF8.self).debugDescription
    }
}
