import ESSCore
import Foundation
import Testing

@testable import ESSStore

@Suite struct StoreBatchTests {
    /// A few hundred scans with repeats and clock steps back, split into random batches: the
    /// raw file is byte for byte what one `appendRaw` per scan writes, the results add up, and
    /// the rows read back (across a ring wrap: 10 min of raw at 1 s).
    @Test(arguments: [1 as UInt64, 2, 3])
    func batchedAppendRawEqualsOnePerCall(seed: UInt64) throws {
        var random = SeededRandom(state: seed)
        var scans: [(t: Int64, values: [Double], qualities: [PointQuality])] = []
        var t: Int64 = 1_700_000_000_000
        let qualities: [PointQuality] = [.ok, .timeout, .stale, .exception(2), .communicationFailure]
        for _ in 0..<900 {
            t += Int64.random(in: -1500...2500, using: &random)  // steps back (refused) and repeats
            scans.append(
                (
                    t, (0..<3).map { _ in Double.random(in: -100...100, using: &random) },
                    (0..<3).map { _ in qualities.randomElement(using: &random)! }
                ))
        }
        let single = StoreFixture()
        let batched = StoreFixture()
        let a = try single.writer()
        let b = try batched.writer()
        var refused = 0
        for scan in scans {
            if case .refusedClockStepBack = try a.appendRaw(
                group: "bess1", timestampMS: scan.t, values: scan.values, qualities: scan.qualities)
            {
                refused += 1
            }
        }
        var total = RawBatchResult()
        var start = 0
        while start < scans.count {
            // Seed 3 also cuts batches longer than the writer's runs of rows (128).
            let end = min(scans.count, start + Int.random(in: 0...(seed == 3 ? 400 : 40), using: &random))
            let part = scans[start..<end]
            let result = try b.appendRaw(
                group: "bess1", timestampsMS: part.map(\.t), values: part.flatMap(\.values),
                qualities: part.flatMap(\.qualities))
            total.written += result.written
            total.refusedClockStepBack += result.refusedClockStepBack
            total.lastSequence = result.lastSequence
            start = end
        }
        #expect(total.refusedClockStepBack == refused)
        #expect(total.written == scans.count - refused)
        #expect(total.lastSequence == UInt64(scans.count - refused))
        try a.checkpoint(nowMS: t)
        try b.checkpoint(nowMS: t)
        let rawA = try Data(contentsOf: URL(fileURLWithPath: single.path("raw.tier")))
        let rawB = try Data(contentsOf: URL(fileURLWithPath: batched.path("raw.tier")))
        #expect(rawA == rawB)
        let newest = scans.map(\.t).max()!
        let rows = try batched.reader().raw(group: "bess1", fromMS: newest - 300_000, toMS: newest + 1).rows
        #expect(!rows.isEmpty)
        #expect(rows.last?.timestampMS == newest)
    }

    /// The in-place path (`ingest(...onClose:)` + `write(_:to:)`) writes every tier file byte
    /// for byte as the `ConsolidatedSlot` path (`ingest(...emit:)` + `write(_:)`): gappy power
    /// (energy), a signal kept in one tier only, random qualities, batched and per scan.
    @Test(arguments: [4 as UInt64, 5])
    func closedSlotWritesEqualConsolidatedSlotWrites(seed: UInt64) throws {
        var random = SeededRandom(state: seed)
        let qualities: [PointQuality] = [.ok, .ok, .ok, .ok, .timeout, .stale]
        var times: [Int64] = []
        var values: [Double] = []
        var marks: [PointQuality] = []
        var t: Int64 = 1_700_000_000_000
        for _ in 0..<4000 {
            t += Int64.random(in: 1...(Int.random(in: 0..<50, using: &random) == 0 ? 20_000 : 1500), using: &random)
            times.append(t)
            for _ in 0..<3 {
                values.append(Double.random(in: -100...100, using: &random))
                marks.append(qualities.randomElement(using: &random)!)
            }
        }
        var twins = try TwinStores()
        let (a, b, destination) = (twins.a, twins.b, twins.destination)
        var slotsA = 0
        var slotsB = 0
        var failure: StoreError?
        for (row, time) in times.enumerated() {
            let v = Array(values[row * 3..<(row * 3 + 3)])
            let q = Array(marks[row * 3..<(row * 3 + 3)])
            twins.consolidatorA.ingest(timestampMS: time, values: v, qualities: q) { (slot: ConsolidatedSlot) in
                slotsA += 1
                do throws(StoreError) { try a.write(slot) } catch { failure = error }
            }
        }
        var start = 0
        while start < times.count {
            let end = min(times.count, start + Int.random(in: 1...300, using: &random))
            twins.consolidatorB.ingest(
                timestampsMS: Array(times[start..<end]), values: Array(values[(start * 3)..<(end * 3)]),
                qualities: Array(marks[(start * 3)..<(end * 3)])
            ) { (slot: borrowing ClosedSlot) in
                slotsB += 1
                do throws(StoreError) { try b.write(slot, to: destination) } catch { failure = error }
            }
            start = end
        }
        twins.consolidatorA.flush(untilMS: t + 86_400_000) { (slot: ConsolidatedSlot) in
            slotsA += 1
            do throws(StoreError) { try a.write(slot) } catch { failure = error }
        }
        twins.consolidatorB.flush(untilMS: t + 86_400_000) { (slot: borrowing ClosedSlot) in
            slotsB += 1
            do throws(StoreError) { try b.write(slot, to: destination) } catch { failure = error }
        }
        #expect(failure == nil)
        #expect(slotsA == slotsB)
        #expect(slotsA > 100)
        try twins.expectSameFiles(["1m", "15m", "1d"], nowMS: t)
    }

