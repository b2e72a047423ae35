internal import ESSCore

/// A profile file after reading: the profile when it is valid, plus what the site loader
/// needs to report device-specific problems at the right point line.
struct LoadedProfile {
    var file: String
    /// nil when the file had issues.
    var profile: RegisterProfile?
    /// The points that are valid on their own, even when the profile as a whole is not; the
    /// site loader checks them against each device's limits.
    var points: [PointDefinition]
    /// For each point name: its index among the file's `[[point]]` tables and its line.
    var pointPlaces: [String: (index: Int, line: Int)]
    /// Read-plan errors under the widest limits Modbus allows, already reported.
    var baseLimitErrors: Set<ReadPlanError>
    /// `[profile] import_only = true`: signals without registers (for import-only devices).
    var importOnly = false
}

/// Turns a profile file's TOML into a `RegisterProfile`, recording every issue. Pure: no I/O.
enum ProfileReader {
    static let topKeys = ["profile", "point"]
    static let profileKeys = ["name", "vendor", "model", "description", "import_only"]
    /// The keys of a point of an import-only profile: a signal, no registers.
    static let importOnlyPointKeys = ["name", "role", "unit", "description", "tiers", "allow_duplicate_role"]
    /// Roles an import-only point cannot have: text read from registers, a register's exponent.
    static let registerRoles: Set<SignalRole> = [.identity, .scaleFactor]
    static let pointKeys = [
        "name", "role", "kind", "address", "type", "order", "scale", "offset", "unit", "scale_factor",
        "not_implemented", "poll_multiple", "description", "tiers", "allow_overlap", "allow_duplicate_role",
    ]
    static let typeList = "bool, bit0..bit15, int16, uint16, int32, uint32, int64, uint64, float32, float64, string1..string125"

    static func read(text: String, file: String, log: IssueLog) -> LoadedProfile {
        var loaded = LoadedProfile(file: file, profile: nil, points: [], pointPlaces: [:], baseLimitErrors: [])
        guard let top = TableReader.parse(text: text, file: file, log: log) else { return loaded }
        let before = log.count
        top.rejectUnknownKeys(allowed: topKeys)

        var name: String?
        var vendor: String?
        var model: String?
        var importOnly = false
        if let header = top.table("profile", required: true) {
            header.rejectUnknownKeys(allowed: profileKeys)
            name = header.identifier("name", required: true, allowHyphen: true)
            vendor = header.string("vendor")
            model = header.string("model")
            importOnly = header.bool("import_only") ?? false
            loaded.importOnly = importOnly
            _ = header.string("description")
            let base = baseName(of: file)
            if let n = name, n != base {
                header.issue("name", "\"\(n)\" must equal the file's base name \"\(base)\" (devices name profiles by file)")
            }
        }

        let pointReaders = top.tableArray("point")
        if pointReaders.isEmpty, top.table["point"] == nil {
            log.add(file: file, line: top.table.position.line, key: "point", "a profile needs at least one [[point]] table")
        }
        var points: [PointDefinition] = []
        var conflicts: [PointConflicts.Entry] = []
        var declared: [String: Int] = [:]  // name -> line
        for (i, r) in pointReaders.enumerated() {
            let line = r.table.position.line
            let point = importOnly ? readSignal(r) : readPoint(r)
            // Import-only points have no registers to overlap.
            let allowOverlap = importOnly || (r.bool("allow_overlap") ?? false)
            let allowDuplicateRole = r.bool("allow_duplicate_role") ?? false
            if let n = r.table["name"]?.value.stringValue {
                if let first = declared[n] {
                    r.issue("name", "duplicate point name \"\(n)\"; first defined at line \(first)")
                    continue
                }
                declared[n] = r.line(of: "name")
                loaded.pointPlaces[n] = (i, line)
            }
            if let point {
                points.append(point)
                conflicts.append(.init(point: point, reader: r, allowOverlap: allowOverlap, allowDuplicateRole: allowDuplicateRole))
            }
        }
        PointConflicts.check(conflicts)
        loaded.points = points
        if !importOnly {
            checkScaleFactors(&points, readers: pointReaders, declared: declared, loaded: loaded, file: file, log: log)
            loaded.points = points
            let errors = ReadPlanner.validate(points: points, limits: ReadPlanLimits())
            loaded.baseLimitErrors = Set(errors)
            for e in errors { report(e, in: loaded, note: nil, log: log) }
        }

        if log.count == before, let name {
            loaded.profile = RegisterProfile(
                name: name, vendor: vendor, model: model, points: points, importOnly: importOnly)
        }
        return loaded
    }

