/// A session description (RFC 8866, which obsoletes RFC 4566), in the field order §5 fixes:
///
/// ```
/// v=  (protocol version)                          ; always 0, not stored
/// o=  (originator and session identifier)         ; origin
/// s=  (session name)                              ; sessionName
/// i=* (session information)                       ; information
/// u=* (URI of description)                        ; uri
/// e=* (email address)                             ; emailAddresses
/// p=* (phone number)                              ; phoneNumbers
/// c=* (connection information)                    ; connection
/// b=* (bandwidth information lines)               ; bandwidths
/// One or more time descriptions (t=, r=, z=)      ; times
/// k=* (obsolete)                                  ; discarded on receipt (§5.12)
/// a=* (session attribute lines)                   ; attributes
/// Zero or more media descriptions                 ; media
/// ```
///
/// Parse with `init(parsing:)` (a `String` or bytes); write with ``serialize()`` or
/// ``encode(into:)``. Attributes this module does not interpret are kept in order,
/// byte for byte, so `parse(serialize(parse(x))) == parse(x)`.
public struct SessionDescription: Hashable, Sendable {
    /// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` — §5.2
    public var origin: SessionOrigin
    /// `s=<session name>` — §5.3. RFC 8866 asks for at least one character (`s=-` when there
    /// is nothing to say; RFC 3264 and RFC 4317 write a single space). An empty value is
    /// accepted on input because peers send it; nothing is lost by reading it.
    public var sessionName: String
    /// `i=<session description>` — §5.4
    public var information: String?
    /// `u=<uri>` — §5.5
    public var uri: String?
    /// `e=<email-address>` — §5.6, in order
    public var emailAddresses: [String]
    /// `p=<phone-number>` — §5.6, in order
    public var phoneNumbers: [String]
    /// `c=<nettype> <addrtype> <connection-address>` — §5.7; the default for every media
    /// description that has no `c=` of its own.
    public var connection: ConnectionInformation?
    /// `b=<bwtype>:<bandwidth>` — §5.8
    public var bandwidths: [Bandwidth]
    /// `t=`, `r=`, `z=` — §5.9–§5.11. At least one on the wire; ``serialize()`` writes
    /// `t=0 0` when this is empty.
    public var times: [TimeDescription]
    /// `a=<attribute-name>[:<attribute-value>]` — §5.13, session level, in order.
    public var attributes: [Attribute]
    /// `m=` sections — §5.14, in order.
    public var media: [MediaDescription]

