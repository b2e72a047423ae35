/// Whether `SeriesConsolidator.ingest` consolidated a sample.
public enum IngestOutcome: Sendable, Hashable {
    case accepted
    /// The sample's timestamp is not after `lastMS`, the last time already consolidated (the
    /// wall clock stepped backwards): it was not consolidated. Log it once per step.
    case heldBackClockStep(lastMS: Int64)
}

/// Consolidates one series group into every consolidated tier (`slotMS > 0`) as its samples
/// arrive, emitting each slot once, when it closes. Owns the open slots and the per-signal
/// hold and energy state; not the raw rows (`SeriesRing`) nor where slots go (ESSStore).
///
/// Semantics (the property tests in `ConsolidationPropertyTests` check exactly these):
///
/// - **Valid samples.** A sample of a signal is *valid* when its quality is `.ok` and its
///   value is finite. `.stale` samples are not samples at all: they are ignored. Any other
///   sample (a non-ok quality, or `.ok` with a non-finite value) is *invalid*: it ends the
///   previous valid sample's hold at its timestamp (a known gap starts there).
/// - **Sample-and-hold.** A valid sample at `t` with value `v` stands for
///   `[t, min(t_next, t + heartbeatMS))`, where `t_next` is the signal's next non-stale sample.
///   Intervals are split at slot boundaries. Per slot and signal: `coveredMS` is the held time
///   inside the slot; `mean` = ∫v dt / coveredMS (NaN when coveredMS is 0); `count`, `min`,
///   `max`, `first`, `last` are over the valid samples whose timestamp falls in the slot. When
///   a slot is covered only by a hold from a sample of an earlier slot, `count` is 0,
///   `coveredMS` > 0 and min = max = first = last = mean = the held value. A slot with neither
///   is `.unknown` (NaN), never zero. Signals not kept in a tier (`SignalDefinition.tiers`) are
///   `.unknown` there.
/// - **Energy from power** (`schema.energy.activePower`, kW, + = discharge). For consecutive
///   valid power samples `(t1, p1)`, `(t2, p2)`: when `t2 - t1 <= heartbeatMS` of the power
///   signal and no invalid power sample lies between them, power is linear between them and is
///   integrated exactly (trapezoid), split at slot boundaries by linear interpolation; the
///   negative part (split at the zero crossing) is charge, the positive part discharge, both
///   reported as non-negative kWh, and the time counts in `integratedMS`. Otherwise
///   `[t1, t2)` is a gap: its time in each slot goes to `unaccountedMS`, no energy. After the
///   last valid power sample the time is a gap once it is certain no valid sample can close
///   the interval within the heartbeat. Before the first valid power sample nothing is
///   counted. `integratedChargeKWh`/`integratedDischargeKWh` are NaN when the group has no
///   power signal or `integratedMS` is 0.
/// - **Energy from counters** (`chargeCounter`, `dischargeCounter`). The delta between two
///   consecutive valid values of a counter is attributed wholly to the slot of the later sample
///   (not split across slots, even across a long gap: the unaccounted time and the integrated
///   energy show what the gap hid). A drop (new < old) is a reset or wrap: it counts in
///   `counterResets`, contributes 0 and the count continues from the new value; energy is never
///   negative. A counter's kWh are NaN when the group has no such counter or no delta fell in
///   the slot.
/// - **Closing.** A slot closes when the first sample at or past its end is ingested, or
///   `flush(untilMS:)` passes its end, and is emitted then; slots are emitted in order of end
///   time (ties in tier order), every slot from the first sample's on, none twice, unknown ones
///   included. One exception keeps energy exact: while the power signal is stale and the
///   interval since the last valid power sample may still turn out to be integrable (less than
///   its heartbeat has passed), slots overlapping that interval wait; they close as soon as it is
///   decided, at most one power heartbeat later.
/// - **Clock steps.** A sample whose timestamp is not after the last ingested one (or before a
///   `flush` horizon) is not consolidated (policy "hold until time passes the last written
///   point"): `ingest` returns `.heldBackClockStep(lastMS:)`. Nothing emitted is ever emitted
///   again or changed.
public struct SeriesConsolidator: Sendable {
    public let schema: SeriesSchema
    /// The consolidated tiers fed, in the order given (raw tiers are left out).
    public let tiers: [TierDefinition]

