import ESSCore
import Testing

@testable import ESSCriteria

/// Issue 12, finding 4: each of the charge and discharge counters had one reset, and each
/// indicator said "2 counter resets" (both added). Resets are per counter, each listed with
/// its time.
@Suite("Indicators: counter resets")
struct CounterResetTests {
    /// The synthetic day with the charge counter reset at local 05:00 (a drop of 10,000 kWh)
    /// and the discharge counter at local 15:00 (20,000 kWh); the consolidator counted one drop
    /// in each of those slots.
    static func input() -> IndicatorInput {
        var input = SyntheticHistory.input()
        input.site.slots = input.site.slots.enumerated().map { m, slot in
            var slot = slot
            func shift(_ s: SlotSummary, by d: Double) -> SlotSummary {
                SlotSummary(count: s.count, coveredMS: s.coveredMS, min: s.min - d, max: s.max - d, mean: s.mean - d, first: s.first - d, last: s.last - d)
            }
            if m >= 300 { slot.signals[3] = shift(slot.signals[3], by: 10_000) }
            if m >= 900 { slot.signals[4] = shift(slot.signals[4], by: 20_000) }
            if m == 300 || m == 900 { slot.energy?.counterResets = 1 }
            return slot
        }
        return input
    }

    @Test func eachCounterSaysItsOwnResetsWithTheirTimes() {
        let r = Indicators.compute(Self.input())
        // By hand: 2024-03-01 05:00 +08:00 = 2024-02-29 21:00 UTC; 15:00 +08:00 = 07:00 UTC.
        let resets = r.counterResets.map { "\($0.groupID) \($0.counter) \($0.timeText)" }
        #expect(resets == ["site charge 2024-02-29T21:00Z", "site discharge 2024-03-01T07:00Z"])
        // Charged 500 kW for 4 h, discharged 450 kW for 4 h: the drops are not energy.
        #expect(abs((r["energy.charge_counter_kwh"]?.value ?? .nan) - 2_000) < 1e-9)
        #expect(abs((r["energy.discharge_counter_kwh"]?.value ?? .nan) - 1_800) < 1e-9)
        let chargeNotes = r["energy.charge_counter_kwh"]?.notes ?? []
        let dischargeNotes = r["energy.discharge_counter_kwh"]?.notes ?? []
        #expect(chargeNotes.contains { $0.hasPrefix("1 charge counter reset (never counted as energy): site at 2024-02-29T21:00Z") }, "\(chargeNotes)")
        #expect(dischargeNotes.contains { $0.hasPrefix("1 discharge counter reset (never counted as energy): site at 2024-03-01T07:00Z") }, "\(dischargeNotes)")
        #expect(!(chargeNotes + dischargeNotes).contains { $0.contains("2 counter resets") || $0.contains("further") }, "\(chargeNotes + dischargeNotes)")
    }

    /// A drop inside a slot whose last reading is above its first again is seen only by the
    /// consolidator's count: said as such, never attributed to a counter at random.
    @Test func aDropOnlyTheConsolidatorSawIsSaidAsSuch() {
        var input = SyntheticHistory.input()
        input.site.slots[100].energy?.counterResets = 1
        let r = Indicators.compute(input)
        #expect(r.counterResets.isEmpty)
        let notes = r["energy.charge_counter_kwh"]?.notes ?? []
        #expect(notes.contains("1 further counter drop inside slots (charge or discharge counter; see the finer tier)"), "\(notes)")
    }

    @Test func theMeterCountersAreListedApart() {
        var input = SyntheticHistory.input()
        let meter = input.meter!
        input.meter!.slots = meter.slots.enumerated().map { m, slot in
            var slot = slot
            if m >= 600 {
                let s = slot.signals[1]
                slot.signals[1] = SlotSummary(count: s.count, coveredMS: s.coveredMS, min: s.min - 40_000, max: s.max - 40_000,
                    mean: s.mean - 40_000, first: s.first - 40_000, last: s.last - 40_000)
            }
            return slot
        }
        let r = Indicators.compute(input)
        // Local 10:00 = 02:00 UTC.
        #expect(r.counterResets.map { "\($0.groupID) \($0.counter) \($0.timeText)" } == ["meter meter export 2024-03-01T02:00Z"])
        #expect(r["meter.import_kwh"]?.notes.isEmpty == true)
        #expect(r["meter.export_kwh"]?.notes.first?.hasPrefix("1 meter export counter reset: at 2024-03-01T02:00Z") == true)
    }
}

/// Issue 12, finding 9 (events): communication gaps per group, merged over consecutive steps.
@Suite("Indicators: communication gaps")
struct CommunicationGapTests {
    @Test func aMissingHourIsOneGapPerGroup() {
        // Local 05:00–06:00 missing in every group: 2024-02-29 21:00–22:00 UTC.
        let input = SyntheticHistory.input(skip: { _, m in (300..<360).contains(m) })
        let r = Indicators.compute(input)
        let start = SyntheticHistory.march1 + 300 * 60_000
        let expected = ["bms1", "meter", "site"].map {
            CommunicationGap(groupID: $0, startMS: start, endMS: start + 3_600_000, missingMS: 3_600_000)
        }
        #expect(r.communicationGaps == expected, "\(r.communicationGaps)")
    }

    /// A slot covering 99.5 % is not a gap (coverage rounding); one covering 90 % is, and the
    /// gap says how much was missing.
    @Test func aPartlyCoveredStepCountsOnlyPastOnePercent() {
        var input = SyntheticHistory.input()
        func cover(_ m: Int, _ ms: Int64) {
            input.site.slots[m].signals = input.site.slots[m].signals.map {
                SlotSummary(count: $0.count, coveredMS: ms, min: $0.min, max: $0.max, mean: $0.mean, first: $0.first, last: $0.last)
            }
        }
        cover(100, 59_700)
        cover(200, 54_000)
        cover(201, 30_000)
        let r = Indicators.compute(input)
        let start = SyntheticHistory.march1 + 200 * 60_000
        #expect(r.communicationGaps == [CommunicationGap(groupID: "site", startMS: start, endMS: start + 120_000, missingMS: 36_000)])
    }
}
