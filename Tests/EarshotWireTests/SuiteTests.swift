import EarshotWire
import Foundation
import Testing

@Suite struct WireDurationTests {
    @Test(arguments: [
        ("90", 90.0), ("2.5", 2.5), ("500ms", 0.5), ("20s", 20), ("5m", 300), ("5min", 300), ("1h", 3600), ("1d", 86400),
        ("1h30m", 5400), ("1.5h", 5400), (" 20s ", 20), ("1H", 3600), ("0", 0), ("1m30s250ms", 90.25),
    ])
    func parses(text: String, seconds: Double) {
        #expect(WireDuration(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["-5", "5x", "", "ms", "5m30", "1..5s", "-5s", "5 m", "inf", "nan", "1h-30m", "h1"])
    func rejects(text: String) {
        #expect(WireDuration(parsing: text) == nil)
    }

    @Test(arguments: [(5400.0, "1h30m"), (45, "45s"), (0.5, "500ms"), (0, "0s"), (300, "5m"), (90061, "1d1h1m1s"),
                      (86400, "1d"), (3600, "1h"), (59.6, "1m")])
    func describes(seconds: Double, text: String) {
        #expect(WireDuration(seconds: seconds).description == text)
    }

    @Test func descriptionParsesBack() {
        for s in [1.0, 59, 61, 3599, 3601, 86399, 90061, 0.25] {
            #expect(WireDuration(parsing: WireDuration(seconds: s).description)?.seconds == s)
        }
    }

    @Test func decodesNumbersAndTextAndEncodesSeconds() throws {
        let d = WireJSON.decoder()
        #expect(try d.decode([WireDuration].self, from: Data("[90, \"1h30m\", 0.5]".utf8)).map(\.seconds) == [90, 5400, 0.5])
        #expect(String(decoding: try WireJSON.encoder().encode(WireDuration.minutes(5)), as: UTF8.self) == "300")
        let negative = #expect(throws: DecodingError.self) { try d.decode([WireDuration].self, from: Data("[-5]".utf8)) }
        #expect(negative.map(describe) == "[0]: a duration cannot be negative")
        let bad = #expect(throws: DecodingError.self) { try d.decode([WireDuration].self, from: Data("[\"5x\"]".utf8)) }
        #expect(bad.map(describe) == "[0]: \"5x\" is not a duration (write e.g. 90, 500ms, 20s, 5m, 1h)")
    }

    @Test func ordersBySeconds() {
        #expect(WireDuration.seconds(59) < .minutes(1))
        #expect(!(WireDuration.minutes(1) < .seconds(60)))
    }
}

@Suite struct SuiteSpecDecodingTests {
    func decode(_ json: String) throws -> SuiteSpec {
        try WireJSON.decoder().decode(SuiteSpec.self, from: Data(json.utf8))
    }

    @Test func p2pDefaults() throws {
        let s = try decode("{\"name\":\"m\",\"type\":\"p2p\"}")
        #expect(s.topology == .mesh)
        #expect(s.members == .all)
        #expect(s.interval.seconds == 300)
        #expect(s.period == nil)
        #expect(s.duration.seconds == 10)
        #expect(s.codec == "PCMU")
        #expect(s.transport == "udp")
        #expect(s.dtmf == nil)
        #expect(s.sessionExpires == nil)
        #expect(s.thresholds == .defaults)
        #expect(!s.paused)
        #expect(s.problems().isEmpty)
    }

    @Test func soakDefaultsToSessionExpires90And200Seconds() throws {
        let s = try decode("{\"name\":\"soak\",\"type\":\"soak\"}")
        #expect(s.sessionExpires == 90)
        #expect(s.duration.seconds == 200)
        #expect(s.topology == .mesh)
        #expect(s.problems().isEmpty)
    }

    @Test func registerAndOptionsDefaultToEach() throws {
        let r = try decode("{\"name\":\"reg\",\"type\":\"register\",\"via\":{\"registrar\":\"10.0.0.9:5060\"}}")
        #expect(r.topology == .each)
        #expect(r.duration.seconds == 10)
        #expect(r.via?.registrar == "10.0.0.9:5060")
        #expect(r.problems().isEmpty)
        let o = try decode("{\"name\":\"opt\",\"type\":\"options\",\"target\":\"sip:sbc.example.com\"}")
        #expect(o.topology == .each)
        #expect(o.problems().isEmpty)
    }

    @Test func dtmfDefaultsToDigits() throws {
        #expect(try decode("{\"name\":\"d\",\"type\":\"dtmf\"}").dtmf == "123#")
        #expect(try decode("{\"name\":\"d\",\"type\":\"dtmf\",\"dtmf\":\"9*\"}").dtmf == "9*")
    }

