import ESSConfig
import ESSCore
import ESSStore
import ESSTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// essd, ess-sim and essctl as real processes on loopback, with a temp state directory.
@Suite(.serialized) struct EssdEndToEndTests {
    /// A site file for the demo profiles on free ports, with small tiers so files stay small.
    static func writeSite(in directory: URL, ports: [Int], stateDirectory: URL, metricsPort: Int? = nil) throws -> URL {
        let profiles = TestEnvironment.repository.appendingPathComponent("Config/profiles").path
        let text = """
            profile_directory = "\(profiles)"

            [site]
            id = "e2e-site"
            name = "end-to-end plant"
            province = "guangdong"
            rated_power_kw = 100.0
            rated_energy_kwh = 5.0
            technology_route = "lithium_iron_phosphate"
            location_category = "industrial_plant"
            total_investment_cny = 1000000.0
            commissioning_date = 2025-06-30
            time_zone = "Asia/Shanghai"

            [daemon]
            status_socket = "\(directory.appendingPathComponent("essd.sock").path)"

            [metrics]
            port = \(metricsPort ?? TestEnvironment.freePort())

            [store]
            state_directory = "\(stateDirectory.path)"
            checkpoint_interval_ms = 1000

            [[store.tier]]
            name = "raw"
            slot_seconds = 0
            retention_days = 0.5

            [[store.tier]]
            name = "1m"
            slot_seconds = 60
            retention_days = 2

            [[store.tier]]
            name = "15m"
            slot_seconds = 900
            retention_days = 30

            [defaults]
            poll_interval_ms = 500
            response_timeout_ms = 300

            [[device]]
            id = "pcs1"
            profile = "ess-sim-pcs"
            transport = "tcp"
            host = "127.0.0.1"
            port = \(ports[0])
            unit_id = 1

            [[device]]
            id = "bms1"
            profile = "ess-sim-bms"
            transport = "tcp"
            host = "127.0.0.1"
            port = \(ports[0])
            unit_id = 2

            [[device]]
            id = "ems1"
            profile = "ess-sim-ems"
            transport = "tcp"
            host = "127.0.0.1"
            port = \(ports[1])
            unit_id = 1

            """
        let file = directory.appendingPathComponent("site.toml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Runs a command to completion; returns (status, stdout, stderr).
    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func essdStoresWhatItPollsAndStopsCleanly() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e")
        defer { try? FileManager.default.removeItem(at: work) }
        let state = work.appendingPathComponent("state")
        let site = try Self.writeSite(in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()], stateDirectory: state)

        // The plan is known before anything is written.
        let (planStatus, planJSON, planErr) = try Self.run(TestEnvironment.product("essctl"), ["store", "plan", "--config", site.path, "--json"])
        #expect(planStatus == 0, "\(planErr)")
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(planJSON.utf8)) as? [String: Any])
        let files = try #require(plan["files"] as? [[String: Any]])
        #expect(files.count == 3)
        for file in files {
            let rows = try #require(file["rows"] as? Int, "\(file)")
            let perRow = try #require(file["slots_per_row"] as? Int, "\(file)")
            #expect(file["slots"] as? Int == rows * perRow, "\(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: state.path), "planning writes nothing")

        let sim = try ChildProcess(TestEnvironment.product("ess-sim"), ["--config", site.path], name: "ess-sim")
        defer { sim.terminate() }
        try sim.waitForLine(containing: "ess-sim ready")
        let essd = try ChildProcess(TestEnvironment.product("essd"), ["--config", site.path], name: "essd")
        defer { essd.terminate() }
        Thread.sleep(forTimeInterval: 4)

        // SIGTERM: exit 0 within 5 s, after a final checkpoint.
        let stopAsked = Date()
        kill(essd.process.processIdentifier, SIGTERM)
        while essd.process.isRunning && Date().timeIntervalSince(stopAsked) < 5 { usleep(20_000) }
        #expect(!essd.process.isRunning, "essd did not stop within 5 s")
        essd.process.waitUntilExit()
        #expect(essd.process.terminationStatus == 0, "essd exit status; stderr:\n\(essd.standardError)")
        let stoppedMS = Int64(Date().timeIntervalSince1970 * 1000)

        // The files are exactly the planned sizes.
        for file in files {
            let name = try #require(file["file"] as? String)
            let bytes = try #require((file["bytes"] as? NSNumber)?.int64Value)
            let attributes = try FileManager.default.attributesOfItem(atPath: state.appendingPathComponent(name).path)
            #expect((attributes[.size] as? NSNumber)?.int64Value == bytes, "\(name)")
        }

        // Data up to the last poll is there, read by another process' view of the files.
        let reader = try StoreReader(directory: state.path)
        for device in ["pcs1", "bms1", "ems1"] {
            let latest = try #require(try reader.latest(group: device), "no raw row for \(device)")
            #expect(stoppedMS - latest.timestampMS < 1500, "\(device)'s last stored poll is \(stoppedMS - latest.timestampMS) ms old")
            let rows = try reader.raw(group: device, fromMS: stoppedMS - 10_000, toMS: stoppedMS).rows
            #expect(rows.count >= 6, "\(device): \(rows.count) raw rows")
        }
        let site1m = try reader.slots(tier: "1m", group: "site", fromMS: stoppedMS - 120_000, toMS: stoppedMS)
        #expect(site1m.contains { $0.slot.map { !$0.signals.allSatisfy(\.isUnknown) } ?? false }, "the open 1-minute slot was written at shutdown")
        // essctl series reads the files with essd stopped: data up to the last poll.
        let (seriesStatus, seriesJSON, seriesErr) = try Self.run(
            TestEnvironment.product("essctl"), ["series", "bms1/soc", "--from", "-1m", "--to", "now", "--config", site.path, "--json"])
        #expect(seriesStatus == 0, "\(seriesErr)")
        let series = try #require(try JSONSerialization.jsonObject(with: Data(seriesJSON.utf8)) as? [String: Any])
        #expect(series["tier"] as? String == "raw")
        let seriesRows = try #require(series["rows"] as? [[String: Any]])
        let lastRowMS = try #require((seriesRows.last?["time_ms"] as? NSNumber)?.int64Value)
        #expect(stoppedMS - lastRowMS < 1500, "essctl series ends \(stoppedMS - lastRowMS) ms before the stop")
        #expect(seriesRows.allSatisfy { $0["value"] is NSNumber }, "every raw row of a healthy device has a value")
        // Issue 12, finding 10: each raw value with its quality; a step with counts per quality.
        #expect(seriesRows.allSatisfy { $0["quality"] as? String == "ok" }, "\(seriesRows.prefix(3))")
        let (_, stepJSON, _) = try Self.run(
            TestEnvironment.product("essctl"),
            ["series", "bms1/soc", "--from", "-10m", "--to", "now", "--tier", "raw", "--step", "1m", "--config", site.path, "--json"])
        let stepRows = try #require(
            (try JSONSerialization.jsonObject(with: Data(stepJSON.utf8)) as? [String: Any])?["rows"] as? [[String: Any]], "\(stepJSON)")
        let counted = stepRows.compactMap { ($0["quality_counts"] as? [String: Int])?["ok"] }.reduce(0, +)
        #expect(counted == seriesRows.count, "quality counts over the steps \(counted), raw rows \(seriesRows.count)")
        // Consolidated slots carry counts per quality too (from the raw rows the raw tier still holds).
        let (_, slotJSON, _) = try Self.run(
            TestEnvironment.product("essctl"),
            ["series", "bms1/soc", "--from", "-10m", "--to", "now", "--tier", "1m", "--config", site.path, "--json"])
        let slotRows = try #require(
            (try JSONSerialization.jsonObject(with: Data(slotJSON.utf8)) as? [String: Any])?["rows"] as? [[String: Any]], "\(slotJSON)")
        let covered = slotRows.filter { (($0["coverage_percent"] as? NSNumber)?.doubleValue ?? 0) > 0 }
        #expect(!covered.isEmpty, "\(slotJSON.prefix(400))")
        for row in covered {
            let counts = row["quality_counts"] as? [String: Int]
            #expect((counts?["ok"] ?? 0) > 0, "a covered slot counts its ok samples: \(row)")
        }

        // essctl follows essd's --state-directory: the store moved elsewhere is read with the option.
        let moved = work.appendingPathComponent("moved-state")
        try FileManager.default.copyItem(at: state, to: moved)
        try FileManager.default.removeItem(at: state)
        let (lostStatus, _, _) = try Self.run(
            TestEnvironment.product("essctl"), ["series", "bms1/soc", "--from", "-1m", "--to", "now", "--config", site.path])
        #expect(lostStatus == 74, "no store at the configuration's path")
        let (movedStatus, movedJSON, movedErr) = try Self.run(
            TestEnvironment.product("essctl"),
            ["series", "bms1/soc", "--from", "-1m", "--to", "now", "--config", site.path, "--state-directory", moved.path, "--json"])
        let movedRows = (try? JSONSerialization.jsonObject(with: Data(movedJSON.utf8)) as? [String: Any])?["rows"] as? [[String: Any]]
        #expect(movedStatus == 0 && movedRows?.count == seriesRows.count, "\(movedErr)")
        try FileManager.default.moveItem(at: moved, to: state)
        let (healthStatus, health, healthErr) = try Self.run(TestEnvironment.product("essctl"), ["store", "health", "--config", site.path])
        #expect(healthStatus == 0, "\(health)\(healthErr)")
        #expect(health.contains("damaged rows: 0"))

        // Identity texts (the profiles' serial_number and firmware_version) are in the store's
        // identity log, once each, although essd polled them at start only.
        let identity = try IdentityLog.read(directory: state.path)
        #expect(identity.unreadableLines.isEmpty)
        let texts = IdentityLog.latest(identity.records).mapValues { $0.mapValues(\.text) }
        #expect(texts["pcs1"] == ["serial_number": "SIM-PCS1-0001", "firmware_version": "1.0.0"])
        #expect(texts["bms1"] == ["serial_number": "SIM-BMS1-0001"])
        #expect(identity.records.count == 3, "one record per text, not per scan: \(identity.records)")
    }

    @Test func sighupAppliesAValidConfigurationAndKeepsTheOldOneOnErrors() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-hup")
        defer { try? FileManager.default.removeItem(at: work) }
        let state = work.appendingPathComponent("state")
        let site = try Self.writeSite(in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()], stateDirectory: state)
        let good = try String(contentsOf: site, encoding: .utf8)
        let sim = try ChildProcess(TestEnvironment.product("ess-sim"), ["--config", site.path], name: "ess-sim")
        defer { sim.terminate() }
        try sim.waitForLine(containing: "ess-sim ready")
        let essd = try ChildProcess(TestEnvironment.product("essd"), ["--config", site.path], name: "essd")
        defer { essd.terminate() }
        Thread.sleep(forTimeInterval: 1.5)

        // A broken file: essd keeps running on the old configuration and logs every error.
        try (good + "\n[[device]]\nid = \"bad\"\nbogus_key = 1\n").write(to: site, atomically: true, encoding: .utf8)
        kill(essd.process.processIdentifier, SIGHUP)
        try waitForStderr(essd, containing: "reload rejected")
        #expect(essd.process.isRunning)
        #expect(essd.standardError.contains("bogus_key"), "every error is logged")

        // A valid change to one device: only that device's poller restarts.
        try good.replacingOccurrences(of: "unit_id = 2\n", with: "unit_id = 2\nresponse_timeout_ms = 400\n")
            .write(to: site, atomically: true, encoding: .utf8)
        kill(essd.process.processIdentifier, SIGHUP)
        try waitForStderr(essd, containing: "reload applied")
        #expect(essd.standardError.contains("kept=2"), "\(essd.standardError.suffix(800))")
        #expect(essd.standardError.contains("started=1"))
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        Thread.sleep(forTimeInterval: 1.5)
        kill(essd.process.processIdentifier, SIGTERM)
        essd.process.waitUntilExit()
        #expect(essd.process.terminationStatus == 0)
        let reader = try StoreReader(directory: state.path)
        let bms = try #require(try reader.latest(group: "bms1"))
        #expect(bms.timestampMS > before, "the restarted poller stores again")
        // The start and the applied reload are in the store's history (events.csv); the refused one is not.
        let runEvents = try reader.events().events
        #expect(runEvents.contains { if case .started = $0 { true } else { false } }, "\(runEvents)")
        let reloads = runEvents.filter { if case .reconfigured = $0 { true } else { false } }
        #expect(reloads.count == 1, "one applied reload: \(runEvents)")
    }

    func waitForStderr(_ process: ChildProcess, containing text: String, timeout: Double = 15) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if process.standardError.contains(text) { return }
            usleep(50_000)
        }
        throw TestFailure("essd did not log '\(text)' within \(timeout) s; stderr:\n\(process.standardError.suffix(2000))")
    }

    @Test func essctlStatusAndMetricsShowTheSimulatorsState() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-status")
        defer { try? FileManager.default.removeItem(at: work) }
        let metricsPort = TestEnvironment.freePort()
        let site = try Self.writeSite(
            in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()],
            stateDirectory: work.appendingPathComponent("state"), metricsPort: metricsPort)
        let sim = try ChildProcess(TestEnvironment.product("ess-sim"), ["--config", site.path], name: "ess-sim")
        defer { sim.terminate() }
        try sim.waitForLine(containing: "ess-sim ready")
        try sim.request("freeze on", reply: "ok")
        let essd = try ChildProcess(TestEnvironment.product("essd"), ["--config", site.path], name: "essd")
        defer { essd.terminate() }
        Thread.sleep(forTimeInterval: 2.5)

        let stateLine = try sim.request("state", reply: "{")
        let state = try #require(try JSONSerialization.jsonObject(with: Data(stateLine.utf8)) as? [String: Any])
        let devices = try #require(state["devices"] as? [[String: Any]])
        let bms = try #require(devices.first { $0["id"] as? String == "bms1" }?["points"] as? [String: Any])
        let servedSoC = try #require((bms["soc"] as? NSNumber)?.doubleValue)

        let (status, json, err) = try Self.run(TestEnvironment.product("essctl"), ["status", "--config", site.path, "--json"])
        #expect(status == 0, "\(err)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        let soc = try #require((summary["soc_percent"] as? NSNumber)?.doubleValue, "\(json)")
        #expect(abs(soc - servedSoC) <= 0.05 + 1e-9, "essctl SoC \(soc), simulator \(servedSoC)")
        #expect(summary["devices_up"] as? Int == 3, "\(json)")

        let (tableStatus, table, _) = try Self.run(TestEnvironment.product("essctl"), ["devices", "--config", site.path])
        #expect(tableStatus == 0)
        for id in ["pcs1", "bms1", "ems1"] { #expect(table.contains(id), "\(table)") }
        // Identity texts are polled once an hour, yet stay shown after the first read.
        #expect(table.contains("serial_number=SIM-PCS1-0001"), "\(table)")
        let (_, devicesJSON, _) = try Self.run(TestEnvironment.product("essctl"), ["devices", "--config", site.path, "--json"])
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(devicesJSON.utf8)) as? [[String: Any]])
        let pcs = try #require(listed.first { $0["device_id"] as? String == "pcs1" })
        #expect(pcs["identity"] as? [String: String] == ["serial_number": "SIM-PCS1-0001", "firmware_version": "1.0.0"])

        // Issue 12, finding 10: essctl latest, each point with its quality.
        let (latestStatus, latestJSON, latestErr) = try Self.run(
            TestEnvironment.product("essctl"), ["latest", "bms1", "--config", site.path, "--json"])
        #expect(latestStatus == 0, "\(latestErr)")
        let latest = try #require(try JSONSerialization.jsonObject(with: Data(latestJSON.utf8)) as? [[String: Any]], "\(latestJSON)")
        #expect(latest.map { $0["device_id"] as? String } == ["bms1"])
        let points = try #require(latest.first?["points"] as? [[String: Any]])
        #expect(!points.isEmpty && points.allSatisfy { $0["quality"] is String }, "\(points)")
        let socPoint = try #require(points.first { $0["role"] as? String == "soc_percent" }, "\(points)")
        let latestSoC = try #require((socPoint["value"] as? NSNumber)?.doubleValue, "\(socPoint)")
        #expect(socPoint["quality"] as? String == "ok" && abs(latestSoC - servedSoC) <= 0.5, "\(socPoint), simulator \(servedSoC)")
        let (latestTableStatus, latestTable, _) = try Self.run(TestEnvironment.product("essctl"), ["latest", "--config", site.path])
        #expect(latestTableStatus == 0 && latestTable.contains("QUALITY") && latestTable.contains("pcs1"), "\(latestTable)")
        let (unknownStatus, _, unknownErr) = try Self.run(TestEnvironment.product("essctl"), ["latest", "nosuch", "--config", site.path])
        #expect(unknownStatus == 65 && unknownErr.contains("bms1"), "\(unknownErr)")

        let metrics = try Self.httpGet(port: metricsPort, path: "/metrics")
        #expect(metrics.contains("essd_device_up{"), "\(metrics.prefix(500))")
        #expect(metrics.contains("essd_build_info{"))
        #expect(metrics.contains("role=\"soc_percent\""))

        // Unreachable daemon: a clear message and exit 69.
        kill(essd.process.processIdentifier, SIGTERM)
        essd.process.waitUntilExit()
        let (downStatus, _, downErr) = try Self.run(TestEnvironment.product("essctl"), ["status", "--config", site.path])
        #expect(downStatus == 69)
        #expect(downErr.contains("essd is not running"), "\(downErr)")
    }

    @Test func aDeviceThatStopsAnsweringGoesDownWhileTheOthersKeepPolling() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-down")
        defer { try? FileManager.default.removeItem(at: work) }
        let site = try Self.writeSite(
            in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()], stateDirectory: work.appendingPathComponent("state"))
        let sim = try ChildProcess(TestEnvironment.product("ess-sim"), ["--config", site.path], name: "ess-sim")
        defer { sim.terminate() }
        try sim.waitForLine(containing: "ess-sim ready")
        let essd = try ChildProcess(TestEnvironment.product("essd"), ["--config", site.path], name: "essd")
        defer { essd.terminate() }
        Thread.sleep(forTimeInterval: 1.5)

        func devices() throws -> [String: [String: Any]] {
            let (status, json, err) = try Self.run(TestEnvironment.product("essctl"), ["devices", "--config", site.path, "--json"])
            guard status == 0 else { throw TestFailure("essctl devices: \(status) \(err)") }
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
            let list = (object as? [[String: Any]]) ?? ((object as? [String: Any])?["devices"] as? [[String: Any]]) ?? []
            return Dictionary(uniqueKeysWithValues: list.compactMap { d in (d["device_id"] as? String).map { ($0, d) } })
        }
        #expect(try devices().values.allSatisfy { $0["state"] as? String == "up" })

        try sim.request("silent bms1 on", reply: "ok")
        Thread.sleep(forTimeInterval: 2)
        let during = try devices()
        #expect(during["bms1"]?["state"] as? String == "down", "\(during["bms1"] ?? [:])")
        #expect(during["pcs1"]?["state"] as? String == "up")
        #expect(during["ems1"]?["state"] as? String == "up")
        let pcsScansBefore = during["pcs1"]?["scans"] as? Int ?? 0

        try sim.request("silent bms1 off", reply: "ok")
        Thread.sleep(forTimeInterval: 2)
        let after = try devices()
        #expect(after["bms1"]?["state"] as? String == "up", "\(after["bms1"] ?? [:])")
        // The others polled on time meanwhile: 500 ms interval, 2 s, so about 4 scans, none missed.
        #expect((after["pcs1"]?["scans"] as? Int ?? 0) - pcsScansBefore >= 3)
        #expect(after["pcs1"]?["missed_cycles"] as? Int == 0)
        let lateness = (after["pcs1"]?["start_lateness_p99_ms"] as? NSNumber)?.doubleValue ?? .infinity
        #expect(lateness < 50, "pcs1 poll-start lateness p99 \(lateness) ms")
        #expect(essd.standardError.contains("device down"))
        #expect(essd.standardError.contains("device up"))
    }

    /// A plain HTTP/1.1 GET over a socket (no client library between the test and essd).
    static func httpGet(port: Int, path: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("cannot connect to metrics port \(port): errno \(errno)") }
        let request = "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }

    @Test func essdTalksToSystemdOverNotifySocket() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-notify")
        defer { try? FileManager.default.removeItem(at: work) }
        let site = try Self.writeSite(
            in: work, ports: [TestEnvironment.freePort(), TestEnvironment.freePort()], stateDirectory: work.appendingPathComponent("state"))
        let sim = try ChildProcess(TestEnvironment.product("ess-sim"), ["--config", site.path], name: "ess-sim")
        defer { sim.terminate() }
        try sim.waitForLine(containing: "ess-sim ready")
        let listener = try NotifyListener()
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in listener.environment(watchdogUS: 1_000_000) { environment[key] = value }
        let essd = try ChildProcess(TestEnvironment.product("essd"), ["--config", site.path], name: "essd", environment: environment)
        defer { essd.terminate() }
        let firstTwoSeconds = listener.drain(window: 2.5).joined(separator: "\n")
        #expect(firstTwoSeconds.contains("READY=1"), "\(firstTwoSeconds)")
        #expect(firstTwoSeconds.contains("STATUS=polling 3 devices"), "\(firstTwoSeconds)")
        #expect(firstTwoSeconds.contains("WATCHDOG=1"), "the watchdog is fed while polls progress: \(firstTwoSeconds)")
        kill(essd.process.processIdentifier, SIGHUP)
        let reload = listener.drain(window: 1.5).joined(separator: "\n")
        #expect(reload.contains("RELOADING=1"), "\(reload)")
        #expect(reload.contains("MONOTONIC_USEC="), "\(reload)")
        kill(essd.process.processIdentifier, SIGTERM)
        let stop = listener.drain(window: 1.5).joined(separator: "\n")
        #expect(stop.contains("STOPPING=1"), "\(stop)")
        essd.process.waitUntilExit()
        #expect(essd.process.terminationStatus == 0)
    }

    @Test func anInvalidConfigurationExits78AndNamesTheProblem() throws {
        let work = try TestEnvironment.temporaryDirectory("essd-e2e-bad")
        defer { try? FileManager.default.removeItem(at: work) }
        let site = try Self.writeSite(in: work, ports: [1502, 1503], stateDirectory: work.appendingPathComponent("state"))
        var text = try String(contentsOf: site, encoding: .utf8)
        text = text.replacingOccurrences(of: "poll_interval_ms = 500", with: "poll_interval_ms = 500\npoll_intervall_ms = 5")
        try text.write(to: site, atomically: true, encoding: .utf8)
        let (status, _, stderr) = try Self.run(TestEnvironment.product("essd"), ["--check-config", site.path])
        #expect(status == 78)
        #expect(stderr.contains("site.toml:"), "\(stderr)")
        #expect(stderr.contains("poll_intervall_ms"), "\(stderr)")
        let (runStatus, _, _) = try Self.run(TestEnvironment.product("essd"), ["--config", site.path])
        #expect(runStatus == 78)
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("state").path), "nothing was created")
        let (ctlStatus, _, _) = try Self.run(TestEnvironment.product("essctl"), ["config", "check", site.path])
        #expect(ctlStatus == 78)
    }
}
