extension SessionDescription {
    /// The description as text with CRLF line endings (RFC 8866 §5), fields in §5 order.
    public func serialize() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + 128 * media.count)
        encode(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Number of bytes ``encode(into:)`` appends — the `Content-Length` of this body.
    public var encodedSize: Int {
        var counter = Serializer.Counter()
        Serializer.write(self, to: &counter)
        return counter.count
    }

    /// Appends the wire form to `buffer` (for building a SIP message without copies).
    public func encode(into buffer: inout [UInt8]) {
        var sink = Serializer.Bytes(buffer: buffer)
        buffer = []
        Serializer.write(self, to: &sink)
        buffer = sink.buffer
    }
}

enum Serializer {
    protocol Sink {
        mutating func append(_ string: String)
        mutating func append(_ byte: UInt8)
    }

    struct Bytes: Sink {
        var buffer: [UInt8]
        mutating func append(_ string: String) { buffer.append(contentsOf: string.utf8) }
        mutating func append(_ byte: UInt8) { buffer.append(byte) }
    }

    struct Counter: Sink {
        var count = 0
        mutating func append(_ string: String) { count += string.utf8.count }
        mutating func append(_ byte: UInt8) { count += 1 }
    }

    static func write(_ sdp: SessionDescription, to sink: inout some Sink) {
        func line(_ type: Unicode.Scalar, _ value: String) {
            sink.append(UInt8(ascii: type))
            sink.append(UInt8(ascii: "="))
            sink.append(value)
            sink.append(0x0D)
            sink.append(0x0A)
        }
        line("v", "0")
        let o = sdp.origin
        line(
            "o",
            "\(o.username) \(o.sessionID) \(o.sessionVersion) \(o.networkType) \(o.addressType) \(o.address)")
        line("s", sdp.sessionName)
        if let i = sdp.information { line("i", i) }
        if let u = sdp.uri { line("u", u) }
        for e in sdp.emailAddresses { line("e", e) }
        for p in sdp.phoneNumbers { line("p", p) }
        if let c = sdp.connection { line("c", connectionValue(c)) }
        for b in sdp.bandwidths { line("b", "\(b.type):\(b.value)") }
        for t in sdp.times.isEmpty ? [TimeDescription()] : sdp.times {
            line("t", "\(t.start) \(t.stop)")
            for r in t.repeats { line("r", r) }
            if let z = t.zoneAdjustments { line("z", z) }
        }
        for a in sdp.attributes { line("a", attributeValue(a)) }
        for m in sdp.media {
            let port = m.portCount.map { "\(m.port)/\($0)" } ?? "\(m.port)"
            line("m", ([m.media, port, m.proto] + m.formats).joined(separator: " "))
            if let i = m.information { line("i", i) }
            for c in m.connections { line("c", connectionValue(c)) }
            for b in m.bandwidths { line("b", "\(b.type):\(b.value)") }
            for a in m.attributes { line("a", attributeValue(a)) }
        }
    }

    static func attributeValue(_ a: Attribute) -> String {
        a.value.map { "\(a.name):\($0)" } ?? a.name
    }

    /// `<nettype> <addrtype> <address>[/<ttl>][/<number of addresses>]`
    static func connectionValue(_ c: ConnectionInformation) -> String {
        var text = "\(c.networkType) \(c.addressType) \(c.address)"
        if let ttl = c.ttl { text += "/\(ttl)" }
        if let count = c.addressCount { text += "/\(count)" }
        return text
    }
}
