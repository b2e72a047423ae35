import ESSCore
import Testing

@testable import ESSStore

@Suite struct StoreAggregateTests {
    let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000

    @Test func aggregateUsesCoarseTiersInsideAndFineAtTheEdges() throws {
        let fixture = StoreFixture()
        fixture.tiers[1].retentionMS = 86_400_000  // 1 day of 1m slots
        let writer = try fixture.writer()
        let schema = fixture.schemas[0]
        var fine: [SlotSummary] = []
        var energy = 0.0
        for minute in 0..<180 {
            let slot = makeSlot(
                schema, tier: "1m", startMS: t0 + Int64(minute) * 60_000, slotMS: 60_000, base: Double(minute % 17))
            try writer.write(slot)
            fine.append(slot.signals[0])
            energy += slot.energy!.integratedChargeKWh
        }
        // 15m slots that are the exact consolidation of their 1m slots (for soc).
        for quarter in 0..<12 {
            let part = fine[(quarter * 15)..<(quarter * 15 + 15)]
            let covered = part.reduce(0) { $0 + $1.coveredMS }
            var slot = makeSlot(schema, tier: "15m", startMS: t0 + Int64(quarter) * 900_000, slotMS: 900_000, base: 0)
            slot.signals[0] = SlotSummary(
                count: part.reduce(0) { $0 + $1.count }, coveredMS: covered, min: part.map(\.min).min()!,
                max: part.map(\.max).max()!,
                mean: part.reduce(0) { $0 + $1.mean * Double($1.coveredMS) } / Double(covered),
                first: part.first!.first, last: part.last!.last)
            slot.energy!.integratedChargeKWh = part.indices.reduce(0) { $0 + Double($1 % 17) / 10 }
            try writer.write(slot)
        }
        let reader = try fixture.reader()
        let from = t0 + 7 * 60_000
        let to = t0 + 173 * 60_000
        let result = try reader.aggregate(group: "bess1", signal: "soc", fromMS: from, toMS: to)
        let naive = fine[7..<173]
        let covered = naive.reduce(0) { $0 + $1.coveredMS }
        #expect(result.count == naive.reduce(0) { $0 + $1.count })
        #expect(abs(result.coveredMS - covered) <= 100)
        #expect(abs(result.min - naive.map(\.min).min()!) < 0.01)
        #expect(abs(result.max - naive.map(\.max).max()!) < 0.01)
        #expect(abs(result.mean - naive.reduce(0) { $0 + $1.mean * Double($1.coveredMS) } / Double(covered)) < 1e-3)
        #expect(result.slotsRead == 8 + 10 + 8)  // 1m edges 00:07–00:15 and 02:45–02:53, 15m inside
        #expect(result.missingMS == 0 && result.fromMS == from && result.toMS == to)
        // The 1d tier holds nothing yet: it falls back to 15m and 1m.
        let whole = try reader.aggregate(group: "bess1", signal: "soc", fromMS: t0, toMS: t0 + 86_400_000)
        #expect(whole.count == fine.reduce(0) { $0 + $1.count })
        #expect(whole.missingMS == 86_400_000 - 180 * 60_000)
        let sum = try reader.energy(group: "bess1", fromMS: t0, toMS: t0 + 180 * 60_000)
        #expect(abs(sum.energy.integratedChargeKWh - energy) < 1e-3)
        #expect(abs(sum.energy.unaccountedMS - 12 * 1000) <= 100)
        #expect(sum.energy.counterChargeKWh.isNaN)
    }
}
