import Foundation

/// The status socket's protocol, version 1: one JSON object per line each way.
///
/// Request: `{"version":1,"request":"summary"}` (or `devices`, `latest`, `store`).
/// Response: `{"version":1,"ok":true,"summary":{...}}` or `{"version":1,"ok":false,"error":"..."}`.
/// Unknown values are absent (never 0). Times are UTC milliseconds since 1970 (`*_ms`) or ages
/// in seconds (`*_age_s`). Owns the wire types and their JSON; not the socket (see
/// `StatusSocketServer`) nor where the values come from (see `StatusProvider`).
public enum StatusProtocol {
    public static let version = 1
    /// Requests longer than this (without their newline) are refused.
    public static let maxRequestBytes = 4096

    /// Encodes a value as one JSON line (sorted keys, no newline inside, `\n` at the end).
    public static func line(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value)) + [UInt8(ascii: "\n")]
    }

    /// The error line for `message`.
    public static func errorLine(_ message: String) -> [UInt8] {
        (try? line(StatusResponse(error: message))) ?? Array("{\"version\":1,\"ok\":false}\n".utf8)
    }
}

/// What a client may ask. None of them changes anything.
public enum StatusRequestKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// The site: SoC, power, devices up/down, last good poll, store health.
    case summary
    /// Per device: state and polling statistics.
    case devices
    /// The latest value of every point of every device.
    case latest
    /// The store: checkpoint, size, retention, counters.
    case store
}

/// A request line.
public struct StatusRequest: Sendable, Hashable, Codable {
    public var version: Int
    public var request: String

    public init(_ kind: StatusRequestKind) {
        version = StatusProtocol.version
        request = kind.rawValue
    }
}

/// What the site is doing now, in one object.
public struct SiteSummary: Sendable, Hashable, Codable {
    public var siteID: String
    public var siteName: String
    /// IANA name of the site's time zone.
    public var timeZone: String
    public var ratedPowerKW: Double
    public var ratedEnergyKWh: Double
    /// Site SoC from the latest battery scans, weighted by rated energy (or a plain mean,
    /// `socWeighting == "equal"`, when some battery has no rating); nil when unknown.
    public var socPercent: Double?
    /// "rated_energy" or "equal".
    public var socWeighting: String
    /// Site active power, + = discharging; nil when unknown.
    public var powerKW: Double?
    /// "charging", "discharging", "idle" (within ±1 % of rated power) or "unknown".
    public var powerState: String
    /// Energy since local midnight (site time zone), from the store; nil when unknown.
    public var chargeTodayKWh: Double?
    public var dischargeTodayKWh: Double?
    /// Polled devices answering, and not answering; import-only devices count in neither.
    public var devicesUp: Int
    public var devicesDown: Int
    /// Devices with `transport = "none"`: never polled (their history comes from `essctl import`).
    public var devicesImportOnly: Int
    /// UTC ms of the newest scan with at least one good point, and its age.
    public var lastGoodPollMS: Int64?
    public var lastGoodPollAgeS: Double?
    public var store: StoreStatus?
    /// When the daemon made this answer (UTC ms).
    public var generatedAtMS: Int64

    public init(
        siteID: String, siteName: String, timeZone: String, ratedPowerKW: Double, ratedEnergyKWh: Double,
        socPercent: Double?, socWeighting: String, powerKW: Double?, powerState: String, chargeTodayKWh: Double?,
        dischargeTodayKWh: Double?, devicesUp: Int, devicesDown: Int, devicesImportOnly: Int = 0,
        lastGoodPollMS: Int64?, lastGoodPollAgeS: Double?, store: StoreStatus?, generatedAtMS: Int64
    ) {
        self.devicesImportOnly = devicesImportOnly
        self.siteID = siteID
        self.siteName = siteName
        self.timeZone = timeZone
        self.ratedPowerKW = ratedPowerKW
        self.ratedEnergyKWh = ratedEnergyKWh
        self.socPercent = socPercent.finite
        self.socWeighting = socWeighting
        self.powerKW = powerKW.finite
        self.powerState = powerState
        self.chargeTodayKWh = chargeTodayKWh.finite
        self.dischargeTodayKWh = dischargeTodayKWh.finite
        self.devicesUp = devicesUp
        self.devicesDown = devicesDown
        self.lastGoodPollMS = lastGoodPollMS
        self.lastGoodPollAgeS = lastGoodPollAgeS.finite
        self.store = store
        self.generatedAtMS = generatedAtMS
    }

