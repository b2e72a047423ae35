import ESSCore
import ESSCriteria
import ESSStore

/// The columns of the evidence CSV files and how one row is turned into fields. Numbers use
/// `FixedDecimal` at the precision stated here (and in README.txt); unknown is "".
/// Owns column names, order and precision; not reading the store.
public enum EvidenceTables {
    /// kWh: 3 decimals (1 Wh). kW: 3. SoC and other percentages: 2. °C: 1.
    public static let energyDecimals = 3
    public static let powerDecimals = 3
    public static let percentDecimals = 2
    public static let temperatureDecimals = 1

    public static func intervalHeader(hasMeter: Bool) -> [String] {
        ["interval_start_utc", "interval_start_local", "duration_s", "charge_kwh_counter", "discharge_kwh_counter",
            "charge_kwh_integrated", "discharge_kwh_integrated"]
            + (hasMeter ? ["meter_import_kwh", "meter_export_kwh"] : [])
            + ["soc_start_percent", "soc_end_percent", "soc_min_percent", "soc_max_percent", "power_mean_kw", "power_max_kw",
                "cell_temp_max_c", "availability_percent", "tariff_period", "quality", "flags"]
    }

    static func intervalRow(_ s: IntervalSummary, offsets: UTCOffsetTable, hasMeter: Bool) -> [String] {
        let e = s.energy
        let kwh = { FixedDecimal.format($0, decimals: energyDecimals) }
        let pct = { FixedDecimal.format($0, decimals: percentDecimals) }
        return [TimeText.utc(ms: s.startMS), TimeText.local(ms: s.startMS, offsets: offsets), String(s.durationMS / 1000),
            kwh(e.counterChargeKWh), kwh(e.counterDischargeKWh), kwh(e.integratedChargeKWh), kwh(e.integratedDischargeKWh)]
            + (hasMeter ? [kwh(s.meterImportKWh), kwh(s.meterExportKWh)] : [])
            + [pct(s.socStartPercent), pct(s.socEndPercent), pct(s.socMinPercent), pct(s.socMaxPercent),
                FixedDecimal.format(s.powerMeanKW, decimals: powerDecimals), FixedDecimal.format(s.powerMaxKW, decimals: powerDecimals),
                FixedDecimal.format(s.cellTempMaxC, decimals: temperatureDecimals), pct(s.availabilityMean * 100), s.tariffPeriod,
                s.quality.description, s.flags]
    }

    public static func dailyHeader(hasMeter: Bool) -> [String] {
        ["date_local", "hours_in_window", "charge_kwh_counter", "discharge_kwh_counter", "charge_kwh_integrated",
            "discharge_kwh_integrated"]
            + (hasMeter ? ["meter_import_kwh", "meter_export_kwh"] : [])
            + ["soc_min_percent", "soc_max_percent", "coverage_percent", "intervals_measured", "intervals_partial",
                "intervals_missing"]
    }

    public static let devicesHeader = [
        "device_id", "vendor", "model", "profile_name", "profile_sha256", "serial", "firmware", "endpoint", "unit_id",
        "points", "identity_history",
    ]

    /// A device's row. Vendor and model come from the register profile unless the device reports
    /// them (identity points named `vendor`/`manufacturer`, `model`); serial and firmware from its
    /// identity points (names containing `serial`, and `firmware`/`version`), as read last before
    /// the window's end (else the first read after it). `identity_history` lists every text the
    /// store's identity log holds for the device, `point=text@UTC`, oldest first.
    static func deviceRow(_ d: DeviceDefinition, identity: [IdentityRecord], windowEndMS: Int64) -> [String] {
        let records = identity.filter { $0.deviceID == d.id }.sorted { $0.observedMS < $1.observedMS }
        func text(_ matches: (String) -> Bool) -> String? {
            let candidates = records.filter { matches($0.point.lowercased()) }
            return (candidates.last { $0.observedMS < windowEndMS } ?? candidates.first)?.text
        }
        let vendor = text { $0 == "vendor" || $0 == "manufacturer" } ?? d.profile.vendor ?? ""
        let model = text { $0 == "model" } ?? d.profile.model ?? ""
        let serial = text { $0.contains("serial") } ?? ""
        let firmware = text { $0.contains("firmware") || $0.contains("version") } ?? ""
        let history = records.map { "\($0.point)=\($0.text)@\(TimeText.utc(ms: $0.observedMS))" }.joined(separator: "; ")
        return [d.id, vendor, model, d.profile.name, CanonicalDescription.sha256(of: d.profile), serial, firmware,
            d.transport.endpoint, String(d.unitID), String(d.profile.points.count), history]
    }

    public static let indicatorsHeader = [
        "indicator_id", "value", "unit", "coverage_percent", "status", "formula", "confidence", "notes",
    ]

    static func indicatorRow(_ v: IndicatorValue) -> [String] {
        [v.id, FixedDecimal.format(v.value, decimals: 3), v.unit, FixedDecimal.format(v.coverage * 100, decimals: percentDecimals),
            v.status.rawValue, v.formula, v.confidence.mark, v.notes.joined(separator: "; ")]
    }

    public static let criteriaHeader = [
        "policy", "criterion_id", "title_en", "title_zh", "clause_document", "clause_article", "verdict", "measured_value",
        "measured_text", "threshold", "coverage_percent", "source", "confidence", "notes",
    ]