    @Test func explicitValuesWin() throws {
        let s = try decode("""
        {"name":"x","type":"soak","interval":"15m","period":"1h","duration":"30m","session_expires":1800,
         "codec":"PCMA","transport":"tls","members":{"sites":["hq"],"labels":{"tier":"gold"}},
         "topology":{"kind":"sample","k":5},"thresholds":{"mos_min":4,"loss_pct_max":1},"paused":true}
        """)
        #expect(s.interval.seconds == 900)
        #expect(s.period?.seconds == 3600)
        #expect(s.duration.seconds == 1800)
        #expect(s.sessionExpires == 1800)
        #expect(s.members == MemberSelector(sites: ["hq"], labels: ["tier": "gold"]))
        #expect(s.topology == Topology(kind: .sample, k: 5))
        // Unlisted thresholds keep their defaults.
        #expect(s.thresholds == Thresholds(mosMin: 4, lossPctMax: 1, jitterMsMax: 30, rttMsMax: 300, setupMsMax: 5000))
        #expect(s.paused)
    }

    @Test func thresholdSetToNullIsOffAndRoundTrips() throws {
        let s = try decode("{\"name\":\"x\",\"type\":\"p2p\",\"thresholds\":{\"rtt_ms_max\":null,\"setup_ms_max\":800}}")
        #expect(s.thresholds == Thresholds(mosMin: 3.6, lossPctMax: 3, jitterMsMax: 30, rttMsMax: nil, setupMsMax: 800))
        let data = try WireJSON.encoder().encode(s.thresholds)
        #expect(String(decoding: data, as: UTF8.self)
            == "{\"jitter_ms_max\":30,\"loss_pct_max\":3,\"mos_min\":3.6,\"rtt_ms_max\":null,\"setup_ms_max\":800}")
        #expect(try WireJSON.decoder().decode(Thresholds.self, from: data) == s.thresholds)
        let bad = #expect(throws: DecodingError.self) { try decode("{\"name\":\"x\",\"type\":\"p2p\",\"thresholds\":{\"mos_min\":\"high\"}}") }
        #expect(bad.map(describe)?.hasPrefix("thresholds.mos_min: expected") == true)
    }

    @Test func nameAndTypeAreRequired() {
        let noName = #expect(throws: DecodingError.self) { try decode("{\"type\":\"p2p\"}") }
        #expect(noName.map(describe) == "name: missing")
        let badType = #expect(throws: DecodingError.self) { try decode("{\"name\":\"a\",\"type\":\"relay\"}") }
        #expect(badType.map(describe)?.hasPrefix("type: ") == true)
    }

    @Test func roundTripsThroughJSON() throws {
        let spec = SuiteSpec(name: "s", type: .p2p, members: MemberSelector(agents: ["a", "b"]),
                             topology: Topology(kind: .pairs, pairs: [["a", "b"]]), period: .minutes(10),
                             via: SIPInfrastructure(registrar: "r:5060", proxy: "p:5060", domain: "example.com",
                                                    credentials: ["a": SIPCredentials(username: "a", password: "pw")]))
        let data = try WireJSON.encoder().encode(spec)
        #expect(try WireJSON.decoder().decode(SuiteSpec.self, from: data) == spec)
        #expect(String(decoding: data, as: UTF8.self).contains("\"interval\":300"))
    }
}

@Suite struct SuiteSpecProblemTests {
    func spec(_ change: (inout SuiteSpec) -> Void) -> [String] {
        var s = SuiteSpec(name: "ok", type: .p2p)
        change(&s)
        return s.problems()
    }

    @Test func validSpecHasNoProblems() {
        #expect(spec { _ in }.isEmpty)
        #expect(SuiteSpec.defaultMesh().problems().isEmpty)
    }

