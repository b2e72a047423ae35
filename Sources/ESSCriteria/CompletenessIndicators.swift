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
    /// Every signal's "group/signal" name and its covered time / the day's time in the window,
    /// in the same order (the groups' order, then schema order).
    public var signalNames: [String]
    public var signalFractions: [Double]

    public init(
        date: LocalDate, meanFraction: Double, worstSignal: String, worstFraction: Double, signalNames: [String] = [],
        signalFractions: [Double] = []
    ) {
        self.date = date
        self.meanFraction = meanFraction
        self.worstSignal = worstSignal
        self.worstFraction = worstFraction
        self.signalNames = signalNames
        self.signalFractions = signalFractions
    }
}

/// Completeness per signal and per local day, over every group; a slot belongs to the local
/// day of its start.
enum CompletenessIndicators {
    /// Covered time per column for the local days not yet closed (at most two: a
    /// daylight-saving step back across midnight returns to the previous day), and the days
    /// already closed, in order of first appearance.
    ///
    /// The newest open day is not summed slot by slot: its covered time is the window's running
    /// total (`IndicatorAccumulator.covered`) minus `snapshot`, the total when that day began.
    /// Only a step that falls back into the older open day adds to that day's row itself (and
    /// to `snapshot`, so the newest day does not count it too).
    struct Tally {
        let columnCount: Int
        /// Open days: local day number and the window's time in it.
        var open: [(day: Int, spanMS: Int64)] = []
        /// `open.count` rows of `columnCount` covered ms (the newest: only what `snapshot` excludes).
        var row: [Int64] = []
        /// Per column: the running total when the newest open day began, plus what went to the older one since.
        var snapshot: [Int64]
        /// Whether the current step belongs to the older open day, and where that day's row starts.
        var stepInOlderDay = false
        var rowBase = 0
        var days: [DayCompleteness] = []

        init(columnCount: Int) {
            self.columnCount = columnCount
            snapshot = [Int64](repeating: 0, count: columnCount)
        }

        /// A step of the newest open day (the usual case): true after counting its length.
        @inline(__always)
        mutating func extendNewest(day: Int, lengthMS: Int64) -> Bool {
            let last = open.count - 1
            guard last >= 0, open[last].day == day else { return false }
            open[last].spanMS += lengthMS
            stepInOlderDay = false
            return true
        }

        /// A step of another day: the older open day, or a new day (which settles the newest).
        mutating func beginOtherDay(
            day: Int, lengthMS: Int64, covered: [Int64], layout: IndicatorLayout, handler: IndicatorAccumulator.DayHandler?
        ) {
            let last = open.count - 1
            if let k = open.lastIndex(where: { $0.day == day }) {
                open[k].spanMS += lengthMS
                stepInOlderDay = true
                rowBase = k * columnCount
                return
            }
            if last >= 0 { settleNewest(covered: covered, layout: layout) }
            if open.count == 2 { close(0, layout: layout, handler: handler) }
            open.append((day, lengthMS))
            row += [Int64](repeating: 0, count: columnCount)
            stepInOlderDay = false
        }

        /// Moves the newest day's covered time (running total − snapshot) into its row, and
        /// starts the snapshot afresh.
        mutating func settleNewest(covered: [Int64], layout: IndicatorLayout) {
            let base = (open.count - 1) * columnCount
            for c in 0..<columnCount {
                let total = covered[layout.columnCovered[c]]
                row[base + c] += total - snapshot[c]
                snapshot[c] = total
            }
        }

        /// A step in the older open day: its covered time goes to that day's row directly.
        mutating func addToOlderDay(column: Int, _ coveredMS: Int64) {
            row[rowBase + column] += coveredMS
            snapshot[column] += coveredMS
        }

        mutating func closeAll(covered: [Int64], layout: IndicatorLayout, handler: IndicatorAccumulator.DayHandler?) {
            if !open.isEmpty { settleNewest(covered: covered, layout: layout) }
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
                worstSignal: worst.map { layout.columnNames[$0] } ?? "", worstFraction: worst.map { fractions[$0] } ?? 0,
                signalNames: layout.columnNames, signalFractions: fractions)
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
