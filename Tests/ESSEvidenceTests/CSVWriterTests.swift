import ESSCriteria
import ESSTestSupport
import Foundation
import Testing

@testable import ESSEvidence

@Suite struct CSVWriterTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("", ""),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("line\nbreak", "\"line\nbreak\""),
        ("cr\rhere", "\"cr\rhere\""),
        ("充电电量 kWh", "充电电量 kWh"),
        ("\"", "\"\"\"\""),
    ])
    func quoting(field: String, expected: String) {
        #expect(CSVWriter.escape(field) == expected)
    }

    @Test func recordEndsWithCRLF() {
        #expect(CSVWriter.record(["a", "b,c", ""]) == "a,\"b,c\",\r\n")
    }

    @Test(arguments: [
        (1.5, 3, "1.500"),
        (-2.25, 1, "-2.3"),
        (2.25, 1, "2.3"),
        (-0.0004, 3, "0.000"),
        (0.001, 3, "0.001"),
        (1234567.891, 3, "1234567.891"),
        (12.0, 2, "12.00"),
        (0.5, 0, "1"),
        (0.49, 0, "0"),
        (-7.0, 3, "-7.000"),
        (Double.nan, 3, ""),
        (Double.infinity, 3, ""),
    ])
    func precision(value: Double, decimals: Int, expected: String) {
        #expect(FixedDecimal.format(value, decimals: decimals) == expected)
    }

    @Test func unknownIsEmptyNeverZero() {
        #expect(FixedDecimal.format(nil, decimals: 3) == "")
    }

    @Test(arguments: [(0.9989, "99.8"), (0.875, "87.5"), (1.0, "100.0"), (0.0001, "0.0")])
    func percentRoundsDown(fraction: Double, expected: String) {
        #expect(FixedDecimal.percentDown(fraction, decimals: 1) == expected)
    }

    @Test(arguments: [(1.0, "measured"), (0.999, "measured"), (0.9989, "partial:99.8"), (0.5, "partial:50.0"), (0.0, "missing")])
    func quality(coverage: Double, expected: String) {
        #expect(IntervalQuality(coverage: coverage).description == expected)
    }

    @Test(arguments: [false, true])
    func byteOrderMark(excel: Bool) throws {
        let dir = try TestEnvironment.temporaryDirectory("csv-bom")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.csv").path
        let writer = try CSVWriter(path: path, header: ["日期", "kWh"], byteOrderMark: excel)
        try writer.write(["2024-05-01", "1.500"])
        try writer.close()
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let body = Array("日期,kWh\r\n2024-05-01,1.500\r\n".utf8)
        #expect(bytes == (excel ? CSVWriter.byteOrderMark : []) + body)
        #expect(writer.rowCount == 1)
        #expect(writer.byteCount == bytes.count)
    }

    /// Many rows through a tiny buffer: the file is the rows in order, and the streamed hash is the file's.
    @Test func streamsInChunks() throws {
        let dir = try TestEnvironment.temporaryDirectory("csv-chunks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.csv").path
        let writer = try CSVWriter(path: path, header: ["i", "text"], chunkBytes: 100)
        var expected = "i,text\r\n"
        for i in 0..<5000 {
            let text = i % 7 == 0 ? "a,\"\(i)\"" : "v\(i)"
            try writer.write([String(i), text])
            expected += CSVWriter.record([String(i), text])
        }
        let digest = try writer.close()
        let bytes = FileManager.default.contents(atPath: path)!
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        #expect(writer.rowCount == 5000)
        let (size, fileDigest) = try #require(EvidenceVerifier.hash(path: path))
        #expect(size == bytes.count)
        #expect(fileDigest == digest)
    }

    @Test func timeText() {
        // 2024-04-30T16:00:00Z is local midnight in Shanghai.
        #expect(TimeText.utc(ms: 1_714_492_800_000) == "2024-04-30T16:00:00Z")
        #expect(TimeText.local(ms: 1_714_492_800_000, offsets: .chinaStandardTime) == "2024-05-01T00:00:00+08:00")
        #expect(TimeText.offsetText(-12_600) == "-03:30")
    }
}
