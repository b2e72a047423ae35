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
