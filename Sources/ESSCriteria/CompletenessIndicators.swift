import ESSCore

/// Data completeness of one signal over the window.
public struct SignalCompleteness: Sendable, Hashable {
    public var groupID: String
    public var signal: String
    /// Covered time / window, 0…1.
    public var fraction: Double

    public init(groupID: String, signal: String, fraction: Double) {
        self.groupID = groupID
        self.signal = signal
        self.fraction = fraction
    }
}

/// Data completeness of one local day (the part of it inside the window).
public struct DayCompleteness: Sendable, Hashable {
    public var date: LocalDate
    /// Mean over signals of covered time / the day's time in the window.
    public var meanFraction: Double
    /// The least complete signal that day, "group/signal".
    public var worstSignal: String
    public var worstFraction: Double

    public init(date: LocalDate, meanFraction: Double, worstSignal: String, worstFraction: Double) {
        self.date = date
        self.meanFraction = meanFraction
        self.worstSignal = worstSignal
        self.worstFraction = worstFraction
    }
}

/// Completeness per signal and per local day, over every group; a slot belongs to the local
/// day of its start.
enum CompletenessIndicators {
    static func compute(_ ctx: IndicatorContext) -> (signals: [SignalCompleteness], days: [DayCompleteness], values: [IndicatorValue]) {
        var groups = [(ctx.input.site, ctx.siteGrid)] + zip(ctx.input.devices, ctx.deviceGrids).map { ($0, $1) }
        if let meter = ctx.input.meter, let grid = ctx.meterGrid { groups.append((meter, grid)) }
        var rows: [SignalCompleteness] = []
        // Per day: day number → (window ms that day, per-signal covered ms).
        var dayOrder: [Int] = []
        var daySpan: [Int: Int64] = [:]
        var slotDay: [Int] = []
        for i in 0..<ctx.input.slotCount {
            let start = ctx.input.windowStartMS + Int64(i) * ctx.input.slotMS
            let d = ctx.input.offsets.localTime(atUTCMS: start).date.daysSinceEpoch
            if daySpan[d] == nil { dayOrder.append(d) }
            daySpan[d, default: 0] += ctx.input.slotLengthMS(i)
            slotDay.append(d)
        }
        var dayCovered: [Int: [Int64]] = [:]
        var names: [String] = []
        for (group, grid) in groups {
            for (s, name) in group.signalNames.enumerated() where group.included(s) {
                let column = names.count
                names.append("\(group.groupID)/\(name)")
                var covered: Int64 = 0
                for (i, cell) in grid.enumerated() {
                    guard let cell, s < cell.signals.count else { continue }
                    let c = cell.signals[s].coveredMS
                    covered += c
                    if c > 0 {
                        var column0 = dayCovered[slotDay[i]] ?? []
                        if column0.count <= column { column0 += [Int64](repeating: 0, count: column - column0.count + 1) }
                        column0[column] += c
                        dayCovered[slotDay[i]] = column0
                    }
                }
                rows.append(SignalCompleteness(groupID: group.groupID, signal: name,
                    fraction: ctx.windowMS > 0 ? Double(covered) / Double(ctx.windowMS) : 0))
            }
        }
        var days: [DayCompleteness] = []
        for d in dayOrder {
            let span = Double(daySpan[d] ?? 0)
            var cov = dayCovered[d] ?? []
            cov += [Int64](repeating: 0, count: max(0, names.count - cov.count))
            let fractions = cov.map { span > 0 ? Double($0) / span : 0 }
            let worst = fractions.indices.min { fractions[$0] < fractions[$1] }
            days.append(DayCompleteness(
                date: LocalDate(daysSinceEpoch: d),
                meanFraction: fractions.isEmpty ? 0 : fractions.reduce(0, +) / Double(fractions.count),
                worstSignal: worst.map { names[$0] } ?? "", worstFraction: worst.map { fractions[$0] } ?? 0))
        }
        let mean = rows.isEmpty ? 0 : rows.map(\.fraction).reduce(0, +) / Double(rows.count)
        let worst = rows.min { $0.fraction < $1.fraction }
        let values = [
            IndicatorValue(id: "completeness.mean_percent", value: mean * 100, unit: "%", coverage: mean,
                status: .ok, formula: "mean over signals of covered time / window × 100", confidence: .verified),
            IndicatorValue(id: "completeness.worst_signal_percent", value: (worst?.fraction ?? 0) * 100, unit: "%",
                coverage: worst?.fraction ?? 0, status: .ok, formula: "min over signals of covered time / window × 100",
                confidence: .verified, notes: worst.map { ["\($0.groupID)/\($0.signal)"] } ?? []),
        ]
        return (rows, days, values)
    }
}
