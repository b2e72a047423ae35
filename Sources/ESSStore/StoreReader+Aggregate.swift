internal import CCRC32C
public import ESSCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One signal over a range, from consolidated slots.
public struct SignalAggregate: Sendable, Hashable {
    /// NaN when no slot in the range had valid data.
    public var min: Double
    public var max: Double
    /// Coverage-weighted mean of the slots' time-weighted means.
    public var mean: Double
    public var coveredMS: Int64
    public var count: Int
    /// True when a slot's count was stored saturated (`SlotCodec.countLimit`): `count` is then a lower bound.
    public var countIsLowerBound: Bool
    /// The range actually covered: the query range widened outward to the finest tier's slots.
    public var fromMS: Int64
    public var toMS: Int64
    /// Time of the range with no stored slot (never written, overwritten, or damaged).
    public var missingMS: Int64
    public var slotsRead: Int
    public var damaged: [DamagedRow]
}

/// A group's energy over a range: the sums of its slots' `EnergySummary`.
public struct EnergyAggregate: Sendable, Hashable {
    /// Sums; a counter or integrated value is NaN when no slot had it.
    public var energy: EnergySummary
    public var fromMS: Int64
    public var toMS: Int64
    /// Time of the range with no stored slot: its energy is unknown (not in `unaccountedMS`).
    public var missingMS: Int64
    public var slotsRead: Int
    public var damaged: [DamagedRow]
}

/// Running sums of one signal's slots (shared by both aggregate paths, so their arithmetic is the same).
struct SignalSums {
    var min = Double.nan
    var max = Double.nan
    var weighted = 0.0
    var coveredMS: Int64 = 0
    var count = 0
    var countIsLowerBound = false

    @inline(__always)
    mutating func add(_ summary: SlotSummary) {
        guard !summary.isUnknown else { return }
        min = min.isNaN ? summary.min : Swift.min(min, summary.min)
        max = max.isNaN ? summary.max : Swift.max(max, summary.max)
        weighted += summary.mean * Double(summary.coveredMS)
        coveredMS += summary.coveredMS
        count += summary.count
        if summary.count >= SlotCodec.countLimit { countIsLowerBound = true }
    }

    func store(in result: inout SignalAggregate) {
        result.min = min
        result.max = max
        result.coveredMS = coveredMS
        result.count = count
        result.countIsLowerBound = countIsLowerBound
        if coveredMS > 0 { result.mean = weighted / Double(coveredMS) }
    }
}

/// Health of a store as a reader sees it.
public struct StoreHealth: Sendable, Hashable {
    public var storeID: String
    public var siteID: String
    /// From the `checkpoint` file; nil before the first checkpoint.
    public var lastCheckpointMS: Int64?
    /// Damaged rows this reader has met so far (call `verify()` to scan everything).
    public var damagedRows: [DamagedRow]
    /// Raw head hints `verify()` did not trust (the rows were scanned instead).
    public var damagedHints: [DamagedHint]
    /// The store's events (`events.jsonl`), oldest first: stops, quarantines, repaired hints.
    public var events: [StoreEvent]
    /// Lines of `events.jsonl` that failed their checksum (1-based).
    public var damagedEventLines: [Int]
    /// From the `checkpoint` file: the instant the writer stopped there, if it did.
    public var stoppedAtMS: Int64?
    /// File name → size in bytes.
    public var fileBytes: [String: Int64]
}

/// What `events.jsonl` holds, as `StoreReader.events()` reads it.
public struct StoreEvents: Sendable, Hashable {
    /// Oldest first.
    public var events: [StoreEvent]
    /// Lines that failed their checksum or did not decode (1-based): a line cut short by a crash
    /// while appending, or damage.
    public var damagedLines: [Int]
}

extension StoreReader {
    /// Min, max, mean, coverage and count of `signal` over `fromMS..<toMS`, reading the coarsest
    /// tier for the aligned interior and finer tiers at the edges (and for coarse slots not
    /// stored yet), so the work is proportional to the slots touched. Each row touched is checked
    /// (slot number, CRC32C, retried, damaged rows reported) and only the signal's 14 bytes are decoded.
    public func aggregate(group: String, signal: String, fromMS: Int64, toMS: Int64) throws(StoreError)
        -> SignalAggregate
    {
        try aggregate(group: group, signal: signal, fromMS: fromMS, toMS: toMS, inPlace: true)
    }

