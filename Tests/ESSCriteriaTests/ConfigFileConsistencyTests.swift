import Foundation
import Testing

@testable import ESSCriteria

/// Config/tariffs/*.toml and Config/policies/*.toml must say exactly what BuiltInTariffs and
/// BuiltInPolicies say. The files are the rendering below (schema: docs/indicators.md);
/// regenerate them with `ESS_WRITE_CRITERIA_CONFIG=1 swift test --filter ConfigFileConsistency`.
@Suite("Config files match the built-ins")
struct ConfigFileConsistencyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("tariff files", arguments: BuiltInTariffs.all.map(\.id))
    func tariff(id: String) throws {
        try check(CriteriaTOML.render(BuiltInTariffs.calendar(id: id)!), "Config/tariffs/\(id).toml")
    }

    @Test("policy files", arguments: BuiltInPolicies.all.map(\.id))
    func policy(id: String) throws {
        try check(CriteriaTOML.render(BuiltInPolicies.policy(id: id)!), "Config/policies/\(id).toml")
    }

    func check(_ text: String, _ path: String) throws {
        let url = Self.root.appendingPathComponent(path)
        if ProcessInfo.processInfo.environment["ESS_WRITE_CRITERIA_CONFIG"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let onDisk = try String(contentsOf: url, encoding: .utf8)
        #expect(onDisk == text, "\(path) differs from the built-in data")
    }
}

