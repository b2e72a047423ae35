import ESSCore
import ESSTestSupport
import Testing

/// One row of a decoding table: wire words as a device sends them → the value they mean.
struct WireCase: Sendable, CustomTestStringConvertible {
    var type: ValueType
    var order: WordOrder
    var words: [UInt16]
    var expected: Double

    init(_ type: ValueType, _ order: WordOrder, _ words: [UInt16], _ expected: Double) {
        self.type = type
        self.order = order
        self.words = words
        self.expected = expected
    }

    var testDescription: String {
        "\(type.name) \(order.rawValue) [\(words.map { "0x" + String($0, radix: 16, uppercase: true) }.joined(separator: ","))] → \(expected)"
    }
}

/// 0x0123456789ABCDEF = 81985529216486895, which a Double rounds to 81985529216486896.
let big64 = Double(0x0123_4567_89AB_CDEF as Int64)

/// Hand-written wire words for known values, every numeric type in every word order.
/// 0x12345678: ABCD [0x1234,0x5678], CDAB [0x5678,0x1234], BADC [0x3412,0x7856], DCBA [0x7856,0x3412].
/// 64-bit values follow the same letters over eight bytes, words reversed for CDAB/DCBA.
let handWrittenWireCases: [WireCase] = [
    // int16: 0x1234 = 4660, 0xFFFE = -2, 0x8001 = -32767, 0x7FFF = 32767
    .init(.int16, .abcd, [0x1234], 4660), .init(.int16, .cdab, [0x1234], 4660),
    .init(.int16, .badc, [0x3412], 4660), .init(.int16, .dcba, [0x3412], 4660),
    .init(.int16, .abcd, [0xFFFE], -2), .init(.int16, .cdab, [0xFFFE], -2),
    .init(.int16, .badc, [0xFEFF], -2), .init(.int16, .dcba, [0xFEFF], -2),
    .init(.int16, .abcd, [0x8001], -32767), .init(.int16, .badc, [0x0180], -32767),
    .init(.int16, .abcd, [0x7FFF], 32767), .init(.int16, .dcba, [0xFF7F], 32767),
    // uint16
    .init(.uint16, .abcd, [0x1234], 4660), .init(.uint16, .cdab, [0x1234], 4660),
    .init(.uint16, .badc, [0x3412], 4660), .init(.uint16, .dcba, [0x3412], 4660),
    .init(.uint16, .abcd, [0xFFFE], 65534), .init(.uint16, .badc, [0xFEFF], 65534),
    .init(.uint16, .abcd, [0x0000], 0), .init(.uint16, .dcba, [0x0100], 1),
    // int32: 0x12345678 = 305419896; -123456789 = 0xF8A432EB; -2 = 0xFFFFFFFE
    .init(.int32, .abcd, [0x1234, 0x5678], 305_419_896), .init(.int32, .cdab, [0x5678, 0x1234], 305_419_896),
    .init(.int32, .badc, [0x3412, 0x7856], 305_419_896), .init(.int32, .dcba, [0x7856, 0x3412], 305_419_896),
    .init(.int32, .abcd, [0xF8A4, 0x32EB], -123_456_789), .init(.int32, .cdab, [0x32EB, 0xF8A4], -123_456_789),
    .init(.int32, .badc, [0xA4F8, 0xEB32], -123_456_789), .init(.int32, .dcba, [0xEB32, 0xA4F8], -123_456_789),
    .init(.int32, .abcd, [0xFFFF, 0xFFFE], -2), .init(.int32, .cdab, [0xFFFE, 0xFFFF], -2),
    .init(.int32, .badc, [0xFFFF, 0xFEFF], -2), .init(.int32, .dcba, [0xFEFF, 0xFFFF], -2),
    // uint32: the same bytes read unsigned; 0xF8A432EB = 4171510507
    .init(.uint32, .abcd, [0x1234, 0x5678], 305_419_896), .init(.uint32, .cdab, [0x5678, 0x1234], 305_419_896),
    .init(.uint32, .badc, [0x3412, 0x7856], 305_419_896), .init(.uint32, .dcba, [0x7856, 0x3412], 305_419_896),
    .init(.uint32, .abcd, [0xF8A4, 0x32EB], 4_171_510_507), .init(.uint32, .cdab, [0x32EB, 0xF8A4], 4_171_510_507),
    .init(.uint32, .badc, [0xA4F8, 0xEB32], 4_171_510_507), .init(.uint32, .dcba, [0xEB32, 0xA4F8], 4_171_510_507),
    // int64: 0x0123456789ABCDEF = 81985529216486895; -1234567890123 = 0xFFFFFEE08E04FB35
    .init(.int64, .abcd, [0x0123, 0x4567, 0x89AB, 0xCDEF], big64),
    .init(.int64, .cdab, [0xCDEF, 0x89AB, 0x4567, 0x0123], big64),
    .init(.int64, .badc, [0x2301, 0x6745, 0xAB89, 0xEFCD], big64),
    .init(.int64, .dcba, [0xEFCD, 0xAB89, 0x6745, 0x2301], big64),
    .init(.int64, .abcd, [0xFFFF, 0xFEE0, 0x8E04, 0xFB35], -1_234_567_890_123),
    .init(.int64, .cdab, [0xFB35, 0x8E04, 0xFEE0, 0xFFFF], -1_234_567_890_123),
    .init(.int64, .badc, [0xFFFF, 0xE0FE, 0x048E, 0x35FB], -1_234_567_890_123),
    .init(.int64, .dcba, [0x35FB, 0x048E, 0xE0FE, 0xFFFF], -1_234_567_890_123),
    // uint64: 0xFEDCBA9876543210 = 18364758544493064720 (rounded to the nearest Double)
    .init(.uint64, .abcd, [0x0123, 0x4567, 0x89AB, 0xCDEF], big64),
    .init(.uint64, .cdab, [0xCDEF, 0x89AB, 0x4567, 0x0123], big64),
    .init(.uint64, .badc, [0x2301, 0x6745, 0xAB89, 0xEFCD], big64),
    .init(.uint64, .dcba, [0xEFCD, 0xAB89, 0x6745, 0x2301], big64),
    .init(.uint64, .abcd, [0xFEDC, 0xBA98, 0x7654, 0x3210], Double(0xFEDC_BA98_7654_3210 as UInt64)),
    .init(.uint64, .cdab, [0x3210, 0x7654, 0xBA98, 0xFEDC], Double(0xFEDC_BA98_7654_3210 as UInt64)),
    .init(.uint64, .badc, [0xDCFE, 0x98BA, 0x5476, 0x1032], Double(0xFEDC_BA98_7654_3210 as UInt64)),
    .init(.uint64, .dcba, [0x1032, 0x5476, 0x98BA, 0xDCFE], Double(0xFEDC_BA98_7654_3210 as UInt64)),
    // float32: 123.456f = 0x42F6E979; -1.5f = 0xBFC00000
    .init(.float32, .abcd, [0x42F6, 0xE979], Double(Float(123.456))),
    .init(.float32, .cdab, [0xE979, 0x42F6], Double(Float(123.456))),
    .init(.float32, .badc, [0xF642, 0x79E9], Double(Float(123.456))),
    .init(.float32, .dcba, [0x79E9, 0xF642], Double(Float(123.456))),
    .init(.float32, .abcd, [0xBFC0, 0x0000], -1.5), .init(.float32, .cdab, [0x0000, 0xBFC0], -1.5),
    .init(.float32, .badc, [0xC0BF, 0x0000], -1.5), .init(.float32, .dcba, [0x0000, 0xC0BF], -1.5),
    // float64: 123.456 = 0x405EDD2F1A9FBE77; -0.1 = 0xBFB999999999999A
    .init(.float64, .abcd, [0x405E, 0xDD2F, 0x1A9F, 0xBE77], 123.456),
    .init(.float64, .cdab, [0xBE77, 0x1A9F, 0xDD2F, 0x405E], 123.456),
    .init(.float64, .badc, [0x5E40, 0x2FDD, 0x9F1A, 0x77BE], 123.456),
    .init(.float64, .dcba, [0x77BE, 0x9F1A, 0x2FDD, 0x5E40], 123.456),
    .init(.float64, .abcd, [0xBFB9, 0x9999, 0x9999, 0x999A], -0.1),
    .init(.float64, .cdab, [0x999A, 0x9999, 0x9999, 0xBFB9], -0.1),
    .init(.float64, .badc, [0xB9BF, 0x9999, 0x9999, 0x9A99], -0.1),
    .init(.float64, .dcba, [0x9A99, 0x9999, 0x9999, 0xB9BF], -0.1),
]

