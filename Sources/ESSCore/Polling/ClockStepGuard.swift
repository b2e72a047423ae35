/// Keeps scans stamped under a wall clock that is about to be corrected out of the store, and
/// restamps them at their true time once it is.
///
/// The monotonic clock never steps, so `wall − monotonic` (the offset) changes only when the wall
/// clock is stepped. The guard watches the offset at every scan it is given:
///
/// - **Waiting for synchronisation** (optional, at start): while the system clock is not
///   synchronised, scans are held; when it is, each is restamped by how much the offset moved
///   since it was taken, and released.
/// - **A forward step** larger than `stepThresholdMS` may be an excursion (a bad time source, a
///   wrong RTC) that is corrected moments later: scans are held for `confirmWindowMS`. If the
///   clock steps back within the window, the held scans are restamped by the correction (their
///   true time) and released; otherwise the step stands and they are released as stamped.
/// - **A backward step** is applied at once: storing resumes at the true time immediately.
///
/// A held scan is never dropped silently: beyond `maxHeld` the oldest are released as stamped
/// (counted in `releasedUnconfirmed`). Pure: time is passed in; one instance per process, behind
/// the caller's lock. Owns the held scans; not the store.
public struct ClockStepGuard: Sendable {
    public struct Settings: Sendable, Hashable {
        public var stepThresholdMS: Int64
        public var confirmWindowMS: Int64
        public var maxHeld: Int
        /// Longest wait for synchronisation before scans are released as stamped.
        public var syncTimeoutMS: Int64

        public init(stepThresholdMS: Int64 = 1000, confirmWindowMS: Int64 = 120_000, maxHeld: Int = 20_000, syncTimeoutMS: Int64 = 600_000) {
            self.stepThresholdMS = stepThresholdMS
            self.confirmWindowMS = confirmWindowMS
            self.maxHeld = maxHeld
            self.syncTimeoutMS = syncTimeoutMS
        }
    }

    /// Why scans are being held.
    public enum HoldReason: String, Sendable, Hashable {
        case waitingForSync = "waiting_for_clock_sync"
        case forwardStep = "clock_stepped_forward"
    }

    /// Something worth one log line (the caller logs it).
    public enum Event: Sendable, Hashable {
        /// The wall clock stepped by `stepMS` (negative: back); `holding` tells whether scans are held.
        case stepped(stepMS: Int64, holding: HoldReason?)
        /// Held scans released; `restampedByMS` is 0 when they kept their stamps.
        case released(count: Int, restampedByMS: Int64, reason: HoldReason)
        /// The clock is synchronised (after `waitedMS`).
        case synchronised(waitedMS: Int64)
        /// Gave up waiting for synchronisation after `syncTimeoutMS`.
        case syncTimedOut(heldCount: Int)
    }

    public let settings: Settings
    private var offsetMS: Int64?
    private var held: [(scan: Scan, offsetMS: Int64)] = []
    private var holding: HoldReason?
    /// Monotonic ms at which the hold began.
    private var holdStartedMonoMS: Int64 = 0
    public private(set) var releasedUnconfirmed = 0

    /// - Parameter waitForSync: hold every scan until `accept` is told the clock is synchronised.
    public init(settings: Settings = Settings(), waitForSync: Bool, nowMonoMS: Int64 = 0) {
        self.settings = settings
        if waitForSync {
            holding = .waitingForSync
            holdStartedMonoMS = nowMonoMS
        }
    }

    public var heldCount: Int { held.count }
    public var holdReason: HoldReason? { holding }

    /// Takes `scan` (stamped just now, under the current wall clock), given both clocks now and
    /// whether the system clock is synchronised; returns the scans to store, in order, and the
    /// events to log.
    public mutating func accept(
        _ scan: Scan?, wallMS: Int64, monoMS: Int64, synchronised: Bool
    ) -> (release: [Scan], events: [Event]) {
        var release: [Scan] = []
        var events: [Event] = []
        let offset = wallMS - monoMS
        // A scan polled just before a step was stamped under the previous offset.
        var stampOffset = offset
        if let scan, let previous = offsetMS, abs(scan.timestampMS - (monoMS + previous)) < abs(scan.timestampMS - wallMS) {
            stampOffset = previous
        }
        if let previous = offsetMS, abs(offset - previous) > settings.stepThresholdMS {
            let step = offset - previous
            if step > 0 {
                if holding == nil {
                    holding = .forwardStep
                    holdStartedMonoMS = monoMS
                }
                events.append(.stepped(stepMS: step, holding: holding))
            } else {
                events.append(.stepped(stepMS: step, holding: holding == .waitingForSync ? holding : nil))
                if holding == .forwardStep {
                    // The excursion is over: what was held belongs at its true time.
                    let count = held.count
                    let shift = restampAll(to: offset, into: &release)
                    events.append(.released(count: count, restampedByMS: shift, reason: .forwardStep))
                    holding = nil
                }
            }
        }
        offsetMS = offset

        switch holding {
        case .waitingForSync?:
            if synchronised {
                events.append(.synchronised(waitedMS: monoMS - holdStartedMonoMS))
                let count = held.count
                let shift = restampAll(to: offset, into: &release)
                events.append(.released(count: count, restampedByMS: shift, reason: .waitingForSync))
                holding = nil
            } else if monoMS - holdStartedMonoMS >= settings.syncTimeoutMS {
                events.append(.syncTimedOut(heldCount: held.count))
                _ = restampAll(to: offset, into: &release)
                holding = nil
            }
        case .forwardStep?:
            if monoMS - holdStartedMonoMS >= settings.confirmWindowMS {
                // The step stands: the clock after it is right (what was held was stamped by it).
                let count = held.count
                let shift = restampAll(to: offset, into: &release)
                events.append(.released(count: count, restampedByMS: shift, reason: .forwardStep))
                holding = nil
            }
        case nil:
            break
        }

        if var scan {
            if holding != nil {
                held.append((scan, stampOffset))
                if held.count > settings.maxHeld {
                    release.append(held.removeFirst().scan)
                    releasedUnconfirmed += 1
                }
            } else {
                scan.timestampMS += offset - stampOffset
                release.append(scan)
            }
        }
        return (release, events)
    }

    /// Moves every held scan to `release`, shifted by how much the offset moved since it was
    /// taken; returns the shift of the last one (they all moved by the same step unless the
    /// clock stepped several times).
    private mutating func restampAll(to offset: Int64, into release: inout [Scan]) -> Int64 {
        var shift: Int64 = 0
        for entry in held {
            var scan = entry.scan
            shift = offset - entry.offsetMS
            scan.timestampMS += shift
            release.append(scan)
        }
        held.removeAll()
        return shift
    }
}
