public import ESSCore
public import ESSCriteria
public import ESSStore

/// Computes ESSCriteria's indicators straight from one consolidated tier of the store, feeding
/// an `IndicatorAccumulator` a chunk of slots (a day by default) at a time, so memory stays the
/// same however long the window: the site group, every device group but the storage meter, and
/// the meter when the site names one. Missing and damaged rows are missing data, never zero.
/// Owns the reading and the alignment of the store's slots to the window's steps; not the
/// formulas (ESSCriteria) nor the store format (ESSStore).
public struct StoreIndicatorReader {
    public let reader: StoreReader
    public let tier: TierDefinition
    public let siteSchema: SeriesSchema
    public let deviceSchemas: [SeriesSchema]
    public let meterSchema: SeriesSchema?

    /// `tier` must be a consolidated tier of `reader`; `meterDeviceID` is the site's storage meter, if any.
    public init(reader: StoreReader, tier: TierDefinition, meterDeviceID: String?) {
        self.reader = reader
        self.tier = tier
        siteSchema =
            reader.schemas.first { $0.groupID == "site" } ?? SeriesSchema(groupID: "site", signals: [], energy: EnergySources())
        deviceSchemas = reader.schemas.filter { $0.groupID != "site" && $0.groupID != meterDeviceID }
        meterSchema = meterDeviceID.flatMap { id in reader.schemas.first { $0.groupID == id } }
    }

    /// The finest consolidated tier that still holds `[fromMS, toMS)` (its ring reaches back to
    /// `fromMS` and is at least as long as the window), so durations and events are counted at
    /// the best resolution the store has (issue 12, finding 7); when none does, the coarsest
    /// tier that reaches back to `fromMS`, else the coarsest. nil when the store has no
    /// consolidated tier.
    public static func finestTier(reader: StoreReader, fromMS: Int64, toMS: Int64) throws(StoreError) -> TierDefinition? {
        let consolidated = reader.tiers.filter { !$0.isRaw }.sorted { $0.slotMS < $1.slotMS }
        var reaching: [TierDefinition] = []
        for tier in consolidated {
            guard let oldest = try reader.oldestHeldMS(tier: tier.name), oldest <= fromMS else { continue }
            if tier.retentionMS >= toMS - fromMS { return tier }
            reaching.append(tier)
        }
        return reaching.last ?? consolidated.last
    }

    /// The indicator input of `[fromMS, toMS)` without slots (what `IndicatorAccumulator` needs).
    /// With a storage meter the site's counters are the meter's, so E_c/E_d come from the devices.
    /// Imported history (the store's `imported` events) is expected at its own row interval.
    public func shape(
        facts: SiteFacts, fromMS: Int64, toMS: Int64, offsets: UTCOffsetTable, maintenance: [MaintenanceWindow] = []
    ) throws(StoreError) -> IndicatorInput {
        let changes = Self.sampleIntervalChanges(try reader.events().events)
        func group(_ schema: SeriesSchema) -> GroupSeries {
            var series = GroupSeries(schema: schema, slots: [], tier: tier.name)
            series.sampleIntervalChanges = changes[schema.groupID] ?? []
            return series
        }
        return IndicatorInput(
            windowStartMS: fromMS, windowEndMS: toMS, slotMS: tier.slotMS, facts: facts, site: group(siteSchema),
            devices: deviceSchemas.map(group),
            energyGroupIDs: meterSchema == nil ? [] : deviceSchemas.filter { $0.energy.hasEnergy }.map(\.groupID),
            meter: meterSchema.map(group), maintenance: maintenance, offsets: offsets)
    }

    /// Per group, the time ranges imported history covers and its row interval, sorted, not
    /// overlapping: where imports overlap (a re-import with `--force`), the later one holds.
    public static func sampleIntervalChanges(_ events: [StoreEvent]) -> [String: [SampleIntervalChange]] {
        var byGroup: [String: [StoreImport]] = [:]
        for case .imported(let i) in events where i.toMS > i.fromMS && i.intervalMS > 0 {
            for g in i.groups { byGroup[g, default: []].append(i) }
        }
        return byGroup.mapValues { imports in
            let bounds = Set(imports.flatMap { [$0.fromMS, $0.toMS] }).sorted()
            var out: [SampleIntervalChange] = []
            for (a, b) in zip(bounds, bounds.dropFirst()) {
                // The last-recorded import covering [a, b) (events are in the order they were recorded).
                guard let holder = imports.last(where: { $0.fromMS <= a && $0.toMS >= b }) else { continue }
                if let last = out.last, last.toMS == a, last.intervalMS == holder.intervalMS {
                    out[out.count - 1].toMS = b
                } else {
                    out.append(SampleIntervalChange(fromMS: a, toMS: b, intervalMS: holder.intervalMS))
                }
            }
            return out
        }
    }

    /// Every indicator over `shape`'s window, reading `chunkMS` of slots per group at a time
    /// (rounded down to whole slots, at least one). `onDayClosed` gets each local day's
    /// completeness as soon as it is final.
    public func report(
        _ shape: IndicatorInput, tariff: TariffCalendar?, settings: IndicatorSettings = IndicatorSettings(),
        chunkMS: Int64 = 86_400_000, onDayClosed: IndicatorAccumulator.DayHandler? = nil
    ) throws(StoreError) -> IndicatorReport {
        var accumulator = IndicatorAccumulator(shape, tariff: tariff, settings: settings, onDayClosed: onDayClosed)
        let slotMS = tier.slotMS
        guard slotMS > 0 else { return accumulator.finish() }
        let chunk = max(1, chunkMS / slotMS) * slotMS
        let known = Set(reader.schemas.map(\.groupID))
        let groups = [siteSchema] + deviceSchemas + (meterSchema.map { [$0] } ?? [])
        let deviceCount = deviceSchemas.count
        var start = shape.windowStartMS
        var devices = [ConsolidatedSlot?](repeating: nil, count: deviceCount)
        while start < shape.windowEndMS {
            let end = min(shape.windowEndMS, start + chunk)
            let steps = Int((end - start + slotMS - 1) / slotMS)
            var cells: [[ConsolidatedSlot?]] = []
            cells.reserveCapacity(groups.count)
            for schema in groups {
                var column = [ConsolidatedSlot?](repeating: nil, count: steps)
                if known.contains(schema.groupID) {
                    for stored in try reader.slots(tier: tier.name, group: schema.groupID, fromMS: start, toMS: end) {
                        guard let slot = stored.slot, slot.startMS >= start, slot.startMS < end else { continue }
                        column[Int((slot.startMS - start) / slotMS)] = slot
                    }
                }
                cells.append(column)
            }
            for i in 0..<steps {
                for k in 0..<deviceCount { devices[k] = cells[1 + k][i] }
                accumulator.add(site: cells[0][i], devices: devices, meter: meterSchema == nil ? nil : cells[1 + deviceCount][i])
            }
            reader.releaseResidentPages()
            start = end
        }
        return accumulator.finish()
    }
}
