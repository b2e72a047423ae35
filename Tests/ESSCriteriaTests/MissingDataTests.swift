import ESSCore
import Testing

@testable import ESSCriteria

/// Missing data is unknown, never zero, and never passes a criterion.
@Suite("Indicators: missing data")
struct MissingDataTests {
    @Test("3 of 24 hours missing: coverage 87.5 % → insufficient data, and no criterion passes on it")
    func gap() {
        // Local 05:00–08:00 missing in every group (no charging or discharging then).
        let input = SyntheticHistory.input(skip: { _, m in (300..<480).contains(m) })
        let r = Indicators.compute(input, tariff: BuiltInTariffs.guangdong2021)
        let e = r["efficiency.ac_round_trip_percent"]!
        #expect(abs(e.coverage - 0.875) < 1e-9)
        #expect(e.status == .insufficientData)
        #expect(abs(e.value - 90) < 1e-9, "the value is still shown")
        #expect(abs(r["energy.unaccounted_hours"]!.value - 3) < 1e-9)
        #expect(abs(r["availability.comm_loss_hours"]!.value - 3) < 1e-9)
        #expect(r["availability.factor_percent"]!.status == .insufficientData)
        #expect(r.dayCompleteness[0].meanFraction == 0.875)
        let check = PolicyEvaluator.evaluate(BuiltInPolicies.zhejiang2021, context: PolicyContext(facts: SyntheticHistory.facts), report: r)
        for row in check.results where { if case .indicator = row.criterion.subject { true } else { false } }() {
            #expect(row.verdict == .insufficientData, "\(row.criterion.id)")
        }
        #expect(check.hasFailOrInsufficient)
    }

    /// Issue 12, finding 1: a slot with no sample of its own but covered by the previous sample
    /// within the heartbeat (one missing row) holds data: coverage, not the sample count,
    /// decides. Here every minute 11:00–11:29 (inside the first discharge) has count 0 and is
    /// covered by the held value; by hand: no communication loss, availability 1,380 of 1,440
    /// minutes (the 20:00–21:00 outage only) = 95.833 %, and the day's two discharge events.
    @Test("a covered slot without a sample of its own is data, not a gap")
    func coveredSlotWithoutSamples() {
        var input = SyntheticHistory.input()
        var held = 0
        input.site.slots = input.site.slots.enumerated().map { m, slot in
            guard (660..<690).contains(m) else { return slot }
            var slot = slot
            slot.signals = slot.signals.map { s in
                SlotSummary(count: 0, coveredMS: s.coveredMS, min: s.first, max: s.first, mean: s.first, first: s.first, last: s.first)
            }
            held += 1
            return slot
        }
        #expect(held == 30)
        let r = Indicators.compute(input)
        let commLoss = r["availability.comm_loss_hours"]?.value
        #expect(commLoss == 0, "communication loss \(String(describing: commLoss)) h")
        let factor = r["availability.factor_percent"]?.value ?? .nan
        #expect(abs(factor - 1380.0 / 1440 * 100) < 1e-9, "availability \(factor) %")
        #expect(r.dischargeEvents.count == 2 && r.dischargeEvents.allSatisfy(\.complete), "\(r.dischargeEvents)")
        #expect(r.dayCompleteness[0].meanFraction == 1)
    }

    @Test("a lower minimum coverage accepts the same data")
    func configurableMinimum() {
        let input = SyntheticHistory.input(skip: { _, m in (300..<480).contains(m) })
        let r = Indicators.compute(input, settings: IndicatorSettings(minimumCoverage: 0.8))
        #expect(r["efficiency.ac_round_trip_percent"]?.status == .ok)
    }

