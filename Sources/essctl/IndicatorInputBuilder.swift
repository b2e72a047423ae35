import ESSConfig
import ESSCore
import ESSCriteria
import ESSEvidence
import ESSStore
import Foundation

/// Computes ESSCriteria's indicators over a window from one consolidated tier of the store
/// (through ESSEvidence's `StoreIndicatorReader`, a day of slots at a time): the site group,
/// every device group but the storage meter, and the meter when the site names one. Owns the
/// choice of tier and the alignment of the window to its slots; the indicators themselves are
/// ESSCriteria's.
struct IndicatorInputBuilder {
    let site: SiteConfiguration
    let reader: StoreReader

    /// The window and the tier it was read from, as the commands print it.
    struct Window {
        var tier: TierDefinition
        /// [fromMS, toMS) widened to whole slots of the tier.
        var fromMS: Int64
        var toMS: Int64
        var requestedFromMS: Int64
        var requestedToMS: Int64
    }

    /// `requested` ("1m", "15m" or another consolidated tier name) when given; else the finest
    /// tier that still holds the window (`StoreIndicatorReader.finestTier`: durations and
    /// events at the best resolution the store has).
    func chooseTier(requested: String?, fromMS: Int64, toMS: Int64) throws -> TierDefinition {
        let consolidated = reader.tiers.filter { !$0.isRaw }
        guard !consolidated.isEmpty else {
            throw CommandFailure(message: "the store has no consolidated tier (only raw); add a 1m or 15m [[store.tier]]", exitCode: 65)
        }
        if let requested {
            guard let tier = consolidated.first(where: { $0.name == requested }) else {
                throw CommandFailure(
                    message: "--tier \(requested): the store has no such consolidated tier; it has: \(consolidated.map(\.name).joined(separator: ", "))",
                    exitCode: 64)
            }
            return tier
        }
        do {
            return try StoreIndicatorReader.finestTier(reader: reader, fromMS: fromMS, toMS: toMS) ?? consolidated[0]
        } catch {
            throw CommandFailure(message: "cannot read the store: \(error)", exitCode: 74)
        }
    }

    /// The window widened to the tier's slots: from rounded down, to rounded up.
    func window(tier: TierDefinition, fromMS: Int64, toMS: Int64) -> Window {
        let slot = tier.slotMS
        let from = fromMS - ((fromMS % slot) + slot) % slot
        let toFloor = toMS - ((toMS % slot) + slot) % slot
        let to = toFloor == toMS ? toMS : toFloor + slot
        return Window(tier: tier, fromMS: from, toMS: to, requestedFromMS: fromMS, requestedToMS: toMS)
    }

    /// The site's UTC offsets over the window (fixed +8 h when the zone is unknown to Foundation).
    func offsets(_ window: Window) -> UTCOffsetTable {
        UTCOffsetTable(timeZoneIdentifier: site.site.timeZone, fromUTCMS: window.fromMS, toUTCMS: window.toMS)
            ?? .chinaStandardTime
    }

    /// Every indicator over the window, read from the store a day of slots at a time (the window
    /// is never in memory). Missing and damaged rows are missing data, never zero.
    func report(
        _ window: Window, tariff: TariffCalendar?, settings: IndicatorSettings, maintenance: [MaintenanceWindow]
    ) throws -> IndicatorReport {
        let source = StoreIndicatorReader(reader: reader, tier: window.tier, meterDeviceID: site.store.meterDeviceID)
        do {
            let shape = try source.shape(
                facts: site.site, fromMS: window.fromMS, toMS: window.toMS, offsets: offsets(window), maintenance: maintenance)
            return try source.report(shape, tariff: tariff, settings: settings)
        } catch {
            throw CommandFailure(message: "cannot read the store: \(error)", exitCode: 74)
        }
    }
}

/// What `kpi` and `check` share: the site, its criteria settings, the store, the window.
struct IndicatorRun {
    var site: SiteConfiguration
    var criteria: SiteCriteriaSettings
    var window: IndicatorInputBuilder.Window
    var builder: IndicatorInputBuilder
    var zone: TimeZone

    /// Loads the site and its criteria settings, parses --from/--to in the site's zone, opens the
    /// store and reads the window. Exit 78 configuration, 64 arguments, 74 store.
    static func load(options: SiteOptions, window: IndicatorWindowOptions) throws -> IndicatorRun {
        try load(options: options, from: window.from, to: window.to, tier: window.tier)
    }

