/// Converts local wall time to UTC for one time zone: the UTC times (ms) whose local time is
/// `localMS` (local wall time counted as if it were UTC ms since 1970). Usually one; none in a
/// daylight-saving gap; two, earliest first, in the repeated hour. Supplied by the caller
/// (ESSConfig builds one from the site's `time_zone`), so parsing stays pure.
public typealias LocalTimeResolver = @Sendable (_ localMS: Int64) -> [Int64]

/// Parses the time field of an imported row. Pure: no clock, no Foundation; the time zone
/// comes in as a `LocalTimeResolver`.
public enum HistoryTimeParser {
    /// The parsed time: UTC instants (one, or two for an ambiguous local time).
    public enum Result: Sendable, Hashable {
        case utc([Int64])
        case invalid(String)
    }

    /// Parses `text` in `format`. `resolver` is used for local times (required for `.local`).
    public static func parse(_ text: String, format: HistoryImportMap.TimeFormat, resolver: LocalTimeResolver?)
        -> Result
    {
        let trimmed = text.trimmingASCIISpaces
        switch format {
        case .epochSeconds, .epochMilliseconds:
            guard let value = Double(trimmed), value.isFinite, !trimmed.isEmpty,
                trimmed.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
                )
            else {
                return .invalid(
                    "\"\(text)\" is not a number of \(format == .epochSeconds ? "seconds" : "milliseconds") since 1970")
            }
            let ms = format == .epochSeconds ? value * 1000 : value
            guard abs(ms) < 1e15 else { return .invalid("\"\(text)\" is out of range") }
            return .utc([Int64(ms.rounded())])
        case .rfc3339, .local:
            guard let parts = DateTimeParts(trimmed) else {
                let example = format == .rfc3339 ? "2025-01-01T08:00:00+08:00" : "2025-01-01 08:00:00"
                return .invalid("\"\(text)\" is not a date and time like \(example)")
            }
            guard let local = parts.localMS else { return .invalid("\"\(text)\" is not an existing date and time") }
            if let offset = parts.offsetMinutes { return .utc([local - Int64(offset) * 60_000]) }
            if format == .rfc3339 {
                return .invalid(
                    "\"\(text)\" has no UTC offset; add one (Z, +08:00) or set format = \"local\" in [time]")
            }
            guard let resolver else { return .invalid("no time zone to read local time \"\(text)\" in") }
            let candidates = resolver(local)
            if candidates.isEmpty {
                return .invalid(
                    "\"\(text)\" does not exist in the site's time zone (skipped by a daylight-saving change)")
            }
            return .utc(candidates)
        }
    }
}

/// `YYYY-MM-DD[T| ]HH:MM[:SS[.fff…]][Z|±HH:MM|±HHMM|±HH]`; `/` is accepted as date separator.
struct DateTimeParts {
    var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0
    var millisecond = 0
    var offsetMinutes: Int?

    init?(_ text: String) {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ count: Int) -> Int? {
            guard i + count <= b.count else { return nil }
            var v = 0
            for k in 0..<count {
                let c = b[i + k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += count
            return v
        }
        func take(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = digits(4) else { return nil }
        let sep: UInt8 = i < b.count && b[i] == UInt8(ascii: "/") ? UInt8(ascii: "/") : UInt8(ascii: "-")
        guard take(sep), let mo = digits(2), take(sep), let d = digits(2) else { return nil }
        guard take(UInt8(ascii: "T")) || take(UInt8(ascii: " ")) || take(UInt8(ascii: "t")) else { return nil }
        guard let h = digits(2), take(UInt8(ascii: ":")), let mi = digits(2) else { return nil }
        var s = 0
        var ms = 0
        if take(UInt8(ascii: ":")) {
            guard let sec = digits(2) else { return nil }
            s = sec
            if take(UInt8(ascii: ".")) || take(UInt8(ascii: ",")) {
                var scale = 100
                var count = 0
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    ms += Int(b[i] - 48) * scale
                    scale /= 10
                    i += 1
                    count += 1
                }
                guard count > 0 else { return nil }
            }
        }
        if i < b.count {
            if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) {
                offsetMinutes = 0
            } else {
                let sign: Int
                if take(UInt8(ascii: "+")) {
                    sign = 1
                } else if take(UInt8(ascii: "-")) {
                    sign = -1
                } else {
                    return nil
                }
                guard let oh = digits(2), oh <= 23 else { return nil }
                var om = 0
                if take(UInt8(ascii: ":")) {
                    guard let m = digits(2) else { return nil }
                    om = m
                } else if i < b.count {
                    guard let m = digits(2) else { return nil }
                    om = m
                }
                guard om <= 59 else { return nil }
                offsetMinutes = sign * (oh * 60 + om)
            }
            guard i == b.count else { return nil }
        }
        (year, month, day, hour, minute, second, millisecond) = (y, mo, d, h, mi, s, ms)
    }

    /// The wall time as ms since 1970 (as if UTC), nil when the date or time does not exist.
    var localMS: Int64? {
        guard (1...12).contains(month), day >= 1, hour <= 23, minute <= 59, second <= 59 else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= lengths[month - 1] else { return nil }
        let days = CivilCalendar.daysSinceEpoch(year: Int64(year), month: Int64(month), day: Int64(day))
        return ((days * 24 + Int64(hour)) * 60 + Int64(minute)) * 60_000 + Int64(second) * 1000 + Int64(millisecond)
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    var trimmingASCIISpaces: String {
        guard let first = utf8.first, let last = utf8.last else { return self }
        if first != 32, first != 9, last != 32, last != 9 { return self }
        let u = Array(utf8)
        var a = 0
        var b = u.count
        while a < b, u[a] == 32 || u[a] == 9 { a += 1 }
        while b > a, u[b - 1] == 32 || u[b - 1] == 9 { b -= 1 }
        if a == 0, b == u.count { return self }
        return String(decoding: u[a..<b], as: UTF8.self)
    }
}
