public import ESSCore
public import ESSModbus
public import Logging
public import ESSStore
import Synchronization

/// Records device identity texts (points with role `identity`: serial number, firmware …) in
/// the store's `IdentityLog` when they are first read or change, so evidence can name the
/// hardware that produced it. Starts from what the log already holds, so a restart appends
/// nothing new; a changed text is logged at notice level ("firmware changed"). A failed append
/// is logged and retried with the next scan; it never stops polling.
public final class IdentityRecorder: ScanSink {
    private struct State {
        /// Per device: (point index, point name) of its identity points.
        var identityPoints: [String: [(index: Int, name: String)]] = [:]
        /// Per device and point: the text recorded last.
        var known: [String: [String: String]] = [:]
    }

    private let directory: String
    private let logger: Logger
    private let state: Mutex<State>

    public init(devices: [DeviceDefinition], directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
        var initial = State()
        do {
            let (records, unreadable) = try IdentityLog.read(directory: directory)
            if !unreadable.isEmpty {
                logger.warning(
                    "\(directory)/\(IdentityLog.fileName): skipped unreadable lines \(unreadable.map(String.init).joined(separator: ", ")) (a cut-short append); the next read of those devices records them again"
                )
            }
            initial.known = IdentityLog.latest(records).mapValues { $0.mapValues(\.text) }
        } catch {
            logger.warning("cannot read the identity log: \(error); identity texts will be recorded again")
        }
        state = Mutex(initial)
        reconfigure(devices: devices)
    }

    /// Follows a configuration reload: which points of which devices are identity points.
    public func reconfigure(devices: [DeviceDefinition]) {
        var points: [String: [(index: Int, name: String)]] = [:]
        for device in devices {
            let identity = device.profile.points.enumerated().filter { $0.element.role == .identity }
            if !identity.isEmpty { points[device.id] = identity.map { ($0.offset, $0.element.name) } }
        }
        state.withLock { $0.identityPoints = points }
    }

    public func accept(_ scan: Scan) {
        guard !scan.texts.isEmpty else { return }
        // Decide under the lock; write outside it (one fsync per change, rare).
        let changes: [IdentityRecord] = state.withLock { state in
            guard let points = state.identityPoints[scan.deviceID] else { return [] }
            var changes: [IdentityRecord] = []
            for point in points {
                guard point.index < scan.qualities.count, scan.qualities[point.index] == .ok,
                    let text = scan.texts[point.index], !text.isEmpty,
                    state.known[scan.deviceID]?[point.name] != text
                else { continue }
                changes.append(
                    IdentityRecord(deviceID: scan.deviceID, point: point.name, text: text, observedMS: scan.timestampMS))
            }
            return changes
        }
        guard !changes.isEmpty else { return }
        do {
            try IdentityLog.append(changes, directory: directory)
        } catch {
            logger.warning("cannot record the identity of \(scan.deviceID): \(error); retrying with its next scan")
            return
        }
        let previous: [String: String] = state.withLock { state in
            var previous: [String: String] = [:]
            for change in changes {
                previous[change.point] = state.known[change.deviceID]?[change.point]
                state.known[change.deviceID, default: [:]][change.point] = change.text
            }
            return previous
        }
        for change in changes {
            if let old = previous[change.point] {
                logger.notice("\(change.deviceID): \(change.point) changed from \"\(old)\" to \"\(change.text)\"")
            } else {
                logger.info("\(change.deviceID): \(change.point) is \"\(change.text)\"")
            }
        }
    }
}