    static func load(options: SiteOptions, from: String, to: String, tier: String?) throws -> IndicatorRun {
        let site = try options.loadSite()
        let criteria: SiteCriteriaSettings
        do {
            criteria = try ConfigurationLoader.loadSiteCriteria(path: options.config)
        } catch {
            throw CommandFailure(message: "\(error)", exitCode: 78)
        }
        let zone = TimeZone(identifier: site.site.timeZone) ?? TimeZone(identifier: "UTC")!
        let nowMS = Int64(Date().timeIntervalSince1970 * 1000)
        guard let fromMS = TimeArgument.parse(from, nowMS: nowMS, zone: zone) else {
            throw CommandFailure(message: "--from \(from): not now, -1h-style or ISO 8601", exitCode: 64)
        }
        guard let toMS = TimeArgument.parse(to, nowMS: nowMS, zone: zone) else {
            throw CommandFailure(message: "--to \(to): not now, -1h-style or ISO 8601", exitCode: 64)
        }
        guard fromMS < toMS else { throw CommandFailure(message: "--from must be before --to", exitCode: 64) }
        let reader: StoreReader
        do {
            reader = try StoreReader(directory: site.stateDirectory)
        } catch {
            throw CommandFailure(message: "cannot read the store: \(error)", exitCode: 74)
        }
        let builder = IndicatorInputBuilder(site: site, reader: reader)
        let chosen = try builder.chooseTier(requested: tier, fromMS: fromMS, toMS: toMS)
        let window = builder.window(tier: chosen, fromMS: fromMS, toMS: toMS)
        return IndicatorRun(site: site, criteria: criteria, window: window, builder: builder, zone: zone)
    }

    /// The tariff `id` from the site's tariff folder, else built in. Exit 78 when it is bad or unknown.
    func tariff(id: String) throws -> (tariff: TariffCalendar, path: String?) {
        do {
            return try ConfigurationLoader.tariff(id: id, directory: criteria.tariffDirectory)
        } catch {
            throw CommandFailure(message: "\(error)", exitCode: 78)
        }
    }

    /// The indicators over the window, with the site's flat price and maintenance windows.
    func compute(tariff: TariffCalendar?) throws -> IndicatorReport {
        try builder.report(
            window, tariff: tariff, settings: IndicatorSettings(flatPriceCNYPerKWh: criteria.flatPriceCNYPerKWh),
            maintenance: criteria.maintenance)
    }
}

/// JSON and table pieces both commands print.
enum CriteriaFormat {
    /// nil for NaN and infinities: JSON has no NaN, and unknown is never 0.
    static func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }

    /// "12.3 %" or "—".
    static func percent(_ fraction: Double?) -> String {
        guard let fraction, fraction.isFinite else { return "—" }
        return String(format: "%.1f %%", fraction * 100)
    }

    /// Plain decimal text without locale: up to `digits` decimals, trailing zeros trimmed.
    static func number(_ v: Double, digits: Int = 3) -> String {
        guard v.isFinite else { return "—" }
        var s = String(format: "%.\(digits)f", v)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s == "-0" ? "0" : s
    }

    struct WindowJSON: Encodable {
        var from_ms: Int64
        var to_ms: Int64
        var from: String
        var to: String
        var requested_from_ms: Int64
        var requested_to_ms: Int64
        var hours: Double
        var tier: String
        var slot_ms: Int64
        var time_zone: String

        init(_ w: IndicatorInputBuilder.Window, zone: TimeZone) {
            from_ms = w.fromMS
            to_ms = w.toMS
            from = SeriesCommand.localTime(w.fromMS, zone: zone)
            to = SeriesCommand.localTime(w.toMS, zone: zone)
            requested_from_ms = w.requestedFromMS
            requested_to_ms = w.requestedToMS
            hours = Double(w.toMS - w.fromMS) / 3_600_000
            tier = w.tier.name
            slot_ms = w.tier.slotMS
            time_zone = zone.identifier
        }
    }

    /// Columns padded to their display width (CJK characters count two), separated by two
    /// spaces; columns in `right` are right-aligned, the others left-aligned. The last column
    /// is not padded.
    static func table(header: [String], rows: [[String]], right: Set<Int>) -> String {
        func width(_ s: String) -> Int {
            s.unicodeScalars.reduce(0) { n, c in
                let v = c.value
                let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                    || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                    || (0xFFE0...0xFFE6).contains(v)
                return n + (wide ? 2 : 1)
            }
        }
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { width($0[c]) }.max() ?? 0 }
        return all.map { row in
            var line = row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - width(cell))
                if right.contains(c) { return pad + cell }
                return c == row.count - 1 ? cell : cell + pad
            }.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// "2024-05-01 00:00:00 +08:00 – 2024-05-02 00:00:00 +08:00 (24 h, tier 1m)".
    static func windowLine(_ w: IndicatorInputBuilder.Window, zone: TimeZone) -> String {
        let hours = Double(w.toMS - w.fromMS) / 3_600_000
        return "\(SeriesCommand.localTime(w.fromMS, zone: zone)) – \(SeriesCommand.localTime(w.toMS, zone: zone))"
            + " (\(number(hours, digits: 2)) h, tier \(w.tier.name), times in \(zone.identifier))"
    }
}
