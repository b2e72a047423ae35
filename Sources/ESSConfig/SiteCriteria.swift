internal import ESSCriteria

/// What a site file says for indicators and policy checks, beyond `SiteFacts`: the tariff it
/// is billed on, where tariff and policy files live, and the design facts some policies
/// compare (`design_dod_percent`, ...). Owns these settings only; the files they name are
/// read by `ConfigurationLoader.tariff(id:directory:)` and `policy(id:directory:)`.
public struct SiteCriteriaSettings: Sendable, Hashable {
    /// `[site] tariff`: a `Config/tariffs/<id>.toml` base name (or a built-in tariff id); nil: none.
    public var tariffID: String?
    /// `tariff_directory` (top level), resolved against the site file's folder; default "tariffs".
    public var tariffDirectory: String
    /// `policy_directory` (top level), resolved against the site file's folder; default "policies".
    public var policyDirectory: String
    /// Numeric facts for `PolicyContext.extraFacts` (booleans as 1/0).
    public var extraFacts: [String: Double]
    /// `[site] flat_price_cny_per_kwh`: values peak shifting in CNY at the tariff's ratios.
    public var flatPriceCNYPerKWh: Double?

    public init(
        tariffID: String? = nil, tariffDirectory: String, policyDirectory: String, extraFacts: [String: Double] = [:],
        flatPriceCNYPerKWh: Double? = nil
    ) {
        self.tariffID = tariffID
        self.tariffDirectory = tariffDirectory
        self.policyDirectory = policyDirectory
        self.extraFacts = extraFacts
        self.flatPriceCNYPerKWh = flatPriceCNYPerKWh
    }
}

/// Reads the criteria keys of a site file (see `SiteCriteriaSettings`) and checks that the
/// tariff it names exists and is valid.
enum SiteCriteriaReader {
    static let topKeys = ["tariff_directory", "policy_directory"]
    /// Numeric design and investment facts the shipped policies compare, with their rule.
    static let numericFacts: [(key: String, rule: String, check: @Sendable (Double) -> Bool)] = [
        ("design_dod_percent", "in 0...100", { (0...100).contains($0) }),
        ("design_cycles", "of at least 0", { $0 >= 0 }),
        ("design_life_years", "of at least 0", { $0 >= 0 }),
        ("small_batch_test_investment_cny", "of at least 0", { $0 >= 0 }),
        ("fixed_asset_investment_cny", "of at least 0", { $0 >= 0 }),
    ]
    static let booleanFacts = ["outside_5th_ring_road"]
    static let siteKeys = ["tariff", "flat_price_cny_per_kwh"] + numericFacts.map(\.key) + booleanFacts

    /// The settings, recording issues in `log`; `site` is the `[site]` table when readable.
    /// With `files`, a named tariff file must exist (or be built in) and parse without issue.
    static func read(top: TableReader, site: TableReader?, file: String, files: ProfileFiles?, log: IssueLog) -> SiteCriteriaSettings {
        let folder = SiteReader.directory(of: file)
        func resolve(_ key: String, _ fallback: String) -> String {
            guard let dir = top.string(key) else { return SiteReader.join(folder, fallback) }
            return dir.hasPrefix("/") ? dir : SiteReader.join(folder, dir)
        }
        var settings = SiteCriteriaSettings(
            tariffDirectory: resolve("tariff_directory", "tariffs"), policyDirectory: resolve("policy_directory", "policies"))
        guard let site else { return settings }
        settings.tariffID = site.identifier("tariff", allowHyphen: true)
        settings.flatPriceCNYPerKWh = site.double("flat_price_cny_per_kwh", ruleText: "greater than 0") { $0 > 0 }
        for fact in numericFacts where site.has(fact.key) {
            if let v = site.double(fact.key, ruleText: fact.rule, { fact.check($0) }) { settings.extraFacts[fact.key] = v }
        }
        for key in booleanFacts where site.has(key) {
            if let b = site.bool(key) { settings.extraFacts[key] = b ? 1 : 0 }
        }
        if let id = settings.tariffID, let files {
            let path = SiteReader.join(settings.tariffDirectory, id + ".toml")
            if let text = files.read(path) {
                _ = TariffReader.read(text: text, file: path, log: log)
            } else if BuiltInTariffs.calendar(id: id) == nil {
                let inFolder = files.list(settings.tariffDirectory) ?? []
                let known = Set(inFolder + BuiltInTariffs.all.map(\.id)).sorted()
                site.issue("tariff", "no tariff file \(path) and no built-in tariff \"\(id)\"; known: \(known.joined(separator: ", ")) (set tariff_directory)")
            }
        }
        return settings
    }
}
