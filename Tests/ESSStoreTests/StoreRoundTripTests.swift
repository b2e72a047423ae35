import ESSCore
import Testing

@testable import ESSStore

@Suite struct StoreRoundTripTests {
    let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000  // a day boundary

    @Test func planEqualsFilesOnDisk() throws {
        let fixture = StoreFixture()
        let plan = try fixture.plan()
        _ = try fixture.writer()
        for file in plan.files {
            #expect(try fileSize(fixture.path(file.fileName)) == file.bytes, "\(file.fileName)")
            #expect(file.headerBytes % 4096 == 0)
        }
        let oneMinute = try #require(plan.file(named: "1m"))
        #expect(oneMinute.capacity == 60)
        // A slot: bess1's 2 signals + energy, site's 1 signal; two slots per row behind 8 bytes
        // of row prefix (66 bytes a slot is under 8 × 14: see Layout.slotsPerRow).
        #expect(oneMinute.slotBytes == 2 * 14 + 24 + 14 && oneMinute.slotsPerRow == 2)
        #expect(oneMinute.rowBytes == 8 + 2 * (2 * 14 + 24 + 14))
        let raw = try #require(plan.file(named: "raw"))
        #expect(raw.groups.map(\.capacity) == [600, 120])
        #expect(raw.retentionMS == 600_000)
    }

    @Test func rawBudgetSetsRetentionAndIsNeverExceeded() throws {
        let fixture = StoreFixture()
        fixture.budget = 1_000_000
        let plan = try fixture.plan()
        let raw = try #require(plan.file(named: "raw"))
        #expect(raw.bytes <= 1_000_000)
        #expect(raw.bytes > 900_000)
        _ = try fixture.writer()
        #expect(try fileSize(fixture.path("raw.tier")) == raw.bytes)
    }

