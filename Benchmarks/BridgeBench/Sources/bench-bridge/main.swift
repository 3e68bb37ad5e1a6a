// bench-bridge: one conference bridge with N members, fed by N participant sessions on a
// second engine (its own media loop thread), each sending its identifying tone. Per step
// prints one JSON line: the pacing lateness of the bridge's RTP packets in the steady window,
// the mixer's tick lateness, the CPU of the bridge's loop thread per participant-second, and
// a spot check that some participants still hear another's tone. Nothing asserts a timing.
//
//     bench-bridge [--participants 25,50,100] [--duration 25] [--warmup 4] [--media-priority N]
import Foundation
import MediaEngine
import RTPCore

struct Options {
    var participants = [25, 50, 100]
    var duration = 25
    var warmup = 4
    var priority: Int32?
    var spotChecks = 5

    init(_ arguments: [String]) {
        var i = 1
        func value() -> String {
            i += 1
            guard i < arguments.count else { fatalError("missing value after \(arguments[i - 1])") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--participants": participants = value().split(separator: ",").compactMap { Int($0) }
            case "--duration": duration = Int(value()) ?? duration
            case "--warmup": warmup = Int(value()) ?? warmup
            case "--media-priority": priority = Int32(value())
            case "--spot-checks": spotChecks = Int(value()) ?? spotChecks
            default: fatalError("unknown option \(arguments[i])")
            }
            i += 1
        }
    }
}

struct SpotCheck: Encodable {
    var listener: Int
    var otherToneHz: Int
    var otherFraction: Double
    var meanLevelDb: Double?
    /// Its own tone (meaningful only while every tone is distinct: N ≤ 17).
    var ownFraction: Double?
    /// Frames of the whole stream with any signal (≥ −55 dBov): the mix is there.
    var signalFraction: Double
}

struct Step: Encodable {
    var participants: Int
    var windowSeconds: Double
    var pacingUs: LatenessHistogram.Summary
    var pacingWholeRunUs: LatenessHistogram.Summary
    var tickLatenessUs: LatenessHistogram.Summary
    var bridgeCPUSeconds: Double
    var bridgeCores: Double
    var cpuPerParticipantPct: Double
    var feederCores: Double
    var packetsSent: Int
    var packetsPerSecond: Double
    var bridgeReceivedLost: Int
    var participantsReceivedLost: Int
    var clippedSamples: Int
    var framesConcealed: Int
    var framesMixed: Int
    var skippedTicks: Int64
    var spotChecks: [SpotCheck]
    var realtime: Bool
}

func fraction(_ o: ToneObservation, from: Int, to: Int) -> Double {
    let range = max(0, from)..<min(to, o.framesInSecond.count)
    let all = range.reduce(0) { $0 + o.framesInSecond[$1] }
    return all == 0 ? 0 : Double(range.reduce(0) { $0 + o.framesPerSecond[$1] }) / Double(all)
}

