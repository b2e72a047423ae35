import ESSCore
import Foundation
import Testing

@testable import ESSStore

/// A writer killed while it changes a consolidated row in place (adding a slot to a row that
/// holds checkpointed ones) left the row torn and its checkpointed slots unreadable (found by
/// StoreCrashTests: "checkpointed 1m slot ... is damaged" after a kill). The row journal keeps
/// the row's previous bytes until the change is complete: readers read them, the next writer
/// puts them back.
@Suite struct StoreRowJournalTests {
    let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000

    /// A store whose 1m row of slots 0 and 1 holds slot 0 (checkpointed), then a writer that
    /// "dies" after saving the row to the journal and changing some of its bytes.
    func tornStore() throws -> (StoreFixture, ConsolidatedSlot, Int) {
        let fixture = StoreFixture()
        let slot = makeSlot(fixture.schemas[0], tier: "1m", startMS: t0, slotMS: 60_000, base: 7)
        let plan = try #require(try fixture.plan().file(named: "1m"))
        #expect(plan.slotsPerRow == 2)
        let offset = plan.rowOffset(slotNumber: UInt32(t0 / 60_000))
        do {
            let writer = try fixture.writer()
            try writer.write(slot)
            try writer.checkpoint(nowMS: t0 + 60_000)
            // What writeRow does for slot 1, stopped half-way: copy saved, part of the row changed, no CRC.
            let t = try #require(writer.tierFiles.firstIndex { $0.plan.tier.name == "1m" })
            let row = writer.tierFiles[t].file.base + offset
            writer.rowJournal.save(file: t, offset: offset, row: row, length: plan.rowBytes)
            let part = row + plan.partOffset(slotNumber: UInt32(t0 / 60_000) + 1, group: plan.groups[0])
            part.storeBytes(of: UInt64(0x1234_5678_9ABC_DEF0), as: UInt64.self)
        }
        return (fixture, slot, offset)
    }

    func readSlot(_ fixture: StoreFixture) throws -> StoredSlot? {
        try fixture.reader().slots(tier: "1m", group: "bess1", fromMS: t0, toMS: t0 + 60_000).first
    }

    @Test func aTornRowIsReadFromTheJournalAndRestoredByTheNextWriter() throws {
        let (fixture, slot, _) = try tornStore()
        // A reader before any restart reads the checkpointed slot from the journal's copy.
        let before = try #require(try readSlot(fixture)?.slot)
        #expect(isClose(before.signals[0], slot.signals[0], slotMS: 60_000))
        #expect(try fixture.reader().verify().isEmpty)
        // The next writer puts the row back; the tier file alone holds it again.
        _ = try fixture.writer()
        try FileManager.default.removeItem(atPath: fixture.path(RowJournal.fileName))
        let after = try #require(try readSlot(fixture)?.slot)
        #expect(isClose(after.signals[0], slot.signals[0], slotMS: 60_000))
        #expect(try fixture.reader().verify().isEmpty)
    }

    @Test func withoutTheJournalTheTornRowIsDamaged() throws {
        let (fixture, _, offset) = try tornStore()
        try FileManager.default.removeItem(atPath: fixture.path(RowJournal.fileName))
        guard case .damaged(_, let row) = try readSlot(fixture) else {
            Issue.record("a torn row read as \(String(describing: try readSlot(fixture)))")
            return
        }
        #expect(row.offset == offset)
    }

    @Test func aCompletedChangeIsNotUndone() throws {
        // The copy is saved, the change completes (CRC stored) but the writer dies before clearing
        // the journal: the row's new content stands, for readers and for the next writer.
        let fixture = StoreFixture()
        let first = makeSlot(fixture.schemas[0], tier: "1m", startMS: t0, slotMS: 60_000, base: 7)
        let second = makeSlot(fixture.schemas[0], tier: "1m", startMS: t0 + 60_000, slotMS: 60_000, base: 9)
        let plan = try #require(try fixture.plan().file(named: "1m"))
        let offset = plan.rowOffset(slotNumber: UInt32(t0 / 60_000))
        do {
            let writer = try fixture.writer()
            try writer.write(first)
            let t = try #require(writer.tierFiles.firstIndex { $0.plan.tier.name == "1m" })
            let row = writer.tierFiles[t].file.base + offset
            let saved = [UInt8](UnsafeRawBufferPointer(start: row, count: plan.rowBytes))
            try writer.write(second)
            // Leave the journal holding the row as it was before `second`.
            saved.withUnsafeBytes { writer.rowJournal.save(file: t, offset: offset, row: $0.baseAddress!, length: plan.rowBytes) }
        }
        let read = try fixture.reader().slots(tier: "1m", group: "bess1", fromMS: t0, toMS: t0 + 120_000)
        #expect(read.compactMap(\.slot).count == 2, "\(read)")
        _ = try fixture.writer()
        let again = try fixture.reader().slots(tier: "1m", group: "bess1", fromMS: t0, toMS: t0 + 120_000)
        #expect(again.compactMap(\.slot).count == 2, "\(again)")
        #expect(again.last?.slot.map { isClose($0.signals[0], second.signals[0], slotMS: 60_000) } == true)
    }
}