    static func criterionRow(policy: String, _ r: CriterionResult) -> [String] {
        let c = r.criterion
        return [policy, c.id, c.titleEN, c.titleZH, c.clause.document, c.clause.article, r.verdict.rawValue,
            FixedDecimal.format(r.measuredValue, decimals: 3), r.measuredText, r.thresholdText,
            FixedDecimal.format(r.coverage.map { $0 * 100 }, decimals: percentDecimals), r.source, c.confidence.mark,
            r.notes.joined(separator: "; ")]
    }
}

extension EvidenceTables {
    public static let moneyHeader = [
        "policy", "rule_id", "title_en", "title_zh", "clause_document", "clause_article", "status", "amount_cny", "low_cny",
        "high_cny", "formula", "inputs", "conditions", "provenance", "confidence", "notes",
    ]

    /// One money estimate: amounts in CNY with 2 decimals (empty when there is no point value or
    /// band), the formula with its numbers, and every input as "name = value unit (source)".
    static func moneyRow(policy: String, _ e: MoneyEstimate) -> [String] {
        let r = e.rule
        let inputs = e.inputs.map { input in
            let value = input.value.map { FixedDecimal.format($0, decimals: 4) } ?? "missing"
            return "\(input.name) = \(value)\(input.unit.isEmpty ? "" : " \(input.unit)") (\(input.source))"
        }
        return [policy, r.id, r.titleEN, r.titleZH, r.clause.document, r.clause.article, e.status.rawValue,
            FixedDecimal.format(e.amountCNY, decimals: 2), FixedDecimal.format(e.lowCNY, decimals: 2),
            FixedDecimal.format(e.highCNY, decimals: 2), e.formulaText, inputs.joined(separator: "; "),
            r.conditions.joined(separator: "; "), r.provenance, r.confidence.mark, e.notes.joined(separator: "; ")]
    }
}

/// Sums interval rows into one row per local day (the day of each interval's start).
struct DailyAccumulator {
    var date: LocalDate?
    var durationMS: Int64 = 0
    var coveredMS = 0.0
    var chargeCounter = Double.nan
    var dischargeCounter = Double.nan
    var chargeIntegrated = Double.nan
    var dischargeIntegrated = Double.nan
    var meterImport = Double.nan
    var meterExport = Double.nan
    var socMin = Double.nan
    var socMax = Double.nan
    var measured = 0
    var partial = 0
    var missing = 0

    /// Adds an interval; returns the finished previous day's row when `date` starts a new day.
    mutating func add(_ s: IntervalSummary, date: LocalDate, hasMeter: Bool) -> [String]? {
        var finished: [String]?
        if let current = self.date, current != date {
            finished = row(hasMeter: hasMeter)
            self = DailyAccumulator()
        }
        self.date = date
        durationMS += s.durationMS
        coveredMS += s.coverage * Double(s.durationMS)
        addKnown(&chargeCounter, s.energy.counterChargeKWh)
        addKnown(&dischargeCounter, s.energy.counterDischargeKWh)
        addKnown(&chargeIntegrated, s.energy.integratedChargeKWh)
        addKnown(&dischargeIntegrated, s.energy.integratedDischargeKWh)
        addKnown(&meterImport, s.meterImportKWh)
        addKnown(&meterExport, s.meterExportKWh)
        if s.socMinPercent.isFinite { socMin = socMin.isNaN ? s.socMinPercent : min(socMin, s.socMinPercent) }
        if s.socMaxPercent.isFinite { socMax = socMax.isNaN ? s.socMaxPercent : max(socMax, s.socMaxPercent) }
        switch s.quality {
        case .measured: measured += 1
        case .partial: partial += 1
        case .missing: missing += 1
        }
        return finished
    }

    /// The current day's row, nil when nothing was added.
    func row(hasMeter: Bool) -> [String]? {
        guard let date else { return nil }
        let kwh = { FixedDecimal.format($0, decimals: EvidenceTables.energyDecimals) }
        let pct = { FixedDecimal.format($0, decimals: EvidenceTables.percentDecimals) }
        let coverage = durationMS > 0 ? coveredMS / Double(durationMS) : .nan
        return [date.description, FixedDecimal.format(Double(durationMS) / 3_600_000, decimals: 2), kwh(chargeCounter),
            kwh(dischargeCounter), kwh(chargeIntegrated), kwh(dischargeIntegrated)]
            + (hasMeter ? [kwh(meterImport), kwh(meterExport)] : [])
            + [pct(socMin), pct(socMax), FixedDecimal.percentDown(coverage, decimals: EvidenceTables.percentDecimals),
                String(measured), String(partial), String(missing)]
    }
}

extension EvidenceTables {
    public static let completenessHeader = ["date_local", "signal", "coverage_percent", "samples_percent"]

    /// One row per signal of a local day: "group/signal", its covered time / the day's time in
    /// the window, and its received ÷ expected samples (both rounded down, so 100.00 means
    /// complete; samples empty when the sampling interval is unknown).
    static func completenessRows(_ day: DayCompleteness) -> [[String]] {
        day.signalNames.indices.map { k in
            let samples = k < day.signalSampleFractions.count ? day.signalSampleFractions[k] : .nan
            return [
                day.date.description, day.signalNames[k],
                FixedDecimal.percentDown(day.signalFractions[k], decimals: percentDecimals),
                FixedDecimal.percentDown(samples, decimals: percentDecimals),
            ]
        }
    }
}
