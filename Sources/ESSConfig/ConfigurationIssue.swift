/// One problem found in a configuration file: where it is, which key, and what to do about it.
/// Owns nothing else; `ConfigurationLoader` collects these.
public struct ConfigurationIssue: Sendable, Hashable, CustomStringConvertible {
    /// The file as it was named to the loader (a site file, or a profile path built from it).
    public var file: String
    /// 1-based line of the key (or of the table header when the key is missing).
    public var line: Int
    /// Dotted path of the key, e.g. `site.time_zone`, `device[1].port`, `point[3].type`.
    public var key: String
    public var message: String

    public init(file: String, line: Int, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// "FILE:LINE: KEY: MESSAGE"
    public var description: String { "\(file):\(line): \(key): \(message)" }
}

/// Every issue found while loading a configuration. Thrown only after the whole site and all
/// its profiles have been checked, so one run shows every problem.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigurationIssue]

    public init(issues: [ConfigurationIssue]) {
        self.issues = issues
    }

    /// All issues, one per line.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects issues while a loader walks the files; dedupes and orders them at the end.
final class IssueLog {
    private(set) var issues: [ConfigurationIssue] = []

    var isEmpty: Bool { issues.isEmpty }
    var count: Int { issues.count }

    func add(file: String, line: Int, key: String, _ message: String) {
        issues.append(ConfigurationIssue(file: file, line: line, key: key, message: message))
    }

    func add(_ error: TOMLError) {
        add(file: error.file, line: error.position.line, key: "syntax error at column \(error.position.column)", error.message)
    }

    /// Issues without duplicates, grouped by file in the order files were first named, and
    /// by line within a file (issues on one line keep the order they were found in).
    var ordered: [ConfigurationIssue] {
        var seen = Set<ConfigurationIssue>()
        let unique = issues.filter { seen.insert($0).inserted }
        var fileOrder: [String: Int] = [:]
        for issue in unique where fileOrder[issue.file] == nil { fileOrder[issue.file] = fileOrder.count }
        return unique.enumerated().sorted { a, b in
            (fileOrder[a.element.file]!, a.element.line, a.offset) < (fileOrder[b.element.file]!, b.element.line, b.offset)
        }.map(\.element)
    }
}
