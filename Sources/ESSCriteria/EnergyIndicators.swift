import ESSCore

/// Charge and discharge energy of the storage (E_c, E_d), from counters and from integrated
/// power, kept apart; summed step by step over the energy groups.
struct EnergyAccounting {
    var hasCounter = false
    var hasPower = false
    var counterChargeKWh = 0.0
    var counterDischargeKWh = 0.0
    var integratedChargeKWh = 0.0
    var integratedDischargeKWh = 0.0
    var counterResets = 0
    /// Worst group's fraction of the window covered by both counters / by integration, and the
    /// time not integrated from power (set by `finalize`).
    var counterCoverage = 1.0
    var integratedCoverage = 1.0
    var unaccountedMS: Int64 = 0
    /// Counters where every energy group has them and the window holds counter readings, else
    /// integrated power (the documented fallback); counters again when there is no power either.
    var usesCounter: Bool { hasCounter && !counterOnlyPartial && (counterSeen || !hasPower) }
    var counterOnlyPartial = false
    /// Whether any counter delta (charge / discharge) was read in the window: without one the
    /// counter sums are unknown, not 0.
    var counterChargeSeen = false
    var counterDischargeSeen = false
    var counterSeen: Bool { counterChargeSeen || counterDischargeSeen }
    /// Per energy group: time integrated from power so far.
    var integratedMS: [Int64]
    /// Per energy source (`layout.energySources` order): its charge and discharge counters'
    /// readings, to find each counter's resets with their time; `sourcePosition[g]` is group
    /// `g`'s place there, −1 when it is not an energy source.
    var chargeReadings: [CounterDelta]
    var dischargeReadings: [CounterDelta]
    let sourcePosition: [Int]
    let sourceGroupIDs: [String]
    /// Whether counter gaps are followed for peak shifting (only with a tariff), and per source
    /// its charge and discharge counters' gaps (`CounterGapState`).
    let tracksGaps: Bool
    var chargeGaps: [CounterGapState]
    var dischargeGaps: [CounterGapState]
    /// This step's counter readings, 2 bits per source (charge, discharge) for the first 32
    /// sources (the rest note them in their `CounterGapState`): no array write per step.
    var readMask: UInt64 = 0
    /// Counter steps across gaps that closed in this step, spread per tariff-period lane (taken
    /// out of the step's counter energy); `hasSpread` when any.
    var spreadCharge = SIMD8<Double>()
    var spreadDischarge = SIMD8<Double>()
    var hasSpread = false
    /// Counter steps (kWh) across gaps spanning more than one tariff period, spread over them:
    /// energy whose period is estimated.
    var chargeSpreadAcrossPeriodsKWh: Double { chargeGaps.reduce(0) { $0 + $1.spreadAcrossPeriodsKWh } }
    var dischargeSpreadAcrossPeriodsKWh: Double { dischargeGaps.reduce(0) { $0 + $1.spreadAcrossPeriodsKWh } }

    init(_ input: IndicatorInput, layout: IndicatorLayout, tracksGaps: Bool = false) {
        let groups = layout.energySources.map { layout.groups[$0] }
        let withCounter = groups.filter { $0.indices.chargeCounter != nil && $0.indices.dischargeCounter != nil }.count
        hasCounter = withCounter > 0
        counterOnlyPartial = withCounter < groups.count
        hasPower = groups.contains { $0.indices.power != nil }
        integratedMS = [Int64](repeating: 0, count: groups.count)
        var position = [Int](repeating: -1, count: layout.groups.count)
        for (k, g) in layout.energySources.enumerated() where position[g] < 0 { position[g] = k }
        sourcePosition = position
        sourceGroupIDs = layout.energySources.map { layout.groups[$0].groupID }
        chargeReadings = Array(repeating: CounterDelta(), count: layout.energySources.count)
        dischargeReadings = chargeReadings
        self.tracksGaps = tracksGaps
        chargeGaps = Array(repeating: CounterGapState(), count: layout.energySources.count)
        dischargeGaps = chargeGaps
    }

    /// Whether group `g` is an energy source (its counters are watched for resets).
    @inline(__always)
    func isSource(_ g: Int) -> Bool { sourcePosition[g] >= 0 }

