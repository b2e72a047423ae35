import ESSConfig
import Foundation
import Testing

/// Issue 11, finding 8: nothing in a configuration file can crash or hang the parser. Deep
/// nesting is refused at the 65th level (each table of a dotted path, each array and inline
/// table is a level), escapes parse in linear time, files over 1 MiB are refused unread.
@Suite struct TOMLLimitsTests {
    private func error(_ text: String) -> TOMLError? {
        do {
            _ = try TOMLParser.parse(text, file: "deep.toml")
            return nil
        } catch {
            return error
        }
    }

    @Test func deepInlineTablesAreRefusedNotACrash() {
        // "a = " then "{b = " per level: the k-th '{' is level k, at column 5 + 5 (k - 1).
        let n = 100_000
        let text = "a = " + String(repeating: "{b = ", count: n) + "1" + String(repeating: "}", count: n) + "\n"
        let e = error(text)
        let position = e?.position
        let message = e?.message ?? "no error"
        #expect(position == TOMLPosition(line: 1, column: 5 + 5 * 64), "\(message)")
        #expect(message.contains("more than 64 levels"), "\(message)")
    }

    @Test func deepArraysAreRefusedNotACrash() {
        // "a = " then '[' per level: the k-th '[' is at column 4 + k.
        let n = 100_000
        let text = "a = " + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "\n"
        let e = error(text)
        let position = e?.position
        let message = e?.message ?? "no error"
        #expect(position == TOMLPosition(line: 1, column: 4 + 65), "\(message)")
        #expect(message.contains("more than 64 levels"), "\(message)")
        let described = e?.description ?? ""
        #expect(described.hasPrefix("deep.toml:1:69: "), "\(described)")
    }

    @Test func sixtyFourLevelsAreAllowed() throws {
        let arrays = "a = " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "\n"
        var value = try TOMLParser.parse(arrays, file: "t.toml")["a"]?.value
        var levels = 0
        while let inner = value?.arrayValue {
            levels += 1
            value = inner.first
        }
        #expect(levels == 64)
        let tables = "a = " + String(repeating: "{b = ", count: 64) + "1" + String(repeating: "}", count: 64) + "\n"
        #expect(throws: Never.self) { try TOMLParser.parse(tables, file: "t.toml") }
        // 62 header levels, then a key of two parts (a 63rd table) holding an array (64th).
        let header = "[" + Array(repeating: "h", count: 62).joined(separator: ".") + "]\nk.j = [1]\n"
        #expect(throws: Never.self) { try TOMLParser.parse(header, file: "t.toml") }
        let tooDeep = "[" + Array(repeating: "h", count: 62).joined(separator: ".") + "]\nk.j = [[1]]\n"
        let e = error(tooDeep)
        // Line 2: "k.j = " is 6 characters, the inner '[' is the 65th level at column 8.
        #expect(e?.position == TOMLPosition(line: 2, column: 8))
    }

    @Test func longDottedKeysAndHeadersAreRefused() {
        let n = 100_000
        // Part i of "a.a.a…" starts at column 1 + 2i; part 64 would be the 65th table.
        let key = Array(repeating: "a", count: n).joined(separator: ".") + " = 1\n"
        let keyError = error(key)
        #expect(keyError?.position == TOMLPosition(line: 1, column: 1 + 2 * 64))
        // In a header, after '[': part 64 at column 2 + 2 * 64.
        let header = "[" + Array(repeating: "a", count: n).joined(separator: ".") + "]\n"
        let headerError = error(header)
        #expect(headerError?.position == TOMLPosition(line: 1, column: 2 + 2 * 64))
        let arrayHeader = "[[" + Array(repeating: "a", count: n).joined(separator: ".") + "]]\n"
        #expect(error(arrayHeader)?.position == TOMLPosition(line: 1, column: 3 + 2 * 64))
    }

