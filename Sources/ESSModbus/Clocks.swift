#if canImport(Glibc)
    import Glibc
#endif

/// The two clocks a poller needs: the monotonic clock drives sleeping and measuring, the
/// wall clock gives scan timestamps and the boundaries polls align to.
public enum PollClock {
    /// Nanoseconds on CLOCK_MONOTONIC (never steps).
    @inline(__always)
    public static func monotonicNS() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Nanoseconds since 1970-01-01 UTC on CLOCK_REALTIME (may step: NTP, RTC).
    @inline(__always)
    public static func wallNS() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Sleeps until CLOCK_MONOTONIC reaches `deadlineNS` (`clock_nanosleep`, absolute,
    /// restarted after signals).
    public static func sleep(untilMonotonicNS deadlineNS: Int64) {
        var ts = timespec(tv_sec: Int(deadlineNS / 1_000_000_000), tv_nsec: Int(deadlineNS % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }
}
