internal import ESSCore
internal import ESSCriteria

/// Turns a policy file (`Config/policies/<id>.toml`, schema in docs/indicators.md) into an
/// ESSCriteria `Policy`, recording an issue with its line for every unknown key, wrong type,
/// unknown indicator id, threshold that does not fit its comparison, money key that does not
/// belong to its formula, and every problem `Policy.validate()` finds. Owns parsing only; the
/// evaluation is `PolicyEvaluator`'s.
enum PolicyReader {
    static let topKeys = [
        "id", "title_en", "title_zh", "document", "issuer", "date", "source_text", "tariff", "notes", "criterion", "money",
    ]
    static let criterionKeys = [
        "id", "title_en", "title_zh", "clause", "subject", "indicator", "fact", "evidence", "comparison", "threshold", "unit",
        "provenance", "confidence", "notes",
    ]
    static let clauseKeys = ["document", "article"]
    static let moneyCommonKeys = ["id", "title_en", "title_zh", "clause", "formula", "conditions", "provenance", "confidence", "notes"]
    static let formulaKeys: [String: [String]] = [
        "share_capped": ["share", "cap_cny", "base"],
        "band": ["min_cny", "max_cny"],
        "per_kwh_discharged": ["rate_cny_per_kwh", "cap_cny"],
        "per_kw_year": ["rates_cny_per_kw_year"],
    ]
    static let subjectKeys = ["indicator": "indicator", "site_fact": "fact", "manual_review": "evidence"]

    /// Every indicator id `Indicators.compute` can produce (with a meter, counters and a tariff).
    static let knownIndicatorIDs: Set<String> = {
        let schema = SignalIndices(
            soc: 0, power: 1, cellTempMax: 2, cellVoltageMax: 3, cellVoltageMin: 4, available: 5, fault: 6, alarmWord: 7,
            chargeCounter: 8, dischargeCounter: 9, meterImport: 10, meterExport: 11)
        let names = (0..<12).map { "s\($0)" }
        let group = GroupSeries(groupID: "site", signalNames: names, indices: schema, hasEnergy: true, slots: [])
        let input = IndicatorInput(
            windowStartMS: 0, windowEndMS: 3_600_000, slotMS: 60_000,
            facts: SiteFacts(
                id: "x", name: "x", province: "x", ratedPowerKW: 1, ratedEnergyKWh: 1, technologyRoute: "x", locationCategory: "x",
                totalInvestmentCNY: 1, commissioningDate: "2025-01-01", timeZone: "UTC"),
            site: group, meter: group, offsets: UTCOffsetTable(fixedOffsetSeconds: 0))
        return Set(Indicators.compute(input, tariff: BuiltInTariffs.all.first).values.map(\.id))
    }()

    /// The policy when the file has no issue; `file`'s base name must equal its `id`.
    static func read(text: String, file: String, log: IssueLog) -> Policy? {
        guard let (top, id, before) = TableReader.identifiedFile(text: text, file: file, allowedKeys: topKeys, log: log)
        else { return nil }
        let titleEN = top.string("title_en", required: true)
        let titleZH = top.string("title_zh", required: true)
        let document = top.string("document", required: true)
        let issuer = top.string("issuer", required: true)
        let date = top.string("date", required: true)
        let sourceText = top.string("source_text")
        let tariff = top.identifier("tariff", allowHyphen: true)
        let notes = top.stringArray("notes") ?? []
        let criterionReaders = top.tableArray("criterion")
        if criterionReaders.isEmpty, !top.has("criterion") {
            top.issue("criterion", "no [[criterion]] tables; a policy needs at least one criterion")
        }
        let criteria = criterionReaders.compactMap(readCriterion)
        let moneyReaders = top.tableArray("money")
        let money = moneyReaders.compactMap(readMoney)
        guard log.count == before, let id, let titleEN, let titleZH, let document, let issuer, let date else { return nil }
        let policy = Policy(
            id: id, titleEN: titleEN, titleZH: titleZH, document: document, issuer: issuer, date: date, sourceText: sourceText,
            tariffID: tariff, criteria: criteria, money: money, notes: notes)
        // Policy.validate(): duplicate criterion ids, money conditions naming no criterion.
        var seen: [String: Int] = [:]
        for r in criterionReaders {
            guard let cid = r.table["id"]?.value.stringValue else { continue }
            if let first = seen[cid] {
                r.issue("id", "criterion id \"\(cid)\" is used twice (first at line \(first)); ids must be unique in a policy")
            } else {
                seen[cid] = r.line(of: "id")
            }
        }
        for (r, rule) in zip(moneyReaders, money) {
            for condition in rule.conditions where seen[condition] == nil {
                r.issue("conditions", "\"\(condition)\" is no criterion of this policy; criteria: \(criteria.map(\.id).joined(separator: ", "))")
            }
        }
        let remaining = policy.validate()
        if log.count == before, !remaining.isEmpty {
            for problem in remaining { log.add(file: file, line: 1, key: "id", problem) }
        }
        return log.count == before ? policy : nil
    }

