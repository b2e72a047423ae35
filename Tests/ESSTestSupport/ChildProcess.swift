import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real process started by a test, with its stdout collected line by line and stdin open
/// for commands. Terminated (SIGTERM, then SIGKILL) when the test lets go of it.
public final class ChildProcess: Sendable {
    public let process: Process
    private let input: Pipe
    private let buffers = OutputBuffers()
    public let name: String

    public init(_ executable: String, _ arguments: [String], name: String? = nil, environment: [String: String]? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        self.name = name ?? URL(fileURLWithPath: executable).lastPathComponent
        input = Pipe()
        let out = Pipe()
        let err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        let buffers = self.buffers
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else { return }
            buffers.output.withLock { state in
                state.partial += String(decoding: data, as: UTF8.self)
                while let newline = state.partial.firstIndex(of: "\n") {
                    state.lines.append(String(state.partial[..<newline]))
                    state.partial = String(state.partial[state.partial.index(after: newline)...])
                }
            }
        }
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else { return }
            buffers.errorOutput.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    deinit { terminate() }

    /// Everything the process wrote to stderr so far (for failure messages).
    public var standardError: String { buffers.errorOutput.withLock { $0 } }
    public var lines: [String] { buffers.output.withLock { $0.lines } }

    /// Waits for a stdout line containing `text` (after line `index`); returns it.
    @discardableResult
    public func waitForLine(containing text: String, after index: Int = 0, timeout: Double = 20) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = buffers.output.withLock({ $0.lines.dropFirst(index).first { $0.contains(text) } }) { return line }
            if !process.isRunning {
                throw TestFailure("\(name) exited (\(process.terminationStatus)) before printing '\(text)'; stderr:\n\(standardError)")
            }
            usleep(10_000)
        }
        throw TestFailure("\(name) did not print '\(text)' within \(timeout) s; stderr:\n\(standardError)")
    }

    /// Sends one command line to the process' stdin.
    public func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Sends a command and waits for the next stdout line containing `reply`.
    @discardableResult
    public func request(_ line: String, reply: String, timeout: Double = 10) throws -> String {
        let before = lines.count
        send(line)
        return try waitForLine(containing: reply, after: before, timeout: timeout)
    }

    public func terminate() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// What a child wrote, collected by the pipes' handlers.
final class OutputBuffers: Sendable {
    let output = Mutex<(lines: [String], partial: String)>(([], ""))
    let errorOutput = Mutex<String>("")
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
