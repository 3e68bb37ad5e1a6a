import CEarshotNet

/// A numeric IPv4 or IPv6 address and a UDP port: where RTP or RTCP goes to or came from.
///
/// Built from text with `init(host:port:)` (no name lookup — SDP carries addresses). IPv4
/// sources that reach an IPv6 dual-stack socket as v4-mapped addresses are reported as IPv4,
/// so comparisons between what was configured and what arrived hold.
public struct MediaEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// 4 or 6.
    public let family: UInt8
    public let port: UInt16
    let scopeID: UInt32
    /// The 16 address octets, big-endian in two words (IPv4 in the top four octets of `high`).
    let high: UInt64
    let low: UInt64

    /// Nil when `host` is not a numeric IPv4 or IPv6 address.
    public init?(host: String, port: UInt16) {
        var raw = earshot_endpoint()
        guard earshot_endpoint_parse(host, port, &raw) == 0 else { return nil }
        self.init(raw)
    }

    init(_ raw: earshot_endpoint) {
        family = raw.family
        port = raw.port
        scopeID = raw.scope_id
        (high, low) = withUnsafeBytes(of: raw.address) { bytes in
            (UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// The same address with another port.
    public func with(port: UInt16) -> MediaEndpoint {
        MediaEndpoint(family: family, port: port, scopeID: scopeID, high: high, low: low)
    }

    private init(family: UInt8, port: UInt16, scopeID: UInt32, high: UInt64, low: UInt64) {
        self.family = family
        self.port = port
        self.scopeID = scopeID
        self.high = high
        self.low = low
    }

    /// 0.0.0.0 or ::.
    public var isUnspecified: Bool { high == 0 && low == 0 }

    /// Whether a socket bound to this address can send to `remote`: same family, or an IPv6
    /// socket bound to `::` (dual stack) sending to IPv4.
    func canReach(_ remote: MediaEndpoint) -> Bool {
        family == remote.family || (family == 6 && isUnspecified && remote.family == 4)
    }

    var raw: earshot_endpoint {
        var raw = earshot_endpoint()
        raw.family = family
        raw.port = port
        raw.scope_id = scopeID
        withUnsafeMutableBytes(of: &raw.address) { bytes in
            bytes.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return raw
    }

    /// The address as text, without the port.
    public var host: String {
        var raw = self.raw
        var buffer = [CChar](repeating: 0, count: 64)
        let length = earshot_endpoint_format(&raw, &buffer, buffer.count)
        guard length > 0 else { return "?" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `127.0.0.1:40000` or `[::1]:40000`.
    public var description: String {
        family == 6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
