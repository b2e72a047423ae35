/// A time-of-use period kind. Ratios and prices are keyed by it.
public enum PeriodKind: String, Sendable, Hashable, CaseIterable, Codable {
    case sharp
    case peak
    case flat
    case valley
    case deepValley = "deep_valley"

    /// Chinese name as in the tariff notices: 尖峰, 高峰, 平段, 低谷, 深谷.
    public var chineseName: String {
        switch self {
        case .sharp: "尖峰"
        case .peak: "高峰"
        case .flat: "平段"
        case .valley: "低谷"
        case .deepValley: "深谷"
        }
    }

    /// Charging here counts as valley charging in the peak-shifting indicators.
    public var isValleyLike: Bool { self == .valley || self == .deepValley }
    /// Discharging here counts as peak discharging in the peak-shifting indicators.
    public var isPeakLike: Bool { self == .peak || self == .sharp }
}

/// One stretch of a local day, [startMinute, endMinute), with its period kind and the
/// confidence of that assignment. Half-hour (or any whole-minute) boundaries are allowed.
public struct TimeBand: Sendable, Hashable {
    /// Minutes since local midnight, 0..<1440.
    public var startMinute: Int
    /// Exclusive end, 1...1440.
    public var endMinute: Int
    public var kind: PeriodKind
    public var confidence: Confidence

    public init(startMinute: Int, endMinute: Int, kind: PeriodKind, confidence: Confidence) {
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.kind = kind
        self.confidence = confidence
    }

    /// A band from "HH:MM" to "HH:MM" ("24:00" ends the day); traps on malformed text, so
    /// use it for built-in data only.
    public init(_ from: String, _ to: String, _ kind: PeriodKind, _ confidence: Confidence) {
        self.init(startMinute: TimeBand.minutes(from)!, endMinute: TimeBand.minutes(to)!, kind: kind, confidence: confidence)
    }

    /// Minutes of "HH:MM" (00:00...24:00); nil when malformed.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
            (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440
        else { return nil }
        return h * 60 + m
    }

    public func contains(minute: Int) -> Bool { minute >= startMinute && minute < endMinute }
}

/// The base period table for some months: its bands must cover the whole day.
public struct TariffSeason: Sendable, Hashable {
    public var name: String
    /// Months 1...12 this table applies to.
    public var months: [Int]
    public var bands: [TimeBand]

    public init(name: String, months: [Int], bands: [TimeBand]) {
        self.name = name
        self.months = months
        self.bands = bands
    }
}

/// Bands laid over the base table (usually sharp peaks): on every day of `months` and on
/// each date listed in `dates` (e.g. the days a heat trigger was announced).
public struct TariffOverlay: Sendable, Hashable {
    public var name: String
    public var months: [Int]
    public var dates: [LocalDate]
    public var bands: [TimeBand]

    public init(name: String, months: [Int], dates: [LocalDate] = [], bands: [TimeBand]) {
        self.name = name
        self.months = months
        self.dates = dates
        self.bands = bands
    }
}

/// A time-of-use tariff calendar as published by a provincial price bureau: month-dependent
/// period tables, overlays (sharp peaks by month or listed date), holidays, and price ratios
/// (flat = 1) or prices. Owns the lookup from a UTC instant to a period; not file parsing
/// (ESSConfig) nor the site's choice of tariff. Times are local; the caller passes the offset.
public struct TariffCalendar: Sendable, Hashable {
    public var id: String
    public var name: String
    /// Issuing document, e.g. "粤发改价格〔2021〕331号".
    public var document: String
    public var region: String
    /// Confidence of the transcription as a whole (KPIS.md marks these [S]).
    public var confidence: Confidence
    public var seasons: [TariffSeason]
    /// Applied in order after the base table; a later overlay wins where they overlap.
    public var overlays: [TariffOverlay]
    /// Dates on which `holidayBands` replace the day's table (base and overlays).
    public var holidays: [LocalDate]
    /// nil: holidays use the ordinary table.
    public var holidayBands: [TimeBand]?
    /// Price relative to the flat price. A kind without a ratio makes money values unknown.
    public var ratios: [PeriodKind: Double]
    public var ratioConfidence: Confidence
    /// Absolute prices, when the site knows them (they win over ratios).
    public var pricesCNYPerKWh: [PeriodKind: Double]?
    public var notes: [String]

