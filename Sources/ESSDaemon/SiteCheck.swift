public import ESSConfig
public import ESSCore
import ESSStore

/// The one validation of a site file that essd's start-up, its reload (SIGHUP),
/// `essd --check-config` and `essctl config check` share, so that what the check calls valid
/// is what start-up accepts: the loader's checks (every issue at its FILE:LINE: KEY), then the
/// store's plan for the site (`StoreWriter.plan`, the sizes and names the store computes before
/// it writes anything). The loader refuses everything the plan would, at its line; the plan is
/// asked as well so that a rule only the store knows cannot slip past the check. Reads the
/// files; writes nothing.
public enum SiteCheck {
    /// The validated site of `path`, or every problem found.
    public static func load(path: String) throws(ConfigurationError) -> SiteConfiguration {
        let site = try ConfigurationLoader.loadSite(path: path)
        try checkStorePlan(site, file: path)
        return site
    }

    /// Throws the store plan's refusal of `site` as an issue of `file` (key `store`).
    public static func checkStorePlan(_ site: SiteConfiguration, file: String) throws(ConfigurationError) {
        do {
            _ = try StoreWriter.plan(
                siteID: site.site.id, schemas: site.seriesSchemas, tiers: site.store.tiers,
                rawBudgetBytes: site.store.rawBudgetBytes, pollIntervalsMS: site.seriesPollIntervalsMS)
        } catch {
            throw ConfigurationError(issues: [
                ConfigurationIssue(file: file, line: 0, key: "store", message: "the store refuses this configuration: \(error)")
            ])
        }
    }
}
