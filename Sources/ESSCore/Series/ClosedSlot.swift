/// A slot of one tier as it stands in `SeriesConsolidator`'s open accumulators, read in place:
/// what the `onClose:` variants of `ingest` and `flush` hand out when a slot closes, instead of
/// building a `ConsolidatedSlot` (no arrays, no strings). It points into the consolidator, so it
/// is valid only during the call that receives it, which borrows it (it cannot be copied out):
/// read it there, or keep `consolidated(groupID:)`.
public struct ClosedSlot: ~Copyable {
    /// The slot's tier, as an index into `SeriesConsolidator.tiers`.
    public let tierIndex: Int
    /// UTC ms of the slot's start (a multiple of the tier's slot length).
    public let startMS: Int64
    let tier: UnsafePointer<SeriesConsolidator.TierState>
    /// Open slot `k` of `tier`; its accumulators need not exist (then every signal is unknown).
    let k: Int
    let energySources: EnergySources

    init(
        tierIndex: Int, startMS: Int64, tier: UnsafePointer<SeriesConsolidator.TierState>, k: Int,
        energySources: EnergySources
    ) {
        self.tierIndex = tierIndex
        self.startMS = startMS
        self.tier = tier
        self.k = k
        self.energySources = energySources
    }

    /// The schema's signal count.
    public var signalCount: Int { tier.pointee.signalCount }

    /// Signal `s` (schema order) over the slot; `.unknown` when the tier does not keep it.
    public func summary(ofSignal s: Int) -> SlotSummary {
        // Through the pointer: a copy of the tier state would retain its arrays on every call.
        guard tier.pointee.kept[s], k < tier.pointee.openCount else { return .unknown }
        return tier.pointee.signals[tier.pointee.signalIndex(slot: k, signal: s)].summary
    }

    /// The group's energy over the slot; nil when the group has no energy sources.
    public var energy: EnergySummary? {
        guard energySources.hasEnergy else { return nil }
        let e = k < tier.pointee.openCount ? tier.pointee.energy[k] : SeriesConsolidator.EnergyAccumulator()
        var summary = EnergySummary(
            counterResets: e.counterResets, integratedMS: e.integratedMS, unaccountedMS: e.unaccountedMS)
        if energySources.chargeCounter != nil, e.hasChargeDelta { summary.counterChargeKWh = e.counterChargeKWh }
        if energySources.dischargeCounter != nil, e.hasDischargeDelta {
            summary.counterDischargeKWh = e.counterDischargeKWh
        }
        if energySources.activePower != nil, e.integratedMS > 0 {
            summary.integratedChargeKWh = e.integratedChargeKWh
            summary.integratedDischargeKWh = e.integratedDischargeKWh
        }
        return summary
    }

    /// The same slot as a value that outlives the call.
    public func consolidated(groupID: String) -> ConsolidatedSlot {
        let count = signalCount
        var signals: [SlotSummary] = []
        signals.reserveCapacity(count)
        for s in 0..<count { signals.append(summary(ofSignal: s)) }
        return ConsolidatedSlot(
            groupID: groupID, tier: tier.pointee.name, startMS: startMS, signals: signals, energy: energy)
    }
}