/// Renders the built-in data in the TOML schema of docs/indicators.md.
enum CriteriaTOML {
    static func q(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
    static func list(_ s: [String]) -> String { "[" + s.map(q).joined(separator: ", ") + "]" }
    static func nums(_ v: [Int]) -> String { "[" + v.map(String.init).joined(separator: ", ") + "]" }
    static func hhmm(_ m: Int) -> String {
        let h = m / 60, mi = m % 60
        return (h < 10 ? "0" : "") + "\(h):" + (mi < 10 ? "0" : "") + "\(mi)"
    }
    static func conf(_ c: Confidence) -> String { q(c.rawValue) }
    static func bands(_ b: [TimeBand]) -> String {
        "[\n" + b.map { "    { from = \(q(hhmm($0.startMinute))), to = \(q(hhmm($0.endMinute))), kind = \(q($0.kind.rawValue)), confidence = \(conf($0.confidence)) },\n" }.joined() + "]"
    }
    static func kinds(_ d: [PeriodKind: Double]) -> String {
        PeriodKind.allCases.compactMap { k in d[k].map { "\(k.rawValue) = \(numberText($0))\n" } }.joined()
    }

    static func render(_ t: TariffCalendar) -> String {
        var s = """
            # Time-of-use tariff: \(t.name)
            # Generated from ESSCriteria.BuiltInTariffs (keep both in step; ConfigFileConsistencyTests checks).
            # Schema: docs/indicators.md. Times are local (the site's time zone); months 1–12;
            # confidence: V read in the document, S secondary source, I inferred, "site choice".

            id = \(q(t.id))
            name = \(q(t.name))
            document = \(q(t.document))
            region = \(q(t.region))
            confidence = \(conf(t.confidence))
            ratio_confidence = \(conf(t.ratioConfidence))
            holidays = \(list(t.holidays.map(\.description)))
            notes = \(list(t.notes))

            [ratios]
            \(kinds(t.ratios))
            """
        if let prices = t.pricesCNYPerKWh { s += "\n[prices_cny_per_kwh]\n" + kinds(prices) }
        if let hb = t.holidayBands { s += "\n[holiday]\nbands = \(bands(hb))\n" }
        for season in t.seasons {
            s += "\n[[season]]\nname = \(q(season.name))\nmonths = \(nums(season.months))\nbands = \(bands(season.bands))\n"
        }
        for o in t.overlays {
            s += "\n[[overlay]]\nname = \(q(o.name))\nmonths = \(nums(o.months))\ndates = \(list(o.dates.map(\.description)))\nbands = \(bands(o.bands))\n"
        }
        return s
    }

    static func render(_ p: Policy) -> String {
        var s = """
            # Policy criteria: \(p.titleEN)
            # \(p.titleZH)
            # Generated from ESSCriteria.BuiltInPolicies (keep both in step; ConfigFileConsistencyTests checks).
            # Schema: docs/indicators.md. A site may copy this file and change thresholds; a changed
            # threshold should then say confidence = "site choice" and why in provenance.

            id = \(q(p.id))
            title_en = \(q(p.titleEN))
            title_zh = \(q(p.titleZH))
            document = \(q(p.document))
            issuer = \(q(p.issuer))
            date = \(q(p.date))

            """
        if let st = p.sourceText { s += "source_text = \(q(st))\n" }
        if let t = p.tariffID { s += "tariff = \(q(t))\n" }
        s += "notes = \(list(p.notes))\n"
        for c in p.criteria {
            s += "\n[[criterion]]\nid = \(q(c.id))\ntitle_en = \(q(c.titleEN))\ntitle_zh = \(q(c.titleZH))\n"
            s += "clause = { document = \(q(c.clause.document)), article = \(q(c.clause.article)) }\n"
            switch c.subject {
            case .indicator(let id): s += "subject = \"indicator\"\nindicator = \(q(id))\n"
            case .siteFact(let f): s += "subject = \"site_fact\"\nfact = \(q(f))\n"
            case .manualReview(let e): s += "subject = \"manual_review\"\nevidence = \(q(e))\n"
            }
            switch c.comparison {
            case .atLeast(let v): s += "comparison = \"at_least\"\nthreshold = \(numberText(v))\n"
            case .atMost(let v): s += "comparison = \"at_most\"\nthreshold = \(numberText(v))\n"
            case .greaterThan(let v): s += "comparison = \"greater_than\"\nthreshold = \(numberText(v))\n"
            case .lessThan(let v): s += "comparison = \"less_than\"\nthreshold = \(numberText(v))\n"
            case .equalTo(let v): s += "comparison = \"equal_to\"\nthreshold = \(numberText(v))\n"
            case .oneOf(let l): s += "comparison = \"one_of\"\nthreshold = \(list(l))\n"
            case .noneOf(let l): s += "comparison = \"none_of\"\nthreshold = \(list(l))\n"
            case .none: s += "comparison = \"none\"\n"
            }
            if !c.unit.isEmpty { s += "unit = \(q(c.unit))\n" }
            s += "provenance = \(q(c.provenance))\nconfidence = \(conf(c.confidence))\n"
            if !c.notes.isEmpty { s += "notes = \(list(c.notes))\n" }
        }
        for m in p.money {
            s += "\n[[money]]\nid = \(q(m.id))\ntitle_en = \(q(m.titleEN))\ntitle_zh = \(q(m.titleZH))\n"
            s += "clause = { document = \(q(m.clause.document)), article = \(q(m.clause.article)) }\n"
            switch m.formula {
            case .shareCapped(let share, let cap, let base):
                s += "formula = \"share_capped\"\nshare = \(numberText(share))\ncap_cny = \(numberText(cap))\nbase = \(q(base))\n"
            case .band(let lo, let hi): s += "formula = \"band\"\nmin_cny = \(numberText(lo))\nmax_cny = \(numberText(hi))\n"
            case .perKWhDischarged(let rate, let cap):
                s += "formula = \"per_kwh_discharged\"\nrate_cny_per_kwh = \(numberText(rate))\n"
                if let cap { s += "cap_cny = \(numberText(cap))\n" }
            case .perKWYear(let rates): s += "formula = \"per_kw_year\"\nrates_cny_per_kw_year = [\(rates.map(numberText).joined(separator: ", "))]\n"
            }
            s += "conditions = \(list(m.conditions))\nprovenance = \(q(m.provenance))\nconfidence = \(conf(m.confidence))\n"
            if !m.notes.isEmpty { s += "notes = \(list(m.notes))\n" }
        }
        return s
    }
}
