import ESSCore

/// Computes every indicator of a window from its slots fed one grid step at a time, in time
/// order, so the window never has to be in memory: for step i (the slot starting at
/// `windowStartMS + i × slotMS`) the caller passes the site group's slot, each device group's
/// slot and the storage meter's slot, nil where the slot is missing. `finish()` gives exactly the
/// report `Indicators.compute` gives for the same slots (`compute` is a loop over this type).
///
/// Memory is O(groups × signals + days): running sums, the local days not yet closed, one
/// open discharge event, and the closed days and discharge events of the report. Each local
/// day's completeness is handed to `onDayClosed` as soon as a later day has begun (two days are
/// kept open so a daylight-saving step back across midnight still lands in its own day).
///
/// Owns the order in which the indicator families see a step; the formulas are theirs (one
/// file per family). Owns no I/O.
public struct IndicatorAccumulator {
    /// Called once per local day when its completeness is final, in day order.
    public typealias DayHandler = (DayCompleteness) -> Void

    /// The input's shape: windows, facts, groups (their slots are dropped), maintenance, offsets.
    public let shape: IndicatorInput
    let settings: IndicatorSettings
    let tariff: TariffCalendar?
    let layout: IndicatorLayout
    let onDayClosed: DayHandler?

    /// Steps fed so far (missing steps included).
    public private(set) var stepsFed = 0

    // Running sums over the window.
    var covered: [Int64]
    /// Valid samples per tracked signal (flat, as `covered`).
    var received: [Int64]
    /// Per group: the window's time under a changed sampling interval and the samples it expects.
    var changedMS: [Int64]
    var changedExpected: [Double]
    /// Per group: the next of its `sampleIntervalChanges` that may overlap a step.
    var changeCursor: [Int]
    let anyIntervalChange: Bool
    var energy: EnergyAccounting
    var meter: MeterAccounting?
    var availability: AvailabilityIndicators.Hours?
    var discharge: DischargeIndicators.Tracker
    var safety: SafetyIndicators.Tally
    var peak: PeakShiftingIndicators.Tally?
    var completeness: CompletenessIndicators.Tally
    var gaps: CommunicationGapTracker

    // The current step, filled while its groups are fed.
    var step = StepScratch()
    var stepEnergy: [EnergySummary?]

    /// What the families need from one step's slots (plain values, no references).
    struct StepScratch {
        var startMS: Int64 = 0
        var lengthMS: Int64 = 0
        var localDay = 0
        var localMinute = 0
        var soc: SlotSummary?
        var power: SlotSummary?
        var available: SlotSummary?
        var fault: SlotSummary?
        var meterImport: SlotSummary?
        var meterExport: SlotSummary?
        var cellTempOver = false
        var cellVoltageOut = false
        var anyFault = false
        var anyAlarm = false
    }

    /// An accumulator for `input`'s window and groups; `input`'s slots are not read (feed them
    /// with `add`). Peak shifting needs `tariff`; meter-based efficiencies need `input.meter`;
    /// planned/unplanned outage needs `input.maintenance`.
    public init(
        _ input: IndicatorInput, tariff: TariffCalendar? = nil, settings: IndicatorSettings = IndicatorSettings(),
        onDayClosed: DayHandler? = nil
    ) {
        var shape = input
        shape.site.slots = []
        for k in shape.devices.indices { shape.devices[k].slots = [] }
        shape.meter?.slots = []
        self.shape = shape
        stepCount = shape.slotCount
        self.settings = settings
        self.tariff = tariff
        self.onDayClosed = onDayClosed
        let layout = IndicatorLayout(shape)
        self.layout = layout
        covered = [Int64](repeating: 0, count: layout.coveredCount)
        received = covered
        changedMS = [Int64](repeating: 0, count: layout.groups.count)
        changedExpected = changedMS.map(Double.init)
        changeCursor = [Int](repeating: 0, count: layout.groups.count)
        anyIntervalChange = layout.groups.contains { !$0.sampleIntervalChanges.isEmpty }
        stepEnergy = [EnergySummary?](repeating: nil, count: layout.groups.count)
        energy = EnergyAccounting(shape, layout: layout, tracksGaps: tariff != nil)
        meter = MeterAccounting(shape)
        availability = AvailabilityIndicators.Hours(shape)
        discharge = DischargeIndicators.Tracker(shape, settings: settings)
        safety = SafetyIndicators.Tally()
        peak = tariff.map { PeakShiftingIndicators.Tally(tariff: $0) }
        completeness = CompletenessIndicators.Tally(layout: layout)
        gaps = CommunicationGapTracker(groupIDs: layout.groups.map(\.groupID))
    }

