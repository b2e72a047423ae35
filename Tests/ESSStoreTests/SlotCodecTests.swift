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
            expected.count = min(summary.count, SlotCodec.countLimit)
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

    static func roundTrip(_ summary: SlotSummary, slotMS: Int64 = 900_000) -> SlotSummary {
        var bytes = [UInt8](repeating: 0, count: 14)
        return bytes.withUnsafeMutableBytes { buffer in
            SlotCodec.encode(summary, slotMS: slotMS, to: buffer.baseAddress!)
            return SlotCodec.decode(buffer.baseAddress!, slotMS: slotMS)
        }
    }

    /// Issue 12, finding 2: a 0/1 signal that changes inside a slot read back min 1.6e-5 instead
    /// of 0, so a 15-minute outage inside a slot vanished. Booleans, bits and states keep min,
    /// max, first and last exactly (format 4). Means are time fractions written by hand.
    @Test(
        "integer-valued slots read back exactly",
        arguments: [
            // available: 1 for 14 min 59.5 s then 0 (the slot where an outage starts)
            SlotSummary(count: 900, coveredMS: 900_000, min: 0, max: 1, mean: 899.5 / 900, first: 1, last: 0),
            // available: 0 for 1 s then 1 (the slot where it ends)
            SlotSummary(count: 900, coveredMS: 900_000, min: 0, max: 1, mean: 899.0 / 900, first: 0, last: 1),
            // fault bit on for 1 s of 15 min
            SlotSummary(count: 900, coveredMS: 900_000, min: 0, max: 1, mean: 1.0 / 900, first: 0, last: 0),
            // an operating state 2 → 5 → 3
            SlotSummary(count: 900, coveredMS: 600_000, min: 2, max: 5, mean: 3.7, first: 2, last: 3),
            // a state word spanning 0...40000 with first and last at the ends
            SlotSummary(count: 12, coveredMS: 900_000, min: 0, max: 40_000, mean: 20_000.25, first: 40_000, last: 0),
            // negative integers (a signed status)
            SlotSummary(count: 3, coveredMS: 900_000, min: -7, max: -1, mean: -3.5, first: -1, last: -6),
            // a held-only 0 (all five equal)
            SlotSummary(count: 0, coveredMS: 300_000, min: 0, max: 0, mean: 0, first: 0, last: 0),
            // a large integer counter reading held in the slot
            SlotSummary(count: 60, coveredMS: 900_000, min: 16_000_000, max: 16_000_900, mean: 16_000_450.4, first: 16_000_000, last: 16_000_900),
        ])
    func integerSlotsAreExact(_ summary: SlotSummary) {
        let decoded = Self.roundTrip(summary)
        #expect(decoded.min == summary.min)
        #expect(decoded.max == summary.max)
        #expect(decoded.first == summary.first)
        #expect(decoded.last == summary.last)
        #expect(decoded.count == summary.count)
        #expect(Double(Float(summary.mean)) == decoded.mean)
        // Time at the upper value of a 0/1 slot: mean × covered, to the millisecond.
        if summary.min == 0, summary.max == 1 {
            let upMS = (decoded.mean * Double(decoded.coveredMS)).rounded()
            let expectedUpMS = (summary.mean * Double(summary.coveredMS)).rounded()
            #expect(upMS == expectedUpMS)
        }
    }

    /// Slots the exact form cannot hold go the general way and stay within its precision: a
    /// fraction, a state word spanning more than 1023 whose first is inside, integers beyond 2²⁴.
    @Test(
        "slots the exact form cannot hold are stored the general way",
        arguments: [
            SlotSummary(count: 5, coveredMS: 900_000, min: 0, max: 1.5, mean: 0.7, first: 0, last: 1.5),
            SlotSummary(count: 5, coveredMS: 900_000, min: 0, max: 5000, mean: 2000, first: 1234, last: 0),
            SlotSummary(count: 5, coveredMS: 900_000, min: 20_000_000, max: 20_000_002, mean: 20_000_001, first: 20_000_000, last: 20_000_002),
        ])
    func nonExactSlotsStayGeneral(_ summary: SlotSummary) {
        var bytes = [UInt8](repeating: 0, count: 14)
        bytes.withUnsafeMutableBytes { buffer in
            SlotCodec.encode(summary, slotMS: 900_000, to: buffer.baseAddress!)
        }
        let countBits = UInt16(bytes[12]) | UInt16(bytes[13]) << 8
        #expect(countBits & 0x8000 == 0)
        let decoded = Self.roundTrip(summary)
        #expect(isClose(summary, decoded, slotMS: 900_000), "\(summary) → \(decoded)")
    }

    /// Random integer-valued slots: exact whenever the form applies; counts saturate at 32767
    /// without touching the exact mark.
    @Test func randomIntegerSlotsRoundTripExactly() {
        var random = SeededRandom(state: 12)
        for _ in 0..<5_000 {
            let low = Double(Int.random(in: -3...1_000, using: &random))
            let high = low + Double(Int.random(in: 0...900, using: &random))
            let values = [low, high, Double(Int.random(in: Int(low)...Int(high), using: &random))]
            let summary = SlotSummary(
                count: Int.random(in: 0...70_000, using: &random), coveredMS: Int64.random(in: 1...900_000, using: &random),
                min: low, max: high, mean: Double.random(in: low...high, using: &random),
                first: values.randomElement(using: &random)!, last: values.randomElement(using: &random)!)
            let decoded = Self.roundTrip(summary)
            let expected = (summary.min, summary.max, summary.first, summary.last, min(summary.count, 32767))
            let got = (decoded.min, decoded.max, decoded.first, decoded.last, decoded.count)
            #expect(expected == got, "\(summary) → \(decoded)")
        }
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
