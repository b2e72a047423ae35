import ESSCore
import Testing

/// Hand-made ADUs against fixed requests: every mismatch kind, and what a valid answer decodes
/// to. CRCs were computed with a separate bitwise CRC-16/MODBUS (Python), not with `ModbusCRC`.
struct ResponseValidatorTests {
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = hex.filter { !$0.isWhitespace }
        return stride(from: 0, to: digits.count, by: 2).map { i in
            let start = digits.index(digits.startIndex, offsetBy: i)
            return UInt8(digits[start..<digits.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    /// Validates `hex` against `request`; returns the outcome and the words written.
    static func run(_ hex: String, _ request: ModbusReadRequest, _ framing: ModbusFraming) -> (ValidatedResponse, [UInt16]) {
        var words = [UInt16](repeating: 0xEEEE, count: 2000)
        let frame = bytes(hex)
        let outcome = frame.withUnsafeBytes { raw in
            words.withUnsafeMutableBufferPointer { ResponseValidator.validate(raw, for: request, framing: framing, into: $0) }
        }
        return (outcome, Array(words[0..<request.count]))
    }

    // Unit 1, holding 100 (0x64), 2 registers, transaction 0x1234.
    static let tcpRequest = try! ModbusReadRequest(unitID: 1, kind: .holding, address: 100, count: 2, transactionID: 0x1234)

    static let tcpCases: [(String, ValidatedResponse)] = [
        ("12 34 0000 0007 01 03 04 000A 0102", .values),
        ("12 34 0000 0007 02 03 04 000A 0102", .mismatch(.unitID(expected: 1, received: 2))),
        ("12 35 0000 0007 01 03 04 000A 0102", .mismatch(.transactionID(expected: 0x1234, received: 0x1235))),
        ("12 34 0001 0007 01 03 04 000A 0102", .mismatch(.protocolID(1))),
        // libmodbus stops reading where the byte count says: the MBAP length counted 4 more bytes.
        ("12 34 0000 000B 01 03 04 000A 0102", .mismatch(.mbapLength(declared: 11, actual: 7))),
        ("12 34 0000 000B 01 03 04 000A 0102 00000000", .mismatch(.frameLength(expected: 13, actual: 17))),
        ("12 34 0000 0008 01 03 04 000A 0102", .mismatch(.mbapLength(declared: 8, actual: 7))),
        ("12 34 0000 0007 01 04 04 000A 0102", .mismatch(.functionCode(expected: 3, received: 4))),
        ("12 34 0000 0003 01 84 02", .mismatch(.functionCode(expected: 3, received: 0x84))),
        ("12 34 0000 0003 01 83 02", .exception(2)),
        ("12 34 0000 0003 01 83 06", .exception(6)),
        ("12 34 0000 0003 01 83 00", .mismatch(.exceptionCode(0))),
        ("12 34 0000 0004 01 83 02 00", .mismatch(.frameLength(expected: 9, actual: 10))),
        ("12 34 0000 0009 01 03 06 000A 0102 0304", .mismatch(.byteCount(expected: 4, received: 6))),
        ("12 34 0000 0005 01 03 02 000A", .mismatch(.byteCount(expected: 4, received: 2))),
        ("12 34 0000 0006 01 03 04 000A 01", .mismatch(.frameLength(expected: 13, actual: 12))),
        ("12 34 0000 0002 01 03", .mismatch(.tooShort(length: 8))),
        ("", .mismatch(.tooShort(length: 0))),
    ]

    @Test(arguments: tcpCases)
    func tcp(hex: String, expected: ValidatedResponse) {
        let (outcome, words) = Self.run(hex, Self.tcpRequest, .tcp)
        #expect(outcome == expected, "\(hex)")
        if expected == .values { #expect(words == [0x000A, 0x0102]) } else { #expect(words == [0xEEEE, 0xEEEE]) }
    }

    // Unit 1, holding 0, 1 register (RTU): a good answer is 01 03 02 002A + CRC 39 9B.
    static let rtuRequest = try! ModbusReadRequest(unitID: 1, kind: .holding, address: 0, count: 1)

    static let rtuCases: [(String, ValidatedResponse)] = [
        ("01 03 02 002A 39 9B", .values),
        ("01 03 02 002A 39 9C", .mismatch(.crc(computed: 0x9B39, received: 0x9C39))),
        ("02 03 02 002A 7D 9B", .mismatch(.unitID(expected: 1, received: 2))),
        ("01 04 02 002A 38 EF", .mismatch(.functionCode(expected: 3, received: 4))),
        ("01 83 02 C0 F1", .exception(2)),
        ("01 03", .mismatch(.tooShort(length: 2))),
    ]

    @Test(arguments: rtuCases)
    func rtu(hex: String, expected: ValidatedResponse) {
        let (outcome, words) = Self.run(hex, Self.rtuRequest, .rtu)
        #expect(outcome == expected, "\(hex)")
        #expect(words == (expected == .values ? [0x002A] : [0xEEEE]))
    }

    @Test func bitsAreUnpackedLeastSignificantFirst() {
        let request = try! ModbusReadRequest(unitID: 1, kind: .coil, address: 0, count: 10)
        let (outcome, words) = Self.run("01 01 02 05 03 FA AD", request, .rtu)
        #expect(outcome == .values)
        #expect(words == [1, 0, 1, 0, 0, 0, 0, 0, 1, 1])
        // 10 bits need 2 bytes: a byte count of 1 or 3 is refused.
        #expect(Self.run("00 00 0000 0004 01 01 01 05", request, .tcp).0 == .mismatch(.byteCount(expected: 2, received: 1)))
    }

    @Test func requestsAreBuiltAsTheSpecificationSays() {
        var buffer = [UInt8](repeating: 0, count: 16)
        let tcp = buffer.withUnsafeMutableBytes { Self.tcpRequest.writeADU(.tcp, into: $0) }
        #expect(Array(buffer[0..<tcp]) == Self.bytes("1234 0000 0006 01 03 0064 0002"))
        let rtu = try! ModbusReadRequest(unitID: 1, kind: .holding, address: 0, count: 10)
        let n = buffer.withUnsafeMutableBytes { rtu.writeADU(.rtu, into: $0) }
        #expect(Array(buffer[0..<n]) == Self.bytes("01 03 0000 000A C5 CD"))
        #expect(rtu.expectedResponseLength(.rtu) == 25 && Self.tcpRequest.expectedResponseLength(.tcp) == 13)
    }

    @Test func invalidRequestParametersAreRefused() {
        #expect(throws: ModbusReadRequest.Invalid.count(126, max: 125)) {
            try ModbusReadRequest(unitID: 1, kind: .input, address: 0, count: 126)
        }
        #expect(throws: ModbusReadRequest.Invalid.count(0, max: 2000)) {
            try ModbusReadRequest(unitID: 1, kind: .discrete, address: 0, count: 0)
        }
        #expect(throws: ModbusReadRequest.Invalid.address(65535, count: 2)) {
            try ModbusReadRequest(unitID: 1, kind: .holding, address: 65535, count: 2)
        }
        #expect(throws: ModbusReadRequest.Invalid.unitID(256)) {
            try ModbusReadRequest(unitID: 256, kind: .holding, address: 0, count: 1)
        }
    }

    @Test func rtuResponseLengthComesFromTheHeader() {
        func length(_ hex: String) -> Int? { Self.bytes(hex).withUnsafeBytes { ModbusFrame.rtuResponseLength($0) } }
        #expect(length("01 03 04") == 9)
        #expect(length("01 83 02") == 5)
        #expect(length("01 10 00") == 8)
        #expect(length("01 03") == nil)
        #expect(length("01 2B 00") == nil)
    }
}