    /// Number of steps in the window (`shape.slotCount`).
    public let stepCount: Int

    /// UTC start of the next step to feed.
    public var nextStepStartMS: Int64 { shape.windowStartMS + Int64(stepsFed) * shape.slotMS }

    /// Feeds the next step: the site group's slot, each device group's slot (in `shape.devices`
    /// order; a shorter array leaves the rest missing) and the meter's. nil is missing data.
    /// Steps past the window's end are ignored.
    public mutating func add(site: ConsolidatedSlot?, devices: [ConsolidatedSlot?] = [], meter: ConsolidatedSlot? = nil) {
        guard beginStep() else { return }
        feed(0, site)
        for k in 0..<shape.devices.count where k < devices.count { feed(1 + k, devices[k]) }
        if let g = layout.meterGroup { feed(g, meter) }
        endStep()
    }

    /// Feeds missing steps until the next step starts at or after `utcMS` (or the window ends).
    public mutating func addMissing(untilMS utcMS: Int64) {
        while stepsFed < stepCount, nextStepStartMS < utcMS {
            guard beginStep() else { return }
            endStep()
        }
    }

    /// The report over the whole window: steps not fed are missing data.
    public mutating func finish() -> IndicatorReport {
        addMissing(untilMS: shape.windowEndMS)
        discharge.finish()
        completeness.closeAll(covered: covered, received: received, layout: layout, handler: onDayClosed)
        var perGroup: [[Int64]] = []
        for g in layout.groups.indices {
            let first = layout.coveredOffset[g]
            perGroup.append(Array(covered[first..<(first + layout.tracked[g])]))
        }
        let ctx = IndicatorContext(input: shape, settings: settings, windowMS: shape.windowMS, covered: perGroup)
        energy.finalize(ctx, layout: layout)
        meter?.finalize(ctx, layout: layout)
        var values: [IndicatorValue] = []
        values += EnergyIndicators.compute(ctx, energy, meter)
        values += EfficiencyIndicators.compute(ctx, energy, meter)
        values += UtilisationIndicators.compute(ctx, energy)
        values += AvailabilityIndicators.compute(ctx, availability)
        values += DischargeIndicators.compute(ctx, discharge)
        values += SafetyIndicators.compute(ctx, safety, layout: layout)
        if let tariff, let peak { values += PeakShiftingIndicators.compute(ctx, energy, peak, tariff: tariff) }
        let signals = CompletenessIndicators.signals(
            ctx, layout: layout, received: received, changedMS: changedMS, changedExpected: changedExpected)
        values += CompletenessIndicators.values(signals)
        return IndicatorReport(
            windowStartMS: shape.windowStartMS, windowEndMS: shape.windowEndMS, slotMS: shape.slotMS, values: values,
            dischargeEvents: discharge.events, signalCompleteness: signals, dayCompleteness: completeness.days,
            tariffID: tariff?.id, counterResets: energy.resets + (meter?.resets ?? []), communicationGaps: gaps.finish())
    }

    // MARK: one step

    /// Starts step `stepsFed`; false when the window has no more steps.
    @inline(__always)
    mutating func beginStep() -> Bool {
        guard stepsFed < stepCount else { return false }
        let start = nextStepStartMS
        // Only what `feed` sets is reset (a whole new scratch would rewrite every byte of it).
        step.soc = nil
        step.power = nil
        step.available = nil
        step.fault = nil
        step.meterImport = nil
        step.meterExport = nil
        step.cellTempOver = false
        step.cellVoltageOut = false
        step.anyFault = false
        step.anyAlarm = false
        step.startMS = start
        step.lengthMS = min(shape.slotMS, shape.windowEndMS - start)
        let local = start + Int64(shape.offsets.offsetSeconds(atUTCMS: start)) * 1000
        let day = local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000
        step.localDay = Int(day)
        step.localMinute = Int((local - day * 86_400_000) / 60_000)
        for g in stepEnergy.indices { stepEnergy[g] = nil }
        if !completeness.extendNewest(day: step.localDay, lengthMS: step.lengthMS) {
            completeness.beginOtherDay(
                day: step.localDay, lengthMS: step.lengthMS, covered: covered, received: received, layout: layout,
                handler: onDayClosed)
        }
        if anyIntervalChange { addIntervalChanges(startMS: start, endMS: start + step.lengthMS) }
        return true
    }

