/// Evaluates a policy's criteria against site facts and an indicator report, and computes
/// its money estimates. Pure. The rule it never breaks: no data, no pass.
public enum PolicyEvaluator {
    public static func evaluate(_ policy: Policy, context: PolicyContext, report: IndicatorReport) -> PolicyCheck {
        let results = policy.criteria.map { evaluate($0, context: context, report: report) }
        let verdicts = Dictionary(results.map { ($0.criterion.id, $0.verdict) }, uniquingKeysWith: { a, _ in a })
        let estimates = policy.money.map { estimate($0, verdicts: verdicts, context: context, report: report) }
        return PolicyCheck(policy: policy, windowStartMS: report.windowStartMS, windowEndMS: report.windowEndMS, results: results,
            estimates: estimates)
    }

    /// One criterion's verdict.
    public static func evaluate(_ criterion: Criterion, context: PolicyContext, report: IndicatorReport) -> CriterionResult {
        let threshold = criterion.comparison.text + (criterion.unit.isEmpty ? "" : " \(criterion.unit)")
        let thresholdSource = "threshold: \(criterion.provenance) \(criterion.confidence.mark)"
        func result(_ verdict: Verdict, _ value: Double?, _ text: String, coverage: Double?, source: String, notes: [String] = []) -> CriterionResult {
            CriterionResult(criterion: criterion, verdict: verdict, measuredValue: value, measuredText: text, thresholdText: threshold,
                coverage: coverage, source: source, notes: criterion.notes + notes)
        }
        switch criterion.subject {
        case .manualReview(let evidence):
            return result(.manualReview, nil, "—", coverage: nil, source: thresholdSource, notes: ["evidence: \(evidence)"])

        case .siteFact(let name):
            let source = "\(thresholdSource); value: site configuration (\(name))"
            switch criterion.comparison {
            case .oneOf, .noneOf:
                guard let text = context.text(name) else {
                    return result(.insufficientData, nil, "missing", coverage: nil, source: source, notes: ["site fact \(name) is not configured"])
                }
                return result(criterion.comparison.holds(text) == true ? .pass : .fail, nil, text, coverage: nil, source: source)
            default:
                guard let value = context.number(name) else {
                    return result(.insufficientData, nil, "missing", coverage: nil, source: source, notes: ["site fact \(name) is not configured"])
                }
                guard let holds = criterion.comparison.holds(value) else {
                    return result(.insufficientData, value, numberText(value), coverage: nil, source: source, notes: ["not comparable"])
                }
                return result(holds ? .pass : .fail, value, numberText(value), coverage: nil, source: source)
            }

        case .indicator(let id):
            guard let v = report[id] else {
                return result(.insufficientData, nil, "missing", coverage: 0, source: thresholdSource,
                    notes: ["indicator \(id) was not computed (signal, meter or tariff not configured)"])
            }
            let source = "\(thresholdSource); value: \(v.formula) \(v.confidence.mark)"
            let text = v.value.isFinite ? numberText((v.value * 100).rounded() / 100) + " \(v.unit)" : "missing"
            guard v.status.isUsable, let holds = criterion.comparison.holds(v.value) else {
                return result(.insufficientData, v.value.isFinite ? v.value : nil, text, coverage: v.coverage, source: source, notes: v.notes)
            }
            return result(holds ? .pass : .fail, v.value, text, coverage: v.coverage, source: source, notes: v.notes)
        }
    }

