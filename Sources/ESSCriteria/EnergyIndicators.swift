import ESSCore

/// Charge and discharge energy of the storage (E_c, E_d), from counters and from integrated
/// power, kept apart; and the storage meter's import and export (E_off, E_on).
struct EnergyAccounting {
    var hasCounter = false
    var hasPower = false
    var counterChargeKWh = 0.0
    var counterDischargeKWh = 0.0
    var integratedChargeKWh = 0.0
    var integratedDischargeKWh = 0.0
    /// Worst group's fraction of the window covered by both counters / by integration.
    var counterCoverage = 1.0
    var integratedCoverage = 1.0
    var unaccountedMS: Int64 = 0
    var counterResets = 0
    /// Per slot E_c and E_d from the preferred source (NaN where unknown), summed over groups.
    var slotChargeKWh: [Double]
    var slotDischargeKWh: [Double]
    /// Counters where every energy group has them, else integrated power.
    var usesCounter: Bool { hasCounter && !counterOnlyPartial }
    var counterOnlyPartial = false

    init(_ ctx: IndicatorContext) {
        // The energy groups (as `IndicatorInput.energyGroups`) with their grids, reusing the
        // context's grids instead of laying the slots out again.
        let namedDevices = ctx.input.devices.indices.filter { ctx.input.energyGroupIDs.contains(ctx.input.devices[$0].groupID) }
        let groups = namedDevices.isEmpty ? [ctx.input.site] : namedDevices.map { ctx.input.devices[$0] }
        let grids = namedDevices.isEmpty ? [ctx.siteGrid] : namedDevices.map {
            ctx.input.devices[$0].groupID == ctx.input.site.groupID ? ctx.siteGrid : ctx.deviceGrids[$0]
        }
        let n = ctx.input.slotCount
        slotChargeKWh = [Double](repeating: .nan, count: n)
        slotDischargeKWh = [Double](repeating: .nan, count: n)
        var groupsWithCounter = 0
        var groupsWithPower = 0
        var groupGrids: [[ConsolidatedSlot?]] = []
        for (group, grid) in zip(groups, grids) {
            groupGrids.append(grid)
            let counters = group.indices.chargeCounter != nil && group.indices.dischargeCounter != nil
            if counters { groupsWithCounter += 1 }
            if group.indices.power != nil { groupsWithPower += 1 }
            var integratedMS: Int64 = 0
            for cell in grid {
                guard let e = cell?.energy else { continue }
                if e.counterChargeKWh.isFinite { counterChargeKWh += e.counterChargeKWh }
                if e.counterDischargeKWh.isFinite { counterDischargeKWh += e.counterDischargeKWh }
                if e.integratedChargeKWh.isFinite { integratedChargeKWh += e.integratedChargeKWh }
                if e.integratedDischargeKWh.isFinite { integratedDischargeKWh += e.integratedDischargeKWh }
                integratedMS += e.integratedMS
                counterResets += e.counterResets
            }
            if let c = group.indices.chargeCounter, let d = group.indices.dischargeCounter {
                counterCoverage = min(counterCoverage, ctx.coverage(grid, c), ctx.coverage(grid, d))
            }
            if group.indices.power != nil {
                let cov = ctx.windowMS > 0 ? Double(integratedMS) / Double(ctx.windowMS) : 0
                integratedCoverage = min(integratedCoverage, cov)
                unaccountedMS += max(0, ctx.windowMS - integratedMS)
            }
        }
        hasCounter = groupsWithCounter > 0
        counterOnlyPartial = groupsWithCounter < groups.count
        hasPower = groupsWithPower > 0
        if !hasCounter { counterCoverage = 0 }
        if !hasPower { integratedCoverage = 0 }
        if !hasPower { unaccountedMS = ctx.windowMS }
        let useCounter = hasCounter && !counterOnlyPartial
        for grid in groupGrids {
            for i in 0..<min(n, grid.count) {
                guard let e = grid[i]?.energy else { continue }
                let c = useCounter ? e.counterChargeKWh : e.integratedChargeKWh
                let d = useCounter ? e.counterDischargeKWh : e.integratedDischargeKWh
                if c.isFinite { slotChargeKWh[i] = (slotChargeKWh[i].isNaN ? 0 : slotChargeKWh[i]) + c }
                if d.isFinite { slotDischargeKWh[i] = (slotDischargeKWh[i].isNaN ? 0 : slotDischargeKWh[i]) + d }
            }
        }
    }

    var chargeKWh: Double { usesCounter ? counterChargeKWh : (hasPower ? integratedChargeKWh : .nan) }
    var dischargeKWh: Double { usesCounter ? counterDischargeKWh : (hasPower ? integratedDischargeKWh : .nan) }
    var coverage: Double { usesCounter ? counterCoverage : integratedCoverage }
    var sourceNote: String {
        usesCounter ? "from energy counters" : (hasPower ? "from integrated active power" : "no counter and no power signal")
    }
}

/// The storage meter's import (E_off) and export (E_on), from its counter signals.
struct MeterAccounting {
    var importKWh = Double.nan
    var exportKWh = Double.nan
    var coverage = 0.0
    var resets = 0

