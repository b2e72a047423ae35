internal import ESSCriteria

/// Turns a tariff file (`Config/tariffs/<id>.toml`, schema in docs/indicators.md) into an
/// ESSCriteria `TariffCalendar`, recording an issue with its line for every unknown key, wrong
/// type, malformed time, bad month or date, and every problem `TariffCalendar.validate()` finds.
/// Owns the parsing only: choosing the site's tariff is `SiteCriteriaReader`'s job.
enum TariffReader {
    static let topKeys = [
        "id", "name", "document", "region", "confidence", "ratio_confidence", "holidays", "notes", "ratios",
        "prices_cny_per_kwh", "holiday", "season", "overlay",
    ]
    static let seasonKeys = ["name", "months", "bands"]
    static let overlayKeys = ["name", "months", "dates", "bands"]
    static let bandKeys = ["from", "to", "kind", "confidence"]

    /// The calendar when the file has no issue; `file`'s base name must equal its `id`.
    static func read(text: String, file: String, log: IssueLog) -> TariffCalendar? {
        guard let (top, id, before) = TableReader.identifiedFile(text: text, file: file, allowedKeys: topKeys, log: log)
        else { return nil }
        let name = top.string("name", required: true)
        let document = top.string("document", required: true)
        let region = top.string("region", required: true)
        let confidence = top.confidence("confidence", required: true)
        let ratioConfidence = top.has("ratio_confidence") ? top.confidence("ratio_confidence") : confidence
        let holidays = top.localDates("holidays") ?? []
        let notes = top.stringArray("notes") ?? []
        let ratios = top.table("ratios", required: true).map { kindNumbers($0, what: "ratio") } ?? [:]
        let prices = top.table("prices_cny_per_kwh").map { kindNumbers($0, what: "price in CNY/kWh") }
        var holidayBands: [TimeBand]?
        if let h = top.table("holiday") {
            h.rejectUnknownKeys(allowed: ["bands"])
            holidayBands = Self.bands(h, required: true)
        }
        let seasonReaders = top.tableArray("season")
        if seasonReaders.isEmpty, !top.has("season") {
            top.issue("season", "no [[season]] tables; add at least one with months = [1, ..., 12] and bands covering 00:00–24:00")
        }
        var seasons: [TariffSeason] = []
        for r in seasonReaders {
            r.rejectUnknownKeys(allowed: seasonKeys)
            let name = r.string("name", required: true)
            let months = r.months("months", required: true)
            let list = Self.bands(r, required: true)
            if let name, let months, let list { seasons.append(TariffSeason(name: name, months: months, bands: list)) }
        }
        var overlays: [TariffOverlay] = []
        for r in top.tableArray("overlay") {
            r.rejectUnknownKeys(allowed: overlayKeys)
            let name = r.string("name", required: true)
            let months = r.has("months") ? r.months("months") : []
            let dates = r.has("dates") ? r.localDates("dates") : []
            let list = Self.bands(r, required: true)
            if let name, let months, let dates, let list {
                if !r.has("months") && !r.has("dates") {
                    r.issue("months", "an overlay needs months, dates or both (either may be an empty list until dates are known)")
                    continue
                }
                overlays.append(TariffOverlay(name: name, months: months, dates: dates, bands: list))
            }
        }
        guard log.count == before, let id, let name, let document, let region, let confidence, let ratioConfidence else {
            return nil
        }
        let calendar = TariffCalendar(
            id: id, name: name, document: document, region: region, confidence: confidence, seasons: seasons,
            overlays: overlays, holidays: holidays, holidayBands: holidayBands, ratios: ratios,
            ratioConfidence: ratioConfidence, pricesCNYPerKWh: prices, notes: notes)
        let problems = calendar.validate()
        for problem in problems {
            // validate() names the season or table; put the issue on the first [[season]].
            let line = seasonReaders.first?.table.position.line ?? 1
            log.add(file: file, line: line, key: "season", problem + "; fix the bands or months")
        }
        return problems.isEmpty ? calendar : nil
    }

    /// `[ratios]` / `[prices_cny_per_kwh]`: a positive number per period kind.
    static func kindNumbers(_ r: TableReader, what: String) -> [PeriodKind: Double] {
        r.rejectUnknownKeys(allowed: PeriodKind.allCases.map(\.rawValue))
        var result: [PeriodKind: Double] = [:]
        for kind in PeriodKind.allCases where r.has(kind.rawValue) {
            if let v = r.double(kind.rawValue, ruleText: "greater than 0 (the \(what) of \(kind.rawValue))", { $0 > 0 }) {
                result[kind] = v
            }
        }
        return result
    }