    private var tierStates: [TierState]
    private var holds: [Hold]
    private var activeHoldCount = 0
    private var power: PowerState = .idle
    private var previousChargeCounter: Double?
    private var previousDischargeCounter: Double?
    /// Time up to which holds (and gap time) are distributed; nil before the first sample.
    private var cursorMS: Int64?
    private var lastIngestedMS: Int64?

    /// A consolidator for `schema` feeding every tier of `tiers` with `slotMS > 0`.
    public init(schema: SeriesSchema, tiers: [TierDefinition] = TierDefinition.defaults) {
        self.schema = schema
        self.tiers = tiers.filter { !$0.isRaw }
        precondition(self.tiers.allSatisfy { $0.slotMS > 0 }, "consolidated tiers need a positive slot length")
        precondition(Set(self.tiers.map(\.name)).count == self.tiers.count, "tier names must be unique")
        let signalCount = schema.signals.count
        tierStates = self.tiers.map { tier in
            TierState(
                name: tier.name, slotMS: tier.slotMS,
                kept: schema.signals.map { $0.tiers.contains(tier.name) },
                signalCount: signalCount)
        }
        holds = schema.signals.map { Hold(heartbeatMS: max(0, $0.heartbeatMS)) }
        if let p = schema.energy.activePower {
            precondition(schema.signals.indices.contains(p), "active power index \(p) outside the schema")
        }
    }

    // MARK: Ingest

    /// Consolidates one sample of the group (one value and quality per signal, schema order).
    /// Calls `emit` for every slot that closes, in time order.
    @discardableResult
    public mutating func ingest(
        timestampMS t: Int64, values: [Double], qualities: [PointQuality], emit: (ConsolidatedSlot) -> Void
    ) -> IngestOutcome {
        precondition(values.count == schema.signals.count && qualities.count == schema.signals.count, "sample width differs from the schema of \(schema.groupID)")
        if let last = lastIngestedMS, t <= last { return .heldBackClockStep(lastMS: last) }
        if let cursor = cursorMS, t < cursor { return .heldBackClockStep(lastMS: cursor) }
        if cursorMS == nil {
            cursorMS = t
            for i in tierStates.indices { tierStates[i].firstStartMS = Self.floorSlot(t, tierStates[i].slotMS) }
        }
        lastIngestedMS = t

        // 1. Decide what the power interval ending here is.
        var integrated = false
        var powerValue: Double?
        var powerInvalid = false
        if let p = schema.energy.activePower {
            switch classify(values[p], qualities[p]) {
            case .valid(let v): powerValue = v
            case .invalid: powerInvalid = true
            case .stale: break
            }
            if case .pending(let t1, let p1) = power {
                let heartbeat = holds[p].heartbeatMS
                if let p2 = powerValue, t - t1 <= heartbeat {
                    distributeTrapezoid(t1: t1, p1: p1, t2: t, p2: p2)
                    integrated = true
                } else if powerValue != nil || powerInvalid || t - t1 >= heartbeat {
                    power = .gap(sinceMS: t1)
                }
            }
        }
        // 2. Pass time up to t: holds, gap time, closing slots.
        advance(to: t, energyDecided: integrated, emit: emit)
        // 3. The sample itself.
        for s in schema.signals.indices {
            switch classify(values[s], qualities[s]) {
            case .stale: continue
            case .invalid: endHold(s)
            case .valid(let v):
                endHold(s)
                addSample(s, value: v, at: t)
                if holds[s].heartbeatMS > 0 {
                    holds[s].start(value: v, at: t)
                    activeHoldCount += 1
                }
                if s == schema.energy.chargeCounter {
                    addCounter(previous: previousChargeCounter, v, at: t, charge: true)
                    previousChargeCounter = v
                }
                if s == schema.energy.dischargeCounter {
                    addCounter(previous: previousDischargeCounter, v, at: t, charge: false)
                    previousDischargeCounter = v
                }
            }
        }
        // An invalid power sample has already turned a pending interval into a gap (step 1).
        if let v = powerValue { power = .pending(sinceMS: t, powerKW: v) }
        return .accepted
    }

    /// Consolidates a scan of the group's device.
    @discardableResult
    public mutating func ingest(_ scan: Scan, emit: (ConsolidatedSlot) -> Void) -> IngestOutcome {
        ingest(timestampMS: scan.timestampMS, values: scan.values, qualities: scan.qualities, emit: emit)
    }

