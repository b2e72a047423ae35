import ESSCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `catalog.json`: what the state directory holds (site, tiers, every group's schema, sizes).
/// The only place that uses Foundation (for JSON and the store id).
struct Catalog: Codable, Equatable {
    struct Tier: Codable, Equatable {
        var name: String
        var slotMS: Int64
        var retentionMS: Int64
    }
    struct Signal: Codable, Equatable {
        var name: String
        var role: String
        var heartbeatMS: Int64
        var tiers: [String]
    }
    struct Energy: Codable, Equatable {
        var activePower: Int?
        var chargeCounter: Int?
        var dischargeCounter: Int?
    }
    struct Group: Codable, Equatable {
        var groupID: String
        var pollIntervalMS: Int64?
        var rawCapacity: Int
        var energy: Energy
        var signals: [Signal]
    }
    struct File: Codable, Equatable {
        var name: String
        var tier: String
        var bytes: Int64
        var headerBytes: Int
        var rowBytes: Int
        var capacity: Int
        var retentionMS: Int64
    }

    var formatVersion: Int
    var storeID: String
    var siteID: String
    var createdAtMS: Int64
    var schemaHash: String
    var rawBudgetBytes: Int64?
    var tiers: [Tier]
    var groups: [Group]
    var files: [File]

    static let fileName = "catalog.json"

    init(
        plan: StorePlan, schemas: [SeriesSchema], tiers: [TierDefinition], pollIntervalsMS: [String: Int64],
        storeID: String?, createdAtMS: Int64
    ) {
        formatVersion = Int(StorePlan.formatVersion)
        self.storeID = storeID ?? UUID().uuidString.lowercased()
        siteID = plan.siteID
        self.createdAtMS = createdAtMS
        schemaHash = String(plan.schemaHash, radix: 16)
        rawBudgetBytes = plan.rawBudgetBytes
        self.tiers = tiers.map { Tier(name: $0.name, slotMS: $0.slotMS, retentionMS: $0.retentionMS) }
        let raw = plan.files.first { $0.tier.isRaw }
        groups = schemas.map { schema in
            Group(
                groupID: schema.groupID, pollIntervalMS: pollIntervalsMS[schema.groupID],
                rawCapacity: raw?.groups.first { $0.groupID == schema.groupID }?.capacity ?? 0,
                energy: Energy(
                    activePower: schema.energy.activePower, chargeCounter: schema.energy.chargeCounter,
                    dischargeCounter: schema.energy.dischargeCounter),
                signals: schema.signals.map {
                    Signal(name: $0.name, role: $0.role.rawValue, heartbeatMS: $0.heartbeatMS, tiers: $0.tiers.sorted())
                })
        }
        files = plan.files.map {
            File(
                name: $0.fileName, tier: $0.tier.name, bytes: $0.bytes, headerBytes: $0.headerBytes,
                rowBytes: $0.rowBytes,
                capacity: $0.capacity, retentionMS: $0.retentionMS)
        }
    }

    var tierDefinitions: [TierDefinition] {
        tiers.map { TierDefinition(name: $0.name, slotMS: $0.slotMS, retentionMS: $0.retentionMS) }
    }

    var pollIntervalsMS: [String: Int64] {
        var result: [String: Int64] = [:]
        for group in groups { result[group.groupID] = group.pollIntervalMS }
        return result
    }

    func schemas(path: String) throws(StoreError) -> [SeriesSchema] {
        var result: [SeriesSchema] = []
        for group in groups {
            var signals: [SignalDefinition] = []
            for signal in group.signals {
                guard let role = SignalRole(rawValue: signal.role) else {
                    throw StoreError(
                        .corruptFile,
                        "\(path): group '\(group.groupID)' signal '\(signal.name)' has unknown role '\(signal.role)'; written by a newer essd?"
                    )
                }
                signals.append(
                    SignalDefinition(
                        name: signal.name, role: role, heartbeatMS: signal.heartbeatMS, tiers: Set(signal.tiers)))
            }
            let energy = EnergySources(
                activePower: group.energy.activePower, chargeCounter: group.energy.chargeCounter,
                dischargeCounter: group.energy.dischargeCounter)
            result.append(SeriesSchema(groupID: group.groupID, signals: signals, energy: energy))
        }
        return result
    }

    /// Checks the catalogue's sizes (`files`, each group's `rawCapacity`) against `plan`, the
    /// layout made from its own tiers and schemas, which every file's header is checked against:
    /// sizes that disagree mean the catalogue was edited or damaged, and nothing is opened.
    func checkSizes(against plan: StorePlan, path: String) throws(StoreError) {
        let fix =
            "catalog.json was edited or damaged: restore it from a backup, or put back the value the file has"
        guard files.map(\.name) == plan.files.map(\.fileName) else {
            throw StoreError(
                .corruptFile,
                "\(path): the files listed (\(files.map(\.name))) differs from the files of its tiers (\(plan.files.map(\.fileName))); \(fix)"
            )
        }
        for (entry, file) in zip(files, plan.files) {
            let fields: [(String, Int64, Int64)] = [
                ("bytes", entry.bytes, file.bytes), ("headerBytes", Int64(entry.headerBytes), Int64(file.headerBytes)),
                ("rowBytes", Int64(entry.rowBytes), Int64(file.rowBytes)),
                ("capacity", Int64(entry.capacity), Int64(file.capacity)),
                ("retentionMS", entry.retentionMS, file.retentionMS),
            ]
            for (name, stored, actual) in fields where stored != actual {
                throw StoreError(
                    .corruptFile,
                    "\(path): \(entry.name) \(name) \(stored) differs from \(actual), the file's header (and the layout of the catalogue's own tiers and schemas); \(fix)"
                )
            }
        }
        let raw = plan.files.first { $0.tier.isRaw }
        for group in groups {
            let actual = raw?.groups.first { $0.groupID == group.groupID }?.capacity ?? 0
            guard group.rawCapacity == actual else {
                throw StoreError(
                    .corruptFile,
                    "\(path): group '\(group.groupID)' rawCapacity \(group.rawCapacity) differs from \(actual) rows, its region in the raw file's header; \(fix)"
                )
            }
        }
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Encoding plain structs of strings and integers cannot fail.
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// Reads `directory/name`, or nil when it does not exist.
    static func read(directory: String, name: String = fileName) throws(StoreError) -> Catalog? {
        let path = directory + "/" + name
        guard let bytes = try SystemCalls.readWholeFile(path) else { return nil }
        let catalog: Catalog
        do {
            catalog = try JSONDecoder().decode(Catalog.self, from: Data(bytes))
        } catch {
            throw StoreError(
                .corruptFile,
                "\(path) is not a valid store catalogue (\(error)); restore it from a backup, or move the state directory aside to start a new store"
            )
        }
        guard catalog.formatVersion == Int(StorePlan.formatVersion) else {
            throw StoreError(
                .unknownFormatVersion,
                "\(path) has format version \(catalog.formatVersion); this essd reads version \(StorePlan.formatVersion): use the essd release that wrote it, or move the state directory aside"
            )
        }
        return catalog
    }

    func write(directory: String, name: String = fileName) throws(StoreError) {
        try SystemCalls.replaceFile(directory + "/" + name, with: encoded(), directory: directory)
    }
}
