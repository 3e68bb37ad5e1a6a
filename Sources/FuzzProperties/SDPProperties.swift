import SDP

/// The properties `FuzzSDP` checks on one input, read as an SDP body.
///
/// * Parsing: what the strict (RFC 8866 §5 order) parser accepts, the lenient-order parser
///   accepts as the same description.
/// * Round trip: every description that parses serializes to `encodedSize` bytes in §5 order,
///   which the strict parser reads back equal; serialization is a fixed point.
/// * Offer/answer (RFC 3264): answering any parsed offer gives one `m=` line per offered line
///   (§6), the offer's `t=` line (§6), port 0 on every line but the accepted audio one, and a
///   description that itself round-trips. Re-answering the same offer against that answer
///   keeps the version (§8: nothing changed). When the accepted line is the offer's first
///   active audio line, the offerer reading the answer (`processAnswer`) agrees on codec,
///   payload type and telephone-event.
enum SDPProperties {
    static func check(_ bytes: [UInt8]) throws(PropertyViolation) -> Bool {
        let strict = try? SessionDescription(parsing: bytes, options: .strict)
        let lenient: SessionDescription
        do throws(SDPError) {
            lenient = try SessionDescription(parsing: bytes, options: .lenientOrder)
        } catch {
            try require(strict == nil, "strict parse accepts what lenient order rejects (\(error))")
            return false
        }
        if let strict {
            try require(strict == lenient, "strict and lenient-order parses differ")
        }
        try roundTrip(lenient, "parsed description")
        for local in answerers {
            try answer(lenient, as: local)
        }
        return true
    }

    private static func roundTrip(_ description: SessionDescription, _ what: String) throws(PropertyViolation) {
        let text = description.serialize()
        let bytes = Array(text.utf8)
        try require(bytes.count == description.encodedSize,
                    "\(what): encodedSize \(description.encodedSize) but serialize() wrote \(bytes.count) bytes")
        var appended: [UInt8] = [0x7E]
        description.encode(into: &appended)
        try require(appended.dropFirst().elementsEqual(bytes), "\(what): encode(into:) differs from serialize()")
        let reparsed: SessionDescription
        do throws(SDPError) {
            reparsed = try SessionDescription(parsing: bytes, options: .strict)
        } catch {
            throw PropertyViolation(description: "\(what): serialized form does not parse strictly: \(error)\n\(text.debugDescription)")
        }
        try require(reparsed == description, "\(what): parse(serialize(d)) != d\n\(text.debugDescription)")
        try require(reparsed.serialize() == text, "\(what): serialization is not a fixed point\n\(text.debugDescription)")
    }

    /// Two answerers unlike each other: the defaults over IPv4, and an IPv6 end that only
    /// sends, prefers PCMA, muxes RTCP and has no telephone-event.
    private static let answerers: [AudioCapabilities] = [
        AudioCapabilities(address: .ipv4(.init(0xC000_0201)), port: 49_170),
        AudioCapabilities(
            address: HostAddress("2001:db8::7")!, port: 5004, codecs: [.pcma, .pcmu], telephoneEvent: nil,
            ptime: 30, maxptime: 60, direction: .sendonly, rtcpPort: 6000, rtcpMux: true),
    ]

    private static func answer(_ offer: SessionDescription, as local: AudioCapabilities) throws(PropertyViolation) {
        let answer = OfferAnswer.makeAnswer(to: offer, local: local, sessionID: 7, sessionVersion: 1)
        let sdp = answer.sdp
        try require(sdp.media.count == offer.media.count,
                    "answer has \(sdp.media.count) m= lines for \(offer.media.count) offered (RFC 3264 §6)")
        try require(sdp.times == offer.times, "answer's t= differs from the offer's (RFC 3264 §6)")
        let accepted = answer.outcome.audio?.mediaIndex
        for (index, media) in sdp.media.enumerated() {
            try require(media.media == offer.media[index].media, "answer m= line \(index) changed the media type")
            if index == accepted {
                try require(media.port == local.port, "accepted m= line \(index) has port \(media.port)")
            } else {
                try require(media.port == 0, "m= line \(index) not accepted but answered with port \(media.port)")
            }
        }
        try roundTrip(sdp, "answer")

        let again = OfferAnswer.makeAnswer(to: offer, local: local, revising: sdp)
        try require(again.sdp == sdp, "re-answering the same offer changed the answer (RFC 3264 §8)")
        try require(again.outcome == answer.outcome, "re-answering the same offer changed the outcome")

        guard let ours = answer.outcome.audio,
            ours.mediaIndex == offer.media.firstIndex(where: { $0.media.lowercased() == "audio" && $0.port != 0 })
        else { return }
        guard let theirs = OfferAnswer.processAnswer(sdp, to: offer).audio else {
            throw PropertyViolation(description: "offerer rejects an answer we accepted: \(OfferAnswer.processAnswer(sdp, to: offer))")
        }
        try require(
            theirs.codec == ours.codec && theirs.payloadType == ours.payloadType
                && theirs.telephoneEventPayloadType == ours.telephoneEventPayloadType,
            """
            answerer and offerer disagree: answerer \(ours.codec) PT \(ours.payloadType) TE \(String(describing: ours.telephoneEventPayloadType)), \
            offerer \(theirs.codec) PT \(theirs.payloadType) TE \(String(describing: theirs.telephoneEventPayloadType))
            """)
    }
}
