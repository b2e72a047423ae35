/// A money formula a policy states, computed as an estimate with its inputs shown.
public enum MoneyFormula: Sendable, Hashable {
    /// min(cap, share × the numeric fact `base`), e.g. Beijing min(CNY 30M, 30 % of total investment).
    case shareCapped(share: Double, capCNY: Double, base: String)
    /// A grant somewhere in [min, max] (Jiangxi CNY 2M–10M): no point estimate.
    case band(minCNY: Double, maxCNY: Double)
    /// rate × metered discharge over the window (the storage meter's export), capped when a cap is given.
    case perKWhDischarged(rateCNYPerKWh: Double, capCNY: Double?)
    /// rate × P_N for each year of the programme (capacity payments).
    case perKWYear(ratesCNYPerKWYear: [Double])
}

/// A policy's money rule: the formula, the criteria that must pass first, and sources.
public struct MoneyRule: Sendable, Hashable {
    public var id: String
    public var titleEN: String
    public var titleZH: String
    public var clause: Clause
    public var formula: MoneyFormula
    /// Criteria (ids in the same policy) that must pass for the money to be payable.
    public var conditions: [String]
    public var provenance: String
    public var confidence: Confidence
    public var notes: [String]

    public init(
        id: String, titleEN: String, titleZH: String, clause: Clause, formula: MoneyFormula, conditions: [String] = [],
        provenance: String, confidence: Confidence, notes: [String] = []
    ) {
        self.id = id
        self.titleEN = titleEN
        self.titleZH = titleZH
        self.clause = clause
        self.formula = formula
        self.conditions = conditions
        self.provenance = provenance
        self.confidence = confidence
        self.notes = notes
    }
}

/// One input of an estimate, shown beside the result.
public struct EstimateInput: Sendable, Hashable {
    public var name: String
    /// nil: missing.
    public var value: Double?
    public var unit: String
    public var source: String

    public init(name: String, value: Double?, unit: String, source: String) {
        self.name = name
        self.value = value
        self.unit = unit
        self.source = source
    }
}

/// Whether an estimate stands: computed, waiting on criteria that did not pass, or missing input.
public enum EstimateStatus: String, Sendable, Hashable, CaseIterable {
    case estimated
    case conditionsNotMet = "conditions_not_met"
    case insufficientData = "insufficient_data"
}

/// An estimate of money under a rule: amount (or band), the formula as text, every input.
/// An estimate, never a promise: the reviewing authority decides.
public struct MoneyEstimate: Sendable, Hashable {
    public var rule: MoneyRule
    public var status: EstimateStatus
    /// Point estimate; nil for bands, when inputs are missing and when a condition has not passed.
    public var amountCNY: Double?
    public var lowCNY: Double?
    public var highCNY: Double?
    /// e.g. "min(30000000, 0.3 × 50000000) = 15000000".
    public var formulaText: String
    public var inputs: [EstimateInput]
    public var notes: [String]

    public init(
        rule: MoneyRule, status: EstimateStatus, amountCNY: Double?, lowCNY: Double?, highCNY: Double?, formulaText: String,
        inputs: [EstimateInput], notes: [String]
    ) {
        self.rule = rule
        self.status = status
        self.amountCNY = amountCNY
        self.lowCNY = lowCNY
        self.highCNY = highCNY
        self.formulaText = formulaText
        self.inputs = inputs
        self.notes = notes
    }
}