    /// Energy source group `group`'s counter readings of one step (slot start `atMS`).
    @inline(__always)
    mutating func observeCounters(group: Int, charge: SlotSummary?, discharge: SlotSummary?, atMS: Int64) {
        let k = sourcePosition[group]
        guard k >= 0 else { return }
        if tracksGaps {
            if chargeGaps[k].open || k >= 32 {
                chargeGaps[k].note(charge, last: chargeReadings[k].lastReading)
            } else if let c = charge, c.first.isFinite, c.last.isFinite {
                readMask |= 1 << UInt64(2 * k)
            }
            if dischargeGaps[k].open || k >= 32 {
                dischargeGaps[k].note(discharge, last: dischargeReadings[k].lastReading)
            } else if let d = discharge, d.first.isFinite, d.last.isFinite {
                readMask |= 2 << UInt64(2 * k)
            }
        }
        chargeReadings[k].add(charge, atMS: atMS)
        dischargeReadings[k].add(discharge, atMS: atMS)
    }

    /// Every reset seen between or inside slots, per counter, in time order.
    var resets: [CounterReset] {
        sourceGroupIDs.indices.flatMap { k in
            chargeReadings[k].resets(groupID: sourceGroupIDs[k], counter: "charge")
                + dischargeReadings[k].resets(groupID: sourceGroupIDs[k], counter: "discharge")
        }.sorted { $0.atMS < $1.atMS }
    }

    /// Notes on one counter's resets ("charge" or "discharge"): how many, and when.
    func resetNotes(counter: String) -> [String] {
        let mine = resets.filter { $0.counter == counter }
        var notes: [String] = []
        if !mine.isEmpty {
            let shown = mine.prefix(10).map { "\($0.groupID) at \($0.timeText) (\(numberText($0.fromKWh)) → \(numberText($0.toKWh)) kWh)" }
            notes.append(
                "\(mine.count) \(counter) counter reset\(mine.count == 1 ? "" : "s") (never counted as energy): "
                    + shown.joined(separator: "; ") + (mine.count > 10 ? "; …" : ""))
        }
        // Drops inside a slot whose last reading is again above its first are seen only by the
        // consolidator, which does not say which counter.
        let hidden = counterResets - resets.count
        if hidden > 0 {
            notes.append("\(hidden) further counter drop\(hidden == 1 ? "" : "s") inside slots (charge or discharge counter; see the finer tier)")
        }
        return notes
    }

    /// One step's E_c and E_d from each source (NaN where unknown); which one counts is known
    /// only at the window's end (`usesCounter`), so per-step consumers keep both.
    struct StepEnergy {
        var counterCharge = Double.nan
        var counterDischarge = Double.nan
        var integratedCharge = Double.nan
        var integratedDischarge = Double.nan
    }

    /// One step (in tariff-period `lane`, 7 when none): every energy group's slot energy
    /// (`stepEnergy[g]`, nil when missing).
    @inline(__always)
    mutating func add(_ stepEnergy: [EnergySummary?], sources: [Int], lane: Int = 7, lengthMS: Int64 = 0) -> StepEnergy {
        var out = StepEnergy()
        @inline(__always) func sum(_ total: inout Double, _ v: Double) { if v.isFinite { total = (total.isNaN ? 0 : total) + v } }
        for k in sources.indices {
            let g = sources[k]
            if tracksGaps {
                let e = stepEnergy[g]
                var ownCharge = e?.counterChargeKWh ?? .nan
                var ownDischarge = e?.counterDischargeKWh ?? .nan
                let bit = k < 32 ? UInt64(1) << UInt64(2 * k) : 0
                // Steady state (read, no gap open): nothing to write.
                if readMask & bit != 0 || chargeGaps[k].readThisStep {
                    if chargeGaps[k].open || chargeGaps[k].readThisStep {
                        chargeGaps[k].close(own: &ownCharge, spread: &spreadCharge)
                        hasSpread = true
                    }
                } else if chargeReadings[k].readings {
                    chargeGaps[k].extend(
                        lane: lane, lengthMS: lengthMS, integrated: e?.integratedChargeKWh ?? .nan, integratedMS: e?.integratedMS ?? 0)
                }
                if readMask & (bit << 1) != 0 || dischargeGaps[k].readThisStep {
                    if dischargeGaps[k].open || dischargeGaps[k].readThisStep {
                        dischargeGaps[k].close(own: &ownDischarge, spread: &spreadDischarge)
                        hasSpread = true
                    }
                } else if dischargeReadings[k].readings {
                    dischargeGaps[k].extend(
                        lane: lane, lengthMS: lengthMS, integrated: e?.integratedDischargeKWh ?? .nan,
                        integratedMS: e?.integratedMS ?? 0)
                }
                sum(&out.counterCharge, ownCharge)
                sum(&out.counterDischarge, ownDischarge)
            }
            guard let e = stepEnergy[g] else { continue }
            if e.counterChargeKWh.isFinite {
                counterChargeKWh += e.counterChargeKWh
                counterChargeSeen = true
            }
            if e.counterDischargeKWh.isFinite {
                counterDischargeKWh += e.counterDischargeKWh
                counterDischargeSeen = true
            }
            if e.integratedChargeKWh.isFinite { integratedChargeKWh += e.integratedChargeKWh }
            if e.integratedDischargeKWh.isFinite { integratedDischargeKWh += e.integratedDischargeKWh }
            integratedMS[k] += e.integratedMS
            counterResets += e.counterResets
            if !tracksGaps {
                sum(&out.counterCharge, e.counterChargeKWh)
                sum(&out.counterDischarge, e.counterDischargeKWh)
            }
            sum(&out.integratedCharge, e.integratedChargeKWh)
            sum(&out.integratedDischarge, e.integratedDischargeKWh)
        }
        readMask = 0
        return out
    }

