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
        // Per day: dense day index (in order of first appearance) → window ms that day, and a
        // flat [day × column] table of covered ms.
        let slotCount = ctx.input.slotCount
        var dayOrder: [Int] = []
        var daySpan: [Int64] = []
        var dayIndexOf: [Int: Int] = [:]
        var slotDay = [Int32](repeating: 0, count: slotCount)
        let offsets = ctx.input.offsets
        let windowStart = ctx.input.windowStartMS
        let slotMS = ctx.input.slotMS
        var previousDay = Int.min
        var previousIndex = 0
        for i in 0..<slotCount {
            let start = windowStart + Int64(i) * slotMS
            let local = start + Int64(offsets.offsetSeconds(atUTCMS: start)) * 1000
            let d = Int(local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000)
            if d != previousDay {
                previousDay = d
                if let known = dayIndexOf[d] {
                    previousIndex = known
                } else {
                    previousIndex = dayOrder.count
                    dayIndexOf[d] = previousIndex
                    dayOrder.append(d)
                    daySpan.append(0)
                }
            }
            daySpan[previousIndex] += ctx.input.slotLengthMS(i)
            slotDay[i] = Int32(previousIndex)
        }
        // Columns: every included signal of every group, in group then schema order.
        var groupColumns: [(first: Int, signals: [Int])] = []
        var names: [String] = []
        for (group, _) in groups {
            let signals = group.signalNames.indices.filter { group.included($0) }
            groupColumns.append((names.count, signals))
            for s in signals { names.append("\(group.groupID)/\(group.signalNames[s])") }
        }
        let columnCount = names.count
        var dayCovered = [Int64](repeating: 0, count: dayOrder.count * columnCount)
        var coveredByColumn = [Int64](repeating: 0, count: columnCount)
        dayCovered.withUnsafeMutableBufferPointer { table in
            coveredByColumn.withUnsafeMutableBufferPointer { covered in
                slotDay.withUnsafeBufferPointer { slotDay in
                    for (g, (_, grid)) in groups.enumerated() {
                        let first = groupColumns[g].first
                        let signals = groupColumns[g].signals
                        // Slot-major: each slot's summaries are read once, in memory order.
                        grid.withUnsafeBufferPointer { grid in
                            for i in 0..<grid.count {
                                guard let cell = grid[i] else { continue }
                                let row = Int(slotDay[i]) * columnCount + first
                                cell.signals.withUnsafeBufferPointer { summaries in
                                    for (k, s) in signals.enumerated() where s < summaries.count {
                                        let c = summaries[s].coveredMS
                                        covered[first + k] += c
                                        if c > 0 { table[row + k] += c }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var column = 0
        for (group, _) in groups {
            for s in group.signalNames.indices where group.included(s) {
                rows.append(SignalCompleteness(groupID: group.groupID, signal: group.signalNames[s],
                    fraction: ctx.windowMS > 0 ? Double(coveredByColumn[column]) / Double(ctx.windowMS) : 0))
                column += 1
            }
        }
        var days: [DayCompleteness] = []
        days.reserveCapacity(dayOrder.count)
        for (k, d) in dayOrder.enumerated() {
            let span = Double(daySpan[k])
            let cov = dayCovered[(k * columnCount)..<((k + 1) * columnCount)]
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
