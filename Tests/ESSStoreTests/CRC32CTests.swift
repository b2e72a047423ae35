import Testing

@testable import ESSStore

@Suite struct CRC32CTests {
    @Test(arguments: [
        (Array("123456789".utf8), UInt32(0xE306_9283)),
        ([UInt8](), UInt32(0)),
        ([UInt8](repeating: 0, count: 32), UInt32(0x8A91_36AA)),
        ([UInt8](repeating: 0xFF, count: 32), UInt32(0x62A8_AB43)),
        ((0..<32).map { UInt8($0) }, UInt32(0x46DD_794E)),
        ((0..<32).map { UInt8(31 - $0) }, UInt32(0x113F_DB5C)),
    ])
    func knownVectors(bytes: [UInt8], expected: UInt32) {
        #expect(CRC32C.checksum(bytes) == expected)
    }

    @Test func slicingMatchesBytewiseAndContinues() {
        var random = SeededRandom(state: 7)
        for length in 0..<100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            #expect(CRC32C.checksum(bytes) == ~crc)
            let split = length / 3
            #expect(
                CRC32C.checksum(Array(bytes[split...]), continuing: CRC32C.checksum(Array(bytes[..<split]))) == ~crc)
        }
    }
}

@Suite struct CRC32CHardwareTests {
    /// The CPU's instruction (when this machine has it) and the tables agree on every length,
    /// alignment and split, so files written with one read back with the other.
    @Test func hardwareMatchesTables() {
        var random = SeededRandom(state: 11)
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }
        bytes.withUnsafeBytes { all in
            for start in 0..<9 {
                for length in 0..<(300 - start) where length < 40 || length % 7 == 0 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    let software = CRC32C.softwareChecksum(slice)
                    #expect(CRC32C.checksum(slice) == software)
                    let split = length / 3
                    let head = UnsafeRawBufferPointer(rebasing: slice[..<split])
                    let tail = UnsafeRawBufferPointer(rebasing: slice[split...])
                    #expect(CRC32C.checksum(tail, continuing: CRC32C.checksum(head)) == software)
                    #expect(CRC32C.softwareChecksum(tail, continuing: CRC32C.checksum(head)) == software)
                }
            }
        }
    }

    #if arch(x86_64)
        /// Every x86-64 machine this runs on since 2008 has SSE4.2; a false here means the check is broken.
        @Test func hardwareIsUsedOnX86() { #expect(CRC32C.usesHardware) }
    #endif
}

@Suite struct RowChecksumTests {
    /// The four-rows-at-once checksums equal one row at a time, for every layout the store uses
    /// (raw and consolidated CRC offsets) and row counts around the interleave width.
    @Test func interleavedRowsMatchOneAtATime() {
        var random = SeededRandom(state: 23)
        for rowBytes in [16, 17, 21, 25, 34, 43, 64, 97] {
            for crcOffset in [RowCheck.consolidatedCRCOffset, RowCheck.rawCRCOffset] where crcOffset + 4 <= rowBytes {
                for count in [0, 1, 3, 4, 5, 8, 11] {
                    var bytes = (0..<(rowBytes * count)).map { _ in UInt8.random(in: 0...255, using: &random) }
                    var expected = bytes
                    expected.withUnsafeMutableBytes { buffer in
                        for row in 0..<count {
                            RowCheck.storeChecksum(
                                buffer.baseAddress! + row * rowBytes, crcOffset: crcOffset, bytes: rowBytes)
                        }
                    }
                    bytes.withUnsafeMutableBytes { buffer in
                        guard let base = buffer.baseAddress else { return }
                        RowCheck.storeChecksums(base, crcOffset: crcOffset, rowBytes: rowBytes, count: count)
                    }
                    #expect(bytes == expected, "rowBytes \(rowBytes), crcOffset \(crcOffset), count \(count)")
                }
            }
        }
    }
}
