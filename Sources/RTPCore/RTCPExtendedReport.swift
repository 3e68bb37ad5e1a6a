// RTCP extended reports: RFC 3611 §2 (packet), §3 (blocks), §4.4 (Receiver Reference Time),
// §4.5 (DLRR), §4.7 (VoIP Metrics).

/// An RTCP XR packet (RFC 3611 §2): the reporter's SSRC and a list of report blocks.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|reserved |   PT=XR=207   |             length            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              SSRC                             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// :                         report blocks                         :
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Each block starts with the §3 block header; `block length` counts the block's words minus one,
/// header included, so a block of an unknown type is skipped by it:
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      BT       | type-specific |         block length          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// :             type-specific block contents                      :
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// The reserved header bits and the reserved octets inside known blocks are written as zero.
public struct RTCPExtendedReport: Hashable, Sendable, RTCPPacketBody {
    static let packetType = RTCPPacketType.extendedReport

    public var ssrc: UInt32
    public var blocks: [Block]

    public init(ssrc: UInt32, blocks: [Block]) {
        self.ssrc = ssrc
        self.blocks = blocks
    }

    public enum Block: Hashable, Sendable {
        /// BT=4 (§4.4): the NTP time a non-sender sent this report, so that senders can answer
        /// with DLRR and the receiver learns its round-trip time.
        case receiverReferenceTime(NTPTimestamp)
        /// BT=5 (§4.5): one sub-block per receiver whose Receiver Reference Time was seen.
        case dlrr([DLRRSubBlock])
        /// BT=7 (§4.7).
        case voipMetrics(VoIPMetrics)
        /// Any other block type, skipped by its length: `body` is the contents after the block
        /// header, zero-padded to a 32-bit boundary on encode.
        case unknown(type: UInt8, typeSpecific: UInt8, body: [UInt8])

        public static let receiverReferenceTimeType: UInt8 = 4
        public static let dlrrType: UInt8 = 5
        public static let voipMetricsType: UInt8 = 7

        var contentSize: Int {
            switch self {
            case .receiverReferenceTime: 8
            case .dlrr(let subBlocks): 12 * subBlocks.count
            case .voipMetrics: VoIPMetrics.contentSize
            case .unknown(_, _, let body): roundedUpToWord(body.count)
            }
        }

        var encodedSize: Int { 4 + contentSize }

        /// The block header's BT and type-specific octets (reserved octets are written as zero).
        private var typeOctets: (type: UInt8, typeSpecific: UInt8) {
            switch self {
            case .receiverReferenceTime: (Self.receiverReferenceTimeType, 0)
            case .dlrr: (Self.dlrrType, 0)
            case .voipMetrics: (Self.voipMetricsType, 0)
            case .unknown(let type, let typeSpecific, _): (type, typeSpecific)
            }
        }

        func encode(into buffer: inout [UInt8]) {
            let (type, typeSpecific) = typeOctets
            buffer.append(type)
            buffer.append(typeSpecific)
            buffer.appendBigEndian(UInt16(truncatingIfNeeded: contentSize / 4))
            switch self {
            case .receiverReferenceTime(let time):
                buffer.appendBigEndian(time.seconds)
                buffer.appendBigEndian(time.fraction)
            case .dlrr(let subBlocks):
                for subBlock in subBlocks {
                    buffer.appendBigEndian(subBlock.ssrc)
                    buffer.appendBigEndian(subBlock.lastReceiverReport)
                    buffer.appendBigEndian(subBlock.delaySinceLastReceiverReport)
                }
            case .voipMetrics(let metrics):
                metrics.encodeContent(into: &buffer)
            case .unknown(_, _, let body):
                buffer.append(contentsOf: body)
                buffer.appendZeros(roundedUpToWord(body.count) - body.count)
            }
        }

