/// Bare TOML values: booleans, integers, floats, local dates and date-times. Everything that is not a
/// string, an array or an inline table is read as one token and then classified here.
extension TOMLScanner {
    static func isTokenByte(_ b: UInt8) -> Bool {
        isBareKeyByte(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
    }

    /// A value that is not a string, array or inline table.
    mutating func parseBareValue() throws(TOMLError) -> TOMLValue.Kind {
        let start = position
        let from = index
        while let b = peek(), Self.isTokenByte(b) { advance() }
        guard index > from else {
            throw error("expected a value (string, number, boolean, date, array or inline table), found \(found)")
        }
        let token = String(decoding: bytes[from..<index], as: UTF8.self)
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        let t = Array(token.utf8)
        func isDigit(_ i: Int) -> Bool { i < t.count && t[i] >= UInt8(ascii: "0") && t[i] <= UInt8(ascii: "9") }
        // Dates and times.
        if t.count >= 10, (0..<4).allSatisfy(isDigit), t[4] == UInt8(ascii: "-"), isDigit(5), isDigit(6), t[7] == UInt8(ascii: "-"), isDigit(8), isDigit(9) {
            let withSpaceTime = t.count == 10 && peek() == UInt8(ascii: " ") && Self.isDigitByte(peek(1)) && Self.isDigitByte(peek(2)) && peek(3) == UInt8(ascii: ":")
            if t.count > 10 || withSpaceTime {
                var text = token
                if withSpaceTime {
                    advance()
                    let timeFrom = index
                    while let b = peek(), Self.isTokenByte(b) { advance() }
                    text += "T" + String(decoding: bytes[timeFrom..<index], as: UTF8.self)
                }
                guard let dateTime = TOMLDateTime(iso: text) else {
                    throw error(
                        "invalid date-time '\(text)': expected YYYY-MM-DDTHH:MM:SS with an optional fraction and offset (Z or ±HH:MM), naming a real time",
                        at: start)
                }
                return .dateTime(dateTime)
            }
            guard let date = TOMLLocalDate(iso: token) else {
                throw error("invalid date '\(token)': expected an existing day as YYYY-MM-DD", at: start)
            }
            return .date(date)
        }
        if t.count >= 3, isDigit(0), isDigit(1), t[2] == UInt8(ascii: ":") {
            throw error("local times are not supported; use a string", at: start)
        }
        if let first = t.first, (first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z")) || (first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z")) {
            throw error("expected a value, found bare word '\(token)'; strings must be quoted: \"\(token)\"", at: start)
        }
        return try parseNumber(token, at: start)
    }

    static func isDigitByte(_ b: UInt8?) -> Bool {
        guard let b else { return false }
        return b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
    }

    private func parseNumber(_ token: String, at start: TOMLPosition) throws(TOMLError) -> TOMLValue.Kind {
        let invalid = error(
            "invalid number '\(token)': expected an integer (42, -7, 0x2A, 0o52, 0b101010, 1_000) or a float (1.5, -2e3, inf, nan)",
            at: start)
        var body = Substring(token)
        var sign = ""
        if let f = body.first, f == "+" || f == "-" {
            sign = f == "-" ? "-" : ""
            body = body.dropFirst()
        }
        // Prefixed integers take no sign.
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            guard token.first != "+", token.first != "-" else {
                throw error("invalid number '\(token)': hexadecimal, octal and binary integers take no sign", at: start)
            }
            guard let digits = Self.digits(body.dropFirst(2), radix: radix), let v = Int64(digits, radix: radix) else {
                if let digits = Self.digits(body.dropFirst(2), radix: radix), UInt64(digits, radix: radix) != nil {
                    throw error("integer '\(token)' is out of range; integers are signed 64-bit", at: start)
                }
                throw invalid
            }
            return .integer(v)
        }
        let isFloat = body.contains(".") || body.contains("e") || body.contains("E")
        if !isFloat {
            guard let digits = Self.digits(body, radix: 10) else { throw invalid }
            if digits.count > 1, digits.first == "0" {
                throw error("invalid number '\(token)': leading zeros are not allowed", at: start)
            }
            guard let v = Int64(sign + digits) else {
                throw error("integer '\(token)' is out of range; integers are signed 64-bit", at: start)
            }
            return .integer(v)
        }
        // Float: int-part [ '.' frac ] [ e/E [sign] exp ]
        var mantissa = body
        var exponent: Substring? = nil
        if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = body[..<e]
            exponent = body[body.index(after: e)...]
        }
        var intPart = mantissa
        var fracPart: Substring? = nil
        if let dot = mantissa.firstIndex(of: ".") {
            intPart = mantissa[..<dot]
            fracPart = mantissa[mantissa.index(after: dot)...]
        }
        guard let intDigits = Self.digits(intPart, radix: 10) else { throw invalid }
        if intDigits.count > 1, intDigits.first == "0" {
            throw error("invalid number '\(token)': leading zeros are not allowed", at: start)
        }
        var text = sign + intDigits
        if let fracPart {
            guard let f = Self.digits(fracPart, radix: 10) else { throw invalid }
            text += "." + f
        }
        if var exponent {
            var expSign = ""
            if let f = exponent.first, f == "+" || f == "-" {
                expSign = String(f)
                exponent = exponent.dropFirst()
            }
            guard let e = Self.digits(exponent, radix: 10) else { throw invalid }
            text += "e" + expSign + e
        }
        guard let v = Double(text) else { throw invalid }
        return .float(v)
    }

    /// The digits of `s` with underscores removed, or nil when `s` is empty, has a digit
    /// outside `radix`, or has an underscore that is not between two digits.
    static func digits(_ s: Substring, radix: Int) -> String? {
        guard !s.isEmpty, s.first != "_", s.last != "_", !s.contains("__") else { return nil }
        var out = ""
        for c in s where c != "_" {
            guard let v = c.hexDigitValue, v < radix else { return nil }
            out.append(c)
        }
        return out
    }
}
