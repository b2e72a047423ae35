import ESSCore

/// 移峰填谷: where in the tariff day the storage charged and discharged, and what that was
/// worth. Each slot's energy is assigned to the period in force at the slot's start (exact
/// for slots of 15 or 30 min against half-hour boundaries).
enum PeakShiftingIndicators {
    /// The period of every minute of one local day, resolved once per day.
    struct DayCache {
        var day = Int.min
        var kinds: [PeriodKind?] = []

        mutating func kind(_ tariff: TariffCalendar, _ t: LocalTime) -> PeriodKind? {
            let d = t.date.daysSinceEpoch
            if d != day {
                day = d
                kinds = (0..<1440).map { tariff.band(on: t.date, minute: $0)?.kind }
            }
            return kinds[t.minuteOfDay]
        }

        /// Ordinary days' tables by month: a day's periods depend only on its month unless it is
        /// a holiday or an overlay names its date.
        var byMonth: [[PeriodKind?]] = Array(repeating: [], count: 13)

        /// As `kind(_:_:)` for local day `d` (days since 1970-01-01) and minute of that day.
        @inline(__always)
        mutating func kind(_ tariff: TariffCalendar, day d: Int, minute: Int) -> PeriodKind? {
            if d != day {
                day = d
                let date = LocalDate(daysSinceEpoch: d)
                let special = tariff.holidays.contains(date) || tariff.overlays.contains { $0.dates.contains(date) }
                if special {
                    kinds = (0..<1440).map { tariff.band(on: date, minute: $0)?.kind }
                } else {
                    if byMonth[date.month].isEmpty { byMonth[date.month] = (0..<1440).map { tariff.band(on: date, minute: $0)?.kind } }
                    kinds = byMonth[date.month]
                }
            }
            return kinds[minute]
        }
    }

    /// E_c and E_d per period kind (indexed as `PeriodKind.allCases`), step by step.
    struct Tally {
        /// The tariff, held here so a step reads it in place (a copy per step retains its arrays).
        let tariff: TariffCalendar
        var cache = DayCache()
        /// Per period kind, from counters and from integrated power (which one is used is
        /// decided at the window's end, as for the totals: `EnergyAccounting.usesCounter`).
        /// (SIMD8 lanes, one per `PeriodKind`: plain values, no array to check on every step.)
        var counterChargeBy = SIMD8<Double>()
        var counterDischargeBy = SIMD8<Double>()
        var integratedChargeBy = SIMD8<Double>()
        var integratedDischargeBy = SIMD8<Double>()
        var counterUnassigned = 0
        var integratedUnassigned = 0

        /// The lane of the period in force at the step's start; 7 when the tariff has none there.
        @inline(__always)
        mutating func lane(_ step: IndicatorAccumulator.StepScratch) -> Int {
            cache.kind(tariff, day: step.localDay, minute: step.localMinute).map(Self.index) ?? 7
        }

        /// Counter steps across gaps spread back over the gaps' lanes (`EnergyAccounting.spreadCharge`).
        mutating func addSpread(charge: SIMD8<Double>, discharge: SIMD8<Double>) {
            counterChargeBy += charge
            counterDischargeBy += discharge
        }

        /// One step's energy in `lane`.
        @inline(__always)
        mutating func add(_ step: IndicatorAccumulator.StepScratch, energy e: EnergyAccounting.StepEnergy, lane k: Int) {
            let counter = e.counterCharge.isFinite || e.counterDischarge.isFinite
            let integrated = e.integratedCharge.isFinite || e.integratedDischarge.isFinite
            guard counter || integrated else { return }
            guard k < 5 else {
                if counter { counterUnassigned += 1 }
                if integrated { integratedUnassigned += 1 }
                return
            }
            if e.counterCharge.isFinite { counterChargeBy[k] += e.counterCharge }
            if e.counterDischarge.isFinite { counterDischargeBy[k] += e.counterDischarge }
            if e.integratedCharge.isFinite { integratedChargeBy[k] += e.integratedCharge }
            if e.integratedDischarge.isFinite { integratedDischargeBy[k] += e.integratedDischarge }
        }

        @inline(__always)
        static func index(_ kind: PeriodKind) -> Int {
            switch kind {
            case .sharp: 0
            case .peak: 1
            case .flat: 2
            case .valley: 3
            case .deepValley: 4
            }
        }
    }

