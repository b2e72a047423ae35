import ESSCore
import Testing

@testable import ESSStore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct StoreCorruptionTests {
    let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func flippedBytesAreReportedAndNeverReadAsValid(seed: UInt64) throws {
        let fixture = StoreFixture()
        var expected: [Int64: ConsolidatedSlot] = [:]
        do {
            let writer = try fixture.writer()
            for minute in 0..<50 {
                let start = t0 + Int64(minute) * 60_000
                let slot = makeSlot(
                    fixture.schemas[0], tier: "1m", startMS: start, slotMS: 60_000, base: Double(minute))
                try writer.write(slot)
                try writer.write(makeSlot(fixture.schemas[1], tier: "1m", startMS: start, slotMS: 60_000, base: 5))
                expected[start] = slot
            }
            for second in 0..<100 {
                try writer.appendRaw(
                    group: "bess1", timestampMS: t0 + Int64(second) * 1000, values: [1, 2, 3],
                    qualities: [.ok, .ok, .ok])
            }
            try writer.checkpoint(nowMS: t0)
        }
        let plan = try #require(try fixture.plan().file(named: "1m"))
        var random = SeededRandom(state: seed)
        // One byte flipped in each of 4 rows: every slot of such a row (2 per row here) is damaged.
        var flippedRows = Set<Int>()
        while flippedRows.count < 4 {
            let minute = Int64.random(in: 0..<50, using: &random)
            let rowOffset = plan.rowOffset(slotNumber: UInt32((t0 + minute * 60_000) / 60_000))
            guard flippedRows.insert(rowOffset).inserted else { continue }
            let byte = Int.random(in: 0..<plan.rowBytes, using: &random)
            try flipByte(
                path: fixture.path("1m.tier"), offset: rowOffset + byte, mask: UInt8.random(in: 1...255, using: &random)
            )
        }
        #expect(plan.slotsPerRow == 2)
        let damagedSlots = (0..<50).map { t0 + Int64($0) * 60_000 }.filter {
            flippedRows.contains(plan.rowOffset(slotNumber: UInt32($0 / 60_000)))
        }
        let reader = try fixture.reader()
        for group in ["bess1", "site"] {
            for stored in try reader.slots(tier: "1m", group: group, fromMS: t0, toMS: t0 + 50 * 60_000) {
                let offset = plan.rowOffset(slotNumber: UInt32(stored.startMS / 60_000))
                if flippedRows.contains(offset) {
                    guard case .damaged(_, let row) = stored else {
                        Issue.record("slot \(stored.startMS) with a flipped byte in its row read as \(stored)")
                        continue
                    }
                    #expect(row.offset == offset && row.path.hasSuffix("1m.tier"))
                } else if group == "bess1" {
                    let slot = try #require(stored.slot)
                    #expect(isClose(expected[stored.startMS]!.signals[0], slot.signals[0], slotMS: 60_000))
                }
            }
        }
        #expect(Set(reader.verify().map(\.offset)) == flippedRows)
        // Aggregates skip damaged slots and say so.
        let aggregate = try reader.aggregate(group: "bess1", signal: "soc", fromMS: t0, toMS: t0 + 50 * 60_000)
        #expect(aggregate.missingMS == Int64(damagedSlots.count) * 60_000)
        #expect(Set(aggregate.damaged.map(\.offset)) == flippedRows)

        // A flipped raw row is reported and skipped.
        let raw = try #require(try fixture.plan().file(named: "raw")).groups[0]
        let rawOffset = raw.offset + Layout.rawHeadBytes + 10 * raw.bytes
        try flipByte(path: fixture.path("raw.tier"), offset: rawOffset + 20)
        let rows = try fixture.reader().raw(group: "bess1", fromMS: t0, toMS: t0 + 100_000)
        #expect(rows.rows.count == 99 && !rows.rows.contains { $0.sequence == 10 })
        #expect(rows.damaged.map(\.offset) == [rawOffset])
    }

    @Test func truncatedFileIsRefused() throws {
        let fixture = StoreFixture()
        _ = try fixture.writer()
        let path = fixture.path("15m.tier")
        #expect(truncate(path, off_t(try fileSize(path) - 100)) == 0)
        for open in [{ _ = try fixture.writer() }, { _ = try fixture.reader() }] {
            do {
                try open()
                Issue.record("a truncated file was accepted")
            } catch let error as StoreError {
                #expect(error.kind == .wrongFileSize)
                #expect(error.message.contains("15m.tier") && error.message.contains("truncated"))
            }
        }
    }

    @Test(arguments: [0, 9, 30, 100, 400, 4000])
    func flippedHeaderByteIsRefused(offset: Int) throws {
        let fixture = StoreFixture()
        _ = try fixture.writer()
        try flipByte(path: fixture.path("1m.tier"), offset: offset, mask: 0x10)
        for open in [{ _ = try fixture.writer() }, { _ = try fixture.reader() }] {
            do {
                try open()
                Issue.record("a damaged header was accepted")
            } catch let error as StoreError {
                #expect(error.kind == .corruptFile || error.kind == .unknownFormatVersion)
                #expect(error.message.contains("1m.tier"))
            }
        }
    }
}
