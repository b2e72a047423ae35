/// Where a criterion comes from: a document and the article or passage in it.
public struct Clause: Sendable, Hashable {
    public var document: String
    public var article: String

    public init(document: String, article: String) {
        self.document = document
        self.article = article
    }
}

/// What a criterion looks at.
public enum CriterionSubject: Sendable, Hashable {
    /// A configured fact: "location_category", "technology_route", "province",
    /// "total_investment_cny", "rated_power_kw", "rated_energy_kwh", or any name the site
    /// supplies in `PolicyContext.extraFacts` / `extraTextFacts` (e.g. "design_dod_percent").
    case siteFact(String)
    /// A measured indicator over the window, by id (see `IndicatorReport`).
    case indicator(String)
    /// Qualitative: essd cannot decide it; the text says which evidence to show a reviewer.
    case manualReview(String)
}

/// How the subject is compared with the threshold.
public enum Comparison: Sendable, Hashable {
    case atLeast(Double)
    case atMost(Double)
    case greaterThan(Double)
    case lessThan(Double)
    case equalTo(Double)
    case oneOf([String])
    case noneOf([String])
    /// For manual review: nothing to compare.
    case none

    /// "≥ 85", "one of industrial_plant, data_center" …
    public var text: String {
        switch self {
        case .atLeast(let v): "≥ \(numberText(v))"
        case .atMost(let v): "≤ \(numberText(v))"
        case .greaterThan(let v): "> \(numberText(v))"
        case .lessThan(let v): "< \(numberText(v))"
        case .equalTo(let v): "= \(numberText(v))"
        case .oneOf(let s): "one of \(s.joined(separator: ", "))"
        case .noneOf(let s): "none of \(s.joined(separator: ", "))"
        case .none: "—"
        }
    }

    /// nil when the comparison is not numeric or `value` is not finite.
    func holds(_ value: Double) -> Bool? {
        guard value.isFinite else { return nil }
        switch self {
        case .atLeast(let t): return value >= t
        case .atMost(let t): return value <= t
        case .greaterThan(let t): return value > t
        case .lessThan(let t): return value < t
        case .equalTo(let t): return value == t
        case .oneOf, .noneOf, .none: return nil
        }
    }

    func holds(_ text: String) -> Bool? {
        switch self {
        case .oneOf(let s): s.contains(text)
        case .noneOf(let s): !s.contains(text)
        default: nil
        }
    }
}

/// One checkable requirement of a policy: what it looks at, the threshold, the clause it
/// serves, and where the threshold's number comes from with its confidence. Owns the rule,
/// not its evaluation (`PolicyEvaluator`).
public struct Criterion: Sendable, Hashable {
    public var id: String
    public var titleEN: String
    public var titleZH: String
    /// The policy clause this criterion serves.
    public var clause: Clause
    public var subject: CriterionSubject
    public var comparison: Comparison
    public var unit: String
    /// Where the threshold's number comes from (may differ from the clause: the seed
    /// policies give no numbers), e.g. "浙发改能源〔2021〕393号".
    public var provenance: String
    public var confidence: Confidence
    public var notes: [String]

    public init(
        id: String, titleEN: String, titleZH: String, clause: Clause, subject: CriterionSubject, comparison: Comparison,
        unit: String = "", provenance: String, confidence: Confidence, notes: [String] = []
    ) {
        self.id = id
        self.titleEN = titleEN
        self.titleZH = titleZH
        self.clause = clause
        self.subject = subject
        self.comparison = comparison
        self.unit = unit
        self.provenance = provenance
        self.confidence = confidence
        self.notes = notes
    }
}

/// Decimal text without locale or exponent: integers plain, else up to 4 decimals trimmed.
func numberText(_ v: Double) -> String {
    guard v.isFinite else { return "n/a" }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    var s = String(Int64((v * 10_000).rounded()))
    let negative = s.hasPrefix("-")
    if negative { s.removeFirst() }
    while s.count < 5 { s = "0" + s }
    var text = String(s.dropLast(4)) + "." + String(s.suffix(4))
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return (negative ? "-" : "") + text
}
