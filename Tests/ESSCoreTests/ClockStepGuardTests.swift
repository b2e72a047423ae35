import ESSCore
import Testing

/// Issue 11, finding 7: scans under a wall clock that is stepped back (an excursion) or not yet
/// synchronised reach the store at their true time. Scans are simulated one per second with a
/// true clock (`base + mono`) and the gateway's wall clock (true + its error at that moment);
/// what the guard releases is compared with the true times, computed here, not by the guard.
@Suite struct ClockStepGuardTests {
    static let base: Int64 = 1_750_000_000_000

    /// Feeds one scan per second for `seconds` s: the wall clock's error at mono second s is
    /// `error(s)`; returns what was released, and the events.
    static func run(
        seconds: Int, waitForSync: Bool = false, synchronisedFrom: Int = 0, settings: ClockStepGuard.Settings = .init(),
        error: (Int) -> Int64
    ) -> (released: [Scan], events: [ClockStepGuard.Event], held: Int) {
        var guardState = ClockStepGuard(settings: settings, waitForSync: waitForSync, nowMonoMS: 0)
        var released: [Scan] = []
        var events: [ClockStepGuard.Event] = []
        for s in 0..<seconds {
            let mono = Int64(s) * 1000
            let wall = base + mono + error(s)
            let scan = Scan(deviceID: "d", timestampMS: wall, values: [Double(s)], qualities: [.ok])
            let out = guardState.accept(scan, wallMS: wall, monoMS: mono, synchronised: s >= synchronisedFrom)
            released += out.release
            events += out.events
        }
        return (released, events, guardState.heldCount)
    }

    /// The finding: a 25 s excursion to +2 h, then corrected. Every scan is stored once, at its
    /// true time, in order; none at +2 h.
    @Test func anExcursionIsRestampedToTheTrueTime() {
        let (released, events, held) = Self.run(seconds: 100) { s in (40..<65).contains(s) ? 7_200_000 : 0 }
        #expect(held == 0)
        let values = released.map { Int($0.values[0]) }
        #expect(values == Array(0..<100), "every scan once, in order: \(values)")
        let wrong = released.filter { $0.timestampMS != Self.base + Int64($0.values[0]) * 1000 }.map { Int($0.values[0]) }
        #expect(wrong.isEmpty, "scans not at their true time: \(wrong)")
        #expect(events.contains(.released(count: 25, restampedByMS: -7_200_000, reason: .forwardStep)), "\(events)")
    }

    /// A forward step that stands (a clock that was 1 h behind, corrected at 50 s): the scans
    /// after it are held for the confirmation window, then stored as stamped.
    @Test func aForwardStepThatStandsIsStoredAfterTheWindow() {
        let settings = ClockStepGuard.Settings(confirmWindowMS: 30_000)
        let (released, _, held) = Self.run(seconds: 120, settings: settings) { s in s < 50 ? -3_600_000 : 0 }
        let values = released.map { Int($0.values[0]) }
        #expect(values == Array(0..<120), "every scan once, in order")
        // Before the step: stamped by the (then) clock; after it: the true time.
        let afterStep = released.filter { $0.values[0] >= 50 }
        #expect(afterStep.allSatisfy { $0.timestampMS == Self.base + Int64($0.values[0]) * 1000 })
        #expect(held == 0)
    }

    /// A backward step with nothing held is applied at once: the next scans are stored at the true
    /// time (no two-hour hold).
    @Test func aBackwardStepResumesAtOnce() {
        let (released, events, _) = Self.run(seconds: 20) { s in s < 10 ? 7_200_000 : 0 }
        #expect(released.count == 20)
        #expect(released.suffix(10).allSatisfy { $0.timestampMS == Self.base + Int64($0.values[0]) * 1000 })
        #expect(events.contains(.stepped(stepMS: -7_200_000, holding: nil)))
    }

    /// Waiting for synchronisation: the RTC was 3 h ahead; the clock is synchronised (stepped
    /// back) at 30 s. Scans 0..<30 are held and stored at their true time.
    @Test func waitingForSyncRestampsWhatWasHeld() {
        let (released, events, held) = Self.run(seconds: 40, waitForSync: true, synchronisedFrom: 30) { s in
            s < 30 ? 10_800_000 : 0
        }
        #expect(held == 0)
        #expect(released.map { Int($0.values[0]) } == Array(0..<40))
        #expect(released.allSatisfy { $0.timestampMS == Self.base + Int64($0.values[0]) * 1000 }, "all at their true time")
        #expect(events.contains(.synchronised(waitedMS: 30_000)), "\(events)")
    }

    /// Never synchronised: after the timeout the held scans are stored as stamped, none lost.
    @Test func syncTimeoutReleasesAsStamped() {
        let settings = ClockStepGuard.Settings(syncTimeoutMS: 10_000)
        let (released, events, held) = Self.run(seconds: 15, waitForSync: true, synchronisedFrom: 1000, settings: settings) { _ in 0 }
        #expect(held == 0 && released.count == 15)
        #expect(events.contains(.syncTimedOut(heldCount: 10)), "\(events)")
    }

    /// The hold is bounded: beyond `maxHeld` the oldest go through as stamped (counted).
    @Test func theHoldIsBounded() {
        let settings = ClockStepGuard.Settings(confirmWindowMS: 3_600_000, maxHeld: 5)
        var guardState = ClockStepGuard(settings: settings, waitForSync: false)
        var released = 0
        for s in 0..<20 {
            let mono = Int64(s) * 1000
            let wall = Self.base + mono + (s >= 2 ? 7_200_000 : 0)
            released += guardState.accept(
                Scan(deviceID: "d", timestampMS: wall, values: [0], qualities: [.ok]), wallMS: wall, monoMS: mono,
                synchronised: true
            ).release.count
        }
        #expect(guardState.heldCount == 5 && released == 15 && guardState.releasedUnconfirmed == 13)
    }
}

/// The rate limiter behind "wall clock stepped" (39,041 lines in 90 s before the fix).
@Suite struct LogRateLimiterTests {
    @Test func aFlappingClockGivesOneLineAMinuteWithCounts() {
        var limiter = LogRateLimiter(intervalMS: 60_000)
        var lines: [(Int, Int64)] = []
        // A step every 2 ms for 90 s, alternating ±(1000 + k % 7) ms.
        for k in 0..<45_000 {
            let step = Int64(k % 2 == 0 ? 1000 + k % 7 : -(1000 + k % 7))
            let decision = limiter.record(nowMS: Int64(k) * 2, magnitude: step)
            if decision.emit { lines.append((decision.suppressed, decision.largest)) }
        }
        #expect(lines.count == 2, "\(lines.count) lines in 90 s")
        #expect(lines[0].0 == 0 && lines[1].0 == 29_999, "\(lines)")
        #expect(lines[1].1 == 1006)
    }
}
