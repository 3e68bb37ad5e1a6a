// RTP header extension: RFC 3550 §5.3.1 (the container) and RFC 8285 (elements inside it).

/// The header extension of an RTP packet (RFC 3550 §5.3.1).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      defined by profile       |           length              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        header extension                       |
/// |                             ....                              |
/// ```
/// `length` counts the 32-bit words after the 4-octet extension header, so `data` is always a
/// whole number of words.
public struct RTPHeaderExtension: Hashable, Sendable {
    /// The 16 "defined by profile" bits: 0xBEDE / 0x100X for RFC 8285, anything else opaque.
    public var profile: UInt16
    /// The extension words, `4 × length` octets.
    public private(set) var data: [UInt8]

    /// The length field is 16 bits.
    public static let maximumWords = 0xFFFF

    /// `data` is zero-padded to a 32-bit boundary, and cut at 65,535 words (no UDP datagram can
    /// carry more).
    public init(profile: UInt16, data: [UInt8]) {
        var data = data
        if data.count > 4 * Self.maximumWords { data.removeLast(data.count - 4 * Self.maximumWords) }
        data.appendZeros(roundedUpToWord(data.count) - data.count)
        self.init(profile: profile, words: data)
    }

    /// `words.count` is already a multiple of four (the decoder's path).
    init(profile: UInt16, words: [UInt8]) {
        self.profile = profile
        self.data = words
    }

    public var lengthInWords: Int { data.count / 4 }

    public var encodedSize: Int { 4 + data.count }

    public func encode(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(profile)
        buffer.appendBigEndian(UInt16(lengthInWords))
        buffer.append(contentsOf: data)
    }
}

// MARK: - RFC 8285 elements

/// One RFC 8285 header-extension element: a local identifier negotiated in SDP (`a=extmap`) and
/// its data.
public struct RTPExtensionElement: Hashable, Sendable {
    public var id: UInt8
    public var data: [UInt8]

    public init(id: UInt8, data: [UInt8]) {
        self.id = id
        self.data = data
    }
}

extension RTPHeaderExtension {
    /// RFC 8285 §4.2: the profile value of the one-byte-header form.
    public static let oneByteProfile: UInt16 = 0xBEDE
    /// RFC 8285 §4.3: 0x100 in the top 12 bits; the low 4 bits ("appbits") are the application's.
    public static let twoByteProfileMask: UInt16 = 0xFFF0
    public static let twoByteProfileBase: UInt16 = 0x1000

    public var isOneByteForm: Bool { profile == Self.oneByteProfile }
    public var isTwoByteForm: Bool { profile & Self.twoByteProfileMask == Self.twoByteProfileBase }

    /// The RFC 8285 elements, padding skipped.
    ///
    /// One-byte form (RFC 8285 §4.2), L = length − 1:
    /// ```
    ///  0                   1                   2                   3
    ///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |       0xBE    |    0xDE       |           length=3            |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |  ID   | L=0   |     data      |  ID   |  L=1  |   data...
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    ///       ...data   |    0 (pad)    |    0 (pad)    |  ID   | L=3   |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                          data                                 |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// ```
    /// ID 15 is reserved: "processing of the entire extension MUST terminate at that point".
    ///
    /// Two-byte form (RFC 8285 §4.3), L = length (0 allowed), a zero octet is padding:
    /// ```
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |         0x100         |appbits|           length=3            |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |      ID       |     L=0       |     ID        |     L=1       |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |       data    |    0 (pad)    |       ID      |      L=4      |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                          data                                 |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// ```
    public func elements() throws(RTPError) -> [RTPExtensionElement] {
        let oneByte: Bool
        if isOneByteForm {
            oneByte = true
        } else if isTwoByteForm {
            oneByte = false
        } else {
            throw .notAnRFC8285Extension
        }
        var cursor = ByteCursor(data[...])
        var elements: [RTPExtensionElement] = []
        while !cursor.isAtEnd {
            let first = try cursor.readUInt8(or: RTPError.extensionElementBeyondData)
            if first == 0 { continue }  // padding octet, both forms
            let id: UInt8
            let length: Int
            if oneByte {
                id = first >> 4
                if id == 0 { throw .extensionElementMalformed }
                if id == 15 { break }
                length = Int(first & 0x0F) + 1
            } else {
                id = first
                length = Int(try cursor.readUInt8(or: RTPError.extensionElementBeyondData))
            }
            let value = try cursor.readBytes(length, or: RTPError.extensionElementBeyondData)
            elements.append(RTPExtensionElement(id: id, data: Array(value)))
        }
        return elements
    }

    /// Builds a one-byte-form extension (RFC 8285 §4.2): IDs 1–14, 1–16 octets each.
    public init(oneByteElements elements: [RTPExtensionElement]) throws(RTPError) {
        var data: [UInt8] = []
        for element in elements {
            guard (1...14).contains(element.id) else { throw .extensionElementIDOutOfRange }
            guard (1...16).contains(element.data.count) else { throw .extensionElementLengthOutOfRange }
            data.append(element.id << 4 | UInt8(element.data.count - 1))
            data.append(contentsOf: element.data)
        }
        self.init(profile: Self.oneByteProfile, data: data)
    }

    /// Builds a two-byte-form extension (RFC 8285 §4.3): IDs 1–255, 0–255 octets each.
    /// `appBits` fills the low four bits of the profile.
    public init(twoByteElements elements: [RTPExtensionElement], appBits: UInt8 = 0) throws(RTPError) {
        var data: [UInt8] = []
        for element in elements {
            guard element.id != 0 else { throw .extensionElementIDOutOfRange }
            guard element.data.count <= 255 else { throw .extensionElementLengthOutOfRange }
            data.append(element.id)
            data.append(UInt8(element.data.count))
            data.append(contentsOf: element.data)
        }
        self.init(profile: Self.twoByteProfileBase | UInt16(appBits & 0x0F), data: data)
    }
}
