// libFuzzer target: response validation (ResponseValidator, ModbusReadRequest, ModbusFrame).
// Input: 8 bytes of request parameters, then the bytes of a response.
//   byte 0 unit id, byte 1 table (low 2 bits) and framing (bit 4: RTU), bytes 2-3 address,
//   bytes 4-5 count (mod 2100, so both valid and invalid counts occur), bytes 6-7 transaction id.
// Must never crash; every accepted answer must satisfy the invariants below; a correct answer
// built from the input must be accepted, and the same answer with one header byte changed
// must not be.

@testable import ESSCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 8 else { return 0 }
    let unit = Int(data[0])
    let kind = [RegisterKind.coil, .discrete, .holding, .input][Int(data[1] & 3)]
    let framing: ModbusFraming = data[1] & 0x10 != 0 ? .rtu : .tcp
    let address = Int(data[2]) << 8 | Int(data[3])
    let count = (Int(data[4]) << 8 | Int(data[5])) % 2100
    let tid = UInt16(data[6]) << 8 | UInt16(data[7])
    let maxCount = kind == .coil || kind == .discrete ? 2000 : 125
    let shouldBeValid = (1...maxCount).contains(count) && address + count <= 65536
    guard let request = try? ModbusReadRequest(unitID: unit, kind: kind, address: address, count: count, transactionID: tid)
    else {
        precondition(!shouldBeValid, "valid parameters refused: \(unit) \(kind) \(address) \(count)")
        return 0
    }
    precondition(shouldBeValid, "invalid parameters accepted: \(unit) \(kind) \(address) \(count)")
    let response = UnsafeRawBufferPointer(start: data + 8, count: size - 8)
    var words = [UInt16](repeating: 0xBEEF, count: 2001)
    let outcome = words.withUnsafeMutableBufferPointer {
        ResponseValidator.validate(response, for: request, framing: framing, into: $0)
    }
    check(outcome, response: response, request: request, framing: framing, words: words)

    // A correct answer whose data are the input's bytes must be accepted and decode to them.
    var answer = correctAnswer(request, framing: framing, data: response)
    var decoded = [UInt16](repeating: 0xBEEF, count: 2001)
    let accepted = answer.withUnsafeBytes { raw in
        decoded.withUnsafeMutableBufferPointer { ResponseValidator.validate(raw, for: request, framing: framing, into: $0) }
    }
    precondition(accepted == .values, "a correct answer was refused: \(accepted)")
    answer.withUnsafeBytes { check(.values, response: $0, request: request, framing: framing, words: decoded) }
    // Any change to one byte of the header (RTU: any byte, the CRC catches it) is refused.
    let limit = framing == .rtu ? answer.count : framing.headerLength + 2
    let index = size > 8 ? Int(data[8]) % limit : 0
    answer[index] ^= size > 9 ? max(data[9], 1) : 0x01
    let changed = answer.withUnsafeBytes { raw in
        decoded.withUnsafeMutableBufferPointer { ResponseValidator.validate(raw, for: request, framing: framing, into: $0) }
    }
    if case .values = changed { preconditionFailure("byte \(index) changed, still accepted") }
    return 0
}

/// The invariants of an outcome, checked with this file's own arithmetic.
func check(
    _ outcome: ValidatedResponse, response: UnsafeRawBufferPointer, request: ModbusReadRequest, framing: ModbusFraming,
    words: [UInt16]
) {
    let h = framing.headerLength
    switch outcome {
    case .values:
        let bytes = request.kind.isBitTable ? (request.count + 7) / 8 : 2 * request.count
        precondition(response.count == h + 2 + bytes + framing.trailerLength, "accepted a frame of the wrong length")
        precondition(response[h - 1] == request.unitID, "accepted another unit's answer")
        precondition(response[h] == request.kind.readFunctionCode, "accepted another function code")
        precondition(Int(response[h + 1]) == bytes, "accepted a wrong byte count")
        if framing == .tcp {
            precondition(UInt16(response[0]) << 8 | UInt16(response[1]) == request.transactionID, "accepted a wrong TID")
            precondition(response[2] == 0 && response[3] == 0, "accepted a protocol id")
            precondition(Int(response[4]) << 8 | Int(response[5]) == response.count - 6, "accepted a wrong MBAP length")
        } else {
            let crc = bitwiseCRC(UnsafeRawBufferPointer(rebasing: response[0..<(response.count - 2)]))
            precondition(UInt16(response[response.count - 2]) | UInt16(response[response.count - 1]) << 8 == crc, "bad CRC")
        }
        for i in 0..<request.count {
            let want: UInt16 =
                request.kind.isBitTable
                ? UInt16(response[h + 2 + i / 8] >> UInt8(i % 8) & 1)
                : UInt16(response[h + 2 + 2 * i]) * 256 + UInt16(response[h + 3 + 2 * i])
            precondition(words[i] == want, "word \(i) decoded wrongly")
        }
        precondition(words[request.count...].allSatisfy { $0 == 0xBEEF }, "wrote past the request's count")
    case .exception(let code):
        precondition(code != 0 && response.count == h + 2 + framing.trailerLength, "bad exception frame accepted")
        precondition(response[h] == request.kind.readFunctionCode | 0x80 && response[h - 1] == request.unitID)
        precondition(words.allSatisfy { $0 == 0xBEEF }, "an exception wrote words")
    case .mismatch:
        precondition(words.allSatisfy { $0 == 0xBEEF }, "a refused answer wrote words")
    }
}

/// A valid answer to `request`, its data taken from `data` (repeated or zero-filled).
func correctAnswer(_ request: ModbusReadRequest, framing: ModbusFraming, data: UnsafeRawBufferPointer) -> [UInt8] {
    let bytes = request.kind.isBitTable ? (request.count + 7) / 8 : 2 * request.count
    var pdu: [UInt8] = [request.kind.readFunctionCode, UInt8(bytes)]
    for i in 0..<bytes { pdu.append(data.isEmpty ? 0 : data[i % data.count]) }
    if framing == .tcp {
        let length = pdu.count + 1
        return [UInt8(request.transactionID >> 8), UInt8(request.transactionID & 0xFF), 0, 0,
                UInt8(length >> 8), UInt8(length & 0xFF), request.unitID] + pdu
    }
    let body = [request.unitID] + pdu
    let crc = body.withUnsafeBytes { bitwiseCRC($0) }
    return body + [UInt8(crc & 0xFF), UInt8(crc >> 8)]
}

/// CRC-16/MODBUS bit by bit (independent of ModbusCRC's table).
func bitwiseCRC(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
    var crc: UInt16 = 0xFFFF
    for byte in bytes {
        crc ^= UInt16(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
    }
    return crc
}
