// bench-fixtures DIR — writes the inputs the peers of scripts/bench read, byte-identical to what
// the benchmarks build in memory:
//   invites.pcap   10,000 INVITEs with SDP (tshark's SIP dissector)
//   rtp.pcap       100,000 RTP packets, 50 streams with loss/reorder/duplicates (tshark rtp,streams)
//   startup.pcap   one RTP packet (tshark's start-up cost)
//   samples.s16le  1,000,000 samples of the test signal, 16-bit little-endian (audioop)
//   emodel-check.txt  Swift's R for the E-model peer's inputs (the report shows both)
import BenchmarkFixtures
import CallQuality
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: bench-fixtures DIR\n".utf8))
    exit(2)
}
let directory = URL(fileURLWithPath: arguments[1], isDirectory: true)
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

func write(_ name: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: directory.appendingPathComponent(name))
    print("\(name): \(bytes.count) bytes")
}

try write("invites.pcap", CaptureFixtures.inviteCapture(count: BenchmarkSizes.sipCaptureMessages))
try write("rtp.pcap", CaptureFixtures.rtpCapture(packets: BenchmarkSizes.rtpCapturePackets, streams: BenchmarkSizes.rtpCaptureStreams))
try write("startup.pcap", CaptureFixtures.startupCapture())
try write("samples.s16le", AudioFixtures.littleEndianBytes(AudioFixtures.samples(count: BenchmarkSizes.g711Samples)))

let evaluated = EModel.evaluate(CallQualityFixtures.peerEModelParameters())
let assessment = try CallQualityAssessment(measurement: CallQualityFixtures.peerMeasurement())
let check = """
    E-model evaluate: R=\(rounded(evaluated.rFactor))
    CallQualityAssessment from counters: R_CQ=\(rounded(assessment.rFactor ?? .nan)) R_LQ=\(rounded(assessment.listening.rFactor))

    """
try write("emodel-check.txt", Array(check.utf8))

func rounded(_ value: Double) -> String { String(format: "%.6f", value) }
