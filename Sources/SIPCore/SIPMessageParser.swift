/// The datagram parser: one pass over the bytes that finds the start line, the header lines
/// (with folds) and the body, creating no per-byte strings. Header values stay slices of the
/// input; typed header parsing happens on access.
///
/// Tolerances, each allowed by RFC 3261 or RFC 4475:
/// * CRLFs before the start line are skipped (§7.5).
/// * Extra SP between request-line elements and after SIP-Version (RFC 4475 §3.1.2.9/10:
///   "liberal elements may ignore"); serialization writes single SPs.
/// * A status line without the SP before an empty reason phrase (RFC 4475 §3.1.1.13).
/// * LWS before the colon of a header (`Via  : ...`, §7.3.1, RFC 4475 §3.1.1.1).
/// * Bare LF as a line break; a datagram that ends without the empty line after its headers.
enum SIPMessageParser {
    static func parse(_ bytes: [UInt8]) throws(SIPParseError) -> SIPMessage {
        let count = bytes.count
        var position = 0
        // RFC 3261 §7.5: ignore CRLFs before the start-line.
        while position < count && (bytes[position] == ASCII.cr || bytes[position] == ASCII.lf) { position += 1 }
        guard position < count else { throw SIPParseError(.emptyMessage, at: 0) }

        guard let startLine = try nextLine(bytes, from: position) else {
            throw SIPParseError(.truncatedStartLine, at: count)
        }
        let startContent = bytes[position..<startLine.contentEnd]
        position = startLine.next
        var message: SIPMessage = isStatusLine(startContent)
            ? .response(try parseStatusLine(startContent))
            : .request(try parseRequestLine(startContent))

        var headers = SIPHeaders()
        headers.reserveCapacity(16)
        var contentLength: Int?
        var terminated = false
        let tokenSet = SIPGrammar.token
        let contentLengthID = HeaderRegistry.contentLengthID

        headerLoop: while position < count {
            let first = bytes[position]
            if first == ASCII.lf {
                position += 1
                terminated = true
                break headerLoop
            }
            if first == ASCII.cr {
                guard position + 1 < count, bytes[position + 1] == ASCII.lf else {
                    throw SIPParseError(.bareCarriageReturn, at: position)
                }
                position += 2
                terminated = true
                break headerLoop
            }
            if ASCII.isWSP(first) { throw SIPParseError(.unexpectedContinuation, at: position) }

            // field-name = token; then optional WSP, then ":"
            let nameStart = position
            while position < count && tokenSet.contains(bytes[position]) { position += 1 }
            let nameEnd = position
            while position < count && ASCII.isWSP(bytes[position]) { position += 1 }
            guard position < count, bytes[position] == ASCII.colon else {
                if nameEnd == nameStart { throw SIPParseError(.invalidHeaderName, at: nameStart) }
                let atLineEnd = position >= count || bytes[position] == ASCII.cr || bytes[position] == ASCII.lf
                throw SIPParseError(atLineEnd || position > nameEnd ? .missingColon : .invalidHeaderName, at: position)
            }
            if nameEnd == nameStart { throw SIPParseError(.invalidHeaderName, at: nameStart) }
            position += 1

            // field-value runs to the first line break not followed by SP/HTAB (a fold).
            var valueStart = -1
            var valueEnd = position
            while true {
                var lineEnd = position
                while lineEnd < count {
                    let byte = bytes[lineEnd]
                    if byte == ASCII.cr || byte == ASCII.lf { break }
                    if valueStart < 0 && !ASCII.isWSP(byte) { valueStart = lineEnd }
                    lineEnd += 1
                }
                if valueStart >= 0 { valueEnd = lineEnd }
                guard let line = try lineBreak(bytes, at: lineEnd) else {
                    position = count
                    break
                }
                position = line
                if position < count && ASCII.isWSP(bytes[position]) { continue }
                break
            }
            if valueStart < 0 { valueStart = valueEnd }
            // Trailing white space (and any fold that carried nothing) is not part of the value.
            while valueEnd > valueStart && ASCII.isLWS(bytes[valueEnd - 1]) { valueEnd -= 1 }

            let name = SIPHeaderName(bytes, nameStart..<nameEnd)
            let field = SIPHeaderField(name: name, line: bytes[nameStart..<valueEnd], nameEnd: nameEnd, valueStart: valueStart)
            if name.id == contentLengthID {
                let length = try parseContentLength(field.rawValue)
                if let previous = contentLength, previous != length {
                    throw SIPParseError(.conflictingContentLength, at: valueStart)
                }
                contentLength = length
            }
            headers.append(parsed: field)
        }

        // RFC 3261 §18.3: the body is Content-Length octets; without Content-Length it runs to
        // the end of the datagram. Octets beyond it are discarded; a shortfall is kept for the
        // validator to judge (400 for a request, discard for a response).
        let available = count - position
        let bodyLength = min(contentLength ?? available, available)
        let body = Array(bytes[position..<(position + bodyLength)])
        let framing = SIPFraming(headerLength: position, headerSectionTerminated: terminated,
                                 declaredContentLength: contentLength, availableBodyLength: available)

        switch message {
        case .request(var request):
            request.headers = headers
            request.body = body
            request.framing = framing
            message = .request(request)
        case .response(var response):
            response.headers = headers
            response.body = body
            response.framing = framing
            message = .response(response)
        }
        return message
    }

