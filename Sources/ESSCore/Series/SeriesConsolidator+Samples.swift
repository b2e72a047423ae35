/// How samples, holds, counters and power reach the open slots' accumulators: coverage of a
/// held value up to its heartbeat, counter deltas (a drop is a reset, never negative energy),
/// trapezoid energy split at slot boundaries and zero crossings, unaccounted gap time.
extension SeriesConsolidator {
    // MARK: Signals

    mutating func endHold(_ s: Int) {
        guard holds[s].isActive else { return }
        holds[s].isActive = false
        activeHoldCount -= 1
    }

    /// Distributes signal `s`'s hold from where it stands up to `t` (or its heartbeat end).
    mutating func carryHold(_ s: Int, to t: Int64) {
        let hold = holds[s]
        let end = min(t, hold.endMS)
        if end > hold.distributedUntilMS {
            forEachSlotPiece(hold.distributedUntilMS, end, signal: s) { acc, a, b in
                acc.covered(b - a, value: hold.value)
            }
            holds[s].distributedUntilMS = end
        }
        if end >= hold.endMS { endHold(s) }
    }

    mutating func addSample(_ s: Int, value: Double, at t: Int64) {
        for i in tierStates.indices where tierStates[i].kept[s] {
            let k = tierStates[i].slotIndex(of: t)
            tierStates[i].ensureOpen(k)
            tierStates[i].signals[tierStates[i].signalIndex(slot: k, signal: s)].sample(value)
        }
    }

    /// Attributes the delta from `previous` (the counter's last valid value) to `v` to the slot of `t`.
    mutating func addCounter(previous: Double?, _ v: Double, at t: Int64, charge: Bool) {
        guard let old = previous else { return }
        let reset = v < old
        let delta = reset ? 0 : v - old
        for i in tierStates.indices {
            let k = tierStates[i].slotIndex(of: t)
            tierStates[i].ensureOpen(k)
            tierStates[i].energy[k].addCounter(delta, charge: charge, reset: reset)
        }
    }

    // MARK: Energy

    mutating func distributeUnaccounted(_ a: Int64, _ b: Int64) {
        forEachEnergyPiece(a, b) { acc, x, y in acc.unaccountedMS += y - x }
    }

    /// Integrates power, linear from `p1` at `t1` to `p2` at `t2`, into every slot it overlaps.
    mutating func distributeTrapezoid(t1: Int64, p1: Double, t2: Int64, p2: Double) {
        let span = Double(t2 - t1)
        func power(at x: Int64) -> Double {
            x == t1 ? p1 : x == t2 ? p2 : p1 + (p2 - p1) * (Double(x - t1) / span)
        }
        forEachEnergyPiece(t1, t2) { acc, x, y in
            let px = power(at: x)
            let py = power(at: y)
            let (positive, negative) = Self.trapezoidAreas(px, py, Double(y - x))
            acc.integrate(dischargeKWh: positive / 3_600_000, chargeKWh: negative / 3_600_000, ms: y - x)
        }
    }

    /// The positive (discharge) and negative (charge, as a positive number) areas in kW·ms of
    /// power linear from `px` to `py` over `width` ms, split at the zero crossing.
    @inline(__always)
    static func trapezoidAreas(_ px: Double, _ py: Double, _ width: Double) -> (positive: Double, negative: Double) {
        var positive = 0.0
        var negative = 0.0
        if px >= 0, py >= 0 {
            positive = (px + py) / 2 * width
        } else if px <= 0, py <= 0 {
            negative = -(px + py) / 2 * width
        } else {
            let toCrossing = width * (px / (px - py))
            let area0 = px / 2 * toCrossing
            let area1 = py / 2 * (width - toCrossing)
            positive = max(area0, 0) + max(area1, 0)
            negative = -min(area0, 0) - min(area1, 0)
        }
        return (positive, negative)
    }

    /// Calls `body` with signal `s`'s accumulator in each tier that keeps it, for every slot
    /// piece `[x, y)` of `[a, b)`.
    @inline(__always)
    mutating func forEachSlotPiece(
        _ a: Int64, _ b: Int64, signal s: Int, _ body: (inout SignalAccumulator, Int64, Int64) -> Void
    ) {
        guard a < b else { return }
        for i in tierStates.indices where tierStates[i].kept[s] {
            var x = a
            while x < b {
                let k = tierStates[i].slotIndex(of: x)
                let y = min(b, tierStates[i].slotEnd(k))
                tierStates[i].ensureOpen(k)
                body(&tierStates[i].signals[tierStates[i].signalIndex(slot: k, signal: s)], x, y)
                x = y
            }
        }
    }

    /// Calls `body` with each tier's energy accumulator for every slot piece `[x, y)` of `[a, b)`.
    mutating func forEachEnergyPiece(
        _ a: Int64, _ b: Int64, _ body: (inout EnergyAccumulator, Int64, Int64) -> Void
    ) {
        guard a < b else { return }
        for i in tierStates.indices {
            var x = a
            while x < b {
                let k = tierStates[i].slotIndex(of: x)
                let y = min(b, tierStates[i].slotEnd(k))
                tierStates[i].ensureOpen(k)
                body(&tierStates[i].energy[k], x, y)
                x = y
            }
        }
    }
}
