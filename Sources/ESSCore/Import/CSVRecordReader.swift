/// One record of a CSV file: its fields and the 1-based line it starts on.
public struct CSVRecord: Sendable, Hashable {
    public var fields: [String]
    public var line: Int
    /// Set when the record is malformed (an unterminated quoted field at the end of the file).
    public var problem: String?

    public init(fields: [String], line: Int, problem: String? = nil) {
        self.fields = fields
        self.line = line
        self.problem = problem
    }
}

/// Splits CSV bytes into records, fed in chunks of any size, so a file of any length is read
/// in constant memory: RFC 4180 fields (quoted fields may hold the delimiter, doubled quotes
/// and line breaks), LF or CRLF line ends, a UTF-8 byte order mark at the start skipped.
///
/// Owns the splitting only: it does not know headers, columns or numbers (`HistoryRowMapper`
/// does). Lenient where exports are sloppy: a quote inside an unquoted field is kept as text.
/// Blank lines are skipped (they count for line numbers).
public struct CSVRecordReader: Sendable {
    public let delimiter: UInt8

    private var fields: [String] = []
    private var field: [UInt8] = []
    private var inQuotes = false
    /// The previous byte was a quote inside a quoted field (closing, or the first of a pair).
    private var quotePending = false
    private var fieldStarted = false
    private var afterCR = false
    private var line = 1
    private var recordLine = 1
    private var atStart = true
    private var bomMatched = 0

    public init(delimiter: UInt8 = UInt8(ascii: ",")) {
        self.delimiter = delimiter
    }

    /// Splits `bytes`, calling `emit` for every record completed in them.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (CSVRecord) -> Void) {
        let n = bytes.count
        var i = 0
        while i < n {
            if !atStart, !afterCR, !inQuotes {
                // The common case: a run of plain bytes, copied at once.
                var j = i
                while j < n {
                    let b = bytes[j]
                    if b == delimiter || b == 0x0A || b == 0x0D || b == 0x22 { break }
                    j += 1
                }
                if j > i {
                    field.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<j]))
                    fieldStarted = true
                    i = j
                    if i == n { break }
                }
            }
            consume(bytes[i], emit: emit)
            i += 1
        }
    }

    /// Splits `bytes`, calling `emit` for every record completed in them.
    public mutating func feed(_ bytes: [UInt8], emit: (CSVRecord) -> Void) {
        bytes.withUnsafeBytes { feed($0, emit: emit) }
    }

    /// Ends the input: emits the last record when the file does not end with a line break.
    public mutating func finish(emit: (CSVRecord) -> Void) {
        if atStart, bomMatched > 0 {
            // A file shorter than a BOM: what was held back is text.
            field = Array([0xEF, 0xBB, 0xBF].prefix(bomMatched))
            fieldStarted = true
            atStart = false
        }
        if inQuotes && !quotePending {
            endField()
            emit(
                CSVRecord(
                    fields: fields, line: recordLine, problem: "a quoted field is not closed before the end of the file"
                ))
            fields = []
            return
        }
        if fieldStarted || !fields.isEmpty { endRecord(emit: emit) }
    }

    private mutating func consume(_ byte: UInt8, emit: (CSVRecord) -> Void) {
        if atStart {
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            if byte == bom[bomMatched] {
                bomMatched += 1
                if bomMatched == 3 { atStart = false }
                return
            }
            atStart = false
            if bomMatched > 0 {
                let held = bom.prefix(bomMatched)
                bomMatched = 0
                for b in held { consume(b, emit: emit) }
            }
        }
        if afterCR {
            afterCR = false
            if byte == UInt8(ascii: "\n") { return }
        }
        if inQuotes {
            if quotePending {
                quotePending = false
                if byte == UInt8(ascii: "\"") {
                    field.append(byte)
                    return
                }
                inQuotes = false  // that quote closed the field; fall through
            } else if byte == UInt8(ascii: "\"") {
                quotePending = true
                return
            } else {
                if byte == UInt8(ascii: "\n") { line += 1 }
                field.append(byte)
                return
            }
        }
        switch byte {
        case delimiter:
            endField()
        case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
            afterCR = byte == UInt8(ascii: "\r")
            if fieldStarted || !fields.isEmpty {
                endRecord(emit: emit)
            }
            line += 1
            recordLine = line
        case UInt8(ascii: "\"") where !fieldStarted:
            inQuotes = true
            fieldStarted = true
        default:
            field.append(byte)
            fieldStarted = true
        }
    }

    private mutating func endField() {
        fields.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        fieldStarted = false
    }

    private mutating func endRecord(emit: (CSVRecord) -> Void) {
        endField()
        emit(CSVRecord(fields: fields, line: recordLine))
        fields.removeAll(keepingCapacity: true)
    }
}
