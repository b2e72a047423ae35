import ArgumentParser
import ESSConfig
import ESSCore
import ESSCriteria
import Foundation

/// `essctl kpi`: every operating indicator over a window, from the store's files.
struct KpiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpi",
        abstract: "Operating indicators over a window (energy, efficiency, availability, safety, peak shifting, completeness).",
        discussion: """
            Reads the store's files (works with essd stopped). --from/--to: now, -90s, -15m, -1h, -2d, or ISO 8601
            (without an offset: site time). The window is widened to whole slots of the tier read: the finest tier
            that still holds the window, usually 1m (--tier overrides). Peak shifting uses the site's tariff ([site] tariff, read
            from tariff_directory, else built in). Status is ok only with coverage ≥ 90 % and a finite value;
            unknown values print as — (JSON null), never 0. Formulas: docs/indicators.md.
            Exit 78 configuration, 74 store, 64 arguments.
            """)

    @OptionGroup var options: SiteOptions

    @OptionGroup var window: IndicatorWindowOptions

    func run() throws {
        try reporting {
            let run = try IndicatorRun.load(options: options, window: window)
            let tariff = try run.criteria.tariffID.map { try run.tariff(id: $0) }
            let report = try run.compute(tariff: tariff?.tariff)
            if options.json {
                return try printJSON(KpiJSON(run: run, report: report, tariff: tariff.map { ($0.tariff.id, $0.path) }))
            }
            print("site \(run.site.site.id): \(CriteriaFormat.windowLine(run.window, zone: run.zone))")
            if let tariff {
                print("tariff \(tariff.tariff.id) (\(tariff.path ?? "built in"))")
            } else {
                print("no tariff configured ([site] tariff): peak-shifting indicators are not computed")
            }
            let rows = report.values.map { v in
                [
                    v.id, IndicatorNames.name(v.id), CriteriaFormat.number(v.value), v.unit, CriteriaFormat.percent(v.coverage),
                    v.status.text, "\(v.formula) \(v.confidence.mark)",
                ]
            }
            print(CriteriaFormat.table(header: ["ID", "NAME", "VALUE", "UNIT", "COVERAGE", "STATUS", "FORMULA"], rows: rows, right: [2, 4]))
            let insufficient = report.values.filter { !$0.status.isUsable }.count
            print("\(report.values.count) indicators, \(insufficient) with insufficient data (coverage below 90 % or no value)")
            if !report.dischargeEvents.isEmpty {
                print("discharge events: \(report.dischargeEvents.count)")
                for e in report.dischargeEvents.prefix(20) {
                    print("  \(SeriesCommand.localTime(e.startMS, zone: run.zone)) – \(SeriesCommand.localTime(e.endMS, zone: run.zone)): SoC \(CriteriaFormat.number(e.socStartPercent, digits: 1)) → \(CriteriaFormat.number(e.socEndPercent, digits: 1)) %\(e.complete ? "" : " (incomplete: not used)")")
                }
            }
        }
    }
}

/// The `kpi --json` document.
struct KpiJSON: Encodable {
    struct Indicator: Encodable {
        var id: String
        var name: String
        var value: Double?
        var unit: String
        var coverage_percent: Double
        var status: String
        var formula: String
        var confidence: String
        var notes: [String]

        init(_ v: IndicatorValue) {
            id = v.id
            name = IndicatorNames.name(v.id)
            value = CriteriaFormat.finite(v.value)
            unit = v.unit
            coverage_percent = v.coverage * 100
            status = v.status.rawValue
            formula = v.formula
            confidence = v.confidence.mark
            notes = v.notes
        }
    }

    struct Event: Encodable {
        var start_ms: Int64
        var end_ms: Int64
        var soc_start_percent: Double?
        var soc_end_percent: Double?
        var depth_of_discharge_percent: Double?
        var complete: Bool
    }

    struct Signal: Encodable {
        var group: String
        var signal: String
        var coverage_percent: Double
        /// null when the signal's sampling interval is unknown.
        var received_samples: Int64
        var expected_samples: Double?
        var samples_percent: Double?
    }

    struct Day: Encodable {
        var date: String
        var mean_percent: Double
        var worst_signal: String
        var worst_percent: Double
        var samples_mean_percent: Double?
        var samples_worst_signal: String?
        var samples_worst_percent: Double?
    }

    struct Tariff: Encodable {
        var id: String
        /// The file read, or "built in".
        var source: String
    }

    var site: String
    var window: CriteriaFormat.WindowJSON
    var tariff: Tariff?
    var indicators: [Indicator]
    var discharge_events: [Event]
    var signal_completeness: [Signal]
    var day_completeness: [Day]

    init(run: IndicatorRun, report: IndicatorReport, tariff: (id: String, path: String?)?) {
        site = run.site.site.id
        window = CriteriaFormat.WindowJSON(run.window, zone: run.zone)
        self.tariff = tariff.map { Tariff(id: $0.id, source: $0.path ?? "built in") }
        indicators = report.values.map(Indicator.init)
        discharge_events = report.dischargeEvents.map {
            Event(
                start_ms: $0.startMS, end_ms: $0.endMS, soc_start_percent: CriteriaFormat.finite($0.socStartPercent),
                soc_end_percent: CriteriaFormat.finite($0.socEndPercent),
                depth_of_discharge_percent: CriteriaFormat.finite($0.depthOfDischargePercent), complete: $0.complete)
        }
        signal_completeness = report.signalCompleteness.map {
            Signal(
                group: $0.groupID, signal: $0.signal, coverage_percent: $0.fraction * 100,
                received_samples: $0.receivedSamples, expected_samples: CriteriaFormat.finite($0.expectedSamples),
                samples_percent: CriteriaFormat.finite($0.sampleFraction * 100))
        }
        day_completeness = report.dayCompleteness.map {
            Day(
                date: $0.date.description, mean_percent: $0.meanFraction * 100, worst_signal: $0.worstSignal,
                worst_percent: $0.worstFraction * 100, samples_mean_percent: CriteriaFormat.finite($0.meanSampleFraction * 100),
                samples_worst_signal: $0.worstSampleSignal.isEmpty ? nil : $0.worstSampleSignal,
                samples_worst_percent: CriteriaFormat.finite($0.worstSampleFraction * 100))
        }
    }

