import Pcap

/// The properties `FuzzPcap` checks on one input, read as a pcap or pcapng capture.
///
/// * Streaming: feeding the capture in two chunks (`append`, drain, `append`, `finish`,
///   drain) yields the same datagrams, the same tally and the same error (with its offset) as
///   reading it whole — what `CaptureReader` promises its callers.
/// * `UDPDatagramReader.readAll` returns exactly what reading datagram by datagram does.
/// * The tally adds up: every packet record is a datagram or in exactly one set-aside bucket,
///   the by-protocol and by-reason breakdowns sum to their buckets, and packet numbers of the
///   datagrams rise strictly within the records read.
enum PcapProperties {
    private struct Reading: Equatable {
        var datagrams: [UDPDatagram] = []
        var tally = CaptureTally()
        var error: PcapError?
        var packetCount = 0
    }

    static func check(_ bytes: [UInt8]) throws(PropertyViolation) -> Bool {
        var whole = UDPDatagramReader(bytes: bytes)
        var wholeReading = Reading()
        drain(&whole, into: &wholeReading)

        let cut = splitPoint(of: bytes)
        var streamed = UDPDatagramReader()
        var streamedReading = Reading()
        streamed.append(bytes[..<cut])
        drain(&streamed, into: &streamedReading)
        if streamedReading.error == nil {
            streamed.append(bytes[cut...])
            streamed.finish()
            drain(&streamed, into: &streamedReading)
        }
        try require(streamedReading == wholeReading, """
            streaming in two chunks (cut at \(cut)) differs from reading whole: \
            \(summary(streamedReading)) vs \(summary(wholeReading))
            """)

        switch Result(catching: { () throws(PcapError) in try UDPDatagramReader.readAll(bytes) }) {
        case .success(let all):
            try require(wholeReading.error == nil, "readAll succeeds where next() threw \(String(describing: wholeReading.error))")
            try require(all.datagrams == wholeReading.datagrams && all.tally == wholeReading.tally,
                        "readAll differs from reading datagram by datagram")
        case .failure(let error):
            try require(error == wholeReading.error, "readAll throws \(error), next() \(String(describing: wholeReading.error))")
        }

        let tally = wholeReading.tally
        try require(tally.packets == tally.udpDatagrams + tally.setAside, "tally does not add up: \(tally)")
        try require(tally.packets == wholeReading.packetCount, "tally counts \(tally.packets) packets, reader returned \(wholeReading.packetCount)")
        try require(tally.udpDatagrams == wholeReading.datagrams.count, "tally counts \(tally.udpDatagrams) datagrams, reader returned \(wholeReading.datagrams.count)")
        try require(tally.nonUDPByProtocol.values.reduce(0, +) == tally.nonUDP, "nonUDP breakdown does not add up: \(tally)")
        try require(tally.malformedByReason.values.reduce(0, +) == tally.malformed, "malformed breakdown does not add up: \(tally)")
        let numbers = wholeReading.datagrams.map(\.packetNumber)
        try require(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 }, "datagram packet numbers do not rise: \(numbers)")
        try require(numbers.allSatisfy { $0 >= 1 && $0 <= tally.packets }, "datagram packet number outside 1...\(tally.packets)")
        try require(wholeReading.datagrams.allSatisfy { $0.payload.count <= 65_535 - 8 }, "UDP payload longer than a UDP length allows")
        return wholeReading.error == nil && tally.packets > 0
    }

    private static func drain(_ reader: inout UDPDatagramReader, into reading: inout Reading) {
        do throws(PcapError) {
            while let datagram = try reader.next() { reading.datagrams.append(datagram) }
        } catch {
            reading.error = error
        }
        reading.tally = reader.tally
        reading.packetCount = reader.captureReader.packetCount
    }

    private static func summary(_ reading: Reading) -> String {
        "\(reading.datagrams.count) datagrams, \(reading.tally.packets) packets, error \(reading.error.map { "\($0)" } ?? "none")"
    }
}
