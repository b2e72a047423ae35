import ESSCore
import Testing

@testable import ESSStore

@Suite struct StoreAggregateTests {
    let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000

    @Test func aggregateUsesCoarseTiersInsideAndFineAtTheEdges() throws {
        let fixture = StoreFixture()
        fixture.tiers[1].retentionMS = 86_400_000  // 1 day of 1m slots
        let writer = try fixture.writer()
        let schema = fixture.schemas[0]
        var fine: [SlotSummary] = []
        var energy = 0.0
        for minute in 0..<180 {
            let slot = makeSlot(
                schema, tier: "1m", startMS: t0 + Int64(minute) * 60_000, slotMS: 60_000, base: Double(minute % 17))
            try writer.write(slot)
            fine.append(slot.signals[0])
            energy += slot.energy!.integratedChargeKWh
        }
        // 15m slots that are the exact consolidation of their 1m slots (for soc).
        for quarter in 0..<12 {
            let part = fine[(quarter * 15)..<(quarter * 15 + 15)]
            let covered = part.reduce(0) { $0 + $1.coveredMS }
            var slot = makeSlot(schema, tier: "15m", startMS: t0 + Int64(quarter) * 900_000, slotMS: 900_000, base: 0)
            slot.signals[0] = SlotSummary(
                count: part.reduce(0) { $0 + $1.count }, coveredMS: covered, min: part.map(\.min).min()!,
                max: part.map(\.max).max()!,
                mean: part.reduce(0) { $0 + $1.mean * Double($1.coveredMS) } / Double(covered),
                first: part.first!.first, last: part.last!.last)
            slot.energy!.integratedChargeKWh = part.indices.reduce(0) { $0 + Double($1 % 17) / 10 }
            try writer.write(slot)
        }
        let reader = try fixture.reader()
        let from = t0 + 7 * 60_000
        let to = t0 + 173 * 60_000
        let result = try reader.aggregate(group: "bess1", signal: "soc", fromMS: from, toMS: to)
        let naive = fine[7..<173]
        let covered = naive.reduce(0) { $0 + $1.coveredMS }
        #expect(result.count == naive.reduce(0) { $0 + $1.count })
        // Coverage is stored in 1/4095ths of each slot (format 2): ± slotMS / 8190 per slot read.
        let coverageBound: Int64 = 16 * (60_000 / 8190 + 1) + 10 * (900_000 / 8190 + 1)
        #expect(abs(result.coveredMS - covered) <= coverageBound)
        #expect(abs(result.min - naive.map(\.min).min()!) < 0.01)
        #expect(abs(result.max - naive.map(\.max).max()!) < 0.01)
        #expect(abs(result.mean - naive.reduce(0) { $0 + $1.mean * Double($1.coveredMS) } / Double(covered)) < 1e-3)
        #expect(result.slotsRead == 8 + 10 + 8)  // 1m edges 00:07–00:15 and 02:45–02:53, 15m inside
        #expect(result.missingMS == 0 && result.fromMS == from && result.toMS == to)
        // The 1d tier holds nothing yet: it falls back to 15m and 1m.
        let whole = try reader.aggregate(group: "bess1", signal: "soc", fromMS: t0, toMS: t0 + 86_400_000)
        #expect(whole.count == fine.reduce(0) { $0 + $1.count })
        #expect(whole.missingMS == 86_400_000 - 180 * 60_000)
        let sum = try reader.energy(group: "bess1", fromMS: t0, toMS: t0 + 180 * 60_000)
        #expect(abs(sum.energy.integratedChargeKWh - energy) < 1e-3)
        #expect(abs(sum.energy.unaccountedMS - 12 * 1000) <= 100)
        #expect(sum.energy.counterChargeKWh.isNaN)
    }

    // MARK: lean path against the reference path