func run(participants n: Int, options: Options) async throws -> Step {
    let bridgeEngine = try MediaEngine(configuration: .init(portRange: 20000...21999, loopCount: 1, bindAddress: "127.0.0.1",
                                                            seed: 1, realtimePriority: options.priority))
    let feeders = try MediaEngine(configuration: .init(portRange: 26000...27999, loopCount: 1, bindAddress: "127.0.0.1",
                                                       seed: 2, realtimePriority: options.priority))
    let bridge = try await bridgeEngine.openBridge(BridgeConfiguration(label: "bench-\(n)", maxParticipants: n))
    var members: [MediaSession] = []
    var participants: [MediaSession] = []
    let checked = Set((0..<min(options.spotChecks, n)).map { $0 * max(1, n / max(1, options.spotChecks)) })
    for i in 0..<n {
        let member = try await bridgeEngine.openSession(on: bridge)
        let participant = try await feeders.openSession()
        try await bridgeEngine.start(member, MediaParameters(remote: MediaEndpoint(host: "127.0.0.1", port: participant.rtpPort)!,
                                                             toneFrequency: 1000, bridge: bridge, memberLabel: "p\(i)"))
        let watch = checked.contains(i) ? [IdentifyingTone.frequency(slot: i + 1), IdentifyingTone.frequency(slot: i)] : []
        try await feeders.start(participant, MediaParameters(remote: MediaEndpoint(host: "127.0.0.1", port: member.rtpPort)!,
                                                             toneFrequency: IdentifyingTone.frequency(slot: i), watchTones: watch))
        members.append(member)
        participants.append(participant)
    }
    let clock = ContinuousClock()
    let started = clock.now
    try await Task.sleep(for: .seconds(options.warmup))
    let a = try await bridgeEngine.statistics()
    let fa = try await feeders.statistics()
    let windowStart = clock.now
    try await Task.sleep(for: .seconds(options.duration - options.warmup - 1))
    let b = try await bridgeEngine.statistics()
    let fb = try await feeders.statistics()
    let window = (clock.now - windowStart) / .seconds(1)
    let report = try await bridgeEngine.bridgeReport(bridge)
    var spots: [SpotCheck] = []
    let secondsIn = Int(((windowStart - started) / .seconds(1)).rounded(.up))
    let secondsOut = Int(((clock.now - started) / .seconds(1)).rounded(.down))
    for i in checked.sorted() {
        let received = try await feeders.report(participants[i]).received
        let tones = received.tones
        spots.append(SpotCheck(listener: i, otherToneHz: tones[0].hz, otherFraction: fraction(tones[0], from: secondsIn, to: secondsOut),
                               meanLevelDb: tones[0].meanLevelDb,
                               ownFraction: n <= IdentifyingTone.frequencies.count ? fraction(tones[1], from: secondsIn, to: secondsOut) : nil,
                               signalFraction: received.audio.tracker.fraction))
    }
    var bridgeLost = 0
    var participantLost = 0
    for member in members { bridgeLost += try await bridgeEngine.report(member).received.statistics.packetsLost }
    for participant in participants { participantLost += try await feeders.report(participant).received.statistics.packetsLost }
    var skipped: Int64 = 0
    for member in members { skipped += try await bridgeEngine.report(member).sent.skippedTicks }
    let pacing = b.total.lateness.subtracting(a.total.lateness)
    let cpu = b.loops[0].cpuSeconds - a.loops[0].cpuSeconds
    let step = Step(
        participants: n, windowSeconds: window, pacingUs: pacing.summary, pacingWholeRunUs: b.total.lateness.summary,
        tickLatenessUs: report.tickLateness, bridgeCPUSeconds: cpu, bridgeCores: cpu / window,
        cpuPerParticipantPct: cpu / window / Double(n) * 100, feederCores: (fb.loops[0].cpuSeconds - fa.loops[0].cpuSeconds) / window,
        packetsSent: pacing.count, packetsPerSecond: Double(pacing.count) / window,
        bridgeReceivedLost: bridgeLost, participantsReceivedLost: participantLost, clippedSamples: report.clippedSamples,
        framesConcealed: report.members.reduce(0) { $0 + $1.framesConcealed }, framesMixed: report.members.reduce(0) { $0 + $1.framesMixed },
        skippedTicks: skipped, spotChecks: spots, realtime: b.total.realtime)
    _ = try await bridgeEngine.closeBridge(bridge)
    await bridgeEngine.shutdown()
    await feeders.shutdown()
    return step
}

let options = Options(CommandLine.arguments)
let encoder = JSONEncoder()
encoder.keyEncodingStrategy = .convertToSnakeCase
encoder.outputFormatting = [.sortedKeys]
for n in options.participants {
    let step = try await run(participants: n, options: options)
    FileHandle.standardOutput.write(try encoder.encode(step) + Data("\n".utf8))
}
