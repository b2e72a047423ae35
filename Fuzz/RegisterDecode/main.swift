// libFuzzer target: register decoding (RegisterDecoder, CompiledPoint, RegisterEncoder) and the
// scan assembly around it (ReadPlanner, DeviceScanner) over point definitions and register
// contents derived from the input.
//
// Input: byte 0 the point count (1...24); bytes 1-5 the device's limits (max registers, max bits,
// max hole, split budget, busy retries); byte 6 how many refused ranges (0...3), bytes 7-15 those
// ranges; byte 16 "busy every k-th request" (0: never); then 8 bytes per point (kind, type, word
// order, address, scale and offset, sentinel, scale factor); the rest fills the register image
// the fake device answers from.
//
// Checked against this file's own arithmetic: the raw bits of every point, its value (scale,
// offset, scale factor, sentinel), its text, the encoder's round trip; and, after each of three
// polls of a fake device, every point marked ok has exactly the value of its registers, no
// point that touches a refused register is ok, no request breaks the device's limits, and with
// nothing refused and nothing busy every point is read.
@testable import ESSCore
import Glibc

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard input.count >= 17 + 8 else { return 0 }
    let pointCount = 1 + Int(input[0]) % 24
    let limits = ReadPlanLimits(
        maxRegisters: 1 + Int(input[1]) % 125, maxBits: 1 + (Int(input[2]) * 8) % 2000, maxHole: Int(input[3]) % 126)
    let splitBudget = Int(input[4]) % 40
    let busyRetries = Int(input[5]) % 4
    let busyEvery = Int(input[16]) % 5
    var cursor = 17
    var definitions: [PointDefinition] = []
    for i in 0..<pointCount {
        guard cursor + 8 <= input.count else { break }
        definitions.append(point(i, Array(input[cursor..<(cursor + 8)]), count: pointCount))
        cursor += 8
    }
    let image = RegisterImage(seed: Array(input[cursor...]))
    var refused: [(kind: RegisterKind, registers: Range<Int>)] = []
    for r in 0..<(Int(input[6]) % 4) where !definitions.isEmpty {
        let b = input[(7 + 3 * r)..<(10 + 3 * r)].map(Int.init)
        let near = definitions[b[0] % definitions.count]
        let start = max(0, near.address + b[1] % 8 - 2)
        refused.append((near.kind, start..<(start + 1 + b[2] % 4)))
    }

    // Part 1: the decoder of every point, valid for a device or not, over the image.
    for p in definitions {
        let words = image.words(p.kind, from: p.address, count: p.kind.isBitTable ? 1 : p.type.registerCount)
        checkDecoding(p, words: words, exponent: Int16(bitPattern: UInt16(truncatingIfNeeded: p.address &* 7919)))
    }

    // Part 2: the points a configuration could have (what the loader lets through), polled.
    let points = plannable(definitions, limits: limits)
    guard !points.isEmpty else { return 0 }
    let device = DeviceDefinition(
        id: "d", transport: .tcp(host: "127.0.0.1", port: 502), profile: RegisterProfile(name: "p", points: points),
        maxRegistersPerRequest: limits.maxRegisters, maxBitsPerRequest: limits.maxBits, maxHoleRegisters: limits.maxHole,
        splitBudgetRequests: splitBudget, busyRetries: busyRetries)
    var scanner = DeviceScanner(device: device)
    var reader = FakeDevice(image: image, refused: refused, busyEvery: busyEvery, points: points, limits: limits)
    let buffer = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 2000)
    defer { buffer.deallocate() }
    for cycle in 0..<3 {
        let outcome = scanner.scan(
            cycle: cycle, timestampMS: 1_750_000_000_000 + Int64(cycle) * 1000, deadlineMonoNS: reader.clockNS + 1_000_000_000,
            reader: &reader, linkFailure: nil, buffer: buffer)
        checkScan(outcome.scan, points: points, image: image, refused: refused, everythingServed: refused.isEmpty && busyEvery == 0)
        reader.clockNS += 1_000_000_000
    }
    return 0
}

// MARK: - Points from bytes

