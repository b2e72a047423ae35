import ArgumentParser
import ESSConfig
import ESSCore
import ESSDaemon
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Options of the commands that ask the running daemon.
struct SocketOptions: ParsableArguments {
    @Option(name: .long, help: "essd's status socket (default: [daemon] status_socket of --config, else /run/essd/essd.sock).")
    var socket: String?

    /// The socket: --socket, else the configuration's (when the file exists), else the default.
    func socketPath(config: String) -> String {
        if let socket { return socket }
        if FileManager.default.fileExists(atPath: config), let site = try? ConfigurationLoader.loadSite(path: config) {
            return site.statusSocketPath
        }
        return StatusSocketServer.defaultPath
    }

    /// Asks the daemon; unreachable is exit 69 (EX_UNAVAILABLE), a refused or garbled answer 76 (EX_PROTOCOL).
    func request(_ kind: StatusRequestKind, config: String) throws -> StatusResponse {
        do {
            return try StatusClient(path: socketPath(config: config)).request(kind)
        } catch {
            throw CommandFailure(message: error.message, exitCode: error.kind == .unreachable ? 69 : 76)
        }
    }
}

/// Colour for people: only when stdout is a terminal and `NO_COLOR` is not set.
enum Style {
    static let enabled: Bool = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    static func paint(_ text: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    static func good(_ text: String) -> String { paint(text, "32") }
    static func bad(_ text: String) -> String { paint(text, "31") }
    static func dim(_ text: String) -> String { paint(text, "2") }

    /// Colours a device or power state word.
    static func state(_ word: String) -> String {
        switch word {
        case "up": good(word)
        case "down", "never", "unknown": bad(word)
        case "degraded": paint(word, "33")
        default: word
        }
    }
}

/// Encodes a protocol value as pretty JSON for `--json`.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

extension Format {
    /// "—" for unknown, else the number with `digits` decimals and the unit.
    static func number(_ value: Double?, digits: Int = 1, unit: String = "") -> String {
        guard let value, value.isFinite else { return "—" }
        return String(format: "%.\(digits)f", value) + (unit.isEmpty ? "" : " \(unit)")
    }

    /// "3 s ago", "2.0 min ago", ...
    static func age(seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "—" }
        if seconds < 120 { return String(format: "%.0f s ago", max(0, seconds)) }
        if seconds < 7200 { return String(format: "%.1f min ago", seconds / 60) }
        return String(format: "%.1f h ago", seconds / 3600)
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The site now: SoC, power, today's energy, devices up/down, last poll, store health.",
        discussion: "Asks the running essd on its status socket; exit 69 when it does not answer.")

    @OptionGroup var options: SiteOptions
    @OptionGroup var socket: SocketOptions

    func run() throws {
        try reporting {
            let response = try socket.request(.summary, config: options.config)
            guard let s = response.summary else {
                throw CommandFailure(message: "essd answered without a summary", exitCode: 76)
            }
            if options.json { return try printJSON(s) }
            print(Self.render(s))
        }
    }

    static func render(_ s: SiteSummary) -> String {
        let power: String = {
            guard let kw = s.powerKW else { return "—" }
            return "\(Format.number(abs(kw), unit: "kW")) \(s.powerState)"
        }()
        let soc = Format.number(s.socPercent, unit: "%") + (s.socWeighting == "equal" ? " (plain mean: some battery has no rated energy)" : "")
        let devices =
            "\(Style.good("\(s.devicesUp) up")), " + (s.devicesDown > 0 ? Style.bad("\(s.devicesDown) down") : "0 down")
            + (s.devicesImportOnly > 0 ? ", \(s.devicesImportOnly) import-only (not polled)" : "")
        var rows: [[String]] = [
            ["site", "\(s.siteName) (\(s.siteID))"],
            ["soc", soc],
            ["power", power],
            ["charged today", Format.number(s.chargeTodayKWh, unit: "kWh")],
            ["discharged today", Format.number(s.dischargeTodayKWh, unit: "kWh")],
            ["devices", devices],
            ["last good poll", Format.age(seconds: s.lastGoodPollAgeS)],
        ]
        if let store = s.store {
            rows.append(["last checkpoint", Format.age(seconds: store.lastCheckpointAgeS)])
            rows.append(["store size", store.sizeBytes.map { Format.bytes($0) } ?? "—"])
            let retention = store.retention.map { "\($0.tier) \(Format.duration(ms: $0.retentionS * 1000))" }
            rows.append(["retention", retention.joined(separator: ", ")])
            if store.scansDropped > 0 { rows.append(["scans dropped", Style.bad("\(store.scansDropped)")]) }
        }
        let width = rows.map { $0[0].count }.max() ?? 0
        return rows.map { $0[0].padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0[1] }
            .joined(separator: "\n")
    }
}

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "Per device: state (never/down/up/degraded, or import_only: not polled), last success, requests, errors, latency, reconnects, refused ranges.",
        discussion: "Asks the running essd on its status socket; exit 69 when it does not answer.")

    @OptionGroup var options: SiteOptions
    @OptionGroup var socket: SocketOptions

    func run() throws {
        try reporting {
            let response = try socket.request(.devices, config: options.config)
            let devices = response.devices ?? []
            if options.json { return try printJSON(devices) }
            print(Self.render(devices, nowMS: Int64(Date().timeIntervalSince1970 * 1000)))
        }
    }

    /// "serial_number=SN-1 firmware_version=1.0", or "-" before the first read.
    static func identity(_ texts: [String: String]?) -> String {
        guard let texts, !texts.isEmpty else { return "-" }
        return texts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    static func render(_ devices: [DeviceStatus], nowMS: Int64) -> String {
        let rows = devices.map { d -> [String] in
            let errors = d.errorsByKind.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return [
                d.deviceID, d.state,
                d.state == DeviceStatus.importOnlyState
                    ? "-" : d.lastSuccessMS.map { Format.age(seconds: Double(nowMS - $0) / 1000) } ?? "never",
                "\(d.requests)", "\(d.errors)", Format.number(d.latencyP50MS, digits: 1, unit: "ms"),
                Format.number(d.latencyP99MS, digits: 1, unit: "ms"), "\(d.reconnects)", errors.isEmpty ? "-" : errors,
                d.refusedRanges.map { $0.map(\.text).joined(separator: ", ") } ?? "-", identity(d.identity),
            ]
        }
        let table = Format.table(
            header: [
                "DEVICE", "STATE", "LAST SUCCESS", "REQUESTS", "ERRORS", "P50", "P99", "RECONNECTS", "ERRORS BY KIND",
                "REFUSED", "IDENTITY",
            ],
            rows: rows)
        guard Style.enabled else { return table }
        // Colour the state column after alignment so escape codes do not upset the widths.
        return table.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { i, line in
            guard i > 0 else { return String(line) }
            let state = devices[i - 1].state
            return String(line).replacingOccurrences(of: "  \(state)  ", with: "  \(Style.state(state))  ")
        }.joined(separator: "\n")
    }
}
