import ESSCore

/// Data completeness of one signal over the window, two ways: covered time (a sample holds for
/// its heartbeat, so a single missing row costs nothing) and received ÷ expected samples
/// (expected from the sampling interval, so every missing row counts).
public struct SignalCompleteness: Sendable, Hashable {
    public var groupID: String
    public var signal: String
    /// Covered time / window, 0…1.
    public var fraction: Double
    /// Valid samples received in the window (a lower bound where a slot's count saturated).
    public var receivedSamples: Int64
    /// Samples the sampling interval expects in the window; NaN when the interval is unknown.
    public var expectedSamples: Double
    /// min(1, received ÷ expected); NaN when the interval is unknown.
    public var sampleFraction: Double

    public init(
        groupID: String, signal: String, fraction: Double, receivedSamples: Int64 = 0, expectedSamples: Double = .nan
    ) {
        self.groupID = groupID
        self.signal = signal
        self.fraction = fraction
        self.receivedSamples = receivedSamples
        self.expectedSamples = expectedSamples
        sampleFraction = CompletenessIndicators.sampleFraction(receivedSamples, expectedSamples)
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
    /// Per signal (same order): received ÷ expected samples that day, at most 1; NaN where the
    /// sampling interval is unknown.
    public var signalSampleFractions: [Double]
    /// Mean and least of `signalSampleFractions` over the signals whose interval is known (NaN when none).
    public var meanSampleFraction: Double
    public var worstSampleSignal: String
    public var worstSampleFraction: Double

    public init(
        date: LocalDate, meanFraction: Double, worstSignal: String, worstFraction: Double, signalNames: [String] = [],
        signalFractions: [Double] = [], signalSampleFractions: [Double] = []
    ) {
        self.date = date
        self.meanFraction = meanFraction
        self.worstSignal = worstSignal
        self.worstFraction = worstFraction
        self.signalNames = signalNames
        self.signalFractions = signalFractions
        self.signalSampleFractions = signalSampleFractions
        let known = signalSampleFractions.indices.filter { !signalSampleFractions[$0].isNaN }
        meanSampleFraction = known.isEmpty ? .nan : known.map { signalSampleFractions[$0] }.reduce(0, +) / Double(known.count)
        let worst = known.min { signalSampleFractions[$0] < signalSampleFractions[$1] }
        worstSampleSignal = worst.map { $0 < signalNames.count ? signalNames[$0] : "" } ?? ""
        worstSampleFraction = worst.map { signalSampleFractions[$0] } ?? .nan
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
        /// Per column: its group (index into the layout's groups) and its sampling interval (0: unknown).
        let columnGroup: [Int]
        let columnIntervalMS: [Int64]
        let groupCount: Int
        /// A local day not yet closed: the window's time in it and, per group, the part of that
        /// time under a changed sampling interval (imported history) and the samples it expects.
        struct OpenDay {
            var day: Int
            var spanMS: Int64
            var changedMS: [Int64]
            var changedExpected: [Double]
        }
        var open: [OpenDay] = []
        /// `open.count` rows of `columnCount` covered ms and received samples (the newest: only
        /// what `snapshot` excludes).
        var row: [Int64] = []
        var rowReceived: [Int64] = []
        /// Per column: the running totals when the newest open day began, plus what went to the older one since.
        var snapshot: [Int64]
        var snapshotReceived: [Int64]
        /// Whether the current step belongs to the older open day, and where that day's row starts.
        var stepInOlderDay = false
        var rowBase = 0
        var days: [DayCompleteness] = []

        init(layout: IndicatorLayout) {
            columnCount = layout.columnNames.count
            columnGroup = layout.columns.map(\.group)
            columnIntervalMS = layout.columnIntervalMS
            groupCount = layout.groups.count
            snapshot = [Int64](repeating: 0, count: columnCount)
            snapshotReceived = snapshot
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
            day: Int, lengthMS: Int64, covered: [Int64], received: [Int64], layout: IndicatorLayout,
            handler: IndicatorAccumulator.DayHandler?
        ) {
            let last = open.count - 1
            if let k = open.lastIndex(where: { $0.day == day }) {
                open[k].spanMS += lengthMS
                stepInOlderDay = true
                rowBase = k * columnCount
                return
            }
            if last >= 0 { settleNewest(covered: covered, received: received, layout: layout) }
            if open.count == 2 { close(0, layout: layout, handler: handler) }
            let none = [Int64](repeating: 0, count: groupCount)
            open.append(OpenDay(day: day, spanMS: lengthMS, changedMS: none, changedExpected: none.map(Double.init)))
            row += [Int64](repeating: 0, count: columnCount)
            rowReceived += [Int64](repeating: 0, count: columnCount)
            stepInOlderDay = false
        }

        /// Moves the newest day's covered time and samples (running totals − snapshot) into its
        /// row, and starts the snapshot afresh.
        mutating func settleNewest(covered: [Int64], received: [Int64], layout: IndicatorLayout) {
            let base = (open.count - 1) * columnCount
            for c in 0..<columnCount {
                let at = layout.columnCovered[c]
                row[base + c] += covered[at] - snapshot[c]
                snapshot[c] = covered[at]
                rowReceived[base + c] += received[at] - snapshotReceived[c]
                snapshotReceived[c] = received[at]
            }
        }

        /// A step in the older open day: its covered time and samples go to that day's row directly.
        mutating func addToOlderDay(column: Int, _ coveredMS: Int64, received: Int64) {
            row[rowBase + column] += coveredMS
            snapshot[column] += coveredMS
            rowReceived[rowBase + column] += received
            snapshotReceived[column] += received
        }

        /// Part of the current step of group `g` under a changed sampling interval.
        mutating func addChanged(group g: Int, ms: Int64, expected: Double) {
            guard !open.isEmpty else { return }
            let k = stepInOlderDay ? rowBase / Swift.max(1, columnCount) : open.count - 1
            open[k].changedMS[g] += ms
            open[k].changedExpected[g] += expected
        }

        mutating func closeAll(
            covered: [Int64], received: [Int64], layout: IndicatorLayout, handler: IndicatorAccumulator.DayHandler?
        ) {
            if !open.isEmpty { settleNewest(covered: covered, received: received, layout: layout) }
            while !open.isEmpty { close(0, layout: layout, handler: handler) }
        }

        private mutating func close(_ k: Int, layout: IndicatorLayout, handler: IndicatorAccumulator.DayHandler?) {
            let day = open[k]
            let span = Double(day.spanMS)
            let columns = (k * columnCount)..<((k + 1) * columnCount)
            let fractions = row[columns].map { span > 0 ? Double($0) / span : 0 }
            let samples = zip(rowReceived[columns], 0..<columnCount).map { received, c in
                let g = columnGroup[c]
                let expected = CompletenessIndicators.expectedSamples(
                    plainMS: day.spanMS - day.changedMS[g], intervalMS: columnIntervalMS[c],
                    changedExpected: day.changedExpected[g])
                return CompletenessIndicators.sampleFraction(received, expected)
            }
            let worst = fractions.indices.min { fractions[$0] < fractions[$1] }
            let closed = DayCompleteness(
                date: LocalDate(daysSinceEpoch: day.day),
                meanFraction: fractions.isEmpty ? 0 : fractions.reduce(0, +) / Double(fractions.count),
                worstSignal: worst.map { layout.columnNames[$0] } ?? "", worstFraction: worst.map { fractions[$0] } ?? 0,
                signalNames: layout.columnNames, signalFractions: fractions, signalSampleFractions: samples)
            days.append(closed)
            handler?(closed)
            open.remove(at: k)
            row.removeSubrange(columns)
            rowReceived.removeSubrange(columns)
        }
    }

    /// Samples expected over `plainMS` at `intervalMS` (NaN when the interval is unknown and
    /// there is such time), plus those of the time under a changed interval.
    static func expectedSamples(plainMS: Int64, intervalMS: Int64, changedExpected: Double) -> Double {
        if plainMS <= 0 { return changedExpected }
        guard intervalMS > 0 else { return .nan }
        return Double(plainMS) / Double(intervalMS) + changedExpected
    }

    /// min(1, received ÷ expected): more samples than expected (a faster poll than configured)
    /// count as complete. NaN when nothing is known to be expected.
    static func sampleFraction(_ received: Int64, _ expected: Double) -> Double {
        guard expected.isFinite, expected > 0 else { return .nan }
        return Swift.min(1, Double(received) / expected)
    }

    /// One row per completeness column (included signals, groups in layout order).
    static func signals(
        _ ctx: IndicatorContext, layout: IndicatorLayout, received: [Int64], changedMS: [Int64], changedExpected: [Double]
    ) -> [SignalCompleteness] {
        zip(layout.columns, layout.columns.indices).map { column, c in
            let group = layout.groups[column.group]
            let expected = expectedSamples(
                plainMS: ctx.windowMS - changedMS[column.group], intervalMS: layout.columnIntervalMS[c],
                changedExpected: changedExpected[column.group])
            return SignalCompleteness(groupID: group.groupID, signal: group.signalNames[column.signal],
                fraction: ctx.windowMS > 0 ? Double(ctx.covered[column.group][column.signal]) / Double(ctx.windowMS) : 0,
                receivedSamples: received[layout.columnCovered[c]], expectedSamples: expected)
        }
    }

    static func values(_ rows: [SignalCompleteness]) -> [IndicatorValue] {
        let mean = rows.isEmpty ? 0 : rows.map(\.fraction).reduce(0, +) / Double(rows.count)
        let worst = rows.min { $0.fraction < $1.fraction }
        let known = rows.filter { !$0.sampleFraction.isNaN }
        let sampleMean = known.isEmpty ? Double.nan : known.map(\.sampleFraction).reduce(0, +) / Double(known.count)
        let sampleWorst = known.min { $0.sampleFraction < $1.sampleFraction }
        let unknownNote = "no signal has a known sampling interval"
        let skipped = rows.count - known.count
        let skippedNote = skipped > 0 ? ["\(skipped) signal(s) without a known sampling interval left out"] : []
        return [
            IndicatorValue(id: "completeness.mean_percent", value: mean * 100, unit: "%", coverage: mean,
                status: .ok, formula: "mean over signals of covered time / window × 100 (a sample covers its heartbeat)",
                confidence: .verified),
            IndicatorValue(id: "completeness.worst_signal_percent", value: (worst?.fraction ?? 0) * 100, unit: "%",
                coverage: worst?.fraction ?? 0, status: .ok, formula: "min over signals of covered time / window × 100",
                confidence: .verified, notes: worst.map { ["\($0.groupID)/\($0.signal)"] } ?? []),
            IndicatorValue(id: "completeness.samples_mean_percent", value: sampleMean * 100, unit: "%",
                coverage: sampleMean.isNaN ? 0 : sampleMean, status: sampleMean.isNaN ? .insufficientData : .ok,
                formula: "数据完整率 mean over signals of min(1, received samples / expected samples) × 100; expected = window / sampling interval",
                confidence: .verified, notes: sampleMean.isNaN ? [unknownNote] : skippedNote),
            IndicatorValue(id: "completeness.samples_worst_signal_percent", value: (sampleWorst?.sampleFraction ?? .nan) * 100,
                unit: "%", coverage: sampleWorst?.sampleFraction ?? 0, status: sampleWorst == nil ? .insufficientData : .ok,
                formula: "min over signals of min(1, received samples / expected samples) × 100",
                confidence: .verified, notes: sampleWorst.map { ["\($0.groupID)/\($0.signal)"] } ?? [unknownNote]),
        ]
    }
}