    /// `aggregate`; `inPlace: false` copies each row out before checking it (see `scan`).
    func aggregate(group: String, signal: String, fromMS: Int64, toMS: Int64, inPlace: Bool) throws(StoreError)
        -> SignalAggregate
    {
        let (g, s, chain) = try aggregateChain(group: group, signal: signal)
        let offsets = chain.map { t -> Int in
            let layout = tierFiles[t].plan.groups[g]
            return layout.offset + layout.signalIndices.firstIndex(of: s)! * Layout.signalBytes
        }
        var result = SignalAggregate(
            min: .nan, max: .nan, mean: .nan, coveredMS: 0, count: 0, countIsLowerBound: false, fromMS: fromMS,
            toMS: toMS, missingMS: 0, slotsRead: 0, damaged: [])
        var sums = SignalSums()
        beginCall()
        scan(
            chain: chain, fieldOffsets: offsets, fieldBytes: Layout.signalBytes, group: g, fromMS: fromMS, toMS: toMS,
            result: &result.fromMS, &result.toMS, &result.missingMS, &result.slotsRead, inPlace: inPlace,
            isNotWritten: SlotCodec.isNotWritten
        ) { field, slotMS in
            sums.add(SlotCodec.decode(field, slotMS: slotMS))
        }
        sums.store(in: &result)
        result.damaged = damagedInCall
        return result
    }

    /// Charge and discharge energy of `group` over `fromMS..<toMS`, summed like `aggregate`
    /// (only the group's 24 energy bytes of each row are decoded).
    public func energy(group: String, fromMS: Int64, toMS: Int64) throws(StoreError) -> EnergyAggregate {
        try energy(group: group, fromMS: fromMS, toMS: toMS, inPlace: true)
    }

    /// `energy`; `inPlace: false` copies each row out before checking it (see `scan`).
    func energy(group: String, fromMS: Int64, toMS: Int64, inPlace: Bool) throws(StoreError) -> EnergyAggregate {
        let (g, chain) = try energyChain(group: group)
        let offsets = chain.map { t -> Int in
            let layout = tierFiles[t].plan.groups[g]
            return layout.offset + layout.signalIndices.count * Layout.signalBytes
        }
        var result = EnergyAggregate(
            energy: EnergySummary(), fromMS: fromMS, toMS: toMS, missingMS: 0, slotsRead: 0, damaged: [])
        var energy = EnergySummary()
        beginCall()
        scan(
            chain: chain, fieldOffsets: offsets, fieldBytes: Layout.energyBytes, group: g, fromMS: fromMS, toMS: toMS,
            result: &result.fromMS, &result.toMS, &result.missingMS, &result.slotsRead, inPlace: inPlace,
            isNotWritten: SlotCodec.isNotWrittenEnergy
        ) { field, slotMS in
            Self.add(SlotCodec.decodeEnergy(field, slotMS: slotMS), to: &energy)
        }
        result.energy = energy
        result.damaged = damagedInCall
        return result
    }

    func aggregateChain(group: String, signal: String) throws(StoreError) -> (Int, Int, [Int]) {
        let g = try self.group(group)
        guard let s = schemas[g].signals.firstIndex(where: { $0.name == signal }) else {
            throw StoreError(.invalidArgument, "aggregate: group '\(group)' has no signal '\(signal)'")
        }
        let chain = tierChain { $0.groups[g].signalIndices.contains(s) }
        guard !chain.isEmpty else {
            throw StoreError(.invalidArgument, "aggregate: signal '\(group)/\(signal)' is kept in no consolidated tier")
        }
        return (g, s, chain)
    }

    func energyChain(group: String) throws(StoreError) -> (Int, [Int]) {
        let g = try self.group(group)
        let chain = tierChain { $0.groups[g].hasEnergy }
        guard !chain.isEmpty else {
            throw StoreError(.invalidArgument, "energy: group '\(group)' has no energy accounting")
        }
        return (g, chain)
    }