    func encode(to encoder: any Encoder) throws {
        enum Key: String, CodingKey { case site, window, tariff, indicators, discharge_events, signal_completeness, day_completeness }
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(site, forKey: .site)
        try c.encode(window, forKey: .window)
        try c.encode(tariff, forKey: .tariff)  // null when the site has none
        try c.encode(indicators, forKey: .indicators)
        try c.encode(discharge_events, forKey: .discharge_events)
        try c.encode(signal_completeness, forKey: .signal_completeness)
        try c.encode(day_completeness, forKey: .day_completeness)
    }
}

extension KpiJSON.Indicator {
    func encode(to encoder: any Encoder) throws {
        enum Key: String, CodingKey { case id, name, value, unit, coverage_percent, status, formula, confidence, notes }
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(value, forKey: .value)  // null when unknown, never 0
        try c.encode(unit, forKey: .unit)
        try c.encode(coverage_percent, forKey: .coverage_percent)
        try c.encode(status, forKey: .status)
        try c.encode(formula, forKey: .formula)
        try c.encode(confidence, forKey: .confidence)
        try c.encode(notes, forKey: .notes)
    }
}

/// Short bilingual names of the indicators (ids and formulas: docs/indicators.md).
enum IndicatorNames {
    static let names: [String: String] = [
        "energy.charge_kwh": "Charge energy E_c 充电量",
        "energy.discharge_kwh": "Discharge energy E_d 放电量",
        "energy.charge_counter_kwh": "Charge energy, counters 充电量（电能表）",
        "energy.discharge_counter_kwh": "Discharge energy, counters 放电量（电能表）",
        "energy.charge_integrated_kwh": "Charge energy, integrated power 充电量（功率积分）",
        "energy.discharge_integrated_kwh": "Discharge energy, integrated power 放电量（功率积分）",
        "energy.unaccounted_hours": "Hours without power data 无功率数据时长",
        "meter.import_kwh": "Meter import E_off 下网电量",
        "meter.export_kwh": "Meter export E_on 上网电量",
        "efficiency.ac_round_trip_percent": "AC round-trip efficiency 交流侧充放电效率",
        "efficiency.comprehensive_percent": "Comprehensive efficiency 综合效率",
        "efficiency.loss_rate_percent": "Storage loss rate 储能损耗率",
        "efficiency.station_service_rate_percent": "Station service rate 站用电率",
        "utilisation.equivalent_full_cycles": "Equivalent full cycles 等效充放电次数",
        "utilisation.hours": "Utilisation hours 利用小时数",
        "utilisation.hours_annualised": "Utilisation hours per year 年利用小时数",
        "utilisation.factor_percent": "Utilisation factor 等效利用系数",
        "availability.factor_percent": "Availability factor 可用系数",
        "availability.factor_excl_comm_loss_percent": "Availability excl. comm. loss 可用系数（不计通信中断）",
        "availability.available_hours": "Available hours 可用小时",
        "availability.comm_loss_hours": "Communication-loss hours 通信中断小时",
        "availability.planned_outage_hours": "Planned outage hours 计划停运小时",
        "availability.unplanned_outage_hours": "Unplanned outage hours 非计划停运小时",
        "availability.planned_outage_factor_percent": "Planned outage factor 计划停运系数",
        "availability.unplanned_outage_factor_percent": "Unplanned outage factor 非计划停运系数",
        "discharge.events": "Discharge events 放电次数",
        "discharge.dod_mean_percent": "Depth of discharge, mean 平均放电深度",
        "discharge.dod_max_percent": "Depth of discharge, max 最大放电深度",
        "soc.min_percent": "SoC minimum 最低荷电状态",
        "soc.max_percent": "SoC maximum 最高荷电状态",
        "safety.cell_temp_over_minutes": "Cell over-temperature minutes 电芯超温时长",
        "safety.cell_voltage_excursion_minutes": "Cell voltage excursion minutes 电芯电压越限时长",
        "safety.fault_slots": "Slots with a fault 故障时段数",
        "safety.alarm_slots": "Slots with an alarm 告警时段数",
        "peak.valley_charge_share_percent": "Valley charge share 谷段充电占比",
        "peak.peak_discharge_share_percent": "Peak discharge share 峰段放电占比",
        "peak.shifted_kwh": "Energy shifted 移峰填谷电量",
        "peak.value": "Peak-shifting value 峰谷价差价值",
        "completeness.mean_percent": "Data completeness, mean 数据完整率",
        "completeness.worst_signal_percent": "Data completeness, worst signal 最差信号完整率",
        "completeness.samples_mean_percent": "Samples received / expected, mean 数据完整率（条数）",
        "completeness.samples_worst_signal_percent": "Samples received / expected, worst signal 最差信号完整率（条数）",
    ]

    static func name(_ id: String) -> String { names[id] ?? id }
}
