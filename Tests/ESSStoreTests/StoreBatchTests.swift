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
