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
    /// Covered time per column for the local days not yet closed (at most two: a
    /// daylight-saving step back across midnight returns to the previous day), and the days
    /// already closed, in order of first appearance.
    struct Tally {
        let columnCount: Int
        /// Open days: local day number and the window's time in it.
        var open: [(day: Int, spanMS: Int64)] = []
        /// `open.count` rows of `columnCount` covered ms.
        var row: [Int64] = []
        /// Where the current step's day starts in `row`.
        var rowBase = 0
        var days: [DayCompleteness] = []

        init(columnCount: Int) { self.columnCount = columnCount }

        @inline(__always)
        mutating func beginStep(day: Int, lengthMS: Int64, layout: IndicatorLayout, handler: IndicatorAccumulator.DayHandler?) {
            if let last = open.last, last.day == day {
                open[open.count - 1].spanMS += lengthMS
                rowBase = (open.count - 1) * columnCount
                return
            }
            if let k = open.lastIndex(where: { $0.day == day }) {
                open[k].spanMS += lengthMS
                rowBase = k * columnCount
                return
            }
            if open.count == 2 {
                close(0, layout: layout, handler: handler)
            }
            open.append((day, lengthMS))
            row += [Int64](repeating: 0, count: columnCount)
            rowBase = (open.count - 1) * columnCount
        }

        mutating func closeAll(layout: IndicatorLayout, handler: IndicatorAccumulator.DayHandler?) {
            while !open.isEmpty { close(0, layout: layout, handler: handler) }
        }

        private mutating func close(_ k: Int, layout: IndicatorLayout, handler: IndicatorAccumulator.DayHandler?) {
            let span = Double(open[k].spanMS)
            let cov = row[(k * columnCount)..<((k + 1) * columnCount)]
            let fractions = cov.map { span > 0 ? Double($0) / span : 0 }
            let worst = fractions.indices.min { fractions[$0] < fractions[$1] }
            let day = DayCompleteness(
                date: LocalDate(daysSinceEpoch: open[k].day),
                meanFraction: fractions.isEmpty ? 0 : fractions.reduce(0, +) / Double(fractions.count),
                worstSignal: worst.map { layout.columnNames[$0] } ?? "", worstFraction: worst.map { fractions[$0] } ?? 0)
            days.append(day)
            handler?(day)
            open.remove(at: k)
            row.removeSubrange((k * columnCount)..<((k + 1) * columnCount))
        }
    }

    /// One row per completeness column (included signals, groups in layout order).
    static func signals(_ ctx: IndicatorContext, layout: IndicatorLayout) -> [SignalCompleteness] {
        layout.columns.map { column in
            let group = layout.groups[column.group]
            return SignalCompleteness(groupID: group.groupID, signal: group.signalNames[column.signal],
                fraction: ctx.windowMS > 0 ? Double(ctx.covered[column.group][column.signal]) / Double(ctx.windowMS) : 0)
        }
    }

    static func values(_ rows: [SignalCompleteness]) -> [IndicatorValue] {
        let mean = rows.isEmpty ? 0 : rows.map(\.fraction).reduce(0, +) / Double(rows.count)
        let worst = rows.min { $0.fraction < $1.fraction }
        return [
            IndicatorValue(id: "completeness.mean_percent", value: mean * 100, unit: "%", coverage: mean,
                status: .ok, formula: "mean over signals of covered time / window × 100", confidence: .verified),
            IndicatorValue(id: "completeness.worst_signal_percent", value: (worst?.fraction ?? 0) * 100, unit: "%",
                coverage: worst?.fraction ?? 0, status: .ok, formula: "min over signals of covered time / window × 100",
                confidence: .verified, notes: worst.map { ["\($0.groupID)/\($0.signal)"] } ?? []),
        ]
    }
}