    /// Records a read-plan error at its point's line.
    static func report(_ error: ReadPlanError, in loaded: LoadedProfile, note: String?, log: IssueLog) {
        let place = loaded.pointPlaces[error.pointName]
        let field = error.reason.hasPrefix("scale_factor") ? "scale_factor" : "address"
        let key = place.map { "point[\($0.index)].\(field)" } ?? "point"
        log.add(file: loaded.file, line: place?.line ?? 1, key: key, error.description + (note.map { " (\($0))" } ?? ""))
    }

    static func baseName(of file: String) -> String {
        var name = file.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? file
        if name.hasSuffix(".toml") { name.removeLast(5) }
        return name
    }

    // MARK: One point

    private static func readPoint(_ r: TableReader) -> PointDefinition? {
        r.rejectUnknownKeys(allowed: pointKeys)
        var valid = true
        func need<T>(_ v: T?) -> T? {
            if v == nil { valid = false }
            return v
        }
        let name = need(r.identifier("name", required: true, allowHyphen: false))
        let role = need(r.choice("role", required: true, SignalRole.allCases.map { ($0.rawValue, $0) }))
        let kind = r.has("kind") ? need(r.choice("kind", RegisterKind.allCases.map { ($0.rawValue, $0) })) : .holding
        let address = need(r.integer("address", required: true, in: 0...65535))
        var type: ValueType? = (kind?.isBitTable ?? false) ? .bool : .uint16
        if r.has("type") {
            type = nil
            if let s = r.string("type") {
                type = ValueType(name: s)
                if type == nil { r.issue("type", "\(TOMLValue.abbreviated(s)) is not a type; expected one of: \(typeList)") }
            }
            _ = need(type)
        }
        let order = r.has("order") ? need(r.choice("order", WordOrder.allCases.map { ($0.rawValue, $0) })) : .abcd
        let scale = r.has("scale") ? need(r.double("scale", ruleText: "other than 0") { $0 != 0 }) : 1
        let offset = r.has("offset") ? need(r.double("offset", ruleText: "") { _ in true }) : 0
        let unit = r.string("unit")
        let scaleFactor = r.has("scale_factor") ? need(r.identifier("scale_factor", allowHyphen: false)) : nil
        let pollMultiple = r.has("poll_multiple") ? need(r.integer("poll_multiple", in: 1...3600)) : 1
        let description = r.string("description")
        // Tier names are checked against the site's tiers by the site reader.
        let tiers = r.stringArray("tiers").map(Set.init)

        if let kind, let type, kind.isBitTable, type != .bool {
            r.issue("type", "\(kind.rawValue) points are single bits and must have type bool; found \(type.name)")
            valid = false
        }
        if let type, let role, !type.isNumeric, role != .identity, role != .other {
            r.issue("role", "\(role.rawValue) needs a number but type \(type.name) is text; string types take role identity or other")
            valid = false
        }
        if let type, scaleFactor != nil, !isWideNumber(type) {
            r.issue("scale_factor", "a scale factor applies to numeric register types (int16 ... float64), not \(type.name)")
            valid = false
        }
        var sentinel: NotImplementedSentinel?
        if r.has("not_implemented"), let type {
            sentinel = readSentinel(r, type: type)
            if sentinel == nil { valid = false }
        }
        guard valid, let name, let role, let kind, let address, let type, let order, let scale, let offset, let pollMultiple
        else { return nil }
        return PointDefinition(
            name: name, role: role, kind: kind, address: address, type: type, wordOrder: order, scale: scale,
            offset: offset, unit: unit, scaleFactorPoint: scaleFactor, notImplemented: sentinel,
            pollMultiple: pollMultiple, description: description, tiers: tiers)
    }

    /// A point of an import-only profile: a signal (name, role, unit, tiers) without registers.
    /// Register keys are errors naming the key, so a register profile missing `import_only`
    /// (or one that has it by mistake) is found at once.
    private static func readSignal(_ r: TableReader) -> PointDefinition? {
        let registerKeys = pointKeys.filter { !importOnlyPointKeys.contains($0) }
        r.rejectUnknownKeys(
            allowed: importOnlyPointKeys,
            hints: Dictionary(
                uniqueKeysWithValues: registerKeys.map {
                    ($0, "\($0) is a register setting; this profile is import_only = true: its points have no registers (a scale goes in the import map)")
                }))
        let name = r.identifier("name", required: true, allowHyphen: false)
        var role = r.choice("role", required: true, SignalRole.allCases.map { ($0.rawValue, $0) })
        if let found = role, registerRoles.contains(found) {
            r.issue(
                "role",
                "\(found.rawValue) is read from registers (text, or a register's exponent); an import-only point takes a number's role or other")
            role = nil
        }
        let unit = r.string("unit")
        let description = r.string("description")
        let tiers = r.stringArray("tiers").map(Set.init)
        guard let name, let role else { return nil }
        return PointDefinition(
            name: name, role: role, kind: .holding, address: 0, type: .float64, unit: unit, description: description,
            tiers: tiers)
    }

