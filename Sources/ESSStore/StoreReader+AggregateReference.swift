import ESSCore

/// The reference walk behind `aggregate` and `energy`: every row copied out and decoded as a
/// whole `ConsolidatedSlot`. Slow and simple; the lean scan is tested against it.
extension StoreReader {
    /// `aggregate` as it was first written: every row copied out and decoded as a full
    /// `ConsolidatedSlot`. Kept as the reference the lean path is tested against.
    func aggregateReference(group: String, signal: String, fromMS: Int64, toMS: Int64) throws(StoreError)
        -> SignalAggregate
    {
        let (g, s, chain) = try aggregateChain(group: group, signal: signal)
        var result = SignalAggregate(
            min: .nan, max: .nan, mean: .nan, coveredMS: 0, count: 0, countIsLowerBound: false, fromMS: fromMS,
            toMS: toMS, missingMS: 0, slotsRead: 0, damaged: [])
        var sums = SignalSums()
        beginCall()
        walk(
            chain: chain, group: g, fromMS: fromMS, toMS: toMS, result: &result.fromMS, &result.toMS, &result.missingMS,
            &result.slotsRead
        ) { slot in
            sums.add(slot.signals[s])
        }
        sums.store(in: &result)
        result.damaged = damagedInCall
        return result
    }

    /// `energy` over full `ConsolidatedSlot`s: the reference for tests.
    func energyReference(group: String, fromMS: Int64, toMS: Int64) throws(StoreError) -> EnergyAggregate {
        let (g, chain) = try energyChain(group: group)
        var result = EnergyAggregate(
            energy: EnergySummary(), fromMS: fromMS, toMS: toMS, missingMS: 0, slotsRead: 0, damaged: [])
        var energy = EnergySummary()
        beginCall()
        walk(
            chain: chain, group: g, fromMS: fromMS, toMS: toMS, result: &result.fromMS, &result.toMS, &result.missingMS,
            &result.slotsRead
        ) { slot in
            guard let e = slot.energy else { return }
            Self.add(e, to: &energy)
        }
        result.energy = energy
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

    /// The reference walk (see `scan` for the lean one). Visits the stored slots covering `fromMS..<toMS`: level 0 (coarsest) for whole aligned
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
                    var state: RowRead =
                        number >= 1 && number <= Int64(UInt32.max)
                        ? readRow(tier: t, number: UInt32(number), groupID: schemas[g].groupID, into: buffer) : .missing
                    if case .valid = state,
                        isNotWritten(tier: t, group: g, startMS: slot, row: UnsafeRawPointer(buffer.baseAddress!))
                    {
                        state = .missing
                    }
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
}