    /// Declares that no sample before `untilMS` will come: closes (emits) every slot that ends
    /// at or before it, except those still waiting for an energy decision (see the type's doc).
    /// Holds are not cut: a later sample within a heartbeat continues them. Later samples
    /// before `untilMS` are held back as clock steps.
    public mutating func flush(untilMS: Int64, emit: (ConsolidatedSlot) -> Void) {
        guard let cursor = cursorMS, untilMS > cursor else { return }
        if let p = schema.energy.activePower, case .pending(let t1, _) = power, untilMS - t1 > holds[p].heartbeatMS {
            power = .gap(sinceMS: t1)
        }
        advance(to: untilMS, energyDecided: false, emit: emit)
    }

    /// The slots not yet emitted, as they stand at `nowMS` (holds and gap time carried up to
    /// it), oldest first: for queries of the current, partial slots. Does not change the state.
    public func openSlots(nowMS: Int64) -> [ConsolidatedSlot] {
        guard cursorMS != nil else { return [] }
        var copy = self
        var result: [ConsolidatedSlot] = []
        copy.flush(untilMS: nowMS) { result.append($0) }
        let horizon = max(nowMS, copy.cursorMS! + 1)
        var open: [ConsolidatedSlot] = []
        for ts in copy.tierStates {
            var start = ts.firstStartMS
            var i = 0
            while start < horizon {
                let acc = i < ts.open.count ? ts.open[i] : SlotAccumulator(signalCount: schema.signals.count)
                open.append(copy.summary(acc, tier: ts, startMS: start))
                start += ts.slotMS
                i += 1
            }
        }
        open.sort { ($0.startMS + slotLength($0.tier), $0.startMS) < ($1.startMS + slotLength($1.tier), $1.startMS) }
        return result + open
    }

    // MARK: Time

