import ESSCore
import ESSTestSupport
import Testing

@testable import ESSCriteria

/// `IndicatorAccumulator` fed one step at a time (as essctl and the exporter feed it from the
/// store, a day at a time) gives exactly the whole-window report of `Indicators.compute`, on
/// seeded random gappy histories; and missing data never passes.
@Suite("Indicators: streamed equals whole window")
struct IndicatorAccumulatorTests {
    static func signal(_ name: String, _ role: SignalRole) -> SignalDefinition {
        SignalDefinition(name: name, role: role, heartbeatMS: 180_000, tiers: ["1m", "15m"])
    }

    /// A PCS with power and counters (an energy group when a meter is configured), a second PCS
    /// with power only, and a BMS; the site group and the meter from `SyntheticHistory`.
    static let pcs = SeriesSchema(
        groupID: "pcs1",
        signals: [
            signal("p", .activePowerKW), signal("c", .chargeEnergyTotalKWh), signal("d", .dischargeEnergyTotalKWh),
            signal("fault", .fault), signal("alarm", .alarmWord), signal("serial", .identity),
        ],
        energy: EnergySources(activePower: 0, chargeCounter: 1, dischargeCounter: 2))
    static let pcs2 = SeriesSchema(groupID: "pcs2", signals: [signal("p", .activePowerKW)], energy: EnergySources(activePower: 0))

    /// Random slots of `schema` around [from, to): a `gap` share of slots missing, some signals
    /// unknown, counters that step and sometimes reset, random energy with NaNs; shuffled.
    static func slots(
        _ schema: SeriesSchema, from: Int64, to: Int64, slotMS: Int64, gap: Double, rng: inout SplitMix64
    ) -> [ConsolidatedSlot] {
        var out: [ConsolidatedSlot] = []
        var counter = Double.random(in: 0...100, using: &rng)
        var t = from - 2 * slotMS
        while t < to + 2 * slotMS {
            defer { t += slotMS }
            if Double.random(in: 0...1, using: &rng) < gap { continue }
            let summaries: [SlotSummary] = schema.signals.map { s in
                if Double.random(in: 0...1, using: &rng) < gap / 2 { return .unknown }
                let covered = Int64.random(in: 0...slotMS, using: &rng)
                let v: Double
                switch s.role {
                case .socPercent: v = Double.random(in: 5...95, using: &rng)
                case .activePowerKW: v = Double.random(in: -600...600, using: &rng)
                case .available: v = Int.random(in: 0...4, using: &rng) == 0 ? 0 : 1
                case .fault, .alarmWord: v = Int.random(in: 0...20, using: &rng) == 0 ? 1 : 0
                case .cellTempMaxC: v = Double.random(in: 20...50, using: &rng)
                case .cellVoltageMaxV, .cellVoltageMinV: v = Double.random(in: 2.4...3.7, using: &rng)
                case .chargeEnergyTotalKWh, .dischargeEnergyTotalKWh, .meterImportEnergyTotalKWh, .meterExportEnergyTotalKWh:
                    if Int.random(in: 0...200, using: &rng) == 0 { counter = 0 }
                    let first = counter
                    counter += Double.random(in: 0...3, using: &rng)
                    return SlotSummary(count: 3, coveredMS: covered, min: first, max: counter, mean: (first + counter) / 2, first: first, last: counter)
                default: v = Double.random(in: 0...10, using: &rng)
                }
                let low = v - Double.random(in: 0...2, using: &rng)
                return SlotSummary(count: 2, coveredMS: covered, min: low, max: v + 1, mean: v, first: low, last: v)
            }
            let energy: EnergySummary? =
                schema.energy.hasEnergy
                ? EnergySummary(
                    counterChargeKWh: Int.random(in: 0...5, using: &rng) == 0 ? .nan : Double.random(in: 0...5, using: &rng),
                    counterDischargeKWh: Double.random(in: 0...5, using: &rng),
                    counterResets: Int.random(in: 0...10, using: &rng) == 0 ? 1 : 0,
                    integratedChargeKWh: Int.random(in: 0...8, using: &rng) == 0 ? .nan : Double.random(in: 0...5, using: &rng),
                    integratedDischargeKWh: Double.random(in: 0...5, using: &rng), integratedMS: Int64.random(in: 0...slotMS, using: &rng))
                : nil
            out.append(ConsolidatedSlot(groupID: schema.groupID, tier: "1m", startMS: t, signals: summaries, energy: energy))
        }
        out.shuffle(using: &rng)
        return out
    }

