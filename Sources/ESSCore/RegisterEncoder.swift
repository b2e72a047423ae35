/// The inverse of `RegisterDecoder`: turns an engineering value into the registers a device
/// would hold. Used by the simulator and by tests; essd itself never writes to a device.
public enum RegisterEncoder {
    /// Raw register bits for `value` of `point` (value → (value − offset) / scale / 10^sf,
    /// rounded to the nearest integer for integer types and clamped to the type's range).
    public static func rawBits(_ point: PointDefinition, value: Double, scaleFactorExponent: Int16? = nil) -> UInt64 {
        var raw = (value - point.offset) / point.scale
        if let exponent = scaleFactorExponent { raw /= RegisterDecoder.powerOfTen(Int(exponent)) }
        func clamped(_ lo: Double, _ hi: Double) -> Double {
            guard raw.isFinite else { return raw.isNaN ? 0 : (raw > 0 ? hi : lo) }
            return min(max(raw.rounded(), lo), hi)
        }
        switch point.type {
        case .bool: return raw != 0 && !raw.isNaN ? 1 : 0
        case .bit(let n): return raw != 0 && !raw.isNaN ? 1 << UInt64(n) : 0
        case .int16: return UInt64(UInt16(bitPattern: Int16(clamped(-32768, 32767))))
        case .uint16: return UInt64(clamped(0, 65535))
        case .int32: return UInt64(UInt32(bitPattern: Int32(clamped(-2_147_483_648, 2_147_483_647))))
        case .uint32: return UInt64(clamped(0, 4_294_967_295))
        case .int64:
            return UInt64(bitPattern: Int64(clamped(-9.223_372_036_854_775_808e18, 9.223_372_036_854_774_784e18)))
        case .uint64: return UInt64(clamped(0, 18_446_744_073_709_549_568))
        case .float32: return UInt64(Float(raw).bitPattern)
        case .float64: return raw.bitPattern
        case .string: return 0
        }
    }

    /// The point's registers, on-the-wire order, for the given raw bits.
    public static func words(_ point: PointDefinition, rawBits bits: UInt64) -> [UInt16] {
        if point.kind.isBitTable { return [bits != 0 ? 1 : 0] }
        let count = point.type.registerCount
        var words = [UInt16](repeating: 0, count: count)
        for i in 0..<count {
            // i-th most significant register
            var word = UInt16(truncatingIfNeeded: bits >> UInt64(16 * (count - 1 - i)))
            if point.wordOrder.swapsBytes { word = word.byteSwapped }
            words[point.wordOrder.swapsWords ? count - 1 - i : i] = word
        }
        return words
    }

    /// The point's registers for an engineering value.
    public static func words(_ point: PointDefinition, value: Double, scaleFactorExponent: Int16? = nil) -> [UInt16] {
        words(point, rawBits: rawBits(point, value: value, scaleFactorExponent: scaleFactorExponent))
    }

    /// The registers of a string point: UTF-8, two bytes per register, NUL-padded, truncated.
    public static func words(_ point: PointDefinition, text: String) -> [UInt16] {
        let count = point.type.registerCount
        var bytes = Array(text.utf8.prefix(count * 2))
        bytes += [UInt8](repeating: 0, count: count * 2 - bytes.count)
        return (0..<count).map { i in
            let word = UInt16(bytes[2 * i]) << 8 | UInt16(bytes[2 * i + 1])
            return point.wordOrder.swapsBytes ? word.byteSwapped : word
        }
    }
}
