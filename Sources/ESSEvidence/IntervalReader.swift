import ESSCore
import ESSCriteria
import ESSStore

/// Names the tariff period of an instant. The exporter's seam to the tariff calendars:
/// `TariffCalendarLabeler` for ESSCriteria's calendars; tests may pass their own.
public protocol TariffPeriodLabeler: Sendable {
    /// The tariff's id, written to the manifest.
    var tariffID: String { get }
    /// The period's label at `utcMS` ("peak", "valley", …), nil when the tariff has none there.
    func period(atUTCMS utcMS: Int64) -> String?
}

/// ESSCriteria's `TariffCalendar` in the site's time zone.
public struct TariffCalendarLabeler: TariffPeriodLabeler {
    public let calendar: TariffCalendar
    public let offsets: UTCOffsetTable

    public init(calendar: TariffCalendar, offsets: UTCOffsetTable) {
        self.calendar = calendar
        self.offsets = offsets
    }

    public var tariffID: String { calendar.id }

    public func period(atUTCMS utcMS: Int64) -> String? {
        calendar.period(atUTCms: utcMS, offsets: offsets)?.rawValue
    }
}

/// Reads one export interval after another from the store, a tier slot at a time: the site
/// group (energy, SoC, power, availability), every device with a `cell_temp_max_c` signal, and
/// the storage meter's import/export counters. Holds only the current interval's slots and the
/// meter counters' last readings. Owns the arithmetic of `IntervalSummary`; not the CSV.
final class IntervalReader {
    let reader: StoreReader
    let tier: TierDefinition
    let labeler: (any TariffPeriodLabeler)?

    private let siteGroup: String?
    private let soc: Int?
    private let power: Int?
    private let available: Int?
    /// The signal whose covered time is the interval's coverage: power, else SoC, else the first.
    private let coverageSignal: Int?
    private let cellTemps: [(group: String, index: Int)]
    let meter: (group: String, importIndex: Int?, exportIndex: Int?)?
    private var meterImport = CounterTracker()
    private var meterExport = CounterTracker()
    /// The site's charge and discharge counters, spread back over gaps.
    private var chargePlan: CounterGapPlan?
    private var dischargePlan: CounterGapPlan?
    /// The end of the export: how far a gap's end is looked for.
    let untilMS: Int64
    /// P_N: an interval whose energy exceeds P_N × its length × (1 + `plausibilityTolerance`) is implausible.
    let ratedPowerKW: Double?
    static let plausibilityTolerance = 0.05

    init(
        reader: StoreReader, tier: TierDefinition, meterDeviceID: String?, labeler: (any TariffPeriodLabeler)?,
        untilMS: Int64 = .max, ratedPowerKW: Double? = nil
    ) {
        self.reader = reader
        self.tier = tier
        self.labeler = labeler
        self.untilMS = untilMS
        self.ratedPowerKW = ratedPowerKW
        func index(_ schema: SeriesSchema, _ role: SignalRole) -> Int? {
            schema.signals.firstIndex { $0.role == role && $0.tiers.contains(tier.name) }
        }
        let site = reader.schemas.first { $0.groupID == "site" }
        siteGroup = site?.groupID
        soc = site.flatMap { index($0, .socPercent) }
        power = site.flatMap { index($0, .activePowerKW) }
        available = site.flatMap { index($0, .available) }
        coverageSignal = power ?? soc ?? site.flatMap { s in s.signals.firstIndex { $0.tiers.contains(tier.name) } }
        if let site, let c = site.energy.chargeCounter, site.signals[c].tiers.contains(tier.name) {
            chargePlan = CounterGapPlan(
                counterIndex: c, storedEnergy: \.counterChargeKWh, integratedEnergy: \.integratedChargeKWh, slotMS: tier.slotMS)
        }
        if let site, let d = site.energy.dischargeCounter, site.signals[d].tiers.contains(tier.name) {
            dischargePlan = CounterGapPlan(
                counterIndex: d, storedEnergy: \.counterDischargeKWh, integratedEnergy: \.integratedDischargeKWh,
                slotMS: tier.slotMS)
        }
        cellTemps = reader.schemas.compactMap { schema in
            schema.groupID == "site" ? nil : index(schema, .cellTempMaxC).map { (schema.groupID, $0) }
        }
        if let id = meterDeviceID, let schema = reader.schemas.first(where: { $0.groupID == id }) {
            let imp = index(schema, .meterImportEnergyTotalKWh)
            let exp = index(schema, .meterExportEnergyTotalKWh)
            meter = imp == nil && exp == nil ? nil : (id, imp, exp)
        } else {
            meter = nil
        }
    }