/// The order in which the big-endian bytes A, B, C, … of a value appear on the wire.
func wireLetters(byteCount: Int, order: WordOrder) -> String {
    switch (byteCount, order) {
    case (2, .abcd), (2, .cdab): "AB"
    case (2, .badc), (2, .dcba): "BA"
    case (4, _): order.rawValue
    case (8, .abcd): "ABCDEFGH"
    case (8, .cdab): "GHEFCDAB"
    case (8, .badc): "BADCFEHG"
    case (8, .dcba): "HGFEDCBA"
    default: fatalError("no byte layout for \(byteCount) bytes")
    }
}

/// Wire words for a value's big-endian bytes, built by permuting letters (not by the code under test).
func wireWords(bigEndian bytes: [UInt8], order: WordOrder) -> [UInt16] {
    let letters = Array(wireLetters(byteCount: bytes.count, order: order).unicodeScalars)
    let wire = letters.map { bytes[Int($0.value - UnicodeScalar("A").value)] }
    return stride(from: 0, to: wire.count, by: 2).map { UInt16(wire[$0]) << 8 | UInt16(wire[$0 + 1]) }
}

func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// Values of every numeric type, with their big-endian bytes from the standard library.
func generatedWireCases() -> [WireCase] {
    var rng = SplitMix64(seed: 0xDEC0DE)
    var rows: [(ValueType, [UInt8], Double)] = []
    for v in [Int16.min, -1, 0, 1, Int16.max] + (0..<8).map({ _ in Int16.random(in: .min ... .max, using: &rng) }) {
        rows.append((.int16, bigEndianBytes(v), Double(v)))
    }
    for v in [UInt16.min, 1, 0x8000, UInt16.max] + (0..<8).map({ _ in UInt16.random(in: .min ... .max, using: &rng) }) {
        rows.append((.uint16, bigEndianBytes(v), Double(v)))
    }
    for v in [Int32.min, -1, 0, 1, Int32.max] + (0..<8).map({ _ in Int32.random(in: .min ... .max, using: &rng) }) {
        rows.append((.int32, bigEndianBytes(v), Double(v)))
    }
    for v in [UInt32.min, 1, 0x8000_0000, UInt32.max] + (0..<8).map({ _ in UInt32.random(in: .min ... .max, using: &rng) }) {
        rows.append((.uint32, bigEndianBytes(v), Double(v)))
    }
    for v in [Int64.min, -1, 0, 1, Int64.max] + (0..<8).map({ _ in Int64.random(in: .min ... .max, using: &rng) }) {
        rows.append((.int64, bigEndianBytes(v), Double(v)))
    }
    for v in [UInt64.min, 1, 1 << 63, UInt64.max] + (0..<8).map({ _ in UInt64.random(in: .min ... .max, using: &rng) }) {
        rows.append((.uint64, bigEndianBytes(v), Double(v)))
    }
    let floats: [Float] = [0, -0.0, 1, -1, .pi, 3.4e38, -.leastNormalMagnitude, .leastNonzeroMagnitude, .infinity, -.infinity]
        + (0..<8).map { _ in Float.random(in: -1e6...1e6, using: &rng) }
    for v in floats { rows.append((.float32, bigEndianBytes(v.bitPattern), Double(v))) }
    let doubles: [Double] = [0, -0.0, 1, -1, .pi, 1e300, -2.2250738585072014e-308, .infinity]
        + (0..<8).map { _ in Double.random(in: -1e12...1e12, using: &rng) }
    for v in doubles { rows.append((.float64, bigEndianBytes(v.bitPattern), v)) }

    return rows.flatMap { type, bytes, value in
        WordOrder.allCases.map { WireCase(type, $0, wireWords(bigEndian: bytes, order: $0), value) }
    }
}

