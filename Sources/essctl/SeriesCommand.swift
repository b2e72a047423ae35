import ArgumentParser
import ESSCore
import ESSStore
import Foundation

/// Parses `--from`/`--to`: `now`, relative (`-90s`, `-15m`, `-1h`, `-2d`, `-1w`), or ISO 8601
/// (`2024-05-01T12:00:00+08:00`, `2024-05-01T12:00:00Z`; without an offset, or a bare date, in
/// the site's time zone).
enum TimeArgument {
    static func parse(_ text: String, nowMS: Int64, zone: TimeZone) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "now" { return nowMS }
        if let sign = t.first, sign == "-" || sign == "+", let unit = t.last, let n = Double(t.dropFirst().dropLast()) {
            let seconds: Double? =
                switch unit {
                case "s": 1
                case "m": 60
                case "h": 3600
                case "d": 86400
                case "w": 7 * 86400
                default: nil
                }
            if let seconds { return nowMS + Int64((sign == "-" ? -1 : 1) * n * seconds * 1000) }
        }
        let withOffset = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds],
        ] {
            withOffset.formatOptions = options
            if let date = withOffset.date(from: t) { return Int64(date.timeIntervalSince1970 * 1000) }
        }
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = zone
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"] {
            local.dateFormat = format
            if let date = local.date(from: t) { return Int64(date.timeIntervalSince1970 * 1000) }
        }
        return nil
    }
}

/// One printed row: a raw sample or a slot (or several slots merged into a step).
struct SeriesRow: Encodable {
    var timeMS: Int64
    var time: String
    var value: Double?
    var min: Double?
    var max: Double?
    var coveragePercent: Double?
    /// A raw sample's quality ("ok", "timeout", "exception_2", "not_implemented" ...): why a
    /// value is null. Absent for slots.
    var quality: String? = nil
    /// Samples merged into a step (raw steps, consolidated slots): how many had each quality;
    /// for slots older than the raw tier, "ok" and "not_received" (see `slotRows`).
    var qualityCounts: [String: Int]? = nil

    enum CodingKeys: String, CodingKey {
        case timeMS = "time_ms", time, value, min, max, coveragePercent = "coverage_percent", quality
        case qualityCounts = "quality_counts"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(timeMS, forKey: .timeMS)
        try c.encode(time, forKey: .time)
        try c.encode(value, forKey: .value)  // null when unknown, never 0
        try c.encode(min, forKey: .min)
        try c.encode(max, forKey: .max)
        try c.encode(coveragePercent, forKey: .coveragePercent)
        try c.encodeIfPresent(quality, forKey: .quality)
        try c.encodeIfPresent(qualityCounts, forKey: .qualityCounts)
    }
}

