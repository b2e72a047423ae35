import ESSCore

/// 可用系数 from the site's `available` / `fault` signals, with communication loss and
/// planned (inside a maintenance window) vs unplanned outage kept apart.
enum AvailabilityIndicators {
    /// Running sums over the site's `available` / `fault` signals.
    struct Hours {
        var availableMS: Int64 = 0
        var coveredMS: Int64 = 0
        var commLossMS: Int64 = 0
        /// Communication loss inside maintenance windows (planned outages there are unknown).
        var commLossPlannedMS = 0.0
        var plannedMS = 0.0
        var unplannedMS = 0.0
        /// Whether coverage comes from `available` (else from `fault`).
        let byAvailable: Bool
        let maintenance: [MaintenanceWindow]

        /// nil when the site has neither an `available` nor a `fault` signal.
        init?(_ input: IndicatorInput) {
            let idx = input.site.indices
            guard idx.available != nil || idx.fault != nil else { return nil }
            byAvailable = idx.available != nil
            maintenance = input.maintenance
        }

        /// One step of the site group.
        @inline(__always)
        mutating func add(_ step: IndicatorAccumulator.StepScratch) {
            let length = step.lengthMS
            let a = step.available
            let f = step.fault
            let covered = Swift.min(length, (byAvailable ? a?.coveredMS : f?.coveredMS) ?? 0)
            commLossMS += length - covered
            coveredMS += covered
            let start = step.startMS
            var overlap: Int64 = 0
            if !maintenance.isEmpty {
                for w in maintenance { overlap += Swift.max(0, Swift.min(w.endMS, start + length) - Swift.max(w.startMS, start)) }
                commLossPlannedMS += Double(length - covered) * Swift.min(1, Double(overlap) / Double(length))
            }
            guard covered > 0 else { return }
            let available = Int64((Double(covered) * availableFraction(a, f)).rounded())
            availableMS += available
            let down = Double(covered - available)
            let planned = down * Swift.min(1, Double(overlap) / Double(length))
            plannedMS += planned
            unplannedMS += down - planned
        }
    }

    /// Fraction of a slot's covered time the system was available. `available` non-zero is
    /// available; a mixed 0/1 slot uses the time-weighted mean ÷ max (exact min and max since
    /// store format 4, so a 15-minute outage inside a slot is never lost). A 0/1 `fault` takes
    /// its time at 1 away, assumed not to overlap the unavailable time (conservative); a fault
    /// code other than 0/1 anywhere in the slot makes the whole covered time unavailable.
    static func availableFraction(_ a: SlotSummary?, _ f: SlotSummary?) -> Double {
        var fraction = 1.0
        if let a, a.min == 0 {
            fraction = a.max == 0 ? 0 : Swift.min(1, Swift.max(0, a.mean / a.max))
        }
        if let f, f.max != 0 || f.min != 0 {
            let faulted = f.min == 0 && f.max == 1 ? Swift.min(1, Swift.max(0, f.mean)) : 1
            fraction = Swift.max(0, fraction - faulted)
        }
        return fraction
    }

    static func compute(_ ctx: IndicatorContext, _ hours: Hours?) -> [IndicatorValue] {
        let m = ctx.minimum
        let ids = [
            "availability.factor_percent", "availability.factor_excl_comm_loss_percent", "availability.available_hours",
            "availability.comm_loss_hours",
        ]
        guard let h = hours, ctx.windowMS > 0 else {
            return ids.map {
                IndicatorValue(id: $0, value: .nan, unit: $0.hasSuffix("hours") ? "h" : "%", coverage: 0, status: .insufficientData,
                    formula: "available hours / period hours × 100", confidence: .secondary,
                    notes: ["the site has no available or fault signal"])
            }
        }
        let w = Double(ctx.windowMS)
        let cov = Double(h.coveredMS) / w
        var out: [IndicatorValue] = [
            .make("availability.factor_percent", Double(h.availableMS) / w * 100, "%", coverage: cov, minimum: m,
                formula: "可用系数 available hours / period hours × 100 (communication loss counts as not available)",
                confidence: .secondary),
            .make("availability.factor_excl_comm_loss_percent", h.coveredMS > 0 ? Double(h.availableMS) / Double(h.coveredMS) * 100 : .nan,
                "%", coverage: cov, minimum: m, formula: "available hours / (period hours − communication-loss hours) × 100",
                confidence: .inferred),
            .make("availability.available_hours", Double(h.availableMS) / 3_600_000, "h", coverage: cov, minimum: m,
                formula: "Σ covered time × available fraction", confidence: .secondary),
            IndicatorValue(id: "availability.comm_loss_hours", value: Double(h.commLossMS) / 3_600_000, unit: "h", coverage: cov,
                status: .ok, formula: "period − time covered by the availability signal", confidence: .verified),
        ]
        if !ctx.input.maintenance.isEmpty {
            // Outages inside communication loss are unknown: the outage hours count the rest
            // (planned: loss inside maintenance windows; unplanned: loss outside them).
            func loss(_ ms: Double, _ where_: String) -> String? {
                ms > 0.5 ? "\(numberText((ms / 36_000).rounded() / 100)) h of communication loss \(where_): outages in that time are unknown" : nil
            }
            let uPlanned = loss(h.commLossPlannedMS, "inside maintenance windows")
            let uUnplanned = loss(Double(h.commLossMS) - h.commLossPlannedMS, "outside maintenance windows")
            out += [
                .make("availability.planned_outage_hours", h.plannedMS / 3_600_000, "h", coverage: cov, minimum: m,
                    formula: "unavailable time inside maintenance windows", confidence: .secondary, undetermined: uPlanned),
                .make("availability.unplanned_outage_hours", h.unplannedMS / 3_600_000, "h", coverage: cov, minimum: m,
                    formula: "unavailable time outside maintenance windows", confidence: .secondary, undetermined: uUnplanned),
                .make("availability.planned_outage_factor_percent", h.plannedMS / w * 100, "%", coverage: cov, minimum: m,
                    formula: "计划停运系数 planned outage hours / period hours × 100", confidence: .secondary, undetermined: uPlanned),
                .make("availability.unplanned_outage_factor_percent", h.unplannedMS / w * 100, "%", coverage: cov, minimum: m,
                    formula: "非计划停运系数 unplanned outage hours / period hours × 100", confidence: .secondary, undetermined: uUnplanned),
            ]
        }
        return out
    }
}
