public import ESSCore

/// Which signal of a series group carries each role the indicators use (indices into the
/// group's `SeriesSchema.signals` and so into `ConsolidatedSlot.signals`). nil: not carried.
public struct SignalIndices: Sendable, Hashable {
    public var soc: Int?
    public var power: Int?
    public var cellTempMax: Int?
    public var cellVoltageMax: Int?
    public var cellVoltageMin: Int?
    public var available: Int?
    public var fault: Int?
    public var alarmWord: Int?
    public var chargeCounter: Int?
    public var dischargeCounter: Int?
    public var meterImport: Int?
    public var meterExport: Int?

    public init(
        soc: Int? = nil, power: Int? = nil, cellTempMax: Int? = nil, cellVoltageMax: Int? = nil, cellVoltageMin: Int? = nil,
        available: Int? = nil, fault: Int? = nil, alarmWord: Int? = nil, chargeCounter: Int? = nil,
        dischargeCounter: Int? = nil, meterImport: Int? = nil, meterExport: Int? = nil
    ) {
        self.soc = soc
        self.power = power
        self.cellTempMax = cellTempMax
        self.cellVoltageMax = cellVoltageMax
        self.cellVoltageMin = cellVoltageMin
        self.available = available
        self.fault = fault
        self.alarmWord = alarmWord
        self.chargeCounter = chargeCounter
        self.dischargeCounter = dischargeCounter
        self.meterImport = meterImport
        self.meterExport = meterExport
    }

    /// The first signal of each role in `schema` (cell temperature: `cell_temp_max_c`).
    public init(schema: SeriesSchema) {
        func first(_ role: SignalRole) -> Int? { schema.signals.firstIndex { $0.role == role } }
        self.init(
            soc: first(.socPercent), power: first(.activePowerKW), cellTempMax: first(.cellTempMaxC),
            cellVoltageMax: first(.cellVoltageMaxV), cellVoltageMin: first(.cellVoltageMinV), available: first(.available),
            fault: first(.fault), alarmWord: first(.alarmWord), chargeCounter: schema.energy.chargeCounter,
            dischargeCounter: schema.energy.dischargeCounter, meterImport: first(.meterImportEnergyTotalKWh),
            meterExport: first(.meterExportEnergyTotalKWh))
    }
}

/// One series group's slots over the window, with what its signals mean. Slots may be
/// sparse (an absent slot is missing data), in any order; slots outside the window are ignored.
public struct GroupSeries: Sendable, Hashable {
    public var groupID: String
    /// Signal names in schema order (for completeness rows).
    public var signalNames: [String]
    public var indices: SignalIndices
    /// Whether the group has a power signal or counters (so `ConsolidatedSlot.energy` is meaningful).
    public var hasEnergy: Bool
    public var slots: [ConsolidatedSlot]
    /// Signals left out of completeness: not kept in this tier, or identity/scale factors.
    public var excludedFromCompleteness: Set<Int>
    /// Per signal (schema order): the interval at which samples are expected, for completeness
    /// by samples (`SignalDefinition.expectedIntervalMS`); 0 or absent: unknown.
    public var sampleIntervalsMS: [Int64]
    /// Time ranges in which every signal of the group was sampled at another interval
    /// (imported history), sorted by start, not overlapping.
    public var sampleIntervalChanges: [SampleIntervalChange]

    public init(
        groupID: String, signalNames: [String], indices: SignalIndices, hasEnergy: Bool, slots: [ConsolidatedSlot],
        excludedFromCompleteness: Set<Int> = [], sampleIntervalsMS: [Int64] = [],
        sampleIntervalChanges: [SampleIntervalChange] = []
    ) {
        self.groupID = groupID
        self.signalNames = signalNames
        self.indices = indices
        self.hasEnergy = hasEnergy
        self.slots = slots
        self.excludedFromCompleteness = excludedFromCompleteness
        self.sampleIntervalsMS = sampleIntervalsMS
        self.sampleIntervalChanges = sampleIntervalChanges
    }

