/// Reads typed values out of one TOML table and records an issue for every key that is
/// missing, of the wrong type, out of range or unknown. Getters return nil after recording
/// an issue, so callers simply skip what they cannot build.
struct TableReader {
    let table: TOMLTable
    let file: String
    /// Dotted path of this table for issue keys ("" for the root).
    let path: String
    let log: IssueLog

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Line of `key` when present, else the line of the table itself.
    func line(of key: String) -> Int { table[key]?.keyPosition.line ?? table.position.line }

    func has(_ key: String) -> Bool { table[key] != nil }

    func issue(_ key: String, _ message: String) {
        log.add(file: file, line: line(of: key), key: keyPath(key), message)
    }

    /// Records an issue for every key not in `allowed`, listing the allowed keys; `hints`
    /// adds advice for keys that are often put in the wrong place.
    func rejectUnknownKeys(allowed: [String], hints: [String: String] = [:]) {
        for entry in table.entries where !allowed.contains(entry.key) {
            let hint = hints[entry.key].map { " (\($0))" } ?? ""
            log.add(
                file: file, line: entry.keyPosition.line, key: keyPath(entry.key),
                "unknown key\(hint); allowed keys here: \(allowed.joined(separator: ", "))")
        }
    }

    private func value(_ key: String, required: Bool, expected: String) -> TOMLValue? {
        guard let entry = table[key] else {
            if required { issue(key, "missing required key; expected \(expected)") }
            return nil
        }
        return entry.value
    }

    private func wrongType(_ key: String, _ v: TOMLValue, expected: String) {
        issue(key, "expected \(expected), found \(v.summary)")
    }

    // MARK: Scalars

    func string(_ key: String, required: Bool = false, nonEmpty: Bool = true) -> String? {
        guard let v = value(key, required: required, expected: "a string") else { return nil }
        guard let s = v.stringValue else {
            wrongType(key, v, expected: "a string")
            return nil
        }
        if nonEmpty, s.isEmpty {
            issue(key, "must not be empty")
            return nil
        }
        // A C string ends at NUL: a path, host or name with one would be cut short unnoticed.
        if s.utf8.contains(0) {
            issue(key, "\(TOMLValue.abbreviated(s)) contains a NUL character (\\u0000); no value in essd's configuration may")
            return nil
        }
        return s
    }