    /// The counter sums, NaN (unknown) when the window holds no reading of that counter.
    var counterChargeValue: Double { counterChargeSeen ? counterChargeKWh : .nan }
    var counterDischargeValue: Double { counterDischargeSeen ? counterDischargeKWh : .nan }

    /// Sets the coverages and unaccounted time once every step is fed.
    mutating func finalize(_ ctx: IndicatorContext, layout: IndicatorLayout) {
        counterCoverage = 1
        integratedCoverage = 1
        unaccountedMS = 0
        for (k, g) in layout.energySources.enumerated() {
            let idx = layout.groups[g].indices
            if let c = idx.chargeCounter, let d = idx.dischargeCounter {
                counterCoverage = min(counterCoverage, ctx.coverage(g, c), ctx.coverage(g, d))
            }
            if idx.power != nil {
                let cov = ctx.windowMS > 0 ? Double(integratedMS[k]) / Double(ctx.windowMS) : 0
                integratedCoverage = min(integratedCoverage, cov)
                unaccountedMS += max(0, ctx.windowMS - integratedMS[k])
            }
        }
        if !hasCounter { counterCoverage = 0 }
        if !hasPower { integratedCoverage = 0 }
        if !hasPower { unaccountedMS = ctx.windowMS }
    }

    var chargeKWh: Double { usesCounter ? counterChargeValue : (hasPower ? integratedChargeKWh : .nan) }
    var dischargeKWh: Double { usesCounter ? counterDischargeValue : (hasPower ? integratedDischargeKWh : .nan) }
    var coverage: Double { usesCounter ? counterCoverage : integratedCoverage }
    /// Why energy integrated from power is not determined by the data (time not integrated:
    /// gaps longer than the heartbeat), nil when every step was integrated.
    var integratedUndetermined: String? {
        guard hasPower, integratedCoverage < 1 - 1e-9 else { return nil }
        return "\(numberText((Double(unaccountedMS) / 36_000).rounded() / 100)) h not integrated from power (gaps longer than the heartbeat): the energy there is unknown"
    }
    /// Why E_c and E_d are not determined: integrated power with gaps (counters bridge gaps).
    var undetermined: String? { usesCounter ? nil : integratedUndetermined }
    var sourceNote: String {
        if usesCounter { return counterSeen ? "from energy counters" : "from energy counters: none read in the window" }
        guard hasPower else { return "no counter and no power signal" }
        if hasCounter && !counterOnlyPartial { return "from integrated active power: the window holds no counter reading" }
        return "from integrated active power"
    }
}

/// The storage meter's import (E_off) and export (E_on), from its counter signals.
struct MeterAccounting {
    var importDelta = CounterDelta()
    var exportDelta = CounterDelta()
    let groupID: String
    /// Set by `finalize`.
    var coverage = 0.0

    init?(_ input: IndicatorInput) {
        guard let meter = input.meter, meter.indices.meterImport != nil, meter.indices.meterExport != nil else { return nil }
        groupID = meter.groupID
    }

    @inline(__always)
    mutating func add(importSummary: SlotSummary?, exportSummary: SlotSummary?, atMS: Int64) {
        importDelta.add(importSummary, atMS: atMS)
        exportDelta.add(exportSummary, atMS: atMS)
    }

