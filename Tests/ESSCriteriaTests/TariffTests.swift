import Foundation
import Testing

@testable import ESSCriteria

/// Tariff periods at every boundary, in local time UTC+8, across UTC midnight and month ends.
@Suite("Tariffs")
struct TariffTests {
    /// UTC ms of a local (UTC+8) time.
    static func local(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int) -> Int64 {
        Int64(LocalDate(year: y, month: mo, day: d).daysSinceEpoch) * 86_400_000 + Int64(h * 60 + mi - 8 * 60) * 60_000
    }

    static func kind(_ t: TariffCalendar, _ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int) -> PeriodKind? {
        t.period(atUTCms: local(y, mo, d, h, mi), timeZoneOffsetSeconds: 8 * 3600)
    }

    @Test("built-in calendars are valid")
    func valid() {
        for t in BuiltInTariffs.all { #expect(t.validate().isEmpty, "\(t.id): \(t.validate())") }
        #expect(BuiltInTariffs.all.map(\.id) == ["guangdong-2021", "beijing-2023", "jiangxi-2025", "yunnan-2024"])
    }

    @Test("a broken calendar names its gap, overlap and missing month")
    func invalid() {
        let t = TariffCalendar(
            id: "x", name: "x", document: "", region: "", confidence: .inferred,
            seasons: [
                TariffSeason(name: "a", months: Array(1...11), bands: [TimeBand("00:00", "08:00", .valley, .inferred), TimeBand("09:00", "24:00", .flat, .inferred)]),
                TariffSeason(name: "b", months: [1], bands: [TimeBand("00:00", "12:00", .valley, .inferred), TimeBand("11:00", "24:00", .flat, .inferred)]),
            ], ratios: [:], ratioConfidence: .inferred)
        let problems = t.validate()
        #expect(problems.contains { $0.contains("month 1 is in 2 seasons") })
        #expect(problems.contains { $0.contains("month 12 is in 0 seasons") })
        #expect(problems.contains { $0.contains("season a has a gap at minute 480") })
        #expect(problems.contains { $0.contains("season b has a overlap at minute 660") })
    }

    @Test("Guangdong boundaries, across UTC midnight", arguments: [
        // (h, m, expected) on 2024-03-15
        (0, 0, PeriodKind.valley), (7, 59, .valley), (8, 0, .flat), (9, 59, .flat), (10, 0, .peak), (11, 59, .peak),
        (12, 0, .flat), (13, 59, .flat), (14, 0, .peak), (18, 59, .peak), (19, 0, .flat), (23, 59, .flat),
    ])
    func guangdong(h: Int, m: Int, expected: PeriodKind) {
        #expect(Self.kind(BuiltInTariffs.guangdong2021, 2024, 3, 15, h, m) == expected)
    }

    @Test("local 07:59 / 08:00 is UTC 23:59 / 00:00")
    func utcMidnight() {
        let t = BuiltInTariffs.guangdong2021
        let utc2359 = Int64(LocalDate(year: 2024, month: 6, day: 30).daysSinceEpoch) * 86_400_000 + 86_340_000
        #expect(utc2359 == Self.local(2024, 7, 1, 7, 59))
        #expect(t.period(atUTCms: utc2359, timeZoneOffsetSeconds: 28800) == .valley)
        #expect(t.period(atUTCms: utc2359 + 60_000, timeZoneOffsetSeconds: 28800) == .flat)
        #expect(t.period(atUTCms: utc2359 + 59_999, timeZoneOffsetSeconds: 28800) == .valley)
        // With the offset table, the same.
        #expect(t.period(atUTCms: utc2359, offsets: .chinaStandardTime) == .valley)
        // Local midnight is UTC 16:00 of the day before: 2024-07-01 00:00 local is valley in July.
        #expect(Self.kind(t, 2024, 7, 1, 0, 0) == .valley)
    }

    @Test("Guangdong sharp peak: July–September, month changes, heat days")
    func guangdongSharp() {
        let t = BuiltInTariffs.guangdong2021
        #expect(Self.kind(t, 2024, 6, 30, 11, 0) == .peak)
        #expect(Self.kind(t, 2024, 7, 1, 10, 59) == .peak)
        #expect(Self.kind(t, 2024, 7, 1, 11, 0) == .sharp)
        #expect(Self.kind(t, 2024, 7, 1, 11, 59) == .sharp)
        #expect(Self.kind(t, 2024, 7, 1, 12, 0) == .flat)
        #expect(Self.kind(t, 2024, 8, 15, 14, 59) == .peak)
        #expect(Self.kind(t, 2024, 8, 15, 15, 0) == .sharp)
        #expect(Self.kind(t, 2024, 8, 15, 16, 59) == .sharp)
        #expect(Self.kind(t, 2024, 8, 15, 17, 0) == .peak)
        #expect(Self.kind(t, 2024, 9, 30, 11, 30) == .sharp)
        #expect(Self.kind(t, 2024, 10, 1, 11, 30) == .peak)
        // Local 2024-10-01 11:30 is UTC 03:30; local 2024-09-30 23:59 → 10-01 00:00 crosses the month at UTC 16:00.
        #expect(Self.kind(t, 2024, 9, 30, 23, 59) == .flat)
        #expect(Self.kind(t, 2024, 10, 1, 0, 0) == .valley)
        // A listed heat day in May.
        var hot = t
        hot.overlays[1].dates = [LocalDate(year: 2024, month: 5, day: 20)]
        #expect(Self.kind(hot, 2024, 5, 20, 11, 0) == .sharp)
        #expect(Self.kind(hot, 2024, 5, 21, 11, 0) == .peak)
        #expect(Self.kind(hot, 2024, 5, 19, 16, 0) == .peak)
    }

    @Test("Beijing boundaries and sharp months")
    func beijing() {
        let t = BuiltInTariffs.beijing2023
        let cases: [(Int, Int, PeriodKind)] = [
            (0, 0, .valley), (6, 59, .valley), (7, 0, .flat), (9, 59, .flat), (10, 0, .peak), (12, 59, .peak), (13, 0, .flat),
            (16, 59, .flat), (17, 0, .peak), (21, 59, .peak), (22, 0, .flat), (22, 59, .flat), (23, 0, .valley), (23, 59, .valley),
        ]
        for (h, m, k) in cases { #expect(Self.kind(t, 2024, 4, 10, h, m) == k, "\(h):\(m)") }
        // July–August: 11–13 and 16–17 sharp.
        #expect(Self.kind(t, 2024, 7, 10, 10, 59) == .peak)
        #expect(Self.kind(t, 2024, 7, 10, 11, 0) == .sharp)
        #expect(Self.kind(t, 2024, 7, 10, 12, 59) == .sharp)
        #expect(Self.kind(t, 2024, 7, 10, 13, 0) == .flat)
        #expect(Self.kind(t, 2024, 8, 31, 16, 0) == .sharp)
        #expect(Self.kind(t, 2024, 8, 31, 16, 0) == .sharp)
        #expect(Self.kind(t, 2024, 9, 1, 16, 0) == .flat)
        #expect(Self.kind(t, 2024, 6, 30, 11, 0) == .peak)
        // January and December: 18–21 sharp; across the year end.
        #expect(Self.kind(t, 2024, 11, 30, 18, 0) == .peak)
        #expect(Self.kind(t, 2024, 12, 1, 18, 0) == .sharp)
        #expect(Self.kind(t, 2024, 12, 31, 20, 59) == .sharp)
        #expect(Self.kind(t, 2024, 12, 31, 21, 0) == .peak)
        #expect(Self.kind(t, 2025, 1, 1, 17, 59) == .peak)
        #expect(Self.kind(t, 2025, 1, 1, 18, 0) == .sharp)
        #expect(Self.kind(t, 2025, 2, 1, 18, 0) == .peak)
    }

    @Test("Jiangxi half-hour boundaries and seasons")
    func jiangxi() {
        let t = BuiltInTariffs.jiangxi2025
        let cases: [(Int, Int, PeriodKind)] = [
            (11, 29, .flat), (11, 30, .valley), (11, 59, .valley), (12, 0, .deepValley), (13, 59, .deepValley), (14, 0, .valley),
            (14, 29, .valley), (14, 30, .flat),
        ]
        for (h, m, k) in cases { #expect(Self.kind(t, 2025, 5, 5, h, m) == k, "\(h):\(m)") }
        #expect(Self.kind(t, 2025, 2, 28, 11, 30) == .flat)
        #expect(Self.kind(t, 2025, 3, 1, 11, 30) == .valley)
        #expect(Self.kind(t, 2025, 11, 30, 12, 0) == .deepValley)
        #expect(Self.kind(t, 2025, 12, 1, 12, 0) == .flat)
        #expect(t.band(atUTCms: Self.local(2025, 5, 5, 12, 0), timeZoneOffsetSeconds: 28800)?.confidence == .inferred)
        #expect(t.band(atUTCms: Self.local(2025, 5, 5, 11, 30), timeZoneOffsetSeconds: 28800)?.confidence == .secondary)
    }

    @Test("Yunnan: two valley windows a day")
    func yunnan() {
        let t = BuiltInTariffs.yunnan2024
        let cases: [(Int, Int, PeriodKind)] = [
            (0, 0, .flat), (1, 59, .flat), (2, 0, .valley), (5, 59, .valley), (6, 0, .flat), (6, 59, .flat), (7, 0, .peak),
            (8, 59, .peak), (9, 0, .flat), (11, 59, .flat), (12, 0, .valley), (15, 59, .valley), (16, 0, .flat), (17, 59, .flat),
            (18, 0, .peak), (23, 59, .peak),
        ]
        for (h, m, k) in cases { #expect(Self.kind(t, 2024, 12, 31, h, m) == k, "\(h):\(m)") }
    }

    @Test("holidays replace the day's table, and only on the listed date")
    func holidays() {
        var t = BuiltInTariffs.beijing2023
        t.holidays = [LocalDate(year: 2024, month: 10, day: 1)]
        t.holidayBands = [TimeBand("00:00", "24:00", .flat, .siteChoice)]
        #expect(t.validate().isEmpty)
        #expect(Self.kind(t, 2024, 10, 1, 10, 0) == .flat)
        #expect(Self.kind(t, 2024, 10, 1, 23, 59) == .flat)
        #expect(Self.kind(t, 2024, 10, 2, 0, 0) == .valley)
        #expect(Self.kind(t, 2024, 9, 30, 23, 59) == .valley)
    }

    @Test("prices win over ratios; ratios need a flat price")
    func prices() {
        var t = BuiltInTariffs.yunnan2024
        #expect(t.priceCNYPerKWh(.peak, flatPriceCNYPerKWh: nil) == nil)
        #expect(t.priceCNYPerKWh(.peak, flatPriceCNYPerKWh: 0.5) == 0.75)
        t.pricesCNYPerKWh = [.peak: 0.9]
        #expect(t.priceCNYPerKWh(.peak, flatPriceCNYPerKWh: 0.5) == 0.9)
    }

    @Test("offset tables: fixed, per-day transitions, and from an IANA zone with DST")
    func offsets() throws {
        #expect(UTCOffsetTable.chinaStandardTime.offsetSeconds(atUTCMS: 0) == 28800)
        let shanghai = try #require(UTCOffsetTable(timeZoneIdentifier: "Asia/Shanghai", fromUTCMS: Self.local(2024, 1, 1, 0, 0), toUTCMS: Self.local(2025, 1, 1, 0, 0)))
        #expect(shanghai.transitions.count == 1)
        #expect(shanghai.offsetSeconds(atUTCMS: Self.local(2024, 7, 1, 0, 0)) == 28800)
        // New York 2024: DST from 2024-03-10 07:00 UTC to 2024-11-03 06:00 UTC.
        let start = Int64(LocalDate(year: 2024, month: 1, day: 1).daysSinceEpoch) * 86_400_000
        let ny = try #require(UTCOffsetTable(timeZoneIdentifier: "America/New_York", fromUTCMS: start, toUTCMS: start + 366 * 86_400_000))
        let dstStart = Int64(LocalDate(year: 2024, month: 3, day: 10).daysSinceEpoch) * 86_400_000 + 7 * 3_600_000
        #expect(ny.offsetSeconds(atUTCMS: dstStart - 1000) == -5 * 3600)
        #expect(ny.offsetSeconds(atUTCMS: dstStart) == -4 * 3600)
        let dstEnd = Int64(LocalDate(year: 2024, month: 11, day: 3).daysSinceEpoch) * 86_400_000 + 6 * 3_600_000
        #expect(ny.offsetSeconds(atUTCMS: dstEnd - 1000) == -4 * 3600)
        #expect(ny.offsetSeconds(atUTCMS: dstEnd) == -5 * 3600)
        #expect(UTCOffsetTable(timeZoneIdentifier: "Nowhere/Nothing", fromUTCMS: 0, toUTCMS: 1) == nil)
    }

    @Test("local dates: epoch arithmetic and ISO parsing")
    func dates() {
        #expect(LocalDate(daysSinceEpoch: 0) == LocalDate(year: 1970, month: 1, day: 1))
        #expect(LocalDate(year: 2024, month: 2, day: 29).daysSinceEpoch == 19782)
        #expect(LocalDate(iso: "2024-02-29")?.description == "2024-02-29")
        #expect(LocalDate(iso: "2023-02-29") == nil)
        #expect(LocalDate(iso: "2024-13-01") == nil)
        #expect(LocalDate(iso: "24-01-01") == nil)
        #expect(LocalTime(utcMS: -1, offsetSeconds: 0).date == LocalDate(year: 1969, month: 12, day: 31))
        #expect(TimeBand.minutes("24:00") == 1440)
        #expect(TimeBand.minutes("24:30") == nil)
        #expect(TimeBand.minutes("7:00") == nil)
    }
}