    /// A rule's estimate. Where its conditions did not pass there is no amount (not even a
    /// band's limits in the amount fields): the formula is shown without its result and every
    /// input is listed, so a reader sees what it depends on, never a sum that is not payable.
    static func estimate(_ rule: MoneyRule, verdicts: [String: Verdict], context: PolicyContext, report: IndicatorReport) -> MoneyEstimate {
        var notes = rule.notes
        let unmet = rule.conditions.filter { verdicts[$0] != .pass }
        if !unmet.isEmpty {
            notes.append("conditions not passed: " + unmet.map { "\($0) (\(verdicts[$0]?.rawValue ?? "unknown"))" }.joined(separator: ", "))
            notes.append("no amount while a condition has not passed")
        }
        let baseStatus: EstimateStatus = unmet.isEmpty ? .estimated : .conditionsNotMet
        let source = "\(rule.provenance) \(rule.confidence.mark)"
        func make(_ status: EstimateStatus, _ text: String, _ inputs: [EstimateInput]) -> MoneyEstimate {
            MoneyEstimate(rule: rule, status: status, amountCNY: nil, lowCNY: nil, highCNY: nil, formulaText: text, inputs: inputs, notes: notes)
        }
        /// The estimate with its amount (`= result` appended to the formula), or, when a condition
        /// has not passed, without either.
        func made(_ amount: Double, _ formula: String, result: String, _ inputs: [EstimateInput]) -> MoneyEstimate {
            var e = make(baseStatus, formula, inputs)
            if baseStatus == .estimated {
                e.amountCNY = amount
                e.formulaText = "\(formula) = \(result)"
            }
            return e
        }
        switch rule.formula {
        case .shareCapped(let share, let cap, let base):
            let value = context.number(base)
            let inputs = [
                EstimateInput(name: base, value: value, unit: "CNY", source: "site configuration"),
                EstimateInput(name: "share", value: share, unit: "", source: source),
                EstimateInput(name: "cap", value: cap, unit: "CNY", source: source),
            ]
            guard let value else {
                notes.append("site fact \(base) is not configured")
                return make(.insufficientData, "min(\(numberText(cap)), \(numberText(share)) × \(base))", inputs)
            }
            let amount = min(cap, share * value)
            return made(amount, "min(\(numberText(cap)), \(numberText(share)) × \(numberText(value)))", result: numberText(amount), inputs)

        case .band(let low, let high):
            let inputs = [
                EstimateInput(name: "lower limit", value: low, unit: "CNY", source: source),
                EstimateInput(name: "upper limit", value: high, unit: "CNY", source: source),
            ]
            var e = make(baseStatus, "\(numberText(low)) … \(numberText(high)) (decided per project)", inputs)
            if baseStatus == .estimated {
                e.lowCNY = low
                e.highCNY = high
            }
            return e

        case .perKWhDischarged(let rate, let cap):
            let metered = report["meter.export_kwh"]
            var inputs = [
                EstimateInput(name: "rate", value: rate, unit: "CNY/kWh", source: source),
                EstimateInput(name: "metered discharge (meter export E_on)", value: metered?.value.isFinite == true ? metered?.value : nil,
                    unit: "kWh", source: metered.map { "\($0.formula), coverage \(percentText($0.coverage))" } ?? "no storage meter"),
            ]
            if let cap { inputs.append(EstimateInput(name: "cap", value: cap, unit: "CNY", source: source)) }
            guard let metered, metered.status.isUsable else {
                notes.append(metered == nil ? "subsidies are paid on metered discharge: configure the storage meter" : "metered discharge has insufficient data")
                return make(.insufficientData, "\(numberText(rate)) × E_on" + (cap.map { ", ≤ \(numberText($0))" } ?? ""), inputs)
            }
            let raw = rate * metered.value
            let amount = cap.map { min($0, raw) } ?? raw
            let text = (cap.map { "min(\(numberText($0)), " } ?? "") + "\(numberText(rate)) × \(numberText((metered.value * 1000).rounded() / 1000))"
                + (cap == nil ? "" : ")")
            notes.append("over the checked window only")
            return made(amount, text, result: numberText((amount * 100).rounded() / 100), inputs)

        case .perKWYear(let rates):
            let pn = context.number("rated_power_kw")
            let inputs = [EstimateInput(name: "rated_power_kw", value: pn, unit: "kW", source: "site configuration")]
                + rates.enumerated().map { EstimateInput(name: "year \($0.offset + 1) rate", value: $0.element, unit: "CNY/kW·yr",
                    source: source) }
            guard let pn else {
                notes.append("site fact rated_power_kw is not configured")
                return make(.insufficientData, "Σ rate_y × P_N", inputs)
            }
            let total = rates.reduce(0, +) * pn
            let text = rates.map { "\(numberText($0)) × \(numberText(pn))" }.joined(separator: " + ")
            return made(total, text, result: numberText(total), inputs)
        }
    }
}
