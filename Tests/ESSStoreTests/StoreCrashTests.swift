import ESSCore
import ESSTestSupport
import ESSStore
import Foundation
import Logging
import Testing

/// Crash tests: `ess-store-crashtest` writes `CrashStream` into a store and is killed with
/// SIGKILL at seeded random moments. After each kill a `StoreReader` must find every row and slot
/// up to the last checkpoint the child printed intact and correct, and every later one either
/// correct or missing/damaged, never a wrong value presented as valid; then `StoreWriter` must
/// resume after the newest row. `ESSD_CRASH_SEED` replays a failing run.
@Suite struct StoreCrashTests {
    static let masterSeed: UInt64 =
        ProcessInfo.processInfo.environment["ESSD_CRASH_SEED"].flatMap(UInt64.init)
        ?? 0x5EED_C4A5_0001
    static let checkpointChoices = [1, 7, 100, 1000, 5000]
    /// Kills land up to this long after the child's `ready` line.
    static let maxDelayUS: UInt64 = 150_000
    let logger = Logger(label: "crash-test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func killedAtRandomPointsLosesNothingCheckpointed() throws {
        var random = SeededRandom(state: Self.masterSeed)
        var kills = 0
        for run in 0..<25 {
            let seed = random.next() % 1_000_000 + 1
            let every = Self.checkpointChoices[Int(random.next() % UInt64(Self.checkpointChoices.count))]
            let delayUS = Int(random.next() % Self.maxDelayUS)
            let context = "run \(run): seed \(seed), checkpoint every \(every), kill \(delayUS) µs after ready"
            let scratch = try CrashScratch()
            let outcome = try CrashChild(
                arguments: ["--dir", scratch.store, "--seed", "\(seed)", "--checkpoint-every", "\(every)"],
                stderrPath: scratch.stderr
            ).killAfter(delayUS: delayUS)
            #expect(outcome.fingerprint == CrashStream.fingerprint(seed: seed), "the two CrashStream copies differ")
            #expect(outcome.start == 0, "\(context)")
            if !outcome.finished { kills += 1 }
            var expected = ExpectedStream(seed: seed)
            let latest = try checkStore(
                scratch.store, &expected, from: 0, durable: outcome.checkpointSequence,
                context: context + "\nstderr: \(outcome.stderr)")

            // The writer reopens the store and appends after the newest row.
            let writer = try StoreWriter(
                directory: scratch.store, siteID: CrashStream.siteID, schemas: [CrashStream.schema],
                tiers: CrashStream.tiers, pollIntervalsMS: CrashStream.pollIntervalsMS, nowMS: CrashStream.t0MS,
                logger: logger)
            #expect((writer.lastCheckpoint ?? .min) >= (outcome.checkpointMS ?? .min), "\(context)")
            let sample = CrashStream.sample(seed, latest)
            let appended = try writer.appendRaw(
                group: CrashStream.groupID, timestampMS: CrashStream.timestampMS(latest), values: sample.values,
                qualities: sample.qualities)
            #expect(appended == .written(sequence: UInt64(latest + 1)), "\(context)")
            try writer.checkpoint(nowMS: CrashStream.timestampMS(latest))
            let newest = try StoreReader(directory: scratch.store).latest(group: CrashStream.groupID)
            #expect(newest.map { rowIsStream($0, seed: seed) } == true, "\(context)")
            #expect(newest?.sequence == UInt64(latest + 1), "\(context)")
        }
        #expect(kills >= 25)
    }

    @Test func repeatedKillsOfOneStoreResumeWhereTheyStopped() throws {
        var random = SeededRandom(state: Self.masterSeed ^ 0xABCD)
        let seed = random.next() % 1_000_000 + 1
        let scratch = try CrashScratch()
        var expected = ExpectedStream(seed: seed)
        var present = 0  // raw rows 1...present were intact after the previous kill
        var checkpoints = 0
        for run in 0..<25 {
            let every = Self.checkpointChoices[Int(random.next() % UInt64(Self.checkpointChoices.count))]
            let delayUS = Int(random.next() % Self.maxDelayUS)
            let context = "run \(run): seed \(seed), checkpoint every \(every), kill \(delayUS) µs after ready"
            let outcome = try CrashChild(
                arguments: ["--dir", scratch.store, "--seed", "\(seed)", "--checkpoint-every", "\(every)"],
                stderrPath: scratch.stderr
            ).killAfter(delayUS: delayUS)
            #expect(outcome.start == present, "the writer resumes after the newest intact row; \(context)")
            checkpoints += outcome.checkpoints
            // Rows present before this run must stay; rows checkpointed in it must be there.
            present = try checkStore(
                scratch.store, &expected, from: CrashStream.replayStart(before: outcome.start),
                durable: max(present, outcome.checkpointSequence), context: context + "\nstderr: \(outcome.stderr)")
        }
        #expect(checkpoints > 0)
        // A last run that ends by itself: every row torn by a kill has been written again.
        let final = try CrashChild(
            arguments: [
                "--dir", scratch.store, "--seed", "\(seed)", "--checkpoint-every", "100", "--max-samples",
                "\(present + 300)",
            ],
            stderrPath: scratch.stderr
        ).killAfter(delayUS: 20_000_000)
        #expect(final.finished && final.start == present)
        _ = try checkStore(scratch.store, &expected, from: 0, durable: present + 300, context: "final run")
        let damaged = try StoreReader(directory: scratch.store).verify()
        #expect(damaged.isEmpty, "\(damaged)")
    }

