/// How long to wait before opening a failed connection again: exponential backoff with a cap,
/// so a dead device costs a bounded amount of effort and a recovered one is found soon. Each
/// device caps it further with its `reconnectMaxDelayMS` (default 2 s) and its poll interval.
public struct ReconnectPolicy: Sendable, Hashable {
    public var initialDelayMS: Int
    public var maxDelayMS: Int
    public var multiplier: Double

    public init(initialDelayMS: Int = 250, maxDelayMS: Int = 30_000, multiplier: Double = 2) {
        precondition(initialDelayMS > 0 && maxDelayMS >= initialDelayMS && multiplier >= 1)
        self.initialDelayMS = initialDelayMS
        self.maxDelayMS = maxDelayMS
        self.multiplier = multiplier
    }

    /// Delay before attempt `failures` + 1 after `failures` consecutive failures (≥ 1).
    public func delayMS(afterFailures failures: Int) -> Int {
        guard failures > 0 else { return 0 }
        var delay = Double(initialDelayMS)
        for _ in 1..<min(failures, 64) {
            delay *= multiplier
            if delay >= Double(maxDelayMS) { return maxDelayMS }
        }
        return min(Int(delay), maxDelayMS)
    }
}

/// The reconnect state of one link: how many connects failed in a row and when the next may be
/// tried. A success resets it; each failure waits `policy`'s delay, capped by the device's
/// `capMS`; a cap at or above the poll interval means "try again at the next boundary", so a
/// device that returns is read within two intervals. Pure: monotonic time is passed in.
public struct ReconnectBackoff: Sendable, Hashable {
    public let policy: ReconnectPolicy
    public private(set) var consecutiveFailures = 0
    /// Monotonic ns before which no connect is tried (0: at once).
    public private(set) var nextAttemptMonoNS: Int64 = 0

    public init(policy: ReconnectPolicy = ReconnectPolicy()) { self.policy = policy }

    /// Whether a connect may be tried at `monoNS`.
    public func mayAttempt(atMonoNS monoNS: Int64) -> Bool { monoNS >= nextAttemptMonoNS }

    /// A connect failed at `monoNS`; returns the delay (ms) before the next attempt.
    public mutating func failed(atMonoNS monoNS: Int64, capMS: Int, pollIntervalMS: Int) -> Int {
        consecutiveFailures += 1
        let delay = min(policy.delayMS(afterFailures: consecutiveFailures), capMS)
        nextAttemptMonoNS = delay >= pollIntervalMS ? monoNS : monoNS + Int64(delay) * 1_000_000
        return delay
    }

    /// A connect succeeded; returns how many attempts had failed before it.
    @discardableResult
    public mutating func succeeded() -> Int {
        defer {
            consecutiveFailures = 0
            nextAttemptMonoNS = 0
        }
        return consecutiveFailures
    }
}
