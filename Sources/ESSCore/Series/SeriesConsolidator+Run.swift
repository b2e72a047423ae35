/// The batched path's fast lane (`SeriesConsolidator.ingest(timestampsMS:values:qualities:emit:)`).
extension SeriesConsolidator {
    /// Consolidates rows from `start` on while they are plain (see `ingestPlainRun`); for a
    /// group without energy sources it also crosses slot boundaries itself: when the next row
    /// is plain but at or past the end of a tier's first open slot, `closeThroughBoundary`
    /// does what `advance(to:)` does up to that end (holds carried, slots closed and emitted)
    /// and the row is taken by the next plain run. Returns how many rows it took; the row
    /// after them (if any) needs `ingestRow`.
    mutating func ingestRun(
        _ ts: UnsafeBufferPointer<Int64>, _ values: UnsafePointer<Double>, _ qualities: UnsafePointer<PointQuality>,
        from start: Int, emit: (borrowing ClosedSlot) -> Void
    ) -> Int {
        var row = start
        while true {
            row += ingestPlainRun(ts, values, qualities, from: row)
            guard row < ts.count, !schema.energy.hasEnergy, let limit = plainCrossing(ts[row], values, qualities, row)
            else { return row - start }
            closeThroughBoundary(limit, emit: emit)
        }
    }

    /// The end of the earliest first open slot when `t` (row `row`) is a plain row at or past it:
    /// after the last ingested time, every tier's first open slot existing, every signal valid.
    private func plainCrossing(
        _ t: Int64, _ values: UnsafePointer<Double>, _ qualities: UnsafePointer<PointQuality>, _ row: Int
    ) -> Int64? {
        guard let cursor = cursorMS, let last = lastIngestedMS, t > last, t >= cursor else { return nil }
        var limit = Int64.max
        for i in tierStates.indices {
            guard tierStates[i].openCount > 0 else { return nil }
            limit = min(limit, tierStates[i].slotEnd(0))
        }
        guard t >= limit else { return nil }
        let n = schema.signals.count
        for s in 0..<n {
            guard case .ok = qualities[row &* n &+ s], values[row &* n &+ s].isFinite else { return nil }
        }
        return limit
    }

    /// `advance(to:)`'s step up to `limit`, the earliest end of a first open slot, for a group
    /// without energy sources: each active hold carried to `limit` into the first open slots
    /// (ended when its heartbeat ends there), then every slot ending at `limit` closed and
    /// emitted (`closeSlots`); the closed tiers' next slots are opened (empty: an empty
    /// accumulator reads as unknown, as a slot never opened does).
    private mutating func closeThroughBoundary(_ limit: Int64, emit: (borrowing ClosedSlot) -> Void) {
        carryHoldsIntoFirstSlots(to: limit)
        cursorMS = limit
        closeSlots(upTo: limit, emit: emit)
        for i in tierStates.indices where tierStates[i].openCount == 0 { tierStates[i].ensureOpen(0) }
    }

