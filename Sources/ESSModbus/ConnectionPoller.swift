import ESSCore
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One link (a TCP connection, or an RTU serial bus with its slaves) and the thread that owns it.
///
/// The thread sleeps on the monotonic clock until the next device is due, polls it, hands the
/// scan to the sink and schedules the next poll on the next wall-clock boundary of the
/// device's interval. All libmodbus calls happen on this thread and nowhere else; nothing
/// here runs on Swift's cooperative pool.
final class ConnectionPoller: Sendable {
    let transport: Transport
    let devices: [DeviceDefinition]
    private let sink: any ScanSink
    private let logger: Logger
    private let policy: ReconnectPolicy
    private let stopRequested = Atomic<Bool>(false)
    /// Monotonic ns of the last completed poll or of the last schedule check (0: none yet).
    private let progressNS = Atomic<Int64>(0)
    private let finished = DispatchSemaphore(value: 0)
    private let recorders: [SharedStatisticsRecorder]
    /// Clock-step warnings: one line a minute, with counts.
    private let clockStepLog = Mutex(LogRateLimiter(intervalMS: 60_000))

    /// SCHED_FIFO priority for this link's thread (nil: the normal scheduler).
    let realtimePriority: Int?

    init(
        transport: Transport, devices: [DeviceDefinition], sink: any ScanSink, logger: Logger, policy: ReconnectPolicy,
        realtimePriority: Int? = nil
    ) {
        self.realtimePriority = realtimePriority
        self.transport = transport
        self.devices = devices
        self.sink = sink
        self.policy = policy
        var logger = logger
        logger[metadataKey: "endpoint"] = "\(transport.endpoint)"
        self.logger = logger
        recorders = devices.map {
            SharedStatisticsRecorder(DeviceStatisticsRecorder(deviceID: $0.id, endpoint: transport.endpoint, unitID: $0.unitID))
        }
    }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "essd-poll \(transport.endpoint)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Asks the thread to stop after its current request; returns at once.
    func requestStop() { stopRequested.store(true, ordering: .releasing) }

    /// Blocks until the thread has closed its connection and ended.
    func waitUntilStopped() { finished.wait() }

    func statistics() -> [DeviceStatistics] { recorders.map { $0.withLock { $0.snapshot() } } }

    /// When this link last showed progress (a poll completed, or its scheduler woke), or nil.
    func lastProgressMonotonicNS() -> Int64? {
        let value = progressNS.load(ordering: .acquiring)
        return value == 0 ? nil : value
    }

    private var shouldStop: Bool { stopRequested.load(ordering: .acquiring) }

    // MARK: - The polling thread

    /// Puts the calling (polling) thread under SCHED_FIFO at `priority`; on a busy machine the
    /// normal scheduler can wake a thread milliseconds late. Needs CAP_SYS_NICE or an RLIMIT_RTPRIO
    /// (systemd: LimitRTPRIO=); without it essd logs once and polls on the normal scheduler.
    private func applyRealtimePriority(_ priority: Int) {
        var parameters = sched_param()
        parameters.sched_priority = Int32(priority)
        let result = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
        if result != 0 {
            logger.warning(
                "real-time scheduling refused; polling on the normal scheduler",
                metadata: ["priority": "\(priority)", "error": "\(String(cString: strerror(result)))",
                    "fix": "allow it with LimitRTPRIO=\(priority) in the unit, or CAP_SYS_NICE"])
        }
    }

    private func run() {
        if let realtimePriority { applyRealtimePriority(realtimePriority) }
        var scanners = devices.map { DeviceScanner(device: $0) }
        var link = LinkState(policy: policy)
        let maxWords = 2000
        let buffer = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: maxWords)
        buffer.initialize(repeating: 0)
        defer {
            buffer.deallocate()
            link.connection?.close()
        }

        var schedule = PollSchedule(
            intervalsMS: devices.map(\.pollIntervalMS), wallNS: PollClock.wallNS(), monoNS: PollClock.monotonicNS())

