/// How far a number or a rule can be trusted, in the marks of `shared/domain/KPIS.md`:
/// read in the cited document ([V]), seen only in a secondary source ([S]), inferred ([I]),
/// or a value the site chose itself. Owns the mark only, not the source text.
public enum Confidence: String, Sendable, Hashable, CaseIterable, Comparable {
    case verified = "V"
    case secondary = "S"
    case inferred = "I"
    case siteChoice = "site choice"

    /// The mark as printed beside a value: "[V]", "[S]", "[I]" or "site choice".
    public var mark: String {
        switch self {
        case .verified, .secondary, .inferred: "[\(rawValue)]"
        case .siteChoice: rawValue
        }
    }

    private var rank: Int {
        switch self {
        case .verified: 0
        case .secondary: 1
        case .siteChoice: 2
        case .inferred: 3
        }
    }

    /// Ordered from most to least trusted, so `max` of several is the weakest link.
    public static func < (a: Confidence, b: Confidence) -> Bool { a.rank < b.rank }
}