    /// A group described by its schema; `tier` (default: the first slot's) decides which
    /// signals completeness expects.
    public init(schema: SeriesSchema, slots: [ConsolidatedSlot], tier: String? = nil) {
        let tier = tier ?? slots.first?.tier
        var excluded = Set<Int>()
        for (i, signal) in schema.signals.enumerated() {
            if signal.role == .identity || signal.role == .scaleFactor { excluded.insert(i) }
            if let tier, !signal.tiers.contains(tier) { excluded.insert(i) }
        }
        self.init(
            groupID: schema.groupID, signalNames: schema.signals.map(\.name), indices: SignalIndices(schema: schema),
            hasEnergy: schema.energy.hasEnergy, slots: slots, excludedFromCompleteness: excluded,
            sampleIntervalsMS: schema.signals.map(\.expectedIntervalMS))
    }

    func included(_ signal: Int) -> Bool { !excludedFromCompleteness.contains(signal) }

    /// Signal `s`'s expected sampling interval, 0 when unknown.
    func sampleIntervalMS(_ s: Int) -> Int64 { s < sampleIntervalsMS.count ? Swift.max(0, sampleIntervalsMS[s]) : 0 }

    /// The shortest sampling interval of signal `s` over [fromMS, toMS): its own where no
    /// interval change covers the time, and that of every change overlapping it; 0 when unknown.
    func shortestSampleIntervalMS(_ s: Int, fromMS: Int64, toMS: Int64) -> Int64 {
        var shortest = Int64.max
        var changedMS: Int64 = 0
        for c in sampleIntervalChanges {
            let overlap = Swift.min(toMS, c.toMS) - Swift.max(fromMS, c.fromMS)
            guard overlap > 0 else { continue }
            changedMS += overlap
            shortest = Swift.min(shortest, c.intervalMS)
        }
        if changedMS < toMS - fromMS {
            let own = sampleIntervalMS(s)
            guard own > 0 else { return 0 }
            shortest = Swift.min(shortest, own)
        }
        return shortest == .max ? 0 : shortest
    }
}

/// A time range [fromMS, toMS) in which a group's signals were sampled every `intervalMS`
/// instead of at their configured interval (history imported from another system's export).
public struct SampleIntervalChange: Sendable, Hashable {
    public var fromMS: Int64
    public var toMS: Int64
    public var intervalMS: Int64

    public init(fromMS: Int64, toMS: Int64, intervalMS: Int64) {
        self.fromMS = fromMS
        self.toMS = toMS
        self.intervalMS = intervalMS
    }
}

/// A planned outage declared by the site (maintenance), [startMS, endMS) in UTC.
public struct MaintenanceWindow: Sendable, Hashable {
    public var startMS: Int64
    public var endMS: Int64
    public var reason: String

    public init(startMS: Int64, endMS: Int64, reason: String = "") {
        self.startMS = startMS
        self.endMS = endMS
        self.reason = reason
    }
}

/// Everything the indicators need, assembled by the caller from the store: one tier's slots
/// over [windowStartMS, windowEndMS) for the site group, the device groups and the storage
/// meter, plus facts. Owns no I/O; time is only what is passed in.
///
/// Which groups give E_c/E_d: `energyGroupIDs` (e.g. the PCS devices); when empty, the site
/// group. When a storage meter is configured the site's counters *are* the meter's, so name
/// the PCS groups here or E_d/E_c becomes E_on/E_off.
public struct IndicatorInput: Sendable, Hashable {
    public var windowStartMS: Int64
    public var windowEndMS: Int64
    /// The tier's slot length (e.g. 60 000 or 900 000).
    public var slotMS: Int64
    /// Rated power P_N and rated energy E_N come from here.
    public var facts: SiteFacts
    public var site: GroupSeries
    public var devices: [GroupSeries]
    public var energyGroupIDs: [String]
    /// The storage meter (import = E_off, export = E_on), when the site has one.
    public var meter: GroupSeries?
    public var maintenance: [MaintenanceWindow]
    /// The site's UTC offsets (for local days and tariff periods).
    public var offsets: UTCOffsetTable