    /// Reads the slot just before `startMS` so the first interval's meter deltas, and a gap of
    /// the site's counters across the start, have a reading to start from.
    func prime(beforeMS startMS: Int64) throws {
        guard startMS - tier.slotMS > 0 else { return }
        if let siteGroup, chargePlan != nil || dischargePlan != nil {
            let before = try reader.slots(tier: tier.name, group: siteGroup, fromMS: startMS - tier.slotMS, toMS: startMS)
                .compactMap(\.slot).last
            chargePlan?.prime(before)
            dischargePlan?.prime(before)
        }
        guard let meter else { return }
        for stored in try reader.slots(tier: tier.name, group: meter.group, fromMS: startMS - tier.slotMS, toMS: startMS) {
            guard let slot = stored.slot else { continue }
            if let i = meter.importIndex { _ = meterImport.add(slot.signals[i], startMS: slot.startMS, slotMS: tier.slotMS) }
            if let i = meter.exportIndex { _ = meterExport.add(slot.signals[i], startMS: slot.startMS, slotMS: tier.slotMS) }
        }
    }

    /// The interval [startMS, endMS); both multiples of the tier's slot.
    func read(startMS: Int64, endMS: Int64) throws -> IntervalSummary {
        var summary = IntervalSummary(
            startMS: startMS, endMS: endMS, energy: EnergySummary(), meterImportKWh: .nan, meterExportKWh: .nan,
            socStartPercent: .nan, socEndPercent: .nan, socMinPercent: .nan, socMaxPercent: .nan, powerMeanKW: .nan,
            powerMaxKW: .nan, cellTempMaxC: .nan, availabilityMean: .nan, coverage: 0, tariffPeriod: "")
        var socStats = SignalStats()
        var powerStats = SignalStats()
        var availableStats = SignalStats()
        var coveredMS: Int64 = 0
        if let siteGroup {
            let stored = try reader.slots(tier: tier.name, group: siteGroup, fromMS: startMS, toMS: endMS)
            if chargePlan != nil || dischargePlan != nil {
                var byStart: [Int64: ConsolidatedSlot] = [:]
                for s in stored { if let slot = s.slot { byStart[slot.startMS] = slot } }
                let readAhead = { (from: Int64) in try self.siteSlots(group: siteGroup, fromMS: from) }
                var t = startMS
                while t < endMS {
                    if chargePlan != nil {
                        let (kWh, spread) = try chargePlan!.energy(at: t, slot: byStart[t], readAhead: readAhead)
                        addKnown(&summary.energy.counterChargeKWh, kWh)
                        summary.apportioned = summary.apportioned || spread
                    }
                    if dischargePlan != nil {
                        let (kWh, spread) = try dischargePlan!.energy(at: t, slot: byStart[t], readAhead: readAhead)
                        addKnown(&summary.energy.counterDischargeKWh, kWh)
                        summary.apportioned = summary.apportioned || spread
                    }
                    t += tier.slotMS
                }
            }
            for stored in stored {
                guard let slot = stored.slot else { continue }
                if let e = slot.energy {
                    if chargePlan == nil { addKnown(&summary.energy.counterChargeKWh, e.counterChargeKWh) }
                    if dischargePlan == nil { addKnown(&summary.energy.counterDischargeKWh, e.counterDischargeKWh) }
                    addKnown(&summary.energy.integratedChargeKWh, e.integratedChargeKWh)
                    addKnown(&summary.energy.integratedDischargeKWh, e.integratedDischargeKWh)
                    summary.energy.counterResets += e.counterResets
                    summary.energy.integratedMS += e.integratedMS
                    summary.energy.unaccountedMS += e.unaccountedMS
                }
                if let soc { socStats.add(slot.signals[soc]) }
                if let power { powerStats.add(slot.signals[power]) }
                if let available { availableStats.add(slot.signals[available]) }
                if let coverageSignal { coveredMS += min(tier.slotMS, slot.signals[coverageSignal].coveredMS) }
            }
        }
        summary.socStartPercent = socStats.first
        summary.socEndPercent = socStats.last
        summary.socMinPercent = socStats.min
        summary.socMaxPercent = socStats.max
        summary.powerMeanKW = powerStats.mean
        summary.powerMaxKW = powerStats.max
        summary.availabilityMean = availableStats.mean
        summary.coverage = summary.durationMS > 0 ? min(1, Double(coveredMS) / Double(summary.durationMS)) : 0

        var temp = Double.nan
        for (group, index) in cellTemps {
            for stored in try reader.slots(tier: tier.name, group: group, fromMS: startMS, toMS: endMS) {
                guard let s = stored.slot?.signals[index], !s.isUnknown, s.max.isFinite else { continue }
                temp = temp.isNaN ? s.max : max(temp, s.max)
            }
        }
        summary.cellTempMaxC = temp

        if let meter {
            var slotStart = startMS
            var stored = try reader.slots(tier: tier.name, group: meter.group, fromMS: startMS, toMS: endMS)[...]
            while slotStart < endMS {
                let slot = stored.first?.startMS == slotStart ? stored.popFirst()?.slot : nil
                let unknown = SlotSummary.unknown
                if let i = meter.importIndex {
                    addKnown(&summary.meterImportKWh, meterImport.add(slot?.signals[i] ?? unknown, startMS: slotStart, slotMS: tier.slotMS))
                }
                if let i = meter.exportIndex {
                    addKnown(&summary.meterExportKWh, meterExport.add(slot?.signals[i] ?? unknown, startMS: slotStart, slotMS: tier.slotMS))
                }
                slotStart += tier.slotMS
            }
        }

        if let rated = ratedPowerKW, rated > 0 {
            let limit = rated * Double(summary.durationMS) / 3_600_000 * (1 + Self.plausibilityTolerance)
            let e = summary.energy
            summary.implausible = [e.counterChargeKWh, e.counterDischargeKWh, e.integratedChargeKWh, e.integratedDischargeKWh]
                .contains { $0.isFinite && $0 > limit }
        }

        if let labeler {
            var labels: [String] = []
            var t = startMS
            while t < endMS {
                if let label = labeler.period(atUTCMS: t), labels.last != label { labels.append(label) }
                t += tier.slotMS
            }
            summary.tariffPeriod = labels.joined(separator: "+")
        }
        return summary
    }

    /// The site group's slots from `fromMS` on, one per slot start (nil where not stored), a
    /// day at a time; empty at or past `untilMS`.
    private func siteSlots(group: String, fromMS: Int64) throws -> [(startMS: Int64, slot: ConsolidatedSlot?)] {
        let to = min(untilMS, fromMS + max(tier.slotMS, 86_400_000 / tier.slotMS * tier.slotMS))
        guard fromMS < to else { return [] }
        var byStart: [Int64: ConsolidatedSlot] = [:]
        for s in try reader.slots(tier: tier.name, group: group, fromMS: fromMS, toMS: to) {
            if let slot = s.slot { byStart[slot.startMS] = slot }
        }
        return stride(from: fromMS, to: to, by: Int(tier.slotMS)).map { ($0, byStart[$0]) }
    }
}
