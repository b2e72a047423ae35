internal import CClockSync
import Foundation

/// Whether the system clock is synchronised: the kernel's NTP state (`adjtimex(2)` with no
/// changes: not `TIME_ERROR` and `STA_UNSYNC` clear), or, where essd may not call it (systemd's
/// `ProtectClock=` filters it), systemd-timesyncd's flag file `/run/systemd/timesync/synchronized`.
/// Owns no state; asks every time.
public enum SystemClockSync {
    public static let timesyncFlagFile = "/run/systemd/timesync/synchronized"

    public static func isSynchronised() -> Bool {
        switch CClockSync_state() {
        case 1: true
        case 0: false
        default: FileManager.default.fileExists(atPath: timesyncFlagFile)
        }
    }
}
