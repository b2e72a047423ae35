import ESSCore
import Foundation

/// A snapshot of the running simulator: the plant, and per device every point's engineering
/// value as served, decoded back from the register image (so a poller's decoded values can be
/// compared with it exactly).
public struct SimulatorStateReport: Sendable, Hashable, Codable {
    public struct Device: Sendable, Hashable, Codable {
        public var id: String
        public var unitID: Int
        public var endpoint: String
        /// Point name → served value.
        public var points: [String: PointValue]
        public var delayMS: Int
        public var silent: Bool
    }

    public var plant: PlantState
    public var frozen: Bool
    public var devices: [Device]
    public var statistics: SimulatorStatistics

    /// The device with this id.
    public func device(_ id: String) -> Device? { devices.first { $0.id == id } }

    /// One line of JSON, keys sorted.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
