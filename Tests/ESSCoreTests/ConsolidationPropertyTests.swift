import ESSCore
import ESSTestSupport
import Testing

/// A random scan stream for one group: random tiers, heartbeats, gaps, irregular spacing,
/// non-ok and stale qualities, counter resets, clock steps and mid-stream flushes;
/// reproducible from `seed`.
struct StreamCase: CustomStringConvertible {
    enum Event {
        case sample(t: Int64, values: [Double], qualities: [PointQuality])
        case flush(untilMS: Int64)
    }

    var seed: UInt64
    var schema: SeriesSchema
    var tiers: [TierDefinition]
    var events: [Event]
    var finalMS: Int64

    init(seed: UInt64) {
        self.seed = seed
        var rng = SplitMix64(seed: seed)
        let slotChoices: [Int64] = [1000, 7000, 60_000, 2500]
        var slots = slotChoices.filter { _ in Bool.random(using: &rng) }
        if slots.isEmpty { slots = [slotChoices.randomElement(using: &rng)!] }
        tiers = [TierDefinition(name: "raw", slotMS: 0, retentionMS: 3_600_000)]
            + slots.map { TierDefinition(name: "t\($0)", slotMS: $0, retentionMS: 86_400_000) }
        let names = tiers.map(\.name)
        func someTiers() -> Set<String> { Set(names.filter { _ in Bool.random(using: &rng) }) }

        let hasPower = Int.random(in: 0..<4, using: &rng) != 0
        let hasCharge = Bool.random(using: &rng)
        let hasDischarge = Bool.random(using: &rng)
        var signals: [SignalDefinition] = []
        func hb() -> Int64 { Int64.random(in: 1...7000, using: &rng) }
        signals.append(SignalDefinition(name: "temp", role: .other, heartbeatMS: hb(), tiers: someTiers()))
        signals.append(SignalDefinition(name: "p", role: hasPower ? .activePowerKW : .other, heartbeatMS: hb(), tiers: Set(names)))
        signals.append(SignalDefinition(name: "chg", role: hasCharge ? .chargeEnergyTotalKWh : .other, heartbeatMS: hb(), tiers: Set(names)))
        signals.append(SignalDefinition(name: "dis", role: hasDischarge ? .dischargeEnergyTotalKWh : .other, heartbeatMS: hb(), tiers: someTiers()))
        signals.append(SignalDefinition(name: "soc", role: .socPercent, heartbeatMS: hb(), tiers: Set(names)))
        signals.shuffle(using: &rng)
        let index = { (name: String) in signals.firstIndex { $0.name == name }! }
        schema = SeriesSchema(
            groupID: "dev\(seed)", signals: signals,
            energy: EnergySources(
                activePower: hasPower ? index("p") : nil, chargeCounter: hasCharge ? index("chg") : nil,
                dischargeCounter: hasDischarge ? index("dis") : nil))

        var t = 1_700_000_000_000 + Int64.random(in: 0..<120_000, using: &rng)
        var counters = [Double.random(in: 0...1000, using: &rng), Double.random(in: 0...1000, using: &rng)]
        var events: [Event] = []
        var lastGood = [Double](repeating: .nan, count: signals.count)
        for _ in 0..<Int.random(in: 60...260, using: &rng) {
            let roll = Int.random(in: 0..<100, using: &rng)
            if roll < 3 {
                t -= Int64.random(in: 0...4000, using: &rng)  // clock step back (or repeat)
            } else if roll < 13 {
                t += Int64.random(in: 5000...90_000, using: &rng)  // outage
            } else {
                t += Int64.random(in: 1...3000, using: &rng)
            }
            var values: [Double] = []
            var qualities: [PointQuality] = []
            for (i, signal) in signals.enumerated() {
                var v: Double
                switch signal.name {
                case "chg", "dis":
                    let c = signal.name == "chg" ? 0 : 1
                    if Int.random(in: 0..<25, using: &rng) == 0 {
                        counters[c] = Double.random(in: 0...5, using: &rng)  // reset
                    } else {
                        counters[c] += Double.random(in: 0...0.5, using: &rng)
                    }
                    v = counters[c]
                case "p": v = Double.random(in: -60...60, using: &rng)
                default: v = Double.random(in: -100...100, using: &rng)
                }
                let q = Int.random(in: 0..<100, using: &rng)
                let quality: PointQuality
                switch q {
                case 0..<74: quality = .ok
                case 74..<84: quality = .stale
                case 84..<89: quality = .timeout
                case 89..<92: quality = .communicationFailure
                case 92..<94: quality = .exception(2)
                case 94..<96: quality = .notImplemented
                default: quality = .ok
                }
                if q >= 96 { v = .nan }  // ok but not finite: invalid
                if quality == .stale { v = lastGood[i] } else if quality != .ok { v = .nan }
                if quality == .ok, v.isFinite { lastGood[i] = v }
                values.append(v)
                qualities.append(quality)
            }
            events.append(.sample(t: t, values: values, qualities: qualities))
            if Int.random(in: 0..<30, using: &rng) == 0 {
                events.append(.flush(untilMS: t + Int64.random(in: 0...9000, using: &rng)))
            }
        }
        self.events = events
        finalMS = t + 7000 + 120_000 + Int64.random(in: 0...60_000, using: &rng)
    }

