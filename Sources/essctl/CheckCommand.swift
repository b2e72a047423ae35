import ArgumentParser
import ESSConfig
import ESSCore
import ESSCriteria
import Foundation

/// `essctl check`: a policy's criteria against the site's facts and its indicators over a window.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a policy's criteria over a window: one verdict per criterion, money estimates with their inputs.",
        discussion: """
            --policy NAME reads <policy_directory>/NAME.toml (default: "policies" beside the site file), else the
            built-in policy of that name (\(BuiltInPolicies.all.map(\.id).joined(separator: ", "))).
            Verdicts: pass, fail, insufficient data (no value, coverage below 90 %, or a site fact not configured:
            never a pass on missing data) and manual review (a reviewer decides, with the evidence named).
            Peak-shifting criteria use the site's tariff ([site] tariff), else the policy's. Money amounts are
            estimates, never promises. --strict: exit 1 when any criterion fails or lacks data.
            Exit 78 configuration, 74 store, 64 arguments.
            """)

    @OptionGroup var options: SiteOptions

    @Option(name: .long, help: "Policy to check (a file in policy_directory, or a built-in name).")
    var policy: String

    @OptionGroup var window: IndicatorWindowOptions

    @Flag(name: .long, help: "Exit 1 when any criterion fails or has insufficient data.")
    var strict = false

    func run() throws {
        var failed = false
        try reporting {
            let run = try IndicatorRun.load(options: options, window: window)
            let loaded: (policy: Policy, path: String?)
            do {
                loaded = try ConfigurationLoader.policy(id: policy, directory: run.criteria.policyDirectory)
            } catch {
                throw CommandFailure(message: "\(error)", exitCode: 78)
            }
            let tariffID = run.criteria.tariffID ?? loaded.policy.tariffID
            let tariff = try tariffID.map { try run.tariff(id: $0) }
            let report = try run.compute(tariff: tariff?.tariff)
            let context = PolicyContext(facts: run.site.site, extraFacts: run.criteria.extraFacts)
            let check = PolicyEvaluator.evaluate(loaded.policy, context: context, report: report)
            failed = check.hasFailOrInsufficient
            if options.json {
                return try printJSON(
                    CheckJSON(run: run, check: check, policySource: loaded.path, tariff: tariff.map { ($0.tariff.id, $0.path) }))
            }
            let p = check.policy
            print("\(p.id): \(p.titleEN) \(p.titleZH)")
            print("document \(p.document), \(p.issuer), \(p.date); criteria from \(loaded.path ?? "built-in policy")")
            print("site \(run.site.site.id): \(CriteriaFormat.windowLine(run.window, zone: run.zone))")
            if let tariff {
                print("tariff \(tariff.tariff.id) (\(tariff.path ?? "built in"))\(run.criteria.tariffID == nil ? ", the policy's: the site names none" : "")")
            }
            let rows = check.results.map { r in
                [
                    r.criterion.id, Self.verdictText(r.verdict), r.measuredText, r.thresholdText,
                    CriteriaFormat.percent(r.coverage), r.criterion.confidence.mark, r.source,
                ]
            }
            print(CriteriaFormat.table(header: ["CRITERION", "VERDICT", "MEASURED", "THRESHOLD", "COVERAGE", "CONF", "SOURCE"], rows: rows, right: [4]))
            for r in check.results where !r.notes.isEmpty {
                print("  \(r.criterion.id) \(r.criterion.titleZH): \(r.notes.joined(separator: "; "))")
            }
            let counts = Verdict.allCases.map { v in "\(check.results.filter { $0.verdict == v }.count) \(Self.verdictText(v))" }
            print(counts.joined(separator: ", "))
            if !check.estimates.isEmpty {
                print("\nmoney estimates (estimates, never promises; the reviewing authority decides):")
                for e in check.estimates {
                    let amount: String =
                        if let a = e.amountCNY { "CNY \(CriteriaFormat.number(a, digits: 2))" } else if let lo = e.lowCNY, let hi = e.highCNY {
                            "CNY \(CriteriaFormat.number(lo, digits: 0)) … \(CriteriaFormat.number(hi, digits: 0))"
                        } else { "—" }
                    print("  \(e.rule.id) \(e.rule.titleEN) \(e.rule.titleZH): \(e.status.rawValue.replacingOccurrences(of: "_", with: " ")), \(amount)")
                    print("    formula: \(e.formulaText)   [\(e.rule.provenance) \(e.rule.confidence.mark)]")
                    for input in e.inputs {
                        let value = input.value.map { CriteriaFormat.number($0, digits: 4) } ?? "missing"
                        print("    input \(input.name) = \(value)\(input.unit.isEmpty ? "" : " \(input.unit)") (\(input.source))")
                    }
                    for note in e.notes { print("    note: \(note)") }
                }
            }
        }
        if strict && failed { throw ExitCode(1) }
    }

    static func verdictText(_ v: Verdict) -> String {
        switch v {
        case .pass: "pass"
        case .fail: "FAIL"
        case .insufficientData: "insufficient data"
        case .manualReview: "manual review"
        }
    }
}

/// The `check --json` document.
struct CheckJSON: Encodable {
    struct Row: Encodable {
        var id: String
        var title_en: String
        var title_zh: String
        var clause: String
        var subject: String
        var verdict: String
        var measured_value: Double?
        var measured_text: String
        var threshold: String
        var coverage_percent: Double?
        var source: String
        var provenance: String
        var confidence: String
        var notes: [String]

