/// Parses TOML text into a `TOMLTable` whose every key and value keeps its line and column.
///
/// Covers the TOML 1.0 that configuration files use: comments; bare, quoted and dotted keys;
/// `[table]` and `[[array.of.tables]]` headers; basic, literal and multi-line strings with
/// escapes; decimal, hexadecimal, octal and binary integers; floats with exponents, inf and
/// nan; booleans; arrays (multi-line, trailing comma); inline tables; local dates. Date-times
/// and local times are rejected with a message saying so. Redefining a key or a table is an
/// error. Tables and arrays nest at most `maxNestingDepth` levels deep, so no input can
/// exhaust the stack; time and memory grow linearly with the text. Owns no file I/O: the
/// caller reads the file and names it.
public enum TOMLParser {
    /// How deep tables and arrays may nest: each table of a header's or a key's dotted path,
    /// each array and each inline table is one level (the root table is level 0).
    public static let maxNestingDepth = 64

    /// Parses `text`; `file` is only used in error messages.
    public static func parse(_ text: String, file: String) throws(TOMLError) -> TOMLTable {
        var parser = Parser(scanner: TOMLScanner(text: text, file: file))
        return try parser.parseDocument()
    }
}

/// A table under construction. Reference semantics let a header path walk down and keep a
/// handle to the table that later key/value lines fill in.
private final class TableNode {
    enum Origin {
        /// Created as the parent of a deeper header; a later header may still define it once.
        case implicit
        /// Defined by a `[header]` (or is the root, or an element of an array of tables).
        case header
        /// Created by a dotted key such as `a.b = 1`.
        case dotted
    }

    var origin: Origin
    var position: TOMLPosition
    var order: [String] = []
    var slots: [String: Slot] = [:]

    init(origin: Origin, position: TOMLPosition) {
        self.origin = origin
        self.position = position
    }

    enum Slot {
        case value(TOMLValue, keyPosition: TOMLPosition)
        case table(TableNode, keyPosition: TOMLPosition)
        case tableArray(TableArrayNode, keyPosition: TOMLPosition)

        var keyPosition: TOMLPosition {
            switch self {
            case .value(_, let p), .table(_, let p), .tableArray(_, let p): p
            }
        }
    }

    func insert(_ key: String, _ slot: Slot) {
        if slots[key] == nil { order.append(key) }
        slots[key] = slot
    }

    func freeze() -> TOMLTable {
        var entries: [TOMLTable.Entry] = []
        for key in order {
            switch slots[key]! {
            case .value(let v, let p):
                entries.append(.init(key: key, keyPosition: p, value: v))
            case .table(let t, let p):
                entries.append(.init(key: key, keyPosition: p, value: TOMLValue(.table(t.freeze()), at: t.position)))
            case .tableArray(let a, let p):
                let elements = a.tables.map { TOMLValue(.table($0.freeze()), at: $0.position) }
                entries.append(.init(key: key, keyPosition: p, value: TOMLValue(.array(elements), at: a.tables[0].position)))
            }
        }
        return TOMLTable(entries: entries, position: position)
    }
}

private final class TableArrayNode {
    var tables: [TableNode] = []
}

private struct Parser {
    var scanner: TOMLScanner
    let root = TableNode(origin: .header, position: TOMLPosition(line: 1, column: 1))

    init(scanner: TOMLScanner) {
        self.scanner = scanner
    }

    func error(_ message: String, at position: TOMLPosition) -> TOMLError {
        scanner.error(message, at: position)
    }