    @Test func destinationsAreChecked() throws {
        let fixture = StoreFixture()
        let writer = try fixture.writer()
        #expect(throws: StoreError.self) { try writer.destination(group: "nope", tiers: fixture.tiers) }
        // A tier the store does not have is skipped.
        let extra = TierDefinition(name: "5m", slotMS: 300_000, retentionMS: 86_400_000)
        var consolidator = SeriesConsolidator(schema: fixture.schemas[1], tiers: [extra])
        let destination = try writer.destination(group: "site", tiers: consolidator.tiers)
        var results: [SlotWriteResult] = []
        for i in 0..<700 {
            consolidator.ingest(
                timestampMS: 1_700_000_000_000 + Int64(i) * 1000, values: [Double(i)], qualities: [.ok]
            ) { (slot: borrowing ClosedSlot) in results.append((try? writer.write(slot, to: destination)) ?? .refusedOlderThanStored(storedStartMS: 0)) }
        }
        #expect(!results.isEmpty)
        #expect(results.allSatisfy { $0 == .written })
    }

    /// `StoreWriter.ingest` (raw rows and consolidation in one call) writes every file byte for
    /// byte as `appendRaw` per scan plus `ingest(...emit:)` + `write(_:)` per closed slot.
    @Test func bulkIngestEqualsPerScanStore() throws {
        var random = SeededRandom(state: 9)
        var twins = try TwinStores()
        let (a, b, destination) = (twins.a, twins.b, twins.destination)
        var times: [Int64] = []
        var values: [Double] = []
        var qualities: [PointQuality] = []
        var t: Int64 = 1_700_000_000_000
        for _ in 0..<3000 {
            t += Int.random(in: 0..<100, using: &random) == 0 ? 90_000 : 1000
            times.append(t)
            values += (0..<3).map { _ in Double.random(in: -50...50, using: &random) }
            qualities += (0..<3).map { _ in Int.random(in: 0..<60, using: &random) == 0 ? .timeout : .ok }
        }
        var slotsA = 0
        for (row, time) in times.enumerated() {
            let v = Array(values[row * 3..<(row * 3 + 3)])
            let q = Array(qualities[row * 3..<(row * 3 + 3)])
            try a.appendRaw(group: "bess1", timestampMS: time, values: v, qualities: q)
            var written: [ConsolidatedSlot] = []
            twins.consolidatorA.ingest(timestampMS: time, values: v, qualities: q) { (slot: ConsolidatedSlot) in written.append(slot) }
            for slot in written where try a.write(slot) == .written { slotsA += 1 }
        }
        var total = BulkIngestResult()
        var start = 0
        while start < times.count {
            let end = min(times.count, start + Int.random(in: 1...700, using: &random))
            let part = try b.ingest(
                group: "bess1", timestampsMS: Array(times[start..<end]), values: Array(values[(start * 3)..<(end * 3)]),
                qualities: Array(qualities[(start * 3)..<(end * 3)]), into: &twins.consolidatorB, destination: destination)
            total.raw.written += part.raw.written
            total.consolidated.accepted += part.consolidated.accepted
            total.slotsWritten += part.slotsWritten
            start = end
        }
        #expect(total.raw.written == times.count)
        #expect(total.consolidated.accepted == times.count)
        #expect(total.slotsWritten == slotsA)
        try twins.expectSameFiles(["raw", "1m", "15m", "1d"], nowMS: t)
        // A batch for another group than the destination's, or of the wrong width: refused, nothing written.
        #expect(throws: StoreError.self) {
            try b.ingest(
                group: "site", timestampsMS: [t + 1000], values: [1], qualities: [.ok], into: &twins.consolidatorB,
                destination: destination)
        }
        #expect(throws: StoreError.self) {
            try b.ingest(
                group: "bess1", timestampsMS: [t + 1000], values: [1], qualities: [.ok], into: &twins.consolidatorB,
                destination: destination)
        }
    }

    /// A checkpoint syncs only the files written since the previous one (and every file once
    /// after opening, for what another process may have left in the page cache).
    @Test func checkpointSyncsOnlyWrittenFiles() throws {
        let fixture = StoreFixture()
        let writer = try fixture.writer()
        func fsyncs() -> [String: Int] {
            Dictionary(uniqueKeysWithValues: writer.tierFiles.map { ($0.plan.tier.name, $0.file.fsyncs) })
        }
        try writer.checkpoint(nowMS: 1_700_000_000_000)
        #expect(fsyncs() == ["raw": 1, "1m": 1, "15m": 1, "1d": 1])
        try writer.appendRaw(group: "bess1", timestampMS: 1_700_000_001_000, values: [1, 2, 3], qualities: [.ok, .ok, .ok])
        try writer.checkpoint(nowMS: 1_700_000_002_000)
        #expect(fsyncs() == ["raw": 2, "1m": 1, "15m": 1, "1d": 1])
        try writer.checkpoint(nowMS: 1_700_000_003_000)
        #expect(fsyncs() == ["raw": 2, "1m": 1, "15m": 1, "1d": 1])
        let slot = makeSlot(fixture.schemas[0], tier: "1m", startMS: 1_700_000_040_000 / 60_000 * 60_000, slotMS: 60_000, base: 5)
        try writer.write(slot)
        try writer.checkpoint(nowMS: 1_700_000_100_000)
        #expect(fsyncs() == ["raw": 2, "1m": 2, "15m": 1, "1d": 1])
    }

    @Test func batchSizesAreChecked() throws {
        let fixture = StoreFixture()
        let writer = try fixture.writer()
        #expect(throws: StoreError.self) {
            try writer.appendRaw(group: "bess1", timestampsMS: [1, 2], values: [1, 2, 3], qualities: [.ok, .ok, .ok])
        }
        #expect(throws: StoreError.self) {
            try writer.appendRaw(group: "nope", timestampsMS: [], values: [], qualities: [])
        }
        #expect(try writer.appendRaw(group: "bess1", timestampsMS: [], values: [], qualities: []) == RawBatchResult())
    }
}

