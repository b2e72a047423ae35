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
/// slots instead of losing their first part; every earlier stop ends the holds there (a
/// `kill -9` is recorded as a stop at the newest raw row), so a restart never extends what was
/// read before it. On stop it drains the queue, stops the consolidators at that instant, writes
/// the open slots as they are and records the stop (event and checkpoint). `quarantine` sets
/// aside what was stored under a wall clock that was then stepped back.
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
        /// Quarantines made (`quarantine(fromMS:toMS:reason:)`), and the raw rows they set aside.
        public var quarantines = 0
        public var quarantinedRows = 0
        /// The last stop's error, when it could not record the stop or checkpoint (the rows
        /// and slots written since the previous checkpoint may not be durable).
        public var stopError: StoreError?
    }

    private struct Queue {
        var scans: [Scan] = []
        var stopping = false
        var stats = Statistics()
        var reconfigure: Reconfiguration?
        /// Quarantines asked for, each with the number of scans queued before it.
        var quarantines: [(afterScans: Int, request: QuarantineRequest)] = []
        /// Wall-clock steps to record (true time after the step, step).
        var clockSteps: [(atMS: Int64, stepMS: Int64)] = []
    }

    private struct QuarantineRequest {
        var fromMS: Int64
        var toMS: Int64
        var reason: String
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

    /// `resuming`: a reconfiguration of a running store (not a start: nothing stopped).
    private static func open(
        site: SiteConfiguration, logger: Logger, clock: @escaping @Sendable () -> Int64, resuming: Bool = false
    ) throws(StoreError) -> OwnedState {
        let schemas = site.seriesSchemas
        let writer = try StoreWriter(
            directory: site.stateDirectory, siteID: site.site.id, schemas: schemas, tiers: site.store.tiers,
            pollIntervalsMS: site.seriesPollIntervalsMS, rawBudgetBytes: site.store.rawBudgetBytes,
            nowMS: clock(), logger: logger)
        if resuming == false, writer.previousStopMS == nil, let end = try writer.recordUncleanEnd() {
            logger.notice(
                "the previous run did not stop cleanly: its coverage ends at its newest raw row",
                metadata: ["end_ms": "\(end)"])
        }
        // A start (or restart) and a reload are in the history for evidence (events.csv).
        try writer.record(
            resuming ? .reconfigured(atMS: clock(), groups: schemas.map(\.groupID)) : .started(atMS: clock()))
        let owned = OwnedState(writer: writer, site: site, logger: logger, clock: clock)
        try owned.replayOpenSlots(directory: site.stateDirectory)
        return owned
    }

    /// Quarantines what was stored while the wall clock ran ahead, once it has been stepped
    /// back: in every group, the newest raw rows with a time at or after `fromMS` (the first
    /// wrong time; or the true time now, when that is not known: every row after it is from the
    /// future) are kept but left out of every read and tier, the slots made from them are reset,
    /// an event is recorded (`essctl store health`), the open slots are rebuilt from the raw
    /// tier without them, and storing resumes at the true time at once (no hold). `toMS` is the
    /// end of the wrong times, for the event. Call it (the daemon, which detects the step with
    /// the monotonic clock) before handing over the first scan at the true time: it is done in
    /// order with the scans handed over, on the store thread; it does not block.
    public func quarantine(fromMS: Int64, toMS: Int64, reason: String) {
        queue.withLock { state in
            state.quarantines.append(
                (state.scans.count, QuarantineRequest(fromMS: fromMS, toMS: toMS, reason: reason)))
        }
        wakeUp.signal()
    }

    /// Records a wall-clock step essd saw (`atMS`: the true time after it; `stepMS` negative
    /// when back) as a store event, for the evidence; done on the store thread, does not block.
    public func noteClockStep(atMS: Int64, stepMS: Int64) {
        queue.withLock { $0.clockSteps.append((atMS, stepMS)) }
        wakeUp.signal()
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
        box.state = try Self.open(site: site, logger: logger, clock: clock, resuming: true)
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

    /// Drains the queue, stops at the wall-clock time now (`StoreWriter.stop(atMS:)`: the open
    /// slots written as they stand, coverage ending there, a checkpoint) and ends the store
    /// thread. Blocks. A failure is logged and kept in `statistics().stopError`.
    public func stop() {
        queue.withLock { $0.stopping = true }
        wakeUp.signal()
        finished.wait()
    }

    private func runLoop() {
        var nextCheckpointMS = clock() + Int64(checkpointIntervalMS)
        while true {
            _ = wakeUp.wait(timeout: .now() + .milliseconds(min(checkpointIntervalMS, 1000)))
            let (batch, stopping, reconfiguration, quarantines, clockSteps) = queue.withLock {
                state -> ([Scan], Bool, Reconfiguration?, [(afterScans: Int, request: QuarantineRequest)], [(atMS: Int64, stepMS: Int64)]) in
                defer {
                    state.scans.removeAll(keepingCapacity: true)
                    state.reconfigure = nil
                    state.quarantines.removeAll()
                    state.clockSteps.removeAll()
                }
                return (state.scans, state.stopping, state.reconfigure, state.quarantines, state.clockSteps)
            }
            for step in clockSteps {
                do {
                    try box.state.writer.record(.clockStepped(atMS: step.atMS, stepMS: step.stepMS))
                } catch {
                    logger.error("could not record a clock step in the store's events", metadata: ["error": "\(error)"])
                }
            }
            let owned = box.state
            var written = 0
            var holds = 0
            var next = 0
            for index in batch.indices {
                while next < quarantines.count && quarantines[next].afterScans == index {
                    quarantine(quarantines[next].request)
                    next += 1
                }
                let outcome = owned.store(batch[index])
                written += outcome.slots
                holds += outcome.held ? 1 : 0
            }
            for pending in quarantines[next...] { quarantine(pending.request) }
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
                do {
                    try box.state.stop(atMS: now)
                    queue.withLock { $0.stats.lastCheckpointMS = now }
                    logger.info("store closed", metadata: ["directory": "\(directory)", "stopped_ms": "\(now)"])
                } catch {
                    queue.withLock {
                        $0.stats.checkpointFailures += 1
                        $0.stats.stopError = error
                    }
                    logger.error(
                        "final checkpoint failed: what was written since the last checkpoint may not be durable",
                        metadata: [
                            "directory": "\(directory)", "error": "\(error)",
                            "fix": "free space or repair the file system under the state directory, then start essd again",
                        ])
                }
                return
            }
            if now >= nextCheckpointMS {
                checkpoint(nowMS: now)
                nextCheckpointMS = now + Int64(checkpointIntervalMS)
            }
        }
    }

    private func quarantine(_ request: QuarantineRequest) {
        do {
            let done = try box.state.quarantine(
                fromMS: request.fromMS, toMS: request.toMS, reason: request.reason, directory: directory)
            let rows = done.rows.values.reduce(0) { $0 + Int($1.lastSequence - $1.firstSequence + 1) }
            guard rows > 0 else { return }
            queue.withLock {
                $0.stats.quarantines += 1
                $0.stats.quarantinedRows += rows
            }
        } catch {
            logger.error(
                "quarantine failed: rows written under the wrong clock stay, and samples are held until time passes them",
                metadata: ["from_ms": "\(request.fromMS)", "to_ms": "\(request.toMS)", "error": "\(error)"])
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
