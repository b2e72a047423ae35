import ESSCore
import Logging

/// Rewrites the tier files for a new layout (signals or groups added, or dropped when allowed),
/// copying every intact row; signals the old rows lack become unknown.
///
/// Crash-safe: new files are written beside the old ones as `<tier>.tier.migrating` and
/// `fsync`ed; `catalog.json.migrating` is the commit point; then the files are renamed over the
/// old ones and the catalogue last. `finishInterrupted` completes or discards a migration that a
/// crash interrupted.
enum StoreMigration {
    static let suffix = ".migrating"

    static func finishInterrupted(directory: String, tierNames: [String], logger: Logger) throws(StoreError) {
        let pendingCatalog = Catalog.fileName + suffix
        if let pending = try Catalog.read(directory: directory, name: pendingCatalog) {
            for file in pending.files {
                let path = directory + "/" + file.name
                if try SystemCalls.sizeIfExists(path + suffix) != nil {
                    try SystemCalls.rename(path + suffix, to: path)
                }
            }
            try SystemCalls.fsyncDirectory(directory)
            try SystemCalls.rename(directory + "/" + pendingCatalog, to: directory + "/" + Catalog.fileName)
            try SystemCalls.fsyncDirectory(directory)
            logger.notice("finished a migration interrupted by a crash", metadata: ["directory": "\(directory)"])
            return
        }
        var names = Set(tierNames)
        if let stored = try Catalog.read(directory: directory) { names.formUnion(stored.tiers.map(\.name)) }
        for name in names { try SystemCalls.removeIfExists(directory + "/" + name + ".tier" + suffix) }
    }

    static func migrate(
        directory: String, from oldPlan: StorePlan, oldSchemas: [SeriesSchema], to newPlan: StorePlan,
        newSchemas: [SeriesSchema], catalog: Catalog, logger: Logger
    ) throws(StoreError) {
        for newFile in newPlan.files {
            guard let oldFile = oldPlan.file(named: newFile.tier.name) else { continue }
            let oldPath = directory + "/" + oldFile.fileName
            let old = try MappedFile(path: oldPath, writable: false)
            try TierHeader.verify(
                old.base, fileBytes: Int64(old.bytes), expected: oldFile, plan: oldPlan, path: oldPath)
            let newPath = directory + "/" + newFile.fileName + suffix
            try MappedFile.create(
                path: newPath, bytes: newFile.bytes, header: TierHeader.encode(newFile, plan: newPlan))
            let new = try MappedFile(path: newPath, writable: true)
            let source = TierFile(plan: oldFile, file: old)
            let target = TierFile(plan: newFile, file: new)
            var skipped = 0
            if newFile.tier.isRaw {
                skipped = copyRaw(from: source, oldSchemas: oldSchemas, to: target, newSchemas: newSchemas)
            } else {
                skipped = copyConsolidated(from: source, oldSchemas: oldSchemas, to: target, newSchemas: newSchemas)
            }
            if skipped > 0 {
                logger.warning(
                    "migration skipped damaged rows (they read as unknown)",
                    metadata: ["path": "\(oldPath)", "rows": "\(skipped)"])
            }
            new.markDirty(0, new.bytes)
            try new.sync()
        }
        try catalog.write(directory: directory, name: Catalog.fileName + suffix)
        try finishInterrupted(directory: directory, tierNames: [], logger: logger)
    }

    /// For each signal kept in the new layout: its position in the old layout's group, if any.
    private static func sources(
        _ newGroup: GroupLayout, newSchema: SeriesSchema, oldGroup: GroupLayout?, oldSchema: SeriesSchema?
    ) -> [Int?] {
        newGroup.signalIndices.map { index in
            let name = newSchema.signals[index].name
            guard let oldGroup, let oldSchema, let oldIndex = oldSchema.signals.firstIndex(where: { $0.name == name })
            else {
                return nil
            }
            return oldGroup.signalIndices.firstIndex(of: oldIndex)
        }
    }

