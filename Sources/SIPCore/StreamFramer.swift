/// Splits the byte stream of a SIP connection over TCP or TLS into messages and keep-alives.
///
/// On a stream nothing marks where a message ends except its Content-Length, which is therefore
/// mandatory there (RFC 3261 §18.3, §20.14): the header section runs to the first empty line
/// (CRLFCRLF; bare LFs are line breaks too, as for the message parser) and the body is exactly
/// Content-Length bytes after it. Between messages a peer may
/// send RFC 5626 §3.5.1 keep-alives — a "ping" of CRLFCRLF, answered by a "pong" of one CRLF —
/// and any CRLF before a start-line is to be ignored (RFC 3261 §7.5); both are reported as
/// events rather than dropped so the transport can answer pings and time pongs.
///
/// The framer does no I/O: feed it what the socket delivered with `append(_:)`, then call
/// `next()` until it returns `nil`. The events do not depend on how the stream was split into
/// chunks. Datagram transports do not need it: one UDP datagram is one message.
///
/// Memory is bounded: once `next()` has returned `nil`, what stays buffered is one partial
/// message, shorter than `maximumHeaderSectionSize` while its header section is incomplete and
/// than `maximumMessageSize` after. `next()` fails as soon as a limit is known to be exceeded —
/// a Content-Length that is too large fails before one byte of the body has arrived.
///
/// **Errors are final.** After `next()` throws, the framer has failed: it drops its buffer,
/// ignores further input and throws the same error from every later `next()`. Once a message's
/// length is in doubt there is no way to find the next message boundary, so the transport must
/// close the connection.
public struct SIPStreamFramer: Sendable {
    public enum Event: Hashable, Sendable {
        /// The exact bytes of one message, start-line through the end of the body.
        case message([UInt8])
        /// CRLFCRLF between messages: an RFC 5626 keep-alive ping, to be answered with CRLF.
        case keepAlivePing
        /// A single CRLF between messages: an RFC 5626 pong (or a stray CRLF, RFC 3261 §7.5).
        case keepAlivePong
    }

    /// Which end of the connection this framer reads for, which decides how CRLFs between
    /// messages are read (RFC 5626 §3.5.1: the side that opened the flow sends pings, the
    /// other answers with pongs).
    public struct KeepAliveRole: Hashable, Sendable {
        enum Kind: Hashable, Sendable {
            case acceptor
            case initiator
        }

        let kind: Kind

        /// This side accepted the connection, so the peer may send pings. CRLFCRLF is a ping;
        /// a CRLF followed by anything else is a pong. A lone trailing CRLF is reported only
        /// once the next byte shows it is not the first half of a ping.
        public static let acceptor = KeepAliveRole(kind: .acceptor)
        /// This side opened the connection and sends the pings, so every CRLF that arrives
        /// between messages is a pong, reported as soon as it arrives (so a client can time it).
        public static let initiator = KeepAliveRole(kind: .initiator)
    }

    public struct Configuration: Hashable, Sendable {
        /// Largest header section accepted, start-line and the empty line included.
        public var maximumHeaderSectionSize: Int
        /// Largest message accepted: header section plus Content-Length.
        public var maximumMessageSize: Int
        public var keepAliveRole: KeepAliveRole

        public init(
            maximumHeaderSectionSize: Int = 65_536,
            maximumMessageSize: Int = 65_536,
            keepAliveRole: KeepAliveRole = .acceptor
        ) {
            self.maximumHeaderSectionSize = maximumHeaderSectionSize
            self.maximumMessageSize = maximumMessageSize
            self.keepAliveRole = keepAliveRole
        }
    }

    private enum State: Sendable {
        /// At a message boundary: CRLFs here are keep-alives.
        case betweenMessages
        /// Inside a header section; the first `scanned` bytes hold no empty line.
        case headerSection(scanned: Int)
        /// The header section is complete; the message is `length` bytes in all.
        case body(length: Int)
        case failed(StreamFramingError)
    }

    public let configuration: Configuration
    private var buffer: [UInt8] = []
    /// Start of the unconsumed bytes in `buffer`.
    private var readIndex = 0
    /// Bytes consumed since the start of the stream, for error offsets.
    private var consumed = 0
    private var state = State.betweenMessages

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Bytes received but not yet returned as events.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Whether a framing error has ended this stream.
    public var hasFailed: Bool {
        if case .failed = state { true } else { false }
    }