    public init(
        windowStartMS: Int64, windowEndMS: Int64, slotMS: Int64, facts: SiteFacts, site: GroupSeries,
        devices: [GroupSeries] = [], energyGroupIDs: [String] = [], meter: GroupSeries? = nil,
        maintenance: [MaintenanceWindow] = [], offsets: UTCOffsetTable = .chinaStandardTime
    ) {
        self.windowStartMS = windowStartMS
        self.windowEndMS = windowEndMS
        self.slotMS = slotMS
        self.facts = facts
        self.site = site
        self.devices = devices
        self.energyGroupIDs = energyGroupIDs
        self.meter = meter
        self.maintenance = maintenance
        self.offsets = offsets
    }

    public var windowMS: Int64 { max(0, windowEndMS - windowStartMS) }
    public var windowHours: Double { Double(windowMS) / 3_600_000 }
    /// Number of slots in the window (a partial last slot counts).
    public var slotCount: Int { slotMS > 0 ? Int((windowMS + slotMS - 1) / slotMS) : 0 }

    /// The groups whose energy summaries give E_c and E_d.
    public var energyGroups: [GroupSeries] {
        let named = devices.filter { energyGroupIDs.contains($0.groupID) }
        return named.isEmpty ? [site] : named
    }

    /// Where each of the window's steps finds its slot in `group.slots`: `slotPositions(g)[i]`
    /// is an index into `g.slots`, or −1 when the slot is missing. A duplicate start: the last wins.
    func slotPositions(_ group: GroupSeries) -> [Int32] {
        var positions = [Int32](repeating: -1, count: slotCount)
        guard slotMS > 0 else { return positions }
        group.slots.withUnsafeBufferPointer { slots in
            for k in slots.indices {
                let start = slots[k].startMS
                if start >= windowStartMS && start < windowEndMS { positions[Int((start - windowStartMS) / slotMS)] = Int32(k) }
            }
        }
        return positions
    }

    /// Length of slot i inside the window (the last may be cut short).
    func slotLengthMS(_ i: Int) -> Int64 {
        let start = windowStartMS + Int64(i) * slotMS
        return min(slotMS, windowEndMS - start)
    }
}

/// Thresholds and defaults of the indicators: every number a site may change.
public struct IndicatorSettings: Sendable, Hashable {
    /// Coverage below this makes an indicator "insufficient data" (default 0.9).
    public var minimumCoverage: Double
    /// Cell temperature above which time is counted (default 45 °C).
    public var cellTempLimitC: Double
    /// Cell voltage window (defaults 2.5…3.65 V, lithium iron phosphate).
    public var cellVoltageMinV: Double
    public var cellVoltageMaxV: Double
    /// A slot is part of a discharge event when mean power > this × P_N (default 0.01).
    public var dischargeThresholdOfRatedPower: Double
    /// Flat price for valuing energy at a tariff's ratios; nil: value in flat-price kWh.
    public var flatPriceCNYPerKWh: Double?

    public init(
        minimumCoverage: Double = 0.9, cellTempLimitC: Double = 45, cellVoltageMinV: Double = 2.5,
        cellVoltageMaxV: Double = 3.65, dischargeThresholdOfRatedPower: Double = 0.01, flatPriceCNYPerKWh: Double? = nil
    ) {
        self.minimumCoverage = minimumCoverage
        self.cellTempLimitC = cellTempLimitC
        self.cellVoltageMinV = cellVoltageMinV
        self.cellVoltageMaxV = cellVoltageMaxV
        self.dischargeThresholdOfRatedPower = dischargeThresholdOfRatedPower
        self.flatPriceCNYPerKWh = flatPriceCNYPerKWh
    }
}