    /// A random store: slots of every tier (some skipped, some signals unknown, some counts
    /// saturated, the 1m ring lapped several times), then random bytes flipped in random rows.
    /// `aggregate` and `energy` must give exactly what the reference path gives (the full
    /// `ConsolidatedSlot` decode), with the same damaged rows in the same order.
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func leanPathMatchesTheReferencePath(seed: UInt64) throws {
        let fixture = StoreFixture()
        var random = SeededRandom(state: seed)
        let day: Int64 = 86_400_000
        func randomSlot(_ schema: SeriesSchema, tier: String, startMS: Int64, slotMS: Int64) -> ConsolidatedSlot {
            var slot = makeSlot(
                schema, tier: tier, startMS: startMS, slotMS: slotMS,
                base: Double.random(in: -500...500, using: &random))
            for index in slot.signals.indices where !slot.signals[index].isUnknown {
                switch Int.random(in: 0..<10, using: &random) {
                case 0: slot.signals[index] = .unknown
                case 1: slot.signals[index].count = Int.random(in: 65535...100_000, using: &random)
                case 2: slot.signals[index].coveredMS = Int64.random(in: 1...slotMS, using: &random)
                default: break
                }
            }
            if var energy = slot.energy {
                if Bool.random(using: &random) { energy.counterChargeKWh = Double.random(in: 0...10, using: &random) }
                energy.counterResets = Int.random(in: 0...2, using: &random)
                energy.integratedMS = Int64.random(in: 0...slotMS, using: &random)
                slot.energy = energy
            }
            return slot
        }
        do {
            let writer = try fixture.writer()
            // (tier, slot length, first slot, slots): 1d over 5 days (ring of 3), 15m over 2 days
            // (ring of 96), 1m over 6 hours (ring of 60).
            let spans: [(String, Int64, Int64, Int64)] = [
                ("1d", day, t0 - 3 * day, 5), ("15m", 900_000, t0 - day, 192), ("1m", 60_000, t0 + 18 * 3_600_000, 360),
            ]
            for (tier, slotMS, first, count) in spans {
                for index in 0..<count where Int.random(in: 0..<5, using: &random) != 0 {
                    let start = first + index * slotMS
                    for schema in fixture.schemas where Int.random(in: 0..<6, using: &random) != 0 {
                        try writer.write(randomSlot(schema, tier: tier, startMS: start, slotMS: slotMS))
                    }
                }
            }
            try writer.checkpoint(nowMS: t0 + day)
        }
        let plan = try fixture.plan()
        for tier in ["1m", "15m", "1d"] {
            let file = try #require(plan.file(named: tier))
            let rows = file.capacity / file.slotsPerRow
            for _ in 0..<(rows / 8 + 1) {
                let row = Int.random(in: 0..<rows, using: &random)
                let byte = Int.random(in: 0..<file.rowBytes, using: &random)
                try flipByte(
                    path: fixture.path(file.fileName), offset: file.headerBytes + row * file.rowBytes + byte,
                    mask: UInt8.random(in: 1...255, using: &random))
            }
        }
        let lean = try fixture.reader()
        let copying = try fixture.reader()
        let reference = try fixture.reader()
        var ranges: [(Int64, Int64)] = [(t0 - 4 * day, t0 + 2 * day), (t0, t0 + day), (-120_000, 180_000)]
        for _ in 0..<60 {
            let from = t0 + Int64.random(in: -4 * day...(2 * day), using: &random)
            ranges.append((from, from + Int64.random(in: -60_000...(3 * day), using: &random)))
        }
        var seen = (valid: 0, missing: 0, damaged: 0)
        for (from, to) in ranges {
            for (group, signal) in [("bess1", "soc"), ("bess1", "p"), ("bess1", "temp"), ("site", "site_p")] {
                let expected = try reference.aggregateReference(group: group, signal: signal, fromMS: from, toMS: to)
                for (reader, inPlace) in [(lean, true), (copying, false)] {
                    let result = try reader.aggregate(
                        group: group, signal: signal, fromMS: from, toMS: to, inPlace: inPlace)
                    #expect(
                        same(result, expected),
                        "\(group)/\(signal) \(from)..<\(to) inPlace \(inPlace)")
                }
                if expected.count > 0 { seen.valid += 1 }
                if expected.missingMS > 0 { seen.missing += 1 }
                if !expected.damaged.isEmpty { seen.damaged += 1 }
            }
            let expected = try reference.energyReference(group: "bess1", fromMS: from, toMS: to)
            for (reader, inPlace) in [(lean, true), (copying, false)] {
                let result = try reader.energy(group: "bess1", fromMS: from, toMS: to, inPlace: inPlace)
                #expect(same(result, expected), "energy \(from)..<\(to) inPlace \(inPlace)")
            }
            #expect(throws: StoreError.self) { try lean.energy(group: "site", fromMS: from, toMS: to) }
        }
        #expect(lean.damagedRows == reference.damagedRows && copying.damagedRows == reference.damagedRows)
        // The random store exercised every case.
        #expect(seen.valid > 0 && seen.missing > 0 && seen.damaged > 0)
    }

    /// `RowCheck.checkInPlace` agrees with `RowCheck.copy` on intact, empty and damaged rows of
    /// any length, and keeps exactly the field's bytes.
    @Test func checkInPlaceAgreesWithCopy() {
        var random = SeededRandom(state: 42)
        CRC32C.flat.withUnsafeBufferPointer { table in
            for _ in 0..<2000 {
                // Format 2's 14-byte signals sit at any offset (the CPU's CRC keeps them in place).
                let fieldBytes = (CRC32C.usesHardware ? [8, 14, 16, 24] : [8, 16, 24]).randomElement(using: &random)!
                let fieldOffset =
                    CRC32C.usesHardware ? Int.random(in: 8...50, using: &random) : 8 * Int.random(in: 1...6, using: &random)
                let rowBytes = fieldOffset + fieldBytes + Int.random(in: 0...40, using: &random)
                var row = (0..<rowBytes).map { _ in UInt8.random(in: 0...255, using: &random) }
                row.withUnsafeMutableBytes { row in
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0:  // empty
                        for index in 0..<8 { row[index] = 0 }
                    case 1:  // damaged (random CRC)
                        break
                    default:  // intact
                        RowCheck.storeChecksum(row.baseAddress!, crcOffset: 4, bytes: rowBytes)
                    }
                }
                var copy = [UInt8](repeating: 0, count: rowBytes)
                var field = [UInt8](repeating: 0, count: RowCheck.maxFieldBytes)
                var key: UInt32 = 0
                let (expected, state) = row.withUnsafeBytes { row in
                    let expected = copy.withUnsafeMutableBytes {
                        RowCheck.copy(from: row.baseAddress!, into: $0, crcOffset: 4, retries: 0)
                    }
                    let state = field.withUnsafeMutableBytes {
                        RowCheck.checkInPlace(
                            row.baseAddress!, rowBytes: rowBytes, fieldOffset: fieldOffset, fieldBytes: fieldBytes,
                            into: $0.baseAddress!, key: &key, table: table.baseAddress!, retries: 0)
                    }
                    return (expected, state)
                }
                #expect(RowCheck.canCheckInPlace(fieldOffset: fieldOffset, fieldBytes: fieldBytes, rowBytes: rowBytes))
                #expect(state == expected)
                if state == .valid {
                    #expect(Array(field[0..<fieldBytes]) == Array(row[fieldOffset..<(fieldOffset + fieldBytes)]))
                    #expect(key == UInt32(littleEndian: row.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
                }
            }
        }
        #expect(RowCheck.canCheckInPlace(fieldOffset: 22, fieldBytes: 14, rowBytes: 64) == CRC32C.usesHardware)
        #expect(!RowCheck.canCheckInPlace(fieldOffset: 8, fieldBytes: 16, rowBytes: 20))
    }
}

/// Equal, NaN equal to NaN (bit for bit).
private func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

private func same(_ a: SignalAggregate, _ b: SignalAggregate) -> Bool {
    same(a.min, b.min) && same(a.max, b.max) && same(a.mean, b.mean) && a.coveredMS == b.coveredMS
        && a.count == b.count && a.countIsLowerBound == b.countIsLowerBound && a.fromMS == b.fromMS && a.toMS == b.toMS
        && a.missingMS == b.missingMS && a.slotsRead == b.slotsRead && a.damaged == b.damaged
}

private func same(_ a: EnergyAggregate, _ b: EnergyAggregate) -> Bool {
    let x = a.energy
    let y = b.energy
    return same(x.counterChargeKWh, y.counterChargeKWh) && same(x.counterDischargeKWh, y.counterDischargeKWh)
        && same(x.integratedChargeKWh, y.integratedChargeKWh)
        && same(x.integratedDischargeKWh, y.integratedDischargeKWh) && x.counterResets == y.counterResets
        && x.integratedMS == y.integratedMS && x.unaccountedMS == y.unaccountedMS && a.fromMS == b.fromMS
        && a.toMS == b.toMS && a.missingMS == b.missingMS && a.slotsRead == b.slotsRead && a.damaged == b.damaged
}
