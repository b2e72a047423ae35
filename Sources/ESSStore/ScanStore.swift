public import ESSCore
import Foundation
public import Logging
import Synchronization

/// Stores every scan the poll engine produces: raw rows, consolidated tiers for each device
/// and for the site's derived signals, and a checkpoint every `checkpointIntervalMS`.
///
/// `accept` (called on polling threads) only copies the scan into a bounded queue; one store
/// thread owns the `StoreWriter`, the consolidators and the site aggregator, so no lock is
/// held while writing and no polling thread ever waits on the disk. On start it replays the
/// raw rows of the slots still open, so a restart (even after `kill -9`) resumes the open
/// slots instead of losing their first part. On stop it drains the queue, writes the open
/// slots as they are and checkpoints.
public final class ScanStore: ScanSink, Sendable {
    /// Counters for status queries and metrics.
    public struct Statistics: Sendable, Hashable {
        public var scansStored = 0
        /// Scans dropped because the queue was full (the disk could not keep up).
        public var scansDropped = 0
        /// Samples held back because the wall clock stepped behind the last stored time.
        public var clockStepHolds = 0
        public var slotsWritten = 0
        public var lastCheckpointMS: Int64?
        public var checkpointFailures = 0
        public var queueHighWater = 0
    }

    private struct Queue {
        var scans: [Scan] = []
        var stopping = false
        var stats = Statistics()
        var reconfigure: Reconfiguration?
    }

    private struct Reconfiguration: @unchecked Sendable {
        var site: SiteConfiguration
        var reply: (StoreError?) -> Void
    }

    public let directory: String
    public let checkpointIntervalMS: Int
    private let queue = Mutex(Queue())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let capacity: Int
    private let logger: Logger
    private let box: OwnedBox
    /// Wall-clock milliseconds (UTC): checkpoint and stop times, the replay window.
    private let clock: @Sendable () -> Int64

    /// Opens (or creates) the store for `site` in its state directory. Throws before anything
    /// is started when the files do not match the configuration. `clock` gives the wall-clock
    /// time in ms (tests pass their own; default: the system's).
    public init(
        site: SiteConfiguration, queueCapacity: Int = 100_000, logger: Logger, clock: (@Sendable () -> Int64)? = nil
    ) throws(StoreError) {
        directory = site.stateDirectory
        checkpointIntervalMS = site.store.checkpointIntervalMS
        capacity = queueCapacity
        self.logger = logger
        let clock = clock ?? PollClockForStore.wallMS
        self.clock = clock
        box = OwnedBox(state: try Self.open(site: site, logger: logger, clock: clock))
    }

    private static func open(site: SiteConfiguration, logger: Logger, clock: @escaping @Sendable () -> Int64)
        throws(StoreError) -> OwnedState
    {
        let schemas = site.seriesSchemas
        let writer = try StoreWriter(
            directory: site.stateDirectory, siteID: site.site.id, schemas: schemas, tiers: site.store.tiers,
            pollIntervalsMS: site.seriesPollIntervalsMS, rawBudgetBytes: site.store.rawBudgetBytes,
            nowMS: clock(), logger: logger)
        let owned = OwnedState(writer: writer, site: site, schemas: schemas, logger: logger, clock: clock)
        try owned.replayOpenSlots(directory: site.stateDirectory)
        return owned
    }

    /// Applies a new configuration (SIGHUP): the open slots are written, the files migrated to
    /// the new schema (added devices or points; history kept) and the open slots rebuilt from
    /// the raw tier. On error the store keeps running on the old configuration. Blocks until
    /// the store thread has done it (or at once when the thread is not running).
    public func reconfigure(site: SiteConfiguration) throws(StoreError) {
        guard site.stateDirectory == directory else {
            throw StoreError(
                .invalidConfiguration,
                "state_directory changed from \(directory) to \(site.stateDirectory); that needs a restart of essd")
        }
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<StoreError?>(nil)
        let queued = queue.withLock { state -> Bool in
            guard !state.stopping, started else { return false }
            state.reconfigure = Reconfiguration(site: site) { error in
                result.withLock { $0 = error }
                done.signal()
            }
            return true
        }
        if queued {
            wakeUp.signal()
            done.wait()
            if let error = result.withLock({ $0 }) { throw error }
        } else {
            try replaceState(site: site)
        }
    }

    private func replaceState(site: SiteConfiguration) throws(StoreError) {
        let now = clock()
        box.state.writeOpenSlots(nowMS: now)
        try box.state.writer.checkpoint(nowMS: now)
        box.state = try Self.open(site: site, logger: logger, clock: clock)
        logger.notice("store reconfigured", metadata: ["groups": "\(site.seriesSchemas.count)"])
    }

    public func accept(_ scan: Scan) {
        let accepted = queue.withLock { state -> Bool in
            guard !state.stopping, state.scans.count < capacity else {
                state.stats.scansDropped += 1
                return false
            }
            state.scans.append(scan)
            state.stats.queueHighWater = max(state.stats.queueHighWater, state.scans.count)
            return true
        }
        if accepted { wakeUp.signal() }
    }

