/// The character-level half of the TOML parser: a cursor over UTF-8 bytes that tracks line
/// and column, and reads keys, strings, numbers, booleans and dates. Tables, arrays and the
/// rules about which keys may be defined where live in `TOMLParser`.
struct TOMLScanner {
    let bytes: [UInt8]
    let file: String
    var index = 0
    var line = 1
    /// Column of `index`, counted in Unicode scalars: kept as the cursor moves, so that taking
    /// a position costs the same at the end of a long line as at its start.
    var column = 1

    init(text: String, file: String) {
        self.bytes = Array(text.utf8)
        self.file = file
    }

    // MARK: Cursor

    var isAtEnd: Bool { index >= bytes.count }
    func peek(_ ahead: Int = 0) -> UInt8? { index + ahead < bytes.count ? bytes[index + ahead] : nil }

    var position: TOMLPosition { TOMLPosition(line: line, column: column) }

    mutating func advance() {
        let b = bytes[index]
        if b == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if b & 0xC0 != 0x80 {
            column += 1  // the first byte of a scalar; continuation bytes do not count
        }
        index += 1
    }

    func error(_ message: String, at position: TOMLPosition? = nil) -> TOMLError {
        TOMLError(file: file, position: position ?? self.position, message: message)
    }

    /// What is at the cursor, for "found ..." in messages.
    var found: String {
        guard let b = peek() else { return "end of file" }
        if b == UInt8(ascii: "\n") || (b == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n")) { return "end of line" }
        var end = index + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        let text = String(decoding: bytes[index..<end], as: UTF8.self)
        if b < 0x20 || b == 0x7F { return "control character U+\(hex(UInt32(b), width: 4))" }
        return "'\(text)'"
    }

    var atNewline: Bool {
        peek() == UInt8(ascii: "\n") || (peek() == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n"))
    }

    mutating func skipWhitespace() {
        while let b = peek(), b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { advance() }
    }

    /// Skips a comment up to (not including) the end of the line.
    mutating func skipComment() {
        guard peek() == UInt8(ascii: "#") else { return }
        while !isAtEnd, !atNewline { advance() }
    }

    /// Consumes one newline (LF or CRLF); false when there is none at the cursor.
    mutating func consumeNewline() -> Bool {
        if peek() == UInt8(ascii: "\n") {
            advance()
            return true
        }
        if peek() == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") {
            advance()
            advance()
            return true
        }
        return false
    }

    /// Skips whitespace, comments and newlines (inside arrays).
    mutating func skipBlank() {
        while true {
            skipWhitespace()
            skipComment()
            if !consumeNewline() { return }
        }
    }

    /// After a key/value pair or a header: whitespace, an optional comment, then a newline or
    /// the end of the file.
    mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipWhitespace()
        skipComment()
        if isAtEnd || consumeNewline() { return }
        throw error("expected end of line after \(what), found \(found)")
    }

    // MARK: Keys

    static func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    /// A dotted key: one or more simple keys separated by '.', each with its position.
    mutating func parseKey() throws(TOMLError) -> [(name: String, position: TOMLPosition)] {
        var parts = [try parseSimpleKey()]
        while true {
            let save = (index, line, column)
            skipWhitespace()
            guard peek() == UInt8(ascii: ".") else {
                (index, line, column) = save
                return parts
            }
            advance()
            skipWhitespace()
            parts.append(try parseSimpleKey())
        }
    }

