import ESSConfig
import ESSCore
import Testing

@Suite struct ConfigurationLoaderTests {
    @Test func issueAndErrorDescriptions() {
        let a = ConfigurationIssue(file: "site.toml", line: 3, key: "site.id", message: "must not be empty")
        let b = ConfigurationIssue(file: "p.toml", line: 9, key: "point[0].type", message: "bad")
        #expect(a.description == "site.toml:3: site.id: must not be empty")
        #expect(ConfigurationError(issues: [a, b]).description == "site.toml:3: site.id: must not be empty\np.toml:9: point[0].type: bad")
    }

    @Test func parseProfileBuildsPoints() throws {
        let profile = try ConfigurationLoader.parseProfile(
            text: """
                [profile]
                name = "p"
                vendor = "v"
                model = "m"

                [[point]]
                name = "w"
                role = "active_power_kw"
                address = 0x10
                type = "int16"
                scale = 0.001
                scale_factor = "w_sf"
                not_implemented = -32768

                [[point]]
                name = "w_sf"
                role = "scale_factor"
                address = 20
                type = "int16"

                [[point]]
                name = "e"
                role = "other"
                kind = "input"
                address = 0
                type = "uint64"
                not_implemented = -1
                """, file: "dir/p.toml")
        #expect(profile.name == "p")
        #expect(profile.vendor == "v")
        #expect(profile.model == "m")
        #expect(
            profile.points[0]
                == PointDefinition(
                    name: "w", role: .activePowerKW, kind: .holding, address: 16, type: .int16, scale: 0.001,
                    scaleFactorPoint: "w_sf", notImplemented: .rawBits(0x8000)))
        #expect(profile.points[1].role == .scaleFactor)
        #expect(profile.points[2].notImplemented == .rawBits(UInt64.max))
        #expect(profile.points[2].kind == .input)
    }

    @Test func profileSyntaxErrorIsAnIssue() {
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parseProfile(text: "[profile\n", file: "x.toml")
        }
        do {
            _ = try ConfigurationLoader.parseProfile(text: "[profile\n", file: "x.toml")
        } catch {
            #expect(error.description == "x.toml:1: syntax error at column 9: expected ']' to close the table header, found end of line")
        }
    }

    @Test func missingSiteFileIsAnIssue() {
        do {
            _ = try ConfigurationLoader.loadSite(path: "/nonexistent/essd.toml")
            Issue.record("loaded a file that does not exist")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.issues[0].file == "/nonexistent/essd.toml")
            #expect(error.issues[0].message.contains("does not exist"))
        }
    }

    @Test func parseSiteUsesTheGivenProfileDirectory() {
        let text = """
            [site]
            id = "s"
            name = "S"
            province = "zhejiang"
            rated_power_kw = 1
            rated_energy_kwh = 2
            technology_route = "sodium_ion"
            location_category = "data_center"
            total_investment_cny = 10
            commissioning_date = "2024-01-01"
            time_zone = "UTC"
            [store]
            state_directory = "/tmp/x"
            [[device]]
            id = "d"
            profile = "absent"
            transport = "tcp"
            host = "10.0.0.1"
            """
        do {
            _ = try ConfigurationLoader.parseSite(text: text, file: "s.toml", profileDirectory: "/nonexistent-profiles")
            Issue.record("loaded a site whose profile does not exist")
        } catch {
            #expect(error.issues.map(\.description) == [
                "s.toml:16: device[0].profile: profile file /nonexistent-profiles/absent.toml not found; the profile directory /nonexistent-profiles cannot be read (set profile_directory)"
            ])
        }
    }
}