func point(_ i: Int, _ b: [UInt8], count: Int) -> PointDefinition {
    let kind = RegisterKind.allCases[Int(b[0] & 3)]
    var type: ValueType
    switch Int(b[1]) % 32 {
    case 0: type = .bool
    case 1: type = .int16
    case 2: type = .uint16
    case 3: type = .int32
    case 4: type = .uint32
    case 5: type = .int64
    case 6: type = .uint64
    case 7: type = .float32
    case 8: type = .float64
    case 9: type = .string(registers: 1)
    case 10: type = .string(registers: 2)
    case 11: type = .string(registers: 5)
    case 12: type = .string(registers: 8)
    case let t where t < 29: type = .bit(t - 13)
    default: type = .int16
    }
    if kind.isBitTable { type = .bool }
    let order = WordOrder.allCases[Int(b[2] & 3)]
    // Mostly near each other (merging, holes, overlaps); sometimes anywhere, up to the last register.
    let address = b[3] & 0x80 == 0 ? Int(b[4]) + Int(b[3] & 1) * 256 : min(65535, Int(b[3] & 0x7F) << 9 | Int(b[4]) << 1)
    let scales: [Double] = [1, 0.1, 0.001, 10, -1, 1e-300, 1e300, 0.5]
    let offsets: [Double] = [0, 1, -40, 1e10, -0.5, 0, 273.15, -1e-10]
    var sentinel: NotImplementedSentinel?
    switch b[6] % 4 {
    case 1: sentinel = type == .float32 || type == .float64 ? .nan : .rawBits(UInt64(b[6] >> 2) * 0x0101)
    case 2: sentinel = .rawBits(width(type) == 64 ? .max : (UInt64(1) << UInt64(width(type))) - 1)
    default: sentinel = nil
    }
    if !isWide(type) { sentinel = nil }  // the loader takes sentinels on int16 ... float64 only
    let scaleFactor = b[7] & 0x80 != 0 ? "p\(Int(b[7] & 0x7F) % count)" : nil
    return PointDefinition(
        name: "p\(i)", kind: kind, address: address, type: type, wordOrder: order, scale: scales[Int(b[5] & 7)],
        offset: offsets[Int(b[5] >> 3 & 7)], scaleFactorPoint: scaleFactor, notImplemented: sentinel)
}

/// The types a scale factor or a sentinel applies to: int16 ... float64.
func isWide(_ type: ValueType) -> Bool {
    switch type {
    case .bool, .bit, .string: false
    default: true
    }
}

/// Bits of a type's registers (16 for one-register types).
func width(_ type: ValueType) -> Int { 16 * max(1, min(4, type.registerCount)) }

