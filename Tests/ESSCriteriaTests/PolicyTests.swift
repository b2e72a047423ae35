import ESSCore
import Testing

@testable import ESSCriteria

/// Verdict logic and money estimates.
@Suite("Policies and verdicts")
struct PolicyTests {
    static let clause = Clause(document: "doc", article: "art")

    static func criterion(_ subject: CriterionSubject, _ comparison: Comparison) -> Criterion {
        Criterion(id: "c", titleEN: "c", titleZH: "c", clause: clause, subject: subject, comparison: comparison, provenance: "p",
            confidence: .siteChoice)
    }

    static func report(_ value: Double, coverage: Double, status: IndicatorStatus) -> IndicatorReport {
        IndicatorReport(
            windowStartMS: 0, windowEndMS: 86_400_000, slotMS: 60_000,
            values: [IndicatorValue(id: "x", value: value, unit: "%", coverage: coverage, status: status, formula: "f", confidence: .secondary)],
            dischargeEvents: [], signalCompleteness: [], dayCompleteness: [], tariffID: nil)
    }

    static let context = PolicyContext(facts: SyntheticHistory.facts)

    @Test("indicator verdicts", arguments: [
        // (comparison, value, status, verdict)
        (Comparison.atLeast(85), 90.0, IndicatorStatus.ok, Verdict.pass),
        (.atLeast(85), 85, .ok, .pass),
        (.atLeast(85), 84.99, .ok, .fail),
        (.atLeast(85), 90, .insufficientData, .insufficientData),
        (.atLeast(85), .nan, .ok, .insufficientData),
        (.atMost(0), 0, .ok, .pass),
        (.atMost(0), 1, .ok, .fail),
        (.atMost(0), 0, .insufficientData, .insufficientData),
        (.greaterThan(1), 1, .ok, .fail),
        (.lessThan(1), 0.5, .ok, .pass),
        (.equalTo(1), 1, .ok, .pass),
        (.oneOf(["a"]), 1, .ok, .insufficientData),
    ])
    func indicatorVerdicts(comparison: Comparison, value: Double, status: IndicatorStatus, verdict: Verdict) {
        let r = PolicyEvaluator.evaluate(Self.criterion(.indicator("x"), comparison), context: Self.context,
            report: Self.report(value, coverage: status == .ok ? 1 : 0.5, status: status))
        #expect(r.verdict == verdict)
    }

    @Test("an indicator that was not computed is insufficient data")
    func missingIndicator() {
        let r = PolicyEvaluator.evaluate(Self.criterion(.indicator("nope"), .atLeast(0)), context: Self.context,
            report: Self.report(1, coverage: 1, status: .ok))
        #expect(r.verdict == .insufficientData)
        #expect(r.measuredText == "missing")
        #expect(r.coverage == 0)
    }

    @Test("site-fact verdicts", arguments: [
        ("location_category", Comparison.oneOf(["industrial_plant", "data_center"]), Verdict.pass),
        ("location_category", .oneOf(["data_center"]), .fail),
        ("location_category", .noneOf(["data_center"]), .pass),
        ("technology_route", .oneOf(["flow_vanadium"]), .fail),
        ("total_investment_cny", .atLeast(1e9), .fail),
        ("total_investment_cny", .atLeast(1e7), .pass),
        ("rated_power_kw", .atLeast(1000), .pass),
        ("design_dod_percent", .atLeast(90), .insufficientData),
        ("unknown_text", .oneOf(["x"]), .insufficientData),
    ])
    func factVerdicts(name: String, comparison: Comparison, verdict: Verdict) {
        let r = PolicyEvaluator.evaluate(Self.criterion(.siteFact(name), comparison), context: Self.context,
            report: Self.report(1, coverage: 1, status: .ok))
        #expect(r.verdict == verdict)
    }

    @Test("empty or zero facts are not configured")
    func emptyFacts() {
        var facts = SyntheticHistory.facts
        facts.locationCategory = ""
        facts.totalInvestmentCNY = 0
        let ctx = PolicyContext(facts: facts)
        let report = Self.report(1, coverage: 1, status: .ok)
        #expect(PolicyEvaluator.evaluate(Self.criterion(.siteFact("location_category"), .noneOf(["x"])), context: ctx, report: report).verdict == .insufficientData)
        #expect(PolicyEvaluator.evaluate(Self.criterion(.siteFact("total_investment_cny"), .atMost(1e12)), context: ctx, report: report).verdict == .insufficientData)
    }

    @Test("manual review is never a pass, and --strict ignores it")
    func manual() {
        let r = PolicyEvaluator.evaluate(Self.criterion(.manualReview("show X"), .none), context: Self.context,
            report: Self.report(1, coverage: 1, status: .ok))
        #expect(r.verdict == .manualReview)
        #expect(r.notes.contains("evidence: show X"))
    }