    mutating func parseSimpleKey() throws(TOMLError) -> (name: String, position: TOMLPosition) {
        let start = position
        switch peek() {
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                throw error("expected a key, found a multi-line string; keys must be bare or single-line strings")
            }
            return (try parseBasicString(), start)
        case UInt8(ascii: "'"):
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                throw error("expected a key, found a multi-line string; keys must be bare or single-line strings")
            }
            return (try parseLiteralString(), start)
        case let b? where Self.isBareKeyByte(b):
            let from = index
            while let c = peek(), Self.isBareKeyByte(c) { advance() }
            return (String(decoding: bytes[from..<index], as: UTF8.self), start)
        default:
            throw error("expected a key (letters, digits, '_', '-', or a quoted string), found \(found)")
        }
    }

    // MARK: Strings

    private func isForbiddenControl(_ b: UInt8) -> Bool {
        (b < 0x20 && b != UInt8(ascii: "\t")) || b == 0x7F
    }

    /// `"..."` with escapes. The cursor is on the opening quote.
    mutating func parseBasicString() throws(TOMLError) -> String {
        let start = position
        advance()
        var out: [UInt8] = []
        while true {
            guard let b = peek(), !atNewline else {
                throw error("unterminated string starting at \(start): expected '\"' before \(found)")
            }
            if b == UInt8(ascii: "\"") {
                advance()
                return String(decoding: out, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") {
                try parseEscape(into: &out)
                continue
            }
            if isForbiddenControl(b) { throw error("\(found) must be escaped in a string") }
            out.append(b)
            advance()
        }
    }

    /// `"""..."""`. The cursor is on the first of the three opening quotes.
    mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        let start = position
        advance(); advance(); advance()
        _ = consumeNewline()
        var out: [UInt8] = []
        while true {
            guard let b = peek() else {
                throw error("unterminated multi-line string starting at \(start): expected '\"\"\"' before end of file")
            }
            if b == UInt8(ascii: "\"") {
                if try closeMultiline(quote: b, into: &out) { return String(decoding: out, as: UTF8.self) }
                continue
            }
            if b == UInt8(ascii: "\\") {
                // A line-ending backslash trims the newline and all whitespace after it.
                var k = index + 1
                while k < bytes.count, bytes[k] == UInt8(ascii: " ") || bytes[k] == UInt8(ascii: "\t") { k += 1 }
                if k < bytes.count, bytes[k] == UInt8(ascii: "\n") || (bytes[k] == UInt8(ascii: "\r") && k + 1 < bytes.count && bytes[k + 1] == UInt8(ascii: "\n")) {
                    advance()
                    while let c = peek(), c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                        if c == UInt8(ascii: "\r"), peek(1) != UInt8(ascii: "\n") { break }
                        advance()
                    }
                    continue
                }
                try parseEscape(into: &out)
                continue
            }
            if consumeNewline() {
                out.append(UInt8(ascii: "\n"))
                continue
            }
            if isForbiddenControl(b) { throw error("\(found) must be escaped in a string") }
            out.append(b)
            advance()
        }
    }

    /// At a quote inside a multi-line string: a run of 3 to 5 quotes closes it (the extra
    /// one or two belong to the content); fewer are content. Returns true when closed.
    private mutating func closeMultiline(quote: UInt8, into out: inout [UInt8]) throws(TOMLError) -> Bool {
        var run = 0
        while peek(run) == quote { run += 1 }
        if run < 3 {
            for _ in 0..<run {
                out.append(quote)
                advance()
            }
            return false
        }
        if run > 5 { throw error("too many quotes: a multi-line string may end with at most two extra quotes") }
        for _ in 0..<(run - 3) { out.append(quote) }
        for _ in 0..<run { advance() }
        return true
    }

    /// `'...'`, no escapes. The cursor is on the opening quote.
    mutating func parseLiteralString() throws(TOMLError) -> String {
        let start = position
        advance()
        let from = index
        while true {
            guard let b = peek(), !atNewline else {
                throw error("unterminated string starting at \(start): expected \"'\" before \(found)")
            }
            if b == UInt8(ascii: "'") {
                let text = String(decoding: bytes[from..<index], as: UTF8.self)
                advance()
                return text
            }
            if isForbiddenControl(b) { throw error("\(found) is not allowed in a literal string") }
            advance()
        }
    }

    /// `'''...'''`. The cursor is on the first of the three opening quotes.
    mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        let start = position
        advance(); advance(); advance()
        _ = consumeNewline()
        var out: [UInt8] = []
        while true {
            guard let b = peek() else {
                throw error("unterminated multi-line string starting at \(start): expected \"'''\" before end of file")
            }
            if b == UInt8(ascii: "'") {
                if try closeMultiline(quote: b, into: &out) { return String(decoding: out, as: UTF8.self) }
                continue
            }
            if consumeNewline() {
                out.append(UInt8(ascii: "\n"))
                continue
            }
            if isForbiddenControl(b) { throw error("\(found) is not allowed in a literal string") }
            out.append(b)
            advance()
        }
    }

    /// The cursor is on a backslash.
    private mutating func parseEscape(into out: inout [UInt8]) throws(TOMLError) {
        let start = position
        advance()
        guard let e = peek() else { throw error("expected an escape character after '\\', found end of file") }
        let simple: UInt8? =
            switch e {
            case UInt8(ascii: "b"): 0x08
            case UInt8(ascii: "t"): 0x09
            case UInt8(ascii: "n"): 0x0A
            case UInt8(ascii: "f"): 0x0C
            case UInt8(ascii: "r"): 0x0D
            case UInt8(ascii: "\""): 0x22
            case UInt8(ascii: "\\"): 0x5C
            default: nil
            }
        if let simple {
            out.append(simple)
            advance()
            return
        }
        let width = e == UInt8(ascii: "u") ? 4 : e == UInt8(ascii: "U") ? 8 : 0
        guard width > 0 else {
            throw error("invalid escape \(found); expected one of \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX", at: start)
        }
        advance()
        var value: UInt32 = 0
        for _ in 0..<width {
            guard let h = peek(), let digit = Self.hexDigit(h) else {
                throw error("invalid unicode escape: expected \(width) hexadecimal digits, found \(found)", at: start)
            }
            value = value << 4 | UInt32(digit)
            advance()
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw error("invalid unicode escape: U+\(hex(value, width: 4)) is not a Unicode scalar value", at: start)
        }
        UTF8.encode(scalar) { out.append($0) }
    }

    static func hexDigit(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

func hex(_ value: UInt32, width: Int) -> String {
    let s = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}