/// The points the configuration loader would accept: scale factors name an int16 point of the
/// same register table (not a bit table, not the point itself), every span fits the limits.
func plannable(_ all: [PointDefinition], limits: ReadPlanLimits) -> [PointDefinition] {
    var points = all
    while true {
        let byName = Dictionary(points.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for i in points.indices {
            guard let sf = points[i].scaleFactorPoint else { continue }
            let target = byName[sf]
            let ok = target.map { $0.type == .int16 && $0.kind == points[i].kind && !$0.kind.isBitTable && $0.name != points[i].name } ?? false
            if !ok || !isWide(points[i].type) { points[i].scaleFactorPoint = nil }
        }
        let bad = Set(ReadPlanner.validate(points: points, limits: limits).map(\.pointName))
        if bad.isEmpty { return points }
        points.removeAll { bad.contains($0.name) }
    }
}

// MARK: - The device's registers

/// Register contents for every table and address, derived from the input's tail.
struct RegisterImage {
    let seed: [UInt8]

    func word(_ kind: RegisterKind, _ address: Int) -> UInt16 {
        let k = RegisterKind.allCases.firstIndex(of: kind)!
        guard !seed.isEmpty else { return UInt16(truncatingIfNeeded: address &* 40503 &+ k) }
        let i = (2 * address + 7 * k) % seed.count
        let w = UInt16(seed[i]) << 8 | UInt16(seed[(i + 1) % seed.count])
        if kind.isBitTable { return (w ^ UInt16(truncatingIfNeeded: address)) & 1 }
        return w ^ UInt16(truncatingIfNeeded: address >> 4)
    }

    func words(_ kind: RegisterKind, from address: Int, count: Int) -> [UInt16] {
        (0..<count).map { word(kind, address + $0) }
    }
}

/// A device answering from the image: exception 2 for any request touching a refused range,
/// busy (6) for every k-th request; checks every request against the device's limits.
struct FakeDevice: DeviceReader {
    let image: RegisterImage
    let refused: [(kind: RegisterKind, registers: Range<Int>)]
    let busyEvery: Int
    let points: [PointDefinition]
    let limits: ReadPlanLimits
    var clockNS: Int64 = 1_000_000_000
    var requests = 0

    mutating func read(_ request: ReadRequest, into buffer: UnsafeMutableBufferPointer<UInt16>) throws(ReadFailure) {
        requests += 1
        precondition(request.count >= 1 && request.count <= limits.cap(for: request.kind), "request of \(request.count)")
        precondition(request.startAddress >= 0 && request.endAddress <= 65536, "request outside the table: \(request)")
        for i in request.pointIndices {
            let span = ReadPlanner.span(of: i, in: points)
            precondition(points[i].kind == request.kind, "point \(i) in a request of another table")
            precondition(span.lowerBound >= request.startAddress && span.upperBound <= request.endAddress,
                         "point \(i) (\(span)) outside its request \(request.startAddress)..<\(request.endAddress)")
        }
        if busyEvery > 0, requests % busyEvery == 0 { throw .exception(6) }
        let registers = request.startAddress..<request.endAddress
        if refused.contains(where: { $0.kind == request.kind && $0.registers.overlaps(registers) }) { throw .exception(2) }
        for k in 0..<request.count { buffer[k] = image.word(request.kind, request.startAddress + k) }
    }

    func monotonicNS() -> Int64 { clockNS }

    mutating func sleep(untilMonotonicNS deadline: Int64) { clockNS = max(clockNS, deadline) }
}

// MARK: - The oracle

/// The point's registers as one number: word order applied, most significant register first.
func expectedBits(_ p: PointDefinition, _ words: [UInt16]) -> UInt64 {
    if p.kind.isBitTable { return words[0] != 0 ? 1 : 0 }
    var regs = Array(words.prefix(4))
    if p.wordOrder == .badc || p.wordOrder == .dcba { regs = regs.map { $0 << 8 | $0 >> 8 } }
    if p.wordOrder == .cdab || p.wordOrder == .dcba { regs.reverse() }
    return regs.reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
}

func expectedNumber(_ type: ValueType, _ bits: UInt64) -> Double {
    switch type {
    case .bool: bits == 0 ? 0 : 1
    case .bit(let n): Double(bits >> UInt64(n) & 1)
    case .int16: Double(Int16(truncatingIfNeeded: bits))
    case .uint16: Double(UInt16(truncatingIfNeeded: bits))
    case .int32: Double(Int32(truncatingIfNeeded: bits))
    case .uint32: Double(UInt32(truncatingIfNeeded: bits))
    case .int64: Double(Int64(bitPattern: bits))
    case .uint64: Double(bits)
    case .float32: Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
    case .float64: Double(bitPattern: bits)
    case .string: .nan
    }
}

/// The value essd must report for `p`, or nil for "not implemented".
func expectedValue(_ p: PointDefinition, _ words: [UInt16], exponent: Int16?) -> Double? {
    let bits = expectedBits(p, words)
    let raw = expectedNumber(p.type, bits)
    switch p.notImplemented {
    case .nan?: if raw.isNaN { return nil }
    case .rawBits(let sentinel)?: if bits == sentinel { return nil }
    case nil: break
    }
    guard let exponent else { return raw * p.scale + p.offset }
    if exponent == Int16.min { return nil }
    return raw * pow(10, Double(exponent)) * p.scale + p.offset
}

func expectedText(_ p: PointDefinition, _ words: [UInt16]) -> String {
    var bytes: [UInt8] = []
    for w in words {
        let (hi, lo) = (UInt8(w >> 8), UInt8(w & 0xFF))
        bytes += p.wordOrder == .badc || p.wordOrder == .dcba ? [lo, hi] : [hi, lo]
    }
    if let nul = bytes.firstIndex(of: 0) { bytes = Array(bytes[..<nul]) }
    while bytes.last == 0x20 { bytes.removeLast() }
    return String(decoding: bytes, as: UTF8.self)
}

/// Equal, NaN equal to NaN. Inexact: scale-factor powers beyond ±10 are computed differently
/// (the decoder multiplies, this file calls pow), so they may differ in the last bits, and
/// where the result is below 1e-290 or above 1e290 (subnormal or overflowing) by more.
func same(_ a: Double?, _ b: Double?, exact: Bool) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    if a.isNaN || b.isNaN { return exact ? a.isNaN && b.isNaN : true }
    if a == b || exact { return a == b }
    if max(abs(a), abs(b)) < 1e-290 || min(abs(a), abs(b)) > 1e290 { return true }
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))
}

