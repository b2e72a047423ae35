import ESSCore

/// A civil date in the site's time zone (days since 1970-01-01 ⇄ year, month, day through
/// `CivilCalendar`); not time zones (see `UTCOffsetTable`).
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses "YYYY-MM-DD"; nil for anything else or an impossible date.
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        let date = LocalDate(year: y, month: m, day: d)
        guard (1...12).contains(m), d >= 1, LocalDate(daysSinceEpoch: date.daysSinceEpoch) == date else { return nil }
        self = date
    }

    /// The date `days` days after 1970-01-01 (`CivilCalendar`).
    public init(daysSinceEpoch days: Int) {
        let date = CivilCalendar.date(daysSinceEpoch: Int64(days))
        self.init(year: Int(date.year), month: Int(date.month), day: Int(date.day))
    }

    /// Days since 1970-01-01 (`CivilCalendar`).
    public var daysSinceEpoch: Int {
        Int(CivilCalendar.daysSinceEpoch(year: Int64(year), month: Int64(month), day: Int64(day)))
    }

    /// "YYYY-MM-DD".
    public var description: String {
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (a: LocalDate, b: LocalDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }
}

/// A position in local time: the civil date and the minute of that day (0..<1440).
public struct LocalTime: Sendable, Hashable {
    public var date: LocalDate
    public var minuteOfDay: Int
    /// Milliseconds since local midnight.
    public var msOfDay: Int64

    /// Local time of `utcMS` at a UTC offset of `offsetSeconds` (east positive: +28800 for UTC+8).
    public init(utcMS: Int64, offsetSeconds: Int) {
        let local = utcMS + Int64(offsetSeconds) * 1000
        let day = local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000
        msOfDay = local - day * 86_400_000
        minuteOfDay = Int(msOfDay / 60_000)
        date = LocalDate(daysSinceEpoch: Int(day))
    }
}

/// The site's UTC offset over time, as a sorted list of transitions: from `fromUTCMS` on, the
/// offset is `offsetSeconds`. Owns lookups only; building it from an IANA zone is in
/// `UTCOffsetTable+Foundation.swift`. A fixed zone (Asia/Shanghai: +8 h, no DST) is one entry.
public struct UTCOffsetTable: Sendable, Hashable {
    public struct Transition: Sendable, Hashable {
        public var fromUTCMS: Int64
        public var offsetSeconds: Int
        public init(fromUTCMS: Int64, offsetSeconds: Int) {
            self.fromUTCMS = fromUTCMS
            self.offsetSeconds = offsetSeconds
        }
    }

    /// Sorted by `fromUTCMS`; the first entry also applies before its own start.
    public private(set) var transitions: [Transition]

    public init(transitions: [Transition]) {
        let sorted = transitions.sorted { $0.fromUTCMS < $1.fromUTCMS }
        self.transitions = sorted.isEmpty ? [Transition(fromUTCMS: .min, offsetSeconds: 0)] : sorted
    }

    /// A zone with one offset for all time.
    public init(fixedOffsetSeconds: Int) {
        self.init(transitions: [Transition(fromUTCMS: .min, offsetSeconds: fixedOffsetSeconds)])
    }

    /// China Standard Time, UTC+8, no daylight saving time.
    public static let chinaStandardTime = UTCOffsetTable(fixedOffsetSeconds: 8 * 3600)

    /// The offset in force at `utcMS`.
    public func offsetSeconds(atUTCMS utcMS: Int64) -> Int {
        var lo = 0
        var hi = transitions.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if transitions[mid].fromUTCMS <= utcMS { lo = mid } else { hi = mid - 1 }
        }
        return transitions[lo].offsetSeconds
    }

    /// Local date and minute of `utcMS`.
    public func localTime(atUTCMS utcMS: Int64) -> LocalTime {
        LocalTime(utcMS: utcMS, offsetSeconds: offsetSeconds(atUTCMS: utcMS))
    }
}
