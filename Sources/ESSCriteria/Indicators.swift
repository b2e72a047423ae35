import ESSCore

/// Every indicator of one window, in a fixed order, plus the detail behind some of them
/// (discharge events, completeness per signal and per day). Owns results only.
public struct IndicatorReport: Sendable, Hashable {
    public var windowStartMS: Int64
    public var windowEndMS: Int64
    public var slotMS: Int64
    public var values: [IndicatorValue]
    public var dischargeEvents: [DischargeEvent]
    public var signalCompleteness: [SignalCompleteness]
    public var dayCompleteness: [DayCompleteness]
    /// The tariff the peak-shifting indicators used, if any.
    public var tariffID: String?

    public init(
        windowStartMS: Int64, windowEndMS: Int64, slotMS: Int64, values: [IndicatorValue], dischargeEvents: [DischargeEvent],
        signalCompleteness: [SignalCompleteness], dayCompleteness: [DayCompleteness], tariffID: String?
    ) {
        self.windowStartMS = windowStartMS
        self.windowEndMS = windowEndMS
        self.slotMS = slotMS
        self.values = values
        self.dischargeEvents = dischargeEvents
        self.signalCompleteness = signalCompleteness
        self.dayCompleteness = dayCompleteness
        self.tariffID = tariffID
    }

    /// The indicator with this id, if it was computed.
    public subscript(id: String) -> IndicatorValue? { values.first { $0.id == id } }

    public var windowHours: Double { Double(windowEndMS - windowStartMS) / 3_600_000 }
}

/// The entry point of the indicators: pure, time passed in through the input's window.
/// A loop over `IndicatorAccumulator`, which owns the order of computation; each family lives
/// in its own file.
public enum Indicators {
    /// Every indicator over `input`'s window. Peak shifting needs `tariff`; meter-based
    /// efficiencies need `input.meter`; planned/unplanned outage needs maintenance windows.
    public static func compute(_ input: IndicatorInput, tariff: TariffCalendar? = nil, settings: IndicatorSettings = IndicatorSettings()) -> IndicatorReport {
        var accumulator = IndicatorAccumulator(input, tariff: tariff, settings: settings)
        let groups = [input.site] + input.devices + (accumulator.layout.meterGroup == nil ? [] : [input.meter!])
        // Where each group's slot of step i is in its `slots` (−1: missing); the last wins.
        let grids = groups.map { input.slotPositions($0) }
        for i in 0..<accumulator.stepCount {
            guard accumulator.beginStep() else { break }
            for g in groups.indices {
                let k = Int(grids[g][i])
                guard k >= 0 else { continue }
                groups[g].slots.withUnsafeBufferPointer { slots in
                    slots[k].signals.withUnsafeBufferPointer { accumulator.feed(g, $0, slots[k].energy) }
                }
            }
            accumulator.endStep()
        }
        return accumulator.finish()
    }
}
