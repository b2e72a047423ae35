import ESSCore

/// Raw rows as a reader sees them: by sequence, the newest (found as `RawRecovery` finds it),
/// ranges by time, and the quarantined rows, which every other read leaves out.
extension StoreReader {
    /// Reads raw row `sequence` of group `g`: `.some(nil)` when it holds another sequence, was
    /// never written, or is quarantined (unless `quarantined`), nil when it is damaged.
    func rawRow(
        group g: Int, sequence: UInt64, into buffer: UnsafeMutableRawBufferPointer, quarantined: Bool = false
    ) -> RawRow?? {
        guard let t = tierFiles.firstIndex(where: { $0.plan.tier.isRaw }), sequence > 0 else { return .some(nil) }
        if !quarantined, quarantine(group: g, containing: sequence) != nil { return .some(nil) }
        let file = tierFiles[t]
        let offset = file.rawRowOffset(group: g, sequence: sequence)
        switch RowCheck.copy(
            from: file.file.base + offset, into: buffer, crcOffset: RowCheck.rawCRCOffset, retries: Self.retries)
        {
        case .empty: return .some(nil)
        case .damaged:
            record(
                DamagedRow(
                    path: file.path, offset: offset, tier: file.plan.tier.name, groupID: schemas[g].groupID,
                    expected: Int64(truncatingIfNeeded: sequence)))
            return nil
        case .valid: break
        }
        let row = UnsafeRawPointer(buffer.baseAddress!)
        guard
            UInt32(littleEndian: row.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
                == UInt32(truncatingIfNeeded: sequence)
        else { return .some(nil) }
        var values = [Double](repeating: .nan, count: schemas[g].signals.count)
        var qualities = [PointQuality?](repeating: nil, count: values.count)
        for (position, index) in file.plan.groups[g].signalIndices.enumerated() {
            let field = row + Layout.rawPrefixBytes + position * Layout.rawSignalBytes
            values[index] = Double(bitPattern: UInt64(littleEndian: field.loadUnaligned(as: UInt64.self)))
            qualities[index] = RawQualityCode.quality(field.load(fromByteOffset: 8, as: UInt8.self))
        }
        return RawRow(
            timestampMS: Int64(littleEndian: row.loadUnaligned(as: Int64.self)), sequence: sequence, values: values,
            qualities: qualities)
    }

    /// The quarantined run of group `g` holding `sequence`, if any.
    @inline(__always)
    func quarantine(group g: Int, containing sequence: UInt64) -> QuarantinedRows? {
        guard !quarantinedRows[g].isEmpty else { return nil }
        return quarantinedRows[g].last { $0.contains(sequence) }
    }

    /// The last sequence written to group `g` (`RawRecovery`; a full scan, when the hint is not
    /// trusted, is done once per reader and walked forward from later), or nil when none.
    func newestSequence(group g: Int, in raw: TierFile) -> UInt64? {
        if let scanned = scannedNewest[g] {
            var buffer = [UInt8](repeating: 0, count: raw.plan.groups[g].bytes)
            let last = buffer.withUnsafeMutableBytes { RawRecovery.forward(from: scanned, raw, group: g, buffer: $0) }
            scannedNewest[g] = last
            return last.sequence
        }
        let found = RawRecovery.recover(in: raw, group: g)
        if found.damagedHint != nil, let last = found.last { scannedNewest[g] = last }
        return found.last?.sequence
    }

    /// The newest intact raw row of `group` that is not quarantined, or nil when there is none.
    public func latest(group: String) throws(StoreError) -> RawRow? {
        let g = try self.group(group)
        guard let raw = tierFiles.first(where: { $0.plan.tier.isRaw }), var sequence = newestSequence(group: g, in: raw)
        else { return nil }
        var buffer = [UInt8](repeating: 0, count: raw.plan.groups[g].bytes)
        return buffer.withUnsafeMutableBytes { buffer -> RawRow? in
            var steps = 0
            while sequence > 0 && steps < raw.plan.groups[g].capacity {
                if let run = quarantine(group: g, containing: sequence) {
                    let skipped = sequence - run.firstSequence + 1
                    sequence -= min(sequence, skipped)
                    steps += Int(min(skipped, UInt64(raw.plan.groups[g].capacity)))
                    continue
                }
                if case .some(.some(let row)) = rawRow(group: g, sequence: sequence, into: buffer) { return row }
                sequence -= 1
                steps += 1
            }
            return nil
        }
    }

    /// The rows of `group` quarantined (written under a wall clock that was then stepped back)
    /// and still in the ring, oldest first, for inspection; every other read leaves them out.
    public func quarantinedRows(group: String) throws(StoreError) -> [RawRow] {
        let g = try self.group(group)
        guard let raw = tierFiles.first(where: { $0.plan.tier.isRaw }), let newest = newestSequence(group: g, in: raw)
        else { return [] }
        let capacity = UInt64(raw.plan.groups[g].capacity)
        let oldest = newest >= capacity ? newest - capacity + 1 : 1
        var buffer = [UInt8](repeating: 0, count: raw.plan.groups[g].bytes)
        var rows: [RawRow] = []
        var seen = Set<UInt64>()
        buffer.withUnsafeMutableBytes { buffer in
            for run in quarantinedRows[g] {
                let first = max(run.firstSequence, oldest)
                guard first <= run.lastSequence else { continue }
                for sequence in first...run.lastSequence where seen.insert(sequence).inserted {
                    if case .some(.some(let row)) = rawRow(group: g, sequence: sequence, into: buffer, quarantined: true) {
                        rows.append(row)
                    }
                }
            }
        }
        return rows.sorted { $0.sequence < $1.sequence }
    }

    /// The raw rows of `group` with `fromMS <= timestamp < toMS`, oldest first, and the damaged
    /// rows met. Binary search by timestamp (the writer keeps them non-decreasing).
    public func raw(group: String, fromMS: Int64, toMS: Int64) throws(StoreError) -> RawRange {
        let g = try self.group(group)
        guard let raw = tierFiles.first(where: { $0.plan.tier.isRaw }) else { return RawRange(rows: [], damaged: []) }
        beginCall()
        guard let newest = try latest(group: group) else { return RawRange(rows: [], damaged: damagedInCall) }
        let capacity = UInt64(raw.plan.groups[g].capacity)
        let oldest = newest.sequence >= capacity ? newest.sequence - capacity + 1 : 1
        var buffer = [UInt8](repeating: 0, count: raw.plan.groups[g].bytes)
        var rows: [RawRow] = []
        buffer.withUnsafeMutableBytes { buffer in
            // Timestamp of the nearest readable row at or after `sequence` (within the ring).
            func time(_ sequence: UInt64) -> Int64? {
                var s = sequence
                while s <= newest.sequence {
                    if let run = quarantine(group: g, containing: s) {
                        s = run.lastSequence + 1
                        continue
                    }
                    if case .some(.some(let row)) = rawRow(group: g, sequence: s, into: buffer) {
                        return row.timestampMS
                    }
                    s += 1
                }
                return nil
            }
            var low = oldest
            var high = newest.sequence + 1
            while low < high {
                let middle = low + (high - low) / 2
                if let t = time(middle), t < fromMS { low = middle + 1 } else { high = middle }
            }
            var sequence = low
            while sequence <= newest.sequence {
                if case .some(.some(let row)) = rawRow(group: g, sequence: sequence, into: buffer) {
                    if row.timestampMS >= toMS { break }
                    if row.timestampMS >= fromMS { rows.append(row) }
                }
                sequence += 1
            }
        }
        return RawRange(rows: rows, damaged: damagedInCall)
    }
}