    var description: String {
        "seed \(seed): tiers \(tiers.map(\.name)) signals \(schema.signals.map { "\($0.name)/hb\($0.heartbeatMS)/\($0.tiers.sorted())" }) energy \(schema.energy)"
    }
}

/// The slot statistics recomputed by brute force from the accepted samples: every hold and
/// every power interval is laid over the slots it overlaps, with no incremental state.
struct ReferenceSlots {
    struct Signal {
        var count = 0
        var coveredMS: Int64 = 0
        var integral = 0.0
        var min = Double.nan
        var max = Double.nan
        var first = Double.nan
        var last = Double.nan
        var holdSources: Set<Int64> = []
        var holdValue = Double.nan
    }

    struct Slot {
        var signals: [Signal]
        var counterCharge = 0.0
        var counterDischarge = 0.0
        var hasChargeDelta = false
        var hasDischargeDelta = false
        var resets = 0
        var integratedCharge = 0.0
        var integratedDischarge = 0.0
        var integratedMS: Int64 = 0
        var unaccountedMS: Int64 = 0
    }

    /// Per tier name, per slot start.
    var slots: [String: [Int64: Slot]] = [:]
    var firstMS: Int64?

    /// The samples `ingest` must accept: later than every accepted one and not before a flush horizon.
    static func accepted(_ events: [StreamCase.Event]) -> [(t: Int64, values: [Double], qualities: [PointQuality])] {
        var result: [(t: Int64, values: [Double], qualities: [PointQuality])] = []
        var horizon = Int64.min
        for event in events {
            switch event {
            case .flush(let u): horizon = max(horizon, u)
            case .sample(let t, let values, let qualities):
                if let last = result.last, t <= last.t { continue }
                if t < horizon { continue }
                result.append((t, values, qualities))
            }
        }
        return result
    }

