import ESSConfig
import Foundation
import Testing

/// Issue 11, finding 9: the limits start-up has, at their boundaries. The folder cases
/// (`testcases/host_not_ipv4`, `store_names`, ...) show the messages; these show that the
/// last allowed value loads and the first refused one does not. Expected lengths come from
/// the system's definitions (DNS: RFC 1035 253/63; `sun_path` 108 with its NUL; `NAME_MAX`
/// 255) and the store's header layout (site id 256 bytes, group id 255, tier name 31).
@Suite struct StartupRulesTests {
    static let profiles: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.appendingPathComponent("testcases/valid_minimal/profiles").path
    }()

    /// A minimal valid site with `replacements` applied to its text.
    static func site(_ replacements: [(String, String)] = [], extra: String = "") -> String {
        var text = """
            [site]
            id = "t"
            name = "Test"
            province = "guangdong"
            rated_power_kw = 100
            rated_energy_kwh = 200.0
            technology_route = "lithium_iron_phosphate"
            location_category = "industrial_plant"
            total_investment_cny = 0
            commissioning_date = 2025-06-30
            time_zone = "Asia/Shanghai"
            \(extra)
            [store]
            state_directory = "state"

            [[store.tier]]
            name = "raw"
            slot_seconds = 0
            retention_days = 2

            [[device]]
            id = "m1"
            profile = "meter"
            transport = "tcp"
            host = "10.0.0.5"

            """
        for (from, to) in replacements { text = text.replacingOccurrences(of: from, with: to) }
        return text
    }

    /// The issues' messages, empty when the site loads.
    static func messages(_ text: String) -> [String] {
        do {
            _ = try ConfigurationLoader.parseSite(text: text, file: "site.toml", profileDirectory: profiles)
            return []
        } catch {
            return error.issues.map { "\($0.key): \($0.message)" }
        }
    }

    @Test func theBaseSiteLoads() {
        #expect(Self.messages(Self.site()) == [])
    }

    @Test(arguments: ["0.0.0.0", "255.255.255.255", "192.168.1.20", "10.0.0.5", "1.2.3.4"])
    func ipv4AddressesAreHosts(_ host: String) {
        #expect(Self.messages(Self.site([("10.0.0.5", host)])) == [])
    }

    @Test func hostNameLengthsAtTheirLimits() {
        // 4 labels of 63 bytes and dots: 255 bytes; 3 labels of 63 + one of 61: 253 bytes.
        let name253 = [String(repeating: "a", count: 63), String(repeating: "b", count: 63), String(repeating: "c", count: 63), String(repeating: "d", count: 61)].joined(separator: ".")
        let name254 = name253 + "d"
        let at253 = Self.messages(Self.site([("10.0.0.5", name253)]))
        let at254 = Self.messages(Self.site([("10.0.0.5", name254)]))
        #expect(at253.count == 1 && at253[0].contains("is a host name"), "\(at253)")
        #expect(at254.count == 1 && at254[0].contains("a host name has at most 253 bytes, this has 254"), "\(at254)")
        let label64 = Self.messages(Self.site([("10.0.0.5", String(repeating: "x", count: 64) + ".lan")]))
        #expect(label64.count == 1 && label64[0].contains("a label has at most 63 bytes, one has 64"), "\(label64)")
    }

    @Test func siteIDOf256BytesLoadsAnd257DoNot() {
        let ok = Self.messages(Self.site([("id = \"t\"", "id = \"\(String(repeating: "s", count: 256))\"")]))
        let long = Self.messages(Self.site([("id = \"t\"", "id = \"\(String(repeating: "s", count: 257))\"")]))
        #expect(ok == [])
        #expect(long.count == 1 && long[0].hasPrefix("site.id: ") && long[0].contains("(257 bytes) is too long: at most 256 bytes"), "\(long)")
    }

    @Test func deviceIDOf255BytesLoadsAnd256DoNot() {
        let ok = Self.messages(Self.site([("id = \"m1\"", "id = \"\(String(repeating: "d", count: 255))\"")]))
        let long = Self.messages(Self.site([("id = \"m1\"", "id = \"\(String(repeating: "d", count: 256))\"")]))
        #expect(ok == [])
        #expect(long.count == 1 && long[0].contains("at most 255 bytes"), "\(long)")
    }

    @Test func tierNameOf31BytesLoadsAnd32DoNot() {
        // The profile's points keep every tier by default; the raw tier renamed keeps them all.
        let ok = Self.messages(Self.site([("name = \"raw\"", "name = \"\(String(repeating: "r", count: 31))\"")]))
        let long = Self.messages(Self.site([("name = \"raw\"", "name = \"\(String(repeating: "r", count: 32))\"")]))
        #expect(ok == [])
        #expect(long.count == 1 && long[0].hasPrefix("store.tier[0].name: ") && long[0].contains("at most 31 bytes"), "\(long)")
    }

    @Test func statusSocketOf107BytesLoadsAnd108DoNot() {
        // "/run/" + name + ".sock": 5 + n + 5 bytes.
        func daemon(_ bytes: Int) -> String {
            "\n[daemon]\nstatus_socket = \"/run/\(String(repeating: "s", count: bytes - 10)).sock\"\n"
        }
        #expect(Self.messages(Self.site(extra: daemon(107))) == [])
        let long = Self.messages(Self.site(extra: daemon(108)))
        #expect(long == ["daemon.status_socket: is 108 bytes long; a Unix socket path has at most 107 bytes (sockaddr_un): choose a shorter one, e.g. \"/run/essd/essd.sock\""])
    }

    @Test func stateDirectoryComponentsAndLength() {
        let name255 = String(repeating: "n", count: 255)
        #expect(Self.messages(Self.site([("\"state\"", "\"/var/\(name255)\"")])) == [])
        let component = Self.messages(Self.site([("\"state\"", "\"/var/\(name255)n\"")]))
        #expect(component == ["store.state_directory: has a component of 256 bytes; a file or folder name has at most 255 bytes"])
        // PATH_MAX 4096 less its NUL, less a 255-byte file name and its '/': 3839 bytes.
        let deep = Array(repeating: String(repeating: "p", count: 99), count: 39).joined(separator: "/")  // 39 * 100 - 1 = 3899
        let long = Self.messages(Self.site([("\"state\"", "\"\(deep)\"")]))
        #expect(long == ["store.state_directory: is 3899 bytes long; a path here has at most 3839 bytes"])
    }

    @Test(arguments: ["0.0.0.0", "127.0.0.1", "192.168.7.1"])
    func metricsListenAddresses(_ address: String) {
        #expect(Self.messages(Self.site(extra: "\n[metrics]\nlisten_address = \"\(address)\"\n")) == [])
    }

    @Test func metricsListenAddressByName() {
        let found = Self.messages(Self.site(extra: "\n[metrics]\nlisten_address = \"localhost\"\n"))
        #expect(found.count == 1 && found[0].hasPrefix("metrics.listen_address: \"localhost\" is not an IPv4 address;"), "\(found)")
    }

    @Test func longValuesAreCutInMessages() {
        let huge = String(repeating: "Z", count: 1_000_000)
        let found = Self.messages(Self.site([("\"Asia/Shanghai\"", "\"\(huge)\"")]))
        let longest = found.map(\.utf8.count).max() ?? 0
        #expect(found.count == 1 && longest < 300, "\(longest) bytes")
        #expect(found.first?.contains("(1000000 bytes)") == true)
    }
}
