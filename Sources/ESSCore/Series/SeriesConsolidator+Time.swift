/// How time passes in `SeriesConsolidator`: holds and gap time carried from the cursor to a
/// sample, slot by slot, and slots closed (emitted) in order of end time as their ends pass.
extension SeriesConsolidator {
    /// Carries holds and gap time from the cursor to `t`, closing slots on the way.
    mutating func advance(to t: Int64, energyDecided: Bool, emit: (borrowing ClosedSlot) -> Void) {
        var p = cursorMS!
        // Gap time between the power gap's start and the cursor (bounded by a heartbeat).
        if case .gap(let since) = power, since < p {
            distributeUnaccounted(since, p)
            power = .gap(sinceMS: p)
        }
        closeSlots(upTo: closingLimit(p, energyDecided), emit: emit)
        while p < t {
            var boundary = Int64.max
            for i in tierStates.indices {
                boundary = min(boundary, tierStates[i].slotEnd(tierStates[i].slotIndex(of: p)))
            }
            let step = min(t, boundary)
            if activeHoldCount > 0 {
                for s in holds.indices where holds[s].isActive { carryHold(s, to: step) }
            }
            if case .gap = power {
                distributeUnaccounted(p, step)
                power = .gap(sinceMS: step)
            }
            p = step
            closeSlots(upTo: closingLimit(p, energyDecided), emit: emit)
        }
        cursorMS = t
    }

    /// Whether every tier's first open slot exists and ends after `t`: then nothing closes up
    /// to `t` and the time from the cursor to `t` falls inside those slots (the usual sample).
    @inline(__always)
    func insideFirstSlots(_ t: Int64) -> Bool {
        for i in tierStates.indices where tierStates[i].openCount == 0 || t >= tierStates[i].slotEnd(0) {
            return false
        }
        return true
    }

    /// `advance(to:)` when `insideFirstSlots(t)`: the same additions (holds, gap time) into the
    /// first open slots, without the slot-boundary loop; nothing to close.
    mutating func advanceInsideFirstSlots(to t: Int64) {
        if case .gap(let since) = power {
            if since < t {
                for i in tierStates.indices { tierStates[i].energy[0].unaccountedMS += t - since }
            }
            power = .gap(sinceMS: t)
        }
        carryHoldsIntoFirstSlots(to: t)
        cursorMS = t
    }

    /// Carries every active hold up to `t` (or its heartbeat end) into the first open slot of
    /// each tier keeping its signal, which must exist and reach `t`; ends the holds that end.
    mutating func carryHoldsIntoFirstSlots(to t: Int64) {
        guard activeHoldCount > 0 else { return }
        for s in holds.indices where holds[s].isActive {
            let hold = holds[s]
            let end = min(t, hold.endMS)
            if end > hold.distributedUntilMS {
                let covered = end - hold.distributedUntilMS
                tierStates.withUnsafeMutableBufferPointer { tiers in
                    for i in tiers.indices where tiers[i].kept[s] {
                        tiers[i].signals[s].covered(covered, value: hold.value)
                    }
                }
                holds[s].distributedUntilMS = end
            }
            if end >= hold.endMS { endHold(s) }
        }
    }

    /// Slots may close up to `p`, unless the power interval since `t1` is still undecided.
    func closingLimit(_ p: Int64, _ energyDecided: Bool) -> Int64 {
        if !energyDecided, case .pending(let t1, _) = power { return min(p, t1) }
        return p
    }

    /// Emits, in order of end time, every slot ending at or before `limit`.
    mutating func closeSlots(upTo limit: Int64, emit: (borrowing ClosedSlot) -> Void) {
        while true {
            // Through a pointer to the tiers: reading them through the array (or calling a method
            // on `self`) made Swift copy a tier, or the whole consolidator, per slot closed.
            var best = -1
            let energySources = schema.energy
            tierStates.withUnsafeBufferPointer { tiers in
                var bestEnd = Int64.max
                for i in tiers.indices {
                    let end = tiers[i].firstStartMS + tiers[i].slotMS
                    if end <= limit, end < bestEnd {
                        best = i
                        bestEnd = end
                    }
                }
                guard best >= 0 else { return }
                let tier = tiers.baseAddress! + best
                emit(
                    ClosedSlot(
                        tierIndex: best, startMS: tier.pointee.firstStartMS, tier: tier, k: 0,
                        energySources: energySources))
            }
            guard best >= 0 else { return }
            tierStates[best].dropFirst()
        }
    }
}
