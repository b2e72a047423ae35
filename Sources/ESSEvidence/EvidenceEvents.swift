import ESSCore
public import ESSCriteria
public import ESSStore

/// `events.csv`: what happened in the window that a reviewer must know to read the numbers:
/// communication gaps, counter resets, essd's stops and restarts, quarantined rows (a wall clock
/// that ran ahead and was stepped back), repaired store hints and planned outages. One row
/// each, in time order. Pure: the rows come from the indicator report, the store's event log
/// and the site's maintenance windows.
public enum EvidenceEvents {
    public static let header = ["start_utc", "end_utc", "start_local", "kind", "group", "detail"]

    /// One event before formatting (times in UTC ms; `endMS` nil for an instant).
    public struct Event: Sendable, Hashable {
        public var startMS: Int64
        public var endMS: Int64?
        public var kind: String
        public var group: String
        public var detail: String
    }

    /// Every event inside [fromMS, toMS) (a run that overlaps the window is kept whole), in
    /// time order, kinds in a fixed order at equal times.
    public static func events(
        report: IndicatorReport, storeEvents: [StoreEvent], maintenance: [MaintenanceWindow], fromMS: Int64, toMS: Int64,
        intervals: [Event] = []
    ) -> [Event] {
        var out: [Event] = intervals
        for gap in report.communicationGaps {
            out.append(Event(
                startMS: gap.startMS, endMS: gap.endMS, kind: "communication_gap", group: gap.groupID,
                detail: "no data for \(FixedDecimal.format(Double(gap.missingMS) / 1000, decimals: 0)) s of the \(FixedDecimal.format(Double(gap.endMS - gap.startMS) / 1000, decimals: 0)) s"))
        }
        for reset in report.counterResets {
            out.append(Event(
                startMS: reset.atMS, endMS: nil, kind: "counter_reset", group: reset.groupID,
                detail: "\(reset.counter) counter \(FixedDecimal.format(reset.fromKWh, decimals: 3)) → \(FixedDecimal.format(reset.toKWh, decimals: 3)) kWh (never counted as energy)"))
        }
        for event in storeEvents {
            switch event {
            case .stopped(let at, let clean):
                guard at >= fromMS, at < toMS else { continue }
                out.append(Event(
                    startMS: at, endMS: nil, kind: clean ? "essd_stopped" : "essd_ended_uncleanly", group: "",
                    detail: clean
                        ? "essd stopped; coverage ends here until it restarts"
                        : "essd ended without a clean stop (kill or power loss) after its last stored row; coverage ends there"))
            case .quarantined(let q):
                guard q.toMS > fromMS, q.fromMS < toMS else { continue }
                let rows = q.rows.values.reduce(0) { $0 + Int($1.lastSequence - $1.firstSequence + 1) }
                out.append(Event(
                    startMS: q.fromMS, endMS: q.toMS, kind: "rows_quarantined", group: q.rows.keys.sorted().joined(separator: " "),
                    detail: "\(rows) raw rows stamped under a wall clock that was then stepped back are kept aside (\(q.reason)); noted at \(TimeText.utc(ms: q.notedMS))"))
            case .hintRepaired(let hint, _, let noted):
                guard noted >= fromMS, noted < toMS else { continue }
                out.append(Event(
                    startMS: noted, endMS: nil, kind: "store_hint_repaired", group: hint.groupID,
                    detail: "a damaged raw head hint was ignored and rebuilt from the rows (\(hint.reason)); no row lost"))
            case .started(let at):
                guard at >= fromMS, at < toMS else { continue }
                out.append(Event(startMS: at, endMS: nil, kind: "essd_started", group: "", detail: "essd started storing what it polls"))
            case .reconfigured(let at, let groups):
                guard at >= fromMS, at < toMS else { continue }
                out.append(Event(
                    startMS: at, endMS: nil, kind: "configuration_reloaded", group: "",
                    detail: "a reload applied a new configuration; series groups after it: \(groups.joined(separator: " "))"))
            case .clockStepped(let at, let step):
                guard at >= fromMS, at < toMS else { continue }
                out.append(Event(
                    startMS: at, endMS: nil, kind: "clock_stepped", group: "",
                    detail: "the gateway's wall clock stepped \(step < 0 ? "back" : "forward") by \(FixedDecimal.format(Double(abs(step)) / 1000, decimals: 3)) s; scans around it are stored at their true time"))
            case .imported(let i):
                guard i.toMS > fromMS, i.fromMS < toMS else { continue }
                let source = i.source.isEmpty ? "another system's export" : i.source
                out.append(Event(
                    startMS: i.fromMS, endMS: i.toMS, kind: "history_imported", group: i.groups.joined(separator: " "),
                    detail: "history imported from \(source), rows every \(FixedDecimal.format(Double(i.intervalMS) / 1000, decimals: 0)) s (completeness by samples expects that interval here); imported at \(TimeText.utc(ms: i.notedMS))"))
            }
        }
        for window in maintenance where window.endMS > fromMS && window.startMS < toMS {
            out.append(Event(
                startMS: window.startMS, endMS: window.endMS, kind: "planned_outage", group: "site",
                detail: window.reason.isEmpty ? "maintenance window" : "maintenance window: \(window.reason)"))
        }
        let order = ["essd_ended_uncleanly", "essd_stopped", "essd_started", "configuration_reloaded", "clock_stepped", "rows_quarantined", "communication_gap", "counter_reset", "planned_outage", "store_hint_repaired", "history_imported", "implausible_energy"]
        return out.sorted {
            ($0.startMS, order.firstIndex(of: $0.kind) ?? 99, $0.group) < ($1.startMS, order.firstIndex(of: $1.kind) ?? 99, $1.group)
        }
    }

    /// An interval whose energy rated power cannot deliver (`IntervalSummary.implausible`).
    public static func implausible(_ s: IntervalSummary, ratedPowerKW: Double) -> Event {
        let e = s.energy
        let limit = ratedPowerKW * Double(s.durationMS) / 3_600_000
        let parts = [
            ("charge (counter)", e.counterChargeKWh), ("discharge (counter)", e.counterDischargeKWh),
            ("charge (integrated)", e.integratedChargeKWh), ("discharge (integrated)", e.integratedDischargeKWh),
        ].filter { $0.1.isFinite && $0.1 > limit * (1 + IntervalReader.plausibilityTolerance) }
        let text = parts.map { "\($0.0) \(FixedDecimal.format($0.1, decimals: 3)) kWh" }.joined(separator: ", ")
        return Event(
            startMS: s.startMS, endMS: s.endMS, kind: "implausible_energy", group: "site",
            detail: "\(text) > rated power \(FixedDecimal.format(ratedPowerKW, decimals: 1)) kW × \(s.durationMS / 60_000) min = \(FixedDecimal.format(limit, decimals: 3)) kWh (+\(Int(IntervalReader.plausibilityTolerance * 100)) % tolerance)\(s.apportioned ? "; after spreading counter steps over gaps" : "")")
    }

    /// One CSV row; an instant has an empty `end_utc`.
    public static func row(_ e: Event, offsets: UTCOffsetTable) -> [String] {
        [TimeText.utc(ms: e.startMS), e.endMS.map { TimeText.utc(ms: $0) } ?? "", TimeText.local(ms: e.startMS, offsets: offsets),
            e.kind, e.group, e.detail]
    }
}
