import ESSCore
import ESSCriteria

/// Builds small synthetic 1-min histories whose indicators are known by hand. One "day" is
/// the profile below, in local time (UTC+8), P_N = 1000 kW, E_N = 2000 kWh:
///
/// | local time  | power      | SoC        | other |
/// | 00:00–04:00 | −500 kW    | 5 → 95 %   | charge 2000 kWh (Guangdong valley) |
/// | 10:00–12:00 | +450 kW    | 95 → 50 %  | discharge 900 kWh (peak) |
/// | 14:00–16:00 | +450 kW    | 50 → 5 %   | discharge 900 kWh (peak) |
/// | 20:00–21:00 | 0          |            | available 0, BMS fault 1 (60 slots) |
/// | 13:00–13:05 |            |            | cell temp 46 °C (5 min) |
/// | 13:10–13:13 |            |            | cell voltage max 3.7 V (3 min) |
/// | 18:00–18:02 |            |            | alarm word 4 (2 slots) |
/// Meter: import = charge + 1 kWh/h auxiliary (E_off 2024 kWh/day); export = 0.98 × discharge (E_on 1764).
enum SyntheticHistory {
    static let facts = SiteFacts(
        id: "test", name: "Test site", province: "Guangdong", ratedPowerKW: 1000, ratedEnergyKWh: 2000,
        technologyRoute: "lithium_iron_phosphate", locationCategory: "industrial_plant", totalInvestmentCNY: 50_000_000,
        commissioningDate: "2023-01-01", timeZone: "Asia/Shanghai")

    /// Site: soc, power, available, charge counter, discharge counter.
    static let site = SeriesSchema(
        groupID: "site",
        signals: [
            SignalDefinition(name: "soc_percent", role: .socPercent, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "active_power_kw", role: .activePowerKW, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "available", role: .available, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "charge_energy_total_kwh", role: .chargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "discharge_energy_total_kwh", role: .dischargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["1m"]),
        ],
        energy: EnergySources(activePower: 1, chargeCounter: 3, dischargeCounter: 4))

    /// BMS: cell temp max, cell voltage max/min, fault, alarm word.
    static let bms = SeriesSchema(
        groupID: "bms1",
        signals: [
            SignalDefinition(name: "t_max", role: .cellTempMaxC, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "v_max", role: .cellVoltageMaxV, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "v_min", role: .cellVoltageMinV, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "fault", role: .fault, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "alarm", role: .alarmWord, heartbeatMS: 3000, tiers: ["1m"]),
        ],
        energy: EnergySources())

    static let meter = SeriesSchema(
        groupID: "meter",
        signals: [
            SignalDefinition(name: "imp", role: .meterImportEnergyTotalKWh, heartbeatMS: 3000, tiers: ["1m"]),
            SignalDefinition(name: "exp", role: .meterExportEnergyTotalKWh, heartbeatMS: 3000, tiers: ["1m"]),
        ],
        energy: EnergySources())

    /// A constant value held over the whole minute.
    static func held(_ v: Double) -> SlotSummary {
        SlotSummary(count: 60, coveredMS: 60_000, min: v, max: v, mean: v, first: v, last: v)
    }

    /// A value moving linearly from a to b over the minute.
    static func ramp(_ a: Double, _ b: Double) -> SlotSummary {
        SlotSummary(count: 60, coveredMS: 60_000, min: min(a, b), max: max(a, b), mean: (a + b) / 2, first: a, last: b)
    }

    /// Power (kW) at local minute m of the day.
    static func power(_ m: Int) -> Double {
        switch m {
        case 0..<240: -500
        case 600..<720, 840..<960: 450
        default: 0
        }
    }

    /// SoC at the start of local minute m.
    static func soc(_ m: Int) -> Double {
        switch m {
        case ..<0: 5
        case 0..<240: 5 + 90 * Double(m) / 240
        case 240..<600: 95
        case 600..<720: 95 - 45 * Double(m - 600) / 120
        case 720..<840: 50
        case 840..<960: 50 - 45 * Double(m - 840) / 120
        default: 5
        }
    }