    @Test("Beijing reward: min(CNY 30M, 30 % of investment); small batch min(CNY 10M, 30 %)", arguments: [
        (50_000_000.0, 15_000_000.0), (100_000_000, 30_000_000), (200_000_000, 30_000_000),
    ])
    func beijingReward(investment: Double, expected: Double) {
        var facts = SyntheticHistory.facts
        facts.totalInvestmentCNY = investment
        let check = PolicyEvaluator.evaluate(BuiltInPolicies.beijing2023, context: PolicyContext(facts: facts, extraFacts: ["small_batch_test_investment_cny": 20_000_000]),
            report: Indicators.compute(SyntheticHistory.input()))
        let reward = check.estimates.first { $0.rule.id == "bj.reward" }!
        // Its condition (efficiency enhanced) is a manual review: the estimate says so, and
        // shows no amount (issue 12, finding 8), only the formula and its inputs.
        #expect(reward.status == .conditionsNotMet)
        #expect(reward.amountCNY == nil && reward.lowCNY == nil && reward.highCNY == nil)
        #expect(reward.formulaText == "min(30000000, 0.3 × \(numberText(investment)))")
        #expect(min(30_000_000, 0.3 * investment) == expected)
        #expect(reward.inputs.contains { $0.name == "total_investment_cny" && $0.value == investment })
        let small = check.estimates.first { $0.rule.id == "bj.small_batch" }!
        // 30 % × 20M = 6M.
        #expect(small.amountCNY == 6_000_000)
        #expect(small.status == .estimated)
        #expect(small.formulaText == "min(10000000, 0.3 × 20000000) = 6000000")
    }

    @Test("small batch capped at CNY 10M; missing test investment is insufficient")
    func smallBatch() {
        let report = Indicators.compute(SyntheticHistory.input())
        let capped = PolicyEvaluator.evaluate(BuiltInPolicies.beijing2023,
            context: PolicyContext(facts: SyntheticHistory.facts, extraFacts: ["small_batch_test_investment_cny": 50_000_000]), report: report)
        #expect(capped.estimates.first { $0.rule.id == "bj.small_batch" }?.amountCNY == 10_000_000)
        let missing = PolicyEvaluator.evaluate(BuiltInPolicies.beijing2023, context: Self.context, report: report)
        #expect(missing.estimates.first { $0.rule.id == "bj.small_batch" }?.status == .insufficientData)
        #expect(missing.estimates.first { $0.rule.id == "bj.small_batch" }?.amountCNY == nil)
    }

    /// Issue 12, finding 8: `bj.reward` showed CNY 900,000 with its status `conditions_not_met`,
    /// and `jx.grant` said "band = missing CNY". Every formula, with a condition that did not
    /// pass: no amount anywhere; a band's limits are its inputs.
    @Test("no amount while a condition has not passed", arguments: [
        MoneyFormula.shareCapped(share: 0.3, capCNY: 30_000_000, base: "total_investment_cny"),
        .band(minCNY: 2_000_000, maxCNY: 10_000_000), .perKWYear(ratesCNYPerKWYear: [100, 80]),
    ])
    func noAmountWhenConditionsAreNotMet(formula: MoneyFormula) {
        let rule = MoneyRule(
            id: "m", titleEN: "m", titleZH: "m", clause: Self.clause, formula: formula, conditions: ["c"], provenance: "p",
            confidence: .verified)
        let report = Indicators.compute(SyntheticHistory.input())
        for verdict in [Verdict.fail, .insufficientData, .manualReview] {
            let e = PolicyEvaluator.estimate(rule, verdicts: ["c": verdict], context: Self.context, report: report)
            #expect(e.status == .conditionsNotMet)
            #expect(e.amountCNY == nil && e.lowCNY == nil && e.highCNY == nil, "\(formula) with c \(verdict): \(e)")
            #expect(!e.formulaText.contains("="), "a result in the formula: \(e.formulaText)")
            #expect(e.notes.contains("conditions not passed: c (\(verdict.rawValue))"))
        }
        let passed = PolicyEvaluator.estimate(rule, verdicts: ["c": .pass], context: Self.context, report: report)
        #expect(passed.status == .estimated)
        #expect(passed.amountCNY != nil || (passed.lowCNY == 2_000_000 && passed.highCNY == 10_000_000), "\(passed)")
        if case .band = formula {
            #expect(passed.inputs.map(\.name) == ["lower limit", "upper limit"])
            #expect(passed.inputs.map(\.value) == [2_000_000, 10_000_000], "a band is shown as its limits")
        }
    }

