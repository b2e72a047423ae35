internal import ESSCore

/// The cross-point rules of a profile that no single point can break: two points do not read
/// the same register bits, and a role that indicators and the site series use (everything but
/// `other`, `identity` and `scale_factor`) belongs to one point. Either is allowed where the
/// profile says so on the point: `allow_overlap = true` (on either point of an overlapping
/// pair: a word and its bits, one value read two ways) and `allow_duplicate_role = true` (on
/// every point after the first of its role: the first is the one formulas use). Pure; issues go
/// to the points' readers. Runs in time linear in the registers the points cover.
enum PointConflicts {
    /// One valid point, its reader and its opt-ins.
    struct Entry {
        var point: PointDefinition
        var reader: TableReader
        var allowOverlap: Bool
        var allowDuplicateRole: Bool
    }

    /// Roles several points may have without saying so: none of them feeds a formula by role.
    static let repeatableRoles: Set<SignalRole> = [.other, .identity, .scaleFactor]

    static func check(_ entries: [Entry]) {
        checkOverlaps(entries)
        checkRoles(entries)
    }

    /// The register bits a point reads: per register (`address ..< end`), a 16-bit mask; coils
    /// and discrete inputs are one bit each (mask 1).
    static func mask(of point: PointDefinition) -> UInt16 {
        if point.kind.isBitTable { return 1 }
        if case .bit(let n) = point.type { return UInt16(1) << UInt16(n) }
        return 0xFFFF
    }

    private static func checkOverlaps(_ entries: [Entry]) {
        // Per (table, register): for each of its 16 bits, the first point without
        // allow_overlap that reads it. A pair overlaps only when neither point allows it.
        var owners: [Int: [Int?]] = [:]
        let kinds = RegisterKind.allCases
        for (index, entry) in entries.enumerated() where !entry.allowOverlap {
            let point = entry.point
            let bits = mask(of: point)
            let table = kinds.firstIndex(of: point.kind)! << 17  // registers end by 65536 + 124
            var reported = false
            for register in point.address..<point.endAddress {
                var slots = owners[table | register] ?? Array(repeating: nil, count: 16)
                for bit in 0..<16 where bits & (UInt16(1) << UInt16(bit)) != 0 {
                    if let other = slots[bit] {
                        if !reported { report(entry, overlapping: entries[other]) }
                        reported = true
                    } else {
                        slots[bit] = index
                    }
                }
                owners[table | register] = slots
            }
        }
    }

    private static func report(_ entry: Entry, overlapping first: Entry) {
        let p = entry.point
        let q = first.point
        entry.reader.issue(
            "address",
            "point \"\(p.name)\" (\(describe(p))) reads the same \(p.kind.isBitTable ? "bit" : "register bits") as point \"\(q.name)\" (\(describe(q)), line \(first.reader.table.position.line)); fix the address, or set allow_overlap = true on one of them if both are meant to read it (a word and its bits, one value read two ways)"
        )
    }

    /// "int32 at holding 10...11", "bit3 of holding 7", "coil 4".
    static func describe(_ p: PointDefinition) -> String {
        if p.kind.isBitTable { return "\(p.kind.rawValue) \(p.address)" }
        if case .bit = p.type { return "\(p.type.name) of \(p.kind.rawValue) \(p.address)" }
        let range = p.registerCount == 1 ? "\(p.address)" : "\(p.address)...\(p.endAddress - 1)"
        return "\(p.type.name) at \(p.kind.rawValue) \(range)"
    }

    private static func checkRoles(_ entries: [Entry]) {
        var first: [SignalRole: Entry] = [:]
        for entry in entries where !repeatableRoles.contains(entry.point.role) {
            let role = entry.point.role
            guard let earlier = first[role] else {
                first[role] = entry
                continue
            }
            if entry.allowDuplicateRole { continue }
            entry.reader.issue(
                "role",
                "point \"\(earlier.point.name)\" (line \(earlier.reader.table.position.line)) already has role \(role.rawValue); indicators and the site series use only the first point of a role, so this one would be ignored there: give it role \"other\", or set allow_duplicate_role = true if a second \(role.rawValue) is intended"
            )
        }
    }
}
