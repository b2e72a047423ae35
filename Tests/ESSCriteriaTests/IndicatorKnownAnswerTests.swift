import ESSCore
import Testing

@testable import ESSCriteria

/// Indicators of the synthetic day, week and year of `SyntheticHistory`, computed by hand.
@Suite("Indicators: known answers")
struct IndicatorKnownAnswerTests {
    static func value(_ r: IndicatorReport, _ id: String) -> Double { r[id]?.value ?? .nan }
    static func isOK(_ r: IndicatorReport, _ id: String) -> Bool { r[id]?.status == .ok }

    @Test("one day: energy, efficiencies, utilisation")
    func dayEnergy() {
        let r = Indicators.compute(SyntheticHistory.input(), tariff: BuiltInTariffs.guangdong2021)
        // E_c = 500 kW × 4 h = 2000 kWh; E_d = 450 kW × 4 h = 1800 kWh (counter and integrated agree).
        for id in ["energy.charge_kwh", "energy.charge_counter_kwh", "energy.charge_integrated_kwh"] {
            #expect(abs(Self.value(r, id) - 2000) < 1e-6, "\(id)")
            #expect(Self.isOK(r, id))
        }
        for id in ["energy.discharge_kwh", "energy.discharge_counter_kwh", "energy.discharge_integrated_kwh"] {
            #expect(abs(Self.value(r, id) - 1800) < 1e-6, "\(id)")
        }
        #expect(Self.value(r, "energy.unaccounted_hours") == 0)
        // E_off = 2000 + 24 × 1 = 2024; E_on = 0.98 × 1800 = 1764.
        #expect(abs(Self.value(r, "meter.import_kwh") - 2024) < 1e-6)
        #expect(abs(Self.value(r, "meter.export_kwh") - 1764) < 1e-6)
        // E_d / E_c = 1800 / 2000 = 90 %.
        #expect(abs(Self.value(r, "efficiency.ac_round_trip_percent") - 90) < 1e-9)
        // 综合效率 1764 / 2024 = 87.1542 %; 损耗率 200 / 2024 = 9.8814 %; 站用电率 (24 + 36) / 2024 = 2.9644 %.
        #expect(abs(Self.value(r, "efficiency.comprehensive_percent") - 87.1542) < 1e-4)
        #expect(abs(Self.value(r, "efficiency.loss_rate_percent") - 9.8814) < 1e-4)
        #expect(abs(Self.value(r, "efficiency.station_service_rate_percent") - 2.9644) < 1e-4)
        // The three rates sum to 100 % [I].
        let sum = Self.value(r, "efficiency.comprehensive_percent") + Self.value(r, "efficiency.loss_rate_percent")
            + Self.value(r, "efficiency.station_service_rate_percent")
        #expect(abs(sum - 100) < 1e-9)
        // EFC 1800 / 2000 = 0.9; hours 1800 / 1000 = 1.8; annualised 1.8 × 8760 / 24 = 657;
        // 等效利用系数 (2000 + 1800) / (1000 × 24) = 15.8333 %.
        #expect(abs(Self.value(r, "utilisation.equivalent_full_cycles") - 0.9) < 1e-9)
        #expect(abs(Self.value(r, "utilisation.hours") - 1.8) < 1e-9)
        #expect(abs(Self.value(r, "utilisation.hours_annualised") - 657) < 1e-6)
        #expect(r["utilisation.hours_annualised"]!.notes.contains { $0.hasPrefix("annualised") })
        #expect(abs(Self.value(r, "utilisation.factor_percent") - 15.8333) < 1e-4)
    }

