public import ESSCore

/// A policy as essd checks it: the document, its criteria, its money rules, and the tariff
/// its peak-shifting criteria use. Owns the data; evaluation is `PolicyEvaluator`, file
/// parsing is ESSConfig's.
public struct Policy: Sendable, Hashable {
    /// File name without extension, e.g. "zhejiang-2021".
    public var id: String
    public var titleEN: String
    public var titleZH: String
    /// e.g. "浙发改能源〔2021〕393号".
    public var document: String
    public var issuer: String
    /// ISO date of the document.
    public var date: String
    /// The seed text it was read from, if any (`shared/seeds/…`).
    public var sourceText: String?
    /// Tariff used for peak-shifting indicators, by `TariffCalendar.id`.
    public var tariffID: String?
    public var criteria: [Criterion]
    public var money: [MoneyRule]
    public var notes: [String]

    public init(
        id: String, titleEN: String, titleZH: String, document: String, issuer: String, date: String, sourceText: String? = nil,
        tariffID: String? = nil, criteria: [Criterion], money: [MoneyRule] = [], notes: [String] = []
    ) {
        self.id = id
        self.titleEN = titleEN
        self.titleZH = titleZH
        self.document = document
        self.issuer = issuer
        self.date = date
        self.sourceText = sourceText
        self.tariffID = tariffID
        self.criteria = criteria
        self.money = money
        self.notes = notes
    }

    /// Problems a loader should report: duplicate ids, money conditions naming no criterion.
    public func validate() -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for c in criteria where !seen.insert(c.id).inserted { problems.append("policy \(id): criterion id \(c.id) appears twice") }
        for rule in money {
            for condition in rule.conditions where !seen.contains(condition) {
                problems.append("policy \(id): money rule \(rule.id) names condition \(condition), which is no criterion of this policy")
            }
        }
        return problems
    }
}

/// What the site says about itself beyond `SiteFacts`: numeric facts ("design_dod_percent",
/// "design_cycles", "design_life_years", "small_batch_test_investment_cny",
/// "fixed_asset_investment_cny", "outside_5th_ring_road" 1/0 …) and text facts.
public struct PolicyContext: Sendable, Hashable {
    public var facts: SiteFacts
    public var extraFacts: [String: Double]
    public var extraTextFacts: [String: String]

    public init(facts: SiteFacts, extraFacts: [String: Double] = [:], extraTextFacts: [String: String] = [:]) {
        self.facts = facts
        self.extraFacts = extraFacts
        self.extraTextFacts = extraTextFacts
    }

    /// A numeric fact; nil when not configured (a non-positive investment or rating counts as not configured).
    public func number(_ name: String) -> Double? {
        switch name {
        case "total_investment_cny": facts.totalInvestmentCNY > 0 ? facts.totalInvestmentCNY : nil
        case "rated_power_kw": facts.ratedPowerKW > 0 ? facts.ratedPowerKW : nil
        case "rated_energy_kwh": facts.ratedEnergyKWh > 0 ? facts.ratedEnergyKWh : nil
        default: extraFacts[name]
        }
    }

    /// A text fact; nil when not configured or empty.
    public func text(_ name: String) -> String? {
        let value: String? =
            switch name {
            case "location_category": facts.locationCategory
            case "technology_route": facts.technologyRoute
            case "province": facts.province
            default: extraTextFacts[name]
            }
        return value.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A policy checked over one window: one result per criterion, one estimate per money rule.
public struct PolicyCheck: Sendable, Hashable {
    public var policy: Policy
    public var windowStartMS: Int64
    public var windowEndMS: Int64
    public var results: [CriterionResult]
    public var estimates: [MoneyEstimate]

    public init(policy: Policy, windowStartMS: Int64, windowEndMS: Int64, results: [CriterionResult], estimates: [MoneyEstimate]) {
        self.policy = policy
        self.windowStartMS = windowStartMS
        self.windowEndMS = windowEndMS
        self.results = results
        self.estimates = estimates
    }

    /// For `--strict`: true when any criterion failed or lacked data (manual review is neither).
    public var hasFailOrInsufficient: Bool {
        results.contains { $0.verdict == .fail || $0.verdict == .insufficientData }
    }
}
