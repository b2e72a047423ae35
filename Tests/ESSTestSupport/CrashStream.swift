public import ESSCore

/// The stream the crash test writes: the value and quality of signal `k` at sample `i` are pure
/// functions of (seed, i, k), so a reader in another process can check every stored row.
///
/// Shared by the crash child (`ess-store-crashtest`) and the crash tests, so both sides use the
/// same definition; `fingerprint` still lets the test check the child it started is current.
public enum CrashStream {
    public static let siteID = "crash-site"
    public static let groupID = "bess1"
    public static let pollMS: Int64 = 1000
    public static let heartbeatMS: Int64 = 3000
    /// Sample 0's time: 17 s after an hour boundary, so the first 1m and 1h slots are partial.
    public static let t0MS: Int64 = 1_700_000_000_000 / 3_600_000 * 3_600_000 + 17_000

    public static let tiers = [
        TierDefinition(name: "raw", slotMS: 0, retentionMS: 7 * 86_400_000),
        TierDefinition(name: "1m", slotMS: 60_000, retentionMS: 2 * 86_400_000),
        TierDefinition(name: "1h", slotMS: 3_600_000, retentionMS: 30 * 86_400_000),
    ]

    /// The 1h tier keeps two signals and the energy: its rows hold four slots each
    /// (`slotsPerRow`), so the crash tests also kill writers between the slots of one row.
    public static let schema: SeriesSchema = {
        let all: Set<String> = ["raw", "1m", "1h"]
        return SeriesSchema(
            groupID: groupID,
            signals: [
                SignalDefinition(name: "soc", role: .socPercent, heartbeatMS: heartbeatMS, tiers: ["raw", "1m"]),
                SignalDefinition(name: "p", role: .activePowerKW, heartbeatMS: heartbeatMS, tiers: all),
                SignalDefinition(name: "dc_v", role: .dcVoltageV, heartbeatMS: heartbeatMS, tiers: ["raw", "1m"]),
                SignalDefinition(name: "temp", role: .other, heartbeatMS: heartbeatMS, tiers: ["raw", "1h"]),
            ],
            energy: EnergySources(activePower: 1))
    }()

    public static var pollIntervalsMS: [String: Int64] { [groupID: pollMS] }

    /// The time of sample `i`; its raw row has sequence `i + 1`.
    public static func timestampMS(_ i: Int) -> Int64 { t0MS + Int64(i) * pollMS }

    public static func hash(_ seed: UInt64, _ i: Int, _ k: Int) -> UInt64 {
        var z = seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(k) &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Signal `k`'s quality at sample `i`: active power (k = 1) is always ok, so energy never
    /// depends on where a resumed run restarts; the others fail now and then (1 in ~18).
    public static func quality(_ seed: UInt64, _ i: Int, _ k: Int) -> PointQuality {
        guard k != 1 else { return .ok }
        switch (hash(seed, i, k) >> 32) % 53 {
        case 0: return .timeout
        case 1: return .exception(2)
        case 2: return .communicationFailure
        default: return .ok
        }
    }

    /// Signal `k`'s value at sample `i` (NaN when its quality is not ok).
    public static func value(_ seed: UInt64, _ i: Int, _ k: Int) -> Double {
        guard quality(seed, i, k) == .ok else { return .nan }
        let h = hash(seed, i, k)
        switch k {
        case 0: return 20 + Double(h % 6001) / 100
        case 1: return Double(Int64(h % 400_001) - 200_000) / 100
        case 2: return 700 + Double(h % 10_000) / 100
        default: return Double(h % 4096) / 16
        }
    }

    public static func sample(_ seed: UInt64, _ i: Int) -> (values: [Double], qualities: [PointQuality]) {
        let n = schema.signals.count
        return ((0..<n).map { value(seed, i, $0) }, (0..<n).map { quality(seed, i, $0) })
    }

    /// The first sample a run resuming at sample `next` feeds again to a fresh consolidator: the
    /// start of the coarsest slot holding the instant before sample `next - 1`. Replaying from
    /// there to `next - 1` emits again every slot the killed run may have been writing (those
    /// sample `next - 1` closed), each equal to the uninterrupted stream's: holds never cross
    /// a slot start (samples are 1 s apart) and power is always valid.
    public static func replayStart(before next: Int) -> Int {
        guard next > 0 else { return 0 }
        let coarsest = tiers.map(\.slotMS).max()!
        let start = (timestampMS(next - 1) - 1) / coarsest * coarsest
        return max(0, Int((start - t0MS + pollMS - 1) / pollMS))
    }

    /// FNV-1a over the configuration and the first 64 samples.
    public static func fingerprint(seed: UInt64) -> UInt64 {
        var text = "\(siteID);\(groupID);\(t0MS);\(pollMS);\(heartbeatMS);"
        for tier in tiers { text += "\(tier.name):\(tier.slotMS):\(tier.retentionMS);" }
        for signal in schema.signals { text += "\(signal.name):\(signal.role.rawValue):\(signal.tiers.sorted());" }
        for i in 0..<64 {
            let s = sample(seed, i)
            text += "\(s.values.map { $0.bitPattern });\(s.qualities.map(\.code));"
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}