    /// The current step's time under each group's changed sampling intervals (rare: imported history).
    mutating func addIntervalChanges(startMS: Int64, endMS: Int64) {
        for g in layout.groups.indices {
            let changes = layout.groups[g].sampleIntervalChanges
            var k = changeCursor[g]
            while k < changes.count, changes[k].toMS <= startMS { k += 1 }
            changeCursor[g] = k
            var ms: Int64 = 0
            var expected = 0.0
            var j = k
            while j < changes.count, changes[j].fromMS < endMS {
                let overlap = min(endMS, changes[j].toMS) - max(startMS, changes[j].fromMS)
                if overlap > 0, changes[j].intervalMS > 0 {
                    ms += overlap
                    expected += Double(overlap) / Double(changes[j].intervalMS)
                }
                j += 1
            }
            guard ms > 0 else { continue }
            changedMS[g] += ms
            changedExpected[g] += expected
            completeness.addChanged(group: g, ms: ms, expected: expected)
        }
    }

    /// Group `g`'s slot of the current step (nil: missing).
    @inline(__always)
    mutating func feed(_ g: Int, _ slot: ConsolidatedSlot?) {
        guard let slot else { return }
        withUnsafePointer(to: slot) { feed(g, $0) }
    }

    /// Group `g`'s slot of the current step, read in place. Summaries are read by subscript
    /// (no `withUnsafeBufferPointer`, which would retain every slot's summaries).
    @inline(__always)
    mutating func feed(_ g: Int, _ slot: UnsafePointer<ConsolidatedSlot>) {
        let first = layout.coveredOffset[g]
        let n = min(slot.pointee.signals.count, layout.tracked[g])
        covered.withUnsafeMutableBufferPointer { c in
            received.withUnsafeMutableBufferPointer { r in
                for s in 0..<n {
                    c[first + s] &+= slot.pointee.signals[s].coveredMS
                    r[first + s] &+= Int64(slot.pointee.signals[s].count)
                }
            }
        }
        // The group's best-covered signal, for communication gaps: the first signal when it is
        // fully covered (the usual slot), else the maximum over all of them.
        var best: Int64 = n > 0 ? slot.pointee.signals[0].coveredMS : 0
        if (step.lengthMS - min(step.lengthMS, best)) * 100 > step.lengthMS {
            for s in 0..<n { best = max(best, slot.pointee.signals[s].coveredMS) }
        }
        gaps.covered(g, ms: best, lengthMS: step.lengthMS)
        if completeness.stepInOlderDay {
            // Rare (a clock step back across midnight): this step's time goes to the older day.
            for s in 0..<n {
                let c = slot.pointee.signals[s].coveredMS
                let r = Int64(slot.pointee.signals[s].count)
                let column = Int(layout.columnOf[first + s])
                if c > 0 || r > 0, column >= 0 { completeness.addToOlderDay(column: column, c, received: r) }
            }
        }
        stepEnergy[g] = slot.pointee.energy
        let idx = layout.indices[g]
        @inline(__always) func summary(_ index: Int?) -> SlotSummary? { IndicatorContext.summary(slot, index) }
        if energy.isSource(g) {
            energy.observeCounters(
                group: g, charge: summary(idx.chargeCounter), discharge: summary(idx.dischargeCounter), atMS: step.startMS)
        }
        if g == 0 {
            step.soc = summary(idx.soc)
            step.power = summary(idx.power)
            step.available = summary(idx.available)
            step.fault = summary(idx.fault)
        }
        if g == layout.meterGroup {
            step.meterImport = summary(idx.meterImport)
            step.meterExport = summary(idx.meterExport)
        } else {
            if let v = summary(idx.cellTempMax), v.max > settings.cellTempLimitC { step.cellTempOver = true }
            if let v = summary(idx.cellVoltageMax), v.max > settings.cellVoltageMaxV { step.cellVoltageOut = true }
            if let v = summary(idx.cellVoltageMin), v.min < settings.cellVoltageMinV { step.cellVoltageOut = true }
            if let v = summary(idx.fault), v.max != 0 || v.min != 0 { step.anyFault = true }
            if let v = summary(idx.alarmWord), v.max != 0 || v.min != 0 { step.anyAlarm = true }
        }
    }