    private static func copyConsolidated(
        from source: TierFile, oldSchemas: [SeriesSchema], to target: TierFile, newSchemas: [SeriesSchema]
    ) -> Int {
        let oldPlan = source.plan
        let newPlan = target.plan
        let unknown = StoreWriter.unknownRow(newPlan)
        let mapping = newPlan.groups.enumerated().map { (g, group) -> (GroupLayout?, [Int?]) in
            let oldIndex = source.groupIndex[group.groupID]
            let oldGroup = oldIndex.map { oldPlan.groups[$0] }
            return (
                oldGroup,
                sources(group, newSchema: newSchemas[g], oldGroup: oldGroup, oldSchema: oldIndex.map { oldSchemas[$0] })
            )
        }
        var skipped = 0
        var buffer = [UInt8](repeating: 0, count: oldPlan.rowBytes)
        buffer.withUnsafeMutableBytes { buffer in
            let old = UnsafeRawPointer(buffer.baseAddress!)
            for index in 0..<oldPlan.capacity / oldPlan.slotsPerRow {
                let from = source.file.base + oldPlan.headerBytes + index * oldPlan.rowBytes
                switch RowCheck.copy(from: from, into: buffer, crcOffset: RowCheck.consolidatedCRCOffset, retries: 0) {
                case .empty: continue
                case .damaged:
                    skipped += 1
                    continue
                case .valid: break
                }
                let key = UInt32(littleEndian: old.loadUnaligned(as: UInt32.self))
                for number in key..<key + UInt32(oldPlan.slotsPerRow) where number > 0 {
                    let row = target.file.base + target.rowOffset(slotNumber: number)
                    let newKey = newPlan.rowKey(slotNumber: number)
                    let stored = UInt32(littleEndian: row.loadUnaligned(as: UInt32.self))
                    let checked =
                        RowCheck.checksum(row, crcOffset: RowCheck.consolidatedCRCOffset, bytes: newPlan.rowBytes)
                        == UInt32(littleEndian: row.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                    // A ring of another length can put two old slots in one new row: the newer stays.
                    if checked && stored > newKey { continue }
                    if !(checked && stored == newKey) {
                        unknown.withUnsafeBytes { row.copyMemory(from: $0.baseAddress!, byteCount: newPlan.rowBytes) }
                        row.storeBytes(of: newKey.littleEndian, as: UInt32.self)
                    }
                    for (g, group) in newPlan.groups.enumerated() {
                        let (oldGroup, positions) = mapping[g]
                        guard let oldGroup else { continue }
                        let part = row + newPlan.partOffset(slotNumber: number, group: group)
                        let oldPart = old + oldPlan.partOffset(slotNumber: number, group: oldGroup)
                        for (position, oldPosition) in positions.enumerated() {
                            guard let oldPosition else { continue }
                            (part + position * Layout.signalBytes).copyMemory(
                                from: oldPart + oldPosition * Layout.signalBytes, byteCount: Layout.signalBytes)
                        }
                        if group.hasEnergy && oldGroup.hasEnergy {
                            (part + group.signalIndices.count * Layout.signalBytes).copyMemory(
                                from: oldPart + oldGroup.signalIndices.count * Layout.signalBytes,
                                byteCount: Layout.energyBytes)
                        }
                    }
                    RowCheck.storeChecksum(row, crcOffset: RowCheck.consolidatedCRCOffset, bytes: newPlan.rowBytes)
                }
            }
        }
        return skipped
    }

    private static func copyRaw(
        from source: TierFile, oldSchemas: [SeriesSchema], to target: TierFile, newSchemas: [SeriesSchema]
    ) -> Int {
        var skipped = 0
        for (g, group) in target.plan.groups.enumerated() {
            guard let oldIndex = source.groupIndex[group.groupID] else { continue }
            let oldGroup = source.plan.groups[oldIndex]
            let positions = sources(
                group, newSchema: newSchemas[g], oldGroup: oldGroup, oldSchema: oldSchemas[oldIndex])
            guard let last = RawRecovery.recover(in: source, group: oldIndex).last, last.sequence > 0 else { continue }
            let count = UInt64(min(oldGroup.capacity, group.capacity))
            let first = last.sequence >= count ? last.sequence - count + 1 : 1
            var buffer = [UInt8](repeating: 0, count: oldGroup.bytes)
            buffer.withUnsafeMutableBytes { buffer in
                let old = UnsafeRawPointer(buffer.baseAddress!)
                for sequence in first...last.sequence {
                    let from = source.file.base + source.rawRowOffset(group: oldIndex, sequence: sequence)
                    let state = RowCheck.copy(from: from, into: buffer, crcOffset: RowCheck.rawCRCOffset, retries: 0)
                    if state == .damaged { skipped += 1 }
                    guard state == .valid,
                        UInt32(littleEndian: old.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
                            == UInt32(truncatingIfNeeded: sequence)
                    else { continue }
                    let row = target.file.base + target.rawRowOffset(group: g, sequence: sequence)
                    row.copyMemory(from: old, byteCount: 12)
                    for (position, oldPosition) in positions.enumerated() {
                        let field = row + Layout.rawPrefixBytes + position * Layout.rawSignalBytes
                        if let oldPosition {
                            field.copyMemory(
                                from: old + Layout.rawPrefixBytes + oldPosition * Layout.rawSignalBytes,
                                byteCount: Layout.rawSignalBytes)
                        } else {
                            field.storeBytes(of: Double.nan.bitPattern.littleEndian, as: UInt64.self)
                            field.storeBytes(of: RawQualityCode.notStored, toByteOffset: 8, as: UInt8.self)
                        }
                    }
                    RowCheck.storeChecksum(row, crcOffset: RowCheck.rawCRCOffset, bytes: group.bytes)
                }
            }
            RawHead.store(target.file.base, regionOffset: group.offset, sequence: last.sequence, timestampMS: last.timestampMS)
        }
        return skipped
    }
}