    /// Adds bytes read from the connection. Ignored once the framer has failed.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if case .failed = state { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 4096, readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete event, or `nil` when more bytes are needed.
    public mutating func next() throws(StreamFramingError) -> Event? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .betweenMessages:
                guard bufferedByteCount > 0 else { return nil }
                switch keepAlive() {
                case .event(let event, let length):
                    consume(length)
                    return event
                case .needMoreBytes:
                    return nil
                case .messageStarts:
                    state = .headerSection(scanned: 0)
                }
            case .headerSection(let scanned):
                guard let headerLength = headerSectionLength(searchingFrom: scanned) else {
                    if bufferedByteCount >= configuration.maximumHeaderSectionSize {
                        throw fail(.headerSectionTooLarge)
                    }
                    state = .headerSection(scanned: bufferedByteCount)
                    return nil
                }
                if headerLength > configuration.maximumHeaderSectionSize { throw fail(.headerSectionTooLarge) }
                let contentLength = try contentLength(headerSectionLength: headerLength)
                guard contentLength <= configuration.maximumMessageSize - headerLength else {
                    throw fail(.messageTooLarge)
                }
                state = .body(length: headerLength + contentLength)
            case .body(let length):
                guard bufferedByteCount >= length else { return nil }
                let message = Array(buffer[readIndex..<readIndex + length])
                consume(length)
                state = .betweenMessages
                return .message(message)
            }
        }
    }

    private enum KeepAliveScan {
        case event(Event, length: Int)
        case needMoreBytes
        case messageStarts
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    /// RFC 5626 §3.5.1 keep-alives at a message boundary. Anything that is not CRLF starts a
    /// message (a stray lone CR included: the message parser will reject it).
    private func keepAlive() -> KeepAliveScan {
        let available = bufferedByteCount
        func byte(_ offset: Int) -> UInt8 { buffer[readIndex + offset] }

        guard byte(0) == Self.cr else { return .messageStarts }
        guard available >= 2 else { return .needMoreBytes }
        guard byte(1) == Self.lf else { return .messageStarts }
        if configuration.keepAliveRole.kind == .initiator { return .event(.keepAlivePong, length: 2) }
        guard available >= 3 else { return .needMoreBytes }
        guard byte(2) == Self.cr else { return .event(.keepAlivePong, length: 2) }
        guard available >= 4 else { return .needMoreBytes }
        guard byte(3) == Self.lf else { return .event(.keepAlivePong, length: 2) }
        return .event(.keepAlivePing, length: 4)
    }

    /// Length of the header section including the empty line that ends it, if it is complete.
    ///
    /// The section ends at its first empty line: a line break directly followed by another.
    /// On the wire that is CRLFCRLF, but the message parser also reads a bare LF as a line break
    /// (`SIPMessageParser`), so the framer must end the section where the parser does — at
    /// LF LF and LF CRLF too. Otherwise the two disagree on where the body starts, and a message
    /// with bare LFs would hand the parser bytes the framer counted as headers (found by
    /// FuzzSIP). `scanned` bytes are known to hold no terminator, so the search resumes just
    /// before them (a terminator may straddle two appends) and drip-feeding stays linear.
    private func headerSectionLength(searchingFrom scanned: Int) -> Int? {
        let end = buffer.count
        var index = readIndex + max(0, scanned - 2)
        while index + 1 < end {
            if buffer[index] == Self.lf {
                if buffer[index + 1] == Self.lf { return index + 2 - readIndex }
                if buffer[index + 1] == Self.cr {
                    guard index + 2 < end else { return nil }
                    if buffer[index + 2] == Self.lf { return index + 3 - readIndex }
                }
            }
            index += 1
        }
        return nil
    }

    /// Finds Content-Length in a complete header section.
    ///
    /// ```
    /// Content-Length  =  ( "Content-Length" / "l" ) HCOLON 1*DIGIT   ; RFC 3261 §20.14, §7.3.3
    /// HCOLON          =  *( SP / HTAB ) ":" SWS
    /// ```
    ///
    /// Header names are case-insensitive and a header may be folded over several lines
    /// (RFC 3261 §7.3.1); the start-line is skipped. Absent, repeated, non-numeric (signs
    /// included) or empty values are errors; a value too large to fit is `messageTooLarge`.
    private mutating func contentLength(headerSectionLength: Int) throws(StreamFramingError) -> Int {
        // The lines, each without its line break (CRLF or, as the parser allows, a bare LF);
        // the empty line that ends the section is not among them.
        let section = buffer[readIndex..<readIndex + headerSectionLength]
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = section.startIndex
        for index in section.indices where section[index] == Self.lf {
            let contentEnd = index > lineStart && section[index - 1] == Self.cr ? index - 1 : index
            if contentEnd == lineStart { break }  // the empty line
            lines.append(section[lineStart..<contentEnd])
            lineStart = index + 1
        }

        var value: [UInt8]?
        var lineIndex = 1  // lines[0] is the start-line
        while lineIndex < lines.count {
            var header = Array(lines[lineIndex])
            lineIndex += 1
            if header.first == 0x20 || header.first == 0x09 { continue }  // folded start-line
            while lineIndex < lines.count, let first = lines[lineIndex].first, first == 0x20 || first == 0x09 {
                header.append(0x20)
                header.append(contentsOf: lines[lineIndex])
                lineIndex += 1
            }
            guard let headerValue = Self.contentLengthValue(header) else { continue }
            if value != nil { throw fail(.multipleContentLengths) }
            value = headerValue
        }

        guard let value else { throw fail(.missingContentLength) }
        var low = value.startIndex
        var high = value.endIndex
        while low < high, Self.isWhitespace(value[low]) { low += 1 }
        while high > low, Self.isWhitespace(value[high - 1]) { high -= 1 }
        let digits = value[low..<high]
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw fail(.invalidContentLength)
        }
        var length = 0
        for digit in digits {
            let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(digit - 0x30))
            if overflow1 || overflow2 { throw fail(.messageTooLarge) }
            length = sum
        }
        return length
    }

    /// The value of an unfolded header line if its name is Content-Length or its compact form.
    private static func contentLengthValue(_ line: [UInt8]) -> [UInt8]? {
        var nameEnd = 0
        while nameEnd < line.count, line[nameEnd] != UInt8(ascii: ":"), !isWhitespace(line[nameEnd]) { nameEnd += 1 }
        var colon = nameEnd
        while colon < line.count, isWhitespace(line[colon]) { colon += 1 }
        guard colon < line.count, line[colon] == UInt8(ascii: ":") else { return nil }
        let name = line[0..<nameEnd].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        guard name.elementsEqual("content-length".utf8) || name.elementsEqual("l".utf8) else { return nil }
        return Array(line[(colon + 1)...])
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09
    }

    private mutating func consume(_ length: Int) {
        readIndex += length
        consumed += length
    }

    /// Enters the failed state: the buffer is released and later input ignored.
    private mutating func fail(_ code: StreamFramingError.Code) -> StreamFramingError {
        let error = StreamFramingError(code: code, messageOffset: consumed)
        state = .failed(error)
        buffer = []
        readIndex = 0
        return error
    }
}

