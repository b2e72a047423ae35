/// When each device of one link is polled next: on the wall-clock boundaries of its interval
/// (a 1 s device at every whole second, a 15 s one at :00, :15, …), slept towards on the
/// monotonic clock. It owns the due times, the wall − monotonic offset they are measured under,
/// and the overrun state:
///
/// - **Clock steps.** The offset moves only when the wall clock is stepped; a move of more than
///   `clockStepThresholdNS` realigns every device to its next boundary after the new now (no
///   burst of catch-up polls after a step forward, no silence after a step back).
/// - **Overruns.** A poll that ends after its next boundary skips to the first boundary after
///   now and counts the boundaries it missed; the first overrun of an episode is flagged so the
///   caller logs once per episode.
///
/// Pure: both clocks are passed in, so tests drive it with any sequence of times. One per link,
/// owned by its polling thread.
public struct PollSchedule: Sendable, Hashable {
    /// A wall-clock jump (either way) that counts as a step rather than drift.
    public static let clockStepThresholdNS: Int64 = 1_000_000_000

    public let intervalsMS: [Int]
    /// Wall-clock ms at which each device is due next.
    public private(set) var nextDueMS: [Int64]
    /// Wall − monotonic (ns) the due times were last measured under.
    public private(set) var wallOffsetNS: Int64
    private var overrunning: [Bool]

    /// Schedules each device (its interval in ms, > 0) at its first boundary after now.
    public init(intervalsMS: [Int], wallNS: Int64, monoNS: Int64) {
        precondition(!intervalsMS.isEmpty && intervalsMS.allSatisfy { $0 > 0 })
        self.intervalsMS = intervalsMS
        wallOffsetNS = wallNS - monoNS
        let nowMS = wallNS / 1_000_000
        nextDueMS = intervalsMS.map { Self.nextBoundaryMS(after: nowMS, intervalMS: $0) }
        overrunning = Array(repeating: false, count: intervalsMS.count)
    }

    /// The device due first (ties: the first in configuration order).
    public var dueIndex: Int { nextDueMS.indices.min { nextDueMS[$0] < nextDueMS[$1] }! }

    /// Looks at both clocks: when the wall clock stepped since the last look, realigns every
    /// device and returns the step (ms, negative: back); nil when it did not.
    public mutating func observe(wallNS: Int64, monoNS: Int64) -> Int64? {
        let offset = wallNS - monoNS
        defer { wallOffsetNS = offset }
        guard abs(offset - wallOffsetNS) > Self.clockStepThresholdNS else { return nil }
        let nowMS = wallNS / 1_000_000
        for k in nextDueMS.indices {
            nextDueMS[k] = Self.nextBoundaryMS(after: nowMS, intervalMS: intervalsMS[k])
        }
        return (offset - wallOffsetNS) / 1_000_000
    }

    /// Monotonic ns at which device `index` is due, under the last observed offset.
    public func dueMonoNS(_ index: Int) -> Int64 { nextDueMS[index] * 1_000_000 - wallOffsetNS }

    /// The wall-clock ms of monotonic instant `monoNS` (a scan's timestamp).
    public func wallMS(atMonoNS monoNS: Int64) -> Int64 { (monoNS + wallOffsetNS) / 1_000_000 }

    /// The number of the cycle device `index` is due for (its due time / its interval).
    public func cycle(_ index: Int) -> Int { Int(nextDueMS[index] / Int64(intervalsMS[index])) }

    /// Monotonic ns of the boundary after the one device `index` is due at: its poll, retries
    /// included, must end by then.
    public func followingBoundaryMonoNS(_ index: Int) -> Int64 {
        (nextDueMS[index] + Int64(intervalsMS[index])) * 1_000_000 - wallOffsetNS
    }

    /// What finishing a poll did to the schedule.
    public struct Completion: Sendable, Hashable {
        /// Boundaries skipped because the poll ended after them (0 when on time).
        public var missedCycles: Int
        /// True for the first overrun after on-time polls (log it once per episode).
        public var overrunBegan: Bool

        public init(missedCycles: Int, overrunBegan: Bool) {
            self.missedCycles = missedCycles
            self.overrunBegan = overrunBegan
        }
    }

    /// Device `index`'s poll ended at `monoNS`: it is due next at its next boundary, or, if the
    /// poll ended after that boundary, at the first boundary at or after now (a poll that ends on a
    /// boundary, to the millisecond, does not miss it: the next starts at once).
    public mutating func completed(_ index: Int, atMonoNS monoNS: Int64) -> Completion {
        let nowMS = wallMS(atMonoNS: monoNS)
        let interval = Int64(intervalsMS[index])
        let next = nextDueMS[index] + interval
        guard next < nowMS else {
            nextDueMS[index] = next
            overrunning[index] = false
            return Completion(missedCycles: 0, overrunBegan: false)
        }
        // The first boundary at or after now.
        let upcoming = Self.nextBoundaryMS(after: nowMS - 1, intervalMS: intervalsMS[index])
        let began = !overrunning[index]
        overrunning[index] = true
        nextDueMS[index] = upcoming
        return Completion(missedCycles: Int((upcoming - next) / interval), overrunBegan: began)
    }

    /// The first multiple of `intervalMS` strictly after `ms`.
    public static func nextBoundaryMS(after ms: Int64, intervalMS: Int) -> Int64 {
        let interval = Int64(intervalMS)
        return (ms / interval + 1) * interval
    }
}