    /// Adds one slot's energy (shared by both paths).
    @inline(__always)
    static func add(_ e: EnergySummary, to total: inout EnergySummary) {
        func add(_ total: inout Double, _ value: Double) {
            guard !value.isNaN else { return }
            total = total.isNaN ? value : total + value
        }
        add(&total.counterChargeKWh, e.counterChargeKWh)
        add(&total.counterDischargeKWh, e.counterDischargeKWh)
        add(&total.integratedChargeKWh, e.integratedChargeKWh)
        add(&total.integratedDischargeKWh, e.integratedDischargeKWh)
        total.counterResets += e.counterResets
        total.integratedMS += e.integratedMS
        total.unaccountedMS += e.unaccountedMS
    }

    /// The start of the oldest slot consolidated tier `tier` can still hold, as of the last
    /// checkpoint: its ring keeps `capacity` slots back from the newest slot any group wrote.
    /// nil when the tier is unknown, raw, or holds no slot yet. (Slots written after the
    /// checkpoint may have moved it later by as much.)
    public func oldestHeldMS(tier: String) throws(StoreError) -> Int64? {
        guard let file = plan.files.first(where: { $0.tier.name == tier }), !file.tier.isRaw,
            let checkpoint = try CheckpointRecord.read(directory: directory),
            let newest = checkpoint.newestSlots[tier]?.values.filter({ $0 > 0 }).max()
        else { return nil }
        return max(1, Int64(newest) + 1 - Int64(file.capacity)) * file.tier.slotMS
    }

    /// The last checkpoint, the damaged rows met so far and each file's size.
    public func health() throws(StoreError) -> StoreHealth {
        let checkpoint = try CheckpointRecord.read(directory: directory)
        var sizes: [String: Int64] = [:]
        for file in tierFiles { sizes[file.plan.fileName] = Int64(file.file.bytes) }
        let events = try self.events()
        return StoreHealth(
            storeID: storeID, siteID: siteID, lastCheckpointMS: checkpoint?.checkpointMS, damagedRows: damagedRows,
            damagedHints: damagedHints, events: events.events, damagedEventLines: events.damagedLines,
            stoppedAtMS: checkpoint?.stopMS, fileBytes: sizes)
    }

    /// The store's events as the file holds them now.
    public func events() throws(StoreError) -> StoreEvents {
        let contents = try StoreEventLog.read(directory: directory)
        return StoreEvents(events: contents.events.map(\.event), damagedLines: contents.damagedLines)
    }

    /// Checks every written row of every file, and every raw head hint (`damagedHints`);
    /// returns (and remembers) the damaged rows.
    @discardableResult
    public func verify() -> [DamagedRow] {
        var found: [DamagedRow] = []
        damagedHints = []
        for (t, file) in tierFiles.enumerated() {
            if file.plan.tier.isRaw {
                for (g, group) in file.plan.groups.enumerated() {
                    if let reason = RawRecovery.recover(in: file, group: g).damagedHint {
                        damagedHints.append(
                            DamagedHint(path: file.path, offset: group.offset, groupID: group.groupID, reason: reason))
                    }
                    var buffer = [UInt8](repeating: 0, count: group.bytes)
                    buffer.withUnsafeMutableBytes { buffer in
                        for index in 0..<group.capacity {
                            let offset = group.offset + Layout.rawHeadBytes + index * group.bytes
                            let state = RowCheck.copy(
                                from: file.file.base + offset, into: buffer, crcOffset: RowCheck.rawCRCOffset,
                                retries: Self.retries)
                            guard state == .damaged else { continue }
                            let row = DamagedRow(
                                path: file.path, offset: offset, tier: file.plan.tier.name, groupID: schemas[g].groupID,
                                expected: -1)
                            found.append(row)
                            record(row)
                        }
                    }
                }
                continue
            }
            var buffer = [UInt8](repeating: 0, count: file.plan.rowBytes)
            buffer.withUnsafeMutableBytes { buffer in
                for index in 0..<file.plan.capacity / file.plan.slotsPerRow {
                    let offset = file.plan.headerBytes + index * file.plan.rowBytes
                    let state = RowCheck.copy(
                        from: file.file.base + offset, into: buffer, crcOffset: RowCheck.consolidatedCRCOffset,
                        retries: Self.retries)
                    guard state == .damaged, !journalCopy(tier: t, offset: offset, into: buffer) else { continue }
                    let row = DamagedRow(
                        path: file.path, offset: offset, tier: file.plan.tier.name, groupID: nil, expected: -1)
                    found.append(row)
                    record(row)
                }
            }
        }
        return found
    }
}