    @Test func writeReopenAndReadBack() throws {
        let fixture = StoreFixture()
        var written: [Int64: ConsolidatedSlot] = [:]
        do {
            let writer = try fixture.writer()
            for minute in 0..<30 where minute % 7 != 3 {  // every 7th minute is a gap
                let start = t0 + Int64(minute) * 60_000
                for schema in fixture.schemas {
                    let slot = makeSlot(
                        schema, tier: "1m", startMS: start, slotMS: 60_000, base: 40 + Double(minute) * 0.37)
                    #expect(try writer.write(slot) == .written)
                    if schema.groupID == "bess1" { written[start] = slot }
                }
            }
            for second in 0..<40 {
                let result = try writer.appendRaw(
                    group: "bess1", timestampMS: t0 + Int64(second) * 1000, values: [50 + Double(second), -3.25, 21],
                    qualities: [.ok, second == 5 ? .timeout : .ok, .exception(2)])
                #expect(result == .written(sequence: UInt64(second + 1)))
            }
            try writer.checkpoint(nowMS: t0 + 40_000)
        }
        // The writer reopens the same store and continues the raw sequence.
        do {
            let writer = try fixture.writer()
            #expect(writer.lastCheckpoint == t0 + 40_000)
            #expect(
                try writer.appendRaw(
                    group: "bess1", timestampMS: t0 + 40_000, values: [90, 0, 0], qualities: [.ok, .ok, .ok])
                    == .written(sequence: 41))
            try writer.checkpoint(nowMS: t0 + 41_000)
        }
        let reader = try fixture.reader()
        let slots = try reader.slots(tier: "1m", group: "bess1", fromMS: t0, toMS: t0 + 30 * 60_000)
        #expect(slots.count == 30)
        for stored in slots {
            if let expected = written[stored.startMS] {
                let slot = try #require(stored.slot)
                for index in expected.signals.indices {
                    #expect(isClose(expected.signals[index], slot.signals[index], slotMS: 60_000))
                }
                #expect(slot.signals[2].isUnknown)  // "temp" is not kept in 1m
                let energy = try #require(slot.energy)
                #expect(abs(energy.integratedChargeKWh - expected.energy!.integratedChargeKWh) < 1e-5)
                #expect(energy.counterChargeKWh.isNaN)
                #expect(abs(energy.unaccountedMS - 1000) <= 1)
            } else {
                #expect(stored == .missing(startMS: stored.startMS))
            }
        }
        let raw = try reader.raw(group: "bess1", fromMS: t0 + 10_000, toMS: t0 + 20_000)
        #expect(raw.rows.map(\.sequence) == Array(11...20))
        #expect(raw.rows.first?.values == [60, -3.25, 21])
        #expect(raw.rows.first?.qualities == [.ok, .ok, .exception(2)])
        #expect(
            try reader.raw(group: "bess1", fromMS: t0 + 5_000, toMS: t0 + 5_001).rows.first?.qualities[1] == .timeout)
        #expect(try reader.latest(group: "bess1")?.values.first == 90)
        #expect(try reader.latest(group: "site") == nil)
        #expect(try reader.health().lastCheckpointMS == t0 + 41_000)
        #expect(reader.verify().isEmpty)
    }

    @Test func unknownSummariesReadAsUnknown() throws {
        let fixture = StoreFixture()
        let writer = try fixture.writer()
        let slot = ConsolidatedSlot(
            groupID: "bess1", tier: "1m", startMS: t0, signals: [.unknown, .unknown, .unknown], energy: EnergySummary())
        #expect(try writer.write(slot) == .written)
        let stored = try #require(
            try fixture.reader().slots(tier: "1m", group: "bess1", fromMS: t0, toMS: t0 + 1).first?.slot)
        #expect(stored.signals.allSatisfy { $0.isUnknown })
        // The other group's part of the row was never written: not stored (missing), never zero.
        let site = try fixture.reader().slots(tier: "1m", group: "site", fromMS: t0, toMS: t0 + 1)
        #expect(site == [.missing(startMS: t0)])
    }

    @Test func ringWrapsAroundAndOlderLapsReadAsMissing() throws {
        let fixture = StoreFixture()
        let writer = try fixture.writer()
        let schema = fixture.schemas[0]
        for minute in 0..<70 {  // capacity 60
            let slot = makeSlot(
                schema, tier: "1m", startMS: t0 + Int64(minute) * 60_000, slotMS: 60_000, base: Double(minute))
            #expect(try writer.write(slot) == .written)
        }
        let reader = try fixture.reader()
        let old = try reader.slots(tier: "1m", group: "bess1", fromMS: t0 + 5 * 60_000, toMS: t0 + 6 * 60_000)
        #expect(old == [.missing(startMS: t0 + 5 * 60_000)])
        let new = try #require(
            try reader.slots(tier: "1m", group: "bess1", fromMS: t0 + 65 * 60_000, toMS: t0 + 66 * 60_000).first?.slot)
        #expect(abs(new.signals[0].mean - 65) < 1e-5)
        // Writing the overwritten lap's slot again is refused: the row holds a newer one.
        let stale = makeSlot(schema, tier: "1m", startMS: t0 + 5 * 60_000, slotMS: 60_000, base: 0)
        #expect(try writer.write(stale) == .refusedOlderThanStored(storedStartMS: t0 + 69 * 60_000))
    }

    @Test func clockSteppingBackOverwritesNothing() throws {
        let fixture = StoreFixture()
        let schema = fixture.schemas[0]
        do {
            let writer = try fixture.writer()
            #expect(
                try writer.write(makeSlot(schema, tier: "1m", startMS: t0 + 600_000, slotMS: 60_000, base: 1))
                    == .written)
            #expect(
                try writer.write(makeSlot(schema, tier: "1m", startMS: t0 + 540_000, slotMS: 60_000, base: 2))
                    == .refusedOlderThanStored(storedStartMS: t0 + 600_000))
            // The same slot again is an update of the open slot.
            #expect(
                try writer.write(makeSlot(schema, tier: "1m", startMS: t0 + 600_000, slotMS: 60_000, base: 3))
                    == .written)
            #expect(
                try writer.appendRaw(
                    group: "bess1", timestampMS: t0 + 10_000, values: [1, 2, 3], qualities: [.ok, .ok, .ok])
                    == .written(sequence: 1))
            #expect(
                try writer.appendRaw(
                    group: "bess1", timestampMS: t0 + 9_000, values: [9, 9, 9], qualities: [.ok, .ok, .ok])
                    == .refusedClockStepBack(lastTimestampMS: t0 + 10_000))
            try writer.checkpoint(nowMS: t0)
        }
        // After a restart the newest slot and raw time are remembered.
        let writer = try fixture.writer()
        #expect(
            try writer.write(makeSlot(schema, tier: "1m", startMS: t0 + 540_000, slotMS: 60_000, base: 2))
                == .refusedOlderThanStored(storedStartMS: t0 + 600_000))
        #expect(
            try writer.appendRaw(
                group: "bess1", timestampMS: t0 + 9_000, values: [9, 9, 9], qualities: [.ok, .ok, .ok])
                == .refusedClockStepBack(lastTimestampMS: t0 + 10_000))
        let stored = try fixture.reader().slots(tier: "1m", group: "bess1", fromMS: t0 + 540_000, toMS: t0 + 660_000)
        #expect(stored.first == .missing(startMS: t0 + 540_000))
        #expect(abs((stored.last?.slot?.signals[0].mean ?? 0) - 3) < 1e-6)
    }
}