        init(reading cursor: inout ByteCursor) throws(RTCPError) {
            let type = try cursor.readUInt8(or: RTCPError.xrBlockBeyondPacket)
            let typeSpecific = try cursor.readUInt8(or: RTCPError.xrBlockBeyondPacket)
            let words = Int(try cursor.readUInt16(or: RTCPError.xrBlockBeyondPacket))
            var content = ByteCursor(try cursor.readBytes(4 * words, or: RTCPError.xrBlockBeyondPacket))
            switch type {
            case Self.receiverReferenceTimeType:
                guard words == 2 else { throw .xrBlockLengthInvalid }
                self = .receiverReferenceTime(
                    NTPTimestamp(
                        seconds: try content.readUInt32(or: RTCPError.xrBlockLengthInvalid),
                        fraction: try content.readUInt32(or: RTCPError.xrBlockLengthInvalid)
                    )
                )
            case Self.dlrrType:
                guard words % 3 == 0 else { throw .xrBlockLengthInvalid }
                var subBlocks: [DLRRSubBlock] = []
                subBlocks.reserveCapacity(words / 3)
                while !content.isAtEnd {
                    subBlocks.append(
                        DLRRSubBlock(
                            ssrc: try content.readUInt32(or: RTCPError.xrBlockLengthInvalid),
                            lastReceiverReport: try content.readUInt32(or: RTCPError.xrBlockLengthInvalid),
                            delaySinceLastReceiverReport: try content.readUInt32(or: RTCPError.xrBlockLengthInvalid)
                        )
                    )
                }
                self = .dlrr(subBlocks)
            case Self.voipMetricsType:
                guard 4 * words == VoIPMetrics.contentSize else { throw .xrBlockLengthInvalid }
                self = .voipMetrics(try VoIPMetrics(reading: &content))
            default:
                self = .unknown(type: type, typeSpecific: typeSpecific, body: Array(content.readRest()))
            }
        }
    }

    /// A DLRR sub-block (RFC 3611 §4.5).
    ///
    /// ```
    /// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
    /// |                 SSRC_1 (SSRC of first receiver)               | sub-
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ block
    /// |                         last RR (LRR)                         |   1
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                   delay since last RR (DLRR)                  |
    /// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
    /// ```
    /// LRR and DLRR play the roles of LSR and DLSR, so `RTCPRoundTrip.rtt` applies unchanged.
    public struct DLRRSubBlock: Hashable, Sendable {
        public var ssrc: UInt32
        /// Middle 32 bits of the NTP time in that receiver's last Receiver Reference Time block.
        public var lastReceiverReport: UInt32
        /// 1/65536 s since it arrived.
        public var delaySinceLastReceiverReport: UInt32

        public init(ssrc: UInt32, lastReceiverReport: UInt32, delaySinceLastReceiverReport: UInt32) {
            self.ssrc = ssrc
            self.lastReceiverReport = lastReceiverReport
            self.delaySinceLastReceiverReport = delaySinceLastReceiverReport
        }
    }

    init(count: UInt8, body: ArraySlice<UInt8>) throws(RTCPError) {
        var cursor = ByteCursor(body)
        ssrc = try cursor.readUInt32(or: RTCPError.packetTooShort)
        var blocks: [Block] = []
        while !cursor.isAtEnd { blocks.append(try Block(reading: &cursor)) }
        self.blocks = blocks
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws(RTCPError) { self = try .decodeSingle(bytes) }
    public init(parsing bytes: [UInt8]) throws(RTCPError) { self = try .decodeSingle(bytes[...]) }
    public var encodedSize: Int { packetSize }
    public func encode(into buffer: inout [UInt8]) { encodePacket(into: &buffer) }

    var headerCount: UInt8 { 0 }
    var bodySize: Int { blocks.reduce(4) { $0 + $1.encodedSize } }

    func encodeBody(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(ssrc)
        for block in blocks { block.encode(into: &buffer) }
    }
}

// MARK: - VoIP Metrics (RFC 3611 §4.7)

extension RTCPExtendedReport {
    /// The VoIP Metrics report block (RFC 3611 §4.7): a call-quality summary of one source as its
    /// receiver saw it.
    ///
    /// ```
    ///  0                   1                   2                   3
    ///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |     BT=7      |   reserved    |       block length = 8        |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                        SSRC of source                         |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |   loss rate   | discard rate  | burst density |  gap density  |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |       burst duration          |         gap duration          |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |     round trip delay          |       end system delay        |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// | signal level  |  noise level  |     RERL      |     Gmin      |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |   R factor    | ext. R factor |    MOS-LQ     |    MOS-CQ     |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |   RX config   |   reserved    |          JB nominal           |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |          JB maximum           |          JB abs max           |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// ```
    /// Fields the RFC lets a reporter mark "unavailable" with the value 127 (signal, noise, RERL,
    /// R, external R, MOS-LQ, MOS-CQ) are optionals here: nil encodes as 127.
    public struct VoIPMetrics: Hashable, Sendable {
        /// The octet value RFC 3611 §4.7.4–4.7.5 reserve for "unavailable".
        public static let unavailable: UInt8 = 127
        /// SSRC plus 28 octets of metrics.
        static let contentSize = 32