    init(_ c: StreamCase) {
        let samples = Self.accepted(c.events)
        firstMS = samples.first?.t
        let n = c.schema.signals.count
        let consolidated = c.tiers.filter { $0.slotMS > 0 }
        for tier in consolidated { slots[tier.name] = [:] }

        func update(_ tier: TierDefinition, _ start: Int64, _ body: (inout Slot) -> Void) {
            var slot = slots[tier.name]![start] ?? Slot(signals: Array(repeating: Signal(), count: n))
            body(&slot)
            slots[tier.name]![start] = slot
        }
        /// Calls body(slotStart, overlapStart, overlapEnd) for every slot overlapping [a, b).
        func overlaps(_ tier: TierDefinition, _ a: Int64, _ b: Int64, _ body: (Int64, Int64, Int64) -> Void) {
            guard a < b else { return }
            var start = a / tier.slotMS * tier.slotMS
            while start < b {
                let x = max(a, start)
                let y = min(b, start + tier.slotMS)
                if x < y { body(start, x, y) }
                start += tier.slotMS
            }
        }
        func isValid(_ v: Double, _ q: PointQuality) -> Bool { q == .ok && v.isFinite }

        for s in 0..<n {
            let signal = c.schema.signals[s]
            // Non-stale samples of this signal.
            let own = samples.filter { $0.qualities[s] != .stale }
            for tier in consolidated where signal.tiers.contains(tier.name) {
                for (i, sample) in own.enumerated() where isValid(sample.values[s], sample.qualities[s]) {
                    let v = sample.values[s]
                    let start = sample.t / tier.slotMS * tier.slotMS
                    update(tier, start) { slot in
                        if slot.signals[s].count == 0 { slot.signals[s].first = v }
                        slot.signals[s].last = v
                        slot.signals[s].min = slot.signals[s].count == 0 ? v : Swift.min(slot.signals[s].min, v)
                        slot.signals[s].max = slot.signals[s].count == 0 ? v : Swift.max(slot.signals[s].max, v)
                        slot.signals[s].count += 1
                    }
                    let end = min(i + 1 < own.count ? own[i + 1].t : .max, sample.t + signal.heartbeatMS)
                    overlaps(tier, sample.t, end) { start, x, y in
                        update(tier, start) { slot in
                            slot.signals[s].coveredMS += y - x
                            slot.signals[s].integral += v * Double(y - x)
                            slot.signals[s].holdSources.insert(sample.t)
                            slot.signals[s].holdValue = v
                        }
                    }
                }
            }
        }

        for tier in consolidated {
            for (s, charge) in [(c.schema.energy.chargeCounter, true), (c.schema.energy.dischargeCounter, false)] {
                guard let s else { continue }
                let valid = samples.filter { isValid($0.values[s], $0.qualities[s]) }
                for i in valid.indices.dropFirst() {
                    let delta = valid[i].values[s] - valid[i - 1].values[s]
                    update(tier, valid[i].t / tier.slotMS * tier.slotMS) { slot in
                        if delta < 0 { slot.resets += 1 }
                        if charge {
                            slot.hasChargeDelta = true
                            slot.counterCharge += max(0, delta)
                        } else {
                            slot.hasDischargeDelta = true
                            slot.counterDischarge += max(0, delta)
                        }
                    }
                }
            }
            guard let p = c.schema.energy.activePower else { continue }
            let heartbeat = c.schema.signals[p].heartbeatMS
            let valid = samples.filter { isValid($0.values[p], $0.qualities[p]) }
            let invalidTimes = samples.filter { $0.qualities[p] != .stale && !isValid($0.values[p], $0.qualities[p]) }.map(\.t)
            for i in valid.indices {
                let (t1, p1) = (valid[i].t, valid[i].values[p])
                guard i + 1 < valid.count else {
                    overlaps(tier, t1, c.finalMS) { start, x, y in update(tier, start) { $0.unaccountedMS += y - x } }
                    continue
                }
                let (t2, p2) = (valid[i + 1].t, valid[i + 1].values[p])
                let broken = invalidTimes.contains { $0 > t1 && $0 < t2 }
                if t2 - t1 > heartbeat || broken {
                    overlaps(tier, t1, t2) { start, x, y in update(tier, start) { $0.unaccountedMS += y - x } }
                    continue
                }
                overlaps(tier, t1, t2) { start, x, y in
                    let px = p1 + (p2 - p1) * Double(x - t1) / Double(t2 - t1)
                    let py = p1 + (p2 - p1) * Double(y - t1) / Double(t2 - t1)
                    let w = Double(y - x) / 3_600_000
                    // ∫max(p, 0) = (∫|p| + ∫p) / 2 for p linear on [x, y].
                    let signed = (px + py) / 2 * w
                    let absolute = (px >= 0) == (py >= 0) || px == 0 || py == 0 ? abs(signed) : (px * px + py * py) / (2 * (abs(px) + abs(py))) * w
                    update(tier, start) { slot in
                        slot.integratedDischarge += (absolute + signed) / 2
                        slot.integratedCharge += (absolute - signed) / 2
                        slot.integratedMS += y - x
                    }
                }
            }
        }
    }
}

func sameValue(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }

/// Within `relative` of the larger magnitude, or within `absolute`.
func near(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    return abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))
}

/// Field-by-field equality in which NaN equals NaN.
func sameSlot(_ a: ConsolidatedSlot, _ b: ConsolidatedSlot) -> Bool {
    guard a.groupID == b.groupID, a.tier == b.tier, a.startMS == b.startMS, a.signals.count == b.signals.count else { return false }
    for (x, y) in zip(a.signals, b.signals) {
        guard x.count == y.count, x.coveredMS == y.coveredMS, sameValue(x.min, y.min), sameValue(x.max, y.max),
            sameValue(x.mean, y.mean), sameValue(x.first, y.first), sameValue(x.last, y.last)
        else { return false }
    }
    switch (a.energy, b.energy) {
    case (nil, nil): return true
    case (let x?, let y?):
        return sameValue(x.counterChargeKWh, y.counterChargeKWh) && sameValue(x.counterDischargeKWh, y.counterDischargeKWh)
            && x.counterResets == y.counterResets && sameValue(x.integratedChargeKWh, y.integratedChargeKWh)
            && sameValue(x.integratedDischargeKWh, y.integratedDischargeKWh) && x.integratedMS == y.integratedMS
            && x.unaccountedMS == y.unaccountedMS
    default: return false
    }
}

