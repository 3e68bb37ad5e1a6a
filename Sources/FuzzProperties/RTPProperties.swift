import RTPCore

/// The properties `FuzzRTP` checks on one input, read as an RTP datagram.
///
/// * `RTPPacketView` (the allocation-free receive path) and `RTPPacket` accept exactly the same
///   datagrams, refuse the rest with the same error, and read the same fields — the view's
///   documented promise.
/// * An accepted packet encodes to `encodedSize` bytes equal to the input except for the
///   padding octets before the count, which the model does not keep (RFC 3550 §5.1), and that
///   encoding decodes to the same packet. Decoding from a slice that does not start at index 0
///   gives the same result.
/// * RFC 8285 header-extension elements that decode rebuild, through the one-byte or two-byte
///   constructor, into an extension with the same profile and the same elements.
/// * RFC 4733: a payload that is a whole number of telephone-event reports encodes back to
///   itself, and a single report decodes the same through both entry points.
enum RTPProperties {
    static func check(_ bytes: [UInt8]) throws(PropertyViolation) -> Bool {
        try telephoneEvents(bytes[...])

        let viewResult = Result { () throws(RTPError) in try RTPPacketView(parsing: bytes) }
        let packetResult = Result { () throws(RTPError) in try RTPPacket(parsing: bytes) }
        let offsetResult = Result { () throws(RTPError) in try RTPPacket(parsing: offsetSlice(bytes)) }
        try require(packetResult == offsetResult, "RTPPacket decodes a slice at offset 1 differently: \(packetResult) vs \(offsetResult)")
        let view: RTPPacketView
        let packet: RTPPacket
        switch (viewResult, packetResult) {
        case (.failure(let viewError), .failure(let packetError)):
            try require(viewError == packetError, "view rejects with \(viewError), packet with \(packetError)")
            return false
        case (.success, .failure(let error)):
            throw PropertyViolation(description: "RTPPacketView accepts what RTPPacket rejects (\(error))")
        case (.failure(let error), .success):
            throw PropertyViolation(description: "RTPPacket accepts what RTPPacketView rejects (\(error))")
        case (.success(let v), .success(let p)):
            view = v
            packet = p
        }

        try require(
            view.marker == packet.marker && view.payloadType == packet.payloadType
                && view.sequenceNumber == packet.sequenceNumber && view.timestamp == packet.timestamp
                && view.ssrc == packet.ssrc && view.csrcCount == packet.csrcs.count
                && view.hasExtension == (packet.headerExtension != nil) && view.paddingCount == Int(packet.paddingCount)
                && view.payloadCount == packet.payload.count && view.packetCount == bytes.count,
            "RTPPacketView and RTPPacket read different header fields")
        try require(view.payload(in: bytes).elementsEqual(packet.payload), "view payload differs from packet payload")
        try require(view.payload(in: offsetSlice(bytes)).elementsEqual(packet.payload), "view payload at offset 1 differs")

        let encoded = packet.encoded()
        try require(encoded.count == packet.encodedSize, "encodedSize \(packet.encodedSize) but encode wrote \(encoded.count)")
        var expected = bytes
        if packet.paddingCount > 1 {
            let countIndex = bytes.count - 1
            for i in (countIndex - Int(packet.paddingCount) + 1)..<countIndex { expected[i] = 0 }
        }
        try require(encoded == expected, "encode(decode(b)) != b (padding zeroed): \(hex(encoded)) vs \(hex(expected))")
        try require((try? RTPPacket(parsing: encoded)) == packet, "decode(encode(p)) != p")

        if let headerExtension = packet.headerExtension {
            try extensionElements(headerExtension)
        }
        try telephoneEvents(view.payload(in: bytes))
        return true
    }

    private static func extensionElements(_ headerExtension: RTPHeaderExtension) throws(PropertyViolation) {
        try require(headerExtension.data.count == 4 * headerExtension.lengthInWords, "extension data is not whole words")
        guard let elements = try? headerExtension.elements() else { return }
        let rebuilt: RTPHeaderExtension
        do throws(RTPError) {
            rebuilt =
                headerExtension.isOneByteForm
                ? try RTPHeaderExtension(oneByteElements: elements)
                : try RTPHeaderExtension(twoByteElements: elements, appBits: UInt8(headerExtension.profile & 0x0F))
        } catch {
            throw PropertyViolation(description: "decoded extension elements do not rebuild: \(error)")
        }
        try require(rebuilt.profile == headerExtension.profile, "rebuilt extension has profile \(rebuilt.profile)")
        try require((try? rebuilt.elements()) == elements, "rebuilt extension has different elements")
    }

    private static func telephoneEvents(_ payload: ArraySlice<UInt8>) throws(PropertyViolation) {
        guard let reports = try? TelephoneEvent.reports(in: payload) else { return }
        var encoded: [UInt8] = []
        for report in reports { report.encode(into: &encoded) }
        try require(encoded.elementsEqual(payload), "telephone-event reports do not encode back to their payload")
        if payload.count == TelephoneEvent.encodedSize {
            try require((try? TelephoneEvent(parsing: payload)) == reports.first, "single report decodes differently")
        }
    }
}
