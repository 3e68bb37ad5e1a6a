import RTPCore

extension MediaEngine {
    /// How an engine allocates ports, marks packets and paces.
    public struct Configuration: Sendable, Hashable {
        /// RTP ports are even numbers in this range, RTCP the odd port above (RFC 3550 §11);
        /// both must lie inside it.
        public var portRange: ClosedRange<UInt16>
        /// DSCP of every packet sent (RFC 2474); 46 is Expedited Forwarding (RFC 3246).
        public var dscp: UInt8
        /// Media loop threads; sessions are spread over them.
        public var loopCount: Int
        /// Address sessions bind to unless `openSession(localAddress:)` names one.
        public var bindAddress: String
        /// Nominal RTCP report interval, seconds (RFC 3550 §6.2: 5 s minimum for real
        /// sessions; tests shorten it). Each interval is randomised by U(0.5, 1.5) (§6.3.1).
        public var rtcpIntervalSeconds: Double
        /// Seed of every random choice (SSRC, initial sequence number and timestamp, RTCP
        /// interval randomisation); nil draws one from the system generator.
        public var seed: UInt64?
        /// Session start times are aligned to multiples of this many nanoseconds of the
        /// monotonic clock, so sessions share timer wake-ups (batching); the per-packet grid is
        /// exact from there on. 1 ms bounds wake-ups at 1,000/s per loop however many sessions.
        public var startAlignmentNanoseconds: Int64
        /// Fixed playout delay of the emulated jitter buffer, ms (`jb_discards` and the
        /// jitter-buffer part of the E-model's mouth-to-ear delay). 60 ms, as `pcap analyze`.
        public var jitterBufferMs: Double
        /// Whether the receiver is assumed to conceal loss (G.711 Appendix I): selects G.113's
        /// Bpl 25.1 instead of 4.3.
        public var concealment: Bool
        /// SDES CNAME (RFC 3550 §6.5.1); nil: `earshot@<bind address>`.
        public var cname: String?
        /// Datagrams a session keeps when they arrive after `openSession` but before `start`
        /// (a peer that starts sending as soon as it has our SDP); more are counted as junk.
        public var earlyPacketLimit: Int
        /// SCHED_FIFO priority (1–99) for the loop threads, so that other work on the machine
        /// cannot hold back the grid; needs CAP_SYS_NICE (`LoopStatistics.realtime` says
        /// whether it took). Nil leaves the threads in the normal scheduler.
        public var realtimePriority: Int32?

        public init(
            portRange: ClosedRange<UInt16> = 40000...40999,
            dscp: UInt8 = 46,
            loopCount: Int = 1,
            bindAddress: String = "0.0.0.0",
            rtcpIntervalSeconds: Double = 5,
            seed: UInt64? = nil,
            startAlignmentNanoseconds: Int64 = 1_000_000,
            jitterBufferMs: Double = 60,
            concealment: Bool = false,
            cname: String? = nil,
            earlyPacketLimit: Int = 256,
            realtimePriority: Int32? = nil
        ) {
            self.portRange = portRange
            self.dscp = dscp
            self.loopCount = loopCount
            self.bindAddress = bindAddress
            self.rtcpIntervalSeconds = rtcpIntervalSeconds
            self.seed = seed
            self.startAlignmentNanoseconds = startAlignmentNanoseconds
            self.jitterBufferMs = jitterBufferMs
            self.concealment = concealment
            self.cname = cname
            self.earlyPacketLimit = earlyPacketLimit
            self.realtimePriority = realtimePriority
        }
    }
}

/// What `MediaEngine.start` needs from the offer/answer: where to send, which payload types,
/// and which tones to send and expect.
public struct MediaParameters: Sendable, Hashable {
    /// Where RTP goes (the SDP's c= address and m= port).
    public var remote: MediaEndpoint
    /// RTCP port of the remote; nil: RTP port + 1 (RFC 3550 §11).
    public var rtcpRemotePort: UInt16?
    /// 0 (PCMU) or 8 (PCMA), RFC 3551 §6.
    public var payloadType: UInt8
    /// The dynamic payload type negotiated for RFC 4733 telephone-event; nil when none was.
    public var telephoneEventPayloadType: UInt8?
    /// The identifying tone this side sends (`IdentifyingTone`).
    public var toneFrequency: Int
    /// The tone the far end should be sending; nil: the audio check only looks for signal.
    public var expectedRemoteToneFrequency: Int?
    /// Our SSRC; nil draws one from the engine's seeded generator.
    public var ssrc: UInt32?
    /// Symmetric RTP with latching ("comedia", for peers behind NAT): the first valid RTP
    /// source becomes the destination of our RTP and the only source accepted; the first
    /// RTCP source likewise for RTCP. Without it packets are accepted from any source.
    public var latchToSource: Bool
    /// Packetisation, ms (SDP ptime); 20 by default.
    public var ptimeMs: Int
    /// Join this bridge (opened on the same loop): what this session sends is the mix of the
    /// other members, what it receives goes into the mix. `toneFrequency` is then unused.
    public var bridge: MediaBridge?
    /// The member's name in the bridge report (an agent id, a caller URI).
    public var memberLabel: String?
    /// Frequencies to watch in what arrives (a conference participant: every other member's
    /// tone and its own); reported per second in `MediaReport.Received.tones`.
    public var watchTones: [Int]

    public init(
        remote: MediaEndpoint,
        rtcpRemotePort: UInt16? = nil,
        payloadType: UInt8 = 0,
        telephoneEventPayloadType: UInt8? = 101,
        toneFrequency: Int,
        expectedRemoteToneFrequency: Int? = nil,
        ssrc: UInt32? = nil,
        latchToSource: Bool = false,
        ptimeMs: Int = 20,
        bridge: MediaBridge? = nil,
        memberLabel: String? = nil,
        watchTones: [Int] = []
    ) {
        self.remote = remote
        self.rtcpRemotePort = rtcpRemotePort
        self.payloadType = payloadType
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.toneFrequency = toneFrequency
        self.expectedRemoteToneFrequency = expectedRemoteToneFrequency
        self.ssrc = ssrc
        self.latchToSource = latchToSource
        self.ptimeMs = ptimeMs
        self.bridge = bridge
        self.memberLabel = memberLabel
        self.watchTones = watchTones
    }

    var rtcpRemote: MediaEndpoint { remote.with(port: rtcpRemotePort ?? (remote.port &+ 1)) }

    var law: G711Law? {
        switch payloadType {
        case 0: .muLaw
        case 8: .aLaw
        default: nil
        }
    }
}

/// Why the engine refused a request.
public struct MediaEngineError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        case portsExhausted = "ports_exhausted"
        case invalidAddress = "invalid_address"
        case invalidParameters = "invalid_parameters"
        case socketFailed = "socket_failed"
        case unknownSession = "unknown_session"
        case notStarted = "not_started"
        case alreadyStarted = "already_started"
        case shutDown = "shut_down"
        case unknownBridge = "unknown_bridge"
        /// The bridge has `maxParticipants` members already.
        case bridgeFull = "bridge_full"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