    /// "charging", "discharging" or "idle" for `powerKW` (+ = discharge), with a dead band of
    /// ±1 % of `ratedPowerKW`; "unknown" when the power is.
    public static func powerState(powerKW: Double?, ratedPowerKW: Double) -> String {
        guard let power = powerKW, power.isFinite else { return "unknown" }
        let band = abs(ratedPowerKW) * 0.01
        if power > band { return "discharging" }
        if power < -band { return "charging" }
        return "idle"
    }

    enum CodingKeys: String, CodingKey {
        case siteID = "site_id", siteName = "site_name", timeZone = "time_zone", ratedPowerKW = "rated_power_kw"
        case ratedEnergyKWh = "rated_energy_kwh", socPercent = "soc_percent", socWeighting = "soc_weighting"
        case powerKW = "power_kw", powerState = "power_state", chargeTodayKWh = "charge_today_kwh"
        case dischargeTodayKWh = "discharge_today_kwh", devicesUp = "devices_up", devicesDown = "devices_down"
        case devicesImportOnly = "devices_import_only"
        case lastGoodPollMS = "last_good_poll_ms", lastGoodPollAgeS = "last_good_poll_age_s", store
        case generatedAtMS = "generated_at_ms"
    }
}

/// How long one tier keeps its slots.
public struct TierRetention: Sendable, Hashable, Codable {
    public var tier: String
    /// Slot length in seconds; 0 for the raw tier.
    public var slotS: Int64
    public var retentionS: Int64

    public init(tier: String, slotS: Int64, retentionS: Int64) {
        self.tier = tier
        self.slotS = slotS
        self.retentionS = retentionS
    }

    enum CodingKeys: String, CodingKey {
        case tier, slotS = "slot_s", retentionS = "retention_s"
    }
}

/// The store's health as the daemon sees it.
public struct StoreStatus: Sendable, Hashable, Codable {
    public var directory: String
    public var lastCheckpointMS: Int64?
    public var lastCheckpointAgeS: Double?
    /// Total size of the store's files.
    public var sizeBytes: Int64?
    public var retention: [TierRetention]
    public var scansStored: Int
    public var scansDropped: Int
    public var checkpointFailures: Int

    public init(
        directory: String, lastCheckpointMS: Int64?, lastCheckpointAgeS: Double?, sizeBytes: Int64?,
        retention: [TierRetention], scansStored: Int, scansDropped: Int, checkpointFailures: Int
    ) {
        self.directory = directory
        self.lastCheckpointMS = lastCheckpointMS
        self.lastCheckpointAgeS = lastCheckpointAgeS.finite
        self.sizeBytes = sizeBytes
        self.retention = retention
        self.scansStored = scansStored
        self.scansDropped = scansDropped
        self.checkpointFailures = checkpointFailures
    }

    enum CodingKeys: String, CodingKey {
        case directory, lastCheckpointMS = "last_checkpoint_ms", lastCheckpointAgeS = "last_checkpoint_age_s"
        case sizeBytes = "size_bytes", retention, scansStored = "scans_stored", scansDropped = "scans_dropped"
        case checkpointFailures = "checkpoint_failures"
    }
}

/// One device's polling health.
public struct DeviceStatus: Sendable, Hashable, Codable {
    public var deviceID: String
    public var endpoint: String
    public var unitID: Int
    /// "never" (no answer yet), "down" (the last poll had no answer), "up" (every due point read)
    /// or "degraded" (answered, but some points failed): `DeviceState`'s words; or
    /// "import_only" for a device with `transport = "none"`, which essd never polls.
    public var state: String

