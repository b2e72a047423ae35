import ESSCore
import Testing

/// Issue 11: the poll schedule (boundaries, clock steps, overruns) and the reconnect backoff are
/// pure; these tables drive them with hand-made clocks. Expected values are worked out by hand
/// from the boundaries, not by calling the schedule.
@Suite struct PollScheduleTests {
    static let ms: Int64 = 1_000_000  // ns per ms
    /// A wall clock 1.7e12 ms after the epoch whose monotonic clock reads 5 s.
    static let wall0: Int64 = 1_700_000_000_123
    static let mono0: Int64 = 5_000

    static func schedule(_ intervals: [Int]) -> PollSchedule {
        PollSchedule(intervalsMS: intervals, wallNS: wall0 * ms, monoNS: mono0 * ms)
    }

    @Test(arguments: [
        (Int64(1_000), 1000, Int64(2_000)), (1_999, 1000, 2_000), (0, 1000, 1_000),
        (1_700_000_000_123, 15_000, 1_700_000_010_000), (1_700_000_010_000, 15_000, 1_700_000_025_000),
    ])
    func boundariesAreTheNextMultipleOfTheInterval(after: Int64, interval: Int, expected: Int64) {
        #expect(PollSchedule.nextBoundaryMS(after: after, intervalMS: interval) == expected)
    }

    @Test func eachDeviceStartsAtItsFirstBoundaryAfterNow() {
        let s = Self.schedule([15_000, 1_000, 1_000])
        #expect(s.nextDueMS == [1_700_000_010_000, 1_700_000_001_000, 1_700_000_001_000])
        #expect(s.dueIndex == 1, "ties go to the first in configuration order")
        // Due at wall …001_000, which is 877 ms after now: monotonic 5_877 ms.
        #expect(s.dueMonoNS(1) == 5_877 * Self.ms)
        #expect(s.cycle(1) == 1_700_000_001)
        #expect(s.followingBoundaryMonoNS(1) == 6_877 * Self.ms)
        #expect(s.wallMS(atMonoNS: 5_877 * Self.ms) == 1_700_000_001_000)
    }

    /// (poll ends, ms after the due boundary) → (missed cycles, overrun began, next due offset).
    @Test(arguments: [
        (Int64(50), 0, false, Int64(1_000)), (999, 0, false, 1_000), (1_000, 0, false, 1_000),
        (1_001, 1, true, 2_000), (3_500, 3, true, 4_000), (10_000, 9, true, 10_000), (10_001, 10, true, 11_000),
    ])
    func anOverrunSkipsToTheNextBoundaryAndCountsWhatItMissed(endsAfterMS: Int64, missed: Int, began: Bool, nextAfterMS: Int64) {
        var s = Self.schedule([1_000])
        let due = s.nextDueMS[0]
        let completion = s.completed(0, atMonoNS: s.dueMonoNS(0) + endsAfterMS * Self.ms)
        #expect(completion == .init(missedCycles: missed, overrunBegan: began))
        #expect(s.nextDueMS[0] == due + nextAfterMS)
    }

    @Test func anEpisodeOfOverrunsIsFlaggedOnce() {
        var s = Self.schedule([1_000])
        var flags: [Bool] = []
        var missed: [Int] = []
        // Three polls of 1.5 s, one of 0.1 s, two of 1.5 s.
        for durationMS: Int64 in [1_500, 1_500, 1_500, 100, 1_500, 1_500] {
            let c = s.completed(0, atMonoNS: s.dueMonoNS(0) + durationMS * Self.ms)
            flags.append(c.overrunBegan)
            missed.append(c.missedCycles)
        }
        #expect(flags == [true, false, false, false, true, false])
        #expect(missed == [1, 1, 1, 0, 1, 1])
    }

    /// (wall-clock step in ms, whether it counts as a step). Drift below 1 s does not realign.
    @Test(arguments: [(Int64(7_200_000), true), (-7_200_000, true), (1_001, true), (-1_001, true), (999, false), (-1_000, false), (0, false)])
    func aWallClockStepRealignsEveryDevice(stepMS: Int64, counts: Bool) {
        var s = Self.schedule([1_000, 15_000])
        let before = s.nextDueMS
        // 300 ms later on the monotonic clock, the wall clock reads 300 ms + step later.
        let mono = (Self.mono0 + 300) * Self.ms
        let wall = (Self.wall0 + 300 + stepMS) * Self.ms
        let observed = s.observe(wallNS: wall, monoNS: mono)
        if counts {
            #expect(observed == stepMS)
            let nowMS = Self.wall0 + 300 + stepMS
            #expect(s.nextDueMS == [(nowMS / 1_000 + 1) * 1_000, (nowMS / 15_000 + 1) * 15_000])
        } else {
            #expect(observed == nil)
            #expect(s.nextDueMS == before)
        }
        // Due times are always slept towards under the offset now in force.
        #expect(s.dueMonoNS(0) == s.nextDueMS[0] * Self.ms - (wall - mono))
    }