    @Test("Jiangxi grant is a band, never a point")
    func jiangxiBand() {
        let check = PolicyEvaluator.evaluate(BuiltInPolicies.jiangxi2024, context: Self.context, report: Indicators.compute(SyntheticHistory.input()))
        let grant = check.estimates[0]
        #expect(grant.amountCNY == nil)
        #expect(grant.lowCNY == 2_000_000)
        #expect(grant.highCNY == 10_000_000)
        // Investment 50M < 1B: fail; fixed assets not configured: insufficient.
        #expect(check.results.first { $0.criterion.id == "jx.major_investment" }?.verdict == .fail)
        #expect(check.results.first { $0.criterion.id == "jx.major_fixed_assets" }?.verdict == .insufficientData)
    }

    @Test("Zhejiang on the synthetic day: thresholds, design facts, money")
    func zhejiangDay() {
        let ctx = PolicyContext(facts: SyntheticHistory.facts, extraFacts: ["design_dod_percent": 95, "design_cycles": 8000, "design_life_years": 15])
        let check = PolicyEvaluator.evaluate(BuiltInPolicies.zhejiang2021, context: ctx, report: Indicators.compute(SyntheticHistory.input()))
        let v = Dictionary(uniqueKeysWithValues: check.results.map { ($0.criterion.id, $0.verdict) })
        #expect(v["zj.ac_efficiency"] == .pass)  // 90 ≥ 85
        #expect(v["zj.dod_design"] == .pass)  // 95 ≥ 90
        #expect(v["zj.dod_measured"] == .fail)  // 45 < 90
        #expect(v["zj.availability"] == .pass)  // 95.83 ≥ 90
        #expect(v["zj.cycles_design"] == .pass)
        #expect(v["zj.life_design"] == .pass)
        #expect(v["zj.utilisation"] == .pass)  // 657 h/yr annualised ≥ 600
        let row = check.results.first { $0.criterion.id == "zj.ac_efficiency" }!
        #expect(row.measuredText == "90 %")
        #expect(row.thresholdText == "≥ 85 %")
        #expect(row.source == "threshold: 浙发改能源〔2021〕393号 [V]; value: E_d / E_c × 100 [V]")
        #expect(check.results.first { $0.criterion.id == "zj.dod_measured" }!.source.contains("[I]"))
        // Capacity payment: (200 + 180 + 170) × 1000 kW = 550 000.
        let capacity = check.estimates.first { $0.rule.id == "zj.capacity" }!
        #expect(capacity.amountCNY == 550_000)
        #expect(capacity.status == .estimated)
        // Wenzhou: 0.8 × 1764 = 1411.2 CNY.
        let wenzhou = check.estimates.first { $0.rule.id == "zj.wenzhou_discharge" }!
        #expect(abs(wenzhou.amountCNY! - 1411.2) < 1e-6)
        #expect(check.hasFailOrInsufficient)
    }

    @Test("Guangdong discharge subsidy capped, conditional on size")
    func huangpu() {
        let report = Indicators.compute(SyntheticHistory.input())
        var facts = SyntheticHistory.facts
        let check = PolicyEvaluator.evaluate(BuiltInPolicies.guangdong2023, context: PolicyContext(facts: facts), report: report)
        let e = check.estimates[0]
        // 0.3 × 1764 = 529.2 CNY, under the 3M cap.
        #expect(abs(e.amountCNY! - 529.2) < 1e-6)
        #expect(e.status == .estimated)
        facts.ratedPowerKW = 500
        let small = PolicyEvaluator.evaluate(BuiltInPolicies.guangdong2023, context: PolicyContext(facts: facts), report: report)
        #expect(small.estimates[0].status == .conditionsNotMet)
    }

    @Test("built-in policies are valid and complete")
    func builtIns() {
        #expect(BuiltInPolicies.all.map(\.id) == ["gbt36549", "beijing-2023", "guangdong-2023", "jiangxi-2024", "yunnan-2022", "zhejiang-2021"])
        for p in BuiltInPolicies.all {
            #expect(p.validate().isEmpty, "\(p.id): \(p.validate())")
            if let t = p.tariffID { #expect(BuiltInTariffs.calendar(id: t) != nil, "\(p.id) names tariff \(t)") }
        }
        // Every indicator a criterion names is one the indicators can produce.
        let full = Indicators.compute(SyntheticHistory.input(), tariff: BuiltInTariffs.guangdong2021)
        for p in BuiltInPolicies.all {
            for c in p.criteria {
                if case .indicator(let id) = c.subject { #expect(full[id] != nil, "\(p.id) \(c.id) names \(id)") }
            }
        }
    }
}