@Suite("RegisterDecoder: numbers")
struct RegisterDecoderNumberTests {
    @Test("hand-written wire words decode to the known value", arguments: handWrittenWireCases)
    func handWritten(_ c: WireCase) {
        let point = PointDefinition(name: "p", address: 0, type: c.type, wordOrder: c.order)
        #expect(c.words.count == c.type.registerCount)
        let value = decode(point, c.words)
        #expect(value == c.expected)
        #expect(c.expected == 0 || value?.sign == c.expected.sign)
    }

    @Test("the table covers every numeric type in every word order")
    func tableIsComplete() {
        let types: [ValueType] = [.int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64]
        for type in types {
            for order in WordOrder.allCases {
                #expect(handWrittenWireCases.contains { $0.type == type && $0.order == order }, "\(type.name) \(order.rawValue)")
            }
        }
    }

    @Test("letter-permuted bytes of standard-library values decode to the value")
    func generated() {
        let cases = generatedWireCases()
        #expect(cases.count > 400)
        for c in cases {
            let point = PointDefinition(name: "p", address: 0, type: c.type, wordOrder: c.order)
            let value = decode(point, c.words)
            // −0.0 decodes as +0.0 (adding the offset 0 drops the sign); the two compare equal.
            #expect(value == c.expected && (c.expected == 0 || value?.sign == c.expected.sign), "\(c.testDescription): got \(String(describing: value))")
        }
    }

