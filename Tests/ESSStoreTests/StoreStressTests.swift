import ESSCore
import ESSTestSupport
import Foundation
import Logging
import Testing

@testable import ESSStore

#if canImport(Glibc)
    import Glibc
#endif

/// Store stress (issue 11): kill -9 at random moments, byte flips and truncation in every kind of
/// file, clocks that step back and forward. Each test prints what it did and what it found
/// (`stress:` lines) and fails on any checkpointed row lost, any duplicate, any value read as
/// valid that was not written, any damaged row not reported, or any intact row overwritten.
///
/// The unit suite runs a few rounds; `scripts/stress-store.sh` runs many (`ESSD_STRESS_KILLS`,
/// `ESSD_STRESS_DAMAGE`, `ESSD_STRESS_STEPS`; `ESSD_STRESS_SEED` replays a run).
@Suite struct StoreStressTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seed = environment["ESSD_STRESS_SEED"].flatMap(UInt64.init) ?? 0x57E5_5000_0011
    static let kills = environment["ESSD_STRESS_KILLS"].flatMap(Int.init) ?? 8
    static let damageTrials = environment["ESSD_STRESS_DAMAGE"].flatMap(Int.init) ?? 48
    static let clockSteps = environment["ESSD_STRESS_STEPS"].flatMap(Int.init) ?? 60

    // MARK: kill -9

    /// One store, killed `kills` times at random moments (while it replays, writes rows, closes
    /// slots or checkpoints), then a run that ends by itself. After every kill: every row up to the
    /// last checkpoint the child printed is there with its values, no sequence or timestamp is
    /// there twice, and every row read as valid is the stream's (the slots are checked too).
    @Test func killNineLosesNothingCheckpointedDuplicatesNothingInventsNothing() throws {
        var random = SeededRandom(state: Self.seed)
        let seed = random.next() % 1_000_000 + 1
        let scratch = try CrashScratch()
        var expected = ExpectedStream(seed: seed)
        var present = 0
        var killed = 0
        var lost = 0
        var duplicates = 0
        var invented = 0
        var damagedSeen = 0
        let checker = StoreCrashTests()
        for run in 0..<Self.kills {
            let every = StoreCrashTests.checkpointChoices[Int(random.next() % UInt64(StoreCrashTests.checkpointChoices.count))]
            // Mostly early (replay, first rows, first checkpoints), sometimes late.
            let delayUS = random.next() % 4 == 0 ? Int(random.next() % 400_000) : Int(random.next() % 60_000)
            let context = "kill \(run): seed \(seed), checkpoint every \(every), \(delayUS) µs after ready"
            let outcome = try CrashChild(
                arguments: ["--dir", scratch.store, "--seed", "\(seed)", "--checkpoint-every", "\(every)"],
                stderrPath: scratch.stderr
            ).killAfter(delayUS: delayUS)
            if !outcome.finished { killed += 1 }
            #expect(outcome.start == present, "resumes after the newest intact row; \(context)")
            let durable = max(present, outcome.checkpointSequence)
            let counts = try rawCounts(scratch.store, seed: seed, durable: durable)
            lost += counts.lost
            duplicates += counts.duplicates
            invented += counts.invented
            damagedSeen += counts.damaged
            present = try checker.checkStore(
                scratch.store, &expected, from: CrashStream.replayStart(before: outcome.start), durable: durable,
                context: context + "\nstderr: \(outcome.stderr)")
        }
        let final = try CrashChild(
            arguments: [
                "--dir", scratch.store, "--seed", "\(seed)", "--checkpoint-every", "100", "--max-samples", "\(present + 200)",
            ],
            stderrPath: scratch.stderr
        ).killAfter(delayUS: 20_000_000)
        #expect(final.finished && final.start == present)
        let last = try rawCounts(scratch.store, seed: seed, durable: present + 200)
        let damaged = try StoreReader(directory: scratch.store).verify()
        print(
            "stress: kill -9: \(killed) kills of one store (seed \(seed)), \(present + 200) rows at the end; "
                + "checkpointed rows lost \(lost + last.lost), duplicates \(duplicates + last.duplicates), "
                + "invented \(invented + last.invented), torn rows seen after kills \(damagedSeen), "
                + "damaged after the final run \(damaged.count)")
        #expect(killed == Self.kills, "every run was killed before it finished")
        #expect(lost + last.lost == 0 && duplicates + last.duplicates == 0 && invented + last.invented == 0)
        #expect(damaged.isEmpty, "\(damaged)")
    }

    /// Raw rows of the crash stream's group: checkpointed ones missing, sequences or timestamps
    /// present twice, rows read as valid that are not the stream's, rows reported damaged.
    func rawCounts(_ directory: String, seed: UInt64, durable: Int) throws -> (
        lost: Int, duplicates: Int, invented: Int, damaged: Int
    ) {
        let raw = try StoreReader(directory: directory).raw(group: CrashStream.groupID, fromMS: .min, toMS: .max)
        let sequences = raw.rows.map { Int($0.sequence) }
        let times = raw.rows.map(\.timestampMS)
        let duplicates = (sequences.count - Set(sequences).count) + (times.count - Set(times).count)
        let invented = raw.rows.filter { !rowIsStream($0, seed: seed) }.count
        let seen = Set(sequences)
        let lost = durable == 0 ? 0 : (1...durable).filter { !seen.contains($0) }.count
        return (lost, duplicates, invented, raw.damaged.count)
    }

    // MARK: damage

    /// What one trial damages.
    enum Damage: String, CaseIterable, CustomStringConvertible {
        case rawRow = "raw row", rawHint = "raw head hint", tierHeader = "tier header", slotRow = "slot row"
        case catalog = "catalog.json", checkpoint = "checkpoint", events = "events.jsonl", truncation = "truncation"
        var description: String { rawValue }
    }

    /// Tally of one kind of damage.
    struct Tally {
        var trials = 0
        var refused = 0
        var refusedUnclear: [String] = []
        var damagedRows = 0
        var damagedReported = 0
        var wrongReadAsValid = 0
        var intactNotRead = 0
        var overwritten = 0
        var writerRefused = 0
    }

    /// A small wrapped store (bess1: 1,903 rows in a 600-row ring, site: 381 in 120; the 1m and 15m slots;
    /// a stop event) is damaged in one place per trial: one byte of a raw row, a raw region's head
    /// hint, a tier header, a slot row, the catalog, the checkpoint or the event log is XORed with
    /// a random non-zero mask, or a file is cut short. Then a reader must read every intact row and
    /// slot exactly as written and nothing else as valid, report every damaged row, or refuse the
    /// store with an error naming the file; a writer that opens it and writes 20 rows must
    /// overwrite only the oldest rows of the ring.
    @Test func damagedFilesAreReportedNeverReadAsValidAndOverwriteNothing() throws {
        let pristine = StoreFixture()
        try fill(pristine)
        let plan = try pristine.plan()
        let truth = try Snapshot(pristine.reader(), plan: plan)
        #expect(truth.raw["bess1"]?.count == 600 && truth.raw["site"]?.count == 120, "the ring has wrapped")
        let files = try FileManager.default.contentsOfDirectory(atPath: pristine.directory).filter {
            $0 != "writer.lock"
        }.sorted()
        #expect(files.contains("events.jsonl") && files.contains("checkpoint"), "\(files)")

        var random = SeededRandom(state: Self.seed ^ 0xDA_3A6E)
        var tallies: [Damage: Tally] = [:]
        for trial in 0..<Self.damageTrials {
            let damage = Damage.allCases[trial % Damage.allCases.count]
            let copy = StoreFixture()
            try FileManager.default.createDirectory(atPath: copy.directory, withIntermediateDirectories: true)
            for name in files {
                try FileManager.default.copyItem(atPath: pristine.path(name), toPath: copy.path(name))
            }
            var tally = tallies[damage] ?? Tally()
            tally.trials += 1
            let done = try apply(damage, to: copy, plan: plan, truth: truth, files: files, random: &random)
            let context = "trial \(trial): \(damage): \(done.what)"
            tally.damagedRows += done.rows.count
            check(copy, plan: plan, truth: truth, damaged: done, tally: &tally, context: context)
            tallies[damage] = tally
        }
        var totals = Tally()
        for damage in Damage.allCases {
            guard let t = tallies[damage] else { continue }
            print(
                "stress: damage: \(damage): \(t.trials) trials, refused with an error naming the file \(t.refused), "
                    + "damaged rows reported \(t.damagedReported)/\(t.damagedRows), read as valid but wrong \(t.wrongReadAsValid), "
                    + "intact rows not read \(t.intactNotRead), rows overwritten \(t.overwritten), writer refused \(t.writerRefused)"
            )
            totals.wrongReadAsValid += t.wrongReadAsValid
            totals.overwritten += t.overwritten
            totals.intactNotRead += t.intactNotRead
            totals.damagedRows += t.damagedRows
            totals.damagedReported += t.damagedReported
            totals.refusedUnclear += t.refusedUnclear
        }
        #expect(totals.wrongReadAsValid == 0 && totals.overwritten == 0 && totals.intactNotRead == 0)
        #expect(totals.damagedReported == totals.damagedRows)
        #expect(totals.refusedUnclear.isEmpty, "refusals that do not name the file: \(totals.refusedUnclear.prefix(5))")
    }

    /// The pristine store's day (it starts 37 s after midnight UTC).
    static let day0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000

    func values(_ i: Int) -> [Double] { [50 + Double(i % 50) * 0.5, Double(i % 200) - 100, 25 + Double(i % 7)] }

    /// Writes the pristine store: rows, the slots their consolidation closes, a checkpoint,
    /// three more rows, and a stop.
    func fill(_ fixture: StoreFixture) throws {
        let t0 = Self.day0 + 37_000
        let writer = try fixture.writer(nowMS: t0)
        var consolidators = fixture.schemas.map { SeriesConsolidator(schema: $0, tiers: fixture.tiers) }
        var closed: [ConsolidatedSlot] = []
        for i in 0..<1903 {
            let time = t0 + Int64(i) * 1000
            let v = values(i)
            try writer.appendRaw(group: "bess1", timestampMS: time, values: v, qualities: [.ok, .ok, .ok])
            _ = consolidators[0].ingest(timestampMS: time, values: v, qualities: [.ok, .ok, .ok]) { closed.append($0) }
            if i % 5 == 0 {
                let site = [v[1] * 2]
                try writer.appendRaw(group: "site", timestampMS: time, values: site, qualities: [.ok])
                _ = consolidators[1].ingest(timestampMS: time, values: site, qualities: [.ok]) { closed.append($0) }
            }
            for slot in closed { try writer.write(slot) }
            closed.removeAll()
            if i == 1899 { try writer.checkpoint(nowMS: time) }
        }
        try writer.stop(atMS: t0 + 1_903_000)
    }

    /// What a reader of the undamaged store returns.
    struct Snapshot {
        /// By group: rows by sequence.
        var raw: [String: [UInt64: RawRow]] = [:]
        /// By tier and group: slots by start.
        var slots: [String: [String: [Int64: ConsolidatedSlot]]] = [:]

        init(_ reader: StoreReader, plan: StorePlan) throws {
            for group in ["bess1", "site"] {
                let range = try reader.raw(group: group, fromMS: .min, toMS: .max)
                #expect(range.damaged.isEmpty)
                raw[group] = Dictionary(uniqueKeysWithValues: range.rows.map { ($0.sequence, $0) })
                for file in plan.files where file.tier.slotMS > 0 {
                    for entry in try reader.slots(tier: file.tier.name, group: group, fromMS: StoreStressTests.day0 - 86_400_000, toMS: StoreStressTests.day0 + 2 * 86_400_000) {
                        if case .stored(let slot) = entry { slots[file.tier.name, default: [:]][group, default: [:]][slot.startMS] = slot }
                    }
                }
            }
        }
    }

    /// What a trial damaged: a description, and the rows (file name and row offset) whose bytes changed.
    struct Done {
        var what: String
        var file: String
        var rows: Set<Row> = []
        struct Row: Hashable { var file: String; var offset: Int }
    }

    func apply(
        _ damage: Damage, to copy: StoreFixture, plan: StorePlan, truth: Snapshot, files: [String],
        random: inout SeededRandom
    ) throws -> Done {
        let mask = UInt8.random(in: 1...255, using: &random)
        switch damage {
        case .rawRow, .rawHint:
            let raw = try #require(plan.file(named: "raw"))
            let g = Int.random(in: 0..<raw.groups.count, using: &random)
            let group = raw.groups[g]
            if damage == .rawHint {
                let byte = Int.random(in: 0..<Layout.rawHeadBytes, using: &random)
                try flipByte(path: copy.path("raw.tier"), offset: group.offset + byte, mask: mask)
                return Done(what: "\(group.groupID) head byte \(byte) ^ \(mask)", file: "raw.tier")
            }
            let sequences = try #require(truth.raw[group.groupID]).keys.sorted()
            let sequence = sequences[Int.random(in: 0..<sequences.count, using: &random)]
            let position = Int(sequence % UInt64(group.capacity))
            let row = group.offset + Layout.rawHeadBytes + position * group.bytes
            let byte = Int.random(in: 0..<group.bytes, using: &random)
            try flipByte(path: copy.path("raw.tier"), offset: row + byte, mask: mask)
            return Done(
                what: "\(group.groupID) row \(sequence) byte \(byte) ^ \(mask)", file: "raw.tier",
                rows: [Done.Row(file: "raw.tier", offset: row)])
        case .tierHeader:
            let file = plan.files[Int.random(in: 0..<plan.files.count, using: &random)]
            let byte = Int.random(in: 0..<file.headerBytes, using: &random)
            try flipByte(path: copy.path(file.fileName), offset: byte, mask: mask)
            return Done(what: "\(file.fileName) header byte \(byte) ^ \(mask)", file: file.fileName)
        case .slotRow:
            let tiers = plan.files.filter { $0.tier.slotMS > 0 && !(truth.slots[$0.tier.name] ?? [:]).isEmpty }
            let file = tiers[Int.random(in: 0..<tiers.count, using: &random)]
            let stored = (truth.slots[file.tier.name] ?? [:]).flatMap { group, slots in slots.keys.map { (group, $0) } }
                .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            let (group, start) = stored[Int.random(in: 0..<stored.count, using: &random)]
            let row = file.rowOffset(slotNumber: UInt32(start / file.tier.slotMS))
            let byte = Int.random(in: 0..<file.rowBytes, using: &random)
            try flipByte(path: copy.path(file.fileName), offset: row + byte, mask: mask)
            return Done(
                what: "\(file.fileName) \(group) slot \(start) byte \(byte) ^ \(mask)", file: file.fileName,
                rows: [Done.Row(file: file.fileName, offset: row)])
        case .catalog, .checkpoint, .events:
            let name = damage.rawValue
            let size = Int(try fileSize(copy.path(name)))
            let byte = Int.random(in: 0..<size, using: &random)
            try flipByte(path: copy.path(name), offset: byte, mask: mask)
            return Done(what: "byte \(byte) of \(size) ^ \(mask)", file: name)
        case .truncation:
            let name = files[Int.random(in: 0..<files.count, using: &random)]
            let size = try fileSize(copy.path(name))
            let length = Int64.random(in: 0..<size, using: &random)
            #expect(truncate(copy.path(name), off_t(length)) == 0)
            return Done(what: "\(name) cut from \(size) to \(length) bytes", file: name)
        }
    }

    /// Reads the damaged copy and writes to it; tallies what a reader and a writer did.
    func check(_ copy: StoreFixture, plan: StorePlan, truth: Snapshot, damaged: Done, tally: inout Tally, context: String) {
        let reader: StoreReader
        do {
            reader = try copy.reader()
        } catch {
            tally.refused += 1
            if !"\(error)".contains(damaged.file) { tally.refusedUnclear.append("\(context): \(error)") }
            // A refused store refuses the writer too, and nothing changes.
            if (try? copy.writer(nowMS: 1_700_000_000_000)) != nil {
                Issue.record("the reader refused the store, the writer opened it; \(context)")
            }
            return
        }
        var reported = Set<Done.Row>(reader.verify().map { Done.Row(file: fileName($0.path), offset: $0.offset) })
        for group in ["bess1", "site"] {
            guard let range = try? reader.raw(group: group, fromMS: .min, toMS: .max) else {
                Issue.record("raw read of \(group) failed; \(context)")
                continue
            }
            for row in range.damaged { reported.insert(Done.Row(file: fileName(row.path), offset: row.offset)) }
            let read = Set(range.rows.map(\.sequence))
            for row in range.rows where truth.raw[group]?[row.sequence] != row {
                tally.wrongReadAsValid += 1
                Issue.record("\(group) row \(row.sequence) read as valid: \(row); \(context)")
            }
            let notRead = (truth.raw[group] ?? [:]).keys.filter { !read.contains($0) }
            // Only a damaged row may be missing.
            let raw = plan.file(named: "raw")!
            let region = raw.groups.first { $0.groupID == group }!
            for sequence in notRead {
                let offset = region.offset + Layout.rawHeadBytes + Int(sequence % UInt64(region.capacity)) * region.bytes
                if !damaged.rows.contains(Done.Row(file: "raw.tier", offset: offset)) {
                    tally.intactNotRead += 1
                    Issue.record("intact \(group) row \(sequence) not read; \(context)")
                }
            }
            for file in plan.files where file.tier.slotMS > 0 {
                guard let entries = try? reader.slots(tier: file.tier.name, group: group, fromMS: Self.day0 - 86_400_000, toMS: Self.day0 + 2 * 86_400_000) else {
                    Issue.record("\(file.tier.name) read of \(group) failed; \(context)")
                    continue
                }
                for entry in entries {
                    let row = Done.Row(file: file.fileName, offset: file.rowOffset(slotNumber: UInt32(entry.startMS / file.tier.slotMS)))
                    let want = truth.slots[file.tier.name]?[group]?[entry.startMS]
                    switch entry {
                    case .stored(let slot) where !Self.same(slot, want):
                        tally.wrongReadAsValid += 1
                        Issue.record("\(file.tier.name) \(group) slot \(entry.startMS) read as valid: \(slot), written \(String(describing: want)); \(context)")
                    case .damaged(_, let damagedRow):
                        reported.insert(Done.Row(file: fileName(damagedRow.path), offset: damagedRow.offset))
                    case .missing where want != nil && !damaged.rows.contains(row):
                        tally.intactNotRead += 1
                        Issue.record("intact \(file.tier.name) \(group) slot \(entry.startMS) read as missing; \(context)")
                    default: break
                    }
                }
            }
        }
        tally.damagedReported += damaged.rows.filter { reported.contains($0) }.count
        for row in damaged.rows where !reported.contains(row) {
            Issue.record("damaged row \(row) not reported; \(context)")
        }

        // A writer opens the store (or refuses it, naming the file) and writes 20 rows after the newest intact one.
        let writer: StoreWriter
        do {
            writer = try copy.writer(nowMS: 1_700_000_000_000)
        } catch {
            tally.writerRefused += 1
            if !"\(error)".contains(damaged.file) { tally.refusedUnclear.append("writer, \(context): \(error)") }
            return
        }
        do {
            let newest = try #require(try copy.reader().latest(group: "bess1"))
            for k in 1...20 {
                let result = try writer.appendRaw(
                    group: "bess1", timestampMS: newest.timestampMS + Int64(k) * 1000, values: [1, 2, 3],
                    qualities: [.ok, .ok, .ok])
                #expect(result == .written(sequence: newest.sequence + UInt64(k)), "\(context)")
            }
            try writer.checkpoint(nowMS: newest.timestampMS + 21_000)
            let after = try copy.reader().raw(group: "bess1", fromMS: .min, toMS: .max)
            let capacity = UInt64(plan.file(named: "raw")!.groups[0].capacity)
            let oldestKept = newest.sequence + 20 - capacity + 1
            let kept = Dictionary(uniqueKeysWithValues: after.rows.map { ($0.sequence, $0) })
            for (sequence, row) in truth.raw["bess1"] ?? [:] where sequence >= oldestKept && sequence <= newest.sequence {
                guard kept[sequence] != row else { continue }
                let region = plan.file(named: "raw")!.groups[0]
                let offset = region.offset + Layout.rawHeadBytes + Int(sequence % capacity) * region.bytes
                if damaged.rows.contains(Done.Row(file: "raw.tier", offset: offset)) { continue }
                tally.overwritten += 1
                Issue.record("row \(sequence) changed after 20 new rows: \(String(describing: kept[sequence])); \(context)")
            }
            for k in 1...20 where kept[newest.sequence + UInt64(k)]?.values != [1, 2, 3] {
                Issue.record("new row \(newest.sequence + UInt64(k)) not read back; \(context)")
            }
        } catch {
            Issue.record("writing to the opened store failed: \(error); \(context)")
        }
    }

    /// Equal field by field, NaN (unknown) equal to NaN: the slot read is the one written.
    static func same(_ a: ConsolidatedSlot, _ b: ConsolidatedSlot?) -> Bool { b.map { "\(a)" == "\($0)" } ?? false }

    func fileName(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }

    // MARK: clocks

    /// A writer fed by a clock that steps back and forward (by 1 ms to 2 h, some within one poll
    /// interval) and is set right 20 rows later: a row stamped at or before the newest one is refused with the newest time,
    /// never stored and never overwriting; every accepted row is read back in strictly increasing
    /// time with its own values, across restarts of the writer in between.
    @Test func clockStepsNeverOverwriteOrReorderRows() throws {
        let fixture = StoreFixture()
        var random = SeededRandom(state: Self.seed ^ 0xC10C)
        var writer: StoreWriter? = try fixture.writer()
        var clock: Int64 = 1_700_000_000_000
        var accepted: [(sequence: UInt64, time: Int64, value: Double)] = []
        var refused = 0
        var steps = 0
        var newest: Int64 = .min
        var offset: Int64 = 0
        for i in 0..<(Self.clockSteps * 20) {
            clock += 1000
            if i % 20 == 19 {
                // An excursion (a step either way) or its correction, as a wrong clock is set right.
                steps += 1
                if offset != 0 {
                    clock -= offset
                    offset = 0
                } else {
                    let magnitudes: [Int64] = [1, 400, 999, 1000, 25_000, 600_000, 7_200_000]
                    let step = magnitudes[Int(random.next() % UInt64(magnitudes.count))]
                    offset = random.next() % 2 == 0 ? step : -step
                    clock += offset
                }
            }
            if i % 97 == 96 {  // a restart
                writer = nil
                writer = try fixture.writer(nowMS: clock)
            }
            let value = Double(i)
            let result = try #require(writer).appendRaw(
                group: "bess1", timestampMS: clock, values: [value, value, value], qualities: [.ok, .ok, .ok])
            switch result {
            case .written(let sequence):
                #expect(clock > newest, "row \(i) at \(clock) accepted at or before the newest \(newest)")
                accepted.append((sequence, clock, value))
                newest = clock
            case .refusedClockStepBack(let last):
                #expect(clock <= newest && last == newest, "row \(i) at \(clock) refused, newest \(newest), said \(last)")
                refused += 1
            }
        }
        try #require(writer).checkpoint(nowMS: clock)
        let rows = try fixture.reader().raw(group: "bess1", fromMS: .min, toMS: .max)
        let capacity = try #require(try fixture.plan().file(named: "raw")).groups[0].capacity
        let expected = accepted.suffix(capacity).filter { $0.time >= rows.rows.first?.timestampMS ?? .min }
        let times = rows.rows.map(\.timestampMS)
        let increasing = zip(times, times.dropFirst()).allSatisfy { $0 < $1 }
        let matches = rows.rows.count == expected.count
            && zip(rows.rows, expected).allSatisfy { $0.sequence == $1.sequence && $0.timestampMS == $1.time && $0.values == [$1.value, $1.value, $1.value] }
        print(
            "stress: clocks: \(steps) steps (±1 ms to ±2 h) in \(Self.clockSteps * 20) appends with a restart every 97; "
                + "accepted \(accepted.count), refused as before the newest \(refused), read back \(rows.rows.count) "
                + "(ring \(capacity)), in strictly increasing time \(increasing), each the one written \(matches), damaged \(rows.damaged.count)"
        )
        #expect(increasing && matches && rows.damaged.isEmpty)
        #expect(refused > 0 && steps > 0)
    }
}
