import ESSCore

/// Minutes with cell temperature over the limit, minutes with cell voltage outside its
/// window, and slots with a fault or alarm, over every group that carries those signals.
/// A slot counts once however many groups exceeded in it; a slot counts whole when its
/// maximum (or minimum) crossed, so minutes are an upper bound at the tier's resolution.
enum SafetyIndicators {
    /// Slots (and their length) in which any group crossed, counted once per slot.
    struct Tally {
        var tempMS: Int64 = 0
        var voltMS: Int64 = 0
        var faultSlots = 0
        var alarmSlots = 0

        @inline(__always)
        mutating func add(_ step: IndicatorAccumulator.StepScratch) {
            if step.cellTempOver { tempMS += step.lengthMS }
            if step.cellVoltageOut { voltMS += step.lengthMS }
            if step.anyFault { faultSlots += 1 }
            if step.anyAlarm { alarmSlots += 1 }
        }
    }

    static func compute(_ ctx: IndicatorContext, _ tally: Tally, layout: IndicatorLayout) -> [IndicatorValue] {
        let m = ctx.minimum
        let s = ctx.settings
        var tempCov: [Double] = []
        var voltCov: [Double] = []
        var faultCov: [Double] = []
        var alarmCov: [Double] = []
        // The shortest sampling interval of the temperature and voltage signals (0: unknown):
        // minutes are exact only when every slot holds at most one sample of each.
        var tempInterval = Int64.max
        var voltInterval = Int64.max
        let from = ctx.input.windowStartMS
        let to = ctx.input.windowEndMS
        // Site and devices, not the meter.
        for g in layout.groups.indices where g != layout.meterGroup {
            let group = layout.groups[g]
            let idx = group.indices
            if let t = idx.cellTempMax {
                tempCov.append(ctx.coverage(g, t))
                tempInterval = min(tempInterval, group.shortestSampleIntervalMS(t, fromMS: from, toMS: to))
            }
            if idx.cellVoltageMax != nil || idx.cellVoltageMin != nil {
                voltCov.append(min(idx.cellVoltageMax.map { ctx.coverage(g, $0) } ?? 1, idx.cellVoltageMin.map { ctx.coverage(g, $0) } ?? 1))
                for v in [idx.cellVoltageMax, idx.cellVoltageMin].compactMap({ $0 }) {
                    voltInterval = min(voltInterval, group.shortestSampleIntervalMS(v, fromMS: from, toMS: to))
                }
            }
            if let f = idx.fault { faultCov.append(ctx.coverage(g, f)) }
            if let a = idx.alarmWord { alarmCov.append(ctx.coverage(g, a)) }
        }
        func minutes(_ ms: Int64) -> Double { Double(ms) / 60_000 }
        func mean(_ c: [Double]) -> Double { c.isEmpty ? 0 : c.reduce(0, +) / Double(c.count) }
        func missing(_ c: [Double], _ what: String) -> [String] { c.isEmpty ? ["no group has a \(what) signal"] : [] }
        let slotMS = ctx.input.slotMS
        let slotText = slotMS % 60_000 == 0 ? "\(slotMS / 60_000)-min" : "\(slotMS / 1000)-s"
        /// nil when each slot holds at most one sample (the count is exact), else why it is a bound.
        func bound(_ interval: Int64) -> String? {
            if interval >= slotMS && interval != .max { return nil }
            let sampling = interval > 0 && interval != .max ? "samples every \(numberText(Double(interval) / 1000)) s" : "sampling interval unknown"
            return "upper bound at \(slotText) resolution (\(sampling)): a slot counts whole when any of it crossed the limit"
        }
        /// Why a count over the window is not determined: time without the signal.
        func gaps(_ c: [Double], _ what: String) -> String? {
            let covered = mean(c)
            guard !c.isEmpty, covered < 1 - 1e-9 else { return nil }
            return "\(percentText(1 - covered)) of the window has no \(what): what happened there is unknown"
        }
        return [
            .make("safety.cell_temp_over_minutes", tempCov.isEmpty ? .nan : minutes(tally.tempMS), "min", coverage: mean(tempCov), minimum: m,
                formula: "Σ slot length where max cell temperature > \(s.cellTempLimitC) °C", confidence: .inferred,
                notes: missing(tempCov, "cell_temp_max_c"), undetermined: gaps(tempCov, "cell temperature"),
                upperBound: bound(tempInterval)),
            .make("safety.cell_voltage_excursion_minutes", voltCov.isEmpty ? .nan : minutes(tally.voltMS), "min", coverage: mean(voltCov),
                minimum: m, formula: "Σ slot length where cell voltage left [\(s.cellVoltageMinV), \(s.cellVoltageMaxV)] V",
                confidence: .inferred, notes: missing(voltCov, "cell voltage"), undetermined: gaps(voltCov, "cell voltage"),
                upperBound: bound(voltInterval)),
            .make("safety.fault_slots", faultCov.isEmpty ? .nan : Double(tally.faultSlots), "slots", coverage: mean(faultCov),
                minimum: m, formula: "\(slotText) slots in which any group's fault signal was non-zero", confidence: .inferred,
                notes: missing(faultCov, "fault"), undetermined: gaps(faultCov, "fault signal")),
            .make("safety.alarm_slots", alarmCov.isEmpty ? .nan : Double(tally.alarmSlots), "slots", coverage: mean(alarmCov),
                minimum: m, formula: "\(slotText) slots in which any group's alarm word was non-zero", confidence: .inferred,
                notes: missing(alarmCov, "alarm_word"), undetermined: gaps(alarmCov, "alarm word")),
        ]
    }
}
