// libFuzzer target: the TOML parser (TOMLParser) and ESSConfig's readers of one file.
// Input: byte 0 picks a reader (mod 5: profile, tariff, policy, site criteria, site); the rest is
// the file's text (invalid UTF-8 is repaired, as a file read by the loader could not be).
// Must never crash or hang (issue 11, finding 8); every error must point inside the text.
import ESSConfig

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    var lines = 1
    for byte in text.utf8 where byte == UInt8(ascii: "\n") { lines += 1 }

    // The parser alone: a table whose every position is in the text, or an error that is.
    do {
        let table = try TOMLParser.parse(text, file: "f.toml")
        check(table, lines: lines, depth: 0)
        // Parsing is a function of the text.
        let again = try TOMLParser.parse(text, file: "f.toml")
        precondition(describe(again) == describe(table), "a second parse differs")
    } catch {
        precondition(error.file == "f.toml", "an error names another file: \(error.file)")
        precondition((1...lines).contains(error.position.line), "error line \(error.position.line) outside 1...\(lines)")
        precondition(error.position.column >= 1, "error column \(error.position.column)")
        precondition(!error.message.isEmpty, "an error without a message")
    }

    // One of the readers over the same text.
    let file = ["profiles/p.toml", "tariffs/t.toml", "policies/p.toml", "site.toml", "/nonexistent-essd-fuzz/site.toml"][Int(data[0] % 5)]
    do throws(ConfigurationError) {
        switch data[0] % 5 {
        case 0: _ = try ConfigurationLoader.parseProfile(text: text, file: file)
        case 1: _ = try ConfigurationLoader.parseTariff(text: text, file: file)
        case 2: _ = try ConfigurationLoader.parsePolicy(text: text, file: file)
        case 3: _ = try ConfigurationLoader.parseSiteCriteria(text: text, file: file)
        default:
            // Profiles are looked for where there are none (a profile_directory in the text may
            // name a real folder: only files named <identifier>.toml are read, and only when regular).
            _ = try ConfigurationLoader.parseSite(text: text, file: file, profileDirectory: "/nonexistent-essd-fuzz/profiles")
        }
    } catch {
        precondition(!error.issues.isEmpty, "a ConfigurationError without issues")
        for issue in error.issues {
            precondition(!issue.message.isEmpty && !issue.key.isEmpty, "an issue without key or message: \(issue)")
            // An issue of the text is at one of its lines (0: the file as a whole).
            if issue.file == file {
                precondition((0...lines).contains(issue.line), "issue line \(issue.line) outside 0...\(lines): \(issue)")
            }
        }
    }
    return 0
}

/// Every key and value of `table` is at a line of the text; tables nest at most 64 levels.
func check(_ table: TOMLTable, lines: Int, depth: Int) {
    precondition(depth <= TOMLParser.maxNestingDepth + 1, "nested \(depth) levels deep")
    precondition((1...lines).contains(table.position.line), "table at line \(table.position.line)")
    for entry in table.entries {
        precondition((1...lines).contains(entry.keyPosition.line), "key \(entry.key) at line \(entry.keyPosition.line)")
        check(entry.value, lines: lines, depth: depth + 1)
    }
}

func check(_ value: TOMLValue, lines: Int, depth: Int) {
    precondition((1...lines).contains(value.position.line) && value.position.column >= 1, "value at \(value.position)")
    switch value.kind {
    case .table(let t): check(t, lines: lines, depth: depth)
    case .array(let elements):
        precondition(depth <= TOMLParser.maxNestingDepth + 1, "nested \(depth) levels deep")
        for e in elements { check(e, lines: lines, depth: depth + 1) }
    default: break
    }
}

/// A text of the whole table that treats NaN as equal to itself (`==` does not).
func describe(_ table: TOMLTable) -> String {
    table.entries.map { "\($0.key)@\($0.keyPosition)=\(describe($0.value))" }.joined(separator: ",")
}

func describe(_ value: TOMLValue) -> String {
    switch value.kind {
    case .table(let t): "{\(describe(t))}@\(value.position)"
    case .array(let a): "[\(a.map(describe).joined(separator: ","))]@\(value.position)"
    case .float(let d): "f\(d.bitPattern)@\(value.position)"
    default: "\(value.kind)@\(value.position)"
    }
}
