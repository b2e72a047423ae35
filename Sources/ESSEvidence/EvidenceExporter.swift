public import ESSCore
public import ESSCriteria
public import ESSStore
import Crypto
import Foundation

/// How far an export has got, for a progress bar.
public struct ExportProgress: Sendable, Hashable {
    public var intervalsDone: Int
    public var intervalsTotal: Int
}

/// What an export wrote.
public struct EvidenceExport: Sendable, Hashable {
    public var directory: String
    public var manifest: EvidenceManifest
    /// SHA-256 of the exact bytes of `manifest.json`.
    public var manifestSHA256: String
}

/// Writes an evidence bundle for one site and window into an empty directory: `intervals.csv`,
/// `daily.csv`, `devices.csv`, `indicators.csv`, `criteria.csv`, `money.csv`, `events.csv`, `README.txt`,
/// `manifest.json`, `SHA256SUMS` and, when a signing key is given, `site.pub`, `site.pem`,
/// `manifest.sig` and `SHA256SUMS.sig`.
///
/// Intervals are read from the store a tier slot at a time (15 min tier when the interval is a
/// multiple of 15 min, else 1 min) and written as they are read; the indicators are fed to
/// ESSCriteria's `IndicatorAccumulator` a day of slots at a time (`StoreIndicatorReader`). So
/// memory stays flat however long the window.
/// Owns the bundle's layout; not the formulas (ESSCriteria) nor the store format (ESSStore).
public enum EvidenceExporter {
    public static let intervalsFile = "intervals.csv"
    public static let dailyFile = "daily.csv"
    public static let devicesFile = "devices.csv"
    public static let indicatorsFile = "indicators.csv"
    public static let criteriaFile = "criteria.csv"
    public static let moneyFile = "money.csv"
    public static let completenessFile = "completeness.csv"
    public static let eventsFile = "events.csv"
    public static let readmeFile = "README.txt"

