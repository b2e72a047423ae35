import ESSCore
import Testing

@testable import ESSStore

@Suite struct SlotCodecTests {
    @Test func randomSummariesRoundTripWithinDocumentedPrecision() {
        var random = SeededRandom(state: 42)
        var bytes = [UInt8](repeating: 0, count: 16)
        for _ in 0..<5_000 {
            let scale = [0.01, 1, 100, 10_000, 1e6].randomElement(using: &random)!
            let mean = Double.random(in: -scale...scale, using: &random)
            let spread = Double.random(in: 0...scale, using: &random)
            let summary = SlotSummary(
                count: Int.random(in: 1...70_000, using: &random),
                coveredMS: Int64.random(in: 1...60_000, using: &random),
                min: mean - spread, max: mean + spread / 2, mean: mean, first: mean - spread / 3,
                last: mean + spread / 5)
            let decoded = bytes.withUnsafeMutableBytes { buffer in
                SlotCodec.encode(summary, slotMS: 60_000, to: buffer.baseAddress!)
                return SlotCodec.decode(buffer.baseAddress!, slotMS: 60_000)
            }
            var expected = summary
            expected.count = min(summary.count, 65535)
            #expect(isClose(expected, decoded, slotMS: 60_000), "\(summary) → \(decoded)")
        }
    }

    @Test func unknownStaysUnknownAndTinyCoverageStaysPositive() {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { buffer in
            SlotCodec.encode(.unknown, slotMS: 60_000, to: buffer.baseAddress!)
            #expect(SlotCodec.decode(buffer.baseAddress!, slotMS: 60_000).isUnknown)
        }
        #expect(SlotCodec.coverage(1, of: 86_400_000) == 1)
        #expect(SlotCodec.coverage(0, of: 86_400_000) == 0)
        #expect(SlotCodec.coverage(60_000, of: 60_000) == 4095)
        #expect(SlotCodec.fraction(1, of: 86_400_000) == 1)
        #expect(SlotCodec.fraction(0, of: 86_400_000) == 0)
        #expect(SlotCodec.fraction(60_000, of: 60_000) == 65535)
    }

    /// Format 2 keeps first and last as positions in [min, max]: decoded, min ≤ first, last ≤ max
    /// always, the ends exactly, and a held-only slot (all five equal) decodes all equal.
    @Test func firstAndLastStayInsideMinMax() {
        var random = SeededRandom(state: 7)
        var bytes = [UInt8](repeating: 0, count: 14)
        for _ in 0..<5_000 {
            let scale = [0.01, 1, 100, 1e6, 1e9].randomElement(using: &random)!
            let low = Double.random(in: -scale...scale, using: &random)
            let high = low + Double.random(in: 0...scale, using: &random)
            let mean = Double.random(in: (low - scale)...(high + scale), using: &random)
            let ends = [low, high, Double.random(in: low...high, using: &random)]
            let summary = SlotSummary(
                count: 5, coveredMS: 30_000, min: low, max: high, mean: mean,
                first: ends.randomElement(using: &random)!,
                last: ends.randomElement(using: &random)!)
            let decoded = bytes.withUnsafeMutableBytes { buffer in
                SlotCodec.encode(summary, slotMS: 60_000, to: buffer.baseAddress!)
                return SlotCodec.decode(buffer.baseAddress!, slotMS: 60_000)
            }
            #expect(decoded.min <= decoded.first && decoded.first <= decoded.max, "\(summary) → \(decoded)")
            #expect(decoded.min <= decoded.last && decoded.last <= decoded.max, "\(summary) → \(decoded)")
            if summary.first == low { #expect(decoded.first == decoded.min) }
            if summary.last == high { #expect(decoded.last == decoded.max) }
        }
        let held = SlotSummary(count: 0, coveredMS: 12_000, min: 41.5, max: 41.5, mean: 41.5, first: 41.5, last: 41.5)
        let decoded = bytes.withUnsafeMutableBytes { buffer in
            SlotCodec.encode(held, slotMS: 60_000, to: buffer.baseAddress!)
            return SlotCodec.decode(buffer.baseAddress!, slotMS: 60_000)
        }
        #expect(decoded == held)
    }

    @Test func qualityCodesRoundTrip() {
        for quality in [
            PointQuality.ok, .timeout, .stale, .notImplemented, .communicationFailure, .exception(2), .exception(11),
        ] {
            #expect(RawQualityCode.quality(RawQualityCode.code(quality)) == quality)
        }
        #expect(RawQualityCode.quality(RawQualityCode.notStored) == nil)
    }
}
