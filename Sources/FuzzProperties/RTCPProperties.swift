import RTPCore

/// The properties `FuzzRTCP` checks on one input, read as an RTCP datagram.
///
/// * Round trip: an accepted compound packet encodes to `encodedSize` bytes that decode to the
///   same value (`decode(encode(x)) == x`), and that encoding is a fixed point. Each of its
///   packets also round-trips alone through `RTCPPacket(parsing:)`.
/// * RFC 3550 A.2 strictness: with reduced-size RTCP disallowed, the same datagram is accepted
///   as the same value when it starts with SR or RR, and refused with `.firstPacketNotReport`
///   when it does not (RFC 5506 §3).
/// * Decoding from a slice that does not start at index 0 gives the same result.
enum RTCPProperties {
    static func check(_ bytes: [UInt8]) throws(PropertyViolation) -> Bool {
        let result = Result { () throws(RTCPError) in try RTCPCompoundPacket(parsing: bytes) }
        let offsetResult = Result { () throws(RTCPError) in try RTCPCompoundPacket(parsing: offsetSlice(bytes)) }
        try require(result == offsetResult, "a slice at offset 1 decodes differently: \(result) vs \(offsetResult)")
        let strict = Result { () throws(RTCPError) in try RTCPCompoundPacket(parsing: bytes, allowReducedSize: false) }
        let compound: RTCPCompoundPacket
        switch result {
        case .failure:
            try require((try? strict.get()) == nil, "the strict parser accepts what the default parser rejects")
            return false
        case .success(let value):
            compound = value
        }
        if compound.isReducedSize {
            try require(strict == .failure(.firstPacketNotReport), "reduced-size datagram under the strict parser: \(strict)")
        } else {
            try require(strict == .success(compound), "the strict parser reads an SR/RR-first datagram differently: \(strict)")
        }

        let encoded = compound.encoded()
        try require(encoded.count == compound.encodedSize, "encodedSize \(compound.encodedSize) but encode wrote \(encoded.count)")
        let decoded: RTCPCompoundPacket
        do throws(RTCPError) {
            decoded = try RTCPCompoundPacket(parsing: encoded)
        } catch {
            throw PropertyViolation(description: "encoding of an accepted datagram does not decode: \(error)\n\(hex(encoded))")
        }
        try require(decoded == compound, "decode(encode(x)) != x\n\(hex(encoded))")
        try require(decoded.encoded() == encoded, "encoding is not a fixed point")

        for (index, packet) in compound.packets.enumerated() {
            var alone: [UInt8] = []
            packet.encode(into: &alone)
            try require(alone.count == packet.encodedSize, "packet \(index): encodedSize \(packet.encodedSize) but wrote \(alone.count)")
            try require((try? RTCPPacket(parsing: alone)) == packet, "packet \(index) (\(packet.packetType.rawValue)) does not round-trip alone")
        }
        return true
    }
}
