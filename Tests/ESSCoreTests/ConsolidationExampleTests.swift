import ESSCore
import Testing

/// Small hand-checked cases of `SeriesConsolidator`: when slots close, what a held value
/// reports, energy across a zero crossing, gaps, resets and clock steps.
@Suite("SeriesConsolidator examples")
struct ConsolidationExampleTests {
    static let tiers = [TierDefinition(name: "raw", slotMS: 0, retentionMS: 60_000), TierDefinition(name: "10s", slotMS: 10_000, retentionMS: 600_000)]

    /// Power (heartbeat 3 s), a charge counter and a value kept only in the raw tier.
    static let schema = SeriesSchema(
        groupID: "pcs1",
        signals: [
            SignalDefinition(name: "p", role: .activePowerKW, heartbeatMS: 3000, tiers: ["raw", "10s"]),
            SignalDefinition(name: "chg", role: .chargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["raw", "10s"]),
            SignalDefinition(name: "x", role: .other, heartbeatMS: 3000, tiers: ["raw"]),
        ],
        energy: EnergySources(activePower: 0, chargeCounter: 1))

    @discardableResult
    static func feed(
        _ c: inout SeriesConsolidator, _ t: Int64, _ p: Double, _ counter: Double, _ q: PointQuality = .ok,
        into out: inout [ConsolidatedSlot]
    ) -> IngestOutcome {
        c.ingest(timestampMS: t, values: [p, counter, 1], qualities: [q, .ok, .ok]) { out.append($0) }
    }

    @Test("a slot closes at the first sample at or past its end, not before")
    func closesAtBoundary() {
        var c = SeriesConsolidator(schema: Self.schema, tiers: Self.tiers)
        var out: [ConsolidatedSlot] = []
        for t in stride(from: Int64(0), through: 9000, by: 1000) { Self.feed(&c, t, 10, 0, into: &out) }
        #expect(out.isEmpty)
        Self.feed(&c, 10_000, 10, 0, into: &out)
        #expect(out.map(\.startMS) == [0])
        let slot = out[0]
        #expect(slot.signals[0] == SlotSummary(count: 10, coveredMS: 10_000, min: 10, max: 10, mean: 10, first: 10, last: 10))
        #expect(slot.signals[2].isUnknown && slot.signals[2].mean.isNaN, "not kept in 10s: unknown, NaN")
        #expect(isClose(slot.energy?.integratedDischargeKWh, 10.0 * 10 / 3600))
        #expect(slot.energy?.integratedChargeKWh == 0)
        #expect(slot.energy?.integratedMS == 10_000)
        #expect(slot.energy?.unaccountedMS == 0)
        #expect(slot.energy?.counterChargeKWh == 0, "counter flat: zero deltas, known")
        #expect(slot.energy?.counterDischargeKWh.isNaN == true, "no discharge counter: NaN")
    }

    @Test("a slot covered only by a held value reports it, with count 0")
    func heldOnly() {
        var c = SeriesConsolidator(schema: Self.schema, tiers: [TierDefinition(name: "10s", slotMS: 1000, retentionMS: 60_000)])
        var out: [ConsolidatedSlot] = []
        Self.feed(&c, 500, 7, 0, into: &out)
        Self.feed(&c, 3000, 7, 0, into: &out)
        // Hold of the 500 ms sample: [500, 3000) capped at 3500 → [500, 3000).
        #expect(out.map(\.startMS) == [0, 1000, 2000])
        #expect(out[1].signals[0] == SlotSummary(count: 0, coveredMS: 1000, min: 7, max: 7, mean: 7, first: 7, last: 7))
        #expect(out[0].signals[0].count == 1 && out[0].signals[0].coveredMS == 500)
    }

    @Test("energy splits at the zero crossing and at slot boundaries")
    func zeroCrossing() {
        var c = SeriesConsolidator(schema: Self.schema, tiers: Self.tiers)
        var out: [ConsolidatedSlot] = []
        // From +30 kW at 8 s to -10 kW at 10.5 s: 2.5 s apart, within the 3 s heartbeat.
        Self.feed(&c, 8000, 30, 0, into: &out)
        Self.feed(&c, 10_500, -10, 0, into: &out)
        Self.feed(&c, 20_000, -10, 0, into: &out)  // 9.5 s later: a gap
        #expect(out.map(\.startMS) == [0, 10_000])
        // Crossing at 8000 + 2500 × 30/40 = 9875 ms. Slot 0: +30 → 0 over 1875 ms, and 0 → -2 over 125 ms.
        let e0 = out[0].energy!
        #expect(isClose(e0.integratedDischargeKWh, 30 / 2 * 1.875 / 3600))
        #expect(isClose(e0.integratedChargeKWh, 2 / 2 * 0.125 / 3600))
        #expect(e0.integratedMS == 2000 && e0.unaccountedMS == 0)
        // Slot 1: -2 → -10 over 500 ms, then a gap from 10.5 s to 20 s.
        let e1 = out[1].energy!
        #expect(isClose(e1.integratedChargeKWh, 6 * 0.5 / 3600))
        #expect(e1.integratedDischargeKWh == 0)
        #expect(e1.integratedMS == 500 && e1.unaccountedMS == 9500)
    }

