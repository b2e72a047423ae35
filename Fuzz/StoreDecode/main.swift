// libFuzzer target: the store's decoding of what it reads from disk, from arbitrary bytes.
// Byte 0 picks the decoder, the rest is its input:
//   0 a consolidated signal (14 bytes) and energy part (24 bytes)   SlotCodec
//   1 the checkpoint file (given a valid CRC, so the fields are reached)   CheckpointRecord
//   2 a line of events.jsonl, and the same JSON wrapped with a valid CRC   StoreEventLog
//   3 catalog.json, then the plan and headers made from it   Catalog, StoreWriter.plan, TierHeader
//   4 a tier header: the input over a file's first bytes, and a correct header with input bytes
//     XORed in (any change must be refused)   TierHeader.verify
//   5 a raw region (head hint and 16 rows) as raw bytes, and 6 as rows built from the input
//     (empty, valid, valid with a sequence that does not fit its place, garbage)   RawRecovery
// Must never crash or hang; the invariants below are checked with this file's own arithmetic.
// Built with ESSCore and swift-log as modules and ESSStore's sources in this module (build.sh).

import ESSCore
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 1 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 7 {
    case 0: slots(input)
    case 1: checkpoint(input)
    case 2: events(input)
    case 3: catalog(input)
    case 4: header(input)
    case 5: rawRegion(bytes: input)
    default: rawRegion(rows: input)
    }
    return 0
}

func slots(_ input: [UInt8]) {
    var bytes = input + [UInt8](repeating: 0, count: max(0, 38 - input.count))
    let slotMS: Int64 = [60_000, 900_000, 86_400_000][Int(bytes[37] % 3)]
    bytes.withUnsafeMutableBytes { buffer in
        let p = buffer.baseAddress!
        let summary = SlotCodec.decode(p, slotMS: slotMS)
        precondition(summary.coveredMS >= 0 && summary.coveredMS <= slotMS, "coverage \(summary.coveredMS) of \(slotMS)")
        precondition(summary.count >= 0 && summary.count <= 65535)
        if summary.min.isFinite, summary.max.isFinite, summary.min <= summary.max {
            for v in [summary.first, summary.last] where !v.isNaN {
                precondition(v >= summary.min && v <= summary.max, "first/last \(v) outside [\(summary.min), \(summary.max)]")
            }
        }
        let energy = SlotCodec.decodeEnergy(p + 14, slotMS: slotMS)
        precondition(energy.integratedMS >= 0 && energy.integratedMS <= slotMS)
        precondition(energy.unaccountedMS >= 0 && energy.unaccountedMS <= slotMS)
        _ = SlotCodec.isNotWritten(p)
        _ = SlotCodec.isNotWrittenEnergy(p + 14)
        // What a writer stores decodes to a slot within the format's precision of it.
        if !summary.isUnknown, summary.mean.isFinite, summary.min.isFinite, summary.max.isFinite,
            summary.min <= summary.mean, summary.mean <= summary.max
        {
            SlotCodec.encode(summary, slotMS: slotMS, to: p)
            let again = SlotCodec.decode(p, slotMS: slotMS)
            precondition(again.count == summary.count && Float(again.mean) == Float(summary.mean), "\(summary) → \(again)")
            precondition(abs(again.coveredMS - summary.coveredMS) <= slotMS / 4095 + 1, "\(summary) → \(again)")
        }
    }
}

func checkpoint(_ input: [UInt8]) {
    _ = try? CheckpointRecord.decode(input, path: "fuzz")
    let sealed = input + withUnsafeBytes(of: CRC32C.checksum(input).littleEndian) { Array($0) }
    guard let record = try? CheckpointRecord.decode(sealed, path: "fuzz") else { return }
    let again = try? CheckpointRecord.decode(record.encoded(), path: "fuzz")
    var expected = record  // a version 1 record (no store id) is written as version 2 with an empty one
    if expected.storeID == nil { expected.storeID = "" }
    precondition(again == expected, "checkpoint does not survive encode/decode: \(record) → \(String(describing: again))")
}

