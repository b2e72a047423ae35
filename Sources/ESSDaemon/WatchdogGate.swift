public import ESSCore
import Synchronization

/// Earns systemd's watchdog ping from real work: the poll loop calls `progress()` after every
/// completed poll cycle, and `run()` sends `WATCHDOG=1` every half watchdog interval *only if*
/// progress was reported since the previous ping. A wedged scheduler (every polling thread stuck)
/// stops the pings, and systemd restarts essd after `WatchdogSec=` (`Restart=on-failure`).
///
/// Owns the progress flag and the ping cadence; does not own the socket (`SystemdNotifier`) or
/// what counts as progress (the caller; `WatchdogProgressSink` counts every scan a poller hands on,
/// ok or failed, because a device that is down still completes its cycles).
///
/// Any one device's cycle counts as progress, so the fastest device's `poll_interval_ms` must be
/// well below half of `WatchdogSec=` (the shipped unit: 30 s, so below 15 s).
public final class WatchdogGate: Sendable {
    public let notifier: SystemdNotifier
    /// Time between two pings, or nil when systemd asked for no watchdog.
    public let pingInterval: Duration?
    private let progressed = Atomic<Bool>(false)
    private let pings = Atomic<Int>(0)
    private let withheld = Atomic<Int>(0)

    /// - Parameter pingInterval: by default half of `notifier.watchdogInterval` (as
    ///   `man 3 sd_watchdog_enabled` recommends); tests pass a short one.
    public init(notifier: SystemdNotifier, pingInterval: Duration? = nil) {
        self.notifier = notifier
        self.pingInterval = pingInterval ?? notifier.watchdogInterval.map { $0 / 2 }
    }

    /// Reports that a poll cycle completed. Cheap (one relaxed atomic store): call it every cycle.
    public func progress() { progressed.store(true, ordering: .relaxed) }

    /// One tick of the ticker: sends `WATCHDOG=1` and returns true if progress was reported since
    /// the previous tick; otherwise sends nothing and returns false.
    @discardableResult
    public func tick() -> Bool {
        if progressed.exchange(false, ordering: .relaxed) {
            notifier.watchdog()
            pings.add(1, ordering: .relaxed)
            return true
        }
        withheld.add(1, ordering: .relaxed)
        return false
    }

    /// Pings sent and pings withheld (no progress) so far.
    public var counts: (sent: Int, withheld: Int) {
        (pings.load(ordering: .relaxed), withheld.load(ordering: .relaxed))
    }

    /// Ticks every `pingInterval` until the calling task is cancelled. Without a watchdog it just
    /// waits for cancellation.
    public func run() async {
        guard let pingInterval else {
            await Self.waitForCancellation()
            return
        }
        while !Task.isCancelled {
            do { try await Task.sleep(for: pingInterval) } catch { return }
            tick()
        }
    }

    static func waitForCancellation() async {
        let (stream, continuation) = AsyncStream<Never>.makeStream()
        await withTaskCancellationHandler {
            for await _ in stream {}
        } onCancel: {
            continuation.finish()
        }
    }
}

/// A `ScanSink` that reports each scan to a `WatchdogGate` as progress. Add it to essd's fan-out
/// sink; it does nothing else with the scan.
public struct WatchdogProgressSink: ScanSink {
    public let gate: WatchdogGate
    public init(gate: WatchdogGate) { self.gate = gate }
    public func accept(_ scan: Scan) { gate.progress() }
}