        public var ssrc: UInt32
        /// §4.7.1: fraction of packets lost in the network, in 1/256.
        public var lossRate: UInt8
        /// §4.7.1: fraction discarded late or early by the jitter buffer, in 1/256.
        public var discardRate: UInt8
        /// §4.7.2: fraction of packets lost or discarded within bursts, in 1/256.
        public var burstDensity: UInt8
        /// §4.7.2: fraction lost or discarded within gaps, in 1/256.
        public var gapDensity: UInt8
        /// §4.7.2: mean burst duration, ms.
        public var burstDuration: UInt16
        /// §4.7.2: mean gap duration, ms.
        public var gapDuration: UInt16
        /// §4.7.3: most recent round-trip time between RTP interfaces, ms.
        public var roundTripDelay: UInt16
        /// §4.7.3: this end system's delay (buffering, coding, packetization), ms.
        public var endSystemDelay: UInt16
        /// §4.7.4: speech signal level, dBm0 (signed).
        public var signalLevel: Int8?
        /// §4.7.4: silence noise level, dBm0 (signed).
        public var noiseLevel: Int8?
        /// §4.7.4: residual echo return loss, dB.
        public var residualEchoReturnLoss: UInt8?
        /// §4.7.4: the gap threshold, in consecutive received packets (16 recommended).
        public var gmin: UInt8
        /// §4.7.5: ITU-T G.107 R factor, 0–100.
        public var rFactor: UInt8?
        /// §4.7.5: R factor computed with an external reference, 0–100.
        public var externalRFactor: UInt8?
        /// §4.7.5: MOS listening quality × 10 (10–50).
        public var mosLQTenths: UInt8?
        /// §4.7.5: MOS conversational quality × 10 (10–50).
        public var mosCQTenths: UInt8?
        /// §4.7.6.
        public var receiverConfiguration: ReceiverConfiguration
        /// §4.7.7: jitter buffer nominal delay, ms.
        public var jitterBufferNominal: UInt16
        /// §4.7.7: jitter buffer maximum delay, ms.
        public var jitterBufferMaximum: UInt16
        /// §4.7.7: the largest size the jitter buffer can reach, ms.
        public var jitterBufferAbsoluteMaximum: UInt16

        public init(
            ssrc: UInt32,
            lossRate: UInt8 = 0,
            discardRate: UInt8 = 0,
            burstDensity: UInt8 = 0,
            gapDensity: UInt8 = 0,
            burstDuration: UInt16 = 0,
            gapDuration: UInt16 = 0,
            roundTripDelay: UInt16 = 0,
            endSystemDelay: UInt16 = 0,
            signalLevel: Int8? = nil,
            noiseLevel: Int8? = nil,
            residualEchoReturnLoss: UInt8? = nil,
            gmin: UInt8 = 16,
            rFactor: UInt8? = nil,
            externalRFactor: UInt8? = nil,
            mosLQTenths: UInt8? = nil,
            mosCQTenths: UInt8? = nil,
            receiverConfiguration: ReceiverConfiguration = ReceiverConfiguration(rawValue: 0),
            jitterBufferNominal: UInt16 = 0,
            jitterBufferMaximum: UInt16 = 0,
            jitterBufferAbsoluteMaximum: UInt16 = 0
        ) {
            self.ssrc = ssrc
            self.lossRate = lossRate
            self.discardRate = discardRate
            self.burstDensity = burstDensity
            self.gapDensity = gapDensity
            self.burstDuration = burstDuration
            self.gapDuration = gapDuration
            self.roundTripDelay = roundTripDelay
            self.endSystemDelay = endSystemDelay
            self.signalLevel = signalLevel
            self.noiseLevel = noiseLevel
            self.residualEchoReturnLoss = residualEchoReturnLoss
            self.gmin = gmin
            self.rFactor = rFactor
            self.externalRFactor = externalRFactor
            self.mosLQTenths = mosLQTenths
            self.mosCQTenths = mosCQTenths
            self.receiverConfiguration = receiverConfiguration
            self.jitterBufferNominal = jitterBufferNominal
            self.jitterBufferMaximum = jitterBufferMaximum
            self.jitterBufferAbsoluteMaximum = jitterBufferAbsoluteMaximum
        }

        /// `lossRate` as a ratio in 0..<1.
        public var lossFraction: Double { Double(lossRate) / 256 }
        /// `discardRate` as a ratio in 0..<1.
        public var discardFraction: Double { Double(discardRate) / 256 }
        public var mosLQ: Double? { mosLQTenths.map { Double($0) / 10 } }
        public var mosCQ: Double? { mosCQTenths.map { Double($0) / 10 } }