    struct Groups {
        var site: [ConsolidatedSlot] = []
        var bms: [ConsolidatedSlot] = []
        var meter: [ConsolidatedSlot] = []
    }

    /// `days` days of the profile starting at local midnight `startUTCMS` (UTC+8 local),
    /// leaving out the local minutes `skip(day, minute)` says are missing (in every group).
    static func history(startUTCMS: Int64, days: Int, withDevices: Bool = true, skip: (Int, Int) -> Bool = { _, _ in false }) -> Groups {
        var g = Groups()
        g.site.reserveCapacity(days * 1440)
        var chargeTotal = 10_000.0
        var dischargeTotal = 20_000.0
        var importTotal = 30_000.0
        var exportTotal = 40_000.0
        for day in 0..<days {
            for m in 0..<1440 {
                let start = startUTCMS + Int64(day * 1440 + m) * 60_000
                let p = power(m)
                let c = p < 0 ? -p / 60 : 0
                let d = p > 0 ? p / 60 : 0
                let imp0 = importTotal, exp0 = exportTotal, chg0 = chargeTotal, dis0 = dischargeTotal
                chargeTotal += c
                dischargeTotal += d
                importTotal += c + 1.0 / 60
                exportTotal += 0.98 * d
                if skip(day, m) { continue }
                let available = (1200..<1260).contains(m) ? 0.0 : 1.0
                let energy = EnergySummary(
                    counterChargeKWh: c, counterDischargeKWh: d, integratedChargeKWh: c, integratedDischargeKWh: d,
                    integratedMS: 60_000)
                g.site.append(ConsolidatedSlot(
                    groupID: "site", tier: "1m", startMS: start,
                    signals: [ramp(soc(m), soc(m + 1)), held(p), held(available), ramp(chg0, chargeTotal), ramp(dis0, dischargeTotal)],
                    energy: energy))
                guard withDevices else { continue }
                let temp = (780..<785).contains(m) ? 46.0 : 30.0
                let vmax = (790..<793).contains(m) ? 3.7 : 3.3
                let fault = (1200..<1260).contains(m) ? 1.0 : 0.0
                let alarm = (1080..<1082).contains(m) ? 4.0 : 0.0
                g.bms.append(ConsolidatedSlot(
                    groupID: "bms1", tier: "1m", startMS: start,
                    signals: [held(temp), held(vmax), held(3.2), held(fault), held(alarm)], energy: nil))
                g.meter.append(ConsolidatedSlot(
                    groupID: "meter", tier: "1m", startMS: start, signals: [ramp(imp0, importTotal), ramp(exp0, exportTotal)], energy: nil))
            }
        }
        return g
    }

    /// 2024-03-01 00:00 +08:00 = 2024-02-29 16:00 UTC.
    static let march1 = Int64(LocalDate(year: 2024, month: 3, day: 1).daysSinceEpoch) * 86_400_000 - 8 * 3_600_000

    static func input(
        startUTCMS: Int64 = march1, days: Int = 1, withDevices: Bool = true, maintenance: [MaintenanceWindow] = [],
        skip: @escaping (Int, Int) -> Bool = { _, _ in false }
    ) -> IndicatorInput {
        let g = history(startUTCMS: startUTCMS, days: days, withDevices: withDevices, skip: skip)
        return IndicatorInput(
            windowStartMS: startUTCMS, windowEndMS: startUTCMS + Int64(days) * 86_400_000, slotMS: 60_000, facts: facts,
            site: GroupSeries(schema: site, slots: g.site),
            devices: withDevices ? [GroupSeries(schema: bms, slots: g.bms)] : [],
            meter: withDevices ? GroupSeries(schema: meter, slots: g.meter) : nil,
            maintenance: maintenance)
    }
}