        while !shouldStop {
            let index = schedule.dueIndex
            // Sleep in short slices so stop requests and clock steps are seen promptly.
            var deadlineMonoNS: Int64 = 0
            while !shouldStop {
                let monoNS = PollClock.monotonicNS()
                if let stepMS = schedule.observe(wallNS: PollClock.wallNS(), monoNS: monoNS) {
                    let decision = clockStepLog.withLock { $0.record(nowMS: monoNS / 1_000_000, magnitude: stepMS) }
                    if decision.emit {
                        logger.warning(
                            "wall clock stepped; realigning poll schedule",
                            metadata: [
                                "step_ms": "\(stepMS)", "steps_not_logged": "\(decision.suppressed)",
                                "largest_step_ms": "\(decision.largest)",
                                "note": "logged at most once a minute per link; steps in between are counted",
                            ])
                    }
                }
                deadlineMonoNS = schedule.dueMonoNS(index)
                let now = PollClock.monotonicNS()
                progressNS.store(now, ordering: .releasing)
                if now >= deadlineMonoNS { break }
                PollClock.sleep(untilMonotonicNS: min(deadlineMonoNS, now + 200_000_000))
            }
            if shouldStop { break }
            // The schedule may have been realigned during the sleep; re-pick the due device.
            if schedule.dueIndex != index || PollClock.monotonicNS() < schedule.dueMonoNS(index) { continue }

            let startMonoNS = PollClock.monotonicNS()
            let device = devices[index]
            recorders[index].withLock { $0.recordStart(latenessUS: Int((startMonoNS - deadlineMonoNS) / 1000)) }
            let timestampMS = schedule.wallMS(atMonoNS: startMonoNS)
            let cycle = schedule.cycle(index)

            let (connectError, attempted) = link.ensureConnected(
                transport: transport, device: device, logger: logger,
                onReconnect: { recorders[index].withLock { $0.stats.reconnects += 1 } })
            link.connection?.setResponseTimeout(milliseconds: device.responseTimeoutMS)
            let recorder = recorders[index]
            // Count a failed connect once per attempt, not once per cycle spent in backoff.
            if let connectError, attempted { recorder.withLock { $0.recordError(connectError) } }
            let wasState = scanners[index].state
            var reader = ConnectionReader(
                connection: connectError == nil ? link.connection : nil, unitID: device.unitID, recorder: recorder)
            let nextBoundaryMonoNS = schedule.followingBoundaryMonoNS(index)
            let outcome = scanners[index].scan(
                cycle: cycle, timestampMS: timestampMS, deadlineMonoNS: nextBoundaryMonoNS, reader: &reader,
                linkFailure: connectError.map(ConnectionReader.failure(for:)), buffer: buffer)
            if outcome.linkSuspect {
                if case .tcp = transport { link.connection?.close() } else { link.connection?.flush() }
            }
            if !device.keepConnectionOpen { link.connection?.close() }
            let state = scanners[index].state
            recorder.withLock {
                $0.stats.scans += 1
                $0.stats.state = state
                $0.stats.busyRetries += outcome.busyRetries
                $0.stats.splitRequests += outcome.splitRequests
                $0.stats.refusedRanges = scanners[index].refused.ranges
                if outcome.answeredRequests > 0 { $0.stats.lastSuccessMS = timestampMS }
            }
            logTransition(device: device, from: wasState, to: state, scan: outcome.scan, lastError: reader.lastError ?? connectError)
            for range in outcome.learnt {
                logger.warning(
                    "device refuses registers; reading around them",
                    metadata: [
                        "device": "\(device.id)", "range": "\(range)",
                        "reprobe_s": "\(device.refusedReprobeSeconds)",
                    ])
            }
            for range in outcome.cleared {
                logger.info("device serves previously refused registers again", metadata: ["device": "\(device.id)", "range": "\(range)"])
            }
            sink.accept(outcome.scan)
            progressNS.store(PollClock.monotonicNS(), ordering: .releasing)

            // Next boundary; count boundaries missed because this poll overran.
            let endMonoNS = PollClock.monotonicNS()
            let completion = schedule.completed(index, atMonoNS: endMonoNS)
            if completion.missedCycles > 0 {
                let total = recorder.withLock { state -> Int in
                    state.stats.missedCycles += completion.missedCycles
                    return state.stats.missedCycles
                }
                // Once per episode of overruns, with the running count (not once per cycle).
                if completion.overrunBegan {
                    logger.warning(
                        "poll took longer than its interval; skipping to the next boundary",
                        metadata: [
                            "device": "\(device.id)", "poll_ms": "\((endMonoNS - startMonoNS) / 1_000_000)",
                            "interval_ms": "\(device.pollIntervalMS)", "missed_cycles_total": "\(total)",
                        ])
                }
            }
        }
    }

    /// Logs a change of the device's state (never / down / up / degraded), once per change.
    private func logTransition(device: DeviceDefinition, from old: DeviceState, to new: DeviceState, scan: Scan, lastError: ModbusError?) {
        guard old != new else { return }
        var metadata: Logger.Metadata = [
            "device": "\(device.id)", "state": "\(new.rawValue)", "previous_state": "\(old.rawValue)",
            "good_points": "\(scan.goodCount)/\(scan.values.count)",
        ]
        switch new {
        case .up:
            logger.info("device up", metadata: metadata)
        case .degraded:
            let failing = Dictionary(grouping: scan.qualities.filter { !$0.isGood && $0 != .stale && $0 != .notImplemented }, by: \.name)
                .map { "\($0.key)=\($0.value.count)" }.sorted().joined(separator: ",")
            metadata["failing_points"] = "\(failing)"
            logger.warning("device degraded: it answers, but some points fail", metadata: metadata)
        case .down, .never:
            if let lastError { metadata["error"] = "\(lastError)" }
            logger.warning("device down", metadata: metadata)
        }
    }

}