        func encode(to encoder: any Encoder) throws {
            enum Key: String, CodingKey {
                case id, title_en, title_zh, clause, subject, verdict, measured_value, measured_text, threshold, coverage_percent, source,
                    provenance, confidence, notes
            }
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(id, forKey: .id)
            try c.encode(title_en, forKey: .title_en)
            try c.encode(title_zh, forKey: .title_zh)
            try c.encode(clause, forKey: .clause)
            try c.encode(subject, forKey: .subject)
            try c.encode(verdict, forKey: .verdict)
            try c.encode(measured_value, forKey: .measured_value)  // null when missing, never 0
            try c.encode(measured_text, forKey: .measured_text)
            try c.encode(threshold, forKey: .threshold)
            try c.encode(coverage_percent, forKey: .coverage_percent)
            try c.encode(source, forKey: .source)
            try c.encode(provenance, forKey: .provenance)
            try c.encode(confidence, forKey: .confidence)
            try c.encode(notes, forKey: .notes)
        }
    }

    struct Input: Encodable {
        var name: String
        var value: Double?
        var unit: String
        var source: String

        func encode(to encoder: any Encoder) throws {
            enum Key: String, CodingKey { case name, value, unit, source }
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(name, forKey: .name)
            try c.encode(value, forKey: .value)
            try c.encode(unit, forKey: .unit)
            try c.encode(source, forKey: .source)
        }
    }

    struct Estimate: Encodable {
        var id: String
        var title_en: String
        var title_zh: String
        var status: String
        var amount_cny: Double?
        var low_cny: Double?
        var high_cny: Double?
        var formula: String
        var inputs: [Input]
        var conditions: [String]
        var provenance: String
        var confidence: String
        var notes: [String]

        func encode(to encoder: any Encoder) throws {
            enum Key: String, CodingKey {
                case id, title_en, title_zh, status, amount_cny, low_cny, high_cny, formula, inputs, conditions, provenance, confidence, notes
            }
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(id, forKey: .id)
            try c.encode(title_en, forKey: .title_en)
            try c.encode(title_zh, forKey: .title_zh)
            try c.encode(status, forKey: .status)
            try c.encode(amount_cny, forKey: .amount_cny)
            try c.encode(low_cny, forKey: .low_cny)
            try c.encode(high_cny, forKey: .high_cny)
            try c.encode(formula, forKey: .formula)
            try c.encode(inputs, forKey: .inputs)
            try c.encode(conditions, forKey: .conditions)
            try c.encode(provenance, forKey: .provenance)
            try c.encode(confidence, forKey: .confidence)
            try c.encode(notes, forKey: .notes)
        }
    }

    struct PolicyInfo: Encodable {
        var id: String
        var title_en: String
        var title_zh: String
        var document: String
        /// The file read, or "built in".
        var source: String
    }

    var site: String
    var policy: PolicyInfo
    var window: CriteriaFormat.WindowJSON
    var tariff: KpiJSON.Tariff?
    var criteria: [Row]
    var estimates: [Estimate]
    /// True when a criterion failed or lacked data (what --strict exits 1 on).
    var has_fail_or_insufficient: Bool

    init(run: IndicatorRun, check: PolicyCheck, policySource: String?, tariff: (id: String, path: String?)?) {
        site = run.site.site.id
        let p = check.policy
        policy = PolicyInfo(id: p.id, title_en: p.titleEN, title_zh: p.titleZH, document: p.document, source: policySource ?? "built in")
        window = CriteriaFormat.WindowJSON(run.window, zone: run.zone)
        self.tariff = tariff.map { KpiJSON.Tariff(id: $0.id, source: $0.path ?? "built in") }
        criteria = check.results.map { r in
            let subject: String =
                switch r.criterion.subject {
                case .indicator(let id): "indicator \(id)"
                case .siteFact(let name): "site fact \(name)"
                case .manualReview: "manual review"
                }
            return Row(
                id: r.criterion.id, title_en: r.criterion.titleEN, title_zh: r.criterion.titleZH,
                clause: "\(r.criterion.clause.document), \(r.criterion.clause.article)", subject: subject,
                verdict: r.verdict.rawValue, measured_value: CriteriaFormat.finite(r.measuredValue), measured_text: r.measuredText,
                threshold: r.thresholdText, coverage_percent: CriteriaFormat.finite(r.coverage).map { $0 * 100 }, source: r.source,
                provenance: r.criterion.provenance, confidence: r.criterion.confidence.mark, notes: r.notes)
        }
        estimates = check.estimates.map { e in
            Estimate(
                id: e.rule.id, title_en: e.rule.titleEN, title_zh: e.rule.titleZH, status: e.status.rawValue,
                amount_cny: CriteriaFormat.finite(e.amountCNY), low_cny: CriteriaFormat.finite(e.lowCNY),
                high_cny: CriteriaFormat.finite(e.highCNY), formula: e.formulaText,
                inputs: e.inputs.map { Input(name: $0.name, value: CriteriaFormat.finite($0.value), unit: $0.unit, source: $0.source) },
                conditions: e.rule.conditions, provenance: e.rule.provenance, confidence: e.rule.confidence.mark, notes: e.notes)
        }
        has_fail_or_insufficient = check.hasFailOrInsufficient
    }

    func encode(to encoder: any Encoder) throws {
        enum Key: String, CodingKey { case site, policy, window, tariff, criteria, estimates, has_fail_or_insufficient }
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(site, forKey: .site)
        try c.encode(policy, forKey: .policy)
        try c.encode(window, forKey: .window)
        try c.encode(tariff, forKey: .tariff)
        try c.encode(criteria, forKey: .criteria)
        try c.encode(estimates, forKey: .estimates)
        try c.encode(has_fail_or_insufficient, forKey: .has_fail_or_insufficient)
    }
}
