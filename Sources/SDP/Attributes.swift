/// The direction attributes — RFC 8866 §6.7, RFC 3264 §5.1 and §6.1. A media-level one
/// overrides a session-level one; with neither, a stream is `sendrecv`.
public enum MediaDirection: String, Hashable, Sendable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    public init(sends: Bool, receives: Bool) {
        switch (sends, receives) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }

    /// The same stream seen from the other end: `sendonly` ↔ `recvonly`.
    public var reversed: MediaDirection { MediaDirection(sends: receives, receives: sends) }

    /// What both allow.
    public func intersection(_ other: MediaDirection) -> MediaDirection {
        MediaDirection(sends: sends && other.sends, receives: receives && other.receives)
    }
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` — RFC 8866 §6.6
public struct RTPMap: Hashable, Sendable {
    public var payloadType: UInt8
    /// As written; compare case-insensitively (RFC 4855 §3).
    public var encodingName: String
    public var clockRate: Int
    /// For audio, the number of channels.
    public var encodingParameters: String?

    public init(payloadType: UInt8, encodingName: String, clockRate: Int, encodingParameters: String? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.encodingParameters = encodingParameters
    }

    /// Parses the attribute value (after `rtpmap:`). Surrounding spaces are tolerated.
    public init?(value: String) {
        let fields = value.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 2, let pt = Parsing.decimal(fields[0]), pt < 128 else { return nil }
        let parts = fields[1].split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[0].isEmpty, let rate = Parsing.decimal(parts[1]), rate > 0, rate <= UInt32.max,
            parts.count < 3 || !parts[2].isEmpty
        else { return nil }
        self.init(
            payloadType: UInt8(pt), encodingName: String(parts[0]), clockRate: Int(rate),
            encodingParameters: parts.count == 3 ? String(parts[2]) : nil)
    }

    public var value: String {
        "\(payloadType) \(encodingName)/\(clockRate)" + (encodingParameters.map { "/\($0)" } ?? "")
    }
}

/// `a=fmtp:<format> <format specific parameters>` — RFC 8866 §6.15
public struct FormatParameters: Hashable, Sendable {
    public var format: String
    /// Kept as written, e.g. `0-16` for telephone-event (RFC 4733 §2.4.1).
    public var parameters: String

    public init(format: String, parameters: String) {
        self.format = format
        self.parameters = parameters
    }

    public init?(value: String) {
        let trimmed = value.drop { $0 == " " }
        let format = trimmed.prefix { $0 != " " }
        guard !format.isEmpty else { return nil }
        self.init(format: String(format), parameters: String(trimmed.dropFirst(format.count).drop { $0 == " " }))
    }

    public var value: String { parameters.isEmpty ? format : "\(format) \(parameters)" }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` — RFC 3605 §2.1: where the
/// peer wants RTCP when it is not on the RTP port + 1.
public struct RTCPAttribute: Hashable, Sendable {
    public var port: UInt16
    public var connection: ConnectionInformation?

    public init(port: UInt16, connection: ConnectionInformation? = nil) {
        self.port = port
        self.connection = connection
    }

    public init?(value: String) {
        let fields = value.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 1 || fields.count == 4, let port = Parsing.port(fields[0]) else { return nil }
        self.port = port
        if fields.count == 4 {
            guard let connection = Parsing.connection(fields[1...].joined(separator: " ")) else { return nil }
            self.connection = connection
        }
    }

    public var value: String {
        guard let c = connection else { return "\(port)" }
        return "\(port) " + Serializer.connectionValue(c)
    }
}

extension Attribute {
    public static func rtpmap(_ map: RTPMap) -> Attribute { Attribute(name: "rtpmap", value: map.value) }
    public static func fmtp(_ parameters: FormatParameters) -> Attribute {
        Attribute(name: "fmtp", value: parameters.value)
    }
    /// `a=ptime:<milliseconds>` — RFC 8866 §6.4
    public static func ptime(_ milliseconds: Int) -> Attribute { Attribute(name: "ptime", value: "\(milliseconds)") }
    /// `a=maxptime:<milliseconds>` — RFC 8866 §6.5
    public static func maxptime(_ milliseconds: Int) -> Attribute {
        Attribute(name: "maxptime", value: "\(milliseconds)")
    }
    public static func direction(_ direction: MediaDirection) -> Attribute { Attribute(name: direction.rawValue) }
    public static func rtcp(_ rtcp: RTCPAttribute) -> Attribute { Attribute(name: "rtcp", value: rtcp.value) }
    /// `a=rtcp-mux` — RFC 5761 §5.1.1
    public static let rtcpMux = Attribute(name: "rtcp-mux")

