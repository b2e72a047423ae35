import ESSCore
import ESSTestSupport
import Testing

/// A random point and a random raw value in its type's range, reproducible from `seed`.
struct RoundTripCase {
    var seed: UInt64
    var point: PointDefinition
    var exponent: Int16?
    /// The raw value as a Double (what the decoder multiplies).
    var raw: Double
    /// The register bits the raw value has, when they can be stated exactly.
    var exactBits: UInt64?
    /// The engineering value: raw × 10^sf × scale + offset.
    var value: Double
    /// The decoded value must be within this of `value`.
    var tolerance: Double

    init(seed: UInt64) {
        self.seed = seed
        var rng = SplitMix64(seed: seed)
        let types: [ValueType] = [.bool, .bit(0), .int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64]
        var type = types.randomElement(using: &rng)!
        if case .bit = type { type = .bit(Int.random(in: 0...15, using: &rng)) }
        let kind: RegisterKind = type == .bool && Bool.random(using: &rng) ? .coil : .holding
        let order = WordOrder.allCases.randomElement(using: &rng)!
        let scale = [1, 0.1, 0.01, 0.001, 10].randomElement(using: &rng)!
        let offset = Bool.random(using: &rng) ? 0 : Double(Int.random(in: -100_000...100_000, using: &rng)) / 100
        exponent = Bool.random(using: &rng) ? nil : Int16.random(in: -3...3, using: &rng)
        point = PointDefinition(name: "p", kind: kind, address: 0, type: type, wordOrder: order, scale: scale, offset: offset)

        // 64-bit integers: mostly within ±2^40, where Double arithmetic is exact enough to
        // demand the very same raw bits back; sometimes the full range, checked by tolerance.
        let wide = Int.random(in: 0..<4, using: &rng) == 0
        switch type {
        case .bool, .bit:
            let bit = UInt64.random(in: 0...1, using: &rng)
            raw = Double(bit)
            if case .bit(let n) = type { exactBits = bit << UInt64(n) } else { exactBits = bit }
        case .int16:
            let v = Int16.random(in: .min ... .max, using: &rng)
            raw = Double(v); exactBits = UInt64(UInt16(bitPattern: v))
        case .uint16:
            let v = UInt16.random(in: .min ... .max, using: &rng)
            raw = Double(v); exactBits = UInt64(v)
        case .int32:
            let v = Int32.random(in: .min ... .max, using: &rng)
            raw = Double(v); exactBits = UInt64(UInt32(bitPattern: v))
        case .uint32:
            let v = UInt32.random(in: .min ... .max, using: &rng)
            raw = Double(v); exactBits = UInt64(v)
        case .int64:
            let v = wide ? Int64.random(in: .min ... .max, using: &rng) : Int64.random(in: -(1 << 40)...(1 << 40), using: &rng)
            raw = Double(v); exactBits = wide ? nil : UInt64(bitPattern: v)
        case .uint64:
            let v = wide ? UInt64.random(in: .min ... .max, using: &rng) : UInt64.random(in: 0...(1 << 40), using: &rng)
            raw = Double(v); exactBits = wide ? nil : v
        case .float32:
            let v = Float.random(in: -1e7...1e7, using: &rng)
            raw = Double(v); exactBits = nil
        case .float64:
            let v = Double.random(in: -1e12...1e12, using: &rng)
            raw = v; exactBits = nil
        case .string:
            fatalError("strings are not numeric")
        }
        let resolution = scale * powersOfTen[Int(exponent ?? 0)]!
        value = raw * powersOfTen[Int(exponent ?? 0)]! * scale + offset
        // Half a step of the point's resolution; floats resolve to their own ulp; a Double
        // cannot hold more than its own few ulps of the value.
        switch type {
        case .float32: tolerance = Double(Float(raw).ulp) * resolution + 8 * value.ulp
        case .float64: tolerance = 8 * value.ulp + 8 * abs(raw).ulp * resolution
        default: tolerance = resolution / 2 + 8 * value.ulp
        }
    }

    var description: String {
        "seed \(seed): \(point.kind.rawValue) \(point.type.name) \(point.wordOrder.rawValue) scale \(point.scale) offset \(point.offset) sf \(String(describing: exponent)) raw \(raw) value \(value)"
    }
}

