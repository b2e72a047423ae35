public import ESSCore
import Crypto

/// A fixed text of a register profile or a whole site configuration, the same in every
/// process and on every platform (sets sorted, numbers in Swift's shortest round-trip form,
/// one `key=value` per line), and its SHA-256. Two configurations with the same text read the
/// same registers the same way. Owns the hash inputs only, not the configuration files.
public enum CanonicalDescription {
    /// The profile's text: name, vendor, model, then every point in file order.
    public static func text(of profile: RegisterProfile) -> String {
        var lines = ["profile.name=\(profile.name)", "profile.vendor=\(profile.vendor ?? "")", "profile.model=\(profile.model ?? "")"]
        for (i, p) in profile.points.enumerated() {
            let prefix = "point[\(i)]."
            lines += [
                prefix + "name=\(p.name)", prefix + "role=\(p.role.rawValue)", prefix + "kind=\(p.kind.rawValue)",
                prefix + "address=\(p.address)", prefix + "type=\(p.type.name)", prefix + "word_order=\(p.wordOrder.rawValue)",
                prefix + "scale=\(p.scale)", prefix + "offset=\(p.offset)", prefix + "unit=\(p.unit ?? "")",
                prefix + "scale_factor_point=\(p.scaleFactorPoint ?? "")",
                prefix + "not_implemented=\(sentinel(p.notImplemented))", prefix + "poll_multiple=\(p.pollMultiple)",
                prefix + "tiers=\(p.tiers.map { $0.sorted().joined(separator: ",") } ?? "default")",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The configuration's text: site facts, store settings, then every device with its profile.
    /// Daemon settings (socket path, metrics port) are left out: they change no value.
    public static func text(of site: SiteConfiguration) -> String {
        let f = site.site
        var lines = [
            "site.id=\(f.id)", "site.name=\(f.name)", "site.province=\(f.province)", "site.rated_power_kw=\(f.ratedPowerKW)",
            "site.rated_energy_kwh=\(f.ratedEnergyKWh)", "site.technology_route=\(f.technologyRoute)",
            "site.location_category=\(f.locationCategory)", "site.total_investment_cny=\(f.totalInvestmentCNY)",
            "site.commissioning_date=\(f.commissioningDate)", "site.time_zone=\(f.timeZone)",
            "store.meter=\(site.store.meterDeviceID ?? "")", "store.raw_budget_bytes=\(site.store.rawBudgetBytes.map(String.init) ?? "")",
        ]
        for tier in site.store.tiers {
            lines.append("store.tier=\(tier.name):\(tier.slotMS):\(tier.retentionMS)")
        }
        for d in site.devices {
            let prefix = "device[\(d.id)]."
            lines += [
                prefix + "endpoint=\(d.transport.endpoint)", prefix + "transport=\(transport(d.transport))",
                prefix + "unit_id=\(d.unitID)", prefix + "poll_interval_ms=\(d.pollIntervalMS)",
                prefix + "rated_energy_kwh=\(d.ratedEnergyKWh.map { "\($0)" } ?? "")",
                prefix + "rated_power_kw=\(d.ratedPowerKW.map { "\($0)" } ?? "")",
                prefix + "profile_sha256=\(sha256(of: d.profile))",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// SHA-256 (hex) of `text(of: profile)`.
    public static func sha256(of profile: RegisterProfile) -> String { sha256(text(of: profile)) }

    /// SHA-256 (hex) of `text(of: site)`.
    public static func sha256(of site: SiteConfiguration) -> String { sha256(text(of: site)) }

    static func sha256(_ text: String) -> String { Hex.encode(Array(SHA256.hash(data: Array(text.utf8)))) }

    static func sentinel(_ s: NotImplementedSentinel?) -> String {
        switch s {
        case .none: ""
        case .rawBits(let bits)?: "0x" + String(bits, radix: 16)
        case .nan?: "nan"
        }
    }

    static func transport(_ t: Transport) -> String {
        switch t {
        case .tcp(let host, let port): "tcp:\(host):\(port)"
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
            "rtu:\(device):\(baud):\(parity.rawValue):\(dataBits):\(stopBits)"
        case .importOnly: "none"
        }
    }
}
