import ESSTestSupport
import ESSTestSupport
import Testing

@testable import ESSCore

/// The batched fast lane works each accumulator through a run of rows on its own (min and max
/// of the run merged into the slot's). These streams stress what that could get wrong: ties
/// between equal values and between 0.0 and -0.0 (which one `min`/`max` keeps shows in the
/// bytes), and a signal kept in more tiers than the lane takes in one pass (four).
@Suite("SeriesConsolidator fast lane")
struct ConsolidationRunTests {
    static func bits(_ slot: ConsolidatedSlot) -> [UInt64] {
        var result: [UInt64] = [UInt64(bitPattern: slot.startMS)]
        for s in slot.signals {
            result += [
                UInt64(s.count), UInt64(bitPattern: s.coveredMS), s.min.bitPattern, s.max.bitPattern,
                s.mean.bitPattern, s.first.bitPattern, s.last.bitPattern,
            ]
        }
        if let e = slot.energy {
            result += [
                e.integratedChargeKWh.bitPattern, e.integratedDischargeKWh.bitPattern,
                UInt64(bitPattern: e.integratedMS),
                UInt64(bitPattern: e.unaccountedMS), e.counterChargeKWh.bitPattern, e.counterDischargeKWh.bitPattern,
                UInt64(e.counterResets),
            ]
        }
        return result
    }

    @Test(arguments: [1 as UInt64, 2, 3])
    func tiesSignedZerosAndManyTiersBatchedEqualsPerSampleBitForBit(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let tiers = [
            TierDefinition(name: "10s", slotMS: 10_000, retentionMS: 86_400_000),
            TierDefinition(name: "30s", slotMS: 30_000, retentionMS: 86_400_000),
            TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 86_400_000),
            TierDefinition(name: "5m", slotMS: 300_000, retentionMS: 86_400_000),
            TierDefinition(name: "15m", slotMS: 900_000, retentionMS: 86_400_000),
            TierDefinition(name: "1h", slotMS: 3_600_000, retentionMS: 86_400_000),
        ]
        let all = Set(tiers.map(\.name))
        let schema = SeriesSchema(
            groupID: "g",
            signals: [
                SignalDefinition(name: "p", role: .activePowerKW, heartbeatMS: 3000, tiers: all),
                SignalDefinition(name: "z", role: .other, heartbeatMS: 3000, tiers: all),
                SignalDefinition(name: "y", role: .other, heartbeatMS: 0, tiers: ["10s", "1m", "5m", "15m", "1h"]),
                SignalDefinition(name: "x", role: .other, heartbeatMS: 2000, tiers: []),
            ],
            energy: EnergySources(activePower: 0))
        let palette: [Double] = [0.0, -0.0, 1.0, -1.0, 1.0, 0.0, -0.0]
        var t: Int64 = 1_700_000_000_000
        var times: [Int64] = []
        var values: [Double] = []
        var qualities: [PointQuality] = []
        for _ in 0..<6000 {
            let roll = Int.random(in: 0..<400, using: &rng)
            t += roll == 0 ? 9000 : roll == 1 ? 2500 : 1000
            times.append(t)
            for _ in 0..<4 { values.append(palette[Int.random(in: 0..<palette.count, using: &rng)]) }
            var q = [PointQuality](repeating: .ok, count: 4)
            if Int.random(in: 0..<300, using: &rng) == 0 { q[Int.random(in: 0..<4, using: &rng)] = .timeout }
            qualities += q
        }
        let (expected, got) = perSampleAndBatchedSlots(
            schema: schema, tiers: tiers, times: times, values: values, qualities: qualities, maxBatch: 900,
            flushMS: t + 7_200_000, rng: &rng)
        #expect(got.count == expected.count && expected.count > 500)
        for (a, b) in zip(got, expected) where a.tier != b.tier || Self.bits(a) != Self.bits(b) {
            Issue.record("seed \(seed): batched \(a) differs from per-sample \(b)")
            break
        }
    }
}