func events(_ input: [UInt8]) {
    _ = StoreEventLog.parse(input)
    _ = StoreEventLog.decode(input)
    let crc = TierHeader.hex(CRC32C.checksum(input)).dropFirst(2)
    let line = StoreEventLog.prefix + Array(crc.utf8) + StoreEventLog.middle + input + Array("}".utf8)
    guard let event = StoreEventLog.parse(line) else { return }
    let written = StoreEventLog.line(event)
    precondition(written.last == 0x0A)
    let back = StoreEventLog.parse(written.dropLast())
    precondition(back == event, "event does not survive line/parse: \(event) → \(String(describing: back))")
    let contents = StoreEventLog.decode(written + input)
    precondition(contents.events.first?.event == event && contents.lineCount >= 1)
}

func catalog(_ input: [UInt8]) {
    guard let catalog = try? JSONDecoder().decode(Catalog.self, from: Data(input)),
        let schemas = try? catalog.schemas(path: "fuzz"),
        let plan = try? StoreWriter.plan(
            siteID: catalog.siteID, schemas: schemas, tiers: catalog.tierDefinitions,
            rawBudgetBytes: catalog.rawBudgetBytes, pollIntervalsMS: catalog.pollIntervalsMS)
    else { return }
    _ = try? catalog.checkSizes(against: plan, path: "fuzz")
    for file in plan.files where file.headerBytes <= 1 << 20 {
        let header = TierHeader.encode(file, plan: plan)
        precondition(header.count == file.headerBytes, "header of \(header.count) bytes, planned \(file.headerBytes)")
        header.withUnsafeBytes { raw in
            do throws(StoreError) {
                try TierHeader.verify(raw.baseAddress!, fileBytes: file.bytes, expected: file, plan: plan, path: "fuzz")
            } catch {
                precondition(error.kind == .wrongFileSize, "its own header refused: \(error)")
            }
        }
    }
}

/// A small store's plan: two groups, a raw tier of 16 rows for `g`, a 1m tier.
let smallPlan: StorePlan = {
    let schemas = [
        SeriesSchema(
            groupID: "g", signals: [SignalDefinition(name: "p", role: .activePowerKW, heartbeatMS: 3000, tiers: ["raw", "1m"])],
            energy: EnergySources(activePower: 0)),
        SeriesSchema(
            groupID: "site", signals: [SignalDefinition(name: "q", role: .other, heartbeatMS: 3000, tiers: ["raw"])],
            energy: EnergySources()),
    ]
    let tiers = [
        TierDefinition(name: "raw", slotMS: 0, retentionMS: 16_000),
        TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 3_600_000),
    ]
    return try! StoreWriter.plan(
        siteID: "fuzz-site", schemas: schemas, tiers: tiers, pollIntervalsMS: ["g": 1000, "site": 1000])
}()

func header(_ input: [UInt8]) {
    for file in smallPlan.files {
        var image = [UInt8](repeating: 0, count: Int(file.bytes))
        for (i, byte) in input.prefix(image.count).enumerated() { image[i] = byte }
        image.withUnsafeBytes { raw in
            _ = try? TierHeader.verify(raw.baseAddress!, fileBytes: file.bytes, expected: file, plan: smallPlan, path: "fuzz")
        }
        // A correct header with input bytes XORed in at input positions: refused unless unchanged.
        let correct = TierHeader.encode(file, plan: smallPlan)
        var changed = correct + [UInt8](repeating: 0, count: Int(file.bytes) - correct.count)
        var pairs = input.makeIterator()
        while let high = pairs.next(), let low = pairs.next(), let mask = pairs.next() {
            changed[(Int(high) << 8 | Int(low)) % correct.count] ^= mask
        }
        let same = Array(changed.prefix(correct.count)) == correct
        let accepted = changed.withUnsafeBytes { raw in
            (try? TierHeader.verify(raw.baseAddress!, fileBytes: file.bytes, expected: file, plan: smallPlan, path: "fuzz"))
                != nil
        }
        precondition(accepted == same, same ? "the correct header was refused" : "a changed header was accepted")
    }
}

/// The raw tier of `smallPlan` in a real file, mapped once (recovery reads a `TierFile`).
nonisolated(unsafe) let rawFile: TierFile = {
    let plan = smallPlan.file(named: "raw")!
    let path = NSTemporaryDirectory() + "/essd-fuzz-raw-\(getpid()).tier"
    try! MappedFile.create(path: path, bytes: plan.bytes, header: TierHeader.encode(plan, plan: smallPlan))
    let file = TierFile(plan: plan, file: try! MappedFile(path: path, writable: true))
    unlink(path)
    return file
}()