    public func statistics() -> Statistics { queue.withLock { $0.stats } }

    private var started: Bool { startedFlag.load(ordering: .acquiring) }
    private let startedFlag = Atomic<Bool>(false)

    /// Starts the store thread.
    public func start() {
        startedFlag.store(true, ordering: .releasing)
        let thread = Thread { [self] in
            runLoop()
            finished.signal()
        }
        thread.name = "essd-store"
        thread.start()
    }

    /// Drains the queue, writes the open slots, checkpoints and ends the store thread. Blocks.
    public func stop() {
        queue.withLock { $0.stopping = true }
        wakeUp.signal()
        finished.wait()
    }

    private func runLoop() {
        var nextCheckpointMS = clock() + Int64(checkpointIntervalMS)
        while true {
            _ = wakeUp.wait(timeout: .now() + .milliseconds(min(checkpointIntervalMS, 1000)))
            let (batch, stopping, reconfiguration) = queue.withLock { state -> ([Scan], Bool, Reconfiguration?) in
                defer {
                    state.scans.removeAll(keepingCapacity: true)
                    state.reconfigure = nil
                }
                return (state.scans, state.stopping, state.reconfigure)
            }
            let owned = box.state
            var written = 0
            var holds = 0
            for scan in batch {
                let outcome = owned.store(scan)
                written += outcome.slots
                holds += outcome.held ? 1 : 0
            }
            if !batch.isEmpty || holds > 0 {
                queue.withLock {
                    $0.stats.scansStored += batch.count
                    $0.stats.slotsWritten += written
                    $0.stats.clockStepHolds += holds
                }
            }
            if let reconfiguration {
                do {
                    try replaceState(site: reconfiguration.site)
                    reconfiguration.reply(nil)
                } catch {
                    logger.error("store reconfiguration refused; keeping the old one", metadata: ["error": "\(error)"])
                    reconfiguration.reply(error)
                }
            }
            let now = clock()
            if stopping {
                box.state.writeOpenSlots(nowMS: now)
                checkpoint(nowMS: now)
                logger.info("store closed", metadata: ["directory": "\(directory)"])
                return
            }
            if now >= nextCheckpointMS {
                checkpoint(nowMS: now)
                nextCheckpointMS = now + Int64(checkpointIntervalMS)
            }
        }
    }

    private func checkpoint(nowMS: Int64) {
        do {
            try box.state.writer.checkpoint(nowMS: nowMS)
            queue.withLock { $0.stats.lastCheckpointMS = nowMS }
        } catch {
            let failures = queue.withLock { state -> Int in
                state.stats.checkpointFailures += 1
                return state.stats.checkpointFailures
            }
            if failures == 1 || failures % 100 == 0 {
                logger.error("checkpoint failed", metadata: ["error": "\(error)", "failures": "\(failures)"])
            }
        }
    }
}

/// The store thread's state, replaced on reconfiguration. Touched only by the store thread
/// (and by `init` and `reconfigure` before the thread runs).
private final class OwnedBox: @unchecked Sendable {
    var state: OwnedState
    init(state: OwnedState) { self.state = state }
}

/// What only the store thread touches (and `init`, before the thread exists).
private final class OwnedState: @unchecked Sendable {
    let writer: StoreWriter
    var consolidators: [String: SeriesConsolidator]
    var siteAggregator: SiteAggregator
    var siteConsolidator: SeriesConsolidator
    let siteIntervalMS: Int64
    var lastSiteSampleMS: Int64 = 0
    let logger: Logger
    var holdingBack: Set<String> = []
    var destinations: [String: StoreWriter.SlotDestination] = [:]
    let clock: @Sendable () -> Int64

    init(
        writer: StoreWriter, site: SiteConfiguration, schemas: [SeriesSchema], logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.writer = writer
        self.logger = logger
        self.clock = clock
        let tiers = site.store.tiers.filter { !$0.isRaw }
        var consolidators: [String: SeriesConsolidator] = [:]
        for schema in schemas where schema.groupID != "site" {
            consolidators[schema.groupID] = SeriesConsolidator(schema: schema, tiers: tiers)
        }
        self.consolidators = consolidators
        siteAggregator = SiteAggregator(
            devices: site.devices, meterDeviceID: site.store.meterDeviceID, tiers: site.store.tiers)
        siteConsolidator = SeriesConsolidator(schema: siteAggregator.schema, tiers: tiers)
        siteIntervalMS = site.seriesPollIntervalsMS["site"] ?? 1000
    }

