import ESSCore

/// Equivalent full cycles, utilisation hours (and their annual equivalent) and 等效利用系数.
enum UtilisationIndicators {
    static let hoursPerYear = 8760.0

    static func compute(_ ctx: IndicatorContext, _ energy: EnergyAccounting) -> [IndicatorValue] {
        let m = ctx.minimum
        let pn = ctx.input.facts.ratedPowerKW
        let en = ctx.input.facts.ratedEnergyKWh
        let t = ctx.input.windowHours
        let ec = energy.chargeKWh
        let ed = energy.dischargeKWh
        let cov = energy.coverage
        let u = energy.undetermined
        let hours = pn > 0 ? ed / pn : .nan
        var annualNotes: [String] = []
        if t < hoursPerYear {
            annualNotes.append("annualised: window is \(Int((t / 24).rounded())) days, scaled × 8760 / \(Int(t.rounded())) h")
        }
        return [
            .make("utilisation.equivalent_full_cycles", en > 0 ? ed / en : .nan, "cycles", coverage: cov, minimum: m,
                formula: "E_d / E_N", confidence: .inferred, undetermined: u),
            .make("utilisation.hours", hours, "h", coverage: cov, minimum: m, formula: "E_d / P_N", confidence: .inferred, undetermined: u),
            .make("utilisation.hours_annualised", t > 0 ? hours * hoursPerYear / t : .nan, "h/yr", coverage: cov, minimum: m,
                formula: "E_d / P_N × 8760 h / T", confidence: .inferred, notes: annualNotes, undetermined: u),
            .make("utilisation.factor_percent", pn > 0 && t > 0 ? (ec + ed) / (pn * t) * 100 : .nan, "%", coverage: cov,
                minimum: m, formula: "等效利用系数 (E_c + E_d) / (P_N × T) × 100", confidence: .secondary, undetermined: u),
        ]
    }
}