    func isNamed(_ name: String) -> Bool {
        self.name.utf8.count == name.utf8.count && self.name.lowercased() == name
    }

    /// Whether the value of an attribute this module interprets is well formed; other
    /// attributes are always valid (they are carried, not read).
    var hasValidValue: Bool {
        switch name.lowercased() {
        case "rtpmap": value.flatMap(RTPMap.init(value:)) != nil
        case "fmtp": value.flatMap(FormatParameters.init(value:)) != nil
        case "ptime", "maxptime": value.flatMap(Self.milliseconds) != nil
        case "rtcp": value.flatMap(RTCPAttribute.init(value:)) != nil
        default: true
        }
    }

    /// `non-zero-int-or-real` (RFC 8866 §9) rounded to whole milliseconds, at least 1.
    static func milliseconds(_ text: String) -> Int? {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }),
            let number = Double(trimmed), number > 0, number < 1_000_000
        else { return nil }
        return max(1, Int(number.rounded()))
    }
}

/// Typed reads of the attributes offer/answer needs. The first occurrence wins.
extension MediaDescription {
    public func attribute(named name: String) -> Attribute? {
        let name = name.lowercased()
        return attributes.first { $0.isNamed(name) }
    }

    public var rtpMaps: [RTPMap] {
        attributes.filter { $0.isNamed("rtpmap") }.compactMap { $0.value.flatMap(RTPMap.init(value:)) }
    }

    public func rtpMap(for payloadType: UInt8) -> RTPMap? {
        rtpMaps.first { $0.payloadType == payloadType }
    }

    public func formatParameters(for format: String) -> FormatParameters? {
        attributes.lazy.filter { $0.isNamed("fmtp") }
            .compactMap { $0.value.flatMap(FormatParameters.init(value:)) }
            .first { $0.format == format }
    }

    /// `a=ptime`, in whole milliseconds.
    public var ptime: Int? { attribute(named: "ptime")?.value.flatMap(Attribute.milliseconds) }
    /// `a=maxptime`, in whole milliseconds.
    public var maxptime: Int? { attribute(named: "maxptime")?.value.flatMap(Attribute.milliseconds) }
    /// The direction attribute written at this level, if any (see
    /// ``SessionDescription/direction(of:)`` for the effective one).
    public var direction: MediaDirection? { attributes.lazy.compactMap(\.direction).first }
    public var rtcp: RTCPAttribute? { attribute(named: "rtcp")?.value.flatMap(RTCPAttribute.init(value:)) }
    public var rtcpMux: Bool { attribute(named: "rtcp-mux") != nil }
}

extension SessionDescription {
    /// The session-level direction attribute, if any.
    public var direction: MediaDirection? { attributes.lazy.compactMap(\.direction).first }

    /// RFC 8866 §6.7: media level overrides session level; the default is `sendrecv`.
    public func direction(of media: MediaDescription) -> MediaDirection {
        media.direction ?? direction ?? .sendrecv
    }

    /// RFC 8866 §5.7: the media's own `c=` overrides the session-level one.
    public func connection(of media: MediaDescription) -> ConnectionInformation? {
        media.connections.first ?? connection
    }
}

extension Attribute {
    var direction: MediaDirection? {
        guard value == nil else { return nil }
        return MediaDirection(rawValue: name.lowercased())
    }
}

extension StringProtocol {
    var trimmingSpaces: SubSequence {
        let start = firstIndex { $0 != " " && $0 != "\t" } ?? endIndex
        let end = self[start...].lastIndex { $0 != " " && $0 != "\t" }.map { index(after: $0) } ?? start
        return self[start..<end]
    }
}