    /// Closes the current step: the families that need every group's slot of it.
    @inline(__always)
    mutating func endStep() {
        let i = stepsFed
        var lane = 7
        if peak != nil { lane = peak!.lane(step) }
        let sums = energy.add(stepEnergy, sources: layout.energySources, lane: lane, lengthMS: step.lengthMS)
        meter?.add(importSummary: step.meterImport, exportSummary: step.meterExport, atMS: step.startMS)
        availability?.add(step)
        self.discharge.add(step, index: i)
        safety.add(step)
        peak?.add(step, energy: sums, lane: lane)
        if energy.hasSpread {
            peak?.addSpread(charge: energy.spreadCharge, discharge: energy.spreadDischarge)
            energy.spreadCharge = SIMD8()
            energy.spreadDischarge = SIMD8()
            energy.hasSpread = false
        }
        gaps.endStep(startMS: step.startMS, lengthMS: step.lengthMS)
        stepsFed += 1
    }
}
/// The groups in the order the accumulator feeds them (site, devices, meter) and where each
/// signal's sums live. Owns indices only.
struct IndicatorLayout {
    var groups: [GroupSeries]
    var meterGroup: Int?
    /// Groups (indices into `groups`) whose energy gives E_c and E_d, in `IndicatorInput.energyGroups` order.
    var energySources: [Int]
    /// Signals whose covered time is summed per group: every named signal and every role index.
    var tracked: [Int]
    var coveredOffset: [Int]
    var coveredCount: Int
    /// Completeness column of each tracked signal (flat, as `covered`), −1 when excluded.
    var columnOf: [Int32]
    /// "group/signal" of each completeness column.
    var columnNames: [String]
    /// Per column: group index and signal index, and where its running total is in `covered`.
    var columns: [(group: Int, signal: Int)]
    var columnCovered: [Int]
    /// Per column: the signal's expected sampling interval (0: unknown).
    var columnIntervalMS: [Int64]
    /// Each group's role indices (copied out of `groups` for the per-step path).
    var indices: [SignalIndices]

    init(_ input: IndicatorInput) {
        groups = [input.site] + input.devices
        if let meter = input.meter {
            meterGroup = groups.count
            groups.append(meter)
        }
        let named = input.devices.indices.filter { input.energyGroupIDs.contains(input.devices[$0].groupID) }
        // A named device that is the site group itself reads the site's slots (as before).
        energySources = named.isEmpty ? [0] : named.map { input.devices[$0].groupID == input.site.groupID ? 0 : 1 + $0 }
        indices = groups.map(\.indices)
        tracked = []
        coveredOffset = []
        columnOf = []
        columnNames = []
        columns = []
        columnCovered = []
        columnIntervalMS = []
        var offset = 0
        for (g, group) in groups.enumerated() {
            let i = group.indices
            let roles = [
                i.soc, i.power, i.cellTempMax, i.cellVoltageMax, i.cellVoltageMin, i.available, i.fault, i.alarmWord,
                i.chargeCounter, i.dischargeCounter, i.meterImport, i.meterExport,
            ].compactMap { $0 }
            let count = max(group.signalNames.count, (roles.max() ?? -1) + 1)
            tracked.append(count)
            coveredOffset.append(offset)
            for s in 0..<count {
                if s < group.signalNames.count, group.included(s) {
                    columnOf.append(Int32(columnNames.count))
                    columnNames.append("\(group.groupID)/\(group.signalNames[s])")
                    columns.append((g, s))
                    columnCovered.append(offset + s)
                    columnIntervalMS.append(group.sampleIntervalMS(s))
                } else {
                    columnOf.append(-1)
                }
            }
            offset += count
        }
        coveredCount = offset
    }
}
