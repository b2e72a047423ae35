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
    /// Finds discharge events step by step, looking one slot back and one ahead: an event is
    /// closed by the first slot that is not above the threshold (missing power there makes it
    /// incomplete) or by the window's end. Also keeps the SoC window used.
    struct Tracker {
        let hasPower: Bool
        let thresholdKW: Double
        var events: [DischargeEvent] = []
        var socMin = Double.infinity
        var socMax = -Double.infinity
        /// The previous step: whether its power was known, and its SoC summary's last value.
        var previousPowerKnown = false
        var previousSocLast: Double?? = .none
        /// The event being extended.
        var open: (first: Int, last: Int, socStart: Double, socEnd: Double, complete: Bool)?

        /// The window's grid: where step i starts and ends.
        let windowStartMS: Int64
        let windowEndMS: Int64
        let slotMS: Int64

        init(_ input: IndicatorInput, settings: IndicatorSettings) {
            hasPower = input.site.indices.power != nil
            thresholdKW = settings.dischargeThresholdOfRatedPower * input.facts.ratedPowerKW
            windowStartMS = input.windowStartMS
            windowEndMS = input.windowEndMS
            slotMS = input.slotMS
        }

        @inline(__always)
        mutating func add(_ step: IndicatorAccumulator.StepScratch, index i: Int) {
            if let v = step.soc {
                if v.min.isFinite { socMin = min(socMin, v.min) }
                if v.max.isFinite { socMax = max(socMax, v.max) }
            }
            guard hasPower else { return }
            let socLast: Double? = step.soc.map(\.last)
            if let p = step.power, p.mean > thresholdKW {
                if var event = open {
                    event.last = i
                    event.socEnd = socLast ?? .nan
                    open = event
                } else {
                    // SoC just before the event (the previous slot's last), else the first slot's first.
                    let before: Double? = i > 0 ? (previousSocLast ?? nil) : nil
                    let socStart = before ?? step.soc?.first ?? .nan
                    let complete = !(i > 0 && !previousPowerKnown)
                    open = (i, i, socStart, socLast ?? .nan, complete)
                }
            } else if var event = open {
                // Ran into missing data: the slot after the event has no power.
                if step.power == nil { event.complete = false }
                close(event)
                open = nil
            }
            previousPowerKnown = step.power != nil
            previousSocLast = .some(socLast)
        }

        /// Closes an event still open at the window's end.
        mutating func finish() {
            if let event = open { close(event) }
            open = nil
        }

        private mutating func close(_ e: (first: Int, last: Int, socStart: Double, socEnd: Double, complete: Bool)) {
            let complete = e.complete && e.socStart.isFinite && e.socEnd.isFinite
            let start = windowStartMS + Int64(e.first) * slotMS
            let lastStart = windowStartMS + Int64(e.last) * slotMS
            let end = lastStart + min(slotMS, windowEndMS - lastStart)
            events.append(DischargeEvent(startMS: start, endMS: end, socStartPercent: e.socStart, socEndPercent: e.socEnd, complete: complete))
        }
    }

    static func compute(_ ctx: IndicatorContext, _ tracker: Tracker) -> [IndicatorValue] {
        let events = tracker.events
        let m = ctx.minimum
        let idx = ctx.input.site.indices
        let socCov = idx.soc.map { ctx.coverage(0, $0) } ?? 0
        let powerCov = idx.power.map { ctx.coverage(0, $0) } ?? 0
        let cov = min(socCov, powerCov)
        let used = events.filter(\.complete).map(\.depthOfDischargePercent)
        var notes = ["\(used.count) complete events of \(events.count)"]
        if idx.soc == nil { notes.append("the site has no soc_percent signal") }
        if idx.power == nil { notes.append("the site has no active_power_kw signal") }
        let socMin = tracker.socMin
        let socMax = tracker.socMax
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