    /// The state of an import-only device.
    public static let importOnlyState = "import_only"
    public var lastSuccessMS: Int64?
    public var scans: Int
    public var requests: Int
    public var errors: Int
    /// Failed requests by kind ("timeout", "connection_refused", "exception_2", ...).
    public var errorsByKind: [String: Int]
    public var latencyP50MS: Double?
    public var latencyP99MS: Double?
    public var reconnects: Int
    public var missedCycles: Int
    /// How late polls started after their wall-clock boundary (scheduler jitter), ms.
    public var startLatenessP50MS: Double?
    public var startLatenessP99MS: Double?
    /// The device's identity texts by point name (serial number, firmware …) as last read; absent
    /// before the first read.
    public var identity: [String: String]?
    /// Register ranges the device refuses (exception 2 or 3), learnt by splitting reads; the
    /// planner reads around them and re-probes each at `refused_reprobe_s`. Absent when none.
    public var refusedRanges: [RefusedRangeStatus]?
    /// Requests sent again after busy (6) or acknowledge (5) answers.
    public var busyRetries: Int?

    public init(
        deviceID: String, endpoint: String, unitID: Int, state: String, lastSuccessMS: Int64?, scans: Int,
        requests: Int, errors: Int, errorsByKind: [String: Int], latencyP50MS: Double?, latencyP99MS: Double?,
        reconnects: Int, missedCycles: Int, startLatenessP50MS: Double? = nil, startLatenessP99MS: Double? = nil
    ) {
        self.startLatenessP50MS = startLatenessP50MS
        self.startLatenessP99MS = startLatenessP99MS
        self.deviceID = deviceID
        self.endpoint = endpoint
        self.unitID = unitID
        self.state = state
        self.lastSuccessMS = lastSuccessMS
        self.scans = scans
        self.requests = requests
        self.errors = errors
        self.errorsByKind = errorsByKind
        self.latencyP50MS = latencyP50MS
        self.latencyP99MS = latencyP99MS
        self.reconnects = reconnects
        self.missedCycles = missedCycles
    }

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id", endpoint, unitID = "unit_id", state, lastSuccessMS = "last_success_ms", scans
        case requests, errors, errorsByKind = "errors_by_kind", latencyP50MS = "latency_p50_ms"
        case latencyP99MS = "latency_p99_ms", reconnects, missedCycles = "missed_cycles"
        case startLatenessP50MS = "start_lateness_p50_ms", startLatenessP99MS = "start_lateness_p99_ms"
        case identity, refusedRanges = "refused_ranges", busyRetries = "busy_retries"
    }
}

/// One learnt refused range of a device, as the status socket shows it.
public struct RefusedRangeStatus: Sendable, Hashable, Codable {
    /// "holding", "input", "coil" or "discrete".
    public var table: String
    public var firstAddress: Int
    /// Registers refused; 0 for a boundary the device will not read across.
    public var count: Int
    public var exception: Int

    public init(table: String, firstAddress: Int, count: Int, exception: Int) {
        self.table = table
        self.firstAddress = firstAddress
        self.count = count
        self.exception = exception
    }

    enum CodingKeys: String, CodingKey {
        case table, firstAddress = "first_address", count, exception
    }

    /// "holding 100+2 (exception 2)" or "holding |150 (exception 3)" for a boundary.
    public var text: String {
        count == 0 ? "\(table) |\(firstAddress) (exception \(exception))" : "\(table) \(firstAddress)+\(count) (exception \(exception))"
    }
}

/// The latest value of one point.
public struct LatestPoint: Sendable, Hashable, Codable {
    public var name: String
    public var role: String
    public var unit: String?
    /// nil when the last scan had no usable value.
    public var value: Double?
    /// "ok", "stale", "timeout", ...
    public var quality: String
    public var text: String?

