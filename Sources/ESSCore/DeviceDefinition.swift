/// A register map shared by devices of one model: its points, in file order.
///
/// An import-only profile (`importOnly`) lists signals without registers: each point's name,
/// role, unit and tiers are what the store keeps; its `kind`, `address`, `type` and decoding
/// fields are unused (holding, 0, float64, no scaling). Only import-only devices
/// (`Transport.importOnly`) take such a profile.
public struct RegisterProfile: Sendable, Hashable {
    public var name: String
    public var vendor: String?
    public var model: String?
    public var points: [PointDefinition]
    /// The points have no registers: signals for `essctl import` only, never polled.
    public var importOnly: Bool

    public init(
        name: String, vendor: String? = nil, model: String? = nil, points: [PointDefinition], importOnly: Bool = false
    ) {
        self.name = name
        self.vendor = vendor
        self.model = model
        self.points = points
        self.importOnly = importOnly
    }

    /// Index of the point with this name, if any.
    public func pointIndex(named name: String) -> Int? {
        points.firstIndex { $0.name == name }
    }
}

/// Serial parity for RTU links.
public enum SerialParity: String, Sendable, Hashable, CaseIterable {
    case none, even, odd

    /// The character libmodbus expects: N, E or O.
    public var libmodbusCharacter: Character {
        switch self {
        case .none: "N"
        case .even: "E"
        case .odd: "O"
        }
    }
}

/// How a device is reached. Devices with equal endpoints share one connection (and one
/// polling thread): several unit ids behind one TCP gateway, or several slaves on one RTU bus.
public enum Transport: Sendable, Hashable {
    case tcp(host: String, port: Int)
    case rtu(device: String, baud: Int, parity: SerialParity, dataBits: Int, stopBits: Int)
    /// Not reached at all (`transport = "none"`): an import-only device. essd never polls it;
    /// the store keeps its series and `essctl import csv` feeds them.
    case importOnly

    /// Identifies the physical link: "tcp://host:port", "rtu:///dev/ttyUSB0", or "none".
    public var endpoint: String {
        switch self {
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        case .rtu(let device, _, _, _, _): "rtu://\(device)"
        case .importOnly: "none"
        }
    }
}

/// One controller (BMS, PCS, EMS, meter): how to reach it, how to read it, what it holds. An
/// import-only device (`transport == .importOnly`) is never polled: its history comes from
/// `essctl import csv` alone, and its Modbus settings are unused.
public struct DeviceDefinition: Sendable, Hashable {
    public var id: String
    public var transport: Transport
    public var unitID: Int
    public var profile: RegisterProfile
    public var pollIntervalMS: Int
    public var responseTimeoutMS: Int
    /// Largest register count of one read request (1...125).
    public var maxRegistersPerRequest: Int
    /// Largest bit count of one coil/discrete read request (1...2000).
    public var maxBitsPerRequest: Int
    /// Largest run of unmapped registers that may be read through when merging requests.
    public var maxHoleRegisters: Int
    /// Pause between two requests on the same connection (for slow serial devices).
    public var interRequestDelayMS: Int
    /// Keep the connection open between polls (true) or close it after each poll.
    public var keepConnectionOpen: Bool
    /// Extra requests one cycle may spend splitting reads the device refuses (exception 2 or 3).
    public var splitBudgetRequests: Int
    /// How often a refused range is tried again, in seconds.
    public var refusedReprobeSeconds: Int
    /// How many times a request answered busy (6) or acknowledge (5) is sent again in one cycle.
    public var busyRetries: Int
    /// Pause before sending a busy request again.
    public var busyRetryPauseMS: Int
    /// Longest wait between two connect attempts to a device that is not answering.
    public var reconnectMaxDelayMS: Int
    /// Rated energy of the battery behind this device, for weighting site SoC (optional).
    public var ratedEnergyKWh: Double?
    /// Rated power of the converter behind this device (optional).
    public var ratedPowerKW: Double?

    /// Whether essd polls this device (false for an import-only one).
    public var isPolled: Bool { transport != .importOnly }

    public init(
        id: String,
        transport: Transport,
        unitID: Int = 1,
        profile: RegisterProfile,
        pollIntervalMS: Int = 1000,
        responseTimeoutMS: Int = 500,
        maxRegistersPerRequest: Int = 125,
        maxBitsPerRequest: Int = 2000,
        maxHoleRegisters: Int = 10,
        interRequestDelayMS: Int = 0,
        keepConnectionOpen: Bool = true,
        splitBudgetRequests: Int = 16,
        refusedReprobeSeconds: Int = 3600,
        busyRetries: Int = 3,
        busyRetryPauseMS: Int = 20,
        reconnectMaxDelayMS: Int = 2000,
        ratedEnergyKWh: Double? = nil,
        ratedPowerKW: Double? = nil
    ) {
        self.id = id
        self.transport = transport
        self.unitID = unitID
        self.profile = profile
        self.pollIntervalMS = pollIntervalMS
        self.responseTimeoutMS = responseTimeoutMS
        self.maxRegistersPerRequest = maxRegistersPerRequest
        self.maxBitsPerRequest = maxBitsPerRequest
        self.maxHoleRegisters = maxHoleRegisters
        self.interRequestDelayMS = interRequestDelayMS
        self.keepConnectionOpen = keepConnectionOpen
        self.splitBudgetRequests = splitBudgetRequests
        self.refusedReprobeSeconds = refusedReprobeSeconds
        self.busyRetries = busyRetries
        self.busyRetryPauseMS = busyRetryPauseMS
        self.reconnectMaxDelayMS = reconnectMaxDelayMS
        self.ratedEnergyKWh = ratedEnergyKWh
        self.ratedPowerKW = ratedPowerKW
    }
}

