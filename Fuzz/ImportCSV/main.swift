// libFuzzer target: the import CSV reader (CSVRecordReader) and the row mapper behind
// `essctl import csv` (HistoryRowMapper, HistoryTimeParser).
//
// Input: byte 0 picks the delimiter (, ; tab |); byte 1 seeds the chunk sizes the file is fed in;
// byte 2 the map (time format, header line or none, columns by name or number, time zone); the
// rest is the file.
//
// Checked: the records do not depend on how the bytes are chunked (whole, one byte at a time,
// pieces of 1...64 bytes); line numbers grow and stay within the file; records written back
// as CSV (every field quoted) read back the same; the mapper never crashes, accepts rows in
// strictly increasing time, and gives a quality ok only to finite values.

@testable import ESSCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 3 else { return 0 }
    let delimiter = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t"), UInt8(ascii: "|")][Int(data[0] & 3)]
    let file = Array(UnsafeBufferPointer(start: data + 3, count: size - 3))

    // The same records however the file is cut.
    let whole = records(file, delimiter: delimiter, chunks: [file.count])
    let bytewise = records(file, delimiter: delimiter, chunks: Array(repeating: 1, count: file.count))
    precondition(whole == bytewise, "byte-at-a-time feeding gives other records")
    var sizes: [Int] = []
    var seed = UInt32(data[1]) | 1
    var left = file.count
    while left > 0 {
        seed = seed &* 1_103_515_245 &+ 12345
        let n = min(left, 1 + Int(seed >> 16) % 64)
        sizes.append(n)
        left -= n
    }
    precondition(records(file, delimiter: delimiter, chunks: sizes) == whole, "chunked feeding gives other records")

    // Line numbers: from 1, never decreasing, never past the file's last line.
    var breaks = 0
    for b in file where b == 0x0A || b == 0x0D { breaks += 1 }
    var last = 1
    for r in whole {
        precondition(r.line >= last && r.line <= breaks + 1, "record line \(r.line) after \(last), file has \(breaks + 1)")
        precondition(!r.fields.isEmpty, "a record without fields")
        last = r.line
    }

    // Written back with every field quoted, the records read back the same.
    let good = whole.filter { $0.problem == nil }
    var text: [UInt8] = []
    for r in good {
        for (i, field) in r.fields.enumerated() {
            if i > 0 { text.append(delimiter) }
            text.append(UInt8(ascii: "\""))
            for b in field.utf8 {
                if b == UInt8(ascii: "\"") { text.append(b) }
                text.append(b)
            }
            text.append(UInt8(ascii: "\""))
        }
        text.append(0x0A)
    }
    let reread = records(text, delimiter: delimiter, chunks: [text.count])
    precondition(reread.map(\.fields) == good.map(\.fields), "records written back read back differently")

    mapRows(whole, delimiter: delimiter, options: data[2])
    return 0
}

func records(_ bytes: [UInt8], delimiter: UInt8, chunks: [Int]) -> [CSVRecord] {
    var reader = CSVRecordReader(delimiter: delimiter)
    var out: [CSVRecord] = []
    var start = 0
    for n in chunks {
        bytes[start..<(start + n)].withUnsafeBytes { reader.feed($0) { out.append($0) } }
        start += n
    }
    reader.finish { out.append($0) }
    return out
}

/// Maps `records` as `essctl import csv` would: a time column and two value columns of a device.
func mapRows(_ records: [CSVRecord], delimiter: UInt8, options: UInt8) {
    let format = HistoryImportMap.TimeFormat.allCases[Int(options & 3)]
    let headerLine = Int(options >> 2 & 1)
    let byName = headerLine == 1 && options & 0x08 != 0
    let column: (String, Int) -> HistoryImportMap.ColumnReference = { name, number in byName ? .name(name) : .number(number) }
    let map = HistoryImportMap(
        delimiter: delimiter, headerLine: headerLine, timeColumn: column("time", 1), timeFormat: format,
        columns: [
            .init(column: column("a", 2), group: "d", signal: "a"),
            .init(column: column("b", 3), group: "d", signal: "b", scale: 0.001),
        ],
        ignoredColumns: ["note"], missingValues: ["", "NA"])
    let schema = SeriesSchema(
        groupID: "d",
        signals: [
            SignalDefinition(name: "a", role: .activePowerKW, heartbeatMS: 3000, tiers: []),
            SignalDefinition(name: "b", role: .other, heartbeatMS: 3000, tiers: []),
        ],
        energy: EnergySources(activePower: 0))
    // A zone without changes, or one whose local times all happen twice an hour apart.
    let resolver: LocalTimeResolver? =
        switch options >> 4 & 3 {
        case 0: nil
        case 1: { [$0] }
        case 2: { [$0 - 3_600_000, $0] }
        default: { local in local % 7 == 0 ? [] : [local + 28_800_000] }
        }
    /// One pass over the records, as each pass of `essctl import` makes it.
    func pass() -> (outcomes: [HistoryRowMapper.Outcome], tally: HistoryImportTally)? {
        var mapper = HistoryRowMapper(
            map: map, groups: [schema], resolver: resolver, notAfterMS: options & 0x40 != 0 ? 1_800_000_000_000 : nil)
        var outcomes: [HistoryRowMapper.Outcome] = []
        do {
            for record in records { try mapper.map(record) { outcomes.append($0) } }
            try mapper.finish { outcomes.append($0) }
        } catch {
            precondition(!error.message.isEmpty, "a header error without a message")
            return nil
        }
        return (outcomes, mapper.tally)
    }
    guard let first = pass() else { return }
    var previous: Int64?
    for outcome in first.outcomes {
        guard case .row(let row) = outcome else { continue }
        if let previous { precondition(row.timestampMS > previous, "rows out of time order were accepted") }
        previous = row.timestampMS
        precondition(row.values.count == 1 && row.values[0].count == 2 && row.qualities[0].count == 2, "row width")
        for s in 0..<2 {
            let (v, q) = (row.values[0][s], row.qualities[0][s])
            precondition(q == .ok ? v.isFinite : v.isNaN, "value \(v) with quality \(q)")
        }
    }
    let tally = first.tally
    precondition(tally.rowsRead == tally.rowsAccepted + tally.rowsRejected, "the tally does not add up")
    // The checking pass and the writing pass of an import must agree row for row.
    // (Compared as text: a row's unsampled values are NaN, which never equals itself.)
    let second = pass()
    precondition(
        second.map { "\($0.outcomes)" } == "\(first.outcomes)" && second?.tally == first.tally, "two passes disagree")
}
