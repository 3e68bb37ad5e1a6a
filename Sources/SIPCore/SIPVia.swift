/// One Via hop.
///
/// via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
/// sent-protocol = protocol-name SLASH protocol-version SLASH transport
/// sent-by       = host [ COLON port ]
/// via-params    = via-ttl / via-maddr / via-received / via-branch / via-extension
///                                                                  (RFC 3261 §20.42, §25.1)
/// response-port = "rport" [EQUAL 1*DIGIT]                          (RFC 3581 §3)
///
/// SLASH and COLON allow LWS on both sides (`SIP / 2.0 / UDP`, RFC 4475 §3.1.1.1). The
/// transport is any token (RFC 4475 §3.1.1.10: `UNKNOWN` is legal).
public struct SIPVia: Sendable, Hashable, CustomStringConvertible {
    public var protocolName: String
    public var protocolVersion: String
    /// As written ("UDP", "TCP", "TLS", "SCTP", "WS", ...); compare case-insensitively.
    public var transport: String
    public var host: SIPHost
    public var port: UInt16?
    /// Every parameter in order, the known ones included.
    public var parameters: SIPParameters

    /// The RFC 3261 §8.1.1.7 magic cookie that marks a branch as globally unique.
    public static let magicCookie = "z9hG4bK"

    public init(transport: String, host: SIPHost, port: UInt16? = nil, branch: String? = nil,
                parameters: SIPParameters = [], protocolName: String = "SIP", protocolVersion: String = "2.0") {
        self.protocolName = protocolName
        self.protocolVersion = protocolVersion
        self.transport = transport
        self.host = host
        self.port = port
        self.parameters = parameters
        if let branch { self.parameters.set("branch", branch) }
    }

    public init(parsing text: String) throws(SIPParseError) {
        self = try SIPVia.parse(Array(text.utf8)[...])
    }

    public var branch: String? {
        get { parameters.value("branch") }
        set { parameters.update("branch", to: newValue) }
    }

    /// Whether the branch carries the RFC 3261 magic cookie; without it the sender follows
    /// RFC 2543 transaction matching (RFC 3261 §17.2.3).
    public var hasRFC3261Branch: Bool { branch?.hasPrefix(SIPVia.magicCookie) ?? false }

    /// via-received = "received" EQUAL (IPv4address / IPv6address)
    public var received: String? {
        get { parameters.value("received") }
        set { parameters.update("received", to: newValue) }
    }

    /// Whether `rport` is present, with or without a value (RFC 3581).
    public var hasRPort: Bool { parameters.contains("rport") }

    /// The `rport` value a server filled in (RFC 3581 §4); nil when absent or valueless.
    public var rport: UInt16? { parameters.value("rport").flatMap { UInt16($0) } }

    public var maddr: String? { parameters.value("maddr") }

    /// via-ttl = "ttl" EQUAL ttl; ttl = 1*3DIGIT ; 0 to 255
    public var ttl: UInt8? { parameters.value("ttl").flatMap { UInt8($0) } }

    /// Parameters other than branch, received, rport, maddr and ttl.
    public var extensionParameters: [SIPParameter] {
        parameters.filter { !["branch", "received", "rport", "maddr", "ttl"].contains($0.name.lowercased()) }
    }

    /// `SIP/2.0/UDP host:port;params`
    public var description: String {
        var out = "\(protocolName)/\(protocolVersion)/\(transport) \(host)"
        if let port { out += ":\(port)" }
        return out + parameters.description
    }

    static func parse(_ bytes: ArraySlice<UInt8>) throws(SIPParseError) -> SIPVia {
        var cursor = ByteCursor(bytes)
        cursor.skipLWS()
        guard !cursor.isAtEnd else { throw SIPParseError(.emptyListElement, at: cursor.index) }
        func protocolToken(_ cursor: inout ByteCursor, slash: Bool) throws(SIPParseError) -> String {
            cursor.skipLWS()
            guard let token = cursor.token() else { throw SIPParseError(.invalidSentProtocol, at: cursor.index) }
            if slash {
                cursor.skipLWS()
                guard cursor.consume(ASCII.slash) else { throw SIPParseError(.invalidSentProtocol, at: cursor.index) }
            }
            return cursor.string(token)
        }
        let name = try protocolToken(&cursor, slash: true)
        let version = try protocolToken(&cursor, slash: true)
        let transport = try protocolToken(&cursor, slash: false)
        guard cursor.skipLWS() else { throw SIPParseError(.invalidSentProtocol, at: cursor.index) }
        let host = try SIPHost.parse(&cursor)
        var port: UInt16?
        let beforeColon = cursor.index
        cursor.skipLWS()
        if cursor.consume(ASCII.colon) {
            cursor.skipLWS()
            do throws(SIPParseError) {
                port = UInt16(try cursor.decimal(limit: UInt64(UInt16.max)))
            } catch {
                throw SIPParseError(.invalidPort, at: error.offset)
            }
        } else {
            cursor.index = beforeColon
        }
        let parametersStart = cursor.index
        let parameters = try ParameterParser.headerParameters(&cursor)
        try validate(parameters, at: parametersStart)
        return SIPVia(transport: transport, host: host, port: port, parameters: parameters,
                      protocolName: name, protocolVersion: version)
    }

    private static func validate(_ parameters: SIPParameters, at offset: Int) throws(SIPParseError) {
        for parameter in parameters {
            let name = parameter.name.lowercased()
            let value = parameter.value.map { Array($0.utf8)[...] }
            switch name {
            case "ttl":
                guard let value, value.count <= 3, value.allSatisfy(ASCII.isDigit), let ttl = Int(parameter.value!), ttl <= 255 else {
                    throw SIPParseError(.invalidParameter, at: offset)
                }
            case "rport":
                if let value {
                    guard value.allSatisfy(ASCII.isDigit), let port = Int(parameter.value!), port <= 65535 else {
                        throw SIPParseError(.invalidParameter, at: offset)
                    }
                }
            case "received":
                // IPv4address / IPv6address; a bracketed IPv6reference is accepted too.
                let address = value.flatMap { $0.first == ASCII.leftBracket && $0.last == ASCII.rightBracket ? $0.dropFirst().dropLast() : $0 }
                guard let address, SIPHost.isIPv4(address) || (try? SIPHost.parseIPv6(address)) != nil else {
                    throw SIPParseError(.invalidParameter, at: offset)
                }
            case "branch", "maddr":
                guard let value, value.first != ASCII.quote else { throw SIPParseError(.invalidParameter, at: offset) }
            default:
                break
            }
        }
    }
}
