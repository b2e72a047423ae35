import ESSCore
import ESSCriteria
import ESSStore
import Foundation
import Logging
import Testing

@testable import ESSEvidence

/// Found by the independent truth year: at 15 min essd reported hundreds of counter resets that
/// never happened, on every counter (meter included), none at 1 min. Lifetime counters of
/// 10⁵–10⁶ kWh with fractions read back through the store's rounding (Float32 mean, 11-bit
/// deviations) and a next slot's first could come back a hair below the previous last. Only a
/// drop beyond that rounding is a reset. Readings by hand: a counter near 523,456.789 kWh that
/// idles, creeps and charges, one real reset to 12.5 kWh.
@Suite struct CounterRoundingTests {
    static let slotMS: Int64 = 900_000
    static let t0: Int64 = 1_735_660_800_000

    @Test func roundingIsNotAResetButARealDropIs() throws {
        let schema = SeriesSchema(
            groupID: "site",
            signals: [
                SignalDefinition(name: "charge_energy_total_kwh", role: .chargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["15m"]),
                SignalDefinition(name: "discharge_energy_total_kwh", role: .dischargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["15m"]),
                SignalDefinition(name: "meter_import_energy_total_kwh", role: .meterImportEnergyTotalKWh, heartbeatMS: 3000, tiers: ["15m"]),
            ],
            energy: EnergySources(chargeCounter: 0, dischargeCounter: 1))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("essd-round-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try StoreWriter(
            directory: directory, siteID: "round", schemas: [schema],
            tiers: [TierDefinition(name: "raw", slotMS: 0, retentionMS: 3_600_000), TierDefinition(name: "15m", slotMS: Self.slotMS, retentionMS: 10 * 86_400_000)],
            pollIntervalsMS: ["site": 1000], rawBudgetBytes: nil, nowMS: Self.t0,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        // 96 slots: counters advance 0 (idle), 0.013 (creep) or 250.37 kWh (charging) per slot,
        // in a repeating pattern; the discharge counter is reset at slot 60 (to 12.5 kWh).
        var charge = 523_456.789
        var discharge = 876_543.211
        var meter = 1_234_567.891
        var expectedCharge = 0.0
        func ramp(_ a: Double, _ b: Double) -> SlotSummary {
            SlotSummary(count: 900, coveredMS: Self.slotMS, min: a, max: b, mean: (a + b) / 2, first: a, last: b)
        }
        for k in 0..<96 {
            let step = [0, 0.013, 250.37][k % 3]
            expectedCharge += step
            var d0 = discharge
            if k == 60 { d0 = 12.5; discharge = 12.5 }
            let slot = ConsolidatedSlot(
                groupID: "site", tier: "15m", startMS: Self.t0 + Int64(k) * Self.slotMS,
                signals: [ramp(charge, charge + step), ramp(d0, d0 + step / 2), ramp(meter, meter + step * 1.01)],
                energy: EnergySummary(
                    counterChargeKWh: step, counterDischargeKWh: step / 2, counterResets: k == 60 ? 1 : 0,
                    integratedChargeKWh: .nan, integratedDischargeKWh: .nan, integratedMS: 0, unaccountedMS: 0))
            #expect(try writer.write(slot) == .written)
            charge += step
            discharge = d0 + step / 2
            meter += step * 1.01
        }
        try writer.checkpoint(nowMS: Self.t0 + 86_400_000)
        let reader = try StoreReader(directory: directory)
        let tier = try #require(reader.tiers.first { $0.name == "15m" })
        let source = StoreIndicatorReader(reader: reader, tier: tier, meterDeviceID: nil)
        let shape = try source.shape(facts: SyntheticFacts.facts, fromMS: Self.t0, toMS: Self.t0 + 86_400_000, offsets: .chinaStandardTime)
        let report = try source.report(shape, tariff: nil)
        let resets = report.counterResets.map { "\($0.counter)@\(($0.atMS - Self.t0) / Self.slotMS)" }
        #expect(resets == ["discharge@60"], "\(resets)")
        let got = report["energy.charge_counter_kwh"]?.value ?? .nan
        #expect(abs(got - expectedCharge) < 0.01, "charge \(got) vs \(expectedCharge)")

        // The meter's counter through intervals.csv's tracker: no reset, every step counted.
        var tracker = CounterTracker()
        var total = 0.0
        for stored in try reader.slots(tier: "15m", group: "site", fromMS: Self.t0, toMS: Self.t0 + 86_400_000) {
            let slot = try #require(stored.slot)
            total += tracker.add(slot.signals[2], startMS: slot.startMS, slotMS: Self.slotMS)
        }
        #expect(tracker.resets == 0)
        #expect(abs(total - expectedCharge * 1.01) < 1, "meter \(total)")
    }
}