    /// Checks the store from sample `from` on: raw rows and 1m/1h slots. Everything up to raw row
    /// `durable` (and every slot closed by those samples) must be stored and equal the stream;
    /// anything stored later must equal it too; the rest may only be missing or damaged.
    /// Returns the newest intact raw sequence.
    func checkStore(
        _ directory: String, _ expected: inout ExpectedStream, from: Int, durable: Int, context: String
    ) throws -> Int {
        let reader = try StoreReader(directory: directory)
        let latest = Int(try reader.latest(group: CrashStream.groupID)?.sequence ?? 0)
        #expect(latest >= durable, "newest row \(latest) is before the checkpoint \(durable); \(context)")
        let raw = try reader.raw(group: CrashStream.groupID, fromMS: CrashStream.timestampMS(from), toMS: .max)
        for row in raw.damaged {
            #expect(row.expected > Int64(durable), "checkpointed raw row damaged: \(row); \(context)")
        }
        var seen = Set<Int>()
        var wrong: [UInt64] = []
        for row in raw.rows {
            if !rowIsStream(row, seed: expected.seed) { wrong.append(row.sequence) }
            seen.insert(Int(row.sequence))
        }
        #expect(wrong.isEmpty, "raw rows with wrong values read as valid: \(wrong.prefix(10)); \(context)")
        let lost = ((from + 1)..<(durable + 1)).filter { !seen.contains($0) }
        #expect(lost.isEmpty, "checkpointed raw rows missing: \(lost.prefix(10)) of \(lost.count); \(context)")

        expected.feed(through: latest)
        for tier in CrashStream.tiers where !tier.isRaw {
            let fromMS = CrashStream.timestampMS(from) / tier.slotMS * tier.slotMS
            let stored = try reader.slots(
                tier: tier.name, group: CrashStream.groupID, fromMS: fromMS,
                toMS: CrashStream.timestampMS(latest) + tier.slotMS)
            for entry in stored {
                let want = expected.slots[tier.name]?[entry.startMS]
                switch entry {
                case .stored(let slot):
                    guard let want else {
                        Issue.record("\(tier.name) slot \(entry.startMS) stored but never written; \(context)")
                        continue
                    }
                    #expect(
                        slotMatches(slot, want.slot, slotMS: tier.slotMS),
                        "\(tier.name) slot \(entry.startMS) read as valid with wrong values:\n\(slot)\nexpected \(want.slot); \(context)"
                    )
                case .missing, .damaged:
                    if let want, want.closedBy < durable {
                        Issue.record("checkpointed \(tier.name) slot \(entry.startMS) is \(entry); \(context)")
                    }
                }
            }
        }
        return latest
    }
}

/// A temporary folder holding the store and the child's stderr; removed on release.
final class CrashScratch {
    let root: String
    var store: String { root + "/store" }
    var stderr: String { root + "/stderr.log" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("essd-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }
}

/// The slots of the uninterrupted stream, consolidated in the test process, extended on demand.
struct ExpectedStream {
    let seed: UInt64
    private var consolidator = SeriesConsolidator(schema: CrashStream.schema, tiers: CrashStream.tiers)
    private var fed = 0
    /// By tier, then slot start: the slot and the index of the sample that closed it.
    private(set) var slots: [String: [Int64: (slot: ConsolidatedSlot, closedBy: Int)]] = [:]

    init(seed: UInt64) { self.seed = seed }

    /// Consolidates samples up to and including `last`.
    mutating func feed(through last: Int) {
        while fed <= last {
            let sample = CrashStream.sample(seed, fed)
            var closed: [ConsolidatedSlot] = []
            consolidator.ingest(
                timestampMS: CrashStream.timestampMS(fed), values: sample.values, qualities: sample.qualities
            ) { closed.append($0) }
            for slot in closed { slots[slot.tier, default: [:]][slot.startMS] = (slot, fed) }
            fed += 1
        }
    }
}

/// True when a raw row holds exactly sample `sequence - 1` of the stream.
func rowIsStream(_ row: RawRow, seed: UInt64) -> Bool {
    let i = Int(row.sequence) - 1
    let sample = CrashStream.sample(seed, i)
    return row.timestampMS == CrashStream.timestampMS(i)
        && zip(row.values, sample.values).allSatisfy { $0.bitPattern == $1.bitPattern }
        && row.qualities == sample.qualities.map(Optional.some)
}

/// True when a stored slot equals the expected one within the format's precision.
func slotMatches(_ stored: ConsolidatedSlot, _ want: ConsolidatedSlot, slotMS: Int64) -> Bool {
    guard stored.signals.count == want.signals.count,
        zip(stored.signals, want.signals).allSatisfy({ isClose($1, $0, slotMS: slotMS) })
    else { return false }
    guard let a = stored.energy, let b = want.energy else { return stored.energy == nil && want.energy == nil }
    func same(_ x: Double, _ y: Double) -> Bool {
        (x.isNaN && y.isNaN) || abs(x - y) <= abs(y) * 1e-6 + 1e-9
    }
    let tick = slotMS / 65_535 + 1
    return same(a.integratedChargeKWh, b.integratedChargeKWh)
        && same(a.integratedDischargeKWh, b.integratedDischargeKWh)
        && same(a.counterChargeKWh, b.counterChargeKWh) && same(a.counterDischargeKWh, b.counterDischargeKWh)
        && a.counterResets == b.counterResets && abs(a.integratedMS - b.integratedMS) <= tick
        && abs(a.unaccountedMS - b.unaccountedMS) <= tick
}