    init?(_ ctx: IndicatorContext) {
        guard let meter = ctx.input.meter, let grid = ctx.meterGrid, let imp = meter.indices.meterImport,
            let exp = meter.indices.meterExport
        else { return nil }
        let i = CounterDelta(grid: grid, index: imp)
        let e = CounterDelta(grid: grid, index: exp)
        importKWh = i.readings ? i.kWh : .nan
        exportKWh = e.readings ? e.kWh : .nan
        resets = i.resets + e.resets
        coverage = min(ctx.coverage(grid, imp), ctx.coverage(grid, exp))
    }
}

enum EnergyIndicators {
    static func compute(_ ctx: IndicatorContext, _ energy: EnergyAccounting, _ meter: MeterAccounting?) -> [IndicatorValue] {
        let m = ctx.minimum
        var out: [IndicatorValue] = []
        let note = energy.sourceNote
        out.append(.make("energy.charge_kwh", energy.chargeKWh, "kWh", coverage: energy.coverage, minimum: m,
            formula: "E_c: Σ counter deltas, else ∫ max(−P, 0) dt", confidence: .verified, notes: [note]))
        out.append(.make("energy.discharge_kwh", energy.dischargeKWh, "kWh", coverage: energy.coverage, minimum: m,
            formula: "E_d: Σ counter deltas, else ∫ max(P, 0) dt", confidence: .verified, notes: [note]))
        if energy.hasCounter {
            var notes = energy.counterResets > 0 ? ["\(energy.counterResets) counter resets (never counted as energy)"] : []
            if energy.counterOnlyPartial { notes.append("not every energy group has counters: totals are partial") }
            out.append(.make("energy.charge_counter_kwh", energy.counterChargeKWh, "kWh", coverage: energy.counterCoverage,
                minimum: m, formula: "Σ charge counter deltas", confidence: .verified, notes: notes,
                inputsOK: !energy.counterOnlyPartial))
            out.append(.make("energy.discharge_counter_kwh", energy.counterDischargeKWh, "kWh", coverage: energy.counterCoverage,
                minimum: m, formula: "Σ discharge counter deltas", confidence: .verified, notes: notes,
                inputsOK: !energy.counterOnlyPartial))
        }
        if energy.hasPower {
            out.append(.make("energy.charge_integrated_kwh", energy.integratedChargeKWh, "kWh", coverage: energy.integratedCoverage,
                minimum: m, formula: "trapezoid ∫ max(−P, 0) dt", confidence: .verified))
            out.append(.make("energy.discharge_integrated_kwh", energy.integratedDischargeKWh, "kWh",
                coverage: energy.integratedCoverage, minimum: m, formula: "trapezoid ∫ max(P, 0) dt", confidence: .verified))
        }
        out.append(IndicatorValue(
            id: "energy.unaccounted_hours", value: Double(energy.unaccountedMS) / 3_600_000, unit: "h",
            coverage: energy.integratedCoverage, status: .ok,
            formula: "window − time integrated from power (gaps longer than the heartbeat, summed over energy groups)",
            confidence: .verified))
        if let meter {
            out.append(.make("meter.import_kwh", meter.importKWh, "kWh", coverage: meter.coverage, minimum: m,
                formula: "E_off: Σ meter import counter steps", confidence: .verified,
                notes: meter.resets > 0 ? ["\(meter.resets) meter counter resets"] : []))
            out.append(.make("meter.export_kwh", meter.exportKWh, "kWh", coverage: meter.coverage, minimum: m,
                formula: "E_on: Σ meter export counter steps", confidence: .verified,
                notes: meter.resets > 0 ? ["\(meter.resets) meter counter resets"] : []))
        }
        return out
    }
}

enum EfficiencyIndicators {
    static func compute(_ ctx: IndicatorContext, _ energy: EnergyAccounting, _ meter: MeterAccounting?) -> [IndicatorValue] {
        let m = ctx.minimum
        let ec = energy.chargeKWh
        let ed = energy.dischargeKWh
        var out: [IndicatorValue] = []
        out.append(.make("efficiency.ac_round_trip_percent", ec > 0 ? ed / ec * 100 : .nan, "%", coverage: energy.coverage,
            minimum: m, formula: "E_d / E_c × 100", confidence: .verified, notes: [energy.sourceNote]))
        guard let meter else { return out }
        let eoff = meter.importKWh
        let eon = meter.exportKWh
        let cov = min(meter.coverage, energy.coverage)
        out.append(.make("efficiency.comprehensive_percent", eoff > 0 ? eon / eoff * 100 : .nan, "%", coverage: meter.coverage,
            minimum: m, formula: "综合效率 E_on / E_off × 100", confidence: .secondary))
        out.append(.make("efficiency.loss_rate_percent", eoff > 0 ? (ec - ed) / eoff * 100 : .nan, "%", coverage: cov,
            minimum: m, formula: "储能损耗率 (E_c − E_d) / E_off × 100", confidence: .secondary))
        out.append(.make("efficiency.station_service_rate_percent", eoff > 0 ? ((eoff - ec) + (ed - eon)) / eoff * 100 : .nan,
            "%", coverage: cov, minimum: m, formula: "站用电率 W_aux / E_off × 100, W_aux = (E_off − E_c) + (E_d − E_on)",
            confidence: .secondary, notes: ["no auxiliary meter: W_aux is the balance [S]"]))
        return out
    }
}