    @Test func eachProblemNamesItsField() {
        #expect(spec { $0.name = "" } == ["name: use 1–64 letters, digits, '-', '_' or '.'"])
        #expect(spec { $0.name = "has space" } == ["name: use 1–64 letters, digits, '-', '_' or '.'"])
        #expect(spec { $0.name = String(repeating: "x", count: 65) } == ["name: use 1–64 letters, digits, '-', '_' or '.'"])
        #expect(spec { $0.name = "a-b_c.d9" }.isEmpty)
        #expect(spec { $0.interval = .seconds(0.5) } == ["interval: must be at least 1s"])
        #expect(spec { $0.period = .minutes(1) } == ["period: must not be shorter than the interval"])
        #expect(spec { $0.duration = .seconds(0) } == ["duration: must be between 1s and 1d"])
        #expect(spec { $0.duration = .seconds(86401) } == ["duration: must be between 1s and 1d"])
        #expect(spec { $0.codec = "G729" } == ["codec: PCMU or PCMA"])
        #expect(spec { $0.transport = "sctp" } == ["transport: udp, tcp or tls"])
        #expect(spec { $0.dtmf = "12x" } == ["dtmf: digits 0-9, *, #, A-D"])
        #expect(spec { $0.dtmf = "" } == ["dtmf: digits 0-9, *, #, A-D"])
        #expect(spec { $0.type = .dtmf } == ["dtmf: a dtmf suite needs digits"])
        #expect(spec { $0.sessionExpires = 89 } == ["session_expires: at least 90 (RFC 4028 Min-SE)"])
        #expect(spec { $0.topology = Topology(kind: .star) } == ["topology.hub: a star needs a hub agent"])
        #expect(spec { $0.topology = Topology(kind: .pairs, pairs: [["a", "a"]]) }
            == ["topology.pairs: a list of [caller, callee] pairs of two different agents"])
        #expect(spec { $0.topology = Topology(kind: .pairs, pairs: [["a"]]) }
            == ["topology.pairs: a list of [caller, callee] pairs of two different agents"])
        #expect(spec { $0.topology = Topology(kind: .pairs) }
            == ["topology.pairs: a list of [caller, callee] pairs of two different agents"])
        #expect(spec { $0.topology = Topology(kind: .sample, k: 0) } == ["topology.k: sample needs k ≥ 1"])
        #expect(spec { $0.type = .options; $0.topology = .each } == ["target: an options suite needs a SIP URI to ping"])
        #expect(spec { $0.type = .register; $0.topology = .each } == ["via.registrar: a register suite needs a registrar"])
        #expect(spec { $0.type = .conference }.isEmpty)
        #expect(spec { $0.conference = ConferenceSettings() } == ["conference: only for type conference"])
    }

    @Test func severalProblemsAreAllListed() {
        let problems = spec {
            $0.codec = "G722"
            $0.transport = "ws"
            $0.interval = .seconds(0)
        }
        #expect(problems == ["interval: must be at least 1s", "codec: PCMU or PCMA", "transport: udp, tcp or tls"])
    }
}

@Suite struct MemberSelectorTests {
    let labels = ["tier": "gold", "floor": "3"]

    @Test func emptySelectorSelectsEveryone() {
        #expect(MemberSelector.all.selectsAll)
        #expect(MemberSelector(agents: [], sites: [], labels: [:]).selectsAll)
        #expect(MemberSelector.all.matches(name: "x", id: "1", site: "s", labels: [:]))
    }

    @Test func byNameOrID() {
        let s = MemberSelector(agents: ["alpha", "id-7"])
        #expect(s.matches(name: "alpha", id: "id-1", site: "hq", labels: [:]))
        #expect(s.matches(name: "beta", id: "id-7", site: "hq", labels: [:]))
        #expect(!s.matches(name: "beta", id: "id-8", site: "hq", labels: [:]))
    }

    @Test func bySite() {
        let s = MemberSelector(sites: ["hq", "dc"])
        #expect(s.matches(name: "a", id: "1", site: "dc", labels: [:]))
        #expect(!s.matches(name: "a", id: "1", site: "branch", labels: [:]))
    }

    @Test func byAllLabels() {
        let s = MemberSelector(labels: ["tier": "gold", "floor": "3"])
        #expect(s.matches(name: "a", id: "1", site: "x", labels: labels.merging(["extra": "y"]) { a, _ in a }))
        #expect(!s.matches(name: "a", id: "1", site: "x", labels: ["tier": "gold"]))
        #expect(!s.matches(name: "a", id: "1", site: "x", labels: ["tier": "gold", "floor": "4"]))
    }

    @Test func anyCriterionIsEnough() {
        let s = MemberSelector(agents: ["alpha"], sites: ["hq"], labels: ["tier": "gold"])
        #expect(s.matches(name: "alpha", id: "1", site: "branch", labels: [:]))
        #expect(s.matches(name: "b", id: "2", site: "hq", labels: [:]))
        #expect(s.matches(name: "c", id: "3", site: "branch", labels: ["tier": "gold"]))
        #expect(!s.matches(name: "d", id: "4", site: "branch", labels: ["tier": "silver"]))
    }

    @Test func emptyLabelsWithOtherCriteriaDoNotMatchEveryone() {
        let s = MemberSelector(sites: ["hq"], labels: [:])
        #expect(!s.selectsAll)
        #expect(!s.matches(name: "a", id: "1", site: "branch", labels: [:]))
    }
}
