/// The batched path's fast lane (`SeriesConsolidator.ingest(timestampsMS:values:qualities:emit:)`).
extension SeriesConsolidator {
    /// Consolidates rows from `start` on while each is the plain case: every signal valid, its
    /// time after the last one and before the end of every tier's first open slot (which all
    /// exist), and the power interval since the last power sample integrable (or no power
    /// signal). Nothing closes and no slot boundary is crossed in such a run, so the first open
    /// slots' accumulators, the holds and the counters are worked on in flat buffers and copied
    /// back at the end. Stops at the first row that needs `ingestRow`; returns how many rows it
    /// took. The operations and their order per accumulator are those of `ingestRow` (the
    /// batched-vs-per-sample test checks the slots bit for bit).
    mutating func ingestRun(
        _ ts: UnsafeBufferPointer<Int64>, _ values: UnsafePointer<Double>, _ qualities: UnsafePointer<PointQuality>,
        from start: Int
    ) -> Int {
        guard let cursor = cursorMS, let last = lastIngestedMS else { return 0 }
        let n = schema.signals.count
        let tierCount = tierStates.count
        var limit = Int64.max
        for i in 0..<tierCount {
            guard tierStates[i].openCount > 0 else { return 0 }
            limit = min(limit, tierStates[i].slotEnd(0))
        }
        let powerIndex = schema.energy.activePower ?? -1
        let chargeIndex = schema.energy.chargeCounter ?? -1
        let dischargeIndex = schema.energy.dischargeCounter ?? -1
        let powerHeartbeat = powerIndex >= 0 ? holds[powerIndex].heartbeatMS : 0

        /// Whether row `row` (at `t`, after `lastT`) is plain, with the power state `power`.
        func plain(_ row: Int, _ t: Int64, after lastT: Int64, power: PowerState) -> Bool {
            guard t > lastT, t >= cursor, t < limit else { return false }
            let v = values + row * n
            let q = qualities + row * n
            for s in 0..<n {
                guard case .ok = q[s], v[s].isFinite else { return false }
            }
            guard powerIndex >= 0 else { return true }
            switch power {
            case .idle: return true
            case .pending(let t1, _): return t - t1 <= powerHeartbeat
            case .gap: return false
            }
        }
        guard start < ts.count, plain(start, ts[start], after: last, power: power) else { return 0 }

        // The first open slot of every tier, its energy, the holds: flat, tier-major.
        let accumulators = UnsafeMutablePointer<SignalAccumulator>.allocate(capacity: max(1, tierCount * n))
        let kept = UnsafeMutablePointer<Bool>.allocate(capacity: max(1, tierCount * n))
        let energy = UnsafeMutablePointer<EnergyAccumulator>.allocate(capacity: max(1, tierCount))
        let localHolds = UnsafeMutablePointer<Hold>.allocate(capacity: max(1, n))
        defer {
            accumulators.deallocate()
            kept.deallocate()
            energy.deallocate()
            localHolds.deallocate()
        }
        for i in 0..<tierCount {
            for s in 0..<n {
                (accumulators + i * n + s).initialize(to: tierStates[i].signals[s])
                (kept + i * n + s).initialize(to: tierStates[i].kept[s])
            }
            (energy + i).initialize(to: tierStates[i].energy[0])
        }
        for s in 0..<n { (localHolds + s).initialize(to: holds[s]) }
        var activeHolds = activeHoldCount
        var powerState = power
        var previousCharge = previousChargeCounter
        var previousDischarge = previousDischargeCounter
        var lastT = last
        var row = start

        while row < ts.count {
            let t = ts[row]
            guard plain(row, t, after: lastT, power: powerState) else { break }
            let v = values + row * n
            // 1. The power interval ending here (integrable: `plain` checked it).
            if powerIndex >= 0, case .pending(let t1, let p1) = powerState {
                let (positive, negative) = Self.trapezoidAreas(p1, v[powerIndex], Double(t - t1))
                for i in 0..<tierCount {
                    energy[i].integrate(dischargeKWh: positive / 3_600_000, chargeKWh: negative / 3_600_000, ms: t - t1)
                }
            }
            // 2. Holds up to t, inside the first slots.
            if activeHolds > 0 {
                for s in 0..<n where localHolds[s].isActive {
                    let hold = localHolds[s]
                    let end = min(t, hold.endMS)
                    if end > hold.distributedUntilMS {
                        let covered = end - hold.distributedUntilMS
                        for i in 0..<tierCount where kept[i * n + s] {
                            accumulators[i * n + s].covered(covered, value: hold.value)
                        }
                        localHolds[s].distributedUntilMS = end
                    }
                    if end >= hold.endMS {
                        localHolds[s].isActive = false
                        activeHolds -= 1
                    }
                }
            }
            // 3. The samples.
            for s in 0..<n {
                let x = v[s]
                if localHolds[s].isActive {
                    localHolds[s].isActive = false
                    activeHolds -= 1
                }
                for i in 0..<tierCount where kept[i * n + s] { accumulators[i * n + s].sample(x) }
                if localHolds[s].heartbeatMS > 0 {
                    localHolds[s].start(value: x, at: t)
                    activeHolds += 1
                }
                if s == chargeIndex {
                    Self.addCounter(previous: previousCharge, x, charge: true, energy, tierCount)
                    previousCharge = x
                }
                if s == dischargeIndex {
                    Self.addCounter(previous: previousDischarge, x, charge: false, energy, tierCount)
                    previousDischarge = x
                }
            }
            if powerIndex >= 0 { powerState = .pending(sinceMS: t, powerKW: v[powerIndex]) }
            lastT = t
            row += 1
        }

        for i in 0..<tierCount {
            for s in 0..<n { tierStates[i].signals[s] = accumulators[i * n + s] }
            tierStates[i].energy[0] = energy[i]
        }
        for s in 0..<n { holds[s] = localHolds[s] }
        activeHoldCount = activeHolds
        power = powerState
        previousChargeCounter = previousCharge
        previousDischargeCounter = previousDischarge
        cursorMS = lastT
        lastIngestedMS = lastT
        return row - start
    }

    /// `addCounter` for the first open slots in `energy`.
    @inline(__always)
    private static func addCounter(
        previous: Double?, _ v: Double, charge: Bool, _ energy: UnsafeMutablePointer<EnergyAccumulator>, _ tiers: Int
    ) {
        guard let old = previous else { return }
        let reset = v < old
        let delta = reset ? 0 : v - old
        for i in 0..<tiers { energy[i].addCounter(delta, charge: charge, reset: reset) }
    }
}