    public init(name: String, role: String, unit: String?, value: Double?, quality: String, text: String? = nil) {
        self.name = name
        self.role = role
        self.unit = unit
        self.value = value.finite
        self.quality = quality
        self.text = text
    }
}

/// A device's latest scan, point by point.
public struct LatestDevice: Sendable, Hashable, Codable {
    public var deviceID: String
    /// UTC ms of the scan; nil (and no points) before the first scan.
    public var timestampMS: Int64?
    public var points: [LatestPoint]

    public init(deviceID: String, timestampMS: Int64?, points: [LatestPoint]) {
        self.deviceID = deviceID
        self.timestampMS = timestampMS
        self.points = points
    }

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id", timestampMS = "timestamp_ms", points
    }
}

/// A response line: `ok` with one of the payloads, or an error.
public struct StatusResponse: Sendable, Hashable, Codable {
    public var version: Int
    public var ok: Bool
    public var error: String?
    public var summary: SiteSummary?
    public var devices: [DeviceStatus]?
    public var latest: [LatestDevice]?
    public var store: StoreStatus?

    public init(
        summary: SiteSummary? = nil, devices: [DeviceStatus]? = nil, latest: [LatestDevice]? = nil,
        store: StoreStatus? = nil
    ) {
        version = StatusProtocol.version
        ok = true
        self.summary = summary
        self.devices = devices
        self.latest = latest
        self.store = store
    }

    public init(error: String) {
        version = StatusProtocol.version
        ok = false
        self.error = error
    }
}

/// Where the status socket's answers come from. The daemon implements it over its poll engine,
/// store and configuration (`SiteStatusProvider`); tests use a fake. Called on connection
/// threads, concurrently: implementations must be thread-safe and must not change anything.
public protocol StatusProvider: Sendable {
    func summary(nowMS: Int64) -> SiteSummary
    func devices(nowMS: Int64) -> [DeviceStatus]
    func latest(nowMS: Int64) -> [LatestDevice]
    func store(nowMS: Int64) -> StoreStatus
}

/// Answers one request line (pure apart from the provider): parses, checks the version and
/// the request, and returns the response line.
public enum StatusResponder {
    public static func respond(to request: [UInt8], provider: some StatusProvider, nowMS: Int64) -> [UInt8] {
        guard request.count <= StatusProtocol.maxRequestBytes else {
            return StatusProtocol.errorLine(
                "request of \(request.count) bytes is larger than the limit of \(StatusProtocol.maxRequestBytes)")
        }
        let parsed: StatusRequest
        do {
            parsed = try JSONDecoder().decode(StatusRequest.self, from: Data(request))
        } catch {
            return StatusProtocol.errorLine(
                "malformed request: expected one JSON object such as {\"version\":1,\"request\":\"summary\"}")
        }
        guard parsed.version == StatusProtocol.version else {
            return StatusProtocol.errorLine(
                "unsupported protocol version \(parsed.version); this essd speaks version \(StatusProtocol.version)")
        }
        guard let kind = StatusRequestKind(rawValue: parsed.request) else {
            let known = StatusRequestKind.allCases.map(\.rawValue).joined(separator: ", ")
            return StatusProtocol.errorLine("unknown request \"\(parsed.request)\"; known requests: \(known)")
        }
        let response: StatusResponse
        switch kind {
        case .summary: response = StatusResponse(summary: provider.summary(nowMS: nowMS))
        case .devices: response = StatusResponse(devices: provider.devices(nowMS: nowMS))
        case .latest: response = StatusResponse(latest: provider.latest(nowMS: nowMS))
        case .store: response = StatusResponse(store: provider.store(nowMS: nowMS))
        }
        do {
            return try StatusProtocol.line(response)
        } catch {
            return StatusProtocol.errorLine("essd could not encode the \(kind.rawValue) answer: \(error)")
        }
    }
}

extension Optional where Wrapped == Double {
    /// The value when finite, else nil: JSON has no NaN and unknown is not 0.
    var finite: Double? { flatMap { $0.isFinite ? $0 : nil } }
}