    /// Types with a register width: everything but bool, bitN and strings.
    private static func isWideNumber(_ type: ValueType) -> Bool { width(of: type) != nil }

    private static func width(of type: ValueType) -> Int? {
        switch type {
        case .int16, .uint16: 16
        case .int32, .uint32, .float32: 32
        case .int64, .uint64, .float64: 64
        case .bool, .bit, .string: nil
        }
    }

    private static func readSentinel(_ r: TableReader, type: ValueType) -> NotImplementedSentinel? {
        let value = r.table["not_implemented"]!.value
        guard let width = width(of: type) else {
            r.issue("not_implemented", "applies to numeric register types (int16 ... float64), not \(type.name)")
            return nil
        }
        let isFloat = type == .float32 || type == .float64
        switch value.kind {
        case .string("nan"):
            guard isFloat else {
                r.issue("not_implemented", "\"nan\" is only for float32 and float64; for \(type.name) give the raw bits as an integer, e.g. \(exampleSentinel(type))")
                return nil
            }
            return .nan
        case .integer(let i):
            let fits: Bool
            if width == 64 {
                fits = true
            } else if i >= 0 {
                fits = i < Int64(1) << width
            } else {
                fits = i >= -(Int64(1) << (width - 1))
            }
            guard fits else {
                let maxHex = "0x" + String(UInt64(1) << UInt64(width) - 1, radix: 16, uppercase: true)
                let minNeg = "-0x" + String(UInt64(1) << UInt64(width - 1), radix: 16, uppercase: true)
                r.issue("not_implemented", "\(i) does not fit the \(width) bits of \(type.name); expected 0...\(maxHex), or \(minNeg)...-1 for two's complement")
                return nil
            }
            let mask: UInt64 = width == 64 ? .max : (UInt64(1) << UInt64(width)) - 1
            return .rawBits(UInt64(bitPattern: i) & mask)
        default:
            let also = isFloat ? " or \"nan\"" : ""
            r.issue("not_implemented", "expected the raw bits as an integer\(also), found \(value.summary)")
            return nil
        }
    }

    private static func exampleSentinel(_ type: ValueType) -> String {
        switch type {
        case .int16: "0x8000"
        case .uint16: "0xFFFF"
        case .int32: "0x80000000"
        case .uint32: "0xFFFFFFFF"
        case .int64: "0x8000000000000000"
        default: "0xFFFFFFFFFFFFFFFF"
        }
    }

    // MARK: Cross-point checks

    /// Checks every `scale_factor` reference; a bad reference is reported here and removed so
    /// the read planner does not report it a second time.
    private static func checkScaleFactors(
        _ points: inout [PointDefinition], readers: [TableReader], declared: [String: Int],
        loaded: LoadedProfile, file: String, log: IssueLog
    ) {
        let byName = Dictionary(points.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for i in points.indices {
            guard let sfName = points[i].scaleFactorPoint, let place = loaded.pointPlaces[points[i].name] else { continue }
            let r = readers[place.index]
            let problem: String?
            if sfName == points[i].name {
                problem = "a point cannot be its own scale factor"
            } else if declared[sfName] == nil {
                let int16s = points.filter { $0.type == .int16 && $0.kind == points[i].kind }.map(\.name)
                let hint = int16s.isEmpty ? "" : " (int16 points in \(points[i].kind.rawValue): \(int16s.joined(separator: ", ")))"
                problem = "names no point \"\(sfName)\" of this profile; expected the name of an int16 point in the same table\(hint)"
            } else if byName[sfName] == nil {
                // The named point has its own issues; it was reported already.
                points[i].scaleFactorPoint = nil
                problem = nil
            } else if let sf = byName[sfName], sf.type != .int16 || sf.kind != points[i].kind {
                problem = "point \"\(sfName)\" is \(sf.type.name) in the \(sf.kind.rawValue) table; a scale factor must be an int16 point in the \(points[i].kind.rawValue) table"
            } else {
                problem = nil
            }
            if let problem {
                r.issue("scale_factor", problem)
                points[i].scaleFactorPoint = nil
            }
        }
    }
}