    /// Consolidates rows from `start` on while each is the plain case: every signal valid, its
    /// time after the last one and before the end of every tier's first open slot (which all
    /// exist), and the power interval since the last power sample integrable (or no power
    /// signal). Nothing closes and no slot boundary is crossed in such a run, so the first open
    /// slots' accumulators, the holds and the counters are worked on in flat buffers and copied
    /// back at the end. Stops at the first row that needs `ingestRow`; returns how many rows it
    /// took. The operations and their order per accumulator are those of `ingestRow` (the
    /// batched-vs-per-sample test checks the slots bit for bit).
    mutating func ingestPlainRun(
        _ ts: UnsafeBufferPointer<Int64>, _ values: UnsafePointer<Double>, _ qualities: UnsafePointer<PointQuality>,
        from start: Int
    ) -> Int {
        guard let cursor = cursorMS, let last = lastIngestedMS, start < ts.count else { return 0 }
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

        // 1. How many rows are plain. The power interval ending at each row must be integrable:
        // after the first row the last power sample is the previous row's.
        var lastPowerMS: Int64? = nil
        if powerIndex >= 0 {
            switch power {
            case .idle: break
            case .pending(let t1, _): lastPowerMS = t1
            case .gap: return 0
            }
        }
        // Times first (increasing, inside the first slots, power integrable), then values.
        guard ts[start] >= cursor else { return 0 }
        var timesEnd = start
        var previousT = last
        if let t1 = lastPowerMS, ts[start] - t1 > powerHeartbeat { return 0 }
        if n == 1 && powerIndex < 0 {
            // One signal, no power: times and values in one pass.
            while timesEnd < ts.count {
                let t = ts[timesEnd]
                guard t > previousT, t < limit, case .ok = qualities[timesEnd], values[timesEnd].isFinite else { break }
                previousT = t
                timesEnd &+= 1
            }
        } else if powerIndex >= 0 {
            while timesEnd < ts.count {
                let t = ts[timesEnd]
                guard t > previousT, t < limit, timesEnd == start || t - previousT <= powerHeartbeat else { break }
                previousT = t
                timesEnd += 1
            }
        } else {
            while timesEnd < ts.count {
                let t = ts[timesEnd]
                guard t > previousT, t < limit else { break }
                previousT = t
                timesEnd += 1
            }
        }
        var end = start
        if n == 1 && powerIndex < 0 {
            end = timesEnd
        } else if n == 1 {
            while end < timesEnd, case .ok = qualities[end], values[end].isFinite { end += 1 }
        } else {
            rows: while end < timesEnd {
                let v = values + end * n
                let q = qualities + end * n
                for s in 0..<n {
                    guard case .ok = q[s], v[s].isFinite else { break rows }
                }
                end += 1
            }
        }
        let lastT = end > start ? ts[end - 1] : last
        guard end > start else { return 0 }

        // Accumulators are independent of each other, so each is worked through the whole run
        // on its own (in registers), with exactly the operations and order of `ingestRow`.
        // 2. Energy: power integration, then counters (different fields of the accumulator).
        if powerIndex >= 0 || chargeIndex >= 0 || dischargeIndex >= 0 {
            var energy = tierStates.map { $0.energy[0] }
            energy.withUnsafeMutableBufferPointer { energy in
                if powerIndex >= 0 {
                    var state = power
                    for row in start..<end {
                        let t = ts[row]
                        let p2 = values[row * n + powerIndex]
                        if case .pending(let t1, let p1) = state {
                            let (positive, negative) = Self.trapezoidAreas(p1, p2, Double(t - t1))
                            for i in 0..<tierCount {
                                energy[i].integrate(
                                    dischargeKWh: positive / 3_600_000, chargeKWh: negative / 3_600_000, ms: t - t1)
                            }
                        }
                        state = .pending(sinceMS: t, powerKW: p2)
                    }
                    power = state
                }
                /// One counter through the run; returns its last value.
                func counterRun(_ index: Int, from previous: Double?, charge: Bool) -> Double? {
                    var previous = previous
                    for row in start..<end {
                        let x = values[row * n + index]
                        Self.addCounter(previous: previous, x, charge: charge, energy.baseAddress!, tierCount)
                        previous = x
                    }
                    return previous
                }
                if chargeIndex >= 0 {
                    previousChargeCounter = counterRun(chargeIndex, from: previousChargeCounter, charge: true)
                }
                if dischargeIndex >= 0 {
                    previousDischargeCounter = counterRun(dischargeIndex, from: previousDischargeCounter, charge: false)
                }
            }
            for i in 0..<tierCount { tierStates[i].energy[0] = energy[i] }
        }

        // 3. Per signal: its hold carried to each row, then the row's sample; the tiers keeping
        // it four at a time (their integrals are separate chains in one pass).
        var activeHolds = 0
        for s in 0..<n {
            let original = holds[s]
            var finalHold = original
            var next = 0
            repeat {
                var group = (-1, -1, -1, -1)
                var members = 0
                while next < tierCount && members < 4 {
                    if tierStates[next].kept[s] {
                        switch members {
                        case 0: group.0 = next
                        case 1: group.1 = next
                        case 2: group.2 = next
                        default: group.3 = next
                        }
                        members += 1
                    }
                    next += 1
                }
                func integral(_ i: Int) -> Double { i >= 0 ? tierStates[i].signals[s].integral : 0 }
                var hold = original
                let run = Self.signalRun(
                    ts, values + s, stride: n, from: start, to: end, hold: &hold,
                    integrals: (integral(group.0), integral(group.1), integral(group.2), integral(group.3)))
                finalHold = hold
                // No array of the members: this runs once per signal per run of rows.
                if members > 0 { tierStates[group.0].signals[s].merge(run, integral: run.integrals.0) }
                if members > 1 { tierStates[group.1].signals[s].merge(run, integral: run.integrals.1) }
                if members > 2 { tierStates[group.2].signals[s].merge(run, integral: run.integrals.2) }
                if members > 3 { tierStates[group.3].signals[s].merge(run, integral: run.integrals.3) }
            } while next < tierCount
            holds[s] = finalHold
            if finalHold.isActive { activeHolds += 1 }
        }
        activeHoldCount = activeHolds
        cursorMS = lastT
        lastIngestedMS = lastT
        return end - start
    }

