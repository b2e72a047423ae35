import ESSCore
import Testing

@Suite("SiteAggregator")
struct SeriesSiteAggregatorTests {
    static func point(_ name: String, _ role: SignalRole, _ address: Int, pollMultiple: Int = 1) -> PointDefinition {
        var p = PointDefinition(name: name, role: role, kind: .holding, address: address, type: .float32)
        p.pollMultiple = pollMultiple
        return p
    }

    static let bms = RegisterProfile(
        name: "bms",
        points: [
            point("soc", .socPercent, 0), point("p", .activePowerKW, 2), point("avail", .available, 4), point("fault", .fault, 6),
            point("chg", .chargeEnergyTotalKWh, 8), point("dis", .dischargeEnergyTotalKWh, 10),
        ])
    static let meter = RegisterProfile(
        name: "meter", points: [point("p", .activePowerKW, 0), point("imp", .meterImportEnergyTotalKWh, 2), point("exp", .meterExportEnergyTotalKWh, 4)])

    static func device(_ id: String, _ profile: RegisterProfile = bms, ratedKWh: Double? = nil, pollMS: Int = 1000) -> DeviceDefinition {
        DeviceDefinition(id: id, transport: .tcp(host: "127.0.0.1", port: 502), profile: profile, pollIntervalMS: pollMS, ratedEnergyKWh: ratedKWh)
    }

    static func scan(_ id: String, _ t: Int64, _ values: [Double], _ qualities: [PointQuality]? = nil) -> Scan {
        Scan(deviceID: id, timestampMS: t, values: values, qualities: qualities ?? values.map { _ in .ok })
    }

    static func value(_ s: SeriesSample, _ agg: SiteAggregator, _ role: SignalRole) -> (Double, PointQuality) {
        let i = agg.schema.signals.firstIndex { $0.role == role }!
        return (s.values[i], s.qualities[i])
    }

    @Test("site SoC is weighted by rated energy: 10 kWh at 50 % and 30 kWh at 90 % give 80 %")
    func weightedSoC() {
        var agg = SiteAggregator(devices: [Self.device("a", ratedKWh: 10), Self.device("b", ratedKWh: 30)])
        #expect(!agg.socUsesEqualWeights)
        agg.accept(Self.scan("a", 1000, [50, -20, 1, 0, 100, 200]))
        agg.accept(Self.scan("b", 1200, [90, 30, 1, 0, 10, 20]))
        let s = agg.sample(atMS: 1500)
        #expect(Self.value(s, agg, .socPercent) == (80, .ok))
        #expect(Self.value(s, agg, .activePowerKW) == (10, .ok))
        #expect(Self.value(s, agg, .available) == (1, .ok))
        #expect(Self.value(s, agg, .chargeEnergyTotalKWh) == (110, .ok))
        #expect(Self.value(s, agg, .dischargeEnergyTotalKWh) == (220, .ok))
        #expect(agg.schema.groupID == "site")
        #expect(agg.schema.energy == EnergySources(activePower: 1, chargeCounter: 3, dischargeCounter: 4))
        #expect(agg.schema.signals.map(\.name) == ["soc_percent", "active_power_kw", "available", "charge_energy_total_kwh", "discharge_energy_total_kwh"])
        #expect(agg.schema.signals.allSatisfy { $0.heartbeatMS == 3000 })
    }

    @Test("a missing rating falls back to equal weights and says so")
    func equalWeights() {
        var agg = SiteAggregator(devices: [Self.device("a", ratedKWh: 10), Self.device("b")])
        #expect(agg.socUsesEqualWeights)
        agg.accept(Self.scan("a", 0, [50, 0, 1, 0, 0, 0]))
        agg.accept(Self.scan("b", 0, [90, 0, 1, 0, 0, 0]))
        #expect(Self.value(agg.sample(atMS: 0), agg, .socPercent) == (70, .ok))
    }

