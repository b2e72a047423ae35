/// A place in a TOML file: 1-based line and 1-based column (counted in Unicode scalars).
public struct TOMLPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }

    public static func < (a: TOMLPosition, b: TOMLPosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// A TOML local date (`2025-06-30`), kept as its three fields. It is a calendar date with no
/// time and no zone; checking that the day exists in the month is done by the parser.
public struct TOMLLocalDate: Sendable, Hashable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// "YYYY-MM-DD".
    public var description: String {
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Parses exactly "YYYY-MM-DD" naming a day that exists; nil otherwise.
    public init?(iso text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for b in bytes[range] {
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(b - UInt8(ascii: "0"))
            }
            return n
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        guard (1...12).contains(m), d >= 1, d <= Self.daysIn(month: m, year: y) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Days in a month of the proleptic Gregorian calendar.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A TOML date-time: `2025-03-01T08:00:00+08:00` (offset date-time, `Z` for UTC) or
/// `2025-03-01T08:00:00` (local date-time, no offset: the reader decides the zone). `T` or a
/// space between date and time; seconds may be left out (TOML 1.1); a fraction of a second is
/// kept to the millisecond. Checked to name an existing day and a valid time and offset.
public struct TOMLDateTime: Sendable, Hashable, CustomStringConvertible {
    public var date: TOMLLocalDate
    /// Milliseconds since local midnight.
    public var msOfDay: Int
    /// Seconds east of UTC; nil for a local date-time.
    public var offsetSeconds: Int?

    public init(date: TOMLLocalDate, msOfDay: Int, offsetSeconds: Int?) {
        self.date = date
        self.msOfDay = msOfDay
        self.offsetSeconds = offsetSeconds
    }

    /// "YYYY-MM-DD(T| )HH:MM[:SS[.fff…]][Z|±HH:MM]"; nil when it is not one, or names no real time.
    public init?(iso text: String) {
        let b = Array(text.utf8)
        guard b.count >= 16, let date = TOMLLocalDate(iso: String(decoding: b[0..<10], as: UTF8.self)) else { return nil }
        func number(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for c in b[at..<(at + n)] {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int(c - UInt8(ascii: "0"))
            }
            return v
        }
        guard b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            let hour = number(11, 2), b[13] == UInt8(ascii: ":"), let minute = number(14, 2), hour < 24, minute < 60
        else { return nil }
        var ms = (hour * 3600 + minute * 60) * 1000
        var i = 16
        if i < b.count, b[i] == UInt8(ascii: ":") {
            guard let second = number(i + 1, 2), second < 60 else { return nil }
            ms += second * 1000
            i += 3
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                var digits = 0
                var fraction = 0
                while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
                    if digits < 3 { fraction = fraction * 10 + Int(b[i] - UInt8(ascii: "0")) }
                    digits += 1
                    i += 1
                }
                guard digits > 0 else { return nil }
                if digits < 3 { for _ in digits..<3 { fraction *= 10 } }
                ms += fraction
            }
        }
        var offset: Int?
        if i < b.count {
            if (b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z")), i + 1 == b.count {
                offset = 0
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
                let h = number(i + 1, 2), let m = number(i + 4, 2), h <= 14, m < 60
            {
                offset = (b[i] == UInt8(ascii: "-") ? -1 : 1) * (h * 3600 + m * 60)
            } else {
                return nil
            }
        }
        self.init(date: date, msOfDay: ms, offsetSeconds: offset)
    }

    /// "YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]".
    public var description: String {
        func pad(_ n: Int, _ width: Int = 2) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let seconds = msOfDay / 1000
        var text = "\(date)T\(pad(seconds / 3600)):\(pad(seconds / 60 % 60)):\(pad(seconds % 60))"
        if msOfDay % 1000 != 0 { text += ".\(pad(msOfDay % 1000, 3))" }
        if let offset = offsetSeconds {
            if offset == 0 {
                text += "Z"
            } else {
                text += (offset < 0 ? "-" : "+") + "\(pad(abs(offset) / 3600)):\(pad(abs(offset) / 60 % 60))"
            }
        }
        return text
    }
}

/// One parsed TOML value and where it starts in its file. Arrays of tables (`[[x]]`) are
/// arrays whose elements are tables. Owns no file I/O; `TOMLParser` makes these.
public struct TOMLValue: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case date(TOMLLocalDate)
        case dateTime(TOMLDateTime)
        case array([TOMLValue])
        case table(TOMLTable)
    }

    public var kind: Kind
    public var position: TOMLPosition

    public init(_ kind: Kind, at position: TOMLPosition) {
        self.kind = kind
        self.position = position
    }

    /// The TOML type name: string, integer, float, boolean, date, date-time, array, table.
    public var typeName: String {
        switch kind {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .date: "date"
        case .dateTime: "date-time"
        case .array: "array"
        case .table: "table"
        }
    }

    /// "a string", "an integer", "an array", ...
    public var typeNameWithArticle: String {
        switch kind {
        case .integer, .array: "an \(typeName)"
        default: "a \(typeName)"
        }
    }

    /// A short human description for messages: `string "tcp"`, `integer 5`, `array`; a long
    /// string is cut (see `abbreviated(_:)`).
    public var summary: String {
        switch kind {
        case .string(let s): "string \(Self.abbreviated(s))"
        case .integer(let i): "integer \(i)"
        case .float(let d): "float \(d)"
        case .boolean(let b): "boolean \(b)"
        case .date(let d): "date \(d)"
        case .dateTime(let d): "date-time \(d)"
        case .array: "array"
        case .table: "table"
        }
    }

    /// `text` in double quotes for a message, cut after 60 characters with its length in bytes
    /// added, so that a huge value does not make a huge message: `"aaaa…" (1048576 bytes)`.
    /// Control characters are shown as escapes.
    public static func abbreviated(_ text: String) -> String {
        var shown = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == 60 { return "\"\(shown)…\" (\(text.utf8.count) bytes)" }
            shown += scalar.value < 0x20 || scalar.value == 0x7F ? "\\u\(hex(scalar.value, width: 4))" : String(scalar)
            count += 1
        }
        return "\"\(shown)\""
    }

    public var stringValue: String? { if case .string(let s) = kind { s } else { nil } }
    public var integerValue: Int64? { if case .integer(let i) = kind { i } else { nil } }
    public var boolValue: Bool? { if case .boolean(let b) = kind { b } else { nil } }
    public var dateValue: TOMLLocalDate? { if case .date(let d) = kind { d } else { nil } }
    public var dateTimeValue: TOMLDateTime? { if case .dateTime(let d) = kind { d } else { nil } }
    public var arrayValue: [TOMLValue]? { if case .array(let a) = kind { a } else { nil } }
    public var tableValue: TOMLTable? { if case .table(let t) = kind { t } else { nil } }
    /// Floats, and integers read as floats.
    public var doubleValue: Double? {
        switch kind {
        case .float(let d): d
        case .integer(let i): Double(i)
        default: nil
        }
    }
}

/// A TOML table: its key/value entries in file order, each with the position of its key.
public struct TOMLTable: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var keyPosition: TOMLPosition
        public var value: TOMLValue

        public init(key: String, keyPosition: TOMLPosition, value: TOMLValue) {
            self.key = key
            self.keyPosition = keyPosition
            self.value = value
        }
    }

    public var entries: [Entry]
    /// Where the table is defined: its `[header]`, its `{`, or (for tables made implicitly by
    /// dotted keys) the key that made it. The root table is at 1:1.
    public var position: TOMLPosition

    public init(entries: [Entry] = [], position: TOMLPosition = TOMLPosition(line: 1, column: 1)) {
        self.entries = entries
        self.position = position
    }

    public subscript(key: String) -> Entry? {
        entries.first { $0.key == key }
    }

    public var keys: [String] { entries.map(\.key) }
}

/// A TOML syntax error: where it is and what was expected there.
public struct TOMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var position: TOMLPosition
    public var message: String

    public init(file: String, position: TOMLPosition, message: String) {
        self.file = file
        self.position = position
        self.message = message
    }

    /// "FILE:LINE:COLUMN: MESSAGE"
    public var description: String { "\(file):\(position.line):\(position.column): \(message)" }
}
