import ESSCore
import Testing

@testable import ESSSimulator

@Suite("RTU frames")
struct RTUFrameTests {
    static func bytes(_ hex: String) -> [UInt8] {
        hex.split(separator: " ").map { UInt8($0, radix: 16)! }
    }

    @Test(
        "CRC-16/MODBUS of known frames",
        arguments: [
            "01 03 00 00 00 0A C5 CD",
            "11 03 00 6B 00 03 76 87",
            "01 06 00 01 00 03 98 0B",
            "01 10 00 01 00 02 04 00 0A 01 02 92 30",
            "02 04 00 08 00 02 F0 3A",
        ])
    func crc(frame: String) {
        let b = Self.bytes(frame)
        let crc = ModbusCRC.crc16(b.dropLast(2))
        #expect(UInt8(crc & 0xFF) == b[b.count - 2] && UInt8(crc >> 8) == b[b.count - 1])
        #expect(ModbusCRC.isValid(frame: b))
        var corrupted = b
        corrupted[2] ^= 0x01
        #expect(!ModbusCRC.isValid(frame: corrupted))
    }

    @Test(
        "parser results",
        arguments: [
            ("01 03 00 00 00 0A C5 CD", RTUFrameParser.Result.frame(length: 8)),
            ("01 03 00 00 00 0A C5 CD 01 03", .frame(length: 8)),
            ("01 03 00 00 00 0A C5", .needMore),
            ("01", .needMore),
            ("01 03 00 00 00 0A C5 CE", .garbage(dropCount: 1)),
            ("01 2B 0E 01 00 70 77", .garbage(dropCount: 1)),
            ("01 10 00 01 00 02 04 00 0A 01 02 92 30", .frame(length: 13)),
            ("01 10 00 01 00 02 04 00 0A 01", .needMore),
            ("01 10 00 01 00 02", .needMore),
            ("01 10 00 01 00 02 00 00 00", .garbage(dropCount: 1)),
        ])
    func parse(hex: String, expected: RTUFrameParser.Result) {
        #expect(RTUFrameParser.parse(Self.bytes(hex)) == expected)
    }

    @Test("resynchronises after garbage, counting one bad frame per dropped byte")
    func resync() {
        var buffer = Self.bytes("FF 00 13 01 03 00 00 00 0A C5 CD 11 03 00 6B 00 03 76 87")
        var frames: [[UInt8]] = []
        var bad = 0
        loop: while !buffer.isEmpty {
            switch RTUFrameParser.parse(buffer) {
            case .frame(let n):
                frames.append(Array(buffer[0..<n]))
                buffer.removeFirst(n)
            case .garbage(let n):
                bad += 1
                buffer.removeFirst(n)
            case .needMore:
                break loop
            }
        }
        #expect(frames == [Self.bytes("01 03 00 00 00 0A C5 CD"), Self.bytes("11 03 00 6B 00 03 76 87")])
        #expect(bad == 3)
    }

    @Test("request summaries: table, touched addresses, writes")
    func summaries() throws {
        let read = try #require(ModbusRequestSummary(pdu: Self.bytes("04 00 08 00 02")[...]))
        #expect(read.kind == .input && read.ranges == [8..<10] && !read.isWrite)
        #expect(read.touches(.input, address: 9) && !read.touches(.input, address: 10) && !read.touches(.holding, address: 8))
        let write = try #require(ModbusRequestSummary(pdu: Self.bytes("06 00 01 00 03")[...]))
        #expect(write.kind == .holding && write.isWrite && write.ranges == [1..<2])
        let coils = try #require(ModbusRequestSummary(pdu: Self.bytes("0F 00 10 00 0A 02 FF 03")[...]))
        #expect(coils.kind == .coil && coils.isWrite && coils.ranges == [16..<26])
        #expect(ModbusRequestSummary(pdu: Self.bytes("03 00")[...]) == nil)
    }
}