    static func compute(_ ctx: IndicatorContext, _ energy: EnergyAccounting, _ tally: Tally, tariff: TariffCalendar) -> [IndicatorValue] {
        let m = ctx.minimum
        let kinds = PeriodKind.allCases
        let counter = energy.usesCounter
        let charges = counter ? tally.counterChargeBy : tally.integratedChargeBy
        let discharges = counter ? tally.counterDischargeBy : tally.integratedDischargeBy
        let chargeBy = Dictionary(uniqueKeysWithValues: kinds.map { ($0, charges[Tally.index($0)]) })
        let dischargeBy = Dictionary(uniqueKeysWithValues: kinds.map { ($0, discharges[Tally.index($0)]) })
        let unassigned = counter ? tally.counterUnassigned : tally.integratedUnassigned
        // Sums in PeriodKind order (deterministic, unlike a dictionary's order).
        let totalC = kinds.reduce(0) { $0 + chargeBy[$1]! }
        let totalD = kinds.reduce(0) { $0 + dischargeBy[$1]! }
        let valleyC = kinds.filter(\.isValleyLike).reduce(0) { $0 + chargeBy[$1]! }
        let peakD = kinds.filter(\.isPeakLike).reduce(0) { $0 + dischargeBy[$1]! }
        var notes = ["tariff \(tariff.id) (\(tariff.document)) \(tariff.confidence.mark)", energy.sourceNote]
        if ctx.input.slotMS > 1_800_000 { notes.append("slots longer than 30 min: periods assigned at slot start are approximate") }
        if unassigned > 0 { notes.append("\(unassigned) slots fell in no tariff band (invalid calendar)") }
        let cov = energy.coverage
        let conf = max(tariff.confidence, .secondary)
        // Where energy fell is not determined inside gaps: spread over their periods (counters),
        // or not integrated at all (power). Each share depends on its own direction; the shifted
        // energy on the smaller side, unless the other could not reach it.
        func spreadNote(_ kWh: Double, _ what: String) -> String? {
            guard kWh > 0 else { return nil }
            return "\(numberText((kWh * 10).rounded() / 10)) kWh of \(what) across gaps spanning several tariff periods was spread over them (by integrated power, else by time): its periods are estimated"
        }
        let spreadC = counter ? energy.chargeSpreadAcrossPeriodsKWh : 0
        let spreadD = counter ? energy.dischargeSpreadAcrossPeriodsKWh : 0
        let uCharge = counter ? spreadNote(spreadC, "charge") : energy.integratedUndetermined
        let uDischarge = counter ? spreadNote(spreadD, "discharge") : energy.integratedUndetermined
        let chargeSideBinds = valleyC - spreadC <= peakD + spreadD
        let dischargeSideBinds = peakD - spreadD <= valleyC + spreadC
        let uShifted = (chargeSideBinds ? uCharge : nil) ?? (dischargeSideBinds ? uDischarge : nil)
        let uValue = uCharge ?? uDischarge

        // Value: Σ E_d × price − Σ E_c × price, in CNY when prices (or ratios and a flat price)
        // are known, else in flat-price kWh at the ratios.
        let flat = ctx.settings.flatPriceCNYPerKWh
        let inCNY = tariff.pricesCNYPerKWh != nil || flat != nil
        var value = 0.0
        var missingPrice: [String] = []
        for (kind, kWh) in kinds.map({ ($0, dischargeBy[$0]!) }) + kinds.map({ ($0, -chargeBy[$0]!) }) where kWh != 0 {
            let price = inCNY ? tariff.priceCNYPerKWh(kind, flatPriceCNYPerKWh: flat) : tariff.ratios[kind]
            guard let price else {
                missingPrice.append(kind.rawValue)
                continue
            }
            value += kWh * price
        }
        var valueNotes = notes
        valueNotes.append(inCNY ? "at \(tariff.pricesCNYPerKWh != nil ? "the tariff's prices" : "ratios × flat price \(flat!) CNY/kWh")"
            : "no prices and no flat price: value in flat-price kWh at the ratios")
        if !missingPrice.isEmpty { valueNotes.append("no price or ratio for \(Set(missingPrice).sorted().joined(separator: ", "))") }
        return [
            .make("peak.valley_charge_share_percent", totalC > 0 ? valleyC / totalC * 100 : .nan, "%", coverage: cov, minimum: m,
                formula: "E_c in valley and deep valley / E_c × 100", confidence: conf, notes: notes, undetermined: uCharge),
            .make("peak.peak_discharge_share_percent", totalD > 0 ? peakD / totalD * 100 : .nan, "%", coverage: cov, minimum: m,
                formula: "E_d in peak and sharp / E_d × 100", confidence: conf, notes: notes, undetermined: uDischarge),
            .make("peak.shifted_kwh", min(valleyC, peakD), "kWh", coverage: cov, minimum: m,
                formula: "min(E_c in valley periods, E_d in peak periods)", confidence: conf, notes: notes, undetermined: uShifted),
            .make("peak.value", missingPrice.isEmpty ? value : .nan, inCNY ? "CNY" : "flat-kWh", coverage: cov, minimum: m,
                formula: "Σ E_d × price(period) − Σ E_c × price(period)", confidence: max(conf, tariff.ratioConfidence),
                notes: valueNotes, undetermined: uValue),
        ]
    }
}