    @Test("a site value is a gap when a contributor is invalid, old, or never seen")
    func gaps() {
        var agg = SiteAggregator(devices: [Self.device("a", ratedKWh: 10), Self.device("b", ratedKWh: 30)])
        agg.accept(Self.scan("a", 1000, [50, -20, 1, 0, 100, 200]))
        var s = agg.sample(atMS: 1000)
        #expect(s.qualities.allSatisfy { $0 == .communicationFailure } && s.values.allSatisfy(\.isNaN), "b never seen")

        agg.accept(Self.scan("b", 2000, [90, .nan, 1, 0, 10, 20], [.ok, .timeout, .ok, .ok, .ok, .ok]))
        s = agg.sample(atMS: 2000)
        #expect(Self.value(s, agg, .socPercent) == (80, .ok))
        #expect(Self.value(s, agg, .activePowerKW).1 == .communicationFailure, "b's power timed out")
        #expect(Self.value(s, agg, .activePowerKW).0.isNaN)

        s = agg.sample(atMS: 4000)  // a read at 1000 ms, heartbeat 3000 ms: still recent
        #expect(Self.value(s, agg, .socPercent).1 == .ok)
        s = agg.sample(atMS: 4001)
        #expect(Self.value(s, agg, .socPercent).1 == .communicationFailure, "a's SoC older than its heartbeat")

        // A stale value keeps the last read time, so it ages out too.
        agg.accept(Self.scan("a", 4500, [50, -20, 1, 0, 100, 200], [.stale, .ok, .ok, .ok, .ok, .ok]))
        #expect(Self.value(agg.sample(atMS: 4500), agg, .socPercent).1 == .communicationFailure)
        agg.accept(Self.scan("a", 5000, [50, -20, 1, 1, 100, 200]))
        s = agg.sample(atMS: 5000)
        #expect(Self.value(s, agg, .socPercent) == (80, .ok))
        #expect(Self.value(s, agg, .available) == (0, .ok), "a fault is set")
    }

    @Test("a storage meter stands for site power and energy")
    func meter() {
        var agg = SiteAggregator(devices: [Self.device("a", ratedKWh: 10), Self.device("m", Self.meter, pollMS: 500)], meterDeviceID: "m")
        #expect(agg.meterDeviceID == "m")
        agg.accept(Self.scan("a", 0, [50, -20, 1, 0, 100, 200]))
        agg.accept(Self.scan("m", 0, [-19.5, 1000, 2000]))
        let s = agg.sample(atMS: 0)
        #expect(Self.value(s, agg, .activePowerKW) == (-19.5, .ok))
        #expect(Self.value(s, agg, .chargeEnergyTotalKWh) == (1000, .ok))
        #expect(Self.value(s, agg, .dischargeEnergyTotalKWh) == (2000, .ok))
        let power = agg.schema.signals.first { $0.role == .activePowerKW }!
        #expect(power.heartbeatMS == 1500)
    }

    @Test("the site series consolidates like any other")
    func consolidates() {
        let tiers = [TierDefinition(name: "10s", slotMS: 10_000, retentionMS: 1)]
        var agg = SiteAggregator(devices: [Self.device("a", ratedKWh: 10), Self.device("b", ratedKWh: 30)], tiers: tiers)
        var c = SeriesConsolidator(schema: agg.schema, tiers: tiers)
        var out: [ConsolidatedSlot] = []
        for t in stride(from: Int64(0), through: 10_000, by: 1000) {
            agg.accept(Self.scan("a", t, [50, -20, 1, 0, 100, 200]))
            agg.accept(Self.scan("b", t, [90, -16, 1, 0, 10, 20]))
            let s = agg.sample(atMS: t)
            c.ingest(timestampMS: s.timestampMS, values: s.values, qualities: s.qualities) { out.append($0) }
        }
        #expect(out.count == 1)
        #expect(out[0].signals[0].mean == 80)
        #expect(isClose(out[0].energy!.integratedChargeKWh, 36 * 10 / 3600.0))
    }
}
