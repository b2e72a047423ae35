/// A consolidation tier: slots of fixed length kept for a retention period, like an RRA of
/// RRDtool. The raw tier (`slotMS == 0`) keeps every scan at poll resolution.
public struct TierDefinition: Sendable, Hashable {
    /// "raw", "1m", "15m", "1d", ...
    public var name: String
    /// Slot length in ms; 0 for the raw tier.
    public var slotMS: Int64
    /// How long slots are kept (the ring's capacity follows from it).
    public var retentionMS: Int64

    public init(name: String, slotMS: Int64, retentionMS: Int64) {
        self.name = name
        self.slotMS = slotMS
        self.retentionMS = retentionMS
    }

    public var isRaw: Bool { slotMS == 0 }

    /// Default tiers: raw 48 h, 1 min for 400 days, 15 min for 10 years, 1 day for 30 years.
    public static let defaults: [TierDefinition] = [
        TierDefinition(name: "raw", slotMS: 0, retentionMS: 48 * 3_600_000),
        TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 400 * 86_400_000),
        TierDefinition(name: "15m", slotMS: 900_000, retentionMS: 10 * 365 * 86_400_000),
        TierDefinition(name: "1d", slotMS: 86_400_000, retentionMS: 30 * 365 * 86_400_000),
    ]
}

/// One stored signal of a series group: a device's point, or a derived site signal.
public struct SignalDefinition: Sendable, Hashable {
    public var name: String
    public var role: SignalRole
    /// How long one sample stands for: beyond it the time is unknown (default
    /// `heartbeatIntervals` × poll interval).
    public var heartbeatMS: Int64
    /// Names of the tiers this signal is kept in (points with a role: every tier; `other`: raw and 15m).
    public var tiers: Set<String>

    public init(name: String, role: SignalRole, heartbeatMS: Int64, tiers: Set<String>) {
        self.name = name
        self.role = role
        self.heartbeatMS = heartbeatMS
        self.tiers = tiers
    }

    /// A heartbeat is this many sampling intervals (a sample stands until two in a row are missed).
    public static let heartbeatIntervals: Int64 = 3

    /// The default heartbeat of a signal sampled every `intervalMS`.
    public static func heartbeat(intervalMS: Int64) -> Int64 { heartbeatIntervals * intervalMS }

    /// The sampling interval the heartbeat stands for (heartbeat ÷ `heartbeatIntervals`): the
    /// spacing at which samples are expected, for completeness by samples.
    public var expectedIntervalMS: Int64 { heartbeatMS / Self.heartbeatIntervals }

    /// The default tier membership for a role.
    public static func defaultTiers(for role: SignalRole, all: [TierDefinition]) -> Set<String> {
        switch role {
        case .other, .identity, .scaleFactor: Set(all.filter { $0.isRaw || $0.slotMS == 900_000 }.map(\.name))
        default: Set(all.map(\.name))
        }
    }
}

/// The signals stored together: one device's points (in profile order), or the site's
/// derived signals (group id "site").
public struct SeriesSchema: Sendable, Hashable {
    public var groupID: String
    public var signals: [SignalDefinition]
    /// Whether the group has energy (charge/discharge) accounting, and from what.
    public var energy: EnergySources

    public init(groupID: String, signals: [SignalDefinition], energy: EnergySources) {
        self.groupID = groupID
        self.signals = signals
        self.energy = energy
    }

    /// The schema of a device: every numeric point, heartbeat 3 × its own poll interval.
    public static func device(_ device: DeviceDefinition, tiers: [TierDefinition] = TierDefinition.defaults) -> SeriesSchema {
        let points = device.profile.points
        let signals = points.map { point in
            SignalDefinition(
                name: point.name, role: point.role,
                heartbeatMS: SignalDefinition.heartbeat(intervalMS: Int64(device.pollIntervalMS * max(1, point.pollMultiple))),
                tiers: point.tiers ?? SignalDefinition.defaultTiers(for: point.role, all: tiers))
        }
        return SeriesSchema(groupID: device.id, signals: signals, energy: EnergySources(points: points))
    }
}

/// Where a group's charge and discharge energy come from: indices of its signals.
public struct EnergySources: Sendable, Hashable {
    /// `active_power_kw` signal (+ = discharge), integrated by the trapezoid rule.
    public var activePower: Int?
    /// Cumulative `charge_energy_total_kwh` / `discharge_energy_total_kwh` counters.
    public var chargeCounter: Int?
    public var dischargeCounter: Int?

    public init(activePower: Int? = nil, chargeCounter: Int? = nil, dischargeCounter: Int? = nil) {
        self.activePower = activePower
        self.chargeCounter = chargeCounter
        self.dischargeCounter = dischargeCounter
    }

