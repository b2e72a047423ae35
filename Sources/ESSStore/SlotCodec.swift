public import ESSCore

/// Encoding of one signal's 14 bytes and one group's 24 energy bytes inside a consolidated row
/// (since format version 2). Pure functions over raw memory; knows nothing of files.
///
/// Signal (14 bytes): mean Float32; min and max as Float16 of (value − mean) / 256; then a
/// UInt32 holding first and last as 10-bit fractions of the decoded [min, max] (bits 0–9 and
/// 10–19) and coverage as a 12-bit fraction of the slot (bits 20–31, rounded, at least 1 when
/// coveredMS > 0); count in the low 15 bits of a UInt16, saturating at 32767. The count's top
/// bit marks an *exact* slot (since format 4): a slot whose min, max, first and last are
/// integers (a boolean, a fault or alarm bit, a state) keeps them exactly, as UInt16 distances
/// of min and max below and above the rounded mean and first and last as distances above min
/// (or as min/max ends when the slot spans more than 1023), so a 0/1 signal reads back 0 and 1
/// and its time at 1 is mean × coverage. Unknown: NaN mean and coverage 0. A part
/// of a row nobody has written yet (another group's, or a later slot of the same row) holds the
/// "not written" marks: mean bits `notWrittenMeanBits`, energy's reserved UInt16 `0xFFFF`.
enum SlotCodec {
    /// A quiet NaN with payload 1: never the mean of a written slot (whose NaN is stored as the
    /// canonical `Float.nan`, bits 0x7FC00000).
    static let notWrittenMeanBits: UInt32 = 0x7FC0_0001
    static let notWrittenEnergyMark: UInt16 = 0xFFFF

    /// Deviations are stored divided by this, so Float16 spans ±16.7 million with 11 significant bits.
    static let deltaScale = 256.0
    /// First and last: steps across [min, max].
    static let positionSteps = 1023.0
    /// Coverage: steps across the slot.
    static let coverageSteps: Int64 = 4095
    /// Counts saturate here: the stored value means "at least this many".
    static let countLimit = 32767
    /// The count field's top bit: the slot is stored exactly (see the type's comment).
    static let exactFlag: UInt16 = 0x8000
    /// First and last are stored as distances above min when the slot spans at most this.
    static let exactPositionSpan = 1023.0
    /// Exact slots hold integers within ±2²⁴, where Float32 and Double agree on every integer.
    static let exactMagnitude = 16_777_216.0

    static func encode(_ summary: SlotSummary, slotMS: Int64, to p: UnsafeMutableRawPointer) {
        if summary.isUnknown {
            encodeUnknown(to: p)
            return
        }
        let converted = Float(summary.mean)
        let mean = converted.isNaN ? Float.nan : converted
        if encodeExact(summary, mean: mean, slotMS: slotMS, to: p) { return }
        let base = Double(mean)
        let minBits = Float16((summary.min - base) / deltaScale).bitPattern
        let maxBits = Float16((summary.max - base) / deltaScale).bitPattern
        p.storeBytes(of: mean.bitPattern.littleEndian, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: minBits.littleEndian, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: maxBits.littleEndian, toByteOffset: 6, as: UInt16.self)
        let low = delta(minBits, base)
        let high = delta(maxBits, base)
        let packed =
            position(summary.first, summary, low, high) | position(summary.last, summary, low, high) << 10
            | UInt32(coverage(summary.coveredMS, of: slotMS)) << 20
        p.storeBytes(of: packed.littleEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: storedCount(summary.count).littleEndian, toByteOffset: 12, as: UInt16.self)
    }

    /// The count as stored: 0...`countLimit`, without the exact flag.
    @inline(__always)
    static func storedCount(_ count: Int) -> UInt16 { UInt16(Swift.max(0, Swift.min(count, countLimit))) }

    /// Stores `summary` exactly when its min, max, first and last are integers the exact form
    /// holds; false (nothing written) otherwise.
    static func encodeExact(_ summary: SlotSummary, mean: Float, slotMS: Int64, to p: UnsafeMutableRawPointer) -> Bool {
        func integral(_ v: Double) -> Bool { v.rounded() == v && abs(v) <= exactMagnitude }
        guard !mean.isNaN, integral(summary.min), integral(summary.max), integral(summary.first),
            integral(summary.last), summary.min <= summary.max
        else { return false }
        let base = Double(mean).rounded()
        let below = base - summary.min
        let above = summary.max - base
        guard below >= 0, below <= 65535, above >= 0, above <= 65535 else { return false }
        let span = summary.max - summary.min
        func position(_ v: Double) -> UInt32? {
            guard v >= summary.min, v <= summary.max else { return nil }
            if span <= exactPositionSpan { return UInt32(v - summary.min) }
            if v == summary.min { return 0 }
            if v == summary.max { return UInt32(exactPositionSpan) }
            return nil
        }
        guard let first = position(summary.first), let last = position(summary.last) else { return false }
        p.storeBytes(of: mean.bitPattern.littleEndian, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: UInt16(below).littleEndian, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: UInt16(above).littleEndian, toByteOffset: 6, as: UInt16.self)
        let packed = first | last << 10 | UInt32(coverage(summary.coveredMS, of: slotMS)) << 20
        p.storeBytes(of: packed.littleEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: (storedCount(summary.count) | exactFlag).littleEndian, toByteOffset: 12, as: UInt16.self)
        return true
    }