    @Test("the reference permutation agrees with the hand-written table")
    func referenceAgreesWithTable() {
        #expect(wireWords(bigEndian: [0x12, 0x34, 0x56, 0x78], order: .abcd) == [0x1234, 0x5678])
        #expect(wireWords(bigEndian: [0x12, 0x34, 0x56, 0x78], order: .cdab) == [0x5678, 0x1234])
        #expect(wireWords(bigEndian: [0x12, 0x34, 0x56, 0x78], order: .badc) == [0x3412, 0x7856])
        #expect(wireWords(bigEndian: [0x12, 0x34, 0x56, 0x78], order: .dcba) == [0x7856, 0x3412])
        #expect(wireWords(bigEndian: bigEndianBytes(0x0123_4567_89AB_CDEF as UInt64), order: .cdab) == [0xCDEF, 0x89AB, 0x4567, 0x0123])
    }

    @Test("rawBits puts the most significant register first after word order")
    func rawBitsOrder() {
        let orders: [(WordOrder, [UInt16])] = [
            (.abcd, [0x1234, 0x5678]), (.cdab, [0x5678, 0x1234]), (.badc, [0x3412, 0x7856]), (.dcba, [0x7856, 0x3412]),
        ]
        for (order, words) in orders {
            #expect(rawBits(PointDefinition(name: "p", address: 0, type: .uint32, wordOrder: order), words) == 0x1234_5678)
        }
    }

    @Test("the point's registers are read at the given offset in the buffer")
    func offsetIntoBuffer() {
        let point = PointDefinition(name: "p", address: 0, type: .int32, wordOrder: .cdab)
        let buffer: [UInt16] = [0xAAAA, 0xBBBB, 0x32EB, 0xF8A4, 0xCCCC]
        #expect(decode(point, buffer, offset: 2) == -123_456_789)
        let coil = PointDefinition(name: "c", kind: .coil, address: 0, type: .bool)
        #expect(decode(coil, [0, 0, 1, 0], offset: 2) == 1)
        #expect(decode(coil, [1, 1, 0, 1], offset: 2) == 0)
    }

    @Test("bit N of a register", arguments: 0..<16)
    func bits(_ n: Int) {
        let point = PointDefinition(name: "b", address: 0, type: .bit(n))
        let only: UInt16 = 1 << UInt16(n)
        #expect(decode(point, [only]) == 1)
        #expect(decode(point, [~only]) == 0)
        #expect(decode(point, [0]) == 0)
        #expect(decode(point, [0xFFFF]) == 1)
        for other in 0..<16 where other != n {
            #expect(decode(point, [1 << UInt16(other)]) == 0, "bit\(n) of bit \(other)")
        }
        // BADC/DCBA swap the register's bytes before bits are numbered.
        let swapped = PointDefinition(name: "b", address: 0, type: .bit(n), wordOrder: .badc)
        #expect(decode(swapped, [only.byteSwapped]) == 1)
        #expect(decode(swapped, [only]) == 0)
    }