// MARK: lean scan

/// The lean scan behind `aggregate` and `energy`: for every consolidated row touched it checks
/// the slot number and the row's CRC32C straight from the mapping, keeping only the few bytes
/// the query needs (one signal's 14, or the group's 24 energy bytes) as they were loaded for the
/// CRC, so nothing is allocated or decoded per slot beyond that field.
///
/// Every byte of the row is loaded once and feeds both the CRC and (for the field) the value, so
/// the value returned is exactly the bytes the CRC vouched for, even while a writer in another
/// process is rewriting the row: a torn read fails the CRC and is retried like `RowCheck.copy`.
extension RowCheck {
    /// Largest field `checkInPlace` can keep (the energy part).
    static let maxFieldBytes = 24

    /// Whether `checkInPlace` can keep the field at `fieldOffset` of a row of `rowBytes`. With the
    /// CPU's CRC-32C instruction, any field after the 8-byte prefix; with the tables it reads the
    /// row in 8-byte words from offset 8, so the field must start and end on them (formats 2 and 3's
    /// 14-byte signals do not: the scan then copies the row first, `RowCheck.copy`).
    static func canCheckInPlace(fieldOffset: Int, fieldBytes: Int, rowBytes: Int) -> Bool {
        guard consolidatedCRCOffset == 4, fieldOffset >= 8, fieldBytes <= maxFieldBytes,
            fieldOffset + fieldBytes <= rowBytes
        else { return false }
        // The CPU's CRC instruction keeps fields at any offset; the table path works in 8-byte words.
        return CRC32C.usesHardware || (fieldOffset % 8 == 0 && fieldBytes % 8 == 0)
    }

    /// One slicing-by-8 step of the CRC32C state `crc` (inverted, as in `CRC32C.checksum`) over
    /// the 8 bytes whose little-endian value is `word`.
    @inline(__always)
    static func crcStep(_ crc: UInt32, _ word: UInt64, _ t: UnsafePointer<UInt32>) -> UInt32 {
        let low = UInt32(truncatingIfNeeded: word) ^ crc
        let high = UInt32(truncatingIfNeeded: word &>> 32)
        return t[7 &* 256 &+ Int(low & 0xFF)] ^ t[6 &* 256 &+ Int((low &>> 8) & 0xFF)]
            ^ t[5 &* 256 &+ Int((low &>> 16) & 0xFF)] ^ t[4 &* 256 &+ Int(low &>> 24)]
            ^ t[3 &* 256 &+ Int(high & 0xFF)] ^ t[2 &* 256 &+ Int((high &>> 8) & 0xFF)]
            ^ t[1 &* 256 &+ Int((high &>> 16) & 0xFF)] ^ t[Int(high &>> 24)]
    }