    /// A string of lowercase letters, digits and the given punctuation.
    /// At most `maxBytes` bytes when given (the store keeps some names in fixed fields).
    func identifier(_ key: String, required: Bool = false, allowHyphen: Bool, maxBytes: Int? = nil) -> String? {
        guard let s = string(key, required: required) else { return nil }
        let ok = s.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_" || (allowHyphen && c == "-")
        }
        guard ok else {
            let rule = allowHyphen ? "[a-z0-9_-]+" : "[a-z0-9_]+"
            issue(key, "\(TOMLValue.abbreviated(s)) is not a valid name; expected lowercase letters, digits\(allowHyphen ? ", '_' and '-'" : " and '_'") (\(rule))")
            return nil
        }
        if let maxBytes, s.utf8.count > maxBytes {
            issue(key, "\(TOMLValue.abbreviated(s)) is too long: at most \(maxBytes) bytes (the store keeps it in a field of that size)")
            return nil
        }
        return s
    }

    func integer(_ key: String, required: Bool = false, in range: ClosedRange<Int>) -> Int? {
        let rangeText = "\(range.lowerBound)...\(range.upperBound)"
        guard let v = value(key, required: required, expected: "an integer in \(rangeText)") else { return nil }
        guard let i = v.integerValue else {
            wrongType(key, v, expected: "an integer in \(rangeText)")
            return nil
        }
        guard let n = Int(exactly: i), range.contains(n) else {
            issue(key, "must be in \(rangeText), found \(i)")
            return nil
        }
        return n
    }

    /// A number (integers are accepted) that is finite and satisfies `rule`, described by
    /// `ruleText` ("greater than 0"; empty when any finite number will do).
    func double(_ key: String, required: Bool = false, ruleText: String, _ rule: (Double) -> Bool) -> Double? {
        let expected = ruleText.isEmpty ? "a number" : "a number \(ruleText)"
        guard let v = value(key, required: required, expected: expected) else { return nil }
        guard let d = v.doubleValue else {
            wrongType(key, v, expected: expected)
            return nil
        }
        guard d.isFinite, rule(d) else {
            let shown: String =
                switch v.kind {
                case .integer(let i): "\(i)"
                default: "\(d)"
                }
            issue(key, "must be a finite number\(ruleText.isEmpty ? "" : " " + ruleText), found \(shown)")
            return nil
        }
        return d
    }

    func bool(_ key: String, required: Bool = false) -> Bool? {
        guard let v = value(key, required: required, expected: "true or false") else { return nil }
        guard let b = v.boolValue else {
            wrongType(key, v, expected: "true or false")
            return nil
        }
        return b
    }

    /// A string that must be one of `choices` (matched exactly); the message lists them.
    func choice<T>(_ key: String, required: Bool = false, _ choices: [(String, T)]) -> T? {
        let list = choices.map(\.0).joined(separator: ", ")
        guard let v = value(key, required: required, expected: "one of: \(list)") else { return nil }
        guard let s = v.stringValue else {
            wrongType(key, v, expected: "a string, one of: \(list)")
            return nil
        }
        guard let match = choices.first(where: { $0.0 == s }) else {
            issue(key, "\(TOMLValue.abbreviated(s)) is not allowed; expected one of: \(list)")
            return nil
        }
        return match.1
    }

    /// A local date, or a "YYYY-MM-DD" string; returned as "YYYY-MM-DD".
    func date(_ key: String, required: Bool = false) -> String? {
        guard let v = value(key, required: required, expected: "a date YYYY-MM-DD") else { return nil }
        switch v.kind {
        case .date(let d):
            return d.description
        case .string(let s):
            guard let d = TOMLLocalDate(iso: s) else {
                issue(key, "\(TOMLValue.abbreviated(s)) is not a date; expected an existing day as YYYY-MM-DD, e.g. 2025-06-30")
                return nil
            }
            return d.description
        default:
            wrongType(key, v, expected: "a date YYYY-MM-DD")
            return nil
        }
    }

    /// Parses `text` as TOML and returns the reader of its top table; a syntax error goes to
    /// `log` (with its line and column) and gives nil.
    static func parse(text: String, file: String, log: IssueLog) -> TableReader? {
        do {
            return TableReader(table: try TOMLParser.parse(text, file: file), file: file, path: "", log: log)
        } catch {
            log.add(error)
            return nil
        }
    }

    /// Parses a file whose top level has an `id` equal to its base name (tariffs, policies):
    /// the reader of its top table with unknown keys rejected, the id, and the issue count
    /// before reading (so the caller can tell whether its own checks added issues).
    static func identifiedFile(text: String, file: String, allowedKeys: [String], log: IssueLog)
        -> (top: TableReader, id: String?, issuesBefore: Int)?
    {
        guard let top = parse(text: text, file: file, log: log) else { return nil }
        let before = log.count
        top.rejectUnknownKeys(allowed: allowedKeys)
        let id = top.identifier("id", required: true, allowHyphen: true)
        if let id { top.checkBaseName(id, file: file) }
        return (top, id, before)
    }

    /// An array of strings, or nil (with an issue when present but not one).
    func stringArray(_ key: String) -> [String]? {
        guard let entry = table[key] else { return nil }
        guard let elements = entry.value.arrayValue else {
            issue(key, "expected an array of strings, found \(entry.value.summary)")
            return nil
        }
        var strings: [String] = []
        for element in elements {
            guard case .string(let text) = element.kind else {
                issue(key, "expected an array of strings, found \(element.summary) in it")
                return nil
            }
            strings.append(text)
        }
        return strings
    }

    // MARK: Tables

    /// The sub-table `key`, or nil (with an issue when it is present but not a table, or
    /// missing and required).
    func table(_ key: String, required: Bool = false) -> TableReader? {
        guard let entry = table[key] else {
            if required {
                log.add(file: file, line: table.position.line, key: keyPath(key), "missing required table [\(keyPath(key))]")
            }
            return nil
        }
        guard let t = entry.value.tableValue else {
            issue(key, "expected a table [\(keyPath(key))], found \(entry.value.summary)")
            return nil
        }
        return TableReader(table: t, file: file, path: keyPath(key), log: log)
    }

    /// The elements of the array of tables `key` (`[[key]]`), each with its path `key[i]`.
    func tableArray(_ key: String) -> [TableReader] {
        guard let entry = table[key] else { return [] }
        guard let elements = entry.value.arrayValue else {
            issue(key, "expected an array of tables [[\(keyPath(key))]], found \(entry.value.summary)")
            return []
        }
        var readers: [TableReader] = []
        for (i, element) in elements.enumerated() {
            guard let t = element.tableValue else {
                log.add(
                    file: file, line: element.position.line, key: "\(keyPath(key))[\(i)]",
                    "expected a table, found \(element.summary); write each element as [[\(keyPath(key))]]")
                continue
            }
            readers.append(TableReader(table: t, file: file, path: "\(keyPath(key))[\(i)]", log: log))
        }
        return readers
    }
}