    /// Two devices (1 s and 5 s) on one link, each poll taking 40 ms, for 60 s of monotonic time,
    /// with the wall clock stepped back by 30 s at monotonic 20.5 s. Expected by hand: 60 polls of
    /// the 1 s device and 12 of the 5 s one, none missed, and the stamps after the step continue
    /// from the new wall clock's next boundary without a burst or a silence.
    @Test func aLinkPollsEveryBoundaryThroughAStepBack() {
        let base: Int64 = 1_750_000_000_000  // wall ms at monotonic 0, a multiple of 5 s
        var wallError: Int64 = 0
        var s = PollSchedule(intervalsMS: [1_000, 5_000], wallNS: base * Self.ms, monoNS: 0)
        var mono: Int64 = 0
        var stamps: [[Int64]] = [[], []]
        var missed = 0
        var stepped = false
        while true {
            let index = s.dueIndex
            let due = s.dueMonoNS(index) / Self.ms
            if !stepped && max(mono, due) >= 20_500 {
                // The step comes first: the wall clock jumps 30 s back at monotonic 20.5 s.
                mono = max(mono, 20_500)
                wallError = -30_000
                stepped = true
                let step = s.observe(wallNS: (base + mono + wallError) * Self.ms, monoNS: mono * Self.ms)
                #expect(step == -30_000)
                continue
            }
            if due > 60_000 { break }
            mono = max(mono, due)
            #expect(s.observe(wallNS: (base + mono + wallError) * Self.ms, monoNS: mono * Self.ms) == nil)
            stamps[index].append(s.wallMS(atMonoNS: mono * Self.ms))
            mono += 40
            missed += s.completed(index, atMonoNS: mono * Self.ms).missedCycles
        }
        #expect(missed == 0)
        #expect(stamps[0].count == 60)
        #expect(stamps[1].count == 12)
        // Before the step: base + 1 s … base + 20 s; after it (wall base − 9.5 s): base − 9 s … base + 30 s.
        let expected1s = (1...20).map { base + Int64($0) * 1_000 } + (-9...30).map { base + Int64($0) * 1_000 }
        #expect(stamps[0] == expected1s)
        // The 5 s device's boundaries are also the 1 s device's: it waits behind that 40 ms poll.
        let expected5s = ([1, 2, 3, 4] + (-1...6)).map { base + Int64($0) * 5_000 + 40 }
        #expect(stamps[1] == expected5s)
    }
}

@Suite struct ReconnectBackoffTests {
    @Test func theDelayDoublesUpToThePolicyCap() {
        let policy = ReconnectPolicy(initialDelayMS: 500, maxDelayMS: 30_000)
        #expect((1...8).map { policy.delayMS(afterFailures: $0) } == [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000])
        #expect(policy.delayMS(afterFailures: 0) == 0)
        #expect(policy.delayMS(afterFailures: 10_000) == 30_000)
    }

    /// Policy 250 ms doubling; the device caps at 2 s and polls every 5 s: delays 250, 500, 1000,
    /// 2000, 2000; a success resets the count.
    @Test func aDeviceCapBoundsTheWaitAndASuccessResetsIt() {
        var backoff = ReconnectBackoff(policy: ReconnectPolicy(initialDelayMS: 250, maxDelayMS: 30_000))
        var delays: [Int] = []
        var t: Int64 = 0
        for _ in 0..<5 {
            #expect(backoff.mayAttempt(atMonoNS: t))
            let delay = backoff.failed(atMonoNS: t, capMS: 2_000, pollIntervalMS: 5_000)
            delays.append(delay)
            #expect(!backoff.mayAttempt(atMonoNS: t + Int64(delay) * 1_000_000 - 1))
            t += Int64(delay) * 1_000_000
        }
        #expect(delays == [250, 500, 1_000, 2_000, 2_000])
        #expect(backoff.succeeded() == 5)
        #expect(backoff.consecutiveFailures == 0 && backoff.mayAttempt(atMonoNS: 0))
        #expect(backoff.failed(atMonoNS: t, capMS: 2_000, pollIntervalMS: 5_000) == 250)
    }

    /// A delay at or above the poll interval means "at the next boundary": the next cycle tries.
    @Test func aDelayPastTheIntervalRetriesAtTheNextBoundary() {
        var backoff = ReconnectBackoff(policy: ReconnectPolicy(initialDelayMS: 1_000, maxDelayMS: 30_000))
        for _ in 0..<6 { _ = backoff.failed(atMonoNS: 7_000_000, capMS: 30_000, pollIntervalMS: 1_000) }
        #expect(backoff.mayAttempt(atMonoNS: 7_000_000))
    }
}
