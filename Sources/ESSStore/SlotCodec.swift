public import ESSCore

/// Encoding of one signal's 16 bytes and one group's 24 energy bytes inside a consolidated row.
/// Pure functions over raw memory; knows nothing of files.
///
/// Signal (16 bytes): mean Float32; min, max, first, last as Float16 of (value − mean) / 256;
/// coverage UInt16 = coveredMS × 65535 / slotMS (rounded, at least 1 when coveredMS > 0);
/// count UInt16 saturating at 65535. Unknown: NaN mean and coverage 0.
enum SlotCodec {
    /// Deviations are stored divided by this, so Float16 spans ±16.7 million with 11 significant bits.
    static let deltaScale = 256.0

    static func encode(_ summary: SlotSummary, slotMS: Int64, to p: UnsafeMutableRawPointer) {
        if summary.isUnknown {
            encodeUnknown(to: p)
            return
        }
        let mean = Float(summary.mean)
        let base = Double(mean)
        p.storeBytes(of: mean.bitPattern.littleEndian, toByteOffset: 0, as: UInt32.self)
        for (index, value) in [summary.min, summary.max, summary.first, summary.last].enumerated() {
            let delta = Float16((value - base) / deltaScale)
            p.storeBytes(of: delta.bitPattern.littleEndian, toByteOffset: 4 + 2 * index, as: UInt16.self)
        }
        p.storeBytes(of: fraction(summary.coveredMS, of: slotMS).littleEndian, toByteOffset: 12, as: UInt16.self)
        p.storeBytes(of: UInt16(clamping: summary.count).littleEndian, toByteOffset: 14, as: UInt16.self)
    }

    static func encodeUnknown(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: Float.nan.bitPattern.littleEndian, toByteOffset: 0, as: UInt32.self)
        for index in 0..<4 {
            p.storeBytes(of: Float16.nan.bitPattern.littleEndian, toByteOffset: 4 + 2 * index, as: UInt16.self)
        }
        p.storeBytes(of: UInt32(0), toByteOffset: 12, as: UInt32.self)
    }

    static func decode(_ p: UnsafeRawPointer, slotMS: Int64) -> SlotSummary {
        let mean = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        let coverage = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        let count = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 14, as: UInt16.self))
        if mean.isNaN && coverage == 0 { return .unknown }
        let base = Double(mean)
        func value(_ index: Int) -> Double {
            let bits = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4 + 2 * index, as: UInt16.self))
            return base + Double(Float16(bitPattern: bits)) * deltaScale
        }
        return SlotSummary(
            count: Int(count), coveredMS: milliseconds(coverage, of: slotMS), min: value(0), max: value(1), mean: base,
            first: value(2), last: value(3))
    }

    /// Energy (24 bytes): counter charge, counter discharge, integrated charge, integrated
    /// discharge (Float32 kWh); integratedMS, unaccountedMS (UInt16 fractions of the slot);
    /// counterResets (UInt16, saturating); 2 bytes reserved.
    static func encode(_ energy: EnergySummary, slotMS: Int64, to p: UnsafeMutableRawPointer) {
        let values = [
            energy.counterChargeKWh, energy.counterDischargeKWh, energy.integratedChargeKWh,
            energy.integratedDischargeKWh,
        ]
        for (index, value) in values.enumerated() {
            p.storeBytes(of: Float(value).bitPattern.littleEndian, toByteOffset: 4 * index, as: UInt32.self)
        }
        p.storeBytes(of: fraction(energy.integratedMS, of: slotMS).littleEndian, toByteOffset: 16, as: UInt16.self)
        p.storeBytes(of: fraction(energy.unaccountedMS, of: slotMS).littleEndian, toByteOffset: 18, as: UInt16.self)
        p.storeBytes(of: UInt16(clamping: energy.counterResets).littleEndian, toByteOffset: 20, as: UInt16.self)
        p.storeBytes(of: UInt16(0), toByteOffset: 22, as: UInt16.self)
    }

    static func encodeUnknownEnergy(to p: UnsafeMutableRawPointer) {
        encode(EnergySummary(), slotMS: 1, to: p)
    }

    static func decodeEnergy(_ p: UnsafeRawPointer, slotMS: Int64) -> EnergySummary {
        func float(_ index: Int) -> Double {
            Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))))
        }
        func u16(_ offset: Int) -> UInt16 {
            UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        }
        return EnergySummary(
            counterChargeKWh: float(0), counterDischargeKWh: float(1), counterResets: Int(u16(20)),
            integratedChargeKWh: float(2), integratedDischargeKWh: float(3),
            integratedMS: milliseconds(u16(16), of: slotMS), unaccountedMS: milliseconds(u16(18), of: slotMS))
    }

    /// `ms` as a rounded fraction of the slot in 1/65535ths; never 0 for a positive duration.
    static func fraction(_ ms: Int64, of slotMS: Int64) -> UInt16 {
        guard ms > 0, slotMS > 0 else { return 0 }
        let scaled = (Double(ms) * 65535 / Double(slotMS)).rounded()
        return Swift.max(1, UInt16(clamping: Int(Swift.min(scaled, 65535))))
    }

    static func milliseconds(_ fraction: UInt16, of slotMS: Int64) -> Int64 {
        Int64((Double(fraction) * Double(slotMS) / 65535).rounded())
    }
}

/// The raw tier's quality byte: `PointQuality.code` from `ESSCore`, plus one store-only code.
public enum RawQualityCode {
    /// A signal the row does not hold (added to the schema after the row was written). Taken
    /// from the range `ESSCore` reserves (5...15), from its top; reads back as nil.
    public static let notStored: UInt8 = 15

    public static func code(_ quality: PointQuality) -> UInt8 { quality.code }

    /// nil for `notStored` and other reserved codes.
    public static func quality(_ code: UInt8) -> PointQuality? { PointQuality(code: code) }
}