    @Test("one day: availability with a maintenance window")
    func dayAvailability() {
        // Down 20:00–21:00 local; maintenance declared 20:00–20:30 → planned 0.5 h, unplanned 0.5 h.
        let start = SyntheticHistory.march1
        let r = Indicators.compute(SyntheticHistory.input(maintenance: [
            MaintenanceWindow(startMS: start + 20 * 3_600_000, endMS: start + 20 * 3_600_000 + 1_800_000, reason: "inspection")
        ]))
        // 23 / 24 = 95.8333 %.
        #expect(abs(Self.value(r, "availability.factor_percent") - 95.8333) < 1e-4)
        #expect(abs(Self.value(r, "availability.available_hours") - 23) < 1e-9)
        #expect(Self.value(r, "availability.comm_loss_hours") == 0)
        #expect(abs(Self.value(r, "availability.planned_outage_hours") - 0.5) < 1e-9)
        #expect(abs(Self.value(r, "availability.unplanned_outage_hours") - 0.5) < 1e-9)
        #expect(abs(Self.value(r, "availability.planned_outage_factor_percent") - 0.5 / 24 * 100) < 1e-9)
    }

    @Test("one day: depth of discharge and SoC window")
    func dayDischarge() {
        let r = Indicators.compute(SyntheticHistory.input())
        // Two events (10–12, 14–16), 95 → 50 and 50 → 5: DoD 45 each.
        #expect(r.dischargeEvents.count == 2)
        #expect(r.dischargeEvents.allSatisfy { $0.complete })
        #expect(abs(Self.value(r, "discharge.dod_mean_percent") - 45) < 1e-9)
        #expect(abs(Self.value(r, "discharge.dod_max_percent") - 45) < 1e-9)
        #expect(Self.value(r, "soc.min_percent") == 5)
        #expect(Self.value(r, "soc.max_percent") == 95)
        #expect(r.dischargeEvents[0].startMS == SyntheticHistory.march1 + 10 * 3_600_000)
        #expect(r.dischargeEvents[0].endMS == SyntheticHistory.march1 + 12 * 3_600_000)
    }

    @Test("one day: safety counts")
    func daySafety() {
        let r = Indicators.compute(SyntheticHistory.input())
        #expect(Self.value(r, "safety.cell_temp_over_minutes") == 5)
        #expect(Self.value(r, "safety.cell_voltage_excursion_minutes") == 3)
        #expect(Self.value(r, "safety.fault_slots") == 60)
        #expect(Self.value(r, "safety.alarm_slots") == 2)
        // A stricter limit counts nothing more (30 °C is not > 30 °C); a laxer one nothing.
        let lax = Indicators.compute(SyntheticHistory.input(), settings: IndicatorSettings(cellTempLimitC: 50, cellVoltageMaxV: 3.8))
        #expect(Self.value(lax, "safety.cell_temp_over_minutes") == 0)
        #expect(Self.value(lax, "safety.cell_voltage_excursion_minutes") == 0)
    }

    @Test("one day: peak shifting on the Guangdong tariff")
    func dayPeakShifting() {
        let r = Indicators.compute(SyntheticHistory.input(), tariff: BuiltInTariffs.guangdong2021)
        // All charge 00–04 is valley; all discharge 10–12 and 14–16 is peak (March: no sharp).
        #expect(abs(Self.value(r, "peak.valley_charge_share_percent") - 100) < 1e-9)
        #expect(abs(Self.value(r, "peak.peak_discharge_share_percent") - 100) < 1e-9)
        #expect(abs(Self.value(r, "peak.shifted_kwh") - 1800) < 1e-9)
        // 1800 × 1.7 − 2000 × 0.38 = 3060 − 760 = 2300 flat-price kWh.
        #expect(abs(Self.value(r, "peak.value") - 2300) < 1e-9)
        #expect(r["peak.value"]?.unit == "flat-kWh")
        // At a flat price of 0.6 CNY/kWh: 2300 × 0.6 = 1380 CNY.
        let priced = Indicators.compute(SyntheticHistory.input(), tariff: BuiltInTariffs.guangdong2021,
            settings: IndicatorSettings(flatPriceCNYPerKWh: 0.6))
        #expect(abs(Self.value(priced, "peak.value") - 1380) < 1e-9)
        #expect(priced["peak.value"]?.unit == "CNY")
        // Beijing has no peak/valley ratios in KPIS.md: the value is unknown, never guessed.
        let bj = Indicators.compute(SyntheticHistory.input(), tariff: BuiltInTariffs.beijing2023)
        #expect(bj["peak.value"]?.status == .insufficientData)
        // Beijing periods: charge 00–04 valley (100 %); discharge 10–12 peak, 14–16 flat → 50 %.
        #expect(abs(Self.value(bj, "peak.peak_discharge_share_percent") - 50) < 1e-9)
        // Yunnan: charge 00–02 flat, 02–04 valley → 50 %; discharge 10–12 flat, 14–16 valley → 0 %.
        let yn = Indicators.compute(SyntheticHistory.input(), tariff: BuiltInTariffs.yunnan2024)
        #expect(abs(Self.value(yn, "peak.valley_charge_share_percent") - 50) < 1e-9)
        #expect(Self.value(yn, "peak.peak_discharge_share_percent") == 0)
    }