    /// A random window, groups, maintenance and history for `seed`.
    static func input(seed: UInt64) -> IndicatorInput {
        var rng = SplitMix64(seed: seed)
        let slotMS: Int64 = Bool.random(using: &rng) ? 60_000 : 900_000
        let start = SyntheticHistory.march1 + Int64.random(in: -500...500, using: &rng) * slotMS
        let steps = Int64.random(in: 0...(slotMS == 60_000 ? 4000 : 600), using: &rng)
        // Sometimes a last slot cut short.
        let end = start + steps * slotMS - (Bool.random(using: &rng) ? Int64.random(in: 0..<slotMS, using: &rng) : 0)
        let gap = [0.0, 0.05, 0.3, 0.9][Int.random(in: 0...3, using: &rng)]
        let withMeter = Bool.random(using: &rng)
        let deviceSchemas = [pcs, pcs2, SyntheticHistory.bms].filter { _ in Int.random(in: 0...3, using: &rng) > 0 }
        let devices = deviceSchemas.map {
            GroupSeries(schema: $0, slots: slots($0, from: start, to: end, slotMS: slotMS, gap: gap, rng: &rng), tier: "1m")
        }
        let site = GroupSeries(
            schema: SyntheticHistory.site, slots: slots(SyntheticHistory.site, from: start, to: end, slotMS: slotMS, gap: gap, rng: &rng),
            tier: "1m")
        let meter = GroupSeries(
            schema: SyntheticHistory.meter,
            slots: slots(SyntheticHistory.meter, from: start, to: end, slotMS: slotMS, gap: gap, rng: &rng), tier: "1m")
        let maintenance = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            let a = start + Int64.random(in: 0...max(1, end - start), using: &rng)
            return MaintenanceWindow(startMS: a, endMS: a + Int64.random(in: 0...86_400_000, using: &rng))
        }
        return IndicatorInput(
            windowStartMS: start, windowEndMS: end, slotMS: slotMS, facts: SyntheticHistory.facts, site: site, devices: devices,
            energyGroupIDs: withMeter ? deviceSchemas.filter { $0.energy.hasEnergy }.map(\.groupID) : [],
            meter: withMeter ? meter : nil, maintenance: maintenance)
    }

    /// Feeds `input`'s slots step by step through the public API, as a store reader would:
    /// a chunk of `chunkSteps` steps at a time, each group's slots placed by start time; runs
    /// of steps with no slot at all are skipped with `addMissing(untilMS:)`, and a trailing run
    /// is left for `finish()`.
    static func streamed(
        _ input: IndicatorInput, tariff: TariffCalendar?, chunkSteps: Int, onDay: IndicatorAccumulator.DayHandler? = nil
    ) -> IndicatorReport {
        var accumulator = IndicatorAccumulator(input, tariff: tariff, onDayClosed: onDay)
        let groups = [input.site] + input.devices + (input.meter.map { [$0] } ?? [])
        var byStart: [[Int64: ConsolidatedSlot]] = groups.map { _ in [:] }
        for (g, group) in groups.enumerated() {
            for slot in group.slots where slot.startMS >= input.windowStartMS && slot.startMS < input.windowEndMS {
                // The step's start (a slot not on the grid belongs to the step it starts in); the last wins.
                let step = (slot.startMS - input.windowStartMS) / input.slotMS
                byStart[g][input.windowStartMS + step * input.slotMS] = slot
            }
        }
        let lastWithData = byStart.flatMap(\.keys).max()
        var chunkStart = 0
        while chunkStart < accumulator.stepCount {
            let chunkEnd = min(accumulator.stepCount, chunkStart + chunkSteps)
            for i in chunkStart..<chunkEnd {
                let t = input.windowStartMS + Int64(i) * input.slotMS
                guard let lastWithData, t <= lastWithData else { return accumulator.finish() }
                let cells = byStart.map { $0[t] }
                if cells.allSatisfy({ $0 == nil }) {
                    accumulator.addMissing(untilMS: t + input.slotMS)
                    continue
                }
                #expect(accumulator.nextStepStartMS == t)
                accumulator.add(
                    site: cells[0], devices: Array(cells[1..<(1 + input.devices.count)]),
                    meter: input.meter == nil ? nil : cells[groups.count - 1])
            }
            chunkStart = chunkEnd
        }
        return accumulator.finish()
    }

    /// Equal field by field, NaN equal to NaN (a report's `==` says NaN ≠ NaN).
    static func same(_ a: IndicatorReport, _ b: IndicatorReport) -> Bool {
        func eq(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        guard a.values.count == b.values.count, a.dischargeEvents.count == b.dischargeEvents.count else { return false }
        for (x, y) in zip(a.values, b.values) {
            guard x.id == y.id, eq(x.value, y.value), eq(x.coverage, y.coverage), x.status == y.status, x.notes == y.notes,
                x.unit == y.unit, x.formula == y.formula
            else { return false }
        }
        for (x, y) in zip(a.dischargeEvents, b.dischargeEvents) {
            guard x.startMS == y.startMS, x.endMS == y.endMS, eq(x.socStartPercent, y.socStartPercent),
                eq(x.socEndPercent, y.socEndPercent), x.complete == y.complete
            else { return false }
        }
        return a.signalCompleteness == b.signalCompleteness && a.dayCompleteness == b.dayCompleteness
            && a.windowStartMS == b.windowStartMS && a.windowEndMS == b.windowEndMS && a.tariffID == b.tariffID
    }

    @Test("streamed equals whole window on seeded random gappy histories", arguments: 0..<60)
    func streamedEqualsWhole(seed: Int) {
        let input = Self.input(seed: UInt64(seed))
        let whole = Indicators.compute(input, tariff: BuiltInTariffs.guangdong2021)
        var days: [DayCompleteness] = []
        let chunk = [1, 7, 96, 1440][seed % 4]
        let streamed = Self.streamed(input, tariff: BuiltInTariffs.guangdong2021, chunkSteps: chunk) { days.append($0) }
        #expect(Self.same(whole, streamed), "seed \(seed)")
        // Every local day was handed over once, in order, as the report lists them.
        #expect(days == whole.dayCompleteness)
        // The whole-window report is the accumulator's: the slots' order does not matter.
        var reversed = input
        reversed.site.slots.reverse()
        #expect(Self.same(whole, Indicators.compute(reversed, tariff: BuiltInTariffs.guangdong2021)))
        // In time order (as a store gives them) the one-pass cursor path runs, and agrees.
        var sorted = input
        sorted.site.slots.sort { $0.startMS < $1.startMS }
        for k in sorted.devices.indices { sorted.devices[k].slots.sort { $0.startMS < $1.startMS } }
        sorted.meter?.slots.sort { $0.startMS < $1.startMS }
        let settings = IndicatorSettings()
        let cursor = Indicators.inOrder(sorted, tariff: BuiltInTariffs.guangdong2021, settings: settings)
        #expect(cursor != nil || sorted.slotCount == 0, "seed \(seed): sorted slots must take the cursor path")
        if let cursor { #expect(Self.same(whole, cursor), "seed \(seed)") }
        // Shuffled slots: the cursor path gives up (nil) or, if they happen to be in order, agrees.
        if let r = Indicators.inOrder(input, tariff: BuiltInTariffs.guangdong2021, settings: settings) { #expect(Self.same(whole, r)) }
        // A duplicate start, in order: the later slot wins on both paths.
        if let at = sorted.site.slots.firstIndex(where: { $0.startMS >= sorted.windowStartMS && $0.startMS < sorted.windowEndMS }) {
            var first = sorted.site.slots[at]
            first.signals = first.signals.map { _ in SlotSummary(count: 1, coveredMS: 1, min: 1, max: 1, mean: 1, first: 1, last: 1) }
            sorted.site.slots.insert(first, at: at + 1)
            let a = Indicators.inOrder(sorted, tariff: BuiltInTariffs.guangdong2021, settings: settings)
            let b = Indicators.placed(sorted, tariff: BuiltInTariffs.guangdong2021, settings: settings)
            #expect(a.map { Self.same($0, b) } == true, "seed \(seed)")
        }
    }


    @Test("days are handed over as they close, not at the end")
    func daysCloseAsTheyEnd() {
        let input = SyntheticHistory.input(days: 7)
        var closed: [LocalDate] = []
        var accumulator = IndicatorAccumulator(input, onDayClosed: { closed.append($0.date) })
        let slots = Dictionary(input.site.slots.map { ($0.startMS, $0) }, uniquingKeysWith: { _, b in b })
        // Three days and one minute fed: the first day is closed (two are kept open).
        for i in 0..<(3 * 1440 + 1) {
            accumulator.add(site: slots[input.windowStartMS + Int64(i) * 60_000])
        }
        #expect(closed == [LocalDate(year: 2024, month: 3, day: 1), LocalDate(year: 2024, month: 3, day: 2)])
        let report = accumulator.finish()
        #expect(closed.count == 7)
        #expect(report.dayCompleteness.map(\.date) == closed)
        // Days 4–7 were never fed: missing, never zero-filled as complete.
        #expect(report.dayCompleteness[4].meanFraction == 0)
        #expect(report["energy.charge_kwh"]?.status == .insufficientData)
    }

    @Test("a clock step back across midnight: the day comes back and is one row")
    func dayReturnsAfterMidnight() {
        var input = SyntheticHistory.input(days: 3)
        // The window starts at 16:00Z. UTC+1 until 23:30Z the next day (00:30 local, a new day),
        // then UTC+0: local time goes back to 23:30 of the day before.
        let step = input.windowStartMS + 31 * 3_600_000 + 1_800_000
        input.offsets = UTCOffsetTable(transitions: [.init(fromUTCMS: .min, offsetSeconds: 3600), .init(fromUTCMS: step, offsetSeconds: 0)])
        let whole = Indicators.compute(input)
        let dates = whole.dayCompleteness.map(\.date)
        #expect(Set(dates).count == dates.count, "each local day once: \(dates)")
        // The local day of every step, in order: one day comes back after the next began.
        let localDays = (0..<input.slotCount).map { i -> Int in
            let t = input.windowStartMS + Int64(i) * 60_000
            return Int((t + Int64(input.offsets.offsetSeconds(atUTCMS: t)) * 1000) / 86_400_000)
        }
        #expect(zip(localDays, localDays.dropFirst()).contains { $0 > $1 }, "the test must step back across midnight")
        #expect(dates.count == Set(localDays).count)
        #expect(dates == dates.sorted())
        var handed: [DayCompleteness] = []
        let streamed = Self.streamed(input, tariff: nil, chunkSteps: 1) { handed.append($0) }
        #expect(Self.same(whole, streamed))
        #expect(handed == whole.dayCompleteness)
    }

    @Test("nothing fed: every measured indicator is insufficient, no criterion passes")
    func nothingFedNeverPasses() {
        let input = SyntheticHistory.input(days: 2)
        var accumulator = IndicatorAccumulator(input, tariff: BuiltInTariffs.guangdong2021)
        let report = accumulator.finish()
        let measured = report.values.filter { !$0.id.hasPrefix("completeness.") && $0.id != "energy.unaccounted_hours" && $0.id != "availability.comm_loss_hours" }
        #expect(!measured.isEmpty)
        for v in measured { #expect(v.status == .insufficientData, "\(v.id)") }
        for policy in BuiltInPolicies.all {
            let check = PolicyEvaluator.evaluate(policy, context: PolicyContext(facts: SyntheticHistory.facts), report: report)
            for r in check.results {
                if case .indicator = r.criterion.subject { #expect(r.verdict != .pass, "\(policy.id) \(r.criterion.id)") }
            }
        }
    }

    @Test("gappy random histories: an ok status always has enough coverage", arguments: 0..<20)
    func okNeedsCoverage(seed: Int) {
        let report = Indicators.compute(Self.input(seed: UInt64(1000 + seed)), tariff: BuiltInTariffs.guangdong2021)
        let alwaysOK: Set = ["energy.unaccounted_hours", "availability.comm_loss_hours", "completeness.mean_percent", "completeness.worst_signal_percent",
            "completeness.samples_mean_percent", "completeness.samples_worst_signal_percent",
        ]
        for v in report.values where v.status == .ok && !alwaysOK.contains(v.id) {
            #expect(v.coverage + 1e-12 >= 0.9, "\(v.id) ok at coverage \(v.coverage)")
            #expect(v.value.isFinite, "\(v.id)")
        }
    }
}
