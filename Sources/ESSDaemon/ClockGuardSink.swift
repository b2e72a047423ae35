public import ESSCore
import ESSModbus
public import Logging
import Synchronization

/// Puts a `ClockStepGuard` in front of the store: scans taken under a wall clock that is
/// stepped back moments later (an excursion), or before the clock was synchronised (with
/// `wait_for_clock_sync`), reach the store at their true time; it logs every step and release.
/// Called on the polling threads; the guard is behind a lock, and so is handing its scans to
/// `downstream` (which must not block: the store only queues them).
public final class ClockGuardSink: ScanSink {
    private let guardState: Mutex<ClockStepGuard>
    private let downstream: any ScanSink
    private let logger: Logger
    private let isSynchronised: @Sendable () -> Bool
    private let stepLog = Mutex(LogRateLimiter(intervalMS: 60_000))
    /// Releases of held scans: one line a minute, with counts (a flapping clock releases often).
    private let releaseLog = Mutex(LogRateLimiter(intervalMS: 60_000))
    /// Asks the store to quarantine what it stored under a clock that ran ahead (fromMS, toMS, reason).
    private let quarantine: (@Sendable (Int64, Int64, String) -> Void)?
    /// Records a step in the store's history (true time after it, step ms): the steps that are
    /// logged, at most one a minute.
    private let recordStep: (@Sendable (Int64, Int64) -> Void)?

    public init(
        downstream: any ScanSink, settings: DaemonSettings, logger: Logger,
        isSynchronised: @escaping @Sendable () -> Bool = SystemClockSync.isSynchronised,
        quarantine: (@Sendable (Int64, Int64, String) -> Void)? = nil,
        recordStep: (@Sendable (Int64, Int64) -> Void)? = nil
    ) {
        self.quarantine = quarantine
        self.recordStep = recordStep
        self.downstream = downstream
        self.logger = logger
        self.isSynchronised = isSynchronised
        let guardSettings = ClockStepGuard.Settings(
            stepThresholdMS: 1000, confirmWindowMS: Int64(settings.clockStepConfirmS) * 1000,
            syncTimeoutMS: Int64(settings.clockSyncTimeoutS) * 1000)
        let waiting = settings.waitForClockSync && !isSynchronised()
        guardState = Mutex(ClockStepGuard(settings: guardSettings, waitForSync: waiting, nowMonoMS: PollClock.monotonicNS() / 1_000_000))
        if waiting {
            logger.notice(
                "system clock not synchronised: polling, holding scans until it is",
                metadata: ["timeout_s": "\(settings.clockSyncTimeoutS)"])
        }
    }

    /// Scans held now (status and tests).
    public var heldCount: Int { guardState.withLock { $0.heldCount } }

    public func accept(_ scan: Scan) {
        let synchronised = guardState.withLock { $0.holdReason == .waitingForSync } ? isSynchronised() : true
        // Deciding, asking for the quarantine and handing the scans on happen under one lock:
        // several polling threads call this, and a scan of another link stored between the
        // release and the quarantine would be set aside with the rows from the future, and the
        // restamped scans refused as older than it.
        let events = guardState.withLock { state -> [ClockStepGuard.Event] in
            let (release, events) = state.accept(
                scan, wallMS: PollClock.wallNS() / 1_000_000, monoMS: PollClock.monotonicNS() / 1_000_000,
                synchronised: synchronised)
            for event in events {
                // A step back: what was stored under the clock that ran ahead lies in the future
                // of the true clock; the store sets it aside before the next scan arrives.
                if case .stepped(let stepMS, nil) = event, stepMS < 0 {
                    let nowMS = PollClock.wallNS() / 1_000_000
                    quarantine?(nowMS, nowMS - stepMS, "wall clock stepped back by \(-stepMS) ms")
                }
            }
            for scan in release { downstream.accept(scan) }
            return events
        }
        for event in events { log(event) }
    }

    private func log(_ event: ClockStepGuard.Event) {
        switch event {
        case .stepped(let stepMS, let holding):
            let decision = stepLog.withLock { $0.record(nowMS: PollClock.monotonicNS() / 1_000_000, magnitude: stepMS) }
            guard decision.emit else { return }
            recordStep?(PollClock.wallNS() / 1_000_000, stepMS)
            logger.warning(
                "wall clock stepped",
                metadata: [
                    "step_ms": "\(stepMS)", "holding": "\(holding?.rawValue ?? "no")",
                    "steps_not_logged": "\(decision.suppressed)", "largest_step_ms": "\(decision.largest)",
                ])
        case .released(let count, let shift, let reason):
            let decision = releaseLog.withLock { $0.record(nowMS: PollClock.monotonicNS() / 1_000_000, magnitude: shift) }
            guard decision.emit else { return }
            logger.notice(
                shift == 0 ? "held scans stored as stamped" : "held scans restamped to the true time and stored",
                metadata: [
                    "scans": "\(count)", "restamped_by_ms": "\(shift)", "reason": "\(reason.rawValue)",
                    "releases_not_logged": "\(decision.suppressed)",
                ])
        case .synchronised(let waitedMS):
            logger.notice("system clock synchronised", metadata: ["waited_ms": "\(waitedMS)"])
        case .syncTimedOut(let held):
            logger.warning(
                "system clock still not synchronised; storing held scans as stamped",
                metadata: ["scans": "\(held)", "fix": "check chrony/systemd-timesyncd and the gateway's network"])
        }
    }
}