    @Test("a non-ok power sample makes the interval a gap; before the first sample nothing is counted")
    func nonOkGap() {
        var c = SeriesConsolidator(schema: Self.schema, tiers: Self.tiers)
        var out: [ConsolidatedSlot] = []
        Self.feed(&c, 1000, 5, 0, .timeout, into: &out)
        Self.feed(&c, 2000, 5, 0, into: &out)
        Self.feed(&c, 3000, .nan, 0, .communicationFailure, into: &out)
        Self.feed(&c, 4000, 5, 0, into: &out)
        Self.feed(&c, 5000, 5, 0, .stale, into: &out)
        Self.feed(&c, 6000, 5, 0, into: &out)
        c.flush(untilMS: 9000) { out.append($0) }
        #expect(out.count == 0)
        c.flush(untilMS: 10_000) { out.append($0) }
        #expect(out.count == 1, "more than a heartbeat after 6 s: a gap, and the slot closes")
        let e = out[0].energy!
        #expect(e.integratedMS == 2000, "4 s → 6 s, the stale sample at 5 s ignored")
        #expect(e.unaccountedMS == 2000 + 4000, "2 s → 4 s (non-ok between) and 6 s → 10 s")
        #expect(out[0].signals[0].count == 3)
        #expect(out[0].signals[0].coveredMS == 1000 + 2000 + 3000)
    }

    @Test("a flush exactly one heartbeat after the last power sample leaves the interval open")
    func flushAtHeartbeat() {
        var c = SeriesConsolidator(schema: Self.schema, tiers: [TierDefinition(name: "1s", slotMS: 1000, retentionMS: 60_000)])
        var out: [ConsolidatedSlot] = []
        Self.feed(&c, 0, 36, 0, into: &out)
        c.flush(untilMS: 3000) { out.append($0) }
        #expect(out.isEmpty)
        Self.feed(&c, 3000, 36, 0, into: &out)
        #expect(out.count == 3)
        #expect(out.allSatisfy { $0.energy!.integratedMS == 1000 && isClose($0.energy!.integratedDischargeKWh, 0.01) })
    }

    @Test("counter resets count, give no energy, and counting continues from the new value")
    func counterReset() {
        var c = SeriesConsolidator(schema: Self.schema, tiers: Self.tiers)
        var out: [ConsolidatedSlot] = []
        for (t, counter) in [(0, 100.0), (1000, 101.5), (2000, 3.0), (3000, 4.0), (11_000, 4.25)] {
            Self.feed(&c, Int64(t), -1, counter, into: &out)
        }
        c.flush(untilMS: 30_000) { out.append($0) }
        #expect(out[0].energy!.counterChargeKWh == 2.5)
        #expect(out[0].energy!.counterResets == 1)
        #expect(out[1].energy!.counterChargeKWh == 0.25)
        #expect(out[2].energy!.counterChargeKWh.isNaN, "no delta in the slot: unknown")
        #expect(out[2].signals[0].isUnknown && out[2].signals[0].min.isNaN)
    }

    @Test("clock steps are held back and never rewrite emitted slots")
    func clockStep() {
        var c = SeriesConsolidator(schema: Self.schema, tiers: Self.tiers)
        var out: [ConsolidatedSlot] = []
        #expect(Self.feed(&c, 15_000, 1, 0, into: &out) == .accepted)
        #expect(Self.feed(&c, 21_000, 1, 0, into: &out) == .accepted)
        #expect(out.map(\.startMS) == [10_000])
        #expect(Self.feed(&c, 12_000, 99, 0, into: &out) == .heldBackClockStep(lastMS: 21_000))
        #expect(Self.feed(&c, 21_000, 99, 0, into: &out) == .heldBackClockStep(lastMS: 21_000))
        #expect(Self.feed(&c, 22_000, 1, 0, into: &out) == .accepted)
        c.flush(untilMS: 40_000) { out.append($0) }
        #expect(out.map(\.startMS) == [10_000, 20_000, 30_000])
        #expect(out[1].signals[0].max == 1)
        c.flush(untilMS: 50_000) { out.append($0) }
        #expect(Self.feed(&c, 45_000, 1, 0, into: &out) == .heldBackClockStep(lastMS: 50_000))
    }

    @Test("openSlots shows the current partial slot without changing state")
    func openSlots() {
        var c = SeriesConsolidator(schema: Self.schema, tiers: Self.tiers)
        var out: [ConsolidatedSlot] = []
        #expect(c.openSlots(nowMS: 0).isEmpty)
        Self.feed(&c, 1000, 4, 0, into: &out)
        Self.feed(&c, 2000, 8, 0, into: &out)
        let open = c.openSlots(nowMS: 2500)
        #expect(open.count == 1)
        #expect(open[0].startMS == 0)
        #expect(open[0].signals[0] == SlotSummary(count: 2, coveredMS: 1500, min: 4, max: 8, mean: (4 * 1000 + 8 * 500) / 1500.0, first: 4, last: 8))
        Self.feed(&c, 3000, 8, 0, into: &out)
        #expect(out.isEmpty)
    }
}
