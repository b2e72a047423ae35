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
        #expect(SlotCodec.fraction(1, of: 86_400_000) == 1)
        #expect(SlotCodec.fraction(0, of: 86_400_000) == 0)
        #expect(SlotCodec.fraction(60_000, of: 60_000) == 65535)
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