    /// `bands = [ { from = "00:00", to = "08:00", kind = "valley", confidence = "S" }, ... ]`.
    static func bands(_ r: TableReader, required: Bool) -> [TimeBand]? {
        guard let entry = r.table["bands"] else {
            if required { r.issue("bands", "missing required key; expected an array of { from, to, kind, confidence } tables") }
            return nil
        }
        guard let elements = entry.value.arrayValue else {
            r.issue("bands", "expected an array of { from, to, kind, confidence } tables, found \(entry.value.summary)")
            return nil
        }
        let before = r.log.count
        var result: [TimeBand] = []
        for (i, element) in elements.enumerated() {
            let path = r.keyPath("bands") + "[\(i)]"
            guard let table = element.tableValue else {
                r.log.add(file: r.file, line: element.position.line, key: path,
                    "expected an inline table { from = \"HH:MM\", to = \"HH:MM\", kind = \"...\", confidence = \"...\" }, found \(element.summary)")
                continue
            }
            let b = TableReader(table: table, file: r.file, path: path, log: r.log)
            b.rejectUnknownKeys(allowed: bandKeys)
            let from = b.time("from", required: true)
            let to = b.time("to", required: true)
            let kind = b.choice("kind", required: true, PeriodKind.allCases.map { ($0.rawValue, $0) })
            let confidence = b.confidence("confidence", required: true)
            if let from, let to, to <= from {
                b.issue("to", "must be after from (\(b.table["from"]?.value.stringValue ?? "")); a band cannot cross midnight, split it at \"24:00\"")
                continue
            }
            if let from, let to, let kind, let confidence {
                result.append(TimeBand(startMinute: from, endMinute: to, kind: kind, confidence: confidence))
            }
        }
        return r.log.count == before ? result : nil
    }
}

extension TableReader {
    /// A confidence mark: "V", "S", "I" or "site choice".
    func confidence(_ key: String, required: Bool = false) -> Confidence? {
        choice(key, required: required, Confidence.allCases.map { ($0.rawValue, $0) })
    }

    /// "HH:MM" from 00:00 to 24:00 as minutes since midnight.
    func time(_ key: String, required: Bool = false) -> Int? {
        guard let s = string(key, required: required) else { return nil }
        guard let m = TimeBand.minutes(s) else {
            issue(key, "\(TOMLValue.abbreviated(s)) is not a time; expected \"HH:MM\" from \"00:00\" to \"24:00\", e.g. \"11:30\"")
            return nil
        }
        return m
    }

    /// A list of distinct months 1...12.
    func months(_ key: String, required: Bool = false) -> [Int]? {
        guard let entry = table[key] else {
            if required { issue(key, "missing required key; expected a list of months such as [1, 2, 3]") }
            return nil
        }
        guard let elements = entry.value.arrayValue else {
            issue(key, "expected a list of months 1...12, found \(entry.value.summary)")
            return nil
        }
        var months: [Int] = []
        for element in elements {
            guard let m = element.integerValue, (1...12).contains(m) else {
                issue(key, "expected months 1...12, found \(element.summary)")
                return nil
            }
            if months.contains(Int(m)) {
                issue(key, "month \(m) is listed twice")
                return nil
            }
            months.append(Int(m))
        }
        return months
    }

    /// A list of local dates, as TOML dates or "YYYY-MM-DD" strings.
    func localDates(_ key: String) -> [LocalDate]? {
        guard let entry = table[key] else { return nil }
        guard let elements = entry.value.arrayValue else {
            issue(key, "expected a list of dates \"YYYY-MM-DD\", found \(entry.value.summary)")
            return nil
        }
        var dates: [LocalDate] = []
        for element in elements {
            let text = element.stringValue ?? element.dateValue?.description
            guard let text, let date = LocalDate(iso: text) else {
                issue(key, "expected dates \"YYYY-MM-DD\" of days that exist, found \(element.summary)")
                return nil
            }
            dates.append(date)
        }
        return dates
    }

    /// The file's base name (without ".toml") must be `id`, so a name finds its file.
    func checkBaseName(_ id: String, file: String) {
        var base = Substring(file)
        if let slash = base.lastIndex(of: "/") { base = base[base.index(after: slash)...] }
        if base.hasSuffix(".toml") { base = base.dropLast(5) }
        if base != id {
            issue("id", "\"\(id)\" differs from the file name \"\(base).toml\"; name the file \(id).toml or change id")
        }
    }
}
