import Foundation
import ESSCore
import ESSTestSupport
import Synchronization
import Testing

@Suite("SeriesRing")
struct SeriesRingTests {
    @Test("quality codes are stable and round-trip")
    func qualityCodes() {
        let table: [(PointQuality, UInt8)] = [
            (.ok, 0), (.timeout, 1), (.stale, 2), (.notImplemented, 3), (.communicationFailure, 4), (.protocolError, 5),
            (.exception(1), 17), (.exception(2), 18), (.exception(11), 27), (.exception(239), 255),
        ]
        for (quality, code) in table {
            #expect(quality.code == code)
            #expect(PointQuality(code: code) == quality)
        }
        #expect(PointQuality.exception(250).code == 255)
        for reserved in UInt8(6)...15 { #expect(PointQuality(code: reserved) == nil) }
    }

    @Test("capacity follows retention, rounded up to a power of two")
    func capacity() {
        #expect(SeriesRing.capacity(retentionMS: 48 * 3_600_000, intervalMS: 1000) == 262_144)
        #expect(SeriesRing.capacity(retentionMS: 1000, intervalMS: 1000) == 1)
        #expect(SeriesRing.capacity(retentionMS: 1001, intervalMS: 1000) == 2)
    }

    @Test("wraparound keeps the newest rows; range reads match a model", arguments: 0..<20)
    func wraparound(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let capacity = 1 << Int.random(in: 0...5, using: &rng)
        let signals = Int.random(in: 0...4, using: &rng)
        let ring = SeriesRing(capacity: capacity, signalCount: signals)
        var model: [SeriesRow] = []
        var t = Int64.random(in: -5000...5000, using: &rng)
        #expect(ring.latest() == nil)
        #expect(ring.read(fromMS: .min, toMS: .max).isEmpty)
        for _ in 0..<Int.random(in: 0...150, using: &rng) {
            if !model.isEmpty, Int.random(in: 0..<10, using: &rng) == 0 {
                let back = t - Int64.random(in: 1...100, using: &rng)
                #expect(!ring.append(timestampMS: back, values: Array(repeating: 0, count: signals), qualities: Array(repeating: .ok, count: signals)))
            }
            t += Int64.random(in: 0...20, using: &rng)  // equal timestamps allowed
            let row = SeriesRow(
                timestampMS: t, values: (0..<signals).map { _ in Double.random(in: -1...1, using: &rng) },
                qualities: (0..<signals).map { _ in [.ok, .stale, .timeout, .exception(3)].randomElement(using: &rng)! })
            #expect(ring.append(timestampMS: row.timestampMS, values: row.values, qualities: row.qualities))
            model.append(row)
            if model.count > capacity { model.removeFirst() }
            #expect(ring.count == model.count)
            #expect(ring.latest() == model.last)
            let a = t - Int64.random(in: -5...200, using: &rng)
            let b = a + Int64.random(in: -3...150, using: &rng)
            #expect(ring.read(fromMS: a, toMS: b) == model.filter { $0.timestampMS >= a && $0.timestampMS < b }, "seed \(seed) [\(a), \(b))")
        }
        #expect(ring.read(fromMS: .min, toMS: .max) == model)
    }

    @Test("the buffer variant of append stores quality codes")
    func bufferAppend() {
        let ring = SeriesRing(capacity: 4, signalCount: 2)
        let values: [Double] = [1.5, -2]
        let codes: [UInt8] = [PointQuality.ok.code, PointQuality.exception(2).code]
        values.withUnsafeBufferPointer { v in
            codes.withUnsafeBufferPointer { q in
                #expect(ring.append(timestampMS: 7, values: v, qualityCodes: q))
            }
        }
        #expect(ring.latest() == SeriesRow(timestampMS: 7, values: [1.5, -2], qualities: [.ok, .exception(2)]))
    }

    /// The writer writes rows whose values all equal the timestamp (and a quality derived from
    /// it) as fast as it can into a small ring; readers on other threads must never see a row
    /// that mixes two writes, nor a range with a hole.
    @Test("concurrent readers never see a torn row (seqlock)")
    func concurrentReaders() {
        let signals = 6
        let ring = SeriesRing(capacity: 64, signalCount: signals)
        let rows: Int64 = 100_000
        let shared = SharedCounters()
        let qualities: [PointQuality] = [.ok, .timeout, .stale, .notImplemented, .communicationFailure]
        @Sendable func check(_ row: SeriesRow) -> Bool {
            row.values.allSatisfy { $0 == Double(row.timestampMS) }
                && row.qualities.allSatisfy { $0 == qualities[Int(row.timestampMS % 5)] }
        }
        // Real threads, not the cooperative pool or Dispatch: the writer waits for the readers.
        var threads: [Thread] = []
        threads.append(Thread {
            while shared.readersStarted.load(ordering: .acquiring) < 2 {}  // overlap with the readers
            var values = [Double](repeating: 0, count: signals)
            var q = [PointQuality](repeating: .ok, count: signals)
            for t in 1...rows {
                for i in 0..<signals {
                    values[i] = Double(t)
                    q[i] = qualities[Int(t % 5)]
                }
                ring.append(timestampMS: t, values: values, qualities: q)
            }
            shared.done.store(true, ordering: .releasing)
            shared.finished.add(1, ordering: .releasing)
        })
        for reader in 0..<2 {
            threads.append(Thread {
                var n = 0
                shared.readersStarted.add(1, ordering: .releasing)
                while !shared.done.load(ordering: .acquiring) {
                    if let row = ring.latest(), !check(row) { shared.torn.add(1, ordering: .relaxed) }
                    let newest = ring.latest()?.timestampMS ?? 0
                    let from = newest - Int64(reader == 0 ? 8 : 70)
                    let range = ring.read(fromMS: from, toMS: newest + 1000)
                    for (i, row) in range.enumerated() where !check(row) || (i > 0 && row.timestampMS != range[i - 1].timestampMS + 1) {
                        shared.torn.add(1, ordering: .relaxed)
                    }
                    n += 1
                }
                shared.reads.add(n, ordering: .relaxed)
                shared.finished.add(1, ordering: .releasing)
            })
        }
        for thread in threads { thread.start() }
        while shared.finished.load(ordering: .acquiring) < 3 { usleep(1000) }
        #expect(shared.torn.load(ordering: .relaxed) == 0)
        #expect(shared.reads.load(ordering: .relaxed) > 0)
        #expect(ring.latest()?.timestampMS == rows)
        #expect(ring.count == 64)
    }
}

/// Flags and counters shared between the threads of the concurrency test.
private final class SharedCounters: Sendable {
    let done = Atomic<Bool>(false)
    let torn = Atomic<Int>(0)
    let reads = Atomic<Int>(0)
    let readersStarted = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
}
