import ArgumentParser
import ESSDaemon
import Foundation

/// `essctl latest [DEVICE]`: every point's latest value with its quality, from the running essd.
struct LatestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latest",
        abstract: "Each point's latest value with its quality (ok, stale, timeout, exception_2, not_implemented ...).",
        discussion: "Asks the running essd on its status socket; exit 69 when it does not answer, 65 for an unknown device.")

    @Argument(help: "Only this device (default: every device).")
    var device: String?

    @OptionGroup var options: SiteOptions
    @OptionGroup var socket: SocketOptions

    func run() throws {
        try reporting {
            let response = try socket.request(.latest, config: options.config)
            var devices = response.latest ?? []
            if let device {
                devices = devices.filter { $0.deviceID == device }
                guard !devices.isEmpty else {
                    let known = (response.latest ?? []).map(\.deviceID).joined(separator: ", ")
                    throw CommandFailure(message: "no device '\(device)'; essd polls: \(known)", exitCode: 65)
                }
            }
            if options.json { return try printJSON(devices) }
            print(Self.render(devices, nowMS: Int64(Date().timeIntervalSince1970 * 1000)))
        }
    }

    /// One row per point: device, point, value (— when unknown, never 0), unit, quality, age.
    static func render(_ devices: [LatestDevice], nowMS: Int64) -> String {
        var rows: [[String]] = []
        for d in devices {
            let age = d.timestampMS.map { Format.age(seconds: Double(nowMS - $0) / 1000) } ?? "never"
            if d.points.isEmpty { rows.append([d.deviceID, "-", "—", "", "never read", age]) }
            for p in d.points {
                let value = p.text ?? Format.number(p.value, digits: 3)
                rows.append([d.deviceID, p.name, value, p.unit ?? "", p.quality, age])
            }
        }
        return Format.table(header: ["DEVICE", "POINT", "VALUE", "UNIT", "QUALITY", "AGE"], rows: rows)
    }
}