var regionBytes: Int {
    let group = rawFile.plan.groups[0]
    return Layout.rawHeadBytes + group.capacity * group.bytes
}

func rawRegion(bytes input: [UInt8]) {
    let group = rawFile.plan.groups[0]
    let region = rawFile.file.base + group.offset
    region.initializeMemory(as: UInt8.self, repeating: 0, count: regionBytes)
    for (i, byte) in input.prefix(regionBytes).enumerated() { region.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
    check(recovered: RawRecovery.recover(in: rawFile, group: 0, sequenceBase: 0), newestConsistent: nil)
}

func rawRegion(rows input: [UInt8]) {
    let group = rawFile.plan.groups[0]
    let capacity = group.capacity
    let region = rawFile.file.base + group.offset
    region.initializeMemory(as: UInt8.self, repeating: 0, count: regionBytes)
    var bytes = input + [UInt8](repeating: 0, count: max(0, capacity + 3 - input.count))
    var newest: UInt64 = 0
    for p in 0..<capacity {
        let kind = bytes[p] & 3
        let row = region + Layout.rawHeadBytes + p * group.bytes
        guard kind != 0 else { continue }
        let lap = UInt64(bytes[p] >> 2 & 7)
        var sequence = UInt64(p) + UInt64(capacity) * lap
        if sequence == 0 { sequence = UInt64(capacity) }
        if kind == 2 { sequence += 1 }  // does not fit its place
        row.storeBytes(of: (Int64(sequence) * 1000).littleEndian, as: Int64.self)
        row.storeBytes(of: UInt32(truncatingIfNeeded: sequence).littleEndian, toByteOffset: 8, as: UInt32.self)
        row.storeBytes(of: Double(p).bitPattern.littleEndian, toByteOffset: 16, as: UInt64.self)
        RowCheck.storeChecksum(row, crcOffset: RowCheck.rawCRCOffset, bytes: group.bytes)
        if kind == 3 { row.storeBytes(of: bytes[p] ^ 0x5A, toByteOffset: 20, as: UInt8.self) }  // damaged
        if kind == 1 { newest = max(newest, sequence) }
    }
    // The hint: names a row (a correct one, or another), valid or with a broken checksum.
    let hinted = UInt64(bytes[capacity]) % UInt64(4 * capacity)
    RawHead.store(rawFile.file.base, regionOffset: group.offset, sequence: hinted, timestampMS: Int64(hinted) * 1000)
    if bytes[capacity + 1] & 1 == 1 { region.storeBytes(of: bytes[capacity + 2] | 1, toByteOffset: 3, as: UInt8.self) }
    bytes.removeAll()
    check(recovered: RawRecovery.recover(in: rawFile, group: 0, sequenceBase: 0), newestConsistent: newest)
}

/// Whatever recovery returns names a row that is there (or a hint vouched by its checksum);
/// after a full scan (hint not trusted) it is exactly the newest intact row that fits its place.
func check(recovered: RawRecovery.Result, newestConsistent: UInt64?) {
    guard let last = recovered.last else {
        precondition(recovered.damagedHint == nil || newestConsistent ?? 0 == 0, "a scan found nothing, rows exist")
        return
    }
    var buffer = [UInt8](repeating: 0, count: rawFile.plan.groups[0].bytes)
    let state = buffer.withUnsafeMutableBytes { RawRecovery.row(rawFile, group: 0, sequence: last.sequence, buffer: $0) }
    if recovered.damagedHint != nil {
        guard case .valid(let found) = state, found == last else { preconditionFailure("a scan returned \(last), row \(state)") }
        if let newestConsistent { precondition(last.sequence == newestConsistent, "scan: \(last.sequence), newest \(newestConsistent)") }
    } else if case .valid(let found) = state {
        precondition(found == last, "recovered \(last), the row holds \(found)")
    } else {
        guard case .valid(let hinted, let time) = RawHead.read(rawFile.file.base, regionOffset: rawFile.plan.groups[0].offset),
            hinted == last.sequence, time == last.timestampMS
        else { preconditionFailure("recovered \(last) without a row or a checksummed hint for it") }
    }
}