@Suite("SeriesConsolidator properties")
struct ConsolidationPropertyTests {
    @Test("every emitted slot equals a brute-force recomputation from the raw samples", arguments: 0..<60)
    func slotsMatchReference(seed: UInt64) throws {
        let c = StreamCase(seed: seed &* 0x9E37_79B9 &+ 17)
        var consolidator = SeriesConsolidator(schema: c.schema, tiers: c.tiers)
        var emitted: [ConsolidatedSlot] = []
        var heldBack = 0
        for event in c.events {
            switch event {
            case .sample(let t, let values, let qualities):
                var now: [ConsolidatedSlot] = []
                let outcome = consolidator.ingest(timestampMS: t, values: values, qualities: qualities) { now.append($0) }
                if case .heldBackClockStep = outcome {
                    heldBack += 1
                    #expect(now.isEmpty, "\(c): a held-back sample closed slots")
                }
                let slotMS = Dictionary(uniqueKeysWithValues: c.tiers.map { ($0.name, $0.slotMS) })
                for slot in now {
                    #expect(slot.startMS + slotMS[slot.tier]! <= t, "\(c): slot \(slot.tier)@\(slot.startMS) emitted before its end at \(t)")
                }
                emitted += now
            case .flush(let u):
                consolidator.flush(untilMS: u) { emitted.append($0) }
            }
        }
        let preview = consolidator.openSlots(nowMS: c.finalMS)
        var last: [ConsolidatedSlot] = []
        consolidator.flush(untilMS: c.finalMS) { last.append($0) }
        #expect(preview.count >= last.count, "\(c)")
        for (a, b) in zip(preview, last) {
            #expect(sameSlot(a, b), "\(c): openSlots disagrees with flush at \(b.tier)@\(b.startMS)")
        }
        emitted += last

        let reference = ReferenceSlots(c)
        let accepted = ReferenceSlots.accepted(c.events)
        #expect(heldBack == c.events.filter { if case .sample = $0 { true } else { false } }.count - accepted.count, "\(c)")
        guard let firstMS = reference.firstMS else {
            #expect(emitted.isEmpty)
            return
        }
        // Emitted in order of end time; per tier every slot from the first sample's to the
        // last one ending by finalMS, once each.
        let slotMS = Dictionary(uniqueKeysWithValues: c.tiers.map { ($0.name, $0.slotMS) })
        let ends = emitted.map { $0.startMS + slotMS[$0.tier]! }
        #expect(ends == ends.sorted(), "\(c): slots not emitted in time order")
        for tier in c.tiers where tier.slotMS > 0 {
            let starts = emitted.filter { $0.tier == tier.name }.map(\.startMS)
            let first = firstMS / tier.slotMS * tier.slotMS
            let count = Int((c.finalMS / tier.slotMS * tier.slotMS - first) / tier.slotMS)
            #expect(starts == (0..<count).map { first + Int64($0) * tier.slotMS }, "\(c): tier \(tier.name) slots not contiguous")
        }

        var mismatches = 0
        for slot in emitted where mismatches < 5 {
            let ref = reference.slots[slot.tier]![slot.startMS]
                ?? ReferenceSlots.Slot(signals: Array(repeating: ReferenceSlots.Signal(), count: c.schema.signals.count))
            let place = "\(c)\n  \(slot.tier)@\(slot.startMS)"
            for (s, got) in slot.signals.enumerated() {
                let want = ref.signals[s]
                let name = c.schema.signals[s].name
                var ok = got.count == want.count && got.coveredMS == want.coveredMS
                if want.count == 0 && want.coveredMS == 0 {
                    ok = ok && got.min.isNaN && got.max.isNaN && got.mean.isNaN && got.first.isNaN && got.last.isNaN
                } else if want.count == 0 {
                    ok = ok && want.holdSources.count == 1
                    for v in [got.min, got.max, got.first, got.last, got.mean] { ok = ok && sameValue(v, want.holdValue) }
                } else {
                    let mean = want.coveredMS > 0 ? want.integral / Double(want.coveredMS) : .nan
                    ok = ok && sameValue(got.min, want.min) && sameValue(got.max, want.max) && sameValue(got.first, want.first)
                        && sameValue(got.last, want.last) && near(got.mean, mean, absolute: 1e-9 * 100)
                }
                if !ok {
                    mismatches += 1
                    Issue.record("\(place) signal \(name): got \(got), want \(want)")
                }
            }
            let e = c.schema.energy
            guard e.hasEnergy else {
                #expect(slot.energy == nil, "\(place)")
                continue
            }
            guard let got = slot.energy else {
                Issue.record("\(place): no energy summary")
                continue
            }
            let wantCharge = e.chargeCounter != nil && ref.hasChargeDelta ? ref.counterCharge : .nan
            let wantDischarge = e.dischargeCounter != nil && ref.hasDischargeDelta ? ref.counterDischarge : .nan
            let wantIntCharge = e.activePower != nil && ref.integratedMS > 0 ? ref.integratedCharge : .nan
            let wantIntDischarge = e.activePower != nil && ref.integratedMS > 0 ? ref.integratedDischarge : .nan
            let ok = near(got.counterChargeKWh, wantCharge, absolute: 1e-12) && near(got.counterDischargeKWh, wantDischarge, absolute: 1e-12)
                && got.counterResets == ref.resets && got.integratedMS == ref.integratedMS && got.unaccountedMS == ref.unaccountedMS
                && near(got.integratedChargeKWh, wantIntCharge, absolute: 1e-12)
                && near(got.integratedDischargeKWh, wantIntDischarge, absolute: 1e-12)
            if !ok {
                mismatches += 1
                Issue.record("\(place) energy: got \(got), want \(ref.counterCharge)/\(ref.counterDischarge) resets \(ref.resets) int \(ref.integratedCharge)/\(ref.integratedDischarge) \(ref.integratedMS) ms, unaccounted \(ref.unaccountedMS) ms")
            }
            for v in [got.counterChargeKWh, got.counterDischargeKWh, got.integratedChargeKWh, got.integratedDischargeKWh] where !v.isNaN {
                #expect(v >= 0, "\(place): negative energy \(got)")
            }
            #expect(got.integratedMS + got.unaccountedMS <= slotMS[slot.tier]!, "\(place)")
        }
    }
}

