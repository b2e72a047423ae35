import ESSCore

/// What the indicator families share once every slot has been fed: the input's shape (its
/// groups without slots), the settings, and each group's covered time per signal. Owns no
/// slots: the families keep running sums while `IndicatorAccumulator` feeds them.
struct IndicatorContext {
    let input: IndicatorInput
    let settings: IndicatorSettings
    let windowMS: Int64
    /// Σ coveredMS of each group's signals over the window: `covered[g][s]`, groups in
    /// `IndicatorLayout` order (site, devices, meter).
    let covered: [[Int64]]

    var minimum: Double { settings.minimumCoverage }

    /// Fraction of the window in which signal `index` of group `g` had valid data.
    func coverage(_ g: Int, _ index: Int) -> Double {
        guard windowMS > 0 else { return 0 }
        let sums = covered[g]
        return Double(index < sums.count ? sums[index] : 0) / Double(windowMS)
    }

    /// The summary of signal `index` in a slot, nil when unknown or not carried. Coverage, not
    /// the sample count, decides: a slot with no sample of its own that the previous sample
    /// covers within its heartbeat (one missing row) holds that value (issue 12, finding 1).
    @inline(__always)
    static func summary(_ slot: UnsafePointer<ConsolidatedSlot>, _ index: Int?) -> SlotSummary? {
        guard let index, index < slot.pointee.signals.count else { return nil }
        let s = slot.pointee.signals[index]
        return s.isUnknown ? nil : s
    }
}

/// Energy from a cumulative counter signal's slot summaries, fed in time order: the sum of
/// non-negative steps between consecutive valid readings (within a slot last − first, between
/// slots the next slot's first − the previous known slot's last), from the first to the last
/// valid reading inside the window. A drop is a reset: counted, never energy.
struct CounterDelta {
    var kWh: Double = 0
    var resets = 0
    var readings = false
    private var previousLast: Double?

    @inline(__always)
    mutating func add(_ s: SlotSummary?) {
        guard let s, s.first.isFinite, s.last.isFinite else { return }
        readings = true
        if let p = previousLast {
            let d = s.first - p
            if d >= 0 { kWh += d } else { resets += 1 }
        }
        let inside = s.last - s.first
        if inside >= 0 { kWh += inside } else { resets += 1 }
        previousLast = s.last
    }
}
