import ESSCore

/// Minutes with cell temperature over the limit, minutes with cell voltage outside its
/// window, and slots with a fault or alarm, over every group that carries those signals.
/// A slot counts once however many groups exceeded in it; a slot counts whole when its
/// maximum (or minimum) crossed, so minutes are an upper bound at the tier's resolution.
enum SafetyIndicators {
    static func compute(_ ctx: IndicatorContext) -> [IndicatorValue] {
        let m = ctx.minimum
        let s = ctx.settings
        let groups = [(ctx.input.site, ctx.siteGrid)] + zip(ctx.input.devices, ctx.deviceGrids).map { ($0, $1) }
        let n = ctx.input.slotCount
        var temp = [Bool](repeating: false, count: n)
        var volt = [Bool](repeating: false, count: n)
        var fault = [Bool](repeating: false, count: n)
        var alarm = [Bool](repeating: false, count: n)
        var tempCov: [Double] = []
        var voltCov: [Double] = []
        var faultCov: [Double] = []
        var alarmCov: [Double] = []
        for (group, grid) in groups {
            let idx = group.indices
            if let t = idx.cellTempMax { tempCov.append(ctx.coverage(grid, t)) }
            if idx.cellVoltageMax != nil || idx.cellVoltageMin != nil {
                voltCov.append(min(idx.cellVoltageMax.map { ctx.coverage(grid, $0) } ?? 1, idx.cellVoltageMin.map { ctx.coverage(grid, $0) } ?? 1))
            }
            if let f = idx.fault { faultCov.append(ctx.coverage(grid, f)) }
            if let a = idx.alarmWord { alarmCov.append(ctx.coverage(grid, a)) }
            for i in 0..<min(n, grid.count) {
                let cell = grid[i]
                if let v = IndicatorContext.summary(cell, idx.cellTempMax), v.max > s.cellTempLimitC { temp[i] = true }
                if let v = IndicatorContext.summary(cell, idx.cellVoltageMax), v.max > s.cellVoltageMaxV { volt[i] = true }
                if let v = IndicatorContext.summary(cell, idx.cellVoltageMin), v.min < s.cellVoltageMinV { volt[i] = true }
                if let v = IndicatorContext.summary(cell, idx.fault), v.max != 0 || v.min != 0 { fault[i] = true }
                if let v = IndicatorContext.summary(cell, idx.alarmWord), v.max != 0 || v.min != 0 { alarm[i] = true }
            }
        }
        func minutes(_ flags: [Bool]) -> Double {
            var ms: Int64 = 0
            for i in 0..<flags.count where flags[i] { ms += ctx.input.slotLengthMS(i) }
            return Double(ms) / 60_000
        }
        func mean(_ c: [Double]) -> Double { c.isEmpty ? 0 : c.reduce(0, +) / Double(c.count) }
        func missing(_ c: [Double], _ what: String) -> [String] { c.isEmpty ? ["no group has a \(what) signal"] : [] }
        let resolution = "upper bound at \(ctx.input.slotMS / 60_000)-min resolution"
        return [
            .make("safety.cell_temp_over_minutes", tempCov.isEmpty ? .nan : minutes(temp), "min", coverage: mean(tempCov), minimum: m,
                formula: "Σ slot length where max cell temperature > \(s.cellTempLimitC) °C", confidence: .inferred,
                notes: missing(tempCov, "cell_temp_max_c") + [resolution]),
            .make("safety.cell_voltage_excursion_minutes", voltCov.isEmpty ? .nan : minutes(volt), "min", coverage: mean(voltCov),
                minimum: m, formula: "Σ slot length where cell voltage left [\(s.cellVoltageMinV), \(s.cellVoltageMaxV)] V",
                confidence: .inferred, notes: missing(voltCov, "cell voltage") + [resolution]),
            .make("safety.fault_slots", faultCov.isEmpty ? .nan : Double(fault.filter { $0 }.count), "slots", coverage: mean(faultCov),
                minimum: m, formula: "slots in which any group's fault signal was non-zero", confidence: .inferred,
                notes: missing(faultCov, "fault")),
            .make("safety.alarm_slots", alarmCov.isEmpty ? .nan : Double(alarm.filter { $0 }.count), "slots", coverage: mean(alarmCov),
                minimum: m, formula: "slots in which any group's alarm word was non-zero", confidence: .inferred,
                notes: missing(alarmCov, "alarm_word")),
        ]
    }
}
