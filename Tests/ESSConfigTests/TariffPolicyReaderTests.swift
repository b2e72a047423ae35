import ESSConfig
import ESSCore
import ESSCriteria
import Foundation
import Testing

/// Tariff and policy files parse into exactly the built-in data, and every bad key is reported
/// as FILE:LINE: KEY: MESSAGE.
@Suite struct TariffPolicyReaderTests {
    static let root = ExampleConfigTests.repoRoot

    static func files(_ folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(folder)")) ?? []
        return names.filter { $0.hasSuffix(".toml") }.sorted()
    }

    // MARK: Shipped files

    @Test func everyBuiltInHasAFile() {
        #expect(Self.files("Config/tariffs") == BuiltInTariffs.all.map { "\($0.id).toml" }.sorted())
        #expect(Self.files("Config/policies") == BuiltInPolicies.all.map { "\($0.id).toml" }.sorted())
    }

    @Test(arguments: files("Config/tariffs"))
    func tariffFileEqualsBuiltIn(name: String) throws {
        let path = "\(Self.root)/Config/tariffs/\(name)"
        let tariff: TariffCalendar
        do { tariff = try ConfigurationLoader.loadTariff(path: path) } catch {
            Issue.record("\(name) has issues:\n\(error)")
            return
        }
        let builtIn = try #require(BuiltInTariffs.calendar(id: tariff.id))
        #expect(tariff == builtIn)
    }

    @Test(arguments: files("Config/policies"))
    func policyFileEqualsBuiltIn(name: String) throws {
        let path = "\(Self.root)/Config/policies/\(name)"
        let policy: Policy
        do { policy = try ConfigurationLoader.loadPolicy(path: path) } catch {
            Issue.record("\(name) has issues:\n\(error)")
            return
        }
        let builtIn = try #require(BuiltInPolicies.policy(id: policy.id))
        #expect(policy.criteria == builtIn.criteria)
        #expect(policy.money == builtIn.money)
        #expect(policy == builtIn)
    }