    public init(
        origin: SessionOrigin,
        sessionName: String = "-",
        information: String? = nil,
        uri: String? = nil,
        emailAddresses: [String] = [],
        phoneNumbers: [String] = [],
        connection: ConnectionInformation? = nil,
        bandwidths: [Bandwidth] = [],
        times: [TimeDescription] = [TimeDescription()],
        attributes: [Attribute] = [],
        media: [MediaDescription] = []
    ) {
        self.origin = origin
        self.sessionName = sessionName
        self.information = information
        self.uri = uri
        self.emailAddresses = emailAddresses
        self.phoneNumbers = phoneNumbers
        self.connection = connection
        self.bandwidths = bandwidths
        self.times = times
        self.attributes = attributes
        self.media = media
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` — RFC 8866 §5.2
///
/// ```
/// username     = non-ws-string
/// sess-id      = 1*DIGIT
/// sess-version = 1*DIGIT
/// ```
/// The identifiers are numbers so RFC 3264 §8 can increment the version; values wider
/// than 64 bits are rejected as ``SDPError/Code/invalidOrigin``.
public struct SessionOrigin: Hashable, Sendable {
    /// `-` when the originating host has no notion of user ids.
    public var username: String
    public var sessionID: UInt64
    public var sessionVersion: UInt64
    /// Typically `IN`.
    public var networkType: String
    /// Typically `IP4` or `IP6`.
    public var addressType: String
    /// Kept as written (a literal or a name).
    public var address: String

    public init(
        username: String = "-",
        sessionID: UInt64,
        sessionVersion: UInt64,
        networkType: String = "IN",
        addressType: String,
        address: String
    ) {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    /// An `IN` origin whose address type follows the host (IP4 or IP6).
    public init(username: String = "-", sessionID: UInt64, sessionVersion: UInt64, host: HostAddress) {
        self.init(
            username: username, sessionID: sessionID, sessionVersion: sessionVersion,
            addressType: host.addressType, address: host.description)
    }
}

/// `c=<nettype> <addrtype> <connection-address>` — RFC 8866 §5.7
///
/// ```
/// connection-address = multicast-address / unicast-address
/// IP4-multicast      = m1 3( "." decimal-uchar ) "/" ttl [ "/" numaddr ]
/// IP6-multicast      = IP6-address [ "/" numaddr ]
/// ```
/// The address is kept as written, without the `/ttl` and `/numaddr` suffixes, which are
/// parsed into ``ttl`` and ``addressCount``.
public struct ConnectionInformation: Hashable, Sendable {
    /// Typically `IN`.
    public var networkType: String
    /// Typically `IP4` or `IP6`.
    public var addressType: String
    /// The base address as written: a literal or a name.
    public var address: String
    /// IPv4 multicast time-to-live (0...255).
    public var ttl: Int?
    /// Number of consecutive multicast addresses (`/numaddr`), at least 1.
    public var addressCount: Int?

    public init(
        networkType: String = "IN", addressType: String, address: String,
        ttl: Int? = nil, addressCount: Int? = nil
    ) {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
        self.ttl = ttl
        self.addressCount = addressCount
    }

    /// An `IN` connection to `host`, address type IP4 or IP6 from the host.
    public init(host: HostAddress) {
        self.init(addressType: host.addressType, address: host.description)
    }

    /// The typed address for `IN IP4` / `IN IP6`; `nil` for other network or address types
    /// (the parser has already rejected malformed `IN` addresses).
    public var host: HostAddress? {
        guard networkType.uppercased() == "IN" else { return nil }
        switch addressType.uppercased() {
        case "IP4":
            if let v4 = HostAddress.IPv4(address) { return .ipv4(v4) }
        case "IP6":
            if let v6 = HostAddress.IPv6(address) { return .ipv6(v6) }
        default:
            return nil
        }
        return HostAddress.isDomainName(address) ? .domainName(address) : nil
    }
}

/// `b=<bwtype>:<bandwidth>` — RFC 8866 §5.8 (`CT`, `AS`, or an extension such as `TIAS`),
/// bandwidth in kilobits per second for CT and AS.
public struct Bandwidth: Hashable, Sendable {
    public var type: String
    public var value: UInt64

    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }
}

/// One time description — RFC 8866 §5.9–§5.11:
///
/// ```
/// time-description   = time-field [repeat-description]
/// repeat-description = 1*repeat-field [zone-field]
/// time-field   = %s"t" "=" start-time SP stop-time CRLF
/// repeat-field = %s"r" "=" repeat-interval SP typed-time 1*(SP typed-time) CRLF
/// zone-field   = %s"z" "=" time SP ["-"] typed-time *(SP time SP ["-"] typed-time) CRLF
/// ```
/// `r=` and `z=` are kept as written (validated, not interpreted: a test call is
/// unbounded, `t=0 0`). A `z=` directly after `t=` (RFC 4566 placed it after all time
/// descriptions) is accepted and attached to the time description before it.
public struct TimeDescription: Hashable, Sendable {
    /// NTP seconds since 1900; 0 means unbounded.
    public var start: UInt64
    public var stop: UInt64
    /// `r=` values, in order.
    public var repeats: [String]
    /// `z=` value.
    public var zoneAdjustments: String?

    public init(start: UInt64 = 0, stop: UInt64 = 0, repeats: [String] = [], zoneAdjustments: String? = nil) {
        self.start = start
        self.stop = stop
        self.repeats = repeats
        self.zoneAdjustments = zoneAdjustments
    }
}

/// `a=<attribute-name>` or `a=<attribute-name>:<attribute-value>` — RFC 8866 §5.13.
///
/// The value is everything after the first colon, byte for byte (spaces included), so an
/// attribute this module does not know survives a round trip exactly. A property flag has
/// `value == nil`; `a=x:` has the empty value `""`.
public struct Attribute: Hashable, Sendable {
    public var name: String
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// A media description — RFC 8866 §5.14 and the fields that may follow it:
///
/// ```
/// m=  (media name and transport address)
/// i=* (media title)
/// c=* (connection information -- optional if included at session level)
/// b=* (zero or more bandwidth information lines)
/// k=* (obsolete)
/// a=* (zero or more media attribute lines)
///
/// media-field = %s"m" "=" media SP port ["/" integer] SP proto 1*(SP fmt) CRLF
/// ```
public struct MediaDescription: Hashable, Sendable {
    /// `media = token` — `audio`, `video`, `text`, `application`, `image`, ... as written.
    public var media: String
    /// `port = 1*DIGIT` — the transport port; 0 rejects or disables the stream
    /// (RFC 3264 §5.1, §6, §8.2).
    public var port: UInt16
    /// `m=<media> <port>/<number of ports>`.
    public var portCount: Int?
    /// `proto = token *("/" token)` — `RTP/AVP`, `RTP/SAVP`, `udp`, ...
    public var proto: String
    /// `fmt = token` — media formats; for RTP transports the payload type numbers as written.
    public var formats: [String]
    /// `i=<media title>`
    public var information: String?
    /// Media-level `c=` lines; the first one overrides the session-level `c=` (§5.7).
    public var connections: [ConnectionInformation]
    /// Media-level `b=` lines.
    public var bandwidths: [Bandwidth]
    /// Media-level `a=` lines, in order.
    public var attributes: [Attribute]

    public init(
        media: String,
        port: UInt16,
        portCount: Int? = nil,
        proto: String = "RTP/AVP",
        formats: [String],
        information: String? = nil,
        connections: [ConnectionInformation] = [],
        bandwidths: [Bandwidth] = [],
        attributes: [Attribute] = []
    ) {
        self.media = media
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.information = information
        self.connections = connections
        self.bandwidths = bandwidths
        self.attributes = attributes
    }

    /// Whether `proto` is an RTP profile, whose formats are payload type numbers
    /// (`RTP/AVP`, `RTP/SAVP`, `RTP/AVPF`, `UDP/TLS/RTP/SAVPF`, ...).
    public var isRTP: Bool {
        proto.uppercased().split(separator: "/").contains("RTP")
    }

    /// The formats as RTP payload types (those that are numbers in 0...127).
    public var payloadTypes: [UInt8] {
        formats.compactMap { Parsing.decimal($0[...]) }.filter { $0 < 128 }.map { UInt8($0) }
    }
}