    /// Seconds to parse `count` `\u0041` escapes in one string (best of two runs).
    private func escapeSeconds(_ count: Int) throws -> Double {
        let text = "a = \"" + String(repeating: "\\u0041", count: count) + "\"\n"
        var best = Double.infinity
        for _ in 0..<2 {
            let start = ContinuousClock.now
            let parsed = try TOMLParser.parse(text, file: "t.toml")
            let elapsed = ContinuousClock.now - start
            #expect(parsed["a"]?.value.stringValue?.utf8.count == count)
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return best
    }

    @Test func unicodeEscapesParseInLinearTime() throws {
        // Quadratic parsing makes 4 times the escapes take 16 times as long; linear, 4 times.
        let small = try escapeSeconds(32_768)
        let large = try escapeSeconds(131_072)
        let ratio = large / small
        #expect(ratio < 8, "32,768 escapes: \(small) s, 131,072: \(large) s")
        #expect(large < 10, "131,072 escapes took \(large) s")
    }

    @Test func positionsCountScalarsOnLongLines() {
        // An error after 100,000 two-byte characters on one line is at column 100,000 + 6.
        let text = "a = \"" + String(repeating: "é", count: 100_000) + "\" x\n"
        let e = error(text)
        #expect(e?.position == TOMLPosition(line: 1, column: 100_000 + 8))
    }
}

/// Files over 1 MiB, and paths that are not regular files, are refused before they are read.
@Suite struct ConfigurationFileLimitTests {
    private func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "essd-config-limit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func issues(_ body: () throws(ConfigurationError) -> Void) -> [ConfigurationIssue] {
        do {
            try body()
            return []
        } catch {
            return error.issues
        }
    }

    @Test func aTwoMiBSiteFileIsRefusedNamingTheFileAndTheLimit() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/site.toml"
        // A valid TOML comment line repeated to 2 MiB: the parser never sees it.
        let line = "# " + String(repeating: "x", count: 1021) + "\n"
        try String(repeating: line, count: 2048).write(toFile: path, atomically: false, encoding: .utf8)
        let found = issues { () throws(ConfigurationError) in _ = try ConfigurationLoader.loadSite(path: path) }
        #expect(found.count == 1)
        #expect(found.first?.file == path)
        #expect(found.first?.line == 0)
        let message = found.first?.message ?? ""
        #expect(message.contains("2097152 bytes"), "\(message)")
        #expect(message.contains("1048576 bytes (1 MiB)"), "\(message)")
    }

    @Test func aFileOfExactlyOneMiBIsRead() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/p.toml"
        let line = "# " + String(repeating: "x", count: 1021) + "\n"
        try String(repeating: line, count: 1024).write(toFile: path, atomically: false, encoding: .utf8)
        let found = issues { () throws(ConfigurationError) in _ = try ConfigurationLoader.loadProfile(path: path) }
        // Read and parsed: the profile's own issues, not the size.
        #expect(!found.isEmpty)
        #expect(!found.contains { $0.message.contains("1 MiB") })
    }

    @Test func aTooLargeProfileIsReportedAtTheDevice() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/profiles", withIntermediateDirectories: true)
        let line = "# " + String(repeating: "x", count: 1021) + "\n"
        try String(repeating: line, count: 1025).write(toFile: folder + "/profiles/big.toml", atomically: false, encoding: .utf8)
        let site = """
            [site]
            id = "s"
            name = "S"
            province = "Zhejiang"
            rated_power_kw = 100
            rated_energy_kwh = 200
            technology_route = "lithium_iron_phosphate"
            location_category = "industrial_plant"
            total_investment_cny = 0
            commissioning_date = 2025-01-01
            time_zone = "Asia/Shanghai"

            [store]
            state_directory = "/var/lib/essd"

            [[device]]
            id = "d"
            profile = "big"
            transport = "tcp"
            host = "10.0.0.5"
            """
        try site.write(toFile: folder + "/site.toml", atomically: false, encoding: .utf8)
        let found = issues { () throws(ConfigurationError) in _ = try ConfigurationLoader.loadSite(path: folder + "/site.toml") }
        #expect(found.map(\.line) == [18])
        let message = found.first?.message ?? ""
        #expect(message.contains("\(folder)/profiles/big.toml"), "\(message)")
        #expect(message.contains("1049600 bytes"), "\(message)")
    }

    @Test func devicesAndFoldersAreRefused() {
        let zero = issues { () throws(ConfigurationError) in _ = try ConfigurationLoader.loadSite(path: "/dev/zero") }
        #expect(zero.first?.message.contains("not a regular file") == true)
        let folder = issues { () throws(ConfigurationError) in _ = try ConfigurationLoader.loadSite(path: "/tmp") }
        #expect(folder.first?.message.contains("a folder") == true)
        let missing = issues { () throws(ConfigurationError) in
            _ = try ConfigurationLoader.loadSite(path: "/nonexistent-essd/site.toml")
        }
        #expect(missing.first?.message == "the file does not exist; check the path")
    }
}
