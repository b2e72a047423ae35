internal import ESSCore
internal import Foundation

/// How the site reader reaches profile files; `ConfigurationLoader` supplies the real file
/// system, tests may supply a dictionary.
struct ProfileFiles {
    /// The text of a file, or why there is none.
    var read: (String) -> ConfigurationFile.Outcome
    /// Base names (without ".toml") of the profiles in a directory, or nil when unreadable.
    var list: (String) -> [String]?
}

/// Turns a site file's TOML into a `SiteConfiguration`, loading each named profile once and
/// recording every issue in the site file and in the profiles.
enum SiteReader {
    static let topKeys = ["site", "store", "profile_directory", "defaults", "device", "daemon", "metrics"] + SiteCriteriaReader.topKeys
    static let daemonKeys = ["status_socket", "realtime_priority", "wait_for_clock_sync", "clock_sync_timeout_s", "clock_step_confirm_s"]
    static let metricsKeys = ["enabled", "listen_address", "port"]
    static let siteKeys = [
        "id", "name", "province", "rated_power_kw", "rated_energy_kwh", "technology_route", "location_category",
        "total_investment_cny", "commissioning_date", "time_zone",
    ] + SiteCriteriaReader.siteKeys
    static let storeKeys = ["state_directory", "checkpoint_interval_ms", "raw_budget_mb", "meter_device", "tier"]
    static let tierKeys = ["name", "slot_seconds", "retention_days"]
    static let pollKeys = [
        "poll_interval_ms", "response_timeout_ms", "max_registers_per_request", "max_bits_per_request",
        "max_hole_registers", "inter_request_delay_ms", "keep_connection_open",
        "split_budget_requests", "refused_reprobe_s", "busy_retries", "busy_retry_pause_ms", "reconnect_max_delay_ms",
    ]
    static let tcpKeys = ["host", "port"]
    static let rtuKeys = ["serial_device", "baud", "parity", "data_bits", "stop_bits"]
    static let deviceKeys =
        ["id", "profile", "transport"] + tcpKeys + rtuKeys + ["unit_id"] + pollKeys + ["rated_energy_kwh", "rated_power_kw"]
    /// Advice for top-level keys written below a table header, where TOML puts them in that table.
    static let misplaced = [
        "profile_directory": "profile_directory is a top-level key: move it above the first [table] header",
        "tariff_directory": "tariff_directory is a top-level key: move it above the first [table] header",
        "policy_directory": "policy_directory is a top-level key: move it above the first [table] header",
    ]
    static let baudRates = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400]

    static func read(
        text: String, file: String, profileDirectory: String, files: ProfileFiles, log: IssueLog
    ) -> SiteConfiguration? {
        guard let top = TableReader.parse(text: text, file: file, log: log) else { return nil }
        top.rejectUnknownKeys(allowed: topKeys)

        let siteTable = top.table("site", required: true)
        let facts = siteTable.flatMap(readFacts)
        // Tariff, policy folder and design facts: checked here, returned by loadSiteCriteria.
        _ = SiteCriteriaReader.read(top: top, site: siteTable, file: file, files: files, log: log)
        var stateDirectory: String?
        var storeSettings = StoreSettings()
        var storeReader: TableReader?
        if let store = top.table("store", required: true) {
            storeReader = store
            store.rejectUnknownKeys(allowed: storeKeys, hints: misplaced)
            stateDirectory = store.string("state_directory", required: true)
            if let path = stateDirectory, let problem = StartupRules.pathProblem(path, maxBytes: StartupRules.maxDirectoryBytes) {
                store.issue("state_directory", problem)
                stateDirectory = nil
            }
            storeSettings = readStore(store)
        }
        var daemonSettings = DaemonSettings()
        if let d = top.table("daemon") {
            d.rejectUnknownKeys(allowed: daemonKeys, hints: misplaced)
            if let priority = d.integer("realtime_priority", in: 1...99) { daemonSettings.realtimePriority = priority }
            if let wait = d.bool("wait_for_clock_sync") { daemonSettings.waitForClockSync = wait }
            if let s = d.integer("clock_sync_timeout_s", in: 1...86_400) { daemonSettings.clockSyncTimeoutS = s }
            if let s = d.integer("clock_step_confirm_s", in: 0...3600) { daemonSettings.clockStepConfirmS = s }
            if let path = d.string("status_socket") {
                if !path.hasPrefix("/") {
                    d.issue("status_socket", "must be an absolute path, e.g. \"/run/essd/essd.sock\"")
                } else if path.utf8.count > StartupRules.maxSocketPathBytes {
                    d.issue(
                        "status_socket",
                        "is \(path.utf8.count) bytes long; a Unix socket path has at most \(StartupRules.maxSocketPathBytes) bytes (sockaddr_un): choose a shorter one, e.g. \"/run/essd/essd.sock\"")
                } else {
                    daemonSettings.statusSocketPath = path
                }
            }
        }
        if let m = top.table("metrics") {
            m.rejectUnknownKeys(allowed: metricsKeys, hints: misplaced)
            if let address = m.string("listen_address") {
                if StartupRules.ipv4(address) != nil {
                    daemonSettings.metricsListenAddress = address
                } else {
                    let why = StartupRules.ipv4Problem(address).map { ": \($0)" } ?? ""
                    m.issue(
                        "listen_address",
                        "\(TOMLValue.abbreviated(address)) is not an IPv4 address\(why); the metrics endpoint listens on one IPv4 address: \"127.0.0.1\" (this machine only) or \"0.0.0.0\" (every interface)")
                }
            }
            if let port = m.integer("port", in: 1...65535) { daemonSettings.metricsPort = port }
            if m.bool("enabled") == false { daemonSettings.metricsPort = nil }
        }
        var profileDir = profileDirectory
        if let dir = top.string("profile_directory") {
            profileDir = dir.hasPrefix("/") ? dir : join(directory(of: file), dir)
        }
        var defaults = PollSettings()
        if let d = top.table("defaults") {
            d.rejectUnknownKeys(allowed: pollKeys, hints: misplaced)
            defaults = readPoll(d, base: defaults)
        }

        let deviceReaders = top.tableArray("device")
        if deviceReaders.isEmpty, top.table["device"] == nil {
            log.add(file: file, line: 1, key: "device", "no devices; add at least one [[device]] table")
        }
        var profiles: [String: LoadedProfile?] = [:]
        var devices: [DeviceDefinition] = []
        var allValid = true
        var seenIDs: [String: Int] = [:]
        var seenEndpoints: [String: (id: String, line: Int)] = [:]
        var serialLines: [String: (id: String, line: Int, transport: Transport)] = [:]
        for r in deviceReaders {
            let (fields, profileName) = readDevice(r, defaults: defaults)
            if let profileName, profiles[profileName] == nil {
                profiles[profileName] = loadProfile(profileName, directory: profileDir, files: files, log: log, site: r)
            }
            guard let built = fields else {
                allValid = false
                continue
            }
            if let first = seenIDs[built.id] {
                r.issue("id", "duplicate device id \"\(built.id)\"; first defined at line \(first)")
                allValid = false
            } else {
                seenIDs[built.id] = r.line(of: "id")
            }
            let endpointKey = "\(built.transport.endpoint)#\(built.unitID)"
            if built.transport == .importOnly {
                // No link: several import-only devices share no endpoint.
            } else if let first = seenEndpoints[endpointKey] {
                r.issue(
                    "unit_id",
                    "device \"\(built.id)\" has the same endpoint \(built.transport.endpoint) and unit_id \(built.unitID) as device \"\(first.id)\" (line \(first.line)); give each device on one link its own unit_id"
                )
                allValid = false
            } else {
                seenEndpoints[endpointKey] = (built.id, r.table.position.line)
            }
            if case .rtu(let dev, let baud, let parity, let dataBits, let stopBits) = built.transport {
                if let first = serialLines[dev], case .rtu(_, let b0, let p0, let d0, let s0) = first.transport {
                    let mismatches: [(String, String, String)] = [
                        ("baud", "\(baud)", "\(b0)"), ("parity", parity.rawValue, p0.rawValue),
                        ("data_bits", "\(dataBits)", "\(d0)"), ("stop_bits", "\(stopBits)", "\(s0)"),
                    ].filter { $0.1 != $0.2 }
                    for (key, mine, theirs) in mismatches {
                        r.issue(
                            key,
                            "\(key) \(mine) differs from \(theirs) of device \"\(first.id)\" (line \(first.line)) on the same serial device \(dev); devices on one serial line must agree on baud, parity, data_bits and stop_bits"
                        )
                        allValid = false
                    }
                } else {
                    serialLines[dev] = (built.id, r.table.position.line, built.transport)
                }
            }

            guard let loaded = profiles[built.profileName] ?? nil else {
                allValid = false
                continue
            }
            if built.transport != .importOnly, loaded.importOnly {
                r.issue(
                    "profile",
                    "profile \"\(built.profileName)\" is import_only = true (signals without registers, \(loaded.file)); device \"\(built.id)\" is polled over \(built.transport.endpoint) and needs a profile with registers. Set transport = \"none\" if its history only comes from essctl import"
                )
                allValid = false
                continue
            }
            if built.transport != .importOnly {
                let limits = ReadPlanLimits(
                    maxRegisters: built.poll.maxRegisters, maxBits: built.poll.maxBits, maxHole: built.poll.maxHole)
                // Points that fail under Modbus' own limits were reported once already.
                let reported = Set(loaded.baseLimitErrors.map(\.pointName))
                for e in ReadPlanner.validate(points: loaded.points, limits: limits) where !reported.contains(e.pointName) {
                    ProfileReader.report(e, in: loaded, note: "limits of device \"\(built.id)\" at \(file):\(r.table.position.line)", log: log)
                    allValid = false
                }
            }
            guard let profile = loaded.profile else {
                allValid = false
                continue
            }
            devices.append(built.definition(profile: profile))
        }
        if let store = storeReader {
            checkStoreReferences(storeSettings, devices: devices, store: store, profiles: profiles, log: log)
        }
        guard allValid, log.isEmpty, let facts, let stateDirectory else { return nil }
        return SiteConfiguration(
            site: facts, stateDirectory: stateDirectory, devices: devices, store: storeSettings, daemon: daemonSettings)
    }

    // MARK: [store]

    /// Checkpoint cadence, raw byte budget, storage meter and tiers (defaults: raw 48 h,
    /// 1 min for 400 days, 15 min for 10 years, 1 day for 30 years).
    static func readStore(_ store: TableReader) -> StoreSettings {
        var settings = StoreSettings()
        if let ms = store.integer("checkpoint_interval_ms", in: 1000...600_000) { settings.checkpointIntervalMS = ms }
        if let mb = store.integer("raw_budget_mb", in: 1...10_000_000) { settings.rawBudgetBytes = Int64(mb) * 1_048_576 }
        settings.meterDeviceID = store.string("meter_device")
        let tierReaders = store.tableArray("tier")
        guard !tierReaders.isEmpty else { return settings }
        var tiers: [TierDefinition] = []
        var names: [String: Int] = [:]
        for r in tierReaders {
            r.rejectUnknownKeys(allowed: tierKeys)
            guard let name = r.identifier("name", required: true, allowHyphen: true, maxBytes: StoreNameLimits.tierNameBytes.upperBound),
                let slotSeconds = r.integer("slot_seconds", required: true, in: 0...31_622_400),
                let days = r.double("retention_days", required: true, ruleText: "> 0 and at most 36525", { $0 > 0 && $0 <= 36525 })
            else { continue }
            if let first = names[name] {
                r.issue("name", "tier \"\(name)\" is defined twice (first at line \(first)); tier names must be unique")
                continue
            }
            if slotSeconds == 0 && tiers.contains(where: \.isRaw) {
                r.issue("slot_seconds", "only one raw tier (slot_seconds = 0) is allowed")
                continue
            }
            let retentionMS = Int64(days * 86_400_000)
            guard retentionMS > 0 else {
                r.issue("retention_days", "\(days) days is less than a millisecond; the store keeps at least one")
                continue
            }
            names[name] = r.line(of: "name")
            tiers.append(TierDefinition(name: name, slotMS: Int64(slotSeconds) * 1000, retentionMS: retentionMS))
        }
        settings.tiers = tiers
        return settings
    }

    /// The storage meter must be a device; every point's `tiers` must name tiers of the store.
    static func checkStoreReferences(
        _ settings: StoreSettings, devices: [DeviceDefinition], store: TableReader, profiles: [String: LoadedProfile?],
        log: IssueLog
    ) {
        if let meter = settings.meterDeviceID, !devices.contains(where: { $0.id == meter }) {
            store.issue("meter_device", "names no device \"\(meter)\"; expected one of: \(devices.map(\.id).joined(separator: ", "))")
        }
        let known = Set(settings.tiers.map(\.name))
        var reported = Set<String>()
        for device in devices {
            for point in device.profile.points {
                guard let tiers = point.tiers else { continue }
                for tier in tiers.sorted() where !known.contains(tier) && reported.insert("\(device.profile.name)/\(point.name)/\(tier)").inserted {
                    store.issue(
                        "tier",
                        "point \"\(point.name)\" of profile \"\(device.profile.name)\" keeps tier \"\(tier)\", which the store does not define; defined tiers: \(settings.tiers.map(\.name).joined(separator: ", "))")
                }
            }
        }
    }

    // MARK: [site]

    private static func readFacts(_ r: TableReader) -> SiteFacts? {
        r.rejectUnknownKeys(allowed: siteKeys, hints: misplaced)
        let id = r.identifier("id", required: true, allowHyphen: true, maxBytes: StoreNameLimits.siteIDBytes.upperBound)
        let name = r.string("name", required: true)
        let province = r.string("province", required: true)
        let power = r.double("rated_power_kw", required: true, ruleText: "greater than 0") { $0 > 0 }
        let energy = r.double("rated_energy_kwh", required: true, ruleText: "greater than 0") { $0 > 0 }
        let route = r.string("technology_route", required: true)
        let location = r.string("location_category", required: true)
        let investment = r.double("total_investment_cny", required: true, ruleText: "of at least 0") { $0 >= 0 }
        let commissioning = r.date("commissioning_date", required: true)
        var zone = r.string("time_zone", required: true)
        if let z = zone, TimeZone(identifier: z) == nil {
            r.issue("time_zone", "\(TOMLValue.abbreviated(z)) is not a known IANA time zone; expected a name such as Asia/Shanghai or UTC")
            zone = nil
        }
        guard let id, let name, let province, let power, let energy, let route, let location, let investment,
            let commissioning, let zone
        else { return nil }
        return SiteFacts(
            id: id, name: name, province: province, ratedPowerKW: power, ratedEnergyKWh: energy,
            technologyRoute: route, locationCategory: location, totalInvestmentCNY: investment,
            commissioningDate: commissioning, timeZone: zone)
    }

    // MARK: Devices

    struct PollSettings {
        var pollIntervalMS = 1000
        var responseTimeoutMS = 500
        var maxRegisters = 125
        var maxBits = 2000
        var maxHole = 10
        var interRequestDelayMS = 0
        var keepConnectionOpen = true
        var splitBudgetRequests = 16
        var refusedReprobeSeconds = 3600
        var busyRetries = 3
        var busyRetryPauseMS = 20
        var reconnectMaxDelayMS = 2000
    }

    /// Reads the poll keys present in `r` over `base`; a bad key keeps the base value.
    static func readPoll(_ r: TableReader, base: PollSettings) -> PollSettings {
        var p = base
        if r.has("poll_interval_ms"), let v = r.integer("poll_interval_ms", in: 50...3_600_000) { p.pollIntervalMS = v }
        if r.has("response_timeout_ms"), let v = r.integer("response_timeout_ms", in: 10...60_000) { p.responseTimeoutMS = v }
        if r.has("max_registers_per_request"), let v = r.integer("max_registers_per_request", in: 1...125) { p.maxRegisters = v }
        if r.has("max_bits_per_request"), let v = r.integer("max_bits_per_request", in: 1...2000) { p.maxBits = v }
        if r.has("max_hole_registers"), let v = r.integer("max_hole_registers", in: 0...125) { p.maxHole = v }
        if r.has("inter_request_delay_ms"), let v = r.integer("inter_request_delay_ms", in: 0...10_000) { p.interRequestDelayMS = v }
        if r.has("keep_connection_open"), let v = r.bool("keep_connection_open") { p.keepConnectionOpen = v }
        if r.has("split_budget_requests"), let v = r.integer("split_budget_requests", in: 0...250) { p.splitBudgetRequests = v }
        if r.has("refused_reprobe_s"), let v = r.integer("refused_reprobe_s", in: 10...604_800) { p.refusedReprobeSeconds = v }
        if r.has("busy_retries"), let v = r.integer("busy_retries", in: 0...10) { p.busyRetries = v }
        if r.has("busy_retry_pause_ms"), let v = r.integer("busy_retry_pause_ms", in: 1...10_000) { p.busyRetryPauseMS = v }
        if r.has("reconnect_max_delay_ms"), let v = r.integer("reconnect_max_delay_ms", in: 100...600_000) { p.reconnectMaxDelayMS = v }
        return p
    }

    struct DeviceFields {
        var id: String
        var profileName: String
        var transport: Transport
        var unitID: Int
        var poll: PollSettings
        var ratedEnergyKWh: Double?
        var ratedPowerKW: Double?

        func definition(profile: RegisterProfile) -> DeviceDefinition {
            DeviceDefinition(
                id: id, transport: transport, unitID: unitID, profile: profile, pollIntervalMS: poll.pollIntervalMS,
                responseTimeoutMS: poll.responseTimeoutMS, maxRegistersPerRequest: poll.maxRegisters,
                maxBitsPerRequest: poll.maxBits, maxHoleRegisters: poll.maxHole,
                interRequestDelayMS: poll.interRequestDelayMS, keepConnectionOpen: poll.keepConnectionOpen,
                splitBudgetRequests: poll.splitBudgetRequests, refusedReprobeSeconds: poll.refusedReprobeSeconds,
                busyRetries: poll.busyRetries, busyRetryPauseMS: poll.busyRetryPauseMS,
                reconnectMaxDelayMS: poll.reconnectMaxDelayMS,
                ratedEnergyKWh: ratedEnergyKWh, ratedPowerKW: ratedPowerKW)
        }
    }

    /// The device's fields when they are all valid, and its profile name when that is valid.
    private static func readDevice(_ r: TableReader, defaults: PollSettings) -> (DeviceFields?, profileName: String?) {
        r.rejectUnknownKeys(allowed: deviceKeys, hints: misplaced)
        let before = r.log.count
        var id = r.identifier("id", required: true, allowHyphen: true, maxBytes: StoreNameLimits.groupIDBytes.upperBound)
        if id == StoreNameLimits.siteGroupID {
            r.issue("id", "\"\(StoreNameLimits.siteGroupID)\" is the name of the site's own series in the store; give the device another id")
            id = nil
        }
        let profile = r.identifier("profile", required: true, allowHyphen: true)
        let kind = r.choice("transport", required: true, [("tcp", "tcp"), ("rtu", "rtu"), ("none", "none")])
        var transport: Transport?
        if kind == "none" {
            // Import-only: no link, no unit, nothing to poll; the poll interval stays (heartbeats,
            // the raw tier's size).
            for key in tcpKeys + rtuKeys + ["unit_id"] + pollKeys.filter({ $0 != "poll_interval_ms" }) where r.has(key) {
                r.issue(
                    key,
                    "\(key) is a Modbus setting but transport is \"none\" (an import-only device, never polled); import-only devices take: id, profile, transport, poll_interval_ms, rated_energy_kwh, rated_power_kw"
                )
            }
            transport = .importOnly
        } else if kind == "tcp" {
            for key in rtuKeys where r.has(key) {
                r.issue(key, "\(key) is a serial (rtu) setting but transport is \"tcp\"; tcp devices take: \(tcpKeys.joined(separator: ", "))")
            }
            var host = r.string("host", required: true)
            if let h = host, let problem = StartupRules.hostProblem(h) {
                r.issue("host", problem)
                host = nil
            }
            let port = r.has("port") ? r.integer("port", in: 1...65535) : 502
            if let host, let port { transport = .tcp(host: host, port: port) }
        } else if kind == "rtu" {
            for key in tcpKeys where r.has(key) {
                r.issue(key, "\(key) is a tcp setting but transport is \"rtu\"; rtu devices take: \(rtuKeys.joined(separator: ", "))")
            }
            var device = r.string("serial_device", required: true)
            if let path = device, let problem = StartupRules.pathProblem(path, maxBytes: StartupRules.maxFileBytes) {
                r.issue("serial_device", problem)
                device = nil
            }
            var baud: Int? = 9600
            if r.has("baud") {
                baud = r.integer("baud", in: 1...10_000_000)
                if let b = baud, !baudRates.contains(b) {
                    r.issue("baud", "\(b) is not a standard baud rate; expected one of: \(baudRates.map(String.init).joined(separator: ", "))")
                    baud = nil
                }
            }
            let parity = r.has("parity") ? r.choice("parity", SerialParity.allCases.map { ($0.rawValue, $0) }) : .even
            let dataBits = r.has("data_bits") ? r.integer("data_bits", in: 7...8) : 8
            let stopBits = r.has("stop_bits") ? r.integer("stop_bits", in: 1...2) : 1
            if let device, let baud, let parity, let dataBits, let stopBits {
                transport = .rtu(device: device, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits)
            }
        }
        var unitID: Int? = kind == "none" ? 0 : 1
        if r.has("unit_id"), kind != "none" {
            unitID = r.integer("unit_id", in: 0...255)
            if let u = unitID, u > 247, !(u == 255 && kind == "tcp") {
                r.issue("unit_id", "must be in 0...247 (tcp also allows 255), found \(u)")
                unitID = nil
            }
        }
        let poll = readPoll(r, base: defaults)
        let energy = r.double("rated_energy_kwh", ruleText: "greater than 0") { $0 > 0 }
        let power = r.double("rated_power_kw", ruleText: "greater than 0") { $0 > 0 }
        guard r.log.count == before, let id, let profile, let transport, let unitID else { return (nil, profile) }
        let fields = DeviceFields(
            id: id, profileName: profile, transport: transport, unitID: unitID, poll: poll, ratedEnergyKWh: energy,
            ratedPowerKW: power)
        return (fields, profile)
    }

    // MARK: Profiles

    private static func loadProfile(
        _ name: String, directory: String, files: ProfileFiles, log: IssueLog, site: TableReader
    ) -> LoadedProfile? {
        let path = join(directory, name + ".toml")
        let text: String
        switch files.read(path) {
        case .text(let t):
            text = t
        case .refused(let reason):
            site.issue("profile", "profile file \(path): \(reason)")
            return nil
        case .missing:
            var message = "profile file \(path) not found"
            if let names = files.list(directory) {
                message += names.isEmpty ? "; the folder \(directory) holds no .toml profiles" : "; the folder \(directory) holds: \(names.sorted().joined(separator: ", "))"
            } else {
                message += "; the profile directory \(directory) cannot be read (set profile_directory)"
            }
            site.issue("profile", message)
            return nil
        }
        return ProfileReader.read(text: text, file: path, log: log)
    }

    static func directory(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "" }
        return slash == file.startIndex ? "/" : String(file[..<slash])
    }

    static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