func checkDecoding(_ p: PointDefinition, words: [UInt16], exponent: Int16) {
    words.withUnsafeBufferPointer { w in
        let compiled = CompiledPoint(p)
        if case .string = p.type {
            let text = RegisterDecoder.decodeText(p, words: w, offset: 0)
            precondition(text == expectedText(p, words), "text of \(p.type.name) \(p.wordOrder): \(text.debugDescription)")
            return
        }
        let bits = compiled.rawBits(words: w, at: 0)
        precondition(bits == expectedBits(p, words), "raw bits of \(p.type.name) \(p.wordOrder): \(bits)")
        precondition(RegisterDecoder.rawBits(p, words: w, offset: 0) == bits)
        precondition(same(RegisterDecoder.numericValue(bits: bits, type: p.type), expectedNumber(p.type, bits), exact: true))
        precondition(same(compiled.decode(words: w, at: 0), expectedValue(p, words, exponent: nil), exact: true),
                     "value of \(p.type.name) \(p.wordOrder) scale \(p.scale) offset \(p.offset)")
        let withSF = compiled.decode(words: w, at: 0, scaleFactorExponent: exponent)
        precondition(same(withSF, expectedValue(p, words, exponent: exponent), exact: abs(Int(exponent)) <= 10),
                     "value with 10^\(exponent): \(String(describing: withSF))")
        // The encoder writes back what the decoder reads (the type's width of bits).
        let written = RegisterEncoder.words(p, rawBits: bits)
        let back = written.withUnsafeBufferPointer { CompiledPoint(p).rawBits(words: $0, at: 0) }
        let mask: UInt64 = p.kind.isBitTable ? 1 : width(p.type) == 64 ? .max : (1 << UInt64(width(p.type))) - 1
        precondition(back == bits & mask, "encoder round trip of \(p.type.name) \(p.wordOrder): \(bits) -> \(written) -> \(back)")
    }
}

func checkScan(
    _ scan: Scan, points: [PointDefinition], image: RegisterImage, refused: [(kind: RegisterKind, registers: Range<Int>)],
    everythingServed: Bool
) {
    precondition(scan.values.count == points.count && scan.qualities.count == points.count, "scan width")
    for (i, p) in points.enumerated() {
        let quality = scan.qualities[i]
        let span = ReadPlanner.span(of: i, in: points)
        let touchesRefused = refused.contains { $0.kind == p.kind && $0.registers.overlaps(span) }
        if everythingServed {
            precondition(quality == .ok || quality == .notImplemented, "point \(i) not read: \(quality)")
        }
        guard quality == .ok || quality == .notImplemented else {
            // Stale keeps the last good value; every failure has none.
            precondition(quality == .stale || scan.values[i].isNaN, "point \(i) has a value with quality \(quality)")
            continue
        }
        precondition(!touchesRefused, "point \(i) at \(span) is \(quality), its registers are refused")
        let words = image.words(p.kind, from: p.address, count: p.kind.isBitTable ? 1 : p.type.registerCount)
        if case .string = p.type {
            precondition(quality == .ok && scan.texts[i] == expectedText(p, words), "text of point \(i)")
            continue
        }
        let exponent = p.scaleFactorPoint.flatMap { name in points.first { $0.name == name } }
            .map { Int16(bitPattern: image.word($0.kind, $0.address)) }
        let expected = expectedValue(p, words, exponent: exponent)
        let got: Double? = quality == .ok ? scan.values[i] : nil
        precondition(same(got, expected, exact: abs(Int(exponent ?? 0)) <= 10),
                     "point \(i) (\(p.type.name) at \(p.kind.rawValue) \(p.address)): \(String(describing: got)), expected \(String(describing: expected))")
    }
}
