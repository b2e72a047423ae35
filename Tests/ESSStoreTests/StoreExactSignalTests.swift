import ESSCore
import Foundation
import Testing

@testable import ESSStore

/// Issue 12, finding 2, through the real path (samples → `SeriesConsolidator` → `StoreWriter`
/// → tier files → `StoreReader`): a 0/1 `available` signal with a 15-minute outage that starts
/// and ends inside slots reads back with min exactly 0 and max exactly 1 in every tier, and its
/// time at 0 adds up to the outage. Expected values by hand: samples every second, the outage
/// 00:07:00–00:22:00 (900 s), sample-and-hold, so the slot 00:00–00:15 is down 480 s and the
/// slot 00:15–00:30 is down 420 s.
@Suite struct StoreExactSignalTests {
    /// A multiple of 1 day, so every tier's slots start on it.
    static let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000
    static let outage = (t0 + 7 * 60_000)..<(t0 + 22 * 60_000)

    @Test func aBooleanChangingInsideSlotsStaysExactInEveryTier() throws {
        let fixture = StoreFixture()
        let all = Set(fixture.tiers.map(\.name))
        fixture.schemas = [
            SeriesSchema(
                groupID: "site",
                signals: [
                    SignalDefinition(name: "available", role: .available, heartbeatMS: 3000, tiers: all),
                    SignalDefinition(name: "state", role: .other, heartbeatMS: 3000, tiers: all),
                ],
                energy: EnergySources())
        ]
        fixture.polls = ["site": 1000]
        var consolidator = SeriesConsolidator(schema: fixture.schemas[0], tiers: fixture.tiers)
        do {
            let writer = try fixture.writer(nowMS: Self.t0)
            func store(_ slot: ConsolidatedSlot) {
                let result = Result { try writer.write(slot) }
                #expect((try? result.get()) == .written, "\(slot.tier) \(slot.startMS)")
            }
            for second in 0..<3_600 {
                let t = Self.t0 + Int64(second) * 1000
                let down = Self.outage.contains(t)
                // An operating state: 2 running, 5 stopped, 3 restarting for the minute after.
                let state: Double = down ? 5 : (t >= Self.outage.upperBound && t < Self.outage.upperBound + 60_000 ? 3 : 2)
                consolidator.ingest(timestampMS: t, values: [down ? 0 : 1, state], qualities: [.ok, .ok], emit: store)
            }
            consolidator.stop(atMS: Self.t0 + 3_600_000, emit: store)
            // The day slot is still open: store it as it stands (the 1-min ring holds one hour only,
            // so the day is not run to its end).
            for slot in consolidator.openSlots(nowMS: Self.t0 + 3_600_000) where slot.tier == "1d" { store(slot) }
            try writer.checkpoint(nowMS: Self.t0 + 3_700_000)
        }
        let reader = try fixture.reader()
        for (tier, slotMS) in [("1m", Int64(60_000)), ("15m", 900_000), ("1d", 86_400_000)] {
            let slots = try reader.slots(tier: tier, group: "site", fromMS: Self.t0, toMS: Self.t0 + 3_600_000)
                .compactMap(\.slot)
            #expect(!slots.isEmpty, "\(tier)")
            var downMS = 0.0
            for slot in slots {
                let a = slot.signals[0]
                let start = slot.startMS
                let end = start + slotMS
                let overlap = max(0, min(end, Self.outage.upperBound) - max(start, Self.outage.lowerBound))
                // Every value the slot saw, by hand: 1 outside the outage, 0 inside.
                let sawDown = overlap > 0
                let sawUp = overlap < min(end, Self.t0 + 3_600_000) - start
                #expect(a.min == (sawDown ? 0 : 1), "\(tier) \(start): min \(a.min)")
                #expect(a.max == (sawUp ? 1 : 0), "\(tier) \(start): max \(a.max)")
                #expect(a.first == (Self.outage.contains(start) ? 0 : 1), "\(tier) \(start): first \(a.first)")
                downMS += Double(a.coveredMS) * (1 - a.mean)
                let state = slot.signals[1]
                #expect(state.min.rounded() == state.min && state.max.rounded() == state.max, "\(tier) \(start): \(state)")
            }
            // The tier's coverage resolution is slotMS / 8190 per slot.
            let tolerance = Double(slotMS) / 8190 * 2 + 1
            #expect(abs(downMS - 900_000) <= tolerance, "\(tier): down \(downMS) ms, expected 900000")
        }
        // The 15-minute slots by hand: 480 s and 420 s down.
        let quarter = try reader.slots(tier: "15m", group: "site", fromMS: Self.t0, toMS: Self.t0 + 1_800_000).compactMap(\.slot)
        let downs = quarter.map { (Double($0.signals[0].coveredMS) * (1 - $0.signals[0].mean) / 1000).rounded() }
        #expect(downs == [480, 420])
        #expect(quarter.map(\.signals[1].min) == [2, 2])
        #expect(quarter.map(\.signals[1].max) == [5, 5])
    }
}