/// Why a SIP stream could not be framed. Every one of these ends the connection: see
/// `SIPStreamFramer`.
public struct StreamFramingError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        /// No empty line (end of the header section) within `maximumHeaderSectionSize` bytes.
        case headerSectionTooLarge
        /// Header section plus Content-Length exceeds `maximumMessageSize`.
        case messageTooLarge
        /// No Content-Length header, which a stream cannot do without (RFC 3261 §18.3).
        case missingContentLength
        /// Content-Length is not 1*DIGIT (empty, signed, negative, or not a number).
        case invalidContentLength
        /// More than one Content-Length header: the message length is ambiguous.
        case multipleContentLengths
    }

    public let code: Code
    /// Offset in the stream of the first byte of the offending message.
    public let messageOffset: Int

    public init(code: Code, messageOffset: Int) {
        self.code = code
        self.messageOffset = messageOffset
    }

    public var description: String {
        let text =
            switch code {
            case .headerSectionTooLarge: "header section too large"
            case .messageTooLarge: "message too large"
            case .missingContentLength: "missing Content-Length on a stream transport"
            case .invalidContentLength: "invalid Content-Length"
            case .multipleContentLengths: "more than one Content-Length"
            }
        return "\(text) (message at stream offset \(messageOffset))"
    }
}