struct SeriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "series",
        abstract: "A signal over a time range, read from the store files (works with essd stopped).",
        discussion: """
            SIGNAL is DEVICE/POINT or site/<signal> (site/soc_percent, site/active_power_kw, ...).
            --from/--to: now, -90s, -15m, -1h, -2d, or ISO 8601 (without an offset: site time).
            Without --step or --tier: raw samples for ranges up to 2 h, else the coarsest tier with at
            least 100 slots in the range. Times print in the site's time zone with their UTC offset;
            unknown values print as — (never 0). Exit 74 when the store cannot be read.
            """)

    @OptionGroup var options: SiteOptions

    @Argument(help: "DEVICE/POINT or site/<signal>.")
    var signal: String

    @Option(name: .long, parsing: .unconditional, help: "Start of the range (inclusive); -1h style needs no =.")
    var from: String = "-1h"

    @Option(name: .long, parsing: .unconditional, help: "End of the range (exclusive).")
    var to: String = "now"

    @Option(name: .long, help: "Row length, e.g. 5m, 1h, 1d: slots merged into steps (mean, min, max, coverage).")
    var step: String?

    @Option(name: .long, help: "Read this tier (raw, 1m, 15m, 1d, ... as configured).")
    var tier: String?

    func validate() throws {
        let parts = signal.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ValidationError("SIGNAL must be DEVICE/POINT or site/<signal>, e.g. bms1/soc or site/soc_percent")
        }
        if let step, Self.durationMS(step) == nil {
            throw ValidationError("--step must be a duration such as 30s, 5m, 1h or 1d")
        }
    }

    /// "30s", "5m", "1h", "1d" → ms.
    static func durationMS(_ text: String) -> Int64? {
        guard let unit = text.last, let n = Int64(text.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n * 1000
        case "m": return n * 60_000
        case "h": return n * 3_600_000
        case "d": return n * 86_400_000
        default: return nil
        }
    }

    func run() throws {
        try reporting {
            let site = try options.loadSite()
            let zone = TimeZone(identifier: site.site.timeZone) ?? .gmt
            let nowMS = Int64(Date().timeIntervalSince1970 * 1000)
            guard let fromMS = TimeArgument.parse(from, nowMS: nowMS, zone: zone) else {
                throw CommandFailure(message: "--from \(from): not now, -1h-style or ISO 8601", exitCode: 64)
            }
            guard let toMS = TimeArgument.parse(to, nowMS: nowMS, zone: zone) else {
                throw CommandFailure(message: "--to \(to): not now, -1h-style or ISO 8601", exitCode: 64)
            }
            guard fromMS < toMS else {
                throw CommandFailure(message: "--from must be before --to", exitCode: 64)
            }
            let parts = signal.split(separator: "/").map(String.init)
            let reader: StoreReader
            do {
                reader = try StoreReader(directory: site.stateDirectory)
            } catch {
                throw CommandFailure(message: "cannot read the store: \(error)", exitCode: 74)
            }
            guard let schema = reader.schemas.first(where: { $0.groupID == parts[0] }) else {
                let groups = reader.schemas.map(\.groupID).joined(separator: ", ")
                throw CommandFailure(message: "no device or group '\(parts[0])' in the store; it holds: \(groups)", exitCode: 65)
            }
            guard let index = schema.signals.firstIndex(where: { $0.name == parts[1] }) else {
                let names = schema.signals.map(\.name).joined(separator: ", ")
                throw CommandFailure(message: "'\(parts[0])' has no signal '\(parts[1])'; it has: \(names)", exitCode: 65)
            }
            let kept = schema.signals[index].tiers
            let chosen = try chooseTier(reader.tiers.filter { kept.contains($0.name) }, fromMS: fromMS, toMS: toMS)
            var rows: [SeriesRow]
            do {
                rows =
                    chosen.isRaw
                    ? try rawRows(reader, group: parts[0], index: index, fromMS: fromMS, toMS: toMS, zone: zone)
                    : try slotRows(
                        reader, tier: chosen, group: parts[0], index: index, fromMS: fromMS, toMS: toMS, zone: zone,
                        expectedIntervalMS: schema.signals[index].expectedIntervalMS)
            } catch let error as StoreError {
                throw CommandFailure(message: "cannot read the store: \(error)", exitCode: 74)
            }
            if options.json {
                struct Output: Encodable {
                    var signal: String
                    var tier: String
                    var time_zone: String
                    var rows: [SeriesRow]
                }
                return try printJSON(Output(signal: signal, tier: chosen.name, time_zone: zone.identifier, rows: rows))
            }
            print("\(signal) from tier \(chosen.name), times in \(zone.identifier)")
            let digits = 3
            let table = rows.map { r in
                [
                    r.time, Format.number(r.value, digits: digits), Format.number(r.min, digits: digits),
                    Format.number(r.max, digits: digits), Format.number(r.coveragePercent, digits: 0, unit: "%"),
                ] + [r.quality ?? r.qualityCounts.map(Self.countsText) ?? "—"]
            }
            print(
                Format.table(
                    header: ["TIME", chosen.isRaw ? "VALUE" : "MEAN", "MIN", "MAX", "COVERAGE", "QUALITY"],
                    rows: table))
            rows.removeAll()
        }
    }

    /// `--tier`, else by `--step` (the coarsest tier whose slot divides the step), else raw for
    /// ranges up to 2 h, else the coarsest tier with at least 100 slots in the range.
    func chooseTier(_ tiers: [TierDefinition], fromMS: Int64, toMS: Int64) throws -> TierDefinition {
        if let tier {
            guard let found = tiers.first(where: { $0.name == tier }) else {
                let names = tiers.map(\.name).joined(separator: ", ")
                throw CommandFailure(message: "\(signal) is not kept in tier '\(tier)'; it is kept in: \(names)", exitCode: 65)
            }
            return found
        }
        let consolidated = tiers.filter { !$0.isRaw }.sorted { $0.slotMS > $1.slotMS }
        if let step, let stepMS = Self.durationMS(step) {
            if let fit = consolidated.first(where: { $0.slotMS <= stepMS && stepMS % $0.slotMS == 0 }) { return fit }
            if let raw = tiers.first(where: \.isRaw) { return raw }
        }
        let rangeMS = toMS - fromMS
        if rangeMS <= 2 * 3_600_000, let raw = tiers.first(where: \.isRaw) { return raw }
        if let coarse = consolidated.first(where: { rangeMS / $0.slotMS >= 100 }) { return coarse }
        if let finest = consolidated.last { return finest }
        guard let any = tiers.first else {
            throw CommandFailure(message: "\(signal) is kept in no tier", exitCode: 65)
        }
        return any
    }

    func rawRows(
        _ reader: StoreReader, group: String, index: Int, fromMS: Int64, toMS: Int64, zone: TimeZone
    ) throws -> [SeriesRow] {
        let range = try reader.raw(group: group, fromMS: fromMS, toMS: toMS)
        let rows = range.rows.map { row -> SeriesRow in
            let quality = row.qualities[index]
            let good = (quality == .ok || quality == .stale) && row.values[index].isFinite
            let v: Double? = good ? row.values[index] : nil
            return SeriesRow(
                timeMS: row.timestampMS, time: Self.localTime(row.timestampMS, zone: zone), value: v, min: v, max: v,
                coveragePercent: good ? 100 : 0, quality: quality?.name ?? "unknown")
        }
        guard let stepMS = step.flatMap(Self.durationMS) else { return rows }
        // Raw samples into steps: plain mean of the good samples.
        var buckets: [Int64: [Double]] = [:]
        var counts: [Int64: [String: Int]] = [:]
        var order: [Int64] = []
        for row in rows {
            let start = row.timeMS - ((row.timeMS % stepMS) + stepMS) % stepMS
            if buckets[start] == nil { order.append(start) }
            buckets[start, default: []] += row.value.map { [$0] } ?? []
            counts[start, default: [:]][row.quality ?? "unknown", default: 0] += 1
        }
        return order.map { start in
            let values = buckets[start] ?? []
            return SeriesRow(
                timeMS: start, time: Self.localTime(start, zone: zone),
                value: values.isEmpty ? nil : values.reduce(0, +) / Double(values.count), min: values.min(),
                max: values.max(), coveragePercent: nil, qualityCounts: counts[start])
        }
    }

    /// Consolidated slots merged into steps (time-weighted mean, min, max, coverage) with counts
    /// per quality: from the raw tier's rows where it still holds the whole step, else the
    /// slots' valid samples as "ok" and the rest of what the sampling interval expects as
    /// "not_received" (the store keeps why a sample was invalid only in raw rows).
    func slotRows(
        _ reader: StoreReader, tier: TierDefinition, group: String, index: Int, fromMS: Int64, toMS: Int64,
        zone: TimeZone, expectedIntervalMS: Int64
    ) throws -> [SeriesRow] {
        let slots = try reader.slots(tier: tier.name, group: group, fromMS: fromMS, toMS: toMS)
        let stepMS = max(tier.slotMS, step.flatMap(Self.durationMS) ?? tier.slotMS)
        // Raw rows' qualities per step, and the oldest raw row (steps from it on are whole in raw).
        let raw = try reader.raw(group: group, fromMS: fromMS, toMS: toMS).rows
        var rawCounts: [Int64: [String: Int]] = [:]
        for row in raw {
            let start = row.timestampMS - ((row.timestampMS % stepMS) + stepMS) % stepMS
            rawCounts[start, default: [:]][row.qualities[index]?.name ?? "unknown", default: 0] += 1
        }
        let rawFromMS = raw.first?.timestampMS ?? .max
        var rows: [SeriesRow] = []
        var current: (start: Int64, weighted: Double, covered: Int64, min: Double?, max: Double?, count: Int)?
        func flush() {
            guard let c = current else { return }
            var counts: [String: Int]
            if c.start >= rawFromMS, let fromRaw = rawCounts[c.start] {
                counts = fromRaw
            } else {
                counts = ["ok": c.count]
                if expectedIntervalMS > 0 {
                    let expected = Int((Double(stepMS) / Double(expectedIntervalMS)).rounded())
                    if expected > c.count { counts["not_received"] = expected - c.count }
                }
            }
            rows.append(
                SeriesRow(
                    timeMS: c.start, time: Self.localTime(c.start, zone: zone),
                    value: c.covered > 0 ? c.weighted / Double(c.covered) : nil, min: c.min, max: c.max,
                    coveragePercent: Double(c.covered) * 100 / Double(stepMS), qualityCounts: counts))
        }
        for stored in slots {
            let start = stored.startMS - ((stored.startMS % stepMS) + stepMS) % stepMS
            if current?.start != start {
                flush()
                current = (start, 0, 0, nil, nil, 0)
            }
            guard let summary = stored.slot?.signals[index], !summary.isUnknown else { continue }
            current!.count += summary.count
            guard summary.mean.isFinite else { continue }
            current!.weighted += summary.mean * Double(summary.coveredMS)
            current!.covered += summary.coveredMS
            current!.min = Swift.min(current!.min ?? summary.min, summary.min)
            current!.max = Swift.max(current!.max ?? summary.max, summary.max)
        }
        flush()
        return rows
    }

    /// "ok=58,timeout=2" (sorted by name).
    static func countsText(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// "2024-05-01 20:00:00 +08:00" in the site's zone.
    static func localTime(_ ms: Int64, zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