    @Test func lookupPrefersTheFileAndFallsBackToBuiltIns() throws {
        let dir = "\(Self.root)/Config/policies"
        let fromFile = try ConfigurationLoader.policy(id: "zhejiang-2021", directory: dir)
        #expect(fromFile.path == "\(dir)/zhejiang-2021.toml")
        let builtIn = try ConfigurationLoader.policy(id: "zhejiang-2021", directory: "/nonexistent")
        #expect(builtIn.path == nil)
        #expect(builtIn.policy == fromFile.policy)
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.policy(id: "atlantis-2030", directory: dir) }
        let tariff = try ConfigurationLoader.tariff(id: "yunnan-2024", directory: "/nonexistent")
        #expect(tariff.path == nil && tariff.tariff == BuiltInTariffs.yunnan2024)
    }

    // MARK: Bad tariff files

    static func tariffIssues(_ text: String, file: String = "t.toml") -> [String] {
        do {
            _ = try ConfigurationLoader.parseTariff(text: text, file: file)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    static let goodTariff = """
        id = "t"
        name = "test"
        document = "doc"
        region = "nowhere"
        confidence = "S"
        holidays = ["2025-10-01"]

        [ratios]
        peak = 1.5
        flat = 1
        valley = 0.5

        [[season]]
        name = "all-year"
        months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        bands = [
            { from = "00:00", to = "11:30", kind = "valley", confidence = "S" },
            { from = "11:30", to = "24:00", kind = "peak", confidence = "I" },
        ]
        """

    @Test func aMinimalTariffParses() throws {
        let t = try ConfigurationLoader.parseTariff(text: Self.goodTariff, file: "dir/t.toml")
        #expect(t.ratioConfidence == .secondary, "ratio_confidence defaults to confidence")
        #expect(t.seasons[0].bands[1] == TimeBand(startMinute: 690, endMinute: 1440, kind: .peak, confidence: .inferred))
        #expect(t.holidays == [LocalDate(year: 2025, month: 10, day: 1)])
        #expect(t.pricesCNYPerKWh == nil && t.overlays.isEmpty)
    }

    @Test func everyBadTariffKeyIsReportedWithItsLine() {
        let text = Self.goodTariff
            .replacingOccurrences(of: "region = \"nowhere\"", with: "region = \"nowhere\"\ncolour = \"red\"")
            .replacingOccurrences(of: "valley = 0.5", with: "valley = 0.5\nshoulder = 0.7")
            .replacingOccurrences(of: "to = \"11:30\", kind = \"valley\"", with: "to = \"11:75\", kind = \"trough\"")
            .replacingOccurrences(of: "confidence = \"I\"", with: "confidence = \"maybe\", note = 1")
        #expect(Self.tariffIssues(text) == [
            "t.toml:5: colour: unknown key; allowed keys here: id, name, document, region, confidence, ratio_confidence, holidays, notes, ratios, prices_cny_per_kwh, holiday, season, overlay",
            "t.toml:13: ratios.shoulder: unknown key; allowed keys here: sharp, peak, flat, valley, deep_valley",
            "t.toml:19: season[0].bands[0].to: \"11:75\" is not a time; expected \"HH:MM\" from \"00:00\" to \"24:00\", e.g. \"11:30\"",
            "t.toml:19: season[0].bands[0].kind: \"trough\" is not allowed; expected one of: sharp, peak, flat, valley, deep_valley",
            "t.toml:20: season[0].bands[1].note: unknown key; allowed keys here: from, to, kind, confidence",
            "t.toml:20: season[0].bands[1].confidence: \"maybe\" is not allowed; expected one of: V, S, I, site choice",
        ])
    }

    @Test func calendarProblemsAndNamesAreReported() {
        let gap = Self.goodTariff.replacingOccurrences(of: "from = \"11:30\", to = \"24:00\"", with: "from = \"12:00\", to = \"24:00\"")
        #expect(Self.tariffIssues(gap) == [
            "t.toml:13: season: tariff t: season all-year has a gap at minute 690; bands must cover 00:00–24:00 once; fix the bands or months"
        ])
        let months = Self.goodTariff.replacingOccurrences(of: "[1, 2, 3,", with: "[1, 2, 13,")
        #expect(Self.tariffIssues(months) == ["t.toml:15: season[0].months: expected months 1...12, found integer 13"])
        #expect(Self.tariffIssues(Self.goodTariff, file: "other.toml") == [
            "other.toml:1: id: \"t\" differs from the file name \"other.toml\"; name the file t.toml or change id"
        ])
        #expect(Self.tariffIssues("id = \"t\"\nname = ") .first?.hasPrefix("t.toml:2: syntax error") == true)
    }

    // MARK: Bad policy files

    static func policyIssues(_ text: String) -> [String] {
        do {
            _ = try ConfigurationLoader.parsePolicy(text: text, file: "p.toml")
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    static let goodPolicy = """
        id = "p"
        title_en = "Test"
        title_zh = "测试"
        document = "doc"
        issuer = "me"
        date = "2025"

        [[criterion]]
        id = "p.eff"
        title_en = "Efficiency"
        title_zh = "效率"
        clause = { document = "doc", article = "1" }
        subject = "indicator"
        indicator = "efficiency.ac_round_trip_percent"
        comparison = "at_least"
        threshold = 85
        unit = "%"
        provenance = "doc"
        confidence = "V"

        [[criterion]]
        id = "p.route"
        title_en = "Route"
        title_zh = "路线"
        clause = { document = "doc", article = "2" }
        subject = "site_fact"
        fact = "technology_route"
        comparison = "one_of"
        threshold = ["lithium_iron_phosphate"]
        provenance = "doc"
        confidence = "S"

        [[money]]
        id = "p.grant"
        title_en = "Grant"
        title_zh = "补贴"
        clause = { document = "doc", article = "3" }
        formula = "per_kwh_discharged"
        rate_cny_per_kwh = 0.3
        cap_cny = 3000000
        conditions = ["p.eff"]
        provenance = "doc"
        confidence = "V"
        """

    @Test func aMinimalPolicyParses() throws {
        let p = try ConfigurationLoader.parsePolicy(text: Self.goodPolicy, file: "p.toml")
        #expect(p.criteria.map(\.comparison) == [.atLeast(85), .oneOf(["lithium_iron_phosphate"])])
        #expect(p.criteria[1].subject == .siteFact("technology_route"))
        #expect(p.money[0].formula == .perKWhDischarged(rateCNYPerKWh: 0.3, capCNY: 3_000_000))
        #expect(p.tariffID == nil && p.sourceText == nil && p.notes.isEmpty)
    }

    @Test func everyBadPolicyKeyIsReportedWithItsLine() {
        let text = Self.goodPolicy
            .replacingOccurrences(of: "date = \"2025\"", with: "date = \"2025\"\nyear = 2025")
            .replacingOccurrences(of: "indicator = \"efficiency.ac_round_trip_percent\"", with: "indicator = \"efficiency.magic\"\nfact = \"x\"")
            .replacingOccurrences(of: "threshold = [\"lithium_iron_phosphate\"]", with: "threshold = 3")
            .replacingOccurrences(of: "cap_cny = 3000000", with: "cap_cny = 3000000\nshare = 0.3")
            .replacingOccurrences(of: "conditions = [\"p.eff\"]", with: "conditions = [\"p.nothing\"]")
        let issues = Self.policyIssues(text)
        #expect(issues.count == 5, "\(issues.joined(separator: "\n"))")
        #expect(issues.first == "p.toml:7: year: unknown key; allowed keys here: id, title_en, title_zh, document, issuer, date, source_text, tariff, notes, criterion, money")
        #expect(issues.contains { $0.hasPrefix("p.toml:15: criterion[0].indicator: \"efficiency.magic\" is no indicator; known ids: ") })
        #expect(issues.contains("p.toml:16: criterion[0].fact: fact belongs to subject = \"site_fact\", but subject is \"indicator\"; use indicator"))
        #expect(issues.contains("p.toml:31: criterion[1].threshold: expected an array of strings, found integer 3"))
        #expect(issues.contains { $0.hasPrefix("p.toml:43: money[0].share: unknown key; allowed keys here: ") })
        // The condition is checked only once the rest is valid.
        let condition = Self.policyIssues(Self.goodPolicy.replacingOccurrences(of: "conditions = [\"p.eff\"]", with: "conditions = [\"p.nothing\"]"))
        #expect(condition == ["p.toml:41: money[0].conditions: \"p.nothing\" is no criterion of this policy; criteria: p.eff, p.route"])
        let duplicate = Self.policyIssues(Self.goodPolicy.replacingOccurrences(of: "id = \"p.route\"", with: "id = \"p.eff\""))
        #expect(duplicate == ["p.toml:22: criterion[1].id: criterion id \"p.eff\" is used twice (first at line 9); ids must be unique in a policy"])
    }

    // MARK: Site keys

    static let siteText = """
        profile_directory = "\(root)/Config/profiles"
        tariff_directory = "\(root)/Config/tariffs"
        policy_directory = "../policies"

        [site]
        id = "s"
        name = "s"
        province = "zhejiang"
        rated_power_kw = 100
        rated_energy_kwh = 200
        technology_route = "lithium_iron_phosphate"
        location_category = "industrial_plant"
        total_investment_cny = 0
        commissioning_date = 2025-06-30
        time_zone = "Asia/Shanghai"
        tariff = "guangdong-2021"
        design_dod_percent = 95
        design_cycles = 8000
        design_life_years = 15
        outside_5th_ring_road = true
        flat_price_cny_per_kwh = 0.65

        [store]
        state_directory = "/tmp/x"

        [[device]]
        id = "pcs1"
        profile = "ess-sim-pcs"
        transport = "tcp"
        host = "127.0.0.1"
        """

    @Test func siteCriteriaKeysAreReadAndChecked() throws {
        let settings = try ConfigurationLoader.parseSiteCriteria(text: Self.siteText, file: "/etc/essd/site.toml")
        #expect(settings.tariffID == "guangdong-2021")
        #expect(settings.tariffDirectory == "\(Self.root)/Config/tariffs")
        #expect(settings.policyDirectory == "/etc/essd/../policies")
        #expect(settings.extraFacts == ["design_dod_percent": 95, "design_cycles": 8000, "design_life_years": 15, "outside_5th_ring_road": 1])
        #expect(settings.flatPriceCNYPerKWh == 0.65)
        let defaults = try ConfigurationLoader.parseSiteCriteria(text: "[site]\nid = \"x\"\n", file: "/etc/essd/site.toml")
        #expect(defaults.tariffDirectory == "/etc/essd/tariffs" && defaults.policyDirectory == "/etc/essd/policies" && defaults.tariffID == nil)

        // The whole site loads with these keys; a missing tariff or a bad fact is an issue.
        #expect(throws: Never.self) { try ConfigurationLoader.parseSite(text: Self.siteText, file: "/etc/essd/site.toml", profileDirectory: "") }
        let bad = Self.siteText.replacingOccurrences(of: "\"guangdong-2021\"", with: "\"atlantis-2030\"")
            .replacingOccurrences(of: "design_dod_percent = 95", with: "design_dod_percent = 120")
        do {
            _ = try ConfigurationLoader.parseSite(text: bad, file: "/etc/essd/site.toml", profileDirectory: "")
            Issue.record("expected issues")
        } catch {
            let lines = error.issues.map(\.description)
            #expect(lines.count == 2, "\(lines)")
            #expect(lines.first?.hasPrefix("/etc/essd/site.toml:16: site.tariff: no tariff file \(Self.root)/Config/tariffs/atlantis-2030.toml and no built-in tariff \"atlantis-2030\"; known: beijing-2023,") == true, "\(lines)")
            #expect(lines.last == "/etc/essd/site.toml:17: site.design_dod_percent: must be a finite number in 0...100, found 120")
        }
    }
}
