import ESSCore

/// The kind of a time-of-use tariff period, and what the plant does in it.
public enum TariffPeriodKind: String, Sendable, Hashable, CaseIterable, Codable {
    case valley, flat, peak, sharp

    /// What the battery does during a period of this kind: charge in the valley,
    /// discharge at peak and sharp, stay idle when flat.
    public var operation: PlantOperation {
        switch self {
        case .valley: .charge
        case .peak, .sharp: .discharge
        case .flat: .idle
        }
    }
}

/// What the plant's dispatcher asks of the battery.
public enum PlantOperation: String, Sendable, Hashable, Codable {
    case charge, discharge, idle
}

/// One span of hours of the day, `startHour ..< endHour`; when `endHour < startHour` the span
/// wraps past midnight (22-2 covers 22:00 to 02:00).
public struct TariffPeriod: Sendable, Hashable {
    public var kind: TariffPeriodKind
    public var startHour: Double
    public var endHour: Double

    public init(kind: TariffPeriodKind, startHour: Double, endHour: Double) {
        self.kind = kind
        self.startHour = startHour
        self.endHour = endHour
    }

    /// True when `hour` (0 ..< 24) falls in this period.
    public func contains(hour: Double) -> Bool {
        if startHour <= endHour { return hour >= startHour && hour < endHour }
        return hour >= startHour || hour < endHour
    }
}

/// A time-of-use table over one day: which tariff period each hour belongs to. Hours not
/// covered by any period are `flat`. Owns no clock: callers pass the hour of day.
public struct TimeOfUseSchedule: Sendable, Hashable, CustomStringConvertible {
    public var periods: [TariffPeriod]

    public init(periods: [TariffPeriod]) {
        self.periods = periods
    }

    /// Guangdong's industrial table, simplified: valley 0–8, peak 10–12 and 14–19, flat otherwise.
    public static let guangdong = TimeOfUseSchedule(periods: [
        TariffPeriod(kind: .valley, startHour: 0, endHour: 8),
        TariffPeriod(kind: .peak, startHour: 10, endHour: 12),
        TariffPeriod(kind: .peak, startHour: 14, endHour: 19),
    ])

    /// The period kind at `hour` of the day (taken modulo 24).
    public func kind(atHour hour: Double) -> TariffPeriodKind {
        var h = hour.truncatingRemainder(dividingBy: 24)
        if h < 0 { h += 24 }
        return periods.first { $0.contains(hour: h) }?.kind ?? .flat
    }

    /// Parses `"valley=0-8;peak=10-12,14-19"`: `;`-separated `kind=ranges`, each range
    /// `start-end` in hours 0...24 (fractional allowed, e.g. 11.5). Overlapping ranges are an error.
    public init(parsing text: String) throws(SimulatorError) {
        var periods: [TariffPeriod] = []
        for clause in text.split(separator: ";", omittingEmptySubsequences: true) {
            let parts = clause.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
            guard parts.count == 2, let kind = TariffPeriodKind(rawValue: parts[0].lowercased()) else {
                throw SimulatorError.invalidSchedule(text, reason: "'\(clause)' is not kind=ranges with kind one of valley, flat, peak, sharp")
            }
            for range in parts[1].split(separator: ",") {
                let bounds = range.split(separator: "-").map { $0.trimmingSpaces() }
                guard bounds.count == 2, let start = Double(bounds[0]), let end = Double(bounds[1]),
                    (0...24).contains(start), (0...24).contains(end), start != end
                else {
                    throw SimulatorError.invalidSchedule(text, reason: "'\(range)' is not a range start-end of hours 0...24")
                }
                periods.append(TariffPeriod(kind: kind, startHour: start, endHour: end))
            }
        }
        if periods.isEmpty { throw SimulatorError.invalidSchedule(text, reason: "no period given") }
        // Overlap check at quarter-minute resolution is plenty for tariff tables.
        for step in 0..<(24 * 240) {
            let hour = (Double(step) + 0.5) / 240
            let hits = periods.filter { $0.contains(hour: hour) }
            if hits.count > 1 {
                throw SimulatorError.invalidSchedule(text, reason: "periods overlap at hour \(hour.formatted2)")
            }
        }
        self.periods = periods
    }

    /// The table in the form `init(parsing:)` reads.
    public var description: String {
        TariffPeriodKind.allCases.compactMap { kind in
            let ranges = periods.filter { $0.kind == kind }.map { "\($0.startHour.compact)-\($0.endHour.compact)" }
            return ranges.isEmpty ? nil : "\(kind.rawValue)=\(ranges.joined(separator: ","))"
        }.joined(separator: ";")
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

extension Double {
    /// "8" for 8.0, "11.5" for 11.5.
    var compact: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
    var formatted2: String { String((self * 100).rounded() / 100) }
}
