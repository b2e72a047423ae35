import ESSStore
import ESSTestSupport
import Foundation
import Testing

@Suite struct IdentityLogTests {
    @Test func appendedRecordsReadBackInOrderAndTheNewestTextWins() throws {
        let directory = try TestEnvironment.temporaryDirectory("identity-log")
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try IdentityLog.read(directory: directory.path).records.isEmpty, "no file: nothing recorded")

        let first = [
            IdentityRecord(deviceID: "pcs1", point: "serial_number", text: "SN-0001", observedMS: 1_000),
            IdentityRecord(deviceID: "pcs1", point: "firmware_version", text: "1.0.0", observedMS: 1_000),
        ]
        try IdentityLog.append(first, directory: directory.path)
        // A firmware update, and a text with quotes, a comma and Chinese characters.
        let second = [
            IdentityRecord(deviceID: "pcs1", point: "firmware_version", text: "1.1.0", observedMS: 9_000),
            IdentityRecord(deviceID: "bms1", point: "model", text: "电池\"柜\", 2", observedMS: 9_500),
        ]
        try IdentityLog.append(second, directory: directory.path)

        let (records, unreadable) = try IdentityLog.read(directory: directory.path)
        #expect(records == first + second)
        #expect(unreadable.isEmpty)
        let latest = IdentityLog.latest(records)
        #expect(latest["pcs1"]?["firmware_version"]?.text == "1.1.0")
        #expect(latest["pcs1"]?["serial_number"]?.text == "SN-0001")
        #expect(latest["bms1"]?["model"]?.text == "电池\"柜\", 2")
    }

    @Test func aLineCutShortByACrashIsReportedAndTheRestIsRead() throws {
        let directory = try TestEnvironment.temporaryDirectory("identity-log-torn")
        defer { try? FileManager.default.removeItem(at: directory) }
        let record = IdentityRecord(deviceID: "pcs1", point: "serial_number", text: "SN-0001", observedMS: 1_000)
        try IdentityLog.append([record], directory: directory.path)
        let path = directory.appendingPathComponent(IdentityLog.fileName).path
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"device\":\"pcs1\",\"poi".utf8))
        try handle.close()

        let (records, unreadable) = try IdentityLog.read(directory: directory.path)
        #expect(records == [record])
        #expect(unreadable == [2])
        // The next append starts a fresh line: the torn line costs nothing but itself.
        try IdentityLog.append([record, record], directory: directory.path)
        let after = try IdentityLog.read(directory: directory.path)
        #expect(after.records == [record, record, record])
        #expect(after.unreadableLines == [2])
    }
}
