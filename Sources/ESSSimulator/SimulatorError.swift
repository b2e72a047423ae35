import ESSCore

/// What went wrong in the simulator: a bad option or command, or a socket or serial line
/// that could not be opened. The description says what, where, and what to do next.
public struct SimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case invalidSchedule
        case invalidCommand
        case invalidOption
        case unknownDevice
        case listenFailed
        case serialOpenFailed
        case stopped
    }

    private let code: Code
    public let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    static func invalidSchedule(_ text: String, reason: String) -> SimulatorError {
        .init(.invalidSchedule, "invalid schedule \"\(text)\": \(reason); expected e.g. \"valley=0-8;peak=10-12,14-19\"")
    }

    static func invalidCommand(_ line: String, reason: String) -> SimulatorError {
        .init(.invalidCommand, "invalid command \"\(line)\": \(reason)")
    }

    public static func invalidOption(_ reason: String) -> SimulatorError {
        .init(.invalidOption, reason)
    }

    static func unknownDevice(_ id: String, known: [String]) -> SimulatorError {
        .init(.unknownDevice, "no device '\(id)' in the site; devices are: \(known.joined(separator: ", "))")
    }

    static func listenFailed(_ endpoint: String, reason: String) -> SimulatorError {
        .init(.listenFailed, "cannot listen on \(endpoint): \(reason); is another process using the port?")
    }

    static func serialOpenFailed(_ path: String, reason: String) -> SimulatorError {
        .init(.serialOpenFailed, "cannot open serial line \(path): \(reason); check the path (e.g. a socat pty link) and permissions")
    }

    static let stopped = SimulatorError(.stopped, "the simulator server is stopped")

    public static func == (a: SimulatorError, b: SimulatorError) -> Bool { a.code == b.code && a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
