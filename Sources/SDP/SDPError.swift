/// Why a session description could not be parsed: a code the caller can compare, the
/// 1-based line it was found on and that line's text, so a report can point at the
/// exact place in a peer's SDP.
///
/// Compare `error.code` against the static members of ``SDPError/Code``:
/// `#expect(error.code == .invalidPort && error.line == 6)`.
public struct SDPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. A struct with static members (not a public enum) so codes can be
    /// added without breaking callers that switch over them.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case missingVersion = "missing v=0 as the first line"
            case invalidVersion = "v= is not 0"
            case malformedLine = "not a <type>=<value> line"
            case unknownType = "unknown line type"
            case outOfOrder = "line out of the order RFC 8866 §5 requires"
            case duplicateField = "field may appear only once here"
            case missingOrigin = "missing o= after v="
            case missingSessionName = "missing s= after o="
            case missingTime = "missing t= before attributes and media"
            case missingConnection = "no c= at session level or in this media description"
            case invalidOrigin = "malformed o= line"
            case invalidConnection = "malformed c= line"
            case invalidBandwidth = "malformed b= line"
            case invalidTime = "malformed t=, r= or z= line"
            case invalidMedia = "malformed m= line"
            case invalidPort = "port is not a number in 0...65535"
            case invalidPayloadType = "RTP payload type is not a number in 0...127"
            case invalidAttribute = "malformed attribute"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The first line is not `v=` (RFC 8866 §5.1), or the input is empty.
        public static let missingVersion = Code(.missingVersion)
        /// `v=` carries something other than `0`.
        public static let invalidVersion = Code(.invalidVersion)
        /// A line that is not `<one letter>=<value>`: empty line, whitespace around `=`,
        /// NUL or a lone CR inside the line (RFC 8866 §5).
        public static let malformedLine = Code(.malformedLine)
        /// A type letter RFC 8866 does not define; §5 says to reject or ignore the whole
        /// description, and ignoring would hide a peer's bug.
        public static let unknownType = Code(.unknownType)
        /// A known line in the wrong place (RFC 8866 §5 fixes the order).
        public static let outOfOrder = Code(.outOfOrder)
        /// A field allowed at most once in its section appears again.
        public static let duplicateField = Code(.duplicateField)
        /// `o=` does not follow `v=`.
        public static let missingOrigin = Code(.missingOrigin)
        /// `s=` does not follow `o=`.
        public static let missingSessionName = Code(.missingSessionName)
        /// No `t=` line before the session attributes, media or the end.
        public static let missingTime = Code(.missingTime)
        /// A media description with a non-zero port has no connection address, neither
        /// its own `c=` nor a session-level one (RFC 8866 §5.7).
        public static let missingConnection = Code(.missingConnection)
        public static let invalidOrigin = Code(.invalidOrigin)
        public static let invalidConnection = Code(.invalidConnection)
        public static let invalidBandwidth = Code(.invalidBandwidth)
        public static let invalidTime = Code(.invalidTime)
        /// An `m=` line with too few fields or an empty media or transport token.
        public static let invalidMedia = Code(.invalidMedia)
        /// A port (in `m=` or `a=rtcp`) or port count that is not a number in range.
        public static let invalidPort = Code(.invalidPort)
        /// A format on an RTP `m=` line that is not a number in 0...127.
        public static let invalidPayloadType = Code(.invalidPayloadType)
        /// `a=` with an empty or non-token name, or a malformed value of an attribute this
        /// module interprets (`rtpmap` — including a payload type beyond 127 —, `fmtp`,
        /// `ptime`, `maxptime`, `rtcp`).
        public static let invalidAttribute = Code(.invalidAttribute)

        public var description: String { base.rawValue }
    }

    public let code: Code
    /// 1-based line number; for problems found at the end of the input, one past the last line.
    public let line: Int
    /// The offending line without its line ending (empty at the end of the input).
    public let content: String

    public init(_ code: Code, line: Int, content: String) {
        self.code = code
        self.line = line
        self.content = content
    }

    public var description: String {
        content.isEmpty ? "SDP line \(line): \(code)" : "SDP line \(line): \(code): \(content)"
    }
}
