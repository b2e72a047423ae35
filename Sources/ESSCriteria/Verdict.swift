/// The outcome of one criterion. Missing or partial data is never a pass.
public enum Verdict: String, Sendable, Hashable, CaseIterable {
    case pass
    case fail
    case insufficientData = "insufficient_data"
    /// Qualitative criteria: a reviewer decides, with the evidence named in the criterion.
    case manualReview = "manual_review"
}

/// One row of a policy check: the criterion, its verdict, what was measured, the threshold,
/// the coverage of the data behind it, and the sources of both.
public struct CriterionResult: Sendable, Hashable {
    public var criterion: Criterion
    public var verdict: Verdict
    /// The measured or configured value, as a number when numeric.
    public var measuredValue: Double?
    /// The value as shown: a number, a fact's text, or "missing".
    public var measuredText: String
    public var thresholdText: String
    /// nil for site facts (not measured).
    public var coverage: Double?
    /// Where the number compared came from and how sure we are, e.g.
    /// "threshold: 浙发改能源〔2021〕393号 [V]; value: E_d / E_c × 100 [V]".
    public var source: String
    public var notes: [String]

    public init(
        criterion: Criterion, verdict: Verdict, measuredValue: Double?, measuredText: String, thresholdText: String,
        coverage: Double?, source: String, notes: [String]
    ) {
        self.criterion = criterion
        self.verdict = verdict
        self.measuredValue = measuredValue
        self.measuredText = measuredText
        self.thresholdText = thresholdText
        self.coverage = coverage
        self.source = source
        self.notes = notes
    }
}