    /// Exports `[fromMS, toMS)` in intervals of `intervalMS` (a whole number of minutes; the last
    /// interval may be shorter). `fromMS` and `toMS` must lie on the source tier's slots.
    /// `policy` and `tariff` are what `essctl check` uses (the site's files, else built in); without
    /// `tariff` the policy's built-in tariff. `extraFacts`, `settings` and `maintenance` are the
    /// site's criteria settings, as `essctl check` reads them. `tariffLabeler` overrides the tariff
    /// for the intervals' period column only. `progress` is called after every interval (cheap:
    /// the caller throttles drawing).
    @discardableResult
    public static func export(
        site: SiteConfiguration, reader: StoreReader, policy: Policy? = nil, tariff: TariffCalendar? = nil,
        extraFacts: [String: Double] = [:], settings: IndicatorSettings = IndicatorSettings(),
        maintenance: [MaintenanceWindow] = [], fromMS: Int64, toMS: Int64,
        intervalMS: Int64 = 900_000, outDirectory: String, excel: Bool = false, signingKey: EvidenceSigningKey? = nil,
        essdVersion: String = "unknown", generatedAtMS: Int64 = Int64(Date().timeIntervalSince1970 * 1000),
        tariffLabeler: (any TariffPeriodLabeler)? = nil, progress: (ExportProgress) -> Void = { _ in }
    ) throws -> EvidenceExport {
        guard toMS > fromMS else {
            throw EvidenceError("export: the window is empty (from \(TimeText.utc(ms: fromMS)) to \(TimeText.utc(ms: toMS)))")
        }
        guard intervalMS > 0, intervalMS % 60_000 == 0 else {
            throw EvidenceError("export: the interval must be a whole number of minutes, got \(intervalMS) ms")
        }
        guard reader.siteID == site.site.id else {
            throw EvidenceError(
                "export: the store in \(reader.directory) is for site '\(reader.siteID)', the configuration for '\(site.site.id)'")
        }
        let tier = try sourceTier(reader: reader, intervalMS: intervalMS)
        for (name, ms) in [("start", fromMS), ("end", toMS)] where ms % tier.slotMS != 0 {
            throw EvidenceError(
                "export: the window's \(name) \(TimeText.utc(ms: ms)) is not on a \(tier.name) slot boundary; use a whole \(tier.slotMS / 60_000)-minute time"
            )
        }
        guard
            let offsets = UTCOffsetTable(
                timeZoneIdentifier: site.site.timeZone, fromUTCMS: fromMS - 2 * 86_400_000, toUTCMS: toMS + 2 * 86_400_000)
        else {
            throw EvidenceError("export: unknown time zone '\(site.site.timeZone)' in the site configuration (use an IANA name such as Asia/Shanghai)")
        }
        let calendar = tariff ?? policy?.tariffID.flatMap { BuiltInTariffs.calendar(id: $0) }
        let labeler: (any TariffPeriodLabeler)? =
            tariffLabeler ?? calendar.map { TariffCalendarLabeler(calendar: $0, offsets: offsets) }
        try prepare(directory: outDirectory)
        let dir = outDirectory.hasSuffix("/") ? String(outDirectory.dropLast()) : outDirectory
        var entries: [EvidenceManifest.FileEntry] = []
        func finish(_ writer: CSVWriter) throws {
            let digest = try writer.close()
            entries.append(
                .init(name: (writer.path as NSString).lastPathComponent, bytes: writer.byteCount, rows: writer.rowCount, sha256: digest))
        }

        // intervals.csv and daily.csv, streamed together.
        let intervals = IntervalReader(
            reader: reader, tier: tier, meterDeviceID: site.store.meterDeviceID, labeler: labeler, untilMS: toMS,
            ratedPowerKW: site.site.ratedPowerKW)
        var implausible: [EvidenceEvents.Event] = []
        let hasMeter = intervals.meter != nil
        let intervalWriter = try CSVWriter(
            path: "\(dir)/\(intervalsFile)", header: EvidenceTables.intervalHeader(hasMeter: hasMeter), byteOrderMark: excel)
        let dailyWriter = try CSVWriter(
            path: "\(dir)/\(dailyFile)", header: EvidenceTables.dailyHeader(hasMeter: hasMeter), byteOrderMark: excel)
        let total = Int((toMS - fromMS + intervalMS - 1) / intervalMS)
        var daily = DailyAccumulator()
        try intervals.prime(beforeMS: fromMS)
        var start = fromMS
        var done = 0
        while start < toMS {
            let end = min(start + intervalMS, toMS)
            let summary = try intervals.read(startMS: start, endMS: end)
            if summary.implausible {
                implausible.append(EvidenceEvents.implausible(summary, ratedPowerKW: site.site.ratedPowerKW))
            }
            try intervalWriter.write(EvidenceTables.intervalRow(summary, offsets: offsets, hasMeter: hasMeter))
            if let row = daily.add(summary, date: offsets.localTime(atUTCMS: start).date, hasMeter: hasMeter) {
                try dailyWriter.write(row)
            }
            done += 1
            // Memory stays flat however long the window: give back the file pages read so far.
            if done % 96 == 0 { reader.releaseResidentPages() }
            progress(ExportProgress(intervalsDone: done, intervalsTotal: total))
            start = end
        }
        if let row = daily.row(hasMeter: hasMeter) { try dailyWriter.write(row) }
        try finish(intervalWriter)
        try finish(dailyWriter)

        let devices = try CSVWriter(path: "\(dir)/\(devicesFile)", header: EvidenceTables.devicesHeader, byteOrderMark: excel)
        // Serial numbers and firmware: the store's identity log (a damaged line is skipped).
        let identity = (try? IdentityLog.read(directory: reader.directory).records) ?? []
        for device in site.devices {
            try devices.write(EvidenceTables.deviceRow(device, identity: identity, windowEndMS: toMS))
        }
        try finish(devices)

        // Indicators, criteria and money estimates from ESSCriteria, fed a day of slots at a time.
        let report = try indicatorReport(
            site: site, reader: reader, fromMS: fromMS, toMS: toMS, fallback: tier, offsets: offsets, tariff: calendar,
            settings: settings, maintenance: maintenance)
        let indicators = try CSVWriter(
            path: "\(dir)/\(indicatorsFile)", header: EvidenceTables.indicatorsHeader, byteOrderMark: excel)
        for value in report.values { try indicators.write(EvidenceTables.indicatorRow(value)) }
        try finish(indicators)
        let completeness = try CSVWriter(
            path: "\(dir)/\(completenessFile)", header: EvidenceTables.completenessHeader, byteOrderMark: excel)
        for day in report.dayCompleteness {
            for row in EvidenceTables.completenessRows(day) { try completeness.write(row) }
        }
        try finish(completeness)
        let check = policy.map {
            PolicyEvaluator.evaluate($0, context: PolicyContext(facts: site.site, extraFacts: extraFacts), report: report)
        }
        let criteria = try CSVWriter(path: "\(dir)/\(criteriaFile)", header: EvidenceTables.criteriaHeader, byteOrderMark: excel)
        for result in check?.results ?? [] { try criteria.write(EvidenceTables.criterionRow(policy: check!.policy.id, result)) }
        try finish(criteria)
        let money = try CSVWriter(path: "\(dir)/\(moneyFile)", header: EvidenceTables.moneyHeader, byteOrderMark: excel)
        for estimate in check?.estimates ?? [] { try money.write(EvidenceTables.moneyRow(policy: check!.policy.id, estimate)) }
        try finish(money)

        // events.csv: gaps, counter resets, stops, quarantines, repaired hints, planned outages.
        let storeEvents: [StoreEvent]
        do { storeEvents = try reader.events().events } catch { throw EvidenceError("export: cannot read the store's events.jsonl: \(error)") }
        let events = try CSVWriter(path: "\(dir)/\(eventsFile)", header: EvidenceEvents.header, byteOrderMark: excel)
        for event in EvidenceEvents.events(
            report: report, storeEvents: storeEvents, maintenance: maintenance, fromMS: fromMS, toMS: toMS,
            intervals: implausible)
        {
            try events.write(EvidenceEvents.row(event, offsets: offsets))
        }
        try finish(events)

        let readme = EvidenceReadme.text(
            hasMeter: hasMeter, policy: policy, tariffID: labeler?.tariffID, intervalMS: intervalMS, tier: tier,
            signed: signingKey != nil, timeZone: site.site.timeZone)
        entries.append(try writeFile(dir: dir, name: readmeFile, bytes: Array(readme.utf8)))
        if let signingKey {
            entries.append(
                try writeFile(dir: dir, name: EvidenceManifest.publicKeyFileName, bytes: Array((signingKey.publicKeyHex + "\n").utf8)))
            entries.append(
                try writeFile(dir: dir, name: EvidenceManifest.publicKeyPEMFileName, bytes: Array(signingKey.publicKeyPEM.utf8)))
        }

        let manifest = EvidenceManifest(
            format: EvidenceManifest.currentFormat, essdVersion: essdVersion, generatedAt: TimeText.utc(ms: generatedAtMS),
            configurationSHA256: CanonicalDescription.sha256(of: site), storeID: reader.storeID, siteID: site.site.id,
            windowStartUTC: TimeText.utc(ms: fromMS), windowEndUTC: TimeText.utc(ms: toMS), windowStartMS: fromMS,
            windowEndMS: toMS, timeZone: site.site.timeZone, intervalSeconds: intervalMS / 1000, sourceTier: tier.name,
            policyID: policy?.id, tariffID: labeler?.tariffID, files: entries,
            signatureFile: signingKey == nil ? nil : EvidenceManifest.signatureFileName,
            publicKeyFile: signingKey == nil ? nil : EvidenceManifest.publicKeyFileName)
        let manifestBytes = try manifest.encoded()
        let manifestEntry = try writeFile(dir: dir, name: EvidenceManifest.fileName, bytes: manifestBytes)
        var summed = entries + [manifestEntry]
        if let signingKey {
            let signature = try signingKey.signature(of: manifestBytes)
            summed.append(
                try writeFile(dir: dir, name: EvidenceManifest.signatureFileName, bytes: Array((Hex.encode(signature) + "\n").utf8)))
        }
        // For standard tools: `sha256sum -c SHA256SUMS`, and its signature for `openssl pkeyutl`.
        let sums = Array(Self.checksumsText(summed).utf8)
        _ = try writeFile(dir: dir, name: EvidenceManifest.checksumsFileName, bytes: sums)
        if let signingKey {
            _ = try writeFile(dir: dir, name: EvidenceManifest.checksumsSignatureFileName, bytes: try signingKey.signature(of: sums))
        }
        return EvidenceExport(directory: dir, manifest: manifest, manifestSHA256: manifestEntry.sha256)
    }

