import SIPCore

/// Why a transaction, builder or dialog could not be made from a message: a header it needs is
/// missing or does not parse. Messages that passed `SIPValidator` carry every header RFC 3261
/// §8.1.1 makes mandatory, so these errors mean a message that was not validated.
public enum SIPTransactionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A header the operation needs is absent.
    case missingHeader(SIPHeaderName)
    /// A header is present but does not parse.
    case malformedHeader(SIPParseError)
    /// The top Via has no branch parameter (RFC 3261 §8.1.1.7 makes it mandatory).
    case missingBranch
    /// A response other than 100 needs a To tag the request did not carry (RFC 3261 §8.2.6.2).
    case missingToTag
    /// A dialog needs a tag the message does not carry (RFC 3261 §12.1).
    case missingDialogTag
    /// The message is not one the operation applies to (a CANCEL for an ACK, a dialog from a
    /// non-dialog-creating response, ...).
    case notApplicable(String)

    public var description: String {
        switch self {
        case .missingHeader(let name): "missing \(name) header"
        case .malformedHeader(let error): "malformed header: \(error)"
        case .missingBranch: "top Via has no branch parameter"
        case .missingToTag: "a To tag is required for this response"
        case .missingDialogTag: "the message carries no tag to identify a dialog"
        case .notApplicable(let detail): detail
        }
    }
}

/// Typed header access that turns "absent" and "malformed" into `SIPTransactionError`.
extension SIPHeaders {
    func required<T>(_ name: SIPHeaderName, _ get: (SIPHeaders) throws(SIPParseError) -> T?) throws(SIPTransactionError) -> T {
        let value: T?
        do throws(SIPParseError) {
            value = try get(self)
        } catch {
            throw .malformedHeader(error)
        }
        guard let value else { throw .missingHeader(name) }
        return value
    }

    func optional<T>(_ get: (SIPHeaders) throws(SIPParseError) -> T?) throws(SIPTransactionError) -> T? {
        do throws(SIPParseError) {
            return try get(self)
        } catch {
            throw .malformedHeader(error)
        }
    }

    var requiredCSeq: SIPCSeq { get throws(SIPTransactionError) { try required(.cseq) { h throws(SIPParseError) in try h.cseq } } }
    var requiredCallID: String { get throws(SIPTransactionError) { try required(.callID) { h throws(SIPParseError) in try h.callID } } }
    var requiredFrom: SIPNameAddress { get throws(SIPTransactionError) { try required(.from) { h throws(SIPParseError) in try h.from } } }
    var requiredTo: SIPNameAddress { get throws(SIPTransactionError) { try required(.to) { h throws(SIPParseError) in try h.to } } }
    var requiredTopVia: SIPVia { get throws(SIPTransactionError) { try required(.via) { h throws(SIPParseError) in try h.topVia } } }

    /// The text of the topmost Via value (one element of a possibly combined line), unchanged.
    var topViaText: String { get throws(SIPTransactionError) {
        guard let first = values(.via).first else { throw .missingHeader(.via) }
        return first
    } }

    /// Copies every line of `name` from `other`, in order, as they were.
    mutating func copy(_ name: SIPHeaderName, from other: SIPHeaders) {
        for field in other.fields(name) { add(field) }
    }
}