/// The connection of one link and its reconnect state (`ReconnectBackoff`). Lives on the polling thread.
private struct LinkState {
    var connection: ModbusConnection?
    var hasConnectedBefore = false
    var backoff: ReconnectBackoff
    var lastError: ModbusError?

    init(policy: ReconnectPolicy) { backoff = ReconnectBackoff(policy: policy) }

    /// Opens the connection if needed and allowed by the backoff; returns the error that
    /// keeps it closed (nil when it is open) and whether a connect was attempted now.
    mutating func ensureConnected(
        transport: Transport, device: DeviceDefinition, logger: Logger, onReconnect: () -> Void
    ) -> (error: ModbusError?, attempted: Bool) {
        if let connection, connection.isConnected { return (nil, false) }
        let now = PollClock.monotonicNS()
        if !backoff.mayAttempt(atMonoNS: now), let lastError { return (lastError, false) }
        do {
            if connection == nil {
                connection = try ModbusConnection(transport: transport, responseTimeoutMS: device.responseTimeoutMS)
            }
            connection!.setResponseTimeout(milliseconds: device.responseTimeoutMS)
            try connection!.connect()
            if hasConnectedBefore { onReconnect() }
            let failures = backoff.succeeded()
            if failures > 0 {
                logger.info("connected", metadata: ["after_failed_attempts": "\(failures)"])
            }
            hasConnectedBefore = true
            lastError = nil
            return (nil, true)
        } catch {
            let delay = backoff.failed(atMonoNS: now, capMS: device.reconnectMaxDelayMS, pollIntervalMS: device.pollIntervalMS)
            if backoff.consecutiveFailures == 1 || lastError?.kind != error.kind {
                logger.warning(
                    "cannot connect; retrying with backoff",
                    metadata: ["error": "\(error)", "retry_in_ms": "\(delay)"])
            }
            lastError = error
            return (error, true)
        }
    }
}