@Suite("RegisterEncoder: round trips")
struct RegisterEncoderRoundTripTests {
    @Test("decode(encode(v)) == v within half the resolution (5,000 seeded points)")
    func valueRoundTrip() {
        for seed in UInt64(10_000)..<15_000 {
            let c = RoundTripCase(seed: seed)
            let words = RegisterEncoder.words(c.point, value: c.value, scaleFactorExponent: c.exponent)
            #expect(words.count == c.point.registerCount, "\(c.description)")
            let decoded = decode(c.point, words, scaleFactorExponent: c.exponent)
            guard let decoded else {
                Issue.record("decoded nil: \(c.description)")
                continue
            }
            #expect(abs(decoded - c.value) <= c.tolerance, "\(c.description): decoded \(decoded), off by \(abs(decoded - c.value)) > \(c.tolerance)")
            if let bits = c.exactBits {
                let encoded = RegisterEncoder.rawBits(c.point, value: c.value, scaleFactorExponent: c.exponent)
                #expect(encoded == bits, "\(c.description): encoded bits \(encoded) ≠ \(bits)")
            }
        }
    }

    @Test("rawBits(words(rawBits)) is exact for every type, order and table (5,000 seeded points)")
    func rawBitsRoundTrip() {
        let types: [ValueType] = [.bool, .bit(3), .int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64]
        for seed in UInt64(20_000)..<25_000 {
            var rng = SplitMix64(seed: seed)
            let type = types.randomElement(using: &rng)!
            let kind = RegisterKind.allCases.randomElement(using: &rng)!
            let order = WordOrder.allCases.randomElement(using: &rng)!
            let point = PointDefinition(name: "p", kind: kind, address: 0, type: type, wordOrder: order)
            let width = point.registerCount * 16
            let bits: UInt64 = kind.isBitTable ? UInt64.random(in: 0...1, using: &rng)
                : width == 64 ? rng.next() : rng.next() & ((1 << UInt64(width)) - 1)
            let words = RegisterEncoder.words(point, rawBits: bits)
            #expect(words.count == point.registerCount, "seed \(seed)")
            #expect(rawBits(point, words) == bits, "seed \(seed): \(kind.rawValue) \(type.name) \(order.rawValue) bits \(bits)")
        }
    }

    @Test("the encoder writes the same wire words as the hand-written table", arguments: handWrittenWireCases)
    func encoderMatchesTable(_ c: WireCase) {
        let point = PointDefinition(name: "p", address: 0, type: c.type, wordOrder: c.order)
        let bits = rawBits(point, c.words)
        #expect(RegisterEncoder.words(point, rawBits: bits) == c.words)
        if !c.type.isFloat, abs(c.expected) < 9e15 {
            #expect(RegisterEncoder.words(point, value: c.expected) == c.words)
        }
    }

    @Test("out-of-range values clamp to the type's range; NaN encodes as zero for integers")
    func clamping() {
        let i16 = PointDefinition(name: "p", address: 0, type: .int16)
        #expect(RegisterEncoder.rawBits(i16, value: 1e9) == 0x7FFF)
        #expect(RegisterEncoder.rawBits(i16, value: -1e9) == 0x8000)
        #expect(RegisterEncoder.rawBits(i16, value: .infinity) == 0x7FFF)
        #expect(RegisterEncoder.rawBits(i16, value: .nan) == 0)
        let u16 = PointDefinition(name: "p", address: 0, type: .uint16)
        #expect(RegisterEncoder.rawBits(u16, value: -5) == 0)
        #expect(RegisterEncoder.rawBits(u16, value: 70_000) == 0xFFFF)
        let u32 = PointDefinition(name: "p", address: 0, type: .uint32)
        #expect(RegisterEncoder.rawBits(u32, value: 1e12) == 0xFFFF_FFFF)
        let i64 = PointDefinition(name: "p", address: 0, type: .int64)
        #expect(RegisterEncoder.rawBits(i64, value: 1e30) == UInt64(bitPattern: 9_223_372_036_854_774_784))
        #expect(RegisterEncoder.rawBits(i64, value: -1e30) == UInt64(bitPattern: Int64.min))
        let u64 = PointDefinition(name: "p", address: 0, type: .uint64)
        #expect(RegisterEncoder.rawBits(u64, value: 1e30) == 18_446_744_073_709_549_568)
        #expect(RegisterEncoder.rawBits(u64, value: -1) == 0)
        // Rounding to the nearest raw step.
        let tenths = PointDefinition(name: "p", address: 0, type: .int16, scale: 0.1)
        #expect(RegisterEncoder.rawBits(tenths, value: 12.34) == 123)
        #expect(RegisterEncoder.rawBits(tenths, value: -12.36) == UInt64(UInt16(bitPattern: -124)))
    }
}

extension ValueType {
    var isFloat: Bool { self == .float32 || self == .float64 }
}
