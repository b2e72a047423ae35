/// How a device stands, the same word in `essctl devices`, the log and the metrics.
///
/// - `never`: no poll has had an answer yet (just started, or never reachable).
/// - `down`: the last poll had no answer at all (timeout, refused connection, a lying peer).
/// - `up`: the last poll was answered and every due point was read.
/// - `degraded`: the last poll was answered (data or Modbus exceptions), but some points failed.
public enum DeviceState: String, Sendable, Hashable, CaseIterable {
    case never, down, up, degraded

    /// True when the device answers (up or degraded).
    public var isAnswering: Bool { self == .up || self == .degraded }
}
