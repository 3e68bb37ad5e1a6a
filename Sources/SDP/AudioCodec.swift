/// An audio codec offer/answer can agree on. A struct with static members so codecs can
/// be added (G.722, ...) without breaking callers.
public struct AudioCodec: Hashable, Sendable, CustomStringConvertible {
    /// The rtpmap encoding name, as RFC 3551 registers it.
    public let encodingName: String
    /// RFC 3551 §6 static payload type, usable without an rtpmap.
    public let staticPayloadType: UInt8?
    public let clockRate: Int

    public init(encodingName: String, staticPayloadType: UInt8?, clockRate: Int) {
        self.encodingName = encodingName
        self.staticPayloadType = staticPayloadType
        self.clockRate = clockRate
    }

    /// G.711 µ-law — RFC 3551 §4.5.14, static payload type 0.
    public static let pcmu = AudioCodec(encodingName: "PCMU", staticPayloadType: 0, clockRate: 8000)
    /// G.711 A-law — RFC 3551 §4.5.14, static payload type 8.
    public static let pcma = AudioCodec(encodingName: "PCMA", staticPayloadType: 8, clockRate: 8000)

    /// The codec a payload type names in `media`: its rtpmap if there is one (encoding name
    /// compared case-insensitively, RFC 4855 §3; clock rate must match; one channel), else
    /// the RFC 3551 static assignment.
    static func identify(_ payloadType: UInt8, in media: MediaDescription, among codecs: [AudioCodec]) -> AudioCodec? {
        if let map = media.rtpMap(for: payloadType) {
            return codecs.first { codec in
                map.encodingName.lowercased() == codec.encodingName.lowercased()
                    && map.clockRate == codec.clockRate
                    && (map.encodingParameters == nil || map.encodingParameters == "1")
            }
        }
        return codecs.first { $0.staticPayloadType == payloadType }
    }

    public var description: String { encodingName }
}

/// RFC 4733 telephone-event (DTMF) as we offer and accept it.
public struct TelephoneEvent: Hashable, Sendable {
    /// A dynamic payload type (96...127) for our offers; in answers the offer's number is used.
    public var payloadType: UInt8
    /// The `a=fmtp` event list we can receive (RFC 4733 §2.4.1): `0-16` is the 16 DTMF
    /// digits plus flash.
    public var events: String

    public init(payloadType: UInt8 = 101, events: String = "0-16") {
        self.payloadType = payloadType
        self.events = events
    }

    static let encodingName = "telephone-event"

    /// The first telephone-event payload type in `media` at `clockRate` (RFC 4733 §7.1.1:
    /// the event clock matches the audio codec's).
    static func payloadType(in media: MediaDescription, clockRate: Int) -> UInt8? {
        media.payloadTypes.first { pt in
            guard let map = media.rtpMap(for: pt) else { return false }
            return map.encodingName.lowercased() == encodingName && map.clockRate == clockRate
        }
    }
}