    static func clause(_ r: TableReader) -> Clause? {
        guard let c = r.table("clause", required: true) else { return nil }
        c.rejectUnknownKeys(allowed: clauseKeys)
        guard let document = c.string("document", required: true), let article = c.string("article", required: true) else {
            return nil
        }
        return Clause(document: document, article: article)
    }

    static func readCriterion(_ r: TableReader) -> Criterion? {
        let before = r.log.count
        r.rejectUnknownKeys(allowed: criterionKeys)
        let id = r.string("id", required: true)
        let titleEN = r.string("title_en", required: true)
        let titleZH = r.string("title_zh", required: true)
        let clause = Self.clause(r)
        let subjectKind = r.choice("subject", required: true, [("indicator", "indicator"), ("site_fact", "site_fact"), ("manual_review", "manual_review")])
        var subject: CriterionSubject?
        if let subjectKind {
            let own = subjectKeys[subjectKind]!
            for (kind, key) in subjectKeys where kind != subjectKind && r.has(key) {
                r.issue(key, "\(key) belongs to subject = \"\(kind)\", but subject is \"\(subjectKind)\"; use \(own)")
            }
            switch subjectKind {
            case "indicator":
                if let ind = r.string("indicator", required: true) {
                    if knownIndicatorIDs.contains(ind) {
                        subject = .indicator(ind)
                    } else {
                        r.issue("indicator", "\"\(ind)\" is no indicator; known ids: \(knownIndicatorIDs.sorted().joined(separator: ", "))")
                    }
                }
            case "site_fact":
                if let fact = r.identifier("fact", required: true, allowHyphen: false) { subject = .siteFact(fact) }
            default:
                if let evidence = r.string("evidence", required: true) { subject = .manualReview(evidence) }
            }
        }
        let comparison = readComparison(r)
        let unit = r.string("unit", nonEmpty: false) ?? ""
        let provenance = r.string("provenance", required: true)
        let confidence = r.confidence("confidence", required: true)
        let notes = r.stringArray("notes") ?? []
        if subjectKind == "manual_review", let comparison, comparison != Comparison.none {
            r.issue("comparison", "a manual_review criterion compares nothing; write comparison = \"none\"")
        }
        guard r.log.count == before, let id, let titleEN, let titleZH, let clause, let subject, let comparison, let provenance,
            let confidence
        else { return nil }
        return Criterion(
            id: id, titleEN: titleEN, titleZH: titleZH, clause: clause, subject: subject, comparison: comparison, unit: unit,
            provenance: provenance, confidence: confidence, notes: notes)
    }