    /// Checks the consolidated row at `row` in place, like `copy(from:into:crcOffset:retries:)`
    /// (empty when slot number and CRC are zero; CRC checked again up to `retries` times with a
    /// yield between; then damaged), and on `.valid` leaves the stored slot number in `key` and
    /// the `fieldBytes` at `fieldOffset` (as loaded for the CRC) in `field`. Requires
    /// `canCheckInPlace`; `table` is `CRC32C.flat` (used when the CPU has no CRC-32C instruction).
    @inline(__always)
    static func checkInPlace(
        _ row: UnsafeRawPointer, rowBytes: Int, fieldOffset: Int, fieldBytes: Int, into field: UnsafeMutableRawPointer,
        key: inout UInt32, table t: UnsafePointer<UInt32>, retries: Int
    ) -> State {
        if CRC32C.usesHardware {
            for attempt in 0...retries {
                let head = UInt64(littleEndian: row.loadUnaligned(as: UInt64.self))
                let number = UInt32(truncatingIfNeeded: head)
                let stored = UInt32(truncatingIfNeeded: head &>> 32)
                if number == 0 && stored == 0 { return .empty }
                var numberBytes = number.littleEndian
                var crc = withUnsafeBytes(of: &numberBytes) { ccrc32c_hardware_update(~0, $0.baseAddress!, 4) }
                crc = ccrc32c_hardware_update_keeping(
                    crc, row + 8, rowBytes &- 8, fieldOffset &- 8, fieldBytes, field)
                if ~crc == stored {
                    key = number
                    return .valid
                }
                if attempt < retries { SystemCalls.yield() }
            }
            return .damaged
        }
        let fieldEnd = fieldOffset + fieldBytes
        for attempt in 0...retries {
            let head = UInt64(littleEndian: row.loadUnaligned(as: UInt64.self))
            let number = UInt32(truncatingIfNeeded: head)
            let stored = UInt32(truncatingIfNeeded: head &>> 32)
            if number == 0 && stored == 0 { return .empty }
            // The 4 bytes of the slot number (slicing-by-4), then every word after the CRC field.
            var crc = ~UInt32(0) ^ number
            crc =
                t[3 &* 256 &+ Int(crc & 0xFF)] ^ t[2 &* 256 &+ Int((crc &>> 8) & 0xFF)]
                ^ t[256 &+ Int((crc &>> 16) & 0xFF)] ^ t[Int(crc &>> 24)]
            var index = 8
            while index < fieldOffset {
                crc = crcStep(crc, UInt64(littleEndian: row.loadUnaligned(fromByteOffset: index, as: UInt64.self)), t)
                index &+= 8
            }
            while index < fieldEnd {
                let raw = row.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                field.storeBytes(of: raw, toByteOffset: index &- fieldOffset, as: UInt64.self)
                crc = crcStep(crc, UInt64(littleEndian: raw), t)
                index &+= 8
            }
            while rowBytes &- index >= 8 {
                crc = crcStep(crc, UInt64(littleEndian: row.loadUnaligned(fromByteOffset: index, as: UInt64.self)), t)
                index &+= 8
            }
            while index < rowBytes {
                crc = (crc &>> 8) ^ t[Int((crc ^ UInt32(row.load(fromByteOffset: index, as: UInt8.self))) & 0xFF)]
                index &+= 1
            }
            if ~crc == stored {
                key = number
                return .valid
            }
            if attempt < retries { SystemCalls.yield() }
        }
        return .damaged
    }
}

