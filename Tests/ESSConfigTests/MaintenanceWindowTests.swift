import ESSConfig
import ESSCriteria
import Foundation
import Testing

/// `[[site.maintenance]]`: planned outages in the site file, read into `SiteCriteriaSettings`
/// (errors are the `maintenance_windows` testcase).
@Suite struct MaintenanceWindowTests {
    @Test func windowsAreReadInUTC() throws {
        let path = "\(ConfigurationCaseTests.casesDirectory)/valid_maintenance/site.toml"
        let settings = try ConfigurationLoader.loadSiteCriteria(path: path)
        // 2025-03-01T08:00+08:00 = 00:00Z; "2025-03-01T12:00" in Asia/Shanghai = 04:00Z.
        let march1 = Int64(LocalDate(year: 2025, month: 3, day: 1).daysSinceEpoch) * 86_400_000
        let april1 = Int64(LocalDate(year: 2025, month: 4, day: 1).daysSinceEpoch) * 86_400_000
        let may1 = Int64(LocalDate(year: 2025, month: 5, day: 1).daysSinceEpoch) * 86_400_000
        #expect(
            settings.maintenance == [
                MaintenanceWindow(startMS: march1, endMS: march1 + 4 * 3_600_000, reason: "annual inspection"),
                // A bare date is local midnight (16:00Z the day before); the end is given in UTC.
                MaintenanceWindow(startMS: april1 - 8 * 3_600_000, endMS: april1 + 86_400_000, reason: ""),
                // TOML date-times, not strings: 08:00+08:00 = 00:00Z; local 12:00 = 04:00Z.
                MaintenanceWindow(startMS: may1, endMS: may1 + 4 * 3_600_000, reason: "PCS firmware update"),
            ])
    }
}