/// Facts about the site that criteria and evidence need; none of them is measured.
public struct SiteFacts: Sendable, Hashable {
    public var id: String
    public var name: String
    public var province: String
    public var ratedPowerKW: Double
    public var ratedEnergyKWh: Double
    /// e.g. "lithium_iron_phosphate", "sodium_ion", "flow_vanadium", "solid_state_lithium".
    public var technologyRoute: String
    /// e.g. "industrial_plant", "logistics_park", "data_center", "grid_side", "user_side".
    public var locationCategory: String
    public var totalInvestmentCNY: Double
    /// ISO date "YYYY-MM-DD".
    public var commissioningDate: String
    /// IANA time zone name, e.g. "Asia/Shanghai".
    public var timeZone: String

    public init(
        id: String, name: String, province: String, ratedPowerKW: Double, ratedEnergyKWh: Double,
        technologyRoute: String, locationCategory: String, totalInvestmentCNY: Double,
        commissioningDate: String, timeZone: String
    ) {
        self.id = id
        self.name = name
        self.province = province
        self.ratedPowerKW = ratedPowerKW
        self.ratedEnergyKWh = ratedEnergyKWh
        self.technologyRoute = technologyRoute
        self.locationCategory = locationCategory
        self.totalInvestmentCNY = totalInvestmentCNY
        self.commissioningDate = commissioningDate
        self.timeZone = timeZone
    }
}

/// How the store keeps data: tiers, the raw tier's byte budget, checkpoint cadence.
public struct StoreSettings: Sendable, Hashable {
    public var tiers: [TierDefinition]
    /// When set, the raw tier's file is this size and its retention follows from it.
    public var rawBudgetBytes: Int64?
    /// Everything written before a checkpoint is durable (msync + fsync).
    public var checkpointIntervalMS: Int
    /// The storage meter whose power and counters stand for the site, if any.
    public var meterDeviceID: String?

    public init(
        tiers: [TierDefinition] = TierDefinition.defaults, rawBudgetBytes: Int64? = nil,
        checkpointIntervalMS: Int = 5000, meterDeviceID: String? = nil
    ) {
        self.tiers = tiers
        self.rawBudgetBytes = rawBudgetBytes
        self.checkpointIntervalMS = checkpointIntervalMS
        self.meterDeviceID = meterDeviceID
    }
}

/// Where essd answers: its status socket and its Prometheus endpoint.
public struct DaemonSettings: Sendable, Hashable {
    public var statusSocketPath: String
    /// nil: metrics off.
    public var metricsPort: Int?
    public var metricsListenAddress: String
    /// SCHED_FIFO priority of the polling threads (nil: normal scheduling).
    public var realtimePriority: Int?
    /// Hold scans (polling goes on) until the system clock is synchronised, then store them at
    /// their true time.
    public var waitForClockSync = false
    /// Longest wait for synchronisation; then held scans are stored as stamped.
    public var clockSyncTimeoutS = 600
    /// After the wall clock steps forward, hold scans this long in case it steps back (an
    /// excursion); 0: store at once.
    public var clockStepConfirmS = 120

    public init(
        statusSocketPath: String = "/run/essd/essd.sock", metricsPort: Int? = 9464, metricsListenAddress: String = "127.0.0.1",
        realtimePriority: Int? = nil
    ) {
        self.statusSocketPath = statusSocketPath
        self.metricsPort = metricsPort
        self.metricsListenAddress = metricsListenAddress
        self.realtimePriority = realtimePriority
    }
}

/// A whole validated site configuration: facts, where state lives, and the devices.
public struct SiteConfiguration: Sendable, Hashable {
    public var site: SiteFacts
    public var stateDirectory: String
    public var devices: [DeviceDefinition]
    public var store: StoreSettings
    public var daemon: DaemonSettings

    public init(
        site: SiteFacts, stateDirectory: String, devices: [DeviceDefinition], store: StoreSettings = StoreSettings(),
        daemon: DaemonSettings = DaemonSettings()
    ) {
        self.site = site
        self.stateDirectory = stateDirectory
        self.devices = devices
        self.store = store
        self.daemon = daemon
    }

    public var statusSocketPath: String { daemon.statusSocketPath }
    public var metricsPort: Int? { daemon.metricsPort }
    public var metricsListenAddress: String { daemon.metricsListenAddress }

    /// The series groups the store keeps: one per device, then the site's derived signals.
    public var seriesSchemas: [SeriesSchema] {
        devices.map { SeriesSchema.device($0, tiers: store.tiers) }
            + [SiteAggregator(devices: devices, meterDeviceID: store.meterDeviceID, tiers: store.tiers).schema]
    }

    /// Poll interval of every group; the site is sampled as often as its fastest device.
    public var seriesPollIntervalsMS: [String: Int64] {
        var intervals = Dictionary(devices.map { ($0.id, Int64($0.pollIntervalMS)) }, uniquingKeysWith: { a, _ in a })
        intervals["site"] = Int64(devices.map(\.pollIntervalMS).min() ?? 1000)
        return intervals
    }
}
