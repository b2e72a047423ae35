import ESSCore
import Foundation
import Logging
import Testing

@testable import ESSStore

/// Issue 11, finding 7 (the store's part): rows written while the wall clock ran ahead, once it
/// is stepped back, are quarantined (kept, shown, left out of reads and tiers, an event) and
/// storing resumes at the true time at once, instead of holding until the clock passes them.
@Suite struct StoreQuarantineTests {
    /// 2023-11-14T00:00:00Z.
    let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000
    static let hour: Int64 = 3_600_000

    func quarantineEvents(_ reader: StoreReader) throws -> [StoreQuarantine] {
        try reader.events().events.compactMap { event -> StoreQuarantine? in
            if case .quarantined(let q) = event { return q }
            return nil
        }
    }

    @Test func theWriterQuarantinesFutureRowsAndResumesAtTheTrueTime() throws {
        let fixture = StoreFixture()
        let bad = t0 + 2 * Self.hour  // the clock read 2 h ahead for 25 s
        let savedCheckpoint: [UInt8]
        do {
            let writer = try fixture.writer()
            for k in 0..<100 {
                try writer.appendRaw(
                    group: "bess1", timestampMS: t0 + Int64(k) * 1000, values: [Double(k), 1, 2], qualities: [.ok, .ok, .ok])
            }
            try writer.write(makeSlot(fixture.schemas[0], tier: "1m", startMS: t0 + 60_000, slotMS: 60_000, base: 1))
            try writer.checkpoint(nowMS: t0 + 100_000)
            for k in 100..<125 {
                try writer.appendRaw(
                    group: "bess1", timestampMS: bad + Int64(k) * 1000, values: [-1, -1, -1], qualities: [.ok, .ok, .ok])
            }
            for minute: Int64 in 121...122 {
                try writer.write(
                    makeSlot(fixture.schemas[0], tier: "1m", startMS: t0 + minute * 60_000, slotMS: 60_000, base: -9))
            }
            try writer.write(makeSlot(fixture.schemas[0], tier: "15m", startMS: bad, slotMS: 900_000, base: -9))
            try writer.checkpoint(nowMS: bad + 125_000)
            savedCheckpoint = try #require(try SystemCalls.readWholeFile(fixture.path("checkpoint")))
            // The true time now: t0 + 125 s. Before the quarantine, the hold refuses it.
            let held = try writer.appendRaw(group: "bess1", timestampMS: t0 + 125_000, values: [0, 0, 0], qualities: [.ok, .ok, .ok])
            #expect(held == .refusedClockStepBack(lastTimestampMS: bad + 124_000))

            let quarantine = try writer.quarantine(
                fromMS: bad + 100_000, toMS: bad + 125_000, reason: "wall clock stepped back 2 h", nowMS: t0 + 125_000)
            #expect(quarantine.rows["bess1"] == QuarantinedRows(firstSequence: 101, lastSequence: 125, resumeAfterMS: t0 + 99_000))
            #expect(quarantine.rows["site"] == nil)
            for k in 125..<130 {
                let result = try writer.appendRaw(
                    group: "bess1", timestampMS: t0 + Int64(k) * 1000, values: [Double(k), 1, 2], qualities: [.ok, .ok, .ok])
                #expect(result == .written(sequence: UInt64(k + 1)), "true-time row \(k) after the quarantine: \(result)")
            }
            // Slots at the true time are accepted again (the 1m and 15m cursors went back).
            #expect(try writer.write(makeSlot(fixture.schemas[0], tier: "1m", startMS: t0 + 120_000, slotMS: 60_000, base: 2)) == .written)
            #expect(try writer.write(makeSlot(fixture.schemas[0], tier: "15m", startMS: t0, slotMS: 900_000, base: 2)) == .written)
            try writer.checkpoint(nowMS: t0 + 130_000)
        }
        let reader = try fixture.reader()
        let rows = try reader.raw(group: "bess1", fromMS: .min, toMS: .max).rows
        let sequences = rows.map(\.sequence)
        #expect(sequences == Array(1...100) + Array(126...130), "\(sequences)")
        #expect(rows.allSatisfy { $0.values[0] >= 0 }, "a quarantined row was read as data")
        let kept = try reader.quarantinedRows(group: "bess1")
        #expect(kept.map(\.sequence) == Array(101...125) && kept.allSatisfy { $0.values == [-1, -1, -1] })
        #expect(try reader.latest(group: "bess1")?.sequence == 130)
        // The slots made from the future rows are gone; the true-time ones are there.
        let future = try reader.slots(tier: "1m", group: "bess1", fromMS: bad, toMS: bad + 180_000)
        #expect(future.allSatisfy { $0.slot == nil }, "\(future)")
        let minute2 = try #require(try reader.slots(tier: "1m", group: "bess1", fromMS: t0 + 120_000, toMS: t0 + 180_000).first?.slot)
        #expect(minute2.signals[0].mean == 2)
        // (Minute 1's row, an hour's lap from minute 121 in this 60-slot ring, was overwritten by
        // the future slot: a ring lapped by a clock ahead loses its oldest slots.)
        let events = try quarantineEvents(reader)
        #expect(events.count == 1 && events.first?.reason == "wall clock stepped back 2 h")
        #expect(try reader.health().events.count == 1)

        // A restart keeps all of it: the writer continues after 130 at the true time.
        do {
            let writer = try fixture.writer()
            #expect(
                try writer.appendRaw(group: "bess1", timestampMS: t0 + 130_000, values: [130, 1, 2], qualities: [.ok, .ok, .ok])
                    == .written(sequence: 131))
        }
        // A quarantine whose checkpoint was lost (a crash before it) is finished at open.
        try SystemCalls.replaceFile(fixture.path("checkpoint"), with: savedCheckpoint, directory: fixture.directory)
        let writer = try fixture.writer()
        #expect(try writer.write(makeSlot(fixture.schemas[0], tier: "1m", startMS: t0 + 120_000, slotMS: 60_000, base: 3)) == .written)
    }

    /// The scenario through essd's store: 60 s at the true time, 25 s with the clock
    /// 2 h ahead, then corrected; the daemon tells the store at the correction.
    @Test func essdsStoreResumesAtTheTrueTimeAfterAnExcursion() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("essd-quarantine-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let t0 = StoreRestartTests.t0
        let clock = TestClock(t0 - 1000)
        let logger = Logger(label: "quarantine-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = try ScanStore(site: StoreRestartTests.site(scratch), logger: logger, clock: clock.read)
        store.start()
        func scan(_ k: Int, at time: Int64) {
            clock.set(time + 50)
            store.accept(
                Scan(deviceID: "pcs1", timestampMS: time, values: [StoreRestartTests.power(k), 50], qualities: [.ok, .ok]))
        }
        for k in 0..<60 { scan(k, at: t0 + Int64(k) * 1000) }
        let ahead = 2 * Self.hour
        for k in 60..<85 { scan(k, at: t0 + ahead + Int64(k) * 1000) }
        // Corrected at the true second 85: the daemon quarantines from the first wrong time.
        clock.set(t0 + 85_000)
        store.quarantine(fromMS: t0 + ahead + 60_000, toMS: t0 + ahead + 85_000, reason: "wall clock stepped back by 2 h")
        for k in 85..<150 { scan(k, at: t0 + Int64(k) * 1000) }
        clock.set(t0 + 149_500)
        store.stop()
        let statistics = store.statistics()
        #expect(statistics.quarantines == 1 && statistics.quarantinedRows == 50, "\(statistics)")

        let reader = try StoreReader(directory: scratch)
        let seconds = try reader.raw(group: "pcs1", fromMS: .min, toMS: .max).rows.map { Int(($0.timestampMS - t0) / 1000) }
        #expect(seconds == Array(0..<60) + Array(85..<150), "\(seconds)")
        #expect(try reader.quarantinedRows(group: "pcs1").count == 25)
        #expect(try reader.quarantinedRows(group: "site").count == 25)
        // Nothing at the wrong times; the true time covered by hand: seconds 0...59 held 1 s
        // each, 59 held 3 s (its heartbeat: the next stored sample is at 85 s), 85 ... 149 held
        // 1 s each and 149 held to the stop at 149.5 s.
        let wrong = try reader.slots(tier: "1m", group: "pcs1", fromMS: t0 + ahead, toMS: t0 + ahead + 180_000)
        #expect(wrong.allSatisfy { $0.slot == nil })
        let minutes = try reader.slots(tier: "1m", group: "pcs1", fromMS: t0, toMS: t0 + 180_000).map { $0.slot?.signals[0].coveredMS ?? -1 }
        #expect(minutes.count == 3)
        let expected: [Int64] = [60_000, 2_000 + 35_000, 29_500]
        for (got, want) in zip(minutes, expected) { #expect(abs(got - want) <= 8, "1m coverage \(minutes), expected \(expected)") }
        let day = try #require(try reader.slots(tier: "1d", group: "pcs1", fromMS: t0, toMS: t0 + 1).first?.slot)
        let dayCovered = day.signals[0].coveredMS
        #expect(abs(dayCovered - 126_500) <= 11_000, "1d coverage \(dayCovered) ms, expected 126,500")
        let quarter = try #require(try reader.slots(tier: "15m", group: "pcs1", fromMS: t0, toMS: t0 + 1).first?.slot)
        let quarterCovered = quarter.signals[0].coveredMS
        #expect(abs(quarterCovered - 126_500) <= 111, "15m coverage \(quarterCovered) ms, expected 126,500")
        let events = try quarantineEvents(reader)
        #expect(events.map { $0.rows["pcs1"]?.lastSequence } == [85])
    }
}

/// Every kind of event survives the log's line format (what `essctl store health` and the
/// bundle's events.csv read back), values written by hand.
@Suite struct StoreEventLineTests {
    @Test(arguments: [
        StoreEvent.started(atMS: 1_735_660_800_000),
        .reconfigured(atMS: 1_735_660_860_000, groups: ["pcs1", "bms1", "site"]),
        .clockStepped(atMS: 1_735_660_900_000, stepMS: -7_200_000),
        .stopped(atMS: 1_735_661_000_000, clean: false),
        .imported(StoreImport(groups: ["pcs1"], fromMS: 0, toMS: 60_000, intervalMS: 60_000, source: "/tmp/a b.csv", notedMS: 5)),
    ])
    func roundTrip(_ event: StoreEvent) {
        let line = StoreEventLog.line(event)
        #expect(line.last == 0x0A)
        #expect(StoreEventLog.parse(line.dropLast()) == event, "\(String(decoding: line, as: UTF8.self))")
    }
}
