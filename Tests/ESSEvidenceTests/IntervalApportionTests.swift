import ESSCore
import ESSStore
import Foundation
import Logging
import Testing

@testable import ESSEvidence

/// Issue 12, finding 3: after a 6-hour communication gap, intervals.csv showed 1,150 kWh in one
/// 15-min interval of a 1 MW plant, unflagged. A counter step across a gap is now spread over the
/// gap (by integrated power where power covers it, else pro rata by time), those intervals are
/// flagged `apportioned`, and an interval with more energy than P_N × Δt (+5 %) is `implausible`.
/// Slots are written by hand as the consolidator would store them (the whole step in the slot
/// that closes the gap); expected values by hand.
@Suite struct IntervalApportionTests {
    static let slotMS: Int64 = 900_000
    static let t0: Int64 = 1_735_660_800_000  // 2025-01-01T00:00+08:00
    static let schema = SeriesSchema(
        groupID: "site",
        signals: [
            SignalDefinition(name: "active_power_kw", role: .activePowerKW, heartbeatMS: 3000, tiers: ["15m"]),
            SignalDefinition(name: "charge_energy_total_kwh", role: .chargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["15m"]),
            SignalDefinition(name: "discharge_energy_total_kwh", role: .dischargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["15m"]),
        ],
        energy: EnergySources(activePower: 0, chargeCounter: 1, dischargeCounter: 2))

    static func held(_ v: Double) -> SlotSummary {
        SlotSummary(count: 900, coveredMS: slotMS, min: v, max: v, mean: v, first: v, last: v)
    }

    /// A slot discharging at `kW` whose discharge counter runs from `first` to `last`, with the
    /// counter energy the store would hold (`counterKWh`: last − first, plus any step across a gap).
    static func slot(_ k: Int, kW: Double?, first: Double?, last: Double?, counterKWh: Double, powerKnown: Bool = true) -> ConsolidatedSlot {
        let discharge: SlotSummary =
            first.map { SlotSummary(count: 900, coveredMS: slotMS, min: $0, max: last!, mean: ($0 + last!) / 2, first: $0, last: last!) }
            ?? .unknown
        let charge: SlotSummary = first == nil ? .unknown : held(1000)
        let power: SlotSummary = kW.map(held) ?? .unknown
        let energy = EnergySummary(
            counterChargeKWh: first == nil ? .nan : 0, counterDischargeKWh: counterKWh, counterResets: 0,
            integratedChargeKWh: powerKnown ? 0 : .nan, integratedDischargeKWh: powerKnown ? (kW ?? 0) / 4 : .nan,
            integratedMS: powerKnown ? slotMS : 0, unaccountedMS: powerKnown ? 0 : slotMS)
        return ConsolidatedSlot(
            groupID: "site", tier: "15m", startMS: t0 + Int64(k) * slotMS, signals: [power, charge, discharge], energy: energy)
    }

