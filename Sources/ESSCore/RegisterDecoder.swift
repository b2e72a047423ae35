/// Turns the registers of one point into a value. Pure functions over 16-bit words; bit
/// tables (coils, discrete inputs) are passed as one word per bit (0 or 1).
///
/// value = raw × 10^scaleFactor × scale + offset, where raw is the register content read
/// as the point's type in its word order.
public enum RegisterDecoder {
    /// The point's registers as one unsigned integer: word order applied, most significant
    /// register first. Strings are not meaningful here. `words[offset]` is the point's first register.
    @inlinable
    public static func rawBits(_ point: PointDefinition, words: UnsafeBufferPointer<UInt16>, offset: Int) -> UInt64 {
        CompiledPoint(point).rawBits(words: words, at: offset)
    }

    /// The unscaled numeric value of `bits` read as `type`.
    @inlinable
    public static func numericValue(bits: UInt64, type: ValueType) -> Double {
        switch type {
        case .bool: return bits != 0 ? 1 : 0
        case .bit(let n): return (bits >> UInt64(n)) & 1 == 1 ? 1 : 0
        case .int16: return Double(Int16(truncatingIfNeeded: bits))
        case .uint16: return Double(UInt16(truncatingIfNeeded: bits))
        case .int32: return Double(Int32(truncatingIfNeeded: bits))
        case .uint32: return Double(UInt32(truncatingIfNeeded: bits))
        case .int64: return Double(Int64(bitPattern: bits))
        case .uint64: return Double(bits)
        case .float32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case .float64: return Double(bitPattern: bits)
        case .string: return .nan
        }
    }

    /// Decodes a numeric point. Returns nil when the device says "not implemented" (the
    /// point's sentinel, or a scale factor of 0x8000).
    ///
    /// - Parameter scaleFactorExponent: the int16 exponent read from the point's scale-factor
    ///   register, when it has one.
    @inlinable
    public static func decodeNumber(
        _ point: PointDefinition, words: UnsafeBufferPointer<UInt16>, offset: Int,
        scaleFactorExponent: Int16? = nil
    ) -> Double? {
        CompiledPoint(point).decode(words: words, at: offset, scaleFactorExponent: scaleFactorExponent)
    }

    /// Decodes the scale-factor register at `words[offset]` (int16, SunSpec `sunssf`).
    @inlinable
    public static func scaleFactorExponent(words: UnsafeBufferPointer<UInt16>, offset: Int) -> Int16 {
        Int16(bitPattern: words[offset])
    }

    /// Decodes a string point: two bytes per register, high byte first (swapped for BADC/DCBA),
    /// trailing NULs and spaces removed; invalid UTF-8 is repaired.
    public static func decodeText(_ point: PointDefinition, words: UnsafeBufferPointer<UInt16>, offset: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(point.type.registerCount * 2)
        for i in 0..<point.type.registerCount {
            let word = point.wordOrder.swapsBytes ? words[offset + i].byteSwapped : words[offset + i]
            bytes.append(UInt8(word >> 8))
            bytes.append(UInt8(word & 0xFF))
        }
        if let end = bytes.firstIndex(of: 0) { bytes.removeSubrange(end...) }
        while let last = bytes.last, last == 0x20 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// 10^exponent, exact for the exponents SunSpec devices use (-10...10).
    @inlinable
    public static func powerOfTen(_ exponent: Int) -> Double {
        switch exponent {
        case -10: 1e-10
        case -9: 1e-9
        case -8: 1e-8
        case -7: 1e-7
        case -6: 1e-6
        case -5: 1e-5
        case -4: 1e-4
        case -3: 1e-3
        case -2: 1e-2
        case -1: 1e-1
        case 0: 1
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        default:
            exponent > 308
                ? .infinity
                : exponent < -324
                    ? 0
                    : exponent > 0
                        ? (0..<exponent).reduce(1.0) { r, _ in r * 10 }
                        : (0..<(-exponent)).reduce(1.0) { r, _ in r / 10 }
        }
    }
}
