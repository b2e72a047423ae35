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
    /// Every drop of an energy counter (storage charge and discharge counters of each energy
    /// group, the meter's import and export), per counter, in time order.
    public var counterResets: [CounterReset]
    /// Each group's runs of steps without data (site, devices, meter), in time order.
    public var communicationGaps: [CommunicationGap]

    public init(
        windowStartMS: Int64, windowEndMS: Int64, slotMS: Int64, values: [IndicatorValue], dischargeEvents: [DischargeEvent],
        signalCompleteness: [SignalCompleteness], dayCompleteness: [DayCompleteness], tariffID: String?,
        counterResets: [CounterReset] = [], communicationGaps: [CommunicationGap] = []
    ) {
        self.counterResets = counterResets
        self.communicationGaps = communicationGaps
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
        // Slots as a store gives them (in time order): one pass, each group read at a cursor.
        inOrder(input, tariff: tariff, settings: settings) ?? placed(input, tariff: tariff, settings: settings)
    }

    /// The report for slots in any order: each group's slots are placed on the grid first
    /// (`slotPositions`); of two slots for one step, the later in the array wins.
    static func placed(_ input: IndicatorInput, tariff: TariffCalendar?, settings: IndicatorSettings) -> IndicatorReport {
        let groups = [input.site] + input.devices + (input.meter.map { [$0] } ?? [])
        var accumulator = IndicatorAccumulator(input, tariff: tariff, settings: settings)
        let grids = groups.map { input.slotPositions($0) }
        withSlotBuffers(groups[...]) { buffers in
            for i in 0..<accumulator.stepCount {
                guard accumulator.beginStep() else { break }
                for g in buffers.indices {
                    let k = Int(grids[g][i])
                    guard k >= 0 else { continue }
                    accumulator.feed(g, buffers[g].baseAddress! + k)
                }
                accumulator.endStep()
            }
        }
        return accumulator.finish()
    }

    /// The report when every group's slots inside the window are in time order (duplicates
    /// allowed: the last wins, as in any order), reading each group's slots once at a cursor;
    /// nil when a slot is found out of order (the caller then places slots by start).
    static func inOrder(_ input: IndicatorInput, tariff: TariffCalendar?, settings: IndicatorSettings) -> IndicatorReport? {
        let groups = [input.site] + input.devices + (input.meter.map { [$0] } ?? [])
        var accumulator = IndicatorAccumulator(input, tariff: tariff, settings: settings)
        let start = input.windowStartMS
        let end = input.windowEndMS
        let slotMS = input.slotMS
        var ordered = true
        withSlotBuffers(groups[...]) { buffers in
            var cursors = [Int](repeating: 0, count: buffers.count)
            for i in 0..<accumulator.stepCount {
                guard accumulator.beginStep() else { break }
                let stepStart = start + Int64(i) * slotMS
                let stepEnd = min(end, stepStart + slotMS)
                for g in buffers.indices {
                    let slots = buffers[g]
                    var k = cursors[g]
                    var found = -1
                    // Before the window: ignored; inside it but before this step: out of order.
                    while k < slots.count {
                        let slotStart = slots[k].startMS
                        if slotStart >= stepEnd { break }
                        if slotStart >= stepStart {
                            found = k
                        } else if slotStart >= start {
                            ordered = false
                            return
                        }
                        k += 1
                    }
                    cursors[g] = k
                    if found >= 0 { accumulator.feed(g, slots.baseAddress! + found) }
                }
                accumulator.endStep()
            }
            // What is left must lie outside the window.
            for g in buffers.indices {
                for k in cursors[g]..<buffers[g].count where buffers[g][k].startMS >= start && buffers[g][k].startMS < end {
                    ordered = false
                    return
                }
            }
        }
        return ordered ? accumulator.finish() : nil
    }

    /// Calls `body` with every group's slots as buffers (nested `withUnsafeBufferPointer`), so
    /// the loop reads slots in place instead of copying them.
    private static func withSlotBuffers(
        _ groups: ArraySlice<GroupSeries>, _ buffers: [UnsafeBufferPointer<ConsolidatedSlot>] = [],
        _ body: ([UnsafeBufferPointer<ConsolidatedSlot>]) -> Void
    ) {
        guard let first = groups.first else { return body(buffers) }
        first.slots.withUnsafeBufferPointer { withSlotBuffers(groups.dropFirst(), buffers + [$0], body) }
    }
}
