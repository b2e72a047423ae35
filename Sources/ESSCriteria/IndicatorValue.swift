/// Whether an indicator's value may be used, and how far the data determine it: `ok` needs
/// coverage at or above the setting's minimum and every input known, and means the data
/// determine the value; `partialData` and `upperBound` are usable values the data do not fully
/// determine (the notes say why); anything else is `insufficientData`.
public enum IndicatorStatus: String, Sendable, Hashable, CaseIterable {
    case ok
    /// Enough coverage, but computed over the covered time only: what the time without data
    /// held could change it (a sum or duration could be larger, a share could move).
    case partialData = "partial_data"
    /// Counted in whole slots longer than the signal's sampling interval: the true value is at
    /// most this (the notes give the resolution).
    case upperBound = "upper_bound"
    case insufficientData = "insufficient_data"

    /// Whether criteria may compare the value (every status but `insufficientData`).
    public var isUsable: Bool { self != .insufficientData }

    /// "ok", "partial data", "upper bound", "insufficient data".
    public var text: String {
        switch self {
        case .ok: "ok"
        case .partialData: "partial data"
        case .upperBound: "upper bound"
        case .insufficientData: "insufficient data"
        }
    }
}

/// One computed indicator: value, unit, the fraction of the window its inputs covered, its
/// status, the formula it came from (an id documented in docs/indicators.md) and the
/// confidence of that formula. Owns no judgement: criteria compare it to thresholds.
public struct IndicatorValue: Sendable, Hashable {
    /// Stable id, e.g. "efficiency.ac_round_trip_percent".
    public var id: String
    /// NaN when it cannot be computed at all.
    public var value: Double
    public var unit: String
    /// 0…1.
    public var coverage: Double
    public var status: IndicatorStatus
    /// e.g. "E_d / E_c × 100".
    public var formula: String
    public var confidence: Confidence
    /// Why the status is what it is, or a caveat (annualised, counter vs integrated …).
    public var notes: [String]

    public init(
        id: String, value: Double, unit: String, coverage: Double, status: IndicatorStatus, formula: String,
        confidence: Confidence, notes: [String] = []
    ) {
        self.id = id
        self.value = value
        self.unit = unit
        self.coverage = coverage
        self.status = status
        self.formula = formula
        self.confidence = confidence
        self.notes = notes
    }

    /// Status from coverage and value: usable only when the value is finite and coverage is
    /// enough; then `upperBound` when `upperBound` says why, else `partialData` when
    /// `undetermined` says why, else ok.
    static func make(
        _ id: String, _ value: Double, _ unit: String, coverage: Double, minimum: Double, formula: String,
        confidence: Confidence, notes: [String] = [], inputsOK: Bool = true, undetermined: String? = nil,
        upperBound: String? = nil
    ) -> IndicatorValue {
        var notes = notes
        let enough = coverage + 1e-12 >= minimum
        if !enough {
            notes.append("coverage \(percentText(coverage)) below the minimum \(percentText(minimum))")
        }
        if !value.isFinite { notes.append("no value: an input is missing or a denominator is zero") }
        let ok = enough && value.isFinite && inputsOK
        var status: IndicatorStatus = ok ? .ok : .insufficientData
        if ok, let upperBound {
            status = .upperBound
            notes.append(upperBound)
        } else if ok, let undetermined {
            status = .partialData
            notes.append(undetermined)
        }
        return IndicatorValue(
            id: id, value: value, unit: unit, coverage: min(1, max(0, coverage)), status: status,
            formula: formula, confidence: confidence, notes: notes)
    }
}

/// "93.2 %" with one decimal, no locale.
func percentText(_ fraction: Double) -> String {
    guard fraction.isFinite else { return "n/a" }
    let tenths = (fraction * 1000).rounded()
    let whole = Int(tenths) / 10
    let decimal = abs(Int(tenths)) % 10
    return "\(whole).\(decimal) %"
}