@Suite("SeriesConsolidator batched ingest")
struct ConsolidationBatchTests {
    /// The batched API gives exactly the slots (bit for bit, same order) and the same held-back
    /// count as one `ingest` per sample, on the random streams of the property tests, with
    /// batches cut at random lengths and at every flush.
    @Test(arguments: 0..<40)
    func batchedEqualsPerSample(seed: UInt64) {
        let c = StreamCase(seed: seed &* 0x9E37_79B9 &+ 17)
        var rng = SplitMix64(seed: seed)
        var single = SeriesConsolidator(schema: c.schema, tiers: c.tiers)
        var batched = SeriesConsolidator(schema: c.schema, tiers: c.tiers)
        var expected: [ConsolidatedSlot] = []
        var got: [ConsolidatedSlot] = []
        var expectedHeld = 0
        var gotOutcome = BatchIngestOutcome()
        var pending: [(t: Int64, values: [Double], qualities: [PointQuality])] = []
        func drain() {
            let outcome = batched.ingest(
                timestampsMS: pending.map(\.t), values: pending.flatMap(\.values),
                qualities: pending.flatMap(\.qualities)
            ) { got.append($0) }
            gotOutcome.accepted += outcome.accepted
            gotOutcome.heldBack += outcome.heldBack
            pending.removeAll()
        }
        for event in c.events {
            switch event {
            case .sample(let t, let values, let qualities):
                if case .heldBackClockStep = single.ingest(timestampMS: t, values: values, qualities: qualities, emit: { expected.append($0) }) {
                    expectedHeld += 1
                }
                pending.append((t, values, qualities))
                if Int.random(in: 0..<8, using: &rng) == 0 { drain() }
            case .flush(let u):
                drain()
                single.flush(untilMS: u) { expected.append($0) }
                batched.flush(untilMS: u) { got.append($0) }
            }
        }
        drain()
        single.flush(untilMS: c.finalMS) { expected.append($0) }
        batched.flush(untilMS: c.finalMS) { got.append($0) }
        #expect(gotOutcome.heldBack == expectedHeld, "\(c)")
        #expect(gotOutcome.accepted + gotOutcome.heldBack == c.events.filter { if case .sample = $0 { true } else { false } }.count)
        #expect(got.count == expected.count, "\(c)")
        for (a, b) in zip(got, expected) where !sameSlot(a, b) || a.signals.map(\.mean.bitPattern) != b.signals.map(\.mean.bitPattern) {
            Issue.record("\(c): batched \(a) differs from per-sample \(b)")
            break
        }
    }