    var importKWh: Double { importDelta.readings ? importDelta.kWh : .nan }
    var exportKWh: Double { exportDelta.readings ? exportDelta.kWh : .nan }
    var importResets: [CounterReset] { importDelta.resets(groupID: groupID, counter: "meter import") }
    var exportResets: [CounterReset] { exportDelta.resets(groupID: groupID, counter: "meter export") }
    var resets: [CounterReset] { importResets + exportResets }

    /// Notes on one meter counter's resets, with their times.
    static func notes(_ resets: [CounterReset]) -> [String] {
        guard let counter = resets.first?.counter else { return [] }
        let n = resets.count
        return [
            "\(n) \(counter) counter reset\(n == 1 ? "" : "s"): "
                + resets.prefix(10).map { "at \($0.timeText) (\(numberText($0.fromKWh)) → \(numberText($0.toKWh)) kWh)" }
                .joined(separator: "; ") + (n > 10 ? "; …" : "")
        ]
    }

    mutating func finalize(_ ctx: IndicatorContext, layout: IndicatorLayout) {
        guard let g = layout.meterGroup, let i = layout.groups[g].indices.meterImport, let e = layout.groups[g].indices.meterExport
        else { return }
        coverage = min(ctx.coverage(g, i), ctx.coverage(g, e))
    }
}

enum EnergyIndicators {
    static func compute(_ ctx: IndicatorContext, _ energy: EnergyAccounting, _ meter: MeterAccounting?) -> [IndicatorValue] {
        let m = ctx.minimum
        var out: [IndicatorValue] = []
        let note = energy.sourceNote
        out.append(.make("energy.charge_kwh", energy.chargeKWh, "kWh", coverage: energy.coverage, minimum: m,
            formula: "E_c: Σ counter deltas, else ∫ max(−P, 0) dt", confidence: .verified, notes: [note],
            undetermined: energy.undetermined))
        out.append(.make("energy.discharge_kwh", energy.dischargeKWh, "kWh", coverage: energy.coverage, minimum: m,
            formula: "E_d: Σ counter deltas, else ∫ max(P, 0) dt", confidence: .verified, notes: [note],
            undetermined: energy.undetermined))
        if energy.hasCounter {
            let partial = energy.counterOnlyPartial ? ["not every energy group has counters: totals are partial"] : []
            out.append(.make("energy.charge_counter_kwh", energy.counterChargeValue, "kWh", coverage: energy.counterCoverage,
                minimum: m, formula: "Σ charge counter deltas", confidence: .verified,
                notes: energy.resetNotes(counter: "charge") + partial, inputsOK: !energy.counterOnlyPartial))
            out.append(.make("energy.discharge_counter_kwh", energy.counterDischargeValue, "kWh", coverage: energy.counterCoverage,
                minimum: m, formula: "Σ discharge counter deltas", confidence: .verified,
                notes: energy.resetNotes(counter: "discharge") + partial, inputsOK: !energy.counterOnlyPartial))
        }
        if energy.hasPower {
            out.append(.make("energy.charge_integrated_kwh", energy.integratedChargeKWh, "kWh", coverage: energy.integratedCoverage,
                minimum: m, formula: "trapezoid ∫ max(−P, 0) dt", confidence: .verified, undetermined: energy.integratedUndetermined))
            out.append(.make("energy.discharge_integrated_kwh", energy.integratedDischargeKWh, "kWh",
                coverage: energy.integratedCoverage, minimum: m, formula: "trapezoid ∫ max(P, 0) dt", confidence: .verified,
                undetermined: energy.integratedUndetermined))
        }
        out.append(IndicatorValue(
            id: "energy.unaccounted_hours", value: Double(energy.unaccountedMS) / 3_600_000, unit: "h",
            coverage: energy.integratedCoverage, status: .ok,
            formula: "window − time integrated from power (gaps longer than the heartbeat, summed over energy groups)",
            confidence: .verified))
        if let meter {
            out.append(.make("meter.import_kwh", meter.importKWh, "kWh", coverage: meter.coverage, minimum: m,
                formula: "E_off: Σ meter import counter steps", confidence: .verified, notes: MeterAccounting.notes(meter.importResets)))
            out.append(.make("meter.export_kwh", meter.exportKWh, "kWh", coverage: meter.coverage, minimum: m,
                formula: "E_on: Σ meter export counter steps", confidence: .verified, notes: MeterAccounting.notes(meter.exportResets)))
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
            minimum: m, formula: "E_d / E_c × 100", confidence: .verified, notes: [energy.sourceNote],
            undetermined: energy.undetermined))
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
