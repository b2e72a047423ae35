import ESSCore

/// Decides whether a stored catalogue and a new configuration can share the state directory:
/// refuses (site, tiers, roles, dropped signals) with a message naming the difference and what
/// to do, or describes the additive change that a migration will apply.
enum Compatibility {
    static func compare(
        stored: Catalog, storedSchemas: [SeriesSchema], siteID: String, schemas: [SeriesSchema],
        tiers: [TierDefinition],
        rawBudgetBytes: Int64?, allowDroppingSignals: Bool, directory: String
    ) throws(StoreError) -> String {
        let moveAside = "or move \(directory) aside to start a new store (its history stays there)"
        guard stored.siteID == siteID else {
            throw StoreError(
                .siteMismatch,
                "\(directory) holds the store of site '\(stored.siteID)', the configuration is for site '\(siteID)': point the state directory at site '\(siteID)''s store, \(moveAside)"
            )
        }
        var tierDifferences: [String] = []
        let storedTiers = stored.tierDefinitions
        for old in storedTiers where !tiers.contains(where: { $0.name == old.name }) {
            tierDifferences.append("tier '\(old.name)' was removed")
        }
        for new in tiers {
            guard let old = storedTiers.first(where: { $0.name == new.name }) else {
                tierDifferences.append("tier '\(new.name)' is new")
                continue
            }
            if old.slotMS != new.slotMS {
                tierDifferences.append(
                    "tier '\(new.name)' slot length changed from \(old.slotMS) ms to \(new.slotMS) ms")
            } else if new.isRaw {
                if stored.rawBudgetBytes != rawBudgetBytes {
                    tierDifferences.append(
                        "raw byte budget changed from \(stored.rawBudgetBytes.map(String.init) ?? "none") to \(rawBudgetBytes.map(String.init) ?? "none")"
                    )
                } else if rawBudgetBytes == nil && old.retentionMS != new.retentionMS {
                    tierDifferences.append(
                        "tier '\(new.name)' retention changed from \(old.retentionMS) ms to \(new.retentionMS) ms")
                }
            } else {
                let oldCapacity = (old.retentionMS + old.slotMS - 1) / old.slotMS
                let newCapacity = (new.retentionMS + new.slotMS - 1) / new.slotMS
                if oldCapacity != newCapacity {
                    tierDifferences.append(
                        "tier '\(new.name)' capacity changed from \(oldCapacity) to \(newCapacity) slots")
                }
            }
        }
        if !tierDifferences.isEmpty {
            throw StoreError(
                .tierMismatch,
                "\(directory): the tiers differ from the stored ones: \(tierDifferences.joined(separator: "; ")). Restore the previous tier settings, \(moveAside)"
            )
        }
        var removed: [String] = []
        var added: [String] = []
        for old in storedSchemas {
            guard let new = schemas.first(where: { $0.groupID == old.groupID }) else {
                removed.append("group '\(old.groupID)'")
                continue
            }
            for signal in old.signals {
                guard let replacement = new.signals.first(where: { $0.name == signal.name }) else {
                    removed.append("signal '\(old.groupID)/\(signal.name)'")
                    continue
                }
                if replacement.role != signal.role {
                    throw StoreError(
                        .roleChanged,
                        "\(directory): signal '\(old.groupID)/\(signal.name)' changed role from \(signal.role.rawValue) to \(replacement.role.rawValue); its history would mean something else. Give the point a new name, restore its role, \(moveAside)"
                    )
                }
                for tier in signal.tiers.subtracting(replacement.tiers).sorted() {
                    removed.append("signal '\(old.groupID)/\(signal.name)' from tier '\(tier)'")
                }
                for tier in replacement.tiers.subtracting(signal.tiers).sorted() {
                    added.append("signal '\(old.groupID)/\(signal.name)' to tier '\(tier)'")
                }
            }
            if old.energy.hasEnergy && !new.energy.hasEnergy {
                removed.append("energy of group '\(old.groupID)'")
            }
            for signal in new.signals where !old.signals.contains(where: { $0.name == signal.name }) {
                added.append("signal '\(old.groupID)/\(signal.name)'")
            }
        }
        for new in schemas where !storedSchemas.contains(where: { $0.groupID == new.groupID }) {
            added.append("group '\(new.groupID)'")
        }
        if !removed.isEmpty && !allowDroppingSignals {
            throw StoreError(
                .signalsRemoved,
                "\(directory): the configuration drops \(removed.joined(separator: ", ")); their history would be deleted. Put them back, pass allowDroppingSignals (essd --allow-dropping-signals) to delete it, \(moveAside)"
            )
        }
        return (added.map { "adds \($0)" } + removed.map { "drops \($0)" }).joined(separator: ", ")
    }
}
