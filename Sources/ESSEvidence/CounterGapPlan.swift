import ESSCore

/// One of the site's energy counters, slot by slot in time order, with each step across a
/// communication gap spread back over the gap (`CounterGapApportion`) instead of left in the
/// slot that closed the gap (issue 12, finding 3). Reads ahead, through `readAhead`, only when a
/// gap begins; holds the gap's planned shares until they are used.
struct CounterGapPlan {
    /// The counter's signal in the group's slots, and which energy fields go with it.
    let counterIndex: Int
    let storedEnergy: KeyPath<EnergySummary, Double>
    let integratedEnergy: KeyPath<EnergySummary, Double>
    let slotMS: Int64
    /// The last reading before the current slot (nil: none yet, or the gap has no end in the window).
    private var lastReading: Double?
    /// Gap slots' shares by slot start, and what the slot that closed the gap gives back.
    private var planned: [Int64: Double] = [:]
    private var givenBack: [Int64: Double] = [:]

    init(counterIndex: Int, storedEnergy: KeyPath<EnergySummary, Double>, integratedEnergy: KeyPath<EnergySummary, Double>, slotMS: Int64) {
        self.counterIndex = counterIndex
        self.storedEnergy = storedEnergy
        self.integratedEnergy = integratedEnergy
        self.slotMS = slotMS
    }

    /// Whether `slot` holds a reading of the counter.
    func reading(_ slot: ConsolidatedSlot?) -> SlotSummary? {
        guard let slot, counterIndex < slot.signals.count else { return nil }
        let s = slot.signals[counterIndex]
        return !s.isUnknown && s.first.isFinite && s.last.isFinite ? s : nil
    }

    /// A reading before the window, so a gap across the window's start is seen.
    mutating func prime(_ slot: ConsolidatedSlot?) {
        if let r = reading(slot) { lastReading = r.last }
    }

    /// The counter's energy in the slot starting at `start` (`slot`: nil when not stored),
    /// NaN when unknown, and whether it holds apportioned energy. `readAhead(from)` gives the
    /// slots from `from` on (nil where not stored), a chunk at a time, empty past the window.
    mutating func energy(
        at start: Int64, slot: ConsolidatedSlot?, readAhead: (Int64) throws -> [(startMS: Int64, slot: ConsolidatedSlot?)]
    ) throws -> (kWh: Double, apportioned: Bool) {
        if let share = planned.removeValue(forKey: start) { return (share, true) }
        let stored = slot?.energy?[keyPath: storedEnergy] ?? .nan
        if let r = reading(slot) {
            lastReading = r.last
            if let back = givenBack.removeValue(forKey: start) { return (max(0, stored - back), true) }
            return (stored, false)
        }
        guard let before = lastReading else { return (stored, false) }
        // A gap begins here: find its end, and spread the step across it.
        lastReading = nil
        var parts: [CounterGapApportion.Part] = []
        var starts: [Int64] = []
        var from = start
        scan: while true {
            let chunk = try readAhead(from)
            if chunk.isEmpty { return (stored, false) }
            for (t, s) in chunk where t >= from {
                if let r = reading(s) {
                    let step = r.first - before
                    let closing = s?.energy?[keyPath: storedEnergy] ?? .nan
                    // Spread only a step the store put in the closing slot (not a reset, and
                    // not one the store never counted, e.g. across a restart).
                    if step > 0, closing.isFinite, closing >= step * (1 - 1e-6) {
                        let (shares, _) = CounterGapApportion.shares(deltaKWh: step, parts: parts)
                        for (k, share) in shares.enumerated() { planned[starts[k]] = share }
                        givenBack[t] = step
                    }
                    break scan
                }
                let e = s?.energy
                parts.append(CounterGapApportion.Part(
                    lengthMS: slotMS, integratedKWh: e?[keyPath: integratedEnergy] ?? .nan, integratedMS: e?.integratedMS ?? 0))
                starts.append(t)
            }
            from = (chunk.last?.startMS ?? from) + slotMS
        }
        if let share = planned.removeValue(forKey: start) { return (share, true) }
        return (stored, false)
    }
}
