/// Whether `SeriesConsolidator.ingest` consolidated a sample.
public enum IngestOutcome: Sendable, Hashable {
    case accepted
    /// The sample's timestamp is not after `lastMS`, the last time already consolidated (the
    /// wall clock stepped backwards): it was not consolidated. Log it once per step.
    case heldBackClockStep(lastMS: Int64)
}

/// What `SeriesConsolidator.ingest(timestampsMS:values:qualities:emit:)` did with a batch.
public struct BatchIngestOutcome: Sendable, Hashable {
    /// Samples consolidated.
    public var accepted = 0
    /// Samples not consolidated: not after the last time already consolidated (clock steps).
    public var heldBack = 0

    public init(accepted: Int = 0, heldBack: Int = 0) {
        self.accepted = accepted
        self.heldBack = heldBack
    }
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

    var tierStates: [TierState]
    var holds: [Hold]
    var activeHoldCount = 0
    var power: PowerState = .idle
    var previousChargeCounter: Double?
    var previousDischargeCounter: Double?
    /// Time up to which holds (and gap time) are distributed; nil before the first sample.
    var cursorMS: Int64?
    var lastIngestedMS: Int64?

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
        let groupID = schema.groupID
        return ingest(timestampMS: t, values: values, qualities: qualities) { emit($0.consolidated(groupID: groupID)) }
    }

    /// `ingest(timestampMS:values:qualities:emit:)`, handing each closed slot to `onClose` in
    /// place (`ClosedSlot`: valid during the call only) instead of as a `ConsolidatedSlot`.
    @discardableResult
    public mutating func ingest(
        timestampMS t: Int64, values: [Double], qualities: [PointQuality], onClose: (borrowing ClosedSlot) -> Void
    ) -> IngestOutcome {
        let emit = onClose
        precondition(
            values.count == schema.signals.count && qualities.count == schema.signals.count,
            "sample width differs from the schema of \(schema.groupID)")
        return values.withUnsafeBufferPointer { v in
            // nil base addresses only for a schema without signals (nothing is read then).
            qualities.withUnsafeBufferPointer { q in ingestRow(t, v.baseAddress, q.baseAddress, emit) }
        }
    }

    /// Consolidates many samples of the group at once, oldest first: `values` and `qualities`
    /// hold one row per timestamp (row-major, `timestampsMS.count × schema.signals.count`).
    /// Each sample is consolidated exactly as `ingest(timestampMS:values:qualities:emit:)`
    /// would; samples held back as clock steps are counted in the outcome. For bulk paths
    /// (replay, imports): no per-sample arrays.
    @discardableResult
    public mutating func ingest(
        timestampsMS: [Int64], values: [Double], qualities: [PointQuality], emit: (ConsolidatedSlot) -> Void
    ) -> BatchIngestOutcome {
        let groupID = schema.groupID
        return ingest(timestampsMS: timestampsMS, values: values, qualities: qualities) {
            emit($0.consolidated(groupID: groupID))
        }
    }

    /// The batched `ingest(timestampsMS:values:qualities:emit:)`, handing each closed slot to
    /// `onClose` in place (`ClosedSlot`: valid during the call only): the bulk path without
    /// an allocation per slot.
    @discardableResult
    public mutating func ingest(
        timestampsMS: [Int64], values: [Double], qualities: [PointQuality], onClose: (borrowing ClosedSlot) -> Void
    ) -> BatchIngestOutcome {
        let emit = onClose
        let width = schema.signals.count
        precondition(
            values.count == timestampsMS.count * width && qualities.count == timestampsMS.count * width,
            "batch of \(timestampsMS.count) samples needs \(timestampsMS.count * width) values and qualities for \(schema.groupID)"
        )
        var outcome = BatchIngestOutcome()
        guard width > 0 else {
            for t in timestampsMS {
                if case .heldBackClockStep = ingestRow(t, nil, nil, emit) {
                    outcome.heldBack += 1
                } else {
                    outcome.accepted += 1
                }
            }
            return outcome
        }
        timestampsMS.withUnsafeBufferPointer { ts in
            values.withUnsafeBufferPointer { v in
                qualities.withUnsafeBufferPointer { q in
                    var row = 0
                    while row < ts.count {
                        // Rows the fast lane can take, then one through the general path.
                        let taken = ingestRun(ts, v.baseAddress!, q.baseAddress!, from: row, emit: emit)
                        outcome.accepted += taken
                        row += taken
                        guard row < ts.count else { break }
                        let result = ingestRow(
                            ts[row], v.baseAddress! + row * width, q.baseAddress! + row * width, emit)
                        if case .heldBackClockStep = result { outcome.heldBack += 1 } else { outcome.accepted += 1 }
                        row += 1
                    }
                }
            }
        }
        return outcome
    }

    /// One sample: `values` and `qualities` point at `schema.signals.count` elements.
    private mutating func ingestRow(
        _ t: Int64, _ values: UnsafePointer<Double>?, _ qualities: UnsafePointer<PointQuality>?,
        _ emit: (borrowing ClosedSlot) -> Void
    ) -> IngestOutcome {
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
            switch classify(values![p], qualities![p]) {
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
        let inside = insideFirstSlots(t)
        if inside {
            advanceInsideFirstSlots(to: t)
        } else {
            advance(to: t, energyDecided: integrated, emit: emit)
        }
        // 3. The sample itself.
        for s in schema.signals.indices {
            switch classify(values![s], qualities![s]) {
            case .stale: continue
            case .invalid: endHold(s)
            case .valid(let v):
                endHold(s)
                if inside {
                    // t lies in every tier's first open slot, which exists.
                    tierStates.withUnsafeMutableBufferPointer { tiers in
                        for i in tiers.indices where tiers[i].kept[s] { tiers[i].signals[s].sample(v) }
                    }
                } else {
                    addSample(s, value: v, at: t)
                }
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
        let groupID = schema.groupID
        flush(untilMS: untilMS) { emit($0.consolidated(groupID: groupID)) }
    }

    /// `flush(untilMS:emit:)`, handing each closed slot to `onClose` in place (`ClosedSlot`).
    public mutating func flush(untilMS: Int64, onClose emit: (borrowing ClosedSlot) -> Void) {
        guard let cursor = cursorMS, untilMS > cursor else { return }
        if let p = schema.energy.activePower, case .pending(let t1, _) = power, untilMS - t1 > holds[p].heartbeatMS {
            power = .gap(sinceMS: t1)
        }
        advance(to: untilMS, energyDecided: false, emit: emit)
    }

    /// Declares that the source stopped at `atMS` (essd stopped, or is known to have ended
    /// there): every hold ends at `atMS` (or its heartbeat end, if sooner), the time after the
    /// last valid power sample up to `atMS` is a gap (unaccounted), and after `atMS` nothing is
    /// accounted until the next sample, as before the first one. Closes (emits) the slots that
    /// end at or before `atMS`. A time before the last one consolidated counts as that time. The
    /// open slots then stand as they will close unless a later sample falls in them, so a
    /// restart that replays the same samples and the same stop rebuilds them byte for byte.
    public mutating func stop(atMS: Int64, onClose emit: (borrowing ClosedSlot) -> Void) {
        guard let cursor = cursorMS else { return }
        if case .pending(let t1, _) = power { power = .gap(sinceMS: t1) }
        advance(to: max(atMS, cursor), energyDecided: true, emit: emit)
        for s in holds.indices { endHold(s) }
        power = .idle
    }

    /// `stop(atMS:onClose:)`, handing each closed slot over as a `ConsolidatedSlot`.
    public mutating func stop(atMS: Int64, emit: (ConsolidatedSlot) -> Void) {
        let groupID = schema.groupID
        stop(atMS: atMS) { emit($0.consolidated(groupID: groupID)) }
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
                open.append(
                    withUnsafePointer(to: ts) {
                        ClosedSlot(
                            tierIndex: 0, startMS: start, tier: $0, k: i, energySources: copy.schema.energy
                        ).consolidated(groupID: copy.schema.groupID)
                    })
                start += ts.slotMS
                i += 1
            }
        }
        open.sort { ($0.startMS + slotLength($0.tier), $0.startMS) < ($1.startMS + slotLength($1.tier), $1.startMS) }
        return result + open
    }

    // MARK: Output

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
