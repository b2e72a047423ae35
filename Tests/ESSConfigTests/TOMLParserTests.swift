import ESSConfig
import Testing

/// The value of `v` in a one-key document, or the error text.
private func parseValue(_ text: String) -> TOMLValue.Kind? {
    (try? TOMLParser.parse("v = \(text)\n", file: "t.toml"))?["v"]?.value.kind
}

private func parseError(_ text: String) -> String {
    do {
        _ = try TOMLParser.parse(text, file: "t.toml")
        return "no error"
    } catch {
        return error.description
    }
}

@Suite struct TOMLValueTests {
    @Test(arguments: [
        // Strings
        (#""hello""#, TOMLValue.Kind.string("hello")),
        (#""""#, .string("")),
        (#""tab\there""#, .string("tab\there")),
        (#""q\"b\\s\b\f\r\n""#, .string("q\"b\\s\u{8}\u{C}\r\n")),
        (#""\u00E9\U0001F600""#, .string("é😀")),
        (#""中文 ok""#, .string("中文 ok")),
        ("'C:\\path\\n'", .string("C:\\path\\n")),
        ("\"\"\"\nline1\nline2\"\"\"", .string("line1\nline2")),
        ("\"\"\"one \\\n    two\"\"\"", .string("one two")),
        ("\"\"\"a\"\"b\"\"\"\"\"", .string("a\"\"b\"\"")),
        ("'''\nraw \\n\n'''", .string("raw \\n\n")),
        ("''''quoted'''' ", .string("'quoted'")),
        // Integers
        ("42", .integer(42)),
        ("+17", .integer(17)),
        ("-7", .integer(-7)),
        ("0", .integer(0)),
        ("-0", .integer(0)),
        ("1_000_000", .integer(1_000_000)),
        ("0xDEAD_beef", .integer(0xDEAD_BEEF)),
        ("0x8000", .integer(0x8000)),
        ("0o755", .integer(0o755)),
        ("0b1101", .integer(13)),
        ("9223372036854775807", .integer(Int64.max)),
        ("-9223372036854775808", .integer(Int64.min)),
        // Floats
        ("1.5", .float(1.5)),
        ("-0.01", .float(-0.01)),
        ("+3.0", .float(3.0)),
        ("5e3", .float(5000)),
        ("6.25E-2", .float(0.0625)),
        ("1_000.5", .float(1000.5)),
        ("1e+2", .float(100)),
        ("inf", .float(.infinity)),
        ("+inf", .float(.infinity)),
        ("-inf", .float(-.infinity)),
        // Booleans and dates
        ("true", .boolean(true)),
        ("false", .boolean(false)),
        ("2025-06-30", .date(TOMLLocalDate(year: 2025, month: 6, day: 30))),
        ("2024-02-29", .date(TOMLLocalDate(year: 2024, month: 2, day: 29))),
        // Date-times: offset, UTC, local; T or space; seconds optional; fraction to the ms.
        ("2025-03-01T08:00:00+08:00", .dateTime(TOMLDateTime(date: TOMLLocalDate(year: 2025, month: 3, day: 1), msOfDay: 28_800_000, offsetSeconds: 28_800))),
        ("2025-03-01T00:30:00Z", .dateTime(TOMLDateTime(date: TOMLLocalDate(year: 2025, month: 3, day: 1), msOfDay: 1_800_000, offsetSeconds: 0))),
        ("1979-05-27T00:32:00.999999-07:00", .dateTime(TOMLDateTime(date: TOMLLocalDate(year: 1979, month: 5, day: 27), msOfDay: 1_920_999, offsetSeconds: -25_200))),
        ("2025-03-01 08:00:00", .dateTime(TOMLDateTime(date: TOMLLocalDate(year: 2025, month: 3, day: 1), msOfDay: 28_800_000, offsetSeconds: nil))),
        ("2025-03-01T23:59", .dateTime(TOMLDateTime(date: TOMLLocalDate(year: 2025, month: 3, day: 1), msOfDay: 86_340_000, offsetSeconds: nil))),
        ("2025-03-01T08:00:00.5", .dateTime(TOMLDateTime(date: TOMLLocalDate(year: 2025, month: 3, day: 1), msOfDay: 28_800_500, offsetSeconds: nil))),
    ])
    func scalar(text: String, expected: TOMLValue.Kind) {
        #expect(parseValue(text) == expected, "v = \(text)")
    }

    @Test func nanIsAFloat() {
        guard case .float(let d)? = parseValue("nan") else {
            Issue.record("nan is not a float")
            return
        }
        #expect(d.isNaN)
        guard case .float(let m)? = parseValue("-nan") else {
            Issue.record("-nan is not a float")
            return
        }
        #expect(m.isNaN)
    }

    @Test func arrays() throws {
        let doc = try TOMLParser.parse(
            """
            a = [1, 2, 3]
            b = [ "x", 'y', ]
            c = [
              1.5,   # comment
              [true, false],
              { k = 1 },
            ]
            d = []
            e = [1, "mixed"]
            """, file: "t.toml")
        func elements(_ key: String) -> [TOMLValue.Kind] { doc[key]?.value.arrayValue?.map(\.kind) ?? [] }
        #expect(elements("a") == [.integer(1), .integer(2), .integer(3)])
        #expect(elements("b") == [.string("x"), .string("y")])
        #expect(elements("c").count == 3)
        #expect(doc["c"]?.value.arrayValue?[1].arrayValue?.map(\.kind) == [.boolean(true), .boolean(false)])
        #expect(doc["c"]?.value.arrayValue?[2].tableValue?["k"]?.value.kind == .integer(1))
        #expect(doc["c"]?.value.arrayValue?[1].position == TOMLPosition(line: 5, column: 3))
        #expect(elements("d").isEmpty)
        #expect(elements("e") == [.integer(1), .string("mixed")])
    }

    @Test func inlineTables() throws {
        let doc = try TOMLParser.parse(#"p = { x = 1, "y z" = "two", a.b = true }"#, file: "t.toml")
        let p = try #require(doc["p"]?.value.tableValue)
        #expect(p.keys == ["x", "y z", "a"])
        #expect(p["a"]?.value.tableValue?["b"]?.value.kind == .boolean(true))
        #expect(p["y z"]?.keyPosition == TOMLPosition(line: 1, column: 14))
        #expect(try TOMLParser.parse("e = {}", file: "t").entries[0].value.tableValue?.entries.isEmpty == true)
    }
}

@Suite struct TOMLStructureTests {
    static let document = """
        # A comment line
        title = "essd"   # trailing comment
        "quoted key" = 1
        'literal key' = 2
        dotted.inner.leaf = 3
        site.name = "x"

        [server]
        host = "127.0.0.1"

        [server.limits]
        max = 125

        [a.b.c]
        deep = true

        [a]
        shallow = 1

        [[device]]
        id = "pcs1"

        [[device]]
        id = "bms1"
        [device.extra]
        note = "belongs to bms1"

        [[device.point]]
        name = "p"
        """

    @Test func tablesAndKeys() throws {
        let doc = try TOMLParser.parse(Self.document, file: "t.toml")
        #expect(doc.keys == ["title", "quoted key", "literal key", "dotted", "site", "server", "a", "device"])
        #expect(doc["dotted"]?.value.tableValue?["inner"]?.value.tableValue?["leaf"]?.value.kind == .integer(3))
        let server = try #require(doc["server"]?.value.tableValue)
        #expect(server.position == TOMLPosition(line: 8, column: 1))
        #expect(server["limits"]?.value.tableValue?["max"]?.value.kind == .integer(125))
        let a = try #require(doc["a"]?.value.tableValue)
        #expect(a.keys == ["b", "shallow"])
        #expect(a.position.line == 17)
        let devices = try #require(doc["device"]?.value.arrayValue)
        #expect(devices.count == 2)
        #expect(devices[0].tableValue?["id"]?.value.kind == .string("pcs1"))
        let second = try #require(devices[1].tableValue)
        #expect(second.position == TOMLPosition(line: 23, column: 1))
        #expect(second["extra"]?.value.tableValue?["note"]?.value.kind == .string("belongs to bms1"))
        #expect(second["point"]?.value.arrayValue?.count == 1)
    }

    @Test func positionsOfKeysAndValues() throws {
        let doc = try TOMLParser.parse("\n  key   =   \"value\"\nn=0x10\n", file: "t.toml")
        #expect(doc["key"]?.keyPosition == TOMLPosition(line: 2, column: 3))
        #expect(doc["key"]?.value.position == TOMLPosition(line: 2, column: 13))
        #expect(doc["n"]?.value.position == TOMLPosition(line: 3, column: 3))
    }

    @Test func crlfLineEndings() throws {
        let doc = try TOMLParser.parse("a = 1\r\nb = \"\"\"x\r\ny\"\"\"\r\n", file: "t.toml")
        #expect(doc["b"]?.value.kind == .string("x\ny"))
        #expect(doc["b"]?.keyPosition.line == 2)
    }
}

@Suite struct TOMLErrorTests {
    @Test(arguments: [
        ("a = 1\na = 2\n", "t.toml:2:1: duplicate key 'a': already defined at line 1, column 1"),
        ("[s]\nx = 1\n[s]\n", "t.toml:3:2: table 's' is already defined as a table at line 1; each table is defined once"),
        ("a = \n", "t.toml:1:5: expected a value (string, number, boolean, date, array or inline table), found end of line"),
        ("a = tcp\n", "t.toml:1:5: expected a value, found bare word 'tcp'; strings must be quoted: \"tcp\""),
        ("a = \"open\n", "t.toml:1:10: unterminated string starting at 1:5: expected '\"' before end of line"),
        ("a = 1 2\n", "t.toml:1:7: expected end of line after a value, found '2'"),
        ("key \"x\"\n", "t.toml:1:5: expected '=' after key 'key', found '\"'"),
        ("[table\n", "t.toml:1:7: expected ']' to close the table header, found end of line"),
        ("a = [1, 2\n", "t.toml:2:1: expected ',' or ']' in the array starting at 1:5, found end of file"),
        ("a = [1,\n", "t.toml:2:1: unterminated array starting at 1:5: expected ']' before end of file"),
        ("a = [1 2]\n", "t.toml:1:8: expected ',' or ']' in the array starting at 1:5, found '2'"),
        ("a = { x = 1, }\n", "t.toml:1:14: expected a key after ',' in the inline table starting at 1:5, found '}'; trailing commas are not allowed in inline tables"),
        ("a = { x = 1\n", "t.toml:1:12: expected ',' or '}' in the inline table starting at 1:5, found end of line; inline tables must be on one line"),
        ("a = 0123\n", "t.toml:1:5: invalid number '0123': leading zeros are not allowed"),
        ("a = 1__0\n", "t.toml:1:5: invalid number '1__0': expected an integer (42, -7, 0x2A, 0o52, 0b101010, 1_000) or a float (1.5, -2e3, inf, nan)"),
        ("a = 1.\n", "t.toml:1:5: invalid number '1.': expected an integer (42, -7, 0x2A, 0o52, 0b101010, 1_000) or a float (1.5, -2e3, inf, nan)"),
        ("a = -0x10\n", "t.toml:1:5: invalid number '-0x10': hexadecimal, octal and binary integers take no sign"),
        ("a = 9223372036854775808\n", "t.toml:1:5: integer '9223372036854775808' is out of range; integers are signed 64-bit"),
        ("a = 0xFFFFFFFFFFFFFFFF\n", "t.toml:1:5: integer '0xFFFFFFFFFFFFFFFF' is out of range; integers are signed 64-bit"),
        ("a = \"\\q\"\n", "t.toml:1:6: invalid escape 'q'; expected one of \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX"),
        ("a = \"\\uD800\"\n", "t.toml:1:6: invalid unicode escape: U+D800 is not a Unicode scalar value"),
        ("a = \"\\u12\"\n", "t.toml:1:6: invalid unicode escape: expected 4 hexadecimal digits, found '\"'"),
        ("a = 2025-02-30\n", "t.toml:1:5: invalid date '2025-02-30': expected an existing day as YYYY-MM-DD"),
        ("a = 2025-02-30T12:00:00\n", "t.toml:1:5: invalid date-time '2025-02-30T12:00:00': expected YYYY-MM-DDTHH:MM:SS with an optional fraction and offset (Z or ±HH:MM), naming a real time"),
        ("a = 2025-06-30 24:00:00\n", "t.toml:1:5: invalid date-time '2025-06-30T24:00:00': expected YYYY-MM-DDTHH:MM:SS with an optional fraction and offset (Z or ±HH:MM), naming a real time"),
        ("a = 2025-06-30T12:00:00+8:00\n", "t.toml:1:5: invalid date-time '2025-06-30T12:00:00+8:00': expected YYYY-MM-DDTHH:MM:SS with an optional fraction and offset (Z or ±HH:MM), naming a real time"),
        ("a = 07:30:00\n", "t.toml:1:5: local times are not supported; use a string"),
        ("x = 1\nx.y = 2\n", "t.toml:2:1: cannot use 'x' as a table: it is already an integer (line 1, column 1)"),
        ("t = { a = 1 }\n[t.b]\n", "t.toml:2:2: cannot define [t.b]: key 't' is already an inline table, which cannot be extended (line 1, column 1)"),
        ("[[d]]\n[d]\n", "t.toml:2:2: 'd' is already an array of tables (line 1); use [[d]] to add an element"),
        ("a.b = 1\n[a]\n", "t.toml:2:2: table 'a' is already defined by dotted keys at line 1; each table is defined once"),
        ("= 1\n", "t.toml:1:1: expected a key (letters, digits, '_', '-', or a quoted string), found '='"),
        ("a = \"\"\"never closed\n", "t.toml:2:1: unterminated multi-line string starting at 1:5: expected '\"\"\"' before end of file"),
        ("a = \"tab\u{1}\"\n", "t.toml:1:9: control character U+0001 must be escaped in a string"),
    ])
    func error(text: String, expected: String) {
        #expect(parseError(text) == expected)
    }

    @Test func errorColumnCountsUnicodeScalars() {
        #expect(parseError("\"é\" = 1 x\n") == "t.toml:1:9: expected end of line after a value, found 'x'")
    }
}
