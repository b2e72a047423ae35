/// A point reduced to what decoding needs, with no reference-counted fields, so the poll
/// loop decodes without retain/release traffic (a `PointDefinition` carries strings).
public struct CompiledPoint: Sendable, Hashable {
    public let type: ValueType
    public let registerCount: Int
    public let isBitTable: Bool
    public let swapsWords: Bool
    public let swapsBytes: Bool
    public let scale: Double
    public let offset: Double
    public let hasSentinel: Bool
    public let sentinelIsNaN: Bool
    public let sentinelBits: UInt64

    public init(_ point: PointDefinition) {
        type = point.type
        registerCount = point.type.registerCount
        isBitTable = point.kind.isBitTable
        swapsWords = point.wordOrder.swapsWords
        swapsBytes = point.wordOrder.swapsBytes
        scale = point.scale
        offset = point.offset
        switch point.notImplemented {
        case .none:
            hasSentinel = false
            sentinelIsNaN = false
            sentinelBits = 0
        case .rawBits(let bits)?:
            hasSentinel = true
            sentinelIsNaN = false
            sentinelBits = bits
        case .nan?:
            hasSentinel = true
            sentinelIsNaN = true
            sentinelBits = 0
        }
    }

    /// The point's registers as one unsigned integer, word order applied.
    @inlinable
    public func rawBits(words: UnsafeBufferPointer<UInt16>, at index: Int) -> UInt64 {
        if isBitTable { return words[index] != 0 ? 1 : 0 }
        let count = min(registerCount, 4)
        var bits: UInt64 = 0
        if swapsWords {
            var i = count - 1
            while i >= 0 {
                let word = words[index + i]
                bits = bits << 16 | UInt64(swapsBytes ? word.byteSwapped : word)
                i -= 1
            }
        } else {
            for i in 0..<count {
                let word = words[index + i]
                bits = bits << 16 | UInt64(swapsBytes ? word.byteSwapped : word)
            }
        }
        return bits
    }

    /// value = raw × 10^exponent × scale + offset; nil when the device says "not implemented".
    @inlinable
    public func decode(words: UnsafeBufferPointer<UInt16>, at index: Int, scaleFactorExponent: Int16? = nil) -> Double? {
        let bits = rawBits(words: words, at: index)
        var raw = RegisterDecoder.numericValue(bits: bits, type: type)
        if hasSentinel {
            if sentinelIsNaN {
                if raw.isNaN { return nil }
            } else if bits == sentinelBits {
                return nil
            }
        }
        if let exponent = scaleFactorExponent {
            if exponent == Int16.min { return nil }
            raw *= RegisterDecoder.powerOfTen(Int(exponent))
        }
        return raw * scale + offset
    }
}
