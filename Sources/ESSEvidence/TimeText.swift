public import ESSCriteria

/// ISO 8601 text of instants for the evidence files: UTC ("2024-05-01T00:00:00Z") and local
/// with its offset ("2024-05-01T08:00:00+08:00"). Pure, no Foundation, no locale; offsets come
/// from the site's `UTCOffsetTable`.
public enum TimeText {
    /// "YYYY-MM-DDTHH:MM:SSZ" (seconds truncated).
    public static func utc(ms: Int64) -> String {
        let t = LocalTime(utcMS: ms, offsetSeconds: 0)
        return "\(t.date)T\(clock(t.msOfDay))Z"
    }

    /// "YYYY-MM-DDTHH:MM:SS+HH:MM" at the offset in force at `ms`.
    public static func local(ms: Int64, offsets: UTCOffsetTable) -> String {
        let offset = offsets.offsetSeconds(atUTCMS: ms)
        let t = LocalTime(utcMS: ms, offsetSeconds: offset)
        return "\(t.date)T\(clock(t.msOfDay))\(offsetText(offset))"
    }

    /// "+08:00", "-03:30", "+00:00".
    public static func offsetText(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let minutes = abs(seconds) / 60
        return sign + two(minutes / 60) + ":" + two(minutes % 60)
    }

    static func clock(_ msOfDay: Int64) -> String {
        let s = Int(msOfDay / 1000)
        return two(s / 3600) + ":" + two(s / 60 % 60) + ":" + two(s % 60)
    }

    static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