        init(reading cursor: inout ByteCursor) throws(RTCPError) {
            func octet() throws(RTCPError) -> UInt8 { try cursor.readUInt8(or: RTCPError.xrBlockLengthInvalid) }
            func half() throws(RTCPError) -> UInt16 { try cursor.readUInt16(or: RTCPError.xrBlockLengthInvalid) }
            func available(_ raw: UInt8) -> UInt8? { raw == Self.unavailable ? nil : raw }
            func availableSigned(_ raw: UInt8) -> Int8? { raw == Self.unavailable ? nil : Int8(bitPattern: raw) }
            ssrc = try cursor.readUInt32(or: RTCPError.xrBlockLengthInvalid)
            lossRate = try octet()
            discardRate = try octet()
            burstDensity = try octet()
            gapDensity = try octet()
            burstDuration = try half()
            gapDuration = try half()
            roundTripDelay = try half()
            endSystemDelay = try half()
            signalLevel = availableSigned(try octet())
            noiseLevel = availableSigned(try octet())
            residualEchoReturnLoss = available(try octet())
            gmin = try octet()
            rFactor = available(try octet())
            externalRFactor = available(try octet())
            mosLQTenths = available(try octet())
            mosCQTenths = available(try octet())
            receiverConfiguration = ReceiverConfiguration(rawValue: try octet())
            _ = try octet()  // reserved
            jitterBufferNominal = try half()
            jitterBufferMaximum = try half()
            jitterBufferAbsoluteMaximum = try half()
        }

        func encodeContent(into buffer: inout [UInt8]) {
            buffer.appendBigEndian(ssrc)
            buffer.append(lossRate)
            buffer.append(discardRate)
            buffer.append(burstDensity)
            buffer.append(gapDensity)
            buffer.appendBigEndian(burstDuration)
            buffer.appendBigEndian(gapDuration)
            buffer.appendBigEndian(roundTripDelay)
            buffer.appendBigEndian(endSystemDelay)
            buffer.append(signalLevel.map { UInt8(bitPattern: $0) } ?? Self.unavailable)
            buffer.append(noiseLevel.map { UInt8(bitPattern: $0) } ?? Self.unavailable)
            buffer.append(residualEchoReturnLoss ?? Self.unavailable)
            buffer.append(gmin)
            buffer.append(rFactor ?? Self.unavailable)
            buffer.append(externalRFactor ?? Self.unavailable)
            buffer.append(mosLQTenths ?? Self.unavailable)
            buffer.append(mosCQTenths ?? Self.unavailable)
            buffer.append(receiverConfiguration.rawValue)
            buffer.append(0)  // reserved
            buffer.appendBigEndian(jitterBufferNominal)
            buffer.appendBigEndian(jitterBufferMaximum)
            buffer.appendBigEndian(jitterBufferAbsoluteMaximum)
        }
    }

    /// The RX config octet of the VoIP Metrics block (RFC 3611 §4.7.6).
    ///
    /// ```
    ///  0 1 2 3 4 5 6 7
    /// +-+-+-+-+-+-+-+-+
    /// |PLC|JBA|JB rate|
    /// +-+-+-+-+-+-+-+-+
    /// ```
    public struct ReceiverConfiguration: Hashable, Sendable {
        public enum PacketLossConcealment: UInt8, Hashable, Sendable {
            case unspecified = 0
            case disabled = 1
            case enhanced = 2
            case standard = 3
        }

        public enum JitterBufferAdaptivity: UInt8, Hashable, Sendable {
            case unknown = 0
            case reserved = 1
            case nonAdaptive = 2
            case adaptive = 3
        }

        public var packetLossConcealment: PacketLossConcealment
        public var jitterBufferAdaptivity: JitterBufferAdaptivity
        /// Four bits: the adaptive buffer's adjustment rate (§4.7.6).
        public var jitterBufferRate: UInt8

        public init(
            packetLossConcealment: PacketLossConcealment,
            jitterBufferAdaptivity: JitterBufferAdaptivity,
            jitterBufferRate: UInt8
        ) {
            self.packetLossConcealment = packetLossConcealment
            self.jitterBufferAdaptivity = jitterBufferAdaptivity
            self.jitterBufferRate = jitterBufferRate
        }

        public init(rawValue: UInt8) {
            // Two-bit fields with a case for each of the four values: the fallbacks never apply.
            packetLossConcealment = PacketLossConcealment(rawValue: rawValue >> 6) ?? .unspecified
            jitterBufferAdaptivity = JitterBufferAdaptivity(rawValue: (rawValue >> 4) & 0x03) ?? .unknown
            jitterBufferRate = rawValue & 0x0F
        }

        public var rawValue: UInt8 {
            packetLossConcealment.rawValue << 6 | jitterBufferAdaptivity.rawValue << 4 | jitterBufferRate & 0x0F
        }
    }
}