extension StoreReader {
    /// Visits the stored slots covering `fromMS..<toMS` like the reference walk of
    /// `aggregateReference` (level 0, the coarsest tier, for whole aligned slots; finer levels for
    /// the edges and for coarse slots not stored; the finest level widens the range to its slot
    /// boundaries; damaged and out-of-range slots count as missing), but hands `visit` only the
    /// `fieldBytes` at `fieldOffsets[level]` (in the row's first slot; a row's further slots
    /// follow `slotBytes` apart) of each valid slot, with the tier's slot length. A field
    /// `isNotWritten` says was never written counts as a slot not stored. `inPlace: false` copies
    /// every row first (the path for layouts `checkInPlace` cannot read; tests use it to check
    /// both agree).
    func scan(
        chain: [Int], fieldOffsets: [Int], fieldBytes: Int, group g: Int, fromMS: Int64, toMS: Int64,
        result from: inout Int64, _ to: inout Int64, _ missing: inout Int64, _ read: inout Int, inPlace: Bool = true,
        isNotWritten: (UnsafeRawPointer) -> Bool, visit: (UnsafeRawPointer, Int64) -> Void
    ) {
        precondition(fieldBytes <= RowCheck.maxFieldBytes && chain.count == fieldOffsets.count)
        let finest = tierFiles[chain.last!].plan.tier.slotMS
        from = Self.floorDiv(fromMS, finest) * finest
        to = Self.floorDiv(toMS + finest - 1, finest) * finest
        guard from < to else { return }
        let groupID = schemas[g].groupID
        let rowBytes = chain.map { tierFiles[$0].plan.rowBytes }.max()!
        var missingMS: Int64 = 0
        var slotsRead = 0
        // One scratch area per call: the field as loaded (in place), or a whole row (copy).
        let scratch = UnsafeMutableRawPointer.allocate(
            byteCount: Swift.max(rowBytes, RowCheck.maxFieldBytes), alignment: 8)
        defer { scratch.deallocate() }
        CRC32C.flat.withUnsafeBufferPointer { table in
            let t = table.baseAddress!
            func cover(_ a: Int64, _ b: Int64, level: Int) {
                guard a < b else { return }
                let tier = chain[level]
                let file = tierFiles[tier]
                let slotMS = file.plan.tier.slotMS
                let isFinest = level == chain.count - 1
                let start =
                    isFinest ? Self.floorDiv(a, slotMS) * slotMS : Self.floorDiv(a + slotMS - 1, slotMS) * slotMS
                let end = isFinest ? Self.floorDiv(b + slotMS - 1, slotMS) * slotMS : Self.floorDiv(b, slotMS) * slotMS
                if start >= end {
                    cover(a, b, level: level + 1)
                    return
                }
                if !isFinest { cover(a, start, level: level + 1) }
                let base = UnsafeRawPointer(file.file.base)
                let plan = file.plan
                let slotsPerRow = plan.slotsPerRow
                let slotBytes = plan.slotBytes
                let tierRowBytes = plan.rowBytes
                // Rows of one slot are checked in place; rows of several are copied once and
                // every slot of the copy the range needs is read from it (one CRC per row).
                let checkInPlace =
                    inPlace && slotsPerRow == 1
                    && RowCheck.canCheckInPlace(
                        fieldOffset: fieldOffsets[level], fieldBytes: fieldBytes, rowBytes: tierRowBytes)
                let rowBuffer = UnsafeMutableRawBufferPointer(start: scratch, count: tierRowBytes)
                var copiedOffset = -1
                var copiedState = RowCheck.State.empty
                var slot = start
                while slot < end {
                    slotsRead += 1
                    let number = slot / slotMS
                    let fieldOffset = fieldOffsets[level] + Int(number) % slotsPerRow * slotBytes
                    let fieldPointer = UnsafeRawPointer(checkInPlace ? scratch : scratch + fieldOffset)
                    var state = RowCheck.State.empty
                    if number >= 1 && number <= Int64(UInt32.max) {
                        let offset = plan.rowOffset(slotNumber: UInt32(number))
                        var key: UInt32 = 0
                        if checkInPlace {
                            state = RowCheck.checkInPlace(
                                base + offset, rowBytes: tierRowBytes, fieldOffset: fieldOffset, fieldBytes: fieldBytes,
                                into: scratch, key: &key, table: t, retries: Self.retries)
                            // A torn row: its copy in the row journal, the field moved to where it is read.
                            if state == .damaged && journalCopy(tier: tier, offset: offset, into: rowBuffer) {
                                key = UInt32(littleEndian: scratch.loadUnaligned(as: UInt32.self))
                                memmove(scratch, scratch + fieldOffset, fieldBytes)
                                state = .valid
                            }
                        } else {
                            if offset != copiedOffset {
                                copiedState = RowCheck.copy(
                                    from: base + offset, into: rowBuffer, crcOffset: RowCheck.consolidatedCRCOffset,
                                    retries: Self.retries)
                                if copiedState == .damaged && journalCopy(tier: tier, offset: offset, into: rowBuffer) {
                                    copiedState = .valid
                                }
                                copiedOffset = offset
                            }
                            state = copiedState
                            key = UInt32(littleEndian: scratch.loadUnaligned(as: UInt32.self))
                        }
                        switch state {
                        case .empty: break
                        case .valid:
                            if key != plan.rowKey(slotNumber: UInt32(number)) || isNotWritten(fieldPointer) {
                                state = .empty
                            }
                        case .damaged:
                            record(
                                DamagedRow(
                                    path: file.path, offset: offset, tier: file.plan.tier.name, groupID: groupID,
                                    expected: number * slotMS))
                        }
                    }
                    switch state {
                    case .valid: visit(fieldPointer, slotMS)
                    case .empty where !isFinest:
                        cover(slot, slot + slotMS, level: level + 1)
                        copiedOffset = -1  // the finer tier used the scratch area
                    case .empty, .damaged: missingMS += slotMS
                    }
                    slot += slotMS
                }
                if !isFinest { cover(end, b, level: level + 1) }
            }
            cover(from, to, level: 0)
        }
        missing = missingMS
        read = slotsRead
    }
}
