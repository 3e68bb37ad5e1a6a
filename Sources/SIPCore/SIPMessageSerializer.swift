// Canonical serialization (RFC 3261 §7):
// * the start line with single SPs and "SIP/x.y";
// * one line per header field, in order: known headers under their long canonical name
//   (compact forms expanded), unknown headers as written, then ": " and the value with each
//   fold replaced by one SP (§7.3.1) — otherwise byte-exact;
// * exactly one Content-Length, equal to the body size, where the first one was (or last when
//   the message had none), so a message built or edited in code is always framed correctly;
// * CRLF, then the body.
// `parse(serialize(m)) == m` for every message `m` the parser returns.

extension SIPMessage {
    public func serialize() -> [UInt8] {
        switch self {
        case .request(let request): request.serialize()
        case .response(let response): response.serialize()
        }
    }

    public var encodedSize: Int {
        switch self {
        case .request(let request): request.encodedSize
        case .response(let response): response.encodedSize
        }
    }

    public func encode(into buffer: inout [UInt8]) {
        switch self {
        case .request(let request): request.encode(into: &buffer)
        case .response(let response): response.encode(into: &buffer)
        }
    }
}

extension SIPRequest {
    var startLine: String { "\(method.rawValue) \(uri.description) \(version.description)" }

    public func serialize() -> [UInt8] { MessageWriter.serialize(startLine: startLine, headers: headers, body: body) }

    public var encodedSize: Int { MessageWriter.size(startLine: startLine, headers: headers, body: body) }

    public func encode(into buffer: inout [UInt8]) {
        MessageWriter.write(startLine: startLine, headers: headers, body: body, into: &buffer)
    }
}

extension SIPResponse {
    var startLine: String {
        reasonPhrase.isEmpty ? "\(version.description) \(statusCode) " : "\(version.description) \(statusCode) \(reasonPhrase)"
    }

    public func serialize() -> [UInt8] { MessageWriter.serialize(startLine: startLine, headers: headers, body: body) }

    public var encodedSize: Int { MessageWriter.size(startLine: startLine, headers: headers, body: body) }

    public func encode(into buffer: inout [UInt8]) {
        MessageWriter.write(startLine: startLine, headers: headers, body: body, into: &buffer)
    }
}

enum MessageWriter {
    private static let crlf: [UInt8] = [ASCII.cr, ASCII.lf]

    static func serialize(startLine: String, headers: SIPHeaders, body: [UInt8]) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(estimatedSize(headers: headers, body: body))
        write(startLine: startLine, headers: headers, body: body, into: &buffer)
        return buffer
    }

    static func write(startLine: String, headers: SIPHeaders, body: [UInt8], into buffer: inout [UInt8]) {
        buffer.append(contentsOf: startLine.utf8)
        buffer.append(contentsOf: crlf)
        var wroteLength = false
        for field in headers {
            if field.name == .contentLength {
                if !wroteLength { writeContentLength(body.count, into: &buffer) }
                wroteLength = true
                continue
            }
            writeName(field, into: &buffer)
            buffer.append(ASCII.colon)
            if !field.rawValue.isEmpty {
                buffer.append(ASCII.space)
                writeUnfolded(field.rawValue, into: &buffer)
            }
            buffer.append(contentsOf: crlf)
        }
        if !wroteLength { writeContentLength(body.count, into: &buffer) }
        buffer.append(contentsOf: crlf)
        buffer.append(contentsOf: body)
    }

    static func size(startLine: String, headers: SIPHeaders, body: [UInt8]) -> Int {
        let lengthLine = "Content-Length: \(body.count)\r\n".utf8.count
        var total = startLine.utf8.count + 2
        var wroteLength = false
        for field in headers {
            if field.name == .contentLength {
                if !wroteLength { total += lengthLine }
                wroteLength = true
                continue
            }
            total += nameLength(field) + 1 + (field.rawValue.isEmpty ? 0 : 1 + Folding.unfoldedCount(field.rawValue)) + 2
        }
        if !wroteLength { total += lengthLine }
        return total + 2 + body.count
    }

    static func estimatedSize(headers: SIPHeaders, body: [UInt8]) -> Int {
        headers.reduce(128 + body.count) { $0 + $1.nameAsWritten.count + $1.rawValue.count + 24 }
    }

    private static func writeName(_ field: SIPHeaderField, into buffer: inout [UInt8]) {
        if field.name.isKnown {
            buffer.append(contentsOf: field.name.canonical.utf8)
        } else {
            buffer.append(contentsOf: field.nameAsWritten)
        }
    }

    private static func nameLength(_ field: SIPHeaderField) -> Int {
        field.name.isKnown ? field.name.canonical.utf8.count : field.nameAsWritten.count
    }

    private static func writeUnfolded(_ raw: ArraySlice<UInt8>, into buffer: inout [UInt8]) {
        // Fast path: most values carry no fold.
        if !raw.contains(where: { $0 == ASCII.cr || $0 == ASCII.lf }) {
            buffer.append(contentsOf: raw)
        } else {
            buffer.append(contentsOf: Folding.unfold(raw))
        }
    }

    private static func writeContentLength(_ length: Int, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "Content-Length: \(length)".utf8)
        buffer.append(contentsOf: crlf)
    }
}
