import ESSCore

/// The input laid on the window's slot grid once, shared by every indicator family.
struct IndicatorContext {
    let input: IndicatorInput
    let settings: IndicatorSettings
    let siteGrid: [ConsolidatedSlot?]
    let deviceGrids: [[ConsolidatedSlot?]]
    let meterGrid: [ConsolidatedSlot?]?
    let windowMS: Int64

    init(input: IndicatorInput, settings: IndicatorSettings) {
        self.input = input
        self.settings = settings
        siteGrid = input.grid(input.site)
        deviceGrids = input.devices.map { input.grid($0) }
        meterGrid = input.meter.map { input.grid($0) }
        windowMS = input.windowMS
    }

    var minimum: Double { settings.minimumCoverage }

    /// Fraction of the window in which signal `index` of the grid had valid data.
    func coverage(_ grid: [ConsolidatedSlot?], _ index: Int) -> Double {
        guard windowMS > 0 else { return 0 }
        var covered: Int64 = 0
        for cell in grid {
            guard let cell, index < cell.signals.count else { continue }
            covered += cell.signals[index].coveredMS
        }
        return Double(covered) / Double(windowMS)
    }

    /// The summary of signal `index` in a slot, nil when the slot or its data is unknown.
    @inline(__always)
    static func summary(_ cell: ConsolidatedSlot?, _ index: Int?) -> SlotSummary? {
        guard let cell, let index, index < cell.signals.count else { return nil }
        let s = cell.signals[index]
        return s.isUnknown || s.count == 0 ? nil : s
    }
}

/// Energy from a cumulative counter signal's slot summaries: the sum of non-negative steps
/// between consecutive valid readings (within a slot last − first, between slots the next
/// slot's first − the previous known slot's last), from the first to the last valid reading
/// inside the window. A drop is a reset: counted, never energy.
struct CounterDelta {
    var kWh: Double = 0
    var resets = 0
    var readings = false

    init(grid: [ConsolidatedSlot?], index: Int) {
        var previousLast: Double?
        for cell in grid {
            guard let s = IndicatorContext.summary(cell, index), s.first.isFinite, s.last.isFinite else { continue }
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
}