    static func store(_ slots: [ConsolidatedSlot], in directory: String) throws -> StoreReader {
        let writer = try StoreWriter(
            directory: directory, siteID: "gap", schemas: [schema],
            tiers: [TierDefinition(name: "raw", slotMS: 0, retentionMS: 3_600_000), TierDefinition(name: "15m", slotMS: slotMS, retentionMS: 10 * 86_400_000)],
            pollIntervalsMS: ["site": 1000], rawBudgetBytes: nil, nowMS: t0,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        for slot in slots { _ = try writer.write(slot) }
        try writer.checkpoint(nowMS: t0 + 86_400_000)
        return try StoreReader(directory: directory)
    }

    static func intervals(_ reader: StoreReader, count: Int, ratedKW: Double = 1000) throws -> [IntervalSummary] {
        let tier = try #require(reader.tiers.first { $0.name == "15m" })
        let intervals = IntervalReader(
            reader: reader, tier: tier, meterDeviceID: nil, labeler: nil, untilMS: t0 + Int64(count) * slotMS, ratedPowerKW: ratedKW)
        try intervals.prime(beforeMS: t0)
        return try (0..<count).map { try intervals.read(startMS: t0 + Int64($0) * slotMS, endMS: t0 + Int64($0 + 1) * slotMS) }
    }

    @Test("a 6-hour gap without power: the step is spread pro rata by time and flagged")
    func sixHourGapByTime() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("essd-gap-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Slots 0–3 discharge at 500 kW (125 kWh each); 4–27 (6 h) nothing stored; slot 28 reads
        // again: the counter went from 500 to 3,625 across the gap (3,000 kWh in 24 slots) and
        // 125 kWh inside the slot, so the store holds 3,125 kWh there.
        var slots: [ConsolidatedSlot] = []
        var counter = 0.0
        for k in 0..<4 {
            slots.append(Self.slot(k, kW: 500, first: counter, last: counter + 125, counterKWh: 125))
            counter += 125
        }
        let afterGap = counter + 3000
        slots.append(Self.slot(28, kW: 500, first: afterGap, last: afterGap + 125, counterKWh: 3000 + 125))
        slots.append(Self.slot(29, kW: 500, first: afterGap + 125, last: afterGap + 250, counterKWh: 125))
        let reader = try Self.store(slots, in: directory)
        let rows = try Self.intervals(reader, count: 30)
        for k in 0..<4 {
            #expect(rows[k].energy.counterDischargeKWh == 125, "\(k)")
            #expect(rows[k].flags == "", "\(k)")
        }
        for k in 4..<28 {
            #expect(abs(rows[k].energy.counterDischargeKWh - 125) < 1e-9, "\(k): \(rows[k].energy.counterDischargeKWh)")
            #expect(rows[k].flags == "apportioned", "\(k)")
            #expect(rows[k].quality == .missing, "the interval still has no data of its own")
        }
        #expect(abs(rows[28].energy.counterDischargeKWh - 125) < 1e-9, "\(rows[28].energy.counterDischargeKWh)")
        #expect(rows[28].flags == "apportioned")
        #expect(rows[29].energy.counterDischargeKWh == 125)
        #expect(rows[29].flags == "")
        let total = rows.reduce(0.0) { $0 + $1.energy.counterDischargeKWh }
        #expect(abs(total - 30 * 125) < 1e-6, "nothing invented or lost: \(total)")
        #expect(rows.allSatisfy { !$0.implausible })
    }

    @Test("a gap in the counter only: the step follows the integrated power")
    func counterGapByPower() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("essd-gap-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Slot 0 reads 0 → 100; slots 1–3 have power (400, 0, 800 kW: 100, 0, 200 kWh) but no
        // counter reading; slot 4 reads again at 400 (a 300 kWh step) → 450.
        let slots = [
            Self.slot(0, kW: 400, first: 0, last: 100, counterKWh: 100),
            Self.slot(1, kW: 400, first: nil, last: nil, counterKWh: .nan),
            Self.slot(2, kW: 0, first: nil, last: nil, counterKWh: .nan),
            Self.slot(3, kW: 800, first: nil, last: nil, counterKWh: .nan),
            Self.slot(4, kW: 200, first: 400, last: 450, counterKWh: 350),
        ]
        let reader = try Self.store(slots, in: directory)
        let rows = try Self.intervals(reader, count: 5)
        let got = rows.map(\.energy.counterDischargeKWh)
        let expected = [100.0, 100, 0, 200, 50]
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(got)")
        #expect(rows.map(\.flags) == ["", "apportioned", "apportioned", "apportioned", "apportioned"])
    }

    @Test("more energy than rated power allows is implausible; a reset is never spread")
    func implausibleAndReset() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("essd-gap-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // 1 MW for 15 min is 250 kWh; 262.5 kWh is the limit with 5 %. Slot 1: 263 kWh (over);
        // slot 2: 262 (under). Slot 4 reads after a one-slot gap at a lower value (a reset):
        // nothing spread, the gap stays unknown.
        let slots = [
            Self.slot(0, kW: 500, first: 0, last: 125, counterKWh: 125),
            Self.slot(1, kW: 900, first: 125, last: 388, counterKWh: 263),
            Self.slot(2, kW: 900, first: 388, last: 650, counterKWh: 262),
            Self.slot(4, kW: 100, first: 5, last: 30, counterKWh: 25),
        ]
        let reader = try Self.store(slots, in: directory)
        let rows = try Self.intervals(reader, count: 5)
        #expect(rows.map(\.flags) == ["", "implausible", "", "", ""])
        #expect(rows[3].energy.counterDischargeKWh.isNaN)
        #expect(rows[4].energy.counterDischargeKWh == 25)
        let event = EvidenceEvents.implausible(rows[1], ratedPowerKW: 1000)
        #expect(event.kind == "implausible_energy")
        #expect(event.detail.contains("discharge (counter) 263.000 kWh > rated power 1000.0 kW × 15 min = 250.000 kWh"), "\(event.detail)")
    }
}