    public init(points: [PointDefinition]) {
        activePower = points.firstIndex { $0.role == .activePowerKW }
        chargeCounter = points.firstIndex { $0.role == .chargeEnergyTotalKWh }
        dischargeCounter = points.firstIndex { $0.role == .dischargeEnergyTotalKWh }
    }

    public var hasEnergy: Bool { activePower != nil || chargeCounter != nil || dischargeCounter != nil }
}

/// One signal over one consolidated slot. A slot with no valid data has `count == 0`,
/// `coveredMS == 0` and NaN statistics: unknown, never zero.
public struct SlotSummary: Sendable, Hashable {
    /// Valid samples that fell in the slot.
    public var count: Int
    /// Milliseconds of the slot covered by valid data (each sample holds until the next one,
    /// at most its heartbeat).
    public var coveredMS: Int64
    public var min: Double
    public var max: Double
    /// Time-weighted mean over the covered time (sample-and-hold).
    public var mean: Double
    /// First and last valid sample values in the slot.
    public var first: Double
    public var last: Double

    public init(count: Int, coveredMS: Int64, min: Double, max: Double, mean: Double, first: Double, last: Double) {
        self.count = count
        self.coveredMS = coveredMS
        self.min = min
        self.max = max
        self.mean = mean
        self.first = first
        self.last = last
    }

    public static let unknown = SlotSummary(count: 0, coveredMS: 0, min: .nan, max: .nan, mean: .nan, first: .nan, last: .nan)
    public var isUnknown: Bool { count == 0 && coveredMS == 0 }

    /// How far a consolidated tier may have moved this slot's first and last (the store's
    /// documented precision, docs/store-format.md "Precision": Float32 mean, 11-bit deviations,
    /// 10-bit positions): a counter that seems to drop by less than the two slots' tolerances
    /// between them has not been reset, it was read back rounded. 0 for an exact slot's integers.
    public var storedReadingTolerance: Double {
        guard min.isFinite, max.isFinite, mean.isFinite else { return 0 }
        if min.rounded() == min, max.rounded() == max, first.rounded() == first, last.rounded() == last, max - min <= 1023 {
            return 0
        }
        let deviation = Swift.max(abs(max - mean), abs(mean - min))
        return deviation * 0x1p-10 + abs(mean) * 0x1p-23 + (max - min) / 1023 + 0x1p-16
    }
}

/// A group's charge and discharge energy over one slot, from both sources, kept apart so
/// their disagreement is visible.
public struct EnergySummary: Sendable, Hashable {
    /// From counter deltas; NaN when the group has no counters or none were valid in the slot.
    public var counterChargeKWh: Double
    public var counterDischargeKWh: Double
    /// Counter drops seen in the slot (resets or replaced controllers), never counted as energy.
    public var counterResets: Int
    /// Trapezoid integration of active power over valid intervals no longer than the heartbeat;
    /// NaN when the group has no power signal.
    public var integratedChargeKWh: Double
    public var integratedDischargeKWh: Double
    /// Time of the slot integrated from power.
    public var integratedMS: Int64
    /// Time of the slot inside gaps longer than the heartbeat: energy that could hide there is unknown.
    public var unaccountedMS: Int64

    public init(
        counterChargeKWh: Double = .nan, counterDischargeKWh: Double = .nan, counterResets: Int = 0,
        integratedChargeKWh: Double = .nan, integratedDischargeKWh: Double = .nan, integratedMS: Int64 = 0,
        unaccountedMS: Int64 = 0
    ) {
        self.counterChargeKWh = counterChargeKWh
        self.counterDischargeKWh = counterDischargeKWh
        self.counterResets = counterResets
        self.integratedChargeKWh = integratedChargeKWh
        self.integratedDischargeKWh = integratedDischargeKWh
        self.integratedMS = integratedMS
        self.unaccountedMS = unaccountedMS
    }
}

/// A closed (or, for queries, still open) slot of one tier for one series group.
public struct ConsolidatedSlot: Sendable, Hashable {
    public var groupID: String
    public var tier: String
    /// UTC ms of the slot's start (a multiple of the tier's slot length).
    public var startMS: Int64
    /// One summary per signal of the schema kept in this tier (in schema order);
    /// signals not kept in the tier are `.unknown`.
    public var signals: [SlotSummary]
    /// nil when the group has no energy sources.
    public var energy: EnergySummary?

    public init(groupID: String, tier: String, startMS: Int64, signals: [SlotSummary], energy: EnergySummary?) {
        self.groupID = groupID
        self.tier = tier
        self.startMS = startMS
        self.signals = signals
        self.energy = energy
    }
}
