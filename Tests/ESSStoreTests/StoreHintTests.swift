import ESSCore
import Foundation
import Testing

@testable import ESSStore

/// Issue 11, finding 5: a raw region's head hint (last sequence and time, 64 bytes) is only a
/// hint. Damaged, it is reported by `verify()`/`health()`, ignored, and recovery scans the rows;
/// no row is read wrong, lost, or overwritten because of it.
@Suite struct StoreHintTests {
    /// 2023-11-14T00:00:00Z.
    let t0: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000
    /// The fixture's raw tier keeps 600 rows of bess1 (10 min at 1 s); 700 are written, so the
    /// ring has wrapped and its true oldest row is sequence 101.
    static let written = 700
    static let capacity = 600

    func values(_ i: Int) -> [Double] { [Double(i), Double(i) * 2 + 0.25, -Double(i)] }

    /// A store whose bess1 region holds rows 101...700 (checkpointed); the region's offset.
    func filledStore() throws -> (StoreFixture, Int) {
        let fixture = StoreFixture()
        let writer = try fixture.writer()
        for i in 0..<Self.written {
            try writer.appendRaw(
                group: "bess1", timestampMS: t0 + Int64(i) * 1000, values: values(i), qualities: [.ok, .ok, .ok])
        }
        try writer.checkpoint(nowMS: t0 + Int64(Self.written) * 1000)
        let region = try #require(try fixture.plan().file(named: "raw")).groups[0]
        #expect(region.capacity == Self.capacity)
        return (fixture, region.offset)
    }

    /// Every row `first...last` of bess1 is there, in order, with its own values.
    func expectRows(_ fixture: StoreFixture, _ first: Int, _ last: Int, extra: [Int: Int64] = [:]) throws {
        let rows = try fixture.reader().raw(group: "bess1", fromMS: .min, toMS: .max).rows
        let sequences = rows.map { Int($0.sequence) }
        let expected = Array(first...last)
        let message = "rows \(sequences.first ?? -1)...\(sequences.last ?? -1) (\(rows.count)), expected \(first)...\(last)"
        #expect(sequences == expected, "\(message)")
        for row in rows {
            let i = Int(row.sequence) - 1
            let time = extra[Int(row.sequence)] ?? t0 + Int64(i) * 1000
            let want = extra[Int(row.sequence)] == nil ? values(i) : [1, 2, 3]
            #expect(row.timestampMS == time && row.values == want, "row \(row.sequence) read as \(row)")
        }
    }

    /// Each 8-byte word of the head, and the two words of the issue together (sequence and time).
    @Test(arguments: [[0], [1], [2], [3], [4], [5], [6], [7], [0, 1]])
    func aDamagedHintIsReportedIgnoredAndOverwritesNothing(words: [Int]) throws {
        let (fixture, head) = try filledStore()
        for word in words {
            for byte in 0..<8 { try flipByte(path: fixture.path("raw.tier"), offset: head + word * 8 + byte, mask: 0x5A) }
        }
        // Readers find every row, and health names the hint.
        try expectRows(fixture, 101, 700)
        let reader = try fixture.reader()
        #expect(reader.verify().isEmpty, "no row is damaged")
        let hints = try reader.health().damagedHints
        #expect(hints.map(\.groupID) == ["bess1"], "\(hints)")
        #expect(hints.first?.offset == head && hints.first?.path.hasSuffix("raw.tier") == true)

        // A restart continues after the true newest row: the next rows replace the true oldest only.
        let writer = try fixture.writer()
        var extra: [Int: Int64] = [:]
        for k in 0..<5 {
            let time = t0 + Int64(Self.written + k) * 1000
            let result = try writer.appendRaw(group: "bess1", timestampMS: time, values: [1, 2, 3], qualities: [.ok, .ok, .ok])
            #expect(result == .written(sequence: UInt64(Self.written + k + 1)))
            extra[Self.written + k + 1] = time
        }
        try writer.checkpoint(nowMS: t0 + 800_000)
        try expectRows(fixture, 106, 705, extra: extra)
        // The writer repaired the hint; the event log keeps what it found.
        #expect(try fixture.reader().health().damagedHints.isEmpty)
        let repaired = try fixture.reader().events().events.filter {
            if case .hintRepaired = $0 { return true }
            return false
        }
        #expect(repaired.count == 1, "\(repaired)")
    }

    /// A hint pointing at an older row that is intact (so cross-checking against that row alone
    /// passes) does not make the writer go back: the rows after it continue the chain.
    @Test func aStaleButConsistentHintStillFindsTheNewestRow() throws {
        let (fixture, head) = try filledStore()
        // Rewrite the head as the writer would have written it after row 650 (valid checksum).
        let file = try MappedFile(path: fixture.path("raw.tier"), writable: true)
        RawHead.store(file.base, regionOffset: head, sequence: 650, timestampMS: t0 + 649_000)
        try file.sync()
        try expectRows(fixture, 101, 700)
        let writer = try fixture.writer()
        #expect(try writer.appendRaw(group: "bess1", timestampMS: t0 + 700_000, values: [1, 2, 3], qualities: [.ok, .ok, .ok]) == .written(sequence: 701))
    }

    /// The newest row damaged while the hint is intact: the hint (checksummed) is trusted, the
    /// damaged row stays reported, and the writer does not reuse its sequence.
    @Test func aDamagedNewestRowBehindAnIntactHintIsNotOverwritten() throws {
        let (fixture, head) = try filledStore()
        let region = try #require(try fixture.plan().file(named: "raw")).groups[0]
        let newest = head + Layout.rawHeadBytes + (Self.written % Self.capacity) * region.bytes
        try flipByte(path: fixture.path("raw.tier"), offset: newest + 20)
        let writer = try fixture.writer()
        #expect(try writer.appendRaw(group: "bess1", timestampMS: t0 + 700_000, values: [1, 2, 3], qualities: [.ok, .ok, .ok]) == .written(sequence: 701))
        let damaged = try fixture.reader().verify()
        #expect(damaged.map(\.offset) == [newest])
        #expect(try fixture.reader().health().damagedHints.isEmpty)
    }

    /// catalog.json's file capacities (and raw capacities) must agree with the files.
    @Test(arguments: ["1m.tier:capacity", "raw.tier:bytes", "15m.tier:rowBytes", "rawCapacity"])
    func aCatalogWhoseCapacitiesDisagreeWithTheFilesIsRefused(field: String) throws {
        let (fixture, _) = try filledStore()
        let path = fixture.path("catalog.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        if field == "rawCapacity" {
            var groups = try #require(json["groups"] as? [[String: Any]])
            groups[0]["rawCapacity"] = (groups[0]["rawCapacity"] as? Int ?? 0) + 1
            json["groups"] = groups
        } else {
            let parts = field.split(separator: ":").map(String.init)
            var files = try #require(json["files"] as? [[String: Any]])
            let index = try #require(files.firstIndex { $0["name"] as? String == parts[0] })
            files[index][parts[1]] = (files[index][parts[1]] as? Int ?? 0) + 1
            json["files"] = files
        }
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        for open in [{ _ = try fixture.reader() }, { _ = try fixture.writer() }] as [() throws -> Void] {
            do {
                try open()
                Issue.record("a catalogue with a wrong \(field) was accepted")
            } catch let error as StoreError {
                let text = error.message
                #expect(error.kind == .corruptFile, "\(text)")
                #expect(text.contains("catalog.json") && text.contains("differs"), "\(text)")
            }
        }
    }
}