    /// The error for a table, key or value `depth` levels deep, when that is too deep.
    func checkDepth(_ depth: Int, at position: TOMLPosition, what: String) throws(TOMLError) {
        guard depth > TOMLParser.maxNestingDepth else { return }
        throw error(
            "\(what) nests tables and arrays more than \(TOMLParser.maxNestingDepth) levels deep; essd's configuration needs a few levels: flatten it",
            at: position)
    }

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        var current = root
        var currentDepth = 0
        while true {
            scanner.skipWhitespace()
            if scanner.isAtEnd { break }
            if scanner.peek() == UInt8(ascii: "#") {
                scanner.skipComment()
                continue
            }
            if scanner.consumeNewline() { continue }
            if scanner.peek() == UInt8(ascii: "[") {
                (current, currentDepth) = try parseHeader()
            } else {
                try parseKeyValue(into: current, depth: currentDepth)
                try scanner.expectLineEnd(after: "a value")
            }
        }
        return root.freeze()
    }

    // MARK: Headers

    /// The table a header opens and its depth (the parts of its dotted key).
    private mutating func parseHeader() throws(TOMLError) -> (TableNode, depth: Int) {
        let start = scanner.position
        scanner.advance()
        let isArray = scanner.peek() == UInt8(ascii: "[")
        if isArray { scanner.advance() }
        scanner.skipWhitespace()
        let key = try scanner.parseKey()
        if key.count > TOMLParser.maxNestingDepth {
            try checkDepth(key.count, at: key[TOMLParser.maxNestingDepth].position, what: "the table header")
        }
        scanner.skipWhitespace()
        let closing = isArray ? "]]" : "]"
        for _ in 0..<closing.count {
            guard scanner.peek() == UInt8(ascii: "]") else {
                throw scanner.error("expected '\(closing)' to close the table header, found \(scanner.found)")
            }
            scanner.advance()
        }
        try scanner.expectLineEnd(after: "the table header")
        let dotted = key.map(\.name).joined(separator: ".")

        var table = root
        for part in key.dropLast() {
            table = try descendForHeader(from: table, part: part, header: dotted)
        }
        let last = key[key.count - 1]
        switch table.slots[last.name] {
        case nil:
            let node = TableNode(origin: .header, position: start)
            if isArray {
                let array = TableArrayNode()
                array.tables.append(node)
                table.insert(last.name, .tableArray(array, keyPosition: last.position))
            } else {
                table.insert(last.name, .table(node, keyPosition: last.position))
            }
            return (node, key.count)
        case .table(let existing, _):
            if !isArray, existing.origin == .implicit {
                existing.origin = .header
                existing.position = start
                table.insert(last.name, .table(existing, keyPosition: last.position))
                return (existing, key.count)
            }
            let how = existing.origin == .dotted ? "by dotted keys" : "as a table"
            throw error(
                "table '\(dotted)' is already defined \(how) at line \(existing.position.line); each table is defined once",
                at: last.position)
        case .tableArray(let array, _):
            guard isArray else {
                throw error(
                    "'\(dotted)' is already an array of tables (line \(array.tables[0].position.line)); use [[\(dotted)]] to add an element",
                    at: last.position)
            }
            let node = TableNode(origin: .header, position: start)
            array.tables.append(node)
            return (node, key.count)
        case .value(let v, let p):
            throw error(
                "duplicate key '\(dotted)': already defined as \(v.typeNameWithArticle) at line \(p.line), column \(p.column)",
                at: last.position)
        }
    }

    private func descendForHeader(
        from table: TableNode, part: (name: String, position: TOMLPosition), header: String
    ) throws(TOMLError) -> TableNode {
        switch table.slots[part.name] {
        case nil:
            let node = TableNode(origin: .implicit, position: part.position)
            table.insert(part.name, .table(node, keyPosition: part.position))
            return node
        case .table(let t, _):
            return t
        case .tableArray(let a, _):
            return a.tables[a.tables.count - 1]
        case .value(let v, let p):
            let what = v.tableValue != nil ? "an inline table, which cannot be extended" : v.typeNameWithArticle
            throw error(
                "cannot define [\(header)]: key '\(part.name)' is already \(what) (line \(p.line), column \(p.column))",
                at: part.position)
        }
    }

    // MARK: Key/value pairs

    /// A `key = value` line (or inline-table entry) into `table`, which is `depth` levels deep.
    private mutating func parseKeyValue(into table: TableNode, depth: Int) throws(TOMLError) {
        let key = try scanner.parseKey()
        // The dotted key's parts before the last one are tables, one level each.
        if depth + key.count - 1 > TOMLParser.maxNestingDepth {
            try checkDepth(depth + key.count - 1, at: key[TOMLParser.maxNestingDepth - depth].position, what: "the key")
        }
        scanner.skipWhitespace()
        guard scanner.peek() == UInt8(ascii: "=") else {
            throw scanner.error("expected '=' after key '\(key.map(\.name).joined(separator: "."))', found \(scanner.found)")
        }
        scanner.advance()
        scanner.skipWhitespace()
        let value = try parseValue(depth: depth + key.count)
        try assign(value, to: key, in: table)
    }

    private func assign(_ value: TOMLValue, to key: [(name: String, position: TOMLPosition)], in table: TableNode) throws(TOMLError) {
        var target = table
        for part in key.dropLast() {
            switch target.slots[part.name] {
            case nil:
                let node = TableNode(origin: .dotted, position: part.position)
                target.insert(part.name, .table(node, keyPosition: part.position))
                target = node
            case .table(let t, _) where t.origin == .dotted:
                target = t
            case .table(let t, _):
                throw error(
                    "cannot add to table '\(part.name)' with a dotted key: it is defined by a header at line \(t.position.line)",
                    at: part.position)
            case .tableArray(let a, _):
                throw error(
                    "cannot add to '\(part.name)' with a dotted key: it is an array of tables (line \(a.tables[0].position.line))",
                    at: part.position)
            case .value(let v, let p):
                let what = v.tableValue != nil ? "an inline table, which cannot be extended" : v.typeNameWithArticle
                throw error(
                    "cannot use '\(part.name)' as a table: it is already \(what) (line \(p.line), column \(p.column))",
                    at: part.position)
            }
        }
        let last = key[key.count - 1]
        if let existing = target.slots[last.name] {
            let p = existing.keyPosition
            throw error("duplicate key '\(last.name)': already defined at line \(p.line), column \(p.column)", at: last.position)
        }
        target.insert(last.name, .value(value, keyPosition: last.position))
    }

    // MARK: Values

    /// A value; an array or inline table here is `depth` levels deep.
    private mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLValue {
        let start = scanner.position
        switch scanner.peek() {
        case UInt8(ascii: "\""):
            if scanner.peek(1) == UInt8(ascii: "\""), scanner.peek(2) == UInt8(ascii: "\"") {
                return TOMLValue(.string(try scanner.parseMultilineBasicString()), at: start)
            }
            return TOMLValue(.string(try scanner.parseBasicString()), at: start)
        case UInt8(ascii: "'"):
            if scanner.peek(1) == UInt8(ascii: "'"), scanner.peek(2) == UInt8(ascii: "'") {
                return TOMLValue(.string(try scanner.parseMultilineLiteralString()), at: start)
            }
            return TOMLValue(.string(try scanner.parseLiteralString()), at: start)
        case UInt8(ascii: "["):
            try checkDepth(depth, at: start, what: "this array")
            return try parseArray(depth: depth)
        case UInt8(ascii: "{"):
            try checkDepth(depth, at: start, what: "this inline table")
            return try parseInlineTable(depth: depth)
        default:
            return TOMLValue(try scanner.parseBareValue(), at: start)
        }
    }

    private mutating func parseArray(depth: Int) throws(TOMLError) -> TOMLValue {
        let start = scanner.position
        scanner.advance()
        var elements: [TOMLValue] = []
        while true {
            scanner.skipBlank()
            if scanner.peek() == UInt8(ascii: "]") {
                scanner.advance()
                break
            }
            if scanner.isAtEnd {
                throw scanner.error("unterminated array starting at \(start): expected ']' before end of file")
            }
            elements.append(try parseValue(depth: depth + 1))
            scanner.skipBlank()
            if scanner.peek() == UInt8(ascii: ",") {
                scanner.advance()
                continue
            }
            if scanner.peek() == UInt8(ascii: "]") {
                scanner.advance()
                break
            }
            throw scanner.error("expected ',' or ']' in the array starting at \(start), found \(scanner.found)")
        }
        return TOMLValue(.array(elements), at: start)
    }

    private mutating func parseInlineTable(depth: Int) throws(TOMLError) -> TOMLValue {
        let start = scanner.position
        scanner.advance()
        let node = TableNode(origin: .header, position: start)
        scanner.skipWhitespace()
        if scanner.peek() == UInt8(ascii: "}") {
            scanner.advance()
            return TOMLValue(.table(node.freeze()), at: start)
        }
        while true {
            scanner.skipWhitespace()
            if scanner.atNewline || scanner.isAtEnd {
                throw scanner.error("expected a key in the inline table starting at \(start), found \(scanner.found); inline tables must be on one line")
            }
            if scanner.peek() == UInt8(ascii: "}") {
                throw scanner.error("expected a key after ',' in the inline table starting at \(start), found '}'; trailing commas are not allowed in inline tables")
            }
            try parseKeyValue(into: node, depth: depth)
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: ",") {
                scanner.advance()
                continue
            }
            if scanner.peek() == UInt8(ascii: "}") {
                scanner.advance()
                break
            }
            let hint = scanner.atNewline || scanner.isAtEnd ? "; inline tables must be on one line" : ""
            throw scanner.error("expected ',' or '}' in the inline table starting at \(start), found \(scanner.found)\(hint)")
        }
        return TOMLValue(.table(node.freeze()), at: start)
    }
}