    @Test("bool on a register is true when the register is non-zero")
    func boolOnRegister() {
        let point = PointDefinition(name: "b", address: 0, type: .bool)
        #expect(decode(point, [0]) == 0)
        #expect(decode(point, [1]) == 1)
        #expect(decode(point, [0x8000]) == 1)
        #expect(decode(point, [0xFFFF]) == 1)
        let scaled = PointDefinition(name: "b", address: 0, type: .bool, scale: 5, offset: 2)
        #expect(decode(scaled, [0x0100]) == 7)
        #expect(decode(scaled, [0]) == 2)
    }

    @Test("bool on coils and discrete inputs: one word per bit", arguments: [RegisterKind.coil, .discrete])
    func boolOnBitTable(_ kind: RegisterKind) {
        let point = PointDefinition(name: "b", kind: kind, address: 0, type: .bool)
        #expect(decode(point, [0]) == 0)
        #expect(decode(point, [1]) == 1)
        #expect(rawBits(point, [1]) == 1)
        #expect(rawBits(point, [0]) == 0)
    }

    @Test("scale and offset: value = raw × scale + offset")
    func scaleAndOffset() {
        let cases: [(PointDefinition, [UInt16], Double)] = [
            (PointDefinition(name: "t", address: 0, type: .uint16, scale: 0.1, offset: -40), [1234], 83.4),
            (PointDefinition(name: "p", address: 0, type: .int16, scale: 10, offset: 0.5), [0xFFFB], -49.5),
            (PointDefinition(name: "e", address: 0, type: .uint32, wordOrder: .cdab, scale: 0.01), [0xE240, 0x0001], 1234.56),
            (PointDefinition(name: "v", address: 0, type: .float32, scale: 2, offset: 1), [0xBFC0, 0x0000], -2),
            (PointDefinition(name: "z", address: 0, type: .int16, scale: 0.001, offset: 100), [0], 100),
        ]
        for (point, words, expected) in cases {
            #expect(isClose(decode(point, words), expected), "\(point.name): \(String(describing: decode(point, words))) ≠ \(expected)")
        }
    }

    @Test("scale-factor exponents −3…+3 multiply by a power of ten", arguments: -3...3)
    func scaleFactorExponent(_ exponent: Int) {
        let point = PointDefinition(name: "w", address: 0, type: .int16, scaleFactorPoint: "w_sf")
        let expected = [-3: 1.234, -2: 12.34, -1: 123.4, 0: 1234, 1: 12_340, 2: 123_400, 3: 1_234_000][exponent]!
        let sf = Int16(exponent)
        #expect(isClose(decode(point, [1234], scaleFactorExponent: sf), expected))
        #expect(isClose(decode(point, [UInt16(bitPattern: -1234)], scaleFactorExponent: sf), -expected))
        // The exponent register itself is an int16 on the wire.
        let sfWord = UInt16(bitPattern: sf)
        #expect([0x7777, sfWord].withUnsafeBufferPointer { RegisterDecoder.scaleFactorExponent(words: $0, offset: 1) } == sf)
        // Applied before scale and offset.
        let scaled = PointDefinition(name: "w", address: 0, type: .int16, scale: 0.5, offset: 10, scaleFactorPoint: "w_sf")
        #expect(isClose(decode(scaled, [1234], scaleFactorExponent: sf), expected * 0.5 + 10))
    }

    @Test("a scale factor of 0x8000 means not implemented")
    func scaleFactorNotImplemented() {
        let point = PointDefinition(name: "w", address: 0, type: .int16, scaleFactorPoint: "w_sf")
        let sf = [UInt16(0x8000)].withUnsafeBufferPointer { RegisterDecoder.scaleFactorExponent(words: $0, offset: 0) }
        #expect(sf == Int16.min)
        #expect(decode(point, [1234], scaleFactorExponent: sf) == nil)
        #expect(decode(point, [1234], scaleFactorExponent: Int16.min + 1) != nil)
        #expect(decode(point, [1234], scaleFactorExponent: nil) == 1234)
    }

