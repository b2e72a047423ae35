import ESSCore
import Foundation
import Testing

@testable import ESSStore

/// Consolidated rows holding several slots (small sites: one to three signals per tier).
@Suite struct StoreRowSlotsTests {
    let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000  // a day boundary: a row boundary in every tier

    /// The usual test tiers, one group of `signals` signals kept in every tier, no energy.
    func smallFixture(signals: Int = 1) -> StoreFixture {
        let fixture = StoreFixture()
        let all = Set(fixture.tiers.map(\.name))
        fixture.schemas = [
            SeriesSchema(
                groupID: "meter",
                signals: (0..<signals).map {
                    SignalDefinition(name: "s\($0)", role: .other, heartbeatMS: 3000, tiers: all)
                },
                energy: EnergySources())
        ]
        fixture.polls = ["meter": 1000]
        return fixture
    }

    func minute(_ m: Int) -> Int64 { t0 + Int64(m) * 60_000 }

    @Test func slotsPerRowKeepThePrefixAtMostTwoBytesPerSignal() throws {
        #expect(
            (1...9).map { Layout.slotsPerRow(slotBytes: $0 * Layout.signalBytes) } == [8, 4, 4, 2, 2, 2, 2, 1, 1])
        #expect(Layout.slotsPerRow(slotBytes: Layout.energyBytes) == 8)
        #expect(Layout.slotsPerRow(slotBytes: Layout.signalBytes + Layout.energyBytes) == 4)
        #expect(Layout.slotsPerRow(slotBytes: 1) == Layout.maxSlotsPerRow)
        for signals in 1...9 {
            let plan = try #require(try smallFixture(signals: signals).plan().file(named: "1m"))
            let perSlotPerSignal = Double(plan.rowBytes) / Double(plan.slotsPerRow) / Double(signals)
            #expect(perSlotPerSignal <= 15, "\(signals) signals: \(perSlotPerSignal) bytes per slot per signal")
            #expect(plan.capacity % plan.slotsPerRow == 0 && plan.capacity >= 60)
        }
        // One signal: 8 slots of 14 bytes behind one 8-byte prefix.
        let one = try #require(try smallFixture().plan().file(named: "1m"))
        #expect(one.slotsPerRow == 8 && one.rowBytes == 120 && one.slotBytes == 14 && one.capacity == 64)
        // 3 daily slots asked for: one row of 8.
        let daily = try #require(try smallFixture().plan().file(named: "1d"))
        #expect(daily.capacity == 8 && daily.retentionMS == 8 * 86_400_000)
    }

    @Test func filesHaveThePlannedSizes() throws {
        let fixture = smallFixture()
        _ = try fixture.writer()
        for file in try fixture.plan().files {
            #expect(try fileSize(fixture.path(file.fileName)) == file.bytes, "\(file.fileName)")
        }
    }

    @Test func slotsOfARowAreWrittenAloneAndReadBack() throws {
        let fixture = smallFixture()
        let schema = fixture.schemas[0]
        var expected: [Int64: ConsolidatedSlot] = [:]
        do {
            let writer = try fixture.writer()
            // Minutes 5 and 6 (inside the first row) are never written; 9 (the second row) is written twice.
            for m in 0..<10 where m != 5 && m != 6 {
                let slot = makeSlot(schema, tier: "1m", startMS: minute(m), slotMS: 60_000, base: Double(m))
                #expect(try writer.write(slot) == .written)
                expected[minute(m)] = slot
            }
            let again = makeSlot(schema, tier: "1m", startMS: minute(9), slotMS: 60_000, base: 90)
            #expect(try writer.write(again) == .written)
            expected[minute(9)] = again
            try writer.checkpoint(nowMS: minute(10))
        }
        let reader = try fixture.reader()
        let slots = try reader.slots(tier: "1m", group: "meter", fromMS: t0, toMS: minute(12))
        #expect(slots.count == 12)
        for stored in slots {
            if let want = expected[stored.startMS] {
                let slot = try #require(stored.slot, "minute \((stored.startMS - t0) / 60_000)")
                #expect(isClose(want.signals[0], slot.signals[0], slotMS: 60_000))
            } else {
                #expect(stored == .missing(startMS: stored.startMS), "minute \((stored.startMS - t0) / 60_000)")
            }
        }
        #expect(reader.verify().isEmpty)
        // A gap's slot arriving after newer ones is refused (the clock-step policy), its row untouched.
        let late = makeSlot(schema, tier: "1m", startMS: minute(6), slotMS: 60_000, base: 6)
        #expect(try fixture.writer().write(late) == .refusedOlderThanStored(storedStartMS: minute(9)))
        let after = try fixture.reader().slots(tier: "1m", group: "meter", fromMS: minute(4), toMS: minute(8))
        #expect(after[1] == .missing(startMS: minute(5)) && after[2] == .missing(startMS: minute(6)))
        #expect(isClose(try #require(after[0].slot).signals[0], expected[minute(4)]!.signals[0], slotMS: 60_000))
        #expect(isClose(try #require(after[3].slot).signals[0], expected[minute(7)]!.signals[0], slotMS: 60_000))
    }

    @Test func ringWrapsByRowsAndOlderLapsReadAsMissing() throws {
        let fixture = smallFixture()
        let schema = fixture.schemas[0]
        let writer = try fixture.writer()
        // 64 slots (8 rows of 8); 70 minutes written: the first row (minutes 0..<8) is overwritten
        // by minutes 64..<72, of which 64..<70 are written.
        for m in 0..<70 {
            try writer.write(makeSlot(schema, tier: "1m", startMS: minute(m), slotMS: 60_000, base: Double(m)))
        }
        let slots = try fixture.reader().slots(tier: "1m", group: "meter", fromMS: t0, toMS: minute(72))
        #expect(slots.count == 72)
        for (m, stored) in slots.enumerated() {
            if m < 8 || m >= 70 {
                #expect(stored == .missing(startMS: minute(m)), "minute \(m)")
            } else {
                #expect(stored.slot?.signals[0].mean == Double(m), "minute \(m)")
            }
        }
        // Older than the row's slots: refused, nothing overwritten.
        let old = makeSlot(schema, tier: "1m", startMS: minute(3), slotMS: 60_000, base: 3)
        #expect(try writer.write(old) == .refusedOlderThanStored(storedStartMS: minute(69)))
    }

    @Test func aggregateTakesFinerTiersForASlotOfARowNotWrittenYet() throws {
        let fixture = smallFixture()
        let schema = fixture.schemas[0]
        let writer = try fixture.writer()
        for m in 0..<30 {
            try writer.write(makeSlot(schema, tier: "1m", startMS: minute(m), slotMS: 60_000, base: 10))
        }
        // The first quarter hour is stored in 15m; the second (same 15m row) is not yet.
        try writer.write(makeSlot(schema, tier: "15m", startMS: t0, slotMS: 900_000, base: 10))
        let reader = try fixture.reader()
        for inPlace in [true, false] {
            let total = try reader.aggregate(
                group: "meter", signal: "s0", fromMS: t0, toMS: minute(30), inPlace: inPlace)
            #expect(total.count == 900 + 15 * 60)
            #expect(total.missingMS == 0)
            // Coverage is stored in 1/4095ths of a slot.
            #expect(abs(total.coveredMS - ((900_000 - 1000) + 15 * (60_000 - 1000))) <= 900_000 / 8190 + 15 * 8)
            #expect(total.slotsRead == 2 + 15)
        }
        let reference = try reader.aggregateReference(group: "meter", signal: "s0", fromMS: t0, toMS: minute(30))
        #expect(reference.count == 900 + 15 * 60 && reference.missingMS == 0)
    }

    @Test func aDamagedRowReportsEachOfItsSlotsAndNothingElse() throws {
        let fixture = smallFixture()
        let schema = fixture.schemas[0]
        do {
            let writer = try fixture.writer()
            for m in 0..<16 {
                try writer.write(makeSlot(schema, tier: "1m", startMS: minute(m), slotMS: 60_000, base: Double(m)))
            }
            try writer.checkpoint(nowMS: minute(16))
        }
        let plan = try #require(try fixture.plan().file(named: "1m"))
        let number = UInt32(minute(5) / 60_000)
        let rowOffset = plan.rowOffset(slotNumber: number)
        var random = SeededRandom(state: 7)
        for _ in 0..<20 {
            // One byte anywhere in the row (prefix, a slot, the checksum), flipped and flipped back.
            let byte = Int.random(in: 0..<plan.rowBytes, using: &random)
            let mask = UInt8.random(in: 1...255, using: &random)
            try flipByte(path: fixture.path("1m.tier"), offset: rowOffset + byte, mask: mask)
            let reader = try fixture.reader()
            let slots = try reader.slots(tier: "1m", group: "meter", fromMS: t0, toMS: minute(16))
            for (m, stored) in slots.enumerated() {
                if (0..<8).contains(m) {
                    guard case .damaged(_, let row) = stored else {
                        Issue.record("minute \(m), byte \(byte) flipped: read as \(stored)")
                        continue
                    }
                    #expect(row.offset == rowOffset)
                } else {
                    #expect(stored.slot?.signals[0].mean == Double(m), "minute \(m)")
                }
            }
            let aggregate = try reader.aggregate(group: "meter", signal: "s0", fromMS: t0, toMS: minute(16))
            #expect(aggregate.missingMS == 8 * 60_000 && Set(aggregate.damaged.map(\.offset)) == [rowOffset])
            #expect(reader.verify().map(\.offset) == [rowOffset])
            try flipByte(path: fixture.path("1m.tier"), offset: rowOffset + byte, mask: mask)
        }
        #expect(try fixture.reader().verify().isEmpty)
    }

    @Test func addingASignalRepacksTheRowsWithHistoryIntact() throws {
        let fixture = smallFixture()
        do {
            let writer = try fixture.writer()
            for m in 0..<10 where m != 2 {
                try writer.write(
                    makeSlot(fixture.schemas[0], tier: "1m", startMS: minute(m), slotMS: 60_000, base: Double(m)))
            }
            try writer.checkpoint(nowMS: minute(10))
        }
        #expect(try fixture.plan().file(named: "1m")?.slotsPerRow == 8)
        fixture.schemas[0].signals.insert(
            SignalDefinition(name: "added", role: .other, heartbeatMS: 3000, tiers: ["1m"]), at: 0)
        #expect(try fixture.plan().file(named: "1m")?.slotsPerRow == 4)
        let writer = try fixture.writer()
        for file in try fixture.plan().files {
            #expect(try fileSize(fixture.path(file.fileName)) == file.bytes)
        }
        let reader = try fixture.reader()
        let slots = try reader.slots(tier: "1m", group: "meter", fromMS: t0, toMS: minute(10))
        for (m, stored) in slots.enumerated() {
            if m == 2 {
                #expect(stored == .missing(startMS: minute(2)))
                continue
            }
            let slot = try #require(stored.slot, "minute \(m)")
            #expect(slot.signals[0].isUnknown && slot.signals[1].mean == Double(m))
        }
        #expect(reader.verify().isEmpty)
        // The added signal was not stored before: its aggregate is all missing, the old one's is not.
        #expect(try reader.aggregate(group: "meter", signal: "added", fromMS: t0, toMS: minute(10)).count == 0)
        #expect(try reader.aggregate(group: "meter", signal: "s0", fromMS: t0, toMS: minute(10)).count == 9 * 60)
        var added = makeSlot(fixture.schemas[0], tier: "1m", startMS: minute(10), slotMS: 60_000, base: 1)
        added.signals[1] = .unknown
        #expect(try writer.write(added) == .written)
    }
}
