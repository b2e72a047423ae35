public import ESSCore

/// One signal over a range, from consolidated slots.
public struct SignalAggregate: Sendable, Hashable {
    /// NaN when no slot in the range had valid data.
    public var min: Double
    public var max: Double
    /// Coverage-weighted mean of the slots' time-weighted means.
    public var mean: Double
    public var coveredMS: Int64
    public var count: Int
    /// True when a slot's count was stored saturated (65535): `count` is then a lower bound.
    public var countIsLowerBound: Bool
    /// The range actually covered: the query range widened outward to the finest tier's slots.
    public var fromMS: Int64
    public var toMS: Int64
    /// Time of the range with no stored slot (never written, overwritten, or damaged).
    public var missingMS: Int64
    public var slotsRead: Int
    public var damaged: [DamagedRow]
}

/// A group's energy over a range: the sums of its slots' `EnergySummary`.
public struct EnergyAggregate: Sendable, Hashable {
    /// Sums; a counter or integrated value is NaN when no slot had it.
    public var energy: EnergySummary
    public var fromMS: Int64
    public var toMS: Int64
    /// Time of the range with no stored slot: its energy is unknown (not in `unaccountedMS`).
    public var missingMS: Int64
    public var slotsRead: Int
    public var damaged: [DamagedRow]
}

/// Health of a store as a reader sees it.
public struct StoreHealth: Sendable, Hashable {
    public var storeID: String
    public var siteID: String
    /// From the `checkpoint` file; nil before the first checkpoint.
    public var lastCheckpointMS: Int64?
    /// Damaged rows this reader has met so far (call `verify()` to scan everything).
    public var damagedRows: [DamagedRow]
    /// File name → size in bytes.
    public var fileBytes: [String: Int64]
}

extension StoreReader {
    /// Min, max, mean, coverage and count of `signal` over `fromMS..<toMS`, reading the coarsest
    /// tier for the aligned interior and finer tiers at the edges (and for coarse slots not
    /// stored yet), so the work is proportional to the slots touched.
    public func aggregate(group: String, signal: String, fromMS: Int64, toMS: Int64) throws(StoreError)
        -> SignalAggregate
    {
        let g = try self.group(group)
        guard let s = schemas[g].signals.firstIndex(where: { $0.name == signal }) else {
            throw StoreError(.invalidArgument, "aggregate: group '\(group)' has no signal '\(signal)'")
        }
        let chain = tierChain { $0.groups[g].signalIndices.contains(s) }
        guard !chain.isEmpty else {
            throw StoreError(.invalidArgument, "aggregate: signal '\(group)/\(signal)' is kept in no consolidated tier")
        }
        var result = SignalAggregate(
            min: .nan, max: .nan, mean: .nan, coveredMS: 0, count: 0, countIsLowerBound: false, fromMS: fromMS,
            toMS: toMS,
            missingMS: 0, slotsRead: 0, damaged: [])
        var weighted = 0.0
        beginCall()
        walk(
            chain: chain, group: g, fromMS: fromMS, toMS: toMS, result: &result.fromMS, &result.toMS, &result.missingMS,
            &result.slotsRead
        ) {
            slot in
            let summary = slot.signals[s]
            guard !summary.isUnknown else { return }
            result.min = result.min.isNaN ? summary.min : Swift.min(result.min, summary.min)
            result.max = result.max.isNaN ? summary.max : Swift.max(result.max, summary.max)
            weighted += summary.mean * Double(summary.coveredMS)
            result.coveredMS += summary.coveredMS
            result.count += summary.count
            if summary.count >= 65535 { result.countIsLowerBound = true }
        }
        if result.coveredMS > 0 { result.mean = weighted / Double(result.coveredMS) }
        result.damaged = damagedInCall
        return result
    }

    /// Charge and discharge energy of `group` over `fromMS..<toMS`, summed like `aggregate`.
    public func energy(group: String, fromMS: Int64, toMS: Int64) throws(StoreError) -> EnergyAggregate {
        let g = try self.group(group)
        let chain = tierChain { $0.groups[g].hasEnergy }
        guard !chain.isEmpty else {
            throw StoreError(.invalidArgument, "energy: group '\(group)' has no energy accounting")
        }
        var result = EnergyAggregate(
            energy: EnergySummary(), fromMS: fromMS, toMS: toMS, missingMS: 0, slotsRead: 0, damaged: [])
        beginCall()
        func add(_ total: inout Double, _ value: Double) {
            guard !value.isNaN else { return }
            total = total.isNaN ? value : total + value
        }
        walk(
            chain: chain, group: g, fromMS: fromMS, toMS: toMS, result: &result.fromMS, &result.toMS, &result.missingMS,
            &result.slotsRead
        ) {
            slot in
            guard let e = slot.energy else { return }
            add(&result.energy.counterChargeKWh, e.counterChargeKWh)
            add(&result.energy.counterDischargeKWh, e.counterDischargeKWh)
            add(&result.energy.integratedChargeKWh, e.integratedChargeKWh)
            add(&result.energy.integratedDischargeKWh, e.integratedDischargeKWh)
            result.energy.counterResets += e.counterResets
            result.energy.integratedMS += e.integratedMS
            result.energy.unaccountedMS += e.unaccountedMS
        }
        result.damaged = damagedInCall
        return result
    }