    /// What one signal's plain rows add to an accumulator (see `SignalAccumulator.merge`).
    struct SignalRun {
        var count = 0
        var coveredMS: Int64 = 0
        var heldValue = Double.nan
        var min = Double.nan
        var max = Double.nan
        var first = Double.nan
        var last = Double.nan
        /// Up to four tiers' integrals, continued from the values given to `signalRun`.
        var integrals = (0.0, 0.0, 0.0, 0.0)
    }

    /// One signal through rows `from..<to` (values `stride` apart): the hold carried to each row
    /// (`covered`), then the row's valid sample (`sample`), the hold restarted. Each of up to four
    /// integrals (from `integrals`) gets every hold piece added in order, as `covered` would.
    /// Not inlined: alone, its chains stay in registers (inlined into `ingestRun` they spilled).
    @inline(never)
    static func signalRun(
        _ ts: UnsafeBufferPointer<Int64>, _ values: UnsafePointer<Double>, stride: Int, from: Int, to: Int,
        hold: inout Hold, integrals: (Double, Double, Double, Double)
    ) -> SignalRun {
        var run = SignalRun()
        var (i0, i1, i2, i3) = integrals
        var h = hold
        // The hold in locals (not stored back per row); wrapping arithmetic: times are Int64 ms
        // within a few centuries, far from overflow.
        var active = h.isActive
        var heldAt = h.value
        var endMS = h.endMS
        var distributed = h.distributedUntilMS
        var covered: Int64 = 0
        var heldValue = Double.nan
        var minimum = values[from &* stride]
        var maximum = minimum
        var lastValue = minimum
        let heartbeat = h.heartbeatMS
        let restarts = heartbeat > 0
        var row = from
        while row < to {
            let t = ts[row]
            let x = values[row &* stride]
            if active {
                let end = Swift.min(t, endMS)
                if end > distributed {
                    let ms = end &- distributed
                    covered &+= ms
                    let piece = heldAt * Double(ms)
                    i0 += piece
                    i1 += piece
                    i2 += piece
                    i3 += piece
                    heldValue = heldAt
                    distributed = end
                }
            }
            // Swift.min(minimum, x) and Swift.max(maximum, x) for finite values, spelled so that
            // each is one minsd / maxsd: on a tie min keeps the earlier value, max takes the later.
            minimum = x < minimum ? x : minimum
            maximum = maximum > x ? maximum : x
            lastValue = x
            if restarts {
                active = true
                heldAt = x
                endMS = t &+ heartbeat
                distributed = t
            } else {
                active = false
            }
            row &+= 1
        }
        h.isActive = active
        h.value = heldAt
        h.endMS = endMS
        h.distributedUntilMS = distributed
        hold = h
        run.count = to - from
        run.coveredMS = covered
        run.heldValue = heldValue
        run.min = minimum
        run.max = maximum
        run.first = values[from * stride]
        run.last = lastValue
        run.integrals = (i0, i1, i2, i3)
        return run
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
