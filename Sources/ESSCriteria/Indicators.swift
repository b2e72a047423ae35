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
/// Owns the order of computation; each family lives in its own file.
public enum Indicators {
    /// Every indicator over `input`'s window. Peak shifting needs `tariff`; meter-based
    /// efficiencies need `input.meter`; planned/unplanned outage needs maintenance windows.
    public static func compute(_ input: IndicatorInput, tariff: TariffCalendar? = nil, settings: IndicatorSettings = IndicatorSettings()) -> IndicatorReport {
        let ctx = IndicatorContext(input: input, settings: settings)
        let energy = EnergyAccounting(ctx)
        let meter = MeterAccounting(ctx)
        let events = DischargeIndicators.events(ctx)
        let completeness = CompletenessIndicators.compute(ctx)
        var values: [IndicatorValue] = []
        values += EnergyIndicators.compute(ctx, energy, meter)
        values += EfficiencyIndicators.compute(ctx, energy, meter)
        values += UtilisationIndicators.compute(ctx, energy)
        values += AvailabilityIndicators.compute(ctx)
        values += DischargeIndicators.compute(ctx, events: events)
        values += SafetyIndicators.compute(ctx)
        if let tariff { values += PeakShiftingIndicators.compute(ctx, energy, tariff: tariff) }
        values += completeness.values
        return IndicatorReport(
            windowStartMS: input.windowStartMS, windowEndMS: input.windowEndMS, slotMS: input.slotMS, values: values,
            dischargeEvents: events, signalCompleteness: completeness.signals, dayCompleteness: completeness.days,
            tariffID: tariff?.id)
    }
}