/// Two stores of `StoreFixture`'s configuration, each with a consolidator of its first group,
/// fed the same scans two ways by a test; `expectSameFiles` compares what they wrote.
struct TwinStores {
    let first = StoreFixture()
    let second = StoreFixture()
    let a: StoreWriter
    let b: StoreWriter
    var consolidatorA: SeriesConsolidator
    var consolidatorB: SeriesConsolidator
    /// Where `consolidatorB`'s slots go in `b`.
    let destination: StoreWriter.SlotDestination

    init() throws {
        a = try first.writer()
        b = try second.writer()
        consolidatorA = SeriesConsolidator(schema: first.schemas[0], tiers: first.tiers)
        consolidatorB = SeriesConsolidator(schema: second.schemas[0], tiers: second.tiers)
        destination = try b.destination(group: first.schemas[0].groupID, tiers: consolidatorB.tiers)
    }

    /// Checkpoints both writers, then expects the tier files `names` to be byte for byte equal.
    func expectSameFiles(_ names: [String], nowMS: Int64) throws {
        try a.checkpoint(nowMS: nowMS)
        try b.checkpoint(nowMS: nowMS)
        for name in names {
            let fileA = try Data(contentsOf: URL(fileURLWithPath: first.path(name + ".tier")))
            let fileB = try Data(contentsOf: URL(fileURLWithPath: second.path(name + ".tier")))
            #expect(fileA == fileB, "\(name).tier differs")
        }
    }
}
