/// Hands out RTP/RTCP port pairs from a range: an even RTP port and the odd one above it
/// (RFC 3550 §11), next-fit, so that a port just released is reused only after the rest of
/// the range (stray packets of the previous call then have long stopped).
struct PortAllocator: Sendable {
    enum BindOutcome<Sockets> {
        case bound(Sockets)
        /// Something else holds one of the ports: try the next pair.
        case busy
        /// A failure no other port would cure (bad address, no descriptors left).
        case failed(MediaEngineError)
    }

    let range: ClosedRange<UInt16>
    /// Even RTP ports whose RTCP port is inside the range.
    let firstPort: Int
    let pairCount: Int
    private var inUse: Set<UInt16> = []
    private var cursor = 0

    init(range: ClosedRange<UInt16>) {
        self.range = range
        let first = Int(range.lowerBound) + Int(range.lowerBound) % 2
        firstPort = first
        pairCount = max(0, (Int(range.upperBound) - first + 1) / 2)
    }

    var allocatedCount: Int { inUse.count }

    /// Tries the free pairs from the cursor on, calling `bind` until one binds.
    mutating func allocate<Sockets>(
        _ bind: (UInt16) -> BindOutcome<Sockets>
    ) throws(MediaEngineError) -> (port: UInt16, sockets: Sockets) {
        var busy = 0
        for step in 0..<pairCount {
            let index = (cursor + step) % pairCount
            let port = UInt16(firstPort + 2 * index)
            if inUse.contains(port) { continue }
            switch bind(port) {
            case .bound(let sockets):
                inUse.insert(port)
                cursor = (index + 1) % pairCount
                return (port, sockets)
            case .busy:
                busy += 1
            case .failed(let error):
                throw error
            }
        }
        throw MediaEngineError(
            .portsExhausted,
            "no free RTP/RTCP port pair in \(range.lowerBound)-\(range.upperBound): \(inUse.count) of \(pairCount) pairs in use by this engine"
                + (busy > 0 ? ", \(busy) held by other processes" : ""))
    }

    mutating func release(_ port: UInt16) {
        inUse.remove(port)
    }
}
