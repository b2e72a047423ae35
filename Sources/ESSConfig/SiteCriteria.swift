public import ESSCriteria
internal import Foundation

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
    /// `[[site.maintenance]]`: planned outages, in file order, [start, end) in UTC.
    public var maintenance: [MaintenanceWindow]

    public init(
        tariffID: String? = nil, tariffDirectory: String, policyDirectory: String, extraFacts: [String: Double] = [:],
        flatPriceCNYPerKWh: Double? = nil, maintenance: [MaintenanceWindow] = []
    ) {
        self.tariffID = tariffID
        self.tariffDirectory = tariffDirectory
        self.policyDirectory = policyDirectory
        self.extraFacts = extraFacts
        self.flatPriceCNYPerKWh = flatPriceCNYPerKWh
        self.maintenance = maintenance
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
    static let siteKeys = ["tariff", "flat_price_cny_per_kwh", "maintenance"] + numericFacts.map(\.key) + booleanFacts

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
        settings.maintenance = MaintenanceReader.read(site: site)
        if let id = settings.tariffID, let files {
            let path = SiteReader.join(settings.tariffDirectory, id + ".toml")
            let read = files.read(path)
            if case .text(let text) = read {
                _ = TariffReader.read(text: text, file: path, log: log)
            } else if case .refused(let reason) = read {
                site.issue("tariff", "tariff file \(path): \(reason)")
            } else if BuiltInTariffs.calendar(id: id) == nil {
                let inFolder = files.list(settings.tariffDirectory) ?? []
                let known = Set(inFolder + BuiltInTariffs.all.map(\.id)).sorted()
                site.issue("tariff", "no tariff file \(path) and no built-in tariff \"\(id)\"; known: \(known.joined(separator: ", ")) (set tariff_directory)")
            }
        }
        return settings
    }
}

/// Reads `[[site.maintenance]]`: planned outages a site declares, so availability reports
/// planned and unplanned outage apart.
///
///     [[site.maintenance]]
///     start = "2025-03-01T08:00:00+08:00"   # ISO 8601; without an offset: the site's time zone
///     end = "2025-03-01T12:00"
///     reason = "annual inspection"          # optional
///
/// TOML date-times work as well as strings (`start = 2025-03-01T08:00:00+08:00`); a local
/// date-time or a local date (`start = 2025-03-01`, that day's midnight) is site time.
enum MaintenanceReader {
    static let keys = ["start", "end", "reason"]

    static func read(site: TableReader) -> [MaintenanceWindow] {
        let zoneName = site.table["time_zone"]?.value.stringValue
        let zone = zoneName.flatMap { TimeZone(identifier: $0) }
        var windows: [(MaintenanceWindow, TableReader)] = []
        for entry in site.tableArray("maintenance") {
            entry.rejectUnknownKeys(allowed: keys)
            let start = instant(entry, "start", zone: zone)
            let end = instant(entry, "end", zone: zone)
            var reason = ""
            if entry.has("reason"), let r = entry.string("reason") { reason = r }
            guard let start, let end else { continue }
            guard end > start else {
                entry.issue("end", "must be after start (\(utcText(start))); a window is [start, end)")
                continue
            }
            if let (earlier, _) = windows.first(where: { $0.0.startMS < end && start < $0.0.endMS }) {
                entry.issue(
                    "start",
                    "overlaps the window \(utcText(earlier.startMS)) – \(utcText(earlier.endMS)) declared before it; merge them into one")
                continue
            }
            windows.append((MaintenanceWindow(startMS: start, endMS: end, reason: reason), entry))
        }
        return windows.map(\.0)
    }

    /// The instant `key` holds, in UTC ms; nil after recording an issue.
    static func instant(_ table: TableReader, _ key: String, zone: TimeZone?) -> Int64? {
        guard let entry = table.table[key] else {
            table.issue(key, "missing required key; expected a time such as \"2025-03-01T08:00:00+08:00\"")
            return nil
        }
        let text: String
        switch entry.value.kind {
        case .date(let d): text = d.description
        case .dateTime(let d): text = d.description
        case .string(let s): text = s
        default:
            table.issue(key, "expected a time such as 2025-03-01T08:00:00+08:00 (a TOML date-time or a string), found \(entry.value.summary)")
            return nil
        }
        guard let parsed = parse(text) else {
            table.issue(
                key,
                "\"\(text)\" is not a time; expected ISO 8601 such as \"2025-03-01T08:00:00+08:00\", \"2025-03-01T08:00Z\" or \"2025-03-01T08:00\" (site time)")
            return nil
        }
        if let offset = parsed.offsetSeconds { return parsed.localMS - Int64(offset) * 1000 }
        guard let zone else {
            table.issue(key, "\"\(text)\" has no UTC offset and the site has no known time_zone; add one, e.g. +08:00")
            return nil
        }
        // The zone's offset at that local time (the instant an hour either side decides only in a DST change).
        let guess = Date(timeIntervalSince1970: Double(parsed.localMS) / 1000)
        let offset = zone.secondsFromGMT(for: guess.addingTimeInterval(-Double(zone.secondsFromGMT(for: guess))))
        return parsed.localMS - Int64(offset) * 1000
    }

    /// "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH:MM]" → local ms since the epoch and the offset, if given.
    static func parse(_ text: String) -> (localMS: Int64, offsetSeconds: Int?)? {
        if let date = TOMLLocalDate(iso: text) {
            return (Int64(LocalDate(year: date.year, month: date.month, day: date.day).daysSinceEpoch) * 86_400_000, nil)
        }
        guard let t = TOMLDateTime(iso: text) else { return nil }
        let days = LocalDate(year: t.date.year, month: t.date.month, day: t.date.day).daysSinceEpoch
        return (Int64(days) * 86_400_000 + Int64(t.msOfDay), t.offsetSeconds)
    }

    static func utcText(_ ms: Int64) -> String {
        let date = LocalDate(daysSinceEpoch: Int((ms >= 0 ? ms : ms - 86_399_999) / 86_400_000))
        let secs = Int(((ms % 86_400_000) + 86_400_000) % 86_400_000 / 1000)
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(date)T\(pad(secs / 3600)):\(pad(secs / 60 % 60)):\(pad(secs % 60))Z"
    }
}
