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
        // Site and devices, not the meter.
        for g in layout.groups.indices where g != layout.meterGroup {
            let idx = layout.groups[g].indices
            if let t = idx.cellTempMax { tempCov.append(ctx.coverage(g, t)) }
            if idx.cellVoltageMax != nil || idx.cellVoltageMin != nil {
                voltCov.append(min(idx.cellVoltageMax.map { ctx.coverage(g, $0) } ?? 1, idx.cellVoltageMin.map { ctx.coverage(g, $0) } ?? 1))
            }
            if let f = idx.fault { faultCov.append(ctx.coverage(g, f)) }
            if let a = idx.alarmWord { alarmCov.append(ctx.coverage(g, a)) }
        }
        func minutes(_ ms: Int64) -> Double { Double(ms) / 60_000 }
        func mean(_ c: [Double]) -> Double { c.isEmpty ? 0 : c.reduce(0, +) / Double(c.count) }
        func missing(_ c: [Double], _ what: String) -> [String] { c.isEmpty ? ["no group has a \(what) signal"] : [] }
        let resolution = "upper bound at \(ctx.input.slotMS / 60_000)-min resolution"
        return [
            .make("safety.cell_temp_over_minutes", tempCov.isEmpty ? .nan : minutes(tally.tempMS), "min", coverage: mean(tempCov), minimum: m,
                formula: "Σ slot length where max cell temperature > \(s.cellTempLimitC) °C", confidence: .inferred,
                notes: missing(tempCov, "cell_temp_max_c") + [resolution]),
            .make("safety.cell_voltage_excursion_minutes", voltCov.isEmpty ? .nan : minutes(tally.voltMS), "min", coverage: mean(voltCov),
                minimum: m, formula: "Σ slot length where cell voltage left [\(s.cellVoltageMinV), \(s.cellVoltageMaxV)] V",
                confidence: .inferred, notes: missing(voltCov, "cell voltage") + [resolution]),
            .make("safety.fault_slots", faultCov.isEmpty ? .nan : Double(tally.faultSlots), "slots", coverage: mean(faultCov),
                minimum: m, formula: "slots in which any group's fault signal was non-zero", confidence: .inferred,
                notes: missing(faultCov, "fault")),
            .make("safety.alarm_slots", alarmCov.isEmpty ? .nan : Double(tally.alarmSlots), "slots", coverage: mean(alarmCov),
                minimum: m, formula: "slots in which any group's alarm word was non-zero", confidence: .inferred,
                notes: missing(alarmCov, "alarm_word")),
        ]
    }
}
