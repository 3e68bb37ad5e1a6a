import MediaEngine
import SIPCore
import SIPTransaction

/// One test call as `earshot call` / `earshot answer` print it and an organizer run will
/// store it: how it was set up, how it ended (a classified cause), both directions of media,
/// session-timer refreshes, DTMF, and the SIP ladder as evidence. snake_case, explicit nulls.
public struct CallReport: Sendable, Encodable {
    public struct Setup: Sendable, Encodable {
        /// INVITE sent (caller) or received (callee) → first 180 (null when none).
        public var inviteTo180Ms: Double?
        /// INVITE → 200 OK.
        public var inviteTo200Ms: Double?
        /// 200 OK → first RTP packet received.
        public var answerToFirstRTPMs: Double?
        /// INVITEs sent beyond the first (digest challenges, 422 retries).
        public var authRoundTrips: Int
        public var sessionIntervalRetries: Int

        enum CodingKeys: String, CodingKey {
            case inviteTo180Ms = "invite_to_180_ms", inviteTo200Ms = "invite_to_200_ms"
            case answerToFirstRTPMs = "answer_to_first_rtp_ms", authRoundTrips = "auth_round_trips"
            case sessionIntervalRetries = "session_interval_retries"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(inviteTo180Ms, forKey: .inviteTo180Ms)
            try c.encode(inviteTo200Ms, forKey: .inviteTo200Ms)
            try c.encode(answerToFirstRTPMs, forKey: .answerToFirstRTPMs)
            try c.encode(authRoundTrips, forKey: .authRoundTrips)
            try c.encode(sessionIntervalRetries, forKey: .sessionIntervalRetries)
        }
    }

    public struct Refresh: Sendable, Encodable {
        /// Seconds after the call was answered.
        public var atS: Double
        public var method: String
        /// The final status, or null when the refresh went unanswered.
        public var statusCode: Int?
        public var outcome: String
        /// "sent" (we refreshed) or "received" (the peer refreshed).
        public var direction: String

        enum CodingKeys: String, CodingKey {
            case atS = "at_s", method, statusCode = "status_code", outcome, direction
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(atS, forKey: .atS)
            try c.encode(method, forKey: .method)
            try c.encode(statusCode, forKey: .statusCode)
            try c.encode(outcome, forKey: .outcome)
            try c.encode(direction, forKey: .direction)
        }
    }

    public struct SessionTimerReport: Sendable, Encodable {
        public var intervalS: Int
        /// "uac" or "uas", as negotiated.
        public var refresher: String
        public var weRefresh: Bool
        /// UPDATE when the peer's Allow lists it, else INVITE (what we would use).
        public var refreshMethod: String
        public var refreshes: [Refresh]

        enum CodingKeys: String, CodingKey {
            case intervalS = "interval_s", refresher, weRefresh = "we_refresh", refreshMethod = "refresh_method", refreshes
        }
    }

    /// One direction of media in the call's terms. `outbound` is what we sent as the far end
    /// saw it (from its RTCP reports when it sends them, else null fields); `inbound` is what
    /// we received, measured here (DESIGN §2).
    public struct Directions: Sendable, Encodable {
        public var outbound: MediaReport.RemoteView?
        public var inbound: MediaReport.Received?

        enum CodingKeys: String, CodingKey { case outbound, inbound }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(outbound, forKey: .outbound)
            try c.encode(inbound, forKey: .inbound)
        }
    }

    public var callID: String
    public var role: String
    public var localURI: String
    public var remoteURI: String
    public var transport: String
    /// passed: completed with media both ways and the audio check passing (when it could run);
    /// failed: did not complete or ended abnormally; degraded: completed with a media problem.
    public var status: String
    public var ending: CallEnding
    public var setup: Setup
    public var plannedDurationS: Double?
    public var actualDurationS: Double?
    public var sessionTimer: SessionTimerReport?
    /// The test digits sent (`CallRequest.dtmf`), without the PIN.
    public var dtmfSent: String?
    /// The conference PIN sent before them (`CallRequest.pin`); the media report's sent digits
    /// begin with it.
    public var pinSent: String?
    public var dtmfReceived: String?
    public var directions: Directions
    public var media: MediaReport?
    public var problems: [String]
    public var ladder: SIPLadder
    /// The headers of the INVITE that set the call up: the one we sent (caller, the last
    /// attempt) or received (callee). Not in the JSON (the ladder has the message); it lets a
    /// callee attribute the call, e.g. by `X-Earshot-Run`.
    public var inviteHeaders: SIPHeaders = []

    /// The digits the media engine sent after the PIN's (the test digits, in order).
    public var digitsSentAfterPIN: [MediaReport.Digit] {
        let all = media?.sent.dtmfDigitsSent ?? []
        return Array(all.dropFirst(min(all.count, pinSent?.count ?? 0)))
    }

    /// The first value of header `name` in the INVITE (case-insensitive).
    public func inviteHeader(_ name: String) -> String? { inviteHeaders.first(SIPHeaderName(name))?.value }

    enum CodingKeys: String, CodingKey {
        case callID = "call_id", role, localURI = "local_uri", remoteURI = "remote_uri", transport, status, ending, setup
        case plannedDurationS = "planned_duration_s", actualDurationS = "actual_duration_s"
        case sessionTimer = "session_timer", dtmfSent = "dtmf_sent", pinSent = "pin_sent", dtmfReceived = "dtmf_received"
        case directions, media, problems, ladder
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(callID, forKey: .callID)
        try c.encode(role, forKey: .role)
        try c.encode(localURI, forKey: .localURI)
        try c.encode(remoteURI, forKey: .remoteURI)
        try c.encode(transport, forKey: .transport)
        try c.encode(status, forKey: .status)
        try c.encode(ending, forKey: .ending)
        try c.encode(setup, forKey: .setup)
        try c.encode(plannedDurationS, forKey: .plannedDurationS)
        try c.encode(actualDurationS, forKey: .actualDurationS)
        try c.encode(sessionTimer, forKey: .sessionTimer)
        try c.encode(dtmfSent, forKey: .dtmfSent)
        try c.encode(pinSent, forKey: .pinSent)
        try c.encode(dtmfReceived, forKey: .dtmfReceived)
        try c.encode(directions, forKey: .directions)
        try c.encode(media, forKey: .media)
        try c.encode(problems, forKey: .problems)
        try c.encode(ladder, forKey: .ladder)
    }
}