    /// The tier intervals are read from: 15 min when `intervalMS` is a multiple of it, else 1 min.
    static func sourceTier(reader: StoreReader, intervalMS: Int64) throws -> TierDefinition {
        let wanted: [Int64] = intervalMS % 900_000 == 0 ? [900_000, 60_000] : [60_000]
        for slotMS in wanted {
            if let tier = reader.tiers.first(where: { $0.slotMS == slotMS }) { return tier }
        }
        throw EvidenceError(
            "export: the store has no \(wanted.map { "\($0 / 60_000)-minute" }.joined(separator: " or ")) tier for \(intervalMS / 60_000)-minute intervals; its tiers are \(reader.tiers.map(\.name))"
        )
    }

    /// Creates `path` or checks it is an empty directory: a bundle never mixes with other files.
    static func prepare(directory path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw EvidenceError("export: \(path) exists and is not a directory") }
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            guard contents.isEmpty else {
                throw EvidenceError("export: \(path) is not empty (\(contents.count) entries); choose a new or empty directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw EvidenceError("export: cannot create \(path): \(error)")
            }
        }
    }

    /// `SHA256SUMS` as GNU coreutils writes it: "<64 hex>  <name>" per file (text mode), in order.
    public static func checksumsText(_ entries: [EvidenceManifest.FileEntry]) -> String {
        entries.map { "\($0.sha256.lowercased())  \($0.name)\n" }.joined()
    }

    static func writeFile(dir: String, name: String, bytes: [UInt8]) throws -> EvidenceManifest.FileEntry {
        let path = "\(dir)/\(name)"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw EvidenceError("export: cannot write \(path)")
        }
        return .init(name: name, bytes: bytes.count, rows: nil, sha256: Hex.encode(Array(SHA256.hash(data: bytes))))
    }

    /// ESSCriteria's indicators over the window, from the finest tier that holds it
    /// (`StoreIndicatorReader.finestTier`) when the window is on its slots (else `fallback`),
    /// read a day at a time: the site group, every device but the meter, and the meter.
    static func indicatorReport(
        site: SiteConfiguration, reader: StoreReader, fromMS: Int64, toMS: Int64, fallback: TierDefinition,
        offsets: UTCOffsetTable, tariff: TariffCalendar?, settings: IndicatorSettings = IndicatorSettings(),
        maintenance: [MaintenanceWindow] = []
    ) throws -> IndicatorReport {
        // The finest tier that holds the window and whose slots it is aligned to.
        let finest = try StoreIndicatorReader.finestTier(reader: reader, fromMS: fromMS, toMS: toMS)
        let tier = finest.flatMap { fromMS % $0.slotMS == 0 && toMS % $0.slotMS == 0 ? $0 : nil } ?? fallback
        let source = StoreIndicatorReader(reader: reader, tier: tier, meterDeviceID: site.store.meterDeviceID)
        let shape = try source.shape(facts: site.site, fromMS: fromMS, toMS: toMS, offsets: offsets, maintenance: maintenance)
        return try source.report(shape, tariff: tariff, settings: settings)
    }
}