    @Test("powerOfTen is exact for −10…10 and extends beyond")
    func powerOfTen() {
        let literals: [Double] = [1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]
        for (i, literal) in literals.enumerated() {
            #expect(RegisterDecoder.powerOfTen(i - 10) == literal)
        }
        #expect(isClose(RegisterDecoder.powerOfTen(15), 1e15))
        #expect(isClose(RegisterDecoder.powerOfTen(-15), 1e-15))
    }
}

@Suite("RegisterDecoder: not-implemented sentinels")
struct RegisterDecoderSentinelTests {
    @Test("int16 0x8000 in every order")
    func int16Sentinel() {
        for order in WordOrder.allCases {
            let point = PointDefinition(name: "p", address: 0, type: .int16, wordOrder: order, notImplemented: .rawBits(0x8000))
            let wire: UInt16 = order.swapsBytes ? 0x0080 : 0x8000
            #expect(decode(point, [wire]) == nil, "\(order.rawValue)")
            #expect(decode(point, [wire.byteSwapped]) == 128, "\(order.rawValue)")
            #expect(decode(point, [0x8001]) != nil)
        }
        // Without a sentinel the same bits are the most negative int16.
        #expect(decode(PointDefinition(name: "p", address: 0, type: .int16), [0x8000]) == -32768)
    }

    @Test("uint16 0xFFFF")
    func uint16Sentinel() {
        let point = PointDefinition(name: "p", address: 0, type: .uint16, notImplemented: .rawBits(0xFFFF))
        #expect(decode(point, [0xFFFF]) == nil)
        #expect(decode(point, [0xFFFE]) == 65534)
        #expect(decode(point, [0]) == 0)
    }

    @Test("uint32 0xFFFFFFFF in CDAB; int32 0x80000000 in CDAB is compared after word order")
    func thirtyTwoBitSentinels() {
        let u = PointDefinition(name: "u", address: 0, type: .uint32, wordOrder: .cdab, notImplemented: .rawBits(0xFFFF_FFFF))
        #expect(decode(u, [0xFFFF, 0xFFFF]) == nil)
        #expect(decode(u, [0xFFFE, 0xFFFF]) == 4_294_967_294)
        let i = PointDefinition(name: "i", address: 0, type: .int32, wordOrder: .cdab, notImplemented: .rawBits(0x8000_0000))
        #expect(decode(i, [0x0000, 0x8000]) == nil)
        #expect(decode(i, [0x8000, 0x0000]) == 32768)
    }

    @Test("NaN for float32 and float64", arguments: WordOrder.allCases)
    func nanSentinel(_ order: WordOrder) {
        let f32 = PointDefinition(name: "f", address: 0, type: .float32, wordOrder: order, notImplemented: .nan)
        let f64 = PointDefinition(name: "d", address: 0, type: .float64, wordOrder: order, notImplemented: .nan)
        let quiet32 = wireWords(bigEndian: bigEndianBytes(Float.nan.bitPattern), order: order)
        let signalling32 = wireWords(bigEndian: [0xFF, 0x80, 0x00, 0x01], order: order)
        let quiet64 = wireWords(bigEndian: bigEndianBytes(Double.nan.bitPattern), order: order)
        let signalling64 = wireWords(bigEndian: [0x7F, 0xF0, 0, 0, 0, 0, 0, 1], order: order)
        #expect(decode(f32, quiet32) == nil)
        #expect(decode(f32, signalling32) == nil)
        #expect(decode(f64, quiet64) == nil)
        #expect(decode(f64, signalling64) == nil)
        #expect(decode(f32, wireWords(bigEndian: bigEndianBytes(Float(1.5).bitPattern), order: order)) == 1.5)
        #expect(decode(f64, wireWords(bigEndian: bigEndianBytes(Double.infinity.bitPattern), order: order)) == .infinity)
        // Without a sentinel, NaN is a value.
        let plain = PointDefinition(name: "f", address: 0, type: .float32, wordOrder: order)
        #expect(decode(plain, quiet32)?.isNaN == true)
    }
}
