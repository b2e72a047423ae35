import ESSCore

/// One discharge event: contiguous slots whose mean site power exceeds the threshold.
public struct DischargeEvent: Sendable, Hashable {
    public var startMS: Int64
    public var endMS: Int64
    /// SoC just before the event (the previous slot's last value, else the first slot's first).
    public var socStartPercent: Double
    /// SoC at the end (the last slot's last value).
    public var socEndPercent: Double
    /// False when SoC was unknown at either end or the event ran into missing data: such an
    /// event is listed but not used for the mean or max.
    public var complete: Bool

    public init(startMS: Int64, endMS: Int64, socStartPercent: Double, socEndPercent: Double, complete: Bool) {
        self.startMS = startMS
        self.endMS = endMS
        self.socStartPercent = socStartPercent
        self.socEndPercent = socEndPercent
        self.complete = complete
    }

    /// SoC at start − SoC at end, percentage points.
    public var depthOfDischargePercent: Double { socStartPercent - socEndPercent }
}

/// Depth of discharge per event (mean, max) and the SoC window used (min, max), from the
/// site group's `soc_percent` and `active_power_kw`.
enum DischargeIndicators {
    static func events(_ ctx: IndicatorContext) -> [DischargeEvent] {
        let idx = ctx.input.site.indices
        guard idx.power != nil else { return [] }
        let threshold = ctx.settings.dischargeThresholdOfRatedPower * ctx.input.facts.ratedPowerKW
        let grid = ctx.siteGrid
        var events: [DischargeEvent] = []
        var i = 0
        while i < grid.count {
            guard let p = IndicatorContext.summary(grid[i], idx.power), p.mean > threshold else {
                i += 1
                continue
            }
            let first = i
            while i + 1 < grid.count, let q = IndicatorContext.summary(grid[i + 1], idx.power), q.mean > threshold { i += 1 }
            let last = i
            // Ran into missing data: the slot after (inside the window) has no power.
            var complete = true
            if last + 1 < grid.count, IndicatorContext.summary(grid[last + 1], idx.power) == nil { complete = false }
            if first > 0, IndicatorContext.summary(grid[first - 1], idx.power) == nil { complete = false }
            let before = first > 0 ? IndicatorContext.summary(grid[first - 1], idx.soc)?.last : nil
            let socStart = before ?? IndicatorContext.summary(grid[first], idx.soc)?.first ?? .nan
            let socEnd = IndicatorContext.summary(grid[last], idx.soc)?.last ?? .nan
            if !socStart.isFinite || !socEnd.isFinite { complete = false }
            let start = ctx.input.windowStartMS + Int64(first) * ctx.input.slotMS
            let end = ctx.input.windowStartMS + Int64(last) * ctx.input.slotMS + ctx.input.slotLengthMS(last)
            events.append(DischargeEvent(startMS: start, endMS: end, socStartPercent: socStart, socEndPercent: socEnd, complete: complete))
            i += 1
        }
        return events
    }

    static func compute(_ ctx: IndicatorContext, events: [DischargeEvent]) -> [IndicatorValue] {
        let m = ctx.minimum
        let idx = ctx.input.site.indices
        let socCov = idx.soc.map { ctx.coverage(ctx.siteGrid, $0) } ?? 0
        let powerCov = idx.power.map { ctx.coverage(ctx.siteGrid, $0) } ?? 0
        let cov = min(socCov, powerCov)
        let used = events.filter(\.complete).map(\.depthOfDischargePercent)
        var notes = ["\(used.count) complete events of \(events.count)"]
        if idx.soc == nil { notes.append("the site has no soc_percent signal") }
        if idx.power == nil { notes.append("the site has no active_power_kw signal") }
        var socMin = Double.infinity
        var socMax = -Double.infinity
        if let s = idx.soc {
            for cell in ctx.siteGrid {
                guard let v = IndicatorContext.summary(cell, s) else { continue }
                if v.min.isFinite { socMin = min(socMin, v.min) }
                if v.max.isFinite { socMax = max(socMax, v.max) }
            }
        }
        return [
            IndicatorValue(id: "discharge.events", value: Double(events.count), unit: "events", coverage: cov,
                status: cov + 1e-12 >= m ? .ok : .insufficientData,
                formula: "contiguous slots with mean P > \(ctx.settings.dischargeThresholdOfRatedPower * 100) % P_N",
                confidence: .inferred, notes: notes),
            .make("discharge.dod_mean_percent", used.isEmpty ? .nan : used.reduce(0, +) / Double(used.count), "%", coverage: cov,
                minimum: m, formula: "mean over events of (SoC at start − SoC at end)", confidence: .inferred, notes: notes),
            .make("discharge.dod_max_percent", used.max() ?? .nan, "%", coverage: cov, minimum: m,
                formula: "max over events of (SoC at start − SoC at end)", confidence: .inferred, notes: notes),
            .make("soc.min_percent", socMin.isFinite ? socMin : .nan, "%", coverage: socCov, minimum: m,
                formula: "min of slot SoC minima", confidence: .verified),
            .make("soc.max_percent", socMax.isFinite ? socMax : .nan, "%", coverage: socCov, minimum: m,
                formula: "max of slot SoC maxima", confidence: .verified),
        ]
    }
}
