import ESSCore
import Testing

@Suite struct CivilCalendarTests {
    /// Known dates (epoch, leap days, century rules, before 1970) and a round trip over every
    /// day from 1600 to 2400 with day counts that step by exactly one.
    @Test func knownDatesAndRoundTrip() {
        #expect(CivilCalendar.daysSinceEpoch(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilCalendar.daysSinceEpoch(year: 2025, month: 1, day: 1) == 20_089)
        #expect(CivilCalendar.daysSinceEpoch(year: 2000, month: 2, day: 29) == 11_016)
        #expect(CivilCalendar.daysSinceEpoch(year: 1969, month: 12, day: 31) == -1)
        #expect(CivilCalendar.date(daysSinceEpoch: 20_089) == (2025, 1, 1))
        #expect(CivilCalendar.date(daysSinceEpoch: -719_468) == (0, 3, 1))
        #expect(CivilCalendar.date(daysSinceEpoch: CivilCalendar.daysSinceEpoch(year: 2100, month: 3, day: 1) - 1) == (2100, 2, 28))
        var expected = CivilCalendar.daysSinceEpoch(year: 1600, month: 1, day: 1)
        for year: Int64 in 1600...2400 {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            for month: Int64 in 1...12 {
                let length: Int64 = month == 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].contains(month) ? 30 : 31
                for day in 1...length {
                    let days = CivilCalendar.daysSinceEpoch(year: year, month: month, day: day)
                    guard days == expected, CivilCalendar.date(daysSinceEpoch: days) == (year, month, day) else {
                        Issue.record("\(year)-\(month)-\(day): \(days), expected \(expected)")
                        return
                    }
                    expected += 1
                }
            }
        }
    }
}