    /// Raw row, consolidation and (when due) a site sample for one scan.
    func store(_ scan: Scan) -> (slots: Int, held: Bool) {
        var slots = 0
        var held = false
        // A device removed by a reload may still deliver its last scan: not stored.
        guard consolidators[scan.deviceID] != nil || writer.schemas.contains(where: { $0.groupID == scan.deviceID })
        else {
            return (0, false)
        }
        do {
            if case .refusedClockStepBack(let last) = try writer.appendRaw(
                group: scan.deviceID, timestampMS: scan.timestampMS, values: scan.values, qualities: scan.qualities)
            {
                held = true
                noteHold(scan.deviceID, lastMS: last, atMS: scan.timestampMS)
            }
            // Mutated in place: a copy out of the dictionary would copy its open slots (copy on write).
            let destination = try self.destination(scan.deviceID)
            let outcome = consolidators[scan.deviceID]?.ingest(
                timestampMS: scan.timestampMS, values: scan.values, qualities: scan.qualities
            ) { slot in slots += write(slot, to: destination, group: scan.deviceID) }
            if case .heldBackClockStep = outcome { held = true }
            siteAggregator.accept(scan)
            let boundary = scan.timestampMS / siteIntervalMS * siteIntervalMS
            if boundary > lastSiteSampleMS {
                lastSiteSampleMS = boundary
                let sample = siteAggregator.sample(atMS: scan.timestampMS)
                try writer.appendRaw(
                    group: "site", timestampMS: sample.timestampMS, values: sample.values, qualities: sample.qualities)
                let destination = try self.destination("site")
                _ = siteConsolidator.ingest(
                    timestampMS: sample.timestampMS, values: sample.values, qualities: sample.qualities
                ) {
                    slots += write($0, to: destination, group: "site")
                }
            }
            if !held { holdingBack.remove(scan.deviceID) }
        } catch {
            logger.error("cannot store scan", metadata: ["device": "\(scan.deviceID)", "error": "\(error)"])
        }
        return (slots, held)
    }

    private func write(_ slot: ConsolidatedSlot) -> Int {
        do {
            if case .written = try writer.write(slot) { return 1 }
        } catch {
            logger.error(
                "cannot write slot",
                metadata: ["group": "\(slot.groupID)", "tier": "\(slot.tier)", "error": "\(error)"])
        }
        return 0
    }

    /// Where `group`'s consolidator writes its slots (resolved once per group).
    private func destination(_ group: String) throws(StoreError) -> StoreWriter.SlotDestination {
        if let known = destinations[group] { return known }
        let tiers = group == "site" ? siteConsolidator.tiers : consolidators[group]?.tiers ?? []
        let resolved = try writer.destination(group: group, tiers: tiers)
        destinations[group] = resolved
        return resolved
    }

    private func write(_ slot: borrowing ClosedSlot, to destination: StoreWriter.SlotDestination, group: String) -> Int {
        do {
            if case .written = try writer.write(slot, to: destination) { return 1 }
        } catch {
            logger.error(
                "cannot write slot",
                metadata: ["group": "\(group)", "slot_ms": "\(slot.startMS)", "error": "\(error)"])
        }
        return 0
    }

    private func noteHold(_ group: String, lastMS: Int64, atMS: Int64) {
        if holdingBack.insert(group).inserted {
            logger.warning(
                "wall clock is behind the last stored time; holding samples until it passes it",
                metadata: ["group": "\(group)", "behind_ms": "\(lastMS - atMS)"])
        }
    }

    /// Writes every open slot as it stands (on shutdown: data up to the last poll is visible).
    func writeOpenSlots(nowMS: Int64) {
        for consolidator in consolidators.values {
            for slot in consolidator.openSlots(nowMS: nowMS) { _ = write(slot) }
        }
        for slot in siteConsolidator.openSlots(nowMS: nowMS) { _ = write(slot) }
    }

    /// Rebuilds the open slots from the raw tier after a restart: raw rows since the start of
    /// the longest tier's current slot are fed to the consolidators again (slots already
    /// stored are refused by the writer as older, never overwritten).
    func replayOpenSlots(directory: String) throws(StoreError) {
        let longest = consolidators.values.first?.tiers.map(\.slotMS).max() ?? 0
        guard longest > 0 else { return }
        let now = clock()
        let from = now / longest * longest
        let reader = try StoreReader(directory: directory)
        var replayed = 0
        for group in Array(consolidators.keys) + ["site"] {
            let rows = try reader.raw(group: group, fromMS: from, toMS: now).rows
            guard let last = rows.last else { continue }
            // One batch per group (the consolidators' bulk path).
            let timestamps = rows.map(\.timestampMS)
            let values = rows.flatMap(\.values)
            let qualities = rows.flatMap { $0.qualities.map { $0 ?? .communicationFailure } }
            if group == "site" {
                siteConsolidator.ingest(timestampsMS: timestamps, values: values, qualities: qualities, onClose: { _ in })
                lastSiteSampleMS = max(lastSiteSampleMS, last.timestampMS / siteIntervalMS * siteIntervalMS)
            } else {
                consolidators[group]?.ingest(timestampsMS: timestamps, values: values, qualities: qualities, onClose: { _ in })
            }
            replayed += rows.count
        }
        if replayed > 0 { logger.info("resumed open slots from the raw tier", metadata: ["rows": "\(replayed)"]) }
    }
}

/// Wall-clock milliseconds (UTC) for the store's checkpoints and replays.
enum PollClockForStore {
    static func wallMS() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