    /// Consolidated tiers usable together, coarsest first: each slot length a multiple of the next finer one.
    func tierChain(_ keeps: (TierFilePlan) -> Bool) -> [Int] {
        let candidates = tierFiles.indices
            .filter { !tierFiles[$0].plan.tier.isRaw && keeps(tierFiles[$0].plan) }
            .sorted { tierFiles[$0].plan.tier.slotMS < tierFiles[$1].plan.tier.slotMS }
        var chain: [Int] = []
        for t in candidates {
            if let finer = chain.last, tierFiles[t].plan.tier.slotMS % tierFiles[finer].plan.tier.slotMS != 0 {
                continue
            }
            chain.append(t)
        }
        return chain.reversed()
    }

    /// Visits the stored slots covering `fromMS..<toMS`: level 0 (coarsest) for whole aligned
    /// slots, finer levels for the edges and for coarse slots not stored; the finest level widens
    /// the range to its slot boundaries.
    private func walk(
        chain: [Int], group g: Int, fromMS: Int64, toMS: Int64, result from: inout Int64, _ to: inout Int64,
        _ missing: inout Int64, _ read: inout Int, visit: (ConsolidatedSlot) -> Void
    ) {
        let finest = tierFiles[chain.last!].plan.tier.slotMS
        from = Self.floorDiv(fromMS, finest) * finest
        to = Self.floorDiv(toMS + finest - 1, finest) * finest
        guard from < to else { return }
        let rowBytes = chain.map { tierFiles[$0].plan.rowBytes }.max()!
        var buffer = [UInt8](repeating: 0, count: rowBytes)
        var missingMS: Int64 = 0
        var slotsRead = 0
        buffer.withUnsafeMutableBytes { buffer in
            func cover(_ a: Int64, _ b: Int64, level: Int) {
                guard a < b else { return }
                let t = chain[level]
                let slotMS = tierFiles[t].plan.tier.slotMS
                let isFinest = level == chain.count - 1
                let start =
                    isFinest ? Self.floorDiv(a, slotMS) * slotMS : Self.floorDiv(a + slotMS - 1, slotMS) * slotMS
                let end = isFinest ? Self.floorDiv(b + slotMS - 1, slotMS) * slotMS : Self.floorDiv(b, slotMS) * slotMS
                if start >= end {
                    cover(a, b, level: level + 1)
                    return
                }
                if !isFinest { cover(a, start, level: level + 1) }
                var slot = start
                while slot < end {
                    slotsRead += 1
                    let number = slot / slotMS
                    let state: RowRead =
                        number >= 1 && number <= Int64(UInt32.max)
                        ? readRow(tier: t, number: UInt32(number), groupID: schemas[g].groupID, into: buffer) : .missing
                    switch state {
                    case .valid:
                        visit(decode(tier: t, group: g, startMS: slot, row: UnsafeRawPointer(buffer.baseAddress!)))
                    case .missing where !isFinest:
                        cover(slot, slot + slotMS, level: level + 1)
                    case .missing, .damaged:
                        missingMS += slotMS
                    }
                    slot += slotMS
                }
                if !isFinest { cover(end, b, level: level + 1) }
            }
            cover(from, to, level: 0)
        }
        missing = missingMS
        read = slotsRead
    }

    /// The last checkpoint, the damaged rows met so far and each file's size.
    public func health() throws(StoreError) -> StoreHealth {
        let checkpoint = try CheckpointRecord.read(directory: directory)
        var sizes: [String: Int64] = [:]
        for file in tierFiles { sizes[file.plan.fileName] = Int64(file.file.bytes) }
        return StoreHealth(
            storeID: storeID, siteID: siteID, lastCheckpointMS: checkpoint?.checkpointMS, damagedRows: damagedRows,
            fileBytes: sizes)
    }

    /// Checks every written row of every file; returns (and remembers) the damaged ones.
    @discardableResult
    public func verify() -> [DamagedRow] {
        var found: [DamagedRow] = []
        for file in tierFiles {
            if file.plan.tier.isRaw {
                for (g, group) in file.plan.groups.enumerated() {
                    var buffer = [UInt8](repeating: 0, count: group.bytes)
                    buffer.withUnsafeMutableBytes { buffer in
                        for index in 0..<group.capacity {
                            let offset = group.offset + Layout.rawHeadBytes + index * group.bytes
                            let state = RowCheck.copy(
                                from: file.file.base + offset, into: buffer, crcOffset: RowCheck.rawCRCOffset,
                                retries: Self.retries)
                            guard state == .damaged else { continue }
                            let row = DamagedRow(
                                path: file.path, offset: offset, tier: file.plan.tier.name, groupID: schemas[g].groupID,
                                expected: -1)
                            found.append(row)
                            record(row)
                        }
                    }
                }
                continue
            }
            var buffer = [UInt8](repeating: 0, count: file.plan.rowBytes)
            buffer.withUnsafeMutableBytes { buffer in
                for index in 0..<file.plan.capacity {
                    let offset = file.plan.headerBytes + index * file.plan.rowBytes
                    let state = RowCheck.copy(
                        from: file.file.base + offset, into: buffer, crcOffset: RowCheck.consolidatedCRCOffset,
                        retries: Self.retries)
                    guard state == .damaged else { continue }
                    let row = DamagedRow(
                        path: file.path, offset: offset, tier: file.plan.tier.name, groupID: nil, expected: -1)
                    found.append(row)
                    record(row)
                }
            }
        }
        return found
    }
}