    static func encodeUnknown(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: Float.nan.bitPattern.littleEndian, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: Float16.nan.bitPattern.littleEndian, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: Float16.nan.bitPattern.littleEndian, toByteOffset: 6, as: UInt16.self)
        p.storeBytes(of: UInt32(0), toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: UInt16(0), toByteOffset: 12, as: UInt16.self)
    }

    /// A signal field of a slot not written yet (reads back as unknown through `decode`).
    static func encodeNotWritten(to p: UnsafeMutableRawPointer) {
        encodeUnknown(to: p)
        p.storeBytes(of: notWrittenMeanBits.littleEndian, toByteOffset: 0, as: UInt32.self)
    }

    @inline(__always)
    static func isNotWritten(_ p: UnsafeRawPointer) -> Bool {
        UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) == notWrittenMeanBits
    }

    static func decode(_ p: UnsafeRawPointer, slotMS: Int64) -> SlotSummary {
        let mean = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        let packed = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let coverage = Int64(packed >> 20)
        if mean.isNaN && coverage == 0 { return .unknown }
        let base = Double(mean)
        let lowBits = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        let highBits = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
        let countBits = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        let coveredMS = (coverage * slotMS + coverageSteps / 2) / coverageSteps
        let count = Int(countBits & ~exactFlag)
        if countBits & exactFlag != 0 {
            let rounded = base.rounded()
            let low = rounded - Double(lowBits)
            let high = rounded + Double(highBits)
            func exactValue(_ position: UInt32) -> Double {
                if high - low <= exactPositionSpan { return Swift.min(high, low + Double(position)) }
                return position == 0 ? low : high
            }
            return SlotSummary(
                count: count, coveredMS: coveredMS, min: low, max: high, mean: base,
                first: exactValue(packed & 0x3FF), last: exactValue(packed >> 10 & 0x3FF))
        }
        let low = delta(lowBits, base)
        let high = delta(highBits, base)
        return SlotSummary(
            count: count, coveredMS: coveredMS, min: low, max: high,
            mean: base, first: value(packed & 0x3FF, low, high), last: value(packed >> 10 & 0x3FF, low, high))
    }

    /// The value a stored Float16 deviation stands for.
    @inline(__always)
    static func delta(_ bits: UInt16, _ base: Double) -> Double {
        base + Double(Float16(bitPattern: bits)) * deltaScale
    }

    /// `v`'s place in the decoded [low, high] in 1/1023ths, rounded: 0 and 1023 exactly when `v`
    /// is the slot's min or max (so they decode to the decoded min and max); when the decoded
    /// range is empty or not finite, whichever end is nearer.
    static func position(_ v: Double, _ summary: SlotSummary, _ low: Double, _ high: Double) -> UInt32 {
        if v <= summary.min { return 0 }
        if v >= summary.max { return 1023 }
        let range = high - low
        guard range > 0, range.isFinite, v.isFinite else {
            return high.isFinite && (!low.isFinite || abs(v - high) < abs(v - low)) ? 1023 : 0
        }
        return UInt32(Swift.min(Swift.max(((v - low) / range * positionSteps).rounded(), 0), positionSteps))
    }

    /// The value at `position` in [low, high]: exactly `low` at 0 and `high` at 1023.
    static func value(_ position: UInt32, _ low: Double, _ high: Double) -> Double {
        if position == 0 { return low }
        if position == 1023 { return high }
        return Swift.min(high, low + (high - low) * (Double(position) / positionSteps))
    }

    /// `ms` as a rounded fraction of the slot in 1/4095ths; never 0 for a positive duration.
    static func coverage(_ ms: Int64, of slotMS: Int64) -> UInt16 {
        guard ms > 0, slotMS > 0 else { return 0 }
        let scaled = (Double(ms) * Double(coverageSteps) / Double(slotMS)).rounded()
        return Swift.max(1, UInt16(Swift.min(scaled, Double(coverageSteps))))
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

    /// The energy field of a slot not written yet (reads back as no energy through `decodeEnergy`).
    static func encodeNotWrittenEnergy(to p: UnsafeMutableRawPointer) {
        encodeUnknownEnergy(to: p)
        p.storeBytes(of: notWrittenEnergyMark.littleEndian, toByteOffset: 22, as: UInt16.self)
    }

    @inline(__always)
    static func isNotWrittenEnergy(_ p: UnsafeRawPointer) -> Bool {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 22, as: UInt16.self)) == notWrittenEnergyMark
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
    /// from the range `ESSCore` reserves (6...15), from its top; reads back as nil.
    public static let notStored: UInt8 = 15

    public static func code(_ quality: PointQuality) -> UInt8 { quality.code }

    /// nil for `notStored` and other reserved codes.
    public static func quality(_ code: UInt8) -> PointQuality? { PointQuality(code: code) }
}