    /// Mostly plain rows (regular, all valid: the batched path's fast lane) with a few invalid
    /// samples, stale power and gaps: batched equals per-sample bit for bit, energy included.
    @Test(arguments: [5 as UInt64, 6, 7, 8])
    func mostlyPlainStreamsBatchedEqualsPerSample(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let all: Set<String> = ["1m", "15m", "1h"]
        let schema = SeriesSchema(
            groupID: "pcs",
            signals: [
                SignalDefinition(name: "p", role: .activePowerKW, heartbeatMS: 3000, tiers: all),
                SignalDefinition(name: "soc", role: .socPercent, heartbeatMS: 3000, tiers: all),
                SignalDefinition(name: "chg", role: .chargeEnergyTotalKWh, heartbeatMS: 3000, tiers: all),
                SignalDefinition(name: "dis", role: .dischargeEnergyTotalKWh, heartbeatMS: 3000, tiers: ["1h"]),
                SignalDefinition(name: "t", role: .other, heartbeatMS: 0, tiers: ["15m"]),
            ],
            energy: EnergySources(activePower: 0, chargeCounter: 2, dischargeCounter: 3))
        let tiers = [
            TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 86_400_000),
            TierDefinition(name: "15m", slotMS: 900_000, retentionMS: 86_400_000),
            TierDefinition(name: "1h", slotMS: 3_600_000, retentionMS: 86_400_000),
        ]
        var t: Int64 = 1_700_000_000_000 + Int64.random(in: 0..<60_000, using: &rng)
        var counters = [100.0, 200.0]
        var times: [Int64] = []
        var values: [Double] = []
        var qualities: [PointQuality] = []
        for _ in 0..<8000 {
            let roll = Int.random(in: 0..<1000, using: &rng)
            t += roll < 5 ? Int64.random(in: 4000...200_000, using: &rng) : roll < 8 ? 0 : 1000
            counters[0] += Double.random(in: 0...0.01, using: &rng)
            counters[1] += roll == 999 ? -150 : Double.random(in: 0...0.01, using: &rng)
            var row = [Double.random(in: -50...50, using: &rng), Double.random(in: 0...100, using: &rng)] + counters
            row.append(Double.random(in: 20...40, using: &rng))
            var quality = [PointQuality](repeating: .ok, count: 5)
            if Int.random(in: 0..<100, using: &rng) == 0 { quality[Int.random(in: 0..<5, using: &rng)] = .timeout }
            if Int.random(in: 0..<100, using: &rng) == 0 { quality[0] = .stale }
            if Int.random(in: 0..<200, using: &rng) == 0 { row[1] = .nan }
            times.append(t)
            values += row
            qualities += quality
        }
        let (expected, got) = perSampleAndBatchedSlots(
            schema: schema, tiers: tiers, times: times, values: values, qualities: qualities, maxBatch: 700,
            flushMS: t + 7_200_000, rng: &rng)
        #expect(got.count == expected.count && expected.count > 100)
        for (a, b) in zip(got, expected) where !sameSlot(a, b) || a.signals.map(\.mean.bitPattern) != b.signals.map(\.mean.bitPattern)
            || a.energy?.integratedChargeKWh.bitPattern != b.energy?.integratedChargeKWh.bitPattern
        {
            Issue.record("seed \(seed): batched \(a) differs from per-sample \(b)")
            break
        }
    }

    /// Groups without energy sources, mostly plain rows: the fast lane crosses slot boundaries
    /// itself (`closeThroughBoundary`). Gaps over several slots, holds ending before and exactly
    /// at a boundary, a signal without hold, one-signal groups, tiers that share boundaries and
    /// that do not: batched equals per-sample bit for bit.
    @Test(arguments: [11 as UInt64, 12, 13, 14, 15, 16, 17, 18])
    func plainStreamsWithoutEnergyBatchedEqualsPerSample(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let tierSets: [[TierDefinition]] = [
            [TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 86_400_000),
             TierDefinition(name: "1h", slotMS: 3_600_000, retentionMS: 86_400_000)],
            [TierDefinition(name: "7s", slotMS: 7_000, retentionMS: 86_400_000),
             TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 86_400_000),
             TierDefinition(name: "13s", slotMS: 13_000, retentionMS: 86_400_000)],
        ]
        let tiers = tierSets[Int(seed % 2)]
        let names = Set(tiers.map(\.name))
        let width = seed % 3 == 0 ? 1 : 3
        let signals = (0..<width).map { i in
            SignalDefinition(
                name: "s\(i)", role: .other, heartbeatMS: i == 2 ? 0 : Int64([3000, 1000, 2500][i % 3]),
                tiers: i == 1 ? [tiers[0].name] : names)
        }
        let schema = SeriesSchema(groupID: "g", signals: signals, energy: EnergySources())
        // Even seeds: times on whole seconds, so rows fall exactly on slot boundaries too.
        var t: Int64 = 1_700_000_000_000 + (seed % 2 == 0 ? Int64.random(in: 0..<60, using: &rng) * 1000 : Int64.random(in: 0..<60_000, using: &rng))
        var times: [Int64] = []
        var values: [Double] = []
        var qualities: [PointQuality] = []
        for _ in 0..<6000 {
            let roll = Int.random(in: 0..<1000, using: &rng)
            t += roll < 4 ? Int64.random(in: 4000...400_000, using: &rng) : roll < 6 ? 0 : roll < 40 ? 1500 : 1000
            for _ in 0..<width {
                values.append(Int.random(in: 0..<50, using: &rng) == 0 ? -0.0 : Double.random(in: -5...5, using: &rng))
                qualities.append(Int.random(in: 0..<400, using: &rng) == 0 ? .timeout : .ok)
            }
            times.append(t)
        }
        let (expected, got) = perSampleAndBatchedSlots(
            schema: schema, tiers: tiers, times: times, values: values, qualities: qualities, maxBatch: 900,
            flushMS: t + 7_200_000, rng: &rng)
        #expect(got.count == expected.count && expected.count > 100)
        for (a, b) in zip(got, expected)
        where !sameSlot(a, b) || a.signals.map(\.mean.bitPattern) != b.signals.map(\.mean.bitPattern)
            || a.signals.map(\.min.bitPattern) != b.signals.map(\.min.bitPattern)
            || a.signals.map(\.max.bitPattern) != b.signals.map(\.max.bitPattern)
        {
            Issue.record("seed \(seed): batched \(a) differs from per-sample \(b)")
            break
        }
    }

    /// A group without signals (a profile with no numeric points) still closes its slots, one
    /// sample or many at a time.
    @Test func groupWithoutSignals() {
        let schema = SeriesSchema(groupID: "g", signals: [], energy: EnergySources())
        let tiers = [TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 86_400_000)]
        var single = SeriesConsolidator(schema: schema, tiers: tiers)
        var batched = SeriesConsolidator(schema: schema, tiers: tiers)
        var a: [ConsolidatedSlot] = []
        var b: [ConsolidatedSlot] = []
        for t in stride(from: Int64(60_000), to: 300_000, by: 7_000) {
            single.ingest(timestampMS: t, values: [], qualities: []) { a.append($0) }
        }
        let outcome = batched.ingest(
            timestampsMS: Array(stride(from: Int64(60_000), to: 300_000, by: 7_000)), values: [], qualities: []
        ) { b.append($0) }
        #expect(outcome.accepted == 35 && outcome.heldBack == 0)
        #expect(a.count == 3 && a == b)
    }

    @Test func emptyBatchDoesNothing() {
        let schema = SeriesSchema(
            groupID: "g", signals: [SignalDefinition(name: "v", role: .other, heartbeatMS: 3000, tiers: ["1m"])],
            energy: EnergySources())
        var consolidator = SeriesConsolidator(schema: schema, tiers: [TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 86_400_000)])
        let outcome = consolidator.ingest(timestampsMS: [], values: [], qualities: []) { (_: ConsolidatedSlot) in Issue.record("emitted") }
        #expect(outcome == BatchIngestOutcome())
        #expect(consolidator.openSlots(nowMS: 1_000_000).isEmpty)
    }
}