    @Test("no slots at all: every measured indicator is insufficient")
    func empty() {
        let input = SyntheticHistory.input(skip: { _, _ in true })
        let r = Indicators.compute(input, tariff: BuiltInTariffs.yunnan2024)
        for v in r.values where !["energy.unaccounted_hours", "availability.comm_loss_hours"].contains(v.id)
            && !v.id.hasPrefix("completeness") {
            #expect(v.status == .insufficientData, "\(v.id)")
        }
        #expect(r["completeness.mean_percent"]?.value == 0)
        for policy in BuiltInPolicies.all {
            let check = PolicyEvaluator.evaluate(policy, context: PolicyContext(facts: SyntheticHistory.facts), report: r)
            for row in check.results {
                if case .indicator = row.criterion.subject { #expect(row.verdict != .pass, "\(policy.id) \(row.criterion.id)") }
            }
        }
    }

    @Test("missing signal: a site without SoC has no DoD, not zero")
    func noSoC() {
        var input = SyntheticHistory.input()
        input.site.indices.soc = nil
        let r = Indicators.compute(input)
        #expect(r["discharge.dod_max_percent"]?.status == .insufficientData)
        #expect(r["discharge.dod_max_percent"]?.value.isNaN == true)
    }

    @Test("a discharge event running into missing data is not used")
    func incompleteEvent() {
        // Missing 11:00–11:30 local splits the first event into two incomplete ones.
        let r = Indicators.compute(SyntheticHistory.input(skip: { _, m in (660..<690).contains(m) }))
        #expect(r.dischargeEvents.count == 3)
        #expect(r.dischargeEvents.filter(\.complete).count == 1)
        #expect(r["discharge.dod_max_percent"]?.value == 45)
    }

    @Test("no charge: efficiency has no value and is insufficient")
    func noCharge() {
        let r = Indicators.compute(SyntheticHistory.input(skip: { _, m in m < 240 }))
        // The fixture's slots carry their own counter deltas, so the skipped hours hold all the charge.
        #expect(r["energy.charge_counter_kwh"]!.value == 0)
        #expect(r["efficiency.ac_round_trip_percent"]?.value.isNaN == true)
        #expect(r["efficiency.ac_round_trip_percent"]?.status == .insufficientData)
    }

    @Test("no storage meter: no meter indicators; discharge subsidy needs the meter")
    func noMeter() {
        var input = SyntheticHistory.input()
        input.meter = nil
        let r = Indicators.compute(input)
        #expect(r["efficiency.comprehensive_percent"] == nil)
        let check = PolicyEvaluator.evaluate(BuiltInPolicies.zhejiang2021, context: PolicyContext(facts: SyntheticHistory.facts), report: r)
        let wenzhou = check.estimates.first { $0.rule.id == "zj.wenzhou_discharge" }!
        #expect(wenzhou.status == .insufficientData)
        #expect(wenzhou.amountCNY == nil)
        let gbt = PolicyEvaluator.evaluate(BuiltInPolicies.gbt36549, context: PolicyContext(facts: SyntheticHistory.facts), report: r)
        #expect(gbt.results.first { $0.criterion.id == "gbt.comprehensive_efficiency" }?.verdict == .insufficientData)
    }
}

/// Issue 12, finding 5: a profile with counters but a window without counter data printed
/// discharge energy and utilisation as 0. Expected: the documented fallback to integrated power,
/// saying so, and the counter sums unknown (NaN: null in JSON, "—" in tables), never 0.
@Suite("Indicators: counters without data")
struct CounterFallbackTests {
    static func withoutCounterData() -> IndicatorInput {
        var input = SyntheticHistory.input()
        input.site.slots = input.site.slots.map { slot in
            var slot = slot
            slot.signals[3] = .unknown
            slot.signals[4] = .unknown
            slot.energy?.counterChargeKWh = .nan
            slot.energy?.counterDischargeKWh = .nan
            return slot
        }
        return input
    }

    @Test func integratedPowerIsUsedAndSaidWhenNoCounterWasRead() {
        let r = Indicators.compute(Self.withoutCounterData(), tariff: BuiltInTariffs.guangdong2021)
        // By hand: 500 kW for 4 h charged, 450 kW for 4 h discharged.
        let charge = r["energy.charge_kwh"]
        let discharge = r["energy.discharge_kwh"]
        #expect(abs((charge?.value ?? .nan) - 2_000) < 1e-6 && charge?.status == .ok, "\(String(describing: charge))")
        #expect(abs((discharge?.value ?? .nan) - 1_800) < 1e-6 && discharge?.status == .ok, "\(String(describing: discharge))")
        #expect(discharge?.notes.contains("from integrated active power: the window holds no counter reading") == true)
        // The counter sums are unknown, not 0.
        #expect(r["energy.charge_counter_kwh"]?.value.isNaN == true && r["energy.charge_counter_kwh"]?.status == .insufficientData)
        #expect(r["energy.discharge_counter_kwh"]?.value.isNaN == true)
        // Utilisation from the same energy: E_d / P_N.
        let pn = SyntheticHistory.facts.ratedPowerKW
        #expect(abs((r["utilisation.hours"]?.value ?? .nan) - 1_800 / pn) < 1e-9)
        // Peak shifting uses the same source: the integrated discharge, all of it in some band.
        let normal = Indicators.compute(SyntheticHistory.input(), tariff: BuiltInTariffs.guangdong2021)
        for id in ["peak.valley_charge_share_percent", "peak.peak_discharge_share_percent", "peak.shifted_kwh"] {
            let a = r[id]?.value ?? .nan
            #expect(a.isFinite, "\(id) has a value")
            let b = normal[id]?.value ?? .nan
            #expect(abs(a - b) < 1e-9, "\(id): \(a) without counters, \(b) with (the fixture's counters equal its integrated power)")
        }
    }
}
