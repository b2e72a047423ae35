public import ESSModbus

/// The one line essd shows in `systemctl status essd` (`STATUS=`), e.g.
/// "polling 9 devices, 1 failing, last checkpoint 2 s ago". Pure: the statistics and the time
/// are passed in. Owns the wording only, not when it is sent (`SystemdNotifyService`).
public enum ServiceStatusText {
    /// - Parameters:
    ///   - devices: every device's statistics (`PollEngine.statistics()`).
    ///   - lastCheckpointMS: UTC ms of the store's last checkpoint, nil if none yet.
    ///   - nowMS: UTC ms now.
    public static func format(devices: [DeviceStatistics], lastCheckpointMS: Int64?, nowMS: Int64) -> String {
        format(
            deviceCount: devices.count, failing: devices.filter { $0.scans > 0 && !$0.isUp }.count,
            lastCheckpointMS: lastCheckpointMS, nowMS: nowMS)
    }

    /// The same from counts: `failing` devices were polled and their last poll had no good request.
    public static func format(deviceCount: Int, failing: Int, lastCheckpointMS: Int64?, nowMS: Int64) -> String {
        var text = "polling \(deviceCount) \(deviceCount == 1 ? "device" : "devices")"
        text += failing == 0 ? ", all up" : ", \(failing) failing"
        if let lastCheckpointMS {
            text += ", last checkpoint \(age(ms: nowMS - lastCheckpointMS)) ago"
        } else {
            text += ", no checkpoint yet"
        }
        return text
    }

    /// "2 s", "5 min", "3 h": whole units, rounded down; negative ages (a clock step) are 0 s.
    public static func age(ms: Int64) -> String {
        let seconds = max(0, ms) / 1000
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 120 * 60 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }
}
