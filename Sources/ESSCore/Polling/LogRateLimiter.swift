/// Lets one kind of log line through at most once per `intervalMS`, and counts the ones it held
/// back so the next line can say how many there were (a flapping clock or a flooding peer gives
/// one line a minute with counts, not thousands). Pure: time is passed in.
public struct LogRateLimiter: Sendable, Hashable {
    public let intervalMS: Int64
    private var lastEmitMS: Int64?
    private var suppressed = 0
    private var largestSince: Int64 = 0

    public init(intervalMS: Int64 = 60_000) {
        precondition(intervalMS > 0)
        self.intervalMS = intervalMS
    }

    /// What to do with one occurrence: `emit` false means stay quiet; when true, `suppressed` is how
    /// many occurrences were held back since the last line, and `largest` the largest magnitude
    /// among them and this one (e.g. the largest clock step).
    public mutating func record(nowMS: Int64, magnitude: Int64 = 0) -> (emit: Bool, suppressed: Int, largest: Int64) {
        largestSince = max(largestSince, abs(magnitude))
        if let last = lastEmitMS, nowMS - last < intervalMS {
            suppressed += 1
            return (false, 0, 0)
        }
        let result = (true, suppressed, largestSince)
        lastEmitMS = nowMS
        suppressed = 0
        largestSince = 0
        return result
    }
}