    public init(
        id: String, name: String, document: String, region: String, confidence: Confidence, seasons: [TariffSeason],
        overlays: [TariffOverlay] = [], holidays: [LocalDate] = [], holidayBands: [TimeBand]? = nil,
        ratios: [PeriodKind: Double], ratioConfidence: Confidence, pricesCNYPerKWh: [PeriodKind: Double]? = nil,
        notes: [String] = []
    ) {
        self.id = id
        self.name = name
        self.document = document
        self.region = region
        self.confidence = confidence
        self.seasons = seasons
        self.overlays = overlays
        self.holidays = holidays
        self.holidayBands = holidayBands
        self.ratios = ratios
        self.ratioConfidence = ratioConfidence
        self.pricesCNYPerKWh = pricesCNYPerKWh
        self.notes = notes
    }

    /// Problems that make the calendar unusable, each naming the season or overlay; empty
    /// when every month has exactly one season, every season and the holiday table cover the
    /// day without overlap, and every band is inside the day.
    public func validate() -> [String] {
        var problems: [String] = []
        for month in 1...12 {
            let n = seasons.filter { $0.months.contains(month) }.count
            if n != 1 { problems.append("tariff \(id): month \(month) is in \(n) seasons; it must be in exactly one") }
        }
        func checkCover(_ bands: [TimeBand], _ what: String) {
            var minute = 0
            for band in bands.sorted(by: { $0.startMinute < $1.startMinute }) {
                if band.startMinute != minute {
                    problems.append("tariff \(id): \(what) has a \(band.startMinute < minute ? "overlap" : "gap") at minute \(min(minute, band.startMinute)); bands must cover 00:00–24:00 once")
                    return
                }
                minute = band.endMinute
            }
            if minute != 1440 { problems.append("tariff \(id): \(what) ends at minute \(minute), not 24:00") }
        }
        for season in seasons { checkCover(season.bands, "season \(season.name)") }
        if let holidayBands { checkCover(holidayBands, "holiday table") }
        for overlay in overlays {
            for band in overlay.bands where !(0..<1440).contains(band.startMinute) || band.endMinute > 1440 || band.endMinute <= band.startMinute {
                problems.append("tariff \(id): overlay \(overlay.name) has a band \(band.startMinute)–\(band.endMinute) outside the day or empty")
            }
        }
        return problems
    }

    /// The band in force at a local date and minute.
    public func band(on date: LocalDate, minute: Int) -> TimeBand? {
        if holidays.contains(date), let holidayBands {
            return holidayBands.first { $0.contains(minute: minute) }
        }
        var found = seasons.first { $0.months.contains(date.month) }?.bands.first { $0.contains(minute: minute) }
        for overlay in overlays where overlay.months.contains(date.month) || overlay.dates.contains(date) {
            if let band = overlay.bands.first(where: { $0.contains(minute: minute) }) { found = band }
        }
        return found
    }

    /// The band in force at `utcMS` for a site at UTC offset `timeZoneOffsetSeconds`.
    public func band(atUTCms utcMS: Int64, timeZoneOffsetSeconds: Int) -> TimeBand? {
        let local = LocalTime(utcMS: utcMS, offsetSeconds: timeZoneOffsetSeconds)
        return band(on: local.date, minute: local.minuteOfDay)
    }

    /// The period kind at `utcMS` (nil only for an invalid calendar with a hole).
    public func period(atUTCms utcMS: Int64, timeZoneOffsetSeconds: Int) -> PeriodKind? {
        band(atUTCms: utcMS, timeZoneOffsetSeconds: timeZoneOffsetSeconds)?.kind
    }

    /// The period kind at `utcMS` with the offset taken from a per-day offset table.
    public func period(atUTCms utcMS: Int64, offsets: UTCOffsetTable) -> PeriodKind? {
        period(atUTCms: utcMS, timeZoneOffsetSeconds: offsets.offsetSeconds(atUTCMS: utcMS))
    }

    /// Price of `kind` in CNY/kWh: the configured price, else ratio × `flatPriceCNYPerKWh`
    /// when given; nil when neither is known.
    public func priceCNYPerKWh(_ kind: PeriodKind, flatPriceCNYPerKWh: Double?) -> Double? {
        if let p = pricesCNYPerKWh?[kind] { return p }
        if let r = ratios[kind], let flat = flatPriceCNYPerKWh { return r * flat }
        return nil
    }
}
