import ESSCore
import Testing

@testable import ESSCriteria

/// Issue 12, finding 6: with 1.07 % of rows missing, completeness said 99.93 % because it
/// measured covered time only (the heartbeat covers single missing rows). Completeness now also
/// gives received ÷ expected samples, per signal and per local day; the completeness criteria
/// use it. Expected values by hand from the counts the slots are built with.
@Suite("Indicators: completeness by samples")
struct SampleCompletenessTests {
    static let day: Int64 = 86_400_000
    /// One signal polled every second (heartbeat 3 s), kept at 1 min.
    static let schema = SeriesSchema(
        groupID: "site",
        signals: [SignalDefinition(name: "soc_percent", role: .socPercent, heartbeatMS: 3000, tiers: ["1m"])],
        energy: EnergySources())

    /// 1-min slots over `days` days, every one fully covered; `count(day, minute)` samples each.
    static func input(days: Int, changes: [SampleIntervalChange] = [], count: (Int, Int) -> Int) -> IndicatorInput {
        let start = SyntheticHistory.march1
        var slots: [ConsolidatedSlot] = []
        for d in 0..<days {
            for m in 0..<1440 {
                let c = count(d, m)
                slots.append(ConsolidatedSlot(
                    groupID: "site", tier: "1m", startMS: start + Int64(d) * day + Int64(m) * 60_000,
                    signals: [SlotSummary(count: c, coveredMS: 60_000, min: 50, max: 50, mean: 50, first: 50, last: 50)],
                    energy: nil))
            }
        }
        var site = GroupSeries(schema: schema, slots: slots)
        site.sampleIntervalChanges = changes
        return IndicatorInput(
            windowStartMS: start, windowEndMS: start + Int64(days) * day, slotMS: 60_000, facts: SyntheticHistory.facts,
            site: site)
    }

    @Test("single missing samples: covered time stays 100 %, samples say what is missing")
    func singleMissingSamples() {
        // 927 of 1,440 minutes lose one second's sample each: 927 of 86,400 samples = 1.0729 %.
        let r = Indicators.compute(Self.input(days: 1) { _, m in m % 14 < 9 ? 59 : 60 })
        let missing = (0..<1440).filter { $0 % 14 < 9 }.count
        #expect(missing == 927)
        let expected = Double(86_400 - 927) / 86_400 * 100  // 98.9271 %
        #expect(r["completeness.mean_percent"]?.value == 100)
        let samples = r["completeness.samples_mean_percent"]?.value ?? .nan
        #expect(abs(samples - expected) < 1e-9, "samples \(samples) %")
        #expect(abs((r["completeness.samples_worst_signal_percent"]?.value ?? .nan) - expected) < 1e-9)
        let row = r.signalCompleteness[0]
        #expect(row.receivedSamples == 86_400 - 927)
        #expect(row.expectedSamples == 86_400)
        let day = r.dayCompleteness[0]
        #expect(abs(day.signalSampleFractions[0] * 100 - expected) < 1e-9)
        #expect(abs(day.meanSampleFraction * 100 - expected) < 1e-9)
        #expect(day.worstSampleSignal == "site/soc_percent")
        #expect(day.signalFractions == [1])
    }

    @Test("imported history at 1-min rows is expected at its own interval, per day")
    func importedIntervalPerDay() {
        // Day 0 polled every second, 5 samples missing; day 1 imported as 1-min rows, 15 rows
        // missing (covered by the 3-min heartbeat).
        let start = SyntheticHistory.march1
        let changes = [SampleIntervalChange(fromMS: start + Self.day, toMS: start + 2 * Self.day, intervalMS: 60_000)]
        let r = Indicators.compute(Self.input(days: 2, changes: changes) { d, m in
            if d == 0 { return m < 5 ? 59 : 60 }
            return m % 96 == 7 ? 0 : 1
        })
        let day0 = Double(86_400 - 5) / 86_400
        let day1 = Double(1_440 - 15) / 1_440
        #expect(r.dayCompleteness.count == 2)
        #expect(abs(r.dayCompleteness[0].signalSampleFractions[0] - day0) < 1e-12)
        #expect(abs(r.dayCompleteness[1].signalSampleFractions[0] - day1) < 1e-12)
        let row = r.signalCompleteness[0]
        #expect(row.receivedSamples == 86_395 + 1_425)
        #expect(abs(row.expectedSamples - (86_400 + 1_440)) < 1e-9)
        #expect(abs(row.sampleFraction - Double(86_395 + 1_425) / (86_400 + 1_440)) < 1e-12)
    }

    @Test("more samples than the interval expects count as complete, never above 100 %")
    func fasterPollIsComplete() {
        let r = Indicators.compute(Self.input(days: 1) { _, _ in 120 })
        #expect(r["completeness.samples_mean_percent"]?.value == 100)
    }

    @Test("an unknown sampling interval gives no sample completeness, not zero")
    func unknownInterval() {
        var input = Self.input(days: 1) { _, _ in 60 }
        input.site.sampleIntervalsMS = []
        let r = Indicators.compute(input)
        let v = r["completeness.samples_mean_percent"]
        #expect(v?.value.isNaN == true)
        #expect(v?.status == .insufficientData)
        #expect(r.signalCompleteness[0].sampleFraction.isNaN)
        #expect(r.dayCompleteness[0].meanSampleFraction.isNaN)
    }

    @Test("the completeness criteria use samples")
    func criteriaUseSamples() {
        let r = Indicators.compute(Self.input(days: 1) { _, m in m % 2 == 0 ? 48 : 60 })
        // Covered time 100 %, samples 90 % − 0.0...: 1,440 × 54 / 86,400 = 90 % exactly.
        #expect(abs((r["completeness.samples_mean_percent"]?.value ?? .nan) - 90) < 1e-9)
        for (policy, id) in [(BuiltInPolicies.gbt36549, "gbt.completeness"), (BuiltInPolicies.yunnan2022, "yn.monitoring")] {
            let criterion = policy.criteria.first { $0.id == id }
            let subject = criterion.map { "\($0.subject)" } ?? ""
            #expect(subject.contains("samples"), "\(id): \(subject)")
        }
    }
}