    /// The end of the line content starting at `start` and the index after its line break, or
    /// nil when the bytes end before any line break.
    private static func nextLine(_ bytes: [UInt8], from start: Int) throws(SIPParseError) -> (contentEnd: Int, next: Int)? {
        var i = start
        while i < bytes.count && bytes[i] != ASCII.cr && bytes[i] != ASCII.lf { i += 1 }
        guard let next = try lineBreak(bytes, at: i) else { return nil }
        return (i, next)
    }

    /// At a CR or LF (or the end): the index after CRLF or LF; nil at the end of the bytes.
    private static func lineBreak(_ bytes: [UInt8], at i: Int) throws(SIPParseError) -> Int? {
        guard i < bytes.count else { return nil }
        if bytes[i] == ASCII.lf { return i + 1 }
        guard i + 1 < bytes.count, bytes[i + 1] == ASCII.lf else { throw SIPParseError(.bareCarriageReturn, at: i) }
        return i + 2
    }

    /// Content-Length = ( "Content-Length" / "l" ) HCOLON 1*DIGIT   (RFC 3261 §20.14)
    /// Values above 2^31-1 or with any non-digit (RFC 4475 §3.1.2.3: -999) are rejected: a
    /// framing error cannot be recovered.
    static func parseContentLength(_ value: ArraySlice<UInt8>) throws(SIPParseError) -> Int {
        var cursor = ByteCursor(value)
        let length: UInt64
        do throws(SIPParseError) {
            length = try cursor.decimal(limit: UInt64(Int32.max))
        } catch {
            throw SIPParseError(.invalidContentLength, at: error.offset)
        }
        guard cursor.isAtEnd else { throw SIPParseError(.invalidContentLength, at: cursor.index) }
        return Int(length)
    }

    private static func isStatusLine(_ line: ArraySlice<UInt8>) -> Bool {
        // A method is a token and "/" is not a token character, so "SIP/" begins only a status line.
        guard line.count >= 4 else { return false }
        let s = line.startIndex
        return ASCII.lower(line[s]) == 0x73 && ASCII.lower(line[s + 1]) == 0x69
            && ASCII.lower(line[s + 2]) == 0x70 && line[s + 3] == ASCII.slash
    }

    /// Request-Line = Method SP Request-URI SP SIP-Version CRLF        (RFC 3261 §7.1, §25.1)
    private static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(SIPParseError) -> SIPRequest {
        var cursor = ByteCursor(line)
        guard let methodRange = cursor.token() else { throw SIPParseError(.invalidMethod, at: line.startIndex) }
        guard let afterMethod = cursor.peek() else { throw SIPParseError(.invalidRequestLine, at: cursor.index) }
        guard afterMethod == ASCII.space else { throw SIPParseError(.invalidMethod, at: cursor.index) }
        while cursor.index < cursor.end && cursor.bytes[cursor.index] == ASCII.space { cursor.index += 1 }

        // The version is the last SP-separated word; trailing SPs are tolerated.
        var end = line.endIndex
        while end > cursor.index && ASCII.isWSP(line[end - 1]) { end -= 1 }
        var versionStart = end
        while versionStart > cursor.index && line[versionStart - 1] != ASCII.space { versionStart -= 1 }
        var uriEnd = versionStart
        while uriEnd > cursor.index && line[uriEnd - 1] == ASCII.space { uriEnd -= 1 }
        guard uriEnd > cursor.index, versionStart < end else {
            throw SIPParseError(.invalidRequestLine, at: line.endIndex)
        }
        let uriBytes = line[cursor.index..<uriEnd]
        if let blank = uriBytes.firstIndex(where: { ASCII.isWSP($0) }) {
            throw SIPParseError(.invalidRequestURI, at: blank)
        }
        let uri: URI
        do throws(SIPParseError) {
            uri = try URI.parse(uriBytes)
        } catch {
            throw SIPParseError(.invalidRequestURI, at: error.offset)
        }
        let version = try SIPVersion(parsing: line[versionStart..<end])
        return SIPRequest(method: SIPMethod(token: line[methodRange]), uri: uri, version: version)
    }

    /// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF   (RFC 3261 §7.2, §25.1)
    /// Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB)
    private static func parseStatusLine(_ line: ArraySlice<UInt8>) throws(SIPParseError) -> SIPResponse {
        var i = line.startIndex
        while i < line.endIndex && line[i] != ASCII.space { i += 1 }
        let version = try SIPVersion(parsing: line[line.startIndex..<i])
        guard i < line.endIndex else { throw SIPParseError(.invalidStatusCode, at: i) }
        i += 1
        let codeStart = i
        while i < line.endIndex && ASCII.isDigit(line[i]) { i += 1 }
        guard i - codeStart == 3, i == line.endIndex || line[i] == ASCII.space else {
            throw SIPParseError(.invalidStatusCode, at: codeStart)
        }
        let code = Int(line[codeStart] - ASCII.zero) * 100 + Int(line[codeStart + 1] - ASCII.zero) * 10
            + Int(line[codeStart + 2] - ASCII.zero)
        guard (100...699).contains(code) else { throw SIPParseError(.invalidStatusCode, at: codeStart) }
        let reasonStart = i < line.endIndex ? i + 1 : i
        for j in reasonStart..<line.endIndex {
            let byte = line[j]
            if byte < 0x20 && byte != ASCII.tab || byte == 0x7F { throw SIPParseError(.invalidReasonPhrase, at: j) }
        }
        let reason = String(decoding: line[reasonStart..<line.endIndex], as: UTF8.self)
        return SIPResponse(statusCode: code, reasonPhrase: reason, version: version)
    }
}