    /// Carries holds and gap time from the cursor to `t`, closing slots on the way.
    private mutating func advance(to t: Int64, energyDecided: Bool, emit: (ConsolidatedSlot) -> Void) {
        var p = cursorMS!
        // Gap time between the power gap's start and the cursor (bounded by a heartbeat).
        if case .gap(let since) = power, since < p {
            distributeUnaccounted(since, p)
            power = .gap(sinceMS: p)
        }
        closeSlots(upTo: closingLimit(p, energyDecided), emit: emit)
        while p < t {
            var boundary = Int64.max
            for ts in tierStates { boundary = min(boundary, Self.floorSlot(p, ts.slotMS) + ts.slotMS) }
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

    /// Slots may close up to `p`, unless the power interval since `t1` is still undecided.
    private func closingLimit(_ p: Int64, _ energyDecided: Bool) -> Int64 {
        if !energyDecided, case .pending(let t1, _) = power { return min(p, t1) }
        return p
    }

    /// Emits, in order of end time, every slot ending at or before `limit`.
    private mutating func closeSlots(upTo limit: Int64, emit: (ConsolidatedSlot) -> Void) {
        while true {
            var best = -1
            var bestEnd = Int64.max
            for i in tierStates.indices {
                let end = tierStates[i].firstStartMS + tierStates[i].slotMS
                if end <= limit, end < bestEnd {
                    best = i
                    bestEnd = end
                }
            }
            guard best >= 0 else { return }
            let acc = tierStates[best].open.isEmpty ? SlotAccumulator(signalCount: schema.signals.count) : tierStates[best].open.removeFirst()
            emit(summary(acc, tier: tierStates[best], startMS: tierStates[best].firstStartMS))
            tierStates[best].firstStartMS += tierStates[best].slotMS
        }
    }

    // MARK: Signals

    private mutating func endHold(_ s: Int) {
        guard holds[s].isActive else { return }
        holds[s].isActive = false
        activeHoldCount -= 1
    }

    /// Distributes signal `s`'s hold from where it stands up to `t` (or its heartbeat end).
    private mutating func carryHold(_ s: Int, to t: Int64) {
        let hold = holds[s]
        let end = min(t, hold.endMS)
        if end > hold.distributedUntilMS {
            forEachSlotPiece(hold.distributedUntilMS, end, signal: s) { acc, a, b in
                acc.signals[s].covered(b - a, value: hold.value)
            }
            holds[s].distributedUntilMS = end
        }
        if end >= hold.endMS { endHold(s) }
    }

    private mutating func addSample(_ s: Int, value: Double, at t: Int64) {
        for i in tierStates.indices where tierStates[i].kept[s] {
            let k = tierStates[i].index(ofSlotAt: t, signalCount: schema.signals.count)
            tierStates[i].open[k].signals[s].sample(value)
        }
    }

    /// Attributes the delta from `previous` (the counter's last valid value) to `v` to the slot of `t`.
    private mutating func addCounter(previous: Double?, _ v: Double, at t: Int64, charge: Bool) {
        guard let old = previous else { return }
        let reset = v < old
        let delta = reset ? 0 : v - old
        for i in tierStates.indices {
            let k = tierStates[i].index(ofSlotAt: t, signalCount: schema.signals.count)
            tierStates[i].open[k].energy.addCounter(delta, charge: charge, reset: reset)
        }
    }

    // MARK: Energy

    private mutating func distributeUnaccounted(_ a: Int64, _ b: Int64) {
        forEachSlotPiece(a, b, signal: nil) { acc, x, y in acc.energy.unaccountedMS += y - x }
    }

    /// Integrates power, linear from `p1` at `t1` to `p2` at `t2`, into every slot it overlaps.
    private mutating func distributeTrapezoid(t1: Int64, p1: Double, t2: Int64, p2: Double) {
        let span = Double(t2 - t1)
        func power(at x: Int64) -> Double {
            x == t1 ? p1 : x == t2 ? p2 : p1 + (p2 - p1) * (Double(x - t1) / span)
        }
        forEachSlotPiece(t1, t2, signal: nil) { acc, x, y in
            let px = power(at: x)
            let py = power(at: y)
            let width = Double(y - x)
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
            acc.energy.integrate(dischargeKWh: positive / 3_600_000, chargeKWh: negative / 3_600_000, ms: y - x)
        }
    }

    /// Calls `body` with each tier's accumulator for every slot piece `[x, y)` of `[a, b)`
    /// (only tiers that keep `signal`, when one is given).
    private mutating func forEachSlotPiece(
        _ a: Int64, _ b: Int64, signal: Int?, _ body: (inout SlotAccumulator, Int64, Int64) -> Void
    ) {
        guard a < b else { return }
        let signalCount = schema.signals.count
        for i in tierStates.indices {
            if let s = signal, !tierStates[i].kept[s] { continue }
            var x = a
            while x < b {
                let y = min(b, Self.floorSlot(x, tierStates[i].slotMS) + tierStates[i].slotMS)
                let k = tierStates[i].index(ofSlotAt: x, signalCount: signalCount)
                body(&tierStates[i].open[k], x, y)
                x = y
            }
        }
    }

    // MARK: Output

    private func summary(_ acc: SlotAccumulator, tier: TierState, startMS: Int64) -> ConsolidatedSlot {
        var signals: [SlotSummary] = []
        signals.reserveCapacity(acc.signals.count)
        for s in acc.signals.indices {
            signals.append(tier.kept[s] ? acc.signals[s].summary : .unknown)
        }
        var energy: EnergySummary?
        if schema.energy.hasEnergy {
            let e = acc.energy
            var summary = EnergySummary(counterResets: e.counterResets, integratedMS: e.integratedMS, unaccountedMS: e.unaccountedMS)
            if schema.energy.chargeCounter != nil, e.hasChargeDelta { summary.counterChargeKWh = e.counterChargeKWh }
            if schema.energy.dischargeCounter != nil, e.hasDischargeDelta { summary.counterDischargeKWh = e.counterDischargeKWh }
            if schema.energy.activePower != nil, e.integratedMS > 0 {
                summary.integratedChargeKWh = e.integratedChargeKWh
                summary.integratedDischargeKWh = e.integratedDischargeKWh
            }
            energy = summary
        }
        return ConsolidatedSlot(groupID: schema.groupID, tier: tier.name, startMS: startMS, signals: signals, energy: energy)
    }

    private func slotLength(_ tierName: String) -> Int64 {
        tierStates.first { $0.name == tierName }?.slotMS ?? 0
    }

    private func classify(_ value: Double, _ quality: PointQuality) -> SampleClass {
        switch quality {
        case .stale: .stale
        case .ok where value.isFinite: .valid(value)
        default: .invalid
        }
    }
}