    static func readComparison(_ r: TableReader) -> Comparison? {
        let numeric: [(String, (Double) -> Comparison)] = [
            ("at_least", Comparison.atLeast), ("at_most", Comparison.atMost), ("greater_than", Comparison.greaterThan),
            ("less_than", Comparison.lessThan), ("equal_to", Comparison.equalTo),
        ]
        let names = numeric.map(\.0) + ["one_of", "none_of", "none"]
        guard let kind = r.choice("comparison", required: true, names.map { ($0, $0) }) else { return nil }
        if let make = numeric.first(where: { $0.0 == kind })?.1 {
            guard let v = r.double("threshold", required: true, ruleText: "", { _ in true }) else { return nil }
            return make(v)
        }
        if kind == "none" {
            if r.has("threshold") { r.issue("threshold", "comparison = \"none\" takes no threshold; remove it") }
            return Comparison.none
        }
        guard r.has("threshold") else {
            r.issue("threshold", "missing required key; \(kind) needs a list of strings, e.g. [\"industrial_plant\"]")
            return nil
        }
        guard let list = r.stringArray("threshold") else { return nil }
        if list.isEmpty { r.issue("threshold", "\(kind) needs at least one string") }
        return kind == "one_of" ? .oneOf(list) : .noneOf(list)
    }

    static func readMoney(_ r: TableReader) -> MoneyRule? {
        let before = r.log.count
        let formulaName = r.choice("formula", required: true, formulaKeys.keys.sorted().map { ($0, $0) })
        r.rejectUnknownKeys(allowed: moneyCommonKeys + (formulaName.flatMap { formulaKeys[$0] } ?? formulaKeys.values.flatMap { $0 }))
        let id = r.string("id", required: true)
        let titleEN = r.string("title_en", required: true)
        let titleZH = r.string("title_zh", required: true)
        let clause = Self.clause(r)
        let conditions = r.stringArray("conditions") ?? []
        let provenance = r.string("provenance", required: true)
        let confidence = r.confidence("confidence", required: true)
        let notes = r.stringArray("notes") ?? []
        var formula: MoneyFormula?
        func cny(_ key: String, required: Bool) -> Double? {
            r.double(key, required: required, ruleText: "of at least 0 (CNY)") { $0 >= 0 }
        }
        switch formulaName {
        case "share_capped":
            let share = r.double("share", required: true, ruleText: "in 0...1 (a fraction: 0.3 is 30 %)") { (0...1).contains($0) }
            let cap = cny("cap_cny", required: true)
            let base = r.identifier("base", required: true, allowHyphen: false)
            if let share, let cap, let base { formula = .shareCapped(share: share, capCNY: cap, base: base) }
        case "band":
            let low = cny("min_cny", required: true)
            let high = cny("max_cny", required: true)
            if let low, let high {
                if high < low { r.issue("max_cny", "must be at least min_cny (\(low))") } else { formula = .band(minCNY: low, maxCNY: high) }
            }
        case "per_kwh_discharged":
            let rate = r.double("rate_cny_per_kwh", required: true, ruleText: "greater than 0") { $0 > 0 }
            let cap = r.has("cap_cny") ? cny("cap_cny", required: false) : nil
            if let rate, !r.has("cap_cny") || cap != nil { formula = .perKWhDischarged(rateCNYPerKWh: rate, capCNY: cap) }
        case "per_kw_year":
            if let rates = numbers(r, "rates_cny_per_kw_year") { formula = .perKWYear(ratesCNYPerKWYear: rates) }
        default:
            break
        }
        guard r.log.count == before, let id, let titleEN, let titleZH, let clause, let formula, let provenance, let confidence else {
            return nil
        }
        return MoneyRule(
            id: id, titleEN: titleEN, titleZH: titleZH, clause: clause, formula: formula, conditions: conditions,
            provenance: provenance, confidence: confidence, notes: notes)
    }

    /// A non-empty list of non-negative numbers.
    static func numbers(_ r: TableReader, _ key: String) -> [Double]? {
        guard let entry = r.table[key] else {
            r.issue(key, "missing required key; expected a list of numbers, e.g. [200, 180, 170]")
            return nil
        }
        guard let elements = entry.value.arrayValue, !elements.isEmpty else {
            r.issue(key, "expected a non-empty list of numbers, found \(entry.value.summary)")
            return nil
        }
        var result: [Double] = []
        for element in elements {
            guard let d = element.doubleValue, d.isFinite, d >= 0 else {
                r.issue(key, "expected numbers of at least 0, found \(element.summary)")
                return nil
            }
            result.append(d)
        }
        return result
    }
}
