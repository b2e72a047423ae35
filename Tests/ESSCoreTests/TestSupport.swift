import ESSCore
import ESSTestSupport

/// Decodes a numeric point whose registers start at `words[offset]`.
func decode(_ point: PointDefinition, _ words: [UInt16], offset: Int = 0, scaleFactorExponent: Int16? = nil) -> Double? {
    words.withUnsafeBufferPointer {
        RegisterDecoder.decodeNumber(point, words: $0, offset: offset, scaleFactorExponent: scaleFactorExponent)
    }
}

/// The decoder's raw bits for a point whose registers start at `words[0]`.
func rawBits(_ point: PointDefinition, _ words: [UInt16]) -> UInt64 {
    words.withUnsafeBufferPointer { RegisterDecoder.rawBits(point, words: $0, offset: 0) }
}

/// Decodes a string point whose registers start at `words[0]`.
func decodeText(_ point: PointDefinition, _ words: [UInt16]) -> String {
    words.withUnsafeBufferPointer { RegisterDecoder.decodeText(point, words: $0, offset: 0) }
}

/// Powers of ten written out, independent of `RegisterDecoder.powerOfTen`.
let powersOfTen: [Int: Double] = [-3: 0.001, -2: 0.01, -1: 0.1, 0: 1, 1: 10, 2: 100, 3: 1000]

/// Equal within `relative` of the larger magnitude (or exactly equal, including both NaN).
func isClose(_ a: Double?, _ b: Double?, relative: Double = 1e-12) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a == b { return true }
    return abs(a - b) <= relative * max(abs(a), abs(b))
}

/// The slots a stream gives fed one sample at a time and fed in random batches of 1...`maxBatch`
/// rows, each flushed until `flushMS`: what the batched-ingest tests compare.
func perSampleAndBatchedSlots(
    schema: SeriesSchema, tiers: [TierDefinition], times: [Int64], values: [Double], qualities: [PointQuality],
    maxBatch: Int, flushMS: Int64, rng: inout SplitMix64
) -> (perSample: [ConsolidatedSlot], batched: [ConsolidatedSlot]) {
    let width = schema.signals.count
    var single = SeriesConsolidator(schema: schema, tiers: tiers)
    var batched = SeriesConsolidator(schema: schema, tiers: tiers)
    var expected: [ConsolidatedSlot] = []
    var got: [ConsolidatedSlot] = []
    for (i, time) in times.enumerated() {
        single.ingest(
            timestampMS: time, values: Array(values[(i * width)..<(i * width + width)]),
            qualities: Array(qualities[(i * width)..<(i * width + width)])
        ) { expected.append($0) }
    }
    var start = 0
    while start < times.count {
        let end = min(times.count, start + Int.random(in: 1...maxBatch, using: &rng))
        batched.ingest(
            timestampsMS: Array(times[start..<end]), values: Array(values[(start * width)..<(end * width)]),
            qualities: Array(qualities[(start * width)..<(end * width)])
        ) { got.append($0) }
        start = end
    }
    single.flush(untilMS: flushMS) { expected.append($0) }
    batched.flush(untilMS: flushMS) { got.append($0) }
    return (expected, got)
}