    @Test("one day: completeness is full")
    func dayCompleteness() {
        let r = Indicators.compute(SyntheticHistory.input())
        #expect(Self.value(r, "completeness.mean_percent") == 100)
        #expect(r.dayCompleteness.count == 1)
        #expect(r.dayCompleteness[0].date == LocalDate(year: 2024, month: 3, day: 1))
        #expect(r.signalCompleteness.count == 12)
    }

    @Test("one week: totals are seven days, daily rows per local date")
    func week() {
        let r = Indicators.compute(SyntheticHistory.input(days: 7), tariff: BuiltInTariffs.guangdong2021)
        #expect(abs(Self.value(r, "energy.discharge_kwh") - 7 * 1800) < 1e-6)
        #expect(abs(Self.value(r, "utilisation.equivalent_full_cycles") - 6.3) < 1e-9)
        // Annualised: 12.6 h × 8760 / 168 = 657.
        #expect(abs(Self.value(r, "utilisation.hours_annualised") - 657) < 1e-6)
        #expect(r.dischargeEvents.count == 14)
        #expect(r.dayCompleteness.map(\.date.day) == [1, 2, 3, 4, 5, 6, 7])
        #expect(abs(Self.value(r, "peak.value") - 7 * 2300) < 1e-6)
    }

    @Test("one year at 1 min: Zhejiang utilisation passes at 657 h")
    func year() {
        // 2023-01-01 00:00 +08 → 365 days, 525 600 slots, site group only.
        let start = Int64(LocalDate(year: 2023, month: 1, day: 1).daysSinceEpoch) * 86_400_000 - 8 * 3_600_000
        let input = SyntheticHistory.input(startUTCMS: start, days: 365, withDevices: false)
        let r = Indicators.compute(input, tariff: BuiltInTariffs.guangdong2021)
        // E_d = 1800 × 365 = 657 000 kWh; hours = 657 = annualised (T = 8760 h).
        #expect(abs(Self.value(r, "energy.discharge_kwh") - 657_000) < 1e-3)
        #expect(abs(Self.value(r, "utilisation.hours") - 657) < 1e-6)
        #expect(abs(Self.value(r, "utilisation.hours_annualised") - 657) < 1e-6)
        #expect(r["utilisation.hours_annualised"]!.notes.isEmpty)
        #expect(abs(Self.value(r, "utilisation.equivalent_full_cycles") - 328.5) < 1e-6)
        #expect(r.dayCompleteness.count == 365)
        // July–September 11–12 and 15–17 are sharp: discharge 11–12 (450) and 15–16 (450) per day
        // are sharp, still peak-like, so the peak share stays 100 %.
        #expect(abs(Self.value(r, "peak.peak_discharge_share_percent") - 100) < 1e-9)
        // Value: 273 non-summer days × 2300 + 92 summer days × (900 × 1.7 + 900 × 2.125 − 760)
        // = 627 900 + 92 × 2682.5 = 627 900 + 246 790 = 874 690 flat-kWh.
        #expect(abs(Self.value(r, "peak.value") - 874_690) < 1e-3)
        let check = PolicyEvaluator.evaluate(BuiltInPolicies.zhejiang2021, context: PolicyContext(facts: SyntheticHistory.facts), report: r)
        #expect(check.results.first { $0.criterion.id == "zj.utilisation" }?.verdict == .pass)
        #expect(check.results.first { $0.criterion.id == "zj.ac_efficiency" }?.verdict == .pass)
    }
}
